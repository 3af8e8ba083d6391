// The job page's state panels. Each builder returns { el, update(view, now) }: the panel is built once
// per state and then only its text changes, so focus, selection and the audio player survive updates.
import { t } from "../i18n/index.js";
import { h, replace, setText } from "./dom.js";
import { formatClock, formatNumber, formatRange, formatSpan, formatWhen } from "./format.js";
import { RETENTION_HOURS } from "./limits.js";
import { SteadyRange } from "./eta.js";

const STAGES = ["encoding_prompt", "composing", "rendering_audio"];

export function queuedPanel() {
  const start = new SteadyRange();
  const finish = new SteadyRange();
  const title = h("h1", { id: "state-title", tabindex: -1 });
  const startLine = h("p", { class: "eta-line", "data-testid": "eta" });
  const finishLine = h("span", { class: "eta-finish" });
  const ahead = h("p", { class: "ahead", "data-testid": "ahead" });
  const line = h("div", { class: "line", "aria-hidden": "true" });
  const el = h(
    "div",
    { class: "panel panel-queued", "data-state": "queued" },
    title,
    h("p", { class: "eta-wrap" }, startLine, finishLine),
    line,
    ahead,
    h("p", { class: "hint" }, t("queuedExplain")),
  );
  let lastView = null;
  const update = (view, now) => {
    // A move in line is a reason for the estimate to change at once; anything else is smoothed.
    if (lastView && view.position !== lastView.position) {
      start.reset();
      finish.reset();
    }
    if (view !== lastView && view.eta) {
      start.update(view.eta.start_seconds.low, view.eta.start_seconds.high, now);
      finish.update(view.eta.finish_seconds.low, view.eta.finish_seconds.high, now);
    }
    lastView = view;
    const position = view.position ?? 1;
    setText(title, position <= 1 ? t("queuedNext") : t("queuedPosition", t("ordinal", position)));
    const s = start.current(now);
    const f = finish.current(now);
    setText(startLine, !s || s.high < 1 ? t("startsSoon") : t("startsIn", formatRange(s.low, s.high)));
    setText(finishLine, f ? ` · ${t("readyIn", formatRange(f.low, f.high))}` : "");
    const jobsAhead = view.jobs_ahead ?? Math.max(0, position - 1);
    setText(ahead, t("jobsAhead", jobsAhead));
    drawLine(line, jobsAhead);
  };
  return { el, update };
}

/** A row of dots: the tracks waiting ahead, then yours. Purely visual; the sentence below says the same. */
function drawLine(line, jobsAhead) {
  const shown = Math.min(jobsAhead, 9);
  if (line.childElementCount === shown + 1 + (jobsAhead > 9 ? 1 : 0)) return;
  const dots = [];
  if (jobsAhead > 9) dots.push(h("span", { class: "dot-more" }, `+${jobsAhead - 9}`));
  for (let i = 0; i < shown; i += 1) dots.push(h("span", { class: "dot" }));
  dots.push(h("span", { class: "dot dot-you" }));
  replace(line, dots);
}

export function runningPanel() {
  const finish = new SteadyRange();
  const title = h("h1", { id: "state-title", tabindex: -1 }, t("runningTitle"));
  const stageName = h("strong", { class: "stage-name", "data-testid": "stage" });
  const stageDetail = h("span", { class: "stage-detail" });
  const fill = h("div", { class: "bar-fill" });
  const percent = h("span", { class: "bar-percent", "data-testid": "percent" });
  const bar = h(
    "div",
    { class: "bar", role: "progressbar", "aria-label": t("progressLabel"), "aria-valuemin": 0, "aria-valuemax": 100 },
    fill,
  );
  const elapsed = h("span", { "data-testid": "elapsed" });
  const left = h("span", { "data-testid": "time-left" });
  const steps = h(
    "ol",
    { class: "stages" },
    STAGES.map((stage) => h("li", { dataset: { stage } }, t(`stage_${stage}`))),
  );
  const el = h(
    "div",
    { class: "panel panel-running", "data-state": "running" },
    title,
    h("p", { class: "stage-line" }, stageName, stageDetail),
    h("div", { class: "bar-row" }, bar, percent),
    h("p", { class: "times" }, elapsed, h("span", { "aria-hidden": "true" }, " · "), left),
    steps,
  );
  let lastView = null;
  let seenProgressAt = null;
  const update = (view, now) => {
    const p = view.progress;
    const fraction = Math.min(1, Math.max(0, p?.fraction ?? 0));
    const startedAt = Date.parse(view.started_at ?? "") || now;
    const elapsedSeconds = Math.max(0, (now - startedAt) / 1000);
    if (view !== lastView) {
      if (view.eta?.finish_seconds) finish.update(view.eta.finish_seconds.low, view.eta.finish_seconds.high, now);
      else if (fraction > 0.02) {
        // No server estimate: extrapolate from the pace so far, with a margin either side.
        const remaining = (elapsedSeconds * (1 - fraction)) / fraction;
        finish.update(remaining * 0.85, remaining * 1.2, now);
      }
      if (p) seenProgressAt = now;
      lastView = view;
    }
    const stage = view.stage ?? (p ? "composing" : null);
    setText(stageName, t(stage ? `stage_${stage}` : "stage_starting"));
    if (stage === "composing" && p) {
      const total = view.params?.duration_seconds ?? 0;
      const done = formatNumber(Math.min(total, fraction * total), 1);
      setText(stageDetail, ` — ${t("composingDetail", done, formatNumber(total, 1), p.step, p.total)}`);
    } else setText(stageDetail, "");
    const pct = Math.floor(fraction * 100);
    fill.style.width = `${fraction * 100}%`;
    bar.setAttribute("aria-valuenow", String(pct));
    bar.setAttribute("aria-valuetext", `${pct}%`);
    bar.classList.toggle("bar-busy", stage !== "composing");
    setText(percent, `${pct}%`);
    setText(elapsed, t("elapsed", formatClock(elapsedSeconds)));
    const f = finish.current(now);
    setText(left, !f ? "" : f.high < 1 ? t("almostDone") : t("timeLeft", formatRange(f.low, f.high)));
    const current = STAGES.indexOf(stage);
    for (const li of steps.children) {
      const i = STAGES.indexOf(li.dataset.stage);
      li.classList.toggle("done", current > i);
      li.classList.toggle("current", current === i);
      if (current === i) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    }
    return seenProgressAt;
  };
  return { el, update };
}

export function paramsList(params) {
  const rows = [
    ["param_duration_seconds", t("seconds", formatNumber(params.duration_seconds, 1))],
    ["param_top_k", params.top_k ? formatNumber(params.top_k) : t("off")],
    ["param_top_p", params.top_p ? formatNumber(params.top_p) : t("off")],
    ["param_temperature", formatNumber(params.temperature)],
    ["param_guidance_scale", formatNumber(params.guidance_scale)],
    ["param_seed", String(params.seed)],
  ];
  return h(
    "dl",
    { class: "params" },
    rows.map(([key, value]) =>
      h("div", { class: key === "param_seed" ? "wide" : null }, h("dt", {}, t(key)), h("dd", { "data-param": key.slice(6) }, value)),
    ),
  );
}

export function succeededPanel(view, actions) {
  const a = view.accounting ?? {};
  const facts = [];
  if (a.compute_seconds) {
    const rtf = a.real_time_factor ? formatNumber(a.real_time_factor, 1) : null;
    facts.push(t("madeIn", formatSpan(a.compute_seconds), rtf));
  }
  if (a.queue_wait_seconds >= 1) facts.push(t("waitedFor", formatSpan(a.queue_wait_seconds)));
  if (a.energy_wh) facts.push(t("energy", formatNumber(a.energy_wh, 2)));
  const finished = Date.parse(view.finished_at ?? "") || Date.now();
  const keptUntil = new Date(finished + RETENTION_HOURS * 3600 * 1000);
  const audio = h("audio", { controls: true, preload: "metadata", src: view.audio_url, "aria-label": t("audioLabel") });
  const el = h(
    "div",
    { class: "panel panel-succeeded", "data-state": "succeeded" },
    h("h1", { id: "state-title", tabindex: -1 }, t("readyTitle")),
    audio,
    h(
      "div",
      { class: "actions" },
      h("a", { class: "button primary", href: view.audio_url, download: `coda-${view.id}.wav` }, t("download")),
      h("button", { type: "button", class: "secondary", onclick: actions.variation, "aria-describedby": "variation-hint" }, t("variation")),
      h("button", { type: "button", class: "secondary", onclick: actions.makeAnother }, t("makeAnother")),
    ),
    actions.message,
    h("p", { class: "hint", id: "variation-hint" }, t("variationHint")),
    h("h2", {}, t("paramsTitle")),
    paramsList(view.params),
    facts.length ? h("p", { class: "facts" }, facts.join(" ")) : null,
    h("p", { class: "hint kept" }, t("keptUntil", formatWhen(keptUntil))),
  );
  return { el, update: () => {} };
}

export function failedPanel(view, actions) {
  const el = h(
    "div",
    { class: "panel panel-failed", "data-state": "failed" },
    h("h1", { id: "state-title", tabindex: -1 }, t("failedTitle")),
    h("p", {}, t("failedHelp")),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "primary", onclick: actions.retry }, t("tryAgain")),
      h("button", { type: "button", class: "secondary", onclick: actions.edit }, t("editPrompt")),
    ),
    actions.message,
    view.error ? h("details", { class: "technical" }, h("summary", {}, t("technicalDetails")), h("p", {}, view.error)) : null,
  );
  return { el, update: () => {} };
}

export function canceledPanel(view, actions) {
  const el = h(
    "div",
    { class: "panel panel-canceled", "data-state": "canceled" },
    h("h1", { id: "state-title", tabindex: -1 }, t("canceledTitle")),
    h("p", {}, t("canceledHelp")),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "primary", onclick: actions.retry }, t("startAgain")),
      h("button", { type: "button", class: "secondary", onclick: actions.edit }, t("editPrompt")),
    ),
    actions.message,
  );
  return { el, update: () => {} };
}

export function messagePanel(titleKey, body, actions) {
  const el = h(
    "div",
    { class: "panel panel-message", "data-state": "message" },
    h("h1", { id: "state-title", tabindex: -1 }, t(titleKey)),
    body ? h("p", {}, body) : null,
    h("div", { class: "actions" }, h("a", { class: "button primary", href: "/", "data-link": "" }, t("backToForm"))),
    actions?.message,
  );
  return { el, update: () => {} };
}
