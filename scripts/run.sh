#!/usr/bin/env bash
# Builds and serves Sesame on http://127.0.0.1:3000 with the embedded SQLite
# database under data/ and the demo user of Leptos.toml (printed at start-up).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
# --split: the lazy islands become WASM chunks loaded by the pages that show them.
# --project: the workspace also holds examples/minimal (its own app).
exec cargo leptos serve --split --project sesame-app
