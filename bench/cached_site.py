"""The example Flask site with its pages marked for a shared cache
(Cache-Control: public, max-age=60, or $BENCH_CACHE_CONTROL), for
bench/compare's `cache` profile and bench/cold_burst:
srv's --cache, nginx's proxy_cache in front of gunicorn, and uWSGI's cache
router then answer them from memory. Run from examples/site (--chdir).

With $BENCH_RENDER_LOG set to a file, each call of the app appends a byte
to it, so that bench/cold_burst can count the pages the app made, whichever
server and process made them; with $BENCH_SLEEP_MS, each call first waits
that long (a slow database or API, without the CPU); while the file
$BENCH_DOWN_FILE exists, each call fails (a database that is down: 500)."""
import os
import time

from app import app as site

CACHE_CONTROL = os.environ.get("BENCH_CACHE_CONTROL", "public, max-age=60")
SLEEP_S = int(os.environ.get("BENCH_SLEEP_MS", "0")) / 1000
DOWN = os.environ.get("BENCH_DOWN_FILE")
LOG = os.environ.get("BENCH_RENDER_LOG")
LOG_FD = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if LOG else None


def app(environ, start_response):
    if LOG_FD is not None:
        os.write(LOG_FD, b".")
    if SLEEP_S:
        time.sleep(SLEEP_S)
    if DOWN and os.path.exists(DOWN):
        raise RuntimeError("the database is down")

    def start(status, headers, exc_info=None):
        if environ["REQUEST_METHOD"] == "GET" and status.startswith("200"):
            headers = headers + [("Cache-Control", CACHE_CONTROL)]
        return start_response(status, headers, exc_info)

    return site(environ, start)
