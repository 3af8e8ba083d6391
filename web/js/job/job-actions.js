// The buttons that start another track from this one's parameters: again as it was, a variation
// with a new seed, or back to the form to change it first.
import { submitJob } from "../api.js";
import { setText } from "../dom.js";
import { rememberJob, saveToken, stashDraft } from "../store.js";
import { describeSubmitError } from "../submit-errors.js";

/**
 * Handlers for the panels of a job with `params`. `message` is the page's one action alert, shown
 * by whichever panel holds it, where a refused submission is explained.
 */
export function jobActions(params, { navigate, message }) {
  const resubmit = async ({ newSeed }) => {
    message.hidden = true;
    const body = { ...params };
    if (newSeed) delete body.seed;
    const result = await submitJob(body);
    if (result.ok && result.data?.job) {
      rememberJob(result.data.job);
      if (result.data.cancel_token) saveToken(result.data.job.id, result.data.cancel_token);
      return navigate(`/jobs/${result.data.job.id}`, { view: result.data.job });
    }
    const problem = describeSubmitError(result);
    message.hidden = false;
    setText(message, [problem.title, problem.detail].filter(Boolean).join(" "));
  };
  // The form gets everything but the seed: a track made from it should not repeat this one.
  const toForm = () => {
    const { seed, ...rest } = params;
    stashDraft(rest);
    navigate("/");
  };
  return {
    message,
    variation: () => resubmit({ newSeed: true }),
    retry: () => resubmit({ newSeed: false }),
    makeAnother: toForm,
    edit: toForm,
  };
}
