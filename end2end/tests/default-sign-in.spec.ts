// `/api/auth/signin`: the built-in page, with JavaScript on (hydrated) and off.
import { test, expect } from "@playwright/test";
import { hydrated, fillCredentials, sessionOf } from "./helpers";
import { DEMO } from "./servers";

test.describe("with JavaScript", () => {
  test("right password", async ({ page }) => {
    await page.goto("/api/auth/signin?callbackUrl=%2Faccount");
    await hydrated(page);
    await fillCredentials(page);
    await page.getByRole("button", { name: "Sign in with Credentials" }).click();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId("account-email")).toHaveText(DEMO.email);
    // The app's own user type came through the session (Leptos.toml's admins).
    await expect(page.getByTestId("account-role")).toHaveText("Administrator");
  });

  test("wrong password", async ({ page }) => {
    await page.goto("/api/auth/signin?callbackUrl=%2Faccount");
    await hydrated(page);
    await fillCredentials(page, "wrong");
    await page.getByRole("button", { name: "Sign in with Credentials" }).click();
    await expect(page.getByRole("alert")).toHaveText(/Sign in failed/);
    await expect(page).toHaveURL(/\/api\/auth\/signin\?callbackUrl=%2Faccount$/);
    expect(await sessionOf(page)).toEqual({});
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("right password", async ({ page }) => {
    await page.goto("/api/auth/signin?callbackUrl=%2Faccount");
    await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
    await fillCredentials(page);
    await page.getByRole("button", { name: "Sign in with Credentials" }).click();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId("account-email")).toHaveText(DEMO.email);
    expect((await sessionOf(page)).user.email).toBe(DEMO.email);
  });

  test("wrong password", async ({ page }) => {
    await page.goto("/api/auth/signin?callbackUrl=%2Faccount");
    await fillCredentials(page, "wrong");
    await page.getByRole("button", { name: "Sign in with Credentials" }).click();
    await expect(page).toHaveURL(/\/api\/auth\/signin\?.*error=CredentialsSignin/);
    await expect(page.getByRole("alert")).toHaveText(/Sign in failed/);
    // The way back keeps the callbackUrl.
    await expect(page.locator('form:has(input[name="password"]) input[name="callbackUrl"]')).toHaveValue(/\/account$/);
    expect(await sessionOf(page)).toEqual({});
  });
});
