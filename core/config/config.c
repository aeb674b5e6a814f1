/* config.c: the key table, typed values, precedence and validation. */
#include "config/config.h"
#include "config/config_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "static/static.h"
#include "util/accesslog.h"
#include "util/alloc.h"
#include "util/netmask.h"
#include "util/num.h"

const srv_keyinfo_t srv_keys[SRV_NKEYS] = {
#define SRV_KEY(name, type, def, min, max, flag, shrt, choices, metavar, help)                     \
    {#name, SRV_CT_##type, def, min, max, flag, shrt, choices, metavar, help},
#include "config/keys.def"
#undef SRV_KEY
};

/* The "--name" flag of each key that has no explicit one, built once. */
static char g_flags[SRV_NKEYS][64];

static const char *key_flag(int k)
{
    const char *n;
    size_t i;

    if (srv_keys[k].flag != NULL)
        return srv_keys[k].flag;
    if (g_flags[k][0] == '\0') {
        n = srv_keys[k].name;
        g_flags[k][0] = '-';
        g_flags[k][1] = '-';
        for (i = 0; n[i] && i + 3 < sizeof(g_flags[k]); i++)
            g_flags[k][i + 2] = n[i] == '_' ? '-' : n[i];
        g_flags[k][i + 2] = '\0';
    }
    return g_flags[k];
}

const char *srv__config_flag(int key)
{
    return key_flag(key);
}

void srv__config_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Nonzero when name[0..len) equals want, with '-' and '_' the same and
 * case ignored. */
static int name_eq(const char *name, size_t len, const char *want)
{
    size_t i;

    for (i = 0; i < len && want[i]; i++) {
        char a = name[i] == '-' ? '_' : (char)tolower((unsigned char)name[i]);
        char b = want[i] == '-' ? '_' : want[i];

        if (a != b)
            return 0;
    }
    return i == len && want[i] == '\0';
}

int srv_config_find(const char *name, size_t len)
{
    int k;

    /* A key may be spelled as its name or as its flag without "--"
     * ("keep-alive" for keepalive, "log-level" for loglevel). */
    for (k = 0; k < SRV_NKEYS; k++)
        if (name_eq(name, len, srv_keys[k].name) || name_eq(name, len, key_flag(k) + 2))
            return k;
    return -1;
}

const char *srv_config_where_str(const srv_cwhere_t *w, int key, char *buf, size_t len)
{
    switch (w->src) {
    case SRV_SRC_FILE:
        snprintf(buf, len, "%s:%d", w->file ? w->file : "?", w->line);
        break;
    case SRV_SRC_ENV: {
        char env[80];
        size_t i;

        snprintf(env, sizeof(env), "SRV_%s", srv_keys[key].name);
        for (i = 4; env[i]; i++)
            env[i] = (char)toupper((unsigned char)env[i]);
        snprintf(buf, len, "environment %s", env);
        break;
    }
    case SRV_SRC_CLI:
        snprintf(buf, len, "command line %s", key_flag(key));
        break;
    case SRV_SRC_API:
        snprintf(buf, len, "srv_config_set()");
        break;
    default:
        snprintf(buf, len, "default");
        break;
    }
    return buf;
}

/* ---- Parsing one value ---- */

static const char *allowed_str(int k, char *buf, size_t len)
{
    const srv_keyinfo_t *ki = &srv_keys[k];

    switch (ki->type) {
    case SRV_CT_INT:
        snprintf(buf, len, "integers %lld..%lld", (long long)ki->min, (long long)ki->max);
        break;
    case SRV_CT_SIZE:
        snprintf(buf, len, "sizes %lld..%lld bytes, with an optional k, m or g suffix",
                 (long long)ki->min, (long long)ki->max);
        break;
    case SRV_CT_BOOL:
        snprintf(buf, len, "true, false, yes, no, on, off, 1, 0");
        break;
    case SRV_CT_ENUM: {
        size_t n = 0, i;

        for (i = 0; ki->choices[i] && n + 3 < len; i++) {
            if (ki->choices[i] == '|') {
                buf[n++] = ',';
                buf[n++] = ' ';
            } else {
                buf[n++] = ki->choices[i];
            }
        }
        buf[n] = '\0';
        break;
    }
    default:
        if (k == SRV_K_bind)
            snprintf(buf, len, "HOST:PORT, [IPV6]:PORT, :PORT, HOST or unix:PATH");
        else if (k == SRV_K_forwarded_allow_ips)
            snprintf(buf, len, "IP addresses, ranges such as 10.0.0.0/8 or fd00::/8, or *");
        else if (k == SRV_K_access_log_format)
            snprintf(buf, len, "text with %%(x)s atoms, see --help");
        else if (k == SRV_K_umask)
            snprintf(buf, len, "an octal mode such as 0022");
        else if (k == SRV_K_static)
            snprintf(buf, len, "/PREFIX=DIRECTORY, such as /static=/srv/site/static");
        else if (k == SRV_K_raw_env)
            snprintf(buf, len, "NAME=VALUE, such as DJANGO_SETTINGS_MODULE=site.settings");
        else
            snprintf(buf, len, "any text");
        break;
    }
    return buf;
}

static int parse_int(const char *s, int64_t *out)
{
    return srv_parse_decimal(s, INT64_MAX, out);
}

static int parse_size(const char *s, int64_t *out)
{
    char digits[32];
    size_t n = 0;
    int64_t v, mult = 1;

    while (s[n] >= '0' && s[n] <= '9' && n < sizeof(digits) - 1) {
        digits[n] = s[n];
        n++;
    }
    digits[n] = '\0';
    if (n == 0 || parse_int(digits, &v) != 0)
        return -1;
    switch (tolower((unsigned char)s[n])) {
    case '\0':
        break;
    case 'k':
        mult = 1024;
        break;
    case 'm':
        mult = 1024 * 1024;
        break;
    case 'g':
        mult = 1024 * 1024 * 1024;
        break;
    default:
        return -1;
    }
    if (s[n] != '\0') {
        n++;
        if (tolower((unsigned char)s[n]) == 'b')
            n++;
        if (s[n] != '\0')
            return -1;
    }
    if (v > INT64_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

static int parse_bool(const char *s, int64_t *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    size_t i, j, len = strlen(s);

    for (i = 0; i < 4; i++) {
        for (j = 0; j < 2; j++) {
            const char *w = j ? no[i] : yes[i];
            size_t m;

            if (strlen(w) != len)
                continue;
            for (m = 0; m < len && tolower((unsigned char)s[m]) == w[m]; m++)
                ;
            if (m == len) {
                *out = !j;
                return 0;
            }
        }
    }
    return -1;
}

static int parse_enum(int k, const char *s, int64_t *out)
{
    const char *c = srv_keys[k].choices;
    int64_t idx = 0;
    size_t len = strlen(s);

    if (len == 0 && srv_keys[k].def[0] == '\0') {
        *out = -1; /* unset */
        return 0;
    }
    while (*c) {
        const char *e = strchr(c, '|');
        size_t cl = e ? (size_t)(e - c) : strlen(c);

        if (cl == len && strncmp(c, s, len) == 0) {
            *out = idx;
            return 0;
        }
        if (e == NULL)
            break;
        c = e + 1;
        idx++;
    }
    return -1;
}

/* Checks a STR or LIST item that has rules of its own. */
static int check_item(int k, const char *s, const char **why)
{
    if (k == SRV_K_bind) {
        srv_addr_t a;

        return srv_addr_parse(s, &a, why) == 0 ? 0 : -1;
    }
    if (k == SRV_K_forwarded_allow_ips) {
        srv_netmask_t m;

        return srv_netmask_parse(s, &m, why) == 0 ? 0 : -1;
    }
    if (k == SRV_K_static) {
        size_t plen;
        const char *dir;

        return srv_static_mount_parse(s, &plen, &dir, why);
    }
    if (k == SRV_K_raw_env && (s[0] == '=' || strchr(s, '=') == NULL)) {
        *why = "not NAME=VALUE";
        return -1;
    }
    if (k == SRV_K_access_log_format)
        return srv_accesslog_check(s, why) == 0 ? 0 : -1;
    if (k == SRV_K_umask && s[0] != '\0') {
        size_t i;

        for (i = 0; s[i]; i++)
            if (s[i] < '0' || s[i] > '7' || i > 3 || (i == 3 && s[0] != '0')) {
                *why = "not an octal mode"; /* at most 0777 */
                return -1;
            }
    }
    return 0;
}

static void list_free(srv_cval_t *v)
{
    size_t i;

    for (i = 0; i < v->nlist; i++)
        srv_free(v->list[i]);
    srv_free(v->list);
    v->list = NULL;
    v->nlist = 0;
}

/* Appends the items of s to v: separated by commas for a LIST, s whole
 * for LINES. */
static int list_append(int k, srv_cval_t *v, const char *s, const char **why)
{
    const char *p = s;

    for (;;) {
        const char *e = srv_keys[k].type == SRV_CT_LINES ? NULL : strchr(p, ',');
        size_t a = 0, b = e ? (size_t)(e - p) : strlen(p);
        char *item, **nl;

        while (a < b && isspace((unsigned char)p[a]))
            a++;
        while (b > a && isspace((unsigned char)p[b - 1]))
            b--;
        if (a == b) {
            *why = "empty list item";
            return SRV_EINVAL;
        }
        item = srv_strndup(p + a, b - a);
        if (item == NULL)
            return SRV_ENOMEM;
        if (check_item(k, item, why) != 0) {
            srv_free(item);
            return SRV_EINVAL;
        }
        nl = srv_realloc(v->list, (v->nlist + 2) * sizeof(char *));
        if (nl == NULL) {
            srv_free(item);
            return SRV_ENOMEM;
        }
        v->list = nl;
        v->list[v->nlist++] = item;
        v->list[v->nlist] = NULL;
        if (e == NULL)
            return 0;
        p = e + 1;
    }
}

int srv_config_set_key(srv_config_t *cfg, int k, const char *value, const srv_cwhere_t *where,
                       char *err, size_t errlen)
{
    const srv_keyinfo_t *ki;
    srv_cval_t *v;
    srv_cwhere_t *w;
    srv_cval_t nv = {0, NULL, NULL, 0};
    const char *why = NULL;
    char wbuf[300], abuf[200];
    int64_t n = 0;
    int rc = 0, applies;
    char *copy = NULL, *file = NULL;

    if (k < 0 || k >= SRV_NKEYS) {
        srv__config_errf(err, errlen, "unknown key");
        return SRV_ECONFIG;
    }
    ki = &srv_keys[k];
    v = &cfg->v[k];
    w = &cfg->where[k];

    /* Validate first: a bad value is an error even where a source of
     * higher precedence overrides it. */
    switch (ki->type) {
    case SRV_CT_INT:
        if (parse_int(value, &n) != 0)
            why = "not an integer";
        else if (n < ki->min || n > ki->max)
            why = "out of range";
        break;
    case SRV_CT_SIZE:
        if (parse_size(value, &n) != 0)
            why = "not a size";
        else if (n < ki->min || n > ki->max)
            why = "out of range";
        break;
    case SRV_CT_BOOL:
        if (parse_bool(value, &n) != 0)
            why = "not a boolean";
        break;
    case SRV_CT_ENUM:
        if (parse_enum(k, value, &n) != 0)
            why = "not one of the choices";
        break;
    case SRV_CT_STR:
        if (check_item(k, value, &why) != 0 && why == NULL)
            why = "invalid";
        break;
    case SRV_CT_LIST:
    case SRV_CT_LINES:
        /* "" is the empty list (the default of an optional list). */
        rc = value[0] == '\0' ? 0 : list_append(k, &nv, value, &why);
        if (rc == SRV_ENOMEM)
            goto nomem;
        break;
    }
    if (why != NULL)
        goto bad;

    applies = where->src >= w->src;
    if (!applies) {
        list_free(&nv);
        return 0; /* a higher-precedence source already set it */
    }
    if (where->src == SRV_SRC_FILE && where->file != NULL) {
        file = srv_strdup(where->file);
        if (file == NULL)
            goto nomem;
    }
    if (ki->type == SRV_CT_LIST || ki->type == SRV_CT_LINES) {
        /* Within one source the items add up; a higher source replaces. */
        if (where->src == w->src && w->src != SRV_SRC_DEFAULT) {
            rc = value[0] == '\0' ? 0 : list_append(k, v, value, &why);
            list_free(&nv);
            if (rc != 0)
                goto nomem;
        } else {
            list_free(v);
            *v = nv;
        }
    } else {
        if (ki->type == SRV_CT_STR || ki->type == SRV_CT_ENUM) {
            copy = srv_strdup(value);
            if (copy == NULL)
                goto nomem;
            srv_free(v->s);
            v->s = copy;
        }
        v->i = n;
    }
    srv_free(w->file);
    w->src = where->src;
    w->file = file;
    w->line = where->line;
    return 0;

bad:
    list_free(&nv);
    srv__config_errf(err, errlen, "%s: %s = '%s': %s (allowed: %s)",
                     srv_config_where_str(where, k, wbuf, sizeof(wbuf)), ki->name, value, why,
                     allowed_str(k, abuf, sizeof(abuf)));
    return SRV_ECONFIG;
nomem:
    list_free(&nv);
    srv_free(file);
    srv__config_errf(err, errlen, "out of memory");
    return SRV_ECONFIG;
}

/* ---- The public API ---- */

int srv_config_new(srv_config_t **out)
{
    srv_config_t *cfg = srv_calloc(1, sizeof(*cfg));
    srv_cwhere_t def = {SRV_SRC_DEFAULT, NULL, 0};
    char err[256];
    int k;

    *out = NULL;
    if (cfg == NULL)
        return SRV_ENOMEM;
    for (k = 0; k < SRV_NKEYS; k++) {
        if (srv_config_set_key(cfg, k, srv_keys[k].def, &def, err, sizeof(err)) != 0) {
            srv_config_free(cfg);
            return SRV_ENOMEM; /* defaults are valid: only memory can fail */
        }
    }
    *out = cfg;
    return 0;
}

void srv_config_free(srv_config_t *cfg)
{
    int k;

    if (cfg == NULL)
        return;
    for (k = 0; k < SRV_NKEYS; k++) {
        srv_free(cfg->v[k].s);
        list_free(&cfg->v[k]);
        srv_free(cfg->where[k].file);
    }
    srv_free(cfg->config_file);
    srv_free(cfg);
}

int srv_config_set(srv_config_t *cfg, const char *key, const char *value, srv_config_source_t src,
                   char *err, size_t errlen)
{
    srv_cwhere_t w = {src, NULL, 0};
    int k = srv_config_find(key, strlen(key));

    if (k < 0) {
        srv__config_errf(err, errlen, "unknown key '%s'", key);
        return SRV_ECONFIG;
    }
    return srv_config_set_key(cfg, k, value, &w, err, errlen);
}

/* ---- Rules across keys ---- */

int srv_config_validate(const srv_config_t *cfg, char *err, size_t errlen)
{
    int64_t head = SRV_CFG_INT(cfg, limit_request_head);

    if (SRV_CFG_INT(cfg, limit_request_line) > head) {
        srv__config_errf(
            err, errlen,
            "limit_request_line (%lld) is larger than limit_request_head (%lld): raise "
            "limit_request_head or lower limit_request_line",
            (long long)SRV_CFG_INT(cfg, limit_request_line), (long long)head);
        return SRV_ECONFIG;
    }
    if (SRV_CFG_INT(cfg, limit_request_field_size) > head) {
        srv__config_errf(
            err, errlen,
            "limit_request_field_size (%lld) is larger than limit_request_head (%lld): raise "
            "limit_request_head or lower limit_request_field_size",
            (long long)SRV_CFG_INT(cfg, limit_request_field_size), (long long)head);
        return SRV_ECONFIG;
    }
    if (cfg->v[SRV_K_bind].nlist == 0) {
        srv__config_errf(err, errlen, "bind: no address to listen on");
        return SRV_ECONFIG;
    }
    if (srv_static_check_dirs(cfg, err, errlen) != 0)
        return SRV_ECONFIG;
    if (SRV_CFG_INT(cfg, reuse_port)) {
        size_t i;

        for (i = 0; i < cfg->v[SRV_K_bind].nlist; i++)
            if (strncmp(cfg->v[SRV_K_bind].list[i], "unix:", 5) == 0) {
                srv__config_errf(err, errlen,
                                 "reuse_port cannot share a unix socket (bind = %s): "
                                 "turn reuse_port off or bind to HOST:PORT",
                                 cfg->v[SRV_K_bind].list[i]);
                return SRV_ECONFIG;
            }
    }
    if (SRV_CFG_INT(cfg, reload) && SRV_CFG_INT(cfg, preload)) {
        char a[300], b[300];

        srv__config_errf(
            err, errlen,
            "reload (%s) and preload (%s) are both on: a reload imports the app again in new "
            "workers, and with preload the master imports it once; turn one off",
            srv_config_where_str(&cfg->where[SRV_K_reload], SRV_K_reload, a, sizeof(a)),
            srv_config_where_str(&cfg->where[SRV_K_preload], SRV_K_preload, b, sizeof(b)));
        return SRV_ECONFIG;
    }
    if (SRV_CFG_INT(cfg, builtin) >= 0 && SRV_CFG_STR(cfg, app)[0] != '\0' &&
        cfg->where[SRV_K_builtin].src == cfg->where[SRV_K_app].src) {
        char a[300], b[300];

        srv__config_errf(
            err, errlen, "app '%s' (%s) and builtin '%s' (%s) are both set: keep one",
            SRV_CFG_STR(cfg, app),
            srv_config_where_str(&cfg->where[SRV_K_app], SRV_K_app, a, sizeof(a)),
            SRV_CFG_STR(cfg, builtin),
            srv_config_where_str(&cfg->where[SRV_K_builtin], SRV_K_builtin, b, sizeof(b)));
        return SRV_ECONFIG;
    }
    return 0;
}

int srv_config_same(const srv_config_t *a, const srv_config_t *b, int key)
{
    const srv_cval_t *x = &a->v[key], *y = &b->v[key];
    size_t i;

    switch (srv_keys[key].type) {
    case SRV_CT_STR:
        return strcmp(x->s != NULL ? x->s : "", y->s != NULL ? y->s : "") == 0;
    case SRV_CT_LIST:
    case SRV_CT_LINES:
        if (x->nlist != y->nlist)
            return 0;
        for (i = 0; i < x->nlist; i++)
            if (strcmp(x->list[i], y->list[i]) != 0)
                return 0;
        return 1;
    default: /* INT, SIZE, BOOL, ENUM */
        return x->i == y->i;
    }
}

int srv_config_serves_builtin(const srv_config_t *cfg)
{
    /* Both set: the one from the higher-precedence source (validated). */
    if (SRV_CFG_INT(cfg, builtin) < 0)
        return 0;
    return SRV_CFG_STR(cfg, app)[0] == '\0' ||
           cfg->where[SRV_K_builtin].src > cfg->where[SRV_K_app].src;
}
