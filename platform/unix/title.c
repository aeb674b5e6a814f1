/* title.c: what ps shows for this process. srv in hosted mode runs as
 * `python3.11 -c <bootstrap> <libdir> ARGS` (service/launch.c); this puts
 * back the command the user typed, `srv ARGS`, by rewriting the original
 * argument area in place (as setproctitle does: Python copied its
 * arguments at start-up and no longer reads them), and names the process
 * srv for top, pgrep and pkill; and names threads by their role. */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "platform.h"

void srv_plat_set_cmdline(int argc, char **argv)
{
    unsigned long start = 0, end = 0;
    char buf[2048], *p;
    size_t room, used = 0;
    FILE *f;
    int i, field;

    prctl(PR_SET_NAME, "srv", 0, 0, 0);
    f = fopen("/proc/self/stat", "r");
    if (f == NULL)
        return;
    if (fgets(buf, sizeof(buf), f) == NULL) {
        fclose(f);
        return;
    }
    fclose(f);
    /* Fields after the command name, which may hold spaces: arg_start and
     * arg_end are the 48th and 49th (proc(5)). */
    p = strrchr(buf, ')');
    for (field = 2; p != NULL && field < 48; field++)
        p = strchr(p + 1, ' ');
    if (p == NULL || sscanf(p + 1, "%lu %lu", &start, &end) != 2 || end <= start)
        return;
    room = end - start;
    for (i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]) + 1;

        if (used + n > room)
            return; /* cannot happen: the bootstrap's arguments were longer */
        used += n;
    }
    p = (char *)start;
    for (i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]) + 1;

        memmove(p, argv[i], n);
        p += n;
    }
    memset(p, 0, room - used);
}

void srv_plat_thread_name(const char *name)
{
    prctl(PR_SET_NAME, name, 0, 0, 0);
}
