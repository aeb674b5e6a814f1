/* Unit tests of the platform's thread probes (platform.h). */
#include <criterion/criterion.h>
#include <uv.h>

#include "plat_compiler.h"
#include "platform.h"

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
