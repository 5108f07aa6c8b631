//! Names of deploy executions. Step Functions allows at most 80 characters of `[A-Za-z0-9_-]`, and a
//! name is how a second `cutover deploy` with the same id finds the first one's execution, so the name
//! must be a pure function of (app, env, id) that always fits and never gives two services the same
//! name: `shop-api`/`prod` and `shop`/`api-prod` both read `shop-api-prod-…` as text.
//!
//! The name is the readable `<app>-<env>-<id>`, cut to fit, then `-` and a 14-digit tag: 8 hex digits
//! of a hash of (app, env), which `cutover history` matches to find a service's executions, and 6 of
//! a hash of (app, env, id).

/// Step Functions' limit on an execution name.
pub const MAX_LEN: usize = 80;
const TAG_LEN: usize = 14;

/// FNV-1a: stable across Rust versions and platforms (std's hasher is neither). Not for security,
/// only for naming.
pub fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        // A separator no name can contain, so ("ab", "c") and ("a", "bc") hash apart.
        let sep: &[u8] = if i == 0 { &[] } else { &[0] };
        for b in sep.iter().chain(part.as_bytes()) {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The 8 hex digits that every execution of `app`/`env` carries.
pub fn service_tag(app: &str, env: &str) -> String {
    format!("{:08x}", fnv1a(&[app, env]) as u32)
}

/// The execution name of deployment `id` of `app`/`env` (names already checked by `check_name`).
pub fn deployment(app: &str, env: &str, id: &str) -> String {
    let tag = format!(
        "{}{:06x}",
        service_tag(app, env),
        fnv1a(&[app, env, id]) & 0x00ff_ffff
    );
    let mut readable = format!("{app}-{env}-{id}");
    readable.truncate(MAX_LEN - 1 - TAG_LEN);
    format!("{readable}-{tag}")
}

/// If `name` is an execution of `app`/`env`, the deployment id as far as the name shows it (cut when
/// the name had to be; `…` marks the cut).
pub fn deployment_id_in(name: &str, app: &str, env: &str) -> Option<String> {
    let (readable, tag) = name.rsplit_once('-')?;
    if tag.len() != TAG_LEN || !tag.starts_with(&service_tag(app, env)) {
        return None;
    }
    let id = readable
        .strip_prefix(&format!("{app}-{env}-"))
        .unwrap_or("");
    let cut = readable.len() == MAX_LEN - 1 - TAG_LEN;
    Some(if cut {
        format!("{id}…")
    } else {
        id.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_commit_sha_on_long_names_still_fits_and_is_found_again() {
        let (app, env) = ("a".repeat(40), "b".repeat(40));
        let id = "3f9c2a1b4d5e6f708192a3b4c5d6e7f8091a2b3c";
        let name = deployment(&app, &env, id);
        assert_eq!(name.len(), MAX_LEN);
        assert_eq!(name, deployment(&app, &env, id), "deterministic");
        assert!(deployment_id_in(&name, &app, &env).unwrap().ends_with('…'));
        let short = deployment("live", "prod", "abc123");
        assert!(short.starts_with("live-prod-abc123-"), "{short}");
        assert_eq!(
            deployment_id_in(&short, "live", "prod").as_deref(),
            Some("abc123")
        );
    }

    #[test]
    fn services_whose_names_read_alike_get_different_names() {
        let a = deployment("shop-api", "prod", "1");
        let b = deployment("shop", "api-prod", "1");
        assert_ne!(a, b);
        assert_eq!(deployment_id_in(&a, "shop", "api-prod"), None);
        assert_eq!(deployment_id_in(&b, "shop-api", "prod"), None);
    }

    proptest! {
        #[test]
        fn every_name_fits_step_functions(
            app in "[a-z0-9][a-z0-9_-]{0,39}",
            env in "[a-z0-9][a-z0-9_-]{0,39}",
            id in "[A-Za-z0-9][A-Za-z0-9_-]{0,39}",
        ) {
            let name = deployment(&app, &env, &id);
            prop_assert!(name.len() <= MAX_LEN);
            prop_assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
            prop_assert!(deployment_id_in(&name, &app, &env).is_some());
        }
    }
}
