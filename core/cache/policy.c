/* policy.c: `cache`: the rules of RFC 9111 for a shared cache that stores
 * only what the app marks for one. Whatever is unclear is not stored or
 * not answered from the cache: the app answers, as without `cache`. */
#include "cache/policy.h"

#include <string.h>

#include "http/chars.h"
#include "util/num.h"

int srv_cache_delta_seconds(const char *p, size_t len, int64_t *out)
{
    /* Above the cap is the cap (RFC 9111 1.2.2). */
    return srv_parse_decimal_n(p, len, 2147483648LL, out) < 0 ? -1 : 0;
}

/* One directive of a Cache-Control list: its name and its value (without
 * the quotes of a quoted-string; NULL when it has none). */
typedef struct directive_s {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} directive_t;

static void split_directive(const char *el, size_t n, directive_t *d)
{
    const char *eq = memchr(el, '=', n);

    d->name = el;
    d->name_len = eq != NULL ? (size_t)(eq - el) : n;
    d->value = NULL;
    d->value_len = 0;
    if (eq != NULL) {
        d->value = eq + 1;
        d->value_len = n - d->name_len - 1;
        if (d->value_len >= 2 && d->value[0] == '"' && d->value[d->value_len - 1] == '"') {
            d->value++;
            d->value_len -= 2;
        }
    }
}

static int named(const srv_header_t *h, const char *lname)
{
    return srv_http_ieq(h->name.p, h->name.len, lname);
}

static int is_directive(const directive_t *d, const char *lname)
{
    return srv_http_ieq(d->name, d->name_len, lname);
}

unsigned srv_cache_request(const srv_request_t *v, int64_t *max_age)
{
    unsigned bits;
    int has_cc = 0, pragma_no_cache = 0;
    size_t i;

    *max_age = -1;
    if (v->method.len == 3 && memcmp(v->method.p, "GET", 3) == 0)
        bits = SRV_CACHE_LOOKUP | SRV_CACHE_STORE;
    else if (v->method.len == 4 && memcmp(v->method.p, "HEAD", 4) == 0)
        bits = SRV_CACHE_LOOKUP;
    else
        return 0;
    for (i = 0; i < v->nheaders; i++) {
        const srv_header_t *h = &v->headers[i];
        size_t pos = 0, n;
        const char *el;

        if (named(h, "authorization"))
            return 0;
        if (named(h, "pragma")) {
            while (srv_http_list_next(h->value.p, h->value.len, &pos, &el, &n))
                pragma_no_cache |= srv_http_ieq(el, n, "no-cache");
            continue;
        }
        if (!named(h, "cache-control"))
            continue;
        has_cc = 1;
        while (srv_http_list_next(h->value.p, h->value.len, &pos, &el, &n)) {
            directive_t d;
            int64_t secs;

            split_directive(el, n, &d);
            if (is_directive(&d, "no-store"))
                return 0;
            if (is_directive(&d, "only-if-cached")) {
                bits |= SRV_CACHE_ONLY_CACHED;
            } else if (is_directive(&d, "no-cache")) {
                bits &= ~(unsigned)SRV_CACHE_LOOKUP;
            } else if (is_directive(&d, "max-age")) {
                /* A bad one asks for a response of no age at all. */
                if (d.value == NULL || srv_cache_delta_seconds(d.value, d.value_len, &secs) != 0)
                    secs = 0;
                if (*max_age < 0 || secs < *max_age)
                    *max_age = secs;
            }
        }
    }
    if (pragma_no_cache && !has_cc)
        bits &= ~(unsigned)SRV_CACHE_LOOKUP;
    if (*max_age == 0)
        bits &= ~(unsigned)SRV_CACHE_LOOKUP;
    return bits;
}

int srv_cache_method_unsafe(const char *m, size_t len)
{
    static const char *const safe[] = {"GET", "HEAD", "OPTIONS", "TRACE"};
    size_t i;

    for (i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
        if (len == strlen(safe[i]) && memcmp(m, safe[i], len) == 0)
            return 0;
    return 1;
}

/* The statuses a cache may store without more than a lifetime (RFC 9110
 * 15.1, "heuristically cacheable"); srv keeps to them. */
static int status_cacheable(int status)
{
    switch (status) {
    case 200:
    case 203:
    case 204:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
        return 1;
    default:
        return 0;
    }
}

/* What the Cache-Control values of a response say. */
typedef struct response_cc_s {
    int64_t smax, max, swr, sie; /* -1: not given */
    int pub, revalidate, swr_bad, sie_bad;
} response_cc_t;

/* Reads the value of a stale-* directive into *secs; *bad is set when it
 * is given twice or without a number (then no stale answers, but the
 * response is as clear as without it). */
static void read_stale(const directive_t *d, int64_t *secs, int *bad)
{
    *bad |= *secs >= 0 || d->value == NULL ||
            srv_cache_delta_seconds(d->value, d->value_len, secs) != 0;
}

/* Reads one Cache-Control value into *cc. Returns -1 when the response
 * must not be stored. */
static int read_cache_control(const srv_str_t *value, response_cc_t *cc)
{
    size_t pos = 0, n;
    const char *el;

    while (srv_http_list_next(value->p, value->len, &pos, &el, &n)) {
        directive_t d;
        int64_t *slot = NULL;

        if (n == 0)
            continue;
        split_directive(el, n, &d);
        if (is_directive(&d, "no-store") || is_directive(&d, "no-cache") ||
            is_directive(&d, "private"))
            return -1;
        if (is_directive(&d, "public")) {
            cc->pub = 1;
        } else if (is_directive(&d, "s-maxage")) {
            slot = &cc->smax;
        } else if (is_directive(&d, "max-age")) {
            slot = &cc->max;
        } else if (is_directive(&d, "must-revalidate") || is_directive(&d, "proxy-revalidate")) {
            cc->revalidate = 1;
        } else if (is_directive(&d, "stale-while-revalidate")) {
            read_stale(&d, &cc->swr, &cc->swr_bad);
        } else if (is_directive(&d, "stale-if-error")) {
            read_stale(&d, &cc->sie, &cc->sie_bad);
        }
        if (slot == NULL)
            continue; /* other directives do not concern a shared cache that stores */
        if (*slot >= 0 || d.value == NULL ||
            srv_cache_delta_seconds(d.value, d.value_len, slot) != 0)
            return -1; /* twice, or no number: unclear (RFC 9111 4.2.1) */
    }
    return 0;
}

/* Counts the names of a Vary value; -1 for "*". */
static int vary_names(const srv_str_t *value)
{
    size_t pos = 0, n;
    const char *el;
    int count = 0;

    while (srv_http_list_next(value->p, value->len, &pos, &el, &n)) {
        if (n == 1 && el[0] == '*')
            return -1;
        if (n > 0)
            count++;
    }
    return count;
}

int64_t srv_cache_lifetime(int status, const srv_header_t *h, size_t n, srv_cache_life_t *life)
{
    response_cc_t cc = {-1, -1, -1, -1, 0, 0, 0, 0};
    int nvary = 0, has_cc = 0;
    size_t i;

    life->fresh = -1;
    life->age = 0;
    life->stale = 0;
    life->error = 0;
    if (!status_cacheable(status))
        return -1;
    for (i = 0; i < n; i++) {
        if (named(&h[i], "cache-control")) {
            has_cc = 1;
            if (read_cache_control(&h[i].value, &cc) != 0)
                return -1;
        } else if (named(&h[i], "set-cookie")) {
            return -1;
        } else if (named(&h[i], "vary")) {
            int k = vary_names(&h[i].value);

            if (k < 0)
                return -1;
            nvary += k;
        } else if (named(&h[i], "age")) {
            if (srv_cache_delta_seconds(h[i].value.p, h[i].value.len, &life->age) != 0)
                return -1;
        }
    }
    if (!has_cc || nvary > SRV_CACHE_VARY_MAX)
        return -1;
    if (cc.smax >= 0)
        life->fresh = cc.smax;
    else if (cc.pub && cc.max >= 0)
        life->fresh = cc.max;
    else
        return -1;
    life->fresh -= life->age;
    if (life->fresh <= 0) {
        life->fresh = -1;
        return -1;
    }
    if (cc.swr > 0 && !cc.swr_bad && !cc.revalidate)
        life->stale = cc.swr;
    if (cc.sie > 0 && !cc.sie_bad && !cc.revalidate)
        life->error = cc.sie;
    return life->fresh;
}
