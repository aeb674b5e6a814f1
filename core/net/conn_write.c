/* conn_write.c: the output side of a connection: writing queued blocks
 * (uv_try_write first, so that the common response goes out in the same
 * loop iteration with one syscall and no write request), sending files,
 * srv's own error responses, and closing without losing the response.
 * Loop thread only. */
#include <string.h>

#include "net/conn.h"
#include "platform.h"
#include "util/alloc.h"
#include "util/log.h"

#define SRV_FILE_COPY_MAX (64 * 1024)

static void on_write(uv_write_t *req, int status);

/* Tells the app thread that n of its bytes left the queue. */
static void credit_app(srv_conn_t *c, size_t n)
{
    srv_req_t *x = &c->x;

    if (n == 0 || !c->app_busy)
        return;
    uv_mutex_lock(&c->w->lock);
    x->out_bytes -= n;
    if ((x->state & X_WAIT_OUT) && x->out_bytes <= c->w->write_buffer / 2) {
        x->state &= ~X_WAIT_OUT;
        uv_cond_signal(&x->thread->cond);
    }
    uv_mutex_unlock(&c->w->lock);
}

/* Reads the next piece of a file block into a memory block queued just
 * before it: the path for systems without sendfile, and for a socket that
 * sendfile found full (the write then waits for the socket). Returns 0 or
 * an SRV_E* code. */
static int file_copy_piece(srv_oblock_t *fb)
{
    size_t n = fb->file_left < SRV_FILE_COPY_MAX ? (size_t)fb->file_left : SRV_FILE_COPY_MAX;
    srv_oblock_t *b = srv_oblock_new(n);
    uv_fs_t req;
    uv_buf_t ub;
    int r;

    if (b == NULL)
        return SRV_ENOMEM;
    ub = uv_buf_init(b->data, (unsigned)n);
    r = uv_fs_read(NULL, &req, fb->file_fd, &ub, 1, fb->file_off, NULL);
    uv_fs_req_cleanup(&req);
    if (r <= 0) {
        srv_oblock_free(b);
        srv_log_error("sending a file: %s", r < 0 ? uv_strerror(r) : "file shorter than expected");
        return SRV_EIO;
    }
    b->len = (size_t)r;
    fb->file_off += r;
    fb->file_left -= r;
    /* Insert before the file block. */
    srv_list_push_tail(&fb->link, &b->link);
    return 0;
}

/* Makes progress on the file block at the head of wq. Returns 1 when the
 * block is done, 0 when it queued a copied piece in front of it, or an
 * SRV_E* code. */
static int file_step(srv_conn_t *c, srv_oblock_t *fb)
{
    uv_os_fd_t sock;

    while (fb->file_left > 0) {
        size_t sent = 0;
        int rc = SRV_ENOSYS;

        if (uv_fileno(&c->h.handle, &sock) == 0)
            rc = srv_plat_sendfile(sock, fb->file_fd, fb->file_off, (size_t)fb->file_left, &sent);
        fb->file_off += (int64_t)sent;
        fb->file_left -= (int64_t)sent;
        c->resp_bytes_total += (int64_t)sent;
        if (rc == 0)
            continue;
        if (rc == SRV_EAGAIN || rc == SRV_ENOSYS) {
            /* Full socket: a copied piece goes through uv_write, which
             * waits for the socket to drain, and sendfile resumes after. */
            return file_copy_piece(fb);
        }
        return rc;
    }
    return 1;
}

/* Frees the first w bytes of blocks at the head of list; returns how
 * many of them were the app's. */
static size_t consume_written(srv_list_t *list, size_t w)
{
    size_t credited = 0;

    while (w > 0 && !srv_list_empty(list)) {
        srv_oblock_t *m = srv_list_entry(list->next, srv_oblock_t, link);
        size_t left = m->len - m->off;
        size_t n = w < left ? w : left;

        m->off += n;
        w -= n;
        if (m->app)
            credited += n;
        if (m->off < m->len)
            break;
        srv_list_unlink(&m->link);
        srv_oblock_free(m);
    }
    return credited;
}

void srv__conn_write_pump(srv_conn_t *c)
{
    size_t credited = 0;

    while (!c->writing && c->state != SRV_CS_CLOSED && !srv_list_empty(&c->wq)) {
        srv_oblock_t *b = srv_list_entry(c->wq.next, srv_oblock_t, link);
        srv_list_t *n;
        size_t nbufs = 0, total = 0;
        int w;

        if (b->file_fd >= 0) {
            int rc = file_step(c, b);

            if (rc < 0) {
                srv__conn_abort(c, "sending a file failed");
                return;
            }
            if (rc == 1) {
                srv_list_unlink(&b->link);
                srv_oblock_free(b);
            }
            continue;
        }
        if (b->off == b->len) {
            srv_list_unlink(&b->link);
            srv_oblock_free(b);
            continue;
        }
        /* Gather the memory blocks up to the next file block. */
        for (n = c->wq.next; n != &c->wq && nbufs < SRV_CONN_MAX_WBUFS; n = n->next) {
            srv_oblock_t *m = srv_list_entry(n, srv_oblock_t, link);

            if (m->file_fd >= 0)
                break;
            c->wbufs[nbufs++] =
                uv_buf_init((char *)srv_oblock_bytes(m) + m->off, (unsigned)(m->len - m->off));
            total += m->len - m->off;
        }
        w = uv_try_write(&c->h.stream, c->wbufs, (unsigned)nbufs);
        if (w == UV_EAGAIN || w == UV_ENOSYS)
            w = 0;
        if (w < 0) {
            srv__conn_abort(c, uv_strerror(w));
            return;
        }
        c->resp_bytes_total += w;
        credited += consume_written(&c->wq, (size_t)w);
        if ((size_t)w == total)
            continue;

        /* The socket is full: hand the rest of the batch to uv_write,
         * which waits for the socket to drain. */
        nbufs = 0;
        c->wflight_bytes = 0;
        while (!srv_list_empty(&c->wq) && nbufs < SRV_CONN_MAX_WBUFS) {
            srv_oblock_t *m = srv_list_entry(c->wq.next, srv_oblock_t, link);

            if (m->file_fd >= 0)
                break;
            c->wbufs[nbufs++] =
                uv_buf_init((char *)srv_oblock_bytes(m) + m->off, (unsigned)(m->len - m->off));
            c->wflight_bytes += m->len - m->off;
            srv_list_unlink(&m->link);
            srv_list_push_tail(&c->wflight, &m->link);
        }
        c->wreq.data = c;
        if (uv_write(&c->wreq, &c->h.stream, c->wbufs, (unsigned)nbufs, on_write) != 0) {
            srv__conn_abort(c, "write failed");
            return;
        }
        c->writing = 1;
        c->wq_seen = uv_stream_get_write_queue_size(&c->h.stream);
        srv__conn_refresh_timeout(c, 1);
    }
    credit_app(c, credited);
    if (!c->writing && srv_list_empty(&c->wq) && c->state != SRV_CS_CLOSED)
        srv__conn_output_idle(c);
}

static void on_write(uv_write_t *req, int status)
{
    srv_conn_t *c = req->data;
    size_t credited;

    c->writing = 0;
    credited = consume_written(&c->wflight, c->wflight_bytes);
    if (c->state == SRV_CS_CLOSED) {
        srv_list_t *n;

        /* Canceled by uv_close: whatever is left is freed unwritten. */
        while ((n = srv_list_pop_head(&c->wflight)) != NULL)
            srv_oblock_free(srv_list_entry(n, srv_oblock_t, link));
        return;
    }
    if (status < 0) {
        srv__conn_abort(c, uv_strerror(status));
        return;
    }
    c->resp_bytes_total += (int64_t)c->wflight_bytes;
    credit_app(c, credited);
    srv__conn_refresh_timeout(c, 1);
    srv__conn_write_pump(c);
}

void srv__conn_output_idle(srv_conn_t *c)
{
    switch (c->state) {
    case SRV_CS_APP:
        if (!c->app_busy)
            srv__conn_end_exchange(c);
        else
            srv__conn_refresh_timeout(c, 0);
        break;
    case SRV_CS_ERROR:
        srv__conn_close_gently(c);
        break;
    default:
        srv__conn_refresh_timeout(c, 0);
        break;
    }
}

void srv__conn_send_error(srv_conn_t *c, int status, const char *why)
{
    srv_oblock_t *b = srv_oblock_new(512);

    srv__worker_timeout_clear(c);
    c->state = SRV_CS_ERROR;
    c->close_after = 1;
    c->rpos = c->rbuf.len; /* nothing else read here reaches the app */
    if (b == NULL) {
        srv__conn_abort(c, "out of memory");
        return;
    }
    b->len = srv_http_put_simple_response(b->data, b->cap, status, why, 1);
    srv_list_push_tail(&c->wq, &b->link);
    srv__conn_refresh_timeout(c, 1);
    srv__conn_update_reading(c);
    srv__conn_write_pump(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    srv_conn_t *c = req->data;

    if (c->state == SRV_CS_CLOSED)
        return;
    if (status < 0 || c->peer_eof)
        srv__conn_abort(c, NULL);
}

void srv__conn_close_gently(srv_conn_t *c)
{
    if (c->state == SRV_CS_CLOSED || c->state == SRV_CS_LINGER)
        return;
    if (c->peer_eof) {
        srv__conn_abort(c, NULL);
        return;
    }
    c->state = SRV_CS_LINGER;
    c->sreq.data = c;
    if (uv_shutdown(&c->sreq, &c->h.stream, on_shutdown) != 0) {
        srv__conn_abort(c, NULL);
        return;
    }
    srv__conn_refresh_timeout(c, 0);
    srv__conn_update_reading(c);
}
