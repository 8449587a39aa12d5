// `/sign-in`: the app's own page, whose form calls the WASM `sign_in()`.
import { test, expect } from "@playwright/test";
import { hydrated, fillCredentials, sessionOf } from "./helpers";
import { DEMO } from "./servers";

test("right password lands on callbackUrl signed in, in one request to the callback", async ({ page }) => {
  const auth: string[] = [];
  page.on("request", (req) => {
    const path = new URL(req.url()).pathname;
    if (path.startsWith("/api/auth/")) auth.push(`${req.method()} ${path}`);
  });
  await page.goto("/sign-in?callbackUrl=%2Faccount");
  await hydrated(page);
  await fillCredentials(page);
  const callback = page.waitForRequest(
    (req) => req.method() === "POST" && new URL(req.url()).pathname === "/api/auth/callback/credentials",
  );
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  const request = await callback;
  // fetch() from WASM, not a form navigation: the body carries json=true.
  expect(request.postData()).toContain("json=true");
  expect(request.headers()["content-type"]).toContain("application/x-www-form-urlencoded");
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("account-email")).toHaveText(DEMO.email);
  expect((await sessionOf(page)).user.email).toBe(DEMO.email);
  // The page already had the CSRF token and the answer carries the session:
  // one round trip to the auth API for the whole sign-in (NextAuth takes four).
  expect(auth).toEqual(["POST /api/auth/callback/credentials"]);
});

test("wrong password shows the error inline, stays on the page, no session", async ({ page }) => {
  await page.goto("/sign-in?callbackUrl=%2Faccount");
  await hydrated(page);
  await fillCredentials(page, "not the password");
  const response = page.waitForResponse((res) => res.url().endsWith("/api/auth/callback/credentials"));
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  expect((await response).status()).toBe(401);
  const alert = page.getByRole("alert");
  await expect(alert).toHaveText("Sign in failed. Check the details you provided are correct. A new account must confirm its email address first: follow the link we sent.");
  await expect(alert).toBeFocused();
  await expect(page).toHaveURL(/\/sign-in\?callbackUrl=%2Faccount$/);
  expect(await sessionOf(page)).toEqual({});
});
