// "While you wait": the link to come back to, how long the track is kept, notifications, and the
// cancel control. Shown only while the job is unfinished.
import { t } from "../../i18n/index.js";
import { h, replace, setText } from "../dom.js";
import { RETENTION_HOURS } from "../limits.js";
import { notifyRow } from "./notifications.js";

/** Fills the page's (hidden) "meanwhile" `section`; `cancelRow` comes from cancelControl. */
export function renderMeanwhile(section, { id, cancelRow }) {
  replace(
    section,
    h("h2", { id: "meanwhile-title" }, t("meanwhileTitle")),
    h("p", {}, t("meanwhileTab")),
    copyRow(),
    h("p", { class: "hint" }, t("meanwhileKept", RETENTION_HOURS)),
    notifyRow(id),
    cancelRow,
  );
}

/** The page's address, with a button that copies it; the field is there to copy by hand. */
function copyRow() {
  const button = h("button", { type: "button", class: "secondary", onclick: () => copy() }, t("copyLink"));
  const field = h("input", {
    type: "text",
    readonly: true,
    value: location.href,
    "aria-label": t("copyLink"),
    class: "link-field",
    onfocus: (e) => e.target.select(),
  });
  async function copy() {
    try {
      await navigator.clipboard.writeText(location.href);
      setText(button, t("copied"));
    } catch {
      field.focus();
      setText(button, t("copyFailed"));
    }
    setTimeout(() => setText(button, t("copyLink")), 2500);
  }
  return h("div", { class: "copy-row" }, field, button);
}
