/* error.c: errno to SRV_E*, the one translation of the Unix backend. */
#include <errno.h>

#include "unix/plat_int.h"

int srv__plat_err(int e)
{
    switch (e) {
    case 0:
        return 0;
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return SRV_EAGAIN;
    case ENOMEM:
        return SRV_ENOMEM;
    case EINVAL:
        return SRV_EINVAL;
    case ENOENT:
        return SRV_ENOENT;
    case EACCES:
    case EPERM:
        return SRV_EACCES;
    case EEXIST:
        return SRV_EEXIST;
    case EBADF:
        return SRV_EBADF;
    case EADDRINUSE:
        return SRV_EADDRINUSE;
    case EADDRNOTAVAIL:
        return SRV_EADDRNOTAVAIL;
    case EAFNOSUPPORT:
        return SRV_EAFNOSUPPORT;
    case ECONNRESET:
        return SRV_ECONNRESET;
    case EPIPE:
        return SRV_EPIPE;
    case ETIMEDOUT:
        return SRV_ETIMEDOUT;
    case ENOSYS:
        return SRV_ENOSYS;
    case EIO:
        return SRV_EIO;
    default:
        return SRV_EUNKNOWN;
    }
}
