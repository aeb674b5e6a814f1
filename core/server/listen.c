/* listen.c: a worker's listening sockets: accepting, and balancing new
 * connections with the sibling workers that share a socket. Loop thread. */
#include "server/worker.h"

#include "net/conn.h"
#include "platform.h"
#include "util/error.h"
#include "util/log.h"

#define SRV_ACCEPT_BATCH          16 /* connections taken per wake-up, at most */
#define SRV_ACCEPT_PAUSE_MS       1  /* over its share, a worker looks again after this */
#define SRV_ACCEPT_DEFER_MAX_MS   10 /* ... and takes the connection when no sibling took any */
#define SRV_ACCEPT_STUCK_MS       100 /* every thread busy and none done: leave connections to others */
#define SRV_ACCEPT_ERROR_PAUSE_MS 100

/* Whether the worker of slot s looks stuck: its app holds a request for
 * each of its threads, and none ended for SRV_ACCEPT_STUCK_MS (a new
 * request would wait there). now: ms of the monotonic clock. */
static int looks_stuck(const srv_worker_t *w, srv_worker_slot_t *s, uint32_t now)
{
    return srv_atomic_load(&s->busy) >= (int)w->nthreads &&
           now - (uint32_t)srv_atomic_load(&s->progress) >= SRV_ACCEPT_STUCK_MS;
}

/* A worker's claim to the next connection, the lowest first, in
 * thousandths of a connection: the connections it holds (plus a margin
 * while it looks stuck, so that a sibling gets it unless that one holds
 * clearly more) over its weight (the share it should hold, in thousandths
 * of an even one: srv__worker_balance; 0 is even). A margin for a worker
 * merely busy would split unevenly the connections a benchmark opens
 * while the requests of the previous one drain, and keep-alive keeps that
 * split for the whole run. */
#define SRV_RANK_ONE 1000 /* a connection; and the weight of an even share */

static int64_t accept_rank(size_t conns, int weight, int stuck)
{
    int64_t c = (int64_t)conns + (stuck ? 4 + (int64_t)(conns / 8) : 0);

    return weight > 0 ? c * SRV_RANK_ONE * SRV_RANK_ONE / weight : c * SRV_RANK_ONE;
}

/* Slot i when it is a ready sibling with a live heartbeat (now: seconds
 * of the monotonic clock), else NULL. */
static srv_worker_slot_t *sibling(srv_worker_t *w, size_t i, int now)
{
    srv_worker_slot_t *s = &w->env.slots->slot[i];

    if (i == w->env.self || srv_atomic_load(&s->state) != SRV_SLOT_READY ||
        now - srv_atomic_load(&s->heartbeat) > 2)
        return NULL;
    return s;
}

/* over_fair_share's figures: *mine this worker's rank and *best the
 * lowest of the ready siblings'; returns 0 when there is none. */
static int ranks(srv_worker_t *w, unsigned *others, int *stuck, int64_t *mine, int64_t *best)
{
    size_t i, used;
    int found = 0;
    uint64_t ns = uv_hrtime();
    int now = (int)(ns / 1000000000u);
    uint32_t now_ms = (uint32_t)(ns / 1000000u);

    *others = 0;
    *stuck = 0;
    if (w->env.slots == NULL)
        return 0;
    used = (size_t)srv_atomic_load(&w->env.slots->used);
    *stuck = looks_stuck(w, &w->env.slots->slot[w->env.self], now_ms);
    *mine = accept_rank(w->nconns, w->weight, *stuck);
    for (i = 0; i < used && i < SRV_MAX_WORKERS; i++) {
        srv_worker_slot_t *s = sibling(w, i, now);
        size_t c;
        int64_t rank;

        if (s == NULL)
            continue;
        c = (size_t)srv_atomic_load(&s->conns);
        *others += (unsigned)srv_atomic_load(&s->accepted);
        rank = accept_rank(c, (int)srv_atomic_load(&s->weight), looks_stuck(w, s, now_ms));
        if (!found || rank < *best)
            *best = rank;
        found = 1;
    }
    return found;
}

/* With siblings sharing the listening socket, the kernel wakes all of them
 * for a new connection and the first to ask gets it; a burst of connects
 * (a load balancer, a benchmark opening its pool) can then pile onto one
 * worker, and a worker busy with a long request takes connections an idle
 * sibling would serve at once. Keep-alive pins a connection to its worker,
 * so a worker that got more of them answers each of them later: with 10
 * connections split 7/3, its clients wait twice as long as the others.
 * So a worker leaves a new connection in the shared queue when a ready
 * sibling with a live heartbeat ranks lower (accept_rank). The lowest
 * ranked worker always takes it, and under load the connections spread
 * evenly to within one. *others gets how many connections the siblings
 * counted have accepted, to tell whether they take the ones left to them,
 * and *stuck whether this worker looks stuck. */
static int over_fair_share(srv_worker_t *w, unsigned *others, int *stuck)
{
    int64_t mine, best;

    return ranks(w, others, stuck, &mine, &best) && mine > best;
}

/* Whether to leave the pending connection to the siblings now. A run of
 * pauses lasts while the socket stays readable at every look; when in
 * SRV_ACCEPT_DEFER_MAX_MS of it the siblings took no connection (a loop
 * held up, counts that went stale), this worker takes one itself rather
 * than keep its clients waiting, unless it looks stuck itself (its client
 * would wait longer still). */
static int defer_accept(srv_worker_t *w)
{
    uint64_t now = uv_now(&w->loop);
    unsigned others;
    int stuck;

    if (!over_fair_share(w, &others, &stuck)) {
        w->deferring = 0;
        return 0;
    }
    if (stuck)
        return 1;
    if (!w->deferring || now - w->defer_last > 2 * SRV_ACCEPT_PAUSE_MS + 1 ||
        others != w->defer_others) {
        w->deferring = 1;
        w->defer_since = now;
        w->defer_others = others;
    }
    w->defer_last = now;
    if (now - w->defer_since < SRV_ACCEPT_DEFER_MAX_MS)
        return 1;
    srv_log_debug("Taking a connection over this worker's share: its siblings took none "
                  "for %d ms",
                  SRV_ACCEPT_DEFER_MAX_MS);
    w->deferring = 0;
    return 0;
}

static void on_readable(uv_poll_t *p, int status, int events);

/* Polls (or stops polling) every shared listening socket. */
static void poll_listeners(srv_worker_t *w, int on)
{
    size_t i;

    for (i = 0; i < w->nlisteners; i++) {
        srv_listener_t *l = &w->listeners[i];

        if (l->open && l->shared) {
            if (on)
                uv_poll_start(&l->h.poll, UV_READABLE, on_readable);
            else
                uv_poll_stop(&l->h.poll);
        }
    }
}

/* Polls the listeners again after a pause: a connection still pending
 * then wakes on_readable, which looks at the shares again; otherwise the
 * worker waits for the next one, with no timer. A pause ends sooner when
 * the shares change (srv__worker_accept_recheck). */
static void on_accept_retry(uv_timer_t *t)
{
    srv_worker_t *w = t->data;

    w->accept_paused = 0;
    if (!w->stopping)
        poll_listeners(w, 1);
}

/* The shares change as connections open and close, and the sibling that
 * was left a connection may take more than that one in the meantime: a
 * worker that waited out each pause on its timer, while the sibling then
 * paused too, held every new connection for up to 1 ms. With clients
 * that open a connection per request (nginx's proxy_pass by default),
 * both paused often enough that 10 of them got about 1,900 requests/s
 * from the built-in hello, where --reuse-port gave about 16,000. So the
 * loop looks again before every wait for events, which costs a few atomic
 * loads and only while paused; an idle loop still wakes on the timer. */
void srv__worker_accept_recheck(srv_worker_t *w)
{
    unsigned others;
    int stuck;

    if (w->stopping || over_fair_share(w, &others, &stuck))
        return;
    uv_timer_stop(&w->accept_retry);
    w->accept_paused = 0;
    poll_listeners(w, 1);
}

/* A shared listening socket is readable: take connections one at a time
 * while this worker is within its fair share (the rest stay queued in the
 * kernel for the siblings, which were woken too). */
static void on_readable(uv_poll_t *p, int status, int events)
{
    srv_listener_t *l = p->data;
    srv_worker_t *w = l->w;
    int i;

    (void)events;
    if (status < 0) {
        srv_log_error("accept on %s: %s", l->spec.display, uv_strerror(status));
        return;
    }
    for (i = 0; i < SRV_ACCEPT_BATCH && l->open; i++) {
        uv_os_sock_t sock;
        int rc;

        if (defer_accept(w)) {
            poll_listeners(w, 0);
            w->accept_paused = 1;
            uv_timer_start(&w->accept_retry, on_accept_retry, SRV_ACCEPT_PAUSE_MS, 0);
            return;
        }
        rc = srv_plat_accept(l->spec.sock, &sock);
        if (rc == SRV_EAGAIN)
            return;
        if (rc != 0) {
            /* Out of file descriptors, most likely: pause rather than spin
             * on a socket that stays readable. */
            srv_log_error("accept on %s: %s", l->spec.display, srv_strerror(rc));
            poll_listeners(w, 0);
            uv_timer_start(&w->accept_retry, on_accept_retry, SRV_ACCEPT_ERROR_PAUSE_MS, 0);
            return;
        }
        srv_conn_adopt(l, sock);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    srv_listener_t *l = server->data;

    if (status < 0) {
        srv_log_error("accept on %s: %s", l->spec.display, uv_strerror(status));
        return;
    }
    srv_conn_accept(l);
}

int srv__worker_open_listener(srv_worker_t *w, srv_listener_t *l, const srv_listen_spec_t *spec)
{
    int rc;

    l->w = w;
    l->spec = *spec;
    /* Sockets shared with sibling workers: accept by hand, to balance. */
    l->shared = w->env.slots != NULL && w->env.balance;
    if (l->shared) {
        rc = uv_poll_init_socket(&w->loop, &l->h.poll, spec->sock);
        if (rc != 0)
            return rc;
        l->h.handle.data = l;
        l->open = 1;
        return uv_poll_start(&l->h.poll, UV_READABLE, on_readable);
    }
    if (spec->is_unix) {
        rc = uv_pipe_init(&w->loop, &l->h.pipe, 0);
        if (rc == 0)
            rc = uv_pipe_open(&l->h.pipe, (uv_file)spec->sock);
    } else {
        rc = uv_tcp_init(&w->loop, &l->h.tcp);
        if (rc == 0)
            rc = uv_tcp_open(&l->h.tcp, spec->sock);
    }
    if (rc != 0)
        return rc;
    l->h.handle.data = l;
    l->open = 1;
    return uv_listen(&l->h.stream, (int)SRV_CFG_INT(w->cfg, backlog), on_connection);
}

/* Connections spread evenly serve their clients alike only if the workers
 * serve alike. They may not: two CPUs of a virtual machine can differ by
 * half in speed (a busy neighbour on one), and a worker's app thread
 * tends to stay on its CPU. Flask's index page at 256 connections split
 * 128/128: one worker answered 1,440 requests in 10 s, the other 1,250,
 * both using all of their CPU, so that the clients of the slower one
 * waited 970 ms against 850. And keep-alive pins the connections.
 *
 * So while every worker's app has requests waiting all along (each serves
 * as fast as it can, whatever its number of connections), each publishes
 * its rate, and the connections are shared in proportion: a worker's
 * weight is the share it should hold, in thousandths of an even share
 * (under 1000 for the slower ones), and accept_rank divides by it. A
 * worker that ranks more than a slack above a sibling then closes
 * keep-alive connections after their next response (Connection: close:
 * the client's next request comes on a new connection, which the sibling
 * takes), half the difference and a sixteenth of its connections at most
 * each tick. The slack is a sixteenth of an even share, at least
 * SRV_BALANCE_MIN connections, and weights within a sixteenth of an even
 * share are even, so that rates a few percent apart move nothing. The
 * mark is taken as an app thread starts a response (plan_response), and
 * w->shedding counts the connections marked and not closed yet: marked as
 * their requests came, they closed only after those had waited their
 * turn, and every tick meanwhile marked as many again.
 *
 * When a worker keeps up, no connection is closed for balance, but the
 * weights stay until the rates are measured again: a CPU that was slower
 * tends to stay so for minutes, and the next load then starts split by
 * the speeds (a load opening its connections at once queues a request on
 * each: split evenly, those on the slower worker waited twice as long for
 * their turn, whatever was moved after). Weights that are wrong by then
 * cost little: under a load the app keeps up with, every worker answers
 * soon anyway; under one it cannot, the rates correct them within a
 * second or two. bench/compare --uneven-cpus (one worker's CPU shared with
 * a busy loop) at 256 connections: lesson page p99 634 ms against 1,114
 * with even shares (bench/results/uneven-234264c); index page 1,756 ms
 * against 1,939 with the shares dropped a second after the rates
 * (bench/results/uneven-979d675). */
#define SRV_BALANCE_MIN   2  /* connections */
#define SRV_BALANCE_SLACK 16 /* of an even share: 1/16 */
#define SRV_BALANCE_TICKS 4  /* saturated ticks in a row before a rate is told */

/* Asks the app threads to close connections after the responses they
 * start, for balance: want of them in all, at most most more this tick.
 * The connections told so before count as gone (w->shedding), each
 * closing once its response is out. Returns how many more. */
static int set_shed(srv_worker_t *w, long want, long most)
{
    long more;

    uv_mutex_lock(&w->lock);
    more = want - w->shedding;
    w->shed = (int)(more < 0 ? 0 : more < most ? more : most);
    more = w->shed;
    uv_mutex_unlock(&w->lock);
    return (int)more;
}

void srv__worker_balance(srv_worker_t *w, uint64_t jobs, int saturated)
{
    srv_worker_slot_t *self;
    uint64_t now = uv_now(&w->loop), since = w->rate_at, sum, total;
    size_t i, used, n = 1;
    unsigned others;
    int stuck, all, shed, now_s = (int)(uv_hrtime() / 1000000000u);
    int64_t mine, best, slack, weight;

    w->rate_at = now;
    if (w->env.slots == NULL || !w->env.balance)
        return; /* --reuse-port: the kernel picks the worker of a connection */
    self = &w->env.slots->slot[w->env.self];
    if (saturated && since != 0 && now > since) {
        uint64_t r = jobs * 1000 / (now - since);

        w->rate = w->rate_ticks > 0 ? (3 * w->rate + r) / 4 : r;
        w->rate_ticks += w->rate_ticks < SRV_BALANCE_TICKS;
    } else {
        w->rate_ticks = 0;
    }
    sum = w->rate_ticks >= SRV_BALANCE_TICKS ? w->rate : 0;
    srv_atomic_store(&self->rate, (int)(sum > 0x7fffffff ? 0x7fffffff : sum));
    all = sum > 0;
    total = w->nconns;
    used = (size_t)srv_atomic_load(&w->env.slots->used);
    for (i = 0; i < used && i < SRV_MAX_WORKERS; i++) {
        srv_worker_slot_t *s = sibling(w, i, now_s);
        int r;

        if (s == NULL)
            continue;
        r = srv_atomic_load(&s->rate);
        all = all && r > 0;
        sum += (uint64_t)(r > 0 ? r : 0);
        total += (uint64_t)srv_atomic_load(&s->conns);
        n++;
    }
    if (n < 2 || !all) {
        set_shed(w, 0, 0); /* the weight stays until the rates are measured again */
        return;
    }
    /* Between half and one and a half of an even share. */
    weight = (int64_t)((uint64_t)SRV_RANK_ONE * n * w->rate / sum);
    if (weight > SRV_RANK_ONE - SRV_RANK_ONE / SRV_BALANCE_SLACK &&
        weight < SRV_RANK_ONE + SRV_RANK_ONE / SRV_BALANCE_SLACK)
        weight = SRV_RANK_ONE;
    w->weight = (int)(weight < SRV_RANK_ONE / 2       ? SRV_RANK_ONE / 2
                      : weight > 3 * SRV_RANK_ONE / 2 ? 3 * SRV_RANK_ONE / 2
                                                      : weight);
    srv_atomic_store(&self->weight, w->weight);
    slack = (int64_t)(total / (SRV_BALANCE_SLACK * n));
    if (slack < SRV_BALANCE_MIN)
        slack = SRV_BALANCE_MIN;
    if (!ranks(w, &others, &stuck, &mine, &best) || mine - best <= slack * SRV_RANK_ONE) {
        set_shed(w, 0, 0);
        return;
    }
    shed = set_shed(w, (long)((mine - best) / (2 * SRV_RANK_ONE)),
                    w->nconns / 16 > 1 ? (long)(w->nconns / 16) : 1);
    srv_log_debug("Balance: rate %llu of %llu req/s, %zu of %llu connections, weight %d of %d: "
                  "closing %d more after the responses they start",
                  (unsigned long long)w->rate, (unsigned long long)sum, w->nconns,
                  (unsigned long long)total, w->weight, SRV_RANK_ONE, shed);
}
