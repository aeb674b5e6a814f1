/* chunked.h: the decoder of chunked request bodies (RFC 9112 7.1).
 *
 * Pure code like the head parser: no I/O, no allocation. Input can be split
 * at any byte. It rejects what a lenient parser would read differently:
 * signs, "0x", '_' or whitespace in sizes, sizes of more than 16 hex digits,
 * a missing CRLF after chunk data, malformed chunk extensions (bare CR
 * included), trailer fields that would change the meaning of the message
 * (Content-Length, Transfer-Encoding, Host, ...), and a body larger than the
 * configured limit. Trailers are checked and then dropped. */
#ifndef SRV_HTTP_CHUNKED_H
#define SRV_HTTP_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

typedef struct srv_chunked_s {
    int state;
    uint64_t size;       /* bytes left in the current chunk */
    uint64_t total;      /* body bytes decoded so far */
    uint64_t max_body;   /* decoded bytes allowed in all */
    unsigned ndigits;    /* hex digits of the current size */
    size_t line_len;     /* bytes of the current size or trailer line */
    size_t max_line;     /* longest size line (with extensions) or trailer line */
    size_t trailer_len;  /* bytes of the trailer section */
    size_t max_trailers; /* longest trailer section */
    char name[24];       /* the current trailer name, lower-cased, if short */
    size_t name_len;
    const char *why; /* static reason of the last error */
} srv_chunked_t;

/* Starts a body. max_body caps the decoded size (SRV_ETOOLARGE past it);
 * max_line caps one size or trailer line; max_trailers the trailer section. */
void srv_chunked_init(srv_chunked_t *c, uint64_t max_body, size_t max_line, size_t max_trailers);

/* Decodes src[0..srclen) into dst[0..dstcap). dst may be src itself (or
 * anywhere before it in the same buffer): decoding in place is safe. Sets
 * *consumed and *produced. Returns 1 once the last chunk and the trailer
 * section have been read (*consumed stops right after them), 0 when it needs
 * more input or more room in dst, SRV_EPROTO (c->why says why) on a framing
 * error, or SRV_ETOOLARGE past max_body. After an error, call it no more. */
int srv_chunked_decode(srv_chunked_t *c, const char *src, size_t srclen, size_t *consumed,
                       char *dst, size_t dstcap, size_t *produced);

/* Nonzero once the whole body has been decoded. */
int srv_chunked_done(const srv_chunked_t *c);

#endif
