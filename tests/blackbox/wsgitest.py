"""WsgiServer: srv running tests/blackbox/apps/wsgi_apps.py, for the WSGI
tests (test_50_wsgi.py, test_51_wsgi_flow.py)."""
import os
import sys

from srvtest import Server

APPS = os.path.join(os.path.dirname(__file__), "apps")
sys.path.insert(0, APPS)


class WsgiServer(Server):
    """A server running tests/blackbox/apps/wsgi_apps.py; on stop, its log
    must hold no PEP 3333 complaint from wsgiref.validate."""

    def __init__(self, *args, spec="wsgi_apps:app", expect_log=(), **kw):
        self.expect_log = expect_log
        super().__init__("--chdir", APPS, spec, *args, **kw)

    def stop(self, *a, **kw):
        rc = super().stop(*a, **kw)
        log = self.log()
        for bad in ("WSGIWarning", "AssertionError"):
            if bad in log and bad not in self.expect_log:
                raise AssertionError("wsgiref.validate complained:\n" + log)
        return rc
