// The browser half of `make bench`: what /sign-in downloads, how long Sesame's
// page takes to hydrate, and how many auth requests one sign-in costs, in
// Debian's Chromium through Playwright. Prints one JSON object.
const path = require("node:path");
const { chromium } = require(path.join(__dirname, "../end2end/node_modules/@playwright/test"));

const [sesame, nextauth, runs] = [process.argv[2], process.argv[3], Number(process.argv[4] || 7)];
const DEMO = { email: "demo@example.com", password: "open sesame, demo" };
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

async function assets(browser, base) {
  const page = await browser.newPage();
  const seen = new Set();
  page.on("response", (res) => {
    const type = res.request().resourceType();
    const url = res.url();
    if (["script", "stylesheet"].includes(type) || url.endsWith(".wasm")) seen.add(url);
  });
  await page.goto(`${base}/sign-in`, { waitUntil: "networkidle" });
  await page.close();
  return [...seen];
}

async function hydration(browser, base) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/sign-in`);
    const el = await page.waitForSelector("body[data-hydrated-ms]");
    times.push(Number(await el.getAttribute("data-hydrated-ms")));
    await context.close();
  }
  return times;
}

async function roundTrips(browser, base, ready, done) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/sign-in?callbackUrl=%2F`);
  await ready(page);
  const auth = [];
  page.on("request", (req) => {
    const p = new URL(req.url()).pathname;
    if (p.startsWith("/api/auth")) auth.push(`${req.method()} ${p}`);
  });
  await page.fill("#email", DEMO.email);
  await page.fill("#password", DEMO.password);
  // The password form's button (a sign-in page may have provider buttons above it).
  await page.click("form:has(#password) button[type=submit]");
  await done(page);
  await context.close();
  return auth;
}

(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ARGS });
  const out = {
    sesame: {
      assets: await assets(browser, sesame),
      hydration_ms: await hydration(browser, sesame),
      sign_in_requests: await roundTrips(
        browser,
        sesame,
        (p) => p.waitForSelector("body[data-hydrated]"),
        (p) => p.waitForURL(`${sesame}/`),
      ),
    },
    nextauth: {
      assets: await assets(browser, nextauth),
      sign_in_requests: await roundTrips(
        browser,
        nextauth,
        (p) => p.waitForLoadState("networkidle"),
        (p) => p.waitForSelector("text=Signed in as"),
      ),
    },
  };
  await browser.close();
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
