"""The example Flask site with its pages marked for a shared cache
(Cache-Control: public, max-age=60), for bench/compare's `cache` profile:
srv's --cache, nginx's proxy_cache in front of gunicorn, and uWSGI's cache
router then answer them from memory. Run from examples/site (--chdir)."""
from app import app as site


def app(environ, start_response):
    def start(status, headers, exc_info=None):
        if environ["REQUEST_METHOD"] == "GET" and status.startswith("200"):
            headers = headers + [("Cache-Control", "public, max-age=60")]
        return start_response(status, headers, exc_info)

    return site(environ, start)
