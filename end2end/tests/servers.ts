// Where the servers under test live, and how to start one.
import path from "node:path";
import fs from "node:fs";
import { spawn, ChildProcess } from "node:child_process";

export const REPO_ROOT = path.resolve(__dirname, "../..");
export const SERVER_BIN = path.join(REPO_ROOT, "target/debug/sesame");
export const DEFAULT_URL = "http://127.0.0.1:3100";
export const CUSTOM_URL = "http://127.0.0.1:3101";
/** A server whose site is `localhost` (WebAuthn refuses an IP address as
 * the relying party): the passkey tests. */
export const PASSKEY_URL = "http://localhost:3103";
/** examples/minimal: a second app on the library's public API. */
export const MINIMAL_URL = "http://127.0.0.1:3110";
export const MINIMAL_BIN = path.join(REPO_ROOT, "target/debug/sesame-minimal");
export const MINIMAL_DIR = path.join(REPO_ROOT, "examples/minimal");
export const DEMO = { email: "demo@example.com", password: "open sesame, demo" };
/** The local OpenID Connect provider (dev/oidc), as Leptos.toml names it. */
export const OIDC_PORT = 3130;
export const OIDC_URL = `http://127.0.0.1:${OIDC_PORT}`;
export const OIDC_DIR = path.join(REPO_ROOT, "dev/oidc");
/** The suite's SMTP server and the Maildir it writes. */
export const SMTP_PORT = 3125;
export const MAILDIR = path.join(REPO_ROOT, "target/e2e-mail");
export const AIOSMTPD = path.join(REPO_ROOT, "target/tools/venv/bin/aiosmtpd");

/** The environment of an app on `port`: its site root, a data folder `name`
 * with its database `db`, and limits the suite's many sign-ins fit in. */
function appEnv(port: number, siteRoot: string, name: string, db: string): Record<string, string> {
  const data = path.join(REPO_ROOT, "target/e2e", name);
  return {
    ...(process.env as Record<string, string>),
    RUST_LOG: "warn",
    LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    LEPTOS_SITE_ROOT: path.join(REPO_ROOT, siteRoot),
    SESAME_SITE__URL: `http://127.0.0.1:${port}`,
    SESAME_SECRET_FILE: path.join(data, "dev-secret"),
    SESAME_DATABASE__URL: `sqlite://${data}/${db}`,
    // The suite signs the demo user in many times a minute from one address.
    SESAME_LIMITS__SIGN_IN_PER_IP: "10000/1min",
    // Account email goes to the suite's SMTP server (aiosmtpd, started by
    // playwright.config.ts), whose Maildir the tests read.
    SESAME_EMAIL__SMTP__HOST: "127.0.0.1",
    SESAME_EMAIL__SMTP__PORT: String(SMTP_PORT),
    SESAME_EMAIL__SMTP__SECURITY: "none",
  };
}

/** The browser side of `make release` (scripts/release.sh), which
 * scripts/test.sh builds before the debug site and moves here. */
export const RELEASE_SITE = "target/release-site";

/** The environment of a server on `port` with its own data folder `name`,
 * serving the browser side in `siteRoot` (the debug build's by default). */
export function serverEnv(port: number, name: string, siteRoot = "target/site"): Record<string, string> {
  return {
    ...appEnv(port, siteRoot, name, "sesame.db"),
    SESAME_LIMITS__LOCKOUT__FREE_FAILURES: "99",
  };
}

/** The environment of the minimal example on `port`, with its own data folder. */
export function minimalEnv(port: number): Record<string, string> {
  return appEnv(port, "target/minimal-site", "minimal", "minimal.db");
}

/** Starts a server and resolves once it answers; for tests that stop and restart one. */
export async function startServer(port: number, name: string, siteRoot?: string): Promise<ChildProcess> {
  const child = spawn(SERVER_BIN, [], { cwd: REPO_ROOT, env: serverEnv(port, name, siteRoot), stdio: "ignore" });
  const url = `http://127.0.0.1:${port}/api/auth/csrf`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return child;
    } catch {
      // not listening yet: poll again until the deadline
    }
    if (Date.now() > deadline) throw new Error(`server on ${port} did not answer`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops a server started by `startServer` and waits for it to exit. */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** Removes a data folder so a server starts from an empty database. */
export function freshData(name: string): void {
  fs.rmSync(path.join(REPO_ROOT, "target/e2e", name), { recursive: true, force: true });
}
