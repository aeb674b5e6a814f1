/* serve_wsgi.h: the ways srv serves a WSGI app (see cli.h). */
#ifndef SRV_SERVICE_SERVE_WSGI_H
#define SRV_SERVICE_SERVE_WSGI_H

#include "cli.h"

/* In this process, with the bridge (serve_wsgi.c). */
int srv_serve_wsgi_here(srv_config_t *cfg, int argc, char **argv);

/* In a python3 process that loads the _srvhost module (launch.c, Linux):
 * replaces this process; returns only on failure. */
int srv_serve_wsgi_hosted(srv_config_t *cfg, int argc, char **argv);

#endif
