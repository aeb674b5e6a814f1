"""Counting instructions with valgrind's callgrind: srv under it, requests
sent to it, and the counts read back (bench/handler-instructions,
bench/serving-instructions). A count does not move with the load of a
shared machine, as times do."""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from benchlib.servers import free_port


def connect(port, proc, timeout=180.0):
    """Connects once srv answers (it starts slowly under valgrind)."""
    end = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError("srv exited with status %s" % proc.returncode)
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=120)
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.3)


def send(sock, port, n, path="/", headers=""):
    """Sends n requests for path one after another on sock, reading each
    whole response (a 200 with a Content-Length)."""
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n" % (path, port, headers)).encode()
    buf = b""
    for _ in range(n):
        sock.sendall(req)
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                length = 0
                for line in buf[:end].split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if len(buf) >= end + 4 + length:
                    if not buf.startswith(b"HTTP/1.1 200"):
                        raise RuntimeError("unexpected response: %r" % buf[:80])
                    buf = buf[end + 4 + length:]
                    break
            data = sock.recv(65536)
            if not data:
                raise RuntimeError("srv closed the connection")
            buf += data


def totals(out_dir):
    """{pid: instructions} of the callgrind.out.PID files in out_dir."""
    found = {}
    for path in glob.glob(os.path.join(out_dir, "callgrind.out.*")):
        with open(path) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    pid = int(path.rsplit(".", 1)[1])
                    found[pid] = max(found.get(pid, 0), int(line.split()[1]))
                    break
    return found


def run_srv(srv_argv, rounds, valgrind_args=()):
    """Runs srv_argv (with "{port}" in it) under callgrind, following its
    children, and calls rounds(port, proc) once it listens; returns the
    counts of each process (totals)."""
    port = free_port()
    out = tempfile.mkdtemp(prefix="srv-callgrind-")
    argv = [a.replace("{port}", str(port)) for a in srv_argv]
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--trace-children=yes"]
                            + list(valgrind_args) + argv,
                            cwd=out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rounds(port, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        counts = totals(out)
        shutil.rmtree(out, ignore_errors=True)
    return counts


def send_on(port, proc, n, conns, path):
    """n requests for path over conns connections at once (n // conns on
    each, the rest on the first)."""
    errors = []

    def one(k):
        try:
            with connect(port, proc) as sock:
                send(sock, port, k, path)
        except Exception as e:  # noqa: BLE001 - raised below, in the caller's thread
            errors.append(e)

    threads = [threading.Thread(target=one, args=(n // conns + (n % conns if i == 0 else 0),))
               for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=3600)
    if errors:
        raise errors[0]
