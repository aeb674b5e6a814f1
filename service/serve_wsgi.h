/* serve_wsgi.h: the ways srv serves a WSGI app (see cli.h). */
#ifndef SRV_SERVICE_SERVE_WSGI_H
#define SRV_SERVICE_SERVE_WSGI_H

#include "cli.h"

/* In this process, with the bridge (serve_wsgi.c). */
int srv_serve_wsgi_here(srv_config_t *cfg, int argc, char **argv);

/* With python3 processes that load the _srvhost module (launch.c, Linux):
 * this process stays the master and each worker is a python3 process; or,
 * when the master must hold the app too (preload) or workers cannot be
 * started that way, this process becomes python3 and serves from there. */
int srv_serve_wsgi_hosted(srv_config_t *cfg, int argc, char **argv);

/* Set in the environment of a python3 that only checks that the app
 * imports (exit 0, or 4 with the traceback). */
#define SRV_CHECK_APP_ENV "SRV_CHECK_APP"

#endif
