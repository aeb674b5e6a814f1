/* libFuzzer target: the request-head parser.
 *
 * Invariants checked on every input:
 *  - a complete head's length is within the input, and every slice the
 *    parser returns lies inside that head;
 *  - a rejection names a status srv knows and a reason;
 *  - the result does not depend on where the input was split. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "http/parser.h"

#define MAXF 32

static const srv_http_limits_t lim = {
    .max_line = 512, .max_field = 512, .max_fields = MAXF, .max_head = 4096};

static void in_head(srv_str_t s, const char *b, int n)
{
    if (s.len == 0)
        return;
    assert(s.p >= b && s.p + s.len <= b + n);
}

static int parse(const char *b, size_t size, size_t split, srv_http_head_t *h, srv_header_t *hdrs)
{
    srv_http_scan_t st;
    int rc;

    memset(&st, 0, sizeof(st));
    memset(h, 0, sizeof(*h));
    h->headers = hdrs;
    rc = SRV_EAGAIN;
    if (split > 0 && split < size)
        rc = srv_http_parse_request(&st, b, split, &lim, h);
    if (rc == SRV_EAGAIN)
        rc = srv_http_parse_request(&st, b, size, &lim, h);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *b = (const char *)data;
    srv_header_t hdrs[MAXF], hdrs2[MAXF];
    srv_http_head_t h, h2;
    size_t i;
    int rc, rc2;

    rc = parse(b, size, 0, &h, hdrs);
    if (rc > 0) {
        assert((size_t)rc <= size);
        assert(h.head_len == (size_t)rc);
        assert(h.nheaders <= MAXF);
        assert(h.method.len > 0);
        assert(h.version_minor == 0 || h.version_minor == 1);
        assert(h.content_length >= -1);
        in_head(h.method, b, rc);
        in_head(h.target, b, rc);
        in_head(h.path, b, rc);
        in_head(h.query, b, rc);
        in_head(h.host, b, rc);
        for (i = 0; i < h.nheaders; i++) {
            assert(h.headers[i].name.len > 0);
            in_head(h.headers[i].name, b, rc);
            in_head(h.headers[i].value, b, rc);
            assert(memchr(h.headers[i].name.p, '_', h.headers[i].name.len) == NULL);
            assert(memchr(h.headers[i].value.p, '\r', h.headers[i].value.len) == NULL);
            assert(memchr(h.headers[i].value.p, '\n', h.headers[i].value.len) == NULL);
            assert(memchr(h.headers[i].value.p, '\0', h.headers[i].value.len) == NULL);
        }
        if (h.flags & SRV_HEAD_CHUNKED)
            assert(h.content_length == -1 && h.version_minor == 1);
    } else if (rc == SRV_EPROTO) {
        assert(h.why != NULL);
        assert(h.status == 400 || h.status == 414 || h.status == 417 || h.status == 431 ||
               h.status == 501 || h.status == 505);
    } else {
        assert(rc == SRV_EAGAIN);
    }

    /* The same bytes in two pieces give the same answer. */
    if (size > 1) {
        rc2 = parse(b, size, (size_t)data[0] % size, &h2, hdrs2);
        assert(rc2 == rc);
        if (rc == SRV_EPROTO)
            assert(h2.status == h.status);
        if (rc > 0) {
            assert(h2.nheaders == h.nheaders);
            assert(h2.content_length == h.content_length);
            assert(h2.flags == h.flags);
        }
    }
    return 0;
}
