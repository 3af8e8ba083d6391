// A small element builder and the page-wide live region; enough to avoid a framework.

/**
 * h("button", { class: "primary", onclick: fn }, "Label") → HTMLButtonElement.
 * Attributes starting with "on" become listeners; `false`/`null` attributes are left out.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : value);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `el` with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Sets text only when it changed, so screen readers and selection are not disturbed needlessly. */
export function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

let lastAnnouncement = "";
/** Speaks `message` through the polite live region, once per distinct message. */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region || message === lastAnnouncement) return;
  lastAnnouncement = message;
  region.textContent = message;
}
