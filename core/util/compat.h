/* compat.h: compiler (not OS) differences that core/ needs. */
#ifndef SRV_UTIL_COMPAT_H
#define SRV_UTIL_COMPAT_H

#if defined(_MSC_VER)
#define SRV_THREAD_LOCAL __declspec(thread)
#else
#define SRV_THREAD_LOCAL _Thread_local
#endif

#define SRV_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
