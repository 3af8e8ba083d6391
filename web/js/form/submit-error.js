// Why a submission did not go through, under the form, with a way to try again. When the server
// said how long to wait, the retry button holds until then.
import { t } from "../../i18n/index.js";
import { h, replace, setText } from "../dom.js";

export function submitErrorNotice() {
  const el = h("div", { class: "form-error", role: "alert", hidden: true });
  let countdown = null;

  const stop = () => {
    clearInterval(countdown);
    countdown = null;
  };

  /** `problem` is { title, detail, retryAfter } as describeSubmitError gives it. */
  const show = ({ title, detail, retryAfter }) => {
    el.hidden = false;
    stop();
    // A submit button: trying again sends the form as it now stands.
    const retry = h("button", { type: "submit", class: "secondary" }, t("retryNow"));
    replace(el, h("p", { class: "form-error-title" }, title), detail ? h("p", {}, detail) : null, retry);
    if (!retryAfter) return;
    let left = Math.ceil(retryAfter);
    retry.disabled = true;
    setText(retry, t("retryIn", left));
    countdown = setInterval(() => {
      left -= 1;
      if (left > 0) return setText(retry, t("retryIn", left));
      stop();
      retry.disabled = false;
      setText(retry, t("retryNow"));
    }, 1000);
  };

  const hide = () => (el.hidden = true);
  return { el, show, hide, stop };
}
