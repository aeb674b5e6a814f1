"""bench/compare (and its parts, bench/benchlib): its arithmetic, with no
server run (which app limit a run is compared with, re-rendering stored
results with --report), and that a stopped run stops its servers."""
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import types
import urllib.request

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
COMPARE = os.path.join(ROOT, "bench", "compare")
REFERENCE = os.path.join(ROOT, "bench", "results", "issue5-full")


sys.path.insert(0, os.path.join(ROOT, "bench"))
from benchlib import machine, measure, report, servers  # noqa: E402  (bench/compare's parts)


def _scenario(costs, cores=2):
    cost = statistics.median(costs)
    return {"name": "site-index", "connections": [10, 256], "app_cost_runs_s": costs,
            "app_cost_s": cost, "app_limit_rps": cores / cost, "results": []}


def test_each_number_of_connections_gets_the_limit_of_its_own_repetitions():
    # The machine was slow during the 10-connection repetitions only.
    sc = _scenario([0.0105, 0.0092, 0.0075, 0.0075, 0.0080, 0.0075])
    assert abs(report.app_limit(sc, 10) - 2 / 0.0092) < 1e-6
    assert abs(report.app_limit(sc, 256) - 2 / 0.0075) < 1e-6


def test_the_app_cost_is_measured_on_every_cpu_at_once(tmp_path):
    """One process pinned to each CPU, all at once (a server under load
    keeps every CPU busy, and a virtual machine's CPUs need not be alike);
    the cost returned gives their summed rate."""
    (tmp_path / "tiny.py").write_text(
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'x']\n")
    per_cpu = []
    cost = measure.app_cost(str(tmp_path), "tiny:app", "/", per_cpu)
    # Each process said it could run on its own CPU only.
    assert len(per_cpu) == 1 and sorted(per_cpu[0]) == measure.cpus(), per_cpu
    assert cost == pytest.approx(len(per_cpu[0]) / sum(1 / c for c in per_cpu[0].values()))


def test_the_report_says_how_far_apart_the_cpus_ran_the_app():
    sc = _scenario([0.0024, 0.0021])
    assert report.cpu_spread(sc) == ""  # results from before the per-CPU costs
    sc["app_cost_cpus_s"] = [{"0": 0.0020, "1": 0.0030}, {"0": 0.0020, "1": 0.0021}]
    assert "the CPUs differed by up to 50% (2.00 and 3.00 ms)" in report.cpu_spread(sc)


def test_latencies_are_the_medians_of_the_runs_not_the_median_rps_run():
    """A slow run that happens to have the median req/s (issue 5's lesson
    page at 256 connections: p99s of 770, 451 and 443 ms, the 770 in the
    median-rps run) does not decide the p99 the targets compare."""
    def run(rps, p99, mean):
        return {"rps": rps, "p99": p99, "p95": p99, "p90": mean, "p50": mean,
                "lat_mean": mean, "errors": 0}
    m = measure.median_run([run(680, 770, 368), run(732, 451, 341), run(672, 443, 372)])
    assert m["rps"] == 680 and (m["rps_min"], m["rps_max"]) == (672, 732)
    assert m["p99"] == 451 and m["p95"] == 451
    assert m["lat_mean"] == 368 and m["p50"] == 368


def test_without_costs_per_repetition_the_overall_limit_is_used():
    sc = _scenario([0.008])
    sc["app_cost_runs_s"] = []
    assert report.app_limit(sc, 10) == sc["app_limit_rps"]


def test_repetitions_alternate_so_drift_weighs_on_each_alike():
    assert measure.run_order([10, 256], 2, 3) == [
        (0, 10, [0, 1]), (0, 256, [0, 1]),
        (1, 256, [1, 0]), (1, 10, [1, 0]),
        (2, 10, [0, 1]), (2, 256, [0, 1])]
    # With an even number of repetitions, every run of every server at
    # every number of connections sits at the same place on average.
    for conns_list, servers in (([10, 256], 8), ([1, 10, 256], 3)):
        places = {}
        n = 0
        for _, conns, order in measure.run_order(conns_list, servers, 4):
            for k in order:
                places.setdefault((conns, k), []).append(n)
                n += 1
        assert len(places) == len(conns_list) * servers
        assert {len(p) for p in places.values()} == {4}
        assert len({sum(p) for p in places.values()}) == 1, places


def test_measure_app_runs_in_that_order_and_keeps_each_cost_with_its_connections(monkeypatch):
    done = []

    class Fake:
        def __init__(self, argv, cwd, env, log):
            self.proc = None

        @staticmethod
        def stop_all():
            pass

    def one_run(run, port, path, conns, args):
        done.append((port, conns))
        return {"steal_pct": 0.0}

    def cost():
        done.append(("cost", done[-1][1]))
        return float(len(done))

    for name, fake in (("Running", Fake), ("wait_ready", lambda *a: None),
                       ("settle", lambda: 0.0), ("served_at_once", lambda p, path, c: c),
                       ("wrk", lambda *a: None), ("one_run", one_run)):
        monkeypatch.setattr(measure, name, fake)
    args = types.SimpleNamespace(warmup=1, repeat=3, lua="", max_steal=10.0, steal_retries=0)
    entries = [("a", [], 7001, "/", "/", b""), ("b", [], 7002, "/", "/", b"")]
    results, costs = measure.measure_app(entries, None, [10, 256], args, "/tmp",
                                         lambda *a: None, cost)
    want = []
    for _, conns, order in measure.run_order([10, 256], 2, 3):
        want += [(7001 + k, conns) for k in order] + [("cost", conns)]
    assert done == want
    assert [r["rep"] for r in results[0]["runs"]["256"]] == [0, 1, 2]
    # cost() returns the steps made so far: the second repetition went
    # through 256 connections first.
    assert costs == {"10": [3.0, 12.0, 15.0], "256": [6.0, 9.0, 18.0]}
    sc = _scenario([c for cs in costs.values() for c in cs])
    sc["app_cost_by_conns_s"] = costs
    assert report.app_cost_at(sc, 10) == 12.0 and report.app_cost_at(sc, 256) == 9.0


def test_uneven_cpus_holds_for_the_warm_up_as_for_the_runs(monkeypatch):
    """--uneven-cpus pins the workers and runs the busy loop during each
    server's warm-up too: a server meets in its runs what it warmed up
    with (srv learns its workers' speeds there)."""
    done = []

    class Fake:
        def __init__(self, argv, cwd, env, log):
            self.proc = types.SimpleNamespace(pid=argv[0])

        @staticmethod
        def stop_all():
            pass

    class Hog:
        def kill(self):
            done.append("hog killed")

        def wait(self):
            pass

    def one_run(run, port, path, conns, args):
        with measure.uneven(run, args):
            done.append(("run", port))
        return {"steal_pct": 0.0}

    for name, fake in (("Running", Fake), ("wait_ready", lambda *a: None),
                       ("settle", lambda: 0.0), ("served_at_once", lambda p, path, c: c),
                       ("wrk", lambda port, *a: done.append(("warm-up", port))),
                       ("one_run", one_run),
                       ("pin_workers", lambda pid: done.append(("pinned", pid))),
                       ("busy_loop", lambda: done.append("hog") or Hog())):
        monkeypatch.setattr(measure, name, fake)
    args = types.SimpleNamespace(warmup=1, repeat=1, lua="", max_steal=10.0, steal_retries=0,
                                 uneven_cpus=True)
    measure.measure_app([("a", [41], 7001, "/", "/", b"")], None, [10], args, "/tmp",
                        lambda *a: None, None)
    each = [("pinned", 41), "hog", None, "hog killed"]
    assert done == ([x or ("warm-up", 7001) for x in each] + [x or ("run", 7001) for x in each])


def test_each_repetition_compares_runs_made_minutes_apart():
    sc = _scenario([0.010, 0.008, 0.005, 0.004, 0.004, 0.004])
    sc["app_cost_by_conns_s"] = {"10": [0.010, 0.008, 0.005], "256": [0.004] * 3}
    sc["results"] = [{"server": "srv", "runs": {"10": [{"rps": r} for r in (190, 200, 400)]}},
                     {"server": "peer", "runs": {"10": [{"rps": r} for r in (100, 400, 200)]}},
                     {"server": "failed", "runs": {"10": [{"rps": 100}]}}]
    # The limits of the three repetitions: 2 cores over 10, 8 and 5 ms.
    assert [round(r, 3) for r in report.each_repetition(sc, 10, "limit")] == [0.95, 0.8, 1.0]
    assert report.each_repetition(sc, 10, "peer") == [1.9, 0.5, 2.0]
    assert report.each_repetition(sc, 10, "failed") is None  # the runs do not pair up


def test_a_target_row_tells_how_each_repetition_fared(tmp_path):
    """In issue5-full-62e402e, srv did 765 req/s on the lesson page at 10
    connections, and gunicorn gthread 668: 1.145x, a miss of the 1.15x
    target, while the runs of the three repetitions gave 1.12x, 2.85x and
    1.20x. The row says so, next to the verdict on the medians."""
    out = tmp_path / "r"
    shutil.copytree(os.path.join(ROOT, "bench", "results", "issue5-full-62e402e"), out)
    run = subprocess.run([sys.executable, COMPARE, "--report", str(out)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 3, run.stderr
    md = (out / "results.md").read_text()
    assert "The repetitions alternate: the second goes through the numbers of connections " \
           "and the servers backwards" in md
    assert "| >= 1.15x gunicorn gthread's req/s (issue 4) | 1.14x | **no** | 1.12x, 2.85x, " \
           "1.20x: 2 of 3 |" in md
    assert "| >= 75% of nginx `return 200` | 43% | **no** | 53%, 42%, 42%: 0 of 3 |" in md


def test_summary_prints_the_readme_tables_of_stored_runs():
    """bench/README's tables come from bench/compare --summary, not from a
    script kept elsewhere: a row per app and number of connections, and
    the CPU each server used per request against the app's in-process
    cost, as the README gives them for issue4-prefork-a184bd6."""
    run = subprocess.run([sys.executable, COMPARE, "--summary",
                          os.path.join(ROOT, "bench", "results", "issue4-prefork-a184bd6")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "**prefork a184bd6**"
    assert "| site-lesson | 10 | 880 | gunicorn-gthread 660 | 1.33x | - | 93% | 17.30 (11.56) " \
           "| 45.52 | 2/2 met |" in lines
    assert "| site-index | 10 | 170 | gunicorn-gthread 158 | 1.07x | - | 92% | 79.92 (58.99) " \
           "| 178.07 | 1/2 met; missed: >= 95% of the app's own limit |" in lines
    assert "| prefork a184bd6 | lesson | 10 | 2.11 | 2.27 (+8%) | 2.98 (+41%) | - | - | - |" \
        in lines
    with open(os.path.join(ROOT, "bench", "README.md")) as f:
        readme = f.read()
    assert all(line in readme for line in lines if line.startswith("| site-")), \
        "bench/README.md's table for issue4-prefork-a184bd6 differs from --summary's"


@pytest.mark.parametrize("flag", ["--report", "--summary"])
def test_a_folder_without_results_is_named_in_a_clear_error(tmp_path, flag):
    run = subprocess.run([sys.executable, COMPARE, flag, str(tmp_path)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.startswith("bench: cannot read the results of %s" %
                                 (tmp_path / "results.json")), run.stderr
    assert "Traceback" not in run.stderr


def test_a_run_waits_for_the_work_the_previous_server_left_behind():
    """gunicorn goes on serving the requests of clients that left when wrk
    stopped (about a second of both CPUs on the index page at 256
    connections): the next run, or the app's cost measurement, waits until
    the machine is quiet again instead of sharing it with that work."""
    hog = subprocess.Popen([sys.executable, "-c",
                            "import time\nend = time.time() + 1.5\n"
                            "while time.time() < end: pass"])
    try:
        time.sleep(0.2)
        waited = machine.settle(limit_s=20)
        assert hog.poll() is not None, "settle() returned while the machine was busy"
        assert waited >= 1.0, waited
    finally:
        hog.kill()
        hog.wait()
    assert machine.settle(limit_s=20) < 2.0  # quiet: it goes ahead at once


def test_a_run_waits_for_connections_a_server_has_yet_to_take():
    """A quiet machine is not enough: connections waiting in a server's
    listen queue (uWSGI's overflows at 256 connections, and the kernel
    completes the dropped handshakes seconds later) are work to come. The
    run waits until the server has taken them."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    clients = [socket.create_connection(srv.getsockname(), timeout=5) for _ in range(2)]
    taken = []
    timer = threading.Timer(1.5, lambda: taken.extend(srv.accept()[0] for _ in clients))
    timer.start()
    try:
        waited = machine.settle(limit_s=20)
        assert len(taken) == 2, "settle() returned while connections waited to be taken"
        assert waited >= 1.4, waited
    finally:
        timer.join()
        for s in clients + taken + [srv]:
            s.close()


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.skipif(os.environ.get("SRV_TEST_SANITIZER", "") != "",
                    reason="a sanitizer's runtime does not run under valgrind")
def test_handler_instructions_counts_the_wsgi_layer_per_request():
    """bench/handler-instructions runs srv under callgrind and divides what
    srv__wsgi_handle ran by the requests: a count, not a time."""
    from srvtest import SRV_BIN
    run = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "handler-instructions"),
                          "--srv", SRV_BIN, "--requests", "100", "--headers", "browser"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    words = run.stdout.split()
    assert words[1:] == ["instructions", "per", "request", "in", "srv__wsgi_handle", "(browser",
                         "headers,", "300", "requests)"], run.stdout
    assert int(words[0]) > 1000  # the app's call alone is more


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.skipif(os.environ.get("SRV_TEST_SANITIZER", "") != "",
                    reason="a sanitizer's runtime does not run under valgrind")
def test_serving_instructions_compares_the_worker_with_the_app_in_process():
    """bench/serving-instructions counts every instruction of srv's worker
    per request, and the app's own in-process, each as the difference of
    two runs: the hello app's call is the smaller part of what srv runs."""
    from srvtest import SRV_BIN
    run = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "serving-instructions"),
                          "--srv", SRV_BIN, "--app", "hello", "--requests", "60",
                          "--connections", "3", "--threads", "2"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    m = re.fullmatch(r"hello \(/\): (\d+) instructions per request in srv's worker \(60 "
                     r"requests on 3 connections, --threads 2\), (\d+) in the app in-process: "
                     r"serving adds (-?\d+) \((-?[\d.]+)%\)\n", run.stdout)
    assert m, run.stdout
    mine, own, adds = int(m.group(1)), int(m.group(2)), int(m.group(3))
    assert own > 1000 and mine > own and adds == mine - own, run.stdout


@pytest.mark.parametrize("args", [["--threads", "0"], ["--requests", "0"],
                                  ["--requests", "5", "--connections", "6"]])
def test_serving_instructions_refuses_bad_counts_before_running(args):
    # Before valgrind is looked for: the refusal holds without it too.
    run = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "serving-instructions")]
                         + args, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert "--requests and --threads 1 or more, --connections from 1 to --requests" in run.stderr


def test_report_renders_stored_results_again(tmp_path):
    out = tmp_path / "r"
    shutil.copytree(REFERENCE, out)
    (out / "results.md").unlink()
    (out / "chart.svg").unlink()
    run = subprocess.run([sys.executable, COMPARE, "--report", str(out)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode in (0, 3), run.stderr  # 3: a target was missed in that run
    md = (out / "results.md").read_text()
    assert "Each number of connections is compared with the costs measured during its own " \
           "repetitions: 10 connections" in md
    assert md.count("| target | srv | met |") >= 8
    assert (out / "chart.svg").read_text().startswith("<svg")


def test_report_tells_what_serving_adds_to_the_apps_cost(tmp_path):
    """Next to the limit, which moves with the machine's speed, the report
    gives srv's CPU time per request against the app's in-process cost:
    what serving adds to the app's own work. In issue5-full-26014b0, srv's
    three index runs at 10 connections used 8.33 ms (median) of CPU per
    request, and the costs measured during them had a median of 8.03 ms."""
    out = tmp_path / "r"
    shutil.copytree(os.path.join(ROOT, "bench", "results", "issue5-full-26014b0"), out)
    run = subprocess.run([sys.executable, COMPARE, "--report", str(out)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode in (0, 3), run.stderr
    index = (out / "results.md").read_text().split("## site-index")[1]
    assert "8.33 ms of CPU per request, +3.7% on the app's 8.03 ms in-process" in index
    scenarios = {s["name"]: s for s in json.loads((out / "results.json").read_text())["scenarios"]}
    sc = scenarios["site-index"]
    runs = next(r for r in sc["results"] if r["server"] == "srv")["runs"]["10"]
    cpu, cost = report.cpu_per_request(sc, 10)
    assert cpu == statistics.median(r["cpu_s"] / r["requests"] for r in runs)
    assert cost == statistics.median(sc["app_cost_runs_s"][:3])
    # no app cost: nothing to compare with
    assert report.cpu_per_request(scenarios["hello"], 10) is None


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_each_run_keeps_the_cpu_time_wrk_used(tmp_path):
    """wrk runs on the server's cores: its own CPU time is measured with
    each run (the children's rusage across the run: wrk is the only child
    reaped then), and a busy child reaped before the run is not counted."""
    from srvtest import Server
    lua = tmp_path / "report.lua"
    lua.write_text(measure.WRK_LUA)
    hog = subprocess.Popen([sys.executable, "-c", "import time\nend = time.process_time() + 2\n"
                            "while time.process_time() < end: pass"])
    hog.wait()
    with Server("--builtin", "echo") as s:
        t0 = time.monotonic()
        r = measure.wrk(s.port, "/", 4, 1, str(lua))
        wall = time.monotonic() - t0
    assert r["requests"] > 100, r
    # Above nothing (a sanitized echo server makes wrk idle more), and
    # below the run's wall time (about 1 s), which the hog's 2 s would
    # exceed: only wrk counts.
    assert 0 < r["wrk_cpu_s"] < wall, (r["wrk_cpu_s"], wall)


def test_report_tells_the_cpu_shares_of_srv_and_wrk(tmp_path):
    """srv's line gives its share of the CPUs' time and wrk's; with an
    app's limit, srv's req/s over what wrk left of it (on the Flask pages
    wrk uses several percent of the CPUs, which no server can); with
    nginx, the shares in nginx's runs (at hello with 10 connections srv
    left CPU time idle that nginx used). Results stored before wrk's CPU
    time was measured have no such sentence."""
    out = tmp_path / "r"
    shutil.copytree(os.path.join(ROOT, "bench", "results", "issue5-full-26014b0"), out)
    data = json.loads((out / "results.json").read_text())
    scenarios = {s["name"]: s for s in data["scenarios"]}
    sc, hello = scenarios["site-index"], scenarios["hello"]
    for r in next(r for r in sc["results"] if r["server"] == "srv")["runs"]["10"]:
        r["wrk_cpu_s"] = 0.1 * report.cores(sc) * r["wall_s"]
    for server, share in (("srv", 0.37), ("nginx", 0.49)):
        for r in next(r for r in hello["results"] if r["server"] == server)["runs"]["10"]:
            r["wrk_cpu_s"] = share * data["versions"]["cpus"] * r["wall_s"]
    (out / "results.json").write_text(json.dumps(data))
    run = subprocess.run([sys.executable, COMPARE, "--report", str(out)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode in (0, 3), run.stderr
    index = (out / "results.md").read_text().split("## site-index")[1]
    m = report.figures(sc, 10)["srv"]
    srv_share = m["cpu_s"] / (report.cores(sc) * m["wall_s"])
    left = report.app_limit(sc, 10) * 0.9
    assert ("srv used %.0f%% of the CPUs' time and wrk 10%%: %.0f%% of what wrk left of that "
            "limit" % (100 * srv_share, 100 * m["rps"] / left)) in index.split("### 256")[0]
    assert "what wrk left" not in index.split("### 256")[1]
    f = report.figures(hello, 10)
    ncpus = data["versions"]["cpus"]
    first = (out / "results.md").read_text().split("## hello")[1].split("### 256")[0]
    assert ("srv used %.0f%% of the CPUs' time and wrk 37%% (in nginx's runs, nginx %.0f%% and "
            "wrk 49%%), p99" % (100 * f["srv"]["cpu_s"] / (ncpus * f["srv"]["wall_s"]),
                              100 * f["runs"]["nginx"]["cpu_s"] / (ncpus * f["runs"]["nginx"]
                                                                   ["wall_s"]))) in first


def test_wakeup_cost_measures_a_wake_up_on_one_cpu_and_across_two(tmp_path):
    """bench/wakeup_cost.c builds as its comment says and gives, for one
    CPU and (on a machine with two or more) for two, the wall and CPU time
    per wake-up; a count that is not a whole number from 1 is refused."""
    exe = tmp_path / "wakeup_cost"
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread",
                    os.path.join(ROOT, "bench", "wakeup_cost.c"), "-o", str(exe)], check=True,
                   timeout=60)
    out = subprocess.run([str(exe), "2000"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = re.findall(r"^CPUs (\d+) and (\d+): ([\d.]+) us of wall time, ([\d.]+) us of CPU "
                      r"time per wake-up$", out.stdout, re.M)
    cpus = sorted(os.sched_getaffinity(0))
    want = [(cpus[0], cpus[0])] + ([(cpus[0], cpus[1])] if len(cpus) > 1 else [])
    assert [(int(a), int(b)) for a, b, _, _ in rows] == want, out.stdout
    assert all(float(wall) > 0 and float(cpu) > 0 for _, _, wall, cpu in rows), out.stdout
    for args in (["0"], ["5x"], [""], ["10", "20"]):
        bad = subprocess.run([str(exe)] + args, capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2 and "usage" in bad.stderr and bad.stdout == "", args


# A server that never answers: bench/compare waits for it (up to 30 s).
MUTE = "exec sleep 3601"


@pytest.mark.parametrize("moment", ["measuring", "starting"])
def test_a_stopped_run_stops_the_servers_it_started(tmp_path, moment):
    """SIGTERM (a CI timeout, systemd, kill) ends a run as Ctrl-C does: the
    servers it started are stopped, not left serving on their ports, both
    while it measures and while it still waits for a server to answer."""
    argv = [sys.executable, COMPARE, "--servers", "srv", "--apps", "hello", "--connections",
            "10", "--duration", "60", "--warmup", "1", "--repeat", "1",
            "--out", str(tmp_path / "out")]
    want = ["srv"]
    if moment == "starting":
        argv += ["--cmd", "mute=" + MUTE]
        want.append("sleep 3601")
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    found = {}
    try:
        deadline = time.monotonic() + 30
        while len(found) < len(want) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            found = {w: pid for pid, cmd in _descendants(proc.pid)
                     for w in want if _is(cmd, w)}
        assert len(found) == len(want), "bench/compare started %s: %s" % (
            found, proc.stderr.read() if proc.poll() is not None else "")
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        for name, pid in found.items():
            deadline = time.monotonic() + 15
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not _alive(pid), "%s (%d) still runs after bench/compare stopped" % (name, pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in found.values():
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _is(cmdline, what):
    """Whether a command line runs what: a program, by its name wherever it
    lies (srv is a path in sanitizer builds), or a command line's start."""
    if " " in what:
        return cmdline.startswith(what)
    return os.path.basename(cmdline.split(" ", 1)[0]) == what


def _descendants(pid):
    """(pid, command line) of every process below pid."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            continue
        for k in kids:
            try:
                with open("/proc/%d/cmdline" % k, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            out.append((k, cmd.strip()))
            todo.append(k)
    return out


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"  # a zombie is gone but unreaped
    except OSError:
        return False


def test_a_stop_signal_while_a_server_starts_still_stops_it(tmp_path, monkeypatch):
    """A SIGTERM that lands after the server's exec but before Popen
    returned (a TSan CI run hit it) must not leave the server running: the
    run ends once the server is on the list that stop_all stops."""
    real_popen = subprocess.Popen

    def popen_then_signal(*args, **kwargs):
        p = real_popen(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)  # its handler runs before this returns
        return p

    old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    monkeypatch.setattr(servers.subprocess, "Popen", popen_then_signal)
    proc = None
    try:
        servers.install_stop_handlers()
        with pytest.raises(SystemExit) as ended:
            servers.Running(["sleep", "30"], str(tmp_path), None, str(tmp_path / "log"))
        assert ended.value.code == 128 + signal.SIGTERM
        started = [r for r in servers.Running.started if r.proc.args == ["sleep", "30"]]
        assert len(started) == 1, "the server started is not on the list stop_all stops"
        proc = started[0].proc
        servers.Running.stop_all()
        assert proc.poll() is not None
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        servers.Running.stop_signal = 0
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


def test_steal_is_the_share_of_all_cpu_time_the_host_took():
    before = [100, 0, 50, 800, 10, 0, 5, 35]
    after = [180, 0, 90, 970, 10, 0, 15, 135]  # 400 ticks, 100 of them stolen
    assert machine.steal_pct(before, after) == 25.0
    assert machine.steal_pct(before, before) == 0.0


class _Args:
    def __init__(self, max_steal, steal_retries):
        self.max_steal, self.steal_retries = max_steal, steal_retries


@pytest.mark.parametrize("steals,retries,kept,tries", [
    ([30, 20, 25], 2, 20, 3),   # every try stolen: the least stolen is kept
    ([30, 5, 1], 2, 5, 2),      # the first quiet try ends it
    ([3], 2, 3, 1),             # quiet at once: no second try
    ([30, 5], 0, 30, 1),        # retries off
])
def test_a_run_the_host_stole_from_is_tried_again(monkeypatch, steals, retries, kept, tries):
    monkeypatch.setattr(measure, "STEAL_PAUSE_S", 0)
    left = list(steals)
    r = measure.low_steal_run(lambda: {"steal_pct": left.pop(0)}, _Args(10, retries))
    assert (r["steal_pct"], r["tries"]) == (kept, tries)
    assert len(left) == len(steals) - tries


def test_report_tells_the_steal_of_each_run(tmp_path):
    out = tmp_path / "r"
    shutil.copytree(REFERENCE, out)
    import json
    with open(out / "results.json") as f:
        report = json.load(f)
    report["args"].update(max_steal=10.0, steal_retries=2)
    for sc in report["scenarios"]:
        for res in sc["results"]:
            for runs in res.get("runs", {}).values():
                for i, r in enumerate(runs):
                    r["steal_pct"], r["tries"] = (40.0, 3) if i == 0 else (2.0, 1)
    with open(out / "results.json", "w") as f:
        json.dump(report, f)
    run = subprocess.run([sys.executable, COMPARE, "--report", str(out)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode in (0, 3), run.stderr
    md = (out / "results.md").read_text()
    n = sum(len(runs) for sc in report["scenarios"] for res in sc["results"]
            for runs in res.get("runs", {}).values())
    first = sum(1 for sc in report["scenarios"] for res in sc["results"]
                for runs in res.get("runs", {}).values() if runs)
    assert ("over the %d runs kept: median 2%%, at most 40%% of the machine's CPU time. "
            "%d runs were tried again for more than 10%%" % (n, first)) in md
    assert "%d stayed above it." % first in md
    assert "| CPU s | steal % |" in md


@pytest.mark.parametrize("flag,value", [("--max-steal", "-1"), ("--max-steal", "150"),
                                        ("--steal-retries", "-1")])
def test_a_bad_steal_option_is_refused(tmp_path, flag, value):
    # --report of a folder that is not there: accepted, the option would
    # fail on the missing results, not start a run.
    run = subprocess.run([sys.executable, COMPARE, flag, value, "--report", str(tmp_path / "none")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert "error: %s %s:" % (flag, value) in run.stderr, run.stderr


@pytest.mark.parametrize("args,error", [
    (["--servers", "srv,gunicorn"], "--servers: unknown gunicorn; one or more of nginx, "),
    (["--apps", "hello,flask"], "--apps: unknown flask; one or more of hello, "),
    (["--uneven-cpus", "--behind-nginx"], "--uneven-cpus: needs two CPUs or more, and no "
                                          "--behind-nginx"),
    ([], "--connections 10,many: a comma list of numbers of connections"),
])
def test_a_bad_choice_is_refused_before_anything_starts(tmp_path, args, error):
    # A bad --connections besides: were the first check missing, the run
    # still would not start (nor, for --connections itself, get past
    # reading it).
    run = subprocess.run([sys.executable, COMPARE, "--out", str(tmp_path / "out")] + args
                         + ["--connections", "10,many"], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 2, run.stderr
    assert "compare: error: " + error in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", ["10,0", "-5", "", "10,"])
def test_connections_each_one_or_more(tmp_path, value):
    # Alone: a count that is not a positive number is refused by itself.
    run = subprocess.run([sys.executable, COMPARE, "--out", str(tmp_path / "out"),
                          "--connections", value], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert "compare: error: --connections %s: a comma list" % value in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()


def test_the_static_profile_has_each_server_send_the_file_its_own_way(tmp_path):
    """srv with --static, uWSGI with --static-map (and TCP_NODELAY), nginx
    with an alias: each sends the site's CSS itself; gunicorn leaves it to
    Flask or WhiteNoise. Every command line starts and serves the file."""
    app_dir, module, path, expect = servers.APPS["static"]
    static = servers.STATIC["static"]
    args = types.SimpleNamespace(srv_workers=1, srv_threads=2, peer_workers=1, peer_threads=2)
    cmds = servers.server_commands(args, app_dir, module, str(tmp_path), static)
    plain = servers.server_commands(args, app_dir, module, str(tmp_path))
    assert cmds["srv"][0](1)[-2:] == ["--static", "/static=%s" % static[1]]
    assert "--static" not in plain["srv"][0](1)
    assert {"--static-map", "--tcp-nodelay"} <= set(cmds["uwsgi"][0](1))
    assert "--static-map" not in plain["uwsgi"][0](1)
    assert "whitenoise_site:app" in cmds["gunicorn-whitenoise"][0](1)
    want = open(os.path.join(static[1], "site.css"), "rb").read()
    assert expect in want
    started = [("srv", cmds["srv"][0])]
    for name in ("uwsgi", "gunicorn-whitenoise"):
        if all(servers.have(n) for n in cmds[name][1]):
            started.append((name, cmds[name][0]))
    if servers.have("nginx"):
        started.append(("nginx", lambda p: servers.nginx_command(str(tmp_path), p, static)))
    env = dict(os.environ, SITE_DB=str(tmp_path / "site.db"))
    try:
        for name, build in started:
            port = servers.free_port()
            run = servers.Running(build(port), app_dir, env, str(tmp_path / (name + ".log")))
            servers.wait_ready(port, path, expect, run.proc)
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
                assert r.read() == want, name
                if name == "srv":  # srv's validator, not Flask's
                    st = os.stat(os.path.join(static[1], "site.css"))
                    assert r.headers["ETag"] == '"%x-%x"' % (int(st.st_mtime), st.st_size)
    finally:
        servers.Running.stop_all()


def test_a_static_run_compares_with_nginx_sending_the_file_and_has_no_target_column(tmp_path):
    stored = os.path.join(ROOT, "bench", "results", "static-e2d4b23")
    rows = report.summary([("static e2d4b23", json.load(open(os.path.join(stored, "results.json"))))])
    assert "| static | 10 | 104813 | uwsgi 53367 | 1.96x | 93% | - | 2.08 (0.14) | 8.48 | - |" in rows
    out = tmp_path / "r"
    shutil.copytree(stored, out)
    subprocess.run([sys.executable, COMPARE, "--report", str(out)], check=True,
                   capture_output=True)
    md = (out / "results.md").read_text()
    assert "srv: 93% of nginx sending the same file" in md
    assert "of nginx `return 200`" not in md


@pytest.mark.parametrize("mode,errors", [([], 0), (["--expired"], 0),
                                         (["--expired", "--down"], 1)])
def test_cold_burst_counts_the_pages_the_app_made_for_a_crowd(tmp_path, mode, errors):
    """bench/cold_burst: the crowd of clients for a page no cache holds
    (or one that expired) gets it whole, and the app made it once: srv's
    one worker makes it for the first client while the others wait. With
    the app down, that client gets its error and the others the copy."""
    out = tmp_path / "out"
    argv = [sys.executable, os.path.join(ROOT, "bench", "cold_burst"), "--servers", "srv",
            "--clients", "6", "--repeat", "1", "--workers", "1", "--threads", "3",
            "--out", str(out)] + mode
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    res = json.load(open(out / "results.json"))
    burst = res["results"]["srv"]["6"][0]
    assert (burst["made"], burst["errors"]) == (1, errors), burst
    assert 0 < burst["first_ms"] <= burst["p50_ms"] <= burst["last_ms"]
    assert "| srv | 1 (1-1) |" in (out / "results.md").read_text()


def test_a_peer_that_keeps_connections_open_when_asked_to_close_is_no_best_peer(tmp_path):
    """In the close profile, uWSGI answered Connection: close and kept the
    connection open, so wrk measured keep-alive: close-640cb32 recorded it
    with "closes": false. The report leaves it out of the best peer and
    says why; the same results with it closing make it the best peer."""
    stored = os.path.join(ROOT, "bench", "results", "close-640cb32")
    res = json.load(open(os.path.join(stored, "results.json")))
    sc = res["scenarios"][0]
    assert {r["server"]: r["closes"] for r in sc["results"]}["uwsgi"] is False
    kept_open = report.figures(sc, 10)
    assert kept_open["best_name"] == "gunicorn-sync"
    assert "uwsgi" not in kept_open["fair_p99"]
    for r in sc["results"]:
        r["closes"] = True
    closing = report.figures(sc, 10)
    assert closing["best_name"] == "uwsgi"  # its keep-alive figures beat every peer's
    assert closing["best"] > kept_open["best"]

    sentence = "uwsgi kept the connection open after answering"
    out = tmp_path / "r"
    shutil.copytree(stored, out)
    run = subprocess.run([sys.executable, COMPARE, "--report", str(out)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode in (0, 3), run.stderr
    md = (out / "results.md").read_text()
    assert sentence in md
    assert "1.98x the best peer" in md  # against gunicorn sync's 6,882 req/s
    (out / "results.json").write_text(json.dumps(res))
    run = subprocess.run([sys.executable, COMPARE, "--report", str(out)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode in (0, 3), run.stderr
    md = (out / "results.md").read_text()
    assert sentence not in md
    assert "1.98x the best peer" not in md


def _answer_and_keep_open(listener, stop):
    """A server that answers one request per connection with a full
    response and leaves the connection open, whatever the client asked."""
    listener.settimeout(0.2)
    held = []
    while not stop.is_set():
        try:
            c, _ = listener.accept()
        except OSError:
            continue
        c.recv(4096)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
        held.append(c)
    for c in held:
        c.close()


def test_closes_when_asked_tells_a_server_that_keeps_the_connection_open(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()
    t = threading.Thread(target=_answer_and_keep_open, args=(listener, stop))
    t.start()
    try:
        assert measure.closes_when_asked(listener.getsockname()[1], "/", timeout=1.0) is False
    finally:
        stop.set()
        t.join(timeout=5)
        listener.close()
    app_dir, module, path, expect = servers.APPS["hello-close"]
    args = types.SimpleNamespace(srv_workers=1, srv_threads=1, peer_workers=1, peer_threads=1)
    build = servers.server_commands(args, app_dir, module, str(tmp_path))["srv"][0]
    port = servers.free_port()
    try:
        run = servers.Running(build(port), app_dir, dict(os.environ), str(tmp_path / "srv.log"))
        servers.wait_ready(port, path, expect, run.proc)
        assert measure.closes_when_asked(port, path) is True
    finally:
        servers.Running.stop_all()


def _upstream_established(conf):
    """The connections nginx holds open to its upstream, from the port
    in the config nginx_command wrote and /proc/net/tcp (local sockets
    on either end: counted once, on the server's side)."""
    text = open(conf).read()
    up = int(text.split("server 127.0.0.1:")[1].split(";")[0]) if "upstream app" in text else \
        int(text.split("proxy_pass http://127.0.0.1:")[1].split(";")[0])
    n = 0
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        f = line.split()
        if int(f[1].split(":")[1], 16) == up and f[3] == "01":  # ESTABLISHED
            n += 1
    return n


@pytest.mark.skipif(shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"),
                    reason="nginx is not installed")
@pytest.mark.parametrize("keepalive", [False, True])
def test_behind_nginx_puts_nginx_in_front_with_or_without_upstream_keepalive(tmp_path,
                                                                           keepalive):
    """--behind-nginx plain: nginx's default proxy_pass, a new connection
    to the server for every request, which the server closes (HTTP/1.0).
    --behind-nginx keepalive: the connections stay open for the next
    request, as docs/deploy.md configures nginx."""
    app_dir, module, path, expect = servers.APPS["hello"]
    args = types.SimpleNamespace(srv_workers=1, srv_threads=1, peer_workers=1, peer_threads=1)
    build = servers.behind_nginx(str(tmp_path), servers.server_commands(
        args, app_dir, module, str(tmp_path))["srv"][0], keepalive)
    port = servers.free_port()
    try:
        run = servers.Running(build(port), app_dir, dict(os.environ), str(tmp_path / "srv.log"))
        servers.wait_ready(port, path, expect, run.proc)
        for _ in range(5):
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
                assert r.read() == expect
        conf = str(tmp_path / ("nginx-%d.conf" % port))
        assert ("keepalive 32;" in open(conf).read()) is keepalive
        deadline = time.monotonic() + 5
        held = _upstream_established(conf)
        while not keepalive and held and time.monotonic() < deadline:
            time.sleep(0.05)
            held = _upstream_established(conf)
        assert (held > 0) is keepalive, held
    finally:
        servers.Running.stop_all()


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_uneven_cpus_pins_each_worker_to_one_cpu_and_loads_the_last(tmp_path):
    """--uneven-cpus: every process under the server's first one (its
    workers) is pinned to one CPU in turn, and a busy loop runs on the
    last CPU; the stored run's report says so."""
    parent = subprocess.Popen([sys.executable, "-c",
                               "import subprocess, sys, time\n"
                               "kids = [subprocess.Popen([sys.executable, '-c', "
                               "'import time; time.sleep(60)']) for _ in range(3)]\n"
                               "time.sleep(60)"])
    hog = None
    try:
        cpus = sorted(os.sched_getaffinity(0))
        deadline = time.monotonic() + 10
        while len(machine.tree(parent.pid)) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        measure.pin_workers(parent.pid)
        kids = sorted(machine.tree(parent.pid)[1:])
        assert len(kids) == 3
        assert [os.sched_getaffinity(k) for k in kids] == [{cpus[k % len(cpus)]}
                                                          for k in range(3)]
        assert os.sched_getaffinity(parent.pid) == set(cpus)  # the master floats
        hog = measure.busy_loop()
        assert os.sched_getaffinity(hog.pid) == {cpus[-1]}
        assert hog.poll() is None
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
        for p in machine.tree(parent.pid)[::-1]:
            os.kill(p, signal.SIGKILL)
        parent.wait()
    out = tmp_path / "r"
    shutil.copytree(os.path.join(ROOT, "bench", "results", "uneven-234264c"), out)
    subprocess.run([sys.executable, COMPARE, "--report", str(out)], capture_output=True,
                   timeout=60)
    assert "a busy loop runs on the last CPU during each run" in (out / "results.md").read_text()
