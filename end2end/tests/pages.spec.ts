// The built-in sign-out and error pages, and the language of the pages.
import { test, expect } from "@playwright/test";
import { hydrated, fillCredentials, sessionOf } from "./helpers";

async function signIn(page: import("@playwright/test").Page) {
  await page.goto("/sign-in?callbackUrl=%2Faccount");
  await hydrated(page);
  await fillCredentials(page);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
}

test("sign-out page signs out with JavaScript", async ({ page }) => {
  await signIn(page);
  await page.goto("/api/auth/signout?callbackUrl=%2F");
  await hydrated(page);
  await expect(page.getByText("Are you sure you want to sign out?")).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByTestId("status")).toHaveText("You are not signed in.");
  expect(await sessionOf(page)).toEqual({});
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("sign-out page signs out", async ({ page }) => {
    await page.goto("/api/auth/signin?callbackUrl=%2Faccount");
    await fillCredentials(page);
    await page.getByRole("button", { name: "Sign in with Credentials" }).click();
    await expect(page).toHaveURL(/\/account$/);
    await page.goto("/api/auth/signout?callbackUrl=%2F");
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/127\.0\.0\.1:3100\/$/);
    await expect(page.getByTestId("status")).toHaveText("You are not signed in.");
    expect(await sessionOf(page)).toEqual({});
  });

  test("protected page redirects to the sign-in page", async ({ page }) => {
    await page.goto("/account");
    await expect(page).toHaveURL(/\/api\/auth\/signin\?callbackUrl=%2Faccount$/);
  });
});

test("error page shows the message with the contract's status", async ({ page }) => {
  const res = await page.goto("/api/auth/error?error=AccessDenied");
  expect(res!.status()).toBe(403);
  await expect(page.getByRole("alert")).toHaveText("You do not have permission to sign in.");
  const config = await page.goto("/api/auth/error?error=Configuration");
  expect(config!.status()).toBe(500);
  // A sign-in error goes back to the sign-in page.
  await page.goto("/api/auth/error?error=CredentialsSignin");
  await expect(page).toHaveURL(/\/api\/auth\/signin\?error=CredentialsSignin$/);
  await expect(page.getByRole("alert")).toHaveText(/Sign in failed/);
});

test.describe("in German", () => {
  test.use({ locale: "de-DE" });

  test("pages follow Accept-Language", async ({ page }) => {
    await page.goto("/api/auth/signin?callbackUrl=%2F");
    await expect(page.locator("html")).toHaveAttribute("lang", "de");
    await hydrated(page);
    await expect(page.getByLabel("Passwort")).toBeVisible();
    await page.getByLabel("E-Mail").fill("demo@example.com");
    await page.getByLabel("Passwort").fill("falsch");
    await page.getByRole("button", { name: "Mit Zugangsdaten anmelden" }).click();
    await expect(page.getByRole("alert")).toHaveText("Anmeldung fehlgeschlagen. Bitte prüfen Sie Ihre Angaben. Ein neues Konto muss zuerst seine E-Mail-Adresse bestätigen: Folgen Sie dem Link, den wir geschickt haben.");
  });

  test("?lang= overrides and sticks", async ({ page }) => {
    await page.goto("/?lang=en");
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await page.goto("/api/auth/signin");
    await expect(page.getByRole("button", { name: "Sign in with Credentials" })).toBeVisible();
  });
});
