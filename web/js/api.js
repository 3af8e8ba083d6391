// Talks to the Coda REST API. Every call resolves (never throws) to { ok, status, data, error,
// retryAfter, network } so callers decide what to say instead of catching exceptions.

const BASE = "/api/v1";
export const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

async function call(method, path, { body, headers } = {}) {
  let response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers: { Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
      cache: "no-store",
    });
  } catch {
    return { ok: false, status: 0, network: true };
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // Proxies answer 502/504 with HTML; the status alone is enough to explain it.
  }
  const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
  if (response.ok) return { ok: true, status: response.status, data, retryAfter };
  return { ok: false, status: response.status, error: data?.error ?? null, retryAfter };
}

function parseRetryAfter(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, (date - Date.now()) / 1000) : null;
}

export const submitJob = (request) => call("POST", "/jobs", { body: request });
export const getJob = (id) => call("GET", `/jobs/${encodeURIComponent(id)}`);
export const getQueue = () => call("GET", "/queue");
export const cancelJob = (id, token) =>
  call("DELETE", `/jobs/${encodeURIComponent(id)}`, { headers: { "X-Cancel-Token": token } });

/**
 * Follows a job live: server-sent events first, polling with backoff once they fail.
 * `onView(view)` gets every JobView; `onConnection({ lost, retryInSeconds })` says when updates
 * stopped arriving and when they resumed. Returns a function that stops watching.
 */
export function watchJob(id, { onView, onConnection, onMissing }) {
  let stopped = false;
  let source = null;
  let timer = null;
  let failures = 0;
  let lastStatus = null;

  const deliver = (view) => {
    lastStatus = view.status;
    onView(view);
    if (TERMINAL.has(view.status)) stop();
  };

  const poll = async () => {
    if (stopped) return;
    const result = await getJob(id);
    if (stopped) return;
    if (result.ok && result.data) {
      if (failures > 0) onConnection({ lost: false });
      failures = 0;
      deliver(result.data);
      if (!stopped) schedule(lastStatus === "running" ? 1000 : 2000);
    } else if (result.status === 404) {
      onMissing?.();
      stop();
    } else {
      failures += 1;
      // 2, 4, 8, 16, 30, 30… seconds: quick to recover from a blip, gentle on a server that is down.
      const delay = Math.min(30000, 1000 * 2 ** failures);
      onConnection({ lost: true, retryInSeconds: Math.round(delay / 1000) });
      schedule(delay);
    }
  };

  const schedule = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  };

  const startPolling = () => {
    source?.close();
    source = null;
    poll();
  };

  if ("EventSource" in window) {
    source = new EventSource(`${BASE}/jobs/${encodeURIComponent(id)}/events`);
    const onEvent = (event) => {
      try {
        deliver(JSON.parse(event.data));
      } catch {
        // A malformed event is skipped; the next one (or a poll) carries the full state again.
      }
    };
    // The api names its events "job"; unnamed ones are accepted too.
    source.addEventListener("job", onEvent);
    source.onmessage = onEvent;
    // The stream closing after a terminal state is expected; any other error hands over to polling,
    // whose first request also tells a missing job (404) apart from a network failure.
    source.onerror = () => {
      if (stopped || TERMINAL.has(lastStatus)) return stop();
      startPolling();
    };
  } else {
    poll();
  }

  function stop() {
    stopped = true;
    clearTimeout(timer);
    source?.close();
  }
  return stop;
}
