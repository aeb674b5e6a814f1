/* pool.c: the app threads of a worker. */
#include "app/pool.h"

#include "app/exchange.h"
#include "util/alloc.h"
#include "util/log.h"

/* Takes the next job, sleeping until one is handed over. Returns NULL
 * when the pool stops. */
static srv_req_t *next_job(srv_pool_thread_t *t)
{
    srv_worker_t *w = t->w;
    srv_list_t *n;

    uv_mutex_lock(&w->jobs_lock);
    n = srv_list_pop_head(&w->jobs);
    if (n != NULL) {
        uv_mutex_unlock(&w->jobs_lock);
        return srv_list_entry(n, srv_req_t, job_link);
    }
    if (w->pool_stop) {
        uv_mutex_unlock(&w->jobs_lock);
        return NULL;
    }
    t->job = NULL;
    t->next_idle = w->idle;
    w->idle = t;
    uv_mutex_unlock(&w->jobs_lock);
    uv_sem_wait(&t->wake);
    return t->job; /* NULL: woken to stop */
}

static void pool_main(void *arg)
{
    srv_pool_thread_t *t = arg;
    srv_worker_t *w = t->w;
    srv_req_t *x;

    if (w->app.thread_init != NULL && w->app.thread_init(w->app.data) != 0)
        srv_log_error("app thread initialisation failed; the thread serves anyway");
    while ((x = next_job(t)) != NULL) {
        int aborted, rc;

        uv_mutex_lock(&w->lock);
        x->thread = t;
        aborted = (x->state & X_ABORTED) != 0;
        uv_mutex_unlock(&w->lock);
        /* A client that left while the request waited is not served. */
        rc = aborted ? SRV_ECONNRESET : w->app.handle(w->app.data, x);
        srv__req_complete(x, rc);
    }
    if (w->app.thread_exit != NULL)
        w->app.thread_exit(w->app.data);
}

int srv__pool_start(srv_worker_t *w, size_t n)
{
    size_t i;

    w->threads = srv_calloc(n, sizeof(srv_pool_thread_t));
    if (w->threads == NULL)
        return SRV_ENOMEM;
    w->nthreads = n;
    for (i = 0; i < n; i++) {
        srv_pool_thread_t *t = &w->threads[i];

        t->w = w;
        if (uv_cond_init(&t->cond) != 0)
            goto fail;
        if (uv_sem_init(&t->wake, 0) != 0) {
            uv_cond_destroy(&t->cond);
            goto fail;
        }
        if (uv_thread_create(&t->tid, pool_main, t) != 0) {
            uv_sem_destroy(&t->wake);
            uv_cond_destroy(&t->cond);
            goto fail;
        }
        t->started = 1;
    }
    return 0;
fail:
    srv__pool_stop(w, 1);
    return SRV_ENOMEM;
}

void srv__pool_stop(srv_worker_t *w, int join)
{
    srv_pool_thread_t *t;
    size_t i;

    uv_mutex_lock(&w->jobs_lock);
    w->pool_stop = 1;
    /* Wake every idle thread with no job: it returns. Busy threads see
     * pool_stop when they look for their next job. */
    while ((t = w->idle) != NULL) {
        w->idle = t->next_idle;
        t->job = NULL;
        uv_sem_post(&t->wake);
    }
    uv_mutex_unlock(&w->jobs_lock);
    if (!join)
        return;
    for (i = 0; i < w->nthreads; i++) {
        t = &w->threads[i];
        if (!t->started)
            continue;
        uv_thread_join(&t->tid);
        uv_sem_destroy(&t->wake);
        uv_cond_destroy(&t->cond);
        t->started = 0;
    }
}
