/* cache.c: `cache`: the store (a hash table with a least-recently-used
 * list, bounded in bytes), the capture of a response by the app thread,
 * and the answer the loop writes from an entry. */
#include "cache/cache.h"

#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "http/chars.h"
#include "http/date.h"
#include "http/fields.h"
#include "http/response.h"
#include "util/alloc.h"
#include "util/list.h"

/* Entries for one URI that vary on request headers: at most this many
 * (the oldest one goes), so that a client that sends a new
 * Accept-Language each time cannot make one chain long. */
#define VARIANTS_MAX 8

/* After the app failed to make an expired entry anew, the entry answers
 * (stale-if-error) and no request tries again for this long. */
#define SRV_CACHE_RETRY_MS 1000

/* The longest key srv stores: scheme, host, path and query. */
#define SRV_CACHE_KEY_MAX 8192

typedef struct vary_s {
    size_t name_off, name_len; /* lower case, in meta */
    size_t value_off, value_len;
    int present; /* the request had the header */
} vary_t;

struct srv_cache_entry_s {
    unsigned refs;            /* the store's, and each answer's being written (loop) */
    int stored;               /* in the store */
    int refreshing;           /* a request is with the app to make it anew */
    int marker;               /* no response: a URI's first fill, or that its last response
                               * was not kept (only the key is set) */
    int failed;               /* expired, and the app failed to make it anew at failed_ms */
    srv_list_t lru;           /* in the store's list, the most recent first */
    srv_cache_entry_t *hnext; /* the bucket's chain */
    uint64_t hash;
    uint64_t stored_ms, expires_ms;       /* loop clock */
    uint64_t stale_ms;                    /* expired, it answers while refreshing until then */
    uint64_t error_ms, failed_ms;         /* ... and while the app fails until then */
    int64_t lifetime, stale, error, age0; /* seconds */
    int status;
    size_t max; /* the most bytes it may count */
    char *meta; /* owned: the key, the varied names and values, then the head */
    size_t meta_len, meta_cap;
    size_t key_len; /* the key is meta[0..key_len) */
    vary_t vary[SRV_CACHE_VARY_MAX];
    size_t nvary;
    size_t head_off, head_len; /* the status line and the header lines, with Date */
    size_t status_line_len;
    size_t etag_off, etag_len; /* the entity-tag without W/, in the head; len 0: none */
    int64_t last_modified;     /* -1: none */
    char *body;                /* owned */
    size_t body_len, body_cap;
};

struct srv_cache_s {
    srv_cache_entry_t **buckets; /* owned array */
    size_t mask;
    srv_list_t lru;
    size_t cap, used, count, entry_max;
    uint64_t seed;
};

srv_cache_t *srv_cache_new(size_t cap)
{
    srv_cache_t *c = srv_calloc(1, sizeof(*c));
    size_t nb = 256;

    if (c == NULL)
        return NULL;
    /* About one bucket per 2 KB of room: short chains for small pages. */
    while (nb < cap / 2048 && nb < ((size_t)1 << 20))
        nb <<= 1;
    c->buckets = srv_calloc(nb, sizeof(*c->buckets));
    if (c->buckets == NULL) {
        srv_free(c);
        return NULL;
    }
    c->mask = nb - 1;
    srv_list_init(&c->lru);
    c->cap = cap;
    c->entry_max = cap / 8;
    /* A seed, so that no one can choose keys that share a bucket. */
    c->seed = uv_hrtime() ^ (uint64_t)(uintptr_t)c;
    return c;
}

size_t srv_cache_entry_max(const srv_cache_t *c)
{
    return c->entry_max;
}

size_t srv_cache_count(const srv_cache_t *c)
{
    return c->count;
}

size_t srv_cache_bytes(const srv_cache_t *c)
{
    return c->used;
}

void srv_cache_entry_free(srv_cache_entry_t *e)
{
    if (e == NULL)
        return;
    srv_free(e->meta);
    srv_free(e->body);
    srv_free(e);
}

void srv_cache_entry_hold(srv_cache_entry_t *e)
{
    e->refs++;
}

void srv_cache_entry_release(void *entry)
{
    srv_cache_entry_t *e = entry;

    if (--e->refs == 0)
        srv_cache_entry_free(e);
}

static size_t entry_bytes(const srv_cache_entry_t *e)
{
    return sizeof(*e) + e->meta_cap + e->body_cap;
}

static void remove_entry(srv_cache_t *c, srv_cache_entry_t *e)
{
    srv_cache_entry_t **pp = &c->buckets[e->hash & c->mask];

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    srv_list_unlink(&e->lru);
    c->used -= entry_bytes(e);
    c->count--;
    e->stored = 0;
    srv_cache_entry_release(e);
}

void srv_cache_free(srv_cache_t *c)
{
    srv_list_t *n;

    if (c == NULL)
        return;
    /* An entry that an answer still sends goes when that answer is done. */
    while ((n = srv_list_pop_head(&c->lru)) != NULL)
        srv_cache_entry_release(srv_list_entry(n, srv_cache_entry_t, lru));
    srv_free(c->buckets);
    srv_free(c);
}

/* ---- Keys ---- */

/* The key of a request: scheme, host (lower case), path and query. Its
 * length; it is written into out when out is not NULL. */
static size_t make_key(const srv_request_t *v, char *out)
{
    size_t sl = strlen(v->url_scheme), n = 0, i;

    if (out != NULL) {
        memcpy(out, v->url_scheme, sl);
        out[sl] = ' ';
        for (i = 0; i < v->host.len; i++) {
            char ch = v->host.p[i];

            out[sl + 1 + i] = ch >= 'A' && ch <= 'Z' ? (char)(ch | 0x20) : ch;
        }
        out[sl + 1 + v->host.len] = ' ';
    }
    n = sl + 1 + v->host.len + 1;
    if (out != NULL)
        memcpy(out + n, v->path.p, v->path.len);
    n += v->path.len;
    if (v->query.p != NULL) {
        if (out != NULL) {
            out[n] = '?';
            memcpy(out + n + 1, v->query.p, v->query.len);
        }
        n += 1 + v->query.len;
    }
    return n;
}

static uint64_t hash_bytes(uint64_t seed, const char *p, size_t len)
{
    uint64_t h = 14695981039346656037ULL ^ seed;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

/* The value of the request header named name (lower case): 1 with it in
 * *value (empty when absent, with *present 0), or 0 when the request has
 * it twice (which of them a varied response answered is not clear). */
static int request_value(const srv_request_t *v, const char *name, size_t len, srv_str_t *value,
                         int *present)
{
    size_t i;

    *present = 0;
    value->p = "";
    value->len = 0;
    for (i = 0; i < v->nheaders; i++) {
        const srv_header_t *h = &v->headers[i];
        size_t k;

        if (h->name.len != len)
            continue;
        for (k = 0; k < len && (h->name.p[k] | 0x20) == name[k]; k++)
            ;
        if (k < len)
            continue;
        if (*present)
            return 0;
        *present = 1;
        *value = h->value;
    }
    return 1;
}

/* Whether e answers a request with key[0..klen) and headers v. */
static int entry_matches(const srv_cache_entry_t *e, const char *key, size_t klen,
                         const srv_request_t *v)
{
    size_t i;

    if (e->key_len != klen || memcmp(e->meta, key, klen) != 0)
        return 0;
    for (i = 0; i < e->nvary; i++) {
        const vary_t *vy = &e->vary[i];
        srv_str_t val;
        int present;

        if (!request_value(v, e->meta + vy->name_off, vy->name_len, &val, &present) ||
            present != vy->present || val.len != vy->value_len ||
            memcmp(val.p, e->meta + vy->value_off, val.len) != 0)
            return 0;
    }
    return 1;
}

/* ---- Capture ---- */

/* A new entry (one reference) with room for meta_cap bytes of meta;
 * NULL when out of memory. */
static srv_cache_entry_t *entry_new(size_t meta_cap)
{
    srv_cache_entry_t *e = srv_calloc(1, sizeof(*e));

    if (e == NULL)
        return NULL;
    e->meta = srv_malloc(meta_cap);
    if (e->meta == NULL) {
        srv_free(e);
        return NULL;
    }
    e->meta_cap = meta_cap;
    e->refs = 1;
    e->last_modified = -1;
    return e;
}

/* Makes room for len more bytes of meta, within the entry's max. */
static int meta_reserve(srv_cache_entry_t *e, size_t len)
{
    if (e->meta_len + len > e->meta_cap) {
        size_t cap = e->meta_cap * 2 + len;
        char *m;

        if (sizeof(*e) + cap > e->max)
            cap = e->max - sizeof(*e);
        if (e->meta_len + len > cap || (m = srv_realloc(e->meta, cap)) == NULL)
            return -1;
        e->meta = m;
        e->meta_cap = cap;
    }
    return 0;
}

static int meta_put(srv_cache_entry_t *e, const char *p, size_t len)
{
    if (meta_reserve(e, len) != 0)
        return -1;
    memcpy(e->meta + e->meta_len, p, len);
    e->meta_len += len;
    return 0;
}

/* Records the varied names of one Vary value and the request's values of
 * them. Returns -1 when the entry cannot be stored. */
static int capture_vary(srv_cache_entry_t *e, const srv_request_t *v, const srv_str_t *value)
{
    size_t pos = 0, n, k;
    const char *el;

    while (srv_http_list_next(value->p, value->len, &pos, &el, &n)) {
        vary_t *vy;
        srv_str_t val;

        if (n == 0)
            continue;
        if (e->nvary == SRV_CACHE_VARY_MAX)
            return -1;
        vy = &e->vary[e->nvary++];
        vy->name_off = e->meta_len;
        vy->name_len = n;
        if (meta_put(e, el, n) != 0)
            return -1;
        for (k = 0; k < n; k++) {
            char *ch = &e->meta[vy->name_off + k];

            if (*ch >= 'A' && *ch <= 'Z')
                *ch = (char)(*ch | 0x20);
        }
        if (!request_value(v, e->meta + vy->name_off, n, &val, &vy->present))
            return -1;
        vy->value_off = e->meta_len;
        vy->value_len = val.len;
        if (meta_put(e, val.p, val.len) != 0)
            return -1;
    }
    return 0;
}

/* Appends one kept header line to the head, noting the validators. */
static int capture_line(srv_cache_entry_t *e, const srv_header_t *h)
{
    size_t at = e->meta_len;

    if (meta_put(e, h->name.p, h->name.len) != 0 || meta_put(e, ": ", 2) != 0 ||
        meta_put(e, h->value.p, h->value.len) != 0 || meta_put(e, "\r\n", 2) != 0)
        return -1;
    if (srv_http_ieq(h->name.p, h->name.len, "etag")) {
        size_t skip = h->value.len > 2 && h->value.p[0] == 'W' && h->value.p[1] == '/' ? 2 : 0;

        e->etag_off = at + h->name.len + 2 + skip;
        e->etag_len = h->value.len - skip;
    } else if (srv_http_ieq(h->name.p, h->name.len, "last-modified")) {
        if (srv_http_date_parse(h->value.p, h->value.len, &e->last_modified) != 0)
            e->last_modified = -1;
    }
    return 0;
}

srv_cache_entry_t *srv_cache_capture_start(const srv_request_t *v, int status, const char *reason,
                                           const srv_header_t *h, size_t n,
                                           const srv_cache_life_t *life, size_t max)
{
    srv_cache_entry_t *e;
    srv_http_resp_meta_t meta = {-1, 0, 0};
    size_t rl = strlen(reason), klen = make_key(v, NULL), need, i;
    int has_date = 0;

    /* Room for what is known now; a varied value grows it. */
    need = klen + SRV_HTTP_STATUS_LINE_MAX(rl) + SRV_HTTP_DATE_LINE_LEN;
    for (i = 0; i < n; i++)
        need += h[i].name.len + h[i].value.len + 4;
    if (klen > SRV_CACHE_KEY_MAX || sizeof(srv_cache_entry_t) + need > max ||
        (e = entry_new(need)) == NULL)
        return NULL;
    e->max = max;
    e->status = status;
    e->lifetime = life->fresh;
    e->stale = life->stale;
    e->error = life->error;
    e->age0 = life->age;
    e->key_len = e->meta_len = make_key(v, e->meta);
    for (i = 0; i < n; i++)
        if (srv_http_ieq(h[i].name.p, h[i].name.len, "vary") &&
            capture_vary(e, v, &h[i].value) != 0)
            goto fail;
    e->head_off = e->meta_len;
    if (meta_reserve(e, need - klen) != 0)
        goto fail; /* the varied values took some of the room the head needs */
    e->status_line_len = srv_http_put_status_line(e->meta + e->meta_len, status, reason, rl);
    e->meta_len += e->status_line_len;
    for (i = 0; i < n; i++) {
        const char *why;

        /* What srv writes itself (framing, hop-by-hop) and Age, which
         * each answer from the store states anew. */
        if (srv_http_resp_header(&h[i], &meta, &why) != SRV_HDR_KEEP ||
            srv_http_ieq(h[i].name.p, h[i].name.len, "age"))
            continue;
        has_date |= srv_http_ieq(h[i].name.p, h[i].name.len, "date");
        if (capture_line(e, &h[i]) != 0)
            goto fail;
    }
    /* The Date of the origin: an answer from the store says when its
     * response was made, and how old it is (Age). */
    if (!has_date)
        e->meta_len += srv_http_put_date_line(e->meta + e->meta_len);
    e->head_len = e->meta_len - e->head_off;
    return e;
fail:
    srv_cache_entry_free(e);
    return NULL;
}

int srv_cache_capture_body(srv_cache_entry_t *e, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (sizeof(*e) + e->meta_cap + e->body_len + len > e->max)
        return -1;
    if (e->body_len + len > e->body_cap) {
        size_t cap = e->body_cap ? e->body_cap * 2 : 4096;
        char *p;

        while (cap < e->body_len + len)
            cap *= 2;
        if (sizeof(*e) + e->meta_cap + cap > e->max)
            cap = e->max - sizeof(*e) - e->meta_cap;
        p = srv_realloc(e->body, cap);
        if (p == NULL)
            return -1;
        e->body = p;
        e->body_cap = cap;
    }
    memcpy(e->body + e->body_len, data, len);
    e->body_len += len;
    return 0;
}

/* ---- The store ---- */

/* Links e (with its hash) into the store, making room for it: the least
 * recently used entries go. Returns 0, or -1 when it cannot fit (e is
 * freed). */
static int link_entry(srv_cache_t *c, srv_cache_entry_t *e)
{
    while (c->used + entry_bytes(e) > c->cap && !srv_list_empty(&c->lru))
        remove_entry(c, srv_list_entry(c->lru.prev, srv_cache_entry_t, lru));
    if (entry_bytes(e) > c->cap) {
        srv_cache_entry_free(e);
        return -1;
    }
    e->hnext = c->buckets[e->hash & c->mask];
    c->buckets[e->hash & c->mask] = e;
    srv_list_push_head(&c->lru, &e->lru);
    c->used += entry_bytes(e);
    c->count++;
    e->stored = 1;
    return 0;
}

void srv_cache_insert(srv_cache_t *c, srv_cache_entry_t *e, uint64_t now_ms)
{
    srv_cache_entry_t *p, *next, *oldest = NULL;
    size_t variants = 0;

    e->hash = hash_bytes(c->seed, e->meta, e->key_len);
    e->stored_ms = now_ms;
    e->expires_ms = now_ms + (uint64_t)e->lifetime * 1000;
    e->stale_ms = e->expires_ms + (uint64_t)e->stale * 1000;
    e->error_ms = e->expires_ms + (uint64_t)e->error * 1000;
    /* Replace the entry with the same key and the same varied values, and
     * the key's marker; count the others of the same key. */
    for (p = c->buckets[e->hash & c->mask]; p != NULL; p = next) {
        size_t i;
        int same;

        next = p->hnext;
        if (p->hash != e->hash || p->key_len != e->key_len ||
            memcmp(p->meta, e->meta, e->key_len) != 0)
            continue;
        same = p->marker || p->nvary == e->nvary;
        for (i = 0; same && !p->marker && i < e->nvary; i++) {
            const vary_t *a = &p->vary[i], *b = &e->vary[i];

            same = a->name_len == b->name_len && a->present == b->present &&
                   a->value_len == b->value_len &&
                   memcmp(p->meta + a->name_off, e->meta + b->name_off, a->name_len) == 0 &&
                   memcmp(p->meta + a->value_off, e->meta + b->value_off, a->value_len) == 0;
        }
        if (same) {
            remove_entry(c, p);
            continue;
        }
        variants++;
        if (oldest == NULL || p->stored_ms < oldest->stored_ms)
            oldest = p;
    }
    if (variants >= VARIANTS_MAX)
        remove_entry(c, oldest);
    link_entry(c, e);
}

/* Makes e the most recently used. */
static void touch(srv_cache_t *c, srv_cache_entry_t *e)
{
    srv_list_unlink(&e->lru);
    srv_list_push_head(&c->lru, &e->lru);
}

/* Stores a marker for key[0..klen): a first fill under way. Returns it, or
 * NULL when out of memory (or when the store is too small for it). */
static srv_cache_entry_t *add_marker(srv_cache_t *c, const char *key, size_t klen, uint64_t hash)
{
    srv_cache_entry_t *e = entry_new(klen);

    if (e == NULL)
        return NULL;
    memcpy(e->meta, key, klen);
    e->meta_len = e->key_len = klen;
    e->marker = 1;
    e->refreshing = 1;
    e->hash = hash;
    return link_entry(c, e) == 0 ? e : NULL;
}

/* Age in seconds of e at now_ms (RFC 9111 4.2.3, with the store's clock). */
static int64_t entry_age(const srv_cache_entry_t *e, uint64_t now_ms)
{
    return e->age0 + (int64_t)((now_ms - e->stored_ms) / 1000);
}

srv_cache_entry_t *srv_cache_lookup(srv_cache_t *c, const srv_request_t *v, int64_t max_age,
                                    uint64_t now_ms, int may_refill, int *outcome)
{
    char key[SRV_CACHE_KEY_MAX];
    size_t klen = make_key(v, NULL);
    srv_cache_entry_t *e, *mark = NULL;
    uint64_t hash;

    *outcome = SRV_CACHE_MISS;
    if (klen > sizeof(key))
        return NULL;
    make_key(v, key);
    hash = hash_bytes(c->seed, key, klen);
    for (e = c->buckets[hash & c->mask]; e != NULL; e = e->hnext) {
        if (e->hash != hash)
            continue;
        if (e->marker) {
            if (e->key_len == klen && memcmp(e->meta, key, klen) == 0)
                mark = e;
            continue;
        }
        if (!entry_matches(e, key, klen, v))
            continue;
        if (now_ms >= e->expires_ms) {
            /* Expired: one request makes it anew, the others wait for it,
             * or get the stale copy meanwhile if the app allowed that, or
             * while the app fails to make it (one tries again now and
             * then). */
            int stale_ok = max_age < 0 || entry_age(e, now_ms) <= max_age;

            if (stale_ok && e->failed && now_ms < e->error_ms &&
                (e->refreshing || !may_refill || now_ms - e->failed_ms < SRV_CACHE_RETRY_MS)) {
                touch(c, e);
                *outcome = SRV_CACHE_STALE_ERROR;
                return e;
            }
            if (stale_ok && e->refreshing && now_ms < e->stale_ms) {
                touch(c, e);
                *outcome = SRV_CACHE_STALE;
                return e;
            }
            if (e->refreshing) {
                *outcome = SRV_CACHE_WAIT;
                return e;
            }
            if (!may_refill)
                return NULL;
            e->refreshing = 1;
            *outcome = SRV_CACHE_REFILL;
            return e;
        }
        if (max_age >= 0 && entry_age(e, now_ms) > max_age)
            return NULL;
        touch(c, e);
        *outcome = SRV_CACHE_HIT;
        return e;
    }
    /* No entry answers v: its URI's first fill is under way (wait for it),
     * or its last response was not kept (the app answers), or neither
     * (this request makes the first fill). */
    if (mark != NULL && mark->refreshing) {
        *outcome = SRV_CACHE_WAIT;
        return mark;
    }
    if (mark != NULL) {
        touch(c, mark);
        return NULL;
    }
    if (!may_refill || (mark = add_marker(c, key, klen, hash)) == NULL)
        return NULL;
    *outcome = SRV_CACHE_FILL;
    return mark;
}

void srv_cache_refill_done(srv_cache_t *c, srv_cache_entry_t *e, uint64_t now_ms, int failed)
{
    e->refreshing = 0;
    /* Replaced, or a marker (which stays, to tell that the response was
     * not kept). */
    if (!e->stored || e->marker || now_ms < e->expires_ms)
        return;
    if (failed && now_ms < e->error_ms) {
        e->failed = 1;
        e->failed_ms = now_ms;
        return;
    }
    remove_entry(c, e); /* the app's new response was not kept */
}

void srv_cache_invalidate(srv_cache_t *c, const srv_request_t *v)
{
    char key[SRV_CACHE_KEY_MAX];
    size_t klen = make_key(v, NULL);
    srv_cache_entry_t *e, *next;
    uint64_t hash;

    if (klen > sizeof(key))
        return;
    make_key(v, key);
    hash = hash_bytes(c->seed, key, klen);
    for (e = c->buckets[hash & c->mask]; e != NULL; e = next) {
        next = e->hnext;
        if (e->hash == hash && e->key_len == klen && memcmp(e->meta, key, klen) == 0)
            remove_entry(c, e);
    }
}

/* ---- Answers ---- */

/* What a 304 repeats of the stored head (RFC 9110 15.4.5), with
 * Last-Modified as nginx sends it. */
static int kept_in_304(const char *name, size_t len)
{
    static const char *const names[] = {
        "date", "etag", "cache-control", "expires", "vary", "content-location", "last-modified"};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (srv_http_ieq(name, len, names[i]))
            return 1;
    return 0;
}

size_t srv_cache_head_max(const srv_cache_entry_t *e)
{
    /* 32 for Age, 32 for a 304's status line (longer than a short one). */
    return e->head_len + 64 + SRV_HTTP_FRAMING_MAX;
}

void srv_cache_answer(const srv_cache_entry_t *e, const srv_request_t *v, int is_head,
                      int keep_alive, uint64_t now_ms, char *dst, srv_cache_answer_t *a)
{
    const char *head = e->meta + e->head_off;
    srv_http_plan_t plan;
    size_t n;
    int not_modified =
        e->status == 200 && srv_http_not_modified(v->headers, v->nheaders, e->meta + e->etag_off,
                                                  e->etag_len, e->last_modified);

    if (not_modified) {
        size_t pos = e->status_line_len;

        n = srv_http_put_status_line(dst, 304, "Not Modified", 12);
        while (pos < e->head_len) {
            const char *line = head + pos, *colon = memchr(line, ':', e->head_len - pos);
            const char *end = memchr(line, '\n', e->head_len - pos);
            size_t len = (size_t)(end - line) + 1;

            if (kept_in_304(line, (size_t)(colon - line))) {
                memcpy(dst + n, line, len);
                n += len;
            }
            pos += len;
        }
    } else {
        memcpy(dst, head, e->head_len);
        n = e->head_len;
    }
    a->status = not_modified ? 304 : e->status;
    n += (size_t)snprintf(dst + n, 32, "Age: %lld\r\n", (long long)entry_age(e, now_ms));
    srv_http_plan(a->status, v->version_minor, is_head, not_modified ? -1 : (int64_t)e->body_len,
                  (int64_t)e->body_len, keep_alive, &plan);
    n += srv_http_put_framing(dst + n, &plan, v->version_minor);
    a->body = NULL;
    a->body_bytes = 0;
    if (plan.mode == SRV_BODY_LENGTH && !is_head && e->body_len > 0) {
        a->body = e->body;
        a->body_bytes = (int64_t)e->body_len;
    }
    a->head_len = n;
    a->keep_alive = plan.keep_alive;
}
