"""`cache`: responses the app marks for a shared cache, answered again by
the loop thread without the app. The app is the built-in test app's /made
route: it sends the headers the URL asks for and a body that counts the
requests it answered ("made N"), so a response tells whether the app or
the cache answered."""
import os
import socket
import time
import urllib.parse
import zlib

import pytest

from srvtest import (SLOW, WRAPPER, ConnClosed, Reader, Server, get, request, run_srv,
                     wait_until)

needs_python = pytest.mark.skipif(WRAPPER != [], reason="a WSGI app needs the Linux build")


def made(*headers, **params):
    """The /made URL that answers with these "Name: value" headers. It
    names the test too, so that tests on one server share no copies."""
    q = ["h=" + urllib.parse.quote(h.replace(": ", ":", 1), safe=":") for h in headers]
    q += ["%s=%s" % kv for kv in sorted(params.items())]
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
    q.append("t=%08x" % zlib.crc32(test.encode()))
    return "/made?" + "&".join(q)


SHARED = "Cache-Control: public, max-age=60"


class Client:
    """One keep-alive connection: each request waits for its response, so
    a response the app made is in the cache before the next request."""

    def __init__(self, server):
        self.sock = server.connect()
        self.rd = Reader(self.sock)

    def get(self, path, headers=(), method="GET", body=None, version="1.1"):
        lines = ["%s %s HTTP/%s" % (method, path, version), "Host: test"]
        lines += ["%s: %s" % h for h in headers]
        if body is not None:
            lines.append("Content-Length: %d" % len(body))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        return self.rd.response(head=(method == "HEAD"))

    def close(self):
        self.sock.close()


def kept_now(server, url):
    """Waits until the server keeps a copy of url: the app's response may
    reach the client before the loop has noted the exchange's end."""
    assert wait_until(lambda: get(server, url, headers=[("Cache-Control", "only-if-cached")])
                      .status == 200), "no copy of %s" % url


@pytest.fixture(scope="module")
def srv():
    with Server("--builtin", "test", "--cache", "1m") as s:
        yield s


@pytest.fixture
def client(srv):
    c = Client(srv)
    yield c
    c.close()


def body_of(r):
    return r.body.split(b"\n", 1)[0]


def test_a_marked_response_is_answered_again_without_the_app(client):
    url = made(SHARED, "X-Tag: one", size=3000)
    first = client.get(url)
    assert first.status == 200 and body_of(first).startswith(b"made ")
    assert first.header("Age") is None
    again = client.get(url)
    assert again.status == 200
    assert again.body == first.body, "the app answered again"
    assert again.header("Age") == "0"
    assert again.header("X-Tag") == "one"
    assert again.header("Cache-Control") == "public, max-age=60"
    assert again.header("Date") == first.header("Date"), "the Date of the origin"
    assert again.header("Content-Length") == "3000"
    assert len(again.header_all("Date")) == 1


def test_without_cache_the_app_answers_every_time():
    with Server("--builtin", "test") as s:
        c = Client(s)
        url = made(SHARED)
        assert c.get(url).body != c.get(url).body
        c.close()


def test_a_streamed_response_is_kept_whole(client):
    url = made("Cache-Control: s-maxage=60", size=100000, chunks=7)
    first = client.get(url)
    assert first.header("Transfer-Encoding") == "chunked"
    again = client.get(url)
    assert again.header("Transfer-Encoding") is None
    assert again.header("Content-Length") == "100000"
    assert again.body == first.body


@pytest.mark.parametrize("headers", [
    (),
    ("Cache-Control: max-age=60",),
    ("Cache-Control: public",),
    ("Cache-Control: s-maxage=60, private",),
    ("Cache-Control: s-maxage=60, no-store",),
    ("Cache-Control: s-maxage=60, no-cache",),
    ("Cache-Control: s-maxage=60, s-maxage=70",),
    ("Cache-Control: s-maxage=60", "Set-Cookie: id=1"),
    ("Cache-Control: s-maxage=60", "Vary: *"),
    ("Cache-Control: s-maxage=60", "Age: 60"),
])
def test_what_is_not_marked_for_a_shared_cache_is_not_kept(client, headers):
    url = made(*headers)
    assert client.get(url).body != client.get(url).body


@pytest.mark.parametrize("code", [201, 302, 500])
def test_statuses_that_are_not_cacheable_by_default_are_not_kept(client, code):
    url = made("Cache-Control: s-maxage=60", code=code)
    first = client.get(url)
    assert first.status == code
    assert client.get(url).body != first.body


def test_a_404_is_kept(client):
    url = made("Cache-Control: s-maxage=60", code=404)
    first = client.get(url)
    assert first.status == 404
    again = client.get(url)
    assert (again.status, again.body) == (404, first.body)


def test_requests_that_must_not_use_the_cache_reach_the_app(client):
    url = made(SHARED)
    kept = client.get(url).body
    for h in [("Authorization", "Basic dXNlcjpwdw=="), ("Cache-Control", "no-store")]:
        r = client.get(url, headers=[h])
        assert r.body != kept, h
        assert r.header("Age") is None
    assert client.get(url).body == kept, "an Authorization or no-store answer is not kept"


def test_only_if_cached_never_reaches_the_app(srv):
    url = made(SHARED)
    r = get(srv, url, headers=[("Cache-Control", "only-if-cached")])
    assert r.status == 504
    c = Client(srv)
    first = c.get(url)
    assert first.header("Age") is None, "the 504 filled nothing"
    c.close()
    kept_now(srv, url)
    r = get(srv, url, headers=[("Cache-Control", "only-if-cached")])
    assert (r.status, r.body, r.header("Age")) == (200, first.body, "0")


def test_no_cache_from_the_client_refreshes_the_copy(client):
    url = made(SHARED)
    old = client.get(url).body
    fresh = client.get(url, headers=[("Cache-Control", "no-cache")]).body
    assert fresh != old
    assert client.get(url).body == fresh
    newer = client.get(url, headers=[("Pragma", "no-cache")]).body
    assert newer not in (old, fresh)
    assert client.get(url).body == newer
    newest = client.get(url, headers=[("Cache-Control", "max-age=0")]).body
    assert newest not in (old, fresh, newer)
    assert client.get(url).body == newest
    assert client.get(url, headers=[("Cache-Control", "max-age=5")]).body == newest


def test_each_url_has_its_own_copy(client):
    a, b = made(SHARED, x=1), made(SHARED, x=2)
    ra, rb = client.get(a).body, client.get(b).body
    assert ra != rb
    assert client.get(a).body == ra and client.get(b).body == rb
    other_host = client.get(a, headers=[("X-Unused", "1")])
    assert other_host.body == ra
    # Host is part of the key.
    client.sock.sendall(("GET %s HTTP/1.1\r\nHost: elsewhere\r\n\r\n" % a).encode())
    assert client.rd.response().body != ra


def test_a_copy_expires_and_its_age_grows(client):
    url = made("Cache-Control: s-maxage=2")
    first = client.get(url).body
    time.sleep(1.1)
    r = client.get(url)
    assert (r.body, r.header("Age")) == (first, "1")
    time.sleep(1.0)
    r = client.get(url)
    assert r.body != first and r.header("Age") is None, "expired: the app answers"


def send_at_once(srv, url, n, method="GET"):
    """n connections that each send a request for url; returns them."""
    socks = [srv.connect() for _ in range(n)]
    for s in socks:
        s.sendall(("%s %s HTTP/1.1\r\nHost: test\r\n\r\n" % (method, url)).encode())
    return socks


def responses_at_once(srv, url, n):
    """The responses to n requests for url sent at once on n connections."""
    socks = send_at_once(srv, url, n)
    rs = [Reader(s).response(timeout=10) for s in socks]
    for s in socks:
        s.close()
    return rs


def test_an_expired_copy_is_made_anew_once_while_the_others_wait(srv):
    url = made("Cache-Control: s-maxage=1", ms=300)
    first = get(srv, url).body
    kept_now(srv, url)
    time.sleep(1.1)
    rs = responses_at_once(srv, url, 6)
    bodies = {r.body for r in rs}
    assert len(bodies) == 1 and first not in bodies, "the app made it more than once"
    assert sorted(r.header("Age") is None for r in rs) == [False] * 5 + [True]
    assert get(srv, url).body in bodies


def test_the_first_requests_for_a_url_reach_the_app_once(srv):
    url = made("Cache-Control: s-maxage=60", ms=300)
    rs = responses_at_once(srv, url, 6)
    assert len({r.body for r in rs}) == 1, "the app made it more than once"
    assert sorted(r.header("Age") is None for r in rs) == [False] * 5 + [True]


def test_the_first_requests_for_a_url_not_kept_reach_the_app_after_the_first(srv):
    url = made("X-Kept: no", ms=300)
    rs = responses_at_once(srv, url, 3)
    assert len({r.body for r in rs}) == 3 and all(r.header("Age") is None for r in rs)
    # From now on the URL goes to the app at once.
    rs = responses_at_once(srv, url, 3)
    assert len({r.body for r in rs}) == 3


def test_a_stale_copy_answers_while_one_request_makes_it_anew(srv):
    url = made("Cache-Control: s-maxage=1, stale-while-revalidate=30", ms=int(400 * SLOW))
    first = get(srv, url).body
    kept_now(srv, url)
    time.sleep(1.1)
    refill = send_at_once(srv, url, 1)[0]
    time.sleep(0.1 * SLOW)
    stale = get(srv, url)
    assert stale.body == first and int(stale.header("Age")) >= 1, "the stale copy answers"
    fresh = Reader(refill).response(timeout=10)
    refill.close()
    assert fresh.body != first and fresh.header("Age") is None
    kept_now(srv, url)
    assert get(srv, url).body == fresh.body


def test_a_client_that_leaves_while_waiting_for_a_refill_costs_nothing(srv):
    url = made("Cache-Control: s-maxage=1", ms=300)
    get(srv, url)
    kept_now(srv, url)
    time.sleep(1.1)
    socks = send_at_once(srv, url, 4)
    time.sleep(0.05 * SLOW)
    socks[1].close()
    # Half-closed before its request ran: taken for a client that left, as
    # for a request that waits for an app thread.
    socks[2].shutdown(socket.SHUT_WR)
    assert Reader(socks[2]).closed()
    rs = [Reader(s).response(timeout=10) for s in (socks[0], socks[3])]
    assert len({r.body for r in rs}) == 1
    for s in socks:
        s.close()
    assert get(srv, made(SHARED)).status == 200


def test_head_is_answered_from_a_get_and_never_fills_the_cache(client):
    url = made(SHARED, size=500)
    h1 = client.get(url, method="HEAD")
    assert h1.header("Age") is None
    g = client.get(url)
    assert g.header("Age") is None, "a HEAD's response is not kept"
    h2 = client.get(url, method="HEAD")
    assert h2.header("Age") == "0"
    assert h2.header("Content-Length") == "500"
    assert h2.body == b""
    assert client.get(url).body == g.body, "the connection stays in step"


def test_a_current_copy_gets_304(client):
    url = made("Cache-Control: s-maxage=60", 'ETag: "abc"',
               "Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT")
    first = client.get(url)
    r = client.get(url, headers=[("If-None-Match", 'W/"abc"')])
    assert r.status == 304
    assert r.header("ETag") == '"abc"'
    assert r.header("Cache-Control") == "s-maxage=60"
    assert r.header("Age") == "0"
    assert r.header("Content-Length") is None and r.header("Content-Type") is None
    r = client.get(url, headers=[("If-None-Match", '"other"')])
    assert (r.status, r.body) == (200, first.body)
    r = client.get(url, headers=[("If-Modified-Since", "Tue, 14 Nov 2023 22:13:20 GMT")])
    assert r.status == 304
    r = client.get(url, headers=[("If-Modified-Since", "Tue, 14 Nov 2023 22:13:19 GMT")])
    assert (r.status, r.body) == (200, first.body)


def test_vary_keeps_a_copy_per_value(client):
    url = made("Cache-Control: s-maxage=60", "Vary: Accept-Language")
    en = client.get(url, headers=[("Accept-Language", "en")]).body
    fr = client.get(url, headers=[("Accept-Language", "fr")]).body
    plain = client.get(url).body
    assert len({en, fr, plain}) == 3
    assert client.get(url, headers=[("accept-language", "fr")]).body == fr
    assert client.get(url, headers=[("Accept-Language", "en")]).body == en
    assert client.get(url).body == plain


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_an_unsafe_request_drops_the_copies_of_its_url(client, method):
    url = made(SHARED, "Vary: Accept-Language", m=method)
    a = client.get(url).body
    b = client.get(url, headers=[("Accept-Language", "de")]).body
    other = made(SHARED, m=method + "-other")
    o = client.get(other).body
    r = client.get(url, method=method, body=b"x=1")
    assert r.status == 200
    assert client.get(url).body not in (a, b, r.body)
    assert client.get(url, headers=[("Accept-Language", "de")]).body != b
    assert client.get(other).body == o, "other URLs keep theirs"


def test_an_unsafe_request_that_fails_drops_nothing(client):
    url = made("Cache-Control: s-maxage=60", code=404)
    kept = client.get(url).body
    r = client.get(url, method="POST", body=b"")
    assert r.status == 404
    assert client.get(url).body == kept


def test_a_response_over_an_eighth_of_the_cache_is_not_kept(client):
    url = made(SHARED, size=140 * 1024)
    assert client.get(url).body != client.get(url).body
    url = made(SHARED, size=100 * 1024)
    assert client.get(url).body == client.get(url).body


def test_a_response_the_app_fails_is_not_kept(srv):
    url = made(SHARED, size=5000, chunks=3, fail=1)
    for _ in range(2):
        # Cut short each time: the app made it, and it was not kept.
        with pytest.raises(ConnClosed):
            request(srv, ("GET %s HTTP/1.1\r\nHost: test\r\n\r\n" % url).encode())


def test_pipelined_requests_mix_copies_and_app_answers_in_order(srv):
    url = made(SHARED, size=700)
    kept = get(srv, url).body
    kept_now(srv, url)
    one = "GET %s HTTP/1.1\r\nHost: test\r\n\r\n" % url
    app = "GET /made?x=p HTTP/1.1\r\nHost: test\r\n\r\n"
    with srv.connect() as s:
        s.sendall((one + app + one + one + app).encode())
        rd = Reader(s)
        rs = [rd.response() for _ in range(5)]
    assert [r.body == kept for r in rs] == [True, False, True, True, False]
    assert [r.header("Age") is not None for r in rs] == [True, False, True, True, False]


def test_http10_gets_a_copy_and_the_connection_closes(srv):
    url = made(SHARED)
    kept = get(srv, url).body
    kept_now(srv, url)
    with srv.connect() as s:
        s.sendall(("GET %s HTTP/1.0\r\nHost: test\r\n\r\n" % url).encode())
        rd = Reader(s)
        r = rd.response()
        assert (r.body, r.header("Age")) == (kept, "0")
        assert rd.closed()
    with srv.connect() as s:
        s.sendall(("GET %s HTTP/1.0\r\nHost: test\r\nConnection: keep-alive\r\n\r\n" % url).encode())
        rd = Reader(s)
        r = rd.response()
        assert r.header("Connection").lower() == "keep-alive"
        s.sendall(("GET %s HTTP/1.0\r\nHost: test\r\n\r\n" % url).encode())
        assert rd.response().body == kept


def test_a_small_cache_stays_within_its_bytes_under_many_urls():
    with Server("--builtin", "test", "--cache", "64k") as s:
        c = Client(s)
        for i in range(300):
            url = made(SHARED, size=2000, n=i)
            r = c.get(url)
            assert r.status == 200
        # The newest are kept, the oldest went.
        assert c.get(made(SHARED, size=2000, n=299)).header("Age") == "0"
        assert c.get(made(SHARED, size=2000, n=0)).header("Age") is None
        c.close()


def test_the_access_log_shows_answers_from_the_cache():
    with Server("--builtin", "test", "--cache", "1m", "--accesslog", "-",
                "--access-log-format", "%(r)s %(s)s %(b)s %(C)s %({Cache-Control}i)s") as s:
        c = Client(s)
        url = made(SHARED, size=321)
        c.get(url)
        kept_now(s, url)
        c.get(url, headers=[("If-None-Match", "*")])
        c.get(url)
        c.get(url, headers=[("Cache-Control", "no-cache")])
        c.get(url, method="POST", body=b"x")
        c.get(made("X-Kept: no"))
        c.get(made("X-Kept: no"))
        stale = made("Cache-Control: s-maxage=1, stale-while-revalidate=30", ms=int(500 * SLOW))
        c.get(stale)
        kept_now(s, stale)
        time.sleep(1.1)
        refill = send_at_once(s, stale, 1)[0]
        time.sleep(0.1 * SLOW)
        c.get(stale)
        Reader(refill).response(timeout=10)
        refill.close()
        c.close()
        # (kept_now's only-if-cached requests left out)
        want = [("200", "MISS"), ("304", "HIT"), ("200", "HIT"), ("200", "BYPASS"),
                ("200", "-"),  # the POST
                ("200", "MISS"), ("200", "MISS"),  # a URL not kept
                ("200", "MISS"),  # the stale URL, made
                ("200", "UPDATING"), ("200", "EXPIRED")]

        def logged():
            return [p for p in (ln.split() for ln in s.stdout_lines)
                    if "/made" in p[1] and p[-1] != "only-if-cached"]

        assert wait_until(lambda: len(logged()) == len(want)), logged()
        assert [(p[-4], p[-2]) for p in logged()] == want
        assert logged()[2][1] == url and logged()[2][-3] == "321", "a copy's bytes"


def test_a_bad_size_is_refused_with_the_key_named():
    out = run_srv("--builtin", "test", "--cache", "lots", "--check-config")
    assert out.returncode == 2
    assert "cache" in out.stderr and "lots" in out.stderr


@needs_python
def test_a_wsgi_app_s_response_is_kept(tmp_path):
    (tmp_path / "cached.py").write_text(
        "import itertools\n"
        "n = itertools.count()\n"
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain'),\n"
        "                              ('Cache-Control', 'public, max-age=30')])\n"
        "    yield b'call %d' % next(n)\n"
        "    yield b' of a generator'\n")
    with Server("--cache", "1m", "--chdir", str(tmp_path), "cached:app") as s:
        c = Client(s)
        first = c.get("/x")
        assert first.body == b"call 0 of a generator"
        again = c.get("/x")
        assert (again.body, again.header("Age")) == (first.body, "0")
        assert c.get("/y").body == b"call 1 of a generator"
        c.close()


@needs_python
def test_requests_that_wait_for_a_first_response_go_on_once_it_starts_unkept(tmp_path):
    # The first response for / streams until the second request for / has
    # reached the app: it is not kept, so the second needs not wait for its
    # end (which could be far: a stream of events).
    (tmp_path / "stream.py").write_text(
        "import itertools, threading\n"
        "n = itertools.count()\n"
        "second = threading.Event()\n"
        "def app(environ, start_response):\n"
        "    i = next(n)\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    if i > 0:\n"
        "        second.set()\n"
        "        return [b'second']\n"
        "    def stream():\n"
        "        yield b'first, '\n"
        "        yield b'with the second' if second.wait(5) else b'alone'\n"
        "    return stream()\n")
    with Server("--cache", "1m", "--threads", "2", "--chdir", str(tmp_path), "stream:app") as s:
        a = s.connect()
        a.settimeout(10 * SLOW)
        a.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        got = b""
        while b"first, " not in got:
            more = a.recv(4096)
            assert more, "closed"
            got += more
        assert get(s, "/").body == b"second"
        while not got.endswith(b"0\r\n\r\n"):
            more = a.recv(4096)
            assert more, "closed"
            got += more
        assert b"with the second" in got
        a.close()


@needs_python
def test_a_stale_copy_answers_while_the_app_fails_with_stale_if_error(tmp_path):
    (tmp_path / "down.py").write_text(
        "import itertools\n"
        "n = itertools.count()\n"
        "def app(environ, start_response):\n"
        "    if next(n) == 0:\n"
        "        start_response('200 OK', [('Cache-Control', 's-maxage=1, stale-if-error=60')])\n"
        "        return [b'kept']\n"
        "    raise RuntimeError('the database is down')\n")
    with Server("--cache", "1m", "--chdir", str(tmp_path), "--access-logfile", "-",
                "--access-logformat", "%(s)s %(C)s", "down:app") as s:
        assert get(s, "/").body == b"kept"
        time.sleep(1.1)
        assert get(s, "/").status == 500, "the request that refills gets the app's answer"
        r = get(s, "/")
        assert (r.status, r.body) == (200, b"kept") and int(r.header("Age")) >= 1
        assert get(s, "/", method="HEAD").status == 200
        time.sleep(1.1)
        assert get(s, "/").status == 500, "a second later one request tries again"
        assert get(s, "/").body == b"kept"
        # Each request came on a connection of its own, after the one before
        # was answered; a line is written once its exchange is over, so that
        # of a 500 (made by an app thread) may follow the next request's, a
        # copy the loop sent at once (seen under AddressSanitizer in CI).
        want = ["200 MISS", "500 EXPIRED", "200 STALE", "200 STALE", "500 EXPIRED", "200 STALE"]
        assert wait_until(lambda: sorted(ln for ln in s.stdout_lines
                                         if ln[:1] in "25") == sorted(want)), s.stdout_lines


@needs_python
def test_a_refill_that_is_not_kept_lets_the_waiters_reach_the_app(tmp_path):
    (tmp_path / "flaky.py").write_text(
        "import itertools, time\n"
        "n = itertools.count()\n"
        "def app(environ, start_response):\n"
        "    i = next(n)\n"
        "    if i == 0:\n"
        "        start_response('200 OK', [('Cache-Control', 's-maxage=1')])\n"
        "        return [b'kept']\n"
        "    time.sleep(0.3)\n"
        "    if i == 1:\n"
        "        raise RuntimeError('the refill fails')\n"
        "    start_response('200 OK', [])\n"
        "    return [b'call %d' % i]\n")
    with Server("--cache", "1m", "--chdir", str(tmp_path), "flaky:app") as s:
        assert get(s, "/").body == b"kept"
        time.sleep(1.1)
        rs = responses_at_once(s, "/", 3)
        assert sorted(r.status for r in rs) == [200, 200, 500]
        assert sorted(r.body for r in rs if r.status == 200) == [b"call 2", b"call 3"]
