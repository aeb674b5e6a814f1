/* child.c: a worker process: signals, its own sockets when reuse_port,
 * the switch to the configured user, then the worker until it stops. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
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
/* The most descriptors a worker started with exec inherits. */
#define SRV_MAX_EXEC_FDS 64

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

/* ---- Workers that exec (srv_app_t.worker_exec) ---- */

srv_slot_table_t *srv__plat_slots_new(int for_exec, int *fd)
{
    void *p;

    *fd = -1;
#ifdef SRV_HAVE_MEMFD_CREATE
    if (for_exec) {
        *fd = memfd_create("srv-slots", MFD_CLOEXEC);
        if (*fd < 0 || ftruncate(*fd, (off_t)sizeof(srv_slot_table_t)) != 0) {
            if (*fd >= 0)
                close(*fd);
            *fd = -1;
            return NULL;
        }
    }
#else
    (void)for_exec;
#endif
    p = mmap(NULL, sizeof(srv_slot_table_t), PROT_READ | PROT_WRITE,
             *fd >= 0 ? MAP_SHARED : MAP_SHARED | MAP_ANONYMOUS, *fd, 0);
    if (p == MAP_FAILED) {
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        return NULL;
    }
    memset(p, 0, sizeof(srv_slot_table_t));
    return p;
}

int srv_plat_can_exec_workers(void)
{
#ifdef SRV_HAVE_MEMFD_CREATE
    return 1;
#else
    return 0;
#endif
}

int srv_plat_is_exec_worker(void)
{
    return getenv(SRV_WORKER_ENV) != NULL;
}

void srv__plat_child_exec(const srv_child_ctx_t *ctx)
{
    const srv_serve_t *s = ctx->serve;
    int n = (int)s->nsocks, moved[SRV_MAX_EXEC_FDS], i;
    char buf[96];

    if (n + 2 > SRV_MAX_EXEC_FDS || ctx->slots_fd < 0)
        _exit(1);
    /* The sockets go to 3, 4, ... as systemd passes them, the slot table
     * and the notify pipe after them; first out of the way, in case one
     * of them sits where another goes. dup2() leaves them open on exec. */
    for (i = 0; i < n; i++)
        moved[i] = fcntl(s->socks[i].sock, F_DUPFD_CLOEXEC, 3 + n + 2);
    moved[n] = fcntl(ctx->slots_fd, F_DUPFD_CLOEXEC, 3 + n + 2);
    moved[n + 1] = fcntl(ctx->notify[1], F_DUPFD_CLOEXEC, 3 + n + 2);
    for (i = 0; i < n + 2; i++)
        if (moved[i] < 0 || dup2(moved[i], 3 + i) < 0)
            _exit(1);
    snprintf(buf, sizeof(buf), "%d", n);
    setenv("LISTEN_FDS", buf, 1);
    snprintf(buf, sizeof(buf), "%d", (int)getpid());
    setenv("LISTEN_PID", buf, 1);
    unsetenv("LISTEN_FDNAMES");
    snprintf(buf, sizeof(buf), "%d %d %d", (int)ctx->self, 3 + n, 3 + n + 1);
    setenv(SRV_WORKER_ENV, buf, 1);
    ctx->app->worker_exec(ctx->app->data);
    _exit(BOOT_FAILED);
}

void srv__plat_exec_worker_main(const srv_config_t *cfg, const srv_app_t *app, const char *env)
{
    static srv_serve_t s;
    srv_child_ctx_t ctx;
    int self, slots_fd, notify_fd;
    void *slots;

    memset(&ctx, 0, sizeof(ctx));
    /* The master's log file and level (it opened the file before binding;
     * this program starts with stderr). */
    if (srv_log_open(SRV_CFG_STR(cfg, errorlog), (srv_log_level_t)SRV_CFG_INT(cfg, loglevel)) != 0)
        srv_log_error("cannot open error log '%s'", SRV_CFG_STR(cfg, errorlog));
    if (sscanf(env, "%d %d %d", &self, &slots_fd, &notify_fd) != 3 || self < 0 ||
        self >= SRV_MAX_WORKERS) {
        srv_log_error("bad %s: '%s'", SRV_WORKER_ENV, env);
        _exit(1);
    }
    unsetenv(SRV_WORKER_ENV);
    fcntl(slots_fd, F_SETFD, FD_CLOEXEC);
    fcntl(notify_fd, F_SETFD, FD_CLOEXEC);
    slots = mmap(NULL, sizeof(srv_slot_table_t), PROT_READ | PROT_WRITE, MAP_SHARED, slots_fd, 0);
    close(slots_fd);
    if (slots == MAP_FAILED || srv__plat_inherited_sockets(&s) <= 0 ||
        srv__plat_resolve_ident(cfg, &ctx.ident) != 0) {
        srv_log_error("worker %d: cannot take over from the master", (int)getpid());
        _exit(1);
    }
    ctx.cfg = cfg;
    ctx.boot_cfg = cfg;
    ctx.app = app;
    ctx.serve = &s;
    ctx.slots = slots;
    ctx.slots_fd = -1;
    ctx.self = (size_t)self;
    ctx.notify[0] = -1;
    ctx.notify[1] = notify_fd;
    ctx.master_pid = getppid();
    srv__plat_child_main(&ctx);
}

/* ---- A worker ---- */

void srv__plat_child_main(const srv_child_ctx_t *ctx)
{
    srv_worker_env_t env;
    srv_serve_t own;
    srv_serve_t *socks = ctx->serve;
    sigset_t all;
    char role[32];
    int rc;

    g_ctx = ctx;
    g_started_ns = uv_hrtime();
    snprintf(role, sizeof(role), "worker %d", (int)ctx->self);
    srv_plat_set_cmdline_role(role); /* ps: srv: worker N ARGS */
    if (ctx->notify[0] >= 0)
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
    env.on_changed = poke_master;
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
