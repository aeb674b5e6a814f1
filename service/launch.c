/* launch.c: hands a WSGI app to python3 (hosted mode, Linux).
 *
 * Debian's python3 is linked statically against an interpreter built with
 * link-time and profile-guided optimisation; the shared libpython that an
 * embedding program links is built without them and runs Python code about
 * 30% slower (7% slower with the static library, which has no LTO). So the
 * srv executable does everything that needs no Python itself, and for a
 * WSGI app replaces itself (exec: same pid, same sockets from systemd) with
 * that python3 running srv from the _srvhost module. The virtualenv's
 * python3 when there is one, so that its packages are the app's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "pyhost_config.h"
#include "serve_wsgi.h"

static const char boot[] =
    "import sys\n"
    "lib = sys.argv.pop(1)\n"
    "sys.argv[0] = 'srv'\n"
    "if sys.path and sys.path[0] == '':\n"
    "    del sys.path[0]\n"
    "sys.path.insert(0, lib)\n"
    "try:\n"
    "    import _srvhost\n"
    "except ImportError as e:\n"
    "    sys.stderr.write('srv: error: %s (Python %d.%d) cannot load srv\\'s module from %s: "
    "%s\\n'\n"
    "                     % (sys.executable, sys.version_info[0], sys.version_info[1], lib, e))\n"
    "    sys.exit(4)\n"
    "del sys.path[0]\n"
    "sys.exit(_srvhost.main(sys.argv))\n";

static int is_file(const char *dir, const char *name)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

    return n > 0 && (size_t)n < sizeof(path) && access(path, R_OK) == 0;
}

/* The directory of _srvhost: next to the executable (a build tree), or
 * ../lib/srv from it (installed: /usr/bin/srv, /usr/lib/srv). */
static int find_libdir(char *out, size_t len)
{
    char exe[4096];
    size_t n = sizeof(exe);
    char *slash;

    if (uv_exepath(exe, &n) != 0 || (slash = strrchr(exe, '/')) == NULL)
        return -1;
    *slash = '\0';
    if (is_file(exe, SRV_PYEXT_FILE)) {
        snprintf(out, len, "%s", exe);
        return 0;
    }
    n = (size_t)snprintf(out, len, "%s/../lib/srv", exe);
    return n < len && is_file(out, SRV_PYEXT_FILE) ? 0 : -1;
}

int srv_serve_wsgi_hosted(srv_config_t *cfg, int argc, char **argv)
{
    const char *venv = SRV_CFG_STR(cfg, virtualenv);
    char libdir[4096], python[4096];
    char **args;
    int i;

    if (venv[0] == '\0' && getenv("VIRTUAL_ENV") != NULL)
        venv = getenv("VIRTUAL_ENV");
    if (venv[0] != '\0') {
        snprintf(python, sizeof(python), "%s/bin/python3", venv);
        if (access(python, X_OK) != 0) {
            fprintf(stderr, "srv: error: virtualenv '%s' has no bin/python3\n", venv);
            return 4;
        }
    } else {
        snprintf(python, sizeof(python), "%s", SRV_PYTHON_EXE);
    }
    if (find_libdir(libdir, sizeof(libdir)) != 0) {
        fprintf(stderr, "srv: error: cannot find %s next to srv or in ../lib/srv\n",
                SRV_PYEXT_FILE);
        return 4;
    }
    args = calloc((size_t)argc + 4, sizeof(*args));
    if (args == NULL) {
        fprintf(stderr, "srv: error: out of memory\n");
        return 1;
    }
    args[0] = python;
    args[1] = (char *)"-c";
    args[2] = (char *)boot;
    args[3] = libdir;
    for (i = 1; i < argc; i++)
        args[3 + i] = argv[i];
    execv(python, args);
    fprintf(stderr, "srv: error: cannot run %s: ", python);
    perror(NULL);
    free(args);
    return 1;
}
