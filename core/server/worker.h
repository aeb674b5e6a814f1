/* worker.h: one worker: a libuv loop thread, its listeners and
 * connections, and its pool of app threads.
 *
 * The platform layer creates one worker per worker process (Linux) or one
 * in the only process (Windows), hands it the listening sockets it bound,
 * and runs it on the calling thread until it stops. */
#ifndef SRV_SERVER_WORKER_H
#define SRV_SERVER_WORKER_H

#include <signal.h>
#include <stdint.h>
#include <uv.h>

#include "config/config.h"
#include "http/parser.h"
#include "srv.h"
#include "cache/cache.h"
#include "util/accesslog.h"
#include "server/slots.h"
#include "static/static.h"
#include "plat_compiler.h"
#include "util/list.h"
#include "util/netmask.h"

typedef struct srv_worker_s srv_worker_t;
typedef struct srv_conn_s srv_conn_t;

/* A listening socket bound by the platform layer. */
typedef struct srv_listen_spec_s {
    uv_os_sock_t sock; /* the worker adopts it: closing the worker closes it */
    int is_unix;
    char host[256];    /* bound address (numeric), for SERVER_NAME and logs */
    int port;          /* bound port (the real one when 0 was asked for) */
    char display[300]; /* "http://127.0.0.1:8000" or "unix:/run/srv.sock" */
} srv_listen_spec_t;

/* What the process model gives a worker (all borrowed; may be NULL/0 for a
 * worker that runs alone, as on Windows). */
typedef struct srv_worker_env_s {
    srv_slot_table_t *slots; /* every worker's slot, shared memory */
    size_t self;             /* this worker's index in slots */
    int balance;             /* the sockets are shared with the siblings: balance accepts */
    void *data;              /* for the callbacks */
    /* The worker is serving (loop thread). */
    void (*on_ready)(void *data);
    /* The worker wants a replacement (max_requests, max_worker_memory, a
     * request past its timeout); it stops accepting and drains right
     * after. Loop thread. */
    void (*on_retire)(void *data, const char *why);
    /* The app's code changed (`reload`); the slot says so too. The
     * watcher's thread. */
    void (*on_changed)(void *data);
} srv_worker_env_t;

typedef struct srv_listener_s {
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_stream_t stream;
        uv_handle_t handle;
        uv_poll_t poll; /* shared: the worker accepts by hand (balancing) */
    } h;
    srv_worker_t *w;
    srv_listen_spec_t spec;
    int open;
    int shared; /* shared with sibling workers */
} srv_listener_t;

/* Timeout lists: within one list every connection has the same timeout,
 * so appending at the tail keeps the list sorted by deadline and the tick
 * only looks at the heads. */
enum { SRV_TQ_HEAD = 0, SRV_TQ_IDLE, SRV_TQ_BODY, SRV_TQ_WRITE, SRV_TQ_LINGER, SRV_TQ_COUNT };

typedef struct srv_pool_thread_s {
    uv_thread_t tid;
    uint64_t ident; /* the app's name for this thread (app.thread_ident) */
    srv_worker_t *w;
    uv_cond_t cond; /* waits on it (with w->lock) for body bytes or drain */
    uv_sem_t wake;  /* posted when a job is handed to this idle thread */
    srv_req_t *job; /* the job handed over (jobs_lock) */
    struct srv_pool_thread_s *next_idle;
    int idle;          /* waiting for a job (jobs_lock) */
    uint64_t job_ns;   /* when its job started (jobs_lock) */
    uint64_t base_ns;  /* 0, or when job_cpu was read (jobs_lock) */
    uint64_t job_cpu;  /* its CPU time at base_ns (jobs_lock) */
    uint64_t cpu_seen; /* its CPU time at the last starve check (loop thread) */
    int probe;         /* srv_plat_runnable_open()'s, opened by the thread (jobs_lock) */
    int started;
} srv_pool_thread_t;

struct srv_worker_s {
    uv_loop_t loop;
    const srv_config_t *cfg; /* borrowed */
    srv_app_t app;
    srv_http_limits_t limits;
    uint64_t ms_keepalive, ms_header, ms_body, ms_write, ms_graceful;
    size_t body_buffer, write_buffer, max_conns;
    int64_t max_body;
    int keepalive_on;
    srv_netmask_t *proxies; /* forwarded_allow_ips (owned array) */
    size_t nproxies;

    srv_listener_t *listeners; /* owned array */
    size_t nlisteners;
    uv_async_t notify;              /* signals, the master: stop, reopen logs */
    struct srv_plat_waker_s *waker; /* the app threads: output, events (srv__worker_wake) */
    uv_timer_t tick;
    uv_timer_t hold_watch;    /* sends output held for a release that is late */
    size_t in_app;            /* requests dispatched and not released (loop) */
    uv_prepare_t before_poll; /* drains notify_q before the loop would block */
    uv_check_t after_poll;    /* marks the loop awake again */
    /* Nonzero while the loop runs callbacks: app threads then only queue
     * their notifications, which the loop drains before it blocks, and save
     * an eventfd write and a wake-up per response. */
    srv_atomic_int_t loop_awake;

    /* The job queue and the app threads' states, under jobs_lock (see
     * app/pool.c for the policy). An idle thread is handed its job
     * directly and woken by its own semaphore; idle threads form a stack,
     * so the most recently busy (cache-warm) thread runs the next job. */
    uv_mutex_t jobs_lock;
    srv_list_t jobs; /* srv_req_t waiting for an app thread */
    srv_pool_thread_t *idle;
    size_t running;           /* threads running a job */
    size_t blocked;           /* of those, threads waiting inside srv for a client */
    uint64_t completed;       /* jobs finished, ever: progress for the starve timer */
    int kick;                 /* jobs were dispatched in this loop iteration (loop) */
    srv_atomic_int_t rewatch; /* a thread went idle while jobs wait: the
                               * loop must watch them again (any thread) */
    uint64_t completed_seen;
    uint64_t starve_seen_ns; /* when the starve timer last looked */
    uint64_t starve_ms;      /* and how long until it looks again */
    uint64_t progress_ms;    /* when it last saw a job finish (or woke a thread) */
    uint64_t job_ns_sum;     /* how long the jobs ended since the last tick took */
    uint64_t jobs_timed;     /* and how many they were */
    uint64_t ran_dry;        /* and how often a thread found no job waiting */
    int pool_stop;
    uv_timer_t starve; /* wakes another thread for a job that waits */

    /* Exchange state shared between the loop and the app threads. */
    uv_mutex_t lock;
    srv_list_t notify_q;    /* srv_req_t with events for the loop */
    srv_list_t held;        /* srv_req_t whose output waits for their release */
    uv_cond_t wrote;        /* an app thread's write to a socket ended (X_WRITE_WAIT) */
    int direct_send;        /* the platform lets app threads write to sockets (read-only) */
    size_t cache_entry_max; /* the largest response `cache` keeps (read-only) */
    int stopping_shared;    /* app threads read it to close after a response */
    int shed;               /* responses to close their connection, for balance (listen.c) */
    int shedding;           /* connections so closing, not closed yet */

    /* Set from any thread or a signal handler, then notify is sent. */
    srv_atomic_int_t stop_mode; /* 0, 1 graceful, 2 now */
    srv_atomic_int_t reopen;    /* reopen the log files */

    /* App threads. */
    srv_pool_thread_t *threads; /* owned array */
    size_t nthreads;

    /* Loop thread only. */
    srv_list_t conns;   /* every open connection */
    size_t nconns;      /* connections with an open handle */
    unsigned naccepted; /* connections opened (wraps) */
    size_t nlive;       /* connections not yet freed (open, or held by an app thread) */
    srv_list_t tq[SRV_TQ_COUNT];
    int stopping;
    uint64_t stop_deadline;
    uint64_t idle_grace_until;  /* when stopping, idle keep-alive connections close then */
    srv_accesslog_t *accesslog; /* owned; NULL when off */
    srv_static_t statics;       /* `static` mounts */
    srv_cache_t *cache;         /* owned; NULL when `cache` is off */
    srv_list_t cache_parked;    /* srv_conn_t waiting for a refill (park_link) */
    uint64_t nrequests;
    int app_inited;
    int stuck; /* app threads did not return: leave them and the memory */

    srv_worker_env_t env;
    uint64_t ms_timeout;   /* per-request deadline, 0 for none */
    uint64_t max_requests; /* with jitter; 0 for none */
    uint64_t max_rss;      /* bytes; 0 for none */
    uint64_t next_rss_check;
    int rss_over;              /* checks in a row that found it over max_rss */
    uint64_t trimmed_rss;      /* resident bytes after the last trim */
    uint64_t trimmed_requests; /* nrequests at the last look for one */
    int retiring;
    int loop_batch;          /* the loop thread waits its turn when woken (set_loop_class); -1: its
                              * scheduling is not srv's to change */
    uv_timer_t accept_retry; /* resumes accepting after a balancing pause */
    /* Leaving pending connections to the siblings (over_fair_share): */
    int accept_paused;     /* polling stopped for a balancing pause */
    int weight;            /* share of connections to hold, in thousandths of an even one
                            * (srv__worker_balance); 0: even */
    int rate_ticks;        /* ticks in a row the app had requests waiting (capped) */
    uint64_t rate;         /* requests/s over those ticks (moving average) */
    uint64_t rate_at;      /* when the last tick measured it (loop ms) */
    int deferring;         /* a run of such pauses is going on */
    uint64_t defer_since;  /* when it began (loop ms) */
    uint64_t defer_last;   /* the latest pause of it */
    unsigned defer_others; /* the connections the siblings had accepted then */

    /* A thread that logs where a stuck request is (app.report_stuck). */
    uv_thread_t reporter;
    uint64_t reporter_ident;
    int reporter_started;
    srv_atomic_int_t reporter_done;

    /* A thread that asks the app once a second whether its code changed
     * (`reload`, app.changed). */
    uv_thread_t watcher;
    uv_mutex_t watch_lock;
    uv_cond_t watch_cond;
    int watch_stop;      /* watch_lock */
    int watcher_started; /* loop thread */
};

/* Creates a worker for cfg and app on the given sockets (borrowed array;
 * the sockets are adopted). env may be NULL (a worker alone). Returns 0 or
 * an SRV_E* code; on failure the sockets are left open for the caller.
 * Main thread. */
int srv_worker_create(srv_worker_t **out, const srv_config_t *cfg, const srv_app_t *app,
                      const srv_listen_spec_t *socks, size_t nsocks, const srv_worker_env_t *env);
/* Runs the loop until the worker has stopped. Returns 0 or SRV_E*. */
int srv_worker_run(srv_worker_t *w);
/* Asks the worker to stop (graceful: finish what is in flight, up to
 * graceful_timeout). Any thread; async-signal-safe. */
void srv_worker_stop(srv_worker_t *w, int graceful);
/* Asks the worker to reopen its log files (SIGUSR1). Any thread;
 * async-signal-safe. */
void srv_worker_reopen_logs(srv_worker_t *w);
/* Frees a worker whose run returned (or that never ran). */
void srv_worker_destroy(srv_worker_t *w);

/* ---- For core/net and core/app ---- */

/* Puts c on timeout list tq, with the deadline from now (loop thread). */
void srv__worker_timeout_set(srv_worker_t *w, srv_conn_t *c, int tq);
void srv__worker_timeout_clear(srv_conn_t *c);
/* Wakes the loop after x was queued on notify_q, unless it is awake and
 * will drain the queue before it blocks. Any thread; call without locks. */
void srv__worker_wake(srv_worker_t *w);

/* Logs where the request stuck on app thread `ident` is, from a helper
 * thread (the app may need a lock the stuck thread holds). Once per
 * worker: it retires after that. Loop thread. */
void srv__worker_report_stuck(srv_worker_t *w, uint64_t ident);

/* `reload`: starts the thread that asks the app whether its code changed
 * (when reload is on, the app can tell, and a master listens), and stops
 * it. Loop thread, outside the loop. */
void srv__worker_watch_start(srv_worker_t *w);
void srv__worker_watch_stop(srv_worker_t *w);

/* Tells the siblings how many connections this worker holds, and with
 * accepted, that it took one more (they balance accepts by it). Loop
 * thread; one atomic store per connection closed, two per one opened. */
static inline void srv__worker_publish_conns(srv_worker_t *w, int accepted)
{
    if (w->env.slots == NULL)
        return;
    srv_atomic_store(&w->env.slots->slot[w->env.self].conns, (int)w->nconns);
    if (accepted)
        srv_atomic_store(&w->env.slots->slot[w->env.self].accepted, (int)++w->naccepted);
}

/* Opens listener l on the socket of spec and starts accepting on it
 * (listen.c). Returns 0 or a libuv error. Loop thread. */
int srv__worker_open_listener(srv_worker_t *w, srv_listener_t *l, const srv_listen_spec_t *spec);

/* Once a tick: jobs ended since the last tick, and whether requests
 * waited for a thread all along (saturated). Sets the worker's weight
 * and how many connections to shed (listen.c). Loop thread. */
void srv__worker_balance(srv_worker_t *w, uint64_t jobs, int saturated);

/* During a balancing pause (w->accept_paused, which the caller tests),
 * resumes accepting at once when this worker no longer holds more than
 * its share (listen.c). Loop thread, once per paused iteration. */
void srv__worker_accept_recheck(srv_worker_t *w);

/* Retires the worker: asks for a replacement, then stops gracefully.
 * Loop thread. */
void srv__worker_retire(srv_worker_t *w, const char *why);

/* Ends the loop once a stopping worker has no connection left. */
void srv__worker_check_stopped(srv_worker_t *w);

#endif
