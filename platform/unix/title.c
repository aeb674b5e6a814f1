/* title.c: what ps shows for this process. srv in hosted mode runs as
 * `python3.11 -c <bootstrap> <libdir> ARGS` (service/launch.c); this puts
 * back the command the user typed, `srv ARGS`, by rewriting the original
 * argument area in place (as setproctitle does: Python copied its
 * arguments at start-up and no longer reads them), and names the process
 * srv for top, pgrep and pkill. A srv that embeds Python (or serves a
 * built-in app) was started as srv ARGS already, and its arguments still
 * live in that area: they move to the heap first. A worker then shows
 * `srv: worker N ARGS`, as gunicorn's show `gunicorn: worker`. Threads are
 * named by their role. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "platform.h"

/* The argument area, and the arguments shown in it (set_cmdline's). */
static char *g_area;
static size_t g_room;
static int g_argc;
static char **g_argv;

/* Writes first, then argv[1..], NUL-separated, into the area; what does
 * not fit is left out (the bootstrap's arguments leave room). */
static void show(const char *first)
{
    size_t used = 0;
    int i;

    for (i = 0; i < g_argc; i++) {
        const char *s = i == 0 ? first : g_argv[i];
        size_t n = strlen(s) + 1;

        if (used + n > g_room)
            break;
        memmove(g_area + used, s, n);
        used += n;
    }
    memset(g_area + used, 0, g_room - used);
}

void srv_plat_set_cmdline(int argc, char **argv)
{
    unsigned long start = 0, end = 0;
    char buf[2048], *p;
    FILE *f;
    int field, i;

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
    if (p == NULL || sscanf(p + 1, "%lu %lu", &start, &end) != 2 || end <= start || argc < 1)
        return;
    for (i = 0; i < argc; i++) {
        char *s = argv[i];
        size_t n;

        if ((unsigned long)s < start || (unsigned long)s >= end)
            continue;
        n = strlen(s) + 1;
        if ((argv[i] = malloc(n)) == NULL) {
            argv[i] = s;
            return; /* no title rather than arguments written over */
        }
        memcpy(argv[i], s, n);
    }
    g_area = (char *)start;
    g_room = end - start;
    g_argc = argc;
    g_argv = argv;
    show(argv[0]);
}

void srv_plat_set_cmdline_role(const char *role)
{
    char first[64];

    if (g_area == NULL)
        return;
    snprintf(first, sizeof(first), "srv: %s", role);
    show(first);
}

void srv_plat_thread_name(const char *name)
{
    prctl(PR_SET_NAME, name, 0, 0, 0);
}
