// A stand-in for the Coda api: serves web/ and fakes the REST + SSE endpoints with a simulated
// single-worker queue. For developing the page and for deterministic screenshots, not for E2E.
//
//   node e2e/mock-server.mjs [port]      MOCK_MS_PER_STEP=40 MOCK_PAUSED=1 MOCK_MAX_PENDING=5
//   PATCH /__mock/jobs/{id}  merges JSON into a job's view (freezes it: the simulation skips it)
//   POST  /__mock/pause | /__mock/resume
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes, randomInt } from "node:crypto";

const WEB = fileURLToPath(new URL("../web/", import.meta.url));
const MS_PER_STEP = Number(process.env.MOCK_MS_PER_STEP ?? 40);
const MAX_PENDING = Number(process.env.MOCK_MAX_PENDING ?? 5);
const MAX_DURATION = Number(process.env.MOCK_MAX_DURATION ?? 30);
const FRAMES_PER_SECOND = 50;
let paused = process.env.MOCK_PAUSED === "1";

const jobs = new Map(); // id → { view, token, frozen, wav }
const watchers = new Map(); // id → Set<response>
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png" };

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
function ulid() {
  let time = Date.now();
  let out = "";
  for (let i = 0; i < 10; i += 1) {
    out = CROCKFORD[time % 32] + out;
    time = Math.floor(time / 32);
  }
  for (let i = 0; i < 16; i += 1) out += CROCKFORD[randomInt(32)];
  return out;
}

const steps = (view) => Math.round(view.params.duration_seconds * FRAMES_PER_SECOND) + 3;
const costSeconds = (view) => (steps(view) * MS_PER_STEP) / 1000 + 1.5;
const queued = () => [...jobs.values()].filter((j) => j.view.status === "queued");

function refreshQueue() {
  const running = [...jobs.values()].find((j) => j.view.status === "running");
  let ahead = running ? costSeconds(running.view) * (1 - (running.view.progress?.fraction ?? 0)) : 0;
  queued().forEach((job, index) => {
    if (job.frozen) return;
    const own = costSeconds(job.view);
    Object.assign(job.view, {
      position: index + 1,
      jobs_ahead: index + (running ? 1 : 0),
      eta: {
        start_seconds: { low: ahead * 0.85, high: ahead * 1.25 },
        finish_seconds: { low: (ahead + own) * 0.85, high: (ahead + own) * 1.25 },
      },
    });
    ahead += own;
    publish(job.view);
  });
}

function publish(view) {
  for (const res of watchers.get(view.id) ?? []) {
    res.write(`event: job\ndata: ${JSON.stringify(view)}\n\n`);
    if (["succeeded", "failed", "canceled"].includes(view.status)) res.end();
  }
}

async function work() {
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    if (paused) continue;
    const job = queued().find((j) => !j.frozen);
    if (!job) continue;
    const v = job.view;
    Object.assign(v, { status: "running", position: null, jobs_ahead: null, started_at: new Date().toISOString(), stage: "encoding_prompt", progress: { step: 0, total: steps(v), fraction: 0 } });
    refreshQueue();
    publish(v);
    await new Promise((r) => setTimeout(r, 500));
    v.stage = "composing";
    for (let step = 1; step <= v.progress.total && v.status === "running"; step += 1) {
      await new Promise((r) => setTimeout(r, MS_PER_STEP));
      v.progress = { step, total: v.progress.total, fraction: step / v.progress.total };
      const left = ((v.progress.total - step) * MS_PER_STEP) / 1000 + 1;
      v.eta = { start_seconds: { low: 0, high: 0 }, finish_seconds: { low: left * 0.9, high: left * 1.15 } };
      if (step % 5 === 0 || step === v.progress.total) publish(v);
    }
    if (v.status !== "running") continue;
    v.stage = "rendering_audio";
    publish(v);
    await new Promise((r) => setTimeout(r, 800));
    if (/fail/i.test(v.params.prompt)) {
      Object.assign(v, { status: "failed", stage: null, progress: null, error: "decoder produced NaN at step 212" });
    } else {
      job.wav = sineWav(v.params.duration_seconds);
      const compute = (Date.now() - Date.parse(v.started_at)) / 1000;
      Object.assign(v, {
        status: "succeeded",
        stage: null,
        progress: null,
        eta: null,
        audio_url: `/api/v1/jobs/${v.id}/audio`,
        accounting: { queue_wait_seconds: (Date.parse(v.started_at) - Date.parse(v.created_at)) / 1000, compute_seconds: compute, audio_seconds: v.params.duration_seconds, real_time_factor: compute / v.params.duration_seconds, energy_wh: compute * 0.05 },
      });
    }
    v.finished_at = new Date().toISOString();
    publish(v);
    refreshQueue();
  }
}

function sineWav(seconds) {
  const rate = 32000;
  const n = Math.round(seconds * rate);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write("RIFF", 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write("WAVEfmt ", 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write("data", 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i += 1) buf.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 220 * i) / rate)), 44 + i * 2);
  return buf;
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
const fail = (res, status, code, message, field, headers) => send(res, status, { error: { code, message, field } }, headers);

async function readJson(req) {
  let raw = "";
  for await (const chunk of req) raw += chunk;
  return raw ? JSON.parse(raw) : {};
}

function validate(body) {
  const bound = (field, value, min, max) =>
    value !== undefined && (typeof value !== "number" || value < min || value > max)
      ? { field, message: `${field} must be between ${min} and ${max}, got ${value}` }
      : null;
  const prompt = typeof body.prompt === "string" ? body.prompt.trim() : "";
  if (!prompt) return { field: "prompt", message: "prompt must not be empty" };
  if (prompt.length > 500) return { field: "prompt", message: `prompt must be at most 500 characters, got ${prompt.length}` };
  return (
    bound("duration_seconds", body.duration_seconds ?? NaN, 1, MAX_DURATION) ??
    bound("top_k", body.top_k, 0, 2048) ??
    bound("top_p", body.top_p, 0, 1) ??
    bound("temperature", body.temperature, 0, 5) ??
    bound("guidance_scale", body.guidance_scale, 0, 20) ??
    bound("seed", body.seed, 0, Number.MAX_SAFE_INTEGER)
  );
}

async function api(req, res, path) {
  if (req.method === "GET" && path === "/api/v1/queue") {
    const pending = queued().length;
    const running = [...jobs.values()].filter((j) => j.view.status === "running").length;
    const wait = [...jobs.values()].filter((j) => ["queued", "running"].includes(j.view.status)).reduce((s, j) => s + costSeconds(j.view), 0);
    return send(res, 200, { pending, running, workers_alive: 1, concurrency: 1, ms_per_step: MS_PER_STEP, expected_wait_seconds: { low: wait * 0.85, high: wait * 1.25 } });
  }
  if (req.method === "POST" && path === "/api/v1/jobs") {
    let body;
    try {
      body = await readJson(req);
    } catch {
      return fail(res, 400, "invalid_json", "body is not valid JSON");
    }
    const problem = validate(body);
    if (problem) return fail(res, 422, "invalid_request", problem.message, problem.field);
    if (queued().length >= MAX_PENDING) return fail(res, 503, "queue_full", "the queue is full", undefined, { "Retry-After": "20" });
    const id = ulid();
    const view = {
      id,
      status: "queued",
      position: null,
      jobs_ahead: null,
      eta: null,
      progress: null,
      stage: null,
      params: { prompt: body.prompt.trim(), duration_seconds: body.duration_seconds, top_k: body.top_k ?? 250, top_p: body.top_p ?? 0, temperature: body.temperature ?? 1, guidance_scale: body.guidance_scale ?? 3, seed: body.seed ?? randomInt(2 ** 40) },
      created_at: new Date().toISOString(),
      started_at: null,
      finished_at: null,
      audio_url: null,
      error: null,
      attempts: 0,
      accounting: null,
    };
    const token = randomBytes(16).toString("hex");
    jobs.set(id, { view, token, frozen: false });
    refreshQueue();
    return send(res, 202, { job: view, cancel_token: token }, { Location: `/api/v1/jobs/${id}` });
  }
  const match = path.match(/^\/api\/v1\/jobs\/([^/]+)(\/events|\/audio)?$/);
  const job = match && jobs.get(match[1]);
  if (!job) return fail(res, 404, "not_found", "no such job");
  if (req.method === "GET" && match[2] === "/audio") {
    if (!job.wav) return fail(res, 404, "not_found", "no audio yet");
    res.writeHead(200, { "Content-Type": "audio/wav", "Content-Length": job.wav.length });
    return res.end(job.wav);
  }
  if (req.method === "GET" && match[2] === "/events") {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store" });
    res.write(`event: job\ndata: ${JSON.stringify(job.view)}\n\n`);
    if (["succeeded", "failed", "canceled"].includes(job.view.status)) return res.end();
    if (!watchers.has(job.view.id)) watchers.set(job.view.id, new Set());
    watchers.get(job.view.id).add(res);
    req.on("close", () => watchers.get(job.view.id)?.delete(res));
    return;
  }
  if (req.method === "GET") return send(res, 200, job.view);
  if (req.method === "DELETE") {
    if (req.headers["x-cancel-token"] !== job.token) return fail(res, 403, "forbidden", "wrong cancel token");
    if (!["queued", "running"].includes(job.view.status)) return fail(res, 409, "already_finished", "job already finished");
    Object.assign(job.view, { status: "canceled", position: null, jobs_ahead: null, eta: null, progress: null, stage: null, finished_at: new Date().toISOString() });
    publish(job.view);
    refreshQueue();
    return send(res, 200, job.view);
  }
  return fail(res, 405, "method_not_allowed", "method not allowed");
}

async function mockControl(req, res, path) {
  if (path === "/__mock/pause") paused = true;
  else if (path === "/__mock/resume") paused = false;
  else {
    const id = path.split("/").pop();
    const job = jobs.get(id);
    if (!job) return fail(res, 404, "not_found", "no such job");
    Object.assign(job.view, await readJson(req));
    job.frozen = true;
    publish(job.view);
    return send(res, 200, job.view);
  }
  return send(res, 200, { paused });
}

async function serveStatic(res, path) {
  const file = path === "/" || path.startsWith("/jobs/") ? "index.html" : normalize(path).replace(/^[/\\]+/, "");
  if (file.includes("..")) return fail(res, 404, "not_found", "not found");
  try {
    const body = await readFile(join(WEB, file));
    res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Cache-Control": "no-store" });
    res.end(body);
  } catch {
    fail(res, 404, "not_found", "not found");
  }
}

const server = createServer((req, res) => {
  const path = new URL(req.url, "http://x").pathname;
  const handler = path.startsWith("/api/") ? api : path.startsWith("/__mock/") ? mockControl : (rq, rs, p) => serveStatic(rs, p);
  Promise.resolve(handler(req, res, path)).catch((err) => fail(res, 500, "internal", String(err)));
});

const port = Number(process.argv[2] ?? process.env.PORT ?? 8090);
server.listen(port, "127.0.0.1", () => console.log(`mock listening on http://127.0.0.1:${server.address().port}`));
setInterval(refreshQueue, 1000);
work();
