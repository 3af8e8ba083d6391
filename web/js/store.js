// What this browser remembers: the jobs it submitted (for "recent tracks") and their cancel tokens.
// Only this browser can cancel a job, because only it holds the token the server handed out.

const RECENT_KEY = "coda.recent";
const TOKENS_KEY = "coda.tokens";
const MAX_RECENT = 20;

function read(key, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem(key));
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

function write(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the page still works, it just forgets after a reload.
  }
}

/** Newest first: [{ id, prompt, duration_seconds, status, created_at }]. */
export function recentJobs() {
  const list = read(RECENT_KEY, []);
  return Array.isArray(list) ? list.filter((j) => j && typeof j.id === "string") : [];
}

/** Adds or refreshes a job from a JobView. */
export function rememberJob(view) {
  const entry = {
    id: view.id,
    prompt: view.params?.prompt ?? "",
    duration_seconds: view.params?.duration_seconds ?? null,
    status: view.status,
    created_at: view.created_at ?? new Date().toISOString(),
  };
  const rest = recentJobs().filter((j) => j.id !== view.id);
  write(RECENT_KEY, [entry, ...rest].slice(0, MAX_RECENT));
}

/** Updates the stored status of a job this browser already knows; ignores strangers' jobs. */
export function updateStatus(id, status) {
  const list = recentJobs();
  const job = list.find((j) => j.id === id);
  if (!job || job.status === status) return;
  job.status = status;
  write(RECENT_KEY, list);
}

export function forgetAll() {
  write(RECENT_KEY, []);
  write(TOKENS_KEY, {});
}

export function saveToken(id, token) {
  const tokens = read(TOKENS_KEY, {});
  tokens[id] = token;
  // Tokens of jobs that fell off the recent list are of no further use.
  const keep = new Set(recentJobs().map((j) => j.id).concat(id));
  write(TOKENS_KEY, Object.fromEntries(Object.entries(tokens).filter(([k]) => keep.has(k))));
}

export function tokenFor(id) {
  return read(TOKENS_KEY, {})[id] ?? null;
}

export function dropToken(id) {
  const tokens = read(TOKENS_KEY, {});
  delete tokens[id];
  write(TOKENS_KEY, tokens);
}

/** Parameters to prefill the form with ("make another", "edit the prompt"); read once. */
export function stashDraft(params) {
  try {
    sessionStorage.setItem("coda.draft", JSON.stringify(params));
  } catch {
    // Without session storage the form simply starts empty.
  }
}

export function takeDraft() {
  try {
    const draft = JSON.parse(sessionStorage.getItem("coda.draft"));
    sessionStorage.removeItem("coda.draft");
    return draft;
  } catch {
    return null;
  }
}
