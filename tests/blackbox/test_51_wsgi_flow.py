"""How the WSGI requests run and how their responses leave: which app
thread runs what and when, the loop's scheduling policy, and the paths a
response's bytes take to the socket (written by the app thread, or queued
for the loop), against the real binary and tests/blackbox/apps/wsgi_apps.py.
"""
import os
import platform
import shutil
import socket
import struct
import subprocess
import sys
import time

import pytest

from srvtest import (SANITIZED, SLOW, FrozenThread, Reader, SyscallTrap, get)
from wsgitest import WsgiServer
from wsgi_apps import pattern  # the bytes the parts route sends

SYS_SENDMSG = 46  # x86-64


# ---- app threads: who runs what ----

def timed_requests(server, paths, gap=0.0):
    """Sends each path on its own connection (gap seconds apart), then reads
    every answer: the intervals the app ran them in, in sending order."""
    socks = []
    try:
        for p in paths:
            s = server.connect()
            socks.append(s)
            s.sendall(b"GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % p.encode())
            time.sleep(gap)
        out = []
        for s in socks:
            r = Reader(s).response(timeout=30)
            assert r.status == 200, r.body
            out.append(r.json())
        return [(o["start"], o["end"]) for o in out]
    finally:
        for s in socks:
            s.close()


def test_requests_that_wait_run_side_by_side():
    """Threads blocked outside the interpreter (a sleep, a database call)
    leave it free: another thread is woken for the next request."""
    with WsgiServer("--threads", "3") as s:
        spans = timed_requests(s, ["/nap?s=1"] * 3)
    starts = [a for a, _ in spans]
    assert max(starts) < min(b for _, b in spans), spans
    # within milliseconds, not one every SRV_STALL_MS (100 ms, for computations)
    assert max(starts) - min(starts) < 0.08 * SLOW, spans


@pytest.mark.skipif(bool(SANITIZED), reason="the pool's millisecond thresholds, under a sanitizer")
def test_requests_that_compute_run_one_at_a_time_in_arrival_order():
    """Pages that compute take the interpreter in turn, first come first
    served, instead of time-slicing it among three threads. Not under a
    sanitizer: it slows the page past the pool's thresholds (an ASan run
    saw the second request start 58 ms into the first, of 127 ms)."""
    with WsgiServer("--threads", "3") as s:
        timed_requests(s, ["/spin?ms=1"])  # warm up the route
        spans = timed_requests(s, ["/spin?ms=60"] * 3, gap=0.03)
    for (a0, b0), (a1, b1) in zip(spans, spans[1:]):
        assert b0 <= a1, spans  # the next one starts after this one ended


def test_a_long_computation_shares_the_interpreter_one_request_at_a_time():
    """A page that computes for long does not hold up the queue: after
    SRV_STALL_MS (100 ms) without a finished request, a second thread takes
    the next one. That thread then goes back to sleep instead of taking the
    one after, since the first still computes: the queue moves one request
    per stall, not at the pace of a time-sliced interpreter. With two
    threads, none is idle while the second runs: the loop must take up the
    watch again when it goes back to sleep."""
    with WsgiServer("--threads", "2") as s:
        timed_requests(s, ["/spin?ms=1"])
        (long0, long1), (a0, a1), (b0, b1) = timed_requests(
            s, ["/spin?ms=800", "/spin?ms=5", "/spin?ms=5"], gap=0.02)
    assert a0 - long0 >= 0.09, (long0, a0)  # the first stall
    assert b0 - a1 >= 0.09, (a1, b0)  # the second: not at once after the first
    assert b1 < long1  # all this while the long one ran


def test_a_thread_crowded_out_by_other_processes_still_counts_as_computing():
    """Other processes take the CPU (here: four spinners on the worker's
    CPU): the computing thread gets little CPU time but never sleeps, so
    no second thread is woken for the queued request before the 100 ms
    stall (a thread that only looked blocked would fight it for the GIL)."""
    hogs = [subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c",
                              "import time\nt=time.time()+20\nwhile time.time()<t: pass"])
            for _ in range(4)]
    try:
        with WsgiServer("--threads", "2", "--switch-interval", "5",
                        prefix=["taskset", "-c", "0"]) as s:
            timed_requests(s, ["/spin?ms=1"])
            (long0, _), (q0, _) = timed_requests(s, ["/spin?ms=150", "/spin?ms=1"], gap=0.02)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    assert q0 - long0 >= 0.09, (long0, q0)


def loop_wakeups(pid):
    """How often the worker's loop (its main thread) went to sleep."""
    with open("/proc/%d/task/%d/status" % (pid, pid)) as f:
        return int(next(l for l in f if l.startswith("voluntary_ctxt_switches")).split()[1])


def test_while_a_thread_computes_the_loop_looks_at_it_less_and_less_often():
    """Requests wait behind one that computes for a second. The loop looks
    at the running thread to see whether it waits for I/O; each look wakes
    the loop, which takes the CPU from the app: while the thread computes,
    the looks back off from every millisecond to every 8."""
    with WsgiServer("--threads", "3") as s:
        timed_requests(s, ["/spin?ms=1"])
        pid, = s.worker_pids()
        before = loop_wakeups(pid)
        timed_requests(s, ["/spin?ms=1000"] + ["/spin?ms=1"] * 12, gap=0.005)
        woke = loop_wakeups(pid) - before
    # one look per ms would be 1000 wake-ups; one per 8 ms is 125, plus the
    # quicker looks after each thread woken for a short request, and the
    # network's own
    assert woke < 400, woke


def policy_under_load(server, pid, path, want, limit_s=10.0):
    """Sends requests for path on one connection until the worker's loop
    thread (its main thread) runs under the scheduling policy want, or
    limit_s passes; returns the policy then. The loop looks at the
    requests' average once a tick; on a shared machine a slow spell can
    hold a light request's average above the threshold for some ticks, so
    the window is long (it ends as soon as the policy is there)."""
    deadline = time.monotonic() + limit_s
    with server.connect() as c:
        r = Reader(c)
        while os.sched_getscheduler(pid) != want and time.monotonic() < deadline:
            c.sendall(b"GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % path.encode())
            assert r.response().status == 200
    return os.sched_getscheduler(pid)


@pytest.mark.skipif(bool(SANITIZED), reason="microsecond requests, under a sanitizer")
def test_the_loop_waits_its_turn_only_while_requests_are_short():
    """While the app's requests take microseconds, the worker's loop,
    woken by a client, lets the thread on its CPU end its turn
    (SCHED_BATCH): preempting a client or an app thread about to finish
    would cost a context switch for nothing. Once requests compute for
    milliseconds, it preempts again, to queue the next request while the
    app computes. It looks at the requests' average once a tick (250 ms)."""
    with WsgiServer("--threads", "2") as s:
        pid = s.worker_pid()
        assert os.sched_getscheduler(pid) == os.SCHED_OTHER
        assert policy_under_load(s, pid, "/quick", os.SCHED_BATCH) == os.SCHED_BATCH
        assert policy_under_load(s, pid, "/spin?ms=2", os.SCHED_OTHER) == os.SCHED_OTHER
        assert policy_under_load(s, pid, "/quick", os.SCHED_BATCH) == os.SCHED_BATCH


@pytest.mark.skipif(bool(SANITIZED), reason="microsecond requests, under a sanitizer")
def test_a_scheduling_policy_set_from_outside_is_left_alone():
    """srv started under another policy (chrt, systemd's
    CPUSchedulingPolicy=): the loop keeps it, however short the requests."""
    with WsgiServer("--threads", "2", prefix=["chrt", "--idle", "0"]) as s:
        pid = s.worker_pid()
        assert os.sched_getscheduler(pid) == os.SCHED_IDLE
        assert policy_under_load(s, pid, "/quick", os.SCHED_BATCH,
                                 limit_s=1.5) == os.SCHED_IDLE


DENY_SCHED = r"""
#include <errno.h>
#include <sched.h>
int sched_setscheduler(pid_t pid, int policy, const struct sched_param *p)
{
    (void)pid; (void)policy; (void)p;
    errno = EPERM;
    return -1;
}
"""


@pytest.mark.skipif(bool(SANITIZED), reason="a preloaded library must not come before the "
                    "sanitizer's runtime")
@pytest.mark.skipif(shutil.which("cc") is None, reason="builds a preloaded library with cc")
def test_a_policy_change_denied_is_said_once_and_not_tried_again(tmp_path):
    """Where changing the policy is denied (a seccomp filter), the loop
    keeps the one it has, says so once, and does not try on each tick."""
    (tmp_path / "deny.c").write_text(DENY_SCHED)
    shim = tmp_path / "deny.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(shim), str(tmp_path / "deny.c")],
                   check=True)
    with WsgiServer("--threads", "2", env={"LD_PRELOAD": str(shim)}) as s:
        pid = s.worker_pid()
        said = "the loop thread keeps its scheduling policy: "
        # short requests across several ticks: each would try again
        assert policy_under_load(s, pid, "/quick", os.SCHED_BATCH,
                                 limit_s=4) == os.SCHED_OTHER
        s.wait_for_line(said)
        assert os.sched_getscheduler(pid) == os.SCHED_OTHER
        assert s.log().count(said) == 1, s.log()
        assert said + "permission denied" in s.log(), s.log()


def test_a_body_that_reaches_its_content_length_wakes_the_loop_once():
    """An iterator whose chunk fills the Content-Length (Flask's responses
    are such) ends its body before the app returns: the bytes go to the loop
    with the release, in one wake-up, not one for the bytes and one for the
    release (which would take the CPU from the app twice per request)."""
    n, chunks = 100, 1
    with WsgiServer("--threads", "1") as s:
        with s.connect() as c:
            r = Reader(c)
            c.sendall(b"GET /sized?%d HTTP/1.1\r\nHost: a\r\n\r\n" % chunks)
            assert r.response().body == b"x" * 1000 * chunks
            pid, = s.worker_pids()
            before = loop_wakeups(pid)
            for _ in range(n):
                c.sendall(b"GET /sized?%d HTTP/1.1\r\nHost: a\r\n\r\n" % chunks)
                resp = r.response()
                assert resp.status == 200 and len(resp.body) == 1000 * chunks
            woke = loop_wakeups(pid) - before
    # per request: the request's arrival and the release; sending the bytes
    # ahead of the release would add a third
    assert woke < 2.5 * n, woke


def test_a_finished_body_goes_out_while_the_app_works_on():
    """The bytes held for the release above must not wait for an iterator
    that works on after its last chunk: the client gets its whole response
    at once, not when the app ends, and not a 504 when the app's work runs
    past the timeout."""
    with WsgiServer("--threads", "2", "--timeout", "2") as s:
        with s.connect() as c:
            t0 = time.monotonic()
            c.sendall(b"GET /sized?1&after=4000 HTTP/1.1\r\nHost: a\r\n\r\n")
            resp = Reader(c).response(timeout=10)
            took = time.monotonic() - t0
        assert resp.status == 200 and resp.body == b"x" * 1000
        assert took < 1.0 * SLOW, took
        s.wait_for_line(r"Request timed out after 2 s: GET /sized")


@pytest.mark.parametrize("route,size", [(b"parts", 65536), (b"parts-list", 120)])
def test_a_response_leaves_while_the_loop_is_held_up(route, size):
    """An app thread writes a large response to the socket itself when
    nothing is queued ahead of it, and a small one that the app returns
    whole (a list of one bytes) at the release, while the loop sleeps
    (waking it would cost a context switch per request). The client gets
    it even while the worker's loop thread cannot run (as when the machine
    keeps it from a CPU), and the worker need not buffer it meanwhile."""
    with WsgiServer("--threads", "2") as s:
        loop_thread = s.worker_pid()  # the worker's loop runs on its main thread
        with s.connect() as c:
            c.sendall(b"GET /%s?sizes=%d&late=%d HTTP/1.1\r\nHost: a\r\n\r\n"
                      % (route, size, int(1000 * SLOW)))
            s.wait_for_line(r"parts: answering in")  # the loop has handed it over
            with FrozenThread(loop_thread):
                resp = Reader(c).response(timeout=5)
            assert resp.status == 200 and resp.body == pattern(0, size)
            # and the loop, back, serves the connection's next request
            c.sendall(b"GET /%s?sizes=100 HTTP/1.1\r\nHost: a\r\n\r\n" % route)
            assert Reader(c).response().body == pattern(0, 100)


def test_while_jobs_wait_a_small_response_is_left_to_the_loop():
    """The app thread writes a small response itself only when no other job
    waits for it: while one does, it hands the response to the loop (which
    writes on the other CPU) and goes on to that job. One app thread, the
    loop held up: the first response, finished while the second request
    waits, stays with the loop; the second, with nothing waiting behind
    it, leaves at once."""
    with WsgiServer("--threads", "1") as s:
        loop_thread = s.worker_pid()
        with s.connect() as c1, s.connect() as c2:
            c1.sendall(b"GET /parts-list?sizes=100&late=%d HTTP/1.1\r\nHost: a\r\n\r\n"
                       % int(1000 * SLOW))
            s.wait_for_line(r"parts: answering in")
            c2.sendall(b"GET /parts-list?sizes=200 HTTP/1.1\r\nHost: a\r\n\r\n")
            time.sleep(0.3 * SLOW)  # the loop has queued it behind the first
            with FrozenThread(loop_thread):
                assert Reader(c2).response(timeout=5).body == pattern(0, 200)
                c1.setblocking(False)
                with pytest.raises(BlockingIOError):
                    c1.recv(1)
                c1.setblocking(True)
            assert Reader(c1).response(timeout=5).body == pattern(0, 100)


def test_small_responses_to_a_client_that_reads_late_arrive_whole_and_in_order():
    """Pipelined requests for small responses returned whole, from a client
    that reads nothing for a while: the socket fills up, an app thread's
    write at the release takes part of a response, and the loop writes the
    rest before anything that follows."""
    n, size = 600, 15000
    with WsgiServer("--threads", "2") as s:
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.connect((s.host, s.port))
        with c:
            c.sendall(b"".join(b"GET /parts-list?sizes=%d HTTP/1.1\r\nHost: a\r\n\r\n"
                               % (size + i) for i in range(n)))
            time.sleep(0.5)
            r = Reader(c)
            for i in range(n):
                resp = r.response(timeout=10)
                assert resp.status == 200 and resp.body == pattern(0, size + i), i


def thread_name(pid, tid):
    with open("/proc/%d/task/%d/comm" % (pid, tid)) as f:
        return f.read().strip()


@pytest.mark.skipif(bool(SANITIZED), reason="wake-up counts, under a sanitizer")
def test_a_response_written_whole_by_its_app_thread_does_not_wake_the_loop():
    """When the app thread wrote a keep-alive response whole, the loop is not
    woken for its end: it notes it when the client's next request wakes it.
    So the loop thread sleeps once per request, not twice. Not under a
    sanitizer: the slowed app thread releases after the client's next
    request has come (a TSan run counted 1.85-2.25 sleeps per request)."""
    def sleeps_per_request(c, size, n=40, route=b"parts"):
        before = loop_wakeups(loop_thread)
        for _ in range(n):
            c.sendall(b"GET /%s?sizes=%d HTTP/1.1\r\nHost: a\r\n\r\n" % (route, size))
            assert Reader(c).response().body == pattern(0, size)
        return (loop_wakeups(loop_thread) - before) / n

    with WsgiServer("--threads", "1") as s:
        loop_thread = s.worker_pid()
        with s.connect() as c:
            # The best of a few rounds: on a busy machine the app thread can
            # lose its CPU between its write and its release, and the client's
            # next request then comes first (and the release wakes the loop).
            direct = [sleeps_per_request(c, 65536) for _ in range(5)]
            # A small answer returned whole: written at the release, the loop asleep.
            small = [sleeps_per_request(c, 100, route=b"parts-list") for _ in range(5)]
            # Answers the loop writes (the last bytes of an iterator's body,
            # held until it ends): it is woken for them, then for the next request.
            queued = [sleeps_per_request(c, 100) for _ in range(5)]
        assert min(direct) < 1.4 and min(small) < 1.4 and max(queued) > 1.6, (direct, small,
                                                                             queued)


def test_a_response_done_before_the_timeout_is_not_timed_out_later():
    """An exchange the loop has not noted as ended yet (its release woke no
    one) is not timed out when the loop's clock passes `timeout` first: the
    loop is held up from before the response until after the deadline."""
    with WsgiServer("--threads", "1", "--timeout", "1") as s:
        loop_thread = s.worker_pid()
        with s.connect() as c:
            c.sendall(b"GET /parts?sizes=65536&late=200 HTTP/1.1\r\nHost: a\r\n\r\n")
            s.wait_for_line(r"parts: answering in")  # the loop has handed it over
            with FrozenThread(loop_thread):
                assert Reader(c).response(timeout=5).body == pattern(0, 65536)
                time.sleep(1.5)  # past the request's deadline
            c.sendall(b"GET /parts?sizes=100 HTTP/1.1\r\nHost: a\r\n\r\n")
            assert Reader(c).response().body == pattern(0, 100)
        time.sleep(0.5)  # the loop's tick has run (every 250 ms)
        assert s.worker_pids() == [loop_thread]
        assert "timed out" not in s.log() and "past timeout" not in s.log()


def test_pipelined_requests_after_a_direct_response_are_not_held():
    """A release that would wake no one does wake the loop when the next
    request is already in: pipelined requests after responses the app
    thread wrote whole go on at once, not when the loop next wakes by
    itself (after up to 10 ms, each)."""
    n = 60

    def run(c, size):
        t0 = time.monotonic()
        c.sendall(b"GET /parts?sizes=%d HTTP/1.1\r\nHost: a\r\n\r\n" % size * n)
        r = Reader(c)
        for _ in range(n):
            assert r.response().body == pattern(0, size)
        return time.monotonic() - t0

    with WsgiServer("--threads", "1") as s, s.connect() as c:
        small, large = run(c, 100), run(c, 20000)  # written by the loop, then directly
        assert large < 0.1 + 4 * small, (small, large)


@pytest.mark.skipif(platform.machine() != "x86_64", reason="reads x86-64 system call registers")
def test_a_reset_waits_for_the_send_an_app_thread_is_in():
    """A client resets while its app thread is inside the send of a large
    response: the loop closes that socket only once the send has returned,
    so the descriptor is never given to the next client while the app
    thread still writes to it. (Were it closed at once, the next
    connection would get the same number, and the old response.)"""
    with WsgiServer("--threads", "1") as s:
        worker = s.worker_pid()
        assert get(s, "/parts?sizes=10").status == 200  # the app thread is up
        app_thread = [t for t in map(int, os.listdir("/proc/%d/task" % worker))
                      if thread_name(worker, t) == "srv-app"]
        assert len(app_thread) == 1, app_thread  # srv names its app threads
        c = s.connect()
        with SyscallTrap(app_thread[0]) as t:
            c.sendall(b"GET /parts?sizes=65536 HTTP/1.1\r\nHost: a\r\n\r\n")
            t.run_until_entry(SYS_SENDMSG)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()  # a reset, which the loop reads while the app thread is held
            time.sleep(0.3 * SLOW)
            c2 = s.connect()
            c2.sendall(b"GET /parts?sizes=100 HTTP/1.1\r\nHost: a\r\n\r\n")
            time.sleep(0.3 * SLOW)  # long enough for a loop that did not wait to take c2
        with c2:
            resp = Reader(c2).response(timeout=5)
            assert resp.status == 200 and resp.body == pattern(0, 100)
            c2.sendall(b"GET /parts?sizes=10 HTTP/1.1\r\nHost: a\r\n\r\n")
            assert Reader(c2).response().body == pattern(0, 10)


@pytest.mark.parametrize("unix", [False, True])
def test_parts_written_directly_and_queued_keep_their_order(unix, tmp_path):
    """A large first part goes straight to the socket, a small one after it
    through the loop, then a large one that must not overtake it; with a
    client that reads nothing for a while, the first write fills the socket
    and the loop writes the rest. On TCP and on a Unix socket."""
    sizes = [(40000, 10, 3000000), (20000, 5000000), (10, 70000, 300000)]
    bind = ("-b", "unix:%s" % (tmp_path / "srv.sock")) if unix else ()
    with WsgiServer("--threads", "2", *bind, bind=not unix) as s:
        with s.connect() as c:
            for sz in sizes:
                c.sendall(b"GET /parts?sizes=%s HTTP/1.1\r\nHost: a\r\n\r\n"
                          % ",".join(map(str, sz)).encode())
                time.sleep(0.3)  # the socket fills up before the client reads
                resp = Reader(c).response(timeout=20)
                assert resp.status == 200
                assert resp.body == b"".join(pattern(i, n) for i, n in enumerate(sz)), sz
            # pipelined: the second response starts only after the first
            c.sendall(b"GET /parts?sizes=30000,2000000 HTTP/1.1\r\nHost: a\r\n\r\n"
                      b"GET /parts?sizes=50000 HTTP/1.1\r\nHost: a\r\n\r\n")
            r = Reader(c)
            assert r.response(timeout=20).body == pattern(0, 30000) + pattern(1, 2000000)
            assert r.response(timeout=20).body == pattern(0, 50000)
