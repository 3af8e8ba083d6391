// What the page says about the job outside its panel: the tab's title, readable from another tab,
// and announcements for screen readers.
import { t } from "../../i18n/index.js";
import { announce } from "../dom.js";

const STATE_ANNOUNCEMENTS = {
  running: "announceRunning",
  succeeded: "announceReady",
  failed: "announceFailed",
  canceled: "announceCanceled",
};

export function setTitle(text) {
  document.title = `${text} — Coda`;
}

export function titleFor(view) {
  switch (view.status) {
    case "queued":
      return t("titleQueued", view.position ?? 1);
    case "running":
      return t("titleRunning", Math.floor((view.progress?.fraction ?? 0) * 100));
    case "succeeded":
      return t("titleReady");
    case "failed":
      return t("titleFailed");
    default:
      return t("titleCanceled");
  }
}

/** A state the job has just moved into. */
export function announceState(view) {
  const key = STATE_ANNOUNCEMENTS[view.status];
  if (key) announce(t(key));
}

/** The place in line or the stage; announce() drops repeats, so every update may call this. */
export function announceProgress(view) {
  if (view.status === "queued") announce(t("announceQueued", t("ordinal", view.position ?? 1)));
  if (view.status === "running" && view.stage) announce(t("announceStage", t(`stage_${view.stage}`)));
}
