// Sign-up through the verification email, with JavaScript on and off: the
// app's /sign-up page and the built-in /api/auth/signup, the confirmation
// button of the emailed link, and the sign-in that waits for it.
import { test, expect, Page } from "@playwright/test";
import { hydrated, sessionOf, mailTo, linkIn } from "./helpers";

const PASSWORD = "a sign-up passphrase";

function newAddress(name: string): string {
  return `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

async function signInWith(page: Page, email: string): Promise<void> {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in with Credentials" }).click();
}

for (const js of [true, false]) {
  test.describe(js ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    for (const start of ["/sign-up", "/api/auth/signup"]) {
      test(`signs up on ${start}, confirms by email, then signs in`, async ({ page }) => {
        const email = newAddress("signup");
        await page.goto(start);
        if (js) await hydrated(page);
        await page.getByLabel("Email").fill(email);
        await page.getByLabel("Name (optional)").fill("New Person");
        await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
        await page.getByLabel("New password, again").fill(PASSWORD);
        await page.getByRole("button", { name: "Create an account" }).click();
        await expect(page.getByTestId("sign-up-done")).toContainText("we sent a link to that address");

        // Not confirmed yet: the right password is answered as a wrong one
        // (which says to confirm a new account's address), with a way to a new link.
        await page.goto("/api/auth/signin?callbackUrl=%2Faccount");
        if (js) await hydrated(page);
        await signInWith(page, email);
        await expect(page.getByRole("alert")).toContainText("must confirm its email address first");
        await expect(page.getByTestId("resend-link")).toBeVisible();

        // The emailed link opens a page with a button; the button confirms.
        const link = linkIn(await mailTo(email), "/api/auth/verify?token=");
        await page.goto(link);
        if (js) await hydrated(page);
        await page.getByRole("button", { name: "Confirm my address" }).click();
        // The link came from the mailbox: this browser is signed in.
        await expect(page.getByTestId("verified")).toHaveText("Your address is confirmed, and you are signed in.");
        const session = await sessionOf(page);
        expect(session.user.email).toBe(email);
        expect(session.user.name).toBe("New Person");

        // And the password works from now on.
        await page.context().clearCookies();
        await page.goto("/api/auth/signin");
        if (js) await hydrated(page);
        await signInWith(page, email);
        await expect(page).toHaveURL(/\/$/);
        expect((await sessionOf(page)).user.email).toBe(email);
      });
    }

    test("a link opened in another browser asks for the password chosen at sign-up", async ({ page, browser }) => {
      const email = newAddress("elsewhere");
      await page.goto("/sign-up");
      if (js) await hydrated(page);
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByLabel("New password, again").fill(PASSWORD);
      await page.getByRole("button", { name: "Create an account" }).click();
      await expect(page.getByTestId("sign-up-done")).toBeVisible();

      // Another browser (the mail read on another device, or the owner of an
      // address someone else signed up with): the link alone confirms nothing.
      const other = await browser.newContext({ javaScriptEnabled: js });
      const elsewhere = await other.newPage();
      const link = linkIn(await mailTo(email), "/api/auth/verify?token=");
      await elsewhere.goto(link);
      if (js) await hydrated(elsewhere);
      await expect(elsewhere.getByTestId("confirm-needs-password")).toHaveCount(0);
      await elsewhere.getByRole("button", { name: "Confirm my address" }).click();
      await expect(elsewhere.getByTestId("confirm-needs-password")).toBeVisible();
      expect(await sessionOf(elsewhere)).toEqual({});
      // A wrong password: still asked, nothing confirmed.
      await elsewhere.getByLabel("Password").fill("not the sign-up passphrase");
      await elsewhere.getByRole("button", { name: "Confirm my address" }).click();
      await expect(elsewhere.getByRole("alert")).toContainText("Enter your password again");
      await expect(elsewhere.getByTestId("confirm-needs-password")).toBeVisible();
      // The password chosen at sign-up: confirmed and signed in.
      await elsewhere.getByLabel("Password").fill(PASSWORD);
      await elsewhere.getByRole("button", { name: "Confirm my address" }).click();
      await expect(elsewhere.getByTestId("verified")).toHaveText("Your address is confirmed, and you are signed in.");
      expect((await sessionOf(elsewhere)).user.email).toBe(email);
      await other.close();
    });

    test("a mistyped confirmation is answered in place and nothing is made", async ({ page }) => {
      const email = newAddress("mismatch");
      await page.goto("/sign-up");
      if (js) await hydrated(page);
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByLabel("New password, again").fill(`${PASSWORD}!`);
      await page.getByRole("button", { name: "Create an account" }).click();
      await expect(page.getByRole("alert")).toHaveText("The two new passwords differ.");
      await expect(page.getByTestId("sign-up-done")).toHaveCount(0);
    });
  });
}

test("the sign-in pages link to sign-up", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page).toHaveURL(/\/sign-up$/);
  await page.goto("/api/auth/signin");
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page).toHaveURL(/\/api\/auth\/signup$/);
});
