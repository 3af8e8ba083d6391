// A field the server refused: its message carries the real bound, which may be stricter than the
// page's copy (operators set their own). The bound is adopted for the rest of the visit and the
// complaint is restated in the reader's language.
import { t } from "../../i18n/index.js";
import { boundsFromMessage, limits } from "../limits.js";

/** Updates `limits` from the server's `error` ({ field, message }); returns the message to show. */
export function adoptServerLimit({ field: name, message }) {
  const bounds = boundsFromMessage(message);
  if (name === "duration_seconds" && bounds?.max) {
    limits.duration_seconds.max = bounds.max;
    if (bounds.min !== null) limits.duration_seconds.min = bounds.min;
    const { min, max } = limits.duration_seconds;
    return t("errDuration", min, max);
  }
  if (name === "prompt" && bounds?.max) {
    limits.prompt.maxChars = bounds.max;
    return t("errTooLong", bounds.max);
  }
  if (bounds?.max !== undefined && bounds?.min !== null && name !== "prompt") {
    return t("errRange", bounds.min, bounds.max);
  }
  return message;
}
