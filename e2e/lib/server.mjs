// Starts the real Coda binary for a test: its own port, data folder and Redis namespace, so tests
// never see each other's jobs. `coda up` runs api + worker; `coda api` runs no worker, so jobs
// stay queued for as long as a test needs them to.
import { spawn, execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { freePort } from "./ports.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CODA_BIN = process.env.CODA_BIN ?? join(ROOT, "target/debug/coda");
const READY_TIMEOUT_MS = 60_000;

/**
 * Runs `coda <command>` and resolves once `/readyz` answers 200.
 * Returns { base, namespace, dataDir, port, logs(), restart(), stop() }.
 */
export async function startCoda({ command = "up", env = {}, port, namespace, dataDir } = {}) {
  if (!existsSync(CODA_BIN)) throw new Error(`${CODA_BIN} is missing: run \`cargo build -p coda\` first`);
  port ??= await freePort();
  namespace ??= `e2e-${randomBytes(6).toString("hex")}`;
  dataDir ??= await mkdtemp(join(tmpdir(), "coda-e2e-"));
  const base = `http://127.0.0.1:${port}`;
  let output = "";
  const child = spawn(CODA_BIN, [command], {
    cwd: ROOT,
    env: {
      ...process.env,
      CODA_HTTP__ADDR: `127.0.0.1:${port}`,
      CODA_STORAGE__DIR: dataDir,
      CODA_REDIS__NAMESPACE: namespace,
      CODA_MODEL__ID: "tiny",
      CODA_WEB_DIR: join(ROOT, "web"),
      RUST_LOG: process.env.RUST_LOG ?? "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = once(child, "exit");

  await waitReady(base, child, () => output);

  const server = {
    base,
    port,
    namespace,
    dataDir,
    logs: () => output,
    /** Stops the process, keeping its Redis namespace and data folder. */
    async kill() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
    /** Stops the process and removes everything it left behind. */
    async stop() {
      await server.kill();
      await rm(dataDir, { recursive: true, force: true });
      await dropNamespace(namespace);
    },
  };
  return server;
}

async function waitReady(base, child, logs) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  // Readiness is only observable over HTTP, so this asks until the answer is yes (or the process dies).
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`coda exited with ${child.exitCode} before it was ready:\n${logs()}`);
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`coda was not ready within ${READY_TIMEOUT_MS} ms:\n${logs()}`);
}

function dropNamespace(namespace) {
  // Best effort: a leftover namespace only costs a few keys in a local Redis.
  return new Promise((resolve) => {
    execFile("redis-cli", ["--scan", "--pattern", `${namespace}*`], (err, stdout) => {
      const keys = err ? [] : stdout.split("\n").filter(Boolean);
      if (keys.length === 0) return resolve();
      execFile("redis-cli", ["del", ...keys], () => resolve());
    });
  });
}

/** POSTs a job straight to the API; returns { job, cancel_token }. */
export async function submit(base, body) {
  const res = await fetch(`${base}/api/v1/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
  return res.json();
}

export async function getJob(base, id) {
  const res = await fetch(`${base}/api/v1/jobs/${id}`);
  return res.json();
}
