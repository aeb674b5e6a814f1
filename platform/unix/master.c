/* master.c: the prefork master.
 *
 * The master binds the sockets, forks the workers and supervises them; it
 * never serves a request and never runs a libuv loop (so a child inherits
 * nothing it would have to tear down). It sleeps in poll() on two pipes:
 * a self-pipe its signal handlers write to, and a pipe the workers write a
 * byte to when their slot changed (ready, retiring). A 250 ms tick checks
 * heartbeats and deadlines.
 *
 * Signals, as gunicorn: TERM stops gracefully, INT and QUIT at once, HUP
 * reloads (new workers first, then the old ones drain), TTIN and TTOU add
 * and remove a worker, USR1 reopens the log files. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unix/master.h"
#include "util/log.h"

#define TICK_MS         250
#define KILL_MARGIN_MS  5000 /* past graceful_timeout, before SIGKILL */
#define RELOAD_LIMIT_MS 120000
#define BOOT_FAILED     4 /* a worker's exit code when the app did not load */

enum { P_FREE = 0, P_STARTING, P_READY, P_RETIRING, P_STOPPING };

typedef struct proc_s {
    pid_t pid;
    int state;
    int generation;
    int64_t kill_at; /* SIGKILL if still alive then (0: no deadline) */
} proc_t;

typedef struct master_s {
    srv_child_ctx_t ctx; /* what a new worker gets */
    const srv_config_t *cfg;
    srv_config_t *owned[64]; /* configurations from reloads (freed at exit) */
    size_t nowned;
    proc_t procs[SRV_MAX_WORKERS];
    int target;
    int generation;
    int stopping; /* 0, 1 graceful, 2 now */
    int64_t stop_deadline;
    int reloading;
    int64_t reload_deadline;
    int code_changed; /* a worker saw the app's code change (reload): reload when idle */
    int announced;
    int boot_failures;
    int64_t respawn_after;
    int64_t next_status;
    int exit_code;
} master_t;

static int g_sigpipe[2] = {-1, -1};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;

    if (write(g_sigpipe[1], &b, 1) < 0) {
        /* The pipe is full: enough wake-ups are pending already. */
    }
    errno = saved;
}

static int make_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* ---- Workers ---- */

static int count(const master_t *m, int generation, int state_mask)
{
    int i, n = 0;

    for (i = 0; i < SRV_MAX_WORKERS; i++)
        if (m->procs[i].pid != 0 && (generation < 0 || m->procs[i].generation == generation) &&
            (state_mask & (1 << m->procs[i].state)))
            n++;
    return n;
}

#define LIVE ((1 << P_STARTING) | (1 << P_READY))

static int spawn(master_t *m)
{
    const srv_app_t *app = m->ctx.app;
    srv_worker_slot_t *s;
    sigset_t all, old;
    pid_t pid;
    int i;

    for (i = 0; i < SRV_MAX_WORKERS && m->procs[i].pid != 0; i++)
        ;
    if (i == SRV_MAX_WORKERS)
        return -1;
    s = &m->ctx.slots->slot[i];
    if ((int)i >= srv_atomic_load(&m->ctx.slots->used))
        srv_atomic_store(&m->ctx.slots->used, i + 1);
    srv_atomic_store(&s->state, SRV_SLOT_STARTING);
    srv_atomic_store(&s->conns, 0);
    srv_atomic_store(&s->busy, 0);
    srv_atomic_store(&s->requests, 0);
    srv_atomic_store(&s->heartbeat, (int)(now_ms() / 1000));
    srv_atomic_store(&s->generation, m->generation);
    srv_atomic_store(&s->changed, 0);
    srv_atomic_store(&s->rate, 0); /* a predecessor's speed is not the new worker's */
    srv_atomic_store(&s->weight, 0);
    m->ctx.cfg = m->cfg;
    m->ctx.self = (size_t)i;
    if (app->fork_prepare != NULL)
        app->fork_prepare(app->data);
    /* Signals wait (blocked) until the child has its own handlers: the
     * master's would write to a pipe the child closes, and lose them. */
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid = fork();
    if (pid == 0) {
        close(g_sigpipe[0]);
        close(g_sigpipe[1]);
        if (app->fork_child != NULL)
            app->fork_child(app->data);
        if (app->worker_exec != NULL)
            srv__plat_child_exec(&m->ctx); /* does not return */
        srv__plat_child_main(&m->ctx);     /* does not return */
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (app->fork_parent != NULL)
        app->fork_parent(app->data);
    if (pid < 0) {
        srv_log_error("fork: %s", strerror(errno));
        srv_atomic_store(&s->state, SRV_SLOT_FREE);
        return -1;
    }
    srv_atomic_store(&s->pid, (int)pid);
    m->procs[i].pid = pid;
    m->procs[i].state = P_STARTING;
    m->procs[i].generation = m->generation;
    m->procs[i].kill_at = 0;
    return 0;
}

/* Asks a worker to stop: gracefully (TERM) or at once (QUIT); SIGKILL
 * follows if it has not exited by the deadline. */
static void stop_proc(master_t *m, int i, int graceful)
{
    proc_t *p = &m->procs[i];

    if (p->pid == 0)
        return;
    kill(p->pid, graceful ? SIGTERM : SIGQUIT);
    p->state = P_STOPPING;
    srv_atomic_store(&m->ctx.slots->slot[i].state, SRV_SLOT_STOPPING);
    p->kill_at =
        now_ms() + (graceful ? SRV_CFG_INT(m->cfg, graceful_timeout) * 1000 : 0) + KILL_MARGIN_MS;
}

static void describe_status(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "status %d", status);
}

static void reap(master_t *m)
{
    pid_t pid;
    int status;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        char how[96];
        proc_t *p = NULL;
        int i, expected;

        for (i = 0; i < SRV_MAX_WORKERS; i++)
            if (m->procs[i].pid == pid) {
                p = &m->procs[i];
                break;
            }
        if (p == NULL)
            continue;
        describe_status(status, how, sizeof(how));
        /* A worker that said it was ready served, even if it died before
         * this master read its slot. */
        if (p->state == P_STARTING &&
            srv_atomic_load(&m->ctx.slots->slot[i].state) == SRV_SLOT_READY)
            p->state = P_READY;
        expected = m->stopping || p->state == P_STOPPING || p->state == P_RETIRING;
        if (p->state == P_STARTING && !expected) {
            /* It never served: the app did not load, or the worker could
             * not start (it exits), or it was killed while booting. Back
             * off; at startup, an exit is final (it will fail again). */
            if (WIFEXITED(status) && WEXITSTATUS(status) == BOOT_FAILED)
                srv_log_error("Worker %d failed to boot: the app did not load", (int)pid);
            else
                srv_log_error("Worker %d failed to start (%s)", (int)pid, how);
            m->boot_failures++;
            if (!m->announced && !m->reloading && WIFEXITED(status)) {
                /* The first workers cannot start: stop rather than spin. */
                m->exit_code =
                    WIFEXITED(status) && WEXITSTATUS(status) == BOOT_FAILED ? BOOT_FAILED : 1;
                m->stopping = m->stopping ? m->stopping : 2;
                m->stop_deadline = now_ms() + KILL_MARGIN_MS;
            }
        } else if (!expected) {
            srv_log_error("Worker %d died (%s); starting a new one", (int)pid, how);
        } else {
            srv_log_info("Worker %d exited (%s)", (int)pid, how);
        }
        srv_atomic_store(&m->ctx.slots->slot[i].state, SRV_SLOT_FREE);
        srv_atomic_store(&m->ctx.slots->slot[i].pid, 0);
        memset(p, 0, sizeof(*p));
    }
}

/* Reads the slots: workers that became ready, that retire, or that saw
 * the app's code change. */
static void check_slots(master_t *m, int64_t now)
{
    int i;

    for (i = 0; i < SRV_MAX_WORKERS; i++) {
        proc_t *p = &m->procs[i];
        int s;

        if (p->pid == 0)
            continue;
        s = srv_atomic_load(&m->ctx.slots->slot[i].state);
        if (s == SRV_SLOT_READY && p->state == P_STARTING) {
            p->state = P_READY;
            m->boot_failures = 0;
        }
        if (srv_atomic_load(&m->ctx.slots->slot[i].changed)) {
            /* Only the word of a serving worker of the latest generation
             * counts: the others see a change a reload has already taken
             * (each worker looks on its own, a second apart at most), or
             * drain. */
            srv_atomic_store(&m->ctx.slots->slot[i].changed, 0);
            if (p->state == P_READY && p->generation == m->generation)
                m->code_changed = 1;
        }
        if (s == SRV_SLOT_RETIRING && (p->state == P_READY || p->state == P_STARTING)) {
            /* It drains by itself; a replacement starts now (maintain). */
            p->state = P_RETIRING;
            p->kill_at = now + SRV_CFG_INT(m->cfg, graceful_timeout) * 1000 + KILL_MARGIN_MS;
        }
    }
}

/* A worker whose loop stopped ticking is hung below the app (the app's own
 * stuck requests are the worker's `timeout` business): kill it. Workers
 * past their stop deadline are killed too. */
static void check_deadlines(master_t *m, int64_t now)
{
    int64_t timeout = SRV_CFG_INT(m->cfg, timeout);
    int i;

    for (i = 0; i < SRV_MAX_WORKERS; i++) {
        proc_t *p = &m->procs[i];

        if (p->pid == 0)
            continue;
        if (p->kill_at != 0 && now >= p->kill_at) {
            srv_log_error("Worker %d did not stop in time; killing it", (int)p->pid);
            kill(p->pid, SIGKILL);
            p->kill_at = 0;
            continue;
        }
        if (timeout > 0 && (p->state == P_READY || p->state == P_RETIRING)) {
            int64_t beat = srv_atomic_load(&m->ctx.slots->slot[i].heartbeat);

            if (now / 1000 - beat > (timeout > 2 ? timeout : 2)) {
                srv_log_error("Worker %d stopped responding (no heartbeat for %lld s); "
                              "killing it",
                              (int)p->pid, (long long)(now / 1000 - beat));
                kill(p->pid, SIGKILL);
                p->state = P_STOPPING;
            }
        }
    }
}

/* Keeps `target` live workers of the current generation. */
static void maintain(master_t *m, int64_t now)
{
    int live, i;

    if (m->stopping)
        return;
    live = count(m, m->generation, LIVE);
    if (live < m->target && now >= m->respawn_after) {
        int n = m->target - live;

        for (i = 0; i < n; i++)
            if (spawn(m) != 0)
                break;
        /* After a boot failure, try again once a second, not in a loop. */
        if (m->boot_failures > 0)
            m->respawn_after = now + 1000;
    } else if (live > m->target) {
        /* TTOU: the newest workers of this generation stop. */
        for (i = SRV_MAX_WORKERS - 1; i >= 0 && live > m->target; i--) {
            proc_t *p = &m->procs[i];

            if (p->pid != 0 && p->generation == m->generation && (LIVE & (1 << p->state))) {
                stop_proc(m, i, 1);
                live--;
            }
        }
    }
}

/* ---- Reload ---- */

/* What a reload cannot change: the sockets and the master's own choices;
 * and, when the workers are forks of a master that set up the app (they
 * do not exec a program that reads the configuration afresh), the app's
 * settings. */
static const int restart_keys[] = {
    SRV_K_bind,    SRV_K_backlog,    SRV_K_reuse_port, SRV_K_pidfile,
    SRV_K_builtin, SRV_K_virtualenv, SRV_K_preload,
};
static const int app_keys[] = {
    SRV_K_app,   SRV_K_chdir,           SRV_K_pythonpath, SRV_K_root_path,
    SRV_K_debug, SRV_K_switch_interval, SRV_K_gc_freeze,  SRV_K_raw_env,
};

static void warn_keys(const srv_config_t *old, const srv_config_t *cfg, const int *keys, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!srv_config_same(old, cfg, keys[i]))
            srv_log_warn("Reload: '%s' changed; it takes effect at the next restart",
                         srv_keys[keys[i]].name);
}

static void warn_restart_keys(const master_t *m, const srv_config_t *cfg)
{
    warn_keys(m->cfg, cfg, restart_keys, sizeof(restart_keys) / sizeof(restart_keys[0]));
    if (m->ctx.app->worker_exec == NULL)
        warn_keys(m->cfg, cfg, app_keys, sizeof(app_keys) / sizeof(app_keys[0]));
}

/* A reload: new workers start, and the old ones stop once the new ones
 * serve. SIGHUP reads the configuration again first, worker count
 * included (as gunicorn's does: TTIN and TTOU changes end there); a
 * change in the app's code (reload) keeps both the configuration and the
 * count the signals set. */
static void begin_reload(master_t *m, int reread)
{
    srv_config_t *cfg = NULL;

    if (m->stopping)
        return;
    srv_log_info(reread ? "Reloading (SIGHUP)" : "Reloading (the app's code changed)");
    srv__plat_notify("RELOADING=1");
    if (reread)
        cfg = srv__plat_reload_config();
    if (cfg != NULL) {
        if (m->nowned < sizeof(m->owned) / sizeof(m->owned[0])) {
            warn_restart_keys(m, cfg);
            m->owned[m->nowned++] = cfg;
            m->cfg = cfg;
            srv_log_open(SRV_CFG_STR(cfg, errorlog), (srv_log_level_t)SRV_CFG_INT(cfg, loglevel));
        } else {
            srv_log_error("too many reloads without a restart; keeping the configuration");
            srv_config_free(cfg);
        }
    }
    if (reread)
        m->target = srv__plat_worker_count(m->cfg);
    m->generation++;
    m->reloading = 1;
    m->reload_deadline = now_ms() + RELOAD_LIMIT_MS;
    m->boot_failures = 0;
}

static void check_reload(master_t *m, int64_t now)
{
    int i, ready;

    if (!m->reloading)
        return;
    ready = count(m, m->generation, 1 << P_READY);
    if (ready >= m->target) {
        /* The new workers serve: the old ones drain and go. */
        for (i = 0; i < SRV_MAX_WORKERS; i++)
            if (m->procs[i].pid != 0 && m->procs[i].generation != m->generation &&
                m->procs[i].state != P_STOPPING)
                stop_proc(m, i, 1);
        m->reloading = 0;
        srv_log_info("Reload complete: %d new workers", ready);
        srv__plat_notify("READY=1");
        return;
    }
    if (now >= m->reload_deadline || m->boot_failures >= 3) {
        /* The new workers do not come up: keep the old ones. */
        srv_log_error("Reload failed: the new workers did not start; the old ones keep serving");
        for (i = 0; i < SRV_MAX_WORKERS; i++)
            if (m->procs[i].pid != 0 && m->procs[i].generation == m->generation)
                stop_proc(m, i, 0);
        m->generation--;
        m->target = count(m, m->generation, LIVE);
        m->reloading = 0;
        m->boot_failures = 0;
        srv__plat_notify("READY=1");
    }
}

/* ---- Signals ---- */

static void begin_stop(master_t *m, int graceful)
{
    int i;

    if (m->stopping == 2 || (m->stopping == 1 && graceful))
        return;
    m->stopping = graceful ? 1 : 2;
    srv_log_info("Stopping%s", graceful ? " gracefully" : "");
    srv__plat_notify("STOPPING=1");
    for (i = 0; i < SRV_MAX_WORKERS; i++)
        if (m->procs[i].pid != 0)
            stop_proc(m, i, graceful);
    m->stop_deadline =
        now_ms() + (graceful ? SRV_CFG_INT(m->cfg, graceful_timeout) * 1000 : 0) + KILL_MARGIN_MS;
}

static void handle_signals(master_t *m)
{
    unsigned char buf[64];
    ssize_t n, i;

    while ((n = read(g_sigpipe[0], buf, sizeof(buf))) > 0) {
        for (i = 0; i < n; i++) {
            int j;

            switch (buf[i]) {
            case SIGTERM:
                begin_stop(m, 1);
                break;
            case SIGINT:
            case SIGQUIT:
                begin_stop(m, 0);
                break;
            case SIGHUP:
                begin_reload(m, 1);
                break;
            case SIGTTIN:
                if (m->target < SRV_MAX_WORKERS)
                    m->target++;
                srv_log_info("Workers: %d (SIGTTIN)", m->target);
                break;
            case SIGTTOU:
                if (m->target > 1)
                    m->target--;
                srv_log_info("Workers: %d (SIGTTOU)", m->target);
                break;
            case SIGUSR1:
                srv_log_reopen();
                for (j = 0; j < SRV_MAX_WORKERS; j++)
                    if (m->procs[j].pid != 0)
                        kill(m->procs[j].pid, SIGUSR1);
                break;
            default:
                break; /* SIGCHLD: reaped below */
            }
        }
    }
}

static void status(master_t *m, int64_t now)
{
    long long requests = 0;
    char msg[128];
    int i, ready;

    if (now < m->next_status)
        return;
    m->next_status = now + 5000;
    for (i = 0; i < SRV_MAX_WORKERS; i++)
        if (m->procs[i].pid != 0)
            requests += srv_atomic_load(&m->ctx.slots->slot[i].requests);
    ready = count(m, -1, 1 << P_READY);
    snprintf(msg, sizeof(msg), "STATUS=%d workers serving, %lld requests", ready, requests);
    srv__plat_notify(msg);
}

/* ---- The loop ---- */

int srv__plat_master(const srv_child_ctx_t *ctx)
{
    static const int sigs[] = {SIGTERM, SIGINT,  SIGQUIT, SIGHUP,
                               SIGTTIN, SIGTTOU, SIGUSR1, SIGCHLD};
    master_t *m;
    size_t i;
    int rc;

    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return SRV_ENOMEM;
    m->ctx = *ctx;
    m->cfg = ctx->cfg;
    m->target = srv__plat_worker_count(m->cfg);
    m->ctx.slots = srv__plat_slots_new(ctx->app->worker_exec != NULL, &m->ctx.slots_fd);
    if (m->ctx.slots == NULL || make_pipe(g_sigpipe) != 0 || make_pipe(m->ctx.notify) != 0) {
        srv_log_error("master: %s", strerror(errno));
        free(m);
        return SRV_ENOMEM;
    }
    memset(m->ctx.slots, 0, sizeof(srv_slot_table_t));
    srv__plat_set_handler(SIGPIPE, SIG_IGN);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        srv__plat_set_handler(sigs[i], on_signal);
    sigprocmask(SIG_SETMASK, &ctx->sigmask, NULL); /* what came meanwhile is handled now */

    for (;;) {
        struct pollfd p[2];
        int64_t now;

        handle_signals(m);
        reap(m);
        now = now_ms();
        check_slots(m, now);
        check_deadlines(m, now);
        if (m->stopping) {
            if (now >= m->stop_deadline)
                for (i = 0; i < SRV_MAX_WORKERS; i++)
                    if (m->procs[i].pid != 0)
                        kill(m->procs[i].pid, SIGKILL);
        } else {
            check_reload(m, now);
            if (m->code_changed && !m->reloading) {
                m->code_changed = 0;
                begin_reload(m, 0);
            }
            maintain(m, now);
        }
        if (!m->stopping && !m->announced && count(m, m->generation, 1 << P_READY) >= m->target) {
            char msg[64];

            m->announced = 1;
            snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%d", (int)getpid());
            srv__plat_notify(msg);
        }
        status(m, now);
        if (m->stopping && count(m, -1, ~0) == 0)
            break;
        /* Sleep until a signal, a worker's news, or the next tick. */
        p[0].fd = g_sigpipe[0];
        p[0].events = POLLIN;
        p[1].fd = m->ctx.notify[0];
        p[1].events = POLLIN;
        if (poll(p, 2, TICK_MS) > 0 && (p[1].revents & POLLIN)) {
            unsigned char buf[256];

            while (read(m->ctx.notify[0], buf, sizeof(buf)) > 0)
                ;
        }
    }

    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        srv__plat_set_handler(sigs[i], SIG_DFL);
    rc = m->exit_code == BOOT_FAILED ? SRV_EAPP : m->exit_code ? SRV_EUNKNOWN : 0;
    for (i = 0; i < m->nowned; i++)
        srv_config_free(m->owned[i]);
    munmap(m->ctx.slots, sizeof(srv_slot_table_t));
    if (m->ctx.slots_fd >= 0)
        close(m->ctx.slots_fd);
    close(g_sigpipe[0]);
    close(g_sigpipe[1]);
    close(m->ctx.notify[0]);
    close(m->ctx.notify[1]);
    free(m);
    return rc;
}
