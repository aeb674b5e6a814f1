"""Loading a server with wrk, run after run, and the app's cost in-process."""
import contextlib
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import time

from benchlib.machine import cpu_line, cpu_ticks, rss_kb, settle, steal_pct, tree
from benchlib.servers import PY, Running, wait_ready


WRK_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d, "lat_mean": %.1f, ' ..
    '"lat_max": %d, "p50": %d, "p90": %d, "p95": %d, "p99": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency.mean, latency.max, latency:percentile(50),
    latency:percentile(90), latency:percentile(95), latency:percentile(99)))
end
"""


# Prepended to WRK_LUA for the apps of servers.CLOSE.
WRK_CLOSE_LUA = 'wrk.headers["Connection"] = "close"\n'


def wrk(port, path, conns, seconds, lua):
    argv = ["wrk", "-t1", "-c%d" % conns, "-d%ds" % seconds, "--timeout", "10s", "-s", lua,
            "http://127.0.0.1:%d%s" % (port, path)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = re.search(r"BENCHJSON (\{.*\})", out.stdout)
    if not m:
        raise RuntimeError("wrk failed: %s %s" % (out.stdout, out.stderr))
    r = json.loads(m.group(1))
    # wrk shares the CPUs with the server: what it used is not the
    # server's to use (only wrk is reaped in between).
    r["wrk_cpu_s"] = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3)
    return r


def run_order(conns_list, n_servers, repeat):
    """The order of the runs: a list of (repetition, connections, server
    indexes) groups. Each repetition loads every server at every number of
    connections; every second one (the second, the fourth...) goes
    backwards (the last number of connections and the last server first).
    A shared machine drifts over a long run, and runs made in one order
    only would put that drift between 10 and 256 connections: srv used
    more CPU per request at 256 connections than at 10 in six of the seven
    stored pairs of runs made in one order, and not when the two were
    interleaved by hand."""
    order = []
    for i in range(repeat):
        groups = [(i, c, list(range(n_servers))) for c in conns_list]
        if i % 2:
            groups = [(i, c, s[::-1]) for _, c, s in reversed(groups)]
        order += groups
    return order


def measure_app(entries, env, conns_list, args, tmp, progress, cost=None, close=False):
    """Measures every server of one app, interleaved: all of them run at
    once (idle but for the one under load), and each repetition loads each
    server in turn (in run_order's order), so that a noisy neighbour on a
    shared machine slows them alike instead of whichever happened to run
    then. cost, when given, measures the app's CPU cost in-process: it
    runs after each repetition's runs at each number of connections, so
    that the app's own limit is measured under the same conditions as the
    servers. close: the load asks for Connection: close; whether each
    server then closes is recorded (closes_when_asked). Returns the results
    and the costs by number of connections."""
    results, live, costs = [], [], {}
    started = time.monotonic()
    try:
        for name, argv, port, cwd, path, expect in entries:
            res = {"server": name, "runs": {}}
            results.append(res)
            try:
                run = Running(argv, cwd, env, os.path.join(tmp, "%s-%d.log" % (name, port)))
                live.append((res, run, port, path))
                wait_ready(port, path, expect, run.proc)
                if close:
                    res["closes"] = closes_when_asked(port, path)
            except Exception as e:  # noqa: BLE001 - report it, measure the others
                sys.stderr.write("\nbench: %s failed to start: %s\n" % (name, e))
                res["error"] = str(e)
        live = [x for x in live if "error" not in x[0]]
        for conns in conns_list:
            for res, run, port, path in live:
                progress(res["server"], conns, "warm-up")
                settle()
                res.setdefault("served_at_once", {})[str(conns)] = served_at_once(port, path,
                                                                                  conns)
                with uneven(run, args):
                    wrk(port, path, conns, args.warmup, args.lua)
        for i, conns, order in run_order(conns_list, len(live), args.repeat):
            for k in order:
                res, run, port, path = live[k]
                progress(res["server"], conns, "run %d/%d" % (i + 1, args.repeat))
                try:
                    r = low_steal_run(lambda: one_run(run, port, path, conns, args), args)
                    r["rep"], r["at_s"] = i, round(time.monotonic() - started, 1)
                    res["runs"].setdefault(str(conns), []).append(r)
                except Exception as e:  # noqa: BLE001
                    sys.stderr.write("\nbench: %s: %s\n" % (res["server"], e))
                    res["error"] = str(e)
            if cost is not None:
                progress("(app cost)", conns, "run %d/%d" % (i + 1, args.repeat))
                settle()
                costs.setdefault(str(conns), []).append(cost())
    finally:
        Running.stop_all()
    return results, costs


def cpus():
    """The CPUs this process (and the servers it starts) may run on."""
    return sorted(os.sched_getaffinity(0))


def pin_workers(pid):
    """Pins every thread of each process under pid (the workers, not the
    master) to one CPU, in turn: the first to CPU 0, the next to CPU 1..."""
    mine = cpus()
    for k, p in enumerate(sorted(tree(pid)[1:])):
        try:
            for tid in os.listdir("/proc/%d/task" % p):
                os.sched_setaffinity(int(tid), {mine[k % len(mine)]})
        except OSError:  # gone meanwhile
            pass


def busy_loop():
    """A process that keeps the last CPU busy until killed."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    os.sched_setaffinity(hog.pid, {cpus()[-1]})
    return hog


@contextlib.contextmanager
def uneven(run, args):
    """With --uneven-cpus, for the block: the server's workers pinned
    (pin_workers) and the busy loop running. Warm-up and runs alike, so
    that a server meets in its runs what it warmed up with."""
    if not getattr(args, "uneven_cpus", False):
        yield
        return
    pin_workers(run.proc.pid)
    hog = busy_loop()
    try:
        yield
    finally:
        hog.kill()
        hog.wait()


def one_run(run, port, path, conns, args):
    settled = settle()
    pids = tree(run.proc.pid)
    c0, t0, s0 = cpu_ticks(pids), time.monotonic(), cpu_line()
    with uneven(run, args):
        r = wrk(port, path, conns, args.duration, args.lua)
    r["steal_pct"] = steal_pct(s0, cpu_line())
    r["settled_s"] = round(settled, 2)
    pids = tree(run.proc.pid)
    r["cpu_s"] = (cpu_ticks(pids) - c0) / os.sysconf("SC_CLK_TCK")
    r["wall_s"] = time.monotonic() - t0
    r["rss_kb"] = rss_kb(pids)
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return r


STEAL_PAUSE_S = 5


def low_steal_run(measure, args):
    """measure() (one run), tried again while the host stole more than
    args.max_steal % of the CPUs during it: up to args.steal_retries more
    times, each after a pause, since steal comes in waves. On a shared
    virtual machine it moved hello's requests/s from 55k (2% steal) to
    20k (34%) with the same binary, more than any difference between the
    servers. Returns the try with the least steal, with how many there
    were."""
    best = None
    for attempt in range(1 + args.steal_retries):
        if attempt > 0:
            time.sleep(STEAL_PAUSE_S)
        r = measure()
        if best is None or r["steal_pct"] < best["steal_pct"]:
            best = r
        if r["steal_pct"] <= args.max_steal:
            break
        if attempt < args.steal_retries:
            sys.stderr.write("\nbench: the host stole %.0f%% of the CPUs during that run; "
                             "trying it again in %d s\n" % (r["steal_pct"], STEAL_PAUSE_S))
    best["tries"] = attempt + 1
    return best


def served_at_once(port, path, conns, timeout=2.0):
    """Opens conns connections, sends one request on each, and counts the
    connections answered within timeout. A server that serves a fixed
    number of connections at a time (uWSGI's --http11-socket: one per
    thread) leaves the rest waiting, and wrk's latency figures then cover
    only the connections it serves."""
    socks = []
    try:
        for _ in range(conns):
            try:
                socks.append(socket.create_connection(("127.0.0.1", port), timeout=timeout))
            except OSError:  # its listen queue is full: not served either
                break
        req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode()
        for s in list(socks):
            try:
                s.sendall(req)
            except OSError:
                socks.remove(s)
                s.close()
        deadline = time.monotonic() + timeout
        answered = 0
        for s in socks:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                if s.recv(64).startswith(b"HTTP/1.1 2"):
                    answered += 1
            except OSError:
                pass
        return answered
    finally:
        for s in socks:
            s.close()


def closes_when_asked(port, path, timeout=2.0):
    """Whether the server closes the connection after answering a request
    that says Connection: close, as RFC 9112 (9.6) says it must. wrk opens
    a new connection only when the server closes one: on a server that
    keeps it open, a load that asks for a connection per request measures
    keep-alive."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                   % path).encode())
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                if not s.recv(65536):
                    return True
        except OSError:
            pass
        return False


LATENCIES = ("lat_mean", "p50", "p90", "p95", "p99")


def median_run(reps):
    """The run with the median requests/s, plus the spread, with each
    latency figure the median of the runs' (one slow run, which the
    median-rps run can be, then moves no figure)."""
    order = sorted(reps, key=lambda r: r["rps"])
    mid = dict(order[len(order) // 2])
    for k in LATENCIES:
        mid[k] = statistics.median(r[k] for r in reps)
    mid["rps_min"] = order[0]["rps"]
    mid["rps_max"] = order[-1]["rps"]
    mid["errors_total"] = sum(r["errors"] for r in reps)
    return mid


# ---- in-process app cost --------------------------------------------------


# The app, imported, and one() calling it with a prepared environ, as a
# server would: APP_COST times it, bench/serving-instructions counts it.
APP_CALL = r"""
import io, os, sys, time, importlib
sys.path.insert(0, %(dir)r)
mod, _, attr = %(module)r.partition(":")
app = getattr(importlib.import_module(mod), attr or "application")
def environ():
    return {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": %(path)r,
            "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1",
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "REMOTE_ADDR": "127.0.0.1"}
def start_response(status, headers, exc_info=None):
    return lambda b: None
def one():
    body = app(environ(), start_response)
    try:
        for _ in body: pass
    finally:
        if hasattr(body, "close"): body.close()
"""
APP_COST = APP_CALL + r"""
for _ in range(200): one()
n, t0 = 0, time.process_time()
while time.process_time() - t0 < 3:
    one(); n += 1
print((time.process_time() - t0) / n, *sorted(os.sched_getaffinity(0)))
"""


def app_cost(app_dir, module, path, per_cpu=None):
    """The app's CPU cost per request in-process (s), with every CPU
    running it at once: one process pinned to each CPU loops over calls
    of the app. A server under load keeps every CPU busy, and the CPUs of
    a virtual machine need not be alike (one shared with a neighbour may
    run the app at half the other's speed for minutes): measured on one
    CPU alone, the cost was that CPU's, whichever the scheduler chose.
    Returns the cost that gives the CPUs' summed rate (len(cpus) over the
    sum of 1/cost), so that the cores over it is what the app alone makes
    on the machine; per_cpu, a list, gets {cpu: cost} appended."""
    code = APP_COST % {"dir": app_dir, "module": module, "path": path}
    procs = [(cpu, subprocess.Popen([PY, "-c", code], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True,
                                    preexec_fn=lambda c=cpu: os.sched_setaffinity(0, {c})))
             for cpu in cpus()]
    costs = {}
    for cpu, proc in procs:
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        words = out.split()
        if proc.returncode != 0 or words[1:] != [str(cpu)]:
            raise RuntimeError("app cost on CPU %d: %s%s" % (cpu, err, out))
        costs[cpu] = float(words[0])
    if per_cpu is not None:
        per_cpu.append(costs)
    return len(costs) / sum(1 / c for c in costs.values())
