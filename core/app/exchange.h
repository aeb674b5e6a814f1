/* exchange.h: one request/response exchange, shared by the loop thread
 * (core/net) and an app thread (core/app).
 *
 * Ownership. The exchange is embedded in its connection and reused for each
 * request on it. The loop thread fills the "loop, before dispatch" fields,
 * then hands the exchange to the app pool; from then until the app thread
 * releases it (X_RELEASED), the loop thread does not touch the "app thread"
 * fields and the app thread does not touch the connection. The "shared"
 * fields are read and written only under w->lock.
 *
 * Flow. Response bytes travel app -> loop as a list of output blocks, but
 * while nothing of the connection's output is queued (x->direct), the app
 * thread writes a large response to the socket itself: it leaves without
 * a copy and without waiting for the loop, and only what does not fit, and
 * all that follows it, takes the list. A small response's last bytes wait
 * for the release (x->late), which writes them itself while the loop
 * sleeps and no job waits, and else hands them over with its own
 * notification. Body bytes travel loop -> app through a ring buffer whose
 * two indexes are updated under the lock while the bytes themselves are
 * copied outside it (one producer, one consumer).
 * Each side wakes the other: the app thread queues the exchange on
 * w->notify_q and calls srv__worker_wake(); the loop signals the condition
 * variable of the app thread when it waits. One release wakes no one: that
 * of a keep-alive exchange whose whole response the app thread wrote itself,
 * while the loop has nothing else of the connection to handle (no bytes of
 * a next request, no body to finish; else it sets loop_waits). The loop,
 * which only has to note it, does so when it next wakes anyway: for the
 * client's next request, at the latest after SRV_HOLD_MS. */
#ifndef SRV_APP_EXCHANGE_H
#define SRV_APP_EXCHANGE_H

#include <stdint.h>
#include <uv.h>

#include "cache/cache.h"
#include "http/parser.h"
#include "http/response.h"
#include "plat_compiler.h"
#include "srv.h"
#include "util/buf.h"
#include "util/list.h"

typedef struct srv_worker_s srv_worker_t;
typedef struct srv_conn_s srv_conn_t;
typedef struct srv_pool_thread_s srv_pool_thread_t;

/* A piece of response output: bytes in data[] (or at ext), or a range
 * of a file. */
typedef struct srv_oblock_s {
    srv_list_t link;
    size_t len;                  /* bytes in data[] (or at ext) */
    size_t off;                  /* bytes of them already written (loop) */
    size_t cap;                  /* bytes allocated for data[] */
    const char *ext;             /* NULL, or bytes the block borrows instead of data[] */
    void (*ext_done)(void *arg); /* called with ext_arg when the block is freed */
    void *ext_arg;
    int app;          /* made by the app: counted in out_bytes */
    int file_fd;      /* -1, or a file to send (owned: closed with the block) */
    int64_t file_off; /* next byte of the file to send */
    int64_t file_left;
    char data[];
} srv_oblock_t;

/* Allocates a block with room for cap bytes; NULL when out of memory. */
srv_oblock_t *srv_oblock_new(size_t cap);
/* Frees a block (and closes its file, or lets go of what it borrowed). */
void srv_oblock_free(srv_oblock_t *b);

/* The bytes of a memory block. */
static inline const char *srv_oblock_bytes(const srv_oblock_t *b)
{
    return b->ext != NULL ? b->ext : b->data;
}

/* Decoded request body bytes on their way from the loop to the app. */
typedef struct srv_ring_s {
    char *data;    /* owned; NULL until a request has a body */
    size_t alloc;  /* bytes allocated */
    size_t cap;    /* bytes in use for this request (<= alloc) */
    uint64_t wpos; /* bytes ever written (loop; published under the lock) */
    uint64_t rpos; /* bytes ever read (app; published under the lock) */
} srv_ring_t;

/* State bits (shared). */
enum {
    X_BODY_DONE = 1u << 0, /* the whole body is in the ring (or was read) */
    X_BODY_ERR = 1u << 1,  /* the body failed: body_err says how */
    X_ABORTED = 1u << 2,   /* the connection is gone: stop producing */
    X_RELEASED = 1u << 3,  /* the app thread is done with the exchange */
    X_WAIT_BODY = 1u << 4, /* the app thread waits for body bytes */
    X_WAIT_OUT = 1u << 5,  /* the app thread waits for output to drain */
    X_PAUSED = 1u << 6,    /* the loop stopped reading: the ring was full */
    X_EXPECT = 1u << 7,    /* 100-continue was asked for and not answered */
    X_WRITING = 1u << 8,   /* the app thread is in a write to the socket */
    X_WRITE_WAIT = 1u << 9 /* the loop waits for that write to end */
};

/* Events for the loop (shared). */
enum {
    EV_OUT = 1u << 0,       /* output blocks were queued */
    EV_RELEASE = 1u << 1,   /* the app thread released the exchange */
    EV_CONTINUE = 1u << 2,  /* send "100 Continue" */
    EV_RESUME = 1u << 3,    /* the ring has room again */
    EV_CACHE_PASS = 1u << 4 /* the response others wait for will not be kept (cache_fill) */
};

/* Response progress (app thread): started (status and headers known),
 * planned (framing decided and written into hbuf), head queued, done. */
enum { R_NONE = 0, R_STARTED, R_PLANNED, R_HEAD_QUEUED, R_DONE };

struct srv_req_s {
    /* ---- loop, before dispatch; read-only for the app thread ---- */
    srv_request_t view;
    srv_http_head_t head;
    srv_worker_t *w;
    srv_conn_t *conn;  /* the loop's; the app thread never touches it */
    srv_buf_t headbuf; /* owned copy of the head bytes the slices point into */
    int is_head_method;
    int client_keepalive;     /* the request allows the connection to stay */
    int shed;                 /* closed after the response for balance (w->lock; w->shedding) */
    int cache_store;          /* `cache` may keep the response */
    const char *cache_status; /* what `cache` did, for the access log (static) */
    int cache_fill;           /* other requests wait for the response: what the app thread may read
                               * of cache_refill, which the loop clears at EV_CACHE_PASS */
    srv_cache_entry_t *cache_refill; /* held: the entry the response makes anew, an expired
                                      * one or a marker (loop only) */
    int cache_unsafe;  /* `cache` is on and the method is unsafe: the release drops its URL */
    int64_t start_sec; /* wall clock when the head was complete */
    int32_t start_usec;
    uint64_t start_ms; /* loop clock, same moment */
    uv_os_fd_t sock;   /* the connection's socket: written, never closed, by the app thread */

    /* ---- app thread ---- */
    srv_pool_thread_t *thread;
    int resp; /* R_* */
    int status;
    srv_buf_t hbuf; /* status line + headers until the framing is known */
    srv_http_resp_meta_t meta;
    srv_http_plan_t plan;
    int direct_off;  /* direct was seen cleared: no need to look again */
    srv_list_t late; /* a small last write's blocks, for the release (resp_out.c) */
    size_t late_bytes;
    int load_dropped;      /* srv__pool_job_ending() ran for this job */
    int cache_passed;      /* EV_CACHE_PASS was sent */
    int cache_pass_status; /* ... for a response with this status (0: none yet) */
    /* The response, captured for `cache` (owned; the loop takes it once
     * the exchange is released). */
    srv_cache_entry_t *cache_entry;
    int64_t body_sent;      /* body bytes accepted from the app */
    int64_t length_hint;    /* srv_resp_length_hint(), or -1 */
    int close_after;        /* the response must end with a close (app side) */
    srv_header_t *log_hdrs; /* copies of headers the access log wants (owned) */
    size_t nlog_hdrs;
    char *log_hdr_store; /* owned storage of their bytes */
    int64_t log_body_bytes;
    int log_status;

    /* ---- shared (w->lock) ---- */
    srv_list_t notify_link; /* in w->notify while events != 0 */
    unsigned events;        /* EV_* not yet seen by the loop */
    unsigned state;         /* X_* */
    int body_err;           /* SRV_E* with X_BODY_ERR */
    uint64_t body_received; /* raw body bytes the loop has taken in */
    srv_list_t out;         /* blocks queued by the app, not yet taken */
    srv_list_t held_link;   /* in w->held while out is held for the release */
    size_t out_bytes;       /* bytes queued and not yet written */
    int direct;             /* the app thread may write to sock itself: nothing is
                             * queued ahead, and the loop neither writes nor closes
                             * the socket without clearing this first (and waiting
                             * out X_WRITING) */
    uint64_t direct_bytes;  /* bytes the app thread wrote itself, not yet counted */
    /* The loop has more of the connection to handle once the exchange is
     * released: the release must wake it. The loop sets it without the
     * lock, as it reads, and takes the lock (drain_notifications) before it
     * sleeps: a release queued after that sees it. */
    srv_atomic_int_t loop_waits;
    int loop_close; /* the loop will close the connection after this */
    srv_ring_t ring;
    srv_list_t job_link; /* in w->jobs while waiting for a thread */
    uint64_t queued_ms;  /* loop clock when it was queued (jobs_lock) */

    /* ---- loop, while it handles a batch of notifications ---- */
    unsigned ev_seen, st_seen;
    srv_req_t *ready_next;
};

/* App side, for the pool: finishes whatever the handler left open (500 if
 * nothing was sent), then releases the exchange to the loop. rc is what the
 * handler returned. App thread. */
void srv__req_complete(srv_req_t *x, int rc);

/* Queues x on w->notify_q with events. Call with w->lock
 * held; returns nonzero when the caller must call srv__worker_wake() after
 * unlocking. */
int srv__req_notify_locked(srv_req_t *x, unsigned events);

#endif
