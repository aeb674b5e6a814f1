/* conn.h: a client connection, owned and driven by the loop thread.
 *
 * A connection moves through these states:
 *   HEAD    reading a request head (header_timeout from its first byte, or
 *           from accept)
 *   IDLE    keep-alive, nothing received yet (keepalive)
 *   BODY    head parsed, reading the body ahead of the app (body_timeout
 *           between reads) until it is complete, fills the read-ahead
 *           buffer, or the client expects 100-continue
 *   APP     the app thread has the exchange; the loop keeps streaming the
 *           body into the ring and writing what the app queues
 *   DRAIN   the response is out; discarding the unread rest of the body
 *   ERROR   writing a response srv makes itself (400, 408, 413, 503...);
 *           input is discarded; then LINGER
 *   LINGER  the write side is shut; reading and discarding until the
 *           client closes, so that the kernel does not answer unread bytes
 *           with a reset that could destroy the response
 *   CLOSED  uv_close() was called; the memory goes once the handle is
 *           closed and the app thread has released the exchange. */
#ifndef SRV_NET_CONN_H
#define SRV_NET_CONN_H

#include <stdint.h>
#include <uv.h>

#include "app/exchange.h"
#include "http/chunked.h"
#include "http/parser.h"
#include "server/worker.h"
#include "util/buf.h"
#include "util/list.h"

typedef enum srv_conn_state_e {
    SRV_CS_HEAD = 0,
    SRV_CS_IDLE,
    SRV_CS_BODY,
    SRV_CS_APP,
    SRV_CS_DRAIN,
    SRV_CS_ERROR,
    SRV_CS_LINGER,
    SRV_CS_CLOSED
} srv_conn_state_t;

enum { SRV_BODY_NONE_ = 0, SRV_BODY_CL, SRV_BODY_CHUNKED_ };

#define SRV_CONN_MAX_WBUFS 64

struct srv_conn_s {
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_stream_t stream;
        uv_handle_t handle;
    } h;
    srv_worker_t *w;
    srv_listener_t *listener;
    srv_list_t link;  /* w->conns */
    srv_list_t tlink; /* w->tq[tq], when tq >= 0 */
    int tq;
    uint64_t deadline;
    srv_conn_state_t state;

    int reading;       /* uv_read_start() is active */
    int peer_eof;      /* the client shut its write side */
    int app_busy;      /* dispatched and not yet released by the app */
    int handle_closed; /* the handle's close callback ran */
    int close_after;   /* close once the current response is out */
    int deadline_hit;  /* the running request passed `timeout` */
    int paused;        /* body reading stopped: the ring is full */

    srv_buf_t rbuf; /* bytes read; [rpos, len) not consumed yet */
    size_t rpos;
    srv_http_scan_t scan;
    srv_header_t *hdrs; /* owned; limits.max_fields entries */

    /* The body, as the loop reads it. */
    int body_kind;
    uint64_t body_left; /* SRV_BODY_CL: raw bytes still to come */
    srv_chunked_t chunked;
    int body_complete;
    size_t drained; /* body bytes discarded in DRAIN */

    /* Output. */
    srv_list_t wq;      /* blocks to write, in order */
    srv_list_t wflight; /* blocks in the active uv_write */
    size_t wflight_bytes;
    int writing;
    uv_write_t wreq;
    uv_buf_t wbufs[SRV_CONN_MAX_WBUFS];
    uv_shutdown_t sreq;
    size_t wq_seen;           /* libuv's write queue size at the last progress check */
    int64_t resp_bytes_total; /* bytes written for the current response */

    char remote_addr[64];
    int remote_port;
    int trusted_proxy; /* the peer may tell the scheme (forwarded_allow_ips) */

    /* `cache`: the entry (an expired copy, or a URL's marker) this request
     * waits for (held) while another request makes it; the connection is
     * on w->cache_parked meanwhile, and counts as busy in the app
     * (app_busy). */
    srv_cache_entry_t *cache_wait;
    srv_list_t park_link;

    srv_req_t x; /* the exchange of the current request */
};

/* Accepts one connection from l's libuv handle (loop thread). */
void srv_conn_accept(srv_listener_t *l);
/* Serves sock, a connection the worker took from l itself (loop thread);
 * the connection owns sock from now on, even on failure. */
void srv_conn_adopt(srv_listener_t *l, uv_os_sock_t sock);
/* Applies what the app thread posted for x (loop thread). state is x->state
 * read under the lock together with events. */
void srv__conn_on_app(srv_conn_t *c, unsigned events, unsigned state);
/* Looks again for the cache entry of a request that waited for a refill,
 * now no longer parked: answers from it, or hands the request to the app. */
void srv__conn_cache_resume(srv_conn_t *c);
/* A deadline on c's timeout list passed (loop thread). */
void srv__conn_on_timeout(srv_conn_t *c);
/* Checks the running request against `timeout` (loop thread): past it,
 * the request is logged with the app's stack, answered 504 if nothing was
 * sent (else the connection closes), abandoned by srv, and the worker
 * retires. */
void srv__conn_check_deadline(srv_conn_t *c, uint64_t now);

/* The worker is stopping: close c if it is idle, else let it finish its
 * exchange and close (graceful), or close it now (loop thread). */
void srv__conn_stop(srv_conn_t *c, int graceful);

/* ---- Between conn.c, conn_input.c, conn_write.c and conn_timeout.c ---- */

/* The read buffer a connection starts with (bytes). */
#define SRV_RBUF_INITIAL 4096

/* Waits for a request head (a new one, or the next pipelined one). */
void srv__conn_enter_head(srv_conn_t *c);

/* Starts writing whatever is queued, if no write is active. */
void srv__conn_write_pump(srv_conn_t *c);
/* Queues a response srv writes itself (an error) and closes after it. */
void srv__conn_send_error(srv_conn_t *c, int status, const char *why);
/* Called when nothing is queued or in flight any more. */
void srv__conn_output_idle(srv_conn_t *c);
/* Takes the socket back from the app thread of c's exchange: it writes no
 * more to it, and a write it is in has ended (the bytes are counted in
 * resp_bytes_total). Call with w->lock held, before the loop writes to or
 * closes a socket whose exchange is in the app. */
void srv__conn_end_direct_locked(srv_conn_t *c);
/* Closes at once (reset, timeout, error): the app sees X_ABORTED. */
void srv__conn_abort(srv_conn_t *c, const char *why);
/* Shuts the write side and lingers before closing. */
void srv__conn_close_gently(srv_conn_t *c);
/* The exchange is over (response written, app released): log it and go
 * on with the next request, draining, or closing. */
void srv__conn_end_exchange(srv_conn_t *c);
/* Runs the input machine on what is buffered. */
void srv__conn_process(srv_conn_t *c);
/* Keeps reading on or off as the state needs. */
void srv__conn_update_reading(srv_conn_t *c);
/* Puts c on the timeout list its state needs; progress gives a new
 * deadline, anything else keeps the one running. */
void srv__conn_refresh_timeout(srv_conn_t *c, int progress);
/* Puts c on timeout list tq (< 0: none); progress restarts its deadline
 * even when tq is the one running. */
void srv__conn_set_timeout(srv_conn_t *c, int tq, int progress);
/* Fails the body of a dispatched request: the app's next read gets err,
 * and the connection closes after the response. */
void srv__conn_fail_app_body(srv_conn_t *c, int err);

#endif
