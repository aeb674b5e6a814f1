"""WSGI apps for the black-box tests.

`app` dispatches on the first path segment. Most routes are wrapped in
wsgiref.validate.validator, which asserts PEP 3333 on both sides (environ,
start_response, the iterable, wsgi.input); a violation becomes an
AssertionError or a WSGIWarning in srv's error log, and the tests fail on
either. Routes that break PEP 3333 on purpose (to test srv's defences) are
not wrapped.
"""
import io
import json
import os
import sys
import threading
import time
from wsgiref.validate import validator

CLOSED = {"count": 0}
LOCK = threading.Lock()


def text(start_response, body, status="200 OK", ctype="text/plain"):
    if isinstance(body, str):
        body = body.encode("utf-8")
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]


def as_json(start_response, obj):
    return text(start_response, json.dumps(obj), ctype="application/json")


class Closing:
    """An iterable that records its close()."""

    def __init__(self, chunks, delay=0.0):
        self.chunks = chunks
        self.delay = delay

    def __iter__(self):
        for c in self.chunks:
            if self.delay:
                time.sleep(self.delay)
            yield c

    def close(self):
        with LOCK:
            CLOSED["count"] += 1


# ---- validated routes -------------------------------------------------------

def environ_app(environ, start_response):
    out = {k: v for k, v in environ.items() if isinstance(v, str)}
    out["wsgi.version"] = list(environ["wsgi.version"])
    for k in ("wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once",
              "wsgi.input_terminated"):
        out[k] = environ[k]
    out["has_file_wrapper"] = callable(environ.get("wsgi.file_wrapper"))
    return as_json(start_response, out)


def read_app(environ, start_response):
    """Reads the body the way the query says, returns it (latin-1 JSON)."""
    inp = environ["wsgi.input"]
    mode = environ["QUERY_STRING"] or "read-n"
    parts = []
    if mode == "read-n":  # read(n) until empty
        while True:
            b = inp.read(1000)
            if not b:
                break
            parts.append(b)
    elif mode == "readline":
        while True:
            b = inp.readline()
            if not b:
                break
            parts.append(b)
    elif mode == "readline-limit":
        while True:
            b = inp.readline(7)
            if not b:
                break
            assert len(b) <= 7
            parts.append(b)
    elif mode == "readlines":
        parts = inp.readlines()
    elif mode == "iter":
        parts = list(inp)
    elif mode == "past-end":
        parts.append(inp.read(10 ** 6))
        parts.append(inp.read(10))
        parts.append(inp.readline())
    body = b"".join(parts)
    return as_json(start_response, {"mode": mode, "length": len(body), "pieces": len(parts),
                                    "sizes": [len(p) for p in parts],
                                    "body": body.decode("latin-1")})


def write_app(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"written ")
    write(b"twice ")
    return [b"then returned"]


def generator_app(environ, start_response):
    # start_response is called lazily, inside the generator (PEP 3333).
    def gen():
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b""
        yield b"lazy "
        yield b"generator"
    return gen()


def stream_app(environ, start_response):
    n = int(environ["QUERY_STRING"] or "3")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Closing([b"chunk%d\n" % i for i in range(n)])


def sized_app(environ, start_response):
    # A body of known length from an iterator (as Flask's responses are):
    # the server learns it has ended only at the next step, which here
    # computes for 2 ms after the last chunk, or sleeps for ?N&after=MS.
    n, _, after = environ["QUERY_STRING"].partition("&after=")
    chunks = [b"x" * 1000] * int(n or "1")
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(sum(map(len, chunks))))])

    def gen():
        yield from chunks
        if after:
            time.sleep(int(after) / 1000)
        else:
            spin({"ms": "2"})
    return gen()


def pattern(i, n):
    """n bytes that differ from part to part and within one."""
    p = bytes((i * 37 + k) % 251 for k in range(251))
    return (p * (n // 251 + 1))[:n]


def parts_app(environ, start_response):
    # ?sizes=A,B,..&late=MS: the parts pattern(0, A), pattern(1, B), ... as
    # one body of known length, after MS ms (announced in the error log);
    # returned as an iterator, or on /parts-list as the list itself (which
    # the validator would hide behind its own iterator).
    q = dict(p.split("=", 1) for p in environ["QUERY_STRING"].split("&") if "=" in p)
    parts = [pattern(i, int(n)) for i, n in enumerate(q.get("sizes", "10").split(","))]
    late = int(q.get("late", "0"))
    if late:
        print("parts: answering in %d ms" % late, file=sys.stderr, flush=True)
        time.sleep(late / 1000)
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(sum(map(len, parts))))])
    return parts if environ["PATH_INFO"] == "/parts-list" else iter(parts)


def slow_stream_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Closing([b"x" * 1000] * 1000, delay=0.01)


def closed_app(environ, start_response):
    with LOCK:
        return as_json(start_response, dict(CLOSED))


def file_app(environ, start_response):
    path = environ["QUERY_STRING"]
    f = open(path, "rb")
    size = os.path.getsize(path)
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(size))])
    return environ["wsgi.file_wrapper"](f, 65536)


def file_tail_app(environ, start_response):
    """A file the app already read part of: send from where it stopped."""
    path = environ["QUERY_STRING"]
    f = open(path, "rb")
    f.read(100)
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return environ["wsgi.file_wrapper"](f)


def filelike_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return environ["wsgi.file_wrapper"](io.BytesIO(b"from a BytesIO " * 100), 64)


def raise_before_app(environ, start_response):
    raise ValueError("the app failed before responding")


def raise_after_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def gen():
        yield b"partial"
        raise ValueError("the app failed mid-body")
    return gen()


def exc_info_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        raise KeyError("oops")
    except KeyError:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")],
                       sys.exc_info())
    return [b"replaced by the error page"]


def status_app(environ, start_response):
    code = environ["QUERY_STRING"] or "200"
    start_response("%s Whatever" % code,
                   [] if code in ("204", "304") else [("Content-Type", "text/plain")])
    return [b"a body that 204 and 304 must not carry"]


def unicode_app(environ, start_response):
    return as_json(start_response, {"PATH_INFO": environ["PATH_INFO"],
                                    "utf8": environ["PATH_INFO"].encode("latin-1").decode(
                                        "utf-8", "replace")})


def timed(work):
    """An app that runs work(query) and answers when it started and ended
    (time.monotonic, one clock for every process of the machine)."""
    def timed_app(environ, start_response):
        start = time.monotonic()
        work(dict(p.split("=", 1) for p in environ["QUERY_STRING"].split("&") if "=" in p))
        return as_json(start_response, {"start": start, "end": time.monotonic()})
    return timed_app


def nap(query):
    time.sleep(float(query.get("s", "0.5")))  # waits without the interpreter


def spin(query):
    end = time.thread_time() + float(query.get("ms", "50")) / 1000.0
    while time.thread_time() < end:  # computes: its own CPU time, however busy the machine
        pass


VALIDATED = {
    "nap": timed(nap), "spin": timed(spin),
    "environ": environ_app, "read": read_app, "write": write_app, "generator": generator_app,
    "stream": stream_app, "sized": sized_app, "slow-stream": slow_stream_app, "closed": closed_app,
    "parts": parts_app,
    "filelike": filelike_app,
    "raise-before": raise_before_app, "raise-after": raise_after_app,
    "exc-info": exc_info_app, "status": status_app, "unicode": unicode_app,
}
VALIDATED = {k: validator(v) for k, v in VALIDATED.items()}


# ---- routes that break the rules on purpose (not validated) -------------------

def read_all_app(environ, start_response):
    body = environ["wsgi.input"].read()  # no size: validator forbids it, PEP allows it
    return as_json(start_response, {"length": len(body)})


def bad_header_app(environ, start_response):
    start_response("200 OK", [("X-Evil", "a\r\nSet-Cookie: injected=1")])
    return [b"never sent"]


def bad_name_app(environ, start_response):
    start_response("200 OK", [("Bad Name", "v")])
    return [b"never sent"]


def bad_status_app(environ, start_response):
    start_response("twohundred", [])
    return [b"never sent"]


def not_bytes_app(environ, start_response):
    start_response("200 OK", [])
    return ["a str, not bytes"]


def no_start_app(environ, start_response):
    return [b"start_response was never called"]


def sysexit_app(environ, start_response):
    raise SystemExit(3)


def kbint_app(environ, start_response):
    raise KeyboardInterrupt()


def ignore_body_error_app(environ, start_response):
    try:
        environ["wsgi.input"].read()
    except OSError as e:
        return text(start_response, "caught: %s" % e.__class__.__name__)
    return text(start_response, "read fine")


def keep_start_response_app(environ, start_response):
    KEPT.append((start_response, environ["wsgi.input"]))
    return text(start_response, "kept")


def use_kept_app(environ, start_response):
    sr, inp = KEPT[-1]
    out = []
    for fn in (lambda: sr("200 OK", []), lambda: inp.read(1)):
        try:
            fn()
            out.append("no error")
        except (RuntimeError, ValueError) as e:
            out.append(type(e).__name__)
    return as_json(start_response, out)


KEPT = []


def stash_headers_app(environ, start_response):
    # /stash-headers keeps this request's header values; /stashed-refs then
    # says how many references each has: one more than the app's own and
    # getrefcount's argument means someone else (srv) holds it too.
    if environ["PATH_INFO"].startswith("/stash-headers"):
        STASHED.clear()
        STASHED.update((k, v) for k, v in environ.items() if k.startswith("HTTP_"))
        return text(start_response, "stashed")
    refs = {}
    for k in STASHED:  # minus the dict's reference and getrefcount's argument
        refs[k] = sys.getrefcount(STASHED[k]) - 2
    return as_json(start_response, refs)


STASHED = {}


class BadClose:
    """A result whose close attribute fails with something other than
    AttributeError."""

    def __iter__(self):
        yield b"body"

    @property
    def close(self):
        raise RuntimeError("close is broken")


def bad_close_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
    return BadClose()


def start_response_forms_app(environ, start_response):
    # wsgiref.validate allows positional arguments only; PEP 3333 names them.
    out = []
    for args, kw in ((("200 OK",), {}), (("200 OK", [], None, 1), {}),
                     ((), {"status": "200 OK"}), (("200 OK", []), {"bogus": 1})):
        try:
            start_response(*args, **kw)
            out.append("accepted")
        except TypeError:
            out.append("TypeError")
    start_response(status="200 OK", headers=[("Content-Type", "application/json")], exc_info=None)
    return [json.dumps(out).encode()]

def quick_app(environ, start_response):
    """As little Python as a request can take (no validator around it):
    for the tests of what srv does while requests take microseconds."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


UNVALIDATED = {
    "quick": quick_app,
    # The validator wraps every result in its own iterator, which would hide
    # the file_wrapper from srv (no sendfile): these two stay unwrapped.
    "file": file_app, "file-tail": file_tail_app, "parts-list": parts_app,
    "read-all": read_all_app, "bad-header": bad_header_app, "bad-name": bad_name_app,
    "bad-status": bad_status_app, "not-bytes": not_bytes_app, "no-start": no_start_app,
    "sysexit": sysexit_app, "kbint": kbint_app, "ignore-body-error": ignore_body_error_app,
    "keep": keep_start_response_app, "use-kept": use_kept_app,
    "start-response-forms": start_response_forms_app, "bad-close": bad_close_app,
    "stash-headers": stash_headers_app, "stashed-refs": stash_headers_app,
}


def app(environ, start_response):
    first = environ["PATH_INFO"].strip("/").split("/")[0]
    handler = VALIDATED.get(first) or UNVALIDATED.get(first)
    if handler is None:
        return text(start_response, "no route %r" % first, status="404 Not Found")
    return handler(environ, start_response)


def factory(greeting="hi"):
    def made(environ, start_response):
        return text(start_response, "%s from a factory" % greeting)
    return made


application = app
