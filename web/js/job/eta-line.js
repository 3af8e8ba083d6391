// "Starts in about … · ready in about …" while a track waits in line. The ranges are held steady
// (see eta.js) so the line does not flicker with every update from the server.
import { t } from "../../i18n/index.js";
import { h, setText } from "../dom.js";
import { formatRange } from "../format.js";
import { SteadyRange } from "../eta.js";

export function queueEtaLine() {
  const start = new SteadyRange();
  const finish = new SteadyRange();
  const startLine = h("p", { class: "eta-line", "data-testid": "eta" });
  const finishLine = h("span", { class: "eta-finish" });
  const el = h("p", { class: "eta-wrap" }, startLine, finishLine);

  /** Forgets the held ranges, so the next estimate shows at once. */
  const reset = () => {
    start.reset();
    finish.reset();
  };

  /** Feeds the server's estimate (`eta` of a JobView, or null). */
  const estimate = (eta, now) => {
    if (!eta) return;
    start.update(eta.start_seconds.low, eta.start_seconds.high, now);
    finish.update(eta.finish_seconds.low, eta.finish_seconds.high, now);
  };

  /** Shows the ranges as they stand at `now`; between estimates they count down by themselves. */
  const show = (now) => {
    const s = start.current(now);
    const f = finish.current(now);
    setText(startLine, !s || s.high < 1 ? t("startsSoon") : t("startsIn", formatRange(s.low, s.high)));
    setText(finishLine, f ? ` · ${t("readyIn", formatRange(f.low, f.high))}` : "");
  };

  return { el, reset, estimate, show };
}
