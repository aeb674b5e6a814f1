/* Unit tests of core/config. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_int.h"

static srv_config_t *cfg;
static char err[512];

static void setup(void)
{
    cr_assert_eq(srv_config_new(&cfg), 0);
    err[0] = '\0';
}

static void teardown(void)
{
    srv_config_free(cfg);
}

TestSuite(config, .init = setup, .fini = teardown);

Test(config, defaults)
{
    cr_assert_eq(SRV_CFG_INT(cfg, workers), 0, "0: one per CPU or WEB_CONCURRENCY");
    cr_assert_eq(SRV_CFG_INT(cfg, threads), 4);
    cr_assert_str_eq(SRV_CFG_STR(cfg, umask), "");
    cr_assert_eq(SRV_CFG_INT(cfg, preload), 0);
    cr_assert_eq(SRV_CFG_INT(cfg, reuse_port), 0);
    cr_assert_eq(SRV_CFG_INT(cfg, keepalive), 75);
    cr_assert_eq(SRV_CFG_INT(cfg, limit_request_line), 4094);
    cr_assert_eq(SRV_CFG_INT(cfg, limit_request_head), 65536);
    cr_assert_eq(SRV_CFG_INT(cfg, limit_request_body), 1073741824LL);
    cr_assert_eq(SRV_CFG_INT(cfg, loglevel), 1, "info is choice 1");
    cr_assert_eq(SRV_CFG_INT(cfg, builtin), -1, "no builtin by default");
    cr_assert_eq(cfg->v[SRV_K_bind].nlist, 1);
    cr_assert_str_eq(cfg->v[SRV_K_bind].list[0], "127.0.0.1:8000");
    cr_assert_eq(cfg->v[SRV_K_forwarded_allow_ips].nlist, 2, "gunicorn's: the loopback proxies");
    cr_assert_str_eq(cfg->v[SRV_K_forwarded_allow_ips].list[0], "127.0.0.1");
    cr_assert_str_eq(cfg->v[SRV_K_forwarded_allow_ips].list[1], "::1");
    cr_assert_eq(cfg->where[SRV_K_workers].src, SRV_SRC_DEFAULT);
}

/* Every key accepts a valid value from every source. */
Test(config, every_key_from_every_source)
{
    int k;

    for (k = 0; k < SRV_NKEYS; k++) {
        const srv_keyinfo_t *ki = &srv_keys[k];
        char v[64];

        switch (ki->type) {
        case SRV_CT_INT:
        case SRV_CT_SIZE:
            snprintf(v, sizeof(v), "%lld", (long long)ki->max);
            break;
        case SRV_CT_BOOL:
            snprintf(v, sizeof(v), "yes");
            break;
        case SRV_CT_ENUM:
            snprintf(v, sizeof(v), "%.*s", (int)strcspn(ki->choices, "|"), ki->choices);
            break;
        case SRV_CT_LIST:
        case SRV_CT_LINES:
            snprintf(v, sizeof(v), "%s",
                     k == SRV_K_forwarded_allow_ips ? "::1"
                     : k == SRV_K_raw_env           ? "A=b"
                     : k == SRV_K_static            ? "/static=pub"
                                                    : "[::1]:9000");
            break;
        default:
            snprintf(v, sizeof(v), "%s",
                     k == SRV_K_access_log_format ? "%(h)s"
                     : k == SRV_K_umask           ? "0027"
                                                  : "x.log");
            break;
        }
        cr_assert_eq(srv_config_set(cfg, ki->name, v, SRV_SRC_FILE, err, sizeof(err)), 0,
                     "%s = %s: %s", ki->name, v, err);
        cr_assert_eq(srv_config_set(cfg, ki->name, v, SRV_SRC_ENV, err, sizeof(err)), 0, "%s: %s",
                     ki->name, err);
        cr_assert_eq(srv_config_set(cfg, ki->name, v, SRV_SRC_CLI, err, sizeof(err)), 0, "%s: %s",
                     ki->name, err);
        cr_assert_eq(cfg->where[k].src, SRV_SRC_CLI);
    }
}

Test(config, precedence)
{
    cr_assert_eq(srv_config_set(cfg, "workers", "3", SRV_SRC_CLI, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_set(cfg, "workers", "2", SRV_SRC_ENV, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_set(cfg, "workers", "5", SRV_SRC_FILE, err, sizeof(err)), 0);
    cr_assert_eq(SRV_CFG_INT(cfg, workers), 3);
    cr_assert_eq(srv_config_set(cfg, "threads", "7", SRV_SRC_FILE, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_set(cfg, "threads", "8", SRV_SRC_ENV, err, sizeof(err)), 0);
    cr_assert_eq(SRV_CFG_INT(cfg, threads), 8);
    cr_assert_eq(cfg->where[SRV_K_threads].src, SRV_SRC_ENV);
}

Test(config, lists_add_up_within_a_source_and_replace_across)
{
    cr_assert_eq(
        srv_config_set(cfg, "bind", "127.0.0.1:1, unix:/tmp/s", SRV_SRC_FILE, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(srv_config_set(cfg, "bind", "[::1]:2", SRV_SRC_FILE, err, sizeof(err)), 0);
    cr_assert_eq(cfg->v[SRV_K_bind].nlist, 3);
    cr_assert_str_eq(cfg->v[SRV_K_bind].list[1], "unix:/tmp/s");
    cr_assert_eq(srv_config_set(cfg, "bind", ":3", SRV_SRC_CLI, err, sizeof(err)), 0);
    cr_assert_eq(cfg->v[SRV_K_bind].nlist, 1);
    cr_assert_str_eq(cfg->v[SRV_K_bind].list[0], ":3");
}

Test(config, sizes)
{
    static const struct {
        const char *in;
        long long out;
    } ok[] = {{"2048", 2048},  {"4k", 4096},         {"4K", 4096},         {"4kb", 4096},
              {"2m", 2097152}, {"1g", 1073741824LL}, {"1GB", 1073741824LL}};
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        cr_assert_eq(
            srv_config_set(cfg, "limit_request_body", ok[i].in, SRV_SRC_CLI, err, sizeof(err)), 0,
            "%s: %s", ok[i].in, err);
        cr_assert_eq(SRV_CFG_INT(cfg, limit_request_body), ok[i].out, "%s", ok[i].in);
    }
}

typedef struct bad_s {
    const char *key, *value, *expect;
} bad_t;

Test(config, bad_values_name_key_value_and_allowed)
{
    static const bad_t bad[] = {
        {"workers", "abc", "not an integer (allowed: integers 0..1024)"},
        {"workers", "1025", "out of range (allowed: integers 0..1024)"},
        {"umask", "0999", "not an octal mode (allowed: an octal mode such as 0022)"},
        {"umask", "12345", "not an octal mode"},
        {"max_worker_memory", "lots", "not a size"},
        {"workers", "-1", "not an integer"},
        {"workers", "1.5", "not an integer"},
        {"workers", "", "not an integer"},
        {"workers", "99999999999999999999999", "not an integer"},
        {"threads", "1025", "out of range"},
        {"limit_request_head", "12q", "not a size"},
        {"limit_request_head", "1t", "not a size"},
        {"limit_request_head", "100", "out of range"},
        {"loglevel", "verbose",
         "not one of the choices (allowed: debug, info, warning, error, "
         "critical)"},
        {"builtin", "nope", "allowed: hello, echo, test"},
        {"bind", "::1:80", "brackets"},
        {"bind", "a:99999", "PORT 0..65535"},
        {"bind", "a:b", "PORT 0..65535"},
        {"bind", "unix:", "empty unix socket path"},
        {"bind", "a b:1", "invalid character"},
        {"bind", "a:1,,b:2", "empty list item"},
        {"bind", "[::1", "closing"},
        {"forwarded_allow_ips", "proxy.local",
         "host names are not resolved) (allowed: IP addresses, ranges such as 10.0.0.0/8"},
        {"forwarded_allow_ips", "10.0.0.0/33", "BITS 0..32"},
        {"forwarded_allow_ips", "10.1.0.0/8", "bits set past"},
        {"forwarded_allow_ips", "127.0.0.1,,::1", "empty list item"},
        {"raw_env", "DEBUG", "not NAME=VALUE (allowed: NAME=VALUE"},
        {"raw_env", "=1", "not NAME=VALUE"},
        {"access_log_format", "%(zz)s", "unknown atom"},
        {"access_log_format", "%(h)d", "%(x)s"},
        {"access_log_format", "100%", "%%"},
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char expect_head[128];

        cr_assert_eq(srv_config_set(cfg, bad[i].key, bad[i].value, SRV_SRC_CLI, err, sizeof(err)),
                     SRV_ECONFIG, "%s = %s should fail", bad[i].key, bad[i].value);
        snprintf(expect_head, sizeof(expect_head), "%s = '%s': ", bad[i].key, bad[i].value);
        cr_assert_not_null(strstr(err, expect_head), "message names key and value: %s", err);
        cr_assert_not_null(strstr(err, bad[i].expect), "message '%s' lacks '%s'", err,
                           bad[i].expect);
        cr_assert_not_null(strstr(err, "command line --"), "message names the source: %s", err);
    }
    /* A failed set changes nothing. */
    cr_assert_eq(SRV_CFG_INT(cfg, workers), 0);
    cr_assert_eq(cfg->v[SRV_K_bind].nlist, 1);
}

Test(config, ini_file)
{
    const char *ini = "; a comment\n"
                      "# another\n"
                      "[srv]\n"
                      "workers = 2\n"
                      "threads: 6\n"
                      "bind = 127.0.0.1:9001\n"
                      "bind = unix:/run/srv.sock\n"
                      "keep-alive = 5 ; inline comment\n"
                      "access_log_format = %(h)s \"%(r)s\" %(s)s\n";

    cr_assert_eq(srv_config_load_string(cfg, ini, "srv.ini", err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(SRV_CFG_INT(cfg, workers), 2);
    cr_assert_eq(SRV_CFG_INT(cfg, threads), 6);
    cr_assert_eq(SRV_CFG_INT(cfg, keepalive), 5);
    cr_assert_eq(cfg->v[SRV_K_bind].nlist, 2);
    cr_assert_str_eq(SRV_CFG_STR(cfg, access_log_format), "%(h)s \"%(r)s\" %(s)s");
    cr_assert_eq(cfg->where[SRV_K_threads].src, SRV_SRC_FILE);
    cr_assert_eq(cfg->where[SRV_K_threads].line, 5);
    cr_assert_str_eq(cfg->where[SRV_K_threads].file, "srv.ini");
}

static void expect_ini_error(const char *ini, const char *want)
{
    cr_assert_eq(srv_config_load_string(cfg, ini, "x.ini", err, sizeof(err)), SRV_ECONFIG,
                 "should fail: %s", ini);
    cr_assert_not_null(strstr(err, want), "'%s' lacks '%s'", err, want);
}

Test(config, ini_errors_name_file_line_key_value)
{
    expect_ini_error("[srv]\nworkers = 2\nwokers = 3\n",
                     "x.ini:3: unknown key 'wokers' (did you mean 'workers'?)");
    expect_ini_error("[srv]\n\nthreads = many\n",
                     "x.ini:3: threads = 'many': not an integer (allowed: integers 1..1024)");
    expect_ini_error("[server]\nworkers = 2\n",
                     "x.ini:2: unknown section [server] (allowed: [srv])");
    expect_ini_error("[srv]\nworkers 2\n", "x.ini:2: syntax error");
    expect_ini_error("[srv]\nzzzzzzzzzzzzzzzzzzz = 1\n",
                     "x.ini:2: unknown key 'zzzzzzzzzzzzzzzzzzz'");
}

Test(config, ini_long_lines_are_refused_not_split)
{
    char ini[512];

    snprintf(ini, sizeof(ini), "[srv]\naccess_log_format = %0*d\n", 250, 0);
    expect_ini_error(ini, "x.ini:2: line longer than");
}

Test(config, missing_file)
{
    cr_assert_eq(srv_config_load_file(cfg, "/nonexistent/srv.ini", err, sizeof(err)), SRV_ECONFIG);
    cr_assert_not_null(strstr(err, "cannot open config file '/nonexistent/srv.ini'"));
}

Test(config, real_file)
{
    char path[] = "/tmp/srv-test-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");

    fputs("[srv]\nbacklog = 17\n", f);
    fclose(f);
    cr_assert_eq(srv_config_load_file(cfg, path, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(SRV_CFG_INT(cfg, backlog), 17);
    remove(path);
}

static const char *fake_env(const char *name)
{
    if (strcmp(name, "SRV_WORKERS") == 0)
        return "4";
    if (strcmp(name, "SRV_LIMIT_REQUEST_HEAD") == 0)
        return "128k";
    return NULL;
}

static const char *bad_env(const char *name)
{
    return strcmp(name, "SRV_KEEPALIVE") == 0 ? "forever" : NULL;
}

Test(config, environment)
{
    cr_assert_eq(srv_config_load_env(cfg, fake_env, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(SRV_CFG_INT(cfg, workers), 4);
    cr_assert_eq(SRV_CFG_INT(cfg, limit_request_head), 131072);
    cr_assert_eq(cfg->where[SRV_K_workers].src, SRV_SRC_ENV);
    cr_assert_eq(srv_config_load_env(cfg, bad_env, err, sizeof(err)), SRV_ECONFIG);
    cr_assert_not_null(strstr(err, "environment SRV_KEEPALIVE: keepalive = 'forever'"), "%s", err);
}

static const char *port_env(const char *name)
{
    return strcmp(name, "PORT") == 0 ? "9000" : NULL;
}

static const char *bad_port_env(const char *name)
{
    return strcmp(name, "PORT") == 0 ? "80a" : NULL;
}

Test(config, port_sets_the_default_bind_as_in_gunicorn)
{
    cr_assert_eq(srv_config_port_default(cfg, fake_env, err, sizeof(err)), 0, "no PORT: %s", err);
    cr_assert_str_eq(cfg->v[SRV_K_bind].list[0], "127.0.0.1:8000");
    cr_assert_eq(srv_config_port_default(cfg, port_env, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(cfg->v[SRV_K_bind].nlist, 1);
    cr_assert_str_eq(cfg->v[SRV_K_bind].list[0], "0.0.0.0:9000");
    cr_assert_eq(cfg->where[SRV_K_bind].src, SRV_SRC_DEFAULT);
    cr_assert_eq(srv_config_validate(cfg, err, sizeof(err)), 0, "%s", err);
}

Test(config, port_gives_way_to_any_bind_set)
{
    cr_assert_eq(
        srv_config_load_string(cfg, "[srv]\nbind = 127.0.0.1:7000\n", "t.ini", err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(srv_config_port_default(cfg, port_env, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(cfg->v[SRV_K_bind].list[0], "127.0.0.1:7000");
    cr_assert_eq(srv_config_port_default(cfg, bad_port_env, err, sizeof(err)), 0,
                 "an unused PORT is not an error");
}

Test(config, a_bad_port_is_named)
{
    cr_assert_eq(srv_config_port_default(cfg, bad_port_env, err, sizeof(err)), SRV_ECONFIG);
    cr_assert_not_null(strstr(err, "environment PORT: '80a' is not a port (allowed: 1..65535"),
                       "%s", err);
    cr_assert_str_eq(cfg->v[SRV_K_bind].list[0], "127.0.0.1:8000");
}

static int args(srv_cli_action_t *action, const char *first, ...)
{
    char *argv[32];
    int argc = 1;
    va_list ap;
    const char *a;

    argv[0] = (char *)"srv";
    va_start(ap, first);
    for (a = first; a != NULL; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    return srv_config_parse_args(cfg, argc, argv, action, err, sizeof(err));
}

Test(config, command_line)
{
    srv_cli_action_t act;

    cr_assert_eq(args(&act, "-w", "3", "--threads=5", "-b", "127.0.0.1:1", "-b127.0.0.1:2",
                      "--keep-alive", "9", "--limit-request-field_size", "100", "--log-level=debug",
                      "-c", "/etc/srv.ini", "--access-logfile", "-", "mod:app", NULL),
                 0, "%s", err);
    cr_assert_eq(act, SRV_CLI_RUN);
    cr_assert_eq(SRV_CFG_INT(cfg, workers), 3);
    cr_assert_eq(SRV_CFG_INT(cfg, threads), 5);
    cr_assert_eq(cfg->v[SRV_K_bind].nlist, 2);
    cr_assert_eq(SRV_CFG_INT(cfg, keepalive), 9);
    cr_assert_eq(SRV_CFG_INT(cfg, limit_request_field_size), 100);
    cr_assert_eq(SRV_CFG_INT(cfg, loglevel), 0);
    cr_assert_str_eq(cfg->config_file, "/etc/srv.ini");
    cr_assert_str_eq(SRV_CFG_STR(cfg, accesslog), "-");
    cr_assert_str_eq(SRV_CFG_STR(cfg, app), "mod:app");
}

Test(config, command_line_aliases_and_ini_names)
{
    srv_cli_action_t act;

    cr_assert_eq(args(&act, "--keepalive", "3", "--log-file", "/tmp/e.log", "--worker-connections",
                      "50", "--limit_request_line=77", NULL),
                 0, "%s", err);
    cr_assert_eq(SRV_CFG_INT(cfg, keepalive), 3);
    cr_assert_str_eq(SRV_CFG_STR(cfg, errorlog), "/tmp/e.log");
    cr_assert_eq(SRV_CFG_INT(cfg, worker_connections), 50);
    cr_assert_eq(SRV_CFG_INT(cfg, limit_request_line), 77);
}

Test(config, command_line_actions)
{
    srv_cli_action_t act;

    cr_assert_eq(args(&act, "--help", NULL), 0);
    cr_assert_eq(act, SRV_CLI_HELP);
    cr_assert_eq(args(&act, "-v", NULL), 0);
    cr_assert_eq(act, SRV_CLI_VERSION);
    cr_assert_eq(args(&act, "--print-config", NULL), 0);
    cr_assert_eq(act, SRV_CLI_PRINT_CONFIG);
    cr_assert_eq(args(&act, "--check-config=/x.ini", NULL), 0);
    cr_assert_eq(act, SRV_CLI_CHECK_CONFIG);
    cr_assert_str_eq(cfg->config_file, "/x.ini");
}

Test(config, command_line_errors)
{
    srv_cli_action_t act;

    cr_assert_eq(args(&act, "--wokers", "2", NULL), SRV_ECONFIG);
    cr_assert_not_null(strstr(err, "unknown option '--wokers'"), "%s", err);
    cr_assert_eq(args(&act, "-Z", NULL), SRV_ECONFIG);
    cr_assert_not_null(strstr(err, "unknown option '-Z'"), "%s", err);
    cr_assert_eq(args(&act, "--workers", NULL), SRV_ECONFIG);
    cr_assert_not_null(strstr(err, "needs a value (INT)"), "%s", err);
    cr_assert_eq(args(&act, "a:b", "c:d", NULL), SRV_ECONFIG);
    cr_assert_not_null(strstr(err, "unexpected argument 'c:d'"), "%s", err);
    cr_assert_eq(args(&act, "-w", "x", NULL), SRV_ECONFIG);
    cr_assert_not_null(strstr(err, "command line --workers: workers = 'x'"), "%s", err);
}

Test(config, cross_key_rules)
{
    cr_assert_eq(srv_config_validate(cfg, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(srv_config_set(cfg, "limit_request_line", "100000", SRV_SRC_CLI, err, sizeof(err)),
                 0);
    cr_assert_eq(srv_config_validate(cfg, err, sizeof(err)), SRV_ECONFIG);
    cr_assert_not_null(
        strstr(err, "limit_request_line (100000) is larger than limit_request_head"));
}

Test(config, reuse_port_refuses_unix_sockets)
{
    cr_assert_eq(srv_config_set(cfg, "reuse_port", "yes", SRV_SRC_FILE, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_validate(cfg, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(srv_config_set(cfg, "bind", "unix:/run/a.sock", SRV_SRC_CLI, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_validate(cfg, err, sizeof(err)), SRV_ECONFIG);
    cr_assert_not_null(
        strstr(err, "reuse_port cannot share a unix socket (bind = unix:/run/a.sock)"), "%s", err);
}

Test(config, app_and_builtin)
{
    cr_assert_eq(srv_config_set(cfg, "builtin", "hello", SRV_SRC_FILE, err, sizeof(err)), 0);
    cr_assert(srv_config_serves_builtin(cfg));
    /* A higher-precedence source wins... */
    cr_assert_eq(srv_config_set(cfg, "app", "site:app", SRV_SRC_CLI, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_validate(cfg, err, sizeof(err)), 0, "%s", err);
    cr_assert(!srv_config_serves_builtin(cfg));
    /* ...both from one source is an error that names both. */
    cr_assert_eq(srv_config_set(cfg, "builtin", "echo", SRV_SRC_CLI, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_validate(cfg, err, sizeof(err)), SRV_ECONFIG);
    cr_assert_not_null(strstr(err, "app 'site:app' (command line --app) and builtin 'echo' "
                                   "(command line --builtin) are both set: keep one"),
                       "%s", err);
}

Test(config, raw_env_keeps_commas_and_equals_in_the_value)
{
    cr_assert_eq(srv_config_set(cfg, "raw_env", "ALLOWED_HOSTS=a.example, b.example", SRV_SRC_CLI,
                                err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(srv_config_set(cfg, "raw_env", "OPTS=x=1,y=2", SRV_SRC_CLI, err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_eq(srv_config_set(cfg, "raw_env", "EMPTY=", SRV_SRC_CLI, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_eq(cfg->v[SRV_K_raw_env].nlist, 3);
    cr_assert_str_eq(cfg->v[SRV_K_raw_env].list[0], "ALLOWED_HOSTS=a.example, b.example");
    cr_assert_str_eq(cfg->v[SRV_K_raw_env].list[1], "OPTS=x=1,y=2");
    cr_assert_str_eq(cfg->v[SRV_K_raw_env].list[2], "EMPTY=");
}

Test(config, reload_refuses_preload)
{
    cr_assert_eq(srv_config_set(cfg, "reload", "true", SRV_SRC_CLI, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_validate(cfg, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(srv_config_set(cfg, "preload", "yes", SRV_SRC_ENV, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_validate(cfg, err, sizeof(err)), SRV_ECONFIG);
    cr_assert_not_null(strstr(err, "reload (command line --reload) and preload "
                                   "(environment SRV_PRELOAD) are both on"),
                       "%s", err);
}

Test(config, same_compares_values_of_every_type)
{
    srv_config_t *other = NULL;

    cr_assert_eq(srv_config_new(&other), 0);
    cr_assert(srv_config_same(cfg, other, SRV_K_backlog));
    cr_assert(srv_config_same(cfg, other, SRV_K_pythonpath));
    cr_assert_eq(srv_config_set(other, "backlog", "64", SRV_SRC_FILE, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_set(other, "root_path", "/x", SRV_SRC_FILE, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_set(other, "pythonpath", "/a", SRV_SRC_FILE, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_set(other, "preload", "true", SRV_SRC_FILE, err, sizeof(err)), 0);
    cr_assert(!srv_config_same(cfg, other, SRV_K_backlog));
    cr_assert(!srv_config_same(cfg, other, SRV_K_root_path));
    cr_assert(!srv_config_same(cfg, other, SRV_K_pythonpath));
    cr_assert(!srv_config_same(cfg, other, SRV_K_preload));
    /* Where a value came from does not matter, only the value. */
    cr_assert_eq(srv_config_set(cfg, "backlog", "64", SRV_SRC_CLI, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_set(cfg, "pythonpath", "/a", SRV_SRC_ENV, err, sizeof(err)), 0);
    cr_assert(srv_config_same(cfg, other, SRV_K_backlog));
    cr_assert(srv_config_same(cfg, other, SRV_K_pythonpath));
    cr_assert_eq(srv_config_set(cfg, "pythonpath", "/b", SRV_SRC_CLI, err, sizeof(err)), 0);
    cr_assert(!srv_config_same(cfg, other, SRV_K_pythonpath));
    srv_config_free(other);
}

Test(config, print_and_usage_cover_every_key)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int k;

    cr_assert_eq(srv_config_set(cfg, "threads", "9", SRV_SRC_ENV, err, sizeof(err)), 0);
    srv_config_print(cfg, f);
    fflush(f);
    cr_assert_not_null(strstr(buf, "threads = 9  ; environment SRV_THREADS\n"), "%s", buf);
    cr_assert_not_null(strstr(buf, "workers = 0  ; default\n"));
    for (k = 0; k < SRV_NKEYS; k++) {
        char line[128];

        snprintf(line, sizeof(line), "\n%s = ", srv_keys[k].name);
        cr_assert_not_null(strstr(buf, line), "print-config lacks %s", srv_keys[k].name);
    }
    fclose(f);
    free(buf);

    f = open_memstream(&buf, &len);
    srv_config_usage(f, "srv");
    fflush(f);
    for (k = 0; k < SRV_NKEYS; k++) {
        char flag[128];

        snprintf(flag, sizeof(flag), "%s ", srv__config_flag(k));
        cr_assert_not_null(strstr(buf, flag), "--help lacks %s", flag);
    }
    fclose(f);
    free(buf);
}

Test(config, bind_addresses)
{
    srv_addr_t a;
    const char *why;

    cr_assert_eq(srv_addr_parse("127.0.0.1:80", &a, &why), 0);
    cr_assert_str_eq(a.host, "127.0.0.1");
    cr_assert_eq(a.port, 80);
    cr_assert_eq(srv_addr_parse("[::1]:0", &a, &why), 0);
    cr_assert_str_eq(a.host, "::1");
    cr_assert_eq(a.port, 0);
    cr_assert_eq(srv_addr_parse(":8080", &a, &why), 0);
    cr_assert_str_eq(a.host, "");
    cr_assert_eq(a.port, 8080);
    cr_assert_eq(srv_addr_parse("localhost", &a, &why), 0);
    cr_assert_eq(a.port, 8000);
    cr_assert_eq(srv_addr_parse("[::]", &a, &why), 0);
    cr_assert_str_eq(a.host, "::");
    cr_assert_eq(srv_addr_parse("unix:/run/srv.sock", &a, &why), 0);
    cr_assert_eq(a.kind, SRV_ADDR_UNIX);
    cr_assert_str_eq(a.path, "/run/srv.sock");
    cr_assert_eq(srv_addr_parse("*:81", &a, &why), 0);
    cr_assert_str_eq(a.host, "");
}

Test(config, a_bad_value_is_an_error_even_when_overridden)
{
    cr_assert_eq(srv_config_set(cfg, "threads", "8", SRV_SRC_CLI, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_set(cfg, "threads", "zero", SRV_SRC_FILE, err, sizeof(err)),
                 SRV_ECONFIG);
    cr_assert_eq(srv_config_set(cfg, "bind", ":1", SRV_SRC_CLI, err, sizeof(err)), 0);
    cr_assert_eq(srv_config_set(cfg, "bind", "::1:80", SRV_SRC_ENV, err, sizeof(err)), SRV_ECONFIG);
    cr_assert_eq(SRV_CFG_INT(cfg, threads), 8);
    cr_assert_str_eq(cfg->v[SRV_K_bind].list[0], ":1");
}

/* `static`: an item is /PREFIX=DIRECTORY, and a bad one is named with the
 * form that is allowed. */
Test(config, static_items)
{
    cr_assert_eq(srv_config_set(cfg, "static", "/static=pub", SRV_SRC_FILE, err, sizeof(err)), 0);
    cr_assert_eq(
        srv_config_set(cfg, "static", "/media=dir, with comma", SRV_SRC_FILE, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(cfg->v[SRV_K_static].nlist, 2);
    cr_assert_str_eq(cfg->v[SRV_K_static].list[1], "/media=dir, with comma");
    cr_assert_eq(srv_config_set(cfg, "static", "pub", SRV_SRC_CLI, err, sizeof(err)), SRV_ECONFIG);
    cr_assert(strstr(err, "not /PREFIX=DIRECTORY (allowed: /PREFIX=DIRECTORY") != NULL, "%s", err);
}
