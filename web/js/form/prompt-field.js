// The prompt: a text area with a character count, and example prompts to start from.
import { t } from "../../i18n/index.js";
import { h, setText } from "../dom.js";
import { limits } from "../limits.js";

export function promptField(fields) {
  const counter = h("span", { class: "counter", "aria-hidden": "true" });
  const updateCounter = () => setText(counter, t("charsLeft", [...fields.value("prompt")].length, limits.prompt.maxChars));
  const input = fields.bind(
    "prompt",
    h("textarea", {
      rows: 3,
      maxlength: limits.prompt.maxChars,
      placeholder: t("promptPlaceholder"),
      required: true,
      oninput: () => updateCounter(),
    }),
  );
  const pick = (text) => {
    fields.fill("prompt", text);
    updateCounter();
    input.focus();
  };
  const el = h(
    "div",
    { class: "field" },
    h("div", { class: "label-row" }, h("label", { for: "prompt" }, t("promptLabel")), counter),
    input,
    h("p", { class: "hint", id: "prompt-hint" }, t("promptHint")),
    fields.errorSlot("prompt"),
    examples(pick),
  );
  updateCounter();
  return { el };
}

function examples(pick) {
  return h(
    "div",
    { class: "examples" },
    h("span", { class: "examples-label", id: "examples-label" }, t("examplesLabel")),
    h(
      "ul",
      { "aria-labelledby": "examples-label" },
      t("examples").map((text) =>
        h("li", {}, h("button", { type: "button", class: "chip", onclick: () => pick(text) }, text)),
      ),
    ),
  );
}
