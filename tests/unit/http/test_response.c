/* Unit tests of core/http/response.c and core/http/date.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "http/date.h"
#include "http/response.h"

static srv_header_t hdr(const char *n, const char *v)
{
    srv_header_t h;

    h.name.p = n;
    h.name.len = strlen(n);
    h.value.p = v;
    h.value.len = strlen(v);
    return h;
}

static int check(const char *n, const char *v, srv_http_resp_meta_t *m)
{
    srv_header_t h = hdr(n, v);
    const char *why = NULL;

    return srv_http_resp_header(&h, m, &why);
}

Test(response, header_validation)
{
    srv_http_resp_meta_t m = {-1, 0, 0};

    cr_assert_eq(check("Content-Type", "text/html; charset=utf-8", &m), SRV_HDR_KEEP);
    cr_assert_eq(check("X-Obs", "caf\xc3\xa9\tok", &m), SRV_HDR_KEEP);
    cr_assert_eq(check("X", "a\r\nSet-Cookie: evil", &m), SRV_EINVAL);
    cr_assert_eq(check("X", "a\nb", &m), SRV_EINVAL);
    cr_assert_eq(check("X", "a\rb", &m), SRV_EINVAL);
    cr_assert_eq(check("X",
                       "a\x00"
                       "b",
                       &m),
                 SRV_HDR_KEEP); /* strlen stops at NUL */
    {
        srv_header_t h = {{"X", 1}, {"a\0b", 3}};
        const char *why;

        cr_assert_eq(srv_http_resp_header(&h, &m, &why), SRV_EINVAL);
    }
    cr_assert_eq(check("X", "\x7f", &m), SRV_EINVAL);
    cr_assert_eq(check("X", "\x1b", &m), SRV_EINVAL);
    cr_assert_eq(check("Bad Name", "v", &m), SRV_EINVAL);
    cr_assert_eq(check("Bad:Name", "v", &m), SRV_EINVAL);
    cr_assert_eq(check("", "v", &m), SRV_EINVAL);
    cr_assert_eq(check("X\r\nY", "v", &m), SRV_EINVAL);
}

Test(response, framing_headers_are_taken_over)
{
    srv_http_resp_meta_t m = {-1, 0, 0};

    cr_assert_eq(check("Transfer-Encoding", "chunked", &m), SRV_HDR_DROP);
    cr_assert_eq(check("Keep-Alive", "timeout=5", &m), SRV_HDR_DROP);
    cr_assert_eq(check("Connection", "keep-alive", &m), SRV_HDR_DROP);
    cr_assert_eq(m.close, 0);
    cr_assert_eq(check("connection", "Upgrade, CLOSE", &m), SRV_HDR_DROP);
    cr_assert_eq(m.close, 1);
    cr_assert_eq(check("Content-Length", "42", &m), SRV_HDR_DROP);
    cr_assert_eq(m.content_length, 42);
    cr_assert_eq(check("content-length", "42", &m), SRV_HDR_DROP, "same value twice is fine");
    cr_assert_eq(check("Content-Length", "43", &m), SRV_EINVAL, "conflicting values");
    cr_assert_eq(check("Date", "Sun, 06 Nov 1994 08:49:37 GMT", &m), SRV_HDR_KEEP);
    cr_assert_eq(m.has_date, 1);
}

Test(response, bad_content_length_from_app)
{
    static const char *const bad[] = {"", "-1", "+1", "1 2", "0x1", "1.5", "1234567890123456789"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        srv_http_resp_meta_t m = {-1, 0, 0};

        cr_assert_eq(check("Content-Length", bad[i], &m), SRV_EINVAL, "%s", bad[i]);
    }
}

Test(response, status_and_reason)
{
    cr_assert_str_eq(srv_http_reason(200), "OK");
    cr_assert_str_eq(srv_http_reason(404), "Not Found");
    cr_assert_str_eq(srv_http_reason(511), "Network Authentication Required");
    cr_assert_str_eq(srv_http_reason(299), "Unknown");
    cr_assert(srv_http_status_valid(200));
    cr_assert(srv_http_status_valid(599));
    cr_assert_not(srv_http_status_valid(100));
    cr_assert_not(srv_http_status_valid(199));
    cr_assert_not(srv_http_status_valid(600));
    cr_assert_not(srv_http_status_valid(0));
    cr_assert(srv_http_reason_valid("Very OK\t!", 9));
    cr_assert_not(srv_http_reason_valid("OK\r\nX: y", 8));
}

typedef struct plan_case_s {
    int status, minor, is_head;
    int64_t app_cl, known;
    int keep;
    srv_body_mode_t mode;
    int64_t cl;
    int keep_out;
} plan_case_t;

Test(response, framing_plans)
{
    static const plan_case_t cases[] = {
        /* status minor head app_cl known keep -> mode cl keep */
        {200, 1, 0, -1, 13, 1, SRV_BODY_LENGTH, 13, 1},
        {200, 1, 0, 5, -1, 1, SRV_BODY_LENGTH, 5, 1},
        {200, 1, 0, 5, 99, 1, SRV_BODY_LENGTH, 5, 1},
        {200, 1, 0, -1, -1, 1, SRV_BODY_CHUNKED, -1, 1},
        {200, 0, 0, -1, -1, 1, SRV_BODY_CLOSE, -1, 0},
        {200, 0, 0, -1, 7, 1, SRV_BODY_LENGTH, 7, 1},
        {200, 1, 1, -1, 13, 1, SRV_BODY_NONE, 13, 1},
        {200, 1, 1, -1, -1, 1, SRV_BODY_NONE, -1, 1},
        {200, 0, 1, -1, -1, 1, SRV_BODY_NONE, -1, 1},
        {200, 1, 1, 99, 13, 1, SRV_BODY_NONE, 99, 1},
        {204, 1, 0, 5, 5, 1, SRV_BODY_NONE, -1, 1},
        {304, 1, 0, 5, -1, 1, SRV_BODY_NONE, 5, 1},
        {304, 1, 0, -1, 3, 1, SRV_BODY_NONE, -1, 1},
        {200, 1, 0, -1, -1, 0, SRV_BODY_CHUNKED, -1, 0},
        {500, 1, 0, -1, 0, 0, SRV_BODY_LENGTH, 0, 0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const plan_case_t *c = &cases[i];
        srv_http_plan_t p;

        srv_http_plan(c->status, c->minor, c->is_head, c->app_cl, c->known, c->keep, &p);
        cr_assert_eq(p.mode, c->mode, "case %zu", i);
        cr_assert_eq(p.content_length, c->cl, "case %zu", i);
        cr_assert_eq(p.keep_alive, c->keep_out, "case %zu", i);
    }
}

Test(response, framing_lines)
{
    char buf[SRV_HTTP_FRAMING_MAX + 1];
    srv_http_plan_t p = {SRV_BODY_LENGTH, 1234567890123LL, 1};
    size_t n;

    n = srv_http_put_framing(buf, &p, 1);
    buf[n] = 0;
    cr_assert_str_eq(buf, "Content-Length: 1234567890123\r\n\r\n");
    n = srv_http_put_framing(buf, &p, 0);
    buf[n] = 0;
    cr_assert_str_eq(buf, "Content-Length: 1234567890123\r\nConnection: keep-alive\r\n\r\n");
    p.mode = SRV_BODY_CHUNKED;
    p.content_length = -1;
    p.keep_alive = 0;
    n = srv_http_put_framing(buf, &p, 1);
    buf[n] = 0;
    cr_assert_str_eq(buf, "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    /* The longest block fits in SRV_HTTP_FRAMING_MAX. */
    p.content_length = INT64_MAX;
    cr_assert_leq(srv_http_put_framing(buf, &p, 0), SRV_HTTP_FRAMING_MAX);
}

Test(response, status_line_and_chunk_size)
{
    char buf[64];
    size_t n;

    n = srv_http_put_status_line(buf, 404, "Not Found", 9);
    buf[n] = 0;
    cr_assert_str_eq(buf, "HTTP/1.1 404 Not Found\r\n");
    n = srv_http_put_chunk_size(buf, 0x1a2b);
    buf[n] = 0;
    cr_assert_str_eq(buf, "1a2b\r\n");
    n = srv_http_put_chunk_size(buf, 0);
    buf[n] = 0;
    cr_assert_str_eq(buf, "0\r\n");
}

Test(response, simple_response)
{
    char buf[512];
    size_t n = srv_http_put_simple_response(buf, sizeof(buf), 400, "bare LF line ending", 1);

    buf[n] = 0;
    cr_assert(strncmp(buf, "HTTP/1.1 400 Bad Request\r\nDate: ", 32) == 0);
    cr_assert_not_null(strstr(buf, "\r\nConnection: close\r\n\r\n400 Bad Request: bare LF"));
    cr_assert_not_null(strstr(buf, "Content-Length: 37\r\n"));
    cr_assert_eq(srv_http_put_simple_response(buf, 50, 400, "x", 1), 0, "too small a buffer");
}

Test(date, imf_fixdate)
{
    char d[SRV_HTTP_DATE_LEN + 1];

    d[SRV_HTTP_DATE_LEN] = 0;
    srv_http_date_format(784111777, d);
    cr_assert_str_eq(d, "Sun, 06 Nov 1994 08:49:37 GMT");
    srv_http_date_format(0, d);
    cr_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    srv_http_date_format(951782400, d); /* a leap day in a year divisible by 400 */
    cr_assert_str_eq(d, "Tue, 29 Feb 2000 00:00:00 GMT");
    srv_http_date_format(4102444799LL, d);
    cr_assert_str_eq(d, "Thu, 31 Dec 2099 23:59:59 GMT");
    srv_http_date_format(4107542399LL, d); /* 2100 is not a leap year */
    cr_assert_str_eq(d, "Sun, 28 Feb 2100 23:59:59 GMT");
    srv_http_date_format(1795647600LL, d);
    cr_assert_str_eq(d, "Wed, 25 Nov 2026 23:00:00 GMT");
}

Test(date, now_is_well_formed)
{
    char d[SRV_HTTP_DATE_LEN + 1];

    d[SRV_HTTP_DATE_LEN] = 0;
    srv_http_date_now(d);
    cr_assert_eq(d[3], ',');
    cr_assert_str_eq(d + 25, " GMT");
}
