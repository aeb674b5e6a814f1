/* Unit tests of core/http/parser.c. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "http/chars.h"
#include "http/parser.h"

#define MAXF 16

static const srv_http_limits_t lim = {
    .max_line = 200, .max_field = 200, .max_fields = MAXF, .max_head = 1024};

typedef struct parsed_s {
    srv_http_head_t h;
    srv_header_t hdrs[MAXF];
    int rc;
} parsed_t;

/* Parses in[0..len) in one call. */
static int parse(const char *in, size_t len, parsed_t *p)
{
    srv_http_scan_t st;

    memset(&st, 0, sizeof(st));
    memset(p, 0, sizeof(*p));
    p->h.headers = p->hdrs;
    p->rc = srv_http_parse_request(&st, in, len, &lim, &p->h);
    return p->rc;
}

static int parse_s(const char *in, parsed_t *p)
{
    return parse(in, strlen(in), p);
}

static int str_is(srv_str_t s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

/* ---- Accepted requests: exact slices ---- */

Test(parser, simple_get)
{
    parsed_t p;
    const char *in = "GET /a/b?x=1&y HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";

    cr_assert_eq(parse_s(in, &p), (int)strlen(in));
    cr_assert(str_is(p.h.method, "GET"));
    cr_assert(str_is(p.h.target, "/a/b?x=1&y"));
    cr_assert(str_is(p.h.path, "/a/b"));
    cr_assert(str_is(p.h.query, "x=1&y"));
    cr_assert(str_is(p.h.host, "example.com"));
    cr_assert_eq(p.h.version_minor, 1);
    cr_assert_eq(p.h.form, SRV_FORM_ORIGIN);
    cr_assert_eq(p.h.nheaders, 2);
    cr_assert(str_is(p.h.headers[0].name, "Host"));
    cr_assert(str_is(p.h.headers[1].name, "Accept"));
    cr_assert(str_is(p.h.headers[1].value, "*/*"));
    cr_assert_eq(p.h.content_length, -1);
    cr_assert_eq(p.h.flags & SRV_HEAD_CHUNKED, 0);
    cr_assert_eq(p.h.head_len, strlen(in));
}

Test(parser, returns_head_length_with_body_after)
{
    parsed_t p;
    const char *in = "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET";

    cr_assert_eq(parse_s(in, &p), (int)(strlen(in) - 8));
    cr_assert_eq(p.h.content_length, 5);
}

Test(parser, http10_needs_no_host)
{
    parsed_t p;

    cr_assert_gt(parse_s("GET / HTTP/1.0\r\n\r\n", &p), 0);
    cr_assert_eq(p.h.version_minor, 0);
    cr_assert_eq(p.h.host.len, 0);
}

Test(parser, http1x_minor_versions_read_as_11)
{
    parsed_t p;

    cr_assert_gt(parse_s("GET / HTTP/1.7\r\nHost: a\r\n\r\n", &p), 0);
    cr_assert_eq(p.h.version_minor, 1);
}

Test(parser, query_marker_without_query)
{
    parsed_t p;

    cr_assert_gt(parse_s("GET /p? HTTP/1.1\r\nHost: a\r\n\r\n", &p), 0);
    cr_assert(str_is(p.h.path, "/p"));
    cr_assert_eq(p.h.query.len, 0);
}

Test(parser, absolute_form_takes_host_from_target)
{
    parsed_t p;

    cr_assert_gt(parse_s("GET http://example.com:8080/p/q?z=9 HTTP/1.1\r\nHost: other\r\n\r\n", &p),
                 0);
    cr_assert_eq(p.h.form, SRV_FORM_ABSOLUTE);
    cr_assert(str_is(p.h.host, "example.com:8080"));
    cr_assert(str_is(p.h.path, "/p/q"));
    cr_assert(str_is(p.h.query, "z=9"));
}

Test(parser, absolute_form_without_path)
{
    parsed_t p;

    cr_assert_gt(parse_s("GET HTTPS://[::1]:8443?a HTTP/1.1\r\nHost: x\r\n\r\n", &p), 0);
    cr_assert(str_is(p.h.host, "[::1]:8443"));
    cr_assert_eq(p.h.path.len, 0);
    cr_assert(str_is(p.h.query, "a"));
}

Test(parser, asterisk_form_with_options)
{
    parsed_t p;

    cr_assert_gt(parse_s("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", &p), 0);
    cr_assert_eq(p.h.form, SRV_FORM_ASTERISK);
    cr_assert(str_is(p.h.target, "*"));
}

Test(parser, authority_form_with_connect)
{
    parsed_t p;

    cr_assert_gt(parse_s("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", &p),
                 0);
    cr_assert_eq(p.h.form, SRV_FORM_AUTHORITY);
    cr_assert(str_is(p.h.host, "example.com:443"));
}

Test(parser, leading_empty_lines_are_skipped)
{
    parsed_t p;
    const char *in = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";

    cr_assert_eq(parse_s(in, &p), (int)strlen(in));
    cr_assert(str_is(p.h.method, "GET"));
}

Test(parser, value_whitespace_trimming)
{
    parsed_t p;

    cr_assert_gt(parse_s("GET / HTTP/1.1\r\nHost: a\r\nX:  \t v \t w\t \r\nY:\r\nZ:z\r\n\r\n", &p),
                 0);
    cr_assert(str_is(p.h.headers[1].value, "v \t w"));
    cr_assert(str_is(p.h.headers[2].value, ""));
    cr_assert(str_is(p.h.headers[3].value, "z"));
}

Test(parser, obs_text_in_value_is_kept_and_not_trimmed)
{
    parsed_t p;

    cr_assert_gt(parse_s("GET / HTTP/1.1\r\nHost: a\r\nX: \xa0v\x85\r\n\r\n", &p), 0);
    cr_assert(str_is(p.h.headers[1].value, "\xa0v\x85"));
}

Test(parser, underscore_headers_are_dropped)
{
    parsed_t p;

    cr_assert_gt(
        parse_s("GET / HTTP/1.1\r\nHost: a\r\nX_Auth_User: evil\r\nX-Auth-User: ok\r\n\r\n", &p),
        0);
    cr_assert_eq(p.h.nheaders, 2);
    cr_assert(str_is(p.h.headers[1].name, "X-Auth-User"));
    cr_assert(str_is(p.h.headers[1].value, "ok"));
}

Test(parser, framing_flags)
{
    parsed_t p;

    cr_assert_gt(parse_s("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED \r\n"
                         "Connection: foo, Close\r\nExpect: 100-Continue\r\n\r\n",
                         &p),
                 0);
    cr_assert(p.h.flags & SRV_HEAD_CHUNKED);
    cr_assert(p.h.flags & SRV_HEAD_CONN_CLOSE);
    cr_assert(p.h.flags & SRV_HEAD_EXPECT_CONTINUE);
    cr_assert_eq(p.h.content_length, -1);
}

Test(parser, keep_alive_and_empty_connection)
{
    parsed_t p;

    cr_assert_gt(parse_s("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &p), 0);
    cr_assert(p.h.flags & SRV_HEAD_CONN_KEEPALIVE);
    cr_assert_gt(parse_s("GET / HTTP/1.1\r\nHost: a\r\nConnection:\r\n\r\n", &p), 0);
    cr_assert_eq(p.h.flags & (SRV_HEAD_CONN_CLOSE | SRV_HEAD_CONN_KEEPALIVE), 0);
}

Test(parser, expect_on_http10_is_ignored)
{
    parsed_t p;

    cr_assert_gt(
        parse_s("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", &p), 0);
    cr_assert_eq(p.h.flags & SRV_HEAD_EXPECT_CONTINUE, 0);
    cr_assert_gt(parse_s("POST / HTTP/1.0\r\nExpect: whatever\r\n\r\n", &p), 0);
}

Test(parser, content_length_forms)
{
    parsed_t p;

    cr_assert_gt(parse_s("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  0012 \r\n\r\n", &p), 0);
    cr_assert_eq(p.h.content_length, 12);
    cr_assert_gt(
        parse_s("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n", &p),
        0);
    cr_assert_eq(p.h.content_length, INT64_MAX);
}

Test(parser, lowercase_and_odd_token_methods)
{
    parsed_t p;

    cr_assert_gt(parse_s("get / HTTP/1.1\r\nHost: a\r\n\r\n", &p), 0);
    cr_assert(str_is(p.h.method, "get"));
    cr_assert_gt(parse_s("M-SEARCH! / HTTP/1.1\r\nHost: a\r\n\r\n", &p), 0);
}

Test(parser, incomplete_is_eagain)
{
    parsed_t p;

    cr_assert_eq(parse_s("GET / HTTP/1.1\r\nHost: a\r\n", &p), SRV_EAGAIN);
    cr_assert_eq(parse_s("GET / HTTP/1.1\r\nHost: a\r\n\r", &p), SRV_EAGAIN);
    cr_assert_eq(parse_s("", &p), SRV_EAGAIN);
    cr_assert_eq(parse_s("\r\n", &p), SRV_EAGAIN);
}

/* ---- Rejected requests ---- */

typedef struct reject_s {
    const char *in;
    int status;
} reject_t;

static const reject_t rejects[] = {
    /* request line */
    {"G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET{ / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
    {"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET /\t HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET /a\x1b[0m HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET  HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET /\r\n\r\n", 400},
    {"GET\r\n\r\n", 400},
    {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
    {"GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505},
    {"GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505},
    {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
    {"GET / HTTP/01.1\r\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/1\r\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/1.\r\nHost: a\r\n\r\n", 400},
    {"GET / http/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/1,1\r\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/a.1\r\nHost: a\r\n\r\n", 400},
    {"GET / HTTPS/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"POST * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"OPTIONS ** HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"CONNECT example.com: HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"CONNECT http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET http://user@a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET http:/a HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET http:// HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET http://a b/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET http://a\\b/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET ../etc HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    /* line endings */
    {"GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\n\n", 400},
    {"GET / HTTP/1.1\n\n", 400},
    {"GET / HTTP/1.1\rHost: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400},
    {"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"\r\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    /* field lines */
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nX Y: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\n: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\n[X]: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nX\"Y: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nH\xc3\xb6st: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01 b\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: \x0b a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: \x0c a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x1f\r\n\r\n", 400},
    /* Host */
    {"GET / HTTP/1.1\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nX: a\r\n\r\n", 400},
    {"GET http://a/ HTTP/1.1\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", 0},
    {"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: []\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a:123456\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\\b\r\n\r\n", 400},
    /* Content-Length */
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1_0\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1.0\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \x0b"
     "5\r\n\r\n",
     400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n", 400},
    /* Transfer-Encoding */
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
     501},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
     "chunked\r\n\r\n",
     400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0b"
     "chunked\r\n\r\n",
     400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x0b\r\n\r\n", 400},
    /* Expect, Content-Type */
    {"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue-ish\r\n\r\n", 417},
    {"POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close,,x\r\n\r\n", 400},
};

Test(parser, every_reject_rule)
{
    size_t i;

    for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
        parsed_t p;
        int rc = parse_s(rejects[i].in, &p);

        if (rejects[i].status == 0) {
            cr_assert_gt(rc, 0, "case %zu should pass: %s (%s)", i, rejects[i].in,
                         p.h.why ? p.h.why : "");
            continue;
        }
        cr_assert_eq(rc, SRV_EPROTO, "case %zu should fail: %s (rc %d)", i, rejects[i].in, rc);
        cr_assert_eq(p.h.status, rejects[i].status, "case %zu: status %d, want %d (%s)", i,
                     p.h.status, rejects[i].status, p.h.why);
        cr_assert_not_null(p.h.why);
    }
}

/* A reject must not depend on how the bytes arrived: feed every case one
 * byte at a time and check the same status comes out (or EAGAIN never
 * turns into success). */
Test(parser, rejects_hold_byte_by_byte)
{
    size_t i;

    for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
        const char *in = rejects[i].in;
        size_t len = strlen(in), k;
        srv_http_scan_t st;
        parsed_t p;
        int rc = SRV_EAGAIN;

        memset(&st, 0, sizeof(st));
        memset(&p, 0, sizeof(p));
        p.h.headers = p.hdrs;
        for (k = 1; k <= len && rc == SRV_EAGAIN; k++)
            rc = srv_http_parse_request(&st, in, k, &lim, &p.h);
        if (rejects[i].status == 0) {
            cr_assert_gt(rc, 0, "case %zu", i);
        } else {
            cr_assert_eq(rc, SRV_EPROTO, "case %zu: rc %d", i, rc);
            cr_assert_eq(p.h.status, rejects[i].status, "case %zu: %d (%s)", i, p.h.status,
                         p.h.why);
        }
    }
}

/* ---- Early rejection and limits ---- */

Test(parser, junk_fails_before_line_end)
{
    parsed_t p;
    /* The start of a TLS ClientHello. */
    static const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";

    cr_assert_eq(parse(tls, sizeof(tls) - 1, &p), SRV_EPROTO);
    cr_assert_eq(p.h.status, 400);
    cr_assert_eq(parse_s("GET / HTTP/1.1x", &p), SRV_EPROTO);
    cr_assert_eq(parse_s("GET /\x01", &p), SRV_EPROTO);
    cr_assert_eq(parse_s("GET / HTTP/1.1", &p), SRV_EAGAIN);
    cr_assert_eq(parse_s("GET / H", &p), SRV_EAGAIN);
}

Test(parser, request_line_limit)
{
    char in[512];
    parsed_t p;

    /* "GET /" + 'a' * n + " HTTP/1.1" is 14 + n bytes long. */
    snprintf(in, sizeof(in), "GET /%0*d HTTP/1.1\r\nHost: a\r\n\r\n", 186, 0);
    cr_assert_gt(parse_s(in, &p), 0, "200-byte line fits");
    snprintf(in, sizeof(in), "GET /%0*d HTTP/1.1\r\nHost: a\r\n\r\n", 187, 0);
    cr_assert_eq(parse_s(in, &p), SRV_EPROTO);
    cr_assert_eq(p.h.status, 414);
    /* Without its CRLF yet: fails as soon as it is too long. */
    snprintf(in, sizeof(in), "GET /%0*d", 300, 0);
    cr_assert_eq(parse_s(in, &p), SRV_EPROTO);
    cr_assert_eq(p.h.status, 414);
}

Test(parser, field_size_limit)
{
    char in[600];
    parsed_t p;

    snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: a\r\nX: %0*d\r\n\r\n", 197, 0);
    cr_assert_gt(parse_s(in, &p), 0);
    snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: a\r\nX: %0*d\r\n\r\n", 198, 0);
    cr_assert_eq(parse_s(in, &p), SRV_EPROTO);
    cr_assert_eq(p.h.status, 431);
    snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: a\r\nX: %0*d", 300, 0);
    cr_assert_eq(parse_s(in, &p), SRV_EPROTO);
    cr_assert_eq(p.h.status, 431);
}

Test(parser, field_count_limit)
{
    char in[1024];
    size_t n, i;
    parsed_t p;

    for (int count = MAXF; count <= MAXF + 1; count++) {
        n = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: a\r\n");
        for (i = 1; i < (size_t)count; i++)
            n += (size_t)snprintf(in + n, sizeof(in) - n, "X%zu: v\r\n", i);
        snprintf(in + n, sizeof(in) - n, "\r\n");
        if (count == MAXF) {
            cr_assert_gt(parse_s(in, &p), 0);
            cr_assert_eq(p.h.nheaders, MAXF);
        } else {
            cr_assert_eq(parse_s(in, &p), SRV_EPROTO);
            cr_assert_eq(p.h.status, 431);
        }
    }
}

Test(parser, underscore_headers_count_towards_the_limit)
{
    char in[1024];
    size_t n, i;
    parsed_t p;

    n = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: a\r\n");
    for (i = 0; i < MAXF; i++)
        n += (size_t)snprintf(in + n, sizeof(in) - n, "X_%zu: v\r\n", i);
    snprintf(in + n, sizeof(in) - n, "\r\n");
    cr_assert_eq(parse_s(in, &p), SRV_EPROTO);
    cr_assert_eq(p.h.status, 431);
}

Test(parser, head_size_limit)
{
    char in[2048];
    size_t n, i;
    parsed_t p;

    /* 6 fields of 190 bytes: more than 1024 in all, each within limits. */
    n = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: a\r\n");
    for (i = 0; i < 6; i++)
        n += (size_t)snprintf(in + n, sizeof(in) - n, "X%zu: %0*d\r\n", i, 180, 0);
    snprintf(in + n, sizeof(in) - n, "\r\n");
    cr_assert_eq(parse_s(in, &p), SRV_EPROTO);
    cr_assert_eq(p.h.status, 431);
    /* The same bytes without the final CRLF also fail, once past the cap. */
    in[n] = '\0';
    cr_assert_eq(parse_s(in, &p), SRV_EPROTO);
    cr_assert_eq(p.h.status, 431);
}

/* ---- Every split point of valid requests ---- */

static const char *const valid_requests[] = {
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "\r\nPOST /x?y=z HTTP/1.1\r\nHost: example.com:80\r\nContent-Length: 3\r\n"
    "Content-Type: text/plain\r\nX-A:  b \r\n\r\nabc",
    "PUT http://h/p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    "OPTIONS * HTTP/1.0\r\n\r\n",
    "GET /\xc3\xa9t\xc3\xa9 HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\nCookie: a=b; c=d\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nX_Dropped: 1\r\n\r\n",
};

Test(parser, every_split_point_gives_the_same_result)
{
    size_t r;

    for (r = 0; r < sizeof(valid_requests) / sizeof(valid_requests[0]); r++) {
        const char *in = valid_requests[r];
        size_t len = strlen(in), split, i;
        parsed_t whole;
        int want = parse(in, len, &whole);

        cr_assert_gt(want, 0, "request %zu: %s", r, whole.h.why ? whole.h.why : "");
        for (split = 0; split <= (size_t)want; split++) {
            srv_http_scan_t st;
            parsed_t p;
            int rc;

            memset(&st, 0, sizeof(st));
            memset(&p, 0, sizeof(p));
            p.h.headers = p.hdrs;
            rc = srv_http_parse_request(&st, in, split, &lim, &p.h);
            if (split < (size_t)want) {
                cr_assert_eq(rc, SRV_EAGAIN, "request %zu split %zu: rc %d", r, split, rc);
                rc = srv_http_parse_request(&st, in, len, &lim, &p.h);
            }
            cr_assert_eq(rc, want, "request %zu split %zu", r, split);
            cr_assert_eq(p.h.nheaders, whole.h.nheaders);
            cr_assert_eq(p.h.content_length, whole.h.content_length);
            cr_assert_eq(p.h.flags, whole.h.flags);
            cr_assert_eq(p.h.method.p, whole.h.method.p);
            cr_assert_eq(p.h.target.len, whole.h.target.len);
            cr_assert_eq(p.h.host.p, whole.h.host.p);
            for (i = 0; i < p.h.nheaders; i++) {
                cr_assert_eq(p.h.headers[i].name.p, whole.h.headers[i].name.p);
                cr_assert_eq(p.h.headers[i].value.len, whole.h.headers[i].value.len);
            }
        }
    }
}

Test(parser, byte_by_byte_gives_the_same_result)
{
    size_t r;

    for (r = 0; r < sizeof(valid_requests) / sizeof(valid_requests[0]); r++) {
        const char *in = valid_requests[r];
        size_t len = strlen(in), k;
        parsed_t whole, p;
        srv_http_scan_t st;
        int want = parse(in, len, &whole), rc = SRV_EAGAIN;

        memset(&st, 0, sizeof(st));
        memset(&p, 0, sizeof(p));
        p.h.headers = p.hdrs;
        for (k = 1; k <= len && rc == SRV_EAGAIN; k++)
            rc = srv_http_parse_request(&st, in, k, &lim, &p.h);
        cr_assert_eq(rc, want);
        cr_assert_eq(k - 1, (size_t)want, "completes exactly at the end of the head");
        cr_assert_eq(p.h.nheaders, whole.h.nheaders);
    }
}

/* ---- srv_http_host_valid ---- */

Test(parser, host_values)
{
    static const char *const good[] = {
        "",          "a",         "example.com",   "a:80",
        "a:",        "127.0.0.1", "[::1]",         "[::1]:8080",
        "xn--d-1a",  "a%41b",     "a!$&'()*+,;=b", "[::ffff:1.2.3.4]",
        "a~b_c-d.e", "h:65535"};
    static const char *const bad[] = {"a b",      "a/b",    "a?b",   "a#b", "a@b",     "[::1",
                                      "[]",       "[::1]x", "a:1:2", "a:x", "a%4",     "a%zz",
                                      "a:123456", "\x7f",   "a\"b",  "a<b", "[::1]:8x"};
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        cr_assert(srv_http_host_valid(good[i], strlen(good[i])), "%s should be valid", good[i]);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_not(srv_http_host_valid(bad[i], strlen(bad[i])), "%s should be invalid", bad[i]);
}

/* The list walker the parser and `static` share: every element, trimmed,
 * empty ones included for the caller to judge. */
Test(chars, list_elements)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"a", "[a]"},         {" a ,\tb\t", "[a][b]"},
        {"a,,b", "[a][][b]"}, {"a,", "[a][]"},
        {",a", "[][a]"},      {"", "[]"},
        {"  ", "[]"},         {"W/\"x\", \"y\"", "[W/\"x\"][\"y\"]"},
    };
    size_t k;

    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char got[64] = "";
        size_t pos = 0, n, used = 0;
        const char *el;

        while (srv_http_list_next(cases[k].in, strlen(cases[k].in), &pos, &el, &n))
            used += (size_t)snprintf(got + used, sizeof(got) - used, "[%.*s]", (int)n, el);
        cr_assert_str_eq(got, cases[k].want, "%s", cases[k].in);
    }
}
