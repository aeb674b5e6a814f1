/* conn.c: the loop side of a connection: accepting, reading, the news
 * from the app thread, and the end of the connection. The input machine
 * (heads, bodies, dispatch, the next request) is in conn_input.c, output
 * in conn_write.c, timeouts in conn_timeout.c. Loop thread only. */
#include "net/conn.h"

#include <string.h>

#include "platform.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/log.h"

#define SRV_RBUF_MIN_ROOM 2048

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* ---- Memory ---- */

static void free_blocks(srv_list_t *list)
{
    srv_list_t *n;

    while ((n = srv_list_pop_head(list)) != NULL)
        srv_oblock_free(srv_list_entry(n, srv_oblock_t, link));
}

static void conn_free(srv_conn_t *c)
{
    free_blocks(&c->wq);
    free_blocks(&c->wflight);
    free_blocks(&c->x.out);
    srv_buf_free(&c->rbuf);
    srv_buf_free(&c->x.headbuf);
    srv_buf_free(&c->x.hbuf);
    srv_free(c->x.ring.data);
    srv_free(c->x.log_hdrs);
    srv_free(c->x.log_hdr_store);
    srv_cache_entry_free(c->x.cache_entry);
    srv_free(c->hdrs);
    srv_free(c);
}

/* Frees c once both the handle and the app thread are done with it. */
static void maybe_free(srv_conn_t *c)
{
    srv_worker_t *w = c->w;

    if (!c->handle_closed || c->app_busy)
        return;
    conn_free(c);
    w->nlive--;
    srv__worker_check_stopped(w);
}

static void on_close(uv_handle_t *h)
{
    srv_conn_t *c = h->data;

    c->handle_closed = 1;
    srv_list_unlink(&c->link);
    c->w->nconns--;
    if (c->x.shed) {
        uv_mutex_lock(&c->w->lock);
        c->w->shedding--;
        uv_mutex_unlock(&c->w->lock);
    }
    srv__worker_publish_conns(c->w, 0);
    maybe_free(c);
}

static srv_conn_t *conn_new(srv_worker_t *w)
{
    srv_conn_t *c = srv_calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->hdrs = srv_calloc(w->limits.max_fields, sizeof(srv_header_t));
    if (c->hdrs == NULL) {
        srv_free(c);
        return NULL;
    }
    c->w = w;
    c->tq = -1;
    srv_list_init(&c->link);
    srv_list_init(&c->tlink);
    srv_list_init(&c->wq);
    srv_list_init(&c->wflight);
    srv_list_init(&c->x.out);
    srv_list_init(&c->x.late);
    srv_list_init(&c->x.notify_link);
    srv_list_init(&c->x.held_link);
    srv_list_init(&c->x.job_link);
    srv_buf_init(&c->rbuf, w->limits.max_head > 16384 ? w->limits.max_head : 16384);
    srv_buf_init(&c->x.headbuf, w->limits.max_head);
    srv_buf_init(&c->x.hbuf, 1024 * 1024);
    c->x.w = w;
    c->x.conn = c;
    c->x.head.headers = c->hdrs;
    c->body_complete = 1;
    return c;
}

/* ---- Reading ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    srv_conn_t *c = h->data;
    srv_buf_t *b = &c->rbuf;

    (void)suggested;
    /* Slices into rbuf are never held across reads (a dispatched head is
     * copied out first, and the parser keeps offsets relative to rpos), so
     * moving the unread bytes to the front is safe. */
    if (c->rpos > 0 && (c->rpos == b->len || srv_buf_room(b) < SRV_RBUF_MIN_ROOM)) {
        memmove(b->data, b->data + c->rpos, b->len - c->rpos);
        b->len -= c->rpos;
        c->rpos = 0;
    }
    if (srv_buf_room(b) < SRV_RBUF_MIN_ROOM) {
        size_t want = b->cap ? b->cap : SRV_RBUF_INITIAL;

        if (want > b->limit - b->len)
            want = b->limit - b->len;
        if (want > 0)
            srv_buf_reserve(b, want); /* on failure, use what room there is */
    }
    buf->base = b->data ? b->data + b->len : NULL;
    buf->len = srv_buf_room(b);
}

void srv__conn_update_reading(srv_conn_t *c)
{
    int want;

    switch (c->state) {
    case SRV_CS_APP:
        if (!c->body_complete)
            want = !c->paused;
        else /* keep reading pipelined requests, up to the buffer's limit */
            want = c->rbuf.len - c->rpos < c->rbuf.limit;
        break;
    case SRV_CS_CLOSED:
        want = 0;
        break;
    default:
        want = 1;
        break;
    }
    if (c->peer_eof)
        want = 0;
    if (want && !c->reading) {
        if (uv_read_start(&c->h.stream, on_alloc, on_read) == 0)
            c->reading = 1;
    } else if (!want && c->reading) {
        uv_read_stop(&c->h.stream);
        c->reading = 0;
    }
}

/* ---- Accepting ---- */

static void peer_name(srv_conn_t *c)
{
    struct sockaddr_storage ss;
    int len = (int)sizeof(ss);
    const unsigned char *port;

    c->remote_addr[0] = '\0';
    c->remote_port = 0;
    /* A unix socket's peer is a process of this machine: a proxy, as
     * gunicorn trusts it. */
    c->trusted_proxy = c->listener->spec.is_unix;
    if (c->listener->spec.is_unix)
        return;
    if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        uv_ip4_name(in, c->remote_addr, sizeof(c->remote_addr));
        port = (const unsigned char *)&in->sin_port;
        c->trusted_proxy = srv_netmask_match(c->w->proxies, c->w->nproxies, 4,
                                             (const unsigned char *)&in->sin_addr);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        uv_ip6_name(in6, c->remote_addr, sizeof(c->remote_addr));
        port = (const unsigned char *)&in6->sin6_port;
        c->trusted_proxy = srv_netmask_match(c->w->proxies, c->w->nproxies, 6,
                                             (const unsigned char *)&in6->sin6_addr);
    } else {
        return;
    }
    /* Network byte order, read without ntohs() so core needs no OS header. */
    c->remote_port = port[0] << 8 | port[1];
}

/* A new connection: accepted here from l's handle (have_sock 0), or
 * already accepted by the worker (sock). */
static void conn_open(srv_listener_t *l, uv_os_sock_t sock, int have_sock)
{
    srv_worker_t *w = l->w;
    srv_conn_t *c = conn_new(w);
    int rc;

    if (c == NULL) {
        srv_log_error("accept: out of memory");
        if (have_sock)
            srv_plat_sock_close(sock);
        return;
    }
    c->listener = l;
    if (l->spec.is_unix)
        rc = uv_pipe_init(&w->loop, &c->h.pipe, 0);
    else
        rc = uv_tcp_init(&w->loop, &c->h.tcp);
    if (rc != 0) {
        conn_free(c);
        if (have_sock)
            srv_plat_sock_close(sock);
        return;
    }
    c->h.handle.data = c;
    srv_list_push_tail(&w->conns, &c->link);
    w->nconns++;
    srv__worker_publish_conns(w, 1);
    w->nlive++;
    if (!have_sock)
        rc = uv_accept(&l->h.stream, &c->h.stream);
    else if (l->spec.is_unix)
        rc = uv_pipe_open(&c->h.pipe, (uv_file)sock);
    else
        rc = uv_tcp_open(&c->h.tcp, sock);
    if (rc != 0 && have_sock)
        srv_plat_sock_close(sock);
    if (rc != 0) {
        c->state = SRV_CS_CLOSED;
        uv_close(&c->h.handle, on_close);
        return;
    }
    if (!l->spec.is_unix)
        uv_tcp_nodelay(&c->h.tcp, 1);
    peer_name(c);
    srv__conn_enter_head(c);
    if (w->nconns > w->max_conns || w->stopping) {
        /* Answer at once rather than let the client hang. */
        srv__conn_send_error(c, 503, w->stopping ? "shutting down" : "too many connections");
        return;
    }
    srv__conn_update_reading(c);
}

void srv_conn_accept(srv_listener_t *l)
{
    conn_open(l, (uv_os_sock_t)0, 0);
}

void srv_conn_adopt(srv_listener_t *l, uv_os_sock_t sock)
{
    conn_open(l, sock, 1);
}

/* Whether an app thread took c's request. */
static int app_started(srv_conn_t *c)
{
    int started;

    uv_mutex_lock(&c->w->lock);
    started = c->x.thread != NULL;
    uv_mutex_unlock(&c->w->lock);
    return started;
}

static void on_eof(srv_conn_t *c)
{
    c->peer_eof = 1;
    c->reading = 0; /* libuv stopped reading at EOF */
    switch (c->state) {
    case SRV_CS_APP:
        if (c->app_busy && c->body_complete && !app_started(c)) {
            /* The client sent its request and left while it waited for an
             * app thread (it gave up, as clients and proxies with a
             * timeout do under overload): it is not run. As nginx, a
             * half-close is taken for a client that left. A response
             * under way (a static file) is still sent. */
            srv__conn_abort(c, "the client left before its request ran");
            break;
        }
        if (!c->body_complete)
            srv__conn_fail_app_body(c, SRV_EBODY); /* truncated: never a short body */
        c->close_after = 1;
        srv__conn_refresh_timeout(c, 0);
        break;
    case SRV_CS_ERROR:
        c->close_after = 1;
        break;
    default:
        /* HEAD, IDLE, BODY, DRAIN, LINGER: nothing is left to answer. */
        srv__conn_abort(c, NULL);
        break;
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    srv_conn_t *c = s->data;

    (void)buf;
    if (nread > 0) {
        c->rbuf.len += (size_t)nread;
        srv__conn_process(c);
    } else if (nread == UV_EOF) {
        on_eof(c);
    } else if (nread == UV_ENOBUFS) {
        /* The read buffer is full of pipelined requests: wait. */
        uv_read_stop(s);
        c->reading = 0;
    } else if (nread < 0) {
        srv__conn_abort(c, uv_strerror((int)nread));
    }
}

/* ---- Events from the app thread ---- */

static void queue_continue(srv_conn_t *c)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    srv_oblock_t *b = srv_oblock_new(sizeof(cont) - 1);

    if (b == NULL)
        return;
    memcpy(b->data, cont, sizeof(cont) - 1);
    b->len = sizeof(cont) - 1;
    srv_list_push_tail(&c->wq, &b->link);
}

/* Resumes the requests parked until e was refilled. */
static void resume_parked(srv_worker_t *w, srv_cache_entry_t *e)
{
    srv_list_t ready, *n, *next;

    srv_list_init(&ready);
    for (n = w->cache_parked.next; n != &w->cache_parked; n = next) {
        next = n->next;
        if (srv_list_entry(n, srv_conn_t, park_link)->cache_wait == e) {
            srv_list_unlink(n);
            srv_list_push_tail(&ready, n);
        }
    }
    while ((n = srv_list_pop_head(&ready)) != NULL) {
        srv_conn_t *p = srv_list_entry(n, srv_conn_t, park_link);

        p->cache_wait = NULL;
        srv_cache_entry_release(e);
        p->app_busy = 0;
        w->in_app--;
        if (p->state == SRV_CS_CLOSED)
            maybe_free(p); /* the client left meanwhile */
        else
            srv__conn_cache_resume(p);
    }
}

/* Ends the fill the exchange made for the requests that wait for it, if
 * it made one, with a response of this status: they look again. */
static void end_fill(srv_conn_t *c, int status)
{
    srv_cache_entry_t *e = c->x.cache_refill;

    if (e == NULL)
        return;
    c->x.cache_refill = NULL;
    srv_cache_refill_done(c->w->cache, e, uv_now(&c->w->loop), status >= 500);
    resume_parked(c->w, e);
    srv_cache_entry_release(e);
}

/* What a released exchange tells `cache`: a response to keep, an entry
 * made anew (for the requests that wait for it), or an unsafe request
 * that changed what its URL names (RFC 9111 4.4: on a non-error status). */
static void note_cache(srv_conn_t *c)
{
    srv_worker_t *w = c->w;
    srv_req_t *x = &c->x;

    if (x->cache_unsafe && x->status >= 200 && x->status < 400)
        srv_cache_invalidate(w->cache, &x->view);
    if (x->cache_entry != NULL) {
        srv_cache_insert(w->cache, x->cache_entry, uv_now(&w->loop));
        x->cache_entry = NULL;
    }
    end_fill(c, x->status);
}

void srv__conn_on_app(srv_conn_t *c, unsigned events, unsigned state)
{
    if (state & X_RELEASED) {
        if (c->app_busy)
            c->w->in_app--;
        c->app_busy = 0;
        c->x.thread = NULL;
        if (c->w->cache != NULL)
            note_cache(c);
    } else if (events & EV_CACHE_PASS) {
        end_fill(c, c->x.cache_pass_status); /* the app goes on with a response not kept */
    }
    if (c->state == SRV_CS_CLOSED) {
        free_blocks(&c->wq);
        maybe_free(c);
        return;
    }
    if (events & EV_CONTINUE)
        queue_continue(c);
    if (events & EV_RESUME) {
        c->paused = 0;
        srv__conn_process(c);
        if (c->state == SRV_CS_CLOSED)
            return;
    }
    srv__conn_write_pump(c);
}

/* ---- The end ---- */

void srv__conn_stop(srv_conn_t *c, int graceful)
{
    if (c->state == SRV_CS_CLOSED)
        return;
    if (!graceful) {
        srv__conn_abort(c, NULL);
        return;
    }
    /* Exchanges in progress end with "Connection: close" if their head is
     * not out yet (req.c) and, otherwise, as srv__conn_end_exchange says. */
    if ((c->state == SRV_CS_IDLE || (c->state == SRV_CS_HEAD && c->rpos == c->rbuf.len)) &&
        !c->writing && srv_list_empty(&c->wq) && uv_now(&c->w->loop) >= c->w->idle_grace_until)
        srv__conn_abort(c, NULL);
}

void srv__conn_end_direct_locked(srv_conn_t *c)
{
    srv_req_t *x = &c->x;

    x->direct = 0;
    /* One non-blocking write: a short wait. */
    while (x->state & X_WRITING) {
        x->state |= X_WRITE_WAIT;
        uv_cond_wait(&c->w->wrote, &c->w->lock);
    }
    c->resp_bytes_total += (int64_t)x->direct_bytes;
    x->direct_bytes = 0;
}

void srv__conn_abort(srv_conn_t *c, const char *why)
{
    if (c->state == SRV_CS_CLOSED)
        return;
    if (why != NULL)
        srv_log_debug("connection from %s closed: %s", c->remote_addr, why);
    c->state = SRV_CS_CLOSED;
    srv__worker_timeout_clear(c);
    if (c->reading) {
        uv_read_stop(&c->h.stream);
        c->reading = 0;
    }
    if (c->app_busy) {
        srv_req_t *x = &c->x;

        uv_mutex_lock(&c->w->lock);
        x->state |= X_ABORTED;
        srv__conn_end_direct_locked(c);
        if (x->state & (X_WAIT_BODY | X_WAIT_OUT)) {
            x->state &= ~(X_WAIT_BODY | X_WAIT_OUT);
            uv_cond_signal(&x->thread->cond);
        }
        uv_mutex_unlock(&c->w->lock);
    }
    free_blocks(&c->wq);
    uv_close(&c->h.handle, on_close);
}
