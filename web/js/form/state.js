// What the form keeps between renders: a language switch redraws the page, and "make another" or
// "edit the prompt" on a job page comes back to it with that job's parameters.
import { limits } from "../limits.js";
import { takeDraft } from "../store.js";

/** The sampling settings, in the order the advanced section shows them. */
export const ADVANCED = ["top_k", "top_p", "temperature", "guidance_scale", "seed"];

const remembered = { values: null, advancedOpen: false };

function defaults() {
  return {
    prompt: "",
    duration_seconds: String(limits.duration_seconds.default),
    top_k: String(limits.top_k.default),
    top_p: String(limits.top_p.default),
    temperature: String(limits.temperature.default),
    guidance_scale: String(limits.guidance_scale.default),
    seed: "",
  };
}

function fromParams(params) {
  const v = defaults();
  for (const key of Object.keys(v)) {
    if (params[key] !== undefined && params[key] !== null) v[key] = String(params[key]);
  }
  return v;
}

/**
 * The form's state for this render: `values` (raw text by field name) and `advancedOpen`. A draft
 * left by a job page replaces what was typed before, and opens the advanced section when it holds
 * anything other than the defaults, so nothing it carries is out of sight.
 */
export function formState() {
  const draft = takeDraft();
  if (draft) {
    remembered.values = fromParams(draft);
    const start = defaults();
    remembered.advancedOpen = ADVANCED.some((k) => k !== "seed" && remembered.values[k] !== start[k]) || remembered.values.seed !== "";
  }
  remembered.values ??= defaults();
  return remembered;
}

/** After a submission the next track should not repeat this one's seed by accident. */
export function forgetSeed(state) {
  state.values = { ...state.values, seed: "" };
}
