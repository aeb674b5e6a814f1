/* launch.c: hands a WSGI app to python3 (hosted mode, Linux).
 *
 * Debian's python3 is linked statically against an interpreter built with
 * link-time and profile-guided optimisation; the shared libpython that an
 * embedding program links is built without them and runs Python code about
 * 30% slower (7% slower with the static library, which has no LTO). So the
 * srv executable does everything that needs no Python itself: it stays the
 * prefork master (a few MB, no interpreter) and each worker process, right
 * after fork, replaces itself (exec) with that python3 running srv from the
 * _srvhost module as that worker. With preload (the master imports the
 * app) or reuse_port, srv replaces itself instead (same pid, same sockets
 * from systemd) and python3 runs the master too. The virtualenv's python3
 * when there is one, so that its packages are the app's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "platform.h"

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

/* The python3 command line that runs srv from _srvhost with argv. */
typedef struct hosted_s {
    char python[4096];
    char libdir[4096];
    char **args;
} hosted_t;

static void exec_python(void *data)
{
    hosted_t *h = data;

    execv(h->python, h->args);
    fprintf(stderr, "srv: error: cannot run %s: %s\n", h->python, strerror(errno));
}

/* Runs python3 to check that the app imports, before anything is bound
 * (the workers import it for themselves). Returns its exit code. */
static int check_app(hosted_t *h)
{
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        setenv(SRV_CHECK_APP_ENV, "1", 1);
        exec_python(h);
        _exit(1);
    }
    if (pid < 0) {
        fprintf(stderr, "srv: error: fork: %s\n", strerror(errno));
        return 1;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* The master stays this process (no interpreter: a few MB) and each
 * worker, right after fork, becomes python3 running srv as that worker. */
static int serve_with_python_workers(srv_config_t *cfg, hosted_t *h)
{
    srv_app_t app;
    int rc = check_app(h);

    if (rc != 0)
        return rc;
    memset(&app, 0, sizeof(app));
    app.worker_exec = exec_python;
    app.data = h;
    return srv_cli_exit_code(srv_run(cfg, &app));
}

int srv_serve_wsgi_hosted(srv_config_t *cfg, int argc, char **argv)
{
    const char *venv = SRV_CFG_STR(cfg, virtualenv);
    static hosted_t h;
    char *libdir = h.libdir, *python = h.python;
    char **args;
    int i, rc;

    if (venv[0] == '\0' && getenv("VIRTUAL_ENV") != NULL)
        venv = getenv("VIRTUAL_ENV");
    if (venv[0] != '\0') {
        snprintf(python, sizeof(h.python), "%s/bin/python3", venv);
        if (access(python, X_OK) != 0) {
            fprintf(stderr, "srv: error: virtualenv '%s' has no bin/python3\n", venv);
            return 4;
        }
    } else {
        snprintf(python, sizeof(h.python), "%s", SRV_PYTHON_EXE);
    }
    if (find_libdir(libdir, sizeof(h.libdir)) != 0) {
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
    h.args = args;
    /* With preload the master holds the app; reuse_port workers bind
     * their own sockets from the master's reservations, which exec loses:
     * then python3 runs the master too. */
    if (!SRV_CFG_INT(cfg, preload) && !SRV_CFG_INT(cfg, reuse_port) &&
        srv_plat_can_exec_workers()) {
        rc = serve_with_python_workers(cfg, &h);
        free(args);
        return rc;
    }
    exec_python(&h);
    free(args);
    return 1;
}
