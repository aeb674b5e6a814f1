/* accesslog.h: the access log, in gunicorn's format language.
 *
 * The format is compiled once into a list of atoms: %(h)s remote address,
 * %(l)s "-", %(u)s "-", %(t)s [time], %(r)s request line, %(m)s method,
 * %(U)s path, %(q)s query, %(H)s protocol, %(s)s status, %(B)s body bytes,
 * %(b)s body bytes or "-", %(f)s Referer, %(a)s User-Agent, %(T)s seconds,
 * %(M)s milliseconds, %(D)s microseconds, %(L)s decimal seconds, %(p)s
 * <pid>, %(C)s what `cache` did (srv's own: HIT, UPDATING, STALE, MISS,
 * EXPIRED, BYPASS, or "-"), %({Name}i)s a request header, %({Name}o)s a response header,
 * %({Name}e)s "-" (no environ in C), and %% for '%'. Bytes outside printable
 * ASCII, '"' and '\' are written as \xNN so that a line stays one line. */
#ifndef SRV_UTIL_ACCESSLOG_H
#define SRV_UTIL_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "srv.h"

typedef struct srv_accesslog_s srv_accesslog_t;

/* One request, as the log sees it; every pointer is borrowed. */
typedef struct srv_access_entry_s {
    const char *remote_addr;
    srv_str_t method, target, path, query;
    int version_minor;
    int status;
    int64_t body_bytes;
    int64_t start_sec; /* when the request head was complete */
    int32_t start_usec;
    int64_t duration_us;
    const srv_header_t *req_headers;
    size_t nreq;
    const srv_header_t *resp_headers; /* those named by %({Name}o)s */
    size_t nresp;
    const char *cache; /* %(C)s, or NULL for "-" */
} srv_access_entry_t;

/* Returns 0 when fmt compiles, else SRV_EINVAL with *why set. */
int srv_accesslog_check(const char *fmt, const char **why);

/* Compiles fmt and opens path ("-": stdout). Returns 0 or SRV_E*; the
 * caller owns *out. */
int srv_accesslog_open(srv_accesslog_t **out, const char *fmt, const char *path);
void srv_accesslog_close(srv_accesslog_t *log);
int srv_accesslog_reopen(srv_accesslog_t *log);

/* The response header names the format refers to, so that the response
 * writer can keep their values for the log. Borrowed array. */
const srv_str_t *srv_accesslog_resp_names(const srv_accesslog_t *log, size_t *n);

/* Formats e into out[0..cap) and returns its length (with the newline);
 * the line is cut, keeping its newline, if it does not fit. */
size_t srv_accesslog_format(const srv_accesslog_t *log, const srv_access_entry_t *e, char *out,
                            size_t cap);
/* Formats and writes one line. Any thread. */
void srv_accesslog_write(srv_accesslog_t *log, const srv_access_entry_t *e);

#endif
