/* parser.h: the strict HTTP/1.1 request-head parser.
 *
 * Pure code: no I/O, no allocation, no globals, no Python. Every string it
 * returns is a slice of the caller's buffer. It implements the "HTTP rules" of
 * DESIGN.md: anything that RFC 9110/9112 does not allow, or that a proxy in
 * front of srv could read differently, is rejected with the status to answer.
 *
 * Use: keep a srv_http_scan_t per connection, zeroed when a new head starts,
 * and call srv_http_parse_request() each time bytes arrive. It scans only the
 * new bytes for the end of the head (so a client that sends one byte at a
 * time costs O(n), not O(n^2)), checks the request line as soon as it is
 * complete, and parses the whole head once its empty line has arrived. */
#ifndef SRV_HTTP_PARSER_H
#define SRV_HTTP_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "srv.h"

typedef struct srv_http_limits_s {
    size_t max_line;   /* request line, without CRLF; longer: 414 */
    size_t max_field;  /* one header field line, without CRLF; longer: 431 */
    size_t max_fields; /* header fields; more: 431. Also the capacity of
                          srv_http_head_t.headers */
    size_t max_head;   /* the whole head with its CRLFs; larger: 431 */
} srv_http_limits_t;

/* Where srv_http_parse_request() stopped scanning. Zero it to start a head. */
typedef struct srv_http_scan_s {
    size_t pos;          /* bytes of the buffer already scanned */
    size_t line_start;   /* offset of the line being scanned */
    size_t fields_start; /* offset of the first field line */
    size_t nfields;      /* header field lines seen */
    int in_head;         /* the request line has been seen */
    int rl_part;         /* request line: 0 method, 1 target, 2 version */
    size_t rl_part_len;  /* bytes of the current request-line part so far */
} srv_http_scan_t;

typedef enum srv_http_form_e {
    SRV_FORM_ORIGIN = 0, /* "/path?query" */
    SRV_FORM_ABSOLUTE,   /* "http://host/path?query" */
    SRV_FORM_AUTHORITY,  /* "host:port", CONNECT only */
    SRV_FORM_ASTERISK    /* "*", OPTIONS only */
} srv_http_form_t;

enum {
    SRV_HEAD_CHUNKED = 1u << 0,         /* Transfer-Encoding: chunked */
    SRV_HEAD_CONN_CLOSE = 1u << 1,      /* "close" in Connection */
    SRV_HEAD_CONN_KEEPALIVE = 1u << 2,  /* "keep-alive" in Connection */
    SRV_HEAD_EXPECT_CONTINUE = 1u << 3, /* Expect: 100-continue on HTTP/1.1 */
    SRV_HEAD_HAS_HOST = 1u << 4         /* a Host header was present */
};

typedef struct srv_http_head_s {
    /* Output slices into the parsed buffer (borrowed). */
    srv_str_t method;
    srv_str_t target;
    srv_str_t path;    /* origin/absolute form; empty for authority and asterisk */
    srv_str_t query;   /* without '?' */
    srv_str_t host;    /* from an absolute target, else from Host */
    int version_minor; /* 0 or 1; HTTP/1.2..1.9 are read as 1.1 (RFC 9112 2.3) */
    srv_http_form_t form;

    /* Caller-provided array of lim->max_fields entries (borrowed). Fields
     * whose names hold '_' are validated but not stored. */
    srv_header_t *headers;
    size_t nheaders;

    int64_t content_length; /* -1 when there is none */
    unsigned flags;         /* SRV_HEAD_* */
    size_t head_len;        /* bytes of the head, with leading empty lines */

    /* On error: the status to answer (400, 414, 417, 431, 501, 505) and a
     * static, human-readable reason. */
    int status;
    const char *why;
} srv_http_head_t;

/* Parses a request head from buf[0..len), resuming from *st.
 *
 * Returns the head length (> 0) when the head is complete and valid, with
 * *out filled in; SRV_EAGAIN when more bytes are needed (no error seen so
 * far); or SRV_EPROTO with out->status and out->why set. out->headers must
 * point at lim->max_fields entries. buf must hold the same bytes as in the
 * previous calls for this head, possibly followed by more, and *out must be
 * the same object (the request line is stored in it when it completes). */
int srv_http_parse_request(srv_http_scan_t *st, const char *buf, size_t len,
                           const srv_http_limits_t *lim, srv_http_head_t *out);

/* Checks a Host value or the authority of a target: uri-host [":" port].
 * Returns nonzero when valid. */
int srv_http_host_valid(const char *p, size_t len);

#endif
