/* log.c: the error log and the log sinks. */
#include "util/log.h"

#include <string.h>
#include <uv.h>

#include "srv.h"
#include "util/alloc.h"
#include "util/clock.h"

static srv_log_sink_t g_errlog; /* f == NULL means stderr */
static srv_log_level_t g_level = SRV_LOG_INFO;

static const char *const g_level_names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};

int srv_log_sink_open(srv_log_sink_t *s, const char *path, int default_is_stderr)
{
    FILE *f;

    s->f = NULL;
    s->path = NULL;
    if (path == NULL || path[0] == '\0') {
        s->f = default_is_stderr ? stderr : stdout;
        return 0;
    }
    if (strcmp(path, "-") == 0) {
        /* gunicorn's convention: '-' is stderr for the error log and
         * stdout for the access log. */
        s->f = default_is_stderr ? stderr : stdout;
        return 0;
    }
    s->path = srv_strdup(path);
    if (s->path == NULL)
        return SRV_ENOMEM;
    f = fopen(path, "a");
    if (f == NULL) {
        srv_free(s->path);
        s->path = NULL;
        return SRV_EACCES;
    }
    /* Unbuffered: each line goes out in one write, whole, at once. */
    setvbuf(f, NULL, _IONBF, 0);
    s->f = f;
    return 0;
}

int srv_log_sink_reopen(srv_log_sink_t *s)
{
    FILE *f;

    if (s->path == NULL)
        return 0;
    f = fopen(s->path, "a");
    if (f == NULL)
        return SRV_EACCES;
    setvbuf(f, NULL, _IONBF, 0);
    if (s->f != NULL)
        fclose(s->f);
    s->f = f;
    return 0;
}

void srv_log_sink_close(srv_log_sink_t *s)
{
    if (s->path != NULL && s->f != NULL)
        fclose(s->f);
    srv_free(s->path);
    s->path = NULL;
    s->f = NULL;
}

void srv_log_sink_write(srv_log_sink_t *s, const char *p, size_t len)
{
    FILE *f = s->f ? s->f : stderr;

    fwrite(p, 1, len, f);
    /* Each line leaves at once: on some C runtimes (Windows') stderr is
     * buffered when it is not a console. */
    fflush(f);
}

int srv_log_open(const char *path, srv_log_level_t level)
{
    srv_log_sink_t s;
    int rc;

    rc = srv_log_sink_open(&s, path, 1);
    if (rc != 0)
        return rc;
    srv_log_sink_close(&g_errlog);
    g_errlog = s;
    g_level = level;
    return 0;
}

int srv_log_reopen(void)
{
    return srv_log_sink_reopen(&g_errlog);
}

void srv_log_close(void)
{
    srv_log_sink_close(&g_errlog);
}

srv_log_level_t srv_log_level(void)
{
    return g_level;
}

int srv_log_level_parse(const char *s)
{
    size_t i;

    for (i = 0; i < sizeof(g_level_names) / sizeof(g_level_names[0]); i++) {
        const char *n = g_level_names[i];
        size_t j;

        for (j = 0; n[j] && s[j] && (s[j] | 0x20) == (n[j] | 0x20); j++)
            ;
        if (n[j] == '\0' && s[j] == '\0')
            return (int)i;
    }
    return -1;
}

size_t srv_log_timestamp(char *out)
{
    srv_civil_t c;
    int64_t now;

    srv_time_now(&now, NULL);
    srv_time_civil(now, &c);
    return (size_t)snprintf(out, 29, "[%04d-%02d-%02d %02d:%02d:%02d +0000]", c.year, c.month,
                            c.day, c.hour, c.min, c.sec);
}

void srv_log_write_raw(const char *p, size_t len)
{
    srv_log_sink_write(&g_errlog, p, len);
}

void srv_vlog(srv_log_level_t level, const char *fmt, va_list ap)
{
    char line[2048];
    size_t n;
    int m;

    if (level < g_level)
        return;
    n = srv_log_timestamp(line);
    m = snprintf(line + n, sizeof(line) - n, " [%d] [%s] ", (int)uv_os_getpid(),
                 g_level_names[level]);
    if (m > 0)
        n += (size_t)m;
    m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    n += (size_t)m;
    if (n > sizeof(line) - 2) /* truncated: keep the line a line */
        n = sizeof(line) - 2;
    line[n++] = '\n';
    srv_log_sink_write(&g_errlog, line, n);
}

void srv_log(srv_log_level_t level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    srv_vlog(level, fmt, ap);
    va_end(ap);
}
