// The form page: it lays out the field components, checks them, and sends the request. The fields
// share one field set (their inputs, values and error lines) and one remembered form state.
import { t } from "../i18n/index.js";
import { submitJob } from "./api.js";
import { h, replace, setText } from "./dom.js";
import { advancedSettings } from "./form/advanced-settings.js";
import { durationField } from "./form/duration-field.js";
import { fieldSet } from "./form/fields.js";
import { outlookLine } from "./form/outlook.js";
import { promptField } from "./form/prompt-field.js";
import { adoptServerLimit } from "./form/server-limits.js";
import { ADVANCED, forgetSeed, formState } from "./form/state.js";
import { submitErrorNotice } from "./form/submit-error.js";
import { renderRecent } from "./recent.js";
import { rememberJob, saveToken } from "./store.js";
import { describeSubmitError } from "./submit-errors.js";

export function renderForm(root, { navigate }) {
  const state = formState();
  const fields = fieldSet(state);
  // Built in the order they appear: the field set checks fields in the order they were bound.
  const prompt = promptField(fields);
  const duration = durationField(fields);
  const advanced = advancedSettings(fields, state);
  const outlook = outlookLine();
  const problem = submitErrorNotice();
  const submit = h("button", { type: "submit", class: "primary" }, t("submit"));

  const form = h(
    "form",
    { novalidate: true, class: "card compose", "aria-labelledby": "form-title", onsubmit: (e) => onSubmit(e) },
    h("h1", { id: "form-title" }, t("formTitle")),
    prompt.el,
    duration.el,
    advanced.el,
    h("div", { class: "submit-row" }, submit, outlook.el),
    problem.el,
  );
  const recent = h("section", { class: "card recent", "aria-labelledby": "recent-title" });
  replace(root, form, recent);
  const stopRecent = renderRecent(recent);
  const stopOutlook = outlook.follow();

  async function onSubmit(event) {
    event.preventDefault();
    problem.hide();
    const firstBad = fields.checkAll();
    if (firstBad) return fields.focus(firstBad);

    submit.disabled = true;
    setText(submit, t("submitting"));
    const result = await submitJob(requestBody(fields));
    submit.disabled = false;
    setText(submit, t("submit"));

    if (result.ok && result.data?.job) {
      const { job, cancel_token: token } = result.data;
      rememberJob(job);
      if (token) saveToken(job.id, token);
      forgetSeed(state);
      return navigate(`/jobs/${job.id}`, { view: job });
    }
    if ((result.status === 400 || result.status === 422) && result.error?.field) {
      return showServerFieldError(result.error);
    }
    problem.show(describeSubmitError(result));
  }

  function showServerFieldError(error) {
    const name = error.field;
    if (!fields.has(name)) return problem.show({ title: t("errFormSummary"), detail: error.message });
    const message = adoptServerLimit(error);
    if (name === "duration_seconds") duration.showLimits();
    fields.showError(name, message);
    fields.focus(name);
  }

  return () => {
    stopOutlook();
    problem.stop();
    stopRecent();
  };
}

/** The request as the api takes it: numbers as numbers, and empty sampling settings left out. */
function requestBody(fields) {
  const body = { prompt: fields.value("prompt").trim(), duration_seconds: Number(fields.value("duration_seconds")) };
  for (const name of ADVANCED) {
    if (fields.value(name).trim() !== "") body[name] = Number(fields.value(name));
  }
  return body;
}
