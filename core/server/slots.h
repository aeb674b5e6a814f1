/* slots.h: what each worker publishes for its master and its siblings.
 *
 * The prefork master maps an array of these in shared memory before it
 * forks; each worker writes its own slot (`busy` from its app threads, the
 * rest from its loop thread) and may read the others' (to balance
 * accepts). Every field is one word, read and written atomically, and the
 * values are advisory. A slot fills a cache line of its own: a worker's
 * writes do not slow its siblings' reads of their own slots. */
#ifndef SRV_SERVER_SLOTS_H
#define SRV_SERVER_SLOTS_H

#include <stdint.h>

#include "plat_compiler.h"

enum {
    SRV_SLOT_FREE = 0,
    SRV_SLOT_STARTING, /* forked, loading the app */
    SRV_SLOT_READY,    /* accepting connections */
    SRV_SLOT_RETIRING, /* asked for a replacement; draining */
    SRV_SLOT_STOPPING  /* told to stop */
};

typedef struct srv_worker_slot_s {
    srv_atomic_int_t state; /* SRV_SLOT_* */
    srv_atomic_int_t pid;
    srv_atomic_int_t heartbeat;  /* seconds of the monotonic clock, by the worker's loop */
    srv_atomic_int_t conns;      /* open connections */
    srv_atomic_int_t accepted;   /* connections accepted (wraps) */
    srv_atomic_int_t busy;       /* requests queued or running in the app */
    srv_atomic_int_t progress;   /* with busy >= threads: ms of the monotonic clock (wraps) when
                                    busy rose to threads or a request ended since */
    srv_atomic_int_t requests;   /* requests answered (wraps) */
    srv_atomic_int_t generation; /* which reload this worker belongs to */
    srv_atomic_int_t changed;    /* the app's code changed (reload): the worker asks for a reload */
    srv_atomic_int_t rate;       /* requests/s while every request waited its turn, else 0 */
    srv_atomic_int_t weight;     /* share of connections to hold, in thousandths of an even
                                    one; 0: even */
    char pad[64 - 12 * sizeof(srv_atomic_int_t)];
} srv_worker_slot_t;

#define SRV_MAX_WORKERS 1024

typedef struct srv_slot_table_s {
    srv_atomic_int_t used; /* slots [0, used) have been handed out (never shrinks) */
    char pad[64 - sizeof(srv_atomic_int_t)];
    srv_worker_slot_t slot[SRV_MAX_WORKERS];
} srv_slot_table_t;

#endif
