// "Cancel this track", behind a confirmation dialog. Only the browser that submitted the job holds
// its cancel token, so only there is the control shown.
import { t } from "../../i18n/index.js";
import { cancelJob } from "../api.js";
import { h, setText } from "../dom.js";
import { dropToken, tokenFor } from "../store.js";

/**
 * `message` is the page's action alert, moved next to the button when a cancel is refused;
 * `onCanceled(view)` gets the job's view once the server has canceled it.
 */
export function cancelControl(id, { message, onCanceled }) {
  const button = h("button", { type: "button", class: "danger", onclick: () => confirmCancel() }, t("cancel"));
  const el = h("div", { class: "cancel-row" }, button);

  function confirmCancel() {
    const dialog = confirmDialog();
    dialog.addEventListener("close", async () => {
      dialog.remove();
      if (dialog.returnValue !== "cancel") return button.focus();
      button.disabled = true;
      const result = await cancelJob(id, tokenFor(id));
      button.disabled = false;
      if (result.ok && result.data) {
        dropToken(id);
        return onCanceled(result.data);
      }
      message.hidden = false;
      const key = result.status === 409 ? "cancelTooLate" : result.status === 403 ? "cancelForbidden" : "cancelFailed";
      button.after(message);
      setText(message, t(key));
    });
    document.body.append(dialog);
    dialog.showModal();
  }

  return {
    el,
    /** Shows the control only while `active` and where this browser holds the token. */
    show(active) {
      el.hidden = !active || !tokenFor(id);
    },
    stop() {
      document.querySelector("dialog.confirm")?.remove();
    },
  };
}

function confirmDialog() {
  return h(
    "dialog",
    { class: "confirm", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-body" },
    h("h2", { id: "confirm-title" }, t("cancelConfirmTitle")),
    h("p", { id: "confirm-body" }, t("cancelConfirmBody")),
    h(
      "form",
      { method: "dialog", class: "actions" },
      h("button", { value: "keep", class: "secondary", autofocus: true }, t("cancelConfirmNo")),
      h("button", { value: "cancel", class: "danger" }, t("cancelConfirmYes")),
    ),
  );
}
