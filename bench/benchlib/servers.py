"""What bench/compare runs: the apps, the servers' command lines, and
starting and stopping them (a stop signal included)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request


# bench/ and the project's root: this file is bench/benchlib/servers.py.
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(HERE)


PY = "/usr/bin/python3"  # Debian's: the peers and Flask are installed for it


APT_HINT = ("apt-get install gunicorn python3-waitress uwsgi-core uwsgi-plugin-python3 "
            "python3-gevent python3-whitenoise wrk nginx-light")


# ---- apps -----------------------------------------------------------------


EXAMPLES = os.path.join(ROOT, "examples")
SITE = os.path.join(EXAMPLES, "site")
APPS = {
    # name: (directory, module:app, path, a substring the body must hold)
    "hello": (EXAMPLES, "hello:app", "/", b"Hello, World!"),
    # The same, each request on a connection of its own (below).
    "hello-close": (EXAMPLES, "hello:app", "/", b"Hello, World!"),
    "big": (EXAMPLES, "big:app", "/", b"x" * 64),
    "site-index": (SITE, "app:app", "/", b"</html>"),
    "site-lesson": (SITE, "app:app", "/lesson/3", b"</html>"),
    # The site's stylesheet: a file each server sends as it can (below).
    "static": (SITE, "app:app", "/static/site.css", b"font-family"),
    # The site's pages marked for a shared cache (bench/cached_site.py), which
    # each server keeps as it can (below).
    "cache-lesson": (SITE, "cached_site:app", "/lesson/3", b"</html>"),
    "cache-index": (SITE, "cached_site:app", "/", b"</html>"),
}
# Apps whose files a server may send itself: URL prefix -> directory. srv
# (--static), uWSGI (--static-map) and nginx do; gunicorn and waitress
# leave it to the app (Flask's static route), or to WhiteNoise.
STATIC = {"static": ("/static", os.path.join(SITE, "static"))}
# Apps whose responses a server may keep: srv (--cache), uWSGI (its cache
# router) and nginx's proxy_cache in front of gunicorn (nginx-cache) do.
CACHED = ("cache-lesson", "cache-index")
CACHE_BYTES = 64 * 1024 * 1024
# Apps loaded with `Connection: close`, a connection for every request:
# what a server behind nginx gets from proxy_pass by default (HTTP/1.0 to
# the upstream, unless proxy_http_version 1.1 and an upstream keepalive).
CLOSE = ("hello-close",)
# Apps whose reference line is nginx's own `return 200`.
HELLO = ("hello", "hello-close")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- servers --------------------------------------------------------------


def srv_bin():
    return os.environ.get("SRV_BIN", os.path.join(ROOT, "build", "service", "srv"))


def server_commands(args, app_dir, module, tmp, static=None, cached=False):
    """name -> (argv builder(port), needs) for every configuration; static:
    (prefix, directory) for the servers that send files themselves; cached:
    the servers that can keep responses do (the app is bench/'s)."""
    w, t = args.srv_workers, args.srv_threads
    own = ["--static", "%s=%s" % static] if static else []
    if cached:
        own += ["--cache", str(CACHE_BYTES), "--pythonpath", HERE]
    gpath = ["--pythonpath", HERE] if cached else []
    cfg = {}
    cfg["srv"] = (lambda p: [srv_bin(), "-b", "127.0.0.1:%d" % p, "-w", str(w), "--threads",
                             str(t), "--chdir", app_dir, module] + own, [srv_bin()])
    cfg["gunicorn-sync"] = (lambda p: [PY, "-m", "gunicorn", "-k", "sync", "-w", "4",
                                       "-b", "127.0.0.1:%d" % p, "--chdir", app_dir,
                                       "--log-level", "warning", module], ["gunicorn"])
    def gthread(p):
        return [PY, "-m", "gunicorn", "-k", "gthread", "-w", str(args.peer_workers),
                "--threads", str(args.peer_threads), "-b", "127.0.0.1:%d" % p, "--chdir",
                app_dir, "--log-level", "warning"] + gpath + [module]

    cfg["gunicorn-gthread"] = (gthread, ["gunicorn"])
    if cached:
        # nginx's proxy_cache in front of gunicorn gthread: how a gunicorn
        # user keeps pages ("micro-caching"). Both stop with the group.
        def nginx_cache(p, lock=False):
            return in_front(tmp, p, gthread, lock=lock)

        cfg["nginx-cache"] = (nginx_cache, ["gunicorn", "nginx"])
        # The same with proxy_cache_lock on (off by default): one request
        # per page goes to gunicorn while the others wait for it.
        cfg["nginx-cache-lock"] = (lambda p: nginx_cache(p, lock=True), ["gunicorn", "nginx"])
    cfg["gunicorn-gevent"] = (lambda p: [PY, "-m", "gunicorn", "-k", "gevent", "-w", "2",
                                         "--worker-connections", "1000",
                                         "-b", "127.0.0.1:%d" % p, "--chdir", app_dir,
                                         "--log-level", "warning", module],
                              ["gunicorn", "gevent"])
    cfg["gunicorn-whitenoise"] = (lambda p: [PY, "-m", "gunicorn", "-k", "gthread", "-w",
                                             str(args.peer_workers), "--threads",
                                             str(args.peer_threads), "-b", "127.0.0.1:%d" % p,
                                             "--chdir", app_dir, "--pythonpath", HERE,
                                             "--log-level", "warning", "whitenoise_site:app"],
                                  ["gunicorn", "whitenoise"])
    for th in (4, 6):
        cfg["waitress-%d" % th] = (lambda p, th=th: [PY, "-m", "waitress", "--threads", str(th),
                                                     "--listen", "127.0.0.1:%d" % p, module],
                                   ["waitress"])
    # --http11-socket keeps connections alive (HTTP/1.1 with a length), which
    # the comparison needs to be fair; --http-keepalive is for uWSGI's router.
    cfg["uwsgi"] = (lambda p: ["uwsgi", "--plugin", "python3", "--http11-socket",
                               "127.0.0.1:%d" % p, "--master", "--processes",
                               str(args.peer_workers), "--threads", str(args.peer_threads),
                               "--chdir", app_dir, "--module", module, "--disable-logging",
                               "--die-on-term", "--enable-threads", "--thunder-lock"]
                    # Without TCP_NODELAY, uWSGI's file waits for the ACK of its head:
                    # 40 ms a request.
                    + (["--static-map", "%s=%s" % static, "--tcp-nodelay"] if static else [])
                    # Its cache router: a GET is answered from the cache, or its
                    # response stored for 60 s (uWSGI reads no Cache-Control).
                    + (["--plugin", "router_cache", "--pythonpath", HERE, "--cache2",
                        "name=pages,items=1000,blocksize=262144",
                        "--route-if", "equal:${REQUEST_METHOD};GET cache:key=${REQUEST_URI},"
                        "name=pages",
                        "--route-if", "equal:${REQUEST_METHOD};GET cachestore:"
                        "key=${REQUEST_URI},name=pages,expires=60"] if cached else []),
                    ["uwsgi"])
    return cfg


def in_front(tmp, port, build, **nginx):
    """The command line of nginx on port in front of the server that
    build(port) starts on a free port (nginx_command's upstream, with
    nginx's other arguments): both stop with the process group."""
    up = free_port()
    return (["sh", "-c", 'exec "$0" "$@" & exec ' + " ".join(
        nginx_command(tmp, port, upstream=up, **nginx))] + build(up))


def behind_nginx(tmp, build, keepalive=False):
    """build, for a server behind nginx as gunicorn's docs show it:
    proxy_pass with nginx's defaults (no proxy_cache, no upstream
    keepalive), so that every request reaches the server on a connection
    of its own, as HTTP/1.0; with keepalive, as srv's docs/deploy.md does:
    HTTP/1.1 and an upstream keepalive of 32 connections per nginx worker."""
    return lambda p: in_front(tmp, p, build, cache=False, keepalive=keepalive)


def nginx_command(tmp, port, static=None, upstream=None, lock=False, cache=True,
                  keepalive=False):
    """nginx on port: `return 200` with its hello, static's files, or with
    upstream, a proxy in front of the server on that port: a proxy_cache
    (with proxy_cache_lock if lock) or, without cache, proxy_pass alone
    (keeping connections to the server alive if keepalive)."""
    conf = os.path.join(tmp, "nginx-%d.conf" % port)
    if upstream and not cache and keepalive:
        location = ("    location / { proxy_pass http://app; proxy_http_version 1.1;\n"
                    "      proxy_set_header Connection \"\"; proxy_set_header Host $host; }\n")
        zone = "  upstream app { server 127.0.0.1:%d; keepalive 32; }\n" % upstream
    elif upstream and not cache:
        location = ("    location / { proxy_pass http://127.0.0.1:%d;\n"
                    "      proxy_set_header Host $host; }\n" % upstream)
        zone = ""
    elif upstream:
        location = ("    location / { proxy_pass http://127.0.0.1:%d; proxy_http_version 1.1;\n"
                    "      proxy_set_header Connection \"\"; proxy_set_header Host $host;\n"
                    "      proxy_cache pages;%s }\n"
                    % (upstream, " proxy_cache_lock on;" if lock else ""))
        zone = ("  proxy_cache_path %s/cache-%d keys_zone=pages:10m max_size=%d;\n"
                % (tmp, port, CACHE_BYTES))
    else:
        location = ('    location / { default_type text/plain; return 200 "Hello, World!"; }\n'
                    + ("    location %s/ { alias %s/; }\n" % static if static else ""))
        zone = ""
    with open(conf, "w") as f:
        f.write("""worker_processes %(procs)d;
daemon off;
error_log %(tmp)s/nginx-error.log;
pid %(tmp)s/nginx-%(port)d.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  client_body_temp_path %(tmp)s;
  proxy_temp_path %(tmp)s;
  fastcgi_temp_path %(tmp)s;
  uwsgi_temp_path %(tmp)s;
  scgi_temp_path %(tmp)s;
%(zone)s  server {
    listen 127.0.0.1:%(port)d;
%(location)s  }
}
""" % {"tmp": tmp, "port": port, "zone": zone, "location": location,
       # In front of an app: two processes, as srv has in `cache` and `proxied`.
       "procs": 2 if upstream else 1})
    return ["nginx", "-c", conf, "-p", tmp]


def have(need):
    if need in ("gunicorn", "waitress", "gevent", "whitenoise"):
        return subprocess.run([PY, "-c", "import %s" % need], capture_output=True).returncode == 0
    if os.path.isabs(need):
        return os.access(need, os.X_OK)
    return shutil.which(need) is not None


# ---- running --------------------------------------------------------------


def on_stop_signal(signum, frame):
    """SIGTERM, SIGHUP: end the run as Ctrl-C does (finally: stop_all). One
    that comes while a server is being started waits until the server is
    on Running.started: raised inside Popen, after the exec, the exit
    would leave that server serving."""
    if Running.spawning:
        Running.stop_signal = signum
    else:
        sys.exit(128 + signum)


def install_stop_handlers():
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_stop_signal)


class Running:
    started = []  # every server started and not stopped yet (stop_all)
    spawning = False
    stop_signal = 0

    def __init__(self, argv, cwd, env, log):
        self.log = open(log, "wb")
        Running.spawning = True
        try:
            self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=self.log,
                                         stderr=self.log, start_new_session=True)
            Running.started.append(self)
        finally:
            Running.spawning = False
            if Running.stop_signal:  # even when Popen failed: the run was stopped
                sys.exit(128 + Running.stop_signal)

    @staticmethod
    def stop_all():
        """Stops every server started, those that never answered and those
        started when a signal ended the run (SystemExit) included."""
        while Running.started:
            Running.started.pop().stop()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.log.close()


def wait_ready(port, path, expect, proc, timeout=30):
    url = "http://127.0.0.1:%d%s" % (port, path)
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                body = r.read()
                if r.status != 200 or expect not in body:
                    raise RuntimeError("wrong response from %s: %d %r" % (url, r.status,
                                                                         body[:200]))
                return
        except (OSError, urllib.error.URLError) as e:
            last = e
            time.sleep(0.1)
    raise RuntimeError("no answer from %s: %s" % (url, last))
