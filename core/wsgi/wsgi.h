/* wsgi.h: the CPython bridge, seen from outside core/wsgi.
 *
 * The bridge is one srv_app_t: it embeds CPython, loads MODULE:APP the way
 * gunicorn does and runs it under PEP 3333. Nothing outside core/wsgi
 * includes Python.h. */
#ifndef SRV_WSGI_WSGI_H
#define SRV_WSGI_WSGI_H

#include "config/config.h"
#include "srv.h"

/* Fills *app with the bridge, which loads the app named by cfg's `app`
 * key in worker_init (each prefork worker imports it for itself, so a
 * reload picks up new code). cfg is borrowed for the life of the app.
 * Returns 0 or SRV_ENOMEM. */
int srv_wsgi_app(const srv_config_t *cfg, srv_app_t *app);
/* Finalises Python if this process loaded it, and frees what
 * srv_wsgi_app() allocated. */
void srv_wsgi_app_free(srv_app_t *app);

/* Loads the app now, in this process: initialises Python (no signal
 * handlers of its own), applies chdir, pythonpath and the virtualenv, and
 * imports the app. For --preload, one process, and the check before
 * binding. On failure the reason, with the Python traceback, is in the
 * error log and SRV_EAPP is returned. Main thread; afterwards the main
 * thread does not hold the GIL. worker_exit finalises Python. */
int srv_wsgi_load(srv_app_t *app);

/* Hosted mode: srv runs inside a python3 process (service/pyhost.c).
 * begin gives up the GIL of the calling (main) thread, which already runs
 * Python, and tells the bridge not to initialise or finalise Python; end
 * takes the GIL back. */
void srv_wsgi_hosted_begin(void);
void srv_wsgi_hosted_end(void);

/* What _srvhost.main(argv) runs (core/wsgi/host.c): defined by the program
 * that builds the module (service/pyhost.c), so that the module's Python
 * side stays here and the command line stays in service/. */
int srv_wsgi_host_main(int argc, char **argv);

#endif
