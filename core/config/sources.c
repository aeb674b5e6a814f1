/* sources.c: loading configuration from an INI file and the environment.
 *
 * The INI file is read whole, checked for lines inih would cut (its Debian
 * build reads at most INI_MAX_LINE bytes a line), then handed to inih
 * through a reader that counts lines, so that every value and every error
 * can name its line (inih itself passes no line number to the handler). */
#include <ctype.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/config_int.h"
#include "util/alloc.h"
#include "util/num.h"

#define SRV_INI_SECTION  "srv"
#define SRV_INI_MAX_FILE (1024 * 1024)

typedef struct ini_ctx_s {
    srv_config_t *cfg;
    const char *name; /* file name for messages */
    const char *p, *end;
    int line; /* number of the line most recently handed to inih */
    char *err;
    size_t errlen;
    int failed;
} ini_ctx_t;

static char *read_line(char *str, int num, void *stream)
{
    ini_ctx_t *c = stream;
    size_t n = 0;

    if (c->p >= c->end || num < 2)
        return NULL;
    while (c->p < c->end && n < (size_t)num - 1) {
        char ch = *c->p++;

        str[n++] = ch;
        if (ch == '\n')
            break;
    }
    str[n] = '\0';
    c->line++;
    return str;
}

/* Levenshtein distance, capped: enough to suggest a key for a typo. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j;
    size_t row[64];

    if (la >= 63 || lb >= 63)
        return 99;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        size_t prev = row[0];

        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (a[i - 1] != b[j - 1]);
            size_t del = row[j] + 1, ins = row[j - 1] + 1;

            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            prev = cur;
        }
    }
    return row[lb];
}

static const char *suggest(const char *name)
{
    const char *best = NULL;
    size_t bestd = 3;
    char norm[64];
    size_t i;
    int k;

    for (i = 0; name[i] && i < sizeof(norm) - 1; i++)
        norm[i] = name[i] == '-' ? '_' : (char)tolower((unsigned char)name[i]);
    norm[i] = '\0';
    for (k = 0; k < SRV_NKEYS; k++) {
        size_t d = distance(norm, srv_keys[k].name);

        if (d < bestd) {
            bestd = d;
            best = srv_keys[k].name;
        }
    }
    return best;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    ini_ctx_t *c = user;
    srv_cwhere_t w;
    int k;

    if (c->failed)
        return 0;
    if (section[0] != '\0' && strcmp(section, SRV_INI_SECTION) != 0) {
        srv__config_errf(c->err, c->errlen, "%s:%d: unknown section [%s] (allowed: [%s])", c->name,
                         c->line, section, SRV_INI_SECTION);
        c->failed = 1;
        return 0;
    }
    k = srv_config_find(name, strlen(name));
    if (k < 0) {
        const char *s = suggest(name);

        srv__config_errf(c->err, c->errlen, "%s:%d: unknown key '%s'%s%s%s (see srv --help)",
                         c->name, c->line, name, s ? " (did you mean '" : "", s ? s : "",
                         s ? "'?)" : "");
        c->failed = 1;
        return 0;
    }
    w.src = SRV_SRC_FILE;
    w.file = (char *)c->name;
    w.line = c->line;
    if (srv_config_set_key(c->cfg, k, value, &w, c->err, c->errlen) != 0) {
        c->failed = 1;
        return 0;
    }
    return 1;
}

int srv_config_load_string(srv_config_t *cfg, const char *text, const char *name, char *err,
                           size_t errlen)
{
    ini_ctx_t c;
    const char *p = text, *line = text;
    int lineno = 1, rc;

    /* inih would silently split a line longer than its buffer. */
    for (;; p++) {
        if (*p == '\n' || *p == '\0') {
            if ((size_t)(p - line) > INI_MAX_LINE - 2) {
                srv__config_errf(err, errlen, "%s:%d: line longer than %d characters", name, lineno,
                                 INI_MAX_LINE - 2);
                return SRV_ECONFIG;
            }
            if (*p == '\0')
                break;
            line = p + 1;
            lineno++;
        }
    }
    memset(&c, 0, sizeof(c));
    c.cfg = cfg;
    c.name = name;
    c.p = text;
    c.end = text + strlen(text);
    c.err = err;
    c.errlen = errlen;
    rc = ini_parse_stream(read_line, &c, on_key, &c);
    if (c.failed)
        return SRV_ECONFIG;
    if (rc != 0) {
        srv__config_errf(err, errlen,
                         "%s:%d: syntax error (expected 'key = value', '[section]' or a comment)",
                         name, rc);
        return SRV_ECONFIG;
    }
    return 0;
}

int srv_config_load_file(srv_config_t *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t n;
    int rc = SRV_ECONFIG;

    if (f == NULL) {
        srv__config_errf(err, errlen, "cannot open config file '%s'", path);
        return SRV_ECONFIG;
    }
    text = srv_malloc(SRV_INI_MAX_FILE + 1);
    if (text == NULL) {
        srv__config_errf(err, errlen, "out of memory reading '%s'", path);
        goto out;
    }
    n = fread(text, 1, SRV_INI_MAX_FILE + 1, f);
    if (ferror(f)) {
        srv__config_errf(err, errlen, "cannot read config file '%s'", path);
        goto out;
    }
    if (n > SRV_INI_MAX_FILE) {
        srv__config_errf(err, errlen, "config file '%s' is larger than %d bytes", path,
                         SRV_INI_MAX_FILE);
        goto out;
    }
    if (memchr(text, '\0', n) != NULL) {
        srv__config_errf(err, errlen, "config file '%s' holds a NUL byte", path);
        goto out;
    }
    text[n] = '\0';
    rc = srv_config_load_string(cfg, text, path, err, errlen);
    n = strlen(path);
    if (rc != 0 && n > 3 && strcmp(path + n - 3, ".py") == 0) {
        /* Most likely a gunicorn.conf.py, given as it was to gunicorn. */
        size_t used = strlen(err);

        snprintf(err + used, errlen - used,
                 " (srv reads INI files, not Python: a [srv] section of key = value lines, "
                 "with gunicorn's names for the settings it shares; see srv --help)");
    }
out:
    srv_free(text);
    fclose(f);
    return rc;
}

int srv_config_port_default(srv_config_t *cfg, const char *(*getenv_fn)(const char *name),
                            char *err, size_t errlen)
{
    srv_cwhere_t def = {SRV_SRC_DEFAULT, NULL, 0};
    const char *port = getenv_fn("PORT");
    char bind[32];
    int64_t n;

    if (port == NULL || cfg->where[SRV_K_bind].src != SRV_SRC_DEFAULT)
        return 0;
    if (srv_parse_decimal(port, 65535, &n) != 0 || n < 1) {
        srv__config_errf(err, errlen,
                         "environment PORT: '%s' is not a port (allowed: 1..65535; PORT sets "
                         "the default bind, 0.0.0.0:PORT, as in gunicorn)",
                         port);
        return SRV_ECONFIG;
    }
    snprintf(bind, sizeof(bind), "0.0.0.0:%d", (int)n);
    return srv_config_set_key(cfg, SRV_K_bind, bind, &def, err, errlen);
}

int srv_config_load_env(srv_config_t *cfg, const char *(*getenv_fn)(const char *name), char *err,
                        size_t errlen)
{
    int k;

    for (k = 0; k < SRV_NKEYS; k++) {
        char name[80];
        const char *v;
        size_t i;
        srv_cwhere_t w = {SRV_SRC_ENV, NULL, 0};

        snprintf(name, sizeof(name), "SRV_%s", srv_keys[k].name);
        for (i = 4; name[i]; i++)
            name[i] = (char)toupper((unsigned char)name[i]);
        v = getenv_fn(name);
        if (v == NULL)
            continue;
        if (srv_config_set_key(cfg, k, v, &w, err, errlen) != 0)
            return SRV_ECONFIG;
    }
    return 0;
}
