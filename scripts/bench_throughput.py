#!/usr/bin/env python3
"""Throughput of the batching worker: N jobs of D seconds submitted at once through Redis.

What it measures
----------------
For each concurrency level c (``worker.concurrency``, the engine's batch size: up to c jobs are
composed together, one forward pass per decoding step for all of them) the script starts a
fresh ``coda up`` process (api + worker in one process) and

1. waits for ``/readyz`` and for the worker to be alive (``GET /api/v1/queue`` reports
   ``workers_alive >= 1``, which happens only after the worker loaded the model and warmed up,
   so neither model loading nor warm-up is in the figure);
2. submits N jobs back to back (``POST /api/v1/jobs``, ``duration_seconds`` = D, seed = i);
3. polls ``GET /api/v1/jobs/{id}`` until every job is final (succeeded, failed, canceled);
4. records the wall time from just before the first submission to the last job's
   ``finished_at`` (server clock, same machine; the poll time is used when a view lacks it),
   every job's start and finish relative to that first submission, and whether all succeeded;
5. stops the process (SIGINT, SIGKILL after ``--stop-timeout``).

By default N equals c (N jobs at concurrency N: one full batch, the best case for batching);
``--jobs 8`` submits a fixed 8 jobs at every level instead (so c=1 runs them one after another).
The speed-up is throughput (jobs per second) relative to c=1 in the same round, so it reads the
same either way: with N = c it is c x wall(c=1) / wall(c).

Each run gets its own Redis namespace (``--namespace bench-<pid>-<time>-c<c>-r<r>``), a fresh
temporary ``storage.dir`` (the SQLite ledger and audio live there and are deleted afterwards),
and a free local port for ``http.addr``. The per-client cap (``queue.max_pending_per_client``)
is raised to N and ``limits.max_duration_seconds`` to D when needed. ``CODA_*`` variables of the
calling shell are not passed on, so a local configuration cannot change the measurement.
The Redis keys of each namespace are left behind (they expire with ``storage.retention_*``,
set to one hour here).

Virtual machines drift by 10-20 % from minute to minute, so with ``--repeat R`` the levels are
interleaved round-robin (c1, c2, c4, c8, c1, c2, ...) and each level reports the minimum,
median and maximum over its R runs; the speed-up is the median over rounds of the ratio within
each round.

Example
-------
A musicgen-small-shaped model with random weights, quantized to Q8_0, needs no download
(``coda quantize --preset small`` writes random weights of the published shapes with the tiny
model's tokenizer; the audio is noise, the timing is musicgen-small's)::

    target/release/coda quantize --preset small --dtype q8_0 --out data/models/small-q8_0.gguf
    python3 scripts/bench_throughput.py --coda target/release/coda \\
        --model data/models/small-q8_0.gguf --threads 2 --concurrency 1,2,4,8 --seconds 10

Quick check with the project's tiny test model (generated in each run's data dir)::

    python3 scripts/bench_throughput.py --coda target/debug/coda --model tiny \\
        --concurrency 1,2 --seconds 1

With ``--model facebook/musicgen-small --quantization q8_0`` every run would download and
quantize the model again into its fresh data dir: pass a GGUF written once by ``coda quantize``,
or ``--model-cache DIR`` to share ``storage.dir/models`` between runs.

Only the Python 3 standard library is used. ``--json`` prints one JSON object on stdout
(progress goes to stderr either way).
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

FINAL = ("succeeded", "failed", "canceled")
DEFAULT_MAX_DURATION = 30.0  # limits.max_duration_seconds
DEFAULT_PER_CLIENT = 5  # queue.max_pending_per_client
PROMPT = "lo-fi hip hop beat with warm piano chords"

# Requests go straight to 127.0.0.1, never through an http_proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Stop(Exception):
    """SIGTERM: leave the loops and let the finally blocks stop the child process."""


def log(msg):
    os.write(2, (msg + "\n").encode())


# --------------------------------------------------------------------------- HTTP


def http(method, url, body=None, timeout=10.0):
    """(status, parsed JSON or text); (None, reason) when nothing answered."""
    data = None
    headers = {"Accept": "application/json"}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with OPENER.open(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    except (urllib.error.URLError, OSError) as err:
        return None, str(getattr(err, "reason", err))
    try:
        return status, json.loads(raw.decode() or "null")
    except ValueError:
        return status, raw.decode(errors="replace")


# --------------------------------------------------------------------------- time


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_rfc3339(text):
    """Epoch seconds of '2024-05-01T12:34:56.789Z' (or with +hh:mm); None if unparsable."""
    if not text or len(text) < 20:
        return None
    try:
        t = text.strip()
        y, mo, d = int(t[0:4]), int(t[5:7]), int(t[8:10])
        h, mi, s = int(t[11:13]), int(t[14:16]), int(t[17:19])
        rest = t[19:]
        frac = 0.0
        if rest.startswith((".", ",")):
            i = 1
            while i < len(rest) and rest[i].isdigit():
                i += 1
            frac = float("0." + rest[1:i]) if i > 1 else 0.0
            rest = rest[i:]
        offset = 0
        if rest in ("Z", "z"):
            offset = 0
        elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":":
            offset = (int(rest[1:3]) * 3600 + int(rest[4:6]) * 60) * (1 if rest[0] == "+" else -1)
        else:
            return None
        return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s + frac - offset
    except ValueError:
        return None


# --------------------------------------------------------------------------- machine


def machine():
    name = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                if key in ("model name", "hardware", "cpu model", "processor") and value.strip():
                    if key == "processor" and value.strip().isdigit():
                        continue  # the x86 "processor : 0" index line
                    name = value.strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = None
    return {"processor": name or "unknown", "threads": os.cpu_count(), "usable_threads": usable}


# --------------------------------------------------------------------------- ports


def ports_in_use():
    used = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f, None)
                for line in f:
                    parts = line.split()
                    if len(parts) > 1 and ":" in parts[1]:
                        used.add(int(parts[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return used


def pick_port():
    used = ports_in_use()
    for _ in range(1000):
        port = 20000 + int.from_bytes(os.urandom(2), "big") % 30000
        if port not in used:
            return port
    raise RuntimeError("no free local port found")


# --------------------------------------------------------------------------- one run


def base_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODA_")}
    env.setdefault("RUST_LOG", "info")
    return env


def tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


class Coda:
    """One `coda up` process on its own port, namespace and data dir."""

    def __init__(self, args, concurrency, jobs, namespace, data_dir):
        self.args = args
        self.concurrency = concurrency
        self.jobs = jobs
        self.namespace = namespace
        self.data_dir = data_dir
        self.log_path = os.path.join(data_dir, "coda.log")
        self.proc = None
        self.port = None

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def env(self):
        env = base_env()
        env["CODA_WORKER__CONCURRENCY"] = str(self.concurrency)
        env["CODA_QUEUE__MAX_PENDING_PER_CLIENT"] = str(max(DEFAULT_PER_CLIENT, self.jobs))
        env["CODA_QUEUE__MAX_PENDING"] = str(max(1000, self.jobs))
        if self.args.seconds > DEFAULT_MAX_DURATION:
            env["CODA_LIMITS__MAX_DURATION_SECONDS"] = repr(float(self.args.seconds))
        env["CODA_STORAGE__RETENTION_SECONDS"] = "3600"
        if self.args.threads:
            env["CODA_MODEL__THREADS"] = str(self.args.threads)
        return env

    def command(self):
        cmd = [
            self.args.coda, "up",
            "--addr", "127.0.0.1:%d" % self.port,
            "--redis-url", self.args.redis_url,
            "--namespace", self.namespace,
            "--data-dir", self.data_dir,
            "--model", self.args.model,
        ]
        if self.args.quantization:
            cmd += ["--quantization", self.args.quantization]
        return cmd

    def start(self):
        """Starts the process and waits for readiness and a live worker; returns the queue view."""
        for attempt in range(5):
            self.port = pick_port()
            with open(self.log_path, "ab") as logf:
                self.proc = subprocess.Popen(
                    self.command(), env=self.env(), stdin=subprocess.DEVNULL,
                    stdout=logf, stderr=subprocess.STDOUT, start_new_session=True,
                )
            try:
                return self.wait_ready()
            except PortTaken:
                self.stop()
                log("  port %d was taken, trying another (%d)" % (self.port, attempt + 1))
        raise RuntimeError("could not bind a local port after 5 tries")

    def wait_ready(self):
        deadline = time.monotonic() + self.args.start_timeout
        ready = False
        last = None
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                text = tail(self.log_path)
                if "binding http.addr" in text:
                    raise PortTaken()
                raise RuntimeError("coda up exited with status %s before it was ready:\n%s" % (code, text))
            if not ready:
                status, body = http("GET", self.base + "/readyz", timeout=2)
                ready = status == 200
                last = body
            if ready:
                status, body = http("GET", self.base + "/api/v1/queue", timeout=5)
                last = body
                if status == 200 and isinstance(body, dict) and body.get("workers_alive", 0) >= 1:
                    return body
            time.sleep(0.25)
        raise RuntimeError(
            "coda up not ready with a live worker after %ss (last answer: %s):\n%s"
            % (self.args.start_timeout, last, tail(self.log_path))
        )

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        try:
            self.proc.send_signal(signal.SIGINT)
            return self.proc.wait(timeout=self.args.stop_timeout)
        except subprocess.TimeoutExpired:
            log("  coda did not stop within %ss of SIGINT; killing it" % self.args.stop_timeout)
            self.proc.kill()
            return self.proc.wait()


class PortTaken(Exception):
    pass


def run_once(args, concurrency, jobs, round_index):
    namespace = "bench-%d-%d-c%d-r%d" % (os.getpid(), int(time.time()), concurrency, round_index)
    with tempfile.TemporaryDirectory(prefix="coda-bench-") as data_dir:
        if args.model_cache:
            os.makedirs(args.model_cache, exist_ok=True)
            os.symlink(os.path.abspath(args.model_cache), os.path.join(data_dir, "models"))
        coda = Coda(args, concurrency, jobs, namespace, data_dir)
        try:
            t_start = time.monotonic()
            queue = coda.start()
            startup = time.monotonic() - t_start
            if queue.get("concurrency") not in (None, concurrency):
                log("  warning: the queue reports concurrency %s, expected %d"
                    % (queue.get("concurrency"), concurrency))
            result = measure(args, coda, concurrency, jobs, round_index, queue, startup)
        except BaseException:
            coda.stop()
            if args.show_log:
                log("  --- coda log (last 200 lines) ---\n" + tail(coda.log_path, 200))
            raise
        code = coda.stop()
        result["exit_status"] = code
        if code not in (0, -signal.SIGINT, 130):
            log("  note: coda exited with status %s after SIGINT:\n%s" % (code, tail(coda.log_path, 20)))
        return result


def measure(args, coda, concurrency, jobs, round_index, queue, startup):
    ids, seeds = [], {}
    t0 = time.time()
    for i in range(jobs):
        body = {"prompt": PROMPT, "duration_seconds": args.seconds, "seed": i}
        status, answer = http("POST", coda.base + "/api/v1/jobs", body, timeout=30)
        if status != 202 or not isinstance(answer, dict) or "job" not in answer:
            raise RuntimeError("submitting job %d: HTTP %s %s" % (i, status, answer))
        ids.append(answer["job"]["id"])
        seeds[answer["job"]["id"]] = i
    submitted = time.time() - t0

    views, seen_final = {}, {}
    # Generous by default: 30 s of wall per second of audio per job would be a very slow model.
    job_timeout = args.job_timeout or max(600.0, 30.0 * args.seconds * jobs)
    deadline = time.monotonic() + job_timeout
    pending = list(ids)
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError("jobs not final after %ss: %s" % (job_timeout, pending))
        if coda.proc.poll() is not None:
            raise RuntimeError("coda exited (status %s) while jobs ran:\n%s"
                               % (coda.proc.returncode, tail(coda.log_path)))
        time.sleep(args.poll_interval)
        for job_id in list(pending):
            status, view = http("GET", coda.base + "/api/v1/jobs/" + job_id, timeout=10)
            if status != 200 or not isinstance(view, dict):
                continue  # a transient error: ask again next round
            views[job_id] = view
            if view.get("status") in FINAL:
                seen_final[job_id] = time.time()
                pending.remove(job_id)

    per_job = []
    for job_id in ids:
        v = views[job_id]
        created = parse_rfc3339(v.get("created_at"))
        started = parse_rfc3339(v.get("started_at"))
        finished = parse_rfc3339(v.get("finished_at"))
        finish_source = "finished_at"
        if finished is None:
            finished, finish_source = seen_final[job_id], "poll"
        acct = v.get("accounting") or {}
        per_job.append({
            "id": job_id,
            "seed": seeds[job_id],
            "status": v.get("status"),
            "attempts": v.get("attempts"),
            "error": v.get("error"),
            "created_s": None if created is None else round(created - t0, 3),
            "started_s": None if started is None else round(started - t0, 3),
            "finished_s": round(finished - t0, 3),
            "finish_source": finish_source,
            "run_s": None if started is None else round(finished - started, 3),
            "compute_seconds": acct.get("compute_seconds"),
            "audio_seconds": acct.get("audio_seconds"),
        })
    wall = max(j["finished_s"] for j in per_job)
    runs = [j["run_s"] for j in per_job if j["run_s"] is not None]
    return {
        "concurrency": concurrency,
        "jobs": jobs,
        "round": round_index,
        "namespace": coda.namespace,
        "all_succeeded": all(j["status"] == "succeeded" for j in per_job),
        "wall_seconds": round(wall, 3),
        "jobs_per_minute": round(60.0 * jobs / wall, 3) if wall > 0 else None,
        "mean_job_seconds": round(statistics.mean(runs), 3) if runs else None,
        "mean_latency_seconds": round(statistics.mean(j["finished_s"] for j in per_job), 3),
        "submit_seconds": round(submitted, 3),
        "startup_seconds": round(startup, 3),
        "warmup_ms_per_step": queue.get("ms_per_step"),
        "per_job": per_job,
    }


# --------------------------------------------------------------------------- summary


def summarize(levels, runs, jobs_for):
    by_round = {}
    for r in runs:
        by_round.setdefault(r["round"], {})[r["concurrency"]] = r
    rows = []
    for c in levels:
        mine = [r for r in runs if r["concurrency"] == c]
        if not mine:
            continue
        walls = [r["wall_seconds"] for r in mine]
        speedups = []
        for rnd in by_round.values():
            base, this = rnd.get(1), rnd.get(c)
            if base and this and this["wall_seconds"] > 0 and base["wall_seconds"] > 0:
                speedups.append((this["jobs"] / this["wall_seconds"]) / (base["jobs"] / base["wall_seconds"]))
        job_means = [r["mean_job_seconds"] for r in mine if r["mean_job_seconds"] is not None]
        rows.append({
            "concurrency": c,
            "jobs": jobs_for(c),
            "runs": len(mine),
            "runs_all_succeeded": sum(r["all_succeeded"] for r in mine),
            "wall_min": min(walls),
            "wall_median": round(statistics.median(walls), 3),
            "wall_max": max(walls),
            "speedup_median": round(statistics.median(speedups), 3) if speedups else None,
            "speedups": [round(s, 3) for s in speedups],
            "mean_job_seconds": round(statistics.mean(job_means), 3) if job_means else None,
            "wall_per_job_median": round(statistics.median(w / jobs_for(c) for w in walls), 3),
        })
    return rows


def print_table(info, rows):
    m = info["machine"]
    usable = "" if m["usable_threads"] in (None, m["threads"]) else " (%s usable)" % m["usable_threads"]
    print("machine: %s, %s threads%s" % (m["processor"], m["threads"], usable))
    cfg = info["config"]
    print("coda: %s  model: %s  quantization: %s  model.threads: %s" % (
        cfg["coda"], cfg["model"], cfg["quantization"] or "(config default)",
        cfg["threads"] or "(one per core)"))
    print("%s s per job, %s, %d round(s)%s" % (
        cfg["seconds"], "N jobs = concurrency" if cfg["jobs"] is None else "%d jobs" % cfg["jobs"],
        cfg["repeat"], ", levels interleaved" if cfg["repeat"] > 1 else ""))
    print()
    head = ("conc", "jobs", "wall min", "median", "max", "speed-up", "job s", "wall/job", "ok")
    print("%4s %5s %9s %8s %8s %9s %7s %9s %6s" % head)
    for r in rows:
        sp = "-" if r["speedup_median"] is None else "%.2fx" % r["speedup_median"]
        js = "-" if r["mean_job_seconds"] is None else "%.2f" % r["mean_job_seconds"]
        print("%4d %5d %9.2f %8.2f %8.2f %9s %7s %9.2f %6s" % (
            r["concurrency"], r["jobs"], r["wall_min"], r["wall_median"], r["wall_max"], sp, js,
            r["wall_per_job_median"], "%d/%d" % (r["runs_all_succeeded"], r["runs"])))
    print()
    print("wall: first submission to last finished_at (s); speed-up: jobs/s vs concurrency 1 in the")
    print("same round (median over rounds); job s: mean start->finish of one job; ok: runs where")
    print("every job succeeded.")


# --------------------------------------------------------------------------- main


def parse_args():
    p = argparse.ArgumentParser(
        description="N jobs of D seconds submitted at once through Redis: wall time until all "
                    "finish, at several worker.concurrency levels.")
    p.add_argument("--coda", default="target/release/coda", help="the coda binary")
    p.add_argument("--model", default="tiny", help="passed as --model: tiny, a folder, a hub id or a GGUF file")
    p.add_argument("--quantization", help="passed as --quantization: none, q8_0 or q4k")
    p.add_argument("--threads", type=int, help="model.threads (CODA_MODEL__THREADS)")
    p.add_argument("--concurrency", default="1,2,4,8", help="comma list of worker.concurrency levels")
    p.add_argument("--jobs", type=int, help="jobs per run (default: equal to the concurrency)")
    p.add_argument("--seconds", type=float, default=10.0, help="duration_seconds of each job")
    p.add_argument("--repeat", type=int, default=1, help="rounds; the levels are interleaved round-robin")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379")
    p.add_argument("--model-cache", help="folder shared as storage.dir/models between runs "
                                         "(hub downloads, quantized copies, the tiny model)")
    p.add_argument("--start-timeout", type=float, default=900.0,
                   help="seconds to wait for readiness and a live worker (model load + warm-up)")
    p.add_argument("--job-timeout", type=float, default=None,
                   help="seconds to wait for all jobs of one run (default: generous, from D and N)")
    p.add_argument("--stop-timeout", type=float, default=30.0, help="seconds between SIGINT and SIGKILL")
    p.add_argument("--poll-interval", type=float, default=0.5, help="seconds between polls of each job")
    p.add_argument("--show-log", action="store_true", help="print the coda log tail when a run fails")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = p.parse_args()
    try:
        args.levels = [int(x) for x in args.concurrency.split(",") if x.strip()]
    except ValueError:
        p.error("--concurrency must be a comma list of integers, got %r" % args.concurrency)
    if not args.levels or min(args.levels) < 1:
        p.error("--concurrency levels must be >= 1")
    if args.jobs is not None and args.jobs < 1:
        p.error("--jobs must be >= 1")
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    if not 1.0 <= args.seconds <= 600.0:
        p.error("--seconds must be between 1 and 600 (limits.max_duration_seconds' range)")
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be >= 1")
    coda = args.coda if os.sep in args.coda else os.path.join(".", args.coda)
    if not (os.path.isfile(coda) and os.access(coda, os.X_OK)):
        p.error("%s is not an executable file (build it: cargo build --release -p coda)" % args.coda)
    args.coda = os.path.abspath(coda)
    if os.path.exists(args.model):
        args.model = os.path.abspath(args.model)
    return args


def main():
    args = parse_args()

    def on_term(signum, frame):
        raise Stop()

    signal.signal(signal.SIGTERM, on_term)

    def jobs_for(c):
        return args.jobs if args.jobs is not None else c

    info = {
        "benchmark": "coda throughput: N jobs of D seconds submitted at once through Redis",
        "machine": machine(),
        "config": {
            "coda": args.coda, "model": args.model, "quantization": args.quantization,
            "threads": args.threads, "concurrency": args.levels, "jobs": args.jobs,
            "seconds": args.seconds, "repeat": args.repeat, "redis_url": args.redis_url,
        },
    }
    runs, failures = [], []
    plan = [(rnd, c) for rnd in range(args.repeat) for c in args.levels]
    try:
        for n, (rnd, c) in enumerate(plan, 1):
            jobs = jobs_for(c)
            log("[%d/%d] round %d: concurrency %d, %d job(s) of %gs"
                % (n, len(plan), rnd + 1, c, jobs, args.seconds))
            try:
                r = run_once(args, c, jobs, rnd)
            except (RuntimeError, OSError) as err:
                log("  failed: %s" % err)
                failures.append({"concurrency": c, "round": rnd, "error": str(err)})
                continue
            runs.append(r)
            log("  wall %.2fs (startup %.1fs, %s)" % (
                r["wall_seconds"], r["startup_seconds"],
                "all succeeded" if r["all_succeeded"] else "NOT all succeeded: %s"
                % sorted({j["status"] for j in r["per_job"]})))
    except (KeyboardInterrupt, Stop):
        log("interrupted; reporting the runs done so far")

    rows = summarize(args.levels, runs, jobs_for)
    ok = not failures and runs and all(r["all_succeeded"] for r in runs) and len(runs) == len(plan)
    if args.json:
        out = dict(info, summary=rows, runs=runs, failures=failures, ok=bool(ok))
        print(json.dumps(out, indent=2))
    else:
        print_table(info, rows)
        for f in failures:
            lines = [l for l in f["error"].splitlines() if l.strip()]
            last = " ... " + lines[-1].strip() if len(lines) > 1 else ""
            print("run failed: concurrency %d, round %d: %s%s"
                  % (f["concurrency"], f["round"] + 1, lines[0] if lines else "?", last))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
