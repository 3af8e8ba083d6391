// The form page: prompt, length, advanced sampling settings, the current wait, and submission.
import { t } from "../i18n/index.js";
import { getQueue, submitJob } from "./api.js";
import { h, replace, setText } from "./dom.js";
import { formatRange } from "./format.js";
import { boundsFromMessage, checkField, limits } from "./limits.js";
import { renderRecent } from "./recent.js";
import { rememberJob, saveToken, takeDraft } from "./store.js";
import { describeSubmitError } from "./submit-errors.js";

const ADVANCED = ["top_k", "top_p", "temperature", "guidance_scale", "seed"];
const HINT_KEYS = {
  top_k: ["topKLabel", "topKHint"],
  top_p: ["topPLabel", "topPHint"],
  temperature: ["temperatureLabel", "temperatureHint"],
  guidance_scale: ["guidanceLabel", "guidanceHint"],
  seed: ["seedLabel", "seedHint"],
};

// Survives a language switch (which re-renders the page) and "make another".
let values = null;
let advancedOpen = false;

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

export function renderForm(root, { navigate }) {
  const draft = takeDraft();
  if (draft) {
    values = fromParams(draft);
    advancedOpen = ADVANCED.some((k) => k !== "seed" && values[k] !== defaults()[k]) || values.seed !== "";
  }
  values ??= defaults();
  const timers = new Set();
  const inputs = {};
  const errors = {};

  const fieldError = (name) => (errors[name] = h("p", { class: "field-error", id: `${name}-error`, hidden: true }));

  const showError = (name, message) => {
    const input = inputs[name];
    const slot = errors[name];
    if (!input || !slot) return false;
    slot.hidden = !message;
    setText(slot, message ?? "");
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    const described = [`${name}-hint`, message ? `${name}-error` : null].filter(Boolean).join(" ");
    input.setAttribute("aria-describedby", described);
    return true;
  };

  const bind = (name, input) => {
    inputs[name] = input;
    input.name = name;
    input.id = name;
    input.value = values[name];
    input.setAttribute("aria-describedby", `${name}-hint`);
    input.addEventListener("input", () => {
      values[name] = input.value;
      // Clear a stale complaint as soon as the value becomes acceptable, but don't nag mid-typing.
      if (input.hasAttribute("aria-invalid") && !checkField(name, input.value)) showError(name, null);
    });
    input.addEventListener("blur", () => {
      // New complaints wait for "Compose": one appearing on blur shifts the layout under the
      // pointer, and the click that caused the blur would miss its button.
      if (input.hasAttribute("aria-invalid")) showError(name, checkField(name, input.value));
    });
    return input;
  };

  // Prompt
  const counter = h("span", { class: "counter", "aria-hidden": "true" });
  const updateCounter = () => setText(counter, t("charsLeft", [...inputs.prompt.value].length, limits.prompt.maxChars));
  const prompt = bind(
    "prompt",
    h("textarea", {
      rows: 3,
      maxlength: limits.prompt.maxChars,
      placeholder: t("promptPlaceholder"),
      required: true,
      oninput: () => updateCounter(),
    }),
  );
  const examples = h(
    "div",
    { class: "examples" },
    h("span", { class: "examples-label", id: "examples-label" }, t("examplesLabel")),
    h(
      "ul",
      { "aria-labelledby": "examples-label" },
      t("examples").map((text) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "chip",
              onclick: () => {
                prompt.value = values.prompt = text;
                updateCounter();
                showError("prompt", null);
                prompt.focus();
              },
            },
            text,
          ),
        ),
      ),
    ),
  );

  // Duration: a number field with a slider beside it as a visual aid (the number is the real control).
  const d = limits.duration_seconds;
  const slider = h("input", {
    type: "range",
    min: d.min,
    max: d.max,
    step: d.step,
    value: values.duration_seconds,
    tabindex: -1,
    "aria-hidden": "true",
    class: "slider",
  });
  const duration = bind("duration_seconds", h("input", { type: "number", min: d.min, max: d.max, step: "any", inputmode: "decimal", required: true }));
  slider.addEventListener("input", () => {
    duration.value = values.duration_seconds = slider.value;
    showError("duration_seconds", null);
  });
  duration.addEventListener("input", () => (slider.value = duration.value));
  const durationHint = h("p", { class: "hint", id: "duration_seconds-hint" }, t("durationHint", d.min, d.max));

  // Advanced
  const advancedFields = ADVANCED.map((name) => {
    const spec = limits[name];
    const [labelKey, hintKey] = HINT_KEYS[name];
    const input = bind(
      name,
      h("input", {
        type: name === "seed" ? "text" : "number",
        inputmode: spec.integer ? "numeric" : "decimal",
        min: name === "seed" ? null : spec.min,
        max: name === "seed" ? null : spec.max,
        step: name === "seed" ? null : spec.step ?? 1,
        placeholder: name === "seed" ? t("seedPlaceholder") : null,
        autocomplete: "off",
      }),
    );
    return h(
      "div",
      { class: "field" },
      h("label", { for: name }, t(labelKey)),
      input,
      h("p", { class: "hint", id: `${name}-hint` }, t(hintKey)),
      fieldError(name),
    );
  });
  const advanced = h(
    "details",
    { class: "advanced", open: advancedOpen, ontoggle: (e) => (advancedOpen = e.target.open) },
    h("summary", {}, t("advancedSummary")),
    h("p", { class: "hint" }, t("advancedIntro")),
    h("div", { class: "advanced-grid" }, advancedFields),
  );

  const outlook = h("p", { class: "outlook", id: "outlook" }, t("outlookLoading"));
  const formError = h("div", { class: "form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary" }, t("submit"));

  const form = h(
    "form",
    { novalidate: true, class: "card compose", "aria-labelledby": "form-title", onsubmit: (e) => onSubmit(e) },
    h("h1", { id: "form-title" }, t("formTitle")),
    h(
      "div",
      { class: "field" },
      h("div", { class: "label-row" }, h("label", { for: "prompt" }, t("promptLabel")), counter),
      prompt,
      h("p", { class: "hint", id: "prompt-hint" }, t("promptHint")),
      fieldError("prompt"),
      examples,
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: "duration_seconds" }, t("durationLabel")),
      h("div", { class: "duration-row" }, duration, h("span", { class: "unit" }, t("durationUnit")), slider),
      durationHint,
      fieldError("duration_seconds"),
    ),
    advanced,
    h("div", { class: "submit-row" }, submit, outlook),
    formError,
  );
  updateCounter();

  const recent = h("section", { class: "card recent", "aria-labelledby": "recent-title" });
  replace(root, form, recent);
  const stopRecent = renderRecent(recent);

  // The current wait, refreshed while the form is open.
  const refreshOutlook = async () => {
    const result = await getQueue();
    if (!result.ok || !result.data) return setText(outlook, t("outlookUnavailable"));
    const q = result.data;
    const parts = [];
    if (q.workers_alive === 0) parts.push(t("outlookNoWorkers"));
    else if (q.pending === 0 && q.running < Math.max(1, q.concurrency)) parts.push(t("outlookEmpty"));
    else {
      const w = q.expected_wait_seconds ?? { low: 0, high: 0 };
      parts.push(t("outlookWait", formatRange(w.low, w.high)));
    }
    if (q.pending > 0) parts.push(t("outlookPending", q.pending));
    setText(outlook, parts.join(" "));
  };
  refreshOutlook();
  const outlookTimer = setInterval(refreshOutlook, 15000);

  function showFormError(title, detail, retryAfter) {
    formError.hidden = false;
    for (const timer of timers) clearInterval(timer);
    timers.clear();
    const retry = h("button", { type: "submit", class: "secondary" }, t("retryNow"));
    replace(formError, h("p", { class: "form-error-title" }, title), detail ? h("p", {}, detail) : null, retry);
    if (retryAfter) {
      // Hold the retry button until the server said it is worth trying again.
      let left = Math.ceil(retryAfter);
      retry.disabled = true;
      setText(retry, t("retryIn", left));
      const timer = setInterval(() => {
        left -= 1;
        if (left > 0) return setText(retry, t("retryIn", left));
        clearInterval(timer);
        retry.disabled = false;
        setText(retry, t("retryNow"));
      }, 1000);
      timers.add(timer);
    }
  }

  async function onSubmit(event) {
    event.preventDefault();
    formError.hidden = true;
    let firstBad = null;
    for (const name of ["prompt", "duration_seconds", ...ADVANCED]) {
      const message = checkField(name, inputs[name].value);
      showError(name, message);
      if (message && !firstBad) firstBad = name;
    }
    if (firstBad) {
      if (ADVANCED.includes(firstBad)) advanced.open = true;
      inputs[firstBad].focus();
      return;
    }

    const body = { prompt: inputs.prompt.value.trim(), duration_seconds: Number(inputs.duration_seconds.value) };
    for (const name of ADVANCED) {
      if (inputs[name].value.trim() !== "") body[name] = Number(inputs[name].value);
    }
    submit.disabled = true;
    setText(submit, t("submitting"));
    const result = await submitJob(body);
    submit.disabled = false;
    setText(submit, t("submit"));

    if (result.ok && result.data?.job) {
      const { job, cancel_token: token } = result.data;
      rememberJob(job);
      if (token) saveToken(job.id, token);
      values = { ...values, seed: "" };
      return navigate(`/jobs/${job.id}`, { view: job });
    }
    if ((result.status === 400 || result.status === 422) && result.error?.field) {
      return showServerFieldError(result.error);
    }
    const problem = describeSubmitError(result);
    showFormError(problem.title, problem.detail, problem.retryAfter);
  }

  function showServerFieldError(error) {
    const name = error.field;
    if (!name || !inputs[name]) return showFormError(t("errFormSummary"), error.message);
    let message = error.message;
    const bounds = boundsFromMessage(error.message);
    if (name === "duration_seconds" && bounds?.max) {
      // The server's limit is the real one; adopt it for the rest of the visit.
      limits.duration_seconds.max = bounds.max;
      if (bounds.min !== null) limits.duration_seconds.min = bounds.min;
      const { min, max } = limits.duration_seconds;
      duration.max = slider.max = max;
      setText(durationHint, t("durationHint", min, max));
      message = t("errDuration", min, max);
    } else if (name === "prompt" && bounds?.max) {
      limits.prompt.maxChars = bounds.max;
      message = t("errTooLong", bounds.max);
    } else if (bounds?.max !== undefined && bounds?.min !== null && name !== "prompt") {
      message = t("errRange", bounds.min, bounds.max);
    }
    if (ADVANCED.includes(name)) advanced.open = true;
    showError(name, message);
    inputs[name].focus();
  }

  return () => {
    clearInterval(outlookTimer);
    for (const timer of timers) clearInterval(timer);
    stopRecent();
  };
}
