/* pyhost.c: what the _srvhost module runs (core/wsgi/host.c): the srv
 * command, in a python3 process whose interpreter is already up. */
#include "platform.h"
#include "serve_wsgi.h"
#include "wsgi/wsgi.h"

int srv_wsgi_host_main(int argc, char **argv)
{
    int rc;

    srv_plat_set_cmdline(argc, argv); /* ps: srv ARGS, not python3 -c ... */
    srv_wsgi_hosted_begin();          /* gives up the GIL until the command ends */
    rc = srv_cli_main(argc, argv, srv_serve_wsgi_here);
    srv_wsgi_hosted_end();
    return rc;
}
