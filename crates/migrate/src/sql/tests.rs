use super::*;
use serde_json::Value;

fn spec(edit: impl FnOnce(&mut Value)) -> MigrationSpec {
    let mut v: Value =
        serde_json::from_str(include_str!("../../../../local/migrate/tickets-spec.json")).unwrap();
    edit(&mut v);
    MigrationSpec::from_json(&v).unwrap()
}

#[test]
fn a_literal_cannot_close_the_function_body() {
    let s = spec(|v| {
        v["target"]["columns"][3]["from"] =
            serde_json::json!("concat(email, '$cutover0$; DROP TABLE x; --')");
    });
    let f = forward_function(&s);
    // The body is quoted with a tag the literal does not contain, and the literal stays a literal.
    assert!(f.contains("AS $cutover1$"), "{f}");
    assert!(f.ends_with("$cutover1$"), "{f}");
    assert!(f.contains("'$cutover0$; DROP TABLE x; --'"), "{f}");
}

#[test]
fn statements_name_only_quoted_identifiers() {
    let s = spec(|_| {});
    assert_eq!(
        create_target(&s),
        [
            "CREATE TABLE \"public\".\"tickets_v2\" (\"id\" bigint NOT NULL, \
             \"event_id\" bigint NOT NULL, \"holder_name\" text NOT NULL, \"email_lower\" text, \
             \"price_cents\" bigint NOT NULL, \"status\" character varying(16) NOT NULL, \
             \"updated_at\" timestamp with time zone NOT NULL, PRIMARY KEY (\"id\"))",
            "COMMENT ON TABLE \"public\".\"tickets_v2\" IS E'created by cutover migration tickets-v2'"
        ]
    );
    let b = backfill(&s, true);
    assert!(
        b.contains(
            "WHERE ROW(s.\"id\") > ROW($2::text::bigint) ORDER BY s.\"id\" LIMIT $1 FOR SHARE"
        ),
        "{b}"
    );
    assert!(b.contains("ON CONFLICT (\"id\") DO NOTHING"), "{b}");
    let f = forward_function(&s);
    assert!(
        f.contains("current_setting('cutover.syncing', true) = 'on'"),
        "{f}"
    );
    assert!(
        f.contains("SET search_path = pg_catalog, pg_temp SET standard_conforming_strings = on"),
        "{f}"
    );
    assert!(
        f.contains("DO UPDATE SET \"event_id\" = EXCLUDED.\"event_id\""),
        "{f}"
    );
    let r = reverse_function(&s);
    assert!(
        r.contains("INSERT INTO \"public\".\"tickets\" (\"email\", \"price\", \"id\""),
        "{r}"
    );
    assert!(
        r.contains("DELETE FROM \"public\".\"tickets\" WHERE \"id\" = OLD.\"id\""),
        "{r}"
    );
    assert_eq!(names(&s).forward_trigger, "\"cutover_fwd_tickets_v2\"");
}
