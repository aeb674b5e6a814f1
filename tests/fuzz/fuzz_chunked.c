/* libFuzzer target: the chunked-body decoder.
 *
 * The first two bytes choose how the input is cut and how small the output
 * window is; the result (status, decoded bytes, bytes consumed) must be the
 * same however it is cut, decoding in place must give the same bytes, and
 * the decoder never makes more bytes than it read. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/chunked.h"
#include "srv.h"

typedef struct out_s {
    int rc;
    size_t consumed, produced;
    char *buf;
} out_t;

static void run(const char *in, size_t len, size_t step, size_t win, out_t *o)
{
    srv_chunked_t c;
    size_t pos = 0;

    srv_chunked_init(&c, 1 << 20, 128, 1024);
    o->buf = malloc(len + 1);
    o->produced = 0;
    o->rc = 0;
    for (;;) {
        size_t avail = len - pos < step ? len - pos : step, used = 0, made = 0;
        size_t room = len - o->produced < win ? len - o->produced : win;

        o->rc = srv_chunked_decode(&c, in + pos, avail, &used, o->buf + o->produced, room, &made);
        assert(used <= avail && made <= room);
        assert(made <= used);
        pos += used;
        o->produced += made;
        if (o->rc != 0)
            break;
        if (used == 0 && made == 0 && (avail == 0 || pos == len))
            break;
        if (used == 0 && made == 0 && room > 0 && avail == step)
            break; /* stalled with room and input: must not happen */
    }
    o->consumed = pos;
    if (o->rc == 1)
        assert(srv_chunked_done(&c));
    if (o->rc < 0)
        assert(c.why != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in;
    size_t len, step, win;
    out_t whole, cut;
    char *copy;

    if (size < 2)
        return 0;
    step = data[0] % 16 + 1;
    win = data[1] % 8 + 1;
    in = (const char *)data + 2;
    len = size - 2;

    run(in, len, len ? len : 1, len ? len : 1, &whole);
    run(in, len, step, win, &cut);
    assert(whole.rc == cut.rc || (whole.rc == 0 && cut.rc == 0));
    if (whole.rc != 0) {
        assert(cut.produced == whole.produced);
        assert(memcmp(cut.buf, whole.buf, whole.produced) == 0);
        if (whole.rc == 1)
            assert(cut.consumed == whole.consumed);
    }

    /* In place. */
    copy = malloc(len + 1);
    memcpy(copy, in, len);
    {
        srv_chunked_t c;
        size_t used = 0, made = 0;
        int rc;

        srv_chunked_init(&c, 1 << 20, 128, 1024);
        rc = srv_chunked_decode(&c, copy, len, &used, copy, len, &made);
        assert(rc == whole.rc);
        assert(made == whole.produced);
        assert(memcmp(copy, whole.buf, made) == 0);
    }
    free(copy);
    free(whole.buf);
    free(cut.buf);
    return 0;
}
