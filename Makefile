# Sesame's entry points. Each installs what it needs first (scripts/setup.sh).
.PHONY: run test check release bench link-order

## Build and serve on http://localhost:3000 (prints the demo user).
run:
	@scripts/run.sh

## Every test: fmt, clippy, cargo test, Playwright. Ends with "summary: N passed, N failed".
test:
	@scripts/test.sh

## The fast loop: type-check both sides.
check:
	cargo check --workspace --features ssr --all-targets
	cargo check --workspace --features hydrate --target wasm32-unknown-unknown
	cargo check --features bench --bin sesame

## The release site as a deployment uses it: target/site and target/release/sesame
## (the browser side with its own std, see the script).
release:
	@scripts/setup.sh
	@scripts/release.sh

## The release server's link order (build.rs): what it runs to start and to
## answer its common requests, recorded under valgrind. Run when its code moved a lot.
link-order:
	@python3 benches/link_order.py

## Benchmarks against NextAuth v4 and bare axum (release build; minutes, bounded load).
## Prints the table, writes target/bench/results.json and the README's table.
bench:
	@python3 benches/bench.py --readme
