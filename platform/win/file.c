/* file.c: C runtime file descriptors, the pid file. Windows has no
 * sendfile for srv's purpose here: the loop copies file pieces instead. */
#include <winsock2.h>
#include <windows.h>
#include <psapi.h>
#include <errno.h>
#include <io.h>
#include <malloc.h>
#include <process.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "platform.h"
#include "win/plat_int.h"

int srv_plat_fd_dup(int fd, int *out)
{
    int d = _dup(fd);

    if (d < 0)
        return srv__plat_crt_err(errno);
    *out = d;
    return 0;
}

void srv_plat_fd_close(int fd)
{
    _close(fd);
}

int srv_plat_fd_size(int fd, int64_t *size)
{
    struct _stati64 st;

    if (_fstati64(fd, &st) != 0)
        return srv__plat_crt_err(errno);
    if (!(st.st_mode & _S_IFREG))
        return SRV_EINVAL;
    *size = (int64_t)st.st_size;
    return 0;
}

int srv_plat_sendfile(uv_os_fd_t sock, int fd, int64_t off, size_t len, size_t *sent)
{
    (void)sock;
    (void)fd;
    (void)off;
    (void)len;
    *sent = 0;
    return SRV_ENOSYS;
}

uint64_t srv_plat_rss(void)
{
    PROCESS_MEMORY_COUNTERS pmc;

    if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof(pmc)))
        return 0;
    return (uint64_t)pmc.WorkingSetSize;
}

void srv_plat_trim_memory(void)
{
    _heapmin();
}

uint64_t srv_plat_raise_nofile(void)
{
    return 0; /* no such limit for sockets on Windows */
}

int srv_plat_write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return srv__plat_crt_err(errno);
    fprintf(f, "%d\n", _getpid());
    if (fclose(f) != 0)
        return srv__plat_crt_err(errno);
    return 0;
}

void srv_plat_remove_pidfile(const char *path)
{
    remove(path);
}

void srv_plat_set_cmdline(int argc, char **argv)
{
    (void)argc;
    (void)argv; /* srv.exe is srv.exe already */
}

void srv_plat_set_cmdline_role(const char *role)
{
    (void)role;
}

void srv_plat_thread_name(const char *name)
{
    (void)name;
}

int srv_plat_runnable_open(void)
{
    return -1; /* no cheap way to ask whether a thread waits for a CPU */
}

int srv_plat_thread_runnable(int probe)
{
    (void)probe;
    return -1;
}

int srv_plat_thread_sched_default(void)
{
    return 0;
}

int srv_plat_thread_batch(int on)
{
    (void)on;
    return SRV_ENOSYS; /* no scheduling class that only waives preemption */
}

void srv_plat_runnable_close(int probe)
{
    (void)probe;
}

int srv_plat_thread_cpu_ns(uv_thread_t *t, uint64_t *ns)
{
    FILETIME created, exited, kernel, user;
    ULARGE_INTEGER k, u;

    if (!GetThreadTimes(*t, &created, &exited, &kernel, &user))
        return SRV_EINVAL;
    k.LowPart = kernel.dwLowDateTime;
    k.HighPart = kernel.dwHighDateTime;
    u.LowPart = user.dwLowDateTime;
    u.HighPart = user.dwHighDateTime;
    *ns = (k.QuadPart + u.QuadPart) * 100u; /* 100 ns units */
    return 0;
}
