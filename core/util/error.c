/* error.c: the SRV_E* table turned into names and messages, and the one
 * place where libuv's error codes become SRV_E* codes. */
#include "util/error.h"

#include <uv.h>

const char *srv_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define SRV_XX_(name, msg)                                                                         \
    case SRV_##name:                                                                               \
        return msg;
        SRV_ERRNO_MAP(SRV_XX_)
#undef SRV_XX_
    default:
        return "unknown error";
    }
}

const char *srv_err_name(int err)
{
    switch (err) {
    case 0:
        return "SRV_OK";
#define SRV_XX_(name, msg)                                                                         \
    case SRV_##name:                                                                               \
        return "SRV_" #name;
        SRV_ERRNO_MAP(SRV_XX_)
#undef SRV_XX_
    default:
        return "SRV_EUNKNOWN";
    }
}

int srv_err_from_uv(int uverr)
{
    switch (uverr) {
    case 0:
        return 0;
    case UV_EAGAIN:
        return SRV_EAGAIN;
    case UV_ENOMEM:
    case UV_ENOBUFS:
        return SRV_ENOMEM;
    case UV_EINVAL:
        return SRV_EINVAL;
    case UV_ENOENT:
        return SRV_ENOENT;
    case UV_EACCES:
    case UV_EPERM:
        return SRV_EACCES;
    case UV_EEXIST:
        return SRV_EEXIST;
    case UV_EIO:
        return SRV_EIO;
    case UV_EBADF:
        return SRV_EBADF;
    case UV_EADDRINUSE:
        return SRV_EADDRINUSE;
    case UV_EADDRNOTAVAIL:
        return SRV_EADDRNOTAVAIL;
    case UV_EAFNOSUPPORT:
        return SRV_EAFNOSUPPORT;
    case UV_ECONNRESET:
    case UV_ECONNABORTED:
    case UV_EOF:
        return SRV_ECONNRESET;
    case UV_EPIPE:
    case UV_ENOTCONN:
    case UV_ESHUTDOWN:
        return SRV_EPIPE;
    case UV_ETIMEDOUT:
        return SRV_ETIMEDOUT;
    case UV_ECANCELED:
        return SRV_ECANCELED;
    case UV_ENOSYS:
    case UV_ENOTSUP:
        return SRV_ENOSYS;
    case UV_E2BIG:
    case UV_EMSGSIZE:
        return SRV_E2BIG;
    default:
        return SRV_EUNKNOWN;
    }
}
