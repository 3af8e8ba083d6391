// The panel for a finished track: the player, the download, what to do next, the parameters used
// and what it cost.
import { t } from "../../i18n/index.js";
import { h } from "../dom.js";
import { formatNumber, formatSpan, formatWhen } from "../format.js";
import { RETENTION_HOURS } from "../limits.js";

/** `actions` as jobActions gives them; built once, so the player keeps playing through updates. */
export function succeededPanel(view, actions) {
  const facts = accountingFacts(view.accounting ?? {});
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

/** Sentences on the time and energy a track took; only the figures the server reported. */
function accountingFacts(a) {
  const facts = [];
  if (a.compute_seconds) {
    const rtf = a.real_time_factor ? formatNumber(a.real_time_factor, 1) : null;
    facts.push(t("madeIn", formatSpan(a.compute_seconds), rtf));
  }
  if (a.queue_wait_seconds >= 1) facts.push(t("waitedFor", formatSpan(a.queue_wait_seconds)));
  if (a.energy_wh) facts.push(t("energy", formatNumber(a.energy_wh, 2)));
  return facts;
}

/** The parameters a track was made with, the seed included, so it can be made again. */
function paramsList(params) {
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
