// A regression guard on what the browser downloads: the app's WASM (the
// debug build these tests serve, main module and lazy chunks) compiles in no
// server-only crate. A debug build keeps the source path of every panic
// location, so a crate linked into the module leaves its
// `registry/src/<index>/<name>-<version>/` path in it; the same scan finds
// the browser crates that belong there (the check that it can see a crate).
import { test, expect } from "@playwright/test";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "./servers";

/** Crates of the server (feature `ssr`) that must never reach the browser. */
const SERVER_ONLY = [
  "sqlx-core",
  "sqlx-sqlite",
  "sqlx-postgres",
  "rusqlite",
  "libsqlite3-sys",
  "argon2",
  "password-hash",
  "lettre",
  "redis",
  "tokio",
  "hyper",
  "axum",
  "tower-sessions",
  "tower-http",
  "moka",
  "governor",
  "webauthn-rs",
  "webauthn-rs-core",
  "openidconnect",
  "oauth2",
  "totp-rs",
  "zxcvbn",
  "ring",
  "chacha20poly1305",
  "figment",
  "qrcode",
  "reqwest",
];

/** The crates whose source paths appear in the site's WASM files. */
function cratesIn(dir: string): Set<string> {
  const found = new Set<string>();
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".wasm"));
  expect(files.length, `WASM files in ${dir}`).toBeGreaterThan(0);
  for (const file of files) {
    const text = fs.readFileSync(path.join(dir, file)).toString("latin1");
    for (const m of text.matchAll(/registry\/src\/[^/]+\/([A-Za-z0-9_-]+)-\d+\.\d+\.\d+[^/]*\//g)) {
      found.add(m[1]);
    }
  }
  return found;
}

for (const [app, site] of [
  ["the app", "target/site/pkg"],
  ["examples/minimal", "target/minimal-site/pkg"],
]) {
  test(`${app}: the WASM holds no server-only crate`, () => {
    const crates = cratesIn(path.join(REPO_ROOT, site));
    // The scan sees what is there.
    expect(crates.has("leptos")).toBe(true);
    expect(crates.has("wasm-bindgen")).toBe(true);
    const server = SERVER_ONLY.filter((c) => crates.has(c));
    expect(server, "server-only crates compiled into the WASM").toEqual([]);
  });
}
