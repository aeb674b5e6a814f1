/* buf.h: a growable byte buffer with a hard cap.
 *
 * Every buffer that grows from network input has a limit taken from the
 * configuration. An append that would pass the limit fails with SRV_E2BIG and
 * leaves the buffer as it was, as does a failed allocation (SRV_ENOMEM). */
#ifndef SRV_UTIL_BUF_H
#define SRV_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "plat_compiler.h"

typedef struct srv_buf_s {
    char *data;   /* owned; NULL until the first reserve */
    size_t len;   /* bytes in use */
    size_t cap;   /* bytes allocated */
    size_t limit; /* cap never grows past this */
} srv_buf_t;

/* Initialises an empty buffer that may grow to limit bytes. No allocation. */
void srv_buf_init(srv_buf_t *b, size_t limit);
/* Frees the storage; the buffer is empty (and reusable) afterwards. */
void srv_buf_free(srv_buf_t *b);

/* Makes room for at least extra more bytes. Returns 0, SRV_E2BIG past the
 * limit or SRV_ENOMEM; the buffer is unchanged on failure. */
int srv_buf_reserve(srv_buf_t *b, size_t extra);
/* Appends n bytes. Returns as srv_buf_reserve(). */
int srv_buf_append(srv_buf_t *b, const void *src, size_t n);
/* Appends a NUL-terminated string (without its NUL). */
int srv_buf_puts(srv_buf_t *b, const char *s);
/* Appends printf-style output (the buffer is not NUL-terminated by it). */
int srv_buf_printf(srv_buf_t *b, const char *fmt, ...) SRV_PRINTF(2, 3);
int srv_buf_vprintf(srv_buf_t *b, const char *fmt, va_list ap) SRV_PRINTF(2, 0);
/* Drops the first n bytes (n <= len), moving the rest to the front. */
void srv_buf_consume(srv_buf_t *b, size_t n);
/* Bytes that can be appended without reallocating. */
static inline size_t srv_buf_room(const srv_buf_t *b)
{
    return b->cap - b->len;
}

#endif
