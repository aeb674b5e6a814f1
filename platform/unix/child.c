/* child.c: a worker process: signals, its own sockets when reuse_port,
 * the switch to the configured user, then the worker until it stops. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "plat_config.h"
#include "platform.h"
#include "unix/master.h"
#include "util/log.h"

#ifdef SRV_HAVE_PR_SET_PDEATHSIG
#include <sys/prctl.h>
#endif

#define BOOT_FAILED 4

static const srv_child_ctx_t *g_ctx;
static uint64_t g_started_ns;

static void on_stop(int sig)
{
    int saved = errno;

    srv_stop(sig == SIGTERM);
    errno = saved;
}

static void on_usr1(int sig)
{
    int saved = errno;

    (void)sig;
    srv_reopen_logs();
    errno = saved;
}

void srv__plat_set_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(sig, &sa, NULL);
}

static void poke_master(void *data)
{
    unsigned char b = 1;

    (void)data;
    if (write(g_ctx->notify[1], &b, 1) < 0) {
        /* Full: the master has wake-ups pending; it reads the slots anyway. */
    }
}

static void on_ready(void *data)
{
    srv_log_info("Worker %d ready (booted in %.2f s)", (int)getpid(),
                 (double)(uv_hrtime() - g_started_ns) / 1e9);
    poke_master(data);
}

static void on_retire(void *data, const char *why)
{
    (void)why;
    poke_master(data);
}

void srv__plat_child_main(const srv_child_ctx_t *ctx)
{
    srv_worker_env_t env;
    srv_serve_t own;
    srv_serve_t *socks = ctx->serve;
    sigset_t all;
    int rc;

    g_ctx = ctx;
    g_started_ns = uv_hrtime();
    close(ctx->notify[0]);
    srv__plat_set_handler(SIGTERM, on_stop);
    srv__plat_set_handler(SIGINT, on_stop);
    srv__plat_set_handler(SIGQUIT, on_stop);
    srv__plat_set_handler(SIGUSR1, on_usr1);
    srv__plat_set_handler(SIGHUP, SIG_IGN);
    srv__plat_set_handler(SIGTTIN, SIG_IGN);
    srv__plat_set_handler(SIGTTOU, SIG_IGN);
    srv__plat_set_handler(SIGCHLD, SIG_DFL);
    srv__plat_set_handler(SIGPIPE, SIG_IGN);
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
#ifdef SRV_HAVE_PR_SET_PDEATHSIG
    /* If the master dies, its workers stop too (gracefully). */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    if (getppid() != ctx->master_pid)
        _exit(0);

    if (ctx->reuse_port) {
        size_t i;

        memset(&own, 0, sizeof(own));
        if (srv__plat_listen_reuseport(ctx->serve, (int)SRV_CFG_INT(ctx->boot_cfg, backlog),
                                       &own) != 0)
            _exit(1);
        for (i = 0; i < ctx->serve->nsocks; i++) /* the master's reservations */
            srv_plat_listen_close(&ctx->serve->socks[i]);
        socks = &own;
    }
    memset(&env, 0, sizeof(env));
    env.slots = ctx->slots;
    env.balance = !ctx->reuse_port;
    env.self = ctx->self;
    env.on_ready = on_ready;
    env.on_retire = on_retire;
    /* The access log is opened before the switch of user (as the error log
     * was, by the master): log files may belong to root. */
    rc = srv__serve_worker_start(socks, ctx->cfg, ctx->app, &env);
    if (rc == 0 && srv__plat_drop_privileges(&ctx->ident) != 0)
        _exit(1);
    if (rc == 0) {
        srv_log_info("Booting worker with pid %d", (int)getpid());
        rc = srv__serve_worker_finish(ctx->cfg);
    }
    _exit(rc == 0 ? 0 : rc == SRV_EAPP ? BOOT_FAILED : 1);
}
