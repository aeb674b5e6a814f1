/* conn_input.c: a connection's input machine: request heads, bodies read
 * ahead of the app (Content-Length or chunked), the hand-off to the app
 * pool, unread bodies drained, and on to the next (pipelined) request when
 * an exchange ends. Loop thread only. */
#include "net/conn.h"

#include <string.h>

#include "app/pool.h"
#include "http/chars.h"
#include "platform.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/log.h"

#define SRV_CHUNK_LINE_MAX 4096
#define SRV_TRAILERS_MAX   (16 * 1024)
#define SRV_DRAIN_LIMIT    (64 * 1024)

void srv__conn_enter_head(srv_conn_t *c)
{
    c->state = SRV_CS_HEAD;
    memset(&c->scan, 0, sizeof(c->scan));
    srv__conn_set_timeout(c, SRV_TQ_HEAD, 1);
}

/* ---- The body ---- */

/* Moves body bytes from rbuf into the ring (decoding chunked framing) and
 * wakes the app thread if it waits. Returns 0, or an SRV_E* body error. */
static int pump_body(srv_conn_t *c)
{
    srv_req_t *x = &c->x;
    srv_worker_t *w = c->w;
    srv_ring_t *r = &x->ring;
    uint64_t wpos, rpos;
    size_t consumed = 0, produced = 0;
    int rc = 0;

    if (c->body_complete)
        return 0;
    uv_mutex_lock(&w->lock);
    rpos = r->rpos;
    uv_mutex_unlock(&w->lock);
    wpos = r->wpos;
    while (!c->body_complete) {
        size_t avail = c->rbuf.len - c->rpos;
        size_t space = r->cap - (size_t)(wpos - rpos);
        size_t off = (size_t)(wpos % r->cap);
        size_t dstcap = space < r->cap - off ? space : r->cap - off;
        const char *src = c->rbuf.data + c->rpos;
        size_t used = 0, made = 0;

        if (avail == 0)
            break;
        if (c->body_kind == SRV_BODY_CL) {
            made = avail < dstcap ? avail : dstcap;
            if (made > c->body_left)
                made = (size_t)c->body_left;
            memcpy(r->data + off, src, made);
            used = made;
            c->body_left -= made;
            if (c->body_left == 0)
                c->body_complete = 1;
        } else {
            int d =
                srv_chunked_decode(&c->chunked, src, avail, &used, r->data + off, dstcap, &made);

            if (d == 1)
                c->body_complete = 1;
            else if (d < 0)
                rc = d;
        }
        c->rpos += used;
        consumed += used;
        produced += made;
        wpos += made;
        if (rc != 0 || (used == 0 && made == 0))
            break;
    }
    /* The ring is full: stop reading until the app makes room. */
    c->paused = !c->body_complete && rc == 0 && (size_t)(wpos - rpos) == r->cap;

    uv_mutex_lock(&w->lock);
    r->wpos = wpos;
    x->body_received += consumed;
    if (produced > 0)
        x->state &= ~X_EXPECT;
    if (c->body_complete)
        x->state |= X_BODY_DONE;
    if (rc != 0) {
        x->state |= X_BODY_ERR;
        x->body_err = rc == SRV_ETOOLARGE ? SRV_ETOOLARGE : SRV_EBODY;
    }
    if (c->paused)
        x->state |= X_PAUSED;
    if ((x->state & X_WAIT_BODY) && (produced > 0 || c->body_complete || rc != 0)) {
        x->state &= ~X_WAIT_BODY;
        uv_cond_signal(&x->thread->cond);
    }
    uv_mutex_unlock(&w->lock);
    if (consumed > 0)
        srv__conn_refresh_timeout(c, 1);
    if (rc != 0)
        srv_log_debug("request body from %s rejected: %s", c->remote_addr,
                      c->chunked.why ? c->chunked.why : "");
    return rc;
}

/* Fails the body of a dispatched request: the app's next read gets err,
 * and the connection closes after the response. */
void srv__conn_fail_app_body(srv_conn_t *c, int err)
{
    srv_req_t *x = &c->x;

    uv_mutex_lock(&c->w->lock);
    x->state |= X_BODY_ERR;
    x->body_err = err;
    if (x->state & X_WAIT_BODY) {
        x->state &= ~X_WAIT_BODY;
        uv_cond_signal(&x->thread->cond);
    }
    uv_mutex_unlock(&c->w->lock);
    c->body_complete = 1; /* nothing more is read for it */
    c->close_after = 1;
}

/* ---- Starting a request ---- */

static void rebase(srv_str_t *s, const char *from, const char *to)
{
    if (s->p != NULL)
        s->p = to + (s->p - from);
}

static int is_method(srv_str_t m, const char *lit, size_t len)
{
    return m.len == len && memcmp(m.p, lit, len) == 0;
}

/* The scheme a trusted proxy tells with the headers gunicorn reads:
 * X-Forwarded-Proto: https, X-Forwarded-Ssl: on, X-Forwarded-Protocol: ssl
 * (any other value means http). Returns -1 when two of them disagree, as
 * gunicorn refuses them; a client must not pick the one that wins. */
static int forwarded_scheme(srv_request_t *v)
{
    static const struct {
        const char *name, *secure;
    } hdrs[] = {
        {"x-forwarded-proto", "https"},
        {"x-forwarded-ssl", "on"},
        {"x-forwarded-protocol", "ssl"},
    };
    int secure = -1; /* no header yet */
    size_t i, k;

    for (i = 0; i < v->nheaders; i++) {
        const srv_header_t *h = &v->headers[i];

        for (k = 0; k < sizeof(hdrs) / sizeof(hdrs[0]); k++) {
            int s;

            if (!srv_http_ieq(h->name.p, h->name.len, hdrs[k].name))
                continue;
            s = srv_http_ieq(h->value.p, h->value.len, hdrs[k].secure);
            if (secure >= 0 && s != secure)
                return -1;
            secure = s;
        }
    }
    if (secure == 1)
        v->url_scheme = "https";
    return 0;
}

/* Copies the head out of rbuf, so that rbuf can move and grow while the
 * app uses the request, and fills the request view. */
static int take_head(srv_conn_t *c, size_t head_len)
{
    srv_req_t *x = &c->x;
    srv_http_head_t *h = &x->head;
    const char *from = c->rbuf.data + c->rpos;
    size_t i;
    int rc;

    x->headbuf.len = 0;
    rc = srv_buf_append(&x->headbuf, from, head_len);
    if (rc != 0)
        return rc;
    rebase(&h->method, from, x->headbuf.data);
    rebase(&h->target, from, x->headbuf.data);
    rebase(&h->path, from, x->headbuf.data);
    rebase(&h->query, from, x->headbuf.data);
    rebase(&h->host, from, x->headbuf.data);
    for (i = 0; i < h->nheaders; i++) {
        rebase(&h->headers[i].name, from, x->headbuf.data);
        rebase(&h->headers[i].value, from, x->headbuf.data);
    }
    c->rpos += head_len;

    x->view.method = h->method;
    x->view.target = h->target;
    x->view.path = h->path;
    x->view.query = h->query;
    x->view.host = h->host;
    x->view.version_minor = h->version_minor;
    x->view.headers = h->headers;
    x->view.nheaders = h->nheaders;
    x->view.content_length = (h->flags & SRV_HEAD_CHUNKED) ? -1 : h->content_length;
    x->view.chunked = (h->flags & SRV_HEAD_CHUNKED) != 0;
    x->view.remote_addr = c->remote_addr;
    x->view.remote_port = c->remote_port;
    x->view.server_name = c->listener->spec.host;
    x->view.server_port = c->listener->spec.port;
    x->view.url_scheme = "http";
    x->is_head_method = is_method(h->method, "HEAD", 4);
    if (h->version_minor >= 1)
        x->client_keepalive = !(h->flags & SRV_HEAD_CONN_CLOSE);
    else
        x->client_keepalive =
            (h->flags & SRV_HEAD_CONN_KEEPALIVE) && !(h->flags & SRV_HEAD_CONN_CLOSE);
    srv_time_now(&x->start_sec, &x->start_usec);
    x->start_ms = uv_now(&c->w->loop);
    return 0;
}

/* Resets the exchange for a new request. The app thread released it, so
 * no lock is needed. */
static void reset_exchange(srv_conn_t *c)
{
    srv_req_t *x = &c->x;

    x->thread = NULL;
    x->resp = R_NONE;
    x->status = 0;
    x->body_sent = 0;
    x->close_after = 0;
    x->nlog_hdrs = 0;
    x->log_body_bytes = 0;
    x->log_status = 0;
    x->cache_store = 0;
    x->cache_status = NULL;
    x->cache_fill = 0;
    x->cache_passed = 0;
    x->cache_unsafe = 0;
    x->plan.keep_alive = 0;
    x->events = 0;
    x->state = 0;
    x->body_err = 0;
    x->body_received = 0;
    x->out_bytes = 0;
    x->loop_close = 0;
    x->ring.rpos = x->ring.wpos = 0;
    c->body_kind = SRV_BODY_NONE_;
    c->body_left = 0;
    c->body_complete = 1;
    c->paused = 0;
    c->deadline_hit = 0;
    c->resp_bytes_total = 0;
}

/* The request is with the app from now on (an app thread, or a refill it
 * waits for): the connection is busy until the release. */
static void enter_app(srv_conn_t *c)
{
    c->state = SRV_CS_APP;
    c->app_busy = 1;
    c->w->in_app++;
    srv__conn_refresh_timeout(c, 0);
    srv__conn_update_reading(c);
}

static void dispatch(srv_conn_t *c)
{
    srv_req_t *x = &c->x;

    /* The app thread may write its response itself: the previous one is
     * out (the next request starts only then), and so is anything else. */
    x->direct = c->w->direct_send && !c->writing && srv_list_empty(&c->wq) &&
                uv_fileno(&c->h.handle, &x->sock) == 0;
    x->direct_off = !x->direct;
    x->direct_bytes = 0;
    srv_atomic_store(&x->loop_waits, !c->body_complete || c->rpos < c->rbuf.len);
    enter_app(c);
    srv__pool_dispatch(c->w, &c->x);
}

/* Whether a request in BODY may go to the app now: its body is complete,
 * or the read-ahead buffer is full (the app streams the rest), or the
 * client waits for 100-continue before it sends anything. */
static int ready_for_app(srv_conn_t *c)
{
    srv_ring_t *r = &c->x.ring;

    if (c->body_complete || r->wpos - r->rpos == r->cap)
        return 1;
    return (c->x.state & X_EXPECT) && c->x.body_received == 0;
}

/* A file up to this size goes out with its head, in one write: read into
 * memory rather than sent with sendfile after the head (a second syscall
 * and packet). */
#define SRV_STATIC_INLINE_MAX (16 * 1024)

/* Sends what the loop queued on c->wq to answer the request itself; the
 * exchange then ends as one the app released (srv__conn_output_idle). */
static void send_loop_answer(srv_conn_t *c, int status, int64_t body_bytes, int keep_alive)
{
    c->x.log_status = status;
    c->x.log_body_bytes = body_bytes;
    if (!keep_alive)
        c->close_after = 1;
    c->state = SRV_CS_APP;
    srv__conn_refresh_timeout(c, 1);
    srv__conn_update_reading(c);
    srv__conn_write_pump(c);
}

/* Answers a request without a body from `static` if it names a file
 * there: the loop writes the head and the file, and the exchange ends as
 * one the app released (srv__conn_output_idle). Returns 0 to leave the
 * request to the app. */
static int answer_static(srv_conn_t *c)
{
    srv_worker_t *w = c->w;
    srv_req_t *x = &c->x;
    srv_static_answer_t a;
    srv_oblock_t *hb, *fb = NULL;
    char head[SRV_STATIC_HEAD_MAX];
    size_t inline_len;

    if (!srv_static_answer(&w->statics, &x->view, x->is_head_method,
                           x->client_keepalive && w->keepalive_on && !w->stopping, head, &a))
        return 0;
    inline_len = a.fd >= 0 && a.size <= SRV_STATIC_INLINE_MAX ? (size_t)a.size : 0;
    hb = srv_oblock_new(a.head_len + inline_len);
    if (hb != NULL && a.fd >= 0 && inline_len == 0) {
        fb = srv_oblock_new(0);
        if (fb == NULL) {
            srv_oblock_free(hb);
            hb = NULL;
        }
    }
    if (hb == NULL) {
        if (a.fd >= 0)
            srv_plat_fd_close(a.fd);
        srv__conn_send_error(c, 503, "out of memory");
        return 1;
    }
    memcpy(hb->data, head, a.head_len);
    hb->len = a.head_len;
    if (inline_len > 0) {
        uv_buf_t ub = uv_buf_init(hb->data + a.head_len, (unsigned)inline_len);
        uv_fs_t req;
        int r = uv_fs_read(NULL, &req, a.fd, &ub, 1, a.offset, NULL);

        uv_fs_req_cleanup(&req);
        srv_plat_fd_close(a.fd);
        if (r != (int)inline_len) { /* it changed since its size was read */
            srv_oblock_free(hb);
            srv__conn_send_error(c, 503, "the file changed while it was read");
            return 1;
        }
        hb->len += inline_len;
    }
    srv_list_push_tail(&c->wq, &hb->link);
    if (fb != NULL) {
        fb->file_fd = a.fd;
        fb->file_off = a.offset;
        fb->file_left = a.size;
        srv_list_push_tail(&c->wq, &fb->link);
    }
    send_loop_answer(c, a.status, a.fd >= 0 ? a.size : 0, a.keep_alive);
    return 1;
}

/* Parks a request whose cache entry another request is refilling: it
 * waits, as if with the app, for that one's release (srv__conn_cache_resume). */
static void park(srv_conn_t *c, srv_cache_entry_t *e)
{
    srv_cache_entry_hold(e);
    c->cache_wait = e;
    srv_list_push_tail(&c->w->cache_parked, &c->park_link);
    enter_app(c);
}

/* What the access log's %(C)s says of each outcome of srv_cache_lookup
 * (nginx's $upstream_cache_status); a request that waits is logged with
 * the outcome of its next look. */
static const char *const cache_status[] = {
    [SRV_CACHE_MISS] = "MISS",         [SRV_CACHE_HIT] = "HIT",
    [SRV_CACHE_STALE] = "UPDATING",    [SRV_CACHE_FILL] = "MISS",
    [SRV_CACHE_REFILL] = "EXPIRED",    [SRV_CACHE_WAIT] = NULL,
    [SRV_CACHE_STALE_ERROR] = "STALE",
};

/* Answers a GET or HEAD without a body from `cache` if it holds a copy
 * that may answer it, as answer_static does, or parks it while another
 * request makes that copy; else notes whether the app's response may be
 * kept (and whether others wait for it). Returns 0 to leave the request
 * to the app. */
static int answer_cached(srv_conn_t *c)
{
    srv_worker_t *w = c->w;
    srv_req_t *x = &c->x;
    srv_cache_entry_t *e;
    srv_cache_answer_t a;
    srv_oblock_t *hb, *bb = NULL;
    int64_t max_age;
    uint64_t now = uv_now(&w->loop);
    unsigned bits = srv_cache_request(&x->view, &max_age);
    int only = (bits & SRV_CACHE_ONLY_CACHED) != 0, outcome = SRV_CACHE_MISS;

    /* A request that must not reach the app refills nothing. */
    x->cache_store = (bits & SRV_CACHE_STORE) != 0 && !only;
    e = (bits & SRV_CACHE_LOOKUP)
            ? srv_cache_lookup(w->cache, &x->view, max_age, now, x->cache_store, &outcome)
            : NULL;
    x->cache_status = bits == 0                    ? NULL /* not the cache's business */
                      : !(bits & SRV_CACHE_LOOKUP) ? "BYPASS"
                                                   : cache_status[outcome];
    if (outcome == SRV_CACHE_MISS && only) {
        srv__conn_send_error(c, 504, "only-if-cached, and no copy is kept");
        return 1;
    }
    if (outcome == SRV_CACHE_MISS)
        return 0;
    if (outcome == SRV_CACHE_FILL || outcome == SRV_CACHE_REFILL) {
        srv_cache_entry_hold(e);
        x->cache_refill = e;
        x->cache_fill = 1;
        return 0;
    }
    if (outcome == SRV_CACHE_WAIT) {
        park(c, e);
        return 1;
    }
    hb = srv_oblock_new(srv_cache_head_max(e));
    if (hb == NULL)
        return 0; /* the app answers */
    srv_cache_answer(e, &x->view, x->is_head_method,
                     x->client_keepalive && w->keepalive_on && !w->stopping, now, hb->data, &a);
    hb->len = a.head_len;
    if (a.body != NULL) {
        /* The body goes out from the entry, which stays until it is sent. */
        bb = srv_oblock_new(0);
        if (bb == NULL) {
            srv_oblock_free(hb);
            return 0;
        }
        bb->ext = a.body;
        bb->len = (size_t)a.body_bytes;
        bb->ext_done = srv_cache_entry_release;
        bb->ext_arg = e;
        srv_cache_entry_hold(e);
    }
    srv_list_push_tail(&c->wq, &hb->link);
    if (bb != NULL)
        srv_list_push_tail(&c->wq, &bb->link);
    send_loop_answer(c, a.status, a.body_bytes, a.keep_alive);
    return 1;
}

void srv__conn_cache_resume(srv_conn_t *c)
{
    if (!answer_cached(c))
        dispatch(c);
}

static void start_request(srv_conn_t *c, size_t head_len)
{
    srv_worker_t *w = c->w;
    srv_req_t *x = &c->x;
    srv_http_head_t *h = &x->head;
    size_t cap;
    int rc;

    reset_exchange(c);
    rc = take_head(c, head_len);
    if (rc != 0) {
        srv__conn_send_error(c, 431, "request head too large");
        return;
    }
    if (c->trusted_proxy && forwarded_scheme(&x->view) != 0) {
        srv__conn_send_error(c, 400, "contradictory scheme headers");
        return;
    }
    if (w->cache != NULL)
        x->cache_unsafe = srv_cache_method_unsafe(x->view.method.p, x->view.method.len);
    if (h->flags & SRV_HEAD_CHUNKED) {
        c->body_kind = SRV_BODY_CHUNKED_;
        srv_chunked_init(&c->chunked, (uint64_t)w->max_body, SRV_CHUNK_LINE_MAX, SRV_TRAILERS_MAX);
        cap = w->body_buffer;
    } else if (h->content_length > 0) {
        if (h->content_length > w->max_body) {
            srv__conn_send_error(c, 413, "request body larger than limit_request_body");
            return;
        }
        c->body_kind = SRV_BODY_CL;
        c->body_left = (uint64_t)h->content_length;
        /* A body smaller than the read-ahead buffer gets a ring of its
         * size, so that "ring full" and "body complete" coincide. */
        cap = (uint64_t)h->content_length < w->body_buffer ? (size_t)h->content_length
                                                           : w->body_buffer;
    } else {
        if ((w->statics.n == 0 || !answer_static(c)) && (w->cache == NULL || !answer_cached(c)))
            dispatch(c);
        return;
    }
    c->body_complete = 0;
    if (h->flags & SRV_HEAD_EXPECT_CONTINUE)
        x->state |= X_EXPECT;
    if (x->ring.data == NULL || x->ring.alloc < cap) {
        char *p = srv_realloc(x->ring.data, cap);

        if (p == NULL) {
            srv__conn_send_error(c, 503, "out of memory");
            return;
        }
        x->ring.data = p;
        x->ring.alloc = cap;
    }
    x->ring.cap = cap;
    c->state = SRV_CS_BODY;
    srv__conn_set_timeout(c, SRV_TQ_BODY, 1);
    rc = pump_body(c);
    if (rc != 0) {
        srv__conn_send_error(c, rc == SRV_ETOOLARGE ? 413 : 400, c->chunked.why);
        return;
    }
    if (ready_for_app(c))
        dispatch(c);
}

/* ---- The input machine ---- */

static void drain_body(srv_conn_t *c)
{
    size_t avail = c->rbuf.len - c->rpos;

    if (c->body_kind == SRV_BODY_CL) {
        size_t n = avail < c->body_left ? avail : (size_t)c->body_left;

        c->rpos += n;
        c->body_left -= n;
        c->drained += n;
        if (c->body_left == 0)
            c->body_complete = 1;
    } else {
        char *p = c->rbuf.data + c->rpos;
        size_t used = 0, made = 0;
        int d = srv_chunked_decode(&c->chunked, p, avail, &used, p, avail, &made);

        c->rpos += used;
        c->drained += used;
        if (d == 1)
            c->body_complete = 1;
        else if (d < 0)
            c->close_after = 1;
    }
    if (c->drained > SRV_DRAIN_LIMIT)
        c->close_after = 1;
}

static void next_request(srv_conn_t *c)
{
    if (c->rpos < c->rbuf.len) {
        srv__conn_enter_head(c);
        return;
    }
    c->state = SRV_CS_IDLE;
    srv__conn_set_timeout(c, SRV_TQ_IDLE, 1);
    /* An idle connection holds no large read buffer. */
    if (c->rbuf.cap > SRV_RBUF_INITIAL * 4) {
        srv_buf_free(&c->rbuf);
        c->rpos = 0;
    }
}

void srv__conn_process(srv_conn_t *c)
{
    srv_worker_t *w = c->w;

    for (;;) {
        switch (c->state) {
        case SRV_CS_IDLE:
            if (c->rpos == c->rbuf.len)
                goto out;
            srv__conn_enter_head(c);
            break;
        case SRV_CS_HEAD: {
            int rc;

            if (c->rpos == c->rbuf.len)
                goto out;
            rc = srv_http_parse_request(&c->scan, c->rbuf.data + c->rpos, c->rbuf.len - c->rpos,
                                        &w->limits, &c->x.head);
            if (rc == SRV_EAGAIN)
                goto out;
            if (rc < 0) {
                srv_log_debug("bad request from %s: %s", c->remote_addr, c->x.head.why);
                srv__conn_send_error(c, c->x.head.status, c->x.head.why);
                return;
            }
            start_request(c, (size_t)rc);
            if (c->state != SRV_CS_APP)
                return;
            goto out;
        }
        case SRV_CS_BODY: {
            int rc = pump_body(c);

            if (rc != 0) {
                srv__conn_send_error(c, rc == SRV_ETOOLARGE ? 413 : 400, c->chunked.why);
                return;
            }
            if (ready_for_app(c))
                dispatch(c);
            goto out;
        }
        case SRV_CS_APP:
            if (!c->body_complete) {
                int rc = pump_body(c);

                if (rc != 0)
                    srv__conn_fail_app_body(c, rc == SRV_ETOOLARGE ? SRV_ETOOLARGE : SRV_EBODY);
                srv__conn_refresh_timeout(c, 0);
            } else if (c->rpos < c->rbuf.len) {
                /* A next request is here while this exchange is the app's
                 * (pipelined, or sent before the loop noted a release that
                 * woke no one): the release must wake the loop. */
                srv_atomic_store(&c->x.loop_waits, 1);
            }
            goto out;
        case SRV_CS_DRAIN:
            drain_body(c);
            if (c->close_after) {
                srv__conn_close_gently(c);
                return;
            }
            if (!c->body_complete)
                goto out;
            next_request(c);
            break;
        case SRV_CS_LINGER:
        case SRV_CS_ERROR:
            c->rpos = c->rbuf.len; /* discard */
            goto out;
        default:
            return;
        }
    }
out:
    srv__conn_update_reading(c);
}

/* ---- The end ---- */

static void log_access(srv_conn_t *c)
{
    srv_worker_t *w = c->w;
    srv_req_t *x = &c->x;
    srv_access_entry_t e;

    e.remote_addr = c->remote_addr[0] ? c->remote_addr : "-";
    e.method = x->view.method;
    e.target = x->view.target;
    e.path = x->view.path;
    e.query = x->view.query;
    e.version_minor = x->view.version_minor;
    e.status = x->log_status;
    e.body_bytes = x->log_body_bytes;
    e.start_sec = x->start_sec;
    e.start_usec = x->start_usec;
    e.duration_us = (int64_t)(uv_now(&w->loop) - x->start_ms) * 1000;
    e.req_headers = x->view.headers;
    e.nreq = x->view.nheaders;
    e.resp_headers = x->log_hdrs;
    e.nresp = x->nlog_hdrs;
    e.cache = x->cache_status;
    srv_accesslog_write(w->accesslog, &e);
}

void srv__conn_end_exchange(srv_conn_t *c)
{
    srv_worker_t *w = c->w;

    w->nrequests++;
    if (w->accesslog != NULL)
        log_access(c);
    /* Stopping, a connection whose response promised keep-alive stays
     * open while idle connections do (idle_grace_until): the client's
     * next request, maybe on its way, gets an answer with
     * "Connection: close" rather than a closed connection. */
    if (c->x.loop_close || c->close_after || c->peer_eof || !w->keepalive_on ||
        (w->stopping && w->idle_grace_until == 0)) {
        srv__conn_close_gently(c);
        return;
    }
    if (!c->body_complete) {
        /* The app did not read the whole body: discard the rest. */
        c->state = SRV_CS_DRAIN;
        c->drained = 0;
        srv__conn_set_timeout(c, SRV_TQ_BODY, 1);
    } else {
        next_request(c);
    }
    srv__conn_process(c);
}
