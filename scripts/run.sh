#!/usr/bin/env bash
# Builds and serves Sesame on http://localhost:3000 with the embedded SQLite
# database under data/ and the demo user of Leptos.toml (printed at start-up).
# Beside it runs the local OpenID Connect provider of the tests (dev/oidc) on
# http://127.0.0.1:3130, so that the sign-in pages' "Sign in with Sesame dev
# provider" button works offline (users alice, bob, demo; password `secret`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
OIDC_PORT=3130
if ! (exec 3<>"/dev/tcp/127.0.0.1/$OIDC_PORT") 2>/dev/null; then
  (cd dev/oidc && exec node server.mjs "$OIDC_PORT") &
  oidc_pid=$!
  trap 'kill "$oidc_pid" 2>/dev/null || true' EXIT
  echo "run: the local OpenID Connect provider is on http://127.0.0.1:$OIDC_PORT (pid $oidc_pid; users alice, bob, demo; password: secret)"
fi
# --split: the lazy islands become WASM chunks loaded by the pages that show them.
# --project: the workspace also holds examples/minimal (its own app).
cargo leptos serve --split --project sesame-app
