/* cli.c: the srv command line.
 *
 *   srv [OPTIONS] MODULE:APP        serve a WSGI app
 *   srv [OPTIONS] --builtin NAME    serve a built-in app (hello, echo, test) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "app/builtin.h"
#include "cli.h"
#include "config/config.h"
#include "srv.h"

static const char *env_lookup(const char *name)
{
    return getenv(name);
}

typedef struct cmdline_s {
    int argc;
    char **argv;
} cmdline_t;

/* The whole configuration from its sources: defaults, the file, the
 * environment, the command line. Returns a config (the caller owns it) or
 * NULL with err filled in. */
static srv_config_t *load_config(const cmdline_t *cl, srv_cli_action_t *action, char *err,
                                 size_t errlen)
{
    srv_config_t *cfg = NULL;

    if (srv_config_new(&cfg) != 0) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (srv_config_parse_args(cfg, cl->argc, cl->argv, action, err, errlen) != 0)
        goto fail;
    if (*action == SRV_CLI_HELP || *action == SRV_CLI_VERSION || *action == SRV_CLI_HELP_MARKDOWN ||
        *action == SRV_CLI_HELP_MAN)
        return cfg;
    if (srv_config_load_env(cfg, env_lookup, err, errlen) != 0 ||
        (cfg->config_file != NULL &&
         srv_config_load_file(cfg, cfg->config_file, err, errlen) != 0) ||
        srv_config_port_default(cfg, env_lookup, err, errlen) != 0 ||
        srv_config_validate(cfg, err, errlen) != 0)
        goto fail;
    return cfg;
fail:
    srv_config_free(cfg);
    return NULL;
}

/* SIGHUP: the same sources, read again. */
static srv_config_t *reload_config(void *arg)
{
    srv_cli_action_t action;
    char err[1024];
    srv_config_t *cfg = load_config(arg, &action, err, sizeof(err));

    if (cfg == NULL)
        fprintf(stderr, "srv: reload: %s; keeping the current configuration\n", err);
    return cfg;
}

static int fail(const char *msg)
{
    fprintf(stderr, "srv: error: %s\n", msg);
    return 2;
}

int srv_cli_exit_code(int rc)
{
    return rc == 0 ? 0 : rc == SRV_ECONFIG ? 2 : rc == SRV_EAPP ? 4 : 1;
}

int srv_cli_main(int argc, char **argv, srv_cli_wsgi_fn serve_wsgi)
{
    static cmdline_t cl;
    srv_config_t *cfg = NULL;
    srv_cli_action_t action;
    char err[1024];
    int rc = 0;

    cl.argc = argc;
    cl.argv = argv;
    cfg = load_config(&cl, &action, err, sizeof(err));
    if (cfg == NULL)
        return fail(err);
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
    case SRV_CLI_HELP_MAN:
        srv_config_man(stdout);
        goto out;
    case SRV_CLI_PRINT_CONFIG:
        srv_config_print(cfg, stdout);
        goto out;
    case SRV_CLI_CHECK_CONFIG:
        printf("srv: configuration OK%s%s\n", cfg->config_file ? ": " : "",
               cfg->config_file ? cfg->config_file : "");
        goto out;
    default:
        break;
    }

    srv_set_reload(reload_config, &cl);
    if (srv_config_serves_builtin(cfg)) {
        rc = srv_cli_exit_code(srv_run(cfg, srv_builtin_app(SRV_CFG_STR(cfg, builtin))));
    } else if (SRV_CFG_STR(cfg, app)[0] == '\0') {
        rc =
            fail("no app to serve: give MODULE:APP, or --builtin hello|echo|test (see srv --help)");
    } else if (serve_wsgi == NULL) {
        snprintf(err, sizeof(err),
                 "cannot serve '%s': this srv was built without Python (WSGI); "
                 "use --builtin hello|echo|test",
                 SRV_CFG_STR(cfg, app));
        rc = fail(err);
    } else {
        rc = serve_wsgi(cfg, argc, argv);
    }
out:
    srv_config_free(cfg);
    return rc;
}
