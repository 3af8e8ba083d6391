// The length: a number field with a slider beside it as a visual aid (the number is the real
// control), and a hint that states the bounds in force.
import { t } from "../../i18n/index.js";
import { h, setText } from "../dom.js";
import { limits } from "../limits.js";

export function durationField(fields) {
  const d = limits.duration_seconds;
  const input = fields.bind(
    "duration_seconds",
    h("input", { type: "number", min: d.min, max: d.max, step: "any", inputmode: "decimal", required: true }),
  );
  const slider = h("input", {
    type: "range",
    min: d.min,
    max: d.max,
    step: d.step,
    value: input.value,
    tabindex: -1,
    "aria-hidden": "true",
    class: "slider",
  });
  slider.addEventListener("input", () => fields.fill("duration_seconds", slider.value));
  input.addEventListener("input", () => (slider.value = input.value));
  const hint = h("p", { class: "hint", id: "duration_seconds-hint" }, t("durationHint", d.min, d.max));
  const el = h(
    "div",
    { class: "field" },
    h("label", { for: "duration_seconds" }, t("durationLabel")),
    h("div", { class: "duration-row" }, input, h("span", { class: "unit" }, t("durationUnit")), slider),
    hint,
    fields.errorSlot("duration_seconds"),
  );

  /** Shows the bounds `limits` now holds, after the server stated stricter ones. */
  const showLimits = () => {
    const { min, max } = limits.duration_seconds;
    input.max = slider.max = max;
    setText(hint, t("durationHint", min, max));
  };
  return { el, showLimits };
}
