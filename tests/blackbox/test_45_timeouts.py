"""Timeouts, slow clients and many connections.

Timing assertions here are about behaviour (a timeout fires, a slow client
does not block others) with generous bounds, never about speed targets;
those live in bench/.
"""
import resource
import selectors
import socket
import threading
import time

import pytest

from srvtest import SLOW, Reader, Server, get, request, wait_until


def elapsed_until_closed(s, limit):
    t0 = time.monotonic()
    r = Reader(s)
    assert r.closed(timeout=limit), "connection still open after %ss" % limit
    return time.monotonic() - t0, r


def test_header_timeout_on_a_trickle():
    """One byte every 100 ms keeps a connection busy, but the head must be
    complete within header_timeout: a trickle does not extend it."""
    with Server("--builtin", "echo", "--header-timeout", "1") as srv, srv.connect() as s:
        t0 = time.monotonic()
        data = b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"x" * 100
        got = b""
        s.settimeout(0.1)
        for b in data:
            try:
                s.send(bytes([b]))
            except OSError:
                break
            try:
                got += s.recv(4096)
                if got:
                    break
            except socket.timeout:
                pass
        took = time.monotonic() - t0
        assert got.startswith(b"HTTP/1.1 408 "), got
        assert 0.9 < took < 3 * SLOW


def test_header_timeout_without_bytes_closes_silently():
    with Server("--builtin", "echo", "--header-timeout", "1") as srv, srv.connect() as s:
        took, r = elapsed_until_closed(s, 5)
        assert 0.9 < took < 3 * SLOW
        assert r.buf == b""


def test_body_timeout_before_dispatch():
    with Server("--builtin", "echo", "--body-timeout", "1") as srv, srv.connect() as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        resp = Reader(s).response(timeout=5)
        assert resp.status == 408


def test_body_timeout_while_the_app_reads():
    with Server("--builtin", "test", "--body-timeout", "1", "--body-buffer-size", "1k") as srv:
        with srv.connect() as s:
            s.sendall(b"POST /read HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" +
                      b"x" * 5000)
            r = Reader(s)
            resp = r.response(timeout=5)
            assert resp.status == 408
            assert r.closed()


def test_keepalive_idle_timeout():
    with Server("--builtin", "echo", "--keep-alive", "1") as srv, srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        assert r.response().status == 200
        t0 = time.monotonic()
        assert r.closed(timeout=5)
        assert 0.9 < time.monotonic() - t0 < 3 * SLOW


def test_keepalive_zero_disables_keep_alive():
    with Server("--builtin", "echo", "--keep-alive", "0") as srv, srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        assert r.response().header("Connection") == "close"
        assert r.closed()


def test_default_keepalive_outlasts_load_balancer_idle_timeouts(shared_echo):
    out = __import__("srvtest").run_srv("--print-config", "--builtin", "echo")
    value = int([l for l in out.stdout.splitlines() if l.startswith("keepalive = ")][0]
                .split("=")[1].split(";")[0])
    assert value > 60, "above AWS ALB's and nginx's 60 s"
    with shared_echo.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        r.response()
        time.sleep(2)
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert r.response().status == 200


def test_write_timeout_on_a_client_that_never_reads():
    with Server("--builtin", "test", "--write-timeout", "1", "--log-level", "debug") as srv:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect((srv.host, srv.port))
        with s:
            s.sendall(b"GET /big?n=100000000 HTTP/1.1\r\nHost: a\r\n\r\n")
            srv.wait_for_line("write timeout", timeout=10)
        # The worker is fine afterwards.
        assert get(srv, "/ok").status == 200


def test_slow_head_does_not_take_an_app_thread():
    """With one app thread, a client trickling its head (and one trickling
    a small body) does not delay anybody else."""
    with Server("--builtin", "test", "--threads", "1") as srv:
        stop = threading.Event()

        def trickle(data):
            with srv.connect() as s:
                for b in data:
                    if stop.is_set():
                        return
                    s.send(bytes([b]))
                    time.sleep(0.1)

        heads = threading.Thread(target=trickle, args=(b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"y" * 50,))
        body = threading.Thread(target=trickle, args=(
            b"POST /read HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n" + b"z" * 100,))
        heads.start()
        body.start()
        try:
            time.sleep(1.0)  # both are mid-request now
            for _ in range(10):
                t0 = time.monotonic()
                assert get(srv, "/sleep?ms=1").status == 200
                assert time.monotonic() - t0 < 0.5 * SLOW
        finally:
            stop.set()
            heads.join(10)
            body.join(10)


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= n


def test_1000_slow_clients_do_not_slow_down_others():
    if not raise_nofile(2500):
        pytest.skip("cannot raise the open-file limit")
    with Server("--builtin", "echo", "--worker-connections", "2000",
                "--header-timeout", "60") as srv:
        sel = selectors.DefaultSelector()
        socks = []
        try:
            for _ in range(1000):
                s = socket.create_connection((srv.host, srv.port), timeout=5)
                s.setblocking(False)
                socks.append(s)
            head = b"GET /slow HTTP/1.1\r\nHost: a\r\nX-Padding: " + b"p" * 40
            stop = threading.Event()

            def drip():
                i = 0
                while not stop.is_set() and i < len(head):
                    for s in socks:
                        try:
                            s.send(head[i:i + 1])
                        except BlockingIOError:
                            pass
                    i += 1
                    time.sleep(0.1)

            t = threading.Thread(target=drip)
            t.start()
            try:
                time.sleep(0.5)
                worst = 0.0
                for _ in range(50):
                    t0 = time.monotonic()
                    assert get(srv, "/fast").status == 200
                    worst = max(worst, time.monotonic() - t0)
                assert worst < 0.5 * SLOW, "a request took %.3fs" % worst
            finally:
                stop.set()
                t.join(10)
        finally:
            for s in socks:
                s.close()
            sel.close()


def test_1000_concurrent_keep_alive_connections():
    if not raise_nofile(2500):
        pytest.skip("cannot raise the open-file limit")
    with Server("--builtin", "echo", "--worker-connections", "2000") as srv:
        socks = [socket.create_connection((srv.host, srv.port), timeout=10) for _ in range(1000)]
        try:
            for rnd in range(2):
                for i, s in enumerate(socks):
                    s.sendall(b"GET /c%d HTTP/1.1\r\nHost: a\r\n\r\n" % i)
                for i, s in enumerate(socks):
                    resp = Reader(s).response(timeout=30)
                    assert resp.status == 200
                    assert resp.json()["path"] == "/c%d" % i
        finally:
            for s in socks:
                s.close()


def test_over_worker_connections_gets_503():
    with Server("--builtin", "echo", "--worker-connections", "2") as srv:
        a, b = srv.connect(), srv.connect()
        try:
            a.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            assert Reader(a).response().status == 200
            with srv.connect() as c:
                c.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                r = Reader(c)
                resp = r.response()
                assert resp.status == 503
                assert resp.header("Connection") == "close"
                assert r.closed()
        finally:
            a.close()
            b.close()
        # Once the server has seen them go, new clients are served again.
        assert wait_until(
            lambda: request(srv, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").status == 200, timeout=5)
