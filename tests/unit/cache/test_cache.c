/* Unit tests of core/cache: which requests may use the cache and which
 * responses it keeps (policy.c), and the store: keys, Vary, expiry, Age,
 * 304s, invalidation and the bound on its bytes (cache.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cache/cache.h"
#include "cache/policy.h"

#define S(lit)                                                                                     \
    {                                                                                              \
        lit, sizeof(lit) - 1                                                                       \
    }
#define NOSTR                                                                                      \
    {                                                                                              \
        NULL, 0                                                                                    \
    }

/* A request: method, path, query (NULL for none) and up to 4 headers
 * given as "name", "value" pairs. */
typedef struct req_s {
    srv_request_t v;
    srv_header_t h[4];
} req_t;

static void make_req(req_t *r, const char *method, const char *path, const char *query,
                     const char *const *hdrs, size_t nh)
{
    size_t i;

    memset(r, 0, sizeof(*r));
    r->v.method.p = method;
    r->v.method.len = strlen(method);
    r->v.path.p = path;
    r->v.path.len = strlen(path);
    r->v.query.p = query;
    r->v.query.len = query ? strlen(query) : 0;
    r->v.host.p = "Example.org";
    r->v.host.len = 11;
    r->v.url_scheme = "http";
    r->v.version_minor = 1;
    for (i = 0; i < nh; i++) {
        r->h[i].name.p = hdrs[2 * i];
        r->h[i].name.len = strlen(hdrs[2 * i]);
        r->h[i].value.p = hdrs[2 * i + 1];
        r->h[i].value.len = strlen(hdrs[2 * i + 1]);
    }
    r->v.headers = r->h;
    r->v.nheaders = nh;
}

static unsigned request_bits(const char *method, const char *name, const char *value,
                             int64_t *max_age)
{
    const char *hdrs[] = {name, value};
    req_t r;

    make_req(&r, method, "/", NULL, hdrs, name ? 1 : 0);
    return srv_cache_request(&r.v, max_age);
}

Test(cache_policy, get_may_use_and_fill_the_cache_head_only_use_it_others_neither)
{
    int64_t ma;

    cr_assert_eq(request_bits("GET", NULL, NULL, &ma), SRV_CACHE_LOOKUP | SRV_CACHE_STORE);
    cr_assert_eq(ma, -1);
    cr_assert_eq(request_bits("HEAD", NULL, NULL, &ma), SRV_CACHE_LOOKUP);
    cr_assert_eq(request_bits("POST", NULL, NULL, &ma), 0);
    cr_assert_eq(request_bits("OPTIONS", NULL, NULL, &ma), 0);
    cr_assert_eq(request_bits("get", NULL, NULL, &ma), 0, "methods are case-sensitive");
}

Test(cache_policy, request_directives)
{
    int64_t ma;

    cr_assert_eq(request_bits("GET", "Authorization", "Basic eDp5", &ma), 0);
    cr_assert_eq(request_bits("GET", "Cache-Control", "no-store", &ma), 0);
    cr_assert_eq(request_bits("GET", "cache-control", "max-age=5, No-Cache", &ma), SRV_CACHE_STORE);
    cr_assert_eq(request_bits("GET", "Cache-Control", "max-age=0", &ma), SRV_CACHE_STORE);
    cr_assert_eq(request_bits("GET", "Cache-Control", "max-age=30", &ma),
                 SRV_CACHE_LOOKUP | SRV_CACHE_STORE);
    cr_assert_eq(ma, 30);
    cr_assert_eq(request_bits("GET", "Cache-Control", "max-age=x", &ma), SRV_CACHE_STORE,
                 "a bad max-age asks for a fresh answer");
    cr_assert_eq(request_bits("GET", "Pragma", "no-cache", &ma), SRV_CACHE_STORE);
    cr_assert_eq(request_bits("GET", "Cache-Control", "max-stale", &ma),
                 SRV_CACHE_LOOKUP | SRV_CACHE_STORE);
    cr_assert_eq(request_bits("HEAD", "Cache-Control", "only-if-cached", &ma),
                 SRV_CACHE_LOOKUP | SRV_CACHE_ONLY_CACHED);
}

Test(cache_policy, pragma_counts_only_without_cache_control)
{
    const char *hdrs[] = {"Pragma", "no-cache", "Cache-Control", "max-age=60"};
    int64_t ma;
    req_t r;

    make_req(&r, "GET", "/", NULL, hdrs, 2);
    cr_assert_eq(srv_cache_request(&r.v, &ma), SRV_CACHE_LOOKUP | SRV_CACHE_STORE);
}

Test(cache_policy, unsafe_methods)
{
    cr_assert(srv_cache_method_unsafe("POST", 4));
    cr_assert(srv_cache_method_unsafe("DELETE", 6));
    cr_assert(srv_cache_method_unsafe("PURGE", 5), "a method of unknown safety is unsafe");
    cr_assert_not(srv_cache_method_unsafe("GET", 3));
    cr_assert_not(srv_cache_method_unsafe("HEAD", 4));
    cr_assert_not(srv_cache_method_unsafe("OPTIONS", 7));
}

/* The lifetime of a 200 with one header name: value (or none). */
static int64_t life1(int status, const char *name, const char *value)
{
    srv_header_t h[2] = {{S("Content-Type"), S("text/html")}};
    srv_cache_life_t life;

    if (name != NULL) {
        h[1].name.p = name;
        h[1].name.len = strlen(name);
        h[1].value.p = value;
        h[1].value.len = strlen(value);
    }
    return srv_cache_lifetime(status, h, name ? 2 : 1, &life);
}

Test(cache_policy, only_what_the_app_marks_for_a_shared_cache_is_kept)
{
    cr_assert_eq(life1(200, "Cache-Control", "s-maxage=30"), 30);
    cr_assert_eq(life1(200, "Cache-Control", "public, max-age=60"), 60);
    cr_assert_eq(life1(200, "Cache-Control", "max-age=60, public, must-revalidate"), 60);
    cr_assert_eq(life1(200, "Cache-Control", "max-age=60, s-maxage=5"), 5, "s-maxage wins");
    cr_assert_eq(life1(200, "Cache-Control", "\"public\", max-age=\"60\""), -1,
                 "a quoted directive name is no directive");
    cr_assert_eq(life1(200, "cache-control", "PUBLIC, MAX-AGE=\"60\""), 60);
    cr_assert_eq(life1(200, NULL, NULL), -1, "no Cache-Control: not kept");
    cr_assert_eq(life1(200, "Cache-Control", "max-age=60"), -1, "a browser's max-age only");
    cr_assert_eq(life1(200, "Cache-Control", "public"), -1, "no lifetime");
    cr_assert_eq(life1(200, "Cache-Control", "public, max-age=0"), -1);
    cr_assert_eq(life1(200, "Expires", "Thu, 01 Dec 2050 16:00:00 GMT"), -1);
}

Test(cache_policy, what_is_never_kept)
{
    cr_assert_eq(life1(200, "Cache-Control", "s-maxage=30, private"), -1);
    cr_assert_eq(life1(200, "Cache-Control", "s-maxage=30, no-store"), -1);
    cr_assert_eq(life1(200, "Cache-Control", "s-maxage=30, no-cache"), -1);
    cr_assert_eq(life1(200, "Cache-Control", "s-maxage=30, no-cache=\"Set-Cookie\""), -1);
    cr_assert_eq(life1(200, "Cache-Control", "s-maxage=30, s-maxage=40"), -1, "given twice");
    cr_assert_eq(life1(200, "Cache-Control", "s-maxage=3x"), -1);
    cr_assert_eq(life1(200, "Cache-Control", "s-maxage=-3"), -1);
    cr_assert_eq(life1(200, "Cache-Control", "s-maxage"), -1);
    cr_assert_eq(life1(201, "Cache-Control", "s-maxage=30"), -1);
    cr_assert_eq(life1(302, "Cache-Control", "s-maxage=30"), -1);
    cr_assert_eq(life1(500, "Cache-Control", "s-maxage=30"), -1);
    cr_assert_eq(life1(404, "Cache-Control", "s-maxage=30"), 30);
    cr_assert_eq(life1(301, "Cache-Control", "s-maxage=30"), 30);
}

Test(cache_policy, stale_while_revalidate_and_stale_if_error)
{
    srv_header_t h[2] = {{S("Content-Type"), S("text/html")}, {S("Cache-Control"), NOSTR}};
    static const struct {
        const char *cc;
        int64_t fresh, stale, error;
    } cases[] = {
        {"s-maxage=5, stale-while-revalidate=30", 5, 30, 0},
        {"public, max-age=5, stale-while-revalidate=\"30\"", 5, 30, 0},
        {"public, max-age=5", 5, 0, 0},
        {"s-maxage=5, stale-while-revalidate=0", 5, 0, 0},
        {"s-maxage=5, stale-while-revalidate=30, must-revalidate", 5, 0, 0},
        {"s-maxage=5, proxy-revalidate, stale-while-revalidate=30", 5, 0, 0},
        {"s-maxage=5, stale-while-revalidate=30, stale-while-revalidate=30", 5, 0, 0},
        {"s-maxage=5, stale-while-revalidate", 5, 0, 0},
        {"s-maxage=5, stale-while-revalidate=x", 5, 0, 0},
        {"max-age=5, stale-while-revalidate=30", -1, 0, 0},
        {"s-maxage=5, stale-if-error=600", 5, 0, 600},
        {"public, max-age=5, stale-while-revalidate=30, stale-if-error=600", 5, 30, 600},
        {"s-maxage=5, stale-if-error=600, must-revalidate", 5, 0, 0},
        {"s-maxage=5, stale-if-error=600, stale-if-error=60", 5, 0, 0},
        {"s-maxage=5, stale-if-error=-1", 5, 0, 0},
    };
    srv_cache_life_t life;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        h[1].value.p = cases[i].cc;
        h[1].value.len = strlen(cases[i].cc);
        cr_assert_eq(srv_cache_lifetime(200, h, 2, &life), cases[i].fresh, "%s", cases[i].cc);
        cr_assert_eq(life.fresh, cases[i].fresh, "%s", cases[i].cc);
        cr_assert_eq(life.stale, cases[i].stale, "%s", cases[i].cc);
        cr_assert_eq(life.error, cases[i].error, "%s", cases[i].cc);
    }
}

Test(cache_policy, set_cookie_vary_star_and_age)
{
    srv_header_t cookie[] = {{S("Cache-Control"), S("s-maxage=30")}, {S("Set-Cookie"), S("a=b")}};
    srv_header_t star[] = {{S("Vary"), S("Accept-Encoding, *")},
                           {S("Cache-Control"), S("s-maxage=30")}};
    srv_header_t aged[] = {{S("Cache-Control"), S("s-maxage=30")}, {S("Age"), S("10")}};
    srv_header_t old[] = {{S("Cache-Control"), S("s-maxage=30")}, {S("Age"), S("30")}};
    srv_header_t many[] = {{S("Cache-Control"), S("s-maxage=30")},
                           {S("Vary"), S("a, b, c, d, e")},
                           {S("Vary"), S("f, g, h, i")}};
    srv_header_t eight[] = {{S("Cache-Control"), S("s-maxage=30")},
                            {S("Vary"), S("a, b, c, d, e")},
                            {S("Vary"), S("f, g, h")}};
    srv_cache_life_t life;

    cr_assert_eq(srv_cache_lifetime(200, cookie, 2, &life), -1);
    cr_assert_eq(srv_cache_lifetime(200, star, 2, &life), -1);
    cr_assert_eq(srv_cache_lifetime(200, aged, 2, &life), 20);
    cr_assert_eq(life.age, 10);
    cr_assert_eq(srv_cache_lifetime(200, old, 2, &life), -1);
    cr_assert_eq(srv_cache_lifetime(200, many, 3, &life), -1);
    cr_assert_eq(srv_cache_lifetime(200, eight, 3, &life), 30);
}

Test(cache_policy, delta_seconds)
{
    int64_t v;

    cr_assert_eq(srv_cache_delta_seconds("0", 1, &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(srv_cache_delta_seconds("99999999999999999999999", 23, &v), 0);
    cr_assert_eq(v, 2147483648LL, "capped at 2^31");
    cr_assert_eq(srv_cache_delta_seconds("", 0, &v), -1);
    cr_assert_eq(srv_cache_delta_seconds("+5", 2, &v), -1);
    cr_assert_eq(srv_cache_delta_seconds("5 ", 2, &v), -1);
}

/* ---- The store ---- */

/* Captures a 200 for r with the given Cache-Control and body, plus one
 * more header (or none). */
static srv_cache_entry_t *capture(const req_t *r, const char *cc, const char *name,
                                  const char *value, const char *body, size_t max)
{
    srv_header_t h[3] = {{S("Content-Type"), S("text/plain")}, {S("Cache-Control"), NOSTR}};
    srv_cache_entry_t *e;
    size_t n = 2;
    srv_cache_life_t life;

    h[1].value.p = cc;
    h[1].value.len = strlen(cc);
    if (name != NULL) {
        h[2].name.p = name;
        h[2].name.len = strlen(name);
        h[2].value.p = value;
        h[2].value.len = strlen(value);
        n = 3;
    }
    cr_assert_gt(srv_cache_lifetime(200, h, n, &life), 0);
    e = srv_cache_capture_start(&r->v, 200, "OK", h, n, &life, max);
    if (e != NULL && srv_cache_capture_body(e, body, strlen(body)) != 0) {
        srv_cache_entry_free(e);
        return NULL;
    }
    return e;
}

/* The answer to r from c at now, as a string (static buffer), or NULL. */
static const char *answer(srv_cache_t *c, const req_t *r, uint64_t now)
{
    static char out[16384];
    int outcome;
    srv_cache_entry_t *e = srv_cache_lookup(c, &r->v, -1, now, 0, &outcome);
    srv_cache_answer_t a;

    cr_assert_eq(e == NULL, outcome == SRV_CACHE_MISS);
    if (e == NULL)
        return NULL;
    cr_assert(outcome == SRV_CACHE_HIT || outcome == SRV_CACHE_STALE ||
              outcome == SRV_CACHE_STALE_ERROR);
    cr_assert_lt(srv_cache_head_max(e), sizeof(out) / 2);
    srv_cache_answer(e, &r->v, r->v.method.len == 4, 1, now, out, &a);
    cr_assert_leq(a.head_len, srv_cache_head_max(e));
    cr_assert_lt(a.head_len + (size_t)a.body_bytes, sizeof(out));
    cr_assert_eq(a.body == NULL, a.body_bytes == 0);
    memcpy(out + a.head_len, a.body ? a.body : "", (size_t)a.body_bytes);
    out[a.head_len + (size_t)a.body_bytes] = '\0';
    return out;
}

Test(cache_store, an_entry_answers_its_url_until_it_expires_with_its_age)
{
    srv_cache_t *c = srv_cache_new(1 << 20);
    req_t r, other, q, host;
    const char *s;

    make_req(&r, "GET", "/page", "a=1", NULL, 0);
    make_req(&other, "GET", "/page", NULL, NULL, 0);
    make_req(&q, "GET", "/page", "a=2", NULL, 0);
    srv_cache_insert(c, capture(&r, "s-maxage=10", NULL, NULL, "hello", 1 << 17), 1000);
    cr_assert_eq(srv_cache_count(c), 1);
    s = answer(c, &r, 3500);
    cr_assert_not_null(s);
    cr_assert(strncmp(s, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n", 43) == 0, "%s", s);
    cr_assert_not_null(strstr(s, "\r\nCache-Control: s-maxage=10\r\n"), "%s", s);
    cr_assert_not_null(strstr(s, "\r\nDate: "), "%s", s);
    cr_assert_not_null(strstr(s, "\r\nAge: 2\r\n"), "%s", s);
    cr_assert_not_null(strstr(s, "\r\nContent-Length: 5\r\n\r\nhello"), "%s", s);
    cr_assert_null(answer(c, &other, 3500), "another query is another URL");
    cr_assert_null(answer(c, &q, 3500));
    host = r;
    host.v.host.p = "example.org";
    cr_assert_not_null(answer(c, &host, 3500), "the host's case does not matter");
    host.v.host.p = "example.net";
    cr_assert_null(answer(c, &host, 3500));
    host = r;
    host.v.url_scheme = "https";
    cr_assert_null(answer(c, &host, 3500), "nor does https share http's entries");
    cr_assert_not_null(answer(c, &r, 10999));
    cr_assert_null(answer(c, &r, 11000), "expired");
    cr_assert_eq(srv_cache_count(c), 1, "an expired entry stays, for its refill");
    srv_cache_free(c);
}

Test(cache_store, one_request_refills_an_expired_entry_and_the_others_wait_for_it)
{
    srv_cache_t *c = srv_cache_new(1 << 20);
    srv_cache_entry_t *old, *e;
    int outcome;
    req_t r;

    make_req(&r, "GET", "/r", NULL, NULL, 0);
    srv_cache_insert(c, capture(&r, "s-maxage=1", NULL, NULL, "old", 1 << 17), 0);
    old = srv_cache_lookup(c, &r.v, -1, 1000, 0, &outcome);
    cr_assert(old == NULL && outcome == SRV_CACHE_MISS, "a HEAD does not refill");
    old = srv_cache_lookup(c, &r.v, -1, 1000, 1, &outcome);
    cr_assert(old != NULL && outcome == SRV_CACHE_REFILL);
    srv_cache_entry_hold(old);
    e = srv_cache_lookup(c, &r.v, -1, 1500, 1, &outcome);
    cr_assert(e == old && outcome == SRV_CACHE_WAIT);
    /* The app's new response replaces it; the old one lives while held. */
    srv_cache_insert(c, capture(&r, "s-maxage=60", NULL, NULL, "new", 1 << 17), 2000);
    srv_cache_refill_done(c, old, 2000, 0);
    srv_cache_entry_release(old);
    cr_assert_eq(srv_cache_count(c), 1);
    cr_assert_not_null(strstr(answer(c, &r, 2000), "\r\n\r\nnew"));

    /* A refill whose response was not kept drops the expired entry: the
     * next request starts over, as a first fill. */
    old = srv_cache_lookup(c, &r.v, -1, 62000, 1, &outcome);
    cr_assert(old != NULL && outcome == SRV_CACHE_REFILL);
    srv_cache_refill_done(c, old, 62000, 0);
    cr_assert_eq(srv_cache_count(c), 0);
    cr_assert_eq(srv_cache_bytes(c), 0);
    e = srv_cache_lookup(c, &r.v, -1, 62000, 0, &outcome);
    cr_assert(e == NULL && outcome == SRV_CACHE_MISS);
    srv_cache_free(c);
}

Test(cache_store, the_first_request_for_a_url_fills_it_and_the_others_wait_for_it)
{
    srv_cache_t *c = srv_cache_new(1 << 20);
    srv_cache_entry_t *mark, *e;
    int outcome;
    req_t r, head, other;

    make_req(&r, "GET", "/f", NULL, NULL, 0);
    make_req(&head, "HEAD", "/f", NULL, NULL, 0);
    make_req(&other, "GET", "/g", NULL, NULL, 0);
    e = srv_cache_lookup(c, &head.v, -1, 0, 0, &outcome);
    cr_assert(e == NULL && outcome == SRV_CACHE_MISS, "a HEAD fills nothing");
    cr_assert_eq(srv_cache_count(c), 0);
    mark = srv_cache_lookup(c, &r.v, -1, 0, 1, &outcome);
    cr_assert(mark != NULL && outcome == SRV_CACHE_FILL, "the first GET fills");
    srv_cache_entry_hold(mark);
    e = srv_cache_lookup(c, &r.v, -1, 10, 1, &outcome);
    cr_assert(e == mark && outcome == SRV_CACHE_WAIT, "a second GET waits for it");
    e = srv_cache_lookup(c, &head.v, -1, 10, 0, &outcome);
    cr_assert(e == mark && outcome == SRV_CACHE_WAIT, "and so does a HEAD");
    e = srv_cache_lookup(c, &other.v, -1, 10, 1, &outcome);
    cr_assert(e != NULL && e != mark && outcome == SRV_CACHE_FILL, "another URL fills itself");
    srv_cache_refill_done(c, e, 10, 0);
    /* The response is kept: it replaces the marker and answers. */
    srv_cache_insert(c, capture(&r, "s-maxage=60", NULL, NULL, "first", 1 << 17), 20);
    srv_cache_refill_done(c, mark, 20, 0);
    srv_cache_entry_release(mark);
    cr_assert_eq(srv_cache_count(c), 2, "/f's entry and /g's marker");
    cr_assert_not_null(strstr(answer(c, &r, 30), "\r\n\r\nfirst"));
    cr_assert_not_null(strstr(answer(c, &head, 30), "Content-Length: 5\r\n\r\n"));
    srv_cache_free(c);
}

Test(cache_store, a_url_whose_response_was_not_kept_goes_to_the_app_without_waiting)
{
    srv_cache_t *c = srv_cache_new(1 << 20);
    static const char *const hdrs_fr[] = {"Accept-Language", "fr"};
    srv_cache_entry_t *mark, *e;
    int outcome;
    req_t r, fr;

    make_req(&r, "GET", "/p", NULL, NULL, 0);
    make_req(&fr, "GET", "/p", NULL, hdrs_fr, 1);
    mark = srv_cache_lookup(c, &r.v, -1, 0, 1, &outcome);
    cr_assert(mark != NULL && outcome == SRV_CACHE_FILL);
    srv_cache_refill_done(c, mark, 5, 0);
    cr_assert_eq(srv_cache_count(c), 1, "the marker stays, to say so");
    cr_assert_gt(srv_cache_bytes(c), 0, "and counts");
    e = srv_cache_lookup(c, &r.v, -1, 10, 1, &outcome);
    cr_assert(e == NULL && outcome == SRV_CACHE_MISS, "the next GET goes to the app at once");
    e = srv_cache_lookup(c, &r.v, -1, 10, 1, &outcome);
    cr_assert(e == NULL && outcome == SRV_CACHE_MISS, "and so do those with it");
    /* Should the app mark a response for the URL later, it is kept. */
    srv_cache_insert(c, capture(&r, "s-maxage=60", "Vary", "Accept-Language", "en", 1 << 17), 20);
    cr_assert_eq(srv_cache_count(c), 1, "it replaced the marker");
    cr_assert_not_null(answer(c, &r, 30));
    /* Another variant fills itself, once. */
    e = srv_cache_lookup(c, &fr.v, -1, 30, 1, &outcome);
    cr_assert(e != NULL && outcome == SRV_CACHE_FILL);
    e = srv_cache_lookup(c, &fr.v, -1, 30, 1, &outcome);
    cr_assert(e != NULL && outcome == SRV_CACHE_WAIT);
    cr_assert_not_null(answer(c, &r, 30), "the kept variant still answers");
    srv_cache_refill_done(c, e, 40, 0);
    /* Invalidation drops the marker too. */
    srv_cache_invalidate(c, &r.v);
    cr_assert_eq(srv_cache_count(c), 0);
    srv_cache_free(c);
}

Test(cache_store, a_stale_copy_answers_while_one_request_refills_it_within_its_time)
{
    srv_cache_t *c = srv_cache_new(1 << 20);
    srv_cache_entry_t *old, *e;
    const char *s;
    int outcome;
    req_t r;

    make_req(&r, "GET", "/s", NULL, NULL, 0);
    srv_cache_insert(
        c, capture(&r, "s-maxage=1, stale-while-revalidate=10", NULL, NULL, "old", 1 << 17), 0);
    cr_assert_null(answer(c, &r, 1000), "expired: no one refills it yet");
    old = srv_cache_lookup(c, &r.v, -1, 1000, 1, &outcome);
    cr_assert(old != NULL && outcome == SRV_CACHE_REFILL, "the first GET refills it");
    e = srv_cache_lookup(c, &r.v, -1, 3000, 1, &outcome);
    cr_assert(e == old && outcome == SRV_CACHE_STALE, "the others get the stale copy meanwhile");
    s = answer(c, &r, 3000);
    cr_assert_not_null(s);
    cr_assert_not_null(strstr(s, "\r\nAge: 3\r\n"), "%s", s);
    cr_assert_not_null(strstr(s, "\r\n\r\nold"), "%s", s);
    e = srv_cache_lookup(c, &r.v, 2, 3000, 1, &outcome);
    cr_assert(e == old && outcome == SRV_CACHE_WAIT, "unless they want a younger one");
    e = srv_cache_lookup(c, &r.v, -1, 10999, 1, &outcome);
    cr_assert(e == old && outcome == SRV_CACHE_STALE);
    e = srv_cache_lookup(c, &r.v, -1, 11000, 1, &outcome);
    cr_assert(e == old && outcome == SRV_CACHE_WAIT, "past its time, they wait");
    srv_cache_refill_done(c, old, 11000, 0);
    cr_assert_eq(srv_cache_count(c), 0, "not replaced: it goes");
    srv_cache_free(c);
}

Test(cache_store, a_stale_copy_answers_while_the_app_fails_to_make_it_within_its_time)
{
    srv_cache_t *c = srv_cache_new(1 << 20);
    srv_cache_entry_t *old, *e;
    int outcome;
    req_t r, head;

    make_req(&r, "GET", "/e", NULL, NULL, 0);
    make_req(&head, "HEAD", "/e", NULL, NULL, 0);
    srv_cache_insert(c, capture(&r, "s-maxage=1, stale-if-error=10", NULL, NULL, "old", 1 << 17),
                     0);
    old = srv_cache_lookup(c, &r.v, -1, 1000, 1, &outcome);
    cr_assert(old != NULL && outcome == SRV_CACHE_REFILL);
    e = srv_cache_lookup(c, &r.v, -1, 1100, 1, &outcome);
    cr_assert(e == old && outcome == SRV_CACHE_WAIT, "no stale copy while the app may succeed");
    srv_cache_refill_done(c, old, 1200, 1);
    cr_assert_eq(srv_cache_count(c), 1, "it failed: the copy stays");
    e = srv_cache_lookup(c, &r.v, -1, 1300, 1, &outcome);
    cr_assert(e == old && outcome == SRV_CACHE_STALE_ERROR, "and answers");
    cr_assert_not_null(strstr(answer(c, &head, 1300), "Age: 1\r\n"));
    e = srv_cache_lookup(c, &r.v, 0, 1300, 1, &outcome);
    cr_assert(e == old && outcome == SRV_CACHE_REFILL, "but not a request for a younger one");
    cr_assert_eq(srv_cache_lookup(c, &r.v, -1, 1300, 1, &outcome), old);
    cr_assert_eq(outcome, SRV_CACHE_STALE_ERROR, "nor, meanwhile, to the others");
    srv_cache_refill_done(c, old, 1400, 1);
    /* A second later one request tries again; the others still get it. */
    e = srv_cache_lookup(c, &r.v, -1, 2400, 1, &outcome);
    cr_assert(e == old && outcome == SRV_CACHE_REFILL);
    e = srv_cache_lookup(c, &r.v, -1, 2500, 1, &outcome);
    cr_assert(e == old && outcome == SRV_CACHE_STALE_ERROR);
    srv_cache_refill_done(c, old, 11000, 1);
    cr_assert_eq(srv_cache_count(c), 0, "past its time, a failure drops it");
    /* A response that is not an error, but not kept, drops it at once. */
    srv_cache_insert(c, capture(&r, "s-maxage=1, stale-if-error=10", NULL, NULL, "old", 1 << 17),
                     20000);
    old = srv_cache_lookup(c, &r.v, -1, 21000, 1, &outcome);
    cr_assert(old != NULL && outcome == SRV_CACHE_REFILL);
    srv_cache_refill_done(c, old, 21000, 0);
    cr_assert_eq(srv_cache_count(c), 0);
    srv_cache_free(c);
}

Test(cache_store, head_gets_no_body_and_a_request_max_age_limits_the_age)
{
    srv_cache_t *c = srv_cache_new(1 << 20);
    req_t r, head;
    const char *s;
    int outcome;

    make_req(&r, "GET", "/", NULL, NULL, 0);
    make_req(&head, "HEAD", "/", NULL, NULL, 0);
    srv_cache_insert(c, capture(&r, "public, max-age=100", "Age", "7", "body", 1 << 17), 0);
    s = answer(c, &head, 1000);
    cr_assert_not_null(s);
    cr_assert_not_null(strstr(s, "\r\nAge: 8\r\n"), "the response's own Age counts: %s", s);
    cr_assert(strstr(s, "Content-Length: 4\r\n\r\n") != NULL &&
                  strcmp(strstr(s, "\r\n\r\n"), "\r\n\r\n") == 0,
              "%s", s);
    cr_assert_not_null(srv_cache_lookup(c, &r.v, 8, 1000, 1, &outcome));
    cr_assert_null(srv_cache_lookup(c, &r.v, 7, 1000, 1, &outcome),
                   "older than the request's max-age");
    cr_assert_eq(outcome, SRV_CACHE_MISS);
    cr_assert_eq(srv_cache_count(c), 1, "but still kept");
    srv_cache_free(c);
}

Test(cache_store, a_304_for_a_current_copy)
{
    const char *inm[] = {"If-None-Match", "W/\"x1\", \"v2\""};
    const char *miss[] = {"If-None-Match", "\"v3\""};
    const char *ims[] = {"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"};
    srv_cache_t *c = srv_cache_new(1 << 20);
    req_t r, cond;
    const char *s;

    make_req(&r, "GET", "/e", NULL, NULL, 0);
    srv_cache_insert(c, capture(&r, "s-maxage=60", "ETag", "W/\"v2\"", "tagged", 1 << 17), 0);
    make_req(&cond, "GET", "/e", NULL, inm, 1);
    s = answer(c, &cond, 0);
    cr_assert(strncmp(s, "HTTP/1.1 304 Not Modified\r\n", 27) == 0, "%s", s);
    cr_assert_not_null(strstr(s, "\r\nETag: W/\"v2\"\r\n"), "%s", s);
    cr_assert_not_null(strstr(s, "\r\nCache-Control: s-maxage=60\r\n"), "%s", s);
    cr_assert_null(strstr(s, "Content-Type"), "no representation metadata: %s", s);
    cr_assert_null(strstr(s, "Content-Length"), "%s", s);
    cr_assert_null(strstr(s, "tagged"), "%s", s);
    make_req(&cond, "GET", "/e", NULL, miss, 1);
    s = answer(c, &cond, 0);
    cr_assert(strncmp(s, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", s);

    make_req(&r, "GET", "/m", NULL, NULL, 0);
    srv_cache_insert(
        c,
        capture(&r, "s-maxage=60", "Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT", "x", 1 << 17),
        0);
    make_req(&cond, "GET", "/m", NULL, ims, 1);
    s = answer(c, &cond, 0);
    cr_assert(strncmp(s, "HTTP/1.1 304 ", 13) == 0, "%s", s);
    cr_assert_not_null(strstr(s, "\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), "%s", s);
    make_req(&r, "GET", "/n", NULL, NULL, 0);
    srv_cache_insert(c, capture(&r, "s-maxage=60", NULL, NULL, "x", 1 << 17), 0);
    make_req(&cond, "GET", "/n", NULL, ims, 1);
    s = answer(c, &cond, 0);
    cr_assert(strncmp(s, "HTTP/1.1 200 ", 13) == 0, "no Last-Modified, no 304: %s", s);
    srv_cache_free(c);
}

Test(cache_store, vary_keeps_one_entry_per_varied_value)
{
    const char *gz[] = {"Accept-Encoding", "gzip"};
    const char *br[] = {"accept-encoding", "br"};
    const char *twice[] = {"Accept-Encoding", "gzip", "Accept-Encoding", "gzip"};
    srv_cache_t *c = srv_cache_new(1 << 20);
    req_t a, b, none, dup;

    make_req(&a, "GET", "/v", NULL, gz, 1);
    make_req(&b, "GET", "/v", NULL, br, 1);
    make_req(&none, "GET", "/v", NULL, NULL, 0);
    make_req(&dup, "GET", "/v", NULL, twice, 2);
    srv_cache_insert(c, capture(&a, "s-maxage=60", "Vary", "Accept-Encoding", "for gzip", 1 << 17),
                     0);
    cr_assert_not_null(answer(c, &a, 0));
    cr_assert_null(answer(c, &b, 0));
    cr_assert_null(answer(c, &none, 0), "absent is not the same as any value");
    cr_assert_null(answer(c, &dup, 0), "a header sent twice matches nothing");
    cr_assert_null(capture(&dup, "s-maxage=60", "Vary", "Accept-Encoding", "x", 1 << 17),
                   "nor is it stored");
    srv_cache_insert(c, capture(&b, "s-maxage=60", "Vary", "Accept-Encoding", "for br", 1 << 17),
                     0);
    srv_cache_insert(c, capture(&none, "s-maxage=60", "Vary", "Accept-Encoding", "plain", 1 << 17),
                     0);
    cr_assert_eq(srv_cache_count(c), 3);
    cr_assert_not_null(strstr(answer(c, &a, 0), "for gzip"));
    cr_assert_not_null(strstr(answer(c, &b, 0), "for br"));
    cr_assert_not_null(strstr(answer(c, &none, 0), "plain"));
    /* The same variant again replaces the old one. */
    srv_cache_insert(c, capture(&a, "s-maxage=60", "Vary", "Accept-Encoding", "gzip 2", 1 << 17),
                     0);
    cr_assert_eq(srv_cache_count(c), 3);
    cr_assert_not_null(strstr(answer(c, &a, 0), "gzip 2"));
    srv_cache_free(c);
}

Test(cache_store, one_url_keeps_at_most_eight_variants)
{
    srv_cache_t *c = srv_cache_new(1 << 20);
    char langs[12][8];
    req_t r;
    int i;

    for (i = 0; i < 12; i++) {
        const char *hdr[2] = {"Accept-Language", langs[i]};

        snprintf(langs[i], sizeof(langs[i]), "l%d", i);
        make_req(&r, "GET", "/lang", NULL, hdr, 1);
        srv_cache_insert(c, capture(&r, "s-maxage=60", "Vary", "accept-language", "x", 1 << 17),
                         (uint64_t)i);
    }
    cr_assert_eq(srv_cache_count(c), 8);
    for (i = 0; i < 12; i++) {
        const char *hdr[2] = {"Accept-Language", langs[i]};

        make_req(&r, "GET", "/lang", NULL, hdr, 1);
        if (i < 4)
            cr_assert_null(answer(c, &r, 20), "variant %d", i);
        else
            cr_assert_not_null(answer(c, &r, 20), "variant %d", i);
    }
    srv_cache_free(c);
}

Test(cache_store, invalidation_drops_every_variant_of_the_url)
{
    const char *gz[] = {"Accept-Encoding", "gzip"};
    srv_cache_t *c = srv_cache_new(1 << 20);
    req_t a, plain, post, other;

    make_req(&a, "GET", "/p", NULL, gz, 1);
    make_req(&plain, "GET", "/p", NULL, NULL, 0);
    make_req(&other, "GET", "/q", NULL, NULL, 0);
    make_req(&post, "POST", "/p", NULL, NULL, 0);
    srv_cache_insert(c, capture(&a, "s-maxage=60", "Vary", "Accept-Encoding", "1", 1 << 17), 0);
    srv_cache_insert(c, capture(&plain, "s-maxage=60", "Vary", "Accept-Encoding", "2", 1 << 17), 0);
    srv_cache_insert(c, capture(&other, "s-maxage=60", NULL, NULL, "3", 1 << 17), 0);
    srv_cache_invalidate(c, &post.v);
    cr_assert_eq(srv_cache_count(c), 1);
    cr_assert_not_null(answer(c, &other, 0));
    srv_cache_free(c);
}

Test(cache_store, the_store_keeps_to_its_bytes_dropping_the_least_recently_used)
{
    srv_cache_t *c = srv_cache_new(64 * 1024);
    char body[4001], path[16];
    req_t r;
    int i;

    memset(body, 'b', 4000);
    body[4000] = '\0';
    cr_assert_eq(srv_cache_entry_max(c), 8 * 1024);
    for (i = 0; i < 40; i++) {
        snprintf(path, sizeof(path), "/%d", i);
        make_req(&r, "GET", path, NULL, NULL, 0);
        srv_cache_insert(c, capture(&r, "s-maxage=60", NULL, NULL, body, 8 * 1024), 0);
        if (i == 5) {
            make_req(&r, "GET", "/0", NULL, NULL, 0);
            cr_assert_not_null(answer(c, &r, 0)); /* used: it stays */
        }
        cr_assert_leq(srv_cache_bytes(c), 64 * 1024);
    }
    cr_assert_lt(srv_cache_count(c), 40);
    cr_assert_gt(srv_cache_count(c), 8);
    make_req(&r, "GET", "/39", NULL, NULL, 0);
    cr_assert_not_null(answer(c, &r, 0), "the newest stays");
    make_req(&r, "GET", "/1", NULL, NULL, 0);
    cr_assert_null(answer(c, &r, 0), "an old one went");
    srv_cache_free(c);
}

Test(cache_store, an_entry_over_its_max_is_refused)
{
    char body[9000];
    srv_cache_entry_t *e;
    req_t r;

    memset(body, 'b', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    make_req(&r, "GET", "/big", NULL, NULL, 0);
    cr_assert_null(capture(&r, "s-maxage=60", NULL, NULL, body, 8 * 1024));
    e = capture(&r, "s-maxage=60", NULL, NULL, "small", 8 * 1024);
    cr_assert_not_null(e);
    srv_cache_entry_free(e);
}

Test(cache_store, what_srv_writes_itself_is_not_stored)
{
    srv_header_t h[] = {{S("Cache-Control"), S("s-maxage=60")},
                        {S("Connection"), S("close")},
                        {S("Content-Length"), S("2")},
                        {S("Age"), S("3")},
                        {S("X-App"), S("yes")}};
    srv_cache_t *c = srv_cache_new(1 << 20);
    srv_cache_entry_t *e;
    srv_cache_life_t life;
    req_t r;
    const char *s;

    make_req(&r, "GET", "/h", NULL, NULL, 0);
    srv_cache_lifetime(200, h, 5, &life);
    e = srv_cache_capture_start(&r.v, 200, "Fine", h, 5, &life, 1 << 17);
    cr_assert_not_null(e);
    cr_assert_eq(srv_cache_capture_body(e, "ok", 2), 0);
    srv_cache_insert(c, e, 0);
    s = answer(c, &r, 0);
    cr_assert(strncmp(s, "HTTP/1.1 200 Fine\r\n", 19) == 0, "%s", s);
    cr_assert_null(strstr(s, "Connection: close"), "%s", s);
    cr_assert_not_null(strstr(s, "\r\nAge: 3\r\n"), "%s", s);
    cr_assert_null(strstr(s, "Age: 3\r\nAge"), "%s", s);
    cr_assert_not_null(strstr(s, "\r\nX-App: yes\r\n"), "%s", s);
    cr_assert_not_null(strstr(s, "\r\nContent-Length: 2\r\n\r\nok"), "%s", s);
    cr_assert_null(strstr(strstr(s, "Content-Length") + 1, "Content-Length"), "once: %s", s);
    srv_cache_free(c);
}
