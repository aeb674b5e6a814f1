"""Valid requests: what reaches the app, keep-alive, pipelining, bodies."""
import socket
import time

import pytest

from srvtest import Reader, Server, get, request, run_srv, seq


def test_echo_sees_the_parsed_request(shared_echo):
    raw = (b"POST /a/b%20c?x=1&y=%2F HTTP/1.1\r\nHost: example.com:8080\r\n"
           b"X-One: 1\r\nx-two:  two words \r\nContent-Length: 5\r\n\r\nhello")
    j = request(shared_echo, raw).json()
    assert j["method"] == "POST"
    assert j["target"] == "/a/b%20c?x=1&y=%2F"
    assert j["path"] == "/a/b%20c"
    assert j["query"] == "x=1&y=%2F"
    assert j["host"] == "example.com:8080"
    assert j["version"] == "HTTP/1.1"
    assert j["headers"] == [["Host", "example.com:8080"], ["X-One", "1"],
                            ["x-two", "two words"], ["Content-Length", "5"]]
    assert j["body"] == "hello"
    assert j["remote_addr"] == "127.0.0.1"
    assert j["remote_port"] > 0


def test_underscore_headers_never_reach_the_app(shared_echo):
    j = get(shared_echo, "/", headers=[("X_Auth_User", "evil"), ("X-Auth-User", "good")]).json()
    names = [h[0] for h in j["headers"]]
    assert "X_Auth_User" not in names
    assert ["X-Auth-User", "good"] in j["headers"]


def test_absolute_form_target(shared_echo):
    j = request(shared_echo,
                b"GET http://other.example:81/p?q HTTP/1.1\r\nHost: ignored\r\n\r\n").json()
    assert j["host"] == "other.example:81"
    assert j["path"] == "/p"
    assert j["query"] == "q"


def test_options_asterisk(shared_echo):
    j = request(shared_echo, b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").json()
    assert j["target"] == "*"


def test_leading_empty_lines_are_ignored(shared_echo):
    assert request(shared_echo, b"\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n").json()["path"] == "/x"


def test_obs_text_and_utf8_pass_through(shared_echo):
    raw = "GET /caf\u00e9 HTTP/1.1\r\nHost: a\r\nX-Name: Jos\u00e9\r\n\r\n".encode("utf-8")
    j = request(shared_echo, raw).json()
    assert j["path"].encode("latin-1") == "/caf\u00e9".encode("utf-8")
    assert j["headers"][1][1].encode("latin-1") == "Jos\u00e9".encode("utf-8")


def test_every_response_has_date_and_http11(shared_echo):
    r = get(shared_echo, "/", version="1.0")
    assert r.version == "HTTP/1.1"
    assert r.header("Date").endswith(" GMT")


def test_keep_alive_http11(shared_echo):
    with shared_echo.connect() as s:
        r = Reader(s)
        seqs = []
        for i in range(5):
            s.sendall(b"GET /k%d HTTP/1.1\r\nHost: a\r\n\r\n" % i)
            resp = r.response()
            assert resp.header("Connection") is None
            seqs.append(resp.json()["seq"])
        assert seqs == list(range(seqs[0], seqs[0] + 5))


def test_http10_closes_by_default(shared_echo):
    with shared_echo.connect() as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        r = Reader(s)
        resp = r.response()
        assert resp.status == 200
        assert resp.header("Connection") == "close"
        assert r.closed()


def test_http10_keep_alive(shared_echo):
    with shared_echo.connect() as s:
        r = Reader(s)
        for _ in range(3):
            s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            resp = r.response()
            assert resp.status == 200
            assert resp.header("Connection") == "keep-alive"
            assert resp.header("Content-Length") is not None


def test_connection_close_in_a_list_ends_the_connection(shared_echo):
    before = seq(shared_echo)
    with shared_echo.connect() as s:
        s.sendall(b"GET /1 HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n"
                  b"GET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        resp = r.response()
        assert resp.json()["path"] == "/1"
        assert resp.header("Connection") == "close"
        assert r.closed()
    assert seq(shared_echo) == before + 2, "the request after the close was not processed"


def test_pipelined_requests_are_answered_in_order(shared_echo):
    with shared_echo.connect() as s:
        s.sendall(b"".join(b"GET /p%d HTTP/1.1\r\nHost: a\r\n\r\n" % i for i in range(20)) +
                  b"POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" +
                  b"GET /last HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        for i in range(20):
            assert r.response().json()["path"] == "/p%d" % i
        j = r.response().json()
        assert (j["path"], j["body"]) == ("/body", "abc")
        assert r.response().json()["path"] == "/last"


def test_pipelined_requests_byte_by_byte(shared_echo):
    data = b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nxy"
    with shared_echo.connect() as s:
        for i in range(len(data)):
            s.send(data[i:i + 1])
        r = Reader(s)
        assert r.response().json()["path"] == "/a"
        j = r.response().json()
        assert (j["path"], j["body"]) == ("/b", "xy")


def test_head_has_no_body_but_the_length(shared_echo):
    get_len = int(get(shared_echo, "/h").header("Content-Length"))
    with shared_echo.connect() as s:
        s.sendall(b"HEAD /h HTTP/1.1\r\nHost: test\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        resp = r.response(head=True)
        assert resp.status == 200
        # The same length as GET (the app computed the same body)...
        assert abs(int(resp.header("Content-Length")) - get_len) <= 3  # seq digits differ
        # ...and no body bytes: the next response starts right away.
        assert r.response().json()["path"] == "/after"


# ---- bodies ----

def test_chunked_body(shared_echo):
    raw = (b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
    j = request(shared_echo, raw).json()
    assert j["body"] == "hello world"
    assert j["chunked"] is True
    assert j["content_length"] == -1


def test_large_chunked_upload_streams(app):
    size, chunk = 8 * 1024 * 1024, 65536
    payload = bytes(range(256)) * (chunk // 256)
    with app.connect(timeout=30) as s:
        s.sendall(b"POST /read?chunk=10000 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(size // chunk):
            s.sendall(b"%x\r\n" % chunk + payload + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        j = Reader(s).response(timeout=30).json()
    expect = 0
    for _ in range(size // chunk):
        for b in payload:
            expect = (expect * 31 + b) % (1 << 64)
    assert j["length"] == size
    assert j["sum"] == expect


def test_large_content_length_upload(app):
    size = 5 * 1024 * 1024
    body = b"z" * size
    r = request(app, b"POST /read HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % size + body,
                timeout=30)
    assert r.json()["length"] == size


def test_expect_100_continue_when_the_app_reads():
    with Server("--builtin", "echo") as srv, srv.connect() as s:
        s.sendall(b"POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        s.settimeout(5)
        interim = s.recv(1024)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b"body")
        resp = Reader(s).response()
        assert resp.json()["body"] == "body"


def test_no_100_continue_when_the_app_does_not_read(app):
    with app.connect() as s:
        s.sendall(b"POST /noread HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                  b"Content-Length: 100000\r\n\r\n")
        r = Reader(s)
        resp = r.response()
        assert resp.status == 200
        assert b"100 Continue" not in resp.raw
        # The body was never asked for: the connection cannot be reused.
        assert resp.header("Connection") == "close"
        assert r.closed()


def test_expect_on_http10_gets_no_100():
    with Server("--builtin", "echo") as srv, srv.connect() as s:
        s.sendall(b"POST /e HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        s.settimeout(0.5)
        with pytest.raises(socket.timeout):
            s.recv(1024)  # nothing: no 100 on HTTP/1.0, the server waits for the body
        s.sendall(b"body")
        assert Reader(s).response().json()["body"] == "body"


def test_client_that_sends_body_without_waiting_for_100(shared_echo):
    r = request(shared_echo, b"POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                             b"Content-Length: 3\r\n\r\nabc")
    assert r.json()["body"] == "abc"
    assert b"100 Continue" not in r.raw


def test_unread_small_body_is_drained_and_keep_alive_holds(app):
    with app.connect() as s:
        r = Reader(s)
        s.sendall(b"POST /noread HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789"
                  b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
        resp = r.response()
        assert resp.status == 200
        assert resp.header("Connection") is None
        assert r.response().json()["path"] == "/next"


def test_unread_large_body_closes_the_connection(app):
    with app.connect() as s:
        s.sendall(b"POST /noread HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n" +
                  b"x" * 100000)
        r = Reader(s)
        resp = r.response()
        assert resp.status == 200
        assert resp.header("Connection") == "close"
        assert r.closed()


def test_truncated_body_is_an_error_for_the_app_never_a_short_body(app):
    """The client sends part of a body that does not fit the read-ahead
    buffer, then shuts down: the app's read fails, the response is 400."""
    with app.connect() as s:
        s.sendall(b"POST /read HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n" +
                  b"x" * 300000)
        time.sleep(0.2)
        s.shutdown(socket.SHUT_WR)
        r = Reader(s)
        resp = r.response()
        assert resp.status == 400
        assert b"length" not in resp.body
        assert r.closed()


def test_bad_chunk_after_dispatch_is_an_error_for_the_app(app):
    with app.connect() as s:
        s.sendall(b"POST /read HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
                  b"10000\r\n" + b"x" * 0x10000 + b"\r\n")
        time.sleep(0.2)
        s.sendall(b"zz\r\n")
        r = Reader(s)
        resp = r.response()
        assert resp.status == 400
        assert r.closed()


def test_body_larger_than_limit_chunked_after_dispatch_is_413():
    with Server("--builtin", "test", "--limit-request-body", "100000") as srv:
        with srv.connect() as s:
            s.sendall(b"POST /read HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
            for _ in range(4):
                s.sendall(b"8000\r\n" + b"y" * 0x8000 + b"\r\n")
            r = Reader(s)
            resp = r.response()
            assert resp.status == 413
            assert r.closed()


def test_request_after_a_body_on_the_same_connection(shared_echo):
    with shared_echo.connect() as s:
        r = Reader(s)
        for i in range(3):
            body = b"b" * (i * 1000)
            s.sendall(b"POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            assert r.response().json()["body_length"] == len(body)


# ---- the scheme a trusted proxy tells (forwarded_allow_ips) ----

def scheme(server, *headers):
    raw = b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(b"%s\r\n" % h for h in headers) + b"\r\n"
    return request(server, raw).json()["scheme"]


def test_a_proxy_on_loopback_tells_the_scheme(shared_echo):
    """forwarded_allow_ips is 127.0.0.1 and ::1 unless set, as gunicorn's."""
    assert scheme(shared_echo) == "http"
    assert scheme(shared_echo, b"X-Forwarded-Proto: https") == "https"
    assert scheme(shared_echo, b"x-forwarded-proto: HTTPS") == "https"
    assert scheme(shared_echo, b"X-Forwarded-Proto: http") == "http"
    assert scheme(shared_echo, b"X-Forwarded-Ssl: on") == "https"
    assert scheme(shared_echo, b"X-Forwarded-Ssl: off") == "http"
    assert scheme(shared_echo, b"X-Forwarded-Protocol: ssl") == "https"
    assert scheme(shared_echo, b"X-Forwarded-Proto: https",
                  b"X-Forwarded-Ssl: on") == "https"
    # a list from chained proxies is not "https": gunicorn compares the whole value too
    assert scheme(shared_echo, b"X-Forwarded-Proto: https, http") == "http"


@pytest.mark.parametrize("headers", [
    (b"X-Forwarded-Proto: https", b"X-Forwarded-Ssl: off"),
    (b"X-Forwarded-Proto: http", b"X-Forwarded-Protocol: ssl"),
    (b"X-Forwarded-Proto: https", b"X-Forwarded-Proto: http"),
])
def test_scheme_headers_that_disagree_get_400_and_a_close(shared_echo, headers):
    """Which of two contradicting headers a proxy set, and which the client
    slipped past it, cannot be told: gunicorn refuses them too."""
    with shared_echo.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(b"%s\r\n" % h for h in headers)
                  + b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r = Reader(s)
        assert r.response().status == 400
        assert r.closed()


def test_a_peer_outside_forwarded_allow_ips_cannot_tell_the_scheme():
    with Server("--builtin", "echo", "--forwarded-allow-ips", "192.0.2.0/24,::1") as srv:
        assert scheme(srv, b"X-Forwarded-Proto: https") == "http"
        # nor make a request fail by contradicting itself: the headers are not read
        assert scheme(srv, b"X-Forwarded-Proto: https", b"X-Forwarded-Ssl: off") == "http"
    with Server("--builtin", "echo", "--forwarded-allow-ips", "") as srv:
        assert scheme(srv, b"X-Forwarded-Proto: https") == "http"
    with Server("--builtin", "echo", "--forwarded-allow-ips", "127.0.0.0/8") as srv:
        assert scheme(srv, b"X-Forwarded-Proto: https") == "https"
    with Server("--builtin", "echo", "--forwarded-allow-ips", "*") as srv:
        assert scheme(srv, b"X-Forwarded-Ssl: on") == "https"


def test_a_bad_forwarded_allow_ips_names_the_value():
    out = run_srv("--builtin", "echo", "--forwarded-allow-ips", "10.0.0.1/8", "--check-config")
    assert out.returncode != 0
    assert "forwarded_allow_ips" in out.stderr and "10.0.0.1/8" in out.stderr
    assert "write the network, as 10.0.0.0/8" in out.stderr
