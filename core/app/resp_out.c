/* resp_out.c: how a response's bytes travel from its app thread to the
 * socket: copied into output blocks that the loop writes (x->out), written
 * by the app thread itself while the loop has nothing of the connection
 * queued (x->direct), or kept for the release (x->late). exchange.h tells
 * the flow and who owns what. */
#include <string.h>
#include <uv.h>

#include "app/exchange.h"
#include "app/pool.h"
#include "app/resp_out.h"
#include "platform.h"
#include "server/worker.h"
#include "util/alloc.h"

/* The most output one block carries. */
#define SRV_BLOCK_MAX (64 * 1024)
/* A response's last write up to this size is queued whole without waiting
 * for the client to catch up: the app holds those bytes already, and the
 * thread is free for the next request instead of blocking (and then
 * taking turns for the interpreter with the thread woken meanwhile). */
#define SRV_LAST_NOWAIT_MAX (1024 * 1024)
/* Output at least this large is written by the app thread itself when it
 * can (write_direct): it then needs no copy, and no buffer while the loop
 * waits for a CPU. Smaller output goes through the loop, which writes it
 * while the app threads run the next requests. */
#define SRV_DIRECT_MIN (16 * 1024)

srv_oblock_t *srv_oblock_new(size_t cap)
{
    srv_oblock_t *b = srv_malloc(sizeof(*b) + cap);

    if (b == NULL)
        return NULL;
    srv_list_init(&b->link);
    b->len = 0;
    b->off = 0;
    b->cap = cap;
    b->ext = NULL;
    b->ext_done = NULL;
    b->app = 0;
    b->file_fd = -1;
    b->file_off = 0;
    b->file_left = 0;
    return b;
}

void srv_oblock_free(srv_oblock_t *b)
{
    if (b->file_fd >= 0)
        srv_plat_fd_close(b->file_fd);
    if (b->ext_done != NULL)
        b->ext_done(b->ext_arg);
    srv_free(b);
}

static void free_list(srv_list_t *list)
{
    srv_list_t *n;

    while ((n = srv_list_pop_head(list)) != NULL)
        srv_oblock_free(srv_list_entry(n, srv_oblock_t, link));
}

/* Appends list to x->out, for the loop to write (w->lock held): nothing
 * written directly may overtake it. If the connection is gone, frees the
 * list instead and returns SRV_ECONNRESET. */
static int append_locked(srv_req_t *x, srv_list_t *list, size_t bytes)
{
    if (x->state & X_ABORTED) {
        free_list(list);
        return SRV_ECONNRESET;
    }
    srv_list_splice_tail(&x->out, list);
    x->out_bytes += bytes;
    x->direct = 0;
    x->direct_off = 1;
    return 0;
}

/* Appends the blocks of list (bytes of output) to x->out and wakes the loop unless hold is
 * set; then, if wait is set, waits while the client is far behind. */
int srv__resp_queue(srv_req_t *x, srv_list_t *list, size_t bytes, int hold, int wait)
{
    srv_worker_t *w = x->w;
    int send = 0, rc = 0;

    if (!srv_list_empty(&x->late)) {
        /* Bytes kept for the release go first (a file after its head). */
        srv_list_splice_tail(&x->late, list);
        srv_list_splice_tail(list, &x->late);
        bytes += x->late_bytes;
        x->late_bytes = 0;
    }
    uv_mutex_lock(&w->lock);
    if (append_locked(x, list, bytes) != 0) {
        uv_mutex_unlock(&w->lock);
        return SRV_ECONNRESET;
    }
    if (!hold || x->out_bytes > w->write_buffer)
        send = srv__req_notify_locked(x, EV_OUT);
    else if (hold == HOLD_WATCHED && !srv_list_linked(&x->held_link))
        srv_list_push_tail(&w->held, &x->held_link);
    if (send) {
        srv__worker_wake(w);
        send = 0;
    }
    while (wait && x->out_bytes > w->write_buffer && !(x->state & X_ABORTED))
        srv__req_wait(x, X_WAIT_OUT);
    if (x->state & X_ABORTED)
        rc = SRV_ECONNRESET;
    uv_mutex_unlock(&w->lock);
    return rc;
}

/* Writes what fits of the n parts to the socket at once, if the loop has
 * nothing of the connection's queued (x->direct). Returns the bytes
 * written; the caller queues the rest. */
static size_t write_direct(srv_req_t *x, const char *const *parts, const size_t *lens, size_t n)
{
    srv_worker_t *w = x->w;
    uv_buf_t bufs[4];
    size_t i, nbufs = 0, total = 0, sent = 0;

    uv_mutex_lock(&w->lock);
    if (!x->direct || (x->state & X_ABORTED)) {
        x->direct_off = 1;
        uv_mutex_unlock(&w->lock);
        return 0;
    }
    /* The loop clears direct and waits out X_WRITING before it writes
     * or closes the socket; the write itself runs without the lock. */
    x->state |= X_WRITING;
    uv_mutex_unlock(&w->lock);
    for (i = 0; i < n; i++) {
        if (lens[i] > 0)
            bufs[nbufs++] = uv_buf_init((char *)parts[i], (unsigned)lens[i]);
        total += lens[i];
    }
    if (srv_plat_sock_send(x->sock, bufs, nbufs, &sent) != 0)
        sent = 0; /* full or failed: the loop writes it, and reports a failure */
    uv_mutex_lock(&w->lock);
    x->state &= ~X_WRITING;
    if (x->state & X_WRITE_WAIT) {
        x->state &= ~X_WRITE_WAIT;
        uv_cond_signal(&w->wrote);
    }
    x->direct_bytes += sent;
    if (sent < total) {
        x->direct = 0;
        x->direct_off = 1;
    }
    uv_mutex_unlock(&w->lock);
    return sent;
}

/* Sends the head (if it is not out yet), then pre + data + suf, copied into
 * blocks. Blocks are handed over whenever a write buffer's worth is ready,
 * so memory stays bounded however large the body; with hold, the final
 * blocks are held back for the release, which wakes the loop once for
 * both. */
int srv__resp_send(srv_req_t *x, const char *pre, size_t prelen, const char *data, size_t len,
                   const char *suf, size_t suflen, int hold)
{
    size_t w_buf = x->w->write_buffer;
    const char *parts[4];
    size_t lens[4], i, total = 0, left_all;
    srv_list_t list;
    srv_oblock_t *b = NULL;
    int rc, wait;

    parts[0] = x->hbuf.data;
    lens[0] = x->resp == R_PLANNED ? x->hbuf.len : 0;
    parts[1] = pre;
    lens[1] = prelen;
    parts[2] = data;
    lens[2] = len;
    parts[3] = suf;
    lens[3] = suflen;
    left_all = lens[0] + prelen + len + suflen;
    if (x->resp == R_PLANNED)
        x->resp = R_HEAD_QUEUED;
    if (!x->direct_off && left_all >= SRV_DIRECT_MIN && left_all <= (size_t)UINT32_MAX) {
        size_t sent;

        if (hold != HOLD_NONE)
            srv__pool_job_ending(x); /* the client may have it all before the release */
        sent = write_direct(x, parts, lens, 4);

        left_all -= sent;
        for (i = 0; i < 4 && sent > 0; i++) {
            size_t n = sent < lens[i] ? sent : lens[i];

            parts[i] += n;
            lens[i] -= n;
            sent -= n;
        }
        if (left_all == 0)
            return 0;
    }
    wait = !hold || left_all > SRV_LAST_NOWAIT_MAX;
    srv_list_init(&list);
    for (i = 0; i < 4; i++) {
        const char *p = parts[i];
        size_t left = lens[i];

        while (left > 0) {
            size_t n;

            if (b == NULL || b->len == b->cap) {
                if (total >= w_buf) {
                    rc = srv__resp_queue(x, &list, total, 0, wait);
                    total = 0;
                    if (rc != 0)
                        return rc;
                }
                b = srv_oblock_new(left_all < SRV_BLOCK_MAX ? left_all : SRV_BLOCK_MAX);
                if (b == NULL) {
                    free_list(&list);
                    return SRV_ENOMEM;
                }
                b->app = 1;
                srv_list_push_tail(&list, &b->link);
            }
            n = b->cap - b->len < left ? b->cap - b->len : left;
            memcpy(b->data + b->len, p, n);
            b->len += n;
            p += n;
            left -= n;
            total += n;
            left_all -= n;
        }
    }
    if (srv_list_empty(&list))
        return 0;
    if (hold == HOLD_RELEASE && !x->direct_off) {
        /* Small (else it went direct above) and nothing queued before it:
         * the release writes it or hands it over (srv__resp_write_late). */
        srv_list_splice_tail(&x->late, &list);
        x->late_bytes += total;
        return 0;
    }
    return srv__resp_queue(x, &list, total, hold, wait);
}

/* The release of a response whose last bytes wait in x->late. While the
 * loop sleeps and no job waits, the app thread writes them itself,
 * without the interpreter's lock: handing them over would cost a wake-up
 * of the loop (a context switch, for each small response under a light
 * load). Otherwise the loop takes them with the release's notification:
 * an awake loop before it sleeps, at no cost; and while jobs wait, the
 * app thread is what holds them up, so it goes on to the next one at once
 * and the loop writes on the other CPU (hello at 256 connections: about
 * 10% more requests/s than with this thread writing). */
void srv__resp_write_late(srv_req_t *x)
{
    const char *parts[4];
    size_t lens[4], n = 0, sent;
    srv_list_t *it;

    if (srv_list_empty(&x->late) || srv_atomic_load(&x->w->loop_awake) || srv__pool_jobs_wait(x->w))
        return;
    for (it = x->late.next; it != &x->late && n < 4; it = it->next) {
        srv_oblock_t *b = srv_list_entry(it, srv_oblock_t, link);

        parts[n] = b->data + b->off;
        lens[n++] = b->len - b->off;
    }
    sent = write_direct(x, parts, lens, n);
    x->late_bytes -= sent;
    while (sent > 0) {
        srv_oblock_t *b = srv_list_entry(x->late.next, srv_oblock_t, link);
        size_t left = b->len - b->off;

        if (sent < left) {
            b->off += sent;
            break;
        }
        sent -= left;
        srv_list_unlink(&b->link);
        srv_oblock_free(b);
    }
}

void srv__resp_late_to_loop_locked(srv_req_t *x)
{
    if (srv_list_empty(&x->late))
        return;
    append_locked(x, &x->late, x->late_bytes);
    x->late_bytes = 0;
}
