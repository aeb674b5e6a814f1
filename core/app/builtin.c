/* builtin.c: the hello and echo apps. */
#include "app/builtin.h"

#include <string.h>
#include <uv.h>

#include "util/buf.h"

static int hello_handle(void *data, srv_req_t *req)
{
    static const srv_header_t h[] = {{{"Content-Type", 12}, {"text/plain", 10}}};
    int rc;

    (void)data;
    rc = srv_resp_start(req, 200, NULL, h, 1);
    if (rc != 0)
        return rc;
    return srv_resp_write(req, "Hello, World!", 13, SRV_RESP_LAST);
}

/* Writes s as a JSON string. Bytes >= 0x80 become \u00XX, so that a client
 * gets the exact bytes back with .encode("latin-1"). */
static int json_str(srv_buf_t *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;
    int rc = srv_buf_append(b, "\"", 1);

    for (i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};

            rc = srv_buf_append(b, e, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

            rc = srv_buf_append(b, e, 6);
        } else {
            rc = srv_buf_append(b, &s[i], 1);
        }
    }
    return rc ? rc : srv_buf_append(b, "\"", 1);
}

static uv_once_t seq_once = UV_ONCE_INIT;
static uv_mutex_t seq_lock;
static unsigned long seq_count;

static void seq_init(void)
{
    uv_mutex_init(&seq_lock);
}

static unsigned long next_seq(void)
{
    unsigned long v;

    uv_once(&seq_once, seq_init);
    uv_mutex_lock(&seq_lock);
    v = ++seq_count;
    uv_mutex_unlock(&seq_lock);
    return v;
}

int srv__builtin_echo(void *data, srv_req_t *req)
{
    static const srv_header_t ct[] = {{{"Content-Type", 12}, {"application/json", 16}}};
    const srv_request_t *r = srv_req_request(req);
    unsigned long seq = next_seq();
    srv_buf_t body, out;
    size_t i;
    int rc;

    (void)data;
    /* The whole body, up to 64 MiB: this app is for tests. */
    srv_buf_init(&body, 64u * 1024 * 1024);
    srv_buf_init(&out, 256u * 1024 * 1024);
    for (;;) {
        size_t n;

        rc = srv_buf_reserve(&body, 16384);
        if (rc != 0)
            goto out;
        rc = srv_req_read(req, body.data + body.len, srv_buf_room(&body), &n);
        if (rc != 0)
            goto out;
        if (n == 0)
            break;
        body.len += n;
    }
    rc = srv_buf_printf(&out, "{\"seq\": %lu, \"method\": ", seq);
    rc = rc ? rc : json_str(&out, r->method.p, r->method.len);
    rc = rc ? rc : srv_buf_puts(&out, ", \"target\": ");
    rc = rc ? rc : json_str(&out, r->target.p, r->target.len);
    rc = rc ? rc : srv_buf_puts(&out, ", \"path\": ");
    rc = rc ? rc : json_str(&out, r->path.p, r->path.len);
    rc = rc ? rc : srv_buf_puts(&out, ", \"query\": ");
    rc = rc ? rc : json_str(&out, r->query.p, r->query.len);
    rc = rc ? rc : srv_buf_puts(&out, ", \"host\": ");
    rc = rc ? rc : json_str(&out, r->host.p, r->host.len);
    rc = rc ? rc
            : srv_buf_printf(&out,
                             ", \"version\": \"HTTP/1.%d\", \"remote_port\": %d, "
                             "\"remote_addr\": ",
                             r->version_minor, r->remote_port);
    rc = rc ? rc : json_str(&out, r->remote_addr, strlen(r->remote_addr));
    rc = rc ? rc : srv_buf_printf(&out, ", \"scheme\": \"%s\"", r->url_scheme);
    rc = rc ? rc
            : srv_buf_printf(&out, ", \"content_length\": %lld, \"chunked\": %s, \"headers\": [",
                             (long long)r->content_length, r->chunked ? "true" : "false");
    for (i = 0; i < r->nheaders && rc == 0; i++) {
        rc = srv_buf_puts(&out, i ? ", [" : "[");
        rc = rc ? rc : json_str(&out, r->headers[i].name.p, r->headers[i].name.len);
        rc = rc ? rc : srv_buf_puts(&out, ", ");
        rc = rc ? rc : json_str(&out, r->headers[i].value.p, r->headers[i].value.len);
        rc = rc ? rc : srv_buf_puts(&out, "]");
    }
    rc = rc ? rc : srv_buf_printf(&out, "], \"body_length\": %zu, \"body\": ", body.len);
    rc = rc ? rc : json_str(&out, body.data ? body.data : "", body.len);
    rc = rc ? rc : srv_buf_puts(&out, "}\n");
    if (rc == 0)
        rc = srv_resp_start(req, 200, NULL, ct, 1);
    if (rc == 0)
        rc = srv_resp_write(req, out.data, out.len, SRV_RESP_LAST);
out:
    srv_buf_free(&body);
    srv_buf_free(&out);
    return rc;
}

static const srv_app_t apps[] = {
    {.name = "hello", .handle = hello_handle},
    {.name = "echo", .handle = srv__builtin_echo},
    {.name = "test", .handle = srv__builtin_test},
};

const srv_app_t *srv_builtin_app(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(apps) / sizeof(apps[0]); i++)
        if (strcmp(apps[i].name, name) == 0)
            return &apps[i];
    return NULL;
}
