// Waiting in line against `coda api` alone: no worker runs, so jobs stay queued as long as needed.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage } from "../lib/browser.mjs";
import { capturingFailures } from "../lib/artifacts.mjs";
import { getJob, startCoda } from "../lib/server.mjs";

let server;
let browser;

before(async () => {
  // One at a time, so a server that fails to start leaves no browser behind (and vice versa).
  browser = await launch();
  server = await startCoda({ command: "api" });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function composeFromForm(page, prompt) {
  await page.goto(server.base + "/");
  await page.getByLabel("Prompt", { exact: true }).fill(prompt);
  await page.getByLabel("Length").fill("5");
  await page.getByRole("button", { name: "Compose" }).click();
  await page.waitForURL(/\/jobs\/[0-9A-Z]{26}$/);
  return page.url().split("/").pop();
}

test("the second of two queued tracks can be canceled after confirming, and the first moves on unaffected", async () => {
  const page = await openPage(browser);
  await capturingFailures("cancel", page, async () => {
    const first = await composeFromForm(page, "first in line");
    await page.getByRole("heading", { name: "You're next in line" }).waitFor();
    const second = await composeFromForm(page, "second in line");
    await page.getByRole("heading", { name: "You're 2nd in line" }).waitFor();
    assert.equal(await page.title(), "#2 in line — Coda");
    assert.equal(await page.getByTestId("ahead").innerText(), "1 track waiting ahead of you.");

    // Changing one's mind in the dialog keeps the place in line.
    await page.getByRole("button", { name: "Cancel this track" }).click();
    await page.getByRole("dialog", { name: "Cancel this track?" }).waitFor();
    await page.getByRole("button", { name: "Keep waiting" }).click();
    assert.equal((await getJob(server.base, second)).status, "queued");

    await page.getByRole("button", { name: "Cancel this track" }).click();
    await page.getByRole("button", { name: "Yes, cancel it" }).click();
    await page.getByRole("heading", { name: "This track was canceled" }).waitFor();
    assert.equal(await page.title(), "Canceled — Coda");
    assert.equal((await getJob(server.base, second)).status, "canceled");
    assert.equal((await getJob(server.base, first)).status, "queued");
    assert.equal(await page.getByRole("button", { name: "Cancel this track" }).count(), 0);

    // The first track's page, reloaded from its link, still says where it stands.
    await page.goto(`${server.base}/jobs/${first}`);
    await page.getByRole("heading", { name: "You're next in line" }).waitFor();
    assert.deepEqual(page.errors, []);
  }, server);
});

test("someone opening a shared link sees the place in line but no cancel button", async () => {
  const owner = await openPage(browser);
  const visitor = await openPage(browser);
  await capturingFailures("shared-link", visitor, async () => {
    const id = await composeFromForm(owner, "shared with a friend");
    await owner.getByRole("button", { name: "Cancel this track" }).waitFor();
    await visitor.goto(`${server.base}/jobs/${id}`);
    await visitor.getByRole("heading", { name: /in line/ }).waitFor();
    await visitor.getByRole("button", { name: "Copy link" }).waitFor();
    assert.equal(await visitor.getByRole("button", { name: "Cancel this track" }).isVisible(), false);
  }, server);
});

test("when the server goes away the page keeps the last state, says so, and recovers when it is back", async () => {
  const page = await openPage(browser);
  await capturingFailures("reconnect", page, async () => {
    const id = await composeFromForm(page, "patient listener");
    await page.getByRole("heading", { name: /in line/ }).waitFor();
    const heading = await page.getByRole("heading", { level: 1 }).innerText();

    await server.kill();
    await page.getByText(/Connection lost/).waitFor({ timeout: 20_000 });
    assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), heading);

    server = await startCoda({ command: "api", port: server.port, namespace: server.namespace, dataDir: server.dataDir });
    await page.getByText(/Connection lost/).waitFor({ state: "hidden", timeout: 40_000 });
    await page.getByRole("heading", { name: /in line/ }).waitFor();
    assert.equal((await getJob(server.base, id)).status, "queued");
  }, server);
});

test("the Italian page speaks Italian, with Italian ordinals, and the switcher changes language in place", async () => {
  const page = await openPage(browser, { locale: "it-IT" });
  await capturingFailures("italian", page, async () => {
    await page.goto(server.base + "/");
    await page.getByRole("heading", { name: "Descrivi la musica che vuoi" }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), "it");

    // A client-side check, in Italian, next to its field.
    await page.getByRole("button", { name: "Componi" }).click();
    await page.locator("#prompt-error").filter({ hasText: "Scrivi qualche parola sulla musica che vuoi." }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), "prompt");

    await page.getByLabel("Descrizione", { exact: true }).fill("mandolino al tramonto");
    await page.getByRole("button", { name: "Componi" }).click();
    await page.waitForURL(/\/jobs\//);
    await page.getByRole("heading", { name: /^Sei al \d+° posto in coda$|^Il prossimo turno è il tuo$/ }).waitFor();
    const position = (await getJob(server.base, page.url().split("/").pop())).position;
    if (position > 1) {
      assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), `Sei al ${position}° posto in coda`);
      assert.equal(await page.title(), `${position}° in coda — Coda`);
    }
    await page.getByRole("button", { name: "Annulla questo brano" }).waitFor();
    await page.getByText("Parte tra circa").or(page.getByText("Parte a momenti")).first().waitFor();

    await page.getByRole("button", { name: /^EN/ }).click();
    await page.getByRole("button", { name: "Cancel this track" }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
    await page.reload();
    await page.getByRole("button", { name: "Cancel this track" }).waitFor();
  }, server);
});
