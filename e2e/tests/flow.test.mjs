// The main path against `coda up` (api + worker, tiny model): submit from the form, see the place in
// line, see progress, and get a WAV of the requested length in the player.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage } from "../lib/browser.mjs";
import { capturingFailures } from "../lib/artifacts.mjs";
import { startCoda, submit } from "../lib/server.mjs";
import { wavSeconds } from "../lib/wav.mjs";

// Long enough (~1,500 decoding steps) for the page to show progress while it is composed.
const SECONDS = 30;
let server;
let browser;

before(async () => {
  // One at a time, so a server that fails to start leaves no browser behind (and vice versa).
  browser = await launch();
  server = await startCoda({ command: "up" });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("a track submitted from the form waits in line, shows progress and plays at the requested length", async () => {
  const page = await openPage(browser);
  await capturingFailures("flow", page, async () => {
    // The tiny model composes ~300 steps a second, so three long tracks go ahead of ours to keep
    // it in line long enough to read its position; they are canceled once it has been read.
    const blockers = [];
    for (let i = 0; i < 3; i += 1) blockers.push(await submit(server.base, { prompt: `blocker ${i}`, duration_seconds: 30 }));

    await page.goto(server.base + "/");
    await page.locator("#outlook").filter({ hasText: /Expected wait|No one is waiting|in line/ }).waitFor();
    await recordTitles(page);
    await page.getByRole("button", { name: "Solo cello, slow and melancholic" }).click();
    await page.getByLabel("Length").fill(String(SECONDS));
    await page.getByRole("button", { name: "Compose" }).click();

    await page.waitForURL(/\/jobs\/[0-9A-Z]{26}$/);
    const id = page.url().split("/").pop();
    await page.getByRole("heading", { name: /^You're (next|2nd|3rd|4th) in line$/ }).waitFor();
    await page.getByText(/Starts (in about|any moment)/).waitFor();
    assert.match(await page.title(), /^#[1-4] in line — Coda$/);
    assert.match(await page.getByTestId("ahead").innerText(), /^[1-3] tracks? waiting ahead of you\.$/);

    // Let ours through: the blockers leave (the one running may already have finished).
    for (const blocker of blockers) {
      const canceled = await fetch(`${server.base}/api/v1/jobs/${blocker.job.id}`, {
        method: "DELETE",
        headers: { "X-Cancel-Token": blocker.cancel_token },
      });
      assert.ok([200, 409].includes(canceled.status), `cancel answered ${canceled.status}`);
    }

    await page.locator("[data-state=succeeded]").waitFor({ timeout: 120_000 });
    const titles = await page.evaluate(() => window.__titles);
    assert.ok(
      titles.some((t) => /^\d{1,3}% — Coda$/.test(t)),
      `the title showed progress while composing; titles seen: ${titles.join(" | ")}`,
    );
    assert.equal(await page.title(), "Ready — Coda");
    assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Your track is ready");

    // The player holds a WAV of the requested length, and the file itself says so too.
    const duration = await page.waitForFunction(() => {
      const audio = document.querySelector("audio");
      return audio && Number.isFinite(audio.duration) && audio.duration > 0 && audio.duration;
    });
    assert.ok(Math.abs((await duration.jsonValue()) - SECONDS) < 0.1, `audio lasts ${await duration.jsonValue()} s`);
    const audioUrl = await page.locator("audio").getAttribute("src");
    const wav = Buffer.from(await (await fetch(new URL(audioUrl, server.base))).arrayBuffer());
    assert.ok(Math.abs(wavSeconds(wav) - SECONDS) < 0.05, `WAV header says ${wavSeconds(wav)} s`);
    assert.equal(await page.getByRole("link", { name: "Download WAV" }).getAttribute("href"), audioUrl);

    // The parameters used are shown, seed included, and the job is in "recent tracks".
    const seed = await page.locator("[data-param=seed]").innerText();
    assert.match(seed, /^\d+$/);
    await page.goto(server.base + "/");
    const recent = page.locator(".recent-list a", { hasText: "Solo cello, slow and melancholic" });
    await recent.waitFor();
    assert.equal(await recent.getAttribute("href"), `/jobs/${id}`);
    assert.match(await recent.innerText(), /Ready/);

    // "Try a variation" starts a new job with the same prompt and a different seed.
    await recent.click();
    await page.getByRole("button", { name: "Try a variation" }).click();
    await page.waitForURL((url) => !url.pathname.endsWith(id));
    const variation = await (await fetch(`${server.base}/api/v1/jobs/${page.url().split("/").pop()}`)).json();
    assert.equal(variation.params.prompt, "Solo cello, slow and melancholic");
    assert.notEqual(String(variation.params.seed), seed);
    assert.deepEqual(page.errors, []);
  }, server);
});

/** Keeps every document.title the page shows, so a test can assert on states that pass quickly. */
async function recordTitles(page) {
  await page.evaluate(() => {
    window.__titles = [document.title];
    new MutationObserver(() => window.__titles.push(document.title)).observe(document.querySelector("title"), {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
}
