/* cli.c: the command line, generated from the key table.
 *
 * Every key is a long option (its flag, or "--" + its name) and some have a
 * short one; gunicorn's spellings are accepted so that moving from gunicorn
 * is a copy of its flags (--limit-request-field_size, --log-file, ...). */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/config_int.h"
#include "util/alloc.h"

/* Extra spellings: gunicorn's names that the table's flags do not cover. */
static const struct {
    const char *flag;
    srv_key_t key;
} aliases[] = {
    {"--log-file", SRV_K_errorlog},
    {"--access-log", SRV_K_accesslog},
    {"--worker-connections", SRV_K_worker_connections},
};

/* Compares an option name with a flag; '-' and '_' are the same, as
 * gunicorn itself spells --limit-request-field_size. */
static int flag_eq(const char *opt, size_t len, const char *flag)
{
    size_t i;

    for (i = 0; i < len && flag[i]; i++) {
        char a = opt[i] == '_' ? '-' : opt[i];
        char b = flag[i] == '_' ? '-' : flag[i];

        if (a != b)
            return 0;
    }
    return i == len && flag[i] == '\0';
}

static int find_long(const char *opt, size_t len)
{
    char byname[80];
    size_t i;
    int k;

    for (k = 0; k < SRV_NKEYS; k++) {
        if (flag_eq(opt, len, srv__config_flag(k)))
            return k;
        snprintf(byname, sizeof(byname), "--%s", srv_keys[k].name);
        if (flag_eq(opt, len, byname))
            return k;
    }
    for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (flag_eq(opt, len, aliases[i].flag))
            return (int)aliases[i].key;
    return -1;
}

static int find_short(char c)
{
    int k;

    for (k = 0; k < SRV_NKEYS; k++)
        if (srv_keys[k].shrt == c)
            return k;
    return -1;
}

static int set_cli(srv_config_t *cfg, int k, const char *value, char *err, size_t errlen)
{
    srv_cwhere_t w = {SRV_SRC_CLI, NULL, 0};

    return srv_config_set_key(cfg, k, value, &w, err, errlen);
}

static int set_config_file(srv_config_t *cfg, const char *path, char *err, size_t errlen)
{
    char *p = srv_strdup(path);

    if (p == NULL) {
        srv__config_errf(err, errlen, "out of memory");
        return SRV_ECONFIG;
    }
    srv_free(cfg->config_file);
    cfg->config_file = p;
    return 0;
}

static int is_file(const char *path)
{
    FILE *f = fopen(path, "rb");

    if (f == NULL)
        return 0;
    fclose(f);
    return 1;
}

int srv_config_parse_args(srv_config_t *cfg, int argc, char **argv, srv_cli_action_t *action,
                          char *err, size_t errlen)
{
    int i, positional = 0, only_positional = 0;

    *action = SRV_CLI_RUN;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = NULL;
        int k;

        if (only_positional || a[0] != '-' || a[1] == '\0') {
            if (positional++) {
                srv__config_errf(err, errlen,
                                 "command line: unexpected argument '%s' (one MODULE:APP only)", a);
                return SRV_ECONFIG;
            }
            if (set_cli(cfg, SRV_K_app, a, err, errlen) != 0)
                return SRV_ECONFIG;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            *action = SRV_CLI_HELP;
            return 0;
        }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
            *action = SRV_CLI_VERSION;
            return 0;
        }
        if (strcmp(a, "--help-markdown") == 0) {
            *action = SRV_CLI_HELP_MARKDOWN;
            return 0;
        }
        if (strcmp(a, "--help-man") == 0) {
            *action = SRV_CLI_HELP_MAN;
            return 0;
        }
        if (strcmp(a, "--print-config") == 0) {
            *action = SRV_CLI_PRINT_CONFIG;
            continue;
        }
        if (strncmp(a, "--check-config", 14) == 0 && (a[14] == '\0' || a[14] == '=')) {
            *action = SRV_CLI_CHECK_CONFIG;
            /* "--check-config FILE" checks that file, as in
             * `srv --check-config /etc/srv/srv.ini`. */
            if (a[14] == '=') {
                if (set_config_file(cfg, a + 15, err, errlen) != 0)
                    return SRV_ECONFIG;
            } else if (i + 1 < argc && argv[i + 1][0] != '-' && cfg->config_file == NULL &&
                       is_file(argv[i + 1])) {
                if (set_config_file(cfg, argv[++i], err, errlen) != 0)
                    return SRV_ECONFIG;
            }
            continue;
        }

        if (a[1] == '-') {
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a) : strlen(a);

            if (flag_eq(a, len, "--config")) {
                k = -2;
            } else {
                k = find_long(a, len);
                if (k < 0) {
                    srv__config_errf(err, errlen,
                                     "command line: unknown option '%.*s' (see srv --help)",
                                     (int)len, a);
                    return SRV_ECONFIG;
                }
            }
            if (eq != NULL)
                value = eq + 1;
            else if (k >= 0 && srv_keys[k].type == SRV_CT_BOOL)
                value = "true";
        } else {
            if (a[1] == 'c') {
                k = -2;
            } else {
                k = find_short(a[1]);
                if (k < 0) {
                    srv__config_errf(err, errlen,
                                     "command line: unknown option '-%c' (see srv --help)", a[1]);
                    return SRV_ECONFIG;
                }
            }
            if (a[2] != '\0')
                value = a + 2;
        }
        if (value == NULL) {
            if (i + 1 >= argc) {
                srv__config_errf(err, errlen, "command line: option '%s' needs a value (%s)", a,
                                 k >= 0 ? srv_keys[k].metavar : "FILE");
                return SRV_ECONFIG;
            }
            value = argv[++i];
        }
        if (k == -2) {
            if (set_config_file(cfg, value, err, errlen) != 0)
                return SRV_ECONFIG;
        } else if (set_cli(cfg, k, value, err, errlen) != 0) {
            return SRV_ECONFIG;
        }
    }
    return 0;
}
