/* libFuzzer target: what `static` reads from a request.
 *
 * The path: whatever it is, a file it maps to lies under the mount's
 * directory: the rest holds no "." or ".." segment (nor any segment that
 * starts with '.'), no empty segment, no '\\', ':' or control byte, no
 * name that ends with '.' or ' ', and it fits the room. The first byte of the input picks the room.
 *
 * The same bytes as an If-Modified-Since date: one that parses is a time
 * that formats and parses back to itself. As an Accept-Encoding value:
 * read within its bounds (ASan). As a Range: a range given lies within
 * the file (the first byte picks its size). */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "http/date.h"
#include "static/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const srv_static_mount_t m[] = {
        {"/", 1, "/r", 2},
        {"/s", 2, "/srv/s", 6},
        {"/s/t", 4, "C:\\t", 4},
    };
    char out[300];
    size_t cap, o, rl;
    int k;

    int64_t t, back;

    if (size < 1)
        return 0;
    if (srv_http_date_parse((const char *)data + 1, size - 1, &t) == 0 && t >= 0 &&
        t < 253402300800) { /* before year 10000, which the format writes */
        char s[SRV_HTTP_DATE_LEN];

        srv_http_date_format(t, s);
        assert(srv_http_date_parse(s, sizeof(s), &back) == 0 && back == t);
    }
    (void)srv_static_accepts((const char *)data + 1, size - 1, "gzip");
    {
        int64_t off = -1, n = -1, fsize = data[0] * 1000;
        int r = srv_static_range((const char *)data + 1, size - 1, fsize, &off, &n);

        /* A range given lies within the file and is not empty. */
        assert(r != 1 || (off >= 0 && n > 0 && off + n <= fsize));
    }
    cap = 1 + data[0] % sizeof(out);
    k = srv_static_map(m, 3, (const char *)data + 1, size - 1, out, cap);
    if (k < 0)
        return 0;
    assert(k < 3);
    rl = m[k].root_len;
    o = strlen(out);
    assert(o < cap);
    assert(memcmp(out, m[k].root, rl) == 0);
    assert(o > rl + 1 && out[rl] == '/' && out[o - 1] != '/');
    for (size_t i = rl; i < o; i++) {
        unsigned char c = (unsigned char)out[i];

        assert(c >= 0x20 && c != 0x7f && c != '\\' && c != ':');
        if (c == '/')
            assert(out[i + 1] != '/' && out[i + 1] != '.' && out[i + 1] != '\0');
        if (c == '/' && i > rl) /* no name that Windows would shorten */
            assert(out[i - 1] != '.' && out[i - 1] != ' ');
    }
    assert(out[o - 1] != '.' && out[o - 1] != ' ');
    /* The prefix matched whole segments. */
    assert(size - 1 > m[k].prefix_len);
    assert(memcmp(data + 1, m[k].prefix, m[k].prefix_len) == 0);
    return 0;
}
