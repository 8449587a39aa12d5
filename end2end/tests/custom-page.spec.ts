// With `pages.sign_in` configured, the built-in page hands over to `/sign-in`.
import { test, expect } from "@playwright/test";
import { hydrated, fillCredentials } from "./helpers";
import { CUSTOM_URL, DEMO } from "./servers";

test("the built-in page redirects to pages.sign_in and signing in there returns", async ({ page }) => {
  const response = await page.request.get(`${CUSTOM_URL}/api/auth/signin?callbackUrl=%2Faccount`, {
    maxRedirects: 0,
  });
  expect(response.status()).toBe(302);
  expect(response.headers()["location"]).toBe("/sign-in?callbackUrl=%2Faccount");

  // A signed-out visit to the protected page ends on the configured page.
  await page.goto(`${CUSTOM_URL}/account`);
  await expect(page).toHaveURL(`${CUSTOM_URL}/sign-in?callbackUrl=%2Faccount`);
  await hydrated(page);
  await fillCredentials(page);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(`${CUSTOM_URL}/account`);
  await expect(page.getByTestId("account-email")).toHaveText(DEMO.email);
});
