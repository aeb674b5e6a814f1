/* pool.h: the app threads of a worker.
 *
 * srv owns this pool (not libuv's threadpool, which is shared with file
 * and DNS work and sized by an environment variable). Threads take jobs in
 * the order they were dispatched. */
#ifndef SRV_APP_POOL_H
#define SRV_APP_POOL_H

#include <stddef.h>

#include "server/worker.h"

/* Starts n app threads (main thread). Returns 0 or SRV_E*; on failure no
 * thread is left running. */
int srv__pool_start(srv_worker_t *w, size_t n);
/* Queues x for the app threads (loop thread); srv__pool_kick() wakes a
 * thread for what is queued, once per loop iteration. */
void srv__pool_dispatch(srv_worker_t *w, srv_req_t *x);
void srv__pool_kick(srv_worker_t *w);
/* An app thread begins (entering) or ends waiting inside srv for its
 * client: it does not run app code meanwhile. Any app thread. */
void srv__pool_blocking(srv_worker_t *w, int entering);
/* x's job is about to end, and its client may see its response before
 * the release: the worker's published load drops now (once per job), so
 * that a client that connects again at once is not left to a worker that
 * only looks busy. x's app thread. */
void srv__pool_job_ending(srv_req_t *x);
/* How long the jobs that ended since the last call took on average, from
 * their start to their end (ns); *jobs gets how many they were, and *dry
 * whether a thread meanwhile found no job waiting (the app kept up).
 * Loop thread. */
uint64_t srv__pool_take_job_time(srv_worker_t *w, uint64_t *jobs, int *dry);
/* Whether jobs wait for a thread. Any thread. */
int srv__pool_jobs_wait(srv_worker_t *w);
/* Asks the threads to finish and, with join, waits for them. */
void srv__pool_stop(srv_worker_t *w, int join);

#endif
