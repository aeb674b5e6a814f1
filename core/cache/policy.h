/* policy.h: `cache`: which requests the loop may answer from its cache,
 * and which responses it may keep, by the rules of a shared cache (RFC
 * 9111). Pure code: no I/O, no allocation, no OS.
 *
 * srv keeps a response only when the app says that a shared cache may:
 * `s-maxage`, or `public` with `max-age`. A bare `max-age` often guards a
 * page meant for one user's browser, and a cache may always decline to
 * store (RFC 9111 3). */
#ifndef SRV_CACHE_POLICY_H
#define SRV_CACHE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "srv.h"

/* The most headers a stored response may vary on. */
#define SRV_CACHE_VARY_MAX 8

enum {
    SRV_CACHE_LOOKUP = 1,     /* a fresh stored response may answer the request */
    SRV_CACHE_STORE = 2,      /* the app's response to it may be stored */
    SRV_CACHE_ONLY_CACHED = 4 /* only-if-cached: a stored response, or a 504 */
};

/* What the cache may do for request v: SRV_CACHE_* bits. GET may do
 * both, HEAD only LOOKUP, other methods neither. A request with
 * Authorization does neither; "Cache-Control: no-store" neither;
 * "no-cache" (or "Pragma: no-cache" without Cache-Control) and
 * "max-age=0" only STORE; "only-if-cached" adds ONLY_CACHED (RFC 9111
 * 5.2.1.7: never the app). *max_age is the request's max-age in seconds
 * (the oldest stored response it accepts), or -1 for none. */
unsigned srv_cache_request(const srv_request_t *v, int64_t *max_age);

/* Nonzero for a method a cache must treat as unsafe: a non-error response
 * to it invalidates the stored responses for its URI (RFC 9111 4.4). */
int srv_cache_method_unsafe(const char *m, size_t len);

/* The times a kept response is served for, in seconds. */
typedef struct srv_cache_life_s {
    int64_t fresh; /* from now on, as a fresh copy */
    int64_t age;   /* the response's own Age when it came */
    int64_t stale; /* stale-while-revalidate (RFC 5861): past fresh, how long the
                    * stale copy still answers while one request makes it anew */
    int64_t error; /* stale-if-error: past fresh, how long the stale copy answers
                    * while the app fails to make it anew */
} srv_cache_life_t;

/* How long, in seconds, a shared cache may keep a response with this
 * status and these headers (the app's, as it gave them): s-maxage, else
 * max-age with public, less the response's own Age. Returns that (also in
 * life->fresh), or -1 when it must not be stored: a status that is not
 * cacheable by default, no such lifetime, no-store, no-cache, private, a
 * directive given twice or with a bad value, Set-Cookie, "Vary: *", more
 * than SRV_CACHE_VARY_MAX varied headers, or a lifetime already over.
 * life->stale is 0 without a valid stale-while-revalidate, life->error
 * without a valid stale-if-error, and both are with must-revalidate or
 * proxy-revalidate, which forbid stale answers (RFC 9111 4.2.4). */
int64_t srv_cache_lifetime(int status, const srv_header_t *h, size_t n, srv_cache_life_t *life);

/* Reads delta-seconds (RFC 9111 1.2.2): 1*DIGIT, capped at 2^31. Returns
 * 0 with the value in *out, or -1. */
int srv_cache_delta_seconds(const char *p, size_t len, int64_t *out);

#endif
