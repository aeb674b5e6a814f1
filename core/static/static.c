/* static.c: `static`: answering GET and HEAD for files from the loop
 * thread: 200 with the file (sent with sendfile by the connection), or
 * 304 when the client's copy is current (If-None-Match, else
 * If-Modified-Since). */
#include "static/static.h"

#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "http/chars.h"
#include "http/date.h"
#include "http/fields.h"
#include "http/response.h"
#include "platform.h"
#include "util/alloc.h"
#include "util/log.h"

/* st_mode's file type bits: the same on POSIX systems and in the C runtime
 * of Windows, which libuv's uv_stat_t passes on. */
#define SRV_MODE_TYPE    0170000
#define SRV_MODE_REGULAR 0100000

/* The longest file name srv maps a path to. */
#define SRV_STATIC_NAME_MAX 4096

static int is_absolute(const char *p)
{
    /* "/x", and on Windows "\x" and "C:..." */
    return p[0] == '/' || p[0] == '\\' ||
           (((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') && p[1] == ':');
}

/* The directory srv started in: a relative chdir is relative to it, and a
 * relative `static` directory to chdir. It is noted before the app loads
 * (and a WSGI app's chdir changes the working directory), and workers
 * forked later inherit it. */
static char g_start_dir[4096];

static void note_start_dir(void)
{
    size_t n = sizeof(g_start_dir);

    if (g_start_dir[0] == '\0' && uv_cwd(g_start_dir, &n) != 0)
        g_start_dir[0] = '\0';
}

/* Writes the directory of a `static` item into out: dir itself when it is
 * absolute, else under chdir, under the start directory. Returns 0, or -1
 * when it does not fit. */
static int full_dir(const srv_config_t *cfg, const char *dir, char *out, size_t cap)
{
    const char *cd = SRV_CFG_STR(cfg, chdir);
    int n;

    note_start_dir();
    if (is_absolute(dir))
        n = snprintf(out, cap, "%s", dir);
    else if (cd[0] != '\0' && is_absolute(cd))
        n = snprintf(out, cap, "%s/%s", cd, dir);
    else if (cd[0] != '\0')
        n = snprintf(out, cap, "%s/%s/%s", g_start_dir, cd, dir);
    else
        n = snprintf(out, cap, "%s/%s", g_start_dir, dir);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Whether dir is a directory; 0 or a libuv error. */
static int stat_dir(const char *dir)
{
    uv_fs_t req;
    int r = uv_fs_stat(NULL, &req, dir, NULL);

    if (r == 0 && (req.statbuf.st_mode & SRV_MODE_TYPE) != 0040000)
        r = UV_ENOTDIR;
    uv_fs_req_cleanup(&req);
    return r;
}

/* The directory of a `static` item, in full, into full[4096], and its
 * prefix's length. Returns 0 when it is a directory, else a libuv error
 * (UV_EINVAL for an item that is no /PREFIX=DIRECTORY, which setting it
 * refused). */
static int item_dir(const srv_config_t *cfg, const char *item, size_t *plen, char *full)
{
    const char *dir, *why;

    full[0] = '\0';
    if (srv_static_mount_parse(item, plen, &dir, &why) != 0)
        return UV_EINVAL;
    return full_dir(cfg, dir, full, 4096) == 0 ? stat_dir(full) : UV_ENAMETOOLONG;
}

int srv_static_check_dirs(const srv_config_t *cfg, char *err, size_t errlen)
{
    const srv_cval_t *v = &cfg->v[SRV_K_static];
    size_t i, plen;

    for (i = 0; i < v->nlist; i++) {
        char where[300], full[4096];
        int r = item_dir(cfg, v->list[i], &plen, full);

        if (r != 0 && r != UV_EINVAL) {
            snprintf(
                err, errlen, "%s: static = %s: the directory %s: %s",
                srv_config_where_str(&cfg->where[SRV_K_static], SRV_K_static, where, sizeof(where)),
                v->list[i], full, uv_strerror(r));
            return -1;
        }
    }
    return 0;
}

int srv_static_open(srv_static_t *st, const srv_config_t *cfg, int quiet)
{
    const srv_cval_t *v = &cfg->v[SRV_K_static];
    size_t i;

    st->mounts = NULL;
    st->n = 0;
    st->precompressed = (int)SRV_CFG_INT(cfg, static_precompressed);
    st->max_age = SRV_CFG_INT(cfg, static_max_age);
    if (v->nlist == 0)
        return 0;
    st->mounts = srv_calloc(v->nlist, sizeof(*st->mounts));
    if (st->mounts == NULL)
        return SRV_ENOMEM;
    for (i = 0; i < v->nlist; i++) {
        srv_static_mount_t *m = &st->mounts[i];
        char full[4096];
        uv_fs_t req;
        size_t plen;
        int r = item_dir(cfg, v->list[i], &plen, full);

        if (r == 0) {
            r = uv_fs_realpath(NULL, &req, full, NULL);
            if (r == 0)
                m->root = srv_strdup((const char *)req.ptr);
            uv_fs_req_cleanup(&req);
        }
        if (r != 0) {
            srv_log_error("static = %s: the directory %s: %s", v->list[i], full, uv_strerror(r));
            srv_static_close(st);
            return SRV_ECONFIG;
        }
        m->prefix = srv_strndup(v->list[i], plen);
        st->n = i + 1;
        if (m->root == NULL || m->prefix == NULL) {
            srv_static_close(st);
            return SRV_ENOMEM;
        }
        m->prefix_len = plen;
        m->root_len = strlen(m->root);
        while (m->root_len > 1 &&
               (m->root[m->root_len - 1] == '/' || m->root[m->root_len - 1] == '\\'))
            m->root_len--; /* "C:\" */
        if (!quiet)
            srv_log_info("Serving %s from %.*s", m->prefix, (int)m->root_len, m->root);
    }
    return 0;
}

void srv_static_close(srv_static_t *st)
{
    size_t i;

    for (i = 0; i < st->n; i++) {
        srv_free((char *)st->mounts[i].prefix);
        srv_free((char *)st->mounts[i].root);
    }
    srv_free(st->mounts);
    st->mounts = NULL;
    st->n = 0;
}

static const srv_str_t *find_header(const srv_request_t *v, const char *lname)
{
    return srv_http_find_field(v->headers, v->nheaders, lname);
}

/* Opens name if it is a regular file: returns its descriptor with its size
 * and modification time, or -1. */
static int open_regular(const char *name, int64_t *size, int64_t *mtime)
{
    uv_fs_t req;
    int fd = uv_fs_open(NULL, &req, name, UV_FS_O_RDONLY, 0, NULL), r;

    uv_fs_req_cleanup(&req);
    if (fd < 0)
        return -1;
    r = uv_fs_fstat(NULL, &req, fd, NULL);
    *size = (int64_t)req.statbuf.st_size;
    *mtime = (int64_t)req.statbuf.st_mtim.tv_sec;
    uv_fs_req_cleanup(&req);
    if (r != 0 || (req.statbuf.st_mode & SRV_MODE_TYPE) != SRV_MODE_REGULAR) {
        srv_plat_fd_close(fd);
        return -1;
    }
    return fd;
}

/* Whether If-Range, if the request has one, lets a Range apply: an
 * entity tag equal to etag (strong comparison), or a date equal to the
 * modification time (RFC 9110 13.1.5). */
static int if_range_holds(const srv_request_t *v, const char *etag, size_t elen, int64_t mtime)
{
    const srv_str_t *h = find_header(v, "if-range");
    int64_t t;

    if (h == NULL)
        return 1;
    if (h->len > 0 && (h->p[0] == '"' || h->p[0] == 'W'))
        return h->len == elen && memcmp(h->p, etag, elen) == 0;
    return srv_http_date_parse(h->p, h->len, &t) == 0 && t == mtime;
}

int srv_static_answer(const srv_static_t *st, const srv_request_t *v, int is_head, int keep_alive,
                      char *head, srv_static_answer_t *a)
{
    static const char *const codings[2][2] = {{"br", ".br"}, {"gzip", ".gz"}};
    char name[SRV_STATIC_NAME_MAX], etag[40], date[SRV_HTTP_DATE_LEN];
    const srv_str_t *ae, *rg;
    const char *type, *coding = NULL, *reason;
    srv_http_plan_t plan;
    int64_t size, mtime, off = 0, count;
    size_t n = 0, elen, nl, i;
    int fd, fresh;

    if (st->n == 0 || (!is_head && !(v->method.len == 3 && memcmp(v->method.p, "GET", 3) == 0)))
        return 0;
    /* Room for a ".gz" or ".br" after the name. */
    if (srv_static_map(st->mounts, st->n, v->path.p, v->path.len, name, sizeof(name) - 3) < 0)
        return 0;
    fd = open_regular(name, &size, &mtime);
    if (fd < 0)
        return 0; /* missing, not readable, not a file: the app answers (404) */
    type = srv_static_type(name, strlen(name));
    ae = st->precompressed ? find_header(v, "accept-encoding") : NULL;
    nl = strlen(name);
    for (i = 0; ae != NULL && i < 2 && coding == NULL; i++) {
        int64_t zsize, zmtime;
        int zfd;

        if (!srv_static_accepts(ae->p, ae->len, codings[i][0]))
            continue;
        memcpy(name + nl, codings[i][1], 4);
        zfd = open_regular(name, &zsize, &zmtime);
        if (zfd >= 0) {
            srv_plat_fd_close(fd);
            fd = zfd;
            size = zsize;
            mtime = zmtime;
            coding = codings[i][0];
        }
    }

    /* A strong validator from what nginx uses: modification time and size. */
    elen = (size_t)snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)mtime,
                            (unsigned long long)size);
    fresh = srv_http_not_modified(v->headers, v->nheaders, etag, elen, mtime);

    a->status = fresh ? 304 : 200;
    count = size;
    /* A range of a GET (HEAD and 304 send no body to cut). */
    if (!fresh && !is_head && (rg = find_header(v, "range")) != NULL &&
        if_range_holds(v, etag, elen, mtime)) {
        int r = srv_static_range(rg->p, rg->len, size, &off, &count);

        if (r != 0)
            a->status = r > 0 ? 206 : 416;
        if (r < 0)
            count = 0;
    }
    /* A 304 repeats the validators, not the length (nginx does the same). */
    srv_http_plan(a->status, v->version_minor, is_head, fresh ? -1 : count, count, keep_alive,
                  &plan);
    reason = srv_http_reason(a->status);
    n += srv_http_put_status_line(head + n, a->status, reason, strlen(reason));
    n += srv_http_put_date_line(head + n);
    if (a->status == 200 || a->status == 206)
        n += (size_t)snprintf(head + n, SRV_STATIC_HEAD_MAX - n,
                              "Content-Type: %s\r\nAccept-Ranges: bytes\r\n", type);
    if (a->status == 206)
        n += (size_t)snprintf(head + n, SRV_STATIC_HEAD_MAX - n,
                              "Content-Range: bytes %lld-%lld/%lld\r\n", (long long)off,
                              (long long)(off + count - 1), (long long)size);
    else if (a->status == 416)
        n += (size_t)snprintf(head + n, SRV_STATIC_HEAD_MAX - n, "Content-Range: bytes */%lld\r\n",
                              (long long)size);
    if (coding != NULL && !fresh)
        n +=
            (size_t)snprintf(head + n, SRV_STATIC_HEAD_MAX - n, "Content-Encoding: %s\r\n", coding);
    /* A 304 says what the 200 would (RFC 9110 15.4.5). */
    if (st->max_age > 0 && a->status != 416)
        n += (size_t)snprintf(head + n, SRV_STATIC_HEAD_MAX - n,
                              "Cache-Control: public, max-age=%lld\r\n", (long long)st->max_age);
    if (st->precompressed) /* what is sent depends on Accept-Encoding */
        n += (size_t)snprintf(head + n, SRV_STATIC_HEAD_MAX - n, "Vary: Accept-Encoding\r\n");
    srv_http_date_format(mtime, date);
    n += (size_t)snprintf(head + n, SRV_STATIC_HEAD_MAX - n, "Last-Modified: %.*s\r\nETag: %s\r\n",
                          SRV_HTTP_DATE_LEN, date, etag);
    n += srv_http_put_framing(head + n, &plan, v->version_minor);
    a->head_len = n;
    a->keep_alive = plan.keep_alive;
    a->offset = off;
    a->size = count;
    a->fd = -1;
    if (plan.mode == SRV_BODY_LENGTH && !is_head && count > 0)
        a->fd = fd;
    else
        srv_plat_fd_close(fd);
    return 1;
}
