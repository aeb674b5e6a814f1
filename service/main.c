/* main.c: the srv command line.
 *
 *   srv [OPTIONS] MODULE:APP        serve a WSGI app
 *   srv [OPTIONS] --builtin NAME    serve a built-in app (hello, echo, test)
 *
 * Exit codes: 0 after a clean stop, 1 when serving failed, 2 for a usage
 * or configuration error, 4 when the app could not be loaded (as gunicorn);
 * with 2 and 4 nothing was bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "app/builtin.h"
#include "config/config.h"
#include "srv.h"
#ifdef SRV_HAVE_WSGI
#include "wsgi/wsgi.h"
#endif

static const char *env_lookup(const char *name)
{
    return getenv(name);
}

static int fail(const char *msg)
{
    fprintf(stderr, "srv: error: %s\n", msg);
    return 2;
}

int main(int argc, char **argv)
{
    srv_config_t *cfg = NULL;
    srv_cli_action_t action;
    const srv_app_t *app = NULL;
#ifdef SRV_HAVE_WSGI
    srv_app_t wsgi;
#endif
    char err[1024];
    int rc;

    if (srv_config_new(&cfg) != 0)
        return fail("out of memory");
    rc = srv_config_parse_args(cfg, argc, argv, &action, err, sizeof(err));
    if (rc != 0) {
        rc = fail(err);
        goto out;
    }
    switch (action) {
    case SRV_CLI_HELP:
        srv_config_usage(stdout, "srv");
        goto out;
    case SRV_CLI_VERSION:
        printf("srv %s (libuv %s)\n", SRV_VERSION_STRING, uv_version_string());
        goto out;
    case SRV_CLI_HELP_MARKDOWN:
        srv_config_markdown(stdout);
        goto out;
    default:
        break;
    }
    if (srv_config_load_env(cfg, env_lookup, err, sizeof(err)) != 0 ||
        (cfg->config_file != NULL &&
         srv_config_load_file(cfg, cfg->config_file, err, sizeof(err)) != 0) ||
        srv_config_validate(cfg, err, sizeof(err)) != 0) {
        rc = fail(err);
        goto out;
    }
    if (action == SRV_CLI_PRINT_CONFIG) {
        srv_config_print(cfg, stdout);
        goto out;
    }
    if (action == SRV_CLI_CHECK_CONFIG) {
        printf("srv: configuration OK%s%s\n", cfg->config_file ? ": " : "",
               cfg->config_file ? cfg->config_file : "");
        goto out;
    }

    if (SRV_CFG_INT(cfg, builtin) >= 0) {
        app = srv_builtin_app(SRV_CFG_STR(cfg, builtin));
    } else if (SRV_CFG_STR(cfg, app)[0] != '\0') {
#ifdef SRV_HAVE_WSGI
        /* The app is imported before anything is bound: an import error
         * is a message with its traceback and exit code 4. */
        if (srv_wsgi_load(cfg, &wsgi) != 0) {
            rc = 4;
            goto out;
        }
        app = &wsgi;
#else
        snprintf(err, sizeof(err),
                 "cannot serve '%s': this srv was built without Python (WSGI); "
                 "use --builtin hello|echo|test",
                 SRV_CFG_STR(cfg, app));
        rc = fail(err);
        goto out;
#endif
    }
    if (app == NULL) {
        rc =
            fail("no app to serve: give MODULE:APP, or --builtin hello|echo|test (see srv --help)");
        goto out;
    }
    rc = srv_run(cfg, app);
    rc = rc == 0 ? 0 : rc == SRV_ECONFIG ? 2 : 1;
out:
    srv_config_free(cfg);
    return rc;
}
