"""The response writer, through the built-in test app."""
import hashlib
import os
import socket
import time

import pytest

from srvtest import Reader, Server, get, request


def test_streamed_http11_response_is_chunked(app):
    r = get(app, "/stream?n=4&size=3")
    assert r.header("Transfer-Encoding") == "chunked"
    assert r.header("Content-Length") is None
    assert r.body == b"aaabbbcccddd"


def test_chunks_on_the_wire(app):
    r = get(app, "/stream?n=2&size=3")
    assert r.raw.endswith(b"3\r\naaa\r\n3\r\nbbb\r\n0\r\n\r\n")


def test_streamed_http10_response_is_close_delimited(app):
    with app.connect() as s:
        s.sendall(b"GET /stream?n=3&size=2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = Reader(s)
        resp = r.response()
        assert resp.header("Transfer-Encoding") is None
        assert resp.header("Connection") == "close"
        assert resp.body == b"aabbcc"


def test_each_streamed_piece_is_sent_before_the_next_is_made(app):
    """PEP 3333 forbids holding a block back: the first piece must arrive
    while the app still sleeps before the second."""
    with app.connect() as s:
        s.sendall(b"GET /stream?n=2&size=5&delay=1000 HTTP/1.1\r\nHost: a\r\n\r\n")
        s.settimeout(5)
        t0 = time.monotonic()
        got = b""
        while b"aaaaa" not in got:
            got += s.recv(4096)
        first = time.monotonic() - t0
        r = Reader(s)
        r.buf = got.split(b"\r\n\r\n", 1)[1]
        assert first < 1.9, "first piece waited for the second (%.2fs)" % first


def test_head_on_a_streaming_app_has_no_body(app):
    with app.connect() as s:
        s.sendall(b"HEAD /stream?n=3&size=4 HTTP/1.1\r\nHost: a\r\n\r\n"
                  b"GET /after HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        resp = r.response(head=True)
        assert resp.status == 200
        assert resp.body == b""
        assert r.response().json()["path"] == "/after"


def test_head_on_a_one_piece_response_gets_its_length(app):
    with app.connect() as s:
        s.sendall(b"HEAD /big?n=1234 HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        resp = r.response(head=True)
        assert resp.header("Content-Length") == "1234"
        assert r.response().json()["path"] == "/after"


@pytest.mark.parametrize("code", [204, 304])
def test_no_body_for_204_and_304(app, code):
    with app.connect() as s:
        s.sendall(b"GET /status?code=%d HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n"
                  % code)
        r = Reader(s)
        resp = r.response()
        assert resp.status == code
        assert resp.header("Transfer-Encoding") is None
        if code == 204:
            assert resp.header("Content-Length") is None
        # Nothing of "status body" leaked before the next response.
        nxt = r.response()
        assert nxt.json()["path"] == "/after"


def test_status_codes_and_reasons(app):
    for code, reason in [(201, "Created"), (404, "Not Found"), (418, "I'm a teapot"),
                         (599, "Unknown")]:
        r = get(app, "/status?code=%d" % code)
        assert (r.status, r.reason) == (code, reason)


def test_invalid_status_from_the_app_is_500(app):
    r = get(app, "/badstatus")
    assert r.status == 500
    assert b"never" not in r.raw


@pytest.mark.parametrize("name,value", [
    ("X-Evil", "a%0D%0ASet-Cookie: injected=1"),
    ("X-Evil", "a%0Ab"),
    ("X-Evil", "a%0Db"),
    ("X-Evil", "a%00b"),
    ("X-Evil", "a%7Fb"),
    ("X-Evil", "a%1Bb"),
    ("Bad Name", "v"),
    ("Bad%0D%0AName", "v"),
    ("", "v"),
    ("Content-Length", "abc"),
])
def test_bad_headers_from_the_app_become_500(app, name, value):
    r = get(app, "/header?name=%s&value=%s" % (name.replace(" ", "%20"), value.replace(" ", "%20")))
    assert r.status == 500
    assert b"injected" not in r.raw
    assert b"ok\n" not in r.raw


def test_good_header_from_the_app(app):
    r = get(app, "/header?name=X-Fine&value=caf%C3%A9%09tab")
    assert r.status == 200
    assert r.header("X-Fine").encode("latin-1") == b"caf\xc3\xa9\ttab"


def test_app_framing_headers_are_replaced(app):
    r = get(app, "/header?name=Transfer-Encoding&value=gzip")
    assert r.status == 200
    assert r.header("Transfer-Encoding") is None
    assert r.header("Content-Length") == "3"


def test_handler_failure_before_the_head_is_500_and_logged(app):
    r = get(app, "/fail")
    assert r.status == 500
    app.wait_for_line(r"app failed on GET /fail")
    assert get(app, "/ok").status == 200, "the worker survived"


def test_handler_failure_after_the_head_truncates(app):
    with app.connect() as s:
        s.sendall(b"GET /fail-late HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        with pytest.raises(Exception):
            r.response()  # the chunked body never ends: the client sees a truncation
        assert r.eof
    assert get(app, "/ok").status == 200


def test_handler_without_a_response_is_500(app):
    assert get(app, "/nothing").status == 500


def test_srv_finishes_a_started_response(app):
    r = get(app, "/start-only")
    assert r.status == 200
    assert r.body == b""


def test_app_connection_close_is_honoured(app):
    with app.connect() as s:
        s.sendall(b"GET /close HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        resp = r.response()
        assert resp.header("Connection") == "close"
        assert r.closed()


def test_body_longer_than_content_length_is_cut(app):
    with app.connect() as s:
        s.sendall(b"GET /cl?len=5&send=10 HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        resp = r.response()
        assert resp.body == b"xxxxx"
        assert r.closed(), "after a lying app, the connection is not reused"


def test_body_shorter_than_content_length_closes(app):
    with app.connect() as s:
        s.sendall(b"GET /cl?len=10&send=4 HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        with pytest.raises(Exception):
            r.response()
        assert r.eof


def test_large_one_piece_response(app):
    n = 20 * 1024 * 1024
    r = request(app, b"GET /big?n=%d HTTP/1.1\r\nHost: a\r\n\r\n" % n, timeout=30)
    assert int(r.header("Content-Length")) == n
    assert len(r.body) == n
    assert r.body[:28] == b"abcdefghijklmnopqrstuvwxyzab"


@pytest.fixture
def datafile(tmp_path):
    p = tmp_path / "data.bin"
    p.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    return p


def test_file_response(app, datafile):
    r = request(app, b"GET /file?path=%s HTTP/1.1\r\nHost: a\r\n\r\n" % str(datafile).encode(),
                timeout=30)
    data = datafile.read_bytes()
    assert r.status == 200
    assert int(r.header("Content-Length")) == len(data)
    assert hashlib.sha256(r.body).digest() == hashlib.sha256(data).digest()


def test_file_range(app, datafile):
    r = get(app, "/file?path=%s&offset=1000&count=5000" % datafile)
    assert r.body == datafile.read_bytes()[1000:6000]


def test_file_head(app, datafile):
    r = request(app, b"HEAD /file?path=%s HTTP/1.1\r\nHost: a\r\n\r\n" % str(datafile).encode(),
                head=True)
    assert int(r.header("Content-Length")) == datafile.stat().st_size


def test_file_to_a_slow_reader(app, tmp_path):
    """A file larger than the socket buffers: sendfile fills the socket,
    srv waits for the client, then goes on, and every byte arrives."""
    p = tmp_path / "big.bin"
    p.write_bytes(os.urandom(24 * 1024 * 1024))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)  # before connect
    s.settimeout(30)
    s.connect((app.host, app.port))
    with s:
        s.sendall(b"GET /file?path=%s HTTP/1.1\r\nHost: a\r\n\r\n" % str(p).encode())
        time.sleep(1.0)  # the server meets a full socket
        resp = Reader(s).response(timeout=60)
    assert hashlib.sha256(resp.body).digest() == hashlib.sha256(p.read_bytes()).digest()


def test_keep_alive_after_every_kind_of_response(app, datafile):
    with app.connect() as s:
        r = Reader(s)
        for path, head in [(b"/stream?n=2&size=2", False), (b"/big?n=70000", False),
                           (b"/status?code=204", False), (b"/file?path=%s&count=10" % str(
                               datafile).encode(), False), (b"/stream", True)]:
            method = b"HEAD" if head else b"GET"
            s.sendall(method + b" " + path + b" HTTP/1.1\r\nHost: a\r\n\r\n")
            assert r.response(head=head).status in (200, 204)
        s.sendall(b"GET /last HTTP/1.1\r\nHost: a\r\n\r\n")
        assert r.response().json()["path"] == "/last"


def test_server_errors_have_a_short_body():
    with Server("--builtin", "echo") as srv:
        r = request(srv, b"GET / HTTP/2.0\r\nHost: a\r\n\r\n")
        assert r.header("Content-Type") == "text/plain; charset=utf-8"
        assert r.body.startswith(b"505 HTTP Version Not Supported")
