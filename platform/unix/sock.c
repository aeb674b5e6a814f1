/* sock.c: binding listening sockets (TCP and Unix domain). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/config.h"
#include "plat_config.h"
#include "platform.h"
#include "util/alloc.h"
#include "util/log.h"
#include "server/worker.h"
#include "unix/plat_int.h"

/* How listen_tcp() makes its socket. */
enum { SOCK_LISTEN, SOCK_LISTEN_REUSEPORT, SOCK_RESERVE_REUSEPORT /* bound, not listening */ };

static int listen_tcp(const srv_addr_t *a, int backlog, int mode, srv_listen_spec_t *out, char *err,
                      size_t errlen)
{
    struct addrinfo hints, *res = NULL, *ai;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char port[8], host[256], serv[NI_MAXSERV];
    const char *node = a->host[0] ? a->host : "0.0.0.0";
    int fd = -1, one = 1, gai, e = 0, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%d", a->port);
    gai = getaddrinfo(node, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "cannot resolve '%s': %s", node, gai_strerror(gai));
        return SRV_EADDRNOTAVAIL;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        /* SO_REUSEADDR: a restarted server binds at once, without waiting
         * for TIME_WAIT connections of the old one. */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
#ifdef SRV_HAVE_SO_REUSEPORT
        if (mode != SOCK_LISTEN)
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
#endif
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            (mode == SOCK_RESERVE_REUSEPORT || listen(fd, backlog) == 0))
            break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", node, a->port, strerror(e));
        return srv__plat_err(e);
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        rc = srv__plat_err(errno);
        snprintf(err, errlen, "getsockname: %s", strerror(errno));
        close(fd);
        return rc ? rc : SRV_EUNKNOWN;
    }
    memset(out, 0, sizeof(*out));
    out->sock = fd;
    out->is_unix = 0;
    snprintf(out->host, sizeof(out->host), "%s", host);
    out->port = (int)strtol(serv, NULL, 10);
    snprintf(out->display, sizeof(out->display),
             ss.ss_family == AF_INET6 ? "http://[%s]:%d" : "http://%s:%d", host, out->port);
    return 0;
}

static int listen_unix(const srv_addr_t *a, int backlog, srv_listen_spec_t *out, char *err,
                       size_t errlen)
{
    struct sockaddr_un sun;
    struct stat st;
    int fd, e;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(a->path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen, "unix socket path too long: %s", a->path);
        return SRV_EINVAL;
    }
    memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
    /* A socket file left by a previous run would make bind fail; remove it,
     * but never a file that is not a socket. */
    if (lstat(a->path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(a->path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 || listen(fd, backlog) != 0) {
        e = errno;
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "cannot listen on unix:%s: %s", a->path, strerror(e));
        return srv__plat_err(e);
    }
    memset(out, 0, sizeof(*out));
    out->sock = fd;
    out->is_unix = 1;
    snprintf(out->host, sizeof(out->host), "%s", a->path);
    snprintf(out->display, sizeof(out->display), "unix:%s", a->path);
    return 0;
}

int srv_plat_listen(const srv_addr_t *a, int backlog, srv_listen_spec_t *out, char *err,
                    size_t errlen)
{
    if (a->kind == SRV_ADDR_UNIX)
        return listen_unix(a, backlog, out, err, errlen);
    return listen_tcp(a, backlog, SOCK_LISTEN, out, err, errlen);
}

/* Describes an inherited listening socket from its own address. */
static int describe(int fd, srv_listen_spec_t *out)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[256], serv[NI_MAXSERV];

    memset(out, 0, sizeof(*out));
    out->sock = fd;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return srv__plat_err(errno);
    if (ss.ss_family == AF_UNIX) {
        struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

        out->is_unix = 1;
        snprintf(out->host, sizeof(out->host), "%s", sun->sun_path);
        snprintf(out->display, sizeof(out->display), "unix:%s", sun->sun_path);
        return 0;
    }
    if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return SRV_EINVAL;
    snprintf(out->host, sizeof(out->host), "%s", host);
    out->port = (int)strtol(serv, NULL, 10);
    snprintf(out->display, sizeof(out->display),
             ss.ss_family == AF_INET6 ? "http://[%s]:%d" : "http://%s:%d", host, out->port);
    return 0;
}

int srv__plat_inherited_sockets(srv_serve_t *s)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    long n, i;

    if (pid == NULL || fds == NULL || strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    n = strtol(fds, NULL, 10);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (n <= 0 || n > 64)
        return 0;
    s->socks = srv_calloc((size_t)n, sizeof(srv_listen_spec_t));
    if (s->socks == NULL)
        return SRV_ENOMEM;
    for (i = 0; i < n; i++) {
        int fd = 3 + (int)i; /* SD_LISTEN_FDS_START */
        int rc;

        fcntl(fd, F_SETFD, FD_CLOEXEC);
        rc = describe(fd, &s->socks[i]);
        if (rc != 0) {
            srv_log_error("socket activation: fd %d is not a listening socket", fd);
            return rc;
        }
        s->nsocks = (size_t)i + 1;
    }
    return (int)n;
}

/* The bound address of spec (a port of 0 was resolved), as an address. */
static void spec_addr(const srv_listen_spec_t *spec, srv_addr_t *a)
{
    memset(a, 0, sizeof(*a));
    a->kind = SRV_ADDR_TCP;
    snprintf(a->host, sizeof(a->host), "%s", spec->host);
    a->port = spec->port;
}

int srv__plat_reuseport_reserve(srv_serve_t *s)
{
    char err[512];
    size_t i;

    for (i = 0; i < s->nsocks; i++) {
        srv_listen_spec_t *spec = &s->socks[i], fresh;
        srv_addr_t a;
        int rc;

        spec_addr(spec, &a);
        close(spec->sock);
        spec->sock = -1;
        rc = listen_tcp(&a, 0, SOCK_RESERVE_REUSEPORT, &fresh, err, sizeof(err));
        if (rc != 0) {
            srv_log_error("reuse_port: %s", err);
            return rc;
        }
        spec->sock = fresh.sock;
    }
    return 0;
}

int srv__plat_listen_reuseport(const srv_serve_t *reserved, int backlog, srv_serve_t *own)
{
    char err[512];
    size_t i;

    own->socks = srv_calloc(reserved->nsocks ? reserved->nsocks : 1, sizeof(srv_listen_spec_t));
    if (own->socks == NULL)
        return SRV_ENOMEM;
    for (i = 0; i < reserved->nsocks; i++) {
        srv_addr_t a;
        int rc;

        spec_addr(&reserved->socks[i], &a);
        rc = listen_tcp(&a, backlog, SOCK_LISTEN_REUSEPORT, &own->socks[i], err, sizeof(err));
        if (rc != 0) {
            srv_log_error("reuse_port: %s", err);
            return rc;
        }
        own->nsocks = i + 1;
    }
    return 0;
}

int srv_plat_accept(uv_os_sock_t lsock, uv_os_sock_t *out)
{
    int fd = accept4(lsock, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd >= 0) {
        *out = fd;
        return 0;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED ||
        errno == EPROTO)
        return SRV_EAGAIN;
    return srv__plat_err(errno);
}

int srv_plat_sock_send(uv_os_fd_t sock, const uv_buf_t *bufs, size_t nbufs, size_t *sent)
{
    struct msghdr m;
    ssize_t n;

    *sent = 0;
    memset(&m, 0, sizeof(m));
    m.msg_iov = (struct iovec *)(void *)bufs; /* libuv: uv_buf_t is an iovec on Unix */
    m.msg_iovlen = nbufs;
    do
        n = sendmsg(sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? SRV_EAGAIN : srv__plat_err(errno);
    *sent = (size_t)n;
    return 0;
}

int srv_plat_can_send_direct(void)
{
    return 1;
}

void srv_plat_sock_close(uv_os_sock_t sock)
{
    close(sock);
}

void srv_plat_listen_close(srv_listen_spec_t *s)
{
    if (s->sock >= 0)
        close(s->sock);
    s->sock = -1;
}
