/* serve.h: the steps of srv_run() that every platform shares. The
 * platform's srv_run() adds its process model and its stop signals. */
#ifndef SRV_SERVER_SERVE_H
#define SRV_SERVER_SERVE_H

#include <stddef.h>

#include "server/worker.h"
#include "srv.h"

typedef struct srv_serve_s {
    srv_listen_spec_t *socks; /* owned */
    size_t nsocks;
    int pidfile_written;
} srv_serve_t;

/* Opens the error log, raises the open-file limit, binds every address of
 * `bind` (unless s already holds sockets, from systemd) and writes the pid
 * file. s starts zeroed or with inherited sockets. Returns 0 or SRV_E*
 * (logged); on failure nothing stays open. */
int srv__serve_open(srv_serve_t *s, const srv_config_t *cfg);
/* Logs "Listening at http://HOST:PORT (pid N, workers W, threads T)" for
 * every listener. */
void srv__serve_announce(const srv_serve_t *s, const srv_config_t *cfg, int workers);
/* Creates a worker on the sockets (env: NULL for a worker alone); then
 * finish() runs it on this thread until it stops and frees it. srv_stop()
 * reaches it meanwhile. The sockets belong to the worker from start on. */
int srv__serve_worker_start(srv_serve_t *s, const srv_config_t *cfg, const srv_app_t *app,
                            const srv_worker_env_t *env);
int srv__serve_worker_finish(const srv_config_t *cfg);
/* Both, for a process with one worker. */
int srv__serve_worker(srv_serve_t *s, const srv_config_t *cfg, const srv_app_t *app);
/* The configuration srv_set_reload()'s function gives, or NULL. */
srv_config_t *srv__serve_reload(void);
/* Asks the running worker to reopen its log files. Async-signal-safe. */
void srv_reopen_logs(void);
/* Removes the pid file and closes what srv__serve_open() opened. */
void srv__serve_close(srv_serve_t *s, const srv_config_t *cfg);

#endif
