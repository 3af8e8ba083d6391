// Launches the system Chromium (never a downloaded one) and opens pages that fail loudly on script errors.
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/**
 * A fresh context (own localStorage) and page. Uncaught page errors are collected in
 * `page.errors` so a test can assert the page ran cleanly.
 */
export async function openPage(browser, { locale = "en-US", viewport = { width: 1100, height: 900 }, colorScheme = "light" } = {}) {
  const context = await browser.newContext({ locale, viewport, colorScheme, reducedMotion: "reduce" });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (err) => page.errors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/Failed to load resource/.test(msg.text())) page.errors.push(msg.text());
  });
  return page;
}
