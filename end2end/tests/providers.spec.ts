// Sign-in with an OpenID Connect provider in Chromium, against the real
// provider (dev/oidc on :3130, npm oidc-provider): the built-in page's
// button with JavaScript off and on, the app's /sign-in, and the errors
// shown on the sign-in page. Each test signs in a user of its own.
import { test, expect, Page } from "@playwright/test";
import { hydrated, sessionOf } from "./helpers";
import { CUSTOM_URL, DEMO } from "./servers";

/** The provider's login page: its form, as a user fills it. */
async function signInAtProvider(page: Page, login: string): Promise<void> {
  await expect(page).toHaveURL(/127\.0\.0\.1:3130\/interaction\//);
  await page.getByLabel("Login").fill(login);
  await page.getByLabel("Password").fill("secret");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

const BUTTON = { name: "Sign in with Sesame dev provider" };

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the built-in page's button signs in through the provider", async ({ page }) => {
    await page.goto("/api/auth/signin?callbackUrl=%2Faccount");
    await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
    await page.getByRole("button", BUTTON).click();
    await signInAtProvider(page, "carol");
    await expect(page).toHaveURL(/127\.0\.0\.1:3100\/account$/);
    await expect(page.getByTestId("account-email")).toHaveText("carol@example.test");
    expect((await sessionOf(page)).user.email).toBe("carol@example.test");
  });

  test("an address of an existing account is not linked: the page says so", async ({ page }) => {
    await page.goto("/api/auth/signin");
    await page.getByRole("button", BUTTON).click();
    await signInAtProvider(page, "demo");
    await expect(page).toHaveURL(/\/api\/auth\/signin\?.*error=OAuthAccountNotLinked/);
    await expect(page.getByRole("alert")).toHaveText(/sign in with the same account you used originally/);
    expect(await sessionOf(page)).toEqual({});
    expect(DEMO.email).toBe("demo@example.com");
  });
});

test.describe("with JavaScript", () => {
  test("the built-in page's button signs in through the provider", async ({ page }) => {
    await page.goto("/api/auth/signin?callbackUrl=%2Faccount");
    await hydrated(page);
    await page.getByRole("button", BUTTON).click();
    await signInAtProvider(page, "dave");
    await expect(page).toHaveURL(/127\.0\.0\.1:3100\/account$/);
    await expect(page.getByTestId("account-email")).toHaveText("dave@example.test");
  });

  test("the app's /sign-in shows the button and signs in", async ({ page }) => {
    await page.goto(`${CUSTOM_URL}/sign-in?callbackUrl=%2Faccount`);
    await hydrated(page);
    await page.getByRole("button", BUTTON).click();
    await signInAtProvider(page, "erin");
    await expect(page).toHaveURL(/127\.0\.0\.1:3101\/account$/);
    await expect(page.getByTestId("account-email")).toHaveText("erin@example.test");
  });
});
