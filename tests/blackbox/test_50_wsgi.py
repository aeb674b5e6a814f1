"""The WSGI bridge (PEP 3333), against the real binary and real apps: the
environ, wsgi.input, responses, errors and loading the app (how requests
run and responses leave: test_51_wsgi_flow.py).

Most test apps are wrapped in wsgiref.validate.validator; every server's
error log is checked for the validator's complaints when it stops.
"""
import hashlib
import os
import socket
import time

import pytest

from srvtest import SANITIZED, Reader, Server, get, request, rss_kb, run_srv, wait_until
from wsgitest import APPS, WsgiServer


@pytest.fixture(scope="module")
def wsgi():
    with WsgiServer(expect_log=("AssertionError",)) as s:
        yield s


def env(server, path="/environ", headers=(), **kw):
    return get(server, path, headers=headers, **kw).json()


# ---- environ ----

def test_environ_has_every_required_key(wsgi):
    e = env(wsgi, "/environ/x%20y?a=1&b=%2F", headers=[("X-Custom", "v"), ("Content-Type", "t/p")],
            method="POST", body=b"abc")
    assert e["REQUEST_METHOD"] == "POST"
    assert e["SCRIPT_NAME"] == ""
    assert e["PATH_INFO"] == "/environ/x y"
    assert e["QUERY_STRING"] == "a=1&b=%2F"
    assert e["RAW_URI"] == "/environ/x%20y?a=1&b=%2F"
    assert e["CONTENT_TYPE"] == "t/p"
    assert e["CONTENT_LENGTH"] == "3"
    assert "HTTP_CONTENT_TYPE" not in e and "HTTP_CONTENT_LENGTH" not in e
    assert e["SERVER_NAME"] == "test" and e["SERVER_PORT"] == "80"
    assert e["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert e["HTTP_HOST"] == "test"
    assert e["HTTP_X_CUSTOM"] == "v"
    assert e["REMOTE_ADDR"] == "127.0.0.1"
    assert int(e["REMOTE_PORT"]) > 0
    assert e["wsgi.version"] == [1, 0]
    assert e["wsgi.url_scheme"] == "http"
    assert e["wsgi.multithread"] is True
    assert e["wsgi.multiprocess"] is False
    assert e["wsgi.run_once"] is False
    assert e["wsgi.input_terminated"] is True
    assert e["has_file_wrapper"] is True


def test_url_scheme_from_a_trusted_proxy(wsgi):
    """Behind nginx (`proxy_set_header X-Forwarded-Proto $scheme`, from
    127.0.0.1, which forwarded_allow_ips trusts by default) the app builds
    https URLs; the header itself stays in the environ, as in gunicorn's."""
    e = env(wsgi, headers=[("X-Forwarded-Proto", "https")])
    assert e["wsgi.url_scheme"] == "https"
    assert e["HTTP_X_FORWARDED_PROTO"] == "https"
    assert env(wsgi, headers=[("X-Forwarded-Proto", "http")])["wsgi.url_scheme"] == "http"


def test_server_name_without_host_header(wsgi):
    e = request(wsgi, b"GET /environ HTTP/1.0\r\n\r\n").json()
    assert e["SERVER_NAME"] == "127.0.0.1"
    assert e["SERVER_PORT"] == str(wsgi.port)
    assert e["SERVER_PROTOCOL"] == "HTTP/1.0"
    assert "HTTP_HOST" not in e


def test_host_with_port_and_ipv6_literal(wsgi):
    assert env(wsgi, headers=())["SERVER_PORT"] == "80"
    e = request(wsgi, b"GET /environ HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n").json()
    assert (e["SERVER_NAME"], e["SERVER_PORT"]) == ("[::1]", "8443")


def test_underscore_headers_never_reach_environ(wsgi):
    e = env(wsgi, headers=[("X_Auth_User", "evil"), ("X-Auth-User", "good")])
    assert e["HTTP_X_AUTH_USER"] == "good"


def test_repeated_headers_are_joined(wsgi):
    e = env(wsgi, headers=[("Accept", "a"), ("Accept", "b"), ("Cookie", "x=1"), ("Cookie", "y=2")])
    assert e["HTTP_ACCEPT"] == "a,b"
    assert e["HTTP_COOKIE"] == "x=1; y=2"


def test_header_values_are_each_requests_own(wsgi):
    """srv keeps the last value of each header name to share it with the
    next request that repeats it: every request still sees its own."""
    long_name = "X-" + "Long" * 12  # longer than the names srv keeps
    sent = [("X-Thing", "a"), ("X-Thing", "b"), ("x-thing", "b"), ("X-THING", "a"),
            ("X-Thing", ""), ("X-Thing", "caf\xe9"), ("X-Thing", "ab"), ("X-Thing", "a")]
    with wsgi.connect() as c:
        r = Reader(c)
        for name, value in sent:
            c.sendall(b"GET /environ HTTP/1.1\r\nHost: h%d\r\n%s: %s\r\n%s: %s\r\n\r\n" % (
                len(value), name.encode(), value.encode("latin-1"), long_name.encode(),
                value.encode("latin-1")))
            e = r.response().json()
            assert e["HTTP_X_THING"] == value, (name, value, e["HTTP_X_THING"])
            assert e["HTTP_" + long_name.upper().replace("-", "_")] == value
            assert e["HTTP_HOST"] == "h%d" % len(value)


def test_credentials_are_not_kept_after_their_request(wsgi):
    """The values srv keeps for the next request stop at credentials: once
    the request is over, nothing but the app holds its Cookie or
    Authorization value (while a repeated header's value, here the
    User-Agent's, is still shared with the next request)."""
    with wsgi.connect() as c:
        r = Reader(c)
        c.sendall(b"GET /stash-headers HTTP/1.1\r\nHost: a\r\nUser-Agent: ua/1\r\n"
                  b"Cookie: session=s3cret\r\nAuthorization: Basic dXNlcjpwdw==\r\n"
                  b"Proxy-Authorization: Basic cHJveHk6cHc=\r\n\r\n")
        assert r.response().status == 200
        c.sendall(b"GET /stashed-refs HTTP/1.1\r\nHost: a\r\n\r\n")
        refs = r.response().json()
    assert refs["HTTP_USER_AGENT"] == 1, refs
    assert refs["HTTP_COOKIE"] == 0, refs
    assert refs["HTTP_AUTHORIZATION"] == 0, refs
    assert refs["HTTP_PROXY_AUTHORIZATION"] == 0, refs


def test_path_info_is_percent_decoded_latin1(wsgi):
    j = get(wsgi, "/unicode/caf%C3%A9/%2F/%zz").json()
    assert j["PATH_INFO"] == "/unicode/caf\u00c3\u00a9///%zz"
    assert j["utf8"] == "/unicode/caf\u00e9///%zz"


def test_raw_utf8_path(wsgi):
    j = request(wsgi, "GET /unicode/\u00fcber HTTP/1.1\r\nHost: a\r\n\r\n".encode()).json()
    assert j["utf8"] == "/unicode/\u00fcber"


def test_root_path_sets_script_name():
    with WsgiServer("--root-path", "/mnt") as s:
        e = get(s, "/mnt/environ").json()
        assert (e["SCRIPT_NAME"], e["PATH_INFO"]) == ("/mnt", "/environ")


def test_script_name_from_the_environment():
    with WsgiServer(env={"SCRIPT_NAME": "/app"}) as s:
        e = get(s, "/app/environ").json()
        assert (e["SCRIPT_NAME"], e["PATH_INFO"]) == ("/app", "/environ")


def test_multithread_false_with_one_thread():
    with WsgiServer("--threads", "1") as s:
        assert env(s)["wsgi.multithread"] is False


# ---- wsgi.input ----

BODY = b"line one\nline two\n\nlast line without newline"


@pytest.mark.parametrize("mode", ["read-n", "readline", "readline-limit", "readlines", "iter"])
@pytest.mark.parametrize("chunked", [False, True])
def test_input_modes(wsgi, mode, chunked):
    if chunked:
        raw = (b"POST /read?%s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" % mode.encode()
               + b"".join(b"%x\r\n%s\r\n" % (len(BODY[i:i + 7]), BODY[i:i + 7])
                          for i in range(0, len(BODY), 7)) + b"0\r\n\r\n")
    else:
        raw = (b"POST /read?%s HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n"
               % (mode.encode(), len(BODY)) + BODY)
    j = request(wsgi, raw).json()
    assert j["body"].encode("latin-1") == BODY
    if mode in ("readline", "readlines", "iter"):
        assert j["sizes"] == [9, 9, 1, 25]


def test_readline_on_a_body_without_newlines(wsgi):
    body = b"z" * 300000
    j = request(wsgi, b"POST /read?readline HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n"
                % len(body) + body, timeout=20).json()
    assert j["length"] == len(body)
    assert j["pieces"] == 1


def test_reading_past_the_end(wsgi):
    j = request(wsgi, b"POST /read?past-end HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").json()
    assert j["sizes"] == [5, 0, 0]


def test_read_without_size_reads_everything(wsgi):
    body = os.urandom(200000)
    j = request(wsgi, b"POST /read-all HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n"
                % len(body) + body).json()
    assert j["length"] == len(body)


def test_large_chunked_upload_streams_to_the_app(wsgi):
    chunk = os.urandom(65536)
    with wsgi.connect(timeout=30) as s:
        s.sendall(b"POST /read HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(128):  # 8 MiB
            s.sendall(b"10000\r\n" + chunk + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        j = Reader(s).response(timeout=60).json()
    assert j["length"] == 128 * 65536
    assert j["body"].encode("latin-1") == chunk * 128


def test_truncated_body_raises_in_the_app_and_closes(wsgi):
    with wsgi.connect() as s:
        s.sendall(b"POST /read HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 100000)
        time.sleep(0.2)
        s.shutdown(socket.SHUT_WR)
        r = Reader(s)
        resp = r.response()
        assert resp.status == 400
        assert r.closed()


def test_app_that_catches_the_body_error_still_closes(wsgi):
    with wsgi.connect() as s:
        # Two read-ahead buffers' worth first, so that the app is running
        # when the bad chunk size arrives.
        s.sendall(b"POST /ignore-body-error HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + (b"10000\r\n" + b"x" * 65536 + b"\r\n") * 2 + b"not-hex\r\n")
        r = Reader(s)
        resp = r.response()
        assert resp.body == b"caught: RequestBodyError"
        assert r.closed()


# ---- the response ----

def test_one_item_list_gets_content_length(wsgi):
    r = get(wsgi, "/environ")
    assert r.header("Content-Length") == str(len(r.body))
    assert r.header("Transfer-Encoding") is None


def test_write_callable(wsgi):
    r = get(wsgi, "/write")
    assert r.body == b"written twice then returned"


def test_generator_with_lazy_start_response(wsgi):
    r = get(wsgi, "/generator")
    assert r.status == 200
    assert r.body == b"lazy generator"
    assert r.header("Transfer-Encoding") == "chunked"


def test_head_on_a_streaming_app(wsgi):
    with wsgi.connect() as s:
        s.sendall(b"HEAD /stream?5 HTTP/1.1\r\nHost: a\r\n\r\nGET /stream?1 HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        assert r.response(head=True).body == b""
        assert r.response().body == b"chunk0\n"


@pytest.mark.parametrize("code", ["204", "304"])
def test_no_body_for_204_304(wsgi, code):
    with wsgi.connect() as s:
        s.sendall(b"GET /status?%s HTTP/1.1\r\nHost: a\r\n\r\nGET /stream?1 HTTP/1.1\r\nHost: a\r\n\r\n"
                  % code.encode())
        r = Reader(s)
        assert r.response().status == int(code)
        assert r.response().body == b"chunk0\n"


def closed_count(server):
    return get(server, "/closed").json()["count"]


def test_close_is_called(wsgi):
    before = closed_count(wsgi)
    get(wsgi, "/stream?3")
    assert wait_until(lambda: closed_count(wsgi) == before + 1, timeout=5)


def test_a_close_attribute_that_fails_is_logged():
    """Looking up close() failing with anything but AttributeError is the
    app's error: the response is out, and the log says what went wrong."""
    with WsgiServer() as s:
        r = get(s, "/bad-close")
        assert (r.status, r.body) == (200, b"body")
        deadline = time.monotonic() + 10
        while "close is broken" not in s.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        log = s.log()
    assert "Error closing the app's response" in log and "close is broken" in log, log


def test_close_is_called_when_the_client_disconnects(wsgi):
    before = closed_count(wsgi)
    s = wsgi.connect()
    s.sendall(b"GET /slow-stream HTTP/1.1\r\nHost: a\r\n\r\n")
    s.recv(1000)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()  # a reset: the app's next writes fail
    assert wait_until(lambda: closed_count(wsgi) == before + 1, timeout=15)


def test_exc_info_replaces_the_status_before_the_head(wsgi):
    r = get(wsgi, "/exc-info")
    assert r.status == 503
    assert r.body == b"replaced by the error page"


# ---- wsgi.file_wrapper ----

def test_file_wrapper_sends_a_50mb_file_with_flat_rss(tmp_path):
    path = tmp_path / "big.bin"
    data = os.urandom(1024 * 1024) * 50
    path.write_bytes(data)
    with WsgiServer() as s:
        get(s, "/environ")
        before = rss_kb(s.worker_pid())
        r = request(s, b"GET /file?%s HTTP/1.1\r\nHost: a\r\n\r\n" % str(path).encode(), timeout=60)
        after = rss_kb(s.worker_pid())
        assert hashlib.sha256(r.body).digest() == hashlib.sha256(data).digest()
        if not SANITIZED:
            assert after - before < 10 * 1024, "RSS grew by %d KB" % (after - before)


def test_file_wrapper_sends_from_the_current_position(wsgi, tmp_path):
    path = tmp_path / "f.bin"
    data = os.urandom(5000)
    path.write_bytes(data)
    r = get(wsgi, "/file-tail?%s" % path)
    assert r.body == data[100:]
    assert r.header("Content-Length") == str(len(data) - 100)


def test_file_wrapper_on_a_filelike_iterates(wsgi):
    r = get(wsgi, "/filelike")
    assert r.body == b"from a BytesIO " * 100


def test_file_wrapper_head(wsgi, tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"q" * 12345)
    with wsgi.connect() as s:
        s.sendall(b"HEAD /file?%s HTTP/1.1\r\nHost: a\r\n\r\nGET /stream?1 HTTP/1.1\r\nHost: a\r\n\r\n"
                  % str(path).encode())
        rd = Reader(s)
        assert rd.response(head=True).header("Content-Length") == "12345"
        assert rd.response().body == b"chunk0\n"


# ---- errors ----

def test_exception_before_the_head_is_500_and_logged(wsgi):
    r = get(wsgi, "/raise-before")
    assert r.status == 500
    assert b"ValueError" not in r.body, "no traceback for the client without --debug"
    wsgi.wait_for_line(r"ValueError: the app failed before responding")
    assert get(wsgi, "/environ").status == 200


def test_exception_after_the_head_truncates(wsgi):
    with wsgi.connect() as s:
        s.sendall(b"GET /raise-after HTTP/1.1\r\nHost: a\r\n\r\n")
        rd = Reader(s)
        with pytest.raises(Exception):
            rd.response()
        assert rd.eof
    wsgi.wait_for_line(r"ValueError: the app failed mid-body")


@pytest.mark.parametrize("path", ["/bad-header", "/bad-name", "/bad-status", "/not-bytes",
                                  "/no-start"])
def test_bad_responses_become_500_never_bytes_on_the_wire(wsgi, path):
    r = get(wsgi, path)
    assert r.status == 500
    assert b"injected" not in r.raw and b"never sent" not in r.raw


@pytest.mark.parametrize("path,exc", [("/sysexit", "SystemExit"), ("/kbint", "KeyboardInterrupt")])
def test_system_exit_and_keyboard_interrupt_do_not_kill_the_worker(wsgi, path, exc):
    assert get(wsgi, path).status == 500
    wsgi.wait_for_line(exc)
    assert get(wsgi, "/environ").status == 200
    assert wsgi.proc.poll() is None


def test_debug_shows_the_traceback():
    with WsgiServer("--debug") as s:
        r = get(s, "/raise-before")
        assert r.status == 500
        assert b"ValueError: the app failed before responding" in r.body


def test_start_response_takes_its_arguments_by_position_or_name(wsgi):
    r = get(wsgi, "/start-response-forms")
    assert r.status == 200
    assert r.json() == ["TypeError"] * 4


def test_objects_kept_after_the_request_raise(wsgi):
    get(wsgi, "/keep")
    assert get(wsgi, "/use-kept").json() == ["RuntimeError", "ValueError"]


# ---- loading the app ----

@pytest.mark.parametrize("spec,body", [
    ("wsgi_apps", None),
    ("wsgi_apps:application", None),
    ("wsgi_apps:factory()", b"hi from a factory"),
    ("wsgi_apps:factory('hello')", b"hello from a factory"),
    ("wsgi_apps:factory(greeting='hey')", b"hey from a factory"),
])
def test_app_specs(spec, body):
    with WsgiServer(spec=spec) as s:
        r = get(s, "/environ")
        assert r.status == 200
        if body:
            assert r.body == body


@pytest.mark.parametrize("spec,message", [
    ("no_such_module:app", "No module named 'no_such_module'"),
    ("wsgi_apps:nope", "Failed to find attribute 'nope' in 'wsgi_apps'."),
    ("wsgi_apps:CLOSED", "must be callable"),
    ("wsgi_apps:factory(open)", "Factory arguments must be literals"),
    ("wsgi_apps:1+", "Failed to parse"),
    (":app", "No module"),
])
def test_bad_app_is_a_clear_error_before_binding(spec, message):
    out = run_srv("--chdir", APPS, "-b", "127.0.0.1:0", spec)
    assert out.returncode == 4
    assert "cannot load the app" in out.stderr
    assert message in out.stderr
    assert "Listening" not in out.stderr


def test_import_error_shows_the_traceback(tmp_path):
    (tmp_path / "broken.py").write_text("import os\nraise RuntimeError('boom at import')\n")
    out = run_srv("--chdir", str(tmp_path), "broken:app")
    assert out.returncode == 4
    assert "Traceback (most recent call last):" in out.stderr
    assert 'broken.py", line 2' in out.stderr
    assert "RuntimeError: boom at import" in out.stderr


def test_pythonpath_and_chdir(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "helper.py").write_text("GREETING = b'from pythonpath'\n")
    (tmp_path / "site_app.py").write_text(
        "import helper\n"
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [])\n"
        "    return [helper.GREETING]\n")
    with Server("--chdir", str(tmp_path), "--pythonpath", str(lib), "site_app:app") as s:
        assert get(s).body == b"from pythonpath"


def test_virtualenv(tmp_path):
    venv = tmp_path / "venv"
    out = __import__("subprocess").run(["/usr/bin/python3", "-m", "venv", "--without-pip",
                                        str(venv)], capture_output=True)
    if out.returncode != 0:
        pytest.skip("python3-venv is not installed")
    site = next(venv.glob("lib/python3*/site-packages"))
    (site / "venv_only.py").write_text("WHERE = b'from the virtualenv'\n")
    (tmp_path / "venv_app.py").write_text(
        "import venv_only, sys\n"
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [])\n"
        "    return [venv_only.WHERE + b' ' + sys.prefix.encode()]\n")
    with Server("--chdir", str(tmp_path), "--virtualenv", str(venv), "venv_app:app") as s:
        body = get(s).body
        assert body.startswith(b"from the virtualenv")
        assert str(venv).encode() in body
    with Server("--chdir", str(tmp_path), "venv_app:app", env={"VIRTUAL_ENV": str(venv)}) as s:
        assert get(s).body.startswith(b"from the virtualenv")
