/* pool.c: the app threads of a worker, and which of them runs what.
 *
 * The policy. An interpreter like CPython runs one thread at a time (the
 * GIL), so waking a second thread for a CPU-bound job only adds a context
 * switch and a GIL hand-off, and CPython's forced switch every 5 ms turns
 * first-come-first-served into time-slicing, which costs throughput and
 * p99. So:
 *  - a job goes to an idle thread at once only when no thread is running
 *    a job, or every running one waits inside srv for its client;
 *  - otherwise it queues, and the next thread to finish takes it (FIFO);
 *  - when jobs wait, no job has finished for SRV_STARVE_MS, and the
 *    running threads used less than a quarter of that time on a CPU and
 *    none of them waits for a CPU now (srv_plat_thread_runnable: other
 *    processes may take the CPUs), they are blocked where srv cannot see
 *    it (a database call, a sleep):
 *    one more thread is woken, and one more every SRV_STARVE_MS while that
 *    lasts, up to `threads`. (Waiting time alone would wake every thread
 *    under saturation, where the queue is always long; time without a
 *    finished job alone would wake them for every page that takes longer
 *    than SRV_STARVE_MS to compute.) Each look wakes the loop, which
 *    takes a CPU from the thread that computes: while the looks find the
 *    running threads computing, they come less often (twice the interval
 *    each time, up to SRV_STARVE_MAX_MS), and every SRV_STARVE_MS again
 *    once a thread was woken.
 *  - when no job has finished for SRV_STALL_MS, one more thread is woken
 *    whatever the CPU use: a request that computes for seconds shares the
 *    interpreter with the next one instead of holding up the queue.
 *  - a thread that finishes a job takes the next one only when no other
 *    thread is computing one (for a millisecond or more, using at least
 *    half of that time on a CPU, or waiting for one now); otherwise it
 *    goes idle, so that threads woken for I/O go back to sleep once their
 *    requests compute again.
 * CPU-bound apps thus run one request at a time in arrival order, and
 * I/O-bound apps still get their parallelism.
 *
 * The loop does not wake a thread for each job it dispatches: it queues
 * the jobs of one loop iteration and wakes (at most) one thread just before
 * it would block (srv__pool_kick), so one wake-up carries every request
 * that arrived together. */
#include "app/pool.h"

#include "app/exchange.h"
#include "platform.h"
#include "util/alloc.h"
#include "util/log.h"

#define SRV_STARVE_MS     1
#define SRV_STARVE_MAX_MS 8
#define SRV_STALL_MS      100

/* Counts the worker's jobs, queued or running, in its shared slot and,
 * while they fill every thread, notes when they last made progress (they
 * came to fill them, or one ended): the siblings balance new connections
 * by it (worker.c). A clock read only when every thread is taken. Any
 * thread. */
static void add_load(srv_worker_t *w, int d)
{
    srv_worker_slot_t *s;
    int busy;

    if (w->env.slots == NULL)
        return;
    s = &w->env.slots->slot[w->env.self];
    busy = srv_atomic_add(&s->busy, d);
    if (d > 0 ? busy == (int)w->nthreads : busy >= (int)w->nthreads)
        srv_atomic_store(&s->progress, (int)(uint32_t)(uv_hrtime() / 1000000u));
}

/* Notes when t's job started. Its CPU time, which others_compute_locked
 * compares with, is read only once another thread runs a job too, since
 * only such a thread looks at it: a worker whose jobs run one after
 * another, as the policy wants, reads no clock per job. When a second
 * thread starts, every running thread's CPU time is read, and their share
 * of a CPU is measured from then on. jobs_lock held. */
static void job_started_locked(srv_worker_t *w, srv_pool_thread_t *t)
{
    uint64_t now = uv_hrtime();
    size_t i;

    t->job_ns = now;
    t->base_ns = 0;
    if (w->running < 2)
        return;
    for (i = 0; i < w->nthreads; i++) {
        srv_pool_thread_t *o = &w->threads[i];

        if (o->started && !o->idle && o->base_ns == 0 &&
            srv_plat_thread_cpu_ns(&o->tid, &o->job_cpu) == 0)
            o->base_ns = now;
    }
}

/* Whether a thread other than self computes its job: it has run it for
 * a millisecond or more, and used at least half of the time since its CPU
 * time was read (job_started_locked) on a CPU or waits for a CPU now.
 * jobs_lock held. */
static int others_compute_locked(srv_worker_t *w, const srv_pool_thread_t *self)
{
    uint64_t now = uv_hrtime();
    size_t i;

    for (i = 0; i < w->nthreads; i++) {
        srv_pool_thread_t *t = &w->threads[i];
        uint64_t cpu;

        if (t == self || !t->started || t->idle || t->base_ns == 0)
            continue;
        if (now - t->job_ns < 1000000)
            continue; /* too early to tell: short jobs keep every thread busy */
        if (srv_plat_thread_cpu_ns(&t->tid, &cpu) == 0 && cpu >= t->job_cpu &&
            (cpu - t->job_cpu) * 2 >= now - t->base_ns)
            return 1;
        if (srv_plat_thread_runnable(t->probe) == 1)
            return 1; /* it got less CPU, but only waits for one */
    }
    return 0;
}

/* Gives the oldest job to the most recently idle thread; returns the
 * thread to post, or NULL. jobs_lock held. */
static srv_pool_thread_t *hand_oldest_locked(srv_worker_t *w)
{
    srv_pool_thread_t *t = w->idle;
    srv_list_t *n;

    if (t == NULL || srv_list_empty(&w->jobs))
        return NULL;
    n = srv_list_pop_head(&w->jobs);
    w->idle = t->next_idle;
    t->idle = 0;
    t->job = srv_list_entry(n, srv_req_t, job_link);
    w->running++;
    job_started_locked(w, t);
    return t;
}

/* Notes the CPU times of the threads running jobs, for the next look;
 * returns the CPU time they used since the last one, and in *span the
 * time that passed. jobs_lock held. */
static uint64_t note_cpu_locked(srv_worker_t *w, uint64_t *span)
{
    uint64_t now = uv_hrtime(), used = 0;
    size_t i;

    for (i = 0; i < w->nthreads; i++) {
        srv_pool_thread_t *t = &w->threads[i];
        uint64_t cpu;

        if (!t->started || t->idle || srv_plat_thread_cpu_ns(&t->tid, &cpu) != 0)
            continue;
        if (cpu > t->cpu_seen && t->cpu_seen != 0)
            used += cpu - t->cpu_seen;
        t->cpu_seen = cpu;
    }
    *span = now - w->starve_seen_ns;
    w->starve_seen_ns = now;
    return used;
}

/* Whether the threads running jobs used less than a quarter of the time
 * since the last look on a CPU and none waits for a CPU now (so they wait
 * on something); notes their CPU times for the next look. jobs_lock
 * held. */
static int running_threads_wait(srv_worker_t *w)
{
    uint64_t span, used = note_cpu_locked(w, &span);
    size_t i;

    if (used >= span / 4)
        return 0;
    /* Little CPU: asleep, or kept from a CPU by other processes? */
    for (i = 0; i < w->nthreads; i++) {
        srv_pool_thread_t *t = &w->threads[i];

        if (t->started && !t->idle && srv_plat_thread_runnable(t->probe) == 1)
            return 0;
    }
    return 1;
}

static void on_starve(uv_timer_t *timer)
{
    srv_worker_t *w = timer->data;
    srv_pool_thread_t *t = NULL;
    uint64_t next = w->starve_ms;
    int again;

    uv_mutex_lock(&w->jobs_lock);
    if (!srv_list_empty(&w->jobs)) {
        srv_req_t *oldest = srv_list_entry(w->jobs.next, srv_req_t, job_link);
        uint64_t now = uv_now(&w->loop), waited = now - oldest->queued_ms;
        int stuck = w->completed == w->completed_seen && waited >= SRV_STARVE_MS;
        int stalled = now - w->progress_ms >= SRV_STALL_MS && waited >= SRV_STALL_MS;

        int waiting = running_threads_wait(w); /* every time: it keeps the CPU times current */

        if ((waiting && stuck) || stalled || w->running == w->blocked) {
            t = hand_oldest_locked(w);
            w->progress_ms = now; /* the next stall counts from here */
        }
        /* Threads that compute are looked at less and less often (a look
         * wakes the loop, which takes the CPU from them), and at once
         * again after a thread was woken. */
        if (t != NULL)
            next = SRV_STARVE_MS;
        else if (!waiting && next < SRV_STARVE_MAX_MS)
            next *= 2;
    }
    if (w->completed != w->completed_seen)
        w->progress_ms = uv_now(&w->loop);
    w->completed_seen = w->completed;
    again = !srv_list_empty(&w->jobs) && w->idle != NULL;
    uv_mutex_unlock(&w->jobs_lock);
    if (t != NULL)
        uv_sem_post(&t->wake);
    if (!again) {
        uv_timer_stop(timer);
    } else if (next != w->starve_ms) {
        w->starve_ms = next;
        uv_timer_start(timer, on_starve, next, next);
    }
}

void srv__pool_dispatch(srv_worker_t *w, srv_req_t *x)
{
    x->load_dropped = 0;
    add_load(w, 1); /* before a thread can take the job and end it */
    uv_mutex_lock(&w->jobs_lock);
    x->queued_ms = uv_now(&w->loop);
    srv_list_push_tail(&w->jobs, &x->job_link);
    uv_mutex_unlock(&w->jobs_lock);
    w->kick = 1;
}

void srv__pool_kick(srv_worker_t *w)
{
    srv_pool_thread_t *t = NULL;
    int watch;

    if (!w->kick && !srv_atomic_load(&w->rewatch))
        return;
    w->kick = 0;
    srv_atomic_store(&w->rewatch, 0);
    uv_mutex_lock(&w->jobs_lock);
    if (w->running == w->blocked)
        t = hand_oldest_locked(w);
    watch = !srv_list_empty(&w->jobs) && w->idle != NULL;
    if (watch && !uv_is_active((uv_handle_t *)&w->starve)) {
        uint64_t span;

        w->completed_seen = w->completed;
        w->progress_ms = uv_now(&w->loop);
        /* The CPU times the first look compares to. Nothing is decided
         * here, so whether a thread waits for a CPU (a read of /proc for
         * each) is not asked. */
        note_cpu_locked(w, &span);
    } else {
        watch = 0;
    }
    uv_mutex_unlock(&w->jobs_lock);
    if (t != NULL)
        uv_sem_post(&t->wake);
    if (watch) {
        w->starve_ms = SRV_STARVE_MS;
        uv_timer_start(&w->starve, on_starve, SRV_STARVE_MS, SRV_STARVE_MS);
    }
}

void srv__pool_job_ending(srv_req_t *x)
{
    if (!x->load_dropped) {
        x->load_dropped = 1;
        add_load(x->w, -1);
    }
}

uint64_t srv__pool_take_job_time(srv_worker_t *w, uint64_t *jobs, int *dry)
{
    uint64_t sum;

    uv_mutex_lock(&w->jobs_lock);
    sum = w->job_ns_sum;
    *jobs = w->jobs_timed;
    *dry = w->ran_dry != 0;
    w->job_ns_sum = 0;
    w->jobs_timed = 0;
    w->ran_dry = 0;
    uv_mutex_unlock(&w->jobs_lock);
    return *jobs > 0 ? sum / *jobs : 0;
}

int srv__pool_jobs_wait(srv_worker_t *w)
{
    int wait;

    uv_mutex_lock(&w->jobs_lock);
    wait = !srv_list_empty(&w->jobs);
    uv_mutex_unlock(&w->jobs_lock);
    return wait;
}

void srv__pool_blocking(srv_worker_t *w, int entering)
{
    srv_pool_thread_t *t = NULL;

    uv_mutex_lock(&w->jobs_lock);
    if (entering) {
        w->blocked++;
        /* This thread stops running app code: a queued job can start. */
        if (w->running == w->blocked)
            t = hand_oldest_locked(w);
    } else {
        w->blocked--;
    }
    uv_mutex_unlock(&w->jobs_lock);
    if (t != NULL)
        uv_sem_post(&t->wake);
}

/* Ends the previous job (if any) and takes the next, sleeping until one
 * is handed over. Returns NULL when the pool stops. */
static srv_req_t *next_job(srv_pool_thread_t *t, int finished)
{
    srv_worker_t *w = t->w;
    srv_list_t *n;
    int rewatch;

    uv_mutex_lock(&w->jobs_lock);
    if (finished) {
        w->running--;
        w->completed++;
        w->job_ns_sum += uv_hrtime() - t->job_ns;
        w->jobs_timed++;
    }
    /* While another thread computes, this one would only take turns with
     * it for the interpreter: it waits to be woken instead. */
    n = (w->running > w->blocked && !srv_list_empty(&w->jobs) && others_compute_locked(w, t))
            ? NULL
            : srv_list_pop_head(&w->jobs);
    if (n != NULL) {
        w->running++;
        job_started_locked(w, t);
        uv_mutex_unlock(&w->jobs_lock);
        return srv_list_entry(n, srv_req_t, job_link);
    }
    if (w->pool_stop) {
        uv_mutex_unlock(&w->jobs_lock);
        return NULL;
    }
    if (srv_list_empty(&w->jobs))
        w->ran_dry++;
    t->job = NULL;
    t->idle = 1;
    t->next_idle = w->idle;
    w->idle = t;
    rewatch = !srv_list_empty(&w->jobs);
    uv_mutex_unlock(&w->jobs_lock);
    if (rewatch) {
        /* It leaves jobs waiting behind one that computes: the starve
         * timer, stopped when no thread was idle, must run again, or they
         * would wait for that computation to end. */
        srv_atomic_store(&w->rewatch, 1);
        srv__worker_wake(w);
    }
    uv_sem_wait(&t->wake);
    return t->job; /* NULL: woken to stop */
}

static void pool_main(void *arg)
{
    srv_pool_thread_t *t = arg;
    srv_worker_t *w = t->w;
    srv_req_t *x;
    int finished = 0, probe = srv_plat_runnable_open();

    srv_plat_thread_name("srv-app");
    uv_mutex_lock(&w->jobs_lock);
    t->probe = probe;
    uv_mutex_unlock(&w->jobs_lock);
    if (w->app.thread_init != NULL && w->app.thread_init(w->app.data) != 0)
        srv_log_error("app thread initialisation failed; the thread serves anyway");
    if (w->app.thread_ident != NULL)
        t->ident = w->app.thread_ident(w->app.data);
    while ((x = next_job(t, finished)) != NULL) {
        int aborted, rc;

        uv_mutex_lock(&w->lock);
        x->thread = t;
        aborted = (x->state & X_ABORTED) != 0;
        uv_mutex_unlock(&w->lock);
        /* A client that left while the request waited is not served. */
        rc = aborted ? SRV_ECONNRESET : w->app.handle(w->app.data, x);
        /* The siblings see this worker's load drop before the client can
         * see its response (the release sends its last bytes, unless the
         * app thread wrote them itself and dropped it then). */
        srv__pool_job_ending(x);
        srv__req_complete(x, rc);
        finished = 1;
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
        t->probe = -1;
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
        srv_plat_runnable_close(t->probe);
        t->probe = -1;
        uv_sem_destroy(&t->wake);
        uv_cond_destroy(&t->cond);
        t->started = 0;
    }
}
