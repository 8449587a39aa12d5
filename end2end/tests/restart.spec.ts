// Sessions live in the database: they survive a restart, and a signed-out
// session's cookie is dead when replayed.
import { test, expect } from "@playwright/test";
import { hydrated, fillCredentials, sessionOf } from "./helpers";
import { DEMO, startServer, stopServer, freshData } from "./servers";

const PORT = 3102;
const BASE = `http://127.0.0.1:${PORT}`;

test("the session survives a restart; after sign-out the old cookie gets nothing", async ({ page, context }) => {
  freshData("restart");
  let server = await startServer(PORT, "restart");
  try {
    await page.goto(`${BASE}/sign-in?callbackUrl=%2Faccount`);
    await hydrated(page);
    await fillCredentials(page);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page).toHaveURL(`${BASE}/account`);

    await stopServer(server);
    server = await startServer(PORT, "restart");

    await page.goto(`${BASE}/account`);
    await expect(page.getByTestId("account-email")).toHaveText(DEMO.email);
    const cookies = await context.cookies(BASE);
    const sessionCookie = cookies.find((c) => c.name === "sesame.session-token");
    expect(sessionCookie).toBeDefined();

    await hydrated(page);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(`${BASE}/`);
    await expect(page.getByTestId("status")).toHaveText("You are not signed in.");
    expect((await context.cookies(BASE)).find((c) => c.name === "sesame.session-token")).toBeUndefined();

    // Replay the old cookie.
    await context.addCookies([sessionCookie!]);
    expect(await sessionOf(page, BASE)).toEqual({});
    await page.goto(`${BASE}/account`);
    await expect(page).toHaveURL(/\/api\/auth\/signin\?callbackUrl=%2Faccount$/);
  } finally {
    await stopServer(server);
  }
});
