// The request fields, their defaults and bounds (mirroring the server's validation), and how to
// check a value before sending it. The server stays the judge: its error.field wins.
import { t } from "../i18n/index.js";

export const RETENTION_HOURS = 24;
export const MAX_SAFE_SEED = Number.MAX_SAFE_INTEGER; // 2^53 − 1, the server's bound too

export const limits = {
  prompt: { maxChars: 500 },
  duration_seconds: { min: 1, max: 30, default: 10, step: 1 },
  top_k: { min: 0, max: 2048, default: 250, integer: true },
  top_p: { min: 0, max: 1, default: 0, step: 0.05 },
  temperature: { min: 0, max: 5, default: 1.0, step: 0.1 },
  guidance_scale: { min: 0, max: 20, default: 3.0, step: 0.5 },
  seed: { min: 0, max: MAX_SAFE_SEED, integer: true, optional: true },
};

/** Checks one field's raw text; returns an error message or null. */
export function checkField(name, raw) {
  if (name === "prompt") {
    const text = raw.trim();
    if (!text) return t("errRequired");
    if ([...text].length > limits.prompt.maxChars) return t("errTooLong", limits.prompt.maxChars);
    return null;
  }
  const spec = limits[name];
  if (raw.trim() === "") return spec.optional ? null : t("errNumber");
  const value = Number(raw);
  if (!Number.isFinite(value)) return t("errNumber");
  if (spec.integer && !Number.isInteger(value)) return t("errInteger");
  if (value < spec.min || value > spec.max) {
    return name === "duration_seconds" ? t("errDuration", spec.min, spec.max) : t("errRange", spec.min, spec.max);
  }
  return null;
}

/**
 * Reads the bounds out of a server message such as "duration_seconds must be between 1 and 20,
 * got 25" so the page can state the real limit in the reader's language. Null when unrecognised.
 */
export function boundsFromMessage(message) {
  if (typeof message !== "string") return null;
  const num = "(-?\\d+(?:\\.\\d+)?)";
  const between = message.match(new RegExp(`${num}\\s*(?:\\.\\.=?|–|to|and)\\s*${num}`));
  if (between) return { min: Number(between[1]), max: Number(between[2]) };
  const atMost = message.match(new RegExp(`(?:at most|<=|≤|maximum(?: is)?|max(?:imum)?:?)\\s*${num}`, "i"));
  if (atMost) return { min: null, max: Number(atMost[1]) };
  return null;
}
