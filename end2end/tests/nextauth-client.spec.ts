// Wire compatibility: the official next-auth v4 browser client (next-auth/react,
// from npm, bundled with esbuild) runs unchanged against Sesame's server.
import { test, expect } from "@playwright/test";
import path from "node:path";
import { buildSync } from "esbuild";
import { DEFAULT_URL, DEMO } from "./servers";

declare global {
  interface Window {
    NextAuth: any;
  }
}

let bundle = "";
test.beforeAll(() => {
  const out = buildSync({
    entryPoints: [path.join(__dirname, "../nextauth/entry.js")],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    // next-auth/react reads its base URL from process.env.NEXTAUTH_URL.
    banner: {
      js: `var process = { env: { NODE_ENV: "production", NEXTAUTH_URL: "${DEFAULT_URL}/api/auth" } };`,
    },
  });
  bundle = out.outputFiles[0].text;
});

test("signIn, getSession, getCsrfToken, getProviders, signOut work unchanged", async ({ page }) => {
  // Served from the site itself, as an app's bundle would be (the page's CSP
  // allows same-origin scripts only).
  await page.route("**/nextauth-client.js", (route) =>
    route.fulfill({ body: bundle, contentType: "application/javascript" }),
  );
  await page.goto("/");
  await page.addScriptTag({ url: "/nextauth-client.js" });

  const providers = await page.evaluate(() => window.NextAuth.getProviders());
  expect(providers.credentials).toMatchObject({ id: "credentials", type: "credentials" });

  const token = await page.evaluate(() => window.NextAuth.getCsrfToken());
  expect(token).toMatch(/^[0-9a-f]{64}$/);

  const wrong = await page.evaluate(
    (email) => window.NextAuth.signIn("credentials", { email, password: "wrong", redirect: false }),
    DEMO.email,
  );
  expect(wrong).toEqual({ error: "CredentialsSignin", status: 401, ok: false, url: null });
  expect(await page.evaluate(() => window.NextAuth.getSession())).toBeNull();

  const right = await page.evaluate(
    ({ email, password }) => window.NextAuth.signIn("credentials", { email, password, redirect: false }),
    DEMO,
  );
  expect(right).toEqual({ error: null, status: 200, ok: true, url: `${DEFAULT_URL}/` });

  const session = await page.evaluate(() => window.NextAuth.getSession());
  expect(session.user).toEqual({ name: "Demo User", email: DEMO.email, image: null });
  expect(new Date(session.expires).getTime()).toBeGreaterThan(Date.now());

  // Sesame rotates the CSRF token at sign-in (the pre-sign-in one is dead)...
  const signedInToken = await page.evaluate(() => window.NextAuth.getCsrfToken());
  expect(signedInToken).toMatch(/^[0-9a-f]{64}$/);
  expect(signedInToken).not.toBe(token);

  // ...and at sign-out, whose answer carries the new one beside `url`.
  const out = await page.evaluate(() => window.NextAuth.signOut({ redirect: false }));
  expect(out).toEqual({ url: `${DEFAULT_URL}/`, csrfToken: expect.stringMatching(/^[0-9a-f]{64}$/) });
  expect(out.csrfToken).not.toBe(signedInToken);
  expect(await page.evaluate(() => window.NextAuth.getSession())).toBeNull();
});

test("signIn(provider) of next-auth/react goes through the OpenID Connect provider unchanged", async ({ page }) => {
  await page.route("**/nextauth-client.js", (route) =>
    route.fulfill({ body: bundle, contentType: "application/javascript" }),
  );
  await page.goto("/");
  await page.addScriptTag({ url: "/nextauth-client.js" });
  const providers = await page.evaluate(() => window.NextAuth.getProviders());
  expect(providers["sesame-dev"]).toMatchObject({
    id: "sesame-dev",
    signinUrl: `${DEFAULT_URL}/api/auth/signin/sesame-dev`,
    callbackUrl: `${DEFAULT_URL}/api/auth/callback/sesame-dev`,
  });
  // It fetches /providers and /csrf, posts to /signin/sesame-dev with
  // json=true and navigates to the answer's url: the provider.
  await page.evaluate(() => {
    window.NextAuth.signIn("sesame-dev", { callbackUrl: "/account" });
  });
  await expect(page).toHaveURL(/127\.0\.0\.1:3130\/interaction\//);
  await page.getByLabel("Login").fill("ivan");
  await page.getByLabel("Password").fill("secret");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(`${DEFAULT_URL}/account`);
  await expect(page.getByTestId("account-email")).toHaveText("ivan@example.test");
});

test("signIn(\"email\") of next-auth/react asks for a sign-in link unchanged", async ({ page }) => {
  await page.route("**/nextauth-client.js", (route) =>
    route.fulfill({ body: bundle, contentType: "application/javascript" }),
  );
  await page.goto("/");
  await page.addScriptTag({ url: "/nextauth-client.js" });
  const answer = await page.evaluate(
    (email) => window.NextAuth.signIn("email", { email, redirect: false }),
    "nobody-here@example.com",
  );
  expect(answer).toEqual({
    error: null,
    status: 200,
    ok: true,
    url: `${DEFAULT_URL}/api/auth/verify-request?provider=email&type=email`,
  });
});
