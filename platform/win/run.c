/* run.c: srv_run() on Windows: one process, one worker. Console events
 * stop it: the first Ctrl+C, Ctrl+Break or window close asks for a graceful
 * stop, a second one for an immediate one. (The Windows service comes with
 * its own control handler.) */
#include <winsock2.h>
#include <windows.h>

#include <string.h>

#include "platform.h"
#include "server/serve.h"
#include "plat_compiler.h"
#include "util/log.h"

static srv_atomic_int_t g_events;

static BOOL WINAPI on_console(DWORD ev)
{
    switch (ev) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_SHUTDOWN_EVENT: {
        int n = srv_atomic_load(&g_events) + 1;

        srv_atomic_store(&g_events, n);
        srv_stop(n == 1);
        return TRUE;
    }
    default:
        return FALSE;
    }
}

int srv_plat_load_app(const srv_config_t *cfg, srv_app_t *app, int (*load)(srv_app_t *app))
{
    (void)cfg;
    /* One process: the app loads here, before anything is bound. */
    return load(app) == 0 ? 0 : SRV_EAPP;
}

int srv_plat_can_exec_workers(void)
{
    return 0; /* one process: no workers */
}

int srv_plat_is_exec_worker(void)
{
    return 0;
}

int srv_run(const srv_config_t *cfg, const srv_app_t *app)
{
    srv_serve_t s;
    int rc;

    memset(&s, 0, sizeof(s));
    if (SRV_CFG_INT(cfg, reload)) {
        /* One process: no new workers to load the changed code into. */
        srv_log_error("reload is not available on Windows, where srv runs one process: "
                      "restart srv to load changed code, or turn reload off");
        return SRV_ECONFIG;
    }
    rc = srv__serve_open(&s, cfg);
    if (rc != 0)
        return rc;
    if (SRV_CFG_INT(cfg, workers) > 1)
        srv_log_warn("workers = %lld: on Windows srv runs one process; use threads",
                     (long long)SRV_CFG_INT(cfg, workers));
    srv_atomic_store(&g_events, 0);
    SetConsoleCtrlHandler(on_console, TRUE);
    srv__serve_announce(&s, cfg, 1);
    rc = srv__serve_worker(&s, cfg, app);
    SetConsoleCtrlHandler(on_console, FALSE);
    srv__serve_close(&s, cfg);
    return rc;
}
