#!/bin/sh
# Builds the .deb, installs it on this machine with dpkg, checks what a
# user would run first (srv --version, srv --check-config on the shipped
# config, the man page, the unit files with systemd-analyze, a request to
# the installed srv), then purges it.
# Usage: tests/package/deb-test.sh BUILD_DIR
# Exit 77 (skipped) without root or dpkg, or when a srv package is already
# installed (this test never touches a real installation).
set -eu
build=$(cd "$1" && pwd)
[ "$(id -u)" = 0 ] || { echo "deb-test: skipped (needs root)"; exit 77; }
command -v dpkg >/dev/null || { echo "deb-test: skipped (no dpkg)"; exit 77; }
if dpkg -s srv >/dev/null 2>&1; then
    echo "deb-test: skipped (a srv package is installed already)"; exit 77
fi

fail() { echo "deb-test: FAIL: $*"; exit 1; }
log=$(mktemp)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    dpkg --purge srv >/dev/null 2>&1 || true
    rm -f "$log"
}
trap cleanup EXIT

rm -f "$build"/srv_*.deb
cmake --build "$build" --target package >/dev/null
deb=$(ls "$build"/srv_*.deb)
dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb"

/usr/bin/srv --version | grep -q "^srv [0-9]" || fail "srv --version"
/usr/bin/srv --check-config /etc/srv/srv.ini | grep -q "configuration OK" ||
    fail "srv --check-config /etc/srv/srv.ini"
grep -qx /etc/srv/srv.ini /var/lib/dpkg/info/srv.conffiles || fail "srv.ini is not a conffile"
zcat /usr/share/man/man1/srv.1.gz | grep -q '^\.TH SRV 1' || fail "man page"
if command -v man >/dev/null; then
    man -w srv >/dev/null || fail "man -w srv"
fi
for u in srv.service srv.socket; do
    [ -f /usr/lib/systemd/system/$u ] || fail "$u not installed"
done
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify --man=no /usr/lib/systemd/system/srv.service \
        /usr/lib/systemd/system/srv.socket || fail "systemd-analyze verify"
fi

# serves WHAT EXPECTED SRV_ARGS...: the installed srv, started with the
# arguments on a free port, answers GET / with EXPECTED and stops cleanly.
serves() {
    what=$1 expected=$2
    shift 2
    # Emptied here, not only by the redirection: the child truncates the
    # log when it runs, and until then the loop below would read the port
    # of the server before (gone: connection refused). The pid makes sure.
    : >"$log"
    /usr/bin/srv -b 127.0.0.1:0 -w 1 "$@" >"$log" 2>&1 &
    pid=$!
    port=""
    for _ in $(seq 1 100); do
        port=$(sed -n "s/.*Listening at http:\/\/127\.0\.0\.1:\([0-9]*\) (pid $pid,.*/\1/p" "$log")
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$log"; fail "installed srv did not serve $what"; }
    body=$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/', timeout=10).read().decode())")
    [ "$body" = "$expected" ] || fail "installed srv served $what as '$body'"
    kill "$pid"
    wait "$pid" || fail "installed srv ($what) did not stop cleanly"
    pid=""
}

# The installed binary with the installed config.
serves "the default config" "Hello, World!" -c /etc/srv/srv.ini

# And a WSGI app: the installed srv finds its Python module in /usr/lib/srv.
app=$(mktemp -d)
printf 'def app(environ, start_response):\n    start_response("200 OK", [])\n    return [b"from the deb"]\n' >"$app/debapp.py"
serves "a WSGI app" "from the deb" --chdir "$app" debapp:app
rm -rf "$app"

dpkg --purge srv >/dev/null || fail "dpkg --purge srv"
[ ! -e /usr/bin/srv ] || fail "/usr/bin/srv left behind"
[ ! -e /etc/srv/srv.ini ] || fail "/etc/srv/srv.ini left behind after purge"
echo "deb-test: $(basename "$deb") installed, checked and purged"
