/* path.h: `static`: which file a request path names. Pure code: no I/O, no
 * allocation, no OS. */
#ifndef SRV_STATIC_PATH_H
#define SRV_STATIC_PATH_H

#include <stddef.h>
#include <stdint.h>

/* A URL prefix served from a directory. */
typedef struct srv_static_mount_s {
    const char *prefix; /* "/static", or "/" for the whole site; no '/' at the end */
    size_t prefix_len;
    const char *root; /* the directory, with no '/' at the end */
    size_t root_len;
} srv_static_mount_t;

/* Checks a `static` item, "/PREFIX=DIRECTORY". On success, returns 0 with
 * the prefix's length (without a '/' at its end, except for "/") in
 * *prefix_len and the directory in *dir (a pointer into item). Else
 * returns -1 with *why set. */
int srv_static_mount_parse(const char *item, size_t *prefix_len, const char **dir,
                           const char **why);

/* Maps path (a request's path as sent: percent-encoded, no query) to a file
 * under the mount with the longest prefix that path is under. Writes
 * root "/" the decoded rest, NUL-terminated, into out (cap bytes) and
 * returns the mount's index. Returns -1 when the path is under no mount,
 * or names no file srv serves: a directory (the prefix itself, a '/' at
 * the end, an empty segment), a segment that starts with '.' (".", "..",
 * hidden files), a bad or an encoded '/', '\\', ':', NUL or other control
 * byte (which could reach outside the directory on some system), a name
 * Windows keeps for a device (CON, NUL, COM1.txt...) or a name that ends
 * with '.' or ' ' (on every system, so that a site behaves alike), or a
 * result longer than cap. */
int srv_static_map(const srv_static_mount_t *m, size_t n, const char *path, size_t len, char *out,
                   size_t cap);

/* Whether an Accept-Encoding value, p[0..len), accepts coding (lower
 * case; RFC 9110 12.5.3): named with a q above 0, or not named while "*"
 * is, with a q above 0. */
int srv_static_accepts(const char *p, size_t len, const char *coding);

/* Reads a Range value, p[0..len), for a representation of size bytes
 * (RFC 9110 14.2): one range of bytes, "bytes=A-B", "bytes=A-" or
 * "bytes=-N". Returns 1 with the first byte in *off and the count in *n;
 * -1 when it is unsatisfiable (416: every byte of it lies past the end);
 * or 0 to send the whole representation: another unit, several ranges (a
 * server may ignore them), or anything that is no valid range. */
int srv_static_range(const char *p, size_t len, int64_t size, int64_t *off, int64_t *n);

/* The Content-Type for a file name, by its extension (a static string;
 * application/octet-stream when unknown). */
const char *srv_static_type(const char *name, size_t len);

#endif
