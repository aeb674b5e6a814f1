"""The report: tables, chart, srv's figures and the issues' targets."""
import datetime
import os
import platform
import re
import statistics
import subprocess

from benchlib.measure import STEAL_PAUSE_S, median_run
from benchlib.servers import HELLO, PY, srv_bin


def fmt_ms(us):
    return "%.2f" % (us / 1000.0)


def table(results, scenario, conns, best_peer):
    lines = ["| server | req/s (min-max) | vs best peer | avg ms | p50 | p90 | p95 | p99 ms | "
             "errors | served at once | RSS MB | CPU s | steal % |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for res in results:
        runs = res["runs"].get(str(conns))
        if not runs:
            continue
        m = median_run(runs)
        ratio = ("%.2fx" % (m["rps"] / best_peer)) if best_peer else "-"
        served = res.get("served_at_once", {}).get(str(conns), "?")
        lines.append("| %s | %d (%d-%d) | %s | %s | %s | %s | %s | %s | %d | %s/%d | %.1f | %.1f | %s |" % (
            res["server"], m["rps"], m["rps_min"], m["rps_max"], ratio, fmt_ms(m["lat_mean"]),
            fmt_ms(m["p50"]), fmt_ms(m["p90"]), fmt_ms(m["p95"]), fmt_ms(m["p99"]),
            m["errors_total"], served, conns, m["rss_kb"] / 1024.0, m["cpu_s"],
            "%.0f" % m["steal_pct"] if "steal_pct" in m else "-"))
    return "\n".join(lines)


def svg_chart(scenarios, path):
    """Bars of req/s and p99 per server, one group per scenario."""
    rows = []
    for sc in scenarios:
        for conns in sc["connections"]:
            for res in sc["results"]:
                runs = res["runs"].get(str(conns))
                if runs:
                    m = median_run(runs)
                    rows.append(("%s c%d" % (sc["name"], conns), res["server"], m["rps"],
                                 m["p99"] / 1000.0))
    if not rows:
        return
    width, bar_h, gap = 900, 16, 4
    max_rps = max(r[2] for r in rows) or 1
    max_p99 = max(r[3] for r in rows) or 1
    y = 40
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="11">' % (width, 60 + len(rows) * (bar_h + gap) +
                                                         20 * len(scenarios) * 2)]
    out.append('<text x="10" y="20" font-size="14">req/s (blue, left) and p99 ms (orange, right)'
               '</text>')
    group = None
    for g, server, rps, p99 in rows:
        if g != group:
            y += 10
            out.append('<text x="10" y="%d" font-weight="bold">%s</text>' % (y + 10, g))
            y += 16
            group = g
        out.append('<text x="10" y="%d">%s</text>' % (y + 12, server))
        w1 = int(380 * rps / max_rps)
        out.append('<rect x="150" y="%d" width="%d" height="%d" fill="#3b6fb6"/>' %
                   (y, w1, bar_h))
        out.append('<text x="%d" y="%d">%d</text>' % (155 + w1, y + 12, rps))
        w2 = int(220 * p99 / max_p99)
        out.append('<rect x="620" y="%d" width="%d" height="%d" fill="#e08a2c"/>' %
                   (y, w2, bar_h))
        out.append('<text x="%d" y="%d">%.2f</text>' % (625 + w2, y + 12, p99))
        y += bar_h + gap
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out))


def versions():
    v = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
         "cpus": os.cpu_count(), "kernel": platform.release()}
    for name, argv in [("srv", [srv_bin(), "--version"]), ("nginx", ["nginx", "-v"]),
                       ("wrk", ["wrk", "-v"]), ("uwsgi", ["uwsgi", "--version"]),
                       ("gunicorn", [PY, "-m", "gunicorn", "--version"]),
                       ("waitress", [PY, "-c", "import importlib.metadata as m; "
                                           "print(m.version('waitress'))"]),
                       ("python", [PY, "--version"])]:
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            text = (out.stdout + out.stderr).strip().splitlines()
            v[name] = text[0] if text else "?"
        except OSError:
            v[name] = "missing"
    # How srv was compiled, when it comes from a CMake build tree (make bench
    # builds build/ with CMake's default here, RelWithDebInfo).
    cache = os.path.join(os.path.dirname(os.path.dirname(srv_bin())), "CMakeCache.txt")
    try:
        with open(cache) as f:
            m = re.search(r"^CMAKE_BUILD_TYPE:STRING=(.*)$", f.read(), re.M)
        if m:
            v["srv"] += ", %s build" % (m.group(1) or "no build type")
    except OSError:
        pass
    return v


def figures(sc, conns):
    """The numbers the summaries and targets use, for one scenario and one
    number of connections: srv's median run, the best peer's req/s (and
    name), the best p99 among peers that serve every connection (the
    others' slowest clients are not in their p99), every such p99, nginx's
    req/s, and each server's median run by name. A peer that kept its
    connections open when the load asked for Connection: close (its
    "closes" is False) is no peer there: wrk measured it with keep-alive."""
    runs = {r["server"]: median_run(r["runs"][str(conns)]) for r in sc["results"]
            if r["runs"].get(str(conns))}
    open_ = {r["server"] for r in sc["results"] if r.get("closes") is False}
    peers = {n: m for n, m in runs.items()
             if n not in ("srv", "srv-builtin", "nginx") and n not in open_}
    fair = {n: m["p99"] for n, m in peers.items()
            if next(r for r in sc["results"] if r["server"] == n)
            .get("served_at_once", {}).get(str(conns)) == conns}
    best = max(peers, key=lambda n: peers[n]["rps"], default=None)
    return {"srv": runs.get("srv") or runs.get("srv-builtin"),
            "best": peers[best]["rps"] if best else None, "best_name": best,
            "best_p99": min(fair.values(), default=None), "fair_p99": fair,
            "nginx": runs["nginx"]["rps"] if "nginx" in runs else None, "runs": runs}


def server_runs(sc, conns, name):
    """The runs of the server called name at conns connections, in the
    order made (None when it has none)."""
    return next((r["runs"].get(str(conns)) for r in sc["results"] if r["server"] == name), None)


def costs_at(sc, conns):
    """The app's in-process costs (s) measured during the repetitions at
    conns connections, one per repetition in order; all of them when the
    results do not tell which were (or [] when there were none)."""
    if str(conns) in sc.get("app_cost_by_conns_s", {}):
        return sc["app_cost_by_conns_s"][str(conns)]
    costs = sc.get("app_cost_runs_s") or []
    n = len(sc["connections"])
    if costs and len(costs) % n == 0:  # before 62e402e: len(costs) // n per number, in order
        k = len(costs) // n
        i = sc["connections"].index(conns)
        costs = costs[i * k:(i + 1) * k]
    return costs


def app_cost_at(sc, conns):
    """The app's in-process cost (s) to compare the runs at conns
    connections with: the median of the costs measured during those runs'
    repetitions. A shared machine's speed drifts over a long run; a server
    is compared with the app as it ran at the same time. None when the
    scenario has no cost."""
    if "app_limit_rps" not in sc:
        return None
    costs = costs_at(sc, conns)
    return statistics.median(costs) if costs else sc["app_cost_s"]


def each_repetition(sc, conns, other):
    """srv's req/s over other's in each repetition, in order: other is a
    server's name, or "limit" for the app's own limit from the cost
    measured in that repetition. The runs of one repetition came minutes
    apart at most, those of different ones up to half an hour: these
    ratios leave out the machine's drift between repetitions, which the
    ratio of the medians keeps. None when the runs do not pair up (a
    server failed a run)."""
    mine = server_runs(sc, conns, "srv") or server_runs(sc, conns, "srv-builtin")
    if other == "limit":
        theirs = [cores(sc) / c for c in costs_at(sc, conns)]
    else:
        theirs = [r["rps"] for r in server_runs(sc, conns, other) or []]
    if not mine or len(mine) != len(theirs):
        return None
    return [m["rps"] / t for m, t in zip(mine, theirs)]


def cpu_spread(sc):
    """A sentence on the app's cost on each CPU (app_cost_cpus_s): how far
    apart the CPUs were in the measurement where they differed most; ""
    for results that do not have it (before the cost was measured on
    every CPU at once)."""
    per_cpu = [m for m in sc.get("app_cost_cpus_s", []) if m]
    if not per_cpu:
        return ""
    worst = max(per_cpu, key=lambda m: max(m.values()) / min(m.values()))
    return (" Each measurement ran the app on every CPU at once, one process pinned to each "
            "(the cost given is the one of their summed rate); the CPUs differed by up to "
            "%d%% (%s ms)." % (round(100 * (max(worst.values()) / min(worst.values()) - 1)),
                               " and ".join("%.2f" % (worst[c] * 1000) for c in sorted(worst, key=int))))


def cores(sc):
    """The cores the app's limit was reckoned for (limit = cores / cost)."""
    return sc["app_limit_rps"] * sc["app_cost_s"]


def app_limit(sc, conns):
    """The app's own limit (req/s) at conns connections: the cores over
    app_cost_at. None when the scenario has no cost."""
    cost = app_cost_at(sc, conns)
    if cost is None:
        return None
    return cores(sc) / cost


def cpu_per_request(sc, conns, server="srv"):
    """server's CPU time per request at conns connections (the median of
    its runs', in seconds), and the app's in-process cost it compares with
    (the one its limit comes from), or None. The limit moves with the
    machine's speed; this ratio says what serving adds to the app's own
    work: a server that used every core and cost what the app costs would
    reach the limit."""
    runs = server_runs(sc, conns, server)
    cost = app_cost_at(sc, conns)
    if not runs or cost is None or not all(r.get("requests") for r in runs):
        return None
    return statistics.median(r["cpu_s"] / r["requests"] for r in runs), cost


def cpu_shares(m, ncpus):
    """The shares of the time of ncpus CPUs that the server and wrk used
    during run m, or None for results stored before wrk's CPU time was
    measured. wrk runs on the same cores: what it uses (on the Flask
    pages, mostly the kernel's work of receiving the pages) no server
    can, so no server gets past 1 - wrk's share of an app's limit; and
    what neither uses, the CPUs spent idle (or on other work)."""
    if m is None or "wrk_cpu_s" not in m or not m.get("wall_s"):
        return None
    time_ = ncpus * m["wall_s"]
    return m["cpu_s"] / time_, m["wrk_cpu_s"] / time_


def check_targets(profile, sc, conns):
    """The targets of issues 3, 4 and 5 that apply to this scenario: a list
    of (target, srv's figure, met, the figure in each repetition or
    None)."""
    f = figures(sc, conns)
    m, out = f["srv"], []
    if m is None:
        return out

    def add(what, value, ok, other=None, need=None, pct=False):
        """other and need: srv's req/s over other's is to be at least
        need in each repetition too (each_repetition)."""
        reps = each_repetition(sc, conns, other) if other else None
        if reps:
            reps = "%s: %d of %d" % (", ".join(
                ("%.0f%%" % (100 * r)) if pct else ("%.2fx" % r) for r in reps),
                sum(r >= need for r in reps), len(reps))
        out.append((what, value, bool(ok), reps))

    limit = app_limit(sc, conns)
    if sc["name"] == "hello" and profile in ("hello", "full"):
        if f["best"]:
            add(">= 1.25x the best peer's req/s", "%.2fx" % (m["rps"] / f["best"]),
                m["rps"] >= 1.25 * f["best"], f["best_name"], 1.25)
        if f["best_p99"] is not None:
            add("p99 <= the best p99 of the peers that serve every connection", "%s ms vs %s ms" % (fmt_ms(m["p99"]),
                                                            fmt_ms(f["best_p99"])),
                m["p99"] <= f["best_p99"])
        for peer in ("gunicorn-gthread", "waitress-4"):
            if profile == "hello" and peer in f["runs"]:
                add(">= 3x %s's req/s" % peer, "%.1fx" % (m["rps"] / f["runs"][peer]["rps"]),
                    m["rps"] >= 3 * f["runs"][peer]["rps"])
        if f["nginx"] and profile == "full":
            add(">= 75% of nginx `return 200`", "%.0f%%" % (100 * m["rps"] / f["nginx"]),
                m["rps"] >= 0.75 * f["nginx"], "nginx", 0.75, pct=True)
    if sc["name"] == "hello" and profile == "foundation" and f["nginx"]:
        add(">= 60% of nginx `return 200`", "%.0f%%" % (100 * m["rps"] / f["nginx"]),
            m["rps"] >= 0.60 * f["nginx"])
    gthread = f["runs"].get("gunicorn-gthread")
    if sc["name"] == "site-lesson" and profile in ("prefork", "full") and gthread:
        add(">= 1.15x gunicorn gthread's req/s (issue 4)", "%.2fx" % (m["rps"] / gthread["rps"]),
            m["rps"] >= 1.15 * gthread["rps"], "gunicorn-gthread", 1.15)
    if sc["name"].startswith("site") and profile == "full" and gthread:
        add("p99 < gunicorn gthread's (issue 4)", "%s ms vs %s ms" % (
            fmt_ms(m["p99"]), fmt_ms(gthread["p99"])), m["p99"] < gthread["p99"])
    if sc["name"].startswith("site") and limit and (profile == "full" or
                                                    sc["name"] == "site-index"):
        add(">= 95% of the app's own limit", "%.0f%%" % (100 * m["rps"] / limit),
            m["rps"] >= 0.95 * limit, "limit", 0.95, pct=True)
    if sc["name"].startswith("site") and f["fair_p99"]:
        worst_ok = all(m["p99"] <= p for p in f["fair_p99"].values())
        add("p99 <= every peer's", "%s ms vs best %s ms" % (fmt_ms(m["p99"]),
                                                          fmt_ms(f["best_p99"])), worst_ok)
    if sc["name"] == "site-index" and profile == "full":
        add("p99 within 1.5x the average", "%.2fx" % (m["p99"] / max(m["lat_mean"], 1)),
            m["p99"] <= 1.5 * m["lat_mean"])
    if profile == "full":
        uw, gt = f["runs"].get("uwsgi"), f["runs"].get("gunicorn-gthread")
        if uw:
            add("RSS <= uWSGI's", "%.1f MB vs %.1f MB" % (m["rss_kb"] / 1024, uw["rss_kb"] / 1024),
                m["rss_kb"] <= uw["rss_kb"])
        if gt:
            add("RSS <= 0.7x gunicorn gthread's", "%.2fx" % (m["rss_kb"] / gt["rss_kb"]),
                m["rss_kb"] <= 0.7 * gt["rss_kb"])
    if conns >= 256:
        add("no errors", "%d" % m["errors_total"], m["errors_total"] == 0)
    return out


def run_label(report, path):
    """A stored run's name in bench/README's tables: its profile and the
    commit its folder is named after (issue5-full-62e402e: full 62e402e),
    else the folder's name."""
    name = os.path.basename(os.path.normpath(path))
    tail = name.rsplit("-", 1)[-1]
    profile = report.get("profile", report["args"].get("profile"))
    return "%s %s" % (profile, tail) if re.fullmatch(r"[0-9a-f]{7,40}", tail) else name


CPU_SERVERS = ("srv", "gunicorn-gthread", "gunicorn-sync", "gunicorn-gevent", "uwsgi")


def summary(runs):
    """bench/README's tables for stored runs (runs: (label, report)
    pairs): for each run, a row per app and number of connections; then,
    for all of them, what each server adds to the Flask pages' in-process
    cost. Markdown lines."""
    md = []
    for label, rep in runs:
        profile = rep.get("profile", rep["args"].get("profile"))
        md += ["**%s**" % label, "",
               "| app | conns | srv req/s | best peer | srv / best peer | srv / nginx | srv / app "
               "limit | srv p99 ms (avg) | best p99 of peers serving every connection | targets |",
               "|---" * 10 + "|"]
        for sc in rep["scenarios"]:
            for c in sc["connections"]:
                f = figures(sc, c)
                m, limit = f["srv"], app_limit(sc, c)
                if m is None:
                    continue
                targets = check_targets(profile, sc, c)
                missed = [t[0] for t in targets if not t[2]]
                md.append("| %s | %d | %d | %s | %s | %s | %s | %s (%s) | %s | %s |" % (
                    sc["name"], c, m["rps"],
                    "%s %d" % (f["best_name"], f["best"]) if f["best"] else "-",
                    "%.2fx" % (m["rps"] / f["best"]) if f["best"] else "-",
                    "%.0f%%" % (100 * m["rps"] / f["nginx"]) if f["nginx"] else "-",
                    "%.0f%%" % (100 * m["rps"] / limit) if limit else "-",
                    fmt_ms(m["p99"]), fmt_ms(m["lat_mean"]),
                    fmt_ms(f["best_p99"]) if f["best_p99"] is not None else "-",
                    "%d/%d met%s" % (len(targets) - len(missed), len(targets),
                                     "; missed: " + "; ".join(missed) if missed else "")
                    if targets else "-"))
        md.append("")
    rows = []
    for label, rep in runs:
        for sc in rep["scenarios"]:
            for c in sc["connections"] if "app_limit_rps" in sc else []:
                cells = []
                for name in CPU_SERVERS:
                    cpu = cpu_per_request(sc, c, name)
                    cells.append("-" if cpu is None else "%.2f (%+.0f%%)" % (
                        cpu[0] * 1000, 100 * (cpu[0] / cpu[1] - 1)))
                rows.append("| %s | %s | %d | %.2f | %s |" % (
                    label, sc["name"].replace("site-", ""), c, app_cost_at(sc, c) * 1000,
                    " | ".join(cells)))
    if rows:
        md += ["| run | page | conns | app in-process ms | srv | gunicorn gthread | gunicorn sync "
               "| gunicorn gevent | uWSGI |", "|---" * 9 + "|"] + rows + [""]
    return md


def steal_summary(report):
    """Markdown lines on the host's steal over the runs (none for results
    stored before it was measured)."""
    a = report["args"]
    runs = [r for sc in report["scenarios"] for res in sc["results"]
            for rs in res.get("runs", {}).values() for r in rs if "steal_pct" in r]
    if not runs:
        return []
    steal = sorted(r["steal_pct"] for r in runs)
    retried = sum(1 for r in runs if r.get("tries", 1) > 1)
    above = sum(1 for r in runs if r["steal_pct"] > a["max_steal"])
    return ["Steal (CPU time the hypervisor gave to other guests while this one wanted it, "
            "which no server can use) over the %d runs kept: median %.0f%%, at most %.0f%% "
            "of the machine's CPU time. %d runs were tried again for more than %.0f%% (up to "
            "%d more tries, %d s apart); %d stayed above it. The app's own limit counts no "
            "steal." % (len(runs), statistics.median(steal), steal[-1], retried,
                        a["max_steal"], a["steal_retries"], STEAL_PAUSE_S, above), ""]


def render(report, out_dir):
    """Writes results.md and chart.svg for a report; prints the markdown.
    Returns 0, or 3 when srv missed a target."""
    v, a = report["versions"], report["args"]
    profile = report.get("profile", a.get("profile"))
    md = ["# srv benchmark %s" % v["date"], "",
          "Machine: %s CPUs, Linux %s. wrk -t1, %ds runs after a %ds warm-up, median of %d "
          "(min-max of req/s in parentheses). Profile `%s`: srv -w %s --threads %s; gunicorn "
          "gthread and uWSGI %s x %s." % (v["cpus"], v["kernel"], a["duration"], a["warmup"],
                                         a["repeat"], profile, a["srv_workers"],
                                         a["srv_threads"], a.get("peer_workers"),
                                         a.get("peer_threads")), ""]
    if a.get("behind_nginx"):
        md[-2] += (" Every server but nginx runs behind nginx (two workers), %s. wrk keeps "
                   "its connections to nginx alive. RSS and CPU are the server's and its "
                   "nginx's together." % (
                       "which keeps up to 32 idle connections to it alive per nginx worker "
                       "(`keepalive 32`, `proxy_http_version 1.1`, as docs/deploy.md shows)"
                       if a["behind_nginx"] == "keepalive" else
                       "whose proxy_pass keeps its defaults: each request reaches the server on "
                       "a new HTTP/1.0 connection"))
    if a.get("uneven_cpus"):
        md[-2] += (" The CPUs are made uneven: each worker process of every server is pinned to "
                   "one CPU in turn, and a busy loop runs on the last CPU during each run, so "
                   "that the workers there get half the CPU time of the others.")
    settled = [r["settled_s"] for sc in report["scenarios"] for res in sc["results"]
               for runs in res.get("runs", {}).values() for r in runs if "settled_s" in r]
    if settled:
        md[-2] += (" Every warm-up, run and cost measurement starts once the machine is quiet "
                   "(at most 10%% of its CPUs busy, and no connection left in a listen queue or "
                   "handshake: a server may go on with the requests of clients that left); the "
                   "runs waited %.1f s at most for it." % max(settled))
    if report.get("run_order") == "alternating":
        md[-2] += (" The repetitions alternate: the second goes through the numbers of "
                   "connections and the servers backwards, so that the machine's drift over the "
                   "run weighs on each about alike.")
    md += steal_summary(report)
    missed = 0
    for sc in report["scenarios"]:
        md.append("## %s (`%s`, `%s`)" % (sc["name"], sc["module"], sc["path"]))
        if "app_limit_rps" in sc:
            runs = sc.get("app_cost_runs_s", [])
            md += ["", "App's own limit: %.2f ms of CPU per request in-process%s, so %d req/s on "
                   "%d cores." % (sc["app_cost_s"] * 1000, (
                       " (median of %d measurements, one per repetition: %s ms)" %
                       (len(runs), ", ".join("%.2f" % (c * 1000) for c in runs))) if runs else "",
                       sc["app_limit_rps"], v["cpus"])]
            md[-1] += cpu_spread(sc)
            md[-1] += (" Each number of connections is compared with the costs measured during "
                       "its own repetitions: %s." % ", ".join(
                           "%d connections %d req/s" % (c, app_limit(sc, c))
                           for c in sc["connections"]))
        kept = [r["server"] for r in sc["results"] if r.get("closes") is False]
        if kept:
            md += ["", "Each request asks for `Connection: close`. %s kept the connection open "
                   "after answering (RFC 9112, 9.6: the server must close it), and wrk opens "
                   "a connection only when the server closes one: %s figures are those of "
                   "keep-alive, left out of the best peer." % (
                       " and ".join(kept), "their" if len(kept) > 1 else "its")]
        for conns in sc["connections"]:
            f = figures(sc, conns)
            md += ["", "### %d connections" % conns, "",
                   table(sc["results"], sc["name"], conns, f["best"])]
            m = f["srv"]
            if m is None:
                continue
            notes = []
            if f["nginx"]:
                notes.append("%.0f%% of nginx %s" % (
                    100 * m["rps"] / f["nginx"],
                    "`return 200`" if sc["name"] in HELLO else "sending the same file"))
            if f["best"]:
                notes.append("%.2fx the best peer" % (m["rps"] / f["best"]))
            if "app_limit_rps" in sc:
                notes.append("%.0f%% of the app's own limit as measured during these runs "
                             "(%d req/s)" % (100 * m["rps"] / app_limit(sc, conns),
                                             app_limit(sc, conns)))
                cpu = cpu_per_request(sc, conns, "srv" if f["runs"].get("srv") else "srv-builtin")
                if cpu:
                    notes.append("%.2f ms of CPU per request, %+.1f%% on the app's %.2f ms "
                                 "in-process" % (cpu[0] * 1000, 100 * (cpu[0] / cpu[1] - 1),
                                                 cpu[1] * 1000))
                if m.get("steal_pct", 0) >= 1:
                    notes.append("%.0f%% of what the host's steal (%.0f%%) left of that limit" % (
                        100 * m["rps"] / (app_limit(sc, conns) * (1 - m["steal_pct"] / 100)),
                        m["steal_pct"]))
            ncpus = cores(sc) if "app_limit_rps" in sc else v["cpus"]
            shares = cpu_shares(m, ncpus)
            if shares:
                nginx = cpu_shares(f["runs"].get("nginx"), ncpus)
                notes.append("srv used %.0f%% of the CPUs' time and wrk %.0f%%%s%s" % (
                    100 * shares[0], 100 * shares[1],
                    " (in nginx's runs, nginx %.0f%% and wrk %.0f%%)" % (
                        100 * nginx[0], 100 * nginx[1]) if nginx else "",
                    ": %.0f%% of what wrk left of that limit" % (
                        100 * m["rps"] / (app_limit(sc, conns) * (1 - shares[1])))
                    if "app_limit_rps" in sc else ""))
            notes.append("p99 %s ms%s" % (fmt_ms(m["p99"]), (
                " (best p99 among peers that serve every connection: %s ms)"
                % fmt_ms(f["best_p99"])) if f["best_p99"] is not None else ""))
            md += ["", "srv: %s." % ", ".join(notes)]
            targets = check_targets(profile, sc, conns)
            if targets:
                md += ["", "| target | srv | met | each repetition: met in |", "|---|---|---|---|"]
                for what, value, ok, reps in targets:
                    md.append("| %s | %s | %s | %s |" % (what, value, "yes" if ok else "**no**",
                                                        reps or "-"))
                    missed += not ok
        md.append("")
    md += ["Targets missed: %d." % missed if missed else "Every target met.", ""]
    md += ["## Versions", ""] + ["- %s: %s" % kv for kv in v.items()]
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    svg_chart(report["scenarios"], os.path.join(out_dir, "chart.svg"))
    print("\n".join(md))
    print("\nbench: results in %s (results.md, results.json, chart.svg)" % out_dir)
    return 3 if missed else 0
