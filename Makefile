# The README's two commands: `make demo` (the main job) and `make test`. Both set up what they need.
SHELL := /bin/bash
.PHONY: demo test setup unit lint scenarios cloud-up cloud-down bench bench-rollback bench-migrate

demo: setup build
	local/demo.sh

test: setup unit lint scenarios

setup:
	local/setup.sh

unit:
	cargo test --workspace --all-features --exclude cutover-scenarios

lint: setup
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings
	source local/env.sh && sam validate --lint --region us-east-1 && cfn-lint template.yaml

scenarios: setup build
	local/up.sh -- cargo test -p cutover-scenarios

cloud-up: setup build
	local/up.sh

# Figures, not pass/fail: the judge's cost on 60 samples a side.
bench:
	cargo run --release -p cutover-core --example judge_bench

# Time to rollback in the local cloud over 50 runs: no PostgreSQL, and no simulator loading the
# machine it times (nothing the bench does needs traffic).
bench-rollback: setup build
	local/up.sh cloud seed deploy -- $${CUTOVER_BIN_DIR:-target/debug}/examples/rollback_bench

cloud-down:
	local/down.sh

# Batched backfill vs one INSERT … SELECT on the local PostgreSQL, with a concurrent writer. The work
# is PostgreSQL's, so the debug build (shared with the tests) measures the same thing.
bench-migrate: setup build
	local/up.sh postgres -- $${CUTOVER_BIN_DIR:-target/debug}/examples/migrate_bench
