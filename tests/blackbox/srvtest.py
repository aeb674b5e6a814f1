"""Helpers for srv's black-box tests: start the real binary, talk raw HTTP.

Every server is started on 127.0.0.1 port 0; the bound port is read from the
startup line ("Listening at http://127.0.0.1:PORT (pid N, ...)"), and the
server is stopped by its PID. Every wait here is bounded in time.
"""
import json
import os
import re
import select
import signal
import socket
import subprocess
import threading
import time

SRV_BIN = os.environ.get(
    "SRV_BIN",
    os.path.join(os.path.dirname(__file__), "..", "..", "build", "service", "srv"))
# Set when srv was built with a sanitizer: memory figures mean nothing then
# (ASan keeps freed memory in quarantine on purpose).
SANITIZED = os.environ.get("SRV_TEST_SANITIZER", "")

# A command that runs the binary, e.g. "wine" for srv.exe.
WRAPPER = os.environ.get("SRV_WRAPPER", "").split()
# Under emulation (wine) everything is slower; tests scale their waits by it.
SLOW = float(os.environ.get("SRV_TEST_SLOWDOWN", "1"))

# What a sanitizer prints when it finds something; any of these in a
# server's stderr fails the test, even if the HTTP side looked fine.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer")

LISTEN_RE = re.compile(r"Listening at (http://(\S+):(\d+)|unix:(\S+)) \(pid (\d+)")


def clean_env(env=None):
    """The caller's environment without what srv reads as settings (SRV_*,
    PORT, WEB_CONCURRENCY), plus env."""
    full_env = {k: v for k, v in os.environ.items()
                if not (k.startswith("SRV_") or k in ("PORT", "WEB_CONCURRENCY"))
                or k in ("SRV_BIN", "SRV_WRAPPER")}
    full_env.update(env or {})
    return full_env


class Server:
    """A running srv process."""

    def __init__(self, *args, env=None, wait=True, cwd=None, bind=True, allow_thread_leak=False,
                 workers=1, prefix=(), popen_kw=None):
        self.allow_thread_leak = allow_thread_leak
        # One worker unless the test asks for more (workers=None: srv
        # decides): per-process state (the echo app's counter, RSS) then has
        # one place to look.
        self.args = (WRAPPER + list(prefix) + [SRV_BIN] + (["-w", str(workers)] if workers else [])
                     + (["-b", "127.0.0.1:0"] if bind else []) + list(args))
        full_env = clean_env(env)
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=full_env, cwd=cwd, **(popen_kw or {}))
        self.lines = []
        self.stdout_lines = []
        self._cond = threading.Condition()
        self._readers = [
            threading.Thread(target=self._drain, args=(self.proc.stderr, self.lines), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stdout, self.stdout_lines),
                             daemon=True),
        ]
        for t in self._readers:
            t.start()
        self.port = None
        self.host = "127.0.0.1"
        self.unix_path = None
        if wait:
            self.wait_ready()

    def _drain(self, stream, into):
        for raw in iter(stream.readline, b""):
            with self._cond:
                into.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for_line(self, pattern, timeout=10, stream="stderr"):
        """Waits for a log line matching pattern; returns the match."""
        rx = re.compile(pattern)
        lines = self.lines if stream == "stderr" else self.stdout_lines
        deadline = time.monotonic() + timeout * SLOW
        with self._cond:
            seen = 0
            while True:
                for line in lines[seen:]:
                    m = rx.search(line)
                    if m:
                        return m
                seen = len(lines)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no log line matching %r in:\n%s"
                                         % (pattern, "\n".join(lines)))
                self._cond.wait(min(left, 0.2))

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            with self._cond:
                for line in self.lines:
                    m = LISTEN_RE.search(line)
                    if m:
                        if m.group(3):
                            self.host, self.port = m.group(2), int(m.group(3))
                        else:
                            self.unix_path = m.group(4)
                        return
                if self.proc.poll() is not None:
                    break
                self._cond.wait(0.1)
        self.stop()
        raise AssertionError("srv did not start: %s\n%s" % (self.args, "\n".join(self.lines)))

    @property
    def pid(self):
        return self.proc.pid

    def worker_pids(self):
        """The pids of the master's children (its workers)."""
        try:
            with open("/proc/%d/task/%d/children" % (self.pid, self.pid)) as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def worker_pid(self, timeout=10):
        """The only worker's pid, once it serves."""
        pids = wait_until(lambda: self.worker_pids(), timeout=timeout)
        assert len(pids) == 1, pids
        return pids[0]

    def log(self):
        with self._cond:
            return "\n".join(self.lines)

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=10):
        rc = self.proc.wait(timeout=timeout * SLOW)
        # The last lines may still be on their way through the pipes: the
        # readers end when the pipes do.
        for t in self._readers:
            t.join(timeout=5)
        return rc

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for t in self._readers:
            t.join(timeout=5)
        check_sanitizers(self.lines, self.allow_thread_leak)
        return self.proc.returncode

    def connect(self, timeout=5):
        if self.unix_path:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout * SLOW)
            s.connect(self.unix_path)
            return s
        s = socket.create_connection((self.host, self.port), timeout=timeout * SLOW)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def check_sanitizers(lines, allow_thread_leak=False):
    text = "\n".join(lines)
    if allow_thread_leak and "ThreadSanitizer: thread leak" in text:
        # One report, about a thread srv left running on purpose: drop it.
        lines = [l for l in lines if "thread leak" not in l and "reported 1 warnings" not in l]
    bad = [l for l in lines if any(m in l for m in SANITIZER_MARKS)]
    if bad:
        raise AssertionError("sanitizer report from srv:\n" + "\n".join(lines))


def run_srv(*args, env=None, timeout=10, input=None):
    """Runs srv to completion (for --help, --check-config, config errors)."""
    full_env = clean_env(env)
    out = subprocess.run(WRAPPER + [SRV_BIN] + list(args), capture_output=True, text=True,
                         env=full_env, timeout=timeout * SLOW, input=input)
    check_sanitizers(out.stderr.splitlines())
    return out


class Response:
    def __init__(self, status, reason, version, headers, body, raw):
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers  # list of (name, value), as received
        self.body = body
        self.raw = raw

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.raw[:200])


class ConnClosed(Exception):
    pass


class Reader:
    """Reads HTTP responses from a socket, keeping what it read ahead."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False
        self.taken = []  # the bytes of the response being read

    def _fill(self, deadline):
        if self.eof:
            raise ConnClosed()
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("response timed out")
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            raise socket.timeout("response timed out")
        try:
            data = self.sock.recv(1 << 20)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            raise ConnClosed()
        self.buf += data

    def _line(self, deadline):
        while b"\r\n" not in self.buf:
            self._fill(deadline)
        line, self.buf = self.buf.split(b"\r\n", 1)
        self.taken.append(line + b"\r\n")
        return line

    def _take(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        data, self.buf = self.buf[:n], self.buf[n:]
        self.taken.append(data)
        return data

    def response(self, head=False, timeout=5):
        """Reads one response; head=True for a response to HEAD."""
        deadline = time.monotonic() + timeout * SLOW
        self.taken = []
        while True:
            status_line = self._line(deadline)
            version, status, reason = (status_line.decode("latin-1").split(" ", 2) + [""])[:3]
            status = int(status)
            headers = []
            while True:
                line = self._line(deadline)
                if not line:
                    break
                k, v = line.decode("latin-1").split(":", 1)
                headers.append((k, v.strip()))
            if 100 <= status < 200:
                continue  # 100 Continue: the final response follows
            break
        resp = Response(status, reason, version, headers, b"", b"")
        te = resp.header("Transfer-Encoding")
        cl = resp.header("Content-Length")
        if head or status in (204, 304):
            body = b""
        elif te is not None:
            assert te.lower() == "chunked", te
            body = b""
            while True:
                size = int(self._line(deadline).split(b";")[0], 16)
                if size == 0:
                    while self._line(deadline):
                        pass
                    break
                body += self._take(size, deadline)
                assert self._take(2, deadline) == b"\r\n"
        elif cl is not None:
            body = self._take(int(cl), deadline)
        else:
            body, self.buf = self.buf, b""
            try:
                while True:
                    self._fill(deadline)
                    body += self.buf
                    self.buf = b""
            except ConnClosed:
                pass
            self.taken.append(body)
        resp.body = body
        resp.raw = b"".join(self.taken)
        return resp

    def closed(self, timeout=5):
        """True once the server closed the connection (no more bytes)."""
        deadline = time.monotonic() + timeout * SLOW
        try:
            while True:
                self._fill(deadline)
        except ConnClosed:
            return True
        except socket.timeout:
            return False


def request(server, raw, head=False, timeout=5):
    """Sends raw bytes on a new connection and reads one response."""
    with server.connect() as s:
        s.sendall(raw)
        return Reader(s).response(head=head, timeout=timeout)


def get(server, path="/", headers=(), method="GET", body=None, version="1.1"):
    lines = ["%s %s HTTP/%s" % (method, path, version), "Host: test"]
    lines += ["%s: %s" % h for h in headers]
    if body is not None:
        lines.append("Content-Length: %d" % len(body))
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
    return request(server, raw, head=(method == "HEAD"))


def seq(server):
    """The echo app's request counter, read with a fresh request."""
    return get(server, "/seq").json()["seq"]


def rss_kb(pid):
    """Resident memory of process pid, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


class FrozenThread:
    """Stops one thread of another process, and only that one, for the
    with block (Linux: PTRACE_SEIZE then PTRACE_INTERRUPT; the tracer must
    be allowed to trace it, as root or its ancestor is)."""
    SEIZE, INTERRUPT, DETACH, WALL = 0x4206, 0x4207, 17, 0x40000000
    OPTIONS = 0  # PTRACE_O_* given to PTRACE_SEIZE

    def __init__(self, tid):
        import ctypes
        self.tid = tid
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                                     ctypes.c_void_p]
        self.get_errno = ctypes.get_errno

    def __enter__(self):
        if self.libc.ptrace(self.SEIZE, self.tid, None, self.OPTIONS) != 0:
            raise OSError(self.get_errno(), "PTRACE_SEIZE of thread %d" % self.tid)
        self.libc.ptrace(self.INTERRUPT, self.tid, None, None)
        self._wait(5)  # until it has stopped
        return self

    def __exit__(self, *exc):
        self.libc.ptrace(self.DETACH, self.tid, None, None)

    def _wait(self, timeout):
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.tid, self.WALL | os.WNOHANG)
            if pid == self.tid:
                return status
            time.sleep(0.001)
        raise TimeoutError("thread %d did not stop within %s s" % (self.tid, timeout))


class SyscallTrap(FrozenThread):
    """Lets one thread of another process run until it enters a given
    system call, and holds it there, about to make it, for the with block
    (PTRACE_SYSCALL; x86-64 registers). It goes on when the block ends."""
    SYSCALL, GETREGS, ENOSYS = 24, 12, 38
    OPTIONS = 1  # PTRACE_O_TRACESYSGOOD: system call stops say so

    def run_until_entry(self, nr, timeout=10):
        """Resumes the thread and stops it on entry to system call nr;
        every other stop lets it go on (a signal it was to get, it gets)."""
        import ctypes
        regs = (ctypes.c_ulong * 27)()
        deadline = time.monotonic() + timeout * SLOW
        sig = 0
        while time.monotonic() < deadline:
            self.libc.ptrace(self.SYSCALL, self.tid, None, sig)
            status = self._wait(max(0.1, deadline - time.monotonic()) / SLOW)
            if not os.WIFSTOPPED(status):
                raise RuntimeError("thread %d ended (status %#x)" % (self.tid, status))
            stop = os.WSTOPSIG(status)
            sig = 0 if stop in (0x80 | signal.SIGTRAP, signal.SIGTRAP) or status >> 16 else stop
            if stop != 0x80 | signal.SIGTRAP:
                continue
            if self.libc.ptrace(self.GETREGS, self.tid, None, ctypes.byref(regs)) != 0:
                raise OSError(self.get_errno(), "PTRACE_GETREGS")
            # orig_rax is the call's number; rax is -ENOSYS only on entry
            if regs[15] == nr and ctypes.c_long(regs[10]).value == -self.ENOSYS:
                return
        raise TimeoutError("thread %d made no system call %d within %s s" % (self.tid, nr, timeout))


def wait_until(fn, timeout=10, interval=0.05):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(interval)
    return fn()
