/* serve.c: what srv_run() does on every platform, and srv_stop(). */
#include "server/serve.h"

#include <string.h>
#include <uv.h>

#include "platform.h"
#include "util/alloc.h"
#include "util/log.h"

/* The running worker, for srv_stop(); set and cleared by the main thread,
 * read by signal handlers and other threads. */
static void *volatile g_worker;
static srv_atomic_int_t g_pending; /* a stop asked for before the worker ran */

void srv_stop(int graceful)
{
    srv_worker_t *w;

    /* Pending first, then the worker (the starting thread does the
     * reverse): one of the two sides sees the other's store. */
    if (!graceful || srv_atomic_load(&g_pending) == 0)
        srv_atomic_store(&g_pending, graceful ? 1 : 2);
    w = srv_atomic_load_ptr(&g_worker);
    if (w != NULL)
        srv_worker_stop(w, graceful);
}

int srv__serve_open(srv_serve_t *s, const srv_config_t *cfg)
{
    const srv_cval_t *bind = &cfg->v[SRV_K_bind];
    char err[512];
    uint64_t nofile;
    size_t i;
    int rc;

    rc = srv_log_open(SRV_CFG_STR(cfg, errorlog), (srv_log_level_t)SRV_CFG_INT(cfg, loglevel));
    if (rc != 0) {
        srv_log_error("cannot open error log '%s': %s", SRV_CFG_STR(cfg, errorlog),
                      srv_strerror(rc));
        return SRV_ECONFIG;
    }
    nofile = srv_plat_raise_nofile();
    if (nofile != 0 && nofile < (uint64_t)SRV_CFG_INT(cfg, worker_connections) + 64)
        srv_log_warn("the open-file limit (%llu) is below worker_connections (%lld): raise it "
                     "(ulimit -n, LimitNOFILE=)",
                     (unsigned long long)nofile, (long long)SRV_CFG_INT(cfg, worker_connections));
    if (s->nsocks > 0)
        goto pidfile; /* systemd passed the sockets */
    s->socks = srv_calloc(bind->nlist ? bind->nlist : 1, sizeof(srv_listen_spec_t));
    if (s->socks == NULL)
        return SRV_ENOMEM;
    for (i = 0; i < bind->nlist; i++) {
        srv_addr_t a;
        const char *why;

        if (srv_addr_parse(bind->list[i], &a, &why) != 0) {
            srv_log_error("bind '%s': %s", bind->list[i], why); /* validated before: unlikely */
            rc = SRV_ECONFIG;
            goto fail;
        }
        rc = srv_plat_listen(&a, (int)SRV_CFG_INT(cfg, backlog), &s->socks[i], err, sizeof(err));
        if (rc != 0) {
            srv_log_error("%s", err);
            goto fail;
        }
        s->nsocks = i + 1;
    }
pidfile:
    if (SRV_CFG_STR(cfg, pidfile)[0] != '\0') {
        rc = srv_plat_write_pidfile(SRV_CFG_STR(cfg, pidfile));
        if (rc != 0) {
            srv_log_error("cannot write pid file '%s': %s", SRV_CFG_STR(cfg, pidfile),
                          srv_strerror(rc));
            goto fail;
        }
        s->pidfile_written = 1;
    }
    return 0;
fail:
    srv__serve_close(s, cfg);
    return rc;
}

void srv__serve_announce(const srv_serve_t *s, const srv_config_t *cfg, int workers)
{
    size_t i;

    for (i = 0; i < s->nsocks; i++)
        srv_log_info("Listening at %s (pid %d, workers %d, threads %lld)", s->socks[i].display,
                     (int)uv_os_getpid(), workers, (long long)SRV_CFG_INT(cfg, threads));
}

/* The worker of this process, between start and finish. */
static srv_worker_t *g_started;

int srv__serve_worker_start(srv_serve_t *s, const srv_config_t *cfg, const srv_app_t *app,
                            const srv_worker_env_t *env)
{
    srv_worker_t *w;
    int rc;

    (void)cfg;
    rc = srv_worker_create(&w, cfg, app, s->socks, s->nsocks, env);
    if (rc != 0)
        return rc;
    /* The worker owns the sockets now. */
    s->nsocks = 0;
    g_started = w;
    srv_atomic_store_ptr(&g_worker, w);
    if (srv_atomic_load(&g_pending) != 0)
        srv_worker_stop(w, srv_atomic_load(&g_pending) == 1);
    return 0;
}

int srv__serve_worker_finish(const srv_config_t *cfg)
{
    srv_worker_t *w = g_started;
    int rc;

    (void)cfg;
    rc = srv_worker_run(w);
    srv_atomic_store_ptr(&g_worker, NULL);
    srv_worker_destroy(w);
    g_started = NULL;
    return rc;
}

int srv__serve_worker(srv_serve_t *s, const srv_config_t *cfg, const srv_app_t *app)
{
    int rc = srv__serve_worker_start(s, cfg, app, NULL);

    if (rc == 0)
        rc = srv__serve_worker_finish(cfg);
    srv_log_info("Shutdown complete");
    return rc;
}

static srv_reload_fn g_reload;
static void *g_reload_arg;

void srv_set_reload(srv_reload_fn fn, void *arg)
{
    g_reload = fn;
    g_reload_arg = arg;
}

srv_config_t *srv__serve_reload(void)
{
    return g_reload != NULL ? g_reload(g_reload_arg) : NULL;
}

void srv_reopen_logs(void)
{
    srv_worker_t *w = srv_atomic_load_ptr(&g_worker);

    if (w != NULL)
        srv_worker_reopen_logs(w);
}

void srv__serve_close(srv_serve_t *s, const srv_config_t *cfg)
{
    size_t i;

    for (i = 0; i < s->nsocks; i++)
        srv_plat_listen_close(&s->socks[i]);
    s->nsocks = 0;
    srv_free(s->socks);
    s->socks = NULL;
    if (s->pidfile_written)
        srv_plat_remove_pidfile(SRV_CFG_STR(cfg, pidfile));
    s->pidfile_written = 0;
}
