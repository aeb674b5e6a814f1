/* wsgi.h: the CPython bridge, seen from outside core/wsgi.
 *
 * The bridge is one srv_app_t: it embeds CPython, loads MODULE:APP the way
 * gunicorn does and runs it under PEP 3333. Nothing outside core/wsgi
 * includes Python.h. */
#ifndef SRV_WSGI_WSGI_H
#define SRV_WSGI_WSGI_H

#include "config/config.h"
#include "srv.h"

/* Initialises Python (no signal handlers of its own), applies chdir,
 * pythonpath and the virtualenv, imports the app named by cfg's `app` key
 * and fills *app. On failure the reason, with the Python traceback, is in
 * the error log, Python is finalised again, and SRV_EAPP is returned. Main
 * thread; afterwards the main thread never holds the GIL. The app's
 * worker_exit finalises Python. */
int srv_wsgi_load(const srv_config_t *cfg, srv_app_t *app);

#endif
