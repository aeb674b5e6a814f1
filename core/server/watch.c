/* watch.c: `reload`. A thread of the worker asks the app once a second
 * whether a file of its code changed (app.changed: for Python, the files
 * of the loaded modules and reload_extra_files, by modification time).
 * When one did, it says so in the worker's slot and pokes the master,
 * which reloads as on SIGHUP: new workers first, and the old ones, this
 * one among them, stop once those serve. The app is asked on a thread of
 * its own because the loop thread never runs app code. */
#include "server/worker.h"

#include "util/log.h"

#define SRV_WATCH_NS 1000000000u /* how often the app is asked */

static void watch_main(void *arg)
{
    srv_worker_t *w = arg;
    char file[1024];

    uv_mutex_lock(&w->watch_lock);
    while (!w->watch_stop) {
        /* Returns early on a stop or a spurious wake-up: the app is then
         * asked sooner, which does no harm. */
        (void)uv_cond_timedwait(&w->watch_cond, &w->watch_lock, SRV_WATCH_NS);
        if (w->watch_stop)
            break;
        uv_mutex_unlock(&w->watch_lock);
        if (w->app.changed(w->app.data, file, sizeof(file))) {
            srv_log_info("Reload: %s changed", file);
            srv_atomic_store(&w->env.slots->slot[w->env.self].changed, 1);
            w->env.on_changed(w->env.data);
        }
        uv_mutex_lock(&w->watch_lock);
    }
    uv_mutex_unlock(&w->watch_lock);
}

void srv__worker_watch_start(srv_worker_t *w)
{
    if (!SRV_CFG_INT(w->cfg, reload) || w->app.changed == NULL || w->env.slots == NULL ||
        w->env.on_changed == NULL)
        return;
    if (uv_mutex_init(&w->watch_lock) != 0)
        return;
    if (uv_cond_init(&w->watch_cond) != 0) {
        uv_mutex_destroy(&w->watch_lock);
        return;
    }
    w->watch_stop = 0;
    if (uv_thread_create(&w->watcher, watch_main, w) != 0) {
        srv_log_error("reload: cannot start the thread that watches the app's files");
        uv_cond_destroy(&w->watch_cond);
        uv_mutex_destroy(&w->watch_lock);
        return;
    }
    w->watcher_started = 1;
}

void srv__worker_watch_stop(srv_worker_t *w)
{
    if (!w->watcher_started)
        return;
    uv_mutex_lock(&w->watch_lock);
    w->watch_stop = 1;
    uv_cond_signal(&w->watch_cond);
    uv_mutex_unlock(&w->watch_lock);
    uv_thread_join(&w->watcher);
    uv_cond_destroy(&w->watch_cond);
    uv_mutex_destroy(&w->watch_lock);
    w->watcher_started = 0;
}
