// Keeps a displayed time range steady while the server's estimate wobbles from one update to the next.
//
// The range is held as two absolute deadlines, so it counts down on its own between updates. A new
// estimate that lands close to what is shown is ignored (hysteresis); one that differs moves the
// display towards it gradually, at a rate that depends on time, not on how often updates arrive, so
// a burst of SSE events moves it no faster than a slow poll would.

const TOLERANCE_SECONDS = 10; // small disagreements are noise, not news
const TOLERANCE_FRACTION = 0.15; // …and so is anything within 15% of the time remaining
const TIME_CONSTANT_MS = 8000; // how quickly a real change is followed

export class SteadyRange {
  constructor() {
    this.low = null; // epoch ms
    this.high = null;
    this.updatedAt = null;
  }

  reset() {
    this.low = this.high = this.updatedAt = null;
  }

  /** Feeds a fresh estimate, in seconds from `now` (epoch ms). */
  update(lowSeconds, highSeconds, now = Date.now()) {
    if (!Number.isFinite(lowSeconds) || !Number.isFinite(highSeconds)) return;
    const low = now + Math.max(0, Math.min(lowSeconds, highSeconds)) * 1000;
    const high = now + Math.max(0, lowSeconds, highSeconds) * 1000;
    if (this.low === null) {
      this.low = low;
      this.high = high;
      this.updatedAt = now;
      return;
    }
    const elapsed = Math.max(0, now - this.updatedAt);
    this.updatedAt = now;
    const remaining = Math.max(0, this.high - now);
    const tolerance = Math.max(TOLERANCE_SECONDS * 1000, TOLERANCE_FRACTION * remaining);
    const weight = 1 - Math.exp(-elapsed / TIME_CONSTANT_MS);
    const follow = (shown, target) =>
      Math.abs(target - shown) <= tolerance ? shown : shown + (target - shown) * weight;
    this.low = follow(this.low, low);
    this.high = Math.max(this.low, follow(this.high, high));
  }

  /** The range to show now, in seconds from `now`; null before the first estimate. */
  current(now = Date.now()) {
    if (this.low === null) return null;
    return {
      low: Math.max(0, (this.low - now) / 1000),
      high: Math.max(0, (this.high - now) / 1000),
    };
  }
}
