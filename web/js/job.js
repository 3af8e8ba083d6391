// The job page: follows one job live and says where it stands, what is happening and what to do.
import { t } from "../i18n/index.js";
import { cancelJob, submitJob, TERMINAL, watchJob } from "./api.js";
import { announce, h, replace, setText } from "./dom.js";
import { RETENTION_HOURS } from "./limits.js";
import {
  canceledPanel,
  failedPanel,
  messagePanel,
  queuedPanel,
  runningPanel,
  succeededPanel,
} from "./job-panels.js";
import { renderRecent } from "./recent.js";
import { dropToken, rememberJob, saveToken, stashDraft, tokenFor, updateStatus } from "./store.js";
import { describeSubmitError } from "./submit-errors.js";

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;
const lastViews = new Map(); // id → latest JobView, so a language switch redraws without waiting
const notifyKey = (id) => `coda.notify.${id}`;

export function renderJob(root, id, { navigate, initialView }) {
  const banner = h("p", { class: "banner", role: "status", hidden: true });
  const promptQuote = h("blockquote", { class: "prompt-quote" });
  const panelHost = h("div", { class: "panel-host" });
  const status = h("section", { class: "card status", "aria-labelledby": "state-title" }, banner, promptQuote, panelHost);
  const meanwhile = h("section", { class: "card meanwhile", "aria-labelledby": "meanwhile-title", hidden: true });
  const recent = h("section", { class: "card recent", "aria-labelledby": "recent-title" });
  replace(root, status, meanwhile, recent);
  const stopRecent = renderRecent(recent, { exclude: id });

  let view = null;
  let panel = null;
  let panelState = null;
  let stopWatch = () => {};
  const actionMessage = h("p", { class: "action-message", role: "alert", hidden: true });

  const setTitle = (text) => (document.title = `${text} — Coda`);
  const showPanel = (state, built) => {
    panelState = state;
    panel = built;
    replace(panelHost, built.el);
  };

  if (!ULID.test(id)) {
    setTitle(t("notFound"));
    showPanel("message", messagePanel("badLink", null));
    return () => stopRecent();
  }

  // Buttons that start a new job from this one's parameters.
  const resubmit = async (params, { newSeed }) => {
    actionMessage.hidden = true;
    const body = { ...params };
    if (newSeed) delete body.seed;
    const result = await submitJob(body);
    if (result.ok && result.data?.job) {
      rememberJob(result.data.job);
      if (result.data.cancel_token) saveToken(result.data.job.id, result.data.cancel_token);
      return navigate(`/jobs/${result.data.job.id}`, { view: result.data.job });
    }
    const problem = describeSubmitError(result);
    actionMessage.hidden = false;
    setText(actionMessage, [problem.title, problem.detail].filter(Boolean).join(" "));
  };
  const toForm = (params, keepSeed) => {
    const { seed, ...rest } = params;
    stashDraft(keepSeed ? params : rest);
    navigate("/");
  };
  const actions = {
    message: actionMessage,
    variation: () => resubmit(view.params, { newSeed: true }),
    retry: () => resubmit(view.params, { newSeed: false }),
    makeAnother: () => toForm(view.params, false),
    edit: () => toForm(view.params, false),
  };

  // "While you wait": the link, notifications, retention and cancel.
  const cancelButton = h("button", { type: "button", class: "danger", onclick: () => confirmCancel() }, t("cancel"));
  const cancelRow = h("div", { class: "cancel-row" }, cancelButton);
  const notifyButton = h("button", { type: "button", class: "secondary", onclick: () => askNotify() }, t("notifyMe"));
  const notifyNote = h("p", { class: "hint", role: "status" });
  const copyButton = h("button", { type: "button", class: "secondary", onclick: () => copyLink() }, t("copyLink"));
  const linkField = h("input", { type: "text", readonly: true, value: location.href, "aria-label": t("copyLink"), class: "link-field", onfocus: (e) => e.target.select() });
  replace(
    meanwhile,
    h("h2", { id: "meanwhile-title" }, t("meanwhileTitle")),
    h("p", {}, t("meanwhileTab")),
    h("div", { class: "copy-row" }, linkField, copyButton),
    h("p", { class: "hint" }, t("meanwhileKept", RETENTION_HOURS)),
    "Notification" in window ? h("div", { class: "notify-row" }, notifyButton, notifyNote) : null,
    cancelRow,
  );
  const refreshNotify = () => {
    if (!("Notification" in window)) return;
    const wanted = sessionStorage.getItem(notifyKey(id)) === "1";
    notifyButton.hidden = wanted || Notification.permission === "denied";
    setText(notifyNote, Notification.permission === "denied" ? t("notifyDenied") : wanted ? t("notifyOn") : "");
  };
  refreshNotify();

  async function askNotify() {
    // Asked only here, on a click: a permission prompt nobody asked for is the fastest way to a "Block".
    const permission = await Notification.requestPermission();
    if (permission === "granted") sessionStorage.setItem(notifyKey(id), "1");
    refreshNotify();
  }

  async function copyLink() {
    try {
      await navigator.clipboard.writeText(location.href);
      setText(copyButton, t("copied"));
    } catch {
      linkField.focus();
      setText(copyButton, t("copyFailed"));
    }
    setTimeout(() => setText(copyButton, t("copyLink")), 2500);
  }

  function confirmCancel() {
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-body" },
      h("h2", { id: "confirm-title" }, t("cancelConfirmTitle")),
      h("p", { id: "confirm-body" }, t("cancelConfirmBody")),
      h(
        "form",
        { method: "dialog", class: "actions" },
        h("button", { value: "keep", class: "secondary", autofocus: true }, t("cancelConfirmNo")),
        h("button", { value: "cancel", class: "danger" }, t("cancelConfirmYes")),
      ),
    );
    dialog.addEventListener("close", async () => {
      dialog.remove();
      if (dialog.returnValue !== "cancel") return cancelButton.focus();
      cancelButton.disabled = true;
      const result = await cancelJob(id, tokenFor(id));
      cancelButton.disabled = false;
      if (result.ok && result.data) {
        dropToken(id);
        apply(result.data);
        document.getElementById("state-title")?.focus();
        return;
      }
      actionMessage.hidden = false;
      const key = result.status === 409 ? "cancelTooLate" : result.status === 403 ? "cancelForbidden" : "cancelFailed";
      cancelButton.after(actionMessage);
      setText(actionMessage, t(key));
    });
    document.body.append(dialog);
    dialog.showModal();
  }

  function apply(next) {
    view = next;
    lastViews.set(id, next);
    updateStatus(id, next.status);
    setText(promptQuote, next.params?.prompt ?? "");
    promptQuote.setAttribute("aria-label", t("yourPrompt"));
    const now = Date.now();
    if (next.status !== panelState) {
      const build = {
        queued: () => queuedPanel(),
        running: () => runningPanel(),
        succeeded: () => succeededPanel(next, actions),
        failed: () => failedPanel(next, actions),
        canceled: () => canceledPanel(next, actions),
      }[next.status];
      if (!build) return;
      const first = panelState === null || panelState === "message";
      showPanel(next.status, build());
      if (!first || TERMINAL.has(next.status)) announceState(next);
      if (next.status === "succeeded") notifyReady(next);
    }
    panel.update(next, now);
    if (next.status === "queued") announce(t("announceQueued", t("ordinal", next.position ?? 1)));
    if (next.status === "running" && next.stage) announce(t("announceStage", t(`stage_${next.stage}`)));
    const active = !TERMINAL.has(next.status);
    meanwhile.hidden = !active;
    // Only the browser that submitted the job holds its cancel token.
    cancelRow.hidden = !active || !tokenFor(id);
    setTitle(pageTitle(next));
  }

  function announceState(v) {
    const key = { running: "announceRunning", succeeded: "announceReady", failed: "announceFailed", canceled: "announceCanceled" }[v.status];
    if (key) announce(t(key));
  }

  function notifyReady(v) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    if (sessionStorage.getItem(notifyKey(id)) !== "1") return;
    sessionStorage.removeItem(notifyKey(id));
    const note = new Notification(t("notifyTitle"), { body: v.params?.prompt ?? "", tag: `coda-${id}` });
    note.onclick = () => window.focus();
  }

  const initial = lastViews.get(id) ?? initialView;
  if (initial) apply(initial);
  else {
    setTitle(t("loadingJob"));
    showPanel("message", { el: h("div", { class: "panel" }, h("p", { class: "loading" }, t("loadingJob"))), update: () => {} });
  }

  if (!initial || !TERMINAL.has(initial.status)) {
    stopWatch = watchJob(id, {
      onView: (v) => {
        banner.hidden = true;
        apply(v);
      },
      onConnection: ({ lost, retryInSeconds }) => {
        banner.hidden = !lost;
        if (lost) setText(banner, view ? t("reconnecting", retryInSeconds) : t("offline") + " " + t("reconnecting", retryInSeconds));
      },
      onMissing: () => {
        setTitle(t("notFound"));
        showPanel("message", messagePanel("notFound", t("notFoundHelp", RETENTION_HOURS)));
        meanwhile.hidden = true;
        updateStatus(id, "expired");
      },
    });
  }

  // Count down between updates so the page never looks frozen.
  const ticker = setInterval(() => {
    if (view && panelState === view.status && !TERMINAL.has(view.status)) {
      panel.update(view, Date.now());
      setTitle(pageTitle(view));
    }
  }, 1000);

  return () => {
    clearInterval(ticker);
    stopWatch();
    stopRecent();
    document.querySelector("dialog.confirm")?.remove();
  };
}

function pageTitle(view) {
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
