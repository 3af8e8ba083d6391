// The form's inputs by request field name. Each keeps the remembered value in step with what is
// typed and owns the error line beside it; the field components only lay their inputs out.
import { h, setText } from "../dom.js";
import { checkField } from "../limits.js";

/** `state.values` is read when a field is bound and written as it is edited. */
export function fieldSet(state) {
  // Map order is registration order, the order the fields appear on the form, so a failed check
  // moves focus to the topmost field that is wrong.
  const inputs = new Map();
  const errors = new Map();
  const reveals = new Map();

  function showError(name, message) {
    const input = inputs.get(name);
    const slot = errors.get(name);
    if (!input || !slot) return;
    slot.hidden = !message;
    setText(slot, message ?? "");
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    const described = [`${name}-hint`, message ? `${name}-error` : null].filter(Boolean).join(" ");
    input.setAttribute("aria-describedby", described);
  }

  /** Registers `input` as field `name`; `reveal` makes it visible when it must take focus. */
  function bind(name, input, { reveal } = {}) {
    inputs.set(name, input);
    if (reveal) reveals.set(name, reveal);
    input.name = name;
    input.id = name;
    input.value = state.values[name];
    input.setAttribute("aria-describedby", `${name}-hint`);
    input.addEventListener("input", () => {
      state.values[name] = input.value;
      // Clear a stale complaint as soon as the value becomes acceptable, but don't nag mid-typing.
      if (input.hasAttribute("aria-invalid") && !checkField(name, input.value)) showError(name, null);
    });
    input.addEventListener("blur", () => {
      // New complaints wait for "Compose": one appearing on blur shifts the layout under the
      // pointer, and the click that caused the blur would miss its button.
      if (input.hasAttribute("aria-invalid")) showError(name, checkField(name, input.value));
    });
    return input;
  }

  /** The (hidden until needed) error line of field `name`. */
  function errorSlot(name) {
    const slot = h("p", { class: "field-error", id: `${name}-error`, hidden: true });
    errors.set(name, slot);
    return slot;
  }

  /** Sets a field from outside its input (an example chip, the slider); the new value is a valid one. */
  function fill(name, text) {
    inputs.get(name).value = state.values[name] = text;
    showError(name, null);
  }

  function focus(name) {
    reveals.get(name)?.();
    inputs.get(name).focus();
  }

  /** Checks every field and shows what is wrong; returns the first field in error, or null. */
  function checkAll() {
    let firstBad = null;
    for (const [name, input] of inputs) {
      const message = checkField(name, input.value);
      showError(name, message);
      if (message && !firstBad) firstBad = name;
    }
    return firstBad;
  }

  return {
    bind,
    errorSlot,
    showError,
    fill,
    focus,
    checkAll,
    has: (name) => inputs.has(name),
    value: (name) => inputs.get(name).value,
  };
}
