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
