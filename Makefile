# Sesame's entry points. Each installs what it needs first (scripts/setup.sh).
.PHONY: run test check

## Build and serve on http://127.0.0.1:3000 (prints the demo user).
run:
	@scripts/run.sh

## Every test: fmt, clippy, cargo test, Playwright. Ends with "summary: N passed, N failed".
test:
	@scripts/test.sh

## The fast loop: type-check both sides.
check:
	cargo check --features ssr --all-targets
	cargo check --features hydrate --target wasm32-unknown-unknown
