// Which panel shows each state of a job. A panel is { el, update(view, now) }: it is built once per
// state and then only its text changes, so focus, selection and the audio player survive updates.
import { queuedPanel } from "./queued-panel.js";
import { canceledPanel, failedPanel } from "./retry-panels.js";
import { runningPanel } from "./running-panel.js";
import { succeededPanel } from "./succeeded-panel.js";

const BUILDERS = {
  queued: () => queuedPanel(),
  running: () => runningPanel(),
  succeeded: (view, actions) => succeededPanel(view, actions),
  failed: (view, actions) => failedPanel(view, actions),
  canceled: (view, actions) => canceledPanel(view, actions),
};

/** The panel for `view.status`, or null for a status this page does not know. */
export function panelFor(view, actions) {
  return BUILDERS[view.status]?.(view, actions) ?? null;
}
