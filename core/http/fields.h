/* fields.h: finding request header fields, and the conditional requests of
 * RFC 9110 13 that a cache or a file server answers with a 304. Pure
 * code. */
#ifndef SRV_HTTP_FIELDS_H
#define SRV_HTTP_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "srv.h"

/* The value of the first field named lname (lower case) in h[0..n), or
 * NULL. The pointer is into h. */
const srv_str_t *srv_http_find_field(const srv_header_t *h, size_t n, const char *lname);

/* Whether an If-None-Match value, p[0..len), matches etag[0..elen) (a
 * quoted entity-tag): "*", or an entity-tag of its list compared weakly
 * (RFC 9110 13.1.2). */
int srv_http_none_match(const char *p, size_t len, const char *etag, size_t elen);

/* Whether a GET or HEAD with headers h[0..n) gets 304 Not Modified for a
 * representation with entity-tag etag[0..elen) (elen 0: none) and
 * modification time mtime (-1: none): If-None-Match matches, or, when
 * there is no If-None-Match, If-Modified-Since is no earlier than mtime
 * (RFC 9110 13.2.2). */
int srv_http_not_modified(const srv_header_t *h, size_t n, const char *etag, size_t elen,
                          int64_t mtime);

#endif
