//! Column mappings as expressions over the other table's columns: a small, deterministic subset of
//! SQL (columns, literals, + - * / % ||, casts to supported types, a list of pure functions). A
//! mapping is parsed into this tree and rendered back from it, never pasted.

use super::ident::{Ident, SqlType};
use std::collections::BTreeSet;

/// Functions a mapping may call: pure and deterministic, so a re-run or a verify computes the same
/// value as the trigger did.
const FUNCTIONS: &[&str] = &[
    "abs",
    "btrim",
    "ceil",
    "coalesce",
    "concat",
    "floor",
    "greatest",
    "least",
    "left",
    "length",
    "lower",
    "ltrim",
    "md5",
    "nullif",
    "replace",
    "right",
    "round",
    "rtrim",
    "split_part",
    "substr",
    "trim",
    "trunc",
    "upper",
];

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Column(Ident),
    Text(String),
    /// Digits with at most one `.`, as written.
    Number(String),
    Null,
    Bool(bool),
    Neg(Box<Expr>),
    Binary(Box<Expr>, &'static str, Box<Expr>),
    Call(&'static str, Vec<Expr>),
    Cast(Box<Expr>, SqlType),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Text(String),
    Number(String),
    Op(&'static str),
}

fn tokens(s: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        if two == "--" || two == "/*" {
            return Err("comments are not allowed in a mapping".into());
        }
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let n: String = chars[start..i].iter().collect();
            if n.matches('.').count() > 1 || n.ends_with('.') {
                return Err(format!("\"{n}\" is not a number"));
            }
            out.push(Token::Number(n));
        } else if c == '\'' || c == '"' {
            // A doubled quote inside is the quote itself, as in SQL.
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("unterminated {c}")),
                    Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                        text.push(c);
                        i += 2;
                    }
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some(&other) => {
                        text.push(other);
                        i += 1;
                    }
                }
            }
            out.push(if c == '\'' {
                Token::Text(text)
            } else {
                Token::Quoted(text)
            });
        } else {
            let op = ["||", "::"]
                .into_iter()
                .find(|o| *o == two)
                .or_else(|| {
                    ["+", "-", "*", "/", "%", "(", ")", ","]
                        .into_iter()
                        .find(|o| o.starts_with(c))
                })
                .ok_or_else(|| format!("'{c}' is not allowed in a mapping"))?;
            i += op.len();
            out.push(Token::Op(op));
        }
    }
    Ok(out)
}

/// How deeply a mapping may nest (parentheses, calls, signs). The parser and the SQL writer recurse
/// once per level, so 100 000 `(` would overflow the function's stack; no real mapping nests 64 deep.
pub const MAX_DEPTH: usize = 64;

struct Parser {
    toks: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek_op(&self, op: &str) -> bool {
        matches!(self.toks.get(self.at), Some(Token::Op(o)) if *o == op)
    }

    fn eat_op(&mut self, op: &str) -> Result<(), String> {
        if self.peek_op(op) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected '{op}'"))
        }
    }

    fn binary(&mut self, level: usize) -> Result<Expr, String> {
        const LEVELS: &[&[&str]] = &[&["||"], &["+", "-"], &["*", "/", "%"]];
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut left = self.binary(level + 1)?;
        while let Some(op) = ops.iter().find(|o| self.peek_op(o)) {
            self.at += 1;
            let right = self.binary(level + 1)?;
            left = Expr::Binary(Box::new(left), op, Box::new(right));
        }
        Ok(left)
    }

    /// Every nesting (a parenthesis, a call's argument, a sign) passes through here once.
    fn unary(&mut self) -> Result<Expr, String> {
        if self.depth == MAX_DEPTH {
            return Err(format!("nests deeper than {MAX_DEPTH} levels"));
        }
        self.depth += 1;
        let e = self.unary_within();
        self.depth -= 1;
        e
    }

    fn unary_within(&mut self) -> Result<Expr, String> {
        if self.peek_op("-") {
            self.at += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        let mut e = self.primary()?;
        while self.peek_op("::") {
            self.at += 1;
            let mut words = Vec::new();
            while let Some(Token::Word(w)) = self.toks.get(self.at) {
                words.push(w.clone());
                self.at += 1;
            }
            let mut ty = words.join(" ");
            if self.peek_op("(") {
                self.at += 1;
                let mut mods = Vec::new();
                while let Some(Token::Number(n)) = self.toks.get(self.at) {
                    mods.push(n.clone());
                    self.at += 1;
                    if self.peek_op(",") {
                        self.at += 1;
                    }
                }
                self.eat_op(")")?;
                ty = format!("{ty}({})", mods.join(","));
            }
            e = Expr::Cast(Box::new(e), SqlType::parse(&ty)?);
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let tok = self.toks.get(self.at).cloned().ok_or("unexpected end")?;
        self.at += 1;
        match tok {
            Token::Text(t) => Ok(Expr::Text(t)),
            Token::Number(n) => Ok(Expr::Number(n)),
            Token::Quoted(q) => Ok(Expr::Column(Ident::parse(&q)?)),
            Token::Op("(") => {
                let e = self.binary(0)?;
                self.eat_op(")")?;
                Ok(e)
            }
            Token::Op(o) => Err(format!("unexpected '{o}'")),
            Token::Word(w) => {
                let lower = w.to_ascii_lowercase();
                match lower.as_str() {
                    "null" => return Ok(Expr::Null),
                    "true" | "false" => return Ok(Expr::Bool(lower == "true")),
                    _ => {}
                }
                if !self.peek_op("(") {
                    return Ok(Expr::Column(Ident::parse(&lower)?));
                }
                let f = FUNCTIONS
                    .iter()
                    .find(|f| **f == lower)
                    .ok_or_else(|| format!("function {w} is not allowed in a mapping"))?;
                self.at += 1;
                let mut args = Vec::new();
                if !self.peek_op(")") {
                    loop {
                        args.push(self.binary(0)?);
                        if !self.peek_op(",") {
                            break;
                        }
                        self.at += 1;
                    }
                }
                self.eat_op(")")?;
                Ok(Expr::Call(f, args))
            }
        }
    }
}

impl Expr {
    pub fn parse(s: &str) -> Result<Expr, String> {
        let mut p = Parser {
            toks: tokens(s)?,
            at: 0,
            depth: 0,
        };
        if p.toks.is_empty() {
            return Err("is empty".into());
        }
        let e = p.binary(0)?;
        match p.toks.get(p.at) {
            None => Ok(e),
            Some(t) => Err(format!("unexpected {t:?} after the expression")),
        }
    }

    /// The column this expression copies as it is, if that is all it does.
    pub fn as_column(&self) -> Option<&Ident> {
        match self {
            Expr::Column(c) => Some(c),
            _ => None,
        }
    }

    pub fn columns(&self, into: &mut BTreeSet<Ident>) {
        match self {
            Expr::Column(c) => {
                into.insert(c.clone());
            }
            Expr::Neg(e) | Expr::Cast(e, _) => e.columns(into),
            Expr::Binary(a, _, b) => {
                a.columns(into);
                b.columns(into);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.columns(into)),
            Expr::Text(_) | Expr::Number(_) | Expr::Null | Expr::Bool(_) => {}
        }
    }

    /// SQL text with every column written as `<row>."col"` (`NEW`, `OLD`, or a table alias).
    pub fn sql(&self, row: &str) -> String {
        match self {
            Expr::Column(c) => format!("{row}.{}", c.quoted()),
            // An escape string means the same whatever the session's standard_conforming_strings:
            // in a plain literal a backslash escapes the quote when that setting is off, and the
            // text could close its literal and run SQL of its own.
            Expr::Text(t) => format!("E'{}'", t.replace('\\', "\\\\").replace('\'', "''")),
            Expr::Number(n) => n.clone(),
            Expr::Null => "NULL".into(),
            Expr::Bool(b) => b.to_string().to_uppercase(),
            Expr::Neg(e) => format!("(-{})", e.sql(row)),
            Expr::Binary(a, op, b) => format!("({} {op} {})", a.sql(row), b.sql(row)),
            Expr::Call(f, args) => {
                let args: Vec<String> = args.iter().map(|a| a.sql(row)).collect();
                format!("{f}({})", args.join(", "))
            }
            Expr::Cast(e, t) => format!("CAST({} AS {})", e.sql(row), t.sql()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(s: &str) -> String {
        Expr::parse(s).unwrap().sql("s")
    }

    #[test]
    fn renders_from_the_tree() {
        assert_eq!(sql("name"), "s.\"name\"");
        assert_eq!(sql("lower(Venue)"), "lower(s.\"venue\")");
        assert_eq!(
            sql("round(price * 100)::integer"),
            "CAST(round((s.\"price\" * 100)) AS integer)"
        );
        assert_eq!(
            sql("coalesce(city, 'n/a') || ' – ' || 'it''s'"),
            "((coalesce(s.\"city\", E'n/a') || E' – ') || E'it''s')"
        );
        // A backslash cannot escape the closing quote, whatever standard_conforming_strings says.
        assert_eq!(
            sql(r"'\'' ; DROP TABLE t; --'"),
            r"E'\\'' ; DROP TABLE t; --'"
        );
        assert_eq!(sql("-x + 1.5"), "((-s.\"x\") + 1.5)");
        assert_eq!(
            sql("\"starts_at\"::timestamptz"),
            "CAST(s.\"starts_at\" AS timestamp with time zone)"
        );
        assert_eq!(
            sql("amount::numeric(12, 2)"),
            "CAST(s.\"amount\" AS numeric(12,2))"
        );
    }

    #[test]
    fn nesting_is_bounded_before_it_can_overflow_the_stack() {
        let nested = |n: usize| format!("{}\"a\"{}", "(".repeat(n), ")".repeat(n));
        assert!(Expr::parse(&nested(MAX_DEPTH - 1)).is_ok());
        for deep in [
            nested(MAX_DEPTH),
            nested(100_000),
            format!("{}1", "- ".repeat(100_000)),
        ] {
            let err = Expr::parse(&deep).unwrap_err();
            assert!(err.contains("nests deeper than 64"), "{err}");
        }
        let calls = format!("{}\"a\"{}", "lower(".repeat(100_000), ")".repeat(100_000));
        assert!(Expr::parse(&calls).unwrap_err().contains("nests deeper"));
    }

    #[test]
    fn refuses_anything_outside_the_subset() {
        for bad in [
            "",
            "name; DROP TABLE x",
            "pg_sleep(10)",
            "now()",
            "(SELECT 1)",
            "name)",
            "lower(name",
            "'unterminated",
            "\"Name\"",
            "x::money",
            "a = b",
            "1..2",
            "name -- comment",
        ] {
            assert!(Expr::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn lists_the_columns_it_reads() {
        let mut cols = BTreeSet::new();
        Expr::parse("concat(first, ' ', last, first)")
            .unwrap()
            .columns(&mut cols);
        let names: Vec<_> = cols.iter().map(Ident::as_str).collect();
        assert_eq!(names, ["first", "last"]);
        assert!(Expr::parse("name").unwrap().as_column().is_some());
        assert!(Expr::parse("lower(name)").unwrap().as_column().is_none());
    }
}
