// Picks the language (saved choice, else the browser's), and hands out strings from en.js / it.js.
import en from "./en.js";
import it from "./it.js";

export const languages = { en, it };
const STORAGE_KEY = "coda.lang";
const listeners = new Set();
let current = pickLanguage();

function pickLanguage() {
  let saved = null;
  try {
    saved = localStorage.getItem(STORAGE_KEY);
  } catch {
    // Private mode or disabled storage: fall through to the browser's preference.
  }
  if (saved && languages[saved]) return saved;
  const nav = globalThis.navigator;
  const preferred = nav?.languages?.length ? nav.languages : [nav?.language || "en"];
  for (const tag of preferred) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (languages[base]) return base;
  }
  return "en";
}

export function lang() {
  return current;
}

export function setLang(code) {
  if (!languages[code] || code === current) return;
  current = code;
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    // The choice then lasts only for this page view.
  }
  document.documentElement.lang = code;
  for (const fn of listeners) fn(code);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

/** The string (or the result of the string's function) for `key` in the current language. */
export function t(key, ...args) {
  const entry = languages[current][key] ?? en[key];
  if (entry === undefined) return key;
  return typeof entry === "function" ? entry(...args) : entry;
}
