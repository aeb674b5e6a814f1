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
 * `bind` and writes the pid file. Returns 0 or SRV_E* (logged); on failure
 * nothing stays open. */
int srv__serve_open(srv_serve_t *s, const srv_config_t *cfg);
/* Logs "Listening at http://HOST:PORT (pid N, workers W, threads T)" for
 * every listener. */
void srv__serve_announce(const srv_serve_t *s, const srv_config_t *cfg);
/* Creates a worker on the sockets and runs it on this thread until it
 * stops; srv_stop() reaches it meanwhile. */
int srv__serve_worker(srv_serve_t *s, const srv_config_t *cfg, const srv_app_t *app);
/* Removes the pid file and closes what srv__serve_open() opened. */
void srv__serve_close(srv_serve_t *s, const srv_config_t *cfg);

#endif
