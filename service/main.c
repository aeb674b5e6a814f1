/* main.c: the srv executable. How it serves a WSGI app depends on the
 * build: embedded (Python linked in: Windows, sanitizer builds), hosted
 * (Linux: Debian's python3 runs the app, with srv in a module; its
 * interpreter is built with LTO and PGO and runs Python code 7-30% faster
 * than an embedded libpython), or not at all (built without Python). */
#include "cli.h"
#include "platform.h"
#include "serve_wsgi.h"

int main(int argc, char **argv)
{
#if defined(SRV_WSGI_HOSTED)
    return srv_cli_main(argc, argv, srv_serve_wsgi_hosted);
#else
    srv_plat_set_cmdline(argc, argv); /* a forked worker shows srv: worker N ARGS */
#if defined(SRV_WSGI_EMBEDDED)
    return srv_cli_main(argc, argv, srv_serve_wsgi_here);
#else
    return srv_cli_main(argc, argv, NULL);
#endif
#endif
}
