/* cli.h: the srv command line, shared by the srv executable and, on Linux,
 * the _srvhost Python module that the executable hands WSGI apps to. */
#ifndef SRV_SERVICE_CLI_H
#define SRV_SERVICE_CLI_H

#include "config/config.h"

/* Serves the WSGI app cfg names; returns the process exit code. argc/argv
 * are the command line, as given to srv_cli_main(). */
typedef int (*srv_cli_wsgi_fn)(srv_config_t *cfg, int argc, char **argv);

/* The whole command: configuration, --help and friends, the built-in
 * apps, and serve_wsgi for a WSGI app (NULL: srv was built without
 * Python). Returns the exit code: 0 after a clean stop, 1 when serving
 * failed, 2 for a usage or configuration error, 4 when the app could not
 * be loaded (as gunicorn); with 2 and 4 nothing was bound. */
int srv_cli_main(int argc, char **argv, srv_cli_wsgi_fn serve_wsgi);

/* The exit code for what srv_run() returned. */
int srv_cli_exit_code(int rc);

#endif
