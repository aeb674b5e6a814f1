/* parser.c: the strict request-head parser (see parser.h). */
#include "http/parser.h"

#include <string.h>

#include "http/chars.h"
#include "util/num.h"

#define FAIL(out, code, text)                                                                      \
    do {                                                                                           \
        (out)->status = (code);                                                                    \
        (out)->why = (text);                                                                       \
        return SRV_EPROTO;                                                                         \
    } while (0)

static srv_str_t slice(const char *p, size_t len)
{
    srv_str_t s;

    s.p = p;
    s.len = len;
    return s;
}

/* ---- The request line ------------------------------------------------- */

/* Parses "HTTP/d.d" exactly. Returns the minor version (0 or 1), or
 * SRV_EPROTO with the status set: 505 for a well-formed version other than
 * 1.x, 400 for anything else. */
static int parse_version(const char *p, size_t len, srv_http_head_t *out)
{
    if (len != 8 || memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
        p[7] < '0' || p[7] > '9')
        FAIL(out, 400, "malformed HTTP version");
    if (p[5] != '1')
        FAIL(out, 505, "HTTP version not supported");
    return p[7] == '0' ? 0 : 1;
}

/* Splits an absolute-form target "scheme://authority/path?query". */
static int parse_absolute(const char *p, size_t len, srv_http_head_t *out)
{
    size_t i = 0, auth, end;

    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ); only http(s)
     * makes sense for an origin server. */
    while (i < len && p[i] != ':')
        i++;
    if (!(srv_http_ieq(p, i, "http") || srv_http_ieq(p, i, "https")))
        FAIL(out, 400, "invalid request target");
    if (len - i < 3 || p[i + 1] != '/' || p[i + 2] != '/')
        FAIL(out, 400, "invalid request target");
    auth = i + 3;
    end = auth;
    while (end < len && p[end] != '/' && p[end] != '?')
        end++;
    /* RFC 9110 4.2.4: userinfo in an http(s) URI is an error. */
    if (memchr(p + auth, '@', end - auth) != NULL || end == auth ||
        !srv_http_host_valid(p + auth, end - auth))
        FAIL(out, 400, "invalid authority in request target");
    out->host = slice(p + auth, end - auth);
    i = end;
    while (i < len && p[i] != '?')
        i++;
    out->path = slice(p + end, i - end);
    out->query = i < len ? slice(p + i + 1, len - i - 1) : slice(p + len, 0);
    return 0;
}

/* Parses and checks the request line line[0..len) (without CRLF). */
static int parse_request_line(const char *line, size_t len, srv_http_head_t *out)
{
    size_t i = 0, t0, t1;
    const char *t;
    int minor;

    while (i < len && srv_http_is(line[i], SRV_CH_TCHAR))
        i++;
    if (i == 0 || i == len || line[i] != ' ')
        FAIL(out, 400, "invalid method");
    out->method = slice(line, i);
    t0 = ++i;
    while (i < len && srv_http_is(line[i], SRV_CH_TARGET))
        i++;
    t1 = i;
    if (t1 == t0)
        FAIL(out, 400, "empty request target");
    if (i == len || line[i] != ' ')
        FAIL(out, 400,
             i < len && line[i] != ' ' ? "control character in request target"
                                       : "malformed request line");
    i++;
    minor = parse_version(line + i, len - i, out);
    if (minor < 0)
        return minor;
    out->version_minor = minor;

    t = line + t0;
    out->target = slice(t, t1 - t0);
    out->path = slice(t, 0);
    out->query = slice(t + (t1 - t0), 0);
    out->host = slice(t, 0);
    if (t[0] == '/') {
        size_t q = 0;

        out->form = SRV_FORM_ORIGIN;
        while (q < t1 - t0 && t[q] != '?')
            q++;
        out->path = slice(t, q);
        if (q < t1 - t0)
            out->query = slice(t + q + 1, t1 - t0 - q - 1);
    } else if (t1 - t0 == 1 && t[0] == '*') {
        out->form = SRV_FORM_ASTERISK;
    } else if (out->method.len == 7 && memcmp(out->method.p, "CONNECT", 7) == 0) {
        out->form = SRV_FORM_AUTHORITY;
        if (!srv_http_host_valid(t, t1 - t0) || memchr(t, ':', t1 - t0) == NULL ||
            t[t1 - t0 - 1] == ':')
            FAIL(out, 400, "invalid authority-form target");
        out->host = slice(t, t1 - t0);
    } else {
        int rc;

        out->form = SRV_FORM_ABSOLUTE;
        rc = parse_absolute(t, t1 - t0, out);
        if (rc != 0)
            return rc;
    }

    /* Methods are case-sensitive (RFC 9110 9.1): only "CONNECT" is CONNECT
     * and only "OPTIONS" may use the asterisk. */
    {
        int is_connect = out->method.len == 7 && memcmp(out->method.p, "CONNECT", 7) == 0;
        int is_options = out->method.len == 7 && memcmp(out->method.p, "OPTIONS", 7) == 0;

        if (out->form == SRV_FORM_ASTERISK && !is_options)
            FAIL(out, 400, "asterisk-form target outside OPTIONS");
        if (is_connect && out->form != SRV_FORM_AUTHORITY)
            FAIL(out, 400, "CONNECT needs an authority-form target");
        if (!is_connect && out->form == SRV_FORM_AUTHORITY)
            FAIL(out, 400, "authority-form target outside CONNECT");
    }
    return 0;
}

int srv_http_host_valid(const char *p, size_t len)
{
    size_t i = 0, digits;

    if (len > 0 && p[0] == '[') {
        /* IP-literal: hex digits, ':' and '.' (for v4-in-v6) inside []. */
        for (i = 1; i < len && p[i] != ']'; i++)
            if (!(srv_http_is(p[i], SRV_CH_HEX) || p[i] == ':' || p[i] == '.'))
                return 0;
        if (i == len || i == 1)
            return 0;
        i++;
    } else {
        for (; i < len && p[i] != ':'; i++) {
            if (!srv_http_is(p[i], SRV_CH_HOST))
                return 0;
            if (p[i] == '%' && (i + 2 >= len || !srv_http_is(p[i + 1], SRV_CH_HEX) ||
                                !srv_http_is(p[i + 2], SRV_CH_HEX)))
                return 0;
        }
    }
    if (i == len)
        return 1;
    if (p[i] != ':')
        return 0;
    for (digits = 0, i++; i < len; i++, digits++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return digits <= 5;
}

/* ---- Header fields ----------------------------------------------------- */

/* Content-Length = 1*DIGIT, nothing else: no sign, no list, no "0x", and
 * the value must fit in int64_t. */
static int parse_content_length(const char *p, size_t len, int64_t *out)
{
    return srv_parse_decimal_n(p, len, INT64_MAX, out) == 0 ? 0 : -1;
}

/* Walks a comma-separated list, calling fn(element) with OWS trimmed.
 * Returns -1 on an empty element (strict: ",chunked" and "a,,b" are
 * rejected), else the first nonzero fn result or 0. */
typedef int (*list_fn)(const char *p, size_t len, void *arg);

static int for_each_element(const char *p, size_t len, list_fn fn, void *arg)
{
    size_t pos = 0, n;
    const char *el;

    while (srv_http_list_next(p, len, &pos, &el, &n)) {
        int rc;

        if (n == 0)
            return -1;
        rc = fn(el, n, arg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int connection_element(const char *p, size_t len, void *arg)
{
    unsigned *flags = arg;

    if (!srv_http_is_token(p, len))
        return -1;
    if (srv_http_ieq(p, len, "close"))
        *flags |= SRV_HEAD_CONN_CLOSE;
    else if (srv_http_ieq(p, len, "keep-alive"))
        *flags |= SRV_HEAD_CONN_KEEPALIVE;
    return 0;
}

typedef struct te_state_s {
    int chunked;      /* times "chunked" was seen */
    int other;        /* other codings seen */
    int last_chunked; /* the last element so far is "chunked" */
} te_state_t;

static int te_element(const char *p, size_t len, void *arg)
{
    te_state_t *te = arg;

    if (!srv_http_is_token(p, len))
        return -1; /* also rejects parameters: chunked takes none */
    if (srv_http_ieq(p, len, "chunked")) {
        te->chunked++;
        te->last_chunked = 1;
    } else {
        te->other++;
        te->last_chunked = 0;
    }
    return 0;
}

/* Checks a field line (name ':' OWS value OWS) and slices it. The line is
 * line[0..len), without CRLF; the scanner already rejected CR and LF in it.
 * Shared with the chunked decoder's trailer parsing. */
int srv__http_parse_field(const char *line, size_t len, srv_header_t *h, const char **why);

int srv__http_parse_field(const char *line, size_t len, srv_header_t *h, const char **why)
{
    size_t i = 0, a, b;

    if (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
        *why = "obsolete line folding";
        return -1;
    }
    while (i < len && srv_http_is(line[i], SRV_CH_TCHAR))
        i++;
    if (i == len || line[i] != ':') {
        *why = i < len && (line[i] == ' ' || line[i] == '\t') ? "whitespace before colon"
                                                              : "invalid header name";
        return -1;
    }
    if (i == 0) {
        *why = "empty header name";
        return -1;
    }
    h->name = slice(line, i);
    a = i + 1;
    b = len;
    while (a < b && (line[a] == ' ' || line[a] == '\t'))
        a++;
    while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t'))
        b--;
    for (i = a; i < b; i++) {
        if (!srv_http_is(line[i], SRV_CH_VALUE)) {
            *why = "control character in header value";
            return -1;
        }
    }
    h->value = slice(line + a, b - a);
    return 0;
}

/* Applies what srv itself needs to know from one field. */
static int apply_field(const srv_header_t *h, srv_http_head_t *out, te_state_t *te, unsigned *seen)
{
    const char *n = h->name.p;
    size_t nl = h->name.len;

    enum { SEEN_CL = 1, SEEN_TE = 2, SEEN_CT = 4 };

    switch (nl) {
    case 4:
        if (srv_http_ieq(n, nl, "host")) {
            if (out->flags & SRV_HEAD_HAS_HOST)
                FAIL(out, 400, "duplicate Host header");
            if (!srv_http_host_valid(h->value.p, h->value.len))
                FAIL(out, 400, "invalid Host header");
            out->flags |= SRV_HEAD_HAS_HOST;
            if (out->form != SRV_FORM_ABSOLUTE && out->form != SRV_FORM_AUTHORITY)
                out->host = h->value;
        }
        break;
    case 6:
        if (srv_http_ieq(n, nl, "expect")) {
            if (out->version_minor == 0)
                break; /* HTTP/1.0 has no 100-continue: ignore it */
            if (!srv_http_ieq(h->value.p, h->value.len, "100-continue")) {
                out->status = 417;
                out->why = "unsupported expectation";
                return SRV_EPROTO;
            }
            out->flags |= SRV_HEAD_EXPECT_CONTINUE;
        }
        break;
    case 10:
        if (srv_http_ieq(n, nl, "connection") && h->value.len > 0) {
            /* An empty Connection list is allowed (RFC 9110 5.6.1). */
            if (for_each_element(h->value.p, h->value.len, connection_element, &out->flags) != 0)
                FAIL(out, 400, "invalid Connection header");
        }
        break;
    case 12:
        if (srv_http_ieq(n, nl, "content-type")) {
            if (*seen & SEEN_CT)
                FAIL(out, 400, "duplicate Content-Type header");
            *seen |= SEEN_CT;
        }
        break;
    case 14:
        if (srv_http_ieq(n, nl, "content-length")) {
            if (*seen & SEEN_CL)
                FAIL(out, 400, "duplicate Content-Length header");
            *seen |= SEEN_CL;
            if (parse_content_length(h->value.p, h->value.len, &out->content_length) != 0)
                FAIL(out, 400, "invalid Content-Length header");
        }
        break;
    case 17:
        if (srv_http_ieq(n, nl, "transfer-encoding")) {
            *seen |= SEEN_TE;
            if (for_each_element(h->value.p, h->value.len, te_element, te) != 0)
                FAIL(out, 400, "invalid Transfer-Encoding header");
        }
        break;
    default:
        break;
    }
    return 0;
}

/* Parses the complete head buf[start..end) after the request line was
 * checked: field lines, then the framing rules that need all of them. */
static int parse_fields(const char *buf, size_t start, size_t end, const srv_http_limits_t *lim,
                        srv_http_head_t *out)
{
    te_state_t te = {0, 0, 0};
    unsigned seen = 0;
    size_t pos = start;

    while (pos < end) {
        const char *line = buf + pos;
        const char *eol = memchr(line, '\r', end - pos);
        size_t len = (size_t)(eol - line);
        srv_header_t h;
        const char *why = NULL;
        int rc;

        if (len == 0)
            break; /* the empty line that ends the head */
        if (srv__http_parse_field(line, len, &h, &why) != 0)
            FAIL(out, 400, why);
        rc = apply_field(&h, out, &te, &seen);
        if (rc != 0)
            return rc;
        /* Names with '_' would collide with '-' once mapped into a CGI/WSGI
         * environ (HTTP_X_AUTH_USER): drop them, as gunicorn does. */
        if (memchr(h.name.p, '_', h.name.len) == NULL) {
            if (out->nheaders >= lim->max_fields)
                FAIL(out, 431, "too many header fields");
            out->headers[out->nheaders++] = h;
        }
        pos += len + 2;
    }

    if (te.chunked || te.other) {
        if (out->version_minor == 0)
            FAIL(out, 400, "Transfer-Encoding on HTTP/1.0");
        if (out->content_length >= 0)
            FAIL(out, 400, "both Transfer-Encoding and Content-Length");
        if (!te.last_chunked || te.chunked > 1)
            FAIL(out, 400, "chunked is not the single final transfer coding");
        if (te.other) {
            out->status = 501;
            out->why = "unsupported transfer coding";
            return SRV_EPROTO;
        }
        out->flags |= SRV_HEAD_CHUNKED;
    }
    if (out->version_minor >= 1 && !(out->flags & SRV_HEAD_HAS_HOST))
        FAIL(out, 400, "missing Host header");
    return 0;
}

/* ---- Scanning and the entry point -------------------------------------- */

/* Checks one byte of a request line that has not ended yet, so that bytes no
 * request line can hold (a TLS handshake, binary junk) fail at once instead
 * of after the header timeout. The full check runs when the line is complete. */
static int check_request_line_byte(srv_http_scan_t *st, unsigned char c, srv_http_head_t *out)
{
    static const char version[] = "HTTP/d.d";

    if (c == ' ') {
        if (st->rl_part == 2 || st->rl_part_len == 0)
            FAIL(out, 400, "malformed request line");
        st->rl_part++;
        st->rl_part_len = 0;
        return 0;
    }
    switch (st->rl_part) {
    case 0:
        if (!srv_http_is(c, SRV_CH_TCHAR))
            FAIL(out, 400, "invalid method");
        break;
    case 1:
        if (!srv_http_is(c, SRV_CH_TARGET))
            FAIL(out, 400, "control character in request target");
        break;
    default:
        if (st->rl_part_len >= 8 ||
            (version[st->rl_part_len] == 'd' ? (c < '0' || c > '9')
                                             : c != (unsigned char)version[st->rl_part_len]))
            FAIL(out, 400, "malformed HTTP version");
        break;
    }
    st->rl_part_len++;
    return 0;
}

int srv_http_parse_request(srv_http_scan_t *st, const char *buf, size_t len,
                           const srv_http_limits_t *lim, srv_http_head_t *out)
{
    size_t pos = st->pos;

    while (pos < len) {
        unsigned char c = (unsigned char)buf[pos];
        size_t linelen;

        if (c != '\r' && c != '\n') {
            if (!st->in_head && check_request_line_byte(st, c, out) != 0)
                return SRV_EPROTO;
            pos++;
            continue;
        }
        if (c == '\n')
            FAIL(out, 400, "bare LF line ending");
        if (pos + 1 == len)
            break; /* CR at the end of what arrived: wait for its LF */
        if (buf[pos + 1] != '\n')
            FAIL(out, 400, "bare CR in head");
        linelen = pos - st->line_start;
        pos += 2;
        if (!st->in_head) {
            if (linelen == 0) {
                /* RFC 9112 2.2: ignore empty lines before the request line. */
                st->line_start = pos;
                continue;
            }
            if (linelen > lim->max_line)
                FAIL(out, 414, "request line too long");
            if (parse_request_line(buf + st->line_start, linelen, out) != 0)
                return SRV_EPROTO;
            st->in_head = 1;
            st->line_start = pos;
            st->fields_start = pos;
            continue;
        }
        if (linelen == 0) {
            int rc;

            if (pos > lim->max_head)
                FAIL(out, 431, "request head too large");
            st->pos = pos;
            out->nheaders = 0;
            out->content_length = -1;
            out->flags = 0;
            rc = parse_fields(buf, st->fields_start, pos, lim, out);
            if (rc != 0)
                return rc;
            out->head_len = pos;
            return (int)pos;
        }
        if (linelen > lim->max_field)
            FAIL(out, 431, "header field too long");
        if (++st->nfields > lim->max_fields)
            FAIL(out, 431, "too many header fields");
        st->line_start = pos;
    }
    st->pos = pos;

    /* Incomplete: fail now if no ending can bring it within the limits. */
    if (!st->in_head && pos - st->line_start > lim->max_line)
        FAIL(out, 414, "request line too long");
    if (st->in_head && pos - st->line_start > lim->max_field)
        FAIL(out, 431, "header field too long");
    if (len >= lim->max_head)
        FAIL(out, 431, "request head too large");
    return SRV_EAGAIN;
}
