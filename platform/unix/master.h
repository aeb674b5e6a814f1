/* master.h: the prefork master and its workers (Unix). */
#ifndef SRV_PLATFORM_UNIX_MASTER_H
#define SRV_PLATFORM_UNIX_MASTER_H

#include <sys/types.h>

#include "server/serve.h"
#include "server/slots.h"
#include "unix/plat_int.h"

/* What a worker process gets from the master (copied at fork). */
typedef struct srv_child_ctx_s {
    const srv_config_t *cfg; /* the configuration of this worker's generation */
    /* The sockets are those of the first configuration: with reuse_port,
     * each worker binds its own from boot_cfg's bind and backlog. */
    const srv_config_t *boot_cfg;
    int reuse_port;
    const srv_app_t *app;
    srv_serve_t *serve;      /* the listening sockets every worker shares */
    srv_slot_table_t *slots; /* shared memory */
    size_t self;             /* this worker's slot */
    int notify[2];           /* a worker writes a byte to notify[1] when its slot changed */
    srv_ident_t ident;       /* the user and group to run as */
    pid_t master_pid;
    int slots_fd;     /* the file behind slots (-1: anonymous memory) */
    sigset_t sigmask; /* the mask to restore once the master's handlers are set */
} srv_child_ctx_t;

/* The environment variable that makes srv_run() serve as one worker of a
 * master (app->worker_exec): "SLOT SLOTS_FD NOTIFY_FD"; the listening
 * sockets come as systemd passes them (LISTEN_FDS). */
#define SRV_WORKER_ENV "SRV_WORKER"

/* Serves as the worker SRV_WORKER_ENV names, in a program the master's
 * worker_exec started; never returns. */
void srv__plat_exec_worker_main(const srv_config_t *cfg, const srv_app_t *app, const char *env);

/* Runs the master until it stops. Returns 0, or SRV_EAPP when the workers
 * could not load the app. */
int srv__plat_master(const srv_child_ctx_t *ctx);

/* The body of a worker process; it exits and never returns. */
void srv__plat_child_main(const srv_child_ctx_t *ctx);
/* In a new worker process: hands the sockets, the slot table and the
 * notify pipe to the program ctx->app->worker_exec runs (see
 * SRV_WORKER_ENV); exits if that fails, never returns. */
void srv__plat_child_exec(const srv_child_ctx_t *ctx);

/* Maps a zeroed slot table shared with the workers: in a file (memfd,
 * *fd set) when it must outlive exec, else anonymous (*fd = -1). NULL on
 * failure. */
srv_slot_table_t *srv__plat_slots_new(int for_exec, int *fd);

/* workers, or $WEB_CONCURRENCY, or the number of CPUs. */
int srv__plat_worker_count(const srv_config_t *cfg);

/* Installs fn for sig (SA_RESTART, nothing blocked while it runs). */
void srv__plat_set_handler(int sig, void (*fn)(int));

/* The configuration after a reload (srv_set_reload), or NULL to keep it. */
srv_config_t *srv__plat_reload_config(void);

#endif
