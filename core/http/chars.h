/* chars.h: byte classes of RFC 9110/9112, as 256-entry tables. */
#ifndef SRV_HTTP_CHARS_H
#define SRV_HTTP_CHARS_H

#include <stddef.h>

enum {
    SRV_CH_TCHAR = 1,  /* token: ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA */
    SRV_CH_VALUE = 2,  /* field-value byte: HTAB SP VCHAR obs-text */
    SRV_CH_TARGET = 4, /* request-target byte: VCHAR obs-text (no SP, no CTL) */
    SRV_CH_HOST = 8,   /* reg-name / IPv4 byte: unreserved sub-delims '%' */
    SRV_CH_HEX = 16,   /* 0-9 A-F a-f */
    SRV_CH_QDTEXT = 32 /* quoted-string text: HTAB SP ! #-[ ]-~ obs-text */
};

extern const unsigned char srv_http_chars[256];

static inline int srv_http_is(unsigned char c, unsigned cls)
{
    return (srv_http_chars[c] & cls) != 0;
}

/* Nonzero when s[0..len) is a non-empty token. */
int srv_http_is_token(const char *s, size_t len);
/* Case-insensitive comparison of s[0..len) with the lower-case NUL-terminated
 * literal lit. */
int srv_http_ieq(const char *s, size_t len, const char *lit);
/* Takes the next element of the comma-separated list p[0..len), from
 * *pos on (start with 0), with the OWS around it trimmed: returns 1 with
 * it in *el[0..*el_len) (empty for "a,,b", a trailing ',' or ""), or 0
 * once the list is over. Each caller decides what an empty element
 * means (RFC 9110 5.6.1: framing headers refuse it, others skip it). */
int srv_http_list_next(const char *p, size_t len, size_t *pos, const char **el, size_t *el_len);

/* Value of hex digit c (caller checked SRV_CH_HEX). */
static inline unsigned srv_http_hexval(unsigned char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

#endif
