// The panel while a track is being made: the stage it is in, a progress bar, the time spent and
// the time left.
import { t } from "../../i18n/index.js";
import { h, setText } from "../dom.js";
import { formatClock, formatNumber, formatRange } from "../format.js";
import { SteadyRange } from "../eta.js";

const STAGES = ["encoding_prompt", "composing", "rendering_audio"];

export function runningPanel() {
  const finish = new SteadyRange();
  const title = h("h1", { id: "state-title", tabindex: -1 }, t("runningTitle"));
  const stageName = h("strong", { class: "stage-name", "data-testid": "stage" });
  const stageDetail = h("span", { class: "stage-detail" });
  const together = h("p", { class: "hint together", "data-testid": "together", hidden: true });
  const bar = progressBar();
  const elapsed = h("span", { "data-testid": "elapsed" });
  const left = h("span", { "data-testid": "time-left" });
  const steps = stageSteps();
  const el = h(
    "div",
    { class: "panel panel-running", "data-state": "running" },
    title,
    h("p", { class: "stage-line" }, stageName, stageDetail),
    together,
    bar.el,
    h("p", { class: "times" }, elapsed, h("span", { "aria-hidden": "true" }, " · "), left),
    steps.el,
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
    // Several tracks share each decoding step: say so, since their bars move together.
    const mates = stage === "composing" ? (p?.together ?? 1) : 1;
    together.hidden = mates <= 1;
    setText(together, mates > 1 ? t("together", mates) : "");
    // Only composing reports steps; the other stages show a busy bar instead of a stuck one.
    bar.show(fraction, stage !== "composing");
    setText(elapsed, t("elapsed", formatClock(elapsedSeconds)));
    const f = finish.current(now);
    setText(left, !f ? "" : f.high < 1 ? t("almostDone") : t("timeLeft", formatRange(f.low, f.high)));
    steps.show(stage);
    return seenProgressAt;
  };
  return { el, update };
}

function progressBar() {
  const fill = h("div", { class: "bar-fill" });
  const percent = h("span", { class: "bar-percent", "data-testid": "percent" });
  const bar = h(
    "div",
    { class: "bar", role: "progressbar", "aria-label": t("progressLabel"), "aria-valuemin": 0, "aria-valuemax": 100 },
    fill,
  );
  const show = (fraction, busy) => {
    const pct = Math.floor(fraction * 100);
    fill.style.width = `${fraction * 100}%`;
    bar.setAttribute("aria-valuenow", String(pct));
    bar.setAttribute("aria-valuetext", `${pct}%`);
    bar.classList.toggle("bar-busy", busy);
    setText(percent, `${pct}%`);
  };
  return { el: h("div", { class: "bar-row" }, bar, percent), show };
}

/** The three stages as a list, the current one marked for assistive technology as well. */
function stageSteps() {
  const el = h(
    "ol",
    { class: "stages" },
    STAGES.map((stage) => h("li", { dataset: { stage } }, t(`stage_${stage}`))),
  );
  const show = (stage) => {
    const current = STAGES.indexOf(stage);
    for (const li of el.children) {
      const i = STAGES.indexOf(li.dataset.stage);
      li.classList.toggle("done", current > i);
      li.classList.toggle("current", current === i);
      if (current === i) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    }
  };
  return { el, show };
}
