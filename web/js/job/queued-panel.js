// The panel while a track waits in line: the place in line, when it should start and be ready,
// and how many tracks are ahead.
import { t } from "../../i18n/index.js";
import { h, replace, setText } from "../dom.js";
import { queueEtaLine } from "./eta-line.js";

export function queuedPanel() {
  const title = h("h1", { id: "state-title", tabindex: -1 });
  const eta = queueEtaLine();
  const ahead = h("p", { class: "ahead", "data-testid": "ahead" });
  const line = h("div", { class: "line", "aria-hidden": "true" });
  const el = h(
    "div",
    { class: "panel panel-queued", "data-state": "queued" },
    title,
    eta.el,
    line,
    ahead,
    h("p", { class: "hint" }, t("queuedExplain")),
  );
  let lastView = null;
  const update = (view, now) => {
    // A move in line is a reason for the estimate to change at once; anything else is smoothed.
    if (lastView && view.position !== lastView.position) eta.reset();
    if (view !== lastView) eta.estimate(view.eta, now);
    lastView = view;
    const position = view.position ?? 1;
    setText(title, position <= 1 ? t("queuedNext") : t("queuedPosition", t("ordinal", position)));
    eta.show(now);
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
