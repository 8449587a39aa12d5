// Sign-in with an OpenID Connect provider in Chromium, against the real
// provider (dev/oidc on :3130, npm oidc-provider): the built-in page's
// button with JavaScript off and on, the app's /sign-in, and the errors
// shown on the sign-in page. Each test signs in a user of its own.
import { test, expect, Page } from "@playwright/test";
import { hydrated, sessionOf, mailTo, linkIn } from "./helpers";
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
    // The credentials form's listener takes the button's submit: sign_in()
    // posts with fetch (json=true), then goes to the provider.
    const posted = page.waitForRequest(
      (r) => r.url().endsWith("/api/auth/signin/sesame-dev") && (r.postData() ?? "").includes("json=true"),
    );
    await page.getByRole("button", BUTTON).click();
    expect((await posted).postData()).toContain("callbackUrl=%2Faccount");
    await signInAtProvider(page, "dave");
    await expect(page).toHaveURL(/127\.0\.0\.1:3100\/account$/);
    await expect(page.getByTestId("account-email")).toHaveText("dave@example.test");
  });

  test("the app's /sign-in signs in through sign_in() in WASM", async ({ page }) => {
    await page.goto(`${CUSTOM_URL}/sign-in?callbackUrl=%2Faccount`);
    await hydrated(page);
    // The credentials form's listener posts with fetch (json=true), then navigates.
    const posted = page.waitForRequest(
      (r) => r.url().endsWith("/api/auth/signin/sesame-dev") && (r.postData() ?? "").includes("json=true"),
    );
    await page.getByRole("button", BUTTON).click();
    await posted;
    await signInAtProvider(page, "erin");
    await expect(page).toHaveURL(/127\.0\.0\.1:3101\/account$/);
    await expect(page.getByTestId("account-email")).toHaveText("erin@example.test");
  });
});

test("a signed-in user connects a provider account, then disconnects it", async ({ page }) => {
  // A user of its own (signed up by the provider), so no other test sees it.
  await page.goto("/api/auth/signin?callbackUrl=%2Faccount%2Fconnections");
  await page.getByRole("button", BUTTON).click();
  await signInAtProvider(page, "grace");
  await expect(page).toHaveURL(/\/account\/connections$/);
  // Its only way in cannot go.
  const item = page.locator('.connections li[data-provider="sesame-dev"]');
  await expect(item).toContainText("grace@example.test");
  await item.getByRole("button", { name: "Disconnect" }).click();
  await expect(page).toHaveURL(/error=LastSignInMethod/);
  await expect(page.getByRole("alert")).toHaveText(/only way to sign in/);
  await expect(item).toBeVisible();
  // Connecting the same provider account again is a no-op that succeeds.
  await page.getByRole("button", { name: "Connect Sesame dev provider" }).click();
  await expect(page).toHaveURL(/\/account\/connections\?done=connected$/);
  await expect(page.getByRole("status")).toHaveText("The account is connected.");
  expect((await sessionOf(page)).user.email).toBe("grace@example.test");
});

test("a password user connects a provider account and disconnects it (JavaScript off)", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/api/auth/signin?callbackUrl=%2Faccount%2Fconnections");
  await page.getByLabel("Email").fill(DEMO.email);
  await page.getByLabel("Password").fill(DEMO.password);
  await page.getByRole("button", { name: "Sign in with Credentials" }).click();
  await expect(page).toHaveURL(/\/account\/connections$/);
  await page.getByRole("button", { name: "Connect Sesame dev provider" }).click();
  await signInAtProvider(page, "heidi");
  await expect(page).toHaveURL(/\/account\/connections\?done=connected$/);
  const item = page.locator('.connections li[data-provider="sesame-dev"]', { hasText: "heidi@example.test" });
  await expect(item).toBeVisible();
  await item.getByRole("button", { name: "Disconnect" }).click();
  await expect(page).toHaveURL(/\/account\/connections\?done=disconnected$/);
  await expect(page.getByRole("status")).toHaveText("The account is disconnected.");
  await expect(item).toHaveCount(0);
  await context.close();
});

test.describe("the email provider, without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("a sign-in link by email signs in through its page's button", async ({ page }) => {
    await page.goto("/api/auth/signin?callbackUrl=%2Faccount");
    await page.getByLabel("Address for a sign-in link").fill(DEMO.email);
    await page.getByRole("button", { name: "Email me a sign-in link" }).click();
    await expect(page).toHaveURL(/\/api\/auth\/verify-request\?provider=email&type=email$/);
    await expect(page.getByRole("status")).toHaveText(/sign-in link has been sent/);
    const link = linkIn(await mailTo(DEMO.email, "Subject: Sign in"), "/api/auth/callback/email?token=");
    await page.goto(link);
    // The link's page: nobody is signed in until its button is pressed.
    await expect(page).toHaveURL(/\/api\/auth\/verify-request\?token=/);
    expect(await sessionOf(page)).toEqual({});
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page).toHaveURL(/127\.0\.0\.1:3100\/account$/);
    await expect(page.getByTestId("account-email")).toHaveText(DEMO.email);
  });
});
