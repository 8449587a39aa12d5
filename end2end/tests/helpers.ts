import { expect, Page } from "@playwright/test";
import { DEMO } from "./servers";

/** Waits until the WASM has hydrated the page (the app sets the marker). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

export async function fillCredentials(page: Page, password = DEMO.password): Promise<void> {
  await page.getByLabel("Email").fill(DEMO.email);
  await page.getByLabel("Password").fill(password);
}

/** The session as the server sees it for this page's cookies. */
export async function sessionOf(page: Page, base?: string): Promise<any> {
  const res = await page.request.get(`${base ?? ""}/api/auth/session`);
  expect(res.status()).toBe(200);
  return res.json();
}

/** The text of the newest message the suite's SMTP server received for `to`
 * (quoted-printable undone), containing `part` if given, waiting for it to arrive. */
export async function mailTo(to: string, part?: string): Promise<string> {
  const fs = await import("node:fs");
  const path = await import("node:path");
  const { MAILDIR } = await import("./servers");
  const dir = path.join(MAILDIR, "new");
  let found = "";
  await expect
    .poll(
      () => {
        if (!fs.existsSync(dir)) return "";
        const files = fs
          .readdirSync(dir)
          .map((f) => path.join(dir, f))
          .sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs);
        for (const file of files.reverse()) {
          const text = fs.readFileSync(file, "utf8").replace(/\r\n/g, "\n");
          if (new RegExp(`^To: .*${to.replace(/[.+]/g, "\\$&")}`, "m").test(text) && (!part || text.includes(part))) {
            found = text.replace(/=\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
            return found;
          }
        }
        return "";
      },
      { timeout: 15_000, message: `a message to ${to}` },
    )
    .not.toBe("");
  return found;
}

/** The first link in `mail` whose URL contains `part`. */
export function linkIn(mail: string, part: string): string {
  const link = mail.split(/[\s"<>]+/).find((w) => w.startsWith("http") && w.includes(part));
  expect(link, `a link with ${part}`).toBeDefined();
  return link!;
}
