"""The machine as /proc tells it: a process tree's CPU time and memory, the
host's steal, and waiting until the machine is quiet."""
import os
import time


def tree(pid):
    """pid and all its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _proc_sum(pids, name, value):
    """The sum over pids of value(text of /proc/PID/name); a process gone
    meanwhile, or a file not as expected, counts 0."""
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/%s" % (p, name)) as f:
                total += value(f.read())
        except (OSError, IndexError, ValueError):
            pass
    return total


def rss_kb(pids):
    return _proc_sum(pids, "status", lambda text: sum(
        int(line.split()[1]) for line in text.splitlines() if line.startswith("VmRSS:")))


def cpu_ticks(pids):
    def utime_stime(text):
        fields = text.rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    return _proc_sum(pids, "stat", utime_stime)


def cpu_line():
    """The machine's CPU ticks since boot, from /proc/stat: user, nice,
    system, idle, iowait, irq, softirq, steal."""
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:9]]


def machine_busy_ticks():
    """CPU ticks spent on anything but idling since boot, and all ticks."""
    v = cpu_line()
    idle = v[3] + v[4]  # idle + iowait
    return sum(v) - idle, sum(v)


def steal_pct(before, after):
    """The share (%) of the machine's CPU time between two cpu_line()s that
    the hypervisor gave to other guests while this one wanted to run
    ("steal"). A server then loses that share of its CPUs, while the app's
    cost measured in-process does not count it (time.process_time excludes
    steal where the kernel accounts it, CONFIG_PARAVIRT_TIME_ACCOUNTING)."""
    total = sum(after) - sum(before)
    return round(100.0 * (after[7] - before[7]) / total, 1) if total > 0 else 0.0


def pending_connections():
    """TCP connections the machine's servers have yet to take: handshakes
    under way (SYN_RECV) and connections waiting in a listen queue."""
    n = 0
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    state, rx_queue = fields[3], int(fields[4].split(":")[1], 16)
                    n += state == "03" or (state == "0A" and rx_queue > 0)
        except (OSError, StopIteration, IndexError, ValueError):
            continue
    return n


def settle(limit_s=30.0, window_s=0.25, busy_max=0.10):
    """Waits until the machine is quiet: no more than busy_max of its CPUs
    busy over a window, and no connection left for a server to take. A
    server just loaded may still be working through the requests its
    clients left behind (gunicorn serves every one of them: on the Flask
    index page at 256 connections that is about a second of both CPUs), and
    that work would land in the next server's run, or in the app's cost
    measurement. uWSGI's listen queue (100) overflows at 256 connections:
    the kernel completes the dropped handshakes when it sends its SYN-ACK
    again, 1, 3, 7 and 15 s later, and uWSGI serves each such batch in a
    burst after seconds of quiet. Those bursts, 4 s of CPU in all on the
    index page, took a sixth of the CPUs from srv's next run, its first at
    256 connections. Gives up after limit_s (a busy machine: the run goes
    ahead). Returns the seconds it waited."""
    if not os.path.exists("/proc/stat"):
        return 0.0
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        b0, a0 = machine_busy_ticks()
        time.sleep(window_s)
        b1, a1 = machine_busy_ticks()
        if a1 > a0 and (b1 - b0) / (a1 - a0) <= busy_max and pending_connections() == 0:
            break
    return time.monotonic() - t0
