/* buf.c: the bounded buffer. */
#include "util/buf.h"

#include <stdio.h>
#include <string.h>

#include "srv.h"
#include "util/alloc.h"

#define SRV_BUF_MIN 256

void srv_buf_init(srv_buf_t *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void srv_buf_free(srv_buf_t *b)
{
    srv_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int srv_buf_reserve(srv_buf_t *b, size_t extra)
{
    size_t need, ncap;
    char *p;

    /* Invariant: len <= cap <= limit, so limit - len cannot wrap. */
    if (extra > b->limit - b->len)
        return SRV_E2BIG;
    need = b->len + extra;
    if (need <= b->cap)
        return 0;
    ncap = b->cap ? b->cap : SRV_BUF_MIN;
    while (ncap < need)
        ncap = ncap > b->limit / 2 ? b->limit : ncap * 2;
    if (ncap > b->limit)
        ncap = b->limit;
    p = srv_realloc(b->data, ncap);
    if (p == NULL)
        return SRV_ENOMEM;
    b->data = p;
    b->cap = ncap;
    return 0;
}

int srv_buf_append(srv_buf_t *b, const void *src, size_t n)
{
    int rc;

    if (n == 0)
        return 0;
    rc = srv_buf_reserve(b, n);
    if (rc != 0)
        return rc;
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

int srv_buf_puts(srv_buf_t *b, const char *s)
{
    return srv_buf_append(b, s, strlen(s));
}

int srv_buf_vprintf(srv_buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n, rc;

    va_copy(ap2, ap);
    n = vsnprintf(b->data ? b->data + b->len : NULL, b->cap - b->len, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return SRV_EINVAL;
    if ((size_t)n < b->cap - b->len) {
        b->len += (size_t)n;
        return 0;
    }
    /* +1: vsnprintf always writes a terminating NUL. */
    rc = srv_buf_reserve(b, (size_t)n + 1);
    if (rc != 0)
        return rc;
    vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int srv_buf_printf(srv_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = srv_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void srv_buf_consume(srv_buf_t *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}
