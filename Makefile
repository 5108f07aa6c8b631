# The README's two commands: `make demo` (the main job) and `make test`. Both set up what they need.
SHELL := /bin/bash
.PHONY: demo test setup build unit lint scenarios cloud-up cloud-down bench bench-rollback bench-migrate \
	bench-size bench-cost bench-detect bench-availability chaos

# One compilation serves the lints, every test layer and the local cloud. clippy's driver compiles the
# workspace's own crates (its lints, denied, then codegen as rustc's), so a separate `cargo clippy`
# would only go through the whole dependency graph again in check mode. Every cargo command here runs
# with the same variables, packages and features, so none recompiles what another built; the function
# binaries the tests build are the ones the local cloud runs.
export RUSTC_WORKSPACE_WRAPPER := clippy-driver
export CLIPPY_ARGS := -D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
CARGO_TEST := cargo test --workspace --all-features
SCENARIOS := --test shift_traffic --test deploy --test judge --test rollback --test cli --test migrate --test monitoring --test chaos
# Each phase prints its seconds (CI's log reads them).
timed = TIMEFORMAT="phase $(1): %0R s"; time

demo: setup build
	local/demo.sh

# Every layer in one run with the local cloud up: core, adapters, functions, CLI, scenarios.
test: setup build lint
	$(call timed,hooks) python3 -m unittest discover -s hooks/smoke -p 'test_*.py' && \
	  local/.venv/bin/python -m unittest discover -s local -p 'test_*.py'
	$(call timed,tests) local/up.sh -- $(CARGO_TEST)

setup:
	$(call timed,setup) local/setup.sh

# Tests, function binaries, the CLI and the benches' examples, with clippy's lints.
build:
	$(call timed,build) $(CARGO_TEST) --no-run

# Everything that needs no local cloud.
unit: build
	$(CARGO_TEST) --exclude cutover-scenarios

lint: setup
	$(call timed,lint) { cargo fmt --all --check && source local/env.sh && \
	  sam validate --lint --region us-east-1 && cfn-lint template.yaml && \
	  "$$CHECKOV_VENV/bin/checkov" -f template.yaml --framework cloudformation --quiet --compact \
	    --skip-download 2>/dev/null; }

scenarios: setup build
	local/up.sh -- $(CARGO_TEST) $(SCENARIOS)

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

# What AWS runs: arm64 release sizes (binary and zip) and cold starts against Python/boto3. Builds with
# cargo-lambda and zig (LOCAL_SAM_BUILD=1 adds them), the shipping profile: about 20 minutes from cold.
bench-size:
	LOCAL_SAM_BUILD=1 local/setup.sh
	source local/env.sh && python3 local/tools/bench_size.py

# Candidate targets gone mid-bake -> production traffic back on live, in the local cloud.
bench-detect: setup build
	local/up.sh -- $${CUTOVER_BIN_DIR:-target/debug}/examples/detect_bench

# State transitions and USD per deployment of each preset, from the local cloud's execution histories.
bench-availability: setup build
	local/up.sh -- $${CUTOVER_BIN_DIR:-target/debug}/examples/availability_bench

bench-cost: setup build
	local/up.sh -- $${CUTOVER_BIN_DIR:-target/debug}/examples/cost_bench

# Batched backfill vs one INSERT … SELECT on the local PostgreSQL, with a concurrent writer. The work
# is PostgreSQL's, so the debug build (shared with the tests) measures the same thing.
bench-migrate: setup build
	local/up.sh postgres -- $${CUTOVER_BIN_DIR:-target/debug}/examples/migrate_bench

# Deployments under injected AWS faults (the fault proxies in front of the emulators): the matrix of
# fault kinds × rates × good/bad, its table and every invariant violation. CHAOS_RUNS=10 a cell by
# default (206 deployments, about 30 minutes); exits 1 on any violation.
chaos: setup build
	local/up.sh -- $${CUTOVER_BIN_DIR:-target/debug}/examples/chaos_bench
