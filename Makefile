# The README's two commands: `make demo` (the main job) and `make test`. Both set up what they need.
SHELL := /bin/bash
.PHONY: demo test setup unit lint scenarios cloud-up cloud-down bench bench-rollback

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
	local/start.sh && local/seed.sh && local/deploy.sh && local/simulator.sh start

# Figures, not pass/fail: the judge's cost on 60 samples a side.
bench:
	cargo run --release -p cutover-core --example judge_bench

# Time to rollback in the local cloud (brings it up, deploys, runs 50 rollbacks, stops it).
bench-rollback: setup
	local/bench-rollback.sh

cloud-down:
	local/stop.sh
