// Takes the documentation screenshots (docs/*.png) of every state of the page, against the mock
// server with frozen job views so the pictures are the same on every run.
//   node e2e/screenshots.mjs
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { launch, openPage } from "./lib/browser.mjs";
import { freePort } from "./lib/ports.mjs";

const DOCS = fileURLToPath(new URL("../docs/", import.meta.url));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const mock = spawn(process.execPath, [fileURLToPath(new URL("mock-server.mjs", import.meta.url)), String(port)], {
  env: { ...process.env, MOCK_PAUSED: "1" },
  stdio: ["ignore", "pipe", "inherit"],
});
await once(mock.stdout, "data");

const post = (path, body) =>
  fetch(base + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
const patch = (id, body) =>
  fetch(`${base}/__mock/jobs/${id}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const ago = (s) => new Date(Date.now() - s * 1000).toISOString();

const browser = await launch();
try {
  // Two earlier tracks so "recent tracks" has something to show.
  const page = await openPage(browser);
  await page.goto(base + "/");
  const earlier = [];
  for (const prompt of ["Warm jazz trio, brushed drums, late-night bar", "Lo-fi hip hop beat with vinyl crackle"]) {
    const { job, cancel_token } = await post("/api/v1/jobs", { prompt, duration_seconds: 8, seed: 42 });
    earlier.push(job);
    await page.evaluate(([j, tok]) => {
      const recent = JSON.parse(localStorage.getItem("coda.recent") ?? "[]");
      recent.unshift({ id: j.id, prompt: j.params.prompt, duration_seconds: 8, status: j.status, created_at: j.created_at });
      localStorage.setItem("coda.recent", JSON.stringify(recent));
      const tokens = JSON.parse(localStorage.getItem("coda.tokens") ?? "{}");
      tokens[j.id] = tok;
      localStorage.setItem("coda.tokens", JSON.stringify(tokens));
    }, [job, cancel_token]);
  }
  await patch(earlier[0].id, { status: "succeeded", created_at: ago(3600), finished_at: ago(3500), position: null, audio_url: "/x.wav" });
  await patch(earlier[1].id, { status: "canceled", created_at: ago(1200), finished_at: ago(1100), position: null });

  // Form, with an example picked and the advanced settings open.
  await page.goto(base + "/");
  await page.getByRole("button", { name: "Solo cello, slow and melancholic" }).click();
  await page.getByText("Advanced settings").click();
  await page.waitForSelector(".recent-list");
  await page.screenshot({ path: DOCS + "form.png", fullPage: true });

  // Queued: third in line, a few minutes to go.
  await page.getByRole("button", { name: "Compose" }).click();
  await page.waitForURL(/\/jobs\//);
  const id = page.url().split("/").pop();
  await patch(id, {
    status: "queued",
    position: 3,
    jobs_ahead: 2,
    eta: { start_seconds: { low: 250, high: 355 }, finish_seconds: { low: 310, high: 440 } },
  });
  await page.waitForFunction(() => document.title.startsWith("#3"));
  await page.screenshot({ path: DOCS + "queued.png", fullPage: true });

  // Running: composing, 42% done.
  await patch(id, {
    status: "running",
    position: null,
    jobs_ahead: null,
    stage: "composing",
    started_at: ago(95),
    progress: { step: 214, total: 503, fraction: 0.4254 },
    eta: { start_seconds: { low: 0, high: 0 }, finish_seconds: { low: 110, high: 140 } },
  });
  await page.waitForFunction(() => document.title.startsWith("42%"));
  await page.screenshot({ path: DOCS + "running.png", fullPage: true });

  // Succeeded: a real WAV so the player shows its length.
  const done = await post("/api/v1/jobs", { prompt: "Solo cello, slow and melancholic", duration_seconds: 6, seed: 1234 });
  await fetch(base + "/__mock/resume", { method: "POST" });
  const finished = await waitFor(async () => {
    const view = await fetch(`${base}/api/v1/jobs/${done.job.id}`).then((r) => r.json());
    return view.status === "succeeded" ? view : null;
  });
  await fetch(base + "/__mock/pause", { method: "POST" });
  await patch(done.job.id, {
    created_at: ago(160),
    finished_at: ago(2),
    accounting: { queue_wait_seconds: 98, compute_seconds: 61, audio_seconds: 6, real_time_factor: 10.2, energy_wh: 4.2 },
  });
  await page.goto(`${base}/jobs/${finished.id}`);
  await page.waitForFunction(() => document.querySelector("audio")?.duration > 0);
  await page.screenshot({ path: DOCS + "succeeded.png", fullPage: true });

  // Canceled, after confirming in the dialog.
  const doomed = await page.evaluate(async () => {
    const r = await fetch("/api/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: "Bright acoustic guitar folk tune, whistling melody", duration_seconds: 10 }) });
    const { job, cancel_token } = await r.json();
    localStorage.setItem("coda.tokens", JSON.stringify({ ...JSON.parse(localStorage.getItem("coda.tokens") ?? "{}"), [job.id]: cancel_token }));
    return job.id;
  });
  await page.goto(`${base}/jobs/${doomed}`);
  await page.getByRole("button", { name: "Cancel this track" }).click();
  await page.getByRole("button", { name: "Yes, cancel it" }).click();
  await page.waitForSelector("[data-state=canceled]");
  await page.screenshot({ path: DOCS + "canceled.png", fullPage: true });

  // Failed.
  const broken = await post("/api/v1/jobs", { prompt: "Uplifting synthwave with a driving bassline", duration_seconds: 10 });
  await patch(broken.job.id, { status: "failed", position: null, started_at: ago(40), finished_at: ago(1), error: "worker stopped responding three times while composing" });
  await page.goto(`${base}/jobs/${broken.job.id}`);
  await page.waitForSelector("[data-state=failed]");
  await page.getByText("Technical details").click();
  await page.screenshot({ path: DOCS + "failed.png", fullPage: true });

  // Queue full, on the form.
  await page.goto(base + "/");
  for (let i = 0; i < 6; i += 1) await post("/api/v1/jobs", { prompt: `filler ${i}`, duration_seconds: 5 });
  await page.getByLabel("Prompt", { exact: true }).fill("Calm lo-fi piano with soft rain");
  await page.getByRole("button", { name: "Compose" }).click();
  await page.waitForSelector(".form-error:not([hidden])");
  await page.screenshot({ path: DOCS + "queue-full.png", fullPage: true });

  // Italian, on a phone, queued.
  const phone = await openPage(browser, { locale: "it-IT", viewport: { width: 390, height: 844 } });
  await phone.goto(`${base}/jobs/${id}`);
  await patch(id, {
    status: "queued",
    position: 2,
    jobs_ahead: 1,
    stage: null,
    progress: null,
    started_at: null,
    eta: { start_seconds: { low: 130, high: 190 }, finish_seconds: { low: 200, high: 280 } },
  });
  await phone.waitForFunction(() => document.title.startsWith("2°"));
  await phone.screenshot({ path: DOCS + "italian-phone.png", fullPage: true });
  await phone.goto(base + "/");
  await phone.waitForSelector("#outlook");
  await phone.screenshot({ path: DOCS + "italian-form-phone.png", fullPage: true });
  console.log("screenshots written to docs/");
} finally {
  await browser.close();
  mock.kill();
}

async function waitFor(check, timeoutMs = 30000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("timed out");
}
