// The browser side as a deployment serves it: `make release`
// (scripts/release.sh) builds the WASM with its own std, so a panic aborts at
// once and names no file, then wasm-opt -Oz and the split into lazy chunks.
// The rest of the suite runs the debug build; here the same server serves the
// release WASM, so a release-only build setting that broke hydration, the
// sign-in, a lazy island or the split would fail here.
import { test, expect } from "@playwright/test";
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { hydrated, fillCredentials, sessionOf } from "./helpers";
import { DEMO, REPO_ROOT, RELEASE_SITE, startServer, stopServer, freshData } from "./servers";

const PORT = 3104;
const BASE = `http://127.0.0.1:${PORT}`;
const PKG = path.join(REPO_ROOT, RELEASE_SITE, "pkg");

test("the release WASM names no source file: its std was built with the release options", () => {
  const files = fs.readdirSync(PKG).filter((f) => f.endsWith(".wasm"));
  expect(files).toContain("sesame.wasm");
  expect(files.some((f) => f.startsWith("split_"))).toBe(true);
  for (const file of files) {
    const text = fs.readFileSync(path.join(PKG, file)).toString("latin1");
    // Rust's shipped std keeps each panic's `…/src/….rs` (112 in the main
    // module of a plain `cargo leptos build --release`).
    expect(text.match(/\/src\/[\w/-]*\.rs/g) ?? [], file).toEqual([]);
  }
});

test("no release WASM parses JSON with serde_json: island props would ship its parser and number tables", () => {
  // Leptos parses an island's props with serde_json; the browser's own
  // JSON.parse reads the rest. wasm-split keeps every chunk's data in the main
  // module, so one island with props put serde_json's tables (and the float
  // printer its error texts use) into every page's download: 5.2 KiB brotli.
  const files = fs.readdirSync(PKG).filter((f) => f.endsWith(".wasm"));
  expect(files).toContain("sesame.wasm");
  for (const file of files) {
    const text = fs.readFileSync(path.join(PKG, file)).toString("latin1");
    // serde_json's error texts ("EOF while parsing a value", ...).
    expect(text.includes("EOF while parsing"), file).toBe(false);
  }
});

test.describe("the release browser side", () => {
  let server: ChildProcess;
  test.beforeAll(async () => {
    freshData("release");
    server = await startServer(PORT, "release", RELEASE_SITE);
  });
  test.afterAll(async () => {
    await stopServer(server);
  });

  test("signs in through the WASM (wrong password inline, then the right one) and signs out through a lazy island", async ({
    page,
  }) => {
    const wasm = page.waitForResponse((res) => new URL(res.url()).pathname === "/pkg/sesame.wasm");
    await page.goto(`${BASE}/sign-in?callbackUrl=%2F`);
    // The server serves the release module, not the debug build's.
    expect((await (await wasm).body()).length).toBe(fs.statSync(path.join(PKG, "sesame.wasm")).size);
    await hydrated(page);

    await fillCredentials(page, "not the password");
    const refused = page.waitForResponse((res) => res.url().endsWith("/api/auth/callback/credentials"));
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    expect((await refused).status()).toBe(401);
    await expect(page.getByRole("alert")).toHaveText(
      "Sign in failed. Check the details you provided are correct. A new account must confirm its email address first: follow the link we sent.",
    );
    await expect(page).toHaveURL(`${BASE}/sign-in?callbackUrl=%2F`);

    await fillCredentials(page);
    const callback = page.waitForRequest(
      (req) => req.method() === "POST" && new URL(req.url()).pathname === "/api/auth/callback/credentials",
    );
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    // fetch() from the WASM, not the form's own post.
    expect((await callback).postData()).toContain("json=true");
    await expect(page).toHaveURL(`${BASE}/`);
    await expect(page.getByTestId("status")).toHaveText(`Signed in as ${DEMO.email}`);
    expect((await sessionOf(page, BASE)).user.email).toBe(DEMO.email);

    // The home page's sign-out button is a lazy island: once its chunk ran,
    // the click is a fetch() and the page updates in place.
    await hydrated(page);
    const signOut = page.waitForRequest((req) => new URL(req.url()).pathname === "/api/auth/signout");
    await page.getByRole("button", { name: "Sign out" }).click();
    expect((await signOut).resourceType()).toBe("fetch");
    await expect(page.getByTestId("status")).toHaveText("You are not signed in.");
    expect(await sessionOf(page, BASE)).toEqual({});
  });
});
