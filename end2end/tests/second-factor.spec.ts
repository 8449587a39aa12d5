// The second factor in the browser, with JavaScript on and off: a new
// account sets up an authenticator app on /account/security (the QR code
// and key drawn by the server, a code to turn it on, recovery codes shown
// once), then signs in: the password alone makes no session, the code
// finishes it (asked in place by the hydrated form, on the step's page
// without JavaScript). Codes are computed here with Node's crypto.
import { test, expect, Page } from "@playwright/test";
import { createHmac } from "node:crypto";
import { hydrated, sessionOf, mailTo, linkIn } from "./helpers";
import { DEFAULT_URL } from "./servers";

const PASSWORD = "a second-factor passphrase";

/** RFC 6238 (SHA-1, 6 digits, 30 s) of a base32 secret at unix `at`. */
function totp(secret: string, at: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
  const h = createHmac("sha1", key).update(counter).digest();
  const o = h[h.length - 1] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

const now = () => Math.floor(Date.now() / 1000);

/** A new account, confirmed and signed in in `page` (through the API and the emailed link). */
async function newAccount(page: Page, name: string): Promise<string> {
  const email = `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  const csrf = async () => (await (await page.request.get("/api/auth/csrf")).json()).csrfToken;
  const made = await page.request.post("/api/auth/signup/create", {
    form: { email, password: PASSWORD, confirmPassword: PASSWORD, csrfToken: await csrf(), json: "true" },
    headers: { accept: "application/json", origin: DEFAULT_URL },
  });
  expect(made.status()).toBe(200);
  const link = linkIn(await mailTo(email), "/api/auth/verify?token=");
  const token = new URL(link).searchParams.get("token")!;
  const confirmed = await page.request.post("/api/auth/verify/confirm", {
    form: { token, csrfToken: await csrf(), json: "true" },
    headers: { accept: "application/json", origin: DEFAULT_URL },
  });
  expect(confirmed.status()).toBe(200);
  expect((await sessionOf(page)).user.email).toBe(email);
  return email;
}

/** Turns on an authenticator app for the signed-in account of `page`; its secret. */
async function turnOnAuthenticator(page: Page): Promise<string> {
  await page.goto("/account/security");
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  const secret = (await page.locator("[data-totp-secret]").getAttribute("data-totp-secret"))!;
  await page.getByLabel("Code", { exact: true }).fill(totp(secret, now()));
  await page.getByRole("button", { name: "Turn on" }).click();
  await expect(page.getByText("Two-step verification is on.")).toBeVisible();
  return secret;
}

for (const js of [true, false]) {
  test.describe(js ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    test("sets up an authenticator app, then signs in with its code", async ({ page }) => {
      const email = await newAccount(page, js ? "totp-js" : "totp-nojs");
      await page.goto("/account/security");
      if (js) await hydrated(page);
      await expect(page.locator("[data-factor=off]")).toBeVisible();
      await page.getByRole("button", { name: "Set up an authenticator app" }).click();
      await expect(page.locator(".qr svg")).toBeVisible();
      const secret = (await page.locator("[data-totp-secret]").getAttribute("data-totp-secret"))!;
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      await page.getByLabel("Code", { exact: true }).fill(totp(secret, now()));
      // The form is a plain one (JavaScript or not): the codes reach the
      // page in a sealed cookie that the page showing them clears.
      const shownPage = page.waitForResponse((r) => r.url().includes("done=totp-enabled"));
      await page.getByRole("button", { name: "Turn on" }).click();
      await expect(page.getByText("Two-step verification is on.")).toBeVisible();
      // The recovery codes, once.
      await expect(page.locator(".recovery-codes li")).toHaveCount(10);
      const cleared = (await (await shownPage).allHeaders())["set-cookie"] ?? "";
      expect(cleared).toMatch(/(^|\n)sesame\.recovery-codes=; Path=\/; Max-Age=0;/);
      const reloaded = page.waitForRequest((r) => r.isNavigationRequest());
      await page.reload();
      const sent = (await (await reloaded).allHeaders())["cookie"] ?? "";
      expect(sent, "the codes' cookie is gone once shown").not.toContain("sesame.recovery-codes=");
      await expect(page.locator(".recovery-codes")).toHaveCount(0);
      await expect(page.locator("[data-factor=on]")).toBeVisible();

      // Signed out, the password alone makes no session.
      await page.context().clearCookies();
      const wasm: string[] = [];
      page.on("request", (r) => {
        if (r.url().endsWith(".wasm")) wasm.push(r.url());
      });
      await page.goto("/sign-in?callbackUrl=%2Faccount");
      if (js) await hydrated(page);
      const loadedBefore = wasm.length;
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      if (js) {
        // Asked in place by the hydrated form.
        const code = page.getByLabel("Code from your authenticator app (or a recovery code)");
        await expect(code).toBeFocused();
        // The step is its own chunk, fetched only now: the sign-in page's
        // download is the same for those without a second factor.
        expect(wasm.length).toBeGreaterThan(loadedBefore);
        expect(await sessionOf(page)).toEqual({});
        await code.fill("000000" === totp(secret, now() + 30) ? "111111" : "000000");
        await page.getByRole("button", { name: "Verify" }).click();
        await expect(page.locator(".second-factor-form [role=alert]")).toContainText("That code is not right");
        await code.fill(totp(secret, now() + 30));
        await page.getByRole("button", { name: "Verify" }).click();
      } else {
        await expect(page).toHaveURL(/\/api\/auth\/second-factor$/);
        expect(await sessionOf(page)).toEqual({});
        await page.getByLabel("Code", { exact: true }).fill("12345");
        await page.getByRole("button", { name: "Verify" }).click();
        await expect(page.getByRole("alert")).toContainText("That code is not right");
        await page.getByLabel("Code", { exact: true }).fill(totp(secret, now() + 30));
        await page.getByRole("button", { name: "Verify" }).click();
      }
      await expect(page).toHaveURL(/\/account$/);
      expect((await sessionOf(page)).user.email).toBe(email);
    });
  });
}

test("with JavaScript, a pending sign-in that ended starts over in the form, then asks for a code again", async ({ page }) => {
  const email = await newAccount(page, "totp-ended");
  const secret = await turnOnAuthenticator(page);
  await page.context().clearCookies();
  await page.goto("/sign-in?callbackUrl=%2Faccount");
  await hydrated(page);
  const signIn = async () => {
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
  };
  await signIn();
  const code = page.getByLabel("Code from your authenticator app (or a recovery code)");
  await expect(code).toBeFocused();
  await expect(page.locator(".credentials-form")).toBeHidden();
  // The pending sign-in ends (its cookie gone, as after its five minutes).
  await page.context().clearCookies({ name: "sesame.second-factor" });
  await code.fill(totp(secret, now()));
  await page.getByRole("button", { name: "Verify" }).click();
  // The form again, saying why, on the same page; the step hidden.
  const alert = page.locator(".credentials-form [role=alert]");
  await expect(alert).toHaveAttribute("data-error", "SessionRequired");
  await expect(alert).toHaveText("Please sign in to access this page.");
  await expect(code).toBeHidden();
  await expect(page).toHaveURL(/\/sign-in\?callbackUrl=%2Faccount$/);
  expect(await sessionOf(page)).toEqual({});
  // The password again: a new step, empty and focused, and the form's alert cleared.
  await signIn();
  await expect(code).toBeFocused();
  await expect(code).toHaveValue("");
  await expect(page.locator(".second-factor-form [role=alert]")).toBeEmpty();
  await expect(alert).not.toHaveAttribute("data-error");
  await code.fill(totp(secret, now() + 30));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/account$/);
  expect((await sessionOf(page)).user.email).toBe(email);
});
