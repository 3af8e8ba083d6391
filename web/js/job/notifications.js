// "Notify me when it's ready": a browser notification for this job, wanted per tab (session storage).
import { t } from "../../i18n/index.js";
import { h, setText } from "../dom.js";

const wantedKey = (id) => `coda.notify.${id}`;
const supported = () => "Notification" in window;

/** The button and its note, or null where the browser has no notifications. */
export function notifyRow(id) {
  if (!supported()) return null;
  const button = h("button", { type: "button", class: "secondary", onclick: () => ask() }, t("notifyMe"));
  const note = h("p", { class: "hint", role: "status" });
  const refresh = () => {
    const wanted = sessionStorage.getItem(wantedKey(id)) === "1";
    button.hidden = wanted || Notification.permission === "denied";
    setText(note, Notification.permission === "denied" ? t("notifyDenied") : wanted ? t("notifyOn") : "");
  };
  async function ask() {
    // Asked only here, on a click: a permission prompt nobody asked for is the fastest way to a "Block".
    const permission = await Notification.requestPermission();
    if (permission === "granted") sessionStorage.setItem(wantedKey(id), "1");
    refresh();
  }
  refresh();
  return h("div", { class: "notify-row" }, button, note);
}

/** Sends the notification once, if this tab asked for one and may show it. */
export function notifyReady(id, view) {
  if (!supported() || Notification.permission !== "granted") return;
  if (sessionStorage.getItem(wantedKey(id)) !== "1") return;
  sessionStorage.removeItem(wantedKey(id));
  const note = new Notification(t("notifyTitle"), { body: view.params?.prompt ?? "", tag: `coda-${id}` });
  note.onclick = () => window.focus();
}
