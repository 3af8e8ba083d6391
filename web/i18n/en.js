// English microcopy. Every string a person reads lives here; functions take the numbers they need.
const pluralRules = new Intl.PluralRules("en", { type: "ordinal" });
const suffix = { one: "st", two: "nd", few: "rd", other: "th" };
const plural = (n, one, many) => (n === 1 ? one : many);

export default {
  lang: "en",
  langName: "English",
  languageLabel: "Language",
  tagline: "Music from a sentence. Worth the wait.",
  skipToContent: "Skip to content",

  ordinal: (n) => `${n}${suffix[pluralRules.select(n)]}`,

  // Durations: compact forms used inside sentences.
  seconds: (n) => `${n} s`,
  minutes: (n) => `${n} min`,
  hours: (n) => `${n} h`,
  secondsRange: (a, b) => `${a}–${b} s`,
  minutesRange: (a, b) => `${a}–${b} min`,
  hoursRange: (a, b) => `${a}–${b} h`,
  underAMinute: "less than a minute",
  anyMomentNow: "any moment now",

  // Form
  formTitle: "Describe the music you want",
  promptLabel: "Prompt",
  promptHint: "Instruments, mood, tempo, genre — a sentence or two works best.",
  promptPlaceholder: "e.g. calm lo-fi piano with soft rain, 70 bpm",
  charsLeft: (n, max) => `${n} / ${max}`,
  examplesLabel: "Try one:",
  examples: [
    "Warm jazz trio, brushed drums, late-night bar",
    "Uplifting synthwave with a driving bassline",
    "Solo cello, slow and melancholic",
    "Lo-fi hip hop beat with vinyl crackle",
    "Bright acoustic guitar folk tune, whistling melody",
  ],
  durationLabel: "Length",
  durationHint: (min, max) => `Between ${min} and ${max} seconds. Longer tracks take longer to make.`,
  durationUnit: "seconds",
  advancedSummary: "Advanced settings",
  advancedIntro: "The defaults are good. Change these if you want to steer how the music is sampled.",
  topKLabel: "Top-k",
  topKHint: "Picks each note from the k most likely options. 0 turns it off; 250 is the default.",
  topPLabel: "Top-p",
  topPHint: "Picks from the smallest set of options that adds up to this probability. 0 turns it off.",
  temperatureLabel: "Temperature",
  temperatureHint: "Higher is more adventurous, lower is safer. 0 always takes the most likely note.",
  guidanceLabel: "Guidance",
  guidanceHint: "How closely to follow your prompt. Higher sticks to the words; 3 is a good balance.",
  seedLabel: "Seed",
  seedHint: "The same seed and settings give the same track. Leave empty for a surprise.",
  seedPlaceholder: "random",
  submit: "Compose",
  submitting: "Sending…",

  // Queue outlook on the form
  outlookLoading: "Checking how busy it is…",
  outlookEmpty: "No one is waiting. Your track starts right away.",
  outlookWait: (range) => `Expected wait right now: about ${range}.`,
  outlookPending: (n) => `${n} ${plural(n, "track", "tracks")} in line.`,
  outlookNoWorkers: "The composer is paused right now. You can still join the line; your track starts when it's back.",
  outlookUnavailable: "Couldn't check the line right now. You can still try.",

  // Validation
  errRequired: "Write a few words about the music you want.",
  errTooLong: (max) => `Keep it under ${max} characters.`,
  errRange: (min, max) => `Choose a number between ${min} and ${max}.`,
  errDuration: (min, max) => `Choose between ${min} and ${max} seconds.`,
  errInteger: "Use a whole number.",
  errNumber: "Use a number.",
  errFormSummary: "Please fix the highlighted field.",

  // Submission problems
  queueFull: "The line is full right now.",
  queueFullRetry: (wait) => `Please try again in ${wait}. Nothing was lost — your prompt is still here.`,
  clientLimit: "You already have several tracks waiting.",
  clientLimitRetry: (wait) => `Let one of them finish, or try again in ${wait}.`,
  unavailable: "Coda isn't available at the moment.",
  unavailableRetry: "This is on our side. Please try again in a minute.",
  offline: "Can't reach Coda.",
  offlineRetry: "Check your connection and try again.",
  somethingWrong: "Something went wrong on our side. Please try again.",
  retryIn: (s) => `Try again (${s} s)`,
  retryNow: "Try again",

  // Job page: shared
  backToForm: "New track",
  loadingJob: "Looking up your track…",
  notFound: "We can't find this track.",
  notFoundHelp: (h) => `Finished tracks are kept for ${h} hours, so it may have expired — or the link is incomplete.`,
  badLink: "This link doesn't look like a Coda track.",
  yourPrompt: "Your prompt",
  reconnecting: (s) => `Connection lost. Showing the last update; retrying in ${s} s.`,
  reconnectingNow: "Connection lost. Retrying…",
  backOnline: "Back online.",

  // Queued
  queuedNext: "You're next in line",
  queuedPosition: (ord) => `You're ${ord} in line`,
  jobsAhead: (n) =>
    n === 0
      ? "No one else is waiting: yours starts as soon as the composer is free."
      : `${n} ${plural(n, "track", "tracks")} waiting ahead of you.`,
  startsIn: (range) => `Starts in about ${range}`,
  startsSoon: "Starts any moment now",
  readyIn: (range) => `ready in about ${range}`,
  queuedExplain:
    "Coda makes tracks in order of arrival, several at once when the machine has room: yours joins the moment a place frees up. Estimates are based on how fast recent tracks were made.",

  // Running
  runningTitle: "Composing your track",
  stage_encoding_prompt: "Reading your prompt",
  stage_composing: "Composing",
  stage_rendering_audio: "Turning the notes into audio",
  stage_starting: "Warming up",
  composingDetail: (done, total, step, steps) => `${done} of ${total} s of music · step ${step} of ${steps}`,
  together: (n) => `Making ${n} tracks together — yours is one of them. Sharing each step is what keeps everyone's wait short.`,
  elapsed: (t) => `${t} elapsed`,
  timeLeft: (range) => `about ${range} left`,
  almostDone: "almost done",
  progressLabel: "Progress",

  // What you can do
  meanwhileTitle: "While you wait",
  meanwhileTab: "Keep this tab open, or close it and come back with the link — your place in line is kept.",
  meanwhileKept: (h) => `Finished tracks are kept for ${h} hours.`,
  copyLink: "Copy link",
  copied: "Link copied",
  copyFailed: "Couldn't copy — select the address bar instead",
  notifyMe: "Notify me when it's ready",
  notifyOn: "We'll notify you when it's ready.",
  notifyDenied: "Notifications are blocked for this site.",
  notifyTitle: "Your track is ready",
  cancel: "Cancel this track",
  cancelConfirmTitle: "Cancel this track?",
  cancelConfirmBody: "It leaves the line and can't be resumed. You can always start a new one.",
  cancelConfirmYes: "Yes, cancel it",
  cancelConfirmNo: "Keep waiting",
  cancelFailed: "Couldn't cancel it. Please try again.",
  cancelTooLate: "Too late to cancel — it has already finished.",
  cancelForbidden: "This browser isn't allowed to cancel this track.",

  // Succeeded
  readyTitle: "Your track is ready",
  download: "Download WAV",
  makeAnother: "Make another",
  variation: "Try a variation",
  variationHint: "Same prompt, new seed.",
  paramsTitle: "How it was made",
  madeIn: (compute, rtf) =>
    rtf ? `Made in ${compute}: ${rtf} seconds of work per second of music.` : `Made in ${compute}.`,
  waitedFor: (t) => `Waited ${t} in line.`,
  energy: (wh) => `About ${wh} Wh of electricity.`,
  keptUntil: (when) => `Kept until ${when}. Download it if you want to keep it longer.`,
  audioLabel: "Your track",

  // Failed / canceled
  failedTitle: "This track couldn't be made",
  failedHelp: "Something went wrong while composing. It's usually temporary — try again, or change the prompt a little.",
  technicalDetails: "Technical details",
  tryAgain: "Try again",
  editPrompt: "Edit the prompt",
  canceledTitle: "This track was canceled",
  canceledHelp: "It left the line before it was finished. Nothing was kept.",
  startAgain: "Start it again",

  // Titles
  titleQueued: (n) => `#${n} in line`,
  titleStarting: "Starting",
  titleRunning: (pct) => `${pct}%`,
  titleReady: "Ready",
  titleFailed: "Failed",
  titleCanceled: "Canceled",

  // Live announcements
  announceQueued: (ord) => `You're ${ord} in line.`,
  announceRunning: "Your track has started.",
  announceStage: (stage) => `${stage}.`,
  announceReady: "Your track is ready to play.",
  announceFailed: "Your track couldn't be made.",
  announceCanceled: "Your track was canceled.",

  // Parameters
  param_prompt: "Prompt",
  param_duration_seconds: "Length",
  param_top_k: "Top-k",
  param_top_p: "Top-p",
  param_temperature: "Temperature",
  param_guidance_scale: "Guidance",
  param_seed: "Seed",
  off: "off",

  // Recent tracks
  recentTitle: "Your recent tracks",
  recentEmpty: "Tracks you make in this browser show up here.",
  recentClear: "Clear list",
  status_queued: "In line",
  status_running: "Composing",
  status_succeeded: "Ready",
  status_failed: "Failed",
  status_canceled: "Canceled",
  status_expired: "Expired",
  status_unknown: "Unknown",
  createdAgo: (t) => `${t} ago`,
  justNow: "just now",

  footer: "Coda — a queue that tells you the truth.",
};
