// Admission limits as a person meets them on the form, against `coda api` with tight limits.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage } from "../lib/browser.mjs";
import { capturingFailures } from "../lib/artifacts.mjs";
import { startCoda, submit } from "../lib/server.mjs";

let server;
let browser;

before(async () => {
  // One at a time, so a server that fails to start leaves no browser behind (and vice versa).
  browser = await launch();
  server = await startCoda({
    command: "api",
    env: { CODA_QUEUE__MAX_PENDING: "1", CODA_LIMITS__MAX_DURATION_SECONDS: "8" },
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("a length over the server's limit is explained next to the field, with the server's real limit", async () => {
  const page = await openPage(browser);
  await capturingFailures("duration-limit", page, async () => {
    await page.goto(server.base + "/");
    await page.getByLabel("Prompt", { exact: true }).fill("a short jingle");
    // 50 is refused by the page itself, before anything is sent.
    await page.getByLabel("Length").fill("50");
    await page.getByRole("button", { name: "Compose" }).click();
    await page.locator("#duration_seconds-error").filter({ hasText: "Choose between 1 and 30 seconds." }).waitFor();

    // 20 passes the page's check but not this server's (8 s); its limit replaces ours.
    await page.getByLabel("Length").fill("20");
    await page.getByRole("button", { name: "Compose" }).click();
    await page.locator("#duration_seconds-error").filter({ hasText: "Choose between 1 and 8 seconds." }).waitFor();
    assert.equal(await page.getByLabel("Length").getAttribute("aria-invalid"), "true");
    assert.match(await page.locator("#duration_seconds-hint").innerText(), /Between 1 and 8 seconds/);
    assert.match(page.url(), /\/$/);
  }, server);
});

test("a full line is explained in plain words, keeps the prompt, and holds the retry button until it is worth it", async () => {
  const page = await openPage(browser);
  await capturingFailures("queue-full", page, async () => {
    await submit(server.base, { prompt: "the only place in line", duration_seconds: 2 });
    await page.goto(server.base + "/");
    await page.getByText(/1 track in line/).waitFor();
    await page.getByLabel("Prompt", { exact: true }).fill("one more, please");
    await page.getByLabel("Length").fill("5"); // within this server's 8 s, so only the full line stands in the way
    await page.getByRole("button", { name: "Compose" }).click();

    await page.getByText("The line is full right now.").waitFor();
    await page.getByText(/Please try again in .+ Nothing was lost/).waitFor();
    const retry = page.getByRole("button", { name: /^Try again \(\d+ s\)$/ });
    assert.equal(await retry.isDisabled(), true);
    assert.equal(await page.getByLabel("Prompt", { exact: true }).inputValue(), "one more, please");
    assert.match(page.url(), /\/$/);
    assert.deepEqual(page.errors, []);
  }, server);
});
