// examples/minimal: a second app that adds Sesame through its public API only.
// Its sign-in island and server function come from the library crate: with
// JavaScript they hydrate (the library's marker) and a failure shows inline;
// without, the same pages work as plain forms.
import { test, expect, Page } from "@playwright/test";
import { hydrated, fillCredentials, sessionOf } from "./helpers";
import { DEMO, MINIMAL_URL } from "./servers";

test.use({ baseURL: MINIMAL_URL });

async function signInAndOut(page: Page, js: boolean): Promise<void> {
  await page.goto("/");
  await page.getByRole("link", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/api\/auth\/signin$/);
  if (js) await hydrated(page);
  await fillCredentials(page);
  await page.getByRole("button", { name: "Sign in with Credentials" }).click();
  await expect(page).toHaveURL(`${MINIMAL_URL}/`);
  await expect(page.locator("#who")).toHaveText(DEMO.email);
  expect((await sessionOf(page)).user.email).toBe(DEMO.email);
  if (js) await hydrated(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
  await expect(page.locator("#who")).toHaveCount(0);
  expect(await sessionOf(page)).toEqual({});
}

test.describe("with JavaScript", () => {
  test("signs in and out", async ({ page }) => {
    await signInAndOut(page, true);
  });

  test("a wrong password shows inline: the library's island and server function run", async ({ page }) => {
    await page.goto("/api/auth/signin");
    await hydrated(page);
    await fillCredentials(page, "wrong password");
    await page.getByRole("button", { name: "Sign in with Credentials" }).click();
    await expect(page.getByRole("alert")).toHaveText(/Sign in failed/);
    // Answered in place by the island (a plain form post would add ?error=).
    await expect(page).toHaveURL(`${MINIMAL_URL}/api/auth/signin`);
    expect(await sessionOf(page)).toEqual({});
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("signs in and out", async ({ page }) => {
    await signInAndOut(page, false);
    await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
  });

  test("a wrong password comes back with the error", async ({ page }) => {
    await page.goto("/api/auth/signin");
    await fillCredentials(page, "wrong password");
    await page.getByRole("button", { name: "Sign in with Credentials" }).click();
    await expect(page).toHaveURL(/\/api\/auth\/signin\?.*error=CredentialsSignin/);
    await expect(page.getByRole("alert")).toHaveText(/Sign in failed/);
  });
});
