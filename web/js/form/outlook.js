// The current wait, next to "Compose", so nobody submits blind.
import { t } from "../../i18n/index.js";
import { getQueue } from "../api.js";
import { h, setText } from "../dom.js";
import { formatRange } from "../format.js";

const REFRESH_MS = 15000;

/** `follow()` keeps the line current while the form is open and returns a stop function. */
export function outlookLine() {
  const el = h("p", { class: "outlook", id: "outlook" }, t("outlookLoading"));
  const refresh = async () => {
    const result = await getQueue();
    if (!result.ok || !result.data) return setText(el, t("outlookUnavailable"));
    setText(el, describeQueue(result.data));
  };
  const follow = () => {
    refresh();
    const timer = setInterval(refresh, REFRESH_MS);
    return () => clearInterval(timer);
  };
  return { el, follow };
}

function describeQueue(q) {
  const parts = [];
  if (q.workers_alive === 0) parts.push(t("outlookNoWorkers"));
  else if (q.pending === 0 && q.running < Math.max(1, q.concurrency)) parts.push(t("outlookEmpty"));
  else {
    const w = q.expected_wait_seconds ?? { low: 0, high: 0 };
    parts.push(t("outlookWait", formatRange(w.low, w.high)));
  }
  if (q.pending > 0) parts.push(t("outlookPending", q.pending));
  return parts.join(" ");
}
