// Accessibility: an axe-core scan of every auth page, in both color schemes,
// with and without an error shown.
import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { hydrated, fillCredentials } from "./helpers";

const PAGES = [
  "/sign-in",
  "/sign-in?error=CredentialsSignin",
  "/api/auth/signin",
  "/api/auth/signin?error=SessionRequired",
  "/api/auth/signout",
  "/api/auth/error?error=AccessDenied",
  "/api/auth/error?error=Configuration",
  "/api/auth/signup",
  "/api/auth/signup?error=PasswordMismatch",
  "/sign-up",
  "/api/auth/reset",
  "/api/auth/reset?token=not-a-real-token&error=WeakPassword",
  "/api/auth/verify",
  "/api/auth/verify?token=not-a-real-token",
  "/api/auth/second-factor",
  "/api/auth/second-factor?error=InvalidCode",
  "/",
];

for (const scheme of ["light", "dark"] as const) {
  test.describe(`${scheme} color scheme`, () => {
    test.use({ colorScheme: scheme });
    for (const path of PAGES) {
      test(`axe finds no violations on ${path}`, async ({ page }) => {
        await page.goto(path);
        await hydrated(page);
        const results = await new AxeBuilder({ page }).analyze();
        expect(results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
      });
    }
  });
}

test("the form's fields are labelled and autocomplete-ready, and the error takes focus", async ({ page }) => {
  await page.goto("/sign-in");
  await hydrated(page);
  const email = page.getByLabel("Email");
  await expect(email).toHaveAttribute("type", "email");
  // `webauthn`: the browser may offer passkeys in its autofill (conditional mediation).
  await expect(email).toHaveAttribute("autocomplete", "username webauthn");
  await expect(page.getByLabel("Password")).toHaveAttribute("autocomplete", "current-password");
  await fillCredentials(page, "wrong");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert")).toBeFocused();
  const results = await new AxeBuilder({ page }).analyze();
  expect(results.violations.map((v) => v.id)).toEqual([]);
});
