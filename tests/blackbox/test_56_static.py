"""`static`: files served by the loop thread without the app. The app here
is the built-in echo app, which answers every request with its path as
JSON, so a response tells whether srv served a file or left the request
to the app."""
import email.utils
import gzip
import os
import socket
import subprocess
import time

import pytest

from srvtest import SLOW, WRAPPER, Reader, Server, get, request, run_srv

# srv.exe is built without Python.
needs_python = pytest.mark.skipif(WRAPPER != [], reason="a WSGI app needs the Linux build")
EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
SECRET = b"top secret, outside the directory"


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    pub = root / "pub"
    (pub / "css").mkdir(parents=True)
    (pub / "css" / "site.css").write_bytes(b"body { color: #333 }\n")
    (pub / "img").mkdir()
    (pub / "img" / "logo.PNG").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (pub / "a b.txt").write_bytes(b"a space\n")
    (pub / "empty.txt").write_bytes(b"")
    (pub / "README").write_bytes(b"no extension\n")
    (pub / ".env").write_bytes(SECRET)
    (pub / ".git").mkdir()
    (pub / ".git" / "config").write_bytes(SECRET)
    (root / "secret.txt").write_bytes(SECRET)
    js = b"console.log('hello');\n" * 50
    (pub / "app.js").write_bytes(js)
    (pub / "app.js.gz").write_bytes(gzip.compress(js))
    (pub / "app.js.br").write_bytes(b"not really brotli, but told apart")
    big = bytes(range(251)) * (8 * 1024 * 1024 // 251)
    (pub / "big.bin").write_bytes(big)
    # A fixed modification time, so that the dates are known.
    for p in pub.rglob("*"):
        os.utime(p, (1700000000, 1700000000))
    return root


@pytest.fixture(scope="module")
def srv(tree):
    with Server("--builtin", "echo", "--static", "/static=%s" % (tree / "pub")) as s:
        yield s


def app_answered(r):
    return r.status == 200 and r.header("Content-Type") == "application/json"


def test_a_file_comes_with_its_type_length_and_validators(srv, tree):
    r = get(srv, "/static/css/site.css")
    assert r.status == 200
    assert r.body == (tree / "pub" / "css" / "site.css").read_bytes()
    assert r.header("Content-Type") == "text/css; charset=utf-8"
    assert r.header("Content-Length") == str(len(r.body))
    assert r.header("Last-Modified") == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert r.header("ETag") == '"%x-%x"' % (1700000000, len(r.body))
    assert r.header("Date") is not None
    r = get(srv, "/static/img/logo.PNG")
    assert r.header("Content-Type") == "image/png" and r.body.startswith(b"\x89PNG")
    r = get(srv, "/static/README")
    assert r.header("Content-Type") == "application/octet-stream"
    r = get(srv, "/static/a%20b.txt")
    assert r.body == b"a space\n"
    r = get(srv, "/static/empty.txt")
    assert (r.status, r.header("Content-Length"), r.body) == (200, "0", b"")


def test_head_gives_the_headers_of_get_and_no_body(srv):
    with srv.connect() as s:
        rd = Reader(s)
        s.sendall(b"HEAD /static/css/site.css HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /static/css/site.css HTTP/1.1\r\nHost: t\r\n\r\n")
        h = rd.response(head=True)
        g = rd.response()  # parses only if HEAD sent no body bytes
    assert h.status == 200 and h.body == b""
    for name in ("Content-Type", "Content-Length", "Last-Modified", "ETag"):
        assert h.header(name) == g.header(name), name
    assert g.body == b"body { color: #333 }\n"


@pytest.mark.parametrize("headers,status", [
    ([("If-None-Match", '"%x-15"' % 1700000000)], 304),
    ([("If-None-Match", 'W/"%x-15"' % 1700000000)], 304),
    ([("If-None-Match", '"x", "%x-15" , "y"' % 1700000000)], 304),
    ([("If-None-Match", "*")], 304),
    ([("If-None-Match", '"%x-16"' % 1700000000)], 200),
    ([("If-Modified-Since", "Tue, 14 Nov 2023 22:13:20 GMT")], 304),
    ([("If-Modified-Since", "Wed, 15 Nov 2023 00:00:00 GMT")], 304),
    ([("If-Modified-Since", "Tue, 14 Nov 2023 22:13:19 GMT")], 200),
    ([("If-Modified-Since", "Tuesday, 14-Nov-23 22:13:20 GMT")], 304),  # RFC 850
    ([("If-Modified-Since", "Tue Nov 14 22:13:19 2023")], 200),  # asctime
    ([("If-Modified-Since", "Tue, 14 Nov 2023 22:13:20 CET")], 200),  # not a date: sent whole
    ([("If-Modified-Since", "yesterday")], 200),
    # If-None-Match decides when both are there (RFC 9110 13.1.3).
    ([("If-None-Match", '"other"'), ("If-Modified-Since", "Wed, 15 Nov 2023 00:00:00 GMT")], 200),
])
def test_a_current_copy_gets_304(srv, headers, status):
    r = get(srv, "/static/css/site.css", headers=headers)
    assert r.status == status, r
    assert r.header("ETag") == '"%x-15"' % 1700000000
    if status == 304:
        assert r.body == b"" and r.header("Content-Type") is None
        assert r.header("Last-Modified") == "Tue, 14 Nov 2023 22:13:20 GMT"
    else:
        assert r.body == b"body { color: #333 }\n"


@pytest.mark.parametrize("path", [
    "/static/missing.css", "/static", "/static/", "/static/css", "/static/css/",
    "/static//css/site.css", "/static/.env", "/static/.git/config", "/static/%2egit/config",
    "/static/../secret.txt", "/static/css/../../secret.txt", "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/secret.txt", "/static/..%2fsecret.txt", "/static/..%5csecret.txt",
    "/static/..\\secret.txt", "/static/css%2fsite.css", "/static/css/site.css%00",
    "/static/css/site.css::$DATA", "/staticx/css/site.css", "/other/css/site.css",
    "/static/con", "/static/NUL.txt", "/static/css/site.css.", "/static/css/site.css%20",
])
def test_what_is_not_a_file_there_goes_to_the_app(srv, path):
    r = request(srv, ("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path).encode("latin-1"))
    if r.status == 400:
        return  # the parser refused it before anyone saw it
    assert app_answered(r), r
    assert r.json()["path"] is not None
    assert SECRET not in r.body


def test_a_query_or_an_absolute_target_names_the_same_file(srv):
    r = get(srv, "/static/css/site.css?v=3")
    assert r.body == b"body { color: #333 }\n"
    r = request(srv, b"GET http://t/static/css/site.css HTTP/1.1\r\nHost: t\r\n\r\n")
    assert r.body == b"body { color: #333 }\n"


def test_other_methods_and_requests_with_a_body_go_to_the_app(srv):
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        r = get(srv, "/static/css/site.css", method=method, body=b"x")
        assert app_answered(r) and r.json()["method"] == method, r
    r = get(srv, "/static/css/site.css", body=b"x")  # GET with a body
    assert app_answered(r), r


def test_keep_alive_and_pipelining_mix_files_and_the_app(srv):
    with srv.connect() as s:
        rd = Reader(s)
        s.sendall(b"GET /static/css/site.css HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /app/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /static/img/logo.PNG HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /static/missing HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /static/css/site.css HTTP/1.1\r\nHost: t\r\n\r\n")
        rs = [rd.response() for _ in range(5)]
        assert rs[0].body == b"body { color: #333 }\n"
        assert rs[1].json()["path"] == "/app/1"
        assert rs[2].body.startswith(b"\x89PNG")
        assert rs[3].json()["path"] == "/static/missing"
        assert rs[4].body == rs[0].body
        assert all(r.header("Connection") is None for r in rs)
        s.sendall(b"GET /static/a%20b.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        assert rd.response().body == b"a space\n"  # still open


def test_close_is_kept_as_the_client_asks(srv):
    with srv.connect() as s:
        rd = Reader(s)
        s.sendall(b"GET /static/css/site.css HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        r = rd.response()
        assert r.header("Connection") == "close" and r.body.startswith(b"body")
        assert rd.closed()
    with srv.connect() as s:
        rd = Reader(s)
        s.sendall(b"GET /static/css/site.css HTTP/1.0\r\n\r\n")
        r = rd.response()
        assert r.header("Connection") == "close" and r.body.startswith(b"body")
        assert rd.closed()
    with srv.connect() as s:
        rd = Reader(s)
        s.sendall(b"GET /static/css/site.css HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        assert rd.response().header("Connection") == "keep-alive"
        s.sendall(b"GET /static/README HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        assert rd.response().body == b"no extension\n"


def test_a_client_that_half_closes_still_gets_the_file(srv, tree):
    # As `printf 'GET ...' | nc` does; the file is larger than the socket
    # holds, so srv is still writing when it reads the end of input.
    with srv.connect(timeout=30) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        s.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        time.sleep(0.2 * SLOW)
        r = Reader(s).response(timeout=60)
    assert r.status == 200 and r.body == (tree / "pub" / "big.bin").read_bytes()


def test_a_large_file_reaches_a_slow_reader_whole_and_others_are_served_meanwhile(srv, tree):
    want = (tree / "pub" / "big.bin").read_bytes()
    with srv.connect(timeout=30) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        s.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(0.5 * SLOW)  # the socket fills; srv must wait, not block its loop
        other = get(srv, "/static/css/site.css")
        assert other.body == b"body { color: #333 }\n"
        assert app_answered(get(srv, "/while"))
        r = Reader(s).response(timeout=60)
    assert r.header("Content-Length") == str(len(want))
    assert r.body == want


def test_a_changed_file_is_served_as_it_is_now(tree):
    f = tree / "pub" / "changing.txt"
    f.write_bytes(b"one")
    os.utime(f, (1700000000, 1700000000))
    with Server("--builtin", "echo", "--static", "/s=%s" % (tree / "pub")) as s:
        a = get(s, "/s/changing.txt")
        f.write_bytes(b"two, longer")
        os.utime(f, (1700000100, 1700000100))
        b = get(s, "/s/changing.txt")
        f.unlink()
        c = get(s, "/s/changing.txt")
    assert (a.body, b.body) == (b"one", b"two, longer")
    assert a.header("ETag") != b.header("ETag")
    assert app_answered(c)


def test_the_longest_prefix_wins_and_several_mounts_serve(tree):
    with Server("--builtin", "echo", "--static", "/s=%s" % (tree / "pub"),
                "--static", "/s/css=%s" % (tree / "pub" / "img")) as s:
        assert get(s, "/s/css/logo.PNG").body.startswith(b"\x89PNG")
        assert app_answered(get(s, "/s/css/site.css"))
        assert get(s, "/s/README").body == b"no extension\n"


def test_access_log_and_requests_count(tree):
    with Server("--builtin", "echo", "--static", "/static=%s" % (tree / "pub"),
                "--access-logfile", "-", "--access-logformat", "%(m)s %(U)s %(s)s %(B)s") as s:
        get(s, "/static/css/site.css")
        s.wait_for_line(r"^GET /static/css/site.css 200 21\r?$", stream="stdout")
        get(s, "/static/css/site.css", method="HEAD")
        s.wait_for_line(r"^HEAD /static/css/site.css 200 0\r?$", stream="stdout")
        get(s, "/static/css/site.css", headers=[("If-None-Match", "*")])
        s.wait_for_line(r"^GET /static/css/site.css 304 0\r?$", stream="stdout")


@pytest.mark.parametrize("app", [
    ("--builtin", "echo"),
    # A WSGI app enters chdir as it loads: before the workers start with
    # preload, after them without.
    pytest.param(("--pythonpath", os.path.abspath(EXAMPLES), "hello:app"), marks=needs_python),
    pytest.param(("--preload", "--pythonpath", os.path.abspath(EXAMPLES), "hello:app"),
                 marks=needs_python),
])
def test_a_relative_directory_is_relative_to_chdir(tmp_path, app):
    (tmp_path / "site" / "pub").mkdir(parents=True)
    (tmp_path / "site" / "pub" / "x.txt").write_bytes(b"from chdir\n")
    # chdir relative to where srv starts, and the directory relative to it.
    with Server("--chdir", "site", "--static", "/files=pub", *app, cwd=str(tmp_path),
                workers=2 if WRAPPER == [] else 1) as s:
        for _ in range(6):
            assert get(s, "/files/x.txt").body == b"from chdir\n"
        r = get(s, "/files/y.txt")
        assert r.body == b"Hello, World!" or app_answered(r)


@pytest.mark.parametrize("value,message", [
    ("static", "static = 'static': not /PREFIX=DIRECTORY (allowed: /PREFIX=DIRECTORY"),
    ("/static", "static = '/static': not /PREFIX=DIRECTORY"),
    ("/a/../b=pub", "static = '/a/../b=pub': the prefix has an empty, '.' or '..' segment"),
    ("/a b=pub", "needs percent-encoding"),
])
def test_a_bad_item_is_named_with_what_is_allowed(value, message):
    out = run_srv("--builtin", "echo", "--static", value, "--check-config")
    assert out.returncode == 2
    assert message in out.stderr, out.stderr


def test_a_missing_directory_is_named_before_anything_starts(tmp_path):
    ini = tmp_path / "srv.ini"
    missing = str(tmp_path / "nope")
    ini.write_text("[srv]\nbuiltin = echo\nstatic = /static=%s\n" % missing)
    out = run_srv("-c", str(ini), "--check-config")
    assert out.returncode == 2
    assert "srv.ini:3: static = /static=%s: the directory %s:" % (missing, missing) in out.stderr, \
        out.stderr
    afile = tmp_path / "afile"
    afile.write_text("x")
    out = run_srv("--builtin", "echo", "--static", "/s=%s" % afile, "--check-config")
    assert out.returncode == 2 and "not a directory" in out.stderr, out.stderr


@pytest.mark.skipif(WRAPPER != [], reason="one process on Windows")
def test_every_worker_serves_and_the_mount_is_said_once(tree):
    with Server("--builtin", "echo", "--static", "/static=%s" % (tree / "pub"), workers=2) as s:
        for _ in range(20):
            assert get(s, "/static/css/site.css").body == b"body { color: #333 }\n"
        s.wait_for_line(r"Serving /static from ")
        time.sleep(0.3)
        assert sum("Serving /static from" in line for line in s.lines) == 1, s.log()


def test_imf_dates_match_pythons(srv):
    r = get(srv, "/static/css/site.css")
    assert email.utils.parsedate_to_datetime(r.header("Last-Modified")).timestamp() == 1700000000


@needs_python
def test_the_example_sites_css_is_the_same_from_srv_as_from_flask(tmp_path):
    site = os.path.join(EXAMPLES, "site")
    if subprocess.run(["/usr/bin/python3", "-c", "import flask"]).returncode != 0:
        pytest.skip("python3-flask is not installed")
    css = os.path.join(site, "static", "site.css")
    want = open(css, "rb").read()
    st = os.stat(css)
    env = {"SITE_DB": str(tmp_path / "site.db")}
    with Server("--chdir", site, "app:app", env=env) as s:
        flask = get(s, "/static/site.css")
        assert b'href="/static/site.css"' in get(s, "/lesson/1").body
    with Server("--chdir", site, "app:app", "--static", "/static=static", env=env) as s:
        ours = get(s, "/static/site.css")
        assert get(s, "/lesson/1").status == 200
    assert flask.status == ours.status == 200 and flask.body == ours.body == want
    assert flask.header("Content-Type") == ours.header("Content-Type") == "text/css; charset=utf-8"
    assert ours.header("ETag") == '"%x-%x"' % (int(st.st_mtime), st.st_size)
    assert flask.header("ETag") != ours.header("ETag")  # Flask's, so the first came from Flask


@pytest.mark.parametrize("accept,coding", [
    ("gzip", "gzip"),
    ("gzip, deflate, br", "br"),
    ("br;q=0, gzip", "gzip"),
    ("BR; Q=0.0, GZip;q=0.001", "gzip"),
    ("gzip;q=0,br;q=0", None),
    ("*", "br"),
    ("*, br;q=0", "gzip"),
    ("identity", None),
    ("deflate", None),
    (None, None),
])
def test_precompressed_files_go_to_clients_that_accept_them(tree, accept, coding):
    js = (tree / "pub" / "app.js").read_bytes()
    with Server("--builtin", "echo", "--static", "/s=%s" % (tree / "pub"),
                "--static-precompressed") as s:
        r = get(s, "/s/app.js", headers=[("Accept-Encoding", accept)] if accept else [])
        plain = get(s, "/s/app.js")
        h = get(s, "/s/app.js", method="HEAD",
                headers=[("Accept-Encoding", accept)] if accept else [])
        again = get(s, "/s/app.js", headers=([("Accept-Encoding", accept)] if accept else [])
                    + [("If-None-Match", r.header("ETag"))])
    assert r.status == 200 and r.header("Content-Encoding") == coding
    assert r.header("Content-Type") == "text/javascript; charset=utf-8"
    assert r.header("Vary") == "Accept-Encoding" == plain.header("Vary")
    if coding == "gzip":
        assert gzip.decompress(r.body) == js
    elif coding == "br":
        assert r.body == b"not really brotli, but told apart"
    else:
        assert r.body == js
    assert (r.header("ETag") == plain.header("ETag")) == (coding is None)
    assert h.header("Content-Length") == r.header("Content-Length") and h.body == b""
    assert again.status == 304 and again.header("ETag") == r.header("ETag")


def test_without_the_setting_the_file_goes_as_it_is(srv, tree):
    r = get(srv, "/static/app.js", headers=[("Accept-Encoding", "gzip, br")])
    assert r.body == (tree / "pub" / "app.js").read_bytes()
    assert r.header("Content-Encoding") is None and r.header("Vary") is None


CSS = b"body { color: #333 }\n"


@pytest.mark.parametrize("value,status,part", [
    ("bytes=0-3", 206, (0, 4)),
    ("bytes=5-", 206, (5, 21)),
    ("bytes=-3", 206, (18, 21)),
    ("bytes=7-1000", 206, (7, 21)),
    ("bytes=21-", 416, None),
    ("bytes=-0", 416, None),
    ("bytes=0-1,5-6", 200, None),  # several: sent whole
    ("bytes=5-2", 200, None),
    ("lines=1-2", 200, None),
])
def test_a_range_of_a_file(srv, value, status, part):
    with srv.connect() as s:
        rd = Reader(s)
        s.sendall(("GET /static/css/site.css HTTP/1.1\r\nHost: t\r\nRange: %s\r\n\r\n"
                   % value).encode())
        r = rd.response()
        s.sendall(b"GET /static/README HTTP/1.1\r\nHost: t\r\n\r\n")
        assert rd.response().body == b"no extension\n"  # the connection goes on
    assert r.status == status, r
    if status == 206:
        assert r.body == CSS[part[0]:part[1]]
        assert r.header("Content-Range") == "bytes %d-%d/21" % (part[0], part[1] - 1)
        assert r.header("Content-Type") == "text/css; charset=utf-8"
    elif status == 416:
        assert r.body == b"" and r.header("Content-Length") == "0"
        assert r.header("Content-Range") == "bytes */21"
    else:
        assert r.body == CSS and r.header("Content-Range") is None
        assert r.header("Accept-Ranges") == "bytes"


@pytest.mark.parametrize("if_range,partial", [
    ('"%x-15"' % 1700000000, True),
    ('W/"%x-15"' % 1700000000, False),  # a weak tag never matches
    ('"other"', False),
    ("Tue, 14 Nov 2023 22:13:20 GMT", True),
    ("Tue, 14 Nov 2023 22:13:21 GMT", False),
    ("garbage", False),
])
def test_if_range_sends_the_range_only_for_the_same_file(srv, if_range, partial):
    r = get(srv, "/static/css/site.css", headers=[("Range", "bytes=0-3"), ("If-Range", if_range)])
    assert (r.status, r.body) == ((206, CSS[:4]) if partial else (200, CSS))


def test_a_range_of_a_large_file_and_what_a_range_leaves_alone(srv, tree):
    big = (tree / "pub" / "big.bin").read_bytes()
    r = get(srv, "/static/big.bin", headers=[("Range", "bytes=1000000-2999999")])
    assert r.status == 206 and r.body == big[1000000:3000000]
    r = get(srv, "/static/big.bin", headers=[("Range", "bytes=-100")])
    assert r.body == big[-100:]
    h = get(srv, "/static/css/site.css", method="HEAD", headers=[("Range", "bytes=0-3")])
    assert h.status == 200 and h.header("Content-Length") == "21"
    r = get(srv, "/static/css/site.css", headers=[("Range", "bytes=0-3"), ("If-None-Match", "*")])
    assert r.status == 304


def test_max_age_is_sent_when_set_and_kept_in_a_304(tree):
    with Server("--builtin", "echo", "--static", "/s=%s" % (tree / "pub"),
                "--static-max-age", "3600") as s:
        r = get(s, "/s/css/site.css")
        again = get(s, "/s/css/site.css", headers=[("If-None-Match", r.header("ETag"))])
        part = get(s, "/s/css/site.css", headers=[("Range", "bytes=0-1")])
        app = get(s, "/s/missing.css")
    assert r.header("Cache-Control") == "public, max-age=3600"
    assert again.status == 304 and again.header("Cache-Control") == "public, max-age=3600"
    assert part.status == 206 and part.header("Cache-Control") == "public, max-age=3600"
    assert app_answered(app) and app.header("Cache-Control") is None
    out = run_srv("--builtin", "echo", "--static-max-age", "-1", "--check-config")
    assert out.returncode == 2 and "static_max_age" in out.stderr, out.stderr


def test_no_cache_control_unless_asked(srv):
    assert get(srv, "/static/css/site.css").header("Cache-Control") is None
