/* log.h: the error log.
 *
 * Lines look like gunicorn's: "[2026-11-25 20:54:35 +0000] [1234] [INFO] msg".
 * Each line is formatted whole and written with one call, so lines from
 * several threads or processes sharing the file do not interleave. Any
 * thread may log. */
#ifndef SRV_UTIL_LOG_H
#define SRV_UTIL_LOG_H

#include <stdarg.h>
#include <stdio.h>

#include "plat_compiler.h"

typedef enum srv_log_level_e {
    SRV_LOG_DEBUG = 0,
    SRV_LOG_INFO,
    SRV_LOG_WARNING,
    SRV_LOG_ERROR,
    SRV_LOG_CRITICAL
} srv_log_level_t;

/* A log destination: stderr, stdout or a file opened for appending. */
typedef struct srv_log_sink_s {
    FILE *f;    /* owned unless it is stdout or stderr */
    char *path; /* owned; NULL for the standard streams */
} srv_log_sink_t;

/* Opens path into *s: NULL, "" or "-" is the default stream (stderr when
 * default_is_stderr, else stdout), anything else a file opened for
 * appending. Returns 0 or an SRV_E* code (the file could not be opened). */
int srv_log_sink_open(srv_log_sink_t *s, const char *path, int default_is_stderr);
/* Reopens a file sink in place (after logrotate moved it). */
int srv_log_sink_reopen(srv_log_sink_t *s);
void srv_log_sink_close(srv_log_sink_t *s);
/* Writes len bytes as one call. Thread-safe. */
void srv_log_sink_write(srv_log_sink_t *s, const char *p, size_t len);

/* Sets the error log destination (default: stderr) and the lowest level
 * written (default: info). Not thread-safe: call before starting threads. */
int srv_log_open(const char *path, srv_log_level_t level);
int srv_log_reopen(void);
void srv_log_close(void);
srv_log_level_t srv_log_level(void);
/* Parses "debug", "info", "warning", "error", "critical"; returns -1 else. */
int srv_log_level_parse(const char *s);

void srv_log(srv_log_level_t level, const char *fmt, ...) SRV_PRINTF(2, 3);
void srv_vlog(srv_log_level_t level, const char *fmt, va_list ap) SRV_PRINTF(2, 0);

#define srv_log_debug(...)                                                                         \
    do {                                                                                           \
        if (srv_log_level() <= SRV_LOG_DEBUG)                                                      \
            srv_log(SRV_LOG_DEBUG, __VA_ARGS__);                                                   \
    } while (0)
#define srv_log_info(...)  srv_log(SRV_LOG_INFO, __VA_ARGS__)
#define srv_log_warn(...)  srv_log(SRV_LOG_WARNING, __VA_ARGS__)
#define srv_log_error(...) srv_log(SRV_LOG_ERROR, __VA_ARGS__)

/* Writes text to the error log as it is (wsgi.errors). Any thread. */
void srv_log_write_raw(const char *p, size_t len);

/* Formats "[YYYY-mm-dd HH:MM:SS +0000]" for now into out (>= 29 bytes)
 * and returns its length. */
size_t srv_log_timestamp(char *out);

#endif
