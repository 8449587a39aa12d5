// Playwright runs Sesame's browser tests in Debian's Chromium (no browser
// download), against two servers it starts itself from the debug build:
// the default configuration on :3100, one with `pages.sign_in = "/sign-in"`
// on :3101, one whose site is http://localhost:3103 (passkeys), and the minimal example app (examples/minimal) on :3110. Each gets
// a fresh database under target/e2e, and all send account email to an SMTP
// server (aiosmtpd) on :3125 whose Maildir the tests read; their provider
// button signs in at the local OpenID Connect provider on :3130.
import { defineConfig } from "@playwright/test";
import {
  DEFAULT_URL,
  CUSTOM_URL,
  PASSKEY_URL,
  MINIMAL_URL,
  serverEnv,
  minimalEnv,
  SERVER_BIN,
  MINIMAL_BIN,
  MINIMAL_DIR,
  REPO_ROOT,
  SMTP_PORT,
  MAILDIR,
  AIOSMTPD,
  OIDC_PORT,
  OIDC_URL,
  OIDC_DIR,
} from "./tests/servers";

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  // No retries: a test that fails once fails the run (scripts/test.sh still
  // counts "flaky" if a retry is ever set here).
  retries: 0,
  reporter: [["list"], ["json", { outputFile: "test-results/results.json" }]],
  use: {
    baseURL: DEFAULT_URL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      // The OpenID Connect provider the apps' `sesame-dev` button signs in
      // with (Leptos.toml; dev/oidc, npm oidc-provider).
      command: `node server.mjs ${OIDC_PORT}`,
      cwd: OIDC_DIR,
      url: `${OIDC_URL}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      stdout: "ignore",
      stderr: "pipe",
      timeout: 30_000,
    },
    {
      // The SMTP server every app server sends account email to.
      command: `${AIOSMTPD} -n -l 127.0.0.1:${SMTP_PORT} -c aiosmtpd.handlers.Mailbox ${MAILDIR}`,
      port: SMTP_PORT,
      reuseExistingServer: false,
      stdout: "ignore",
      stderr: "pipe",
      timeout: 30_000,
    },
    {
      command: SERVER_BIN,
      cwd: REPO_ROOT,
      url: `${DEFAULT_URL}/api/auth/csrf`,
      env: serverEnv(3100, "default"),
      reuseExistingServer: false,
      stdout: "ignore",
      stderr: "pipe",
      timeout: 60_000,
    },
    {
      // Passkeys: the site is http://localhost:3103 (bound to 127.0.0.1).
      command: SERVER_BIN,
      cwd: REPO_ROOT,
      url: "http://127.0.0.1:3103/api/auth/csrf",
      env: { ...serverEnv(3103, "passkeys"), SESAME_SITE__URL: PASSKEY_URL },
      reuseExistingServer: false,
      stdout: "ignore",
      stderr: "pipe",
      timeout: 60_000,
    },
    {
      command: SERVER_BIN,
      cwd: REPO_ROOT,
      url: `${CUSTOM_URL}/api/auth/csrf`,
      env: {
        ...serverEnv(3101, "custom"),
        SESAME_PAGES__SIGN_IN: "/sign-in",
        // security.spec.ts runs into the lockout with accounts of its own:
        // three free failures, then a wait.
        SESAME_LIMITS__LOCKOUT__FREE_FAILURES: "3",
      },
      reuseExistingServer: false,
      stdout: "ignore",
      stderr: "pipe",
      timeout: 60_000,
    },
      {
      command: MINIMAL_BIN,
      cwd: MINIMAL_DIR,
      url: `${MINIMAL_URL}/api/auth/csrf`,
      env: minimalEnv(3110),
      reuseExistingServer: false,
      stdout: "ignore",
      stderr: "pipe",
      timeout: 60_000,
    },
  ],
});
