//! Cutover's own table, `cutover.migrations`: one row per migration with its stage, verdict,
//! switch value and each phase's answer. Every value is a `$n` parameter.

/// The bookkeeping table, created on first use in its own schema.
pub const BOOKKEEPING: &str = "CREATE SCHEMA IF NOT EXISTS cutover;
CREATE TABLE IF NOT EXISTS cutover.migrations (
  id text PRIMARY KEY,
  spec jsonb NOT NULL,
  stage text NOT NULL,
  verified boolean NOT NULL DEFAULT false,
  report jsonb,
  switch_recorded boolean NOT NULL DEFAULT false,
  switch_previous text,
  history jsonb NOT NULL DEFAULT '[]',
  results jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now()
)";

/// What every statement Cutover renders relies on, for one transaction, whatever the server's or
/// the role's defaults: literals read as written, and names resolve only in PostgreSQL's own catalog
/// (every table and function of Cutover's is schema-qualified).
pub const SESSION_SETTINGS: &str =
    "SET LOCAL standard_conforming_strings = on; SET LOCAL search_path = pg_catalog, pg_temp";

/// How long DDL waits for a lock before giving up (and being retried): a migration must never queue
/// the application's writes behind it for longer.
pub const LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '5s'";

/// Serializes every phase of one migration: $1 is its id.
pub const ADVISORY_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('cutover:' || $1))";

/// The migration's row; the last column says whether $2 is the spec it was recorded with.
pub const LOAD_MIGRATION: &str = "SELECT stage, verified, switch_recorded, switch_previous, spec = $2 FROM cutover.migrations WHERE id = $1";

/// A new stage and its history event ($4); $2 is the spec as given, kept to recognise a re-used id.
pub const RECORD_STAGE: &str = "INSERT INTO cutover.migrations (id, spec, stage, history) VALUES ($1, $2, $3, jsonb_build_array($4::jsonb))
         ON CONFLICT (id) DO UPDATE SET spec = $2, stage = $3, updated_at = now(),
           history = cutover.migrations.history || jsonb_build_array($4::jsonb)";

/// A new target (expand) or none (revert): no verify verdict and no recorded switch carry over.
pub const FORGET_VERIFY_AND_SWITCH: &str = "UPDATE cutover.migrations SET verified = false, switch_recorded = false, switch_previous = NULL WHERE id = $1";

/// What phase $2 answered when it last succeeded.
pub const STORED_RESULT: &str = "SELECT results -> $2 FROM cutover.migrations WHERE id = $1";

/// Phase $2's answer $3, kept so a retry after success answers the same.
pub const STORE_RESULT: &str = "UPDATE cutover.migrations SET results = results || jsonb_build_object($2::text, $3::jsonb) WHERE id = $1";

/// Verify's verdict ($2) and report ($3), written after its read-only transaction.
pub const RECORD_VERIFY: &str = "UPDATE cutover.migrations SET verified = $2::boolean, report = $3, updated_at = now(),
           history = history || jsonb_build_array(jsonb_build_object('phase', 'verify', 'passed', $2::boolean, 'at', now()))
         WHERE id = $1";

/// The switch's value before the migration ($2), kept once: a retried switch must not record the
/// value it put there itself.
pub const RECORD_SWITCH_PREVIOUS: &str = "UPDATE cutover.migrations SET switch_recorded = true, switch_previous = $2 WHERE id = $1 AND NOT switch_recorded";
