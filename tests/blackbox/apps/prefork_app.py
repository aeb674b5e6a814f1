"""A WSGI app for the prefork tests: each answer says which process served it.

    /              {"pid": worker pid, "import_pid": pid that imported this module, ...}
    /sleep?s=N     sleeps N seconds in the app thread, then answers as /
    /stuck?s=N     loops in Python for N seconds (a request the timeout must stop)
    /grow?mb=N     keeps N more MiB alive in this process, then answers as /
    /churn?mb=N    allocates N MiB in 64 KiB pieces, frees them behind one
                   it keeps (so the C allocator keeps them too), and answers
                   as / plus "rss_kb" (this process's resident memory after);
                   &hold=S holds them S seconds first
    /gc            runs a full collection, then answers as / plus "frozen"
                   (gc.get_freeze_count()) and "private_dirty_kb" (this
                   process's memory no other process shares, after it)
    /spin?ms=N     loops in Python for N ms of wall-clock time, twice that in
                   the slow worker (below; &slow=K: K times), then answers as /
                   plus "slow"

PREFORK_APP_OBJECTS=N makes the import keep N empty lists (objects the GC
tracks: about 72 bytes each). PREFORK_APP_SLOW=FILE makes the first process
to serve /spin (the one that creates FILE, and writes its pid there) the
slow worker, until a file FILE.off appears.
"""
import gc
import json
import os
import time

IMPORT_PID = os.getpid()
VERSION = os.environ.get("PREFORK_APP_VERSION", "1")
_kept = []
_objects = [[] for _ in range(int(os.environ.get("PREFORK_APP_OBJECTS", "0")))]


def _claim(path):
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    return True


_slow = None


def slow():
    global _slow
    if _slow is None:
        _slow = bool(os.environ.get("PREFORK_APP_SLOW")) and _claim(os.environ["PREFORK_APP_SLOW"])
    return _slow and not os.path.exists(os.environ["PREFORK_APP_SLOW"] + ".off")


def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def private_dirty_kb():
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("Private_Dirty:"):
                return int(line.split()[1])
    raise RuntimeError("no Private_Dirty in smaps_rollup")


def stuck_in_a_loop(seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


def app(environ, start_response):
    path = environ["PATH_INFO"]
    query = dict(p.split("=", 1) for p in environ["QUERY_STRING"].split("&") if "=" in p)
    if path == "/sleep":
        time.sleep(float(query.get("s", "1")))
    elif path == "/stuck":
        stuck_in_a_loop(float(query.get("s", "60")))
    elif path == "/spin":
        factor = float(query.get("slow", "2")) if slow() else 1
        stuck_in_a_loop(float(query.get("ms", "1")) * factor / 1000)
    elif path == "/grow":
        _kept.append(b"\x01" * (int(query.get("mb", "1")) << 20))  # written: resident
    elif path == "/churn":
        pieces = [b"\x01" * (64 * 1024 - 64) for _ in range(int(query.get("mb", "1")) * 16)]
        _kept.append(b"\x02" * (64 * 1024 - 64))  # above them in the heap
        time.sleep(float(query.get("hold", "0")))
        del pieces
    mask = os.umask(0)
    os.umask(mask)
    answer = {}
    if path == "/churn":
        answer = {"rss_kb": rss_kb()}
    if path == "/spin":
        answer = {"slow": slow()}
    if path == "/gc":
        gc.collect()
        answer = {"frozen": gc.get_freeze_count(), "private_dirty_kb": private_dirty_kb()}
    if "pad" in query:  # a larger answer: ?pad=N bytes more
        answer = {"pad": "x" * int(query["pad"])}
    body = json.dumps(dict(answer, **{
        "pid": os.getpid(),
        "import_pid": IMPORT_PID,
        "version": VERSION,
        "uid": os.getuid(),
        "gid": os.getgid(),
        "umask": mask,
    })).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
