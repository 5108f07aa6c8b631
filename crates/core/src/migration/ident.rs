//! SQL identifiers and column types that came from a spec. Only these validated values ever reach a
//! statement, always quoted, so no spec field can change what a statement does.

use std::fmt;

/// A PostgreSQL identifier restricted to what an unquoted name folds to: lower-case letters, digits
/// and `_`, starting with a letter or `_`, at most 63 bytes (PostgreSQL's NAMEDATALEN - 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ident(String);

impl Ident {
    pub fn parse(s: &str) -> Result<Ident, String> {
        let ok = !s.is_empty()
            && s.len() <= 63
            && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Ident(s.to_string()))
        } else {
            Err(format!(
                "\"{s}\" is not an identifier (lower-case letters, digits and _, at most 63, not starting with a digit)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `"name"`. The character set admits no quote, but doubling keeps the rule local.
    pub fn quoted(&self) -> String {
        format!("\"{}\"", self.0.replace('"', "\"\""))
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `schema.table`, or `table` in `public`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    pub schema: Ident,
    pub table: Ident,
}

impl TableName {
    pub fn parse(s: &str) -> Result<TableName, String> {
        let parts: Vec<&str> = s.split('.').collect();
        let (schema, table) = match parts.as_slice() {
            [t] => ("public", *t),
            [s, t] => (*s, *t),
            _ => {
                return Err(format!(
                    "\"{s}\" is not a table name (schema.table or table)"
                ))
            }
        };
        Ok(TableName {
            schema: Ident::parse(schema)?,
            table: Ident::parse(table)?,
        })
    }

    pub fn quoted(&self) -> String {
        format!("{}.{}", self.schema.quoted(), self.table.quoted())
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}

/// Column types a spec may name, in PostgreSQL's canonical spelling, with the number of modifiers
/// each accepts (`varchar(40)`, `numeric(12,2)`).
const TYPES: &[(&str, &[&str], usize)] = &[
    ("smallint", &["int2"], 0),
    ("integer", &["int", "int4"], 0),
    ("bigint", &["int8"], 0),
    ("real", &["float4"], 0),
    ("double precision", &["float8"], 0),
    ("numeric", &["decimal"], 2),
    ("boolean", &["bool"], 0),
    ("text", &[], 0),
    ("character varying", &["varchar"], 1),
    ("character", &["char"], 1),
    ("bytea", &[], 0),
    ("uuid", &[], 0),
    ("date", &[], 0),
    ("timestamp with time zone", &["timestamptz"], 0),
    ("timestamp without time zone", &["timestamp"], 0),
    ("interval", &[], 0),
    ("jsonb", &[], 0),
    ("json", &[], 0),
];

/// A column type from the list above, with its modifiers and whether it is an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlType {
    name: &'static str,
    modifiers: Vec<u32>,
    array: bool,
}

impl SqlType {
    pub fn parse(s: &str) -> Result<SqlType, String> {
        let bad = || {
            format!(
                "\"{s}\" is not a supported column type ({})",
                TYPES.iter().map(|t| t.0).collect::<Vec<_>>().join(", ")
            )
        };
        let lower = s.trim().to_ascii_lowercase();
        let (rest, array) = match lower.strip_suffix("[]") {
            Some(r) => (r.trim_end(), true),
            None => (lower.as_str(), false),
        };
        let (base, modifiers) = match rest.split_once('(') {
            Some((b, m)) => {
                let m = m.strip_suffix(')').ok_or_else(bad)?;
                let mods: Result<Vec<u32>, _> =
                    m.split(',').map(|x| x.trim().parse::<u32>()).collect();
                (b.trim(), mods.map_err(|_| bad())?)
            }
            None => (rest, Vec::new()),
        };
        let base = base.split_whitespace().collect::<Vec<_>>().join(" ");
        let (name, _, max) = TYPES
            .iter()
            .find(|(n, aliases, _)| *n == base || aliases.contains(&base.as_str()))
            .ok_or_else(bad)?;
        if modifiers.len() > *max || modifiers.contains(&0) {
            return Err(bad());
        }
        Ok(SqlType {
            name,
            modifiers,
            array,
        })
    }

    /// The type as PostgreSQL spells it; only list entries and integers reach this text.
    pub fn sql(&self) -> String {
        let mut s = self.name.to_string();
        if !self.modifiers.is_empty() {
            let m: Vec<String> = self.modifiers.iter().map(u32::to_string).collect();
            s = format!("{s}({})", m.join(","));
        }
        if self.array {
            s.push_str("[]");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_lower_case_words_only() {
        for ok in ["events", "_x", "events_v2", "a1"] {
            assert_eq!(Ident::parse(ok).unwrap().quoted(), format!("\"{ok}\""));
        }
        for bad in [
            "",
            "Events",
            "1x",
            "events; DROP TABLE x",
            "a\"b",
            "a b",
            "é",
            &"x".repeat(64),
        ] {
            assert!(Ident::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn table_names_default_to_public() {
        assert_eq!(
            TableName::parse("events").unwrap().quoted(),
            "\"public\".\"events\""
        );
        assert_eq!(
            TableName::parse("app.events").unwrap().to_string(),
            "app.events"
        );
        assert!(TableName::parse("a.b.c").is_err());
        assert!(TableName::parse("events; DROP TABLE x").is_err());
    }

    #[test]
    fn types_are_canonical_or_refused() {
        let canon = |s: &str| SqlType::parse(s).unwrap().sql();
        assert_eq!(canon("int8"), "bigint");
        assert_eq!(canon("VARCHAR(40)"), "character varying(40)");
        assert_eq!(canon("numeric(12, 2)"), "numeric(12,2)");
        assert_eq!(canon("timestamptz"), "timestamp with time zone");
        assert_eq!(canon("text[]"), "text[]");
        for bad in [
            "money",
            "text); DROP TABLE x; --",
            "numeric(1,2,3)",
            "varchar(0)",
            "int(4)",
        ] {
            assert!(SqlType::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
