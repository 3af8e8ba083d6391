// The page's pure logic, run in node: the steady ETA range, waiting-time phrases and ordinals.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SteadyRange } from "../../web/js/eta.js";
import { formatRange } from "../../web/js/format.js";
import en from "../../web/i18n/en.js";
import it from "../../web/i18n/it.js";

test("English ordinals read naturally, teens included", () => {
  const got = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111].map(en.ordinal);
  assert.deepEqual(got, ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th"]);
  assert.equal(en.queuedPosition(en.ordinal(3)), "You're 3rd in line");
  assert.equal(it.queuedPosition(it.ordinal(3)), "Sei al 3° posto in coda");
});

test("every English string has an Italian counterpart of the same kind", () => {
  for (const [key, value] of Object.entries(en)) {
    assert.ok(key in it, `it.js lacks ${key}`);
    assert.equal(typeof it[key], typeof value, `${key} differs in kind`);
  }
});

test("waiting ranges are rounded to what a person can use", () => {
  assert.equal(formatRange(240, 360), "4–6 min");
  assert.equal(formatRange(12, 27), "10–30 s");
  assert.equal(formatRange(0, 4), "5 s");
  assert.equal(formatRange(0, 0), "any moment now");
  assert.equal(formatRange(300, 300), "5 min");
  assert.equal(formatRange(7200, 10800), "2–3 h");
});

test("small wobbles in the estimate do not move the displayed range", () => {
  const range = new SteadyRange();
  range.update(240, 360, 0);
  range.update(250, 350, 2000); // within the noise band
  const shown = range.current(2000);
  assert.equal(Math.round(shown.low), 238);
  assert.equal(Math.round(shown.high), 358);
});

test("between updates the range counts down by itself", () => {
  const range = new SteadyRange();
  range.update(100, 160, 0);
  const later = range.current(30_000);
  assert.equal(later.low, 70);
  assert.equal(later.high, 130);
});

test("a real change is followed gradually, however often updates arrive", () => {
  const burst = new SteadyRange();
  const slow = new SteadyRange();
  burst.update(600, 900, 0);
  slow.update(600, 900, 0);
  for (let ms = 100; ms <= 4000; ms += 100) burst.update(60, 90, ms); // SSE: many events
  slow.update(60, 90, 4000); // one poll
  const a = burst.current(4000).high;
  const b = slow.current(4000).high;
  assert.ok(a < 900 - 4 && a > 90, `moved towards the new estimate without jumping there: ${a}`);
  assert.ok(Math.abs(a - b) / b < 0.15, `burst ${a} vs poll ${b}`);
  // The new estimate holds steady (the same deadlines, 64 s and 94 s after the start)…
  for (let ms = 5000; ms <= 60_000; ms += 1000) burst.update(64 - ms / 1000, 94 - ms / 1000, ms);
  const settled = burst.current(60_000);
  // …and the display settles on it, to within the noise band.
  assert.ok(Math.abs(settled.high - 34) <= 10, `settled at ${settled.high}`);
  assert.ok(Math.abs(settled.low - 4) <= 10, `settled at ${settled.low}`);
});

test("the range never shows a low end above its high end", () => {
  const range = new SteadyRange();
  range.update(500, 600, 0);
  range.update(10, 20, 60_000);
  const shown = range.current(60_000);
  assert.ok(shown.low <= shown.high);
});
