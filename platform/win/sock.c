/* sock.c: binding listening sockets with Winsock. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "platform.h"
#include "server/worker.h"
#include "win/plat_int.h"

static int winsock_ready(char *err, size_t errlen)
{
    static int done;
    WSADATA d;
    int rc;

    if (done)
        return 0;
    rc = WSAStartup(MAKEWORD(2, 2), &d);
    if (rc != 0) {
        snprintf(err, errlen, "WSAStartup failed: %d", rc);
        return SRV_EUNKNOWN;
    }
    done = 1;
    return 0;
}

int srv_plat_listen(const srv_addr_t *a, int backlog, srv_listen_spec_t *out, char *err,
                    size_t errlen)
{
    struct addrinfo hints, *res = NULL, *ai;
    struct sockaddr_storage ss;
    int sl = (int)sizeof(ss);
    char port[8], host[256], serv[32];
    const char *node = a->host[0] ? a->host : "0.0.0.0";
    SOCKET s = INVALID_SOCKET;
    unsigned long e = 0;
    BOOL one = TRUE;
    int rc;

    if (a->kind == SRV_ADDR_UNIX) {
        snprintf(err, errlen, "unix:%s: unix sockets are not supported on Windows", a->path);
        return SRV_ENOSYS;
    }
    rc = winsock_ready(err, errlen);
    if (rc != 0)
        return rc;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%d", a->port);
    if (getaddrinfo(node, port, &hints, &res) != 0) {
        snprintf(err, errlen, "cannot resolve '%s': error %d", node, WSAGetLastError());
        return SRV_EADDRNOTAVAIL;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s == INVALID_SOCKET) {
            e = (unsigned long)WSAGetLastError();
            continue;
        }
        /* Not SO_REUSEADDR: on Windows it lets another process take the
         * port. Exclusive use is the safe default. */
        setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, sizeof(one));
        if (bind(s, ai->ai_addr, (int)ai->ai_addrlen) == 0 && listen(s, backlog) == 0)
            break;
        e = (unsigned long)WSAGetLastError();
        closesocket(s);
        s = INVALID_SOCKET;
    }
    freeaddrinfo(res);
    if (s == INVALID_SOCKET) {
        snprintf(err, errlen, "cannot listen on %s:%d: error %lu", node, a->port, e);
        return srv__plat_err(e);
    }
    if (getsockname(s, (struct sockaddr *)&ss, &sl) != 0 ||
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        e = (unsigned long)WSAGetLastError();
        snprintf(err, errlen, "getsockname failed: error %lu", e);
        closesocket(s);
        return srv__plat_err(e);
    }
    memset(out, 0, sizeof(*out));
    out->sock = s;
    out->is_unix = 0;
    snprintf(out->host, sizeof(out->host), "%s", host);
    out->port = (int)strtol(serv, NULL, 10);
    snprintf(out->display, sizeof(out->display),
             ss.ss_family == AF_INET6 ? "http://[%s]:%d" : "http://%s:%d", host, out->port);
    return 0;
}

int srv_plat_accept(uv_os_sock_t lsock, uv_os_sock_t *out)
{
    u_long on = 1;
    SOCKET s = accept(lsock, NULL, NULL);

    if (s == INVALID_SOCKET) {
        int e = WSAGetLastError();

        return e == WSAEWOULDBLOCK || e == WSAECONNRESET || e == WSAEINTR
                   ? SRV_EAGAIN
                   : srv__plat_err((unsigned long)e);
    }
    if (ioctlsocket(s, FIONBIO, &on) != 0) {
        int e = WSAGetLastError();

        closesocket(s);
        return srv__plat_err((unsigned long)e);
    }
    *out = s;
    return 0;
}

int srv_plat_sock_send(uv_os_fd_t sock, const uv_buf_t *bufs, size_t nbufs, size_t *sent)
{
    /* libuv writes a Windows socket with overlapped WSASend and counts on
     * being its only writer: the app threads hand their bytes to the loop. */
    (void)sock;
    (void)bufs;
    (void)nbufs;
    *sent = 0;
    return SRV_ENOSYS;
}

int srv_plat_can_send_direct(void)
{
    return 0;
}

void srv_plat_sock_close(uv_os_sock_t sock)
{
    closesocket(sock);
}

void srv_plat_listen_close(srv_listen_spec_t *s)
{
    if (s->sock != INVALID_SOCKET)
        closesocket(s->sock);
    s->sock = INVALID_SOCKET;
}
