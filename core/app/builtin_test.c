/* builtin_test.c: the "test" app, which srv's black-box tests drive to
 * exercise the response writer and the app interface from the outside.
 *
 *   /sleep?ms=N            wait N ms, then 200 "slept"
 *   /stream?n=N&size=S&delay=MS
 *                          N writes of S bytes, MS ms apart, no length
 *   /status?code=N         status N with a body (which 204/304 must drop)
 *   /big?n=B               one write of B bytes
 *   /cl?len=N&send=M       Content-Length: N, then M bytes
 *   /header?name=X&value=Y a response header (percent-decoded), to test
 *                          validation
 *   /badstatus             status 1000
 *   /fail                  the handler fails before responding
 *   /fail-late             the handler fails after the head and a chunk
 *   /nothing               the handler returns without a response
 *   /start-only            the head is started, srv finishes the response
 *   /close                 the app sends "Connection: close"
 *   /read?chunk=N&delay=MS reads the body N bytes at a time, MS ms apart,
 *                          and returns its length and a checksum
 *   /noread                answers without reading the body
 *   /file?path=P&offset=O&count=C
 *                          sends (part of) a file with srv_resp_file()
 *   /made?h=NAME:VALUE&h=...&code=N&size=S&chunks=K&ms=M
 *                          after M ms (0), status N (200) with those headers
 *                          and a body that
 *                          says how many requests this app has answered, to
 *                          tell an answer of the app from one of `cache`
 *                          (padded to S bytes, sent in K writes; with
 *                          fail=1 the handler fails before the last one)
 *   anything else          echo */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "app/builtin.h"
#include "plat_compiler.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* Finds the next query parameter name in [*q, end), copies its
 * percent-decoded value into out (NUL terminated, cut at cap - 1 bytes)
 * and returns its length; *pos moves past it. Returns -1 when there is no
 * more. */
static long next_param(const char **pos, const char *end, const char *name, char *out, size_t cap)
{
    const char *q = *pos;
    size_t nl = strlen(name);

    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *e = amp ? amp : end;

        if ((size_t)(e - q) > nl && memcmp(q, name, nl) == 0 && q[nl] == '=') {
            const char *v = q + nl + 1;
            size_t n = 0;

            while (v < e && n + 1 < cap) {
                if (*v == '%' && e - v >= 3 && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
                    out[n++] = (char)(hexval(v[1]) * 16 + hexval(v[2]));
                    v += 3;
                } else {
                    out[n++] = *v == '+' ? ' ' : *v;
                    v++;
                }
            }
            out[n] = '\0';
            *pos = amp ? amp + 1 : end;
            return (long)n;
        }
        q = amp ? amp + 1 : end;
    }
    return -1;
}

/* The first query parameter name, as next_param() gives it. */
static long qparam(const srv_request_t *r, const char *name, char *out, size_t cap)
{
    const char *q = r->query.p;

    return next_param(&q, r->query.p + r->query.len, name, out, cap);
}

static long long qint(const srv_request_t *r, const char *name, long long def)
{
    char v[32];

    if (qparam(r, name, v, sizeof(v)) < 0)
        return def;
    return strtoll(v, NULL, 10);
}

static int path_is(const srv_request_t *r, const char *p)
{
    return r->path.len == strlen(p) && memcmp(r->path.p, p, r->path.len) == 0;
}

static int text(srv_req_t *req, int status, const char *body)
{
    static const srv_header_t ct[] = {{{"Content-Type", 12}, {"text/plain", 10}}};
    int rc = srv_resp_start(req, status, NULL, ct, 1);

    return rc ? rc : srv_resp_write(req, body, strlen(body), SRV_RESP_LAST);
}

static int do_stream(srv_req_t *req, const srv_request_t *r)
{
    long long n = qint(r, "n", 3), size = qint(r, "size", 5), delay = qint(r, "delay", 0);
    char *chunk;
    long long i;
    int rc;

    if (size < 0 || size > 16 * 1024 * 1024)
        return text(req, 400, "bad size\n");
    rc = srv_resp_start(req, 200, NULL, NULL, 0);
    if (rc != 0)
        return rc;
    chunk = malloc((size_t)size + 1);
    if (chunk == NULL)
        return SRV_ENOMEM;
    for (i = 0; i < n && rc == 0; i++) {
        memset(chunk, 'a' + (int)(i % 26), (size_t)size);
        if (delay > 0)
            uv_sleep((unsigned)delay);
        rc = srv_resp_write(req, chunk, (size_t)size, 0);
    }
    free(chunk);
    return rc ? rc : srv_resp_finish(req);
}

static int do_read(srv_req_t *req, const srv_request_t *r)
{
    long long chunk = qint(r, "chunk", 4096), delay = qint(r, "delay", 0);
    unsigned long long total = 0, sum = 0;
    char out[128];
    char *buf;
    int rc = 0;

    if (chunk < 1 || chunk > 1024 * 1024)
        return text(req, 400, "bad chunk\n");
    buf = malloc((size_t)chunk);
    if (buf == NULL)
        return SRV_ENOMEM;
    for (;;) {
        size_t n, i;

        if (delay > 0)
            uv_sleep((unsigned)delay);
        rc = srv_req_read(req, buf, (size_t)chunk, &n);
        if (rc != 0 || n == 0)
            break;
        for (i = 0; i < n; i++)
            sum = sum * 31 + (unsigned char)buf[i];
        total += n;
    }
    free(buf);
    if (rc != 0)
        return rc;
    snprintf(out, sizeof(out), "{\"length\": %llu, \"sum\": %llu}\n", total, sum);
    return text(req, 200, out);
}

static int do_file(srv_req_t *req, const srv_request_t *r)
{
    char path[1024];
    uv_fs_t fs;
    int fd, rc;

    if (qparam(r, "path", path, sizeof(path)) <= 0)
        return text(req, 400, "no path\n");
    fd = uv_fs_open(NULL, &fs, path, UV_FS_O_RDONLY, 0, NULL);
    uv_fs_req_cleanup(&fs);
    if (fd < 0)
        return text(req, 404, "no such file\n");
    rc = srv_resp_start(req, 200, NULL, NULL, 0);
    if (rc == 0)
        rc = srv_resp_file(req, fd, qint(r, "offset", 0), qint(r, "count", -1));
    uv_fs_close(NULL, &fs, fd, NULL);
    uv_fs_req_cleanup(&fs);
    return rc;
}

#define MADE_HEADERS_MAX 8

/* /made: see the top of the file. */
static int do_made(srv_req_t *req, const srv_request_t *r)
{
    static srv_atomic_int_t calls;
    char store[2048], body[64], *pad = NULL;
    srv_header_t h[MADE_HEADERS_MAX];
    const char *q = r->query.p, *end = r->query.p + r->query.len, *colon;
    size_t nh = 0, used = 0, n;
    long long size = qint(r, "size", 0), chunks = qint(r, "chunks", 1), i;
    long k;
    int rc;

    while (nh < MADE_HEADERS_MAX &&
           (k = next_param(&q, end, "h", store + used, sizeof(store) - used)) >= 0) {
        char *out = store + used;

        if (used + (size_t)k + 1 >= sizeof(store))
            return text(req, 400, "headers too long\n");
        colon = memchr(out, ':', (size_t)k);
        if (colon != NULL) {
            h[nh].name.p = out;
            h[nh].name.len = (size_t)(colon - out);
            h[nh].value.p = colon + 1;
            h[nh].value.len = (size_t)k - h[nh].name.len - 1;
            nh++;
            used += (size_t)k;
        }
    }
    if (size < 0 || size > 16 * 1024 * 1024 || chunks < 1 || chunks > 1000)
        return text(req, 400, "bad size or chunks\n");
    n = (size_t)snprintf(body, sizeof(body), "made %d\n", srv_atomic_add(&calls, 1));
    if (qint(r, "ms", 0) > 0)
        uv_sleep((unsigned)qint(r, "ms", 0));
    rc = srv_resp_start(req, (int)qint(r, "code", 200), NULL, h, nh);
    if (rc != 0)
        return rc;
    if ((size_t)size <= n)
        return srv_resp_write(req, body, n, SRV_RESP_LAST);
    pad = malloc((size_t)size);
    if (pad == NULL)
        return SRV_ENOMEM;
    memset(pad, '.', (size_t)size);
    memcpy(pad, body, n);
    for (i = 0, rc = 0; i < chunks && rc == 0; i++) {
        size_t from = (size_t)(size * i / chunks), to = (size_t)(size * (i + 1) / chunks);

        if (i + 1 == chunks && qint(r, "fail", 0)) {
            rc = SRV_EAPP;
            break;
        }
        rc = srv_resp_write(req, pad + from, to - from, i + 1 == chunks ? SRV_RESP_LAST : 0);
    }
    free(pad);
    return rc;
}

int srv__builtin_test(void *data, srv_req_t *req)
{
    const srv_request_t *r = srv_req_request(req);

    if (path_is(r, "/sleep")) {
        uv_sleep((unsigned)qint(r, "ms", 100));
        return text(req, 200, "slept\n");
    }
    if (path_is(r, "/stream"))
        return do_stream(req, r);
    if (path_is(r, "/status")) {
        int rc = srv_resp_start(req, (int)qint(r, "code", 200), NULL, NULL, 0);

        if (rc == 0)
            rc = srv_resp_write(req, "status body\n", 12, 0);
        return rc ? rc : srv_resp_finish(req);
    }
    if (path_is(r, "/big")) {
        long long n = qint(r, "n", 1024);
        char *b;
        int rc;

        if (n < 0 || n > 512LL * 1024 * 1024)
            return text(req, 400, "bad n\n");
        b = malloc((size_t)n + 1);
        if (b == NULL)
            return SRV_ENOMEM;
        for (long long i = 0; i < n; i++)
            b[i] = (char)('a' + i % 26);
        rc = srv_resp_start(req, 200, NULL, NULL, 0);
        if (rc == 0)
            rc = srv_resp_write(req, b, (size_t)n, SRV_RESP_LAST);
        free(b);
        return rc;
    }
    if (path_is(r, "/cl")) {
        char len[32], body[256];
        long long send = qint(r, "send", 0);
        srv_header_t h;
        int rc;

        if (qparam(r, "len", len, sizeof(len)) < 0 || send < 0 || send > (long long)sizeof(body))
            return text(req, 400, "bad\n");
        memset(body, 'x', sizeof(body));
        h.name.p = "Content-Length";
        h.name.len = 14;
        h.value.p = len;
        h.value.len = strlen(len);
        rc = srv_resp_start(req, 200, NULL, &h, 1);
        return rc ? rc : srv_resp_write(req, body, (size_t)send, SRV_RESP_LAST);
    }
    if (path_is(r, "/header")) {
        char name[256], value[1024];
        long nl = qparam(r, "name", name, sizeof(name));
        long vl = qparam(r, "value", value, sizeof(value));
        srv_header_t h;
        int rc;

        if (nl < 0 || vl < 0)
            return text(req, 400, "name and value\n");
        h.name.p = name;
        h.name.len = (size_t)nl;
        h.value.p = value;
        h.value.len = (size_t)vl;
        rc = srv_resp_start(req, 200, NULL, &h, 1);
        return rc ? rc : srv_resp_write(req, "ok\n", 3, SRV_RESP_LAST);
    }
    if (path_is(r, "/badstatus"))
        return text(req, 1000, "never\n");
    if (path_is(r, "/fail"))
        return SRV_EAPP;
    if (path_is(r, "/fail-late")) {
        int rc = srv_resp_start(req, 200, NULL, NULL, 0);

        if (rc == 0)
            rc = srv_resp_write(req, "partial", 7, 0);
        return rc ? rc : SRV_EAPP;
    }
    if (path_is(r, "/nothing"))
        return 0;
    if (path_is(r, "/start-only"))
        return srv_resp_start(req, 200, NULL, NULL, 0);
    if (path_is(r, "/close")) {
        static const srv_header_t h[] = {{{"Connection", 10}, {"close", 5}}};
        int rc = srv_resp_start(req, 200, NULL, h, 1);

        return rc ? rc : srv_resp_write(req, "bye\n", 4, SRV_RESP_LAST);
    }
    if (path_is(r, "/read"))
        return do_read(req, r);
    if (path_is(r, "/noread"))
        return text(req, 200, "ignored the body\n");
    if (path_is(r, "/file"))
        return do_file(req, r);
    if (path_is(r, "/made"))
        return do_made(req, r);
    return srv__builtin_echo(data, req);
}
