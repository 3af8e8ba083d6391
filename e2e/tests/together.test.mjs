// Several tracks composed at once against `coda up` with `worker.concurrency = 3`: each one's page
// says that tracks are being made together, and each still ends with its own WAV.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage } from "../lib/browser.mjs";
import { capturingFailures } from "../lib/artifacts.mjs";
import { startCoda, submit } from "../lib/server.mjs";

let server;
let browser;

before(async () => {
  browser = await launch();
  server = await startCoda({ command: "up", env: { CODA_WORKER__CONCURRENCY: "3" } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("three tracks submitted at once are composed together and the page says so", async () => {
  const page = await openPage(browser);
  await capturingFailures("together", page, async () => {
    const jobs = [];
    for (let i = 0; i < 3; i += 1) jobs.push(await submit(server.base, { prompt: `a round, voice ${i}`, duration_seconds: 15, seed: i }));
    await page.goto(`${server.base}/jobs/${jobs[2].job.id}`);
    await page.getByTestId("together").filter({ hasText: "Making 3 tracks together" }).waitFor({ timeout: 60_000 });
    await page.locator("[data-state=succeeded]").waitFor({ timeout: 240_000 });
    // The others finish too (their audio is rendered one after another).
    for (const { job } of jobs) {
      const deadline = Date.now() + 120_000;
      let view;
      for (;;) {
        view = await (await fetch(`${server.base}/api/v1/jobs/${job.id}`)).json();
        if (["succeeded", "failed", "canceled"].includes(view.status) || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(view.status, "succeeded", JSON.stringify(view));
    }
  });
});
