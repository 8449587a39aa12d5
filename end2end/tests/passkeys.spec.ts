// Passkeys in Chromium with the DevTools Protocol's virtual authenticator
// (ctap2, internal transport, resident keys, user verification), on the
// server whose site is http://localhost:3103 (WebAuthn refuses an IP
// address as the relying party): a passkey registered on /account/security,
// its rename, a sign-in with it (no username first: both factors at once),
// the passkey as the second factor after a password, and its removal. Without
// JavaScript the pages say a passkey needs it and offer the other ways.
import { test, expect, Page, CDPSession } from "@playwright/test";
import { hydrated, sessionOf, mailTo, linkIn } from "./helpers";
import { PASSKEY_URL } from "./servers";

const PASSWORD = "a passkey account passphrase";

test.use({ baseURL: PASSKEY_URL });

/** A browser without conditional mediation (autofill): the button is the way. */
async function withoutAutofill(page: Page): Promise<void> {
  await page.addInitScript(() => {
    (window as any).PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
}

async function authenticator(page: Page): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, id: authenticatorId };
}

/** A new account, confirmed and signed in in `page`. */
async function newAccount(page: Page): Promise<string> {
  const email = `passkey-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  const headers = { accept: "application/json", origin: PASSKEY_URL };
  const csrf = async () => (await (await page.request.get("/api/auth/csrf")).json()).csrfToken;
  const made = await page.request.post("/api/auth/signup/create", {
    form: { email, password: PASSWORD, confirmPassword: PASSWORD, csrfToken: await csrf(), json: "true" },
    headers,
  });
  expect(made.status()).toBe(200);
  const token = new URL(linkIn(await mailTo(email), "/api/auth/verify?token=")).searchParams.get("token")!;
  const confirmed = await page.request.post("/api/auth/verify/confirm", {
    form: { token, csrfToken: await csrf(), json: "true" },
    headers,
  });
  expect(confirmed.status()).toBe(200);
  return email;
}

async function amr(page: Page): Promise<string[]> {
  const res = await page.request.get("/api/auth/account/security", { headers: { accept: "application/json" } });
  expect(res.status()).toBe(200);
  return (await res.json())[0].amr;
}

test("a passkey is registered, signs in alone, serves as the second factor, and is removed", async ({ page }) => {
  await withoutAutofill(page);
  const { cdp, id } = await authenticator(page);
  const email = await newAccount(page);

  await page.goto("/account/security");
  await hydrated(page);
  const form = page.locator("form[data-passkey-register]");
  await expect(form).toBeVisible();
  await form.getByLabel("Name").fill("Laptop");
  await form.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page).toHaveURL(/done=passkey-added/);
  await expect(page.locator('[data-passkey="Laptop"]')).toBeVisible();
  // Renamed (a plain form).
  const item = page.locator('[data-passkey="Laptop"]');
  await item.getByLabel("Name").fill("Work laptop");
  await item.getByRole("button", { name: "Rename" }).click();
  await expect(page).toHaveURL(/done=passkey-renamed/);
  await expect(page.locator('[data-passkey="Work laptop"]')).toBeVisible();
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId: id });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential).toBe(true);

  // Signed out: the passkey alone signs in, no username first.
  await page.context().clearCookies();
  await page.goto("/api/auth/signin?callbackUrl=%2Faccount");
  await hydrated(page);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page).toHaveURL(/\/account$/);
  expect((await sessionOf(page)).user.email).toBe(email);
  expect(await amr(page)).toEqual(["hwk"]);
  // The sign counter moved and was kept.
  const after = await cdp.send("WebAuthn.getCredentials", { authenticatorId: id });
  expect(after.credentials[0].signCount).toBeGreaterThan(0);

  // The password now asks for a second factor: the passkey gives it.
  await page.context().clearCookies();
  await page.goto("/api/auth/signin?callbackUrl=%2Faccount");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in with Credentials" }).click();
  await page.getByRole("link", { name: "Use a passkey or another way" }).click();
  await expect(page).toHaveURL(/\/api\/auth\/second-factor$/);
  expect(await sessionOf(page)).toEqual({});
  await page.getByRole("button", { name: "Use a passkey" }).click();
  await expect(page).toHaveURL(/\/account$/);
  expect(await amr(page)).toEqual(["pwd", "hwk"]);

  // Removed (the session's second factor is recent: no code asked).
  await page.goto("/account/security");
  await page.locator('[data-passkey="Work laptop"]').getByRole("button", { name: "Remove" }).click();
  await expect(page).toHaveURL(/done=passkey-removed/);
  await expect(page.locator("[data-passkey]")).toHaveCount(0);
  // And no longer signs in.
  await page.context().clearCookies();
  await page.goto("/api/auth/signin");
  await hydrated(page);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page.locator("[data-passkey-status]").first()).toHaveAttribute("data-error", "PasskeyRefused");
  expect(await sessionOf(page)).toEqual({});
});

test("the email field offers the passkey in its autofill (conditional mediation)", async ({ page }) => {
  await authenticator(page);
  const email = await newAccount(page);
  await page.goto("/account/security");
  await hydrated(page);
  await page.locator("form[data-passkey-register]").getByRole("button", { name: "Add a passkey" }).click();
  await expect(page).toHaveURL(/done=passkey-added/);
  await page.context().clearCookies();
  // A conditional request waits for the user to pick the passkey from the
  // email field's autofill; the virtual authenticator picks it at once, so
  // the page signs in without a click.
  const verified = page.waitForResponse((r) => r.url().endsWith("/api/auth/passkey/authenticate/verify"));
  await page.goto("/sign-in?callbackUrl=%2Faccount");
  expect((await verified).status()).toBe(200);
  await expect(page).toHaveURL(/\/account$/);
  expect((await sessionOf(page)).user.email).toBe(email);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the sign-in and step pages say a passkey needs JavaScript", async ({ page }) => {
    for (const path of ["/api/auth/signin", "/sign-in", "/api/auth/second-factor"]) {
      await page.goto(path);
      await expect(page.getByText("A passkey needs JavaScript")).toBeVisible();
      await expect(page.locator("[data-passkey-sign-in], [data-passkey-second-factor]")).toBeHidden();
    }
  });
});
