/* cache.h: `cache`: responses the app marks for a shared cache, kept in
 * the worker's memory and sent again by the loop thread without Python
 * (DESIGN.md: requests the loop can answer itself).
 *
 * Threads. An app thread captures its response into an entry of its own
 * (srv_cache_capture_*), which no other thread sees until the exchange
 * is released; the loop thread then stores it. Only the loop thread
 * touches the store: no lock. Each worker has its own store. */
#ifndef SRV_CACHE_CACHE_H
#define SRV_CACHE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "cache/policy.h"
#include "srv.h"

typedef struct srv_cache_s srv_cache_t;
typedef struct srv_cache_entry_s srv_cache_entry_t;

/* A store of at most cap bytes, which keeps no entry over cap / 8.
 * Returns NULL when out of memory. */
srv_cache_t *srv_cache_new(size_t cap);
/* Frees the store and its entries. */
void srv_cache_free(srv_cache_t *c);
/* The largest entry it keeps (read-only: any thread). */
size_t srv_cache_entry_max(const srv_cache_t *c);

/* ---- Capture: the app thread that answers v ---- */

/* Starts an entry for the response the app starts with status, reason
 * and its headers (as it gave them), to be kept for the times of life
 * (srv_cache_lifetime; borrowed). The entry copies what it needs. Returns
 * NULL when the response cannot be stored (it varies on a header the
 * request has twice, or it is already over max bytes) or when out of
 * memory. */
srv_cache_entry_t *srv_cache_capture_start(const srv_request_t *v, int status, const char *reason,
                                           const srv_header_t *h, size_t n,
                                           const srv_cache_life_t *life, size_t max);
/* Adds body bytes. Returns 0, or -1 when the entry grows over its max or
 * memory runs out: the caller frees it. */
int srv_cache_capture_body(srv_cache_entry_t *e, const void *data, size_t len);
/* Frees an entry that was never stored (NULL is fine). */
void srv_cache_entry_free(srv_cache_entry_t *e);

/* ---- The store: the loop thread ---- */

/* Stores e (owned by the store from now on), stored at now_ms (loop
 * clock), replacing the entry of the same URI and varied values. */
void srv_cache_insert(srv_cache_t *c, srv_cache_entry_t *e, uint64_t now_ms);
/* What a lookup found (srv_cache_lookup). */
enum {
    SRV_CACHE_MISS = 0,    /* nothing for v: the app answers */
    SRV_CACHE_HIT,         /* a fresh entry answers v */
    SRV_CACHE_STALE,       /* an expired entry answers v while another request refreshes it */
    SRV_CACHE_STALE_ERROR, /* an expired entry answers v: the app failed to refresh it */
    SRV_CACHE_FILL,        /* v's URI has no entry, and no other request is with the app for
                            * it: the app answers v, and its response is awaited
                            * (srv_cache_refill_done) by the requests that find it meanwhile */
    SRV_CACHE_REFILL,      /* the same, for an expired entry */
    SRV_CACHE_WAIT         /* another request is making v's entry: wait for that one (the
                            * returned entry's srv_cache_refill_done), then look again */
};

/* Looks for the entry of v: *outcome says what was found, and the entry
 * is returned (NULL for a miss). A fresh entry older than max_age seconds
 * (unless max_age is -1) is a miss. So that a stampede of requests for
 * one URI does not reach the app, only the first request that may_refill
 * (a GET that may store) goes to the app (REFILL, FILL), and the others
 * wait for its response (WAIT):
 * - for an expired entry, which is kept for that, or answers as it is
 *   (STALE) within its stale-while-revalidate time; and if the app failed
 *   to make it anew, it answers (STALE_ERROR) within its stale-if-error
 *   time while a request tries again at most once a second;
 * - for a URI with no entry at all (FILL), for which the store makes a marker;
 *   if the response that comes is not kept, the marker stays, and the
 *   requests for the URI go to the app at once (MISS) from then on,
 *   until a response for it is kept.
 * One that may not refill misses. The entry stays the store's: hold it
 * to keep it past the next call. */
srv_cache_entry_t *srv_cache_lookup(srv_cache_t *c, const srv_request_t *v, int64_t max_age,
                                    uint64_t now_ms, int may_refill, int *outcome);
/* Ends the fill of e (FILL, REFILL): call it once the app's response was
 * stored, or is known not to be; failed: that response was an error
 * (5xx). If it did not replace an expired e, e goes, unless it failed
 * within e's stale-if-error time. */
void srv_cache_refill_done(srv_cache_t *c, srv_cache_entry_t *e, uint64_t now_ms, int failed);
/* Keeps e alive until a matching release, even if the store drops it
 * meanwhile (an answer that sends its body). */
void srv_cache_entry_hold(srv_cache_entry_t *e);
/* Lets go of a hold (entry is an srv_cache_entry_t *); the last one frees
 * the entry. */
void srv_cache_entry_release(void *entry);
/* Drops every entry for v's URI. */
void srv_cache_invalidate(srv_cache_t *c, const srv_request_t *v);
/* Entries and bytes held (for tests and logs). */
size_t srv_cache_count(const srv_cache_t *c);
size_t srv_cache_bytes(const srv_cache_t *c);

/* ---- Answering from an entry: the loop thread ---- */

typedef struct srv_cache_answer_s {
    int status;         /* the stored one, or 304 */
    size_t head_len;    /* bytes of head written */
    const char *body;   /* NULL, or the body to send after the head (the entry's) */
    int64_t body_bytes; /* its length */
    int keep_alive;     /* the head promised to keep the connection */
} srv_cache_answer_t;

/* The most bytes of head srv_cache_answer() writes for e. */
size_t srv_cache_head_max(const srv_cache_entry_t *e);
/* Writes the head of the response to v from e into dst: the stored head
 * with Age and the framing, and points at the body to send (none for
 * HEAD); or a 304 when v's If-None-Match or If-Modified-Since holds for a
 * stored 200.
 * keep_alive: the connection may stay open as far as the client and the
 * server are concerned. */
void srv_cache_answer(const srv_cache_entry_t *e, const srv_request_t *v, int is_head,
                      int keep_alive, uint64_t now_ms, char *dst, srv_cache_answer_t *a);

#endif
