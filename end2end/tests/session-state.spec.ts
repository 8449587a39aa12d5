// Live session state in the browser: tabs in sync, `required`, `update()`,
// refetch on focus and on an interval.
import { test, expect, BrowserContext, Page } from "@playwright/test";
import { hydrated, fillCredentials, sessionOf } from "./helpers";
import { DEMO } from "./servers";

async function signInVia(page: Page, callback: string) {
  await page.goto(`/sign-in?callbackUrl=${encodeURIComponent(callback)}`);
  await hydrated(page);
  await fillCredentials(page);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** Two tabs of one browser: `a` signed in on `/`, hydrated; `b` blank. */
async function twoTabsSignedInOnA(context: BrowserContext) {
  const a = await context.newPage();
  const b = await context.newPage();
  await signInVia(a, "/");
  await expect(a.getByTestId("status")).toHaveText(`Signed in as ${DEMO.email}`);
  await hydrated(a);
  return { a, b };
}

/** Signs `page` in (its clock faked) and then out behind its back: the same
 * cookies, another client. The page still shows the session. */
async function signedOutBehindItsBack(page: Page) {
  await page.clock.install();
  await signInVia(page, "/");
  await expect(page.getByTestId("status")).toHaveText(`Signed in as ${DEMO.email}`);
  // The server renders the status before the page hydrates: the watchers
  // listen only once it has.
  await hydrated(page);
  await signOutElsewhere(page);
}

/** Signs the browser of `page` out with the same cookies from another
 * client: no tab is told. */
async function signOutElsewhere(page: Page) {
  const token = (await (await page.request.get("/api/auth/csrf")).json()).csrfToken;
  const out = await page.request.post("/api/auth/signout", {
    form: { csrfToken: token, json: "true" },
    headers: { Origin: "http://127.0.0.1:3100" },
  });
  expect(out.status()).toBe(200);
}

/** Sets the page's visibility and tells it, as switching tabs would. */
function setVisibility(page: Page, state: string) {
  return page.evaluate((s) => {
    Object.defineProperty(document, "visibilityState", { value: s, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  }, state);
}

/** Counts the page's session fetches as each starts, and their failures
 * before the page's own handler of each runs: both are final when a later
 * `page.evaluate` reads them, so "none" can be checked at once. It also
 * keeps how many are still unanswered, for `setOnline`. */
async function countSessionFetches(page: Page): Promise<() => Promise<number[]>> {
  type Counted = Window & { sessionFetches: number; sessionFailures: number; sessionPending: number };
  await page.evaluate(() => {
    const w = window as unknown as Counted;
    const original = w.fetch.bind(window);
    w.sessionFetches = 0;
    w.sessionFailures = 0;
    w.sessionPending = 0;
    w.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
      const answer = original(input, init);
      if (String(input).endsWith("/api/auth/session")) {
        w.sessionFetches++;
        w.sessionPending++;
        answer.then(
          () => w.sessionPending--,
          () => {
            w.sessionFailures++;
            w.sessionPending--;
          },
        );
      }
      return answer;
    };
  });
  return () =>
    page.evaluate(() => {
      const w = window as unknown as Counted;
      return [w.sessionFetches, w.sessionFailures];
    });
}

/** Takes the browser off or on the network once no counted session fetch
 * is in flight (going offline would fail one that `counts` already saw
 * start, and the page would retry it), and waits until the page itself sees
 * the change: `navigator.onLine`, which the session state's interval reads,
 * follows the emulation a moment later. */
async function setOnline(page: Page, context: BrowserContext, online: boolean) {
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { sessionPending?: number }).sessionPending ?? 0))
    .toBe(0);
  await context.setOffline(!online);
  await expect.poll(() => page.evaluate(() => navigator.onLine)).toBe(online);
}

test("signing in and out in one tab updates the other without a reload", async ({ context }) => {
  const a = await context.newPage();
  const b = await context.newPage();
  await a.goto("/");
  await hydrated(a);
  await expect(a.getByTestId("status")).toHaveText("You are not signed in.");
  let reloads = 0;
  a.on("framenavigated", (frame) => {
    if (frame === a.mainFrame()) reloads++;
  });

  await signInVia(b, "/");
  await expect(b.getByTestId("status")).toHaveText(`Signed in as ${DEMO.email}`);
  await expect(a.getByTestId("status")).toHaveText(`Signed in as ${DEMO.email}`);

  await b.getByRole("button", { name: "Sign out" }).click();
  await expect(a.getByTestId("status")).toHaveText("You are not signed in.");
  expect(reloads).toBe(0);
  // b is navigating after its sign-out: let it land before the pages close.
  await expect(b.getByTestId("status")).toHaveText("You are not signed in.");
  await a.close();
  await b.close();
});

test("a sign-out posted before the page's JavaScript ran reaches the other tabs when the next page starts", async ({ context }) => {
  const { a, b } = await twoTabsSignedInOnA(context);
  await b.goto("/");
  await hydrated(b);
  // b's page again, without its WASM: its Sign out button is the plain form.
  await b.route("**/*.wasm", (route) => route.abort());
  await b.reload();
  await expect(b.getByTestId("status")).toHaveText(`Signed in as ${DEMO.email}`);
  await b.unroute("**/*.wasm");
  await b.getByRole("button", { name: "Sign out" }).click();
  await expect(b.getByTestId("status")).toHaveText("You are not signed in.");
  await hydrated(b);
  // The page b landed on shows another session than b's last one: it tells
  // the other tabs, which the form could not.
  await expect(a.getByTestId("status")).toHaveText("You are not signed in.");
  expect(await sessionOf(a)).toEqual({});
  await a.close();
  await b.close();
});

test("a change a tab learns of only through localStorage (its message missed) still reaches it", async ({ context }) => {
  // Chromium copies localStorage between processes a little later: a tab
  // that starts listening just after another tab's message, and reads the
  // stamp just before its copy arrives, learns of the change from the
  // `storage` event. Here the stamp comes alone.
  const { a, b } = await twoTabsSignedInOnA(context);
  await b.goto("/");
  await hydrated(b);
  await expect(b.getByTestId("status")).toHaveText(`Signed in as ${DEMO.email}`);
  await signOutElsewhere(a);
  await a.evaluate(() => localStorage.setItem("sesame.session-changed", String(Date.now())));
  await expect(b.getByTestId("status")).toHaveText("You are not signed in.");
  await a.close();
  await b.close();
});

test("a tab opened before the sign-in still signs out (its CSRF token was rotated away)", async ({ context }) => {
  const a = await context.newPage();
  const b = await context.newPage();
  await a.goto("/");
  await hydrated(a);
  const staleToken = await a.locator('meta[name="sesame-csrf-token"]').getAttribute("content");
  await signInVia(b, "/");
  await expect(a.getByTestId("status")).toHaveText(`Signed in as ${DEMO.email}`);
  // The page still carries the token minted before the sign-in: refused once, then fresh.
  const signOuts: number[] = [];
  a.on("response", (r) => {
    if (new URL(r.url()).pathname === "/api/auth/signout") signOuts.push(r.status());
  });
  await a.getByRole("button", { name: "Sign out" }).click();
  await expect(a.getByTestId("status")).toHaveText("You are not signed in.");
  expect(signOuts).toEqual([403, 200]);
  expect(await sessionOf(a)).toEqual({});
  await expect(b.getByTestId("status")).toHaveText("You are not signed in.");
  // The stale token is not valid for anything now either.
  const replay = await a.request.post("/api/auth/signout", {
    form: { csrfToken: staleToken!, json: "true" },
    headers: { Origin: "http://127.0.0.1:3100" },
  });
  expect(replay.status()).toBe(403);
  await a.close();
  await b.close();
});

test("a tab whose page loaded before another tab signed out, and hydrated after, shows the sign-out", async ({ context }) => {
  const { a, b } = await twoTabsSignedInOnA(context);
  // b's page is rendered signed in, but its WASM is held back until a has
  // signed out: b is not listening when a tells the tabs.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await b.route("**/*.wasm", async (route) => {
    await held;
    await route.continue();
  });
  await b.goto("/", { waitUntil: "commit" });
  await expect(b.getByTestId("status")).toHaveText(`Signed in as ${DEMO.email}`);
  await a.getByRole("button", { name: "Sign out" }).click();
  await expect(a.getByTestId("status")).toHaveText("You are not signed in.");
  expect(await sessionOf(a)).toEqual({});
  release();
  await hydrated(b);
  await expect(b.getByTestId("status")).toHaveText("You are not signed in.");
  await a.close();
  await b.close();
});

test("after sign_in the target arrives signed in: one callback, one page load, no session fetch", async ({ page }) => {
  const seen: string[] = [];
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (req.resourceType() === "document" || url.pathname.startsWith("/api/auth/")) {
      seen.push(`${req.resourceType()} ${url.pathname}`);
    }
  });
  await signInVia(page, "/account");
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("account-email")).toHaveText(DEMO.email);
  await hydrated(page);
  // The server renders /account with the new session and hands it to the
  // islands in the page: nothing asks /api/auth/session.
  expect(seen).toEqual(["document /sign-in", "fetch /api/auth/callback/credentials", "document /account"]);
});

test("required sends a signed-out visitor to sign in with SessionRequired", async ({ page }) => {
  await page.goto("/profile");
  await expect(page).toHaveURL(/\/api\/auth\/signin\?callbackUrl=%2Fprofile&error=SessionRequired$/);
  await expect(page.getByRole("alert")).toHaveText("Please sign in to access this page.");
});

test("update() right after sign-in changes the session", async ({ page }) => {
  await signInVia(page, "/profile");
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByTestId("profile-name")).toHaveText("Demo User");
  // The form works only once its (lazy) island is live: before, Save is a
  // plain GET of the page.
  await hydrated(page);
  await page.getByLabel("Display name").fill("Sesame Tester");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("profile-name")).toHaveText("Sesame Tester");
  expect((await sessionOf(page)).user.name).toBe("Sesame Tester");
});

test("a focus after the cooldown refetches, the page's first one too; within it none does; the interval polls, not while offline", async ({ page, context }) => {
  await signedOutBehindItsBack(page);
  const counts = await countSessionFetches(page);
  const focus = async () => {
    await setVisibility(page, "hidden");
    await setVisibility(page, "visible");
  };
  // The cooldown counts from the page's start: the clock stops past it
  // (from here it moves only when the test moves it), and the first focus
  // fetches the session and shows the sign-out.
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 6_000);
  await focus();
  await expect(page.getByTestId("status")).toHaveText("You are not signed in.");
  expect(await counts()).toEqual([1, 0]);
  // Within 5 s of that fetch a focus fetches nothing; after them one does.
  await page.clock.fastForward(4_900);
  await focus();
  expect(await counts()).toEqual([1, 0]);
  await page.clock.fastForward(200);
  await focus();
  await expect.poll(counts).toEqual([2, 0]);

  // Offline, the interval does not poll.
  await setOnline(page, context, false);
  await page.clock.fastForward(301_000);
  expect(await counts()).toEqual([2, 0]);
  // Coming back online fetches once; then the interval polls again.
  await setOnline(page, context, true);
  await expect.poll(counts).toEqual([3, 0]);
  await page.clock.fastForward(301_000);
  await expect.poll(counts).toEqual([4, 0]);
});

test("a tab whose fetches failed while offline fetches when the network is back, and shows the sign-out made meanwhile", async ({ page, context }) => {
  await signedOutBehindItsBack(page);
  const counts = await countSessionFetches(page);
  // The clock stops past the focus cooldown (from here it moves only when
  // the test moves it). Offline, a focus fetches the session, which fails,
  // and so do its four retries.
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 6_000);
  await setOnline(page, context, false);
  await setVisibility(page, "visible");
  await expect.poll(counts).toEqual([1, 1]);
  for (const [delay, n] of [[1_000, 2], [2_000, 3], [4_000, 4], [8_000, 5]]) {
    await page.clock.fastForward(delay);
    await expect.poll(counts).toEqual([n, n]);
  }
  await page.clock.fastForward(60_000);
  expect(await counts()).toEqual([5, 5]);
  await expect(page.getByTestId("status")).toHaveText(`Signed in as ${DEMO.email}`);
  // Back online, with no focus and the interval over 200 s away: the page fetches
  // and shows the sign-out.
  await setOnline(page, context, true);
  await expect(page.getByTestId("status")).toHaveText("You are not signed in.");
  expect(await counts()).toEqual([6, 5]);
});

test("a tab whose session fetch fails after another tab signed out tries again and shows the sign-out", async ({ context }) => {
  const { a, b } = await twoTabsSignedInOnA(context);
  await b.goto("/");
  await hydrated(b);
  await expect(b.getByTestId("status")).toHaveText(`Signed in as ${DEMO.email}`);
  // b's first session fetch after a's message fails (a dropped connection);
  // the ones after it reach the server.
  const answered: number[] = [];
  let dropped = 0;
  await b.route("**/api/auth/session", async (route) => {
    if (dropped === 0) {
      dropped++;
      await route.abort("connectionreset");
    } else {
      const response = await route.fetch();
      answered.push(response.status());
      await route.fulfill({ response });
    }
  });
  await a.getByRole("button", { name: "Sign out" }).click();
  await expect(a.getByTestId("status")).toHaveText("You are not signed in.");
  await expect(b.getByTestId("status")).toHaveText("You are not signed in.");
  expect(dropped).toBe(1);
  expect(answered).toEqual([200]);
  await a.close();
  await b.close();
});

test("a session fetch that keeps failing is tried four more times, 1, 2, 4 and 8 s apart, and the page keeps what it showed", async ({ page }) => {
  await signedOutBehindItsBack(page);
  // Every session fetch of the page fails.
  await page.route("**/api/auth/session", (route) => route.abort("connectionreset"));
  const counts = await countSessionFetches(page);
  // The clock stops past the focus cooldown (from here it moves only when
  // the test moves it); a focus fetches the session, which fails.
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 6_000);
  await setVisibility(page, "visible");
  await expect.poll(counts).toEqual([1, 1]);
  // Each retry comes after its delay, not before, and fails too.
  for (const [delay, n] of [[1_000, 2], [2_000, 3], [4_000, 4], [8_000, 5]]) {
    await page.clock.fastForward(delay - 100);
    expect(await counts()).toEqual([n - 1, n - 1]);
    await page.clock.fastForward(100);
    await expect.poll(counts).toEqual([n, n]);
  }
  // Then it stops; what the page showed stays (a failed fetch is no sign-out).
  await page.clock.fastForward(60_000);
  expect(await counts()).toEqual([5, 5]);
  await expect(page.getByTestId("status")).toHaveText(`Signed in as ${DEMO.email}`);
  // The next trigger fetches again, and the answer now arrives.
  await page.unroute("**/api/auth/session");
  await setVisibility(page, "visible");
  await expect(page.getByTestId("status")).toHaveText("You are not signed in.");
});
