/* plat_compiler.h: what differs between the compilers srv is built with (GCC
 * and Clang, MinGW's GCC, MSVC): atomics, thread-local storage, printf
 * checking. Build-environment switches live in platform/, so that core/
 * has none; core/ uses these names only.
 *
 * Atomics are for variables that a signal handler or another thread writes
 * while the loop reads them. MSVC lacks a dependable <stdatomic.h> (libuv
 * avoids it too), so they use the compilers' builtins. */
#ifndef SRV_PLAT_COMPILER_H
#define SRV_PLAT_COMPILER_H

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
/* Adds v to *p; returns the new value. */
static inline int srv_atomic_add(volatile long *p, int v)
{
    return (int)_InterlockedExchangeAdd(p, v) + v;
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
/* Adds v to *p; returns the new value. */
static inline int srv_atomic_add(volatile int *p, int v)
{
    return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST);
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

#if defined(_MSC_VER)
#define SRV_THREAD_LOCAL __declspec(thread)
#else
#define SRV_THREAD_LOCAL _Thread_local
#endif

/* printf-style checking; on mingw, with __USE_MINGW_ANSI_STDIO, the
 * C99 rules (gnu_printf) apply, not msvcrt's. */
#if defined(__MINGW32__)
#define SRV_PRINTF(fmt, args) __attribute__((format(gnu_printf, fmt, args)))
#elif defined(__GNUC__)
#define SRV_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SRV_PRINTF(fmt, args)
#endif

#define SRV_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
