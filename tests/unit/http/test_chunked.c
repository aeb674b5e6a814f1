/* Unit tests of core/http/chunked.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "http/chunked.h"
#include "srv.h"

#define MAXB 1000000

typedef struct result_s {
    int rc;
    char out[4096];
    size_t outlen;
    size_t consumed;
    const char *why;
} result_t;

/* Decodes in[0..len) fed in pieces of `step` bytes into a dst of dstcap
 * bytes at a time (0: all at once). */
static void decode(const char *in, size_t len, size_t step, size_t dstcap, result_t *r)
{
    srv_chunked_t c;
    size_t pos = 0;

    srv_chunked_init(&c, MAXB, 64, 256);
    memset(r, 0, sizeof(*r));
    if (step == 0)
        step = len ? len : 1;
    if (dstcap == 0)
        dstcap = sizeof(r->out);
    r->rc = 0;
    while (pos <= len) {
        size_t avail = len - pos < step ? len - pos : step, used = 0, made = 0;
        size_t room = sizeof(r->out) - r->outlen < dstcap ? sizeof(r->out) - r->outlen : dstcap;

        r->rc = srv_chunked_decode(&c, in + pos, avail, &used, r->out + r->outlen, room, &made);
        pos += used;
        r->outlen += made;
        if (r->rc != 0 || (pos == len && used == 0 && made == 0))
            break;
    }
    r->consumed = pos;
    r->why = c.why;
}

static void decode_s(const char *in, result_t *r)
{
    decode(in, strlen(in), 0, 0, r);
}

Test(chunked, simple_body)
{
    result_t r;
    const char *in = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT";

    decode_s(in, &r);
    cr_assert_eq(r.rc, 1);
    cr_assert_eq(r.outlen, 11);
    cr_assert_eq(memcmp(r.out, "hello world", 11), 0);
    cr_assert_eq(r.consumed, strlen(in) - 4, "stops right after the body");
}

Test(chunked, hex_sizes_extensions_trailers)
{
    result_t r;
    const char *in = "A;name=value;q=\"quo\\\"ted; x\"\r\n0123456789\r\n"
                     "00000000000000b ; ext\r\nabcdefghijk\r\n"
                     "0;last\r\nX-Checksum: abc\r\nX-Other:\r\n\r\n";

    decode_s(in, &r);
    cr_assert_eq(r.rc, 1, "%s", r.why ? r.why : "");
    cr_assert_eq(r.outlen, 21);
    cr_assert_eq(memcmp(r.out, "0123456789abcdefghijk", 21), 0);
}

Test(chunked, empty_body)
{
    result_t r;

    decode_s("0\r\n\r\n", &r);
    cr_assert_eq(r.rc, 1);
    cr_assert_eq(r.outlen, 0);
}

static const char *const valid_bodies[] = {
    "5\r\nhello\r\n0\r\n\r\n",
    "1;a=b\r\nx\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n",
    "3 ;x\r\nabc\r\n2;y=\"\\\\\"\r\nde\r\n0\r\n\r\n",
};

Test(chunked, every_split_and_every_dst_size)
{
    size_t b;

    for (b = 0; b < sizeof(valid_bodies) / sizeof(valid_bodies[0]); b++) {
        const char *in = valid_bodies[b];
        size_t len = strlen(in), step, cap;
        result_t whole;

        decode(in, len, 0, 0, &whole);
        cr_assert_eq(whole.rc, 1, "body %zu: %s", b, whole.why ? whole.why : "");
        for (step = 1; step <= len; step++) {
            for (cap = 1; cap <= 4; cap++) {
                result_t r;

                decode(in, len, step, cap, &r);
                cr_assert_eq(r.rc, 1, "body %zu step %zu cap %zu: %s", b, step, cap,
                             r.why ? r.why : "");
                cr_assert_eq(r.outlen, whole.outlen);
                cr_assert_eq(memcmp(r.out, whole.out, r.outlen), 0);
                cr_assert_eq(r.consumed, len);
            }
        }
    }
}

Test(chunked, decodes_in_place)
{
    char buf[] = "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
    srv_chunked_t c;
    size_t used, made;

    srv_chunked_init(&c, MAXB, 64, 256);
    cr_assert_eq(srv_chunked_decode(&c, buf, strlen(buf), &used, buf, sizeof(buf), &made), 1);
    cr_assert_eq(made, 7);
    cr_assert_eq(memcmp(buf, "abcdefg", 7), 0);
    cr_assert(srv_chunked_done(&c));
}

Test(chunked, needs_more_input)
{
    result_t r;

    decode_s("5\r\nhel", &r);
    cr_assert_eq(r.rc, 0);
    cr_assert_eq(r.outlen, 3);
    decode_s("5\r\nhello\r\n0\r\n\r", &r);
    cr_assert_eq(r.rc, 0);
    decode_s("5\r\nhello\r\n0\r\n", &r);
    cr_assert_eq(r.rc, 0);
}

typedef struct bad_s {
    const char *in;
    size_t len;
} bad_t;

#define B(s)                                                                                       \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }

static const bad_t bad_bodies[] = {
    B("-5\r\nhello\r\n0\r\n\r\n"),
    B("+5\r\nhello\r\n0\r\n\r\n"),
    B("0x5\r\nhello\r\n0\r\n\r\n"),
    B("5_0\r\nhello\r\n0\r\n\r\n"),
    B(" 5\r\nhello\r\n0\r\n\r\n"),
    B("5 \r\nhello\r\n0\r\n\r\n"),
    B("5\t\r\nhello\r\n0\r\n\r\n"),
    B("\r\nhello\r\n0\r\n\r\n"),
    B("g\r\nhello\r\n0\r\n\r\n"),
    B("5\nhello\r\n0\r\n\r\n"),
    B("5\rhello\r\n0\r\n\r\n"),
    B("5\r\nhelloX\r\n0\r\n\r\n"),
    B("5\r\nhello\n0\r\n\r\n"),
    B("5\r\nhello\r0\r\n\r\n"),
    B("5\r\nhello0\r\n\r\n"),
    B("00000000000000005\r\nhello\r\n0\r\n\r\n"), /* 17 digits */
    B("10000000000000000\r\n"),                   /* 17 digits, overflow */
    B("5;\r\nhello\r\n0\r\n\r\n"),
    B("5;=x\r\nhello\r\n0\r\n\r\n"),
    B("5;a=\r\nhello\r\n0\r\n\r\n"),
    B("5;a=\"x\r\nhello\r\n0\r\n\r\n"),
    B("5;a=\"x\ry\"\r\nhello\r\n0\r\n\r\n"),
    B("5;a\rb\r\nhello\r\n0\r\n\r\n"),
    B("5;a=b c\r\nhello\r\n0\r\n\r\n"),
    B("5;a=b \r\nhello\r\n0\r\n\r\n"),
    B("5;a \r\nhello\r\n0\r\n\r\n"),
    B("5;a=\"b\" x\r\nhello\r\n0\r\n\r\n"),
    B("5;a=\"b\"x\r\nhello\r\n0\r\n\r\n"),
    B("5;a=@\r\nhello\r\n0\r\n\r\n"),
    B("5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n"),
    B("5;a\x00\r\nhello\r\n0\r\n\r\n"),
    B("5 x\r\nhello\r\n0\r\n\r\n"),
    B("5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n"),
    B("5\r\nhello\r\n0\r\ntransfer-encoding: chunked\r\n\r\n"),
    B("5\r\nhello\r\n0\r\nHost: evil\r\n\r\n"),
    B("5\r\nhello\r\n0\r\nAuthorization: x\r\n\r\n"),
    B("5\r\nhello\r\n0\r\nX: a\r\n b\r\n\r\n"),
    B("5\r\nhello\r\n0\r\n X: a\r\n\r\n"),
    B("5\r\nhello\r\n0\r\nX : a\r\n\r\n"),
    B("5\r\nhello\r\n0\r\nX: a\x00\r\n\r\n"),
    B("5\r\nhello\r\n0\r\nX: a\nY: b\r\n\r\n"),
    B("5\r\nhello\r\n0\r\nX: a\r\n\n"),
    B("5\r\nhello\r\n0\r\n\n"),
    B("5\r\nhello\r\n0\r\n\rX"),
    B("5\r\nhello\r\n0\r\nNoColon\r\n\r\n"),
    B("5;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nhello\r\n"),
};

Test(chunked, every_reject_rule)
{
    size_t i;

    for (i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
        result_t r;
        const char *in = bad_bodies[i].in;
        size_t len = bad_bodies[i].len;

        decode(in, len, 0, 0, &r);
        cr_assert_eq(r.rc, SRV_EPROTO, "case %zu should fail: rc %d", i, r.rc);
        cr_assert_not_null(r.why);
        /* ...and byte by byte too. */
        decode(in, len, 1, 0, &r);
        cr_assert_eq(r.rc, SRV_EPROTO, "case %zu byte by byte: rc %d", i, r.rc);
    }
}

Test(chunked, body_limit)
{
    srv_chunked_t c;
    size_t used, made;
    char out[64];
    const char *ok = "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n";
    const char *big = "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n";
    const char *huge = "ffffffffffffffff\r\n";

    srv_chunked_init(&c, 10, 64, 256);
    cr_assert_eq(srv_chunked_decode(&c, ok, strlen(ok), &used, out, sizeof(out), &made), 1);
    srv_chunked_init(&c, 10, 64, 256);
    cr_assert_eq(srv_chunked_decode(&c, big, strlen(big), &used, out, sizeof(out), &made),
                 SRV_ETOOLARGE);
    cr_assert_eq(made, 5, "the first chunk was delivered before the limit was hit");
    srv_chunked_init(&c, UINT64_MAX, 64, 256);
    cr_assert_eq(srv_chunked_decode(&c, huge, strlen(huge), &used, out, sizeof(out), &made), 0,
                 "16 digits are allowed when the limit allows them");
}

Test(chunked, trailer_section_limit)
{
    char in[600];
    size_t n, i;
    result_t r;

    n = (size_t)snprintf(in, sizeof(in), "0\r\n");
    for (i = 0; i < 20; i++)
        n += (size_t)snprintf(in + n, sizeof(in) - n, "X-T%zu: vvvvvvvvvvv\r\n", i);
    snprintf(in + n, sizeof(in) - n, "\r\n");
    decode_s(in, &r);
    cr_assert_eq(r.rc, SRV_EPROTO);
}

Test(chunked, stays_failed)
{
    srv_chunked_t c;
    size_t used, made;
    char out[8];

    srv_chunked_init(&c, MAXB, 64, 256);
    cr_assert_eq(srv_chunked_decode(&c, "x", 1, &used, out, sizeof(out), &made), SRV_EPROTO);
    cr_assert_eq(srv_chunked_decode(&c, "0\r\n\r\n", 5, &used, out, sizeof(out), &made),
                 SRV_EPROTO);
}
