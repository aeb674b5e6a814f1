/* Unit tests of the platform's thread helpers (platform.h): the runnable
 * probe, and the waker. */
#include <criterion/criterion.h>
#include <uv.h>

#include "plat_compiler.h"
#include "platform.h"
#include "unix/plat_int.h"

enum { SPIN, NAP, QUIT };

static srv_atomic_int_t mode;
static int probe = -1;
static uv_sem_t opened;

static void prober(void *arg)
{
    (void)arg;
    probe = srv_plat_runnable_open();
    uv_sem_post(&opened);
    while (srv_atomic_load(&mode) != QUIT)
        if (srv_atomic_load(&mode) == NAP)
            uv_sleep(5);
}

Test(runnable, a_thread_that_computes_is_runnable_and_one_that_sleeps_is_not)
{
    uv_thread_t t;
    int i, asleep = 0;

    srv_atomic_store(&mode, SPIN);
    cr_assert_eq(uv_sem_init(&opened, 0), 0);
    cr_assert_eq(uv_thread_create(&t, prober, NULL), 0);
    uv_sem_wait(&opened);
    cr_assert(probe >= 0, "Linux has /proc/thread-self/stat");
    /* Computing, it is runnable at every look, whether it has a CPU then
     * or waits for one. */
    for (i = 0; i < 200; i++)
        cr_assert_eq(srv_plat_thread_runnable(probe), 1, "look %d", i);
    /* Napping 5 ms at a time, it is seen asleep (bounded: 1 s of looks). */
    srv_atomic_store(&mode, NAP);
    for (i = 0; i < 1000 && !asleep; i++) {
        asleep = srv_plat_thread_runnable(probe) == 0;
        uv_sleep(1);
    }
    cr_assert(asleep);
    srv_atomic_store(&mode, QUIT);
    uv_thread_join(&t);
    srv_plat_runnable_close(probe);
    cr_assert_eq(srv_plat_thread_runnable(-1), -1, "no probe: cannot tell");
    uv_sem_destroy(&opened);
}

/* ---- srv_plat_waker: no wake-up is lost ---- */

#define WAKES_PER_THREAD 200000

static srv_atomic_int_t produced;
static int seen, watchdog_fired;
static srv_plat_waker_t *waker;
static uv_timer_t watchdog;

static void producer(void *arg)
{
    (void)arg;
    for (int i = 0; i < WAKES_PER_THREAD; i++) {
        __sync_fetch_and_add(&produced, 1);
        srv_plat_waker_wake(waker);
    }
}

static void done(void)
{
    srv_plat_waker_close(waker);
    uv_close((uv_handle_t *)&watchdog, NULL);
}

static void on_wake(void *data)
{
    (void)data;
    seen = srv_atomic_load(&produced);
    if (seen == 2 * WAKES_PER_THREAD)
        done();
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    watchdog_fired = 1;
    done();
}

/* Two threads wake the loop as fast as they can; with use_pipe, through
 * the pipe that systems without eventfd get. */
static void racing_wakes(int use_pipe)
{
    uv_loop_t loop;
    uv_thread_t a, b;

    srv_atomic_store(&produced, 0);
    seen = watchdog_fired = 0;
    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_assert_eq(srv__plat_waker_new_fds(&loop, on_wake, NULL, use_pipe, &waker), 0);
    uv_timer_init(&loop, &watchdog);
    uv_timer_start(&watchdog, on_watchdog, 20000, 0);
    cr_assert_eq(uv_thread_create(&a, producer, NULL), 0);
    cr_assert_eq(uv_thread_create(&b, producer, NULL), 0);
    /* Nothing but the waker wakes this loop: a lost wake-up leaves it
     * asleep until the watchdog. */
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_thread_join(&a);
    uv_thread_join(&b);
    cr_assert_eq(watchdog_fired, 0, "the loop saw %d of %d wakes and slept", seen,
                 2 * WAKES_PER_THREAD);
    cr_assert_eq(seen, 2 * WAKES_PER_THREAD);
    cr_assert_eq(uv_loop_close(&loop), 0);
    srv_plat_waker_free(waker);
}

Test(waker, the_last_of_many_racing_wakes_always_reaches_the_loop)
{
    racing_wakes(0);
}

Test(waker, through_a_pipe_too)
{
    racing_wakes(1);
}
