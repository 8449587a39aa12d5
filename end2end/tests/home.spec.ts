// The home page's Sign in button: sign_in() with no provider.
import { test, expect } from "@playwright/test";
import { hydrated, fillCredentials } from "./helpers";
import { DEMO, DEFAULT_URL } from "./servers";

test("Sign in button goes to the sign-in page and back home signed in", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("status")).toHaveText("You are not signed in.");
  await page.getByRole("link", { name: "Sign in" }).click();
  await expect(page).toHaveURL(
    `${DEFAULT_URL}/api/auth/signin?callbackUrl=${encodeURIComponent(DEFAULT_URL + "/")}`,
  );
  await hydrated(page);
  await fillCredentials(page);
  await page.getByRole("button", { name: "Sign in with Credentials" }).click();
  await expect(page).toHaveURL(`${DEFAULT_URL}/`);
  await expect(page.getByTestId("status")).toHaveText(`Signed in as ${DEMO.email}`);

  // And out again, with the sign-out button.
  await hydrated(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByTestId("status")).toHaveText("You are not signed in.");
});
