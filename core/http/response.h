/* response.h: the pieces of an HTTP/1.1 response head, and the rules that
 * decide how a response body is framed. Pure code: no I/O, no allocation. */
#ifndef SRV_HTTP_RESPONSE_H
#define SRV_HTTP_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "srv.h"

/* What srv learned from the app's own headers. */
typedef struct srv_http_resp_meta_s {
    int64_t content_length; /* -1: the app gave none */
    int close;              /* the app said Connection: close */
    int has_date;           /* the app gave its own Date */
} srv_http_resp_meta_t;

enum { SRV_HDR_KEEP = 0, SRV_HDR_DROP = 1 };

/* Checks one header from the app and records what srv needs from it in
 * meta (initialise meta with content_length = -1, the rest 0). Returns
 * SRV_HDR_KEEP to send it, SRV_HDR_DROP for the framing and hop-by-hop
 * headers srv writes itself (Content-Length, Transfer-Encoding, Connection,
 * Keep-Alive), or SRV_EINVAL with *why set: a name that is not a token, a
 * value with CR, LF, NUL or another control byte, an invalid or conflicting
 * Content-Length. */
int srv_http_resp_header(const srv_header_t *h, srv_http_resp_meta_t *meta, const char **why);

/* Nonzero for a status an app may send: 200..599. */
int srv_http_status_valid(int status);
/* The standard reason phrase, or "Unknown" (never NULL). */
const char *srv_http_reason(int status);
/* Nonzero when r[0..len) is a valid reason-phrase (HTAB, SP, VCHAR, obs-text). */
int srv_http_reason_valid(const char *r, size_t len);

typedef enum srv_body_mode_e {
    SRV_BODY_NONE = 0, /* HEAD, 1xx, 204, 304: no body bytes at all */
    SRV_BODY_LENGTH,   /* Content-Length */
    SRV_BODY_CHUNKED,  /* Transfer-Encoding: chunked (HTTP/1.1) */
    SRV_BODY_CLOSE     /* ends when the connection closes (HTTP/1.0) */
} srv_body_mode_t;

typedef struct srv_http_plan_s {
    srv_body_mode_t mode;
    int64_t content_length; /* the Content-Length header to send, -1 for none */
    int keep_alive;         /* the connection stays open afterwards */
} srv_http_plan_t;

/* Decides the framing of a response.
 *  status, version_minor: of the response and of the request;
 *  is_head: the request was HEAD;
 *  app_cl: the app's Content-Length, or -1;
 *  known_len: the whole body's length when it is known now (the app gave it
 *    in one piece), else -1;
 *  keep_alive: the connection may stay open as far as the request, the app
 *    and the server are concerned. */
void srv_http_plan(int status, int version_minor, int is_head, int64_t app_cl, int64_t known_len,
                   int keep_alive, srv_http_plan_t *out);

/* The longest status line, Date line and framing block srv writes. */
#define SRV_HTTP_STATUS_LINE_MAX(reason_len) (13 + (reason_len) + 2)
#define SRV_HTTP_DATE_LINE_LEN               37 /* "Date: " + 29 + CRLF */
#define SRV_HTTP_FRAMING_MAX                 96

/* Writes "HTTP/1.1 <status> <reason>\r\n"; returns its length. */
size_t srv_http_put_status_line(char *dst, int status, const char *reason, size_t reason_len);
/* Writes "Date: <now>\r\n" (SRV_HTTP_DATE_LINE_LEN bytes). */
size_t srv_http_put_date_line(char *dst);
/* Writes Content-Length / Transfer-Encoding / Connection as the plan says,
 * then the empty line that ends the head. Returns the length. */
size_t srv_http_put_framing(char *dst, const srv_http_plan_t *plan, int version_minor);
/* Writes the size line of a chunk of n bytes ("1a2b\r\n"); at most 18 bytes. */
size_t srv_http_put_chunk_size(char *dst, size_t n);

/* Writes a complete response that srv answers itself (an error, or 503 when
 * overloaded): status line, Date, a short text/plain body that states the
 * status and detail (a static string, never request bytes), and
 * "Connection: close" when close is nonzero. Returns the length, or 0 when
 * cap is too small (512 bytes always suffice for a detail under 256). */
size_t srv_http_put_simple_response(char *dst, size_t cap, int status, const char *detail,
                                    int close);

#endif
