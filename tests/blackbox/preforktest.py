"""Prefork (srv running tests/blackbox/apps/prefork_app.py with its
workers) and Load (clients that count every failed request), for the
prefork tests (test_60_prefork.py, test_61_prefork_deploy.py)."""
import os
import threading

from srvtest import SLOW, Reader, Server, get, wait_until

APPS = os.path.join(os.path.dirname(__file__), "apps")


class Prefork(Server):
    def __init__(self, *args, workers=2, app="prefork_app:app", chdir=APPS, **kw):
        super().__init__("--chdir", chdir, app, *args, workers=workers, **kw)

    def who(self, path="/"):
        """The JSON answer of prefork_app: which process served path."""
        r = get(self, path)
        assert r.status == 200, r
        return r.json()

    def wait_workers(self, n, exclude=(), timeout=20):
        """Waits until exactly n workers run, none of them in exclude."""
        def ok():
            pids = self.worker_pids()
            return pids if len(pids) == n and not set(pids) & set(exclude) else None
        pids = wait_until(ok, timeout=timeout)
        assert pids, "want %d workers (not %s), have %s\n%s" % (
            n, exclude, self.worker_pids(), self.log())
        return pids

    def wait_serving(self, n, timeout=20):
        """Waits until n workers run and every one has said it serves."""
        pids = self.wait_workers(n, timeout=timeout)
        for p in pids:
            self.wait_for_line(r"Worker %d ready \(booted in " % p, timeout=timeout)
        return pids


class Load:
    """Clients in threads sending GET / on keep-alive connections, with a
    new connection every few requests, until stopped. Every request must
    get a 200: a connection refused, reset or closed without an answer is
    an error (a client that retried would hide exactly what is tested)."""

    def __init__(self, server, clients=8, per_conn=20, path="/", body=None):
        """body: the exact body every answer must have (a file), else
        prefork_app's JSON, whose pid is noted."""
        self.server, self.per_conn, self.path, self.body = server, per_conn, path, body
        self.ok = 0
        self.errors = []
        self.pids = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, daemon=True)
                         for _ in range(clients)]

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30 * SLOW)

    def _client(self):
        raw = ("GET %s HTTP/1.1\r\nHost: load\r\n\r\n" % self.path).encode()
        while not self._stop.is_set():
            try:
                with self.server.connect() as s:
                    rd = Reader(s)
                    for _ in range(self.per_conn):
                        if self._stop.is_set():
                            break
                        s.sendall(raw)
                        r = rd.response(timeout=20)
                        with self._lock:
                            if r.status != 200:
                                self.errors.append("status %d" % r.status)
                            elif self.body is not None and r.body != self.body:
                                self.errors.append("body %r" % r.body[:60])
                            else:
                                self.ok += 1
                                if self.body is None:
                                    self.pids.add(r.json()["pid"])
                        if r.header("Connection", "").lower() == "close":
                            break
            except Exception as e:  # noqa: BLE001 - every failure counts
                with self._lock:
                    self.errors.append(repr(e))

    def wait_ok(self, n, timeout=20):
        assert wait_until(lambda: self.ok >= n, timeout=timeout), (self.ok, self.errors)


def workers_exec(pid):
    """Whether the workers exec python3 (hosted builds) rather than being
    forks of the srv executable."""
    return "python" in os.path.basename(os.readlink("/proc/%d/exe" % pid))
