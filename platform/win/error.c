/* error.c: Windows and C runtime errors to SRV_E*, once. */
#include <winsock2.h>
#include <windows.h>
#include <errno.h>

#include "win/plat_int.h"

int srv__plat_err(unsigned long e)
{
    switch (e) {
    case 0:
        return 0;
    case WSAEWOULDBLOCK:
        return SRV_EAGAIN;
    case WSAENOBUFS:
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
        return SRV_ENOMEM;
    case WSAEINVAL:
    case ERROR_INVALID_PARAMETER:
        return SRV_EINVAL;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
        return SRV_ENOENT;
    case WSAEACCES:
    case ERROR_ACCESS_DENIED:
        return SRV_EACCES;
    case WSAEADDRINUSE:
        return SRV_EADDRINUSE;
    case WSAEADDRNOTAVAIL:
        return SRV_EADDRNOTAVAIL;
    case WSAEAFNOSUPPORT:
        return SRV_EAFNOSUPPORT;
    case WSAECONNRESET:
        return SRV_ECONNRESET;
    case WSAETIMEDOUT:
        return SRV_ETIMEDOUT;
    case WSAEBADF:
    case ERROR_INVALID_HANDLE:
        return SRV_EBADF;
    default:
        return SRV_EUNKNOWN;
    }
}

int srv__plat_crt_err(int e)
{
    switch (e) {
    case 0:
        return 0;
    case ENOMEM:
        return SRV_ENOMEM;
    case EINVAL:
        return SRV_EINVAL;
    case ENOENT:
        return SRV_ENOENT;
    case EACCES:
        return SRV_EACCES;
    case EBADF:
        return SRV_EBADF;
    case EEXIST:
        return SRV_EEXIST;
    default:
        return SRV_EIO;
    }
}
