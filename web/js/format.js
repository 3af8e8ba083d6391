// Turns seconds and dates into the short phrases the page shows, in the current language.
import { lang, t } from "../i18n/index.js";

const round5 = (s, dir) => Math[dir](s / 5) * 5;

/** A waiting range: "20–30 s", "4–6 min", "2–3 h"; collapses to one value when the ends meet. */
export function formatRange(lowSeconds, highSeconds) {
  let low = Math.max(0, Math.min(lowSeconds, highSeconds));
  let high = Math.max(0, lowSeconds, highSeconds);
  if (high < 1) return t("anyMomentNow");
  if (high < 90) {
    low = Math.max(round5(low, "floor"), 0);
    high = Math.max(round5(high, "ceil"), 5);
    if (low === 0 && high <= 10) return t("seconds", high);
    return low === high || low === 0 ? t("seconds", high) : t("secondsRange", low, high);
  }
  if (high < 90 * 60) {
    const lo = Math.max(1, Math.round(low / 60));
    const hi = Math.max(lo, Math.round(high / 60));
    return lo === hi ? t("minutes", hi) : t("minutesRange", lo, hi);
  }
  const lo = Math.max(1, Math.round(low / 3600));
  const hi = Math.max(lo, Math.round(high / 3600));
  return lo === hi ? t("hours", hi) : t("hoursRange", lo, hi);
}

/** A span of time: "42 s", "3 min 5 s", "1 h 4 min". */
export function formatSpan(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return t("seconds", s);
  if (s < 3600) {
    const rest = s % 60;
    return rest ? `${t("minutes", Math.floor(s / 60))} ${t("seconds", rest)}` : t("minutes", s / 60);
  }
  const m = Math.floor((s % 3600) / 60);
  return m ? `${t("hours", Math.floor(s / 3600))} ${t("minutes", m)}` : t("hours", Math.floor(s / 3600));
}

/** A running clock: "0:42", "12:05", "1:02:05". */
export function formatClock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

export function formatNumber(value, maxDigits = 2) {
  return new Intl.NumberFormat(lang(), { maximumFractionDigits: maxDigits }).format(value);
}

/** "Tue 14:32" for dates in the coming week, with the day only when it is not today. */
export function formatWhen(date) {
  const sameDay = date.toDateString() === new Date().toDateString();
  const opts = sameDay
    ? { hour: "2-digit", minute: "2-digit" }
    : { weekday: "long", hour: "2-digit", minute: "2-digit" };
  return new Intl.DateTimeFormat(lang(), opts).format(date);
}

/** "3 min ago" / "3 min fa", from an RFC 3339 timestamp. */
export function formatAgo(iso) {
  const seconds = (Date.now() - Date.parse(iso)) / 1000;
  if (!Number.isFinite(seconds) || seconds < 45) return t("justNow");
  const rtf = new Intl.RelativeTimeFormat(lang(), { numeric: "auto", style: "short" });
  if (seconds < 3600) return rtf.format(-Math.round(seconds / 60), "minute");
  if (seconds < 86400) return rtf.format(-Math.round(seconds / 3600), "hour");
  return rtf.format(-Math.round(seconds / 86400), "day");
}
