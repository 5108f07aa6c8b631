//! The test route: how the candidate is reached before, and beside, production traffic. A test
//! listener (a second port) forwards to the candidate during a deployment and to the live colour
//! otherwise; a header rule on the production listener forwards requests that carry the header to
//! the candidate for the whole deployment, and exists only while one runs.

use crate::fields::Reader;
use serde::Serialize;

/// ALB's limits on an `http-header` condition and a rule priority (CreateRule's API reference).
pub const MAX_HEADER_NAME: usize = 40;
pub const MAX_HEADER_VALUE: usize = 128;
pub const MAX_RULE_PRIORITY: u64 = 50_000;

/// The tag that marks a listener rule as Cutover's test route of one service: its value is
/// `<app>/<env>` (ELB tag values allow `/`, not `#`). A retry finds the rule again by it instead of creating a second one.
pub const TEST_ROUTE_TAG: &str = "cutover:test-route";
/// The deployment a test rule was created for (a person reading the console sees whose it is).
pub const DEPLOYMENT_TAG: &str = "cutover:deployment";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderRoute {
    pub name: String,
    pub value: String,
    pub priority: u32,
}

/// RFC 7230's `tchar`: what ALB allows in a header name.
fn is_token(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl Reader<'_> {
    /// `testHeader`: `{name, value, priority}`.
    pub(crate) fn header_route(&mut self, key: &str) -> Option<HeaderRoute> {
        let is_object = self.value(key, false)?.is_object();
        let mut h = self.child(key, false);
        if !is_object {
            return None;
        }
        let name = h.string("name", true);
        let value = h.string("value", true);
        let priority = h.integer("priority", MAX_RULE_PRIORITY, 0);
        if let Some(n) = &name {
            if n.len() > MAX_HEADER_NAME || !is_token(n) {
                h.fail(
                    "name",
                    format!(
                        "must be an HTTP header name (RFC 7230 token characters, at most \
                         {MAX_HEADER_NAME}), got \"{n}\""
                    ),
                );
            } else if n.eq_ignore_ascii_case("host") {
                h.fail("name", "must not be Host: ALB matches it with host-header");
            }
        }
        if let Some(v) = &value {
            if v.len() > MAX_HEADER_VALUE || v.contains(['*', '?']) || !v.is_ascii() {
                h.fail(
                    "value",
                    format!(
                        "must be at most {MAX_HEADER_VALUE} ASCII characters without the \
                         wildcards * and ? (a pattern could route users to the candidate), got \"{v}\""
                    ),
                );
            }
        }
        if priority == 0 {
            h.fail(
                "priority",
                format!("is required: a rule priority from 1 to {MAX_RULE_PRIORITY}, unused on the listener"),
            );
        }
        Some(HeaderRoute {
            name: name?,
            value: value?,
            priority: u32::try_from(priority).ok().filter(|p| *p > 0)?,
        })
    }
}

/// The value of [`TEST_ROUTE_TAG`] for a service.
pub fn test_route_tag(app: &str, env: &str) -> String {
    format!("{app}/{env}")
}
