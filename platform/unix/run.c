/* run.c: srv_run() on Unix. One worker runs in this process; signals
 * stop it: TERM gracefully, INT and QUIT at once. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "server/serve.h"
#include "util/log.h"

static void on_stop_signal(int sig)
{
    int saved = errno;

    srv_stop(sig == SIGTERM);
    errno = saved;
}

static void set_handler(int sig, void (*fn)(int), struct sigaction *old)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(sig, &sa, old);
}

int srv_run(const srv_config_t *cfg, const srv_app_t *app)
{
    struct sigaction old_term, old_int, old_quit, old_pipe;
    srv_serve_t s;
    int rc;

    rc = srv__serve_open(&s, cfg);
    if (rc != 0)
        return rc;
    if (SRV_CFG_INT(cfg, workers) > 1)
        srv_log_warn("workers = %lld: this build runs one worker process",
                     (long long)SRV_CFG_INT(cfg, workers));
    /* A client that goes away while we write must be an error code, not a
     * signal that kills the worker. */
    set_handler(SIGPIPE, SIG_IGN, &old_pipe);
    set_handler(SIGTERM, on_stop_signal, &old_term);
    set_handler(SIGINT, on_stop_signal, &old_int);
    set_handler(SIGQUIT, on_stop_signal, &old_quit);
    srv__serve_announce(&s, cfg);
    rc = srv__serve_worker(&s, cfg, app);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    srv__serve_close(&s, cfg);
    return rc;
}
