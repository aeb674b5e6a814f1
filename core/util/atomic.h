/* atomic.h: the few atomic operations srv needs, for variables that a
 * signal handler or another thread writes while the loop reads them.
 * MSVC lacks a dependable <stdatomic.h> (libuv avoids it too), so this uses
 * the compilers' builtins: a compiler switch, not an OS one. */
#ifndef SRV_UTIL_ATOMIC_H
#define SRV_UTIL_ATOMIC_H

#if defined(_MSC_VER)
#include <intrin.h>

static inline int srv_atomic_load(volatile long *p)
{
    return (int)_InterlockedOr(p, 0);
}
static inline void srv_atomic_store(volatile long *p, int v)
{
    _InterlockedExchange(p, v);
}
static inline void *srv_atomic_load_ptr(void *volatile *p)
{
    return _InterlockedCompareExchangePointer(p, NULL, NULL);
}
static inline void srv_atomic_store_ptr(void *volatile *p, void *v)
{
    _InterlockedExchangePointer(p, v);
}
typedef volatile long srv_atomic_int_t;
#else
static inline int srv_atomic_load(volatile int *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}
static inline void srv_atomic_store(volatile int *p, int v)
{
    __atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}
static inline void *srv_atomic_load_ptr(void *volatile *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}
static inline void srv_atomic_store_ptr(void *volatile *p, void *v)
{
    __atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}
typedef volatile int srv_atomic_int_t;
#endif

#endif
