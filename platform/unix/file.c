/* file.c: file descriptors, sendfile, resource limits, the pid file, what
 * a thread costs and how the scheduler treats it. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "plat_config.h"
#include "platform.h"
#include "unix/plat_int.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#ifdef SRV_HAVE_SENDFILE
#include <sys/sendfile.h>
#endif

int srv_plat_fd_dup(int fd, int *out)
{
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);

    if (d < 0)
        return srv__plat_err(errno);
    *out = d;
    return 0;
}

void srv_plat_fd_close(int fd)
{
    close(fd);
}

int srv_plat_fd_size(int fd, int64_t *size)
{
    struct stat st;

    if (fstat(fd, &st) != 0)
        return srv__plat_err(errno);
    if (!S_ISREG(st.st_mode))
        return SRV_EINVAL;
    *size = (int64_t)st.st_size;
    return 0;
}

int srv_plat_sendfile(uv_os_fd_t sock, int fd, int64_t off, size_t len, size_t *sent)
{
#ifdef SRV_HAVE_SENDFILE
    off_t o = (off_t)off;

    *sent = 0;
    while (len > 0) {
        ssize_t n = sendfile(sock, fd, &o, len > 0x7ffff000 ? 0x7ffff000 : len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return srv__plat_err(errno);
        }
        if (n == 0)
            return SRV_EIO; /* the file is shorter than it was */
        *sent += (size_t)n;
        len -= (size_t)n;
    }
    return 0;
#else
    (void)sock;
    (void)fd;
    (void)off;
    (void)len;
    *sent = 0;
    return SRV_ENOSYS;
#endif
}

uint64_t srv_plat_rss(void)
{
    /* Linux: the second field of /proc/self/statm is resident pages. */
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size, rss = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &rss) != 2)
        rss = 0;
    fclose(f);
    return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

void srv_plat_trim_memory(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

uint64_t srv_plat_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return (uint64_t)rl.rlim_cur;
}

int srv_plat_write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return srv__plat_err(errno);
    fprintf(f, "%d\n", (int)getpid());
    if (fclose(f) != 0)
        return srv__plat_err(errno);
    return 0;
}

void srv_plat_remove_pidfile(const char *path)
{
    unlink(path);
}

int srv_plat_thread_cpu_ns(uv_thread_t *t, uint64_t *ns)
{
    clockid_t cid;
    struct timespec ts;

    if (pthread_getcpuclockid(*t, &cid) != 0 || clock_gettime(cid, &ts) != 0)
        return SRV_EINVAL;
    *ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return 0;
}

int srv_plat_runnable_open(void)
{
    return open("/proc/thread-self/stat", O_RDONLY | O_CLOEXEC); /* resolved at open */
}

int srv_plat_thread_runnable(int probe)
{
    char buf[512];
    ssize_t n;
    char *p;

    if (probe < 0)
        return -1;
    /* "tid (comm) S ...": comm may hold spaces and parentheses, the state
     * follows the last ')'. */
    n = pread(probe, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ' || p[2] == '\0')
        return -1;
    return p[2] == 'R';
}

void srv_plat_runnable_close(int probe)
{
    if (probe >= 0)
        close(probe);
}

int srv_plat_thread_sched_default(void)
{
    return sched_getscheduler(0) == SCHED_OTHER;
}

int srv_plat_thread_batch(int on)
{
    struct sched_param sp;

    memset(&sp, 0, sizeof(sp));
    /* Needs no privilege: SCHED_BATCH runs at SCHED_OTHER's priorities. */
    if (sched_setscheduler(0, on ? SCHED_BATCH : SCHED_OTHER, &sp) != 0)
        return srv__plat_err(errno);
    return 0;
}
