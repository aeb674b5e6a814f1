/* compat.h: compiler (not OS) differences that core/ needs. */
#ifndef SRV_UTIL_COMPAT_H
#define SRV_UTIL_COMPAT_H

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
