/* wakeup_cost.c: what one thread waking another costs on this machine, with
 * the two threads on one CPU and on two. srv's loop thread hands each
 * request to an app thread; nginx answers on the thread that read it. On a
 * virtual machine a wake-up across CPUs may cost several times one on the
 * same CPU (an interrupt between CPUs, which the host may have to carry).
 *
 *   cc -O2 -pthread bench/wakeup_cost.c -o /tmp/wakeup_cost && /tmp/wakeup_cost
 *
 * Two threads pass a turn back and forth N times through two semaphores
 * (as srv's pool wakes an app thread), first pinned to the same CPU, then
 * to two CPUs. Prints, for each pair of CPUs, the wall time and the CPU
 * time (both threads) per wake-up. Linux only. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static sem_t ping, pong;
static long rounds;

static void pin(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
        fprintf(stderr, "wakeup_cost: cannot run on CPU %d\n", cpu);
        exit(2);
    }
}

static double seconds(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct peer {
    int cpu;
    double cpu_s;
};

static void *answer(void *arg)
{
    struct peer *p = arg;
    double c0;
    long i;

    pin(p->cpu);
    c0 = seconds(CLOCK_THREAD_CPUTIME_ID);
    for (i = 0; i < rounds; i++) {
        sem_wait(&ping);
        sem_post(&pong);
    }
    p->cpu_s = seconds(CLOCK_THREAD_CPUTIME_ID) - c0;
    return NULL;
}

static void measure(int a, int b)
{
    struct peer p = {b, 0};
    pthread_t t;
    double w0, c0, wall, cpu;
    long i;

    sem_init(&ping, 0, 0);
    sem_init(&pong, 0, 0);
    pin(a);
    if (pthread_create(&t, NULL, answer, &p) != 0) {
        fprintf(stderr, "wakeup_cost: cannot start a thread\n");
        exit(2);
    }
    w0 = seconds(CLOCK_MONOTONIC);
    c0 = seconds(CLOCK_THREAD_CPUTIME_ID);
    for (i = 0; i < rounds; i++) {
        sem_post(&ping);
        sem_wait(&pong);
    }
    cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - c0;
    wall = seconds(CLOCK_MONOTONIC) - w0;
    pthread_join(t, NULL);
    cpu += p.cpu_s;
    /* Each round wakes the other thread twice. */
    printf("CPUs %d and %d: %.2f us of wall time, %.2f us of CPU time per wake-up\n", a, b,
           wall / (double)rounds / 2 * 1e6, cpu / (double)rounds / 2 * 1e6);
    sem_destroy(&ping);
    sem_destroy(&pong);
}

int main(int argc, char **argv)
{
    cpu_set_t set;
    int cpus[2], n = 0, i;
    char *end = NULL;

    rounds = argc > 1 ? strtol(argv[1], &end, 10) : 100000;
    if (argc > 2 || rounds < 1 || (end != NULL && (end == argv[1] || *end != '\0'))) {
        fprintf(stderr, "usage: wakeup_cost [ROUNDS], ROUNDS a whole number >= 1 (default "
                        "100000)\n");
        return 2;
    }
    if (sched_getaffinity(0, sizeof(set), &set) != 0) {
        perror("wakeup_cost: sched_getaffinity");
        return 2;
    }
    for (i = 0; i < CPU_SETSIZE && n < 2; i++)
        if (CPU_ISSET(i, &set))
            cpus[n++] = i;
    measure(cpus[0], cpus[0]);
    if (n < 2) {
        printf("one CPU only: no wake-up across CPUs to measure\n");
        return 0;
    }
    measure(cpus[0], cpus[1]);
    return 0;
}
