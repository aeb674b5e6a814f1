/* run.c: srv_run() on Unix: the prefork master and its workers. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "platform.h"
#include "unix/master.h"
#include "util/log.h"

int srv__plat_worker_count(const srv_config_t *cfg)
{
    const char *wc = getenv("WEB_CONCURRENCY");
    long n = SRV_CFG_INT(cfg, workers);

    if (n <= 0 && wc != NULL)
        n = strtol(wc, NULL, 10);
    if (n <= 0)
        n = (long)uv_available_parallelism();
    if (n > SRV_MAX_WORKERS)
        n = SRV_MAX_WORKERS;
    return n > 0 ? (int)n : 1;
}

srv_config_t *srv__plat_reload_config(void)
{
    return srv__serve_reload();
}

int srv_plat_load_app(const srv_config_t *cfg, srv_app_t *app, int (*load)(srv_app_t *app))
{
    pid_t pid;
    int status;

    if (srv_plat_is_exec_worker())
        return 0; /* the master checked; this worker loads it when it starts */
    if (SRV_CFG_INT(cfg, preload))
        return load(app) == 0 ? 0 : SRV_EAPP;
    /* Each worker loads the app for itself (so that a reload sees new
     * code); a throwaway child checks now that it loads at all, before
     * anything is bound, and reports why not with the traceback. */
    if (app->fork_prepare != NULL)
        app->fork_prepare(app->data);
    pid = fork();
    if (pid != 0 && app->fork_parent != NULL)
        app->fork_parent(app->data);
    if (pid == 0 && app->fork_child != NULL)
        app->fork_child(app->data);
    if (pid < 0)
        return load(app) == 0 ? 0 : SRV_EAPP;
    if (pid == 0) {
        srv_ident_t id; /* as a worker will: under the configured user */

        if (srv__plat_resolve_ident(cfg, &id) != 0 || srv__plat_drop_privileges(&id) != 0)
            _exit(1);
        _exit(load(app) == 0 ? 0 : 4);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 4) /* 4: load() said why */
        srv_log_error("cannot load the app: importing it %s %d",
                      WIFEXITED(status) ? "exited with status" : "was killed by signal",
                      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return SRV_EAPP;
}

int srv_run(const srv_config_t *cfg, const srv_app_t *app)
{
    srv_child_ctx_t ctx;
    srv_serve_t s;
    sigset_t all;
    int rc, inherited;

    if (SRV_CFG_STR(cfg, umask)[0] != '\0')
        umask((mode_t)strtol(SRV_CFG_STR(cfg, umask), NULL, 8));
    if (srv_plat_is_exec_worker())
        srv__plat_exec_worker_main(cfg, app, getenv(SRV_WORKER_ENV)); /* does not return */
    memset(&s, 0, sizeof(s));
    memset(&ctx, 0, sizeof(ctx));
    /* A signal sent once "Listening at" is out must find the master's
     * handlers: until they are set, signals wait. */
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigprocmask(SIG_BLOCK, &all, &ctx.sigmask);
    inherited = srv__plat_inherited_sockets(&s);
    rc = inherited < 0 ? inherited : srv__serve_open(&s, cfg);
    ctx.reuse_port = (int)SRV_CFG_INT(cfg, reuse_port);
    if (ctx.reuse_port && inherited > 0) {
        srv_log_warn("reuse_port is ignored: the sockets come from systemd");
        ctx.reuse_port = 0;
    }
    if (SRV_CFG_INT(cfg, reload) && SRV_CFG_INT(cfg, builtin) >= 0)
        srv_log_warn("reload is ignored: the built-in app '%s' has no source files to watch",
                     SRV_CFG_STR(cfg, builtin));
    if (rc == 0 && (rc = srv__plat_resolve_ident(cfg, &ctx.ident)) == 0 && ctx.reuse_port)
        rc = srv__plat_reuseport_reserve(&s); /* each worker listens on its own socket */
    if (rc != 0) {
        srv__serve_close(&s, cfg);
        sigprocmask(SIG_SETMASK, &ctx.sigmask, NULL);
        return rc;
    }
    srv__serve_announce(&s, cfg, srv__plat_worker_count(cfg));
    if (inherited > 0)
        srv_log_info("Using %d socket%s from systemd (socket activation)", inherited,
                     inherited == 1 ? "" : "s");
    ctx.cfg = cfg;
    ctx.boot_cfg = cfg;
    ctx.app = app;
    ctx.serve = &s;
    ctx.master_pid = getpid();
    rc = srv__plat_master(&ctx);
    srv__serve_close(&s, cfg);
    srv_log_info("Shutdown complete");
    return rc;
}
