// Entry point: the header (brand, language switch), and routing on location.pathname between the
// form ("/") and a job ("/jobs/{id}"); the server answers both with this same page.
import { languages, lang, onLangChange, setLang, t } from "../i18n/index.js";
import { h, replace } from "./dom.js";
import { renderForm } from "./form.js";
import { renderJob } from "./job.js";

const app = document.getElementById("app");
let stopPage = () => {};

function route(state = history.state) {
  stopPage();
  const match = location.pathname.match(/^\/jobs\/([^/]+)\/?$/);
  if (match) {
    stopPage = renderJob(app, decodeURIComponent(match[1]), { navigate, initialView: state?.view });
  } else {
    document.title = "Coda";
    stopPage = renderForm(app, { navigate });
  }
  renderChrome();
}

export function navigate(path, state = null) {
  history.pushState(state, "", path);
  route(state);
  window.scrollTo(0, 0);
  document.getElementById("app").focus({ preventScroll: true });
}

function renderChrome() {
  document.documentElement.lang = lang();
  const switcher = h(
    "div",
    { class: "lang-switch", role: "group", "aria-label": t("languageLabel") },
    Object.values(languages).map((l) =>
      h(
        "button",
        { type: "button", lang: l.lang, "aria-pressed": String(l.lang === lang()), onclick: () => setLang(l.lang) },
        l.lang.toUpperCase(),
        h("span", { class: "visually-hidden" }, ` ${l.langName}`),
      ),
    ),
  );
  replace(document.getElementById("lang"), switcher);
  replace(document.getElementById("tagline"), t("tagline"));
  replace(document.getElementById("footer-text"), t("footer"));
  replace(document.getElementById("skip"), t("skipToContent"));
}

// Same-origin links marked data-link move within the page instead of reloading it.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(new URL(link.href).pathname);
});

window.addEventListener("popstate", (event) => route(event.state));
// A language switch redraws the page with the strings of the new language; state is kept.
onLangChange(() => route(history.state?.view ? history.state : null));
route();
