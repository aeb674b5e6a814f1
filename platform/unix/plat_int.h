/* plat_int.h: helpers shared by the files of the Unix backend. */
#ifndef SRV_PLATFORM_UNIX_PLAT_INT_H
#define SRV_PLATFORM_UNIX_PLAT_INT_H

#include <sys/types.h>

#include "config/config.h"
#include "platform.h"
#include "server/serve.h"
#include "srv.h"

/* Maps an errno value to an SRV_E* code. */
int srv__plat_err(int e);

/* Sends a systemd notification ("READY=1", "STATUS=...") if $NOTIFY_SOCKET
 * is set; does nothing otherwise. */
void srv__plat_notify(const char *msg);

/* Takes the sockets systemd passed (LISTEN_PID/LISTEN_FDS) into s, and
 * clears those variables so that children do not take them again. Returns
 * the number taken (0: not socket-activated), or SRV_E*. */
int srv__plat_inherited_sockets(srv_serve_t *s);

/* reuse_port. In the master: replaces each listening TCP socket of s by a
 * socket bound to the same address with SO_REUSEPORT but not listening,
 * which keeps the port (a port of 0 stays the one the system picked)
 * without taking connections. In a worker: listens on every address of
 * reserved with SO_REUSEPORT, into own. Return 0 or SRV_E* (logged). */
int srv__plat_reuseport_reserve(srv_serve_t *s);
int srv__plat_listen_reuseport(const srv_serve_t *reserved, int backlog, srv_serve_t *own);

/* The user and group workers run as (resolved in the master), and the
 * switch to them (in a worker). */
typedef struct srv_ident_s {
    int set;
    uid_t uid;
    gid_t gid;
    char name[64];
} srv_ident_t;
int srv__plat_resolve_ident(const srv_config_t *cfg, srv_ident_t *id);
int srv__plat_drop_privileges(const srv_ident_t *id);

/* srv_plat_waker_new(), with a pipe instead of the eventfd when use_pipe
 * is set (waker.c; the tests run both). */
int srv__plat_waker_new_fds(uv_loop_t *loop, void (*cb)(void *data), void *data, int use_pipe,
                            srv_plat_waker_t **out);

#endif
