// Safe by default, in the browser: the CSP lets the app hydrate with no
// violation, rate limits show on the page, and "remember me" decides the cookie.
import { test, expect, Page } from "@playwright/test";
import { hydrated, fillCredentials } from "./helpers";
import { CUSTOM_URL, DEMO } from "./servers";

function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on("console", (msg) => {
    if (msg.text().includes("Content Security Policy")) seen.push(msg.text());
  });
  return seen;
}

for (const path of ["/", "/sign-in", "/api/auth/signin", "/api/auth/signout", "/api/auth/error"]) {
  test(`${path} hydrates under the CSP without a violation`, async ({ page }) => {
    const violations = cspViolations(page);
    const res = await page.goto(path);
    expect(res!.headers()["content-security-policy"]).toContain("'nonce-");
    await hydrated(page);
    expect(violations).toEqual([]);
  });
}

test("a framed sign-in page is refused by the browser", async ({ page }) => {
  const res = await page.goto("/sign-in");
  expect(res!.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(res!.headers()["x-frame-options"]).toBe("DENY");
});

async function tryWrong(page: Page, email: string) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

test("past the free failures the page says so (with JavaScript)", async ({ page }) => {
  await page.goto(`${CUSTOM_URL}/sign-in`);
  await hydrated(page);
  for (let i = 0; i < 3; i++) {
    const res = page.waitForResponse((r) => r.url().endsWith("/api/auth/callback/credentials"));
    await tryWrong(page, "limited-js@example.com");
    expect((await res).status()).toBe(401);
    // The answer is on the page (the form empties the password once it has
    // read the body, which may come after the headers): filling in before
    // that would have the form clear the new password, and the browser
    // would refuse to submit an empty required field.
    await expect(page.getByRole("alert")).toHaveAttribute("data-error", "CredentialsSignin");
    await expect(page.getByLabel("Password")).toHaveValue("");
  }
  const res = page.waitForResponse((r) => r.url().endsWith("/api/auth/callback/credentials"));
  await tryWrong(page, "limited-js@example.com");
  const limited = await res;
  expect(limited.status()).toBe(429);
  expect(Number(limited.headers()["retry-after"])).toBeGreaterThan(0);
  await expect(page.getByRole("alert")).toHaveText("Too many attempts. Please wait a moment and try again.");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("past the free failures the page says so", async ({ page }) => {
    await page.goto(`${CUSTOM_URL}/sign-in`);
    for (let i = 0; i < 3; i++) {
      await tryWrong(page, "limited-nojs@example.com");
      await expect(page).toHaveURL(/error=CredentialsSignin/);
    }
    await tryWrong(page, "limited-nojs@example.com");
    await expect(page).toHaveURL(/error=RateLimited/);
    await expect(page.getByRole("alert")).toHaveText(/Too many attempts/);
  });

  test("remember me gives a persistent cookie, otherwise a browser-session one", async ({ page, context }) => {
    await page.goto("/api/auth/signin?callbackUrl=%2Faccount");
    await fillCredentials(page);
    await page.getByRole("button", { name: "Sign in with Credentials" }).click();
    await expect(page).toHaveURL(/\/account$/);
    let cookie = (await context.cookies()).find((c) => c.name === "sesame.session-token")!;
    expect(cookie.expires).toBe(-1);
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe("Lax");

    await context.clearCookies();
    await page.goto("/api/auth/signin?callbackUrl=%2Faccount");
    await fillCredentials(page);
    await page.getByLabel("Remember me").check();
    await page.getByRole("button", { name: "Sign in with Credentials" }).click();
    await expect(page).toHaveURL(/\/account$/);
    cookie = (await context.cookies()).find((c) => c.name === "sesame.session-token")!;
    expect(cookie.expires * 1000).toBeGreaterThan(Date.now() + 24 * 3600 * 1000);
    await expect(page.getByTestId("account-email")).toHaveText(DEMO.email);
  });
});

test("remember me with JavaScript", async ({ page, context }) => {
  await page.goto("/sign-in?callbackUrl=%2Faccount");
  await hydrated(page);
  await fillCredentials(page);
  await page.getByLabel("Remember me").check();
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByTestId("account-email")).toHaveText(DEMO.email);
  const cookie = (await context.cookies()).find((c) => c.name === "sesame.session-token")!;
  expect(cookie.expires * 1000).toBeGreaterThan(Date.now() + 24 * 3600 * 1000);
});
