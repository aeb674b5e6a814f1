/* waker.c: waking a worker's loop from its app threads. libuv's Windows
 * uv_async_send() posts a completion once and does not spin (the Unix
 * backend's reason to avoid it, see platform/unix/waker.c). */
#include "platform.h"
#include "util/alloc.h"

struct srv_plat_waker_s {
    uv_async_t async;
    void (*cb)(void *data);
    void *data;
};

static void on_async(uv_async_t *a)
{
    srv_plat_waker_t *k = a->data;

    k->cb(k->data);
}

int srv_plat_waker_new(uv_loop_t *loop, void (*cb)(void *data), void *data, srv_plat_waker_t **out)
{
    srv_plat_waker_t *k = srv_calloc(1, sizeof *k);

    if (k == NULL)
        return SRV_ENOMEM;
    if (uv_async_init(loop, &k->async, on_async) != 0) {
        srv_free(k);
        return SRV_EIO;
    }
    k->async.data = k;
    k->cb = cb;
    k->data = data;
    *out = k;
    return 0;
}

void srv_plat_waker_wake(srv_plat_waker_t *k)
{
    uv_async_send(&k->async);
}

void srv_plat_waker_close(srv_plat_waker_t *k)
{
    if (k != NULL && !uv_is_closing((uv_handle_t *)&k->async))
        uv_close((uv_handle_t *)&k->async, NULL);
}

void srv_plat_waker_free(srv_plat_waker_t *k)
{
    srv_free(k);
}
