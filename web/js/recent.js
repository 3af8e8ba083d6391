// "Your recent tracks": jobs submitted from this browser, with their latest known state.
import { t } from "../i18n/index.js";
import { getJob, TERMINAL } from "./api.js";
import { h, replace } from "./dom.js";
import { formatAgo } from "./format.js";
import { forgetAll, recentJobs, updateStatus } from "./store.js";

const REFRESH_LIMIT = 8; // unfinished jobs looked up per visit; older ones are almost surely done

/** Fills `section` with the list and refreshes unfinished entries; returns a stop function. */
export function renderRecent(section, { exclude } = {}) {
  let stopped = false;
  const draw = () => {
    const jobs = recentJobs().filter((j) => j.id !== exclude);
    const title = h("h2", { id: "recent-title" }, t("recentTitle"));
    // On a job page an empty list says nothing useful; on the form it explains what will appear.
    section.hidden = jobs.length === 0 && Boolean(exclude);
    if (jobs.length === 0) {
      replace(section, title, h("p", { class: "hint" }, t("recentEmpty")));
      return;
    }
    replace(
      section,
      h("div", { class: "recent-head" }, title, h("button", { type: "button", class: "link", onclick: () => { forgetAll(); draw(); } }, t("recentClear"))),
      h(
        "ul",
        { class: "recent-list" },
        jobs.map((job) =>
          h(
            "li",
            {},
            h(
              "a",
              { href: `/jobs/${job.id}`, "data-link": "" },
              h("span", { class: "recent-prompt" }, job.prompt || job.id),
              h(
                "span",
                { class: "recent-meta" },
                h("span", { class: `badge badge-${job.status ?? "unknown"}` }, t(`status_${job.status ?? "unknown"}`)),
                h("span", { class: "recent-when" }, formatAgo(job.created_at)),
              ),
            ),
          ),
        ),
      ),
    );
  };
  draw();

  (async () => {
    const pending = recentJobs()
      .filter((j) => j.id !== exclude && !TERMINAL.has(j.status) && j.status !== "expired")
      .slice(0, REFRESH_LIMIT);
    for (const job of pending) {
      const result = await getJob(job.id);
      if (stopped) return;
      if (result.ok && result.data) updateStatus(job.id, result.data.status);
      else if (result.status === 404) updateStatus(job.id, "expired");
    }
    if (pending.length && !stopped) draw();
  })();

  return () => {
    stopped = true;
  };
}
