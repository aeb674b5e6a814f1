"""Starting, stopping, configuration, logs and listening addresses."""
import os
import re
import signal
import socket
import threading
import time

import pytest

from srvtest import SLOW, SRV_BIN, WRAPPER, Reader, Server, get, request, run_srv, wait_until


# ---- startup and stop ----

def test_startup_line_names_address_pid_workers_threads():
    with Server("--builtin", "hello", "--threads", "3") as srv:
        m = srv.wait_for_line(r"\[INFO\] Listening at http://127\.0\.0\.1:(\d+) "
                              r"\(pid (\d+), workers 1, threads 3\)")
        assert int(m.group(1)) == srv.port
        assert int(m.group(2)) == srv.pid
        r = get(srv)
        assert r.body == b"Hello, World!"
        assert r.header("Content-Type") == "text/plain"


def test_sigterm_finishes_in_flight_requests():
    with Server("--builtin", "test") as srv:
        results = []

        def slow():
            results.append(get(srv, "/sleep?ms=1500"))

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.4)
        srv.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # Stopping: no new connections are accepted.
        with pytest.raises(OSError):
            socket.create_connection((srv.host, srv.port), timeout=1).recv(1)
        t.join(10)
        assert results and results[0].status == 200
        assert results[0].body == b"slept\n"
        assert results[0].header("Connection") == "close"
        assert srv.wait() == 0
        assert "Shutdown complete" in srv.log()


def test_sigterm_closes_idle_keep_alive_connections_at_once():
    with Server("--builtin", "echo") as srv, srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        r.response()
        t0 = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        assert r.closed(timeout=5)
        assert srv.wait() == 0
        assert time.monotonic() - t0 < 2 * SLOW


def test_graceful_timeout_bounds_the_stop():
    # The app thread sleeps on past the stop; srv exits without it, which
    # ThreadSanitizer reports as a thread leak.
    with Server("--builtin", "test", "--graceful-timeout", "1", allow_thread_leak=True) as srv:
        with srv.connect() as s:
            s.sendall(b"GET /sleep?ms=20000 HTTP/1.1\r\nHost: a\r\n\r\n")
            time.sleep(0.3)
            t0 = time.monotonic()
            srv.send_signal(signal.SIGTERM)
            assert Reader(s).closed(timeout=10), "the stuck request's connection is closed"
            srv.wait(timeout=15)
            assert time.monotonic() - t0 < 8 * SLOW
        assert "Graceful timeout" in srv.log()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGQUIT])
def test_int_and_quit_stop_at_once(sig):
    with Server("--builtin", "test") as srv:
        with srv.connect() as s:
            s.sendall(b"GET /sleep?ms=3000 HTTP/1.1\r\nHost: a\r\n\r\n")
            time.sleep(0.3)
            t0 = time.monotonic()
            srv.send_signal(sig)
            assert Reader(s).closed(timeout=5)
            assert time.monotonic() - t0 < 2 * SLOW


# ---- configuration ----

def test_help_lists_every_setting():
    out = run_srv("--help")
    assert out.returncode == 0
    for flag in ["-b, --bind", "-w, --workers", "--threads", "--backlog", "-t, --timeout",
                 "--graceful-timeout", "--keep-alive", "--limit-request-line",
                 "--limit-request-fields", "--limit-request-field-size", "--access-logfile",
                 "--access-logformat", "--error-logfile", "--log-level", "--builtin"]:
        assert flag in out.stdout, flag


def test_version():
    out = run_srv("--version")
    assert out.returncode == 0
    assert re.match(r"srv \d+\.\d+\.\d+ \(libuv \d+\.\d+\.\d+\)", out.stdout)


def test_print_config_shows_values_and_sources(tmp_path):
    ini = tmp_path / "srv.ini"
    ini.write_text("[srv]\nthreads = 6\n\nbacklog = 77\n")
    out = run_srv("-c", str(ini), "--workers", "3", "--print-config",
                  env={"SRV_BACKLOG": "99", "SRV_KEEPALIVE": "9"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "threads = 6  ; %s:2" % ini in lines
    assert "backlog = 99  ; environment SRV_BACKLOG" in lines
    assert "keepalive = 9  ; environment SRV_KEEPALIVE" in lines
    assert "workers = 3  ; command line --workers" in lines
    assert "graceful_timeout = 30  ; default" in lines


def test_print_config_gives_each_env_item_its_line(tmp_path):
    """raw_env values may hold commas: printed as one list they would read
    back as other variables."""
    ini = tmp_path / "srv.ini"
    ini.write_text("[srv]\nraw_env = ALLOWED_HOSTS=a,b\nraw_env = MODE=dev\n")
    out = run_srv("-c", str(ini), "--print-config")
    assert out.returncode == 0, out.stderr
    lines = [l for l in out.stdout.splitlines() if l.startswith("raw_env")]
    assert lines == ["raw_env = ALLOWED_HOSTS=a,b  ; %s:3" % ini,
                     "raw_env = MODE=dev  ; %s:3" % ini], lines
    ini.write_text("[srv]\n" + "".join(l.split("  ;")[0] + "\n" for l in lines))
    again = run_srv("-c", str(ini), "--print-config")
    assert [l.split("  ;")[0] for l in again.stdout.splitlines()
            if l.startswith("raw_env")] == [l.split("  ;")[0] for l in lines]


def test_port_in_the_environment_is_the_default_bind(tmp_path):
    """As gunicorn, for platforms that hand the port over in $PORT: it
    binds every interface on it, unless a bind is set anywhere."""
    out = run_srv("--print-config", "--builtin", "echo", env={"PORT": "8123"})
    assert "bind = 0.0.0.0:8123  ; default" in out.stdout.splitlines(), out.stdout
    ini = tmp_path / "srv.ini"
    ini.write_text("[srv]\nbind = 127.0.0.1:9999\n")
    out = run_srv("-c", str(ini), "--print-config", "--builtin", "echo", env={"PORT": "8123"})
    assert "bind = 127.0.0.1:9999  ; %s:2" % ini in out.stdout.splitlines(), out.stdout
    out = run_srv("--check-config", "--builtin", "echo", env={"PORT": "http"})
    assert out.returncode == 2
    assert "environment PORT: 'http' is not a port" in out.stderr


def test_check_config_ok(tmp_path):
    ini = tmp_path / "srv.ini"
    ini.write_text("[srv]\nbind = 127.0.0.1:9999\nworkers = 2\n")
    out = run_srv("--check-config", str(ini))
    assert out.returncode == 0
    assert "configuration OK" in out.stdout


@pytest.mark.parametrize("ini,message", [
    ("[srv]\nworkers = 2\nwokers = 3\n", r"srv\.ini:3: unknown key 'wokers' \(did you mean 'workers'\?\)"),
    ("[srv]\nthreads = lots\n", r"srv\.ini:2: threads = 'lots': not an integer \(allowed: integers 1\.\.1024\)"),
    ("[srv]\nloglevel = loud\n", r"srv\.ini:2: loglevel = 'loud': not one of the choices \(allowed: debug, info"),
    ("[srv]\nbind = ::1:80\n", r"srv\.ini:2: bind = '::1:80': .*brackets"),
    ("[srv]\nlimit_request_head = 12parsecs\n", r"srv\.ini:2: limit_request_head = '12parsecs': not a size"),
    ("[srv]\nraw_env = DEBUG\n", r"srv\.ini:2: raw_env = 'DEBUG': not NAME=VALUE \(allowed: NAME=VALUE"),
    ("[gunicorn]\nworkers = 2\n", r"srv\.ini:2: unknown section \[gunicorn\]"),
    ("[srv]\nworkers\n", r"srv\.ini:2: syntax error"),
])
def test_bad_config_file_is_named_and_nothing_starts(tmp_path, ini, message):
    path = tmp_path / "srv.ini"
    path.write_text(ini)
    out = run_srv("-c", str(path), "--builtin", "hello", "-b", "127.0.0.1:0")
    assert out.returncode == 2
    assert re.search(message, out.stderr), out.stderr
    assert "Listening" not in out.stderr


def test_reload_and_preload_together_are_refused(tmp_path):
    path = tmp_path / "srv.ini"
    path.write_text("[srv]\nreload = true\npreload = true\n")
    out = run_srv("--check-config", str(path))
    assert out.returncode == 2
    assert "reload (%s:2) and preload (%s:3) are both on" % (path, path) in out.stderr, out.stderr


@pytest.mark.skipif(bool(WRAPPER), reason="srv on Windows refuses reload")
def test_reload_with_a_builtin_app_says_it_watches_nothing():
    """A built-in app has no source files: srv says that reload does
    nothing, rather than leave the user waiting for reloads."""
    with Server("--reload", "--builtin", "hello") as srv:
        srv.wait_for_line(r"\[WARNING\] reload is ignored: the built-in app 'hello' has no "
                          r"source files to watch")
        assert get(srv).body == b"Hello, World!"


@pytest.mark.skipif(not WRAPPER, reason="srv on Windows is one process")
def test_reload_is_refused_on_windows():
    out = run_srv("--reload", "--builtin", "hello", "-b", "127.0.0.1:0")
    assert out.returncode == 2, out
    assert "reload is not available on Windows" in out.stderr
    assert "Listening" not in out.stderr


def test_a_gunicorn_python_config_gets_a_hint(tmp_path):
    text = 'workers = 3\nbind = "0.0.0.0:8000"\n'
    py, ini = tmp_path / "gunicorn.conf.py", tmp_path / "srv.ini"
    py.write_text(text)
    ini.write_text(text)
    out = run_srv("--check-config", str(py))
    assert out.returncode == 2
    assert "%s:2: bind = '\"0.0.0.0:8000\"'" % py in out.stderr, out.stderr
    assert "srv reads INI files, not Python: a [srv] section" in out.stderr, out.stderr
    out = run_srv("--check-config", str(ini))
    assert out.returncode == 2 and "%s:2: bind" % ini in out.stderr, out.stderr
    assert "not Python" not in out.stderr


def test_check_config_fails_the_same_way(tmp_path):
    path = tmp_path / "srv.ini"
    path.write_text("[srv]\nthreads = 0\n")
    out = run_srv("--check-config", str(path))
    assert out.returncode == 2
    assert "threads = '0': out of range" in out.stderr


def test_missing_config_file():
    out = run_srv("-c", "/nonexistent/srv.ini", "--builtin", "hello")
    assert out.returncode == 2
    assert "cannot open config file '/nonexistent/srv.ini'" in out.stderr


def test_bad_command_line_and_environment():
    out = run_srv("--builtin", "hello", "--threads", "x")
    assert out.returncode == 2
    assert "command line --threads: threads = 'x': not an integer" in out.stderr
    out = run_srv("--builtin", "hello", env={"SRV_BACKLOG": "-5"})
    assert out.returncode == 2
    assert "environment SRV_BACKLOG: backlog = '-5'" in out.stderr
    out = run_srv("--nope")
    assert out.returncode == 2 and "unknown option '--nope'" in out.stderr
    out = run_srv()
    assert out.returncode == 2 and "no app to serve" in out.stderr


def test_cli_beats_environment_beats_file(tmp_path):
    ini = tmp_path / "srv.ini"
    ini.write_text("[srv]\nthreads = 2\n")
    with Server("-c", str(ini), "--builtin", "hello", env={"SRV_THREADS": "3"}) as srv:
        srv.wait_for_line(r"threads 3\)")
    with Server("-c", str(ini), "--builtin", "hello", "--threads", "5",
                env={"SRV_THREADS": "3"}) as srv:
        srv.wait_for_line(r"threads 5\)")


def test_port_in_use_is_a_clear_error():
    with Server("--builtin", "hello") as srv:
        out = run_srv("--builtin", "hello", "-b", "127.0.0.1:%d" % srv.port)
        assert out.returncode == 1
        assert "cannot listen on 127.0.0.1:%d: Address already in use" % srv.port in out.stderr


# ---- logs ----

def test_access_log_in_gunicorn_format(tmp_path):
    log = tmp_path / "access.log"
    with Server("--builtin", "echo", "--access-logfile", str(log)) as srv:
        get(srv, "/a?b=1", headers=[("User-Agent", "tester/1.0"), ("Referer", "http://r/")])
        srv.stop()
    line = log.read_text().strip()
    assert re.match(r'127\.0\.0\.1 - - \[\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d \+0000\] '
                    r'"GET /a\?b=1 HTTP/1\.1" 200 \d+ "http://r/" "tester/1\.0"$', line), line


def test_access_log_custom_format_to_stdout():
    with Server("--builtin", "test", "--access-logfile", "-", "--access-logformat",
                "%(m)s %(U)s %(s)s %(B)s %({X-Req}i)s %({Content-Type}o)s %(D)s") as srv:
        get(srv, "/status?code=404", headers=[("X-Req", "r1")])
        m = srv.wait_for_line(r"^GET /status 404 12 r1 - (\d+)$", stream="stdout")
        get(srv, "/sleep?ms=1")
        srv.wait_for_line(r"^GET /sleep 200 6 - text/plain \d+$", stream="stdout")


def test_access_log_is_off_by_default():
    with Server("--builtin", "echo") as srv:
        get(srv, "/quiet")
        srv.stop()
        assert not srv.stdout_lines
        assert "/quiet" not in srv.log()


def test_error_log_file_and_level(tmp_path):
    log = tmp_path / "error.log"
    with Server("--builtin", "hello", "--error-logfile", str(log), wait=False) as srv:
        deadline = time.monotonic() + 10
        while "Listening at" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    text = log.read_text()
    assert re.search(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000\] \[\d+\] \[INFO\] Listening at",
                     text, re.M)
    assert "Shutdown complete" in text


def test_pid_file(tmp_path):
    pidfile = tmp_path / "srv.pid"
    srv = Server("--builtin", "hello", "--pid", str(pidfile))
    try:
        assert int(pidfile.read_text()) == srv.pid
    finally:
        rc = srv.stop()
    assert rc == 0, srv.log()
    assert not pidfile.exists(), srv.log()


# ---- listening addresses ----

def test_unix_socket(tmp_path):
    path = str(tmp_path / "srv.sock")
    with Server("--builtin", "echo", "-b", "unix:" + path, "--forwarded-allow-ips", "",
                bind=False) as srv:
        assert srv.unix_path == path
        j = request(srv, b"GET /u HTTP/1.1\r\nHost: a\r\n\r\n").json()
        assert j["path"] == "/u"
        assert j["remote_addr"] == ""
        # A unix socket's peer is a local proxy: trusted as gunicorn does,
        # whatever forwarded_allow_ips says.
        j = request(srv, b"GET /u HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: https\r\n\r\n").json()
        assert j["scheme"] == "https"


def test_ipv6_loopback():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    with Server("--builtin", "echo", "-b", "[::1]:0", bind=False) as srv:
        m = srv.wait_for_line(r"Listening at http://\[::1\]:(\d+)")
        with socket.create_connection(("::1", int(m.group(1))), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n")
            assert Reader(s).response().json()["remote_addr"] == "::1"
            # ::1 is in the default forwarded_allow_ips
            s.sendall(b"GET / HTTP/1.1\r\nHost: [::1]\r\nX-Forwarded-Proto: https\r\n\r\n")
            assert Reader(s).response().json()["scheme"] == "https"


def test_an_ipv4_client_of_a_dual_stack_listener_is_matched_as_ipv4():
    """On [::], an IPv4 client's address is ::ffff:127.0.0.1; the range
    127.0.0.0/8 must still hold it, and ::/0 must not."""
    try:
        socket.socket(socket.AF_INET6).bind(("::", 0))
    except OSError:
        pytest.skip("no IPv6")
    for allow, want in (("127.0.0.0/8", "https"), ("::/0", "http")):
        with Server("--builtin", "echo", "-b", "[::]:0", "--forwarded-allow-ips", allow,
                    bind=False) as srv:
            port = int(srv.wait_for_line(r"Listening at http://\[::\]:(\d+)").group(1))
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: https\r\n\r\n")
                j = Reader(s).response().json()
            assert j["remote_addr"] in ("::ffff:127.0.0.1", "127.0.0.1"), j
            assert j["scheme"] == want, (allow, j)


def test_several_binds():
    with Server("--builtin", "hello", "-b", "127.0.0.1:0") as srv:
        def ports_logged():
            found = re.findall(r"Listening at http://127\.0\.0\.1:(\d+)", srv.log())
            return [int(p) for p in found] if len(found) >= 2 else None

        ports = wait_until(ports_logged)
        assert len(ports) == 2 and ports[0] != ports[1], srv.log()
        for p in ports:
            with socket.create_connection(("127.0.0.1", p), timeout=5) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                assert Reader(s).response().body == b"Hello, World!"
