#!/usr/bin/env bash
# Installs what building and testing Sesame needs, idempotently: each tool is
# checked (and its version compared) before anything is built or downloaded, so a
# second run takes seconds. Usage: scripts/setup.sh [--e2e]
#   --e2e  also Debian's Chromium and the Playwright packages (for the browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
log() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

export PATH="$HOME/.cargo/bin:$PATH"

# OpenSSL's headers and pkg-config: webauthn-rs (passkeys) links the
# system's OpenSSL through openssl-sys.
if ! pkg-config --exists openssl 2>/dev/null; then
  log "installing libssl-dev and pkg-config (webauthn-rs links OpenSSL)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libssl-dev pkg-config >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (no_downloads: it uses the tools on PATH; ~20 min once)"
  cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION" --features no_downloads
fi

# The wasm-bindgen CLI must match the library version in Cargo.lock exactly.
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WBG_VERSION" ]; then
  log "installing wasm-bindgen-cli $WBG_VERSION (~4 min once)"
  # No --locked: its lockfile pins a crate version the registry does not serve.
  cargo install wasm-bindgen-cli --version "$WBG_VERSION"
fi

if [ "${1:-}" = "--e2e" ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    log "installing Debian's Chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  if [ ! -f end2end/node_modules/.package-lock.json ] \
     || ! cmp -s end2end/package-lock.json end2end/node_modules/.sesame-lock; then
    log "installing the Playwright packages (no browser download)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund \
       && cp package-lock.json node_modules/.sesame-lock)
  fi
fi
if [ "${1:-}" = "--e2e" ] || [ "${1:-}" = "--test" ]; then
  # PostgreSQL and Redis from Debian's packages: the scale-out and fault tests
  # start their own servers from these binaries (loopback ports, throw-away
  # data folders), so nothing here starts a service.
  missing=()
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (the scale-out tests' servers)"
    apt-get update -qq
    # A policy-rc.d of our own keeps the packages' services from starting.
    own_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
      own_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    [ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
  fi
  # The SMTP server the tests send mail to (a real one on a loopback port).
  AIOSMTPD_VERSION=1.4.6
  venv=target/tools/venv
  if [ "$("$venv/bin/aiosmtpd" --version 2>/dev/null | awk '{print $2}')" != "$AIOSMTPD_VERSION" ]; then
    log "installing aiosmtpd $AIOSMTPD_VERSION (the tests' SMTP server) into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "aiosmtpd==$AIOSMTPD_VERSION"
  fi
fi
# The local OpenID Connect provider (npm `oidc-provider`, pinned in
# dev/oidc/package-lock.json) that `make run` shows a button for and the
# provider tests sign in with.
if ! command -v npm >/dev/null 2>&1; then
  log "installing Node.js and npm (the local OpenID Connect provider runs on them)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -f dev/oidc/node_modules/.package-lock.json ] \
   || ! cmp -s dev/oidc/package-lock.json dev/oidc/node_modules/.sesame-lock; then
  log "installing the local OpenID Connect provider (dev/oidc)"
  (cd dev/oidc && npm ci --no-audit --no-fund --loglevel=error \
     && cp package-lock.json node_modules/.sesame-lock)
fi
# wasm-opt 116 (binaryen), which cargo-leptos runs on every release build
# (`make release`, `make bench`, and the release WASM that `make test` serves).
# Debian's binaryen (108) makes a module that fails at hydration. A native 116
# on PATH (`cargo install wasm-opt --locked`, ~10 min of C++) is used as is;
# otherwise npm's binaryen 116, the same release compiled to WebAssembly,
# installed in seconds into target/tools/binaryen (scripts/release.sh puts it
# on PATH).
BINARYEN_VERSION=116
binaryen=target/tools/binaryen
if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION " \
   && ! "$binaryen/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION "; then
  log "installing wasm-opt $BINARYEN_VERSION (npm binaryen@$BINARYEN_VERSION.0.0) into $binaryen"
  mkdir -p "$binaryen"
  npm install --prefix "$binaryen" --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION.0.0"
fi
log "tools ready"
