// Panels that are not a job's state: a link that leads nowhere, and the moment before the first view.
import { t } from "../../i18n/index.js";
import { h } from "../dom.js";

/** A heading, an optional explanation, and the way back to the form. */
export function messagePanel(titleKey, body) {
  const el = h(
    "div",
    { class: "panel panel-message", "data-state": "message" },
    h("h1", { id: "state-title", tabindex: -1 }, t(titleKey)),
    body ? h("p", {}, body) : null,
    h("div", { class: "actions" }, h("a", { class: "button primary", href: "/", "data-link": "" }, t("backToForm"))),
  );
  return { el, update: () => {} };
}

export function loadingPanel() {
  return { el: h("div", { class: "panel" }, h("p", { class: "loading" }, t("loadingJob"))), update: () => {} };
}
