/* waker.c: waking a worker's loop from its app threads, without
 * uv_async_send().
 *
 * libuv up to 1.44 (Debian 12's) makes the woken loop spin, then
 * sched_yield(), until the sending thread has left uv_async_send()
 * (libuv#2769, libuv#2949; libuv#3879 removed it in 1.45). The write that
 * wakes the loop often hands the sender's CPU to the loop thread, so the
 * loop spins on a CPU while the sender waits for one: on a 2-core machine
 * under load that was about 1% of all CPU time, in libuv's spin loop.
 *
 * Here: an eventfd (a pipe where there is none) watched with uv_poll. The
 * first wake after the loop took the last one writes; the others only see
 * the flag. The loop empties the fd, then clears the flag, then runs the
 * callback: a wake that finds the flag still set was queued before the
 * callback looks, and one that comes after the clear writes again. (Clear
 * first, and a write made between the clear and the read is read with the
 * old one, leaving the flag set and the fd empty: no wake would come.) */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "plat_config.h"
#include "platform.h"
#include "unix/plat_int.h"
#include "util/alloc.h"

#ifdef SRV_HAVE_EVENTFD
#include <sys/eventfd.h>
#endif

struct srv_plat_waker_s {
    uv_poll_t poll;
    int rfd, wfd; /* the same eventfd, or a pipe's two ends */
    volatile int pending;
    void (*cb)(void *data);
    void *data;
};

static void on_readable(uv_poll_t *p, int status, int events)
{
    srv_plat_waker_t *k = p->data;
    char buf[64];

    (void)status;
    (void)events;
    while (read(k->rfd, buf, sizeof buf) > 0 && k->rfd != k->wfd)
        ; /* an eventfd is empty after one read; a pipe, when read dry */
    __atomic_store_n(&k->pending, 0, __ATOMIC_SEQ_CST);
    k->cb(k->data);
}

static void on_failed(uv_handle_t *h)
{
    srv_plat_waker_free(h->data);
}

/* Opens k's descriptors: an eventfd, unless use_pipe is set or the system
 * has none. */
static int open_fds(srv_plat_waker_t *k, int use_pipe)
{
    int fds[2];

#ifdef SRV_HAVE_EVENTFD
    if (!use_pipe) {
        k->rfd = k->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        return k->rfd < 0 ? srv__plat_err(errno) : 0;
    }
#else
    (void)use_pipe;
#endif
    if (pipe(fds) != 0)
        return srv__plat_err(errno);
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    k->rfd = fds[0];
    k->wfd = fds[1];
    return 0;
}

int srv__plat_waker_new_fds(uv_loop_t *loop, void (*cb)(void *data), void *data, int use_pipe,
                            srv_plat_waker_t **out)
{
    srv_plat_waker_t *k = srv_calloc(1, sizeof *k);
    int rc;

    if (k == NULL)
        return SRV_ENOMEM;
    rc = open_fds(k, use_pipe);
    if (rc != 0) {
        srv_free(k);
        return rc;
    }
    k->cb = cb;
    k->data = data;
    if (uv_poll_init(loop, &k->poll, k->rfd) != 0) {
        close(k->rfd);
        if (k->wfd != k->rfd)
            close(k->wfd);
        srv_free(k);
        return SRV_EIO;
    }
    k->poll.data = k;
    if (uv_poll_start(&k->poll, UV_READABLE, on_readable) != 0) {
        uv_close((uv_handle_t *)&k->poll, on_failed);
        return SRV_EIO;
    }
    *out = k;
    return 0;
}

int srv_plat_waker_new(uv_loop_t *loop, void (*cb)(void *data), void *data, srv_plat_waker_t **out)
{
    return srv__plat_waker_new_fds(loop, cb, data, 0, out);
}

void srv_plat_waker_wake(srv_plat_waker_t *k)
{
    uint64_t one = 1;

    if (__atomic_exchange_n(&k->pending, 1, __ATOMIC_SEQ_CST) == 0) {
        /* Full (a pipe): a wake is pending anyway. */
        ssize_t n = write(k->wfd, &one, k->rfd == k->wfd ? sizeof one : 1);

        (void)n;
    }
}

void srv_plat_waker_close(srv_plat_waker_t *k)
{
    if (k != NULL && !uv_is_closing((uv_handle_t *)&k->poll))
        uv_close((uv_handle_t *)&k->poll, NULL);
}

void srv_plat_waker_free(srv_plat_waker_t *k)
{
    if (k == NULL)
        return;
    close(k->rfd);
    if (k->wfd != k->rfd)
        close(k->wfd);
    srv_free(k);
}
