/* response.c: response heads and framing rules (see response.h). */
#include "http/response.h"

#include <stdio.h>
#include <string.h>

#include "http/chars.h"
#include "http/date.h"

typedef struct status_s {
    int code;
    const char *reason;
} status_t;

/* RFC 9110 section 15, plus the registered codes apps commonly use. */
static const status_t statuses[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {102, "Processing"},
    {103, "Early Hints"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {207, "Multi-Status"},
    {208, "Already Reported"},
    {226, "IM Used"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {305, "Use Proxy"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {418, "I'm a teapot"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Content"},
    {423, "Locked"},
    {424, "Failed Dependency"},
    {425, "Too Early"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {451, "Unavailable For Legal Reasons"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {506, "Variant Also Negotiates"},
    {507, "Insufficient Storage"},
    {508, "Loop Detected"},
    {510, "Not Extended"},
    {511, "Network Authentication Required"},
};

const char *srv_http_reason(int status)
{
    size_t lo = 0, hi = sizeof(statuses) / sizeof(statuses[0]);

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (statuses[mid].code == status)
            return statuses[mid].reason;
        if (statuses[mid].code < status)
            lo = mid + 1;
        else
            hi = mid;
    }
    return "Unknown";
}

int srv_http_status_valid(int status)
{
    return status >= 200 && status <= 599;
}

int srv_http_reason_valid(const char *r, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (!srv_http_is((unsigned char)r[i], SRV_CH_VALUE))
            return 0;
    return 1;
}

int srv_http_resp_header(const srv_header_t *h, srv_http_resp_meta_t *meta, const char **why)
{
    const char *n = h->name.p;
    size_t nl = h->name.len, i;

    if (!srv_http_is_token(n, nl)) {
        *why = "invalid response header name";
        return SRV_EINVAL;
    }
    for (i = 0; i < h->value.len; i++) {
        if (!srv_http_is((unsigned char)h->value.p[i], SRV_CH_VALUE)) {
            *why = "control character in response header value";
            return SRV_EINVAL;
        }
    }
    switch (nl) {
    case 4:
        if (srv_http_ieq(n, nl, "date"))
            meta->has_date = 1;
        break;
    case 10:
        if (srv_http_ieq(n, nl, "connection")) {
            /* Only "close" means something coming from an app. */
            const char *v = h->value.p;
            size_t a = 0, len = h->value.len;

            while (a < len) {
                size_t b;

                while (a < len && (v[a] == ' ' || v[a] == '\t' || v[a] == ','))
                    a++;
                b = a;
                while (b < len && v[b] != ',' && v[b] != ' ' && v[b] != '\t')
                    b++;
                if (srv_http_ieq(v + a, b - a, "close"))
                    meta->close = 1;
                a = b;
            }
            return SRV_HDR_DROP;
        }
        if (srv_http_ieq(n, nl, "keep-alive"))
            return SRV_HDR_DROP;
        break;
    case 14:
        if (srv_http_ieq(n, nl, "content-length")) {
            int64_t v = 0;

            if (h->value.len == 0 || h->value.len > 18)
                goto bad_cl;
            for (i = 0; i < h->value.len; i++) {
                char c = h->value.p[i];

                if (c < '0' || c > '9')
                    goto bad_cl;
                v = v * 10 + (c - '0');
            }
            if (meta->content_length >= 0 && meta->content_length != v)
                goto bad_cl;
            meta->content_length = v;
            return SRV_HDR_DROP;
        }
        break;
    case 17:
        if (srv_http_ieq(n, nl, "transfer-encoding"))
            return SRV_HDR_DROP;
        break;
    default:
        break;
    }
    return SRV_HDR_KEEP;
bad_cl:
    *why = "invalid Content-Length in response";
    return SRV_EINVAL;
}

void srv_http_plan(int status, int version_minor, int is_head, int64_t app_cl, int64_t known_len,
                   int keep_alive, srv_http_plan_t *out)
{
    out->keep_alive = keep_alive;
    out->content_length = -1;
    if (status < 200 || status == 204) {
        /* RFC 9110 8.6: no Content-Length in 1xx or 204. */
        out->mode = SRV_BODY_NONE;
    } else if (status == 304) {
        out->mode = SRV_BODY_NONE;
        out->content_length = app_cl;
    } else if (is_head) {
        /* What a GET would have said, if it is known. */
        out->mode = SRV_BODY_NONE;
        out->content_length = app_cl >= 0 ? app_cl : known_len;
    } else if (app_cl >= 0 || known_len >= 0) {
        out->mode = SRV_BODY_LENGTH;
        out->content_length = app_cl >= 0 ? app_cl : known_len;
    } else if (version_minor >= 1) {
        out->mode = SRV_BODY_CHUNKED;
    } else {
        out->mode = SRV_BODY_CLOSE;
        out->keep_alive = 0;
    }
}

size_t srv_http_put_status_line(char *dst, int status, const char *reason, size_t reason_len)
{
    memcpy(dst, "HTTP/1.1 ", 9);
    dst[9] = (char)('0' + status / 100 % 10);
    dst[10] = (char)('0' + status / 10 % 10);
    dst[11] = (char)('0' + status % 10);
    dst[12] = ' ';
    memcpy(dst + 13, reason, reason_len);
    dst[13 + reason_len] = '\r';
    dst[14 + reason_len] = '\n';
    return 15 + reason_len;
}

size_t srv_http_put_date_line(char *dst)
{
    memcpy(dst, "Date: ", 6);
    srv_http_date_now(dst + 6);
    dst[35] = '\r';
    dst[36] = '\n';
    return SRV_HTTP_DATE_LINE_LEN;
}

static size_t put_u64(char *dst, uint64_t v)
{
    char tmp[20];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++)
        dst[i] = tmp[n - 1 - i];
    return n;
}

#define PUT_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), sizeof(lit) - 1)

size_t srv_http_put_framing(char *dst, const srv_http_plan_t *plan, int version_minor)
{
    char *p = dst;

    if (plan->content_length >= 0) {
        p += PUT_LIT(p, "Content-Length: ");
        p += put_u64(p, (uint64_t)plan->content_length);
        p += PUT_LIT(p, "\r\n");
    }
    if (plan->mode == SRV_BODY_CHUNKED)
        p += PUT_LIT(p, "Transfer-Encoding: chunked\r\n");
    if (!plan->keep_alive)
        p += PUT_LIT(p, "Connection: close\r\n");
    else if (version_minor == 0)
        p += PUT_LIT(p, "Connection: keep-alive\r\n");
    p += PUT_LIT(p, "\r\n");
    return (size_t)(p - dst);
}

size_t srv_http_put_chunk_size(char *dst, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[16];
    size_t k = 0, i;

    do {
        tmp[k++] = hex[n & 15];
        n >>= 4;
    } while (n);
    for (i = 0; i < k; i++)
        dst[i] = tmp[k - 1 - i];
    dst[k] = '\r';
    dst[k + 1] = '\n';
    return k + 2;
}

size_t srv_http_put_simple_response(char *dst, size_t cap, int status, const char *detail,
                                    int close)
{
    const char *reason = srv_http_reason(status);
    char body[300];
    size_t rl = strlen(reason), n;
    int bl;
    srv_http_plan_t plan;

    bl = snprintf(body, sizeof(body), "%d %s%s%s\n", status, reason, detail ? ": " : "",
                  detail ? detail : "");
    if (bl < 0 || (size_t)bl >= sizeof(body))
        bl = snprintf(body, sizeof(body), "%d %s\n", status, reason);
    if (cap < SRV_HTTP_STATUS_LINE_MAX(rl) + SRV_HTTP_DATE_LINE_LEN + 48 + SRV_HTTP_FRAMING_MAX +
                  (size_t)bl)
        return 0;
    n = srv_http_put_status_line(dst, status, reason, rl);
    n += srv_http_put_date_line(dst + n);
    n += PUT_LIT(dst + n, "Content-Type: text/plain; charset=utf-8\r\n");
    plan.mode = SRV_BODY_LENGTH;
    plan.content_length = bl;
    plan.keep_alive = !close;
    n += srv_http_put_framing(dst + n, &plan, 1);
    memcpy(dst + n, body, (size_t)bl);
    return n + (size_t)bl;
}
