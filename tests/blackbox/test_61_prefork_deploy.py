"""The prefork master as deployed: load spread over the workers, preload,
systemd (socket activation, sd_notify) and the switch to an unprivileged
user. Unix only (srv on Windows is one process)."""
import contextlib
import os
import pwd
import grp
import shutil
import signal
import socket
import stat
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from srvtest import SANITIZED, SRV_BIN, SLOW, WRAPPER, Reader, Server, get
from preforktest import APPS, Prefork, workers_exec

pytestmark = pytest.mark.skipif(bool(WRAPPER), reason="prefork is the Unix server")


# ---- balance ----

def test_connections_spread_evenly_over_workers():
    """A burst of connections (a load balancer opening its pool) lands on
    every worker, not on the one that happens to wake first, and evenly:
    keep-alive pins each to its worker, and a worker holding more of them
    answers each later."""
    with Prefork(workers=2) as srv:
        srv.wait_serving(2)
        counts = _spread(srv, 128)
        assert len(counts) == 2, counts
        # Two workers that read each other's count at the same moment may
        # both take the next connection; a sanitizer's slow loop may make
        # its sibling take some over its share after a pause.
        assert all(abs(c - 64) <= (13 if SANITIZED else 2) for c in counts.values()), counts


def _spread(srv, n):
    """Opens n connections at once to prefork_app, holds them while each
    asks who serves it, and returns how many each worker's pid got."""
    socks, counts = [], {}
    try:
        for _ in range(n):
            socks.append(srv.connect(timeout=10))
        for s in socks:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        for s in socks:
            pid = Reader(s).response(timeout=20).json()["pid"]
            counts[pid] = counts.get(pid, 0) + 1
    finally:
        for s in socks:
            s.close()
    return counts


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (Debian package wrk)")
@contextlib.contextmanager
def _wrk(*args):
    """wrk running with args while the block runs; then it must end, with
    no socket error and no answer but a 2xx."""
    wrk = subprocess.Popen(["wrk"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        yield wrk
        out, err = wrk.communicate(timeout=60 * SLOW)
    finally:
        wrk.kill()
        wrk.wait()
    assert wrk.returncode == 0, err
    assert "Socket errors" not in out and "Non-2xx" not in out, out


def test_connections_spread_evenly_under_wrk(tmp_path):
    """wrk opens its 256 keep-alive connections at once: each of 2 workers
    holds half of them, and serves half of the requests, within 20%."""
    access = tmp_path / "access.log"
    with Server("--builtin", "hello", "--access-logfile", str(access),
                "--access-log-format", "%(p)s", workers=2) as srv:
        pids = Prefork.wait_workers(srv, 2)
        for p in pids:
            srv.wait_for_line(r"Worker %d ready" % p)
        # One wrk thread, as bench/compare runs it on two cores: with two,
        # the workers and wrk's threads took turns on the CPUs unevenly,
        # and one worker served 58,161 requests against 124,384 with the
        # connections split 128/128 (2 runs in 6 here, after another test;
        # with one thread, 1-4% off half in 6 runs of 6).
        with _wrk("-t1", "-c256", "-d3s", "http://127.0.0.1:%d/" % srv.port):
            # As soon as the workers hold all of wrk's connections: later,
            # a worker whose app cannot keep up may move some to the other
            # one (test_a_slower_worker_is_left_fewer_connections).
            conns = {}
            deadline = time.monotonic() + 10 * SLOW
            while sum(conns.values()) < 256 and time.monotonic() < deadline:
                time.sleep(0.02)
                conns = {p: _sockets(p, srv.port, "01") for p in pids}  # 01: ESTABLISHED
    counts = {}
    for line in access.read_text().split():
        counts[line] = counts.get(line, 0) + 1
    total = sum(counts.values())
    print("connections per worker", conns, "requests per worker", counts)
    # The balancer's part: the connections. Two workers that read each
    # other's count at the same moment may both take the next one.
    assert sum(conns.values()) == 256, conns
    assert all(abs(c - 128) <= (26 if SANITIZED else 4) for c in conns.values()), conns
    # How many requests each then serves is up to the CPU scheduler, with
    # wrk and both workers on two cores: within a few percent of half in
    # runs of the plain build, but a sanitizer slows each worker by a
    # varying factor (a CI run saw 85669 / 45191 under AddressSanitizer with
    # the connections even, and 72649 / 109119 under ThreadSanitizer).
    assert len(counts) == 2 and total > 1000, counts
    off = 0.5 if SANITIZED else 0.2
    assert all(abs(c - total / 2) <= off * total / 2 for c in counts.values()), counts


def _close_latency(srv, clients=10, each=150):
    """The median time, in seconds, of a request on a connection of its
    own (Connection: close), with clients such connections at once."""
    lat, errors = [], []

    def client():
        try:
            for _ in range(each):
                # As lean as can be: the client's own time hides the server's.
                t0 = time.perf_counter()
                with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                    got = b""
                    while True:
                        data = s.recv(65536)
                        if not data:
                            break
                        got += data
                lat.append(time.perf_counter() - t0)
                assert got.startswith(b"HTTP/1.1 200 "), got
        except Exception as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60 * SLOW)
    assert not errors and len(lat) == clients * each, errors
    return statistics.median(lat)


def test_a_connection_per_request_waits_for_no_balancing_pause():
    """Clients that open a connection for each request (nginx's proxy_pass
    does by default) are served as fast as with --reuse-port, where the
    kernel picks each connection's worker and nothing balances. A worker
    that left a connection to its sibling paused accepting for 1 ms, and
    as connections closed, both could be paused at once: 10 such clients
    got about 1,900 requests/s from the built-in hello, against about
    16,000 with --reuse-port. A paused worker now looks again at every
    turn of its loop."""
    median = {}
    for args in ((), ("--reuse-port",)):
        with Server("--builtin", "hello", *args, workers=2) as srv:
            for p in Prefork.wait_workers(srv, 2):
                srv.wait_for_line(r"Worker %d ready" % p)
            median[args] = _close_latency(srv)
    print("median latency, shared socket %.2f ms, --reuse-port %.2f ms"
          % (median[()] * 1e3, median[("--reuse-port",)] * 1e3))
    assert median[()] < 2 * median[("--reuse-port",)], median


def test_reuse_port_gives_each_worker_its_own_socket():
    with Prefork("--reuse-port", workers=2) as srv:
        pids = srv.wait_serving(2)
        for p in pids:  # each worker holds a listening socket of its own
            assert _listening_sockets(p) == 1, p
        seen = {srv.who()["pid"] for _ in range(40)}
        assert seen == set(pids)


def _listening_sockets(pid):
    """How many TCP sockets in LISTEN state process pid has open."""
    return _sockets(pid, None, "0A")


def _sockets(pid, port, state):
    """How many TCP sockets in state (hex, as /proc/net/tcp writes it)
    process pid has open, on local port port (None: any)."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    n = 0
    for table in ("/proc/%d/net/tcp" % pid, "/proc/%d/net/tcp6" % pid):
        with open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                n += (cols[3] == state and cols[9] in inodes and
                      (port is None or int(cols[1].split(":")[1], 16) == port))
    return n


def test_a_slower_worker_is_left_fewer_connections(tmp_path):
    """Two workers, one serving at half the other's speed (prefork_app's
    slow worker spins twice as long for each request), and wrk's 32
    keep-alive connections, split evenly at first. Both have requests
    waiting all along, so each serves as fast as it can: the balancer
    moves connections from the slow worker to the fast one (Connection:
    close on a response, and the client's next connection goes to the
    sibling) until they hold about 11 and 21, and the clients of both wait
    alike. Left at 16 each, the slow worker's clients would wait twice as
    long. The speeds found stay once the load is gone: new connections
    split by them (5 and 11 of 16), not evenly, so that the next load does
    not start with half its first requests queued on the slow worker."""
    slow_file = tmp_path / "slow"
    access = tmp_path / "access.log"
    with Prefork("--threads", "1", "--access-logfile", str(access), "--access-logformat",
                 "%(p)s %(M)s", env={"PREFORK_APP_SLOW": str(slow_file)}) as srv:
        pids = srv.wait_serving(2)
        with _wrk("-t1", "-c32", "-d8s", "http://127.0.0.1:%d/spin?ms=3" % srv.port):
            time.sleep(7)
            conns = {p: _sockets(p, srv.port, "01") for p in pids}  # 01: ESTABLISHED
            slow = int(slow_file.read_text())
            fast = next(p for p in pids if p != slow)
        # wrk is gone and its connections closed; no rate is told any more
        # (before fac1886, the shares were even again a second later).
        time.sleep(1.5)
        again = _spread(srv, 16)
    print("connections: slow worker", conns[slow], "fast worker", conns[fast])
    assert sum(conns.values()) == 32, conns
    assert conns[slow] <= 14 and conns[fast] >= 18, conns  # 11 and 21 on a quiet machine
    # Over the last third of the run, each worker's clients waited about as
    # long (the access log's lines come as the requests end).
    lines = [line.split() for line in access.read_text().splitlines()]
    waits = {p: [int(ms) for pid, ms in lines[-len(lines) // 3:] if pid == "<%d>" % p]
             for p in pids}
    mean = {p: statistics.mean(w) for p, w in waits.items()}
    print("mean ms over the last third: slow worker", mean[slow], "fast worker", mean[fast])
    assert mean[slow] <= 1.4 * mean[fast], mean
    print("new connections a second after the load:", again)
    assert sum(again.values()) == 16 and again.get(slow, 0) <= 7, again  # 8 each when even


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (Debian package wrk)")
def test_speeds_found_before_are_measured_again_under_the_next_load(tmp_path):
    """The speeds found under one load split the next one's connections
    (above); when the slow worker is as fast as the other by then, the
    rates measured under the new load put the shares back to even, and the
    connections follow."""
    slow_file = tmp_path / "slow"
    with Prefork("--threads", "1", env={"PREFORK_APP_SLOW": str(slow_file)}) as srv:
        pids = srv.wait_serving(2)
        url = "http://127.0.0.1:%d/spin?ms=3" % srv.port
        with _wrk("-t1", "-c32", "-d4s", url):
            pass
        (tmp_path / "slow.off").write_text("")
        with _wrk("-t1", "-c32", "-d7s", url):
            time.sleep(1)
            first = {p: _sockets(p, srv.port, "01") for p in pids}  # 01: ESTABLISHED
            time.sleep(5)
            conns = {p: _sockets(p, srv.port, "01") for p in pids}
    slow = int(slow_file.read_text())
    print("connections per worker after 1 s", first, "after 6 s", conns, "slow", slow)
    assert first[slow] <= 13, first  # split by the speeds found: 11 and 21
    assert sum(conns.values()) == 32 and all(abs(c - 16) <= 3 for c in conns.values()), conns


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (Debian package wrk)")
def test_a_worker_started_in_a_slot_takes_an_even_share(tmp_path):
    """The speeds found stay in the workers' slots once the load is gone
    (above). A worker the master starts in the slot of one that died has
    measured nothing yet: it takes an even share of new connections, not
    the one its predecessor had. Here the slow worker serves at a quarter
    of the other's speed (shares 500 and 1500 thousandths); killed and
    replaced, its successor ranks at 1000 against its sibling's 1500, and
    gets about 13 of 32 new connections (10 when the master left the
    predecessor's share in the slot)."""
    slow_file = tmp_path / "slow"
    with Prefork("--threads", "1", env={"PREFORK_APP_SLOW": str(slow_file)}) as srv:
        pids = srv.wait_serving(2)
        with _wrk("-t1", "-c32", "-d5s", "http://127.0.0.1:%d/spin?ms=3&slow=4" % srv.port):
            pass
        slow = int(slow_file.read_text())
        fast = next(p for p in pids if p != slow)
        before = _spread(srv, 32)
        os.kill(slow, signal.SIGKILL)
        new = next(p for p in srv.wait_workers(2, exclude=[slow]) if p != fast)
        srv.wait_for_line(r"Worker %d ready \(booted in " % new)
        after = _spread(srv, 32)
    print("new connections: before", before, "slow", slow, "; after", after, "new", new)
    assert sum(before.values()) == 32 and before.get(slow, 0) <= 10, before
    assert sum(after.values()) == 32 and after.get(new, 0) >= 12, after


def test_rates_of_workers_that_keep_up_move_no_connection():
    """A worker's rate tells its speed only while its app has requests
    waiting all along; otherwise it tells how much its clients ask. Here
    the clients of one worker ask ten times as often as the other's, and
    both workers keep up (their app threads find no request waiting again
    and again): no rate is told, no connection is closed for balance, and
    new connections still split evenly. (Rates counted whenever requests
    came would make the busier worker look the faster one: it would be
    given the new connections, and the other's closed.)"""
    with Prefork("--threads", "3", "--log-level", "debug") as srv:
        pids = srv.wait_serving(2)
        socks, owner = [], {}
        try:
            for _ in range(32):
                s = srv.connect(timeout=10)
                s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                socks.append((s, Reader(s)))
                owner[s] = socks[-1][1].response(timeout=10).json()["pid"]
            busy = pids[0]
            errors = []

            def client(s, reader, gap, until):
                try:
                    while time.monotonic() < until:
                        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                        r = reader.response(timeout=10)
                        assert r.status == 200 and r.header("Connection") != "close", r
                        time.sleep(gap)
                except Exception as e:  # reported below, in the test's thread
                    errors.append(e)

            until = time.monotonic() + 3
            threads = [threading.Thread(target=client,
                                        args=(s, r, 0.002 if owner[s] == busy else 0.02, until))
                       for s, r in socks]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30 * SLOW)
            assert not errors, errors[:3]
        finally:
            for s, _ in socks:
                s.close()
        time.sleep(0.5)
        again = _spread(srv, 16)
        log = srv.log()
    split = sorted(list(owner.values()).count(p) for p in pids)
    print("connections per worker", split, "then", again)
    assert split in ([16, 16], [15, 17]), split
    balance = [line for line in log.splitlines() if "Balance:" in line]
    assert not balance, balance[:5]
    assert sorted(again.values()) in ([8, 8], [7, 9]), again


@pytest.mark.parametrize("path", ["/", "/?pad=40000"])  # the app thread writes the larger itself
def test_busy_worker_leaves_new_connections_to_its_sibling(path):
    with Prefork("--threads", "1", workers=2) as srv:
        pids = srv.wait_serving(2)
        busy = srv.connect(timeout=10)
        busy.sendall(b"GET /sleep?s=2 HTTP/1.1\r\nHost: a\r\n\r\n")
        time.sleep(0.3)
        # New connections one after another, for a second: each comes right
        # after the sibling's response, so the sibling must already look
        # idle then (a connection left to the sleeping worker waits for
        # the end of its sleep, past the bound below).
        t0, n = time.monotonic(), 0
        while time.monotonic() - t0 < 1.0 and n < 1000:
            assert srv.who(path)["pid"] in pids
            n += 1
        assert time.monotonic() - t0 < 1.5 * SLOW, n
        assert Reader(busy).response(timeout=10).status == 200
        busy.close()


def test_a_worker_over_its_share_accepts_when_its_sibling_does_not():
    """A worker holding more connections than its sibling leaves the next
    one to it; when the sibling's loop is held up (here stopped, with its
    heartbeat still fresh for seconds), the worker takes the connection
    itself within milliseconds instead."""
    with Prefork(workers=2) as srv:
        srv.wait_serving(2)
        held, owner = [], {}
        try:
            for _ in range(3):
                s = srv.connect(timeout=10)
                held.append(s)
                s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                pid = Reader(s).response(timeout=10).json()["pid"]
                owner[pid] = owner.get(pid, 0) + 1
            assert sorted(owner.values()) == [1, 2], owner
            fewer = min(owner, key=owner.get)
            os.kill(fewer, signal.SIGSTOP)
            try:
                t0 = time.monotonic()
                assert srv.who()["pid"] != fewer
                assert time.monotonic() - t0 < 0.5 * SLOW
            finally:
                os.kill(fewer, signal.SIGCONT)
        finally:
            for s in held:
                s.close()


# ---- preload ----

@pytest.mark.parametrize("preload", [False, True])
def test_env_is_set_before_the_app_is_imported(preload):
    args = ["-e", "PREFORK_APP_VERSION=a,b=c", "--env", "SRV_TEST_UNUSED="]
    with Prefork(*args + (["--preload"] if preload else []), workers=2) as srv:
        srv.wait_serving(2)
        answers = [srv.who() for _ in range(6)]
        assert {a["version"] for a in answers} == {"a,b=c"}
        assert (answers[0]["import_pid"] == srv.pid) == preload


def test_preload_imports_once_in_the_master():
    with Prefork("--preload", workers=2) as srv:
        pids = srv.wait_serving(2)
        answers = [srv.who() for _ in range(10)]
        assert {a["import_pid"] for a in answers} == {srv.pid}
        assert {a["pid"] for a in answers} <= set(pids)


def test_without_preload_each_worker_imports():
    with Prefork(workers=2) as srv:
        srv.wait_serving(2)
        for a in (srv.who() for _ in range(10)):
            assert a["import_pid"] == a["pid"]


def test_the_app_import_is_frozen_out_of_the_collector():
    """gc_freeze: each worker's GC skips what importing the app made, with
    or without --preload, unless it is turned off."""
    for args in ((), ("--preload",)):
        with Prefork(*args, workers=1) as srv:
            srv.wait_serving(1)
            assert srv.who("/gc")["frozen"] > 1000, args
        with Prefork("--gc-freeze=false", *args, workers=1) as srv:
            srv.wait_serving(1)
            assert srv.who("/gc")["frozen"] == 0, args


def test_with_preload_a_full_collection_keeps_the_import_shared():
    """The master imports 200,000 objects (about 14 MiB) and forks. A full
    collection in the worker writes the GC header of every object it walks,
    so without the freeze the worker ends up with its own copy of all their
    pages; with it, they stay shared with the master."""
    env = {"PREFORK_APP_OBJECTS": "200000"}
    private = {}
    for freeze in ("true", "false"):
        with Prefork("--preload", "--gc-freeze=" + freeze, workers=1, env=env) as srv:
            srv.wait_serving(1)
            private[freeze] = srv.who("/gc")["private_dirty_kb"]
    assert private["false"] - private["true"] > 10 * 1024, private
    assert private["true"] < 8 * 1024, private


def test_without_preload_the_master_holds_no_interpreter():
    """Hosted builds: the master stays the srv executable and only the
    workers become python3; with --preload the master holds the app, so
    python3 runs it too."""
    with Prefork(workers=2) as srv:
        pids = srv.wait_serving(2)
        if not workers_exec(pids[0]):
            pytest.skip("embedded build: the workers are the srv executable")
        assert os.path.realpath("/proc/%d/exe" % srv.pid) == os.path.realpath(SRV_BIN)
        with open("/proc/%d/maps" % srv.pid) as f:
            maps = f.read()
        assert "python" not in maps and "_srvhost" not in maps
        assert {srv.who()["pid"] for _ in range(6)} <= set(pids)
    with Prefork("--preload", workers=1) as srv:
        srv.wait_serving(1)
        assert "python" in os.path.basename(os.readlink("/proc/%d/exe" % srv.pid))


# ---- systemd ----

def test_socket_activation(tmp_path):
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    port = lsock.getsockname()[1]
    fd = lsock.fileno()
    # As systemd does: the socket is fd 3, LISTEN_PID is srv's own pid (the
    # launcher moves the socket, sets the variable, then becomes srv).
    launcher = [sys.executable, "-c",
                "import os, sys\n"
                "fd = int(sys.argv[1])\n"
                "os.dup2(fd, 3)\n"
                "os.close(fd)\n"
                "os.environ['LISTEN_PID'] = str(os.getpid())\n"
                "os.execv(sys.argv[2], sys.argv[2:])\n", str(fd)]
    srv = Prefork(workers=2, bind=False, env={"LISTEN_FDS": "1"}, prefix=launcher,
                  popen_kw={"pass_fds": (fd,)})
    try:
        lsock.close()  # srv holds it now
        srv.wait_for_line(r"Using 1 socket from systemd")
        assert srv.port == port
        srv.wait_serving(2)
        assert srv.who()["pid"] in srv.worker_pids()
    finally:
        assert srv.stop() == 0, srv.log()


def test_sd_notify(tmp_path):
    path = str(tmp_path / "notify")
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(path)
    rx.settimeout(10 * SLOW)

    def expect(prefix):
        deadline = time.monotonic() + 20 * SLOW
        while time.monotonic() < deadline:
            msg = rx.recv(4096).decode()
            if msg.startswith(prefix):
                return msg
        raise AssertionError("no %r notification" % prefix)
    try:
        with Prefork(workers=2, env={"NOTIFY_SOCKET": path}) as srv:
            ready = expect("READY=1")
            assert "MAINPID=%d" % srv.pid in ready
            # Ready means serving: every worker has booted.
            assert len(srv.worker_pids()) == 2
            assert srv.who()
            assert expect("STATUS=").startswith("STATUS=2 workers serving")
            srv.send_signal(signal.SIGHUP)
            expect("RELOADING=1")
            expect("READY=1")
            srv.send_signal(signal.SIGTERM)
            expect("STOPPING=1")
            assert srv.wait(timeout=20) == 0
    finally:
        rx.close()


# ---- privileges ----

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")


@needs_root
def test_workers_run_as_the_configured_user():
    nobody = pwd.getpwnam("nobody")
    nogroup = grp.getgrgid(nobody.pw_gid).gr_name
    # The workers import the app as nobody: it must be readable to them
    # (pytest's own temporary directories are private to root).
    app_dir = tempfile.mkdtemp(prefix="srv-test-")
    try:
        os.chmod(app_dir, 0o755)
        shutil.copy(os.path.join(APPS, "prefork_app.py"), app_dir)
        _run_as_nobody(app_dir, nobody, nogroup)
    finally:
        shutil.rmtree(app_dir)


def _run_as_nobody(app_dir, nobody, nogroup):
    with Prefork("-u", "nobody", "-g", nogroup, workers=2, chdir=app_dir) as srv:
        pids = srv.wait_serving(2)
        a = srv.who()
        assert (a["uid"], a["gid"]) == (nobody.pw_uid, nobody.pw_gid)
        for p in pids:
            assert os.stat("/proc/%d" % p).st_uid == nobody.pw_uid
        assert os.stat("/proc/%d" % srv.pid).st_uid == 0  # the master keeps root to respawn


@needs_root
def test_unknown_user_is_a_clear_error():
    from srvtest import run_srv
    out = run_srv("--chdir", APPS, "-b", "127.0.0.1:0", "-u", "no-such-user-here",
                  "prefork_app:app")
    assert out.returncode != 0
    assert "user 'no-such-user-here' does not exist" in out.stderr


def test_umask_applies_to_the_workers_and_the_unix_socket(tmp_path):
    path = str(tmp_path / "srv.sock")
    with Prefork("-m", "0007", "-b", "unix:" + path, bind=False, workers=1) as srv:
        srv.wait_serving(1)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o770
        assert srv.who()["umask"] == 0o007


def test_pidfile_holds_the_master(tmp_path):
    pidfile = tmp_path / "srv.pid"
    with Prefork("--pid", str(pidfile), workers=2) as srv:
        srv.wait_serving(2)
        assert int(pidfile.read_text()) == srv.pid


def test_a_queued_request_whose_client_left_is_not_run():
    """A client that sends its request and leaves while it waits for an app
    thread (it gave up, as clients and proxies with a timeout do under
    overload) costs no app time: its request is dropped, not run."""
    with Prefork("--threads", "1", "--access-logfile", "-", workers=1) as srv:
        srv.wait_serving(1)
        busy = srv.connect(timeout=10)
        busy.sendall(b"GET /sleep?s=1 HTTP/1.1\r\nHost: a\r\n\r\n")
        time.sleep(0.2)  # the one app thread is taken
        with srv.connect() as gone:
            gone.sendall(b"GET /sleep?s=2&gone HTTP/1.1\r\nHost: a\r\n\r\n")
            time.sleep(0.1)
        assert Reader(busy).response(timeout=10).status == 200
        busy.close()
        t0 = time.monotonic()
        assert get(srv, "/?after").status == 200
        assert time.monotonic() - t0 < 1.5, "the abandoned request ran first"
        srv.wait_for_line(r'"GET /\?after ', stream="stdout")
        assert not [line for line in srv.stdout_lines if "gone" in line]
