/* accesslog.c: compiled gunicorn-style access log formats. */
#include "util/accesslog.h"

#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "http/chars.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

typedef enum atom_kind_e {
    A_TEXT,
    A_HOST,
    A_DASH,
    A_TIME,
    A_REQLINE,
    A_METHOD,
    A_PATH,
    A_QUERY,
    A_PROTO,
    A_STATUS,
    A_BYTES,
    A_BYTES_DASH,
    A_REFERER,
    A_AGENT,
    A_SECS,
    A_MSECS,
    A_USECS,
    A_DECSECS,
    A_PID,
    A_CACHE,
    A_REQ_HDR,
    A_RESP_HDR
} atom_kind_t;

typedef struct atom_s {
    atom_kind_t kind;
    srv_str_t text; /* A_TEXT: the text; A_*_HDR: the header name (owned by fmt copy) */
} atom_t;

struct srv_accesslog_s {
    char *fmt; /* owned copy: atoms point into it */
    atom_t *atoms;
    size_t natoms;
    srv_str_t *resp_names; /* owned array; names point into fmt */
    size_t nresp;
    srv_log_sink_t sink;
};

static const struct {
    char c;
    atom_kind_t kind;
} simple_atoms[] = {
    {'h', A_HOST},   {'l', A_DASH},       {'u', A_DASH},    {'t', A_TIME},  {'r', A_REQLINE},
    {'m', A_METHOD}, {'U', A_PATH},       {'q', A_QUERY},   {'H', A_PROTO}, {'s', A_STATUS},
    {'B', A_BYTES},  {'b', A_BYTES_DASH}, {'f', A_REFERER}, {'a', A_AGENT}, {'T', A_SECS},
    {'M', A_MSECS},  {'D', A_USECS},      {'L', A_DECSECS}, {'p', A_PID},   {'C', A_CACHE},
};

/* Compiles fmt; with atoms == NULL it only counts. Returns the number of
 * atoms, or -1 with *why set. */
static long compile(const char *fmt, atom_t *atoms, const char **why)
{
    size_t i = 0, n = 0, text = 0;

#define EMIT(k_, p_, l_)                                                                           \
    do {                                                                                           \
        if (atoms) {                                                                               \
            atoms[n].kind = (k_);                                                                  \
            atoms[n].text.p = (p_);                                                                \
            atoms[n].text.len = (l_);                                                              \
        }                                                                                          \
        n++;                                                                                       \
    } while (0)

    while (fmt[i]) {
        size_t j, close;

        if (fmt[i] != '%') {
            i++;
            continue;
        }
        if (i > text)
            EMIT(A_TEXT, fmt + text, i - text);
        if (fmt[i + 1] == '%') {
            EMIT(A_TEXT, fmt + i, 1);
            i += 2;
            text = i;
            continue;
        }
        if (fmt[i + 1] != '(') {
            *why = "'%' must start %(x)s or be written %%";
            return -1;
        }
        close = i + 2;
        while (fmt[close] && fmt[close] != ')')
            close++;
        if (fmt[close] != ')' || fmt[close + 1] != 's') {
            *why = "an atom must be written %(x)s";
            return -1;
        }
        j = i + 2;
        if (fmt[j] == '{') {
            size_t nl = close - j; /* "{Name}x" */
            char kind = fmt[close - 1];

            if (nl < 4 || fmt[close - 2] != '}' || !srv_http_is_token(fmt + j + 1, nl - 3)) {
                *why = "a header atom must be written %({Name}i)s, %({Name}o)s or %({Name}e)s";
                return -1;
            }
            if (kind == 'i')
                EMIT(A_REQ_HDR, fmt + j + 1, nl - 3);
            else if (kind == 'o')
                EMIT(A_RESP_HDR, fmt + j + 1, nl - 3);
            else if (kind == 'e')
                EMIT(A_DASH, fmt + j, 0);
            else {
                *why = "a header atom must end in i, o or e";
                return -1;
            }
        } else {
            size_t k;

            if (close - j != 1) {
                *why = "unknown atom";
                return -1;
            }
            for (k = 0; k < sizeof(simple_atoms) / sizeof(simple_atoms[0]); k++)
                if (simple_atoms[k].c == fmt[j])
                    break;
            if (k == sizeof(simple_atoms) / sizeof(simple_atoms[0])) {
                *why = "unknown atom";
                return -1;
            }
            EMIT(simple_atoms[k].kind, fmt + j, 1);
        }
        i = close + 2;
        text = i;
    }
    if (i > text)
        EMIT(A_TEXT, fmt + text, i - text);
    return (long)n;
#undef EMIT
}

int srv_accesslog_check(const char *fmt, const char **why)
{
    return compile(fmt, NULL, why) < 0 ? SRV_EINVAL : 0;
}

int srv_accesslog_open(srv_accesslog_t **out, const char *fmt, const char *path)
{
    srv_accesslog_t *log;
    const char *why;
    long n;
    size_t i;
    int rc = SRV_ENOMEM;

    *out = NULL;
    n = compile(fmt, NULL, &why);
    if (n < 0)
        return SRV_EINVAL;
    log = srv_calloc(1, sizeof(*log));
    if (log == NULL)
        return SRV_ENOMEM;
    log->fmt = srv_strdup(fmt);
    log->atoms = srv_calloc((size_t)n + 1, sizeof(atom_t));
    if (log->fmt == NULL || log->atoms == NULL)
        goto out;
    log->natoms = (size_t)compile(log->fmt, log->atoms, &why);
    for (i = 0; i < log->natoms; i++)
        if (log->atoms[i].kind == A_RESP_HDR)
            log->nresp++;
    log->resp_names = srv_calloc(log->nresp + 1, sizeof(srv_str_t));
    if (log->resp_names == NULL)
        goto out;
    log->nresp = 0;
    for (i = 0; i < log->natoms; i++)
        if (log->atoms[i].kind == A_RESP_HDR)
            log->resp_names[log->nresp++] = log->atoms[i].text;
    rc = srv_log_sink_open(&log->sink, path, 0);
    if (rc != 0)
        goto out;
    *out = log;
    return 0;
out:
    srv_free(log->resp_names);
    srv_free(log->atoms);
    srv_free(log->fmt);
    srv_free(log);
    return rc;
}

void srv_accesslog_close(srv_accesslog_t *log)
{
    if (log == NULL)
        return;
    srv_log_sink_close(&log->sink);
    srv_free(log->resp_names);
    srv_free(log->atoms);
    srv_free(log->fmt);
    srv_free(log);
}

int srv_accesslog_reopen(srv_accesslog_t *log)
{
    return srv_log_sink_reopen(&log->sink);
}

const srv_str_t *srv_accesslog_resp_names(const srv_accesslog_t *log, size_t *n)
{
    *n = log->nresp;
    return log->resp_names;
}

typedef struct out_s {
    char *p;
    size_t len, cap;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (n > o->cap - o->len)
        n = o->cap - o->len;
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* Writes s with anything that could break or forge a line escaped. */
static void put_escaped(out_t *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            if (o->len < o->cap)
                o->p[o->len++] = (char)c;
        } else {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};

            put(o, e, 4);
        }
    }
}

static void put_num(out_t *o, long long v)
{
    char b[24];
    int n = snprintf(b, sizeof(b), "%lld", v);

    put(o, b, (size_t)n);
}

static const srv_str_t *find_header(const srv_header_t *h, size_t n, srv_str_t name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (h[i].name.len == name.len) {
            size_t k;

            for (k = 0; k < name.len; k++)
                if ((h[i].name.p[k] | 0x20) != (name.p[k] | 0x20))
                    break;
            if (k == name.len)
                return &h[i].value;
        }
    }
    return NULL;
}

static void put_header(out_t *o, const srv_header_t *h, size_t n, const char *name)
{
    srv_str_t nm;
    const srv_str_t *v;

    nm.p = name;
    nm.len = strlen(name);
    v = find_header(h, n, nm);
    if (v == NULL)
        put(o, "-", 1);
    else
        put_escaped(o, v->p, v->len);
}

size_t srv_accesslog_format(const srv_accesslog_t *log, const srv_access_entry_t *e, char *buf,
                            size_t cap)
{
    out_t o = {buf, 0, cap - 1}; /* keep a byte for the newline */
    size_t i;

    for (i = 0; i < log->natoms; i++) {
        const atom_t *a = &log->atoms[i];

        switch (a->kind) {
        case A_TEXT:
            put(&o, a->text.p, a->text.len);
            break;
        case A_HOST:
            put_escaped(&o, e->remote_addr, strlen(e->remote_addr));
            break;
        case A_DASH:
            put(&o, "-", 1);
            break;
        case A_TIME: {
            srv_civil_t c;
            char t[40];
            int n;

            srv_time_civil(e->start_sec, &c);
            n = snprintf(t, sizeof(t), "[%02d/%s/%04d:%02d:%02d:%02d +0000]", c.day,
                         srv_time_month_names[c.month - 1], c.year, c.hour, c.min, c.sec);
            put(&o, t, (size_t)n);
            break;
        }
        case A_REQLINE:
            put_escaped(&o, e->method.p, e->method.len);
            put(&o, " ", 1);
            put_escaped(&o, e->target.p, e->target.len);
            put(&o, e->version_minor ? " HTTP/1.1" : " HTTP/1.0", 9);
            break;
        case A_METHOD:
            put_escaped(&o, e->method.p, e->method.len);
            break;
        case A_PATH:
            put_escaped(&o, e->path.p, e->path.len);
            break;
        case A_QUERY:
            put_escaped(&o, e->query.p, e->query.len);
            break;
        case A_PROTO:
            put(&o, e->version_minor ? "HTTP/1.1" : "HTTP/1.0", 8);
            break;
        case A_STATUS:
            put_num(&o, e->status);
            break;
        case A_BYTES:
            put_num(&o, (long long)e->body_bytes);
            break;
        case A_BYTES_DASH:
            if (e->body_bytes == 0)
                put(&o, "-", 1);
            else
                put_num(&o, (long long)e->body_bytes);
            break;
        case A_REFERER:
            put_header(&o, e->req_headers, e->nreq, "referer");
            break;
        case A_AGENT:
            put_header(&o, e->req_headers, e->nreq, "user-agent");
            break;
        case A_SECS:
            put_num(&o, (long long)(e->duration_us / 1000000));
            break;
        case A_MSECS:
            put_num(&o, (long long)(e->duration_us / 1000));
            break;
        case A_USECS:
            put_num(&o, (long long)e->duration_us);
            break;
        case A_DECSECS: {
            char t[32];
            int n = snprintf(t, sizeof(t), "%lld.%06lld", (long long)(e->duration_us / 1000000),
                             (long long)(e->duration_us % 1000000));

            put(&o, t, (size_t)n);
            break;
        }
        case A_CACHE:
            if (e->cache != NULL)
                put(&o, e->cache, strlen(e->cache));
            else
                put(&o, "-", 1);
            break;
        case A_PID: {
            char t[32];
            int n = snprintf(t, sizeof(t), "<%d>", (int)uv_os_getpid());

            put(&o, t, (size_t)n);
            break;
        }
        case A_REQ_HDR:
        case A_RESP_HDR: {
            const srv_str_t *v = a->kind == A_REQ_HDR
                                     ? find_header(e->req_headers, e->nreq, a->text)
                                     : find_header(e->resp_headers, e->nresp, a->text);

            if (v == NULL)
                put(&o, "-", 1);
            else
                put_escaped(&o, v->p, v->len);
            break;
        }
        }
    }
    buf[o.len++] = '\n';
    return o.len;
}

void srv_accesslog_write(srv_accesslog_t *log, const srv_access_entry_t *e)
{
    char line[4096];
    size_t n = srv_accesslog_format(log, e, line, sizeof(line));

    srv_log_sink_write(&log->sink, line, n);
}
