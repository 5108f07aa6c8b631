//! The `cutover` binary, pointed at the local cloud the way CI's environment would point it.
//! `make build` builds it (`CUTOVER_BIN` overrides where it is).

use super::LocalCloud;
use std::path::PathBuf;
use std::process::{Command, Output};

pub fn bin() -> PathBuf {
    std::env::var("CUTOVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/cutover")
        })
}

impl LocalCloud {
    /// The binary with `args`, its AWS calls going to the local cloud.
    pub fn cli(&self, args: &[&str]) -> Command {
        let moto = std::env::var("MOTO_URL").unwrap_or_else(|_| "http://127.0.0.1:4567".into());
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .env("AWS_ENDPOINT_URL", &self.ministack_url)
            .env("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2", moto)
            // No emulator reports health-check status: local/route53_checker.py does, in front of
            // ministack's Route 53.
            .env(
                "AWS_ENDPOINT_URL_ROUTE_53",
                std::env::var("ROUTE53_CHECKER_URL")
                    .unwrap_or_else(|_| "http://127.0.0.1:4568".into()),
            )
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            // As local/env.sh sets it: the seeded configuration's 1-second periods are allowed.
            .env("METRIC_PERIOD_FLOOR_SECONDS", "1");
        cmd
    }

    /// The binary's run with `args`, to its end.
    pub fn cutover(&self, args: &[&str]) -> Output {
        self.cli(args)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e} (cargo build -p cutover-cli)", bin().display()))
    }
}
