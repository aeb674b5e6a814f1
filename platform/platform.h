/* platform.h: the one OS interface that core/ and service/ see.
 *
 * Both backends (platform/unix, platform/win) implement every function
 * here under the same name; CMake picks the backend by file list. Errors
 * are translated to SRV_E* codes here, once. */
#ifndef SRV_PLATFORM_PLATFORM_H
#define SRV_PLATFORM_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "srv.h"

struct srv_addr_s;
struct srv_listen_spec_s;

/* Binds and listens on a (borrowed). On success fills *out, whose socket
 * the caller owns. Returns 0 or SRV_E*, with a message in err. */
int srv_plat_listen(const struct srv_addr_s *a, int backlog, struct srv_listen_spec_s *out,
                    char *err, size_t errlen);
/* Closes a listening socket that no worker adopted. */
void srv_plat_listen_close(struct srv_listen_spec_s *s);
/* Takes one connection from a non-blocking listening socket. Returns 0
 * with a non-blocking socket in *out, SRV_EAGAIN when none waits (or one
 * went away before it was taken), or SRV_E*. */
int srv_plat_accept(uv_os_sock_t lsock, uv_os_sock_t *out);
void srv_plat_sock_close(uv_os_sock_t sock);

/* Makes sure the app loads before anything is bound. Unix: with
 * --preload, load(app) runs here, in the master, and the workers inherit
 * the app; without it, load(app) runs in a child process that only checks
 * it, and each worker loads the app for itself. Windows: load(app) runs
 * here. Returns 0, or SRV_EAPP after load() logged why. */
int srv_plat_load_app(const srv_config_t *cfg, srv_app_t *app, int (*load)(srv_app_t *app));

/* Whether srv_run() can start workers with srv_app_t.worker_exec (Unix
 * with memfd: the slot table must outlive exec). */
int srv_plat_can_exec_workers(void);
/* Whether this process is a worker started that way (it then neither
 * checks the app nor runs a master: srv_run() serves as that worker). */
int srv_plat_is_exec_worker(void);

/* Files (the CRT descriptors libuv's uv_fs_* use on every system). */
int srv_plat_fd_dup(int fd, int *out);
void srv_plat_fd_close(int fd);
int srv_plat_fd_size(int fd, int64_t *size);

/* Sends up to len bytes of file fd from off to the non-blocking socket
 * sock without copying them through user space. Sets *sent. Returns 0,
 * SRV_EAGAIN when the socket is full (after *sent bytes), SRV_ENOSYS where
 * the system has no such call (the caller then copies), or SRV_E*. */
int srv_plat_sendfile(uv_os_fd_t sock, int fd, int64_t off, size_t len, size_t *sent);

/* Writes what fits of bufs to the connected non-blocking socket sock at
 * once, from any thread (an app thread, while the loop has nothing of
 * that connection queued). Sets *sent. Returns 0 (all or part was sent),
 * SRV_EAGAIN (nothing fit), SRV_ENOSYS where the system leaves its sockets
 * to the loop, or SRV_E*. */
int srv_plat_sock_send(uv_os_fd_t sock, const uv_buf_t *bufs, size_t nbufs, size_t *sent);
/* Whether srv_plat_sock_send works here (not on Windows, where libuv's
 * overlapped writes must be a socket's only writer). */
int srv_plat_can_send_direct(void);

/* Resident memory of this process in bytes (0 if unknown). */
uint64_t srv_plat_rss(void);
/* Returns to the system the free memory the C allocator holds (glibc
 * keeps what its per-thread arenas freed). May take a millisecond. */
void srv_plat_trim_memory(void);
/* The CPU time thread t has used, in ns. Returns 0 or SRV_E*. */
int srv_plat_thread_cpu_ns(uv_thread_t *t, uint64_t *ns);
/* Wakes a loop from other threads: cb(data) runs on the loop's thread
 * after one or more srv_plat_waker_wake(), which any thread may call.
 * Unlike uv_async_send() in libuv before 1.45 (Debian 12 has 1.44), the
 * woken loop never spins waiting for the waking thread (see
 * platform/unix/waker.c). srv_plat_waker_close() stops it (on the loop's
 * thread); srv_plat_waker_free() once the loop is closed and no thread can
 * wake it any more. A thread left stuck in the app may still wake it after
 * the close: on Unix that writes to an fd nobody reads, which is harmless;
 * on Windows it posts to a closed uv_async, as uv_async_send() did before. */
typedef struct srv_plat_waker_s srv_plat_waker_t;
int srv_plat_waker_new(uv_loop_t *loop, void (*cb)(void *data), void *data, srv_plat_waker_t **out);
void srv_plat_waker_wake(srv_plat_waker_t *k);
void srv_plat_waker_close(srv_plat_waker_t *k);
void srv_plat_waker_free(srv_plat_waker_t *k);

/* Whether a thread is running or waiting for a CPU right now (1), rather
 * than asleep (0); -1 when that cannot be told. On a machine where other
 * processes take the CPUs, a thread that computes may get little CPU time
 * and still never sleep. The thread opens its own probe (-1: none, as on
 * Windows); any thread may read it; srv_plat_runnable_close() after the
 * thread ended. */
int srv_plat_runnable_open(void);
int srv_plat_thread_runnable(int probe);
void srv_plat_runnable_close(int probe);
/* Whether the calling thread runs under the system's default scheduling
 * (Linux: SCHED_OTHER), rather than a policy chosen from outside (chrt,
 * systemd's CPUSchedulingPolicy=), which srv leaves alone. Windows: 0. */
int srv_plat_thread_sched_default(void);
/* With on, the calling thread, when woken, no longer preempts the thread
 * running on its CPU: it waits for that one's turn to end (Linux:
 * SCHED_BATCH); with 0, it does again (SCHED_OTHER). Returns 0 or SRV_E*.
 * Windows: nothing (SRV_ENOSYS). */
int srv_plat_thread_batch(int on);

/* Shows argv as this process's command line (ps) and names it srv. It
 * writes over the process's original argument area: argv's strings that
 * live there are moved to the heap first (argv[i] then points at the
 * copy), so call it before anything keeps a pointer to one of them.
 * Windows: nothing to do. */
void srv_plat_set_cmdline(int argc, char **argv);
/* From now on ps shows `srv: ROLE` and the rest of that command line, in a
 * process whose command line srv_plat_set_cmdline() set (a worker shows
 * `srv: worker N ...`). Otherwise, and on Windows, nothing. */
void srv_plat_set_cmdline_role(const char *role);
/* Names the calling thread for ps -L, top -H, gdb and perf (15 characters
 * at most). Windows: nothing. */
void srv_plat_thread_name(const char *name);

/* Raises the soft limit of open files to the hard one, so that
 * worker_connections can be reached; returns the limit now in force (0 if
 * unknown). */
uint64_t srv_plat_raise_nofile(void);

/* Writes the process id to path. Returns 0 or SRV_E*. */
int srv_plat_write_pidfile(const char *path);
void srv_plat_remove_pidfile(const char *path);

#endif
