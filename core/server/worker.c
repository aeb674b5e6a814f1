/* worker.c: one worker: its loop, timeouts, the hand-off from app
 * threads, and stopping (its listeners: listen.c). */
#include "server/worker.h"

#include <stdio.h>
#include <string.h>

#include "app/exchange.h"
#include "app/pool.h"
#include "net/conn.h"
#include "platform.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/log.h"

#define SRV_TICK_MS        250
#define SRV_HOLD_MS        10
#define SRV_TRIM_SLACK     ((uint64_t)8 << 20) /* growth worth a trim when idle */
#define SRV_RSS_CHECKS     2 /* max_worker_memory: checks in a row over it that retire */
#define SRV_LINGER_MS      5000
#define SRV_STUCK_GRACE_MS 3000
/* On a graceful stop an idle keep-alive connection stays open this long:
 * a client that sends its next request meanwhile gets the response with
 * "Connection: close", rather than a close racing its request (which it
 * would see as an error). */
#define SRV_IDLE_GRACE_MS 1000
/* Requests this short on average (from the start of their job to its
 * end) let the loop thread wait its turn when woken; this long, it takes
 * the CPU at once again (set_loop_class). */
#define SRV_BATCH_ON_NS  250000
#define SRV_BATCH_OFF_NS 500000

/* ---- Timeouts ---- */

void srv__worker_timeout_set(srv_worker_t *w, srv_conn_t *c, int tq)
{
    uint64_t ms;

    switch (tq) {
    case SRV_TQ_HEAD:
        ms = w->ms_header;
        break;
    case SRV_TQ_IDLE:
        ms = w->ms_keepalive;
        break;
    case SRV_TQ_BODY:
        ms = w->ms_body;
        break;
    case SRV_TQ_WRITE:
        ms = w->ms_write;
        break;
    default:
        ms = w->ms_write < SRV_LINGER_MS ? w->ms_write : SRV_LINGER_MS;
        break;
    }
    srv_list_unlink(&c->tlink);
    c->tq = tq;
    c->deadline = uv_now(&w->loop) + ms;
    srv_list_push_tail(&w->tq[tq], &c->tlink);
}

void srv__worker_timeout_clear(srv_conn_t *c)
{
    srv_list_unlink(&c->tlink);
    c->tq = -1;
}

static void expire(srv_worker_t *w, uint64_t now)
{
    int tq;

    for (tq = 0; tq < SRV_TQ_COUNT; tq++) {
        /* Each list is sorted by deadline; a connection that gets a new
         * deadline moves to the tail, so this ends. */
        while (!srv_list_empty(&w->tq[tq])) {
            srv_conn_t *c = srv_list_entry(w->tq[tq].next, srv_conn_t, tlink);

            if (c->deadline > now)
                break;
            srv__conn_on_timeout(c);
            if (c->tq == tq && c->deadline <= now)
                srv__worker_timeout_clear(c); /* never spin on one */
        }
    }
}

/* ---- Stopping ---- */

static void close_handles(srv_worker_t *w)
{
    if (!uv_is_closing((uv_handle_t *)&w->accept_retry))
        uv_close((uv_handle_t *)&w->accept_retry, NULL);
    if (!uv_is_closing((uv_handle_t *)&w->starve))
        uv_close((uv_handle_t *)&w->starve, NULL);
    if (!uv_is_closing((uv_handle_t *)&w->before_poll))
        uv_close((uv_handle_t *)&w->before_poll, NULL);
    if (!uv_is_closing((uv_handle_t *)&w->after_poll))
        uv_close((uv_handle_t *)&w->after_poll, NULL);
    if (!uv_is_closing((uv_handle_t *)&w->notify))
        uv_close((uv_handle_t *)&w->notify, NULL);
    srv_plat_waker_close(w->waker);
    if (!uv_is_closing((uv_handle_t *)&w->tick))
        uv_close((uv_handle_t *)&w->tick, NULL);
    if (!uv_is_closing((uv_handle_t *)&w->hold_watch))
        uv_close((uv_handle_t *)&w->hold_watch, NULL);
}

void srv__worker_check_stopped(srv_worker_t *w)
{
    if (w->stopping && w->nlive == 0)
        close_handles(w);
}

static void on_listener_closed(uv_handle_t *h)
{
    srv_listener_t *l = h->data;

    if (l->shared) /* a poll handle does not own its socket */
        srv_plat_sock_close(l->spec.sock);
}

static void close_listeners(srv_worker_t *w)
{
    size_t i;

    for (i = 0; i < w->nlisteners; i++) {
        if (w->listeners[i].open) {
            uv_close(&w->listeners[i].h.handle, on_listener_closed);
            w->listeners[i].open = 0;
        }
    }
}

static void begin_stop(srv_worker_t *w, int graceful)
{
    srv_list_t *n, *next;

    if (!w->stopping) {
        w->stopping = 1;
        w->stop_deadline = uv_now(&w->loop) + (graceful ? w->ms_graceful : 0);
        w->idle_grace_until = graceful ? uv_now(&w->loop) + SRV_IDLE_GRACE_MS : 0;
        uv_mutex_lock(&w->lock);
        w->stopping_shared = 1;
        uv_mutex_unlock(&w->lock);
        close_listeners(w);
        srv_log_info("Stopping%s: %zu open connection%s", graceful ? " gracefully" : "", w->nconns,
                     w->nconns == 1 ? "" : "s");
    }
    for (n = w->conns.next; n != &w->conns; n = next) {
        next = n->next;
        srv__conn_stop(srv_list_entry(n, srv_conn_t, link), graceful);
    }
    srv__worker_check_stopped(w);
}

/* Publishes this worker's state for the master and its siblings. */
static void publish(srv_worker_t *w)
{
    srv_worker_slot_t *s;

    if (w->env.slots == NULL)
        return;
    s = &w->env.slots->slot[w->env.self];
    srv_atomic_store(&s->heartbeat, (int)(uv_hrtime() / 1000000000u));
    srv_atomic_store(&s->requests, (int)(w->nrequests & 0x7fffffff));
}

/* Hands the allocator's free memory back to the system; returns the
 * resident bytes after. */
static uint64_t trim_memory(srv_worker_t *w)
{
    srv_plat_trim_memory();
    w->trimmed_rss = srv_plat_rss();
    w->trimmed_requests = w->nrequests;
    return w->trimmed_rss;
}

/* Once the app is idle after serving, gives back what the allocator kept
 * from the busy time, when it is enough to matter: a worker that buffered
 * many large responses at once (its loop kept from a CPU) would otherwise
 * stay that large. */
static void trim_when_idle(srv_worker_t *w)
{
    if (w->in_app != 0 || w->nrequests == w->trimmed_requests)
        return;
    w->trimmed_requests = w->nrequests;
    if (srv_plat_rss() > w->trimmed_rss + SRV_TRIM_SLACK)
        trim_memory(w);
}

/* Requests past their deadline, and the limits that retire a worker. */
static void check_limits(srv_worker_t *w, uint64_t now)
{
    if (w->ms_timeout > 0) {
        srv_list_t *n, *next;

        for (n = w->conns.next; n != &w->conns; n = next) {
            next = n->next;
            srv__conn_check_deadline(srv_list_entry(n, srv_conn_t, link), now);
        }
    }
    if (w->retiring)
        return;
    if (w->max_rss > 0 && now >= w->next_rss_check) {
        uint64_t rss = srv_plat_rss();

        w->next_rss_check = now + 1000;
        if (rss > w->max_rss) {
            /* Only for memory in use: not for what the allocator merely
             * kept after a burst of large responses or app data. */
            rss = trim_memory(w);
        }
        /* Nor for a request that holds much only for a moment (the check
         * can come while it runs): memory in use over the limit a second
         * apart. A leak is replaced one second later than at once. */
        w->rss_over = rss > w->max_rss ? w->rss_over + 1 : 0;
        if (w->rss_over >= SRV_RSS_CHECKS) {
            char why[128];

            snprintf(why, sizeof(why), "memory %llu MB over max_worker_memory",
                     (unsigned long long)(rss >> 20));
            srv__worker_retire(w, why);
        }
    }
}

static void reporter_main(void *arg)
{
    srv_worker_t *w = arg;

    w->app.report_stuck(w->app.data, w->reporter_ident);
    srv_atomic_store(&w->reporter_done, 1);
}

void srv__worker_report_stuck(srv_worker_t *w, uint64_t ident)
{
    if (w->app.report_stuck == NULL || w->reporter_started || ident == 0)
        return;
    w->reporter_ident = ident;
    if (uv_thread_create(&w->reporter, reporter_main, w) == 0)
        w->reporter_started = 1;
}

void srv__worker_retire(srv_worker_t *w, const char *why)
{
    if (w->retiring || w->stopping)
        return;
    w->retiring = 1;
    srv_log_info("Worker retiring (%s); a replacement is starting", why);
    if (w->env.slots != NULL)
        srv_atomic_store(&w->env.slots->slot[w->env.self].state, SRV_SLOT_RETIRING);
    /* The master starts the replacement first, so that nothing waits. */
    if (w->env.on_retire != NULL)
        w->env.on_retire(w->env.data, why);
    begin_stop(w, 1);
}

/* How the loop thread is scheduled, looked at once a tick. Woken by a
 * client (or an app thread), a thread normally preempts the one running
 * on its CPU. That suits the loop while the app computes for long: it
 * reads the next request and queues it while the app thread computes, so
 * that the thread goes on to it at once. While the app's requests are
 * short, the preemption only adds context switches: the loop interrupts
 * a client on the same machine (a proxy, a benchmark) in the middle of
 * its writes, or an app thread about to finish, and would have got the
 * CPU within microseconds, with more to read at once. Then the loop waits
 * its turn (srv_plat_thread_batch). Hello with -w 2 --threads 3 on two
 * CPUs: 0.69 context switches per request instead of 0.89, and 19% more
 * requests/s at 10 connections, 10-15% at 256. With the Flask index page
 * (8 ms) at 10 connections, the p99 was higher, hence the switch back for
 * long requests. A policy set from outside (chrt, systemd) is left as it
 * is. */
static void set_loop_class(srv_worker_t *w, uint64_t mean, uint64_t jobs)
{
    int batch, rc;

    if (jobs == 0 || w->loop_batch < 0)
        return;
    batch = mean < (w->loop_batch ? SRV_BATCH_OFF_NS : SRV_BATCH_ON_NS);
    if (batch == w->loop_batch)
        return;
    rc = srv_plat_thread_batch(batch);
    if (rc == 0) {
        w->loop_batch = batch;
        return;
    }
    /* Denied (a seccomp filter): said once, and not tried again. */
    srv_log_warn("the loop thread keeps its scheduling policy: %s", srv_strerror(rc));
    w->loop_batch = -1;
}

static void on_tick(uv_timer_t *t)
{
    srv_worker_t *w = t->data;
    uint64_t now = uv_now(&w->loop), jobs, mean;
    int dry;

    expire(w, now);
    check_limits(w, now);
    trim_when_idle(w);
    mean = srv__pool_take_job_time(w, &jobs, &dry);
    set_loop_class(w, mean, jobs);
    srv__worker_balance(w, jobs, jobs > 0 && !dry);
    publish(w);
    if (w->stopping && w->idle_grace_until != 0 && now >= w->idle_grace_until) {
        w->idle_grace_until = 0;
        begin_stop(w, 1); /* closes the connections still idle */
    }
    if (w->stopping && now >= w->stop_deadline) {
        if (w->nconns > 0) {
            srv_log_warn("Graceful timeout: closing %zu connection%s", w->nconns,
                         w->nconns == 1 ? "" : "s");
            begin_stop(w, 0);
        } else if (w->nlive > 0 && now >= w->stop_deadline + SRV_STUCK_GRACE_MS) {
            /* App threads that never return cannot be stopped; the process
             * exits with them. */
            srv_log_error("%zu request%s still running in app threads; exiting anyway", w->nlive,
                          w->nlive == 1 ? "" : "s");
            w->stuck = 1;
            close_handles(w);
        }
    }
}

void srv_worker_reopen_logs(srv_worker_t *w)
{
    srv_atomic_store(&w->reopen, 1);
    uv_async_send(&w->notify);
}

void srv_worker_stop(srv_worker_t *w, int graceful)
{
    /* Only async-signal-safe operations: atomics and uv_async_send(). */
    if (!graceful || srv_atomic_load(&w->stop_mode) == 0)
        srv_atomic_store(&w->stop_mode, graceful ? 1 : 2);
    uv_async_send(&w->notify);
}

/* ---- The hand-off ---- */

void srv__worker_wake(srv_worker_t *w)
{
    if (!srv_atomic_load(&w->loop_awake))
        srv_plat_waker_wake(w->waker);
}

/* Takes every queued notification and acts on it (loop thread). */
static void drain_notifications(srv_worker_t *w)
{
    srv_req_t *ready = NULL, **tail = &ready;
    srv_list_t *n;

    /* One lock for the whole batch: take each exchange's events and output
     * blocks, then act on them without the lock. */
    uv_mutex_lock(&w->lock);
    while ((n = srv_list_pop_head(&w->notify_q)) != NULL) {
        srv_req_t *x = srv_list_entry(n, srv_req_t, notify_link);

        x->ev_seen = x->events;
        x->st_seen = x->state;
        x->events = 0;
        x->conn->resp_bytes_total += (int64_t)x->direct_bytes;
        x->direct_bytes = 0;
        if (x->state & X_ABORTED) {
            /* srv gave up on this exchange: its output goes nowhere. */
            srv_list_t *b;

            while ((b = srv_list_pop_head(&x->out)) != NULL)
                srv_oblock_free(srv_list_entry(b, srv_oblock_t, link));
        } else {
            srv_list_splice_tail(&x->conn->wq, &x->out);
        }
        x->ready_next = NULL;
        *tail = x;
        tail = &x->ready_next;
    }
    uv_mutex_unlock(&w->lock);
    while (ready != NULL) {
        srv_req_t *x = ready;

        ready = x->ready_next;
        srv__conn_on_app(x->conn, x->ev_seen, x->st_seen);
    }
}

/* The app threads' wake-up (srv__worker_wake). */
static void on_wake(void *data)
{
    drain_notifications(data);
}

/* Signals and the master: log reopening and stops (and whatever the app
 * threads queued meanwhile). */
static void on_notify(uv_async_t *a)
{
    srv_worker_t *w = a->data;
    int mode;

    drain_notifications(w);
    if (srv_atomic_load(&w->reopen)) {
        srv_atomic_store(&w->reopen, 0);
        srv_log_reopen();
        if (w->accesslog != NULL)
            srv_accesslog_reopen(w->accesslog);
    }
    mode = srv_atomic_load(&w->stop_mode);
    if (mode != 0 && (!w->stopping || mode == 2))
        begin_stop(w, mode == 1);
}

/* Output an app thread holds for its release (req.c: a write that
 * completes the Content-Length) saves a wake-up when the release follows
 * at once, as it does when the app's iterator ends. An iterator that
 * works on after its last bytes would keep a finished response from the
 * client (and past `timeout`, turn it into a 504): so, while requests are
 * in the app, the loop looks every SRV_HOLD_MS and sends what is held. */
static void on_hold_watch(uv_timer_t *t)
{
    srv_worker_t *w = t->data;
    srv_list_t *n;

    uv_mutex_lock(&w->lock);
    while ((n = srv_list_pop_head(&w->held)) != NULL)
        srv__req_notify_locked(srv_list_entry(n, srv_req_t, held_link), EV_OUT);
    uv_mutex_unlock(&w->lock); /* on_before_poll drains them */
}

/* The loop is about to block: from now on app threads must wake it, and
 * what they queued meanwhile is handled now. The store comes first, so a
 * notification queued after the drain sees loop_awake == 0 (the lock
 * orders the two). */
static void on_before_poll(uv_prepare_t *p)
{
    srv_worker_t *w = p->data;

    srv_atomic_store(&w->loop_awake, 0);
    drain_notifications(w);
    /* Wake an app thread once for every job of this iteration. */
    srv__pool_kick(w);
    if (w->accept_paused)
        srv__worker_accept_recheck(w);
    if (w->in_app == 0)
        uv_timer_stop(&w->hold_watch);
    else if (!uv_is_active((uv_handle_t *)&w->hold_watch))
        uv_timer_start(&w->hold_watch, on_hold_watch, SRV_HOLD_MS, 0);
    /* Checked here, once per iteration: a worker serves max_requests, not
     * what a tick lets through. */
    if (w->max_requests > 0 && w->nrequests >= w->max_requests && !w->retiring)
        srv__worker_retire(w, "max_requests reached");
}

static void on_after_poll(uv_check_t *c)
{
    srv_atomic_store(&((srv_worker_t *)c->data)->loop_awake, 1);
}

/* ---- Life cycle ---- */

/* The proxies trusted to tell the scheme (forwarded_allow_ips), which the
 * configuration checked as it was read. */
static int load_proxies(srv_worker_t *w, const srv_config_t *cfg)
{
    const srv_cval_t *v = &cfg->v[SRV_K_forwarded_allow_ips];
    size_t i;

    if (v->nlist == 0)
        return 0;
    w->proxies = srv_calloc(v->nlist, sizeof(srv_netmask_t));
    if (w->proxies == NULL)
        return SRV_ENOMEM;
    for (i = 0; i < v->nlist; i++) {
        const char *why = "";

        if (srv_netmask_parse(v->list[i], &w->proxies[i], &why) != 0) {
            srv_log_error("forwarded_allow_ips: '%s': %s", v->list[i], why);
            return SRV_ECONFIG;
        }
    }
    w->nproxies = v->nlist;
    return 0;
}

int srv_worker_create(srv_worker_t **out, const srv_config_t *cfg, const srv_app_t *app,
                      const srv_listen_spec_t *socks, size_t nsocks, const srv_worker_env_t *env)
{
    srv_worker_t *w;
    size_t i;
    int rc, tq;

    *out = NULL;
    w = srv_calloc(1, sizeof(*w));
    if (w == NULL)
        return SRV_ENOMEM;
    w->cfg = cfg;
    w->app = *app;
    w->limits.max_head = (size_t)SRV_CFG_INT(cfg, limit_request_head);
    w->limits.max_line = SRV_CFG_INT(cfg, limit_request_line)
                             ? (size_t)SRV_CFG_INT(cfg, limit_request_line)
                             : w->limits.max_head;
    w->limits.max_field = SRV_CFG_INT(cfg, limit_request_field_size)
                              ? (size_t)SRV_CFG_INT(cfg, limit_request_field_size)
                              : w->limits.max_head;
    w->limits.max_fields = (size_t)SRV_CFG_INT(cfg, limit_request_fields);
    w->ms_keepalive = (uint64_t)SRV_CFG_INT(cfg, keepalive) * 1000;
    w->keepalive_on = SRV_CFG_INT(cfg, keepalive) > 0;
    w->ms_header = (uint64_t)SRV_CFG_INT(cfg, header_timeout) * 1000;
    w->ms_body = (uint64_t)SRV_CFG_INT(cfg, body_timeout) * 1000;
    w->ms_write = (uint64_t)SRV_CFG_INT(cfg, write_timeout) * 1000;
    w->ms_graceful = (uint64_t)SRV_CFG_INT(cfg, graceful_timeout) * 1000;
    w->body_buffer = (size_t)SRV_CFG_INT(cfg, body_buffer_size);
    w->write_buffer = (size_t)SRV_CFG_INT(cfg, write_buffer_size);
    w->max_conns = (size_t)SRV_CFG_INT(cfg, worker_connections);
    w->max_body = SRV_CFG_INT(cfg, limit_request_body);
    w->ms_timeout = (uint64_t)SRV_CFG_INT(cfg, timeout) * 1000;
    w->max_rss = (uint64_t)SRV_CFG_INT(cfg, max_worker_memory);
    if (SRV_CFG_INT(cfg, max_requests) > 0) {
        uint64_t jitter = (uint64_t)SRV_CFG_INT(cfg, max_requests_jitter), r = 0;

        /* Spread the restarts, as gunicorn does: 0..jitter more. */
        if (jitter > 0 && uv_random(NULL, NULL, &r, sizeof(r), 0, NULL) == 0)
            jitter = r % (jitter + 1);
        else
            jitter = 0;
        w->max_requests = (uint64_t)SRV_CFG_INT(cfg, max_requests) + jitter;
    }
    if (env != NULL)
        w->env = *env;
    w->direct_send = srv_plat_can_send_direct();
    srv_list_init(&w->jobs);
    srv_list_init(&w->notify_q);
    srv_list_init(&w->held);
    srv_list_init(&w->conns);
    srv_list_init(&w->cache_parked);
    for (tq = 0; tq < SRV_TQ_COUNT; tq++)
        srv_list_init(&w->tq[tq]);

    rc = uv_loop_init(&w->loop);
    if (rc != 0) {
        srv_free(w);
        return srv_err_from_uv(rc);
    }
    if (uv_mutex_init(&w->lock) != 0) {
        uv_loop_close(&w->loop);
        srv_free(w);
        return SRV_ENOMEM;
    }
    if (uv_cond_init(&w->wrote) != 0) {
        uv_mutex_destroy(&w->lock);
        uv_loop_close(&w->loop);
        srv_free(w);
        return SRV_ENOMEM;
    }
    if (uv_mutex_init(&w->jobs_lock) != 0) {
        uv_cond_destroy(&w->wrote);
        uv_mutex_destroy(&w->lock);
        uv_loop_close(&w->loop);
        srv_free(w);
        return SRV_ENOMEM;
    }
    rc = srv_plat_waker_new(&w->loop, on_wake, w, &w->waker);
    if (rc != 0) {
        uv_run(&w->loop, UV_RUN_DEFAULT); /* closes a half-made waker */
        uv_mutex_destroy(&w->jobs_lock);
        uv_cond_destroy(&w->wrote);
        uv_mutex_destroy(&w->lock);
        uv_loop_close(&w->loop);
        srv_free(w);
        return rc;
    }
    uv_async_init(&w->loop, &w->notify, on_notify);
    w->notify.data = w;
    uv_timer_init(&w->loop, &w->tick);
    w->tick.data = w;
    uv_timer_init(&w->loop, &w->hold_watch);
    w->hold_watch.data = w;
    uv_timer_init(&w->loop, &w->starve);
    w->starve.data = w;
    uv_timer_init(&w->loop, &w->accept_retry);
    w->accept_retry.data = w;
    uv_prepare_init(&w->loop, &w->before_poll);
    w->before_poll.data = w;
    uv_check_init(&w->loop, &w->after_poll);
    w->after_poll.data = w;
    /* Neither keeps the loop alive on its own. */
    uv_prepare_start(&w->before_poll, on_before_poll);
    uv_check_start(&w->after_poll, on_after_poll);
    uv_unref((uv_handle_t *)&w->before_poll);
    uv_unref((uv_handle_t *)&w->after_poll);

    if (SRV_CFG_STR(cfg, accesslog)[0] != '\0') {
        rc = srv_accesslog_open(&w->accesslog, SRV_CFG_STR(cfg, access_log_format),
                                SRV_CFG_STR(cfg, accesslog));
        if (rc != 0) {
            srv_log_error("cannot open access log '%s': %s", SRV_CFG_STR(cfg, accesslog),
                          srv_strerror(rc));
            goto fail;
        }
    }
    rc = load_proxies(w, cfg);
    if (rc != 0)
        goto fail;
    /* Said by the first worker only. */
    rc = srv_static_open(&w->statics, cfg, w->env.self != 0);
    if (rc != 0)
        goto fail;
    if (SRV_CFG_INT(cfg, cache) > 0) {
        w->cache = srv_cache_new((size_t)SRV_CFG_INT(cfg, cache));
        if (w->cache == NULL) {
            rc = SRV_ENOMEM;
            goto fail;
        }
        w->cache_entry_max = srv_cache_entry_max(w->cache);
    }
    w->listeners = srv_calloc(nsocks ? nsocks : 1, sizeof(srv_listener_t));
    if (w->listeners == NULL) {
        rc = SRV_ENOMEM;
        goto fail;
    }
    for (i = 0; i < nsocks; i++) {
        rc = srv__worker_open_listener(w, &w->listeners[i], &socks[i]);
        w->nlisteners = i + 1;
        if (rc != 0) {
            srv_log_error("listen on %s: %s", socks[i].display, uv_strerror(rc));
            rc = srv_err_from_uv(rc);
            goto fail;
        }
    }
    *out = w;
    return 0;
fail:
    w->stopping = 1;
    close_listeners(w);
    close_handles(w);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    srv_worker_destroy(w);
    return rc;
}

int srv_worker_run(srv_worker_t *w)
{
    int rc;

    if (w->app.worker_init != NULL) {
        rc = w->app.worker_init(w->app.data);
        if (rc != 0) {
            srv_log_error("app %s: worker initialisation failed: %s",
                          w->app.name ? w->app.name : "", srv_strerror(rc));
            goto fail;
        }
    }
    w->app_inited = 1;
    rc = srv__pool_start(w, (size_t)SRV_CFG_INT(w->cfg, threads));
    if (rc != 0) {
        srv_log_error("cannot start app threads: %s", srv_strerror(rc));
        goto fail;
    }
    uv_timer_start(&w->tick, on_tick, SRV_TICK_MS, SRV_TICK_MS);
    if (w->env.slots != NULL) {
        srv_atomic_store(&w->env.slots->slot[w->env.self].state, SRV_SLOT_READY);
        publish(w);
    }
    if (w->env.on_ready != NULL)
        w->env.on_ready(w->env.data);
    srv__worker_watch_start(w);
    /* A stop asked for before the loop ran is still pending in stop_mode. */
    if (srv_atomic_load(&w->stop_mode) != 0)
        uv_async_send(&w->notify);
    w->loop_batch = srv_plat_thread_sched_default() ? 0 : -1;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    if (!w->stuck) /* it may wait for the interpreter a stuck thread holds */
        srv__worker_watch_stop(w);
    srv__pool_stop(w, !w->stuck);
    /* A reporter still blocked is left behind with the stuck thread. */
    if (w->reporter_started && srv_atomic_load(&w->reporter_done))
        uv_thread_join(&w->reporter);
    return 0;
fail:
    /* Nothing was served: close the listeners and the loop's handles. */
    begin_stop(w, 0);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    return rc;
}

void srv_worker_destroy(srv_worker_t *w)
{
    if (w == NULL)
        return;
    if (w->app_inited && w->app.worker_exit != NULL && !w->stuck)
        w->app.worker_exit(w->app.data);
    if (!w->stuck) {
        /* Run close callbacks of anything still closing. */
        uv_run(&w->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&w->loop) != 0)
            srv_log_debug("worker loop closed with handles open");
        uv_mutex_destroy(&w->jobs_lock);
        uv_cond_destroy(&w->wrote);
        uv_mutex_destroy(&w->lock);
        srv_free(w->threads);
        srv_plat_waker_free(w->waker); /* no app thread is left to wake it */
    }
    srv_accesslog_close(w->accesslog);
    srv_static_close(&w->statics);
    srv_cache_free(w->cache);
    srv_free(w->proxies);
    srv_free(w->listeners);
    if (!w->stuck)
        srv_free(w);
}
