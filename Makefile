# The README's two commands: `make demo` (the main job) and `make test`. Both set up what they need.
SHELL := /bin/bash
.PHONY: demo test setup unit lint scenarios cloud-up cloud-down bench bench-rollback bench-migrate

demo: setup
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

scenarios: setup
	local/scenarios.sh

cloud-up: setup
	local/start.sh && local/postgres.sh start && local/seed.sh && local/deploy.sh && local/simulator.sh start

# Figures, not pass/fail: the judge's cost on 60 samples a side.
bench:
	cargo run --release -p cutover-core --example judge_bench

# Time to rollback in the local cloud (brings it up, deploys, runs 50 rollbacks, stops it).
bench-rollback: setup
	local/bench-rollback.sh

cloud-down:
	local/stop.sh

# Batched backfill vs one INSERT … SELECT on the local PostgreSQL, with a concurrent writer. The work
# is PostgreSQL's, so the debug build (shared with the tests) measures the same thing.
bench-migrate: setup
	local/postgres.sh start
	source local/env.sh && cargo run -q -p cutover-scenarios --example migrate_bench
