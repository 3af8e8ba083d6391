// The job page: follows one job live and says where it stands, what is happening and what to do.
// Every live update goes through apply(), which hands the view to the components that show it.
import { t } from "../i18n/index.js";
import { TERMINAL, watchJob } from "./api.js";
import { h, replace } from "./dom.js";
import { RETENTION_HOURS } from "./limits.js";
import { cancelControl } from "./job/cancel-control.js";
import { jobActions } from "./job/job-actions.js";
import { renderMeanwhile } from "./job/meanwhile.js";
import { loadingPanel, messagePanel } from "./job/message-panel.js";
import { notifyReady } from "./job/notifications.js";
import { panelFor } from "./job/panels.js";
import { statusCard } from "./job/status-card.js";
import { announceProgress, announceState, setTitle, titleFor } from "./job/status-text.js";
import { renderRecent } from "./recent.js";
import { updateStatus } from "./store.js";

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;
const lastViews = new Map(); // id → latest JobView, so a language switch redraws without waiting

export function renderJob(root, id, { navigate, initialView }) {
  const status = statusCard();
  const meanwhile = h("section", { class: "card meanwhile", "aria-labelledby": "meanwhile-title", hidden: true });
  const recent = h("section", { class: "card recent", "aria-labelledby": "recent-title" });
  replace(root, status.el, meanwhile, recent);
  const stopRecent = renderRecent(recent, { exclude: id });

  if (!ULID.test(id)) {
    setTitle(t("notFound"));
    status.showPanel("message", messagePanel("badLink", null));
    return () => stopRecent();
  }

  let view = null;
  let stopWatch = () => {};
  // One alert for whatever the last button press could not do; panels and the cancel row take it in.
  const actionMessage = h("p", { class: "action-message", role: "alert", hidden: true });
  const cancel = cancelControl(id, {
    message: actionMessage,
    onCanceled: (canceled) => {
      apply(canceled);
      document.getElementById("state-title")?.focus();
    },
  });
  renderMeanwhile(meanwhile, { id, cancelRow: cancel.el });

  function apply(next) {
    view = next;
    lastViews.set(id, next);
    updateStatus(id, next.status);
    status.showPrompt(next);
    const now = Date.now();
    if (next.status !== status.state) {
      const panel = panelFor(next, jobActions(next.params, { navigate, message: actionMessage }));
      if (!panel) return;
      // Arriving on the page is not news; a change seen while here is, and so is an ending.
      const first = status.state === null || status.state === "message";
      status.showPanel(next.status, panel);
      if (!first || TERMINAL.has(next.status)) announceState(next);
      if (next.status === "succeeded") notifyReady(id, next);
    }
    status.update(next, now);
    announceProgress(next);
    const active = !TERMINAL.has(next.status);
    meanwhile.hidden = !active;
    cancel.show(active);
    setTitle(titleFor(next));
  }

  const initial = lastViews.get(id) ?? initialView;
  if (initial) apply(initial);
  else {
    setTitle(t("loadingJob"));
    status.showPanel("message", loadingPanel());
  }

  if (!initial || !TERMINAL.has(initial.status)) {
    stopWatch = watchJob(id, {
      onView: (v) => {
        status.banner.hide();
        apply(v);
      },
      onConnection: ({ lost, retryInSeconds }) => {
        if (lost) status.banner.lost(retryInSeconds, view !== null);
        else status.banner.hide();
      },
      onMissing: () => {
        setTitle(t("notFound"));
        status.showPanel("message", messagePanel("notFound", t("notFoundHelp", RETENTION_HOURS)));
        meanwhile.hidden = true;
        updateStatus(id, "expired");
      },
    });
  }

  // Count down between updates so the page never looks frozen.
  const ticker = setInterval(() => {
    if (view && status.state === view.status && !TERMINAL.has(view.status)) {
      status.update(view, Date.now());
      setTitle(titleFor(view));
    }
  }, 1000);

  return () => {
    clearInterval(ticker);
    stopWatch();
    stopRecent();
    cancel.stop();
  };
}
