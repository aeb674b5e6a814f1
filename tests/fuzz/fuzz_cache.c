/* libFuzzer target: what `cache` reads from the app's response headers and
 * from the request.
 *
 * The input is split at '\n' into a Cache-Control, a Vary and an Age value
 * of a response, a request's Cache-Control, its Accept-Language (which the
 * response may vary on), an If-None-Match, and its path. A lifetime is -1
 * or within (0, 2^31]. The request is looked up in a small store that
 * lives across inputs (so eviction, variants and markers get exercised);
 * if it is to (re)fill its entry, the response (if it may be kept) is captured
 * and stored before the fill ends. A hit answers with a head within
 * srv_cache_head_max() bytes, and the store keeps to its bytes. An answer
 * holds its entry while the store may drop it. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PARTS 7

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static srv_cache_t *store;
    static uint64_t now;
    const char *p = (const char *)data, *end = p + size;
    srv_str_t part[PARTS];
    srv_header_t resp[4], req[4];
    srv_request_t v;
    srv_cache_entry_t *e;
    srv_cache_entry_t *hit, *fill;
    srv_cache_life_t life;
    int64_t fresh, max_age;
    unsigned bits;
    int outcome;
    size_t i;

    if (store == NULL)
        store = srv_cache_new(64 * 1024);
    for (i = 0; i < PARTS; i++) {
        const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        const char *stop = nl ? nl : end;

        part[i].p = p < end ? p : "";
        part[i].len = p < end ? (size_t)(stop - p) : 0;
        p = nl ? nl + 1 : end;
    }
    resp[0] = (srv_header_t){{"Cache-Control", 13}, part[0]};
    resp[1] = (srv_header_t){{"Vary", 4}, part[1]};
    resp[2] = (srv_header_t){{"Age", 3}, part[2]};
    resp[3] = (srv_header_t){{"ETag", 4}, {"W/\"e\"", 5}};
    req[0] = (srv_header_t){{"Cache-Control", 13}, part[3]};
    req[1] = (srv_header_t){{"Accept-Language", 15}, part[4]};
    req[2] = (srv_header_t){{"If-None-Match", 13}, part[5]};
    req[3] = (srv_header_t){{"Pragma", 6}, part[3]};
    memset(&v, 0, sizeof(v));
    v.method.p = "GET";
    v.method.len = 3;
    v.path = part[6];
    v.host.p = "h";
    v.host.len = 1;
    v.url_scheme = "http";
    v.version_minor = size % 2;
    v.headers = req;
    v.nheaders = part[5].len > 0 ? 4 : 2;

    fresh = srv_cache_lifetime(200, resp, part[2].len > 0 ? 4 : 2, &life);
    assert(fresh == -1 || (fresh > 0 && fresh <= 2147483648LL));
    assert(fresh == life.fresh && life.stale >= 0 && life.stale <= 2147483648LL);
    bits = srv_cache_request(&v, &max_age);
    assert(max_age >= -1 && max_age <= 2147483648LL);
    now += 100;
    /* The request looks first; if it is to make the entry (REFILL), the
     * response below is its app's, and the fill ends after it. */
    outcome = SRV_CACHE_MISS;
    hit = (bits & SRV_CACHE_LOOKUP)
              ? srv_cache_lookup(store, &v, max_age, now, (bits & SRV_CACHE_STORE) != 0, &outcome)
              : NULL;
    assert((hit == NULL) == (outcome == SRV_CACHE_MISS));
    fill = outcome == SRV_CACHE_FILL || outcome == SRV_CACHE_REFILL ? hit : NULL;
    if (outcome != SRV_CACHE_HIT && outcome != SRV_CACHE_STALE && outcome != SRV_CACHE_STALE_ERROR)
        hit = NULL;
    if (fill != NULL)
        srv_cache_entry_hold(fill);
    if (hit != NULL)
        srv_cache_entry_hold(hit); /* as an answer being sent does */
    if (fresh > 0 && (bits & SRV_CACHE_STORE)) {
        e = srv_cache_capture_start(&v, 200, "OK", resp, 4, &life, srv_cache_entry_max(store));
        if (e != NULL && srv_cache_capture_body(e, data, size) != 0) {
            srv_cache_entry_free(e);
            e = NULL;
        }
        if (e != NULL)
            srv_cache_insert(store, e, now);
    }
    if (fill != NULL) {
        srv_cache_refill_done(store, fill, now, size % 11 == 0);
        srv_cache_entry_release(fill);
    }
    assert(srv_cache_bytes(store) <= 64 * 1024);
    if (hit != NULL) {
        size_t max = srv_cache_head_max(hit);
        char *out = malloc(max);
        srv_cache_answer_t a;

        assert(out != NULL);
        srv_cache_answer(hit, &v, size % 3 == 0, size % 5 != 0, now, out, &a);
        assert(a.head_len <= max);
        assert(a.status == 200 || a.status == 304);
        assert((a.body == NULL) == (a.body_bytes == 0) && a.body_bytes <= 64 * 1024);
        free(out);
    }
    if (size % 7 == 0)
        srv_cache_invalidate(store, &v); /* the held entry outlives it */
    if (hit != NULL)
        srv_cache_entry_release(hit);
    return 0;
}
