/* req.c: the app-thread side of an exchange: reading the body and writing
 * the response (the srv_req_* and srv_resp_* functions of srv.h). How the
 * response's bytes travel to the socket is resp_out.c's.
 *
 * Everything here runs on the app thread that was handed the exchange. The
 * response head is formatted here, not on the loop thread, so that the
 * single loop thread only moves bytes. */
#include <string.h>
#include <uv.h>

#include "app/exchange.h"
#include "app/pool.h"
#include "app/resp_out.h"
#include "http/response.h"
#include "platform.h"
#include "server/worker.h"
#include "util/alloc.h"
#include "util/log.h"

/* The most the loop drains of an unread body before it prefers to close
 * the connection, and the largest response head. */
#define SRV_DRAIN_MAX     (64 * 1024)
#define SRV_RESP_HEAD_MAX (1024 * 1024)

int srv__req_notify_locked(srv_req_t *x, unsigned events)
{
    x->events |= events;
    if (srv_list_linked(&x->notify_link))
        return 0;
    srv_list_push_tail(&x->w->notify_q, &x->notify_link);
    return 1;
}

const srv_request_t *srv_req_request(const srv_req_t *req)
{
    return &req->view;
}

int srv_resp_started(const srv_req_t *req)
{
    return req->resp != R_NONE;
}

/* Waits until the loop clears waitflag (it does when it signals). Called
 * and returns with w->lock held. The app's wait hooks run outside the lock:
 * they may block on an interpreter lock that a thread holding w->lock would
 * never get. */
void srv__req_wait(srv_req_t *x, unsigned waitflag)
{
    srv_worker_t *w = x->w;
    void *token = NULL;

    x->state |= waitflag;
    uv_mutex_unlock(&w->lock);
    /* While this thread waits, a queued job may run (pool.c). */
    srv__pool_blocking(w, 1);
    if (w->app.wait_begin != NULL)
        token = w->app.wait_begin(w->app.data);
    uv_mutex_lock(&w->lock);
    while (x->state & waitflag)
        uv_cond_wait(&x->thread->cond, &w->lock);
    uv_mutex_unlock(&w->lock);
    if (w->app.wait_end != NULL)
        w->app.wait_end(w->app.data, token);
    srv__pool_blocking(w, 0);
    uv_mutex_lock(&w->lock);
}

/* ---- The body ---- */

int srv_req_read(srv_req_t *x, void *buf, size_t cap, size_t *nread)
{
    srv_worker_t *w = x->w;
    srv_ring_t *r = &x->ring;
    int send = 0, rc = 0;
    uint64_t avail;
    size_t off, n;

    *nread = 0;
    if (cap == 0 || (x->view.content_length <= 0 && !x->view.chunked))
        return 0;
    uv_mutex_lock(&w->lock);
    for (;;) {
        avail = r->wpos - r->rpos;
        if (avail > 0)
            break;
        if (x->state & X_BODY_ERR) {
            rc = x->body_err;
            goto out;
        }
        if (x->state & X_BODY_DONE)
            goto out;
        if (x->state & X_ABORTED) {
            rc = SRV_ECONNRESET;
            goto out;
        }
        if (x->state & X_EXPECT) {
            /* The client waits for our go-ahead; too late once a response
             * has started, and then the connection closes after it. */
            x->state &= ~X_EXPECT;
            if (x->resp == R_NONE) {
                send |= srv__req_notify_locked(x, EV_CONTINUE);
                x->direct = 0; /* the loop writes the 100 first */
            }
        }
        if (send) {
            srv__worker_wake(w);
            send = 0;
        }
        srv__req_wait(x, X_WAIT_BODY);
    }
    off = (size_t)(r->rpos % r->cap);
    n = (size_t)(avail < cap ? avail : cap);
    if (n > r->cap - off)
        n = r->cap - off;
    uv_mutex_unlock(&w->lock);
    /* The loop writes only outside [rpos, wpos): these bytes are ours. */
    memcpy(buf, r->data + off, n);
    uv_mutex_lock(&w->lock);
    r->rpos += n;
    *nread = n;
    if ((x->state & X_PAUSED) && r->wpos - r->rpos <= r->cap / 2) {
        x->state &= ~X_PAUSED;
        send = srv__req_notify_locked(x, EV_RESUME);
    }
out:
    uv_mutex_unlock(&w->lock);
    if (send)
        srv__worker_wake(w);
    return rc;
}

/* ---- The response ---- */

static int name_ieq(srv_str_t a, srv_str_t b)
{
    size_t i;

    if (a.len != b.len)
        return 0;
    for (i = 0; i < a.len; i++)
        if ((a.p[i] | 0x20) != (b.p[i] | 0x20))
            return 0;
    return 1;
}

/* Copies the values of the response headers the access log asks for, so
 * that the loop can log them after the app's array is gone. */
static void capture_log_headers(srv_req_t *x, const srv_header_t *h, size_t n)
{
    const srv_str_t *names;
    size_t nn, i, j, bytes = 0, k = 0;
    char *store;

    x->nlog_hdrs = 0;
    if (x->w->accesslog == NULL)
        return;
    names = srv_accesslog_resp_names(x->w->accesslog, &nn);
    if (nn == 0)
        return;
    srv_free(x->log_hdrs);
    srv_free(x->log_hdr_store);
    for (i = 0; i < n; i++)
        bytes += h[i].name.len + h[i].value.len;
    x->log_hdrs = srv_calloc(n + 1, sizeof(srv_header_t));
    store = x->log_hdr_store = srv_malloc(bytes + 1);
    if (x->log_hdrs == NULL || store == NULL)
        return;
    for (i = 0; i < n; i++) {
        for (j = 0; j < nn && !name_ieq(names[j], h[i].name); j++)
            ;
        if (j == nn)
            continue;
        memcpy(store, h[i].name.p, h[i].name.len);
        x->log_hdrs[k].name.p = store;
        x->log_hdrs[k].name.len = h[i].name.len;
        store += h[i].name.len;
        memcpy(store, h[i].value.p, h[i].value.len);
        x->log_hdrs[k].value.p = store;
        x->log_hdrs[k].value.len = h[i].value.len;
        store += h[i].value.len;
        k++;
    }
    x->nlog_hdrs = k;
}

/* Tells the loop, once, that the response other requests wait for
 * (cache_refill) will not be kept: they need not wait for its end, which
 * may be far (a stream). */
static void cache_pass(srv_req_t *x)
{
    srv_worker_t *w = x->w;
    int send;

    if (!x->cache_fill || x->cache_passed)
        return;
    x->cache_passed = 1;
    x->cache_pass_status = x->status;
    uv_mutex_lock(&w->lock);
    send = srv__req_notify_locked(x, EV_CACHE_PASS);
    uv_mutex_unlock(&w->lock);
    if (send)
        srv__worker_wake(w);
}

/* Stops capturing the response for `cache`: it is not to be kept. */
static void cache_drop(srv_req_t *x)
{
    srv_cache_entry_free(x->cache_entry);
    x->cache_entry = NULL;
    cache_pass(x);
}

/* Starts capturing the response for `cache` if the request allows it and
 * the app marked the response for a shared cache. */
static void cache_start(srv_req_t *x, int status, const char *reason, const srv_header_t *h,
                        size_t n)
{
    srv_cache_life_t life;

    srv_cache_entry_free(x->cache_entry);
    x->cache_entry = NULL;
    if (x->cache_store && srv_cache_lifetime(status, h, n, &life) > 0)
        x->cache_entry =
            srv_cache_capture_start(&x->view, status, reason, h, n, &life, x->w->cache_entry_max);
    if (x->cache_entry == NULL)
        cache_pass(x);
}

int srv_resp_start(srv_req_t *x, int status, const char *reason, const srv_header_t *headers,
                   size_t nheaders)
{
    srv_buf_t *hb = &x->hbuf;
    size_t rl, i;
    const char *why = NULL;
    int rc;

    if (x->resp != R_NONE)
        return SRV_ESTATE;
    if (!srv_http_status_valid(status)) {
        srv_log_error("app response: invalid status %d", status);
        return SRV_EINVAL;
    }
    if (reason == NULL)
        reason = srv_http_reason(status);
    rl = strlen(reason);
    if (!srv_http_reason_valid(reason, rl)) {
        srv_log_error("app response: invalid reason phrase for status %d", status);
        return SRV_EINVAL;
    }
    hb->len = 0;
    hb->limit = SRV_RESP_HEAD_MAX;
    x->meta.content_length = -1;
    x->meta.close = 0;
    x->meta.has_date = 0;
    rc = srv_buf_reserve(hb, SRV_HTTP_STATUS_LINE_MAX(rl) + SRV_HTTP_DATE_LINE_LEN);
    if (rc != 0)
        goto fail;
    hb->len = srv_http_put_status_line(hb->data, status, reason, rl);
    for (i = 0; i < nheaders; i++) {
        const srv_header_t *h = &headers[i];

        rc = srv_http_resp_header(h, &x->meta, &why);
        if (rc < 0) {
            srv_log_error("app response: %s (header %.*s)", why,
                          (int)(h->name.len > 64 ? 64 : h->name.len), h->name.p);
            goto fail;
        }
        if (rc == SRV_HDR_DROP)
            continue;
        rc = srv_buf_reserve(hb, h->name.len + h->value.len + 4);
        if (rc != 0)
            goto fail;
        memcpy(hb->data + hb->len, h->name.p, h->name.len);
        hb->len += h->name.len;
        hb->data[hb->len++] = ':';
        hb->data[hb->len++] = ' ';
        memcpy(hb->data + hb->len, h->value.p, h->value.len);
        hb->len += h->value.len;
        hb->data[hb->len++] = '\r';
        hb->data[hb->len++] = '\n';
    }
    if (!x->meta.has_date) {
        rc = srv_buf_reserve(hb, SRV_HTTP_DATE_LINE_LEN);
        if (rc != 0)
            goto fail;
        hb->len += srv_http_put_date_line(hb->data + hb->len);
    }
    capture_log_headers(x, headers, nheaders);
    x->status = status;
    cache_start(x, status, reason, headers, nheaders);
    x->length_hint = -1;
    x->resp = R_STARTED;
    return 0;
fail:
    hb->len = 0;
    return rc == SRV_ENOMEM ? SRV_ENOMEM : SRV_EINVAL;
}

/* Decides keep-alive and framing once the first body bytes (or the end)
 * are known, and appends the framing headers to hbuf. */
static int plan_response(srv_req_t *x, int64_t known_len)
{
    srv_worker_t *w = x->w;
    unsigned st;
    uint64_t received;
    int keep, stopping, rc;

    keep = x->client_keepalive && w->keepalive_on && !x->meta.close;
    uv_mutex_lock(&w->lock);
    st = x->state;
    received = x->body_received;
    stopping = w->stopping_shared;
    if (keep && !stopping && w->shed > 0 && !x->shed) {
        /* This worker holds more than its share (srv__worker_balance):
         * the client's next request comes on a new connection, which a
         * sibling takes. Told as the response starts, not as the request
         * came: that one may wait its turn for a second or more. */
        w->shed--;
        w->shedding++;
        x->shed = 1;
    }
    uv_mutex_unlock(&w->lock);
    keep = keep && !stopping && !x->shed;
    if ((x->view.content_length > 0 || x->view.chunked) && !(st & X_BODY_DONE)) {
        /* The app answers before reading the whole body: keep the
         * connection only if what is left can be drained cheaply. */
        if (st & (X_EXPECT | X_BODY_ERR))
            keep = 0;
        else if (!x->view.chunked && (uint64_t)x->view.content_length - received > SRV_DRAIN_MAX)
            keep = 0;
    }
    srv_http_plan(x->status, x->view.version_minor, x->is_head_method, x->meta.content_length,
                  known_len, keep, &x->plan);
    rc = srv_buf_reserve(&x->hbuf, SRV_HTTP_FRAMING_MAX);
    if (rc != 0)
        return rc;
    x->hbuf.len +=
        srv_http_put_framing(x->hbuf.data + x->hbuf.len, &x->plan, x->view.version_minor);
    if (x->plan.mode == SRV_BODY_CLOSE)
        x->close_after = 1;
    x->resp = R_PLANNED;
    return 0;
}

int srv_resp_length_hint(srv_req_t *x, int64_t total)
{
    if (x->resp != R_STARTED || total < 0)
        return SRV_ESTATE;
    x->length_hint = total;
    return 0;
}

int srv_resp_write(srv_req_t *x, const void *data, size_t len, int flags)
{
    int last = (flags & SRV_RESP_LAST) != 0;
    char pre[24];
    size_t prelen = 0;
    const char *suf = NULL;
    size_t suflen = 0;
    int rc, hold;

    if (x->resp == R_NONE || x->resp == R_DONE)
        return SRV_ESTATE;
    if (x->resp == R_STARTED) {
        rc = plan_response(x, last ? (int64_t)len : x->length_hint);
        if (rc != 0)
            return rc;
    }
    switch (x->plan.mode) {
    case SRV_BODY_NONE:
        len = 0; /* HEAD, 204, 304: whatever the app wrote, no body */
        break;
    case SRV_BODY_LENGTH: {
        uint64_t room = (uint64_t)(x->plan.content_length - x->body_sent);

        if (len > room) {
            cache_drop(x);
            if (!x->close_after)
                srv_log_warn("app wrote more than its Content-Length (%lld); the rest is dropped",
                             (long long)x->plan.content_length);
            x->close_after = 1;
            len = (size_t)room;
        }
        if (last && x->body_sent + (int64_t)len < x->plan.content_length) {
            cache_drop(x);
            srv_log_warn("app wrote %lld bytes of its Content-Length of %lld; closing",
                         (long long)(x->body_sent + (int64_t)len),
                         (long long)x->plan.content_length);
            x->close_after = 1;
        }
        break;
    }
    case SRV_BODY_CHUNKED:
        if (len > 0)
            prelen = srv_http_put_chunk_size(pre, len);
        if (len > 0 && last) {
            suf = "\r\n0\r\n\r\n";
            suflen = 7;
        } else if (len > 0) {
            suf = "\r\n";
            suflen = 2;
        } else if (last) {
            suf = "0\r\n\r\n";
            suflen = 5;
        }
        break;
    case SRV_BODY_CLOSE:
        break;
    }
    /* A write that completes the Content-Length ends the body too (srv
     * learns that an app's iterator is done only at its next step): it is
     * held for the release like a last one, and goes out with it, unless
     * the iterator takes longer than the loop's hold watch to end. */
    if (last)
        hold = HOLD_RELEASE;
    else if (x->plan.mode == SRV_BODY_LENGTH &&
             x->body_sent + (int64_t)len == x->plan.content_length && len > 0)
        hold = HOLD_WATCHED;
    else
        hold = HOLD_NONE;
    if (x->cache_entry != NULL && srv_cache_capture_body(x->cache_entry, data, len) != 0)
        cache_drop(x);
    x->body_sent += (int64_t)len;
    x->log_body_bytes += (int64_t)len;
    rc = srv__resp_send(x, pre, prelen, data, len, suf, suflen, hold);
    if (last)
        x->resp = R_DONE;
    return rc;
}

int srv_resp_finish(srv_req_t *x)
{
    if (x->resp == R_DONE)
        return 0;
    return srv_resp_write(x, NULL, 0, SRV_RESP_LAST);
}

int srv_resp_file(srv_req_t *x, int fd, int64_t offset, int64_t count)
{
    srv_oblock_t *fb;
    srv_list_t list;
    int64_t size;
    int rc, dupfd;

    if (x->resp == R_NONE || x->resp == R_DONE)
        return SRV_ESTATE;
    if (offset < 0)
        return SRV_EINVAL;
    cache_drop(x); /* a file is sent from disk, not kept */
    rc = srv_plat_fd_size(fd, &size);
    if (rc != 0)
        return rc;
    if (offset > size)
        offset = size;
    if (count < 0 || count > size - offset)
        count = size - offset;
    if (x->resp == R_STARTED) {
        rc = plan_response(x, count);
        if (rc != 0)
            return rc;
    }
    if (x->plan.mode == SRV_BODY_LENGTH && count != x->plan.content_length - x->body_sent) {
        if (count > x->plan.content_length - x->body_sent)
            count = x->plan.content_length - x->body_sent;
        else
            srv_log_warn("app file is shorter than its Content-Length; closing");
        x->close_after = 1;
    }
    if (x->plan.mode == SRV_BODY_NONE || x->plan.mode == SRV_BODY_CHUNKED || count == 0) {
        /* No body to send (HEAD, 304...), or a chunked response already
         * under way: send it as bytes through the normal path. */
        if (x->plan.mode != SRV_BODY_CHUNKED || count == 0)
            return srv_resp_write(x, NULL, 0, SRV_RESP_LAST);
        return SRV_ENOSYS;
    }
    rc = srv_plat_fd_dup(fd, &dupfd);
    if (rc != 0)
        return rc;
    fb = srv_oblock_new(0);
    if (fb == NULL) {
        srv_plat_fd_close(dupfd);
        return SRV_ENOMEM;
    }
    fb->file_fd = dupfd;
    fb->file_off = offset;
    fb->file_left = count;
    x->log_body_bytes += count;
    x->body_sent += count;
    if (x->resp == R_PLANNED) {
        rc = srv__resp_send(x, NULL, 0, NULL, 0, NULL, 0, HOLD_RELEASE);
        if (rc != 0) {
            srv_oblock_free(fb);
            return rc;
        }
    }
    srv_list_init(&list);
    srv_list_push_tail(&list, &fb->link);
    x->resp = R_DONE;
    /* The file's bytes are not counted against the write buffer: they stay
     * on disk until the loop sends them. */
    return srv__resp_queue(x, &list, 0, HOLD_RELEASE, 1);
}

/* ---- The end of the handler ---- */

static int error_status(int rc)
{
    switch (rc) {
    case SRV_EBODY:
        return 400;
    case SRV_ETOOLARGE:
        return 413;
    case SRV_ETIMEDOUT:
        return 408;
    default:
        return 500;
    }
}

static void send_error_response(srv_req_t *x, int status)
{
    static const srv_header_t ct = {{"Content-Type", 12}, {"text/plain; charset=utf-8", 25}};
    char body[64];
    int n;

    x->resp = R_NONE;
    x->close_after |= status != 500;
    n = snprintf(body, sizeof(body), "%d %s\n", status, srv_http_reason(status));
    if (srv_resp_start(x, status, NULL, &ct, 1) == 0)
        srv_resp_write(x, body, (size_t)n, SRV_RESP_LAST);
}

void srv__req_complete(srv_req_t *x, int rc)
{
    srv_worker_t *w = x->w;
    int send;

    if (rc != 0 && rc != SRV_ECONNRESET) {
        if (x->resp == R_NONE || x->resp == R_STARTED || x->resp == R_PLANNED) {
            int status = error_status(rc);

            if (status == 500)
                srv_log_error("app failed on %.*s %.*s: %s", (int)x->view.method.len,
                              x->view.method.p,
                              (int)(x->view.target.len > 200 ? 200 : x->view.target.len),
                              x->view.target.p, srv_strerror(rc));
            send_error_response(x, status);
        } else if (x->resp != R_DONE) {
            /* The head is out: end with a close so that the client sees a
             * truncated response, never a complete-looking wrong one. */
            srv_log_error("app failed after its response started on %.*s %.*s: %s",
                          (int)x->view.method.len, x->view.method.p,
                          (int)(x->view.target.len > 200 ? 200 : x->view.target.len),
                          x->view.target.p, srv_strerror(rc));
            x->close_after = 1;
            x->resp = R_DONE;
        }
    } else if (rc == 0 && x->resp == R_NONE) {
        srv_log_error("app returned without a response on %.*s %.*s", (int)x->view.method.len,
                      x->view.method.p, (int)(x->view.target.len > 200 ? 200 : x->view.target.len),
                      x->view.target.p);
        send_error_response(x, 500);
    } else if (rc == 0 && x->resp != R_DONE) {
        if (srv_resp_finish(x) != 0)
            x->close_after = 1;
    } else if (rc == SRV_ECONNRESET) {
        x->close_after = 1;
    }

    /* Only a whole response, as the app meant it, is kept. */
    if (x->cache_entry != NULL && (rc != 0 || x->resp != R_DONE))
        cache_drop(x);
    srv__resp_write_late(x);
    x->log_status = x->resp != R_NONE ? x->status : 0;
    uv_mutex_lock(&w->lock);
    srv__resp_late_to_loop_locked(x);
    x->loop_close = x->close_after || (x->resp != R_NONE && !x->plan.keep_alive);
    x->state |= X_RELEASED;
    if (srv_list_linked(&x->held_link))
        srv_list_unlink(&x->held_link);
    send = srv__req_notify_locked(x, EV_RELEASE | (srv_list_empty(&x->out) ? 0 : EV_OUT));
    /* The whole response left from here (direct is still set: nothing was
     * ever queued, and the loop clears it before an abort) and the
     * connection stays open with nothing else to do: the loop only has to
     * note the end, which it does when it wakes for the client's next
     * request (exchange.h). Waking it now costs a context switch. */
    if (x->direct && !x->loop_close && !srv_atomic_load(&x->loop_waits) && x->cache_entry == NULL &&
        !x->cache_unsafe && (!x->cache_fill || x->cache_passed))
        send = 0;
    uv_mutex_unlock(&w->lock);
    if (send)
        srv__worker_wake(w);
}
