/* chunked.c: the chunked body decoder (see chunked.h).
 *
 * chunked-body = *chunk last-chunk trailer-section CRLF
 * chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 * chunk-ext    = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
 * ext-val      = token / quoted-string */
#include "http/chunked.h"

#include <string.h>

#include "http/chars.h"
#include "srv.h"

enum {
    S_SIZE_FIRST, /* first hex digit of a size */
    S_SIZE,       /* more hex digits */
    S_SIZE_BWS,   /* whitespace after the size: only ';' may follow */
    S_EXT_NAME0,  /* after ';': BWS, then the name */
    S_EXT_NAME,
    S_EXT_NAME_BWS, /* whitespace after a name: '=' or ';' may follow */
    S_EXT_VAL0,     /* after '=': BWS, then a token or a quoted string */
    S_EXT_TOKEN,
    S_EXT_QUOTED,
    S_EXT_QPAIR,
    S_EXT_VAL_END, /* after a closing quote: ';' or CR */
    S_EXT_VAL_BWS, /* whitespace after a value: only ';' may follow */
    S_SIZE_LF,
    S_DATA,
    S_DATA_CR,
    S_DATA_LF,
    S_TRAILER0, /* start of a trailer line, or the final CRLF */
    S_TRAILER_NAME,
    S_TRAILER_VALUE,
    S_TRAILER_LF,
    S_FINAL_LF,
    S_DONE,
    S_ERROR
};

/* Trailer fields that would change how the message is framed, routed,
 * authenticated or interpreted if a later hop merged them into the header
 * section (RFC 9110 6.5.1). */
static const char *const forbidden_trailers[] = {"age",
                                                 "authorization",
                                                 "cache-control",
                                                 "connection",
                                                 "content-encoding",
                                                 "content-length",
                                                 "content-range",
                                                 "content-type",
                                                 "cookie",
                                                 "date",
                                                 "expect",
                                                 "expires",
                                                 "host",
                                                 "if-match",
                                                 "if-modified-since",
                                                 "if-none-match",
                                                 "if-range",
                                                 "if-unmodified-since",
                                                 "keep-alive",
                                                 "location",
                                                 "max-forwards",
                                                 "pragma",
                                                 "proxy-authenticate",
                                                 "proxy-authorization",
                                                 "proxy-connection",
                                                 "range",
                                                 "retry-after",
                                                 "set-cookie",
                                                 "te",
                                                 "trailer",
                                                 "transfer-encoding",
                                                 "upgrade",
                                                 "vary",
                                                 "www-authenticate"};

static int trailer_forbidden(const srv_chunked_t *c)
{
    size_t i;

    if (c->name_len >= sizeof(c->name))
        return 0; /* longer than any forbidden name */
    for (i = 0; i < sizeof(forbidden_trailers) / sizeof(forbidden_trailers[0]); i++)
        if (strlen(forbidden_trailers[i]) == c->name_len &&
            memcmp(forbidden_trailers[i], c->name, c->name_len) == 0)
            return 1;
    return 0;
}

void srv_chunked_init(srv_chunked_t *c, uint64_t max_body, size_t max_line, size_t max_trailers)
{
    memset(c, 0, sizeof(*c));
    c->state = S_SIZE_FIRST;
    c->max_body = max_body;
    c->max_line = max_line;
    c->max_trailers = max_trailers;
}

int srv_chunked_done(const srv_chunked_t *c)
{
    return c->state == S_DONE;
}

static int is_bws(unsigned char ch)
{
    return ch == ' ' || ch == '\t';
}

int srv_chunked_decode(srv_chunked_t *c, const char *src, size_t srclen, size_t *consumed,
                       char *dst, size_t dstcap, size_t *produced)
{
    size_t i = 0, out = 0;
    int rc = 0;

#define BAD(text)                                                                                  \
    do {                                                                                           \
        c->why = (text);                                                                           \
        rc = SRV_EPROTO;                                                                           \
        goto out;                                                                                  \
    } while (0)

    if (c->state == S_ERROR) {
        rc = SRV_EPROTO;
        goto out;
    }
    while (i < srclen && c->state != S_DONE) {
        unsigned char ch = (unsigned char)src[i];

        if (c->state == S_DATA) {
            size_t n = srclen - i;

            if (n > c->size)
                n = (size_t)c->size;
            if (n > dstcap - out)
                n = dstcap - out;
            if (n == 0)
                break; /* dst is full */
            memmove(dst + out, src + i, n);
            out += n;
            i += n;
            c->size -= n;
            if (c->size == 0)
                c->state = S_DATA_CR;
            continue;
        }

        i++;
        if (c->state <= S_SIZE_LF || (c->state >= S_TRAILER0 && c->state <= S_TRAILER_LF)) {
            if (++c->line_len > c->max_line)
                BAD(c->state >= S_TRAILER0 ? "chunked trailer line too long"
                                           : "chunk size line too long");
            if (c->state >= S_TRAILER0 && ++c->trailer_len > c->max_trailers)
                BAD("chunked trailer section too large");
        }

        switch (c->state) {
        case S_SIZE_FIRST:
        case S_SIZE:
            if (srv_http_is(ch, SRV_CH_HEX)) {
                if (++c->ndigits > 16)
                    BAD("chunk size longer than 16 hex digits");
                c->size = (c->size << 4) | srv_http_hexval(ch);
                c->state = S_SIZE;
            } else if (c->state == S_SIZE_FIRST) {
                BAD("invalid chunk size");
            } else if (ch == '\r') {
                c->state = S_SIZE_LF;
            } else if (ch == ';') {
                c->state = S_EXT_NAME0;
            } else if (is_bws(ch)) {
                c->state = S_SIZE_BWS;
            } else {
                BAD("invalid chunk size");
            }
            break;
        case S_SIZE_BWS:
            if (ch == ';')
                c->state = S_EXT_NAME0;
            else if (!is_bws(ch))
                BAD("invalid chunk size");
            break;
        case S_EXT_NAME0:
            if (srv_http_is(ch, SRV_CH_TCHAR))
                c->state = S_EXT_NAME;
            else if (!is_bws(ch))
                BAD("invalid chunk extension");
            break;
        case S_EXT_NAME:
            if (ch == '\r')
                c->state = S_SIZE_LF;
            else if (ch == ';')
                c->state = S_EXT_NAME0;
            else if (ch == '=')
                c->state = S_EXT_VAL0;
            else if (is_bws(ch))
                c->state = S_EXT_NAME_BWS;
            else if (!srv_http_is(ch, SRV_CH_TCHAR))
                BAD("invalid chunk extension");
            break;
        case S_EXT_NAME_BWS:
            if (ch == ';')
                c->state = S_EXT_NAME0;
            else if (ch == '=')
                c->state = S_EXT_VAL0;
            else if (!is_bws(ch))
                BAD("invalid chunk extension");
            break;
        case S_EXT_VAL0:
            if (ch == '"')
                c->state = S_EXT_QUOTED;
            else if (srv_http_is(ch, SRV_CH_TCHAR))
                c->state = S_EXT_TOKEN;
            else if (!is_bws(ch))
                BAD("invalid chunk extension");
            break;
        case S_EXT_TOKEN:
            if (ch == '\r')
                c->state = S_SIZE_LF;
            else if (ch == ';')
                c->state = S_EXT_NAME0;
            else if (is_bws(ch))
                c->state = S_EXT_VAL_BWS;
            else if (!srv_http_is(ch, SRV_CH_TCHAR))
                BAD("invalid chunk extension");
            break;
        case S_EXT_QUOTED:
            if (ch == '"')
                c->state = S_EXT_VAL_END;
            else if (ch == '\\')
                c->state = S_EXT_QPAIR;
            else if (!srv_http_is(ch, SRV_CH_QDTEXT))
                BAD("invalid chunk extension");
            break;
        case S_EXT_QPAIR:
            /* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
            if (!srv_http_is(ch, SRV_CH_VALUE))
                BAD("invalid chunk extension");
            c->state = S_EXT_QUOTED;
            break;
        case S_EXT_VAL_END:
            if (ch == '\r')
                c->state = S_SIZE_LF;
            else if (ch == ';')
                c->state = S_EXT_NAME0;
            else if (is_bws(ch))
                c->state = S_EXT_VAL_BWS;
            else
                BAD("invalid chunk extension");
            break;
        case S_EXT_VAL_BWS:
            if (ch == ';')
                c->state = S_EXT_NAME0;
            else if (!is_bws(ch))
                BAD("invalid chunk extension");
            break;
        case S_SIZE_LF:
            if (ch != '\n')
                BAD("bare CR in chunk size line");
            c->line_len = 0;
            if (c->size > c->max_body - c->total) {
                c->why = "request body too large";
                rc = SRV_ETOOLARGE;
                goto out;
            }
            c->total += c->size;
            c->ndigits = 0;
            c->state = c->size == 0 ? S_TRAILER0 : S_DATA;
            break;
        case S_DATA_CR:
            if (ch != '\r')
                BAD("missing CRLF after chunk data");
            c->state = S_DATA_LF;
            break;
        case S_DATA_LF:
            if (ch != '\n')
                BAD("missing CRLF after chunk data");
            c->state = S_SIZE_FIRST;
            c->line_len = 0;
            break;
        case S_TRAILER0:
            if (ch == '\r') {
                c->state = S_FINAL_LF;
            } else if (srv_http_is(ch, SRV_CH_TCHAR)) {
                c->name[0] = (char)(ch >= 'A' && ch <= 'Z' ? ch | 0x20 : ch);
                c->name_len = 1;
                c->state = S_TRAILER_NAME;
            } else {
                BAD("invalid trailer field");
            }
            break;
        case S_TRAILER_NAME:
            if (ch == ':') {
                if (trailer_forbidden(c))
                    BAD("forbidden trailer field");
                c->state = S_TRAILER_VALUE;
            } else if (srv_http_is(ch, SRV_CH_TCHAR)) {
                if (c->name_len < sizeof(c->name))
                    c->name[c->name_len] = (char)(ch >= 'A' && ch <= 'Z' ? ch | 0x20 : ch);
                c->name_len++;
            } else {
                BAD("invalid trailer field");
            }
            break;
        case S_TRAILER_VALUE:
            if (ch == '\r')
                c->state = S_TRAILER_LF;
            else if (!srv_http_is(ch, SRV_CH_VALUE))
                BAD("control character in trailer field");
            break;
        case S_TRAILER_LF:
            if (ch != '\n')
                BAD("bare CR in trailer field");
            c->line_len = 0;
            c->state = S_TRAILER0;
            break;
        case S_FINAL_LF:
            if (ch != '\n')
                BAD("missing final CRLF");
            c->state = S_DONE;
            break;
        default:
            BAD("decoder misuse");
        }
    }
    if (c->state == S_DONE)
        rc = 1;
out:
    if (rc < 0)
        c->state = S_ERROR;
    *consumed = i;
    *produced = out;
    return rc;
#undef BAD
}
