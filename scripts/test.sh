#!/usr/bin/env bash
# Runs every test: formatting and lints, the Rust unit and black-box tests
# (the real server on ephemeral ports), then the Playwright browser tests
# against the debug build. Ends with one summary line over all runners.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/setup.sh --e2e || exit 1
export PATH="$HOME/.cargo/bin:$PATH"
logs=target/test-logs
mkdir -p "$logs"
failed_step=""

step() { printf '\n\033[1m== %s\033[0m (at %ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "cargo fmt --check"
cargo fmt --check || failed_step="$failed_step fmt"

step "cargo clippy (ssr, hydrate; the library, the app, the example)"
cargo clippy --workspace --features ssr --all-targets -- -D warnings || failed_step="$failed_step clippy-ssr"
cargo clippy --workspace --features hydrate --target wasm32-unknown-unknown -- -D warnings || failed_step="$failed_step clippy-hydrate"
# The bench build (`make bench`) too, so it cannot rot unseen, and the library
# with only its embedded store (no `postgres`, no `redis` cargo feature).
cargo clippy --features bench --bin sesame -- -D warnings || failed_step="$failed_step clippy-bench"
cargo clippy -p sesame --no-default-features --features ssr,sqlite -- -D warnings \
  || failed_step="$failed_step clippy-sqlite-only"

step "cargo doc -p sesame (no warnings); cargo publish --dry-run -p sesame (packaging)"
RUSTDOCFLAGS="-D warnings" cargo doc -p sesame --no-deps --features ssr || failed_step="$failed_step doc"
# --no-verify: the package's manifest, files and dependencies are checked; its
# build (another whole build of leptos, with default features) is not repeated
# here: clippy and the tests build the library with each of its feature sets.
cargo publish --dry-run --no-verify --allow-dirty -p sesame || failed_step="$failed_step publish-dry-run"

step "cargo test --workspace --features ssr (unit, black-box, doctests)"
# Built first, without a limit: a cold build's time depends on the machine.
# Then a hang must fail the run, not eat CI's time. --no-fail-fast: a failing
# test binary does not keep the later ones from running (and being counted).
if cargo test --workspace --features ssr --no-run; then
  timeout 600 cargo test --workspace --features ssr --no-fail-fast 2>&1 | tee "$logs/cargo-test.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || failed_step="$failed_step cargo-test"
else
  failed_step="$failed_step cargo-test-build"
fi

step "scripts/release.sh --frontend-only (the release WASM, which release.spec.ts serves; then moved to target/release-site)"
# Before the debug build: both write target/site.
rm -rf target/release-site
if scripts/release.sh --frontend-only; then
  mv target/site target/release-site
else
  failed_step="$failed_step release-build"
fi

step "cargo leptos build --split (the app and examples/minimal: server + WASM, islands split into lazy chunks)"
if cargo leptos build --split; then
  step "playwright (Debian Chromium)"
  rm -rf target/e2e target/e2e-mail
  (cd end2end && timeout 1200 npx playwright test) 2>&1 | tee "$logs/playwright.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || failed_step="$failed_step playwright"
else
  failed_step="$failed_step leptos-build"
fi

# One closing line over both runners: N passed, N failed.
rust_passed=$(grep -oE 'test result: [a-zA-Z]+\. [0-9]+ passed' "$logs/cargo-test.log" | awk '{s+=$4} END {print s+0}')
rust_failed=$(grep -oE '[0-9]+ failed;' "$logs/cargo-test.log" | awk '{s+=$1} END {print s+0}')
pw_passed=0; pw_failed=0; pw_flaky=0
if [ -f end2end/test-results/results.json ]; then
  read -r pw_passed pw_failed pw_flaky < <(node -e '
    const r = require("./end2end/test-results/results.json");
    const s = r.stats || {};
    console.log((s.expected || 0) + " " + (s.unexpected || 0) + " " + (s.flaky || 0));')
fi
passed=$((rust_passed + pw_passed + pw_flaky))
failed=$((rust_failed + pw_failed))
if [ -n "$failed_step" ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo
[ -n "$failed_step" ] && echo "failed steps:$failed_step"
echo "cargo test: $rust_passed passed, $rust_failed failed; playwright: $pw_passed passed, $pw_failed failed, $pw_flaky flaky (passed on retry)"
echo "took $(( $(date +%s) - start ))s"
echo "summary: $passed passed, $failed failed"
[ -z "$failed_step" ]
