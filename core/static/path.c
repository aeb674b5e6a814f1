/* path.c: `static`: from a request path to a file name, and the file's
 * Content-Type. Whatever this refuses goes to the app, as if `static`
 * were not set, so a refusal never answers anything itself. */
#include "static/path.h"

#include <string.h>

#include "http/chars.h"

/* A byte a prefix may hold: unreserved, sub-delims and the separators
 * of RFC 3986 that need no encoding in a path (no '%', so that the prefix
 * compares with the raw path as sent). */
static int prefix_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

int srv_static_mount_parse(const char *item, size_t *prefix_len, const char **dir, const char **why)
{
    const char *eq = strchr(item, '=');
    size_t n, i, seg = 1;

    if (item[0] != '/' || eq == NULL) {
        *why = "not /PREFIX=DIRECTORY";
        return -1;
    }
    if (eq[1] == '\0') {
        *why = "no directory after '='";
        return -1;
    }
    n = (size_t)(eq - item);
    while (n > 1 && item[n - 1] == '/')
        n--;
    for (i = 1; i <= n; i++) {
        if (i == n || item[i] == '/') {
            size_t sl = i - seg;

            if (n > 1 &&
                (sl == 0 || (item[seg] == '.' && (sl == 1 || (sl == 2 && item[seg + 1] == '.'))))) {
                *why = "the prefix has an empty, '.' or '..' segment";
                return -1;
            }
            seg = i + 1;
        } else if (item[i] == '\0' || !prefix_byte((unsigned char)item[i])) {
            *why = "the prefix holds a byte that needs percent-encoding";
            return -1;
        }
    }
    *prefix_len = n;
    *dir = eq + 1;
    return 0;
}

/* Whether path[0..len) is under prefix: equal to it, or followed by '/'. */
static int under(const srv_static_mount_t *m, const char *path, size_t len)
{
    if (m->prefix_len == 1)
        return len >= 1 && path[0] == '/';
    return len > m->prefix_len && memcmp(path, m->prefix, m->prefix_len) == 0 &&
           path[m->prefix_len] == '/';
}

/* Whether a decoded segment names a device on Windows (CON, NUL, COM1,
 * LPT1.txt...: opening one there opens the device), or ends with a dot or
 * a space (which Windows drops, so another name reaches the file). Refused
 * on every system, so that a site behaves alike on each. */
static int windows_special(const char *s, size_t len)
{
    static const char *const names[] = {"con", "prn", "aux", "nul"};
    size_t base = 0, i;

    if (s[len - 1] == '.' || s[len - 1] == ' ')
        return 1;
    while (base < len && s[base] != '.')
        base++;
    for (i = 0; i < 4; i++)
        if (srv_http_ieq(s, base, names[i]))
            return 1;
    return base == 4 && (srv_http_ieq(s, 3, "com") || srv_http_ieq(s, 3, "lpt")) && s[3] >= '0' &&
           s[3] <= '9';
}

/* Decodes one segment, raw[0..len), to out; returns the decoded length or
 * -1 for one srv does not serve. */
static long decode_segment(const char *raw, size_t len, char *out, size_t cap)
{
    size_t i, o = 0;

    if (len == 0)
        return -1;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];

        if (c == '%') {
            if (len - i < 3)
                return -1;
            if (!srv_http_is((unsigned char)raw[i + 1], SRV_CH_HEX) ||
                !srv_http_is((unsigned char)raw[i + 2], SRV_CH_HEX))
                return -1;
            c = (unsigned char)(srv_http_hexval((unsigned char)raw[i + 1]) << 4 |
                                srv_http_hexval((unsigned char)raw[i + 2]));
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == ':')
            return -1;
        if (o == 0 && c == '.')
            return -1; /* ".", "..", and hidden files such as .env or .git */
        if (o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    return windows_special(out, o) ? -1 : (long)o;
}

int srv_static_map(const srv_static_mount_t *m, size_t n, const char *path, size_t len, char *out,
                   size_t cap)
{
    size_t i, best = 0, o, p;
    int found = 0;

    for (i = 0; i < n; i++)
        if (under(&m[i], path, len) && (!found || m[i].prefix_len > m[best].prefix_len)) {
            best = i;
            found = 1;
        }
    if (!found || m[best].root_len + 2 > cap)
        return -1;
    memcpy(out, m[best].root, m[best].root_len);
    o = m[best].root_len;
    /* The rest: "/seg/seg..."; the prefix "/" keeps its slash. */
    p = m[best].prefix_len == 1 ? 0 : m[best].prefix_len;
    while (p < len) {
        size_t s = p + 1, e = s;
        long d;

        while (e < len && path[e] != '/')
            e++;
        out[o++] = '/';
        d = decode_segment(path + s, e - s, out + o, cap - o);
        if (d < 0)
            return -1; /* an empty segment is a directory too: "/a//b", "/a/" */
        o += (size_t)d;
        p = e;
    }
    if (o == m[best].root_len)
        return -1;
    out[o] = '\0';
    return (int)best;
}

int srv_static_accepts(const char *p, size_t len, const char *coding)
{
    int named = -1, star = 0;
    size_t pos = 0, e, t, j;
    const char *s;

    while (srv_http_list_next(p, len, &pos, &s, &e)) {
        int ok = 1;

        for (t = 0; t < e && s[t] != ';' && s[t] != ' ' && s[t] != '\t'; t++)
            ;
        /* Parameters: "q=0", "q=0.0"... refuse; any other q, or none, accepts. */
        for (j = t; j < e; j++) {
            size_t k = j + 1;

            if (s[j] != ';')
                continue;
            while (k < e && (s[k] == ' ' || s[k] == '\t'))
                k++;
            if (k + 1 < e && (s[k] | 0x20) == 'q' && s[k + 1] == '=') {
                ok = 0;
                for (k += 2; k < e && s[k] != ';'; k++)
                    if (s[k] >= '1' && s[k] <= '9')
                        ok = 1;
            }
        }
        if (t == 1 && s[0] == '*')
            star = ok;
        else if (srv_http_ieq(s, t, coding))
            named = ok;
    }
    return named >= 0 ? named : star;
}

/* Reads 1DIGIT up to 18 digits at p[*i..len); returns -1 when there are
 * none or too many. */
static int64_t read_pos(const char *p, size_t len, size_t *i)
{
    int64_t v = 0;
    size_t s = *i;

    while (*i < len && p[*i] >= '0' && p[*i] <= '9') {
        if (*i - s >= 18)
            return -1;
        v = v * 10 + (p[*i] - '0');
        (*i)++;
    }
    return *i > s ? v : -1;
}

int srv_static_range(const char *p, size_t len, int64_t size, int64_t *off, int64_t *n)
{
    size_t i = 6;
    int64_t first = -1, last = -1;

    if (len < 7 || !srv_http_ieq(p, 6, "bytes="))
        return 0;
    if (p[i] == '-') { /* the last N bytes */
        i++;
        last = read_pos(p, len, &i);
        if (last < 0 || i != len)
            return 0;
        if (last == 0 || size == 0)
            return -1;
        *n = last < size ? last : size;
        *off = size - *n;
        return 1;
    }
    first = read_pos(p, len, &i);
    if (first < 0 || i == len || p[i] != '-')
        return 0;
    i++;
    if (i < len) {
        last = read_pos(p, len, &i);
        if (last < 0 || last < first)
            return 0;
    }
    if (i != len)
        return 0; /* several ranges, or trailing bytes */
    if (first >= size)
        return -1;
    if (last < 0 || last >= size)
        last = size - 1;
    *off = first;
    *n = last - first + 1;
    return 1;
}

static const struct {
    const char *ext;
    const char *type;
} g_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/vnd.microsoft.icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"wav", "audio/wav"},
    {"webmanifest", "application/manifest+json"},
};

const char *srv_static_type(const char *name, size_t len)
{
    size_t i = len, k;

    while (i > 0 && name[i - 1] != '.' && name[i - 1] != '/')
        i--;
    /* No extension: no dot, or a dot that starts the name. */
    if (i <= 1 || name[i - 1] != '.' || name[i - 2] == '/')
        return "application/octet-stream";
    for (k = 0; k < sizeof(g_types) / sizeof(g_types[0]); k++)
        if (srv_http_ieq(name + i, len - i, g_types[k].ext))
            return g_types[k].type;
    return "application/octet-stream";
}
