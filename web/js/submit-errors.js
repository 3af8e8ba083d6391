// Plain-words explanations for a failed submission, shared by the form and the job page's buttons.
import { t } from "../i18n/index.js";
import { formatRange } from "./format.js";

/** { title, detail, retryAfter } for a non-ok submit result that is not a field error. */
export function describeSubmitError(result) {
  const seconds = result.retryAfter ?? 60;
  const wait = formatRange(seconds, seconds);
  if (result.network) return { title: t("offline"), detail: t("offlineRetry") };
  if (result.status === 429) {
    return { title: t("clientLimit"), detail: t("clientLimitRetry", wait), retryAfter: result.retryAfter };
  }
  if (result.status === 503) {
    // The api says "queue_full" for a full line; anything else at 503 means it is down.
    return /full|capacity/i.test(result.error?.code ?? "")
      ? { title: t("queueFull"), detail: t("queueFullRetry", wait), retryAfter: result.retryAfter }
      : { title: t("unavailable"), detail: t("unavailableRetry"), retryAfter: result.retryAfter };
  }
  return { title: t("somethingWrong"), detail: null };
}
