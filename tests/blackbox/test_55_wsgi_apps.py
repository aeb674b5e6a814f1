"""Real apps under srv: the Flask example site, a Django project, a bare
WSGI app; the site under load; and a leak check over 200,000 requests."""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from srvtest import SANITIZED, Reader, Server, get, request, rss_kb

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
SITE = os.path.join(ROOT, "examples", "site")
EXAMPLES = os.path.join(ROOT, "examples")
DJSITE = os.path.join(os.path.dirname(__file__), "apps", "djsite")

needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")


def have(module):
    return subprocess.run(["/usr/bin/python3", "-c", "import " + module],
                          capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not have("flask"):
        pytest.skip("python3-flask is not installed")
    db = str(tmp_path_factory.mktemp("site") / "site.db")
    with Server("--chdir", SITE, "app:app", env={"SITE_DB": db}) as s:
        yield s
        assert "Traceback" not in s.log(), s.log()


def test_bare_wsgi_hello():
    with Server("--chdir", EXAMPLES, "hello:app") as s:
        r = get(s)
        assert (r.status, r.body) == (200, b"Hello, World!")
        assert r.header("Content-Length") == "13"


def test_flask_site_pages(site):
    r = get(site, "/")
    assert r.status == 200
    assert r.header("Content-Type") == "text/html; charset=utf-8"
    assert r.body.count(b'<article class="card">') == 380
    assert r.body.rstrip().endswith(b"</html>")
    r = get(site, "/lesson/3")
    assert r.status == 200 and b"Step 24" in r.body
    assert get(site, "/lesson/999").status == 404
    j = get(site, "/api/lessons").json()
    assert len(j) == 380 and j[0]["id"] == 1
    assert get(site, "/health").body == b"OK"


def test_flask_head_and_keep_alive(site):
    with site.connect() as s:
        rd = Reader(s)
        for path in (b"/", b"/lesson/7", b"/health"):
            s.sendall(b"HEAD " + path + b" HTTP/1.1\r\nHost: a\r\n\r\n")
            resp = rd.response(head=True)
            assert resp.status == 200 and int(resp.header("Content-Length")) > 0
        s.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
        assert rd.response().body == b"OK"


WRK_CHECK = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; good = 0 end
function response(status, headers, body)
  if status == 200 and body:find("</html>", 1, true) then good = good + 1
  else bad = bad + 1 end
end
function done(summary, latency, requests)
  local b, g = 0, 0
  for _, t in ipairs(threads) do b = b + t:get("bad"); g = g + t:get("good") end
  local e = summary.errors
  io.write(string.format("CHECK good=%d bad=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    g, b, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@needs_wrk
def test_flask_site_under_load(site):
    """wrk -c64 for 10 s: no errors, and every response a complete page."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_CHECK)
    try:
        out = subprocess.run(["wrk", "-t1", "-c64", "-d10s", "--timeout", "10s", "-s", f.name,
                              "http://127.0.0.1:%d/lesson/5" % site.port],
                             capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(f.name)
    m = re.search(r"CHECK good=(\d+) bad=(\d+) connect=(\d+) read=(\d+) write=(\d+) "
                  r"status=(\d+) timeout=(\d+)", out.stdout)
    assert m, out.stdout + out.stderr
    good, bad, *errors = (int(x) for x in m.groups())
    assert good > 500, out.stdout
    assert bad == 0 and sum(errors) == 0, out.stdout


def pipelined(server, n, batch=100):
    """Sends n GETs on one connection, batch at a time; all must be 200."""
    with server.connect() as s:
        rd = Reader(s)
        sent = 0
        while sent < n:
            k = min(batch, n - sent)
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" * k)
            for _ in range(k):
                assert rd.response().status == 200
            sent += k


@needs_wrk
@pytest.mark.skipif(SANITIZED != "", reason="RSS means nothing under a sanitizer")
def test_no_leak_over_200000_requests():
    with Server("--chdir", EXAMPLES, "hello:app") as s:
        pipelined(s, 10000)
        base = rss_kb(s.worker_pid())
        total = 10000
        while total < 200000:
            out = subprocess.run(["wrk", "-t1", "-c10", "-d3s", "http://127.0.0.1:%d/" % s.port],
                                 capture_output=True, text=True, timeout=60)
            m = re.search(r"(\d+) requests in", out.stdout)
            assert m and "Non-2xx" not in out.stdout and "Socket errors" not in out.stdout, out.stdout
            total += int(m.group(1))
        grown = rss_kb(s.worker_pid()) - base
        assert grown < 4 * 1024, "RSS grew by %d KB over %d requests" % (grown, total)


@pytest.fixture(scope="module")
def django_srv():
    if not have("django"):
        pytest.skip("python3-django is not installed")
    with Server("--chdir", DJSITE, "djsite.wsgi:validated") as s:
        yield s
        log = s.log()
        assert "WSGIWarning" not in log and "AssertionError" not in log and "Traceback" not in log, log


def test_django_pages(django_srv):
    r = get(django_srv, "/?name=srv%20test")
    assert r.status == 200
    assert r.body.count(b"<li>") == 5 and b"srv test" in r.body
    j = request(django_srv, b"POST /echo/ HTTP/1.1\r\nHost: example.org\r\nX-Test: yes\r\n"
                            b"Content-Type: application/x-www-form-urlencoded\r\n"
                            b"Content-Length: 7\r\n\r\na=1&b=2").json()
    assert j == {"method": "POST", "path": "/echo/", "body": "a=1&b=2", "host": "example.org",
                 "header": "yes"}
    r = get(django_srv, "/stream/")
    assert r.body == b"part0 part1 part2 part3 "
    assert get(django_srv, "/nowhere/").status == 404
