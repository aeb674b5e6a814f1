/* conn_timeout.c: a connection's timeouts (which one runs in each state,
 * and what happens when it fires) and the per-request deadline
 * (`timeout`). Loop thread only. */
#include "net/conn.h"

#include "util/error.h"
#include "util/log.h"

void srv__conn_set_timeout(srv_conn_t *c, int tq, int progress)
{
    if (tq < 0)
        srv__worker_timeout_clear(c);
    else if (tq != c->tq || progress)
        srv__worker_timeout_set(c->w, c, tq);
}

void srv__conn_refresh_timeout(srv_conn_t *c, int progress)
{
    switch (c->state) {
    case SRV_CS_IDLE:
        srv__conn_set_timeout(c, SRV_TQ_IDLE, progress);
        break;
    case SRV_CS_HEAD:
        /* From the head's first byte on; a trickle does not extend it. */
        srv__conn_set_timeout(c, SRV_TQ_HEAD, 0);
        break;
    case SRV_CS_BODY:
        srv__conn_set_timeout(c, SRV_TQ_BODY, progress);
        break;
    case SRV_CS_APP:
    case SRV_CS_DRAIN:
        if (c->writing)
            srv__conn_set_timeout(c, SRV_TQ_WRITE, progress);
        else if (!c->body_complete && !c->paused)
            srv__conn_set_timeout(c, SRV_TQ_BODY, progress);
        else
            srv__conn_set_timeout(c, -1, 0);
        break;
    case SRV_CS_ERROR:
        srv__conn_set_timeout(c, SRV_TQ_WRITE, progress);
        break;
    case SRV_CS_LINGER:
        srv__conn_set_timeout(c, SRV_TQ_LINGER, 0);
        break;
    default:
        srv__conn_set_timeout(c, -1, 0);
        break;
    }
}

void srv__conn_on_timeout(srv_conn_t *c)
{
    switch (c->tq) {
    case SRV_TQ_WRITE: {
        size_t q = uv_stream_get_write_queue_size(&c->h.stream);

        if (q < c->wq_seen) {
            /* The client reads, slowly: that is progress. */
            c->wq_seen = q;
            srv__conn_set_timeout(c, SRV_TQ_WRITE, 1);
            return;
        }
        srv_log_debug("write timeout for %s", c->remote_addr);
        srv__conn_abort(c, NULL);
        return;
    }
    case SRV_TQ_HEAD:
        srv__worker_timeout_clear(c);
        if (c->rpos < c->rbuf.len)
            srv__conn_send_error(c, 408, "request head not received in time");
        else
            srv__conn_abort(c, NULL);
        return;
    case SRV_TQ_BODY:
        srv__worker_timeout_clear(c);
        if (c->state == SRV_CS_BODY) {
            srv__conn_send_error(c, 408, "request body not received in time");
        } else if (c->state == SRV_CS_APP) {
            srv__conn_fail_app_body(c, SRV_ETIMEDOUT);
            srv__conn_update_reading(c);
        } else {
            srv__conn_abort(c, NULL);
        }
        return;
    default:
        srv__conn_abort(c, NULL);
        return;
    }
}

void srv__conn_check_deadline(srv_conn_t *c, uint64_t now)
{
    srv_worker_t *w = c->w;
    srv_req_t *x = &c->x;
    uint64_t ident = 0;

    /* A request parked for a refill has no app thread: the refilling
     * request carries the deadline. */
    if (!c->app_busy || c->cache_wait != NULL || c->deadline_hit || c->state == SRV_CS_CLOSED ||
        now - x->start_ms < w->ms_timeout)
        return;
    uv_mutex_lock(&w->lock);
    if (x->state & X_RELEASED) {
        /* Done, the loop has not noted it yet (a release that woke no one). */
        uv_mutex_unlock(&w->lock);
        return;
    }
    c->deadline_hit = 1;
    if (x->thread != NULL)
        ident = x->thread->ident;
    /* srv gives up on the exchange: the app's next read or write fails
     * and whatever it still queues is thrown away (drain_notifications). */
    x->state |= X_ABORTED;
    srv__conn_end_direct_locked(c);
    if (x->state & (X_WAIT_BODY | X_WAIT_OUT)) {
        x->state &= ~(X_WAIT_BODY | X_WAIT_OUT);
        uv_cond_signal(&x->thread->cond);
    }
    uv_mutex_unlock(&w->lock);
    srv_log_error("Request timed out after %llu s: %.*s %.*s from %s",
                  (unsigned long long)((now - x->start_ms) / 1000), (int)x->view.method.len,
                  x->view.method.p, (int)(x->view.target.len > 200 ? 200 : x->view.target.len),
                  x->view.target.p, c->remote_addr[0] ? c->remote_addr : "-");
    srv__worker_report_stuck(w, ident);
    if (c->resp_bytes_total == 0 && !c->writing && srv_list_empty(&c->wq))
        srv__conn_send_error(c, 504, "the app did not answer within the timeout");
    else
        srv__conn_abort(c, "request timed out");
    srv__worker_retire(w, "a request ran past timeout");
}
