"""Every reject rule of DESIGN.md "HTTP rules", against the real binary.

For each bad request: the right status, a Date, "Connection: close", the
connection closed, and neither the bad request nor anything pipelined after
it reaches the app (the echo app counts the requests it sees).
"""
import pytest

from srvtest import Reader, Server, get, seq

GOOD = b"GET /after HTTP/1.1\r\nHost: a\r\n\r\n"

REJECTS = [
    # ---- request line ----
    ("method-not-token", b"G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("method-brace", b"GET{ / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("leading-space", b" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("double-space", b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("empty-target", b"GET  HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("nul-in-target", b"GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("del-in-target", b"GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("ctl-in-target", b"GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("tab-in-target", b"GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("space-in-target", b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("asterisk-with-get", b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("authority-with-get", b"GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("connect-origin-form", b"CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("relative-target", b"GET x/y HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("userinfo-in-absolute", b"GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("http-2.0", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    ("http-0.9-version", b"GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505),
    ("http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    ("version-leading-zero", b"GET / HTTP/01.1\r\nHost: a\r\n\r\n", 400),
    ("version-two-digits", b"GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400),
    ("version-lowercase", b"GET / http/1.1\r\nHost: a\r\n\r\n", 400),
    ("no-version", b"GET /\r\nHost: a\r\n\r\n", 400),
    ("tls-client-hello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40, 400),
    # ---- framing ----
    ("bare-lf", b"GET / HTTP/1.1\nHost: a\n\n", 400),
    ("bare-lf-in-header", b"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400),
    ("bare-cr", b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400),
    ("obs-fold-tab", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 400),
    ("space-before-colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    ("tab-before-colon", b"GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n", 400),
    ("name-not-token", b"GET / HTTP/1.1\r\nHost: a\r\nX[1]: b\r\n\r\n", 400),
    ("empty-name", b"GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400),
    ("no-colon", b"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400),
    ("nul-in-value", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400),
    ("vt-in-value", b"GET / HTTP/1.1\r\nHost: a\r\nX: \x0bb\r\n\r\n", 400),
    ("ff-in-value", b"GET / HTTP/1.1\r\nHost: a\r\nX: \x0cb\r\n\r\n", 400),
    ("esc-in-value", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x1bb\r\n\r\n", 400),
    ("del-in-value", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", 400),
    ("missing-host", b"GET / HTTP/1.1\r\nX: a\r\n\r\n", 400),
    ("duplicate-host", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("invalid-host", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    ("invalid-host-slash", b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
    ("duplicate-content-type",
     b"GET / HTTP/1.1\r\nHost: a\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n", 400),
    # ---- bodies ----
    ("te-and-cl",
     b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
     b"0\r\n\r\n", 400),
    ("te-gzip-chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                        b"0\r\n\r\n", 501),
    ("te-gzip-only", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
    ("te-chunked-not-last",
     b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
    ("te-chunked-twice",
     b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
     b"\r\n\r\n0\r\n\r\n", 400),
    ("te-empty-element",
     b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n", 400),
    ("te-vt-chunked",
     b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n", 400),
    ("chunked-on-http10",
     b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("duplicate-cl",
     b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400),
    ("list-cl", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx", 400),
    ("cl-plus", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\nx", 400),
    ("cl-minus", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\nx", 400),
    ("cl-hex", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x1\r\n\r\nx", 400),
    ("cl-underscore", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1_0\r\n\r\nx", 400),
    ("cl-inner-space", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\nx", 400),
    ("cl-overflow",
     b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\nx", 400),
    ("chunk-size-17-digits",
     b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"00000000000000001\r\nx\r\n0\r\n\r\n", 400),
    ("chunk-size-0x", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"0x1\r\nx\r\n0\r\n\r\n", 400),
    ("chunk-size-sign", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"+1\r\nx\r\n0\r\n\r\n", 400),
    ("chunk-size-space", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b" 1\r\nx\r\n0\r\n\r\n", 400),
    ("chunk-missing-crlf", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"1\r\nxy\r\n0\r\n\r\n", 400),
    ("chunk-lf-only", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"1\nx\n0\n\n", 400),
    ("chunk-ext-bare-cr", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"1;a=b\rc\r\nx\r\n0\r\n\r\n", 400),
    ("chunk-ext-bad", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"1;=\r\nx\r\n0\r\n\r\n", 400),
    ("trailer-content-length",
     b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"1\r\nx\r\n0\r\nContent-Length: 5\r\n\r\n", 400),
    ("trailer-host", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"1\r\nx\r\n0\r\nHost: evil\r\n\r\n", 400),
]


@pytest.fixture(scope="module")
def srv():
    with Server("--builtin", "echo", "--limit-request-line", "1024",
                "--limit-request-fields", "20", "--limit-request-field-size", "512",
                "--limit-request-head", "8k", "--limit-request-body", "100") as s:
        yield s


def check_reject(srv, raw, status):
    before = seq(srv)
    with srv.connect() as s:
        # The bad request and a good one after it, pipelined.
        s.sendall(raw + GOOD)
        r = Reader(s)
        resp = r.response()
        assert resp.status == status, resp.raw
        assert resp.header("Connection") == "close"
        assert resp.header("Date") is not None
        assert r.closed(), "the connection must be closed after a reject"
    # Only our own /seq request reached the app: not the bad request, not
    # the good one pipelined after it.
    assert seq(srv) == before + 1


@pytest.mark.parametrize("name,raw,status", REJECTS, ids=[r[0] for r in REJECTS])
def test_reject(srv, name, raw, status):
    check_reject(srv, raw, status)


def test_request_line_too_long_is_414(srv):
    check_reject(srv, b"GET /" + b"a" * 1100 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414)


def test_request_line_too_long_fails_before_its_end(srv):
    with srv.connect() as s:
        s.sendall(b"GET /" + b"a" * 2000)  # no CRLF: the server must not wait
        resp = Reader(s).response()
        assert resp.status == 414


def test_too_many_fields_is_431(srv):
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(25))
    check_reject(srv, b"GET / HTTP/1.1\r\nHost: a\r\n" + fields + b"\r\n", 431)


def test_field_too_long_is_431(srv):
    check_reject(srv, b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"v" * 600 + b"\r\n\r\n", 431)


def test_head_too_large_is_431(srv):
    fields = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 450) for i in range(19))
    check_reject(srv, b"GET / HTTP/1.1\r\nHost: a\r\n" + fields + b"\r\n", 431)


def test_body_over_limit_is_413(srv):
    check_reject(srv, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n" + b"x" * 101,
                 413)


def test_chunked_body_over_limit_is_413(srv):
    check_reject(srv, b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"60\r\n" + b"x" * 96 + b"\r\n10\r\n" + b"y" * 16 + b"\r\n0\r\n\r\n", 413)


def test_unsupported_expectation_is_417(srv):
    check_reject(srv, b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx",
                 417)


def test_good_request_is_still_served(srv):
    assert get(srv, "/ok").status == 200
