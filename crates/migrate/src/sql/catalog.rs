//! Questions about the application's tables, answered from PostgreSQL's catalog. Tables travel as
//! `schema.table` text parameters that PostgreSQL resolves.

/// Whether a table exists; $1 is `schema.table`.
pub const TABLE_EXISTS: &str = "SELECT to_regclass($1) IS NOT NULL";

/// Whether the source has a unique index on exactly the key columns (ON CONFLICT needs one). $1 is
/// the source as `schema.table` text, resolved by PostgreSQL, $2 the key column names.
pub const SOURCE_KEY_IS_UNIQUE: &str = "SELECT EXISTS (
  SELECT 1 FROM pg_index i
  WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL
    AND (SELECT array_agg(a.attname::text ORDER BY a.attname)
         FROM pg_attribute a
         WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey))
        = (SELECT array_agg(x ORDER BY x) FROM unnest($2::text[]) x)
    AND i.indnkeyatts = cardinality($2::text[]))";

/// Source columns that are NOT NULL without a default: a write that lands on the target after the
/// switch must fill each of them, so each needs a reverse mapping.
pub const SOURCE_REQUIRED_COLUMNS: &str = "SELECT a.attname::text FROM pg_attribute a
  WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
    AND a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = ''
  ORDER BY a.attnum";

/// The comment on a table; $1 is `schema.table`. Expand marks the target it creates with
/// [`super::target_mark`], and only a table so marked is ever dropped by revert.
pub const TABLE_COMMENT: &str = "SELECT obj_description(to_regclass($1), 'pg_class')";
