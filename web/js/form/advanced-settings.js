// "Advanced settings": the sampling parameters, folded away because the defaults suit most prompts.
import { t } from "../../i18n/index.js";
import { h } from "../dom.js";
import { limits } from "../limits.js";
import { ADVANCED } from "./state.js";

const TEXT_KEYS = {
  top_k: ["topKLabel", "topKHint"],
  top_p: ["topPLabel", "topPHint"],
  temperature: ["temperatureLabel", "temperatureHint"],
  guidance_scale: ["guidanceLabel", "guidanceHint"],
  seed: ["seedLabel", "seedHint"],
};

/** Whether the section is open lives in `state.advancedOpen`, so a redraw leaves it as it was. */
export function advancedSettings(fields, state) {
  // A field in error must be visible to take focus.
  const reveal = () => (details.open = true);
  const details = h(
    "details",
    { class: "advanced", open: state.advancedOpen, ontoggle: (e) => (state.advancedOpen = e.target.open) },
    h("summary", {}, t("advancedSummary")),
    h("p", { class: "hint" }, t("advancedIntro")),
    h("div", { class: "advanced-grid" }, ADVANCED.map((name) => samplingField(name, fields, reveal))),
  );
  return { el: details };
}

function samplingField(name, fields, reveal) {
  const spec = limits[name];
  const [labelKey, hintKey] = TEXT_KEYS[name];
  const seed = name === "seed";
  const input = fields.bind(
    name,
    h("input", {
      type: seed ? "text" : "number",
      inputmode: spec.integer ? "numeric" : "decimal",
      min: seed ? null : spec.min,
      max: seed ? null : spec.max,
      step: seed ? null : spec.step ?? 1,
      placeholder: seed ? t("seedPlaceholder") : null,
      autocomplete: "off",
    }),
    { reveal },
  );
  return h(
    "div",
    { class: "field" },
    h("label", { for: name }, t(labelKey)),
    input,
    h("p", { class: "hint", id: `${name}-hint` }, t(hintKey)),
    fields.errorSlot(name),
  );
}
