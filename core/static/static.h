/* static.h: `static`: the loop thread answers GET and HEAD requests for
 * the files under the directories that `static` mounts, without Python
 * (DESIGN.md: requests the loop can answer itself). A request for
 * anything else under a mount (a missing file, a directory, a hidden
 * file, a path srv does not map) goes to the app as before. */
#ifndef SRV_STATIC_STATIC_H
#define SRV_STATIC_STATIC_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "srv.h"
#include "static/path.h"

typedef struct srv_static_s {
    srv_static_mount_t *mounts; /* owned, with the strings they point at */
    size_t n;
    int precompressed; /* static_precompressed: FILE.br, FILE.gz */
    int64_t max_age;   /* static_max_age: Cache-Control, when above 0 */
} srv_static_t;

/* Builds the mounts of cfg's `static` items, each directory made
 * absolute, and logs them unless quiet. Returns 0 (st->n is 0 when there are none), or SRV_ECONFIG
 * (logged) for a directory that does not exist, or SRV_ENOMEM. */
int srv_static_open(srv_static_t *st, const srv_config_t *cfg, int quiet);
void srv_static_close(srv_static_t *st);

/* Checks that `static` names directories that exist (for
 * srv_config_validate). Returns 0, or -1 with a message in err. */
int srv_static_check_dirs(const srv_config_t *cfg, char *err, size_t errlen);

/* A response head's room. The longest head srv_static_answer() writes is
 * about 500 bytes: the status line (36), Date (37), Content-Type and
 * Accept-Ranges (68), Content-Range (82), Content-Encoding (24),
 * Cache-Control (42), Vary (24), Last-Modified (46), ETag (43) and the
 * framing (SRV_HTTP_FRAMING_MAX, 96). */
#define SRV_STATIC_HEAD_MAX 1024

typedef struct srv_static_answer_s {
    int status;      /* 200, 206, 304 or 416 */
    size_t head_len; /* bytes written into head */
    int fd;          /* -1, or the file whose bytes [offset, offset + size) follow the
                      * head (the caller's to close) */
    int64_t offset;
    int64_t size;   /* the body's length */
    int keep_alive; /* the head promised to keep the connection */
} srv_static_answer_t;

/* Answers v if it is a GET or HEAD for a regular file under a mount
 * (a single Range of a GET gets 206, or 416 past the end):
 * writes the head into head (SRV_STATIC_HEAD_MAX bytes) and, for a GET
 * with a body to send, opens the file. keep_alive: the connection may
 * stay open as far as the client and the server are concerned. Returns
 * 1 with *a filled in, or 0 to leave the request to the app. Loop thread
 * (it opens and reads the file's status as nginx does, synchronously). */
int srv_static_answer(const srv_static_t *st, const srv_request_t *v, int is_head, int keep_alive,
                      char *head, srv_static_answer_t *a);

#endif
