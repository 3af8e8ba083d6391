// The panels for a track that did not finish, failed or canceled: both offer to start it again
// as it was, or to change it on the form first.
import { t } from "../../i18n/index.js";
import { h } from "../dom.js";

export function failedPanel(view, actions) {
  return retryPanel("failed", actions, {
    title: t("failedTitle"),
    help: t("failedHelp"),
    again: t("tryAgain"),
    extra: view.error ? h("details", { class: "technical" }, h("summary", {}, t("technicalDetails")), h("p", {}, view.error)) : null,
  });
}

export function canceledPanel(_view, actions) {
  return retryPanel("canceled", actions, { title: t("canceledTitle"), help: t("canceledHelp"), again: t("startAgain") });
}

function retryPanel(state, actions, { title, help, again, extra = null }) {
  const el = h(
    "div",
    { class: `panel panel-${state}`, "data-state": state },
    h("h1", { id: "state-title", tabindex: -1 }, title),
    h("p", {}, help),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "primary", onclick: actions.retry }, again),
      h("button", { type: "button", class: "secondary", onclick: actions.edit }, t("editPrompt")),
    ),
    actions.message,
    extra,
  );
  return { el, update: () => {} };
}
