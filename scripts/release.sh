#!/usr/bin/env bash
# Builds the release site: the browser side into target/site, the server into
# target/release/sesame. Arguments go to cargo-leptos (e.g. --precompress,
# --bin-features bench); --frontend-only builds the browser side alone.
#
# The browser side is built with its own copy of std (the toolchain's rust-src)
# so that a panic in the browser aborts at once and names no file:
# `-Cpanic=immediate-abort -Zlocation-detail=none`. The std that rustup ships
# formats every panic's message and location for the panic hook, which keeps
# core's formatting code and every panic location in the main WASM module:
# 11.8 KiB of its 85.2 KiB brotli (issue 26). That std is also built with
# its `optimize_for_size` feature (smaller sorting, formatting and collection
# code: the main module 73.6 -> 73.0 KiB brotli). Those options are unstable, and
# these machines have one stable toolchain and no nightly, so this one build
# runs with RUSTC_BOOTSTRAP=1: the same compiler, taking the options for the
# WASM only. The server and the debug builds (make run, make test) are built as
# usual; a panic in a debug build still prints its message in the console.
# SESAME_WASM_STD=off, or a toolchain without rust-src, builds the WASM as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
# Cargo's tools on PATH, unless there already (the bench puts a wasm-opt that
# keeps names in front of them for its size profile).
case ":$PATH:" in
  *":$HOME/.cargo/bin:"*) ;;
  *) export PATH="$HOME/.cargo/bin:$PATH" ;;
esac

# wasm-opt 116: a native one on PATH, else npm's that scripts/setup.sh installs.
if ! wasm-opt --version 2>/dev/null | grep -q "version 116 "; then
  export PATH="$PWD/target/tools/binaryen/node_modules/.bin:$PATH"
fi

front_only=false
args=()
for arg in "$@"; do
  if [ "$arg" = --frontend-only ]; then front_only=true; else args+=("$arg"); fi
done

# The environment of the browser side's build: empty for the usual one.
own_std=()
if [ "${SESAME_WASM_STD:-on}" != off ]; then
  if rustup component list --installed 2>/dev/null | grep -q '^rust-src' \
    || rustup component add rust-src; then
    own_std=(
      RUSTC_BOOTSTRAP=1
      CARGO_UNSTABLE_BUILD_STD=std,panic_abort
      CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size
      "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS=-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none"
    )
  else
    echo "release: no rust-src for this toolchain; the WASM is built with the shipped std" >&2
  fi
fi

env "${own_std[@]}" cargo leptos build --project sesame-app --release --split --frontend-only "${args[@]}"
if ! $front_only; then
  cargo leptos build --project sesame-app --release --split --server-only "${args[@]}"
fi
