// The account pages: the sessions list and the change-password form, with
// JavaScript on and off, and what a second browser sees afterwards. Each test
// has its own user, added with the admin CLI to the server's database.
import { test, expect, Browser, Page } from "@playwright/test";
import { spawnSync } from "node:child_process";
import { hydrated, sessionOf, mailTo, linkIn } from "./helpers";
import { REPO_ROOT, SERVER_BIN, serverEnv } from "./servers";

const PASSWORD = "account tests passphrase";
const NEW_PASSWORD = "another account passphrase";

/** A new user of the default server (the CLI on its database). */
function addUser(name: string): string {
  const email = `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  const out = spawnSync(SERVER_BIN, ["user", "add", "--email", email, "--json"], {
    cwd: REPO_ROOT,
    env: { ...serverEnv(3100, "default"), SESAME_NEW_PASSWORD: PASSWORD, RUST_LOG: "error" },
    encoding: "utf8",
  });
  expect(out.status, out.stderr).toBe(0);
  expect(JSON.parse(out.stdout).email).toBe(email);
  return email;
}

/** Signs `email` in on the built-in page (a plain form post, JS on or off). */
async function signIn(page: Page, email: string, password = PASSWORD, to = "/account"): Promise<void> {
  await page.goto(`/api/auth/signin?callbackUrl=${encodeURIComponent(to)}`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in with Credentials" }).click();
  await expect(page).toHaveURL(new RegExp(`${to.replace(/\//g, "\\/")}$`));
}

/** A second browser (its own cookies) signed in as `email`. */
async function elsewhere(browser: Browser, email: string): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, email);
  return page;
}

/** The second browser finds itself signed out: no session, and /account sends it to sign in. */
async function expectSignedOut(page: Page): Promise<void> {
  expect(await sessionOf(page)).toEqual({});
  await page.goto("/account");
  await expect(page).toHaveURL(/\/api\/auth\/signin\?callbackUrl=%2Faccount$/);
}

for (const js of [true, false]) {
  test.describe(js ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    test("the sessions page signs another browser out", async ({ page, browser }) => {
      const email = addUser("sessions");
      const other = await elsewhere(browser, email);
      await signIn(page, email, PASSWORD, "/account/sessions");
      if (js) await hydrated(page);
      const rows = page.getByTestId("session");
      await expect(rows).toHaveCount(2);
      await expect(rows.first()).toHaveAttribute("data-current", "true");
      await expect(rows.first()).toContainText("This browser");
      await expect(rows.first()).toContainText("Chrom");

      await rows.nth(1).getByRole("button", { name: "Sign out this session" }).click();
      await expect(page.getByTestId("sessions-status")).toHaveText("That session is signed out.");
      await expect(rows).toHaveCount(1);
      // The list as read again (in the browser: the answer of list_sessions).
      await expect(rows.first()).toHaveAttribute("data-current", "true");
      await expect(rows.first()).toContainText("This browser");
      await expect(rows.first()).toContainText("Chrom");
      await expect(page).toHaveURL(js ? /\/account\/sessions$/ : /\/account\/sessions\?done=session-ended$/);
      await expectSignedOut(other);
      expect((await sessionOf(page)).user.email).toBe(email);
      await other.context().close();
    });

    test("signing out everywhere else keeps this browser", async ({ page, browser }) => {
      const email = addUser("everywhere");
      const others = [await elsewhere(browser, email), await elsewhere(browser, email)];
      await signIn(page, email, PASSWORD, "/account/sessions");
      if (js) await hydrated(page);
      await expect(page.getByTestId("session")).toHaveCount(3);
      await page.getByRole("button", { name: "Sign out everywhere else" }).click();
      await expect(page.getByTestId("sessions-status")).toHaveText("Every other session is signed out.");
      await expect(page.getByTestId("session")).toHaveCount(1);
      for (const other of others) {
        await expectSignedOut(other);
        await other.context().close();
      }
    });

    test("changing the password signs out elsewhere", async ({ page, browser }) => {
      const email = addUser("password");
      const other = await elsewhere(browser, email);
      await signIn(page, email, PASSWORD, "/account/password");
      if (js) await hydrated(page);

      // A mistyped confirmation: a typed error in place, nothing changed.
      await page.getByLabel("Current password").fill(PASSWORD);
      await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
      await page.getByLabel("New password, again").fill(`${NEW_PASSWORD}!`);
      await page.getByRole("button", { name: "Change password" }).click();
      await expect(page.getByRole("alert")).toHaveText("The two new passwords differ.");
      expect((await sessionOf(other)).user.email).toBe(email);

      await page.getByLabel("Current password").fill(PASSWORD);
      await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
      await page.getByLabel("New password, again").fill(NEW_PASSWORD);
      await page.getByRole("button", { name: "Change password" }).click();
      await expect(page.getByTestId("password-status")).toHaveText(
        "Your password is changed. Every other session is signed out.",
      );
      await expect(page.locator(".change-password .alert")).toBeEmpty();
      expect((await sessionOf(page)).user.email).toBe(email);
      await expectSignedOut(other);

      // The new password signs in; the old one does not.
      await signIn(other, email, NEW_PASSWORD);
      await other.context().close();
    });

    test("a forgotten password is set again through the emailed link", async ({ page, browser }) => {
      const email = addUser("reset");
      const other = await elsewhere(browser, email);
      // From the sign-in form's link.
      await page.goto("/api/auth/signin");
      await page.getByRole("link", { name: "Forgot your password?" }).click();
      await expect(page).toHaveURL(/\/api\/auth\/reset$/);
      if (js) await hydrated(page);
      await page.getByLabel("Email").fill(email);
      await page.getByRole("button", { name: "Send the link" }).click();
      await expect(page.getByTestId("reset-status")).toHaveText(
        "If an account has this address, a link is on its way. It works once, for one hour.",
      );
      const link = linkIn(await mailTo(email), "/api/auth/reset?token=");

      await page.goto(link);
      if (js) await hydrated(page);
      await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
      await page.getByLabel("New password, again").fill("not the same passphrase");
      await page.getByRole("button", { name: "Set the password" }).click();
      await expect(page.getByRole("alert")).toHaveText("The two new passwords differ.");
      await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
      await page.getByLabel("New password, again").fill(NEW_PASSWORD);
      await page.getByRole("button", { name: "Set the password" }).click();
      await expect(page.getByTestId("reset-done")).toContainText("Your new password is set");
      await expectSignedOut(other);

      await page.getByRole("link", { name: "Sign in" }).click();
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill(NEW_PASSWORD);
      await page.getByRole("button", { name: "Sign in with Credentials" }).click();
      await expect(page).toHaveURL(/\/$/);
      expect((await sessionOf(page)).user.email).toBe(email);

      // The link served once.
      await page.goto(link);
      await page.getByLabel("New password", { exact: true }).fill("a third passphrase here");
      await page.getByLabel("New password, again").fill("a third passphrase here");
      await page.getByRole("button", { name: "Set the password" }).click();
      await expect(page.getByRole("alert")).toContainText("no longer valid");
      await other.context().close();
    });
  });
}

for (const js of [true, false]) {
  test.describe(js ? "email and deletion, with JavaScript" : "email and deletion, without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    test("the account moves to a new address through the link sent there", async ({ page, browser }) => {
      const email = addUser("moving");
      const moved = email.replace("moving-", "moved-");
      const other = await elsewhere(browser, email);
      await signIn(page, email, PASSWORD, "/account/email");
      if (js) await hydrated(page);
      await page.getByLabel("New email address").fill(moved);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Change email address" }).click();
      await expect(page.getByTestId("email-status")).toContainText("A link is on its way to the new address");
      expect(await mailTo(email)).toContain("another email address");

      const link = linkIn(await mailTo(moved), "/api/auth/verify?token=");
      await page.goto(link);
      if (js) await hydrated(page);
      await page.getByRole("button", { name: "Confirm my address" }).click();
      await expect(page.getByTestId("verified")).toContainText("Your account now uses the new address");
      expect(await sessionOf(page)).toEqual({});
      await expectSignedOut(other);
      await signIn(other, moved);
      await other.context().close();
    });

    test("deleting the account takes the password and signs out everywhere", async ({ page, browser }) => {
      const email = addUser("deleting");
      const other = await elsewhere(browser, email);
      await signIn(page, email, PASSWORD, "/account/delete");
      if (js) await hydrated(page);
      await page.getByLabel("Password").fill("not the password");
      await page.getByRole("button", { name: "Delete account" }).click();
      await expect(page.getByRole("alert")).toContainText("Enter your password again");
      expect((await sessionOf(page)).user.email).toBe(email);

      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Delete account" }).click();
      await expect(page).toHaveURL(/\/\?done=account-deleted$/);
      await expect(page.getByTestId("account-deleted")).toHaveText("Your account is deleted.");
      expect(await sessionOf(page)).toEqual({});
      await expectSignedOut(other);
      await other.context().close();
    });
  });
}
