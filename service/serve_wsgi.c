/* serve_wsgi.c: serving a WSGI app in this process, with the bridge
 * (core/wsgi): the srv executable when it embeds Python, and the _srvhost
 * module inside a python3 process. */
#include "serve_wsgi.h"

#include <stdlib.h>

#include "platform.h"
#include "srv.h"
#include "wsgi/wsgi.h"

int srv_serve_wsgi_here(srv_config_t *cfg, int argc, char **argv)
{
    srv_app_t wsgi = {0};
    int rc;

    (void)argc;
    (void)argv;
    /* The app is imported before anything is bound: an import error is a
     * message with its traceback and exit code 4. */
    if (srv_wsgi_app(cfg, &wsgi) != 0 || srv_plat_load_app(cfg, &wsgi, srv_wsgi_load) != 0)
        rc = 4;
    else if (getenv(SRV_CHECK_APP_ENV) != NULL)
        rc = 0; /* launch.c asked only that */
    else
        rc = srv_cli_exit_code(srv_run(cfg, &wsgi));
    srv_wsgi_app_free(&wsgi);
    return rc;
}
