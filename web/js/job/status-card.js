// The card that says where the job stands: a connection banner, the prompt, and the panel for the
// current state, swapped only when the state changes.
import { t } from "../../i18n/index.js";
import { h, replace, setText } from "../dom.js";

export function statusCard() {
  const banner = connectionBanner();
  const quote = h("blockquote", { class: "prompt-quote" });
  const host = h("div", { class: "panel-host" });
  const el = h("section", { class: "card status", "aria-labelledby": "state-title" }, banner.el, quote, host);
  let state = null;
  let panel = null;

  return {
    el,
    banner,
    /** The state the shown panel is for: a job status, "message", or null before any. */
    get state() {
      return state;
    },
    showPanel(nextState, built) {
      state = nextState;
      panel = built;
      replace(host, built.el);
    },
    update(view, now) {
      panel.update(view, now);
    },
    showPrompt(view) {
      setText(quote, view.params?.prompt ?? "");
      quote.setAttribute("aria-label", t("yourPrompt"));
    },
  };
}

/** Says when live updates stopped arriving and when the next attempt is; the last state stays shown. */
function connectionBanner() {
  const el = h("p", { class: "banner", role: "status", hidden: true });
  const hide = () => (el.hidden = true);
  /** `known`: whether any state was shown yet; without one the page also says it is offline. */
  const lost = (retryInSeconds, known) => {
    el.hidden = false;
    setText(el, known ? t("reconnecting", retryInSeconds) : t("offline") + " " + t("reconnecting", retryInSeconds));
  };
  return { el, hide, lost };
}
