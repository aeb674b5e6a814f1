/* environ.c: the WSGI environ of a request (PEP 3333).
 *
 * Strings are "native strings" holding latin-1-decoded bytes, as PEP 3333
 * says: PATH_INFO is the percent-decoded path, each byte one code point.
 * The keys every request shares are built once into a base dict that each
 * environ starts as a copy of. */
#include <string.h>

#include "http/chars.h"
#include "util/alloc.h"
#include "wsgi/wsgi_int.h"

static int set_str(PyObject *d, const char *key, const char *p, Py_ssize_t n)
{
    PyObject *v = PyUnicode_DecodeLatin1(p, n, NULL); /* new ref */
    int rc;

    if (v == NULL)
        return -1;
    rc = PyDict_SetItemString(d, key, v);
    Py_DECREF(v);
    return rc;
}

static int set_int_str(PyObject *d, const char *key, long long n)
{
    char b[32];
    int len = snprintf(b, sizeof(b), "%lld", n);

    return set_str(d, key, b, len);
}

PyObject *srv__wsgi_base_environ(srv_wsgi_t *w, int multithread, int multiprocess)
{
    PyObject *d = PyDict_New();                      /* new ref */
    PyObject *version = Py_BuildValue("(ii)", 1, 0); /* new ref */

    if (d == NULL || version == NULL)
        goto fail;
    if (PyDict_SetItemString(d, "wsgi.version", version) < 0 ||
        PyDict_SetItemString(d, "wsgi.errors", w->errors_stream) < 0 ||
        PyDict_SetItemString(d, "wsgi.multithread", multithread ? Py_True : Py_False) < 0 ||
        PyDict_SetItemString(d, "wsgi.multiprocess", multiprocess ? Py_True : Py_False) < 0 ||
        PyDict_SetItemString(d, "wsgi.run_once", Py_False) < 0 ||
        PyDict_SetItemString(d, "wsgi.file_wrapper", (PyObject *)&srv__wsgi_file_wrapper_type) <
            0 ||
        PyDict_SetItemString(d, "wsgi.input_terminated", Py_True) < 0 ||
        PyDict_SetItemString(d, "SCRIPT_NAME", w->script_name) < 0)
        goto fail;
    Py_DECREF(version);
    return d;
fail:
    Py_XDECREF(version);
    Py_XDECREF(d);
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes p[0..n) into out (n bytes suffice); a '%' not followed
 * by two hex digits stays as it is. Returns the decoded length. */
static size_t pct_decode(const char *p, size_t n, char *out)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            out[o++] = (char)(hexval(p[i + 1]) << 4 | hexval(p[i + 2]));
            i += 2;
        } else {
            out[o++] = p[i];
        }
    }
    return o;
}

/* PATH_INFO (without SCRIPT_NAME) from the request path. */
static int set_path_info(srv_wsgi_t *w, PyObject *d, const srv_request_t *v)
{
    char stack[1024];
    char *buf = v->path.len <= sizeof(stack) ? stack : srv_malloc(v->path.len);
    size_t n;
    PyObject *path;
    Py_ssize_t sl = PyUnicode_GET_LENGTH(w->script_name);
    int rc;

    if (buf == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    n = pct_decode(v->path.p, v->path.len, buf);
    if (n == 0) {
        buf[0] = '/'; /* an absolute-form target without a path */
        n = 1;
    }
    path = PyUnicode_DecodeLatin1(buf, (Py_ssize_t)n, NULL); /* new ref */
    if (buf != stack)
        srv_free(buf);
    if (path == NULL)
        return -1;
    /* Mounted below SCRIPT_NAME: PATH_INFO is the rest (as gunicorn). */
    if (sl > 0 && PyUnicode_Tailmatch(path, w->script_name, 0, sl, -1) == 1) {
        PyObject *rest = PyUnicode_Substring(path, sl, PyUnicode_GET_LENGTH(path)); /* new */

        Py_DECREF(path);
        if (rest == NULL)
            return -1;
        path = rest;
    }
    rc = PyDict_SetItemString(d, "PATH_INFO", path);
    Py_DECREF(path);
    return rc;
}

/* The environ key of a header: HTTP_ + the name upper-cased, '-' -> '_';
 * Content-Type and Content-Length lose the prefix (CGI). */
static PyObject *header_key(srv_str_t name)
{
    char stack[128];
    char *k = name.len + 5 <= sizeof(stack) ? stack : srv_malloc(name.len + 5);
    size_t i, o = 0;
    PyObject *key;

    if (k == NULL)
        return PyErr_NoMemory();
    if (!srv_http_ieq(name.p, name.len, "content-type") &&
        !srv_http_ieq(name.p, name.len, "content-length")) {
        memcpy(k, "HTTP_", 5);
        o = 5;
    }
    for (i = 0; i < name.len; i++) {
        char c = name.p[i];

        k[o++] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    key = PyUnicode_FromStringAndSize(k, (Py_ssize_t)o); /* new ref; ASCII (a token) */
    if (k != stack)
        srv_free(k);
    return key;
}

static int set_headers(PyObject *d, const srv_request_t *v)
{
    size_t i;

    for (i = 0; i < v->nheaders; i++) {
        const srv_header_t *h = &v->headers[i];
        PyObject *key = header_key(h->name); /* new ref */
        PyObject *val, *old;
        int rc;

        if (key == NULL)
            return -1;
        val = PyUnicode_DecodeLatin1(h->value.p, (Py_ssize_t)h->value.len, NULL); /* new */
        if (val == NULL) {
            Py_DECREF(key);
            return -1;
        }
        old = PyDict_GetItemWithError(d, key); /* borrowed */
        if (old != NULL) {
            /* A repeated field: one comma-separated list (RFC 9110 5.3);
             * cookies are joined with "; " (RFC 9113 8.2.3). */
            int cookie = srv_http_ieq(h->name.p, h->name.len, "cookie");
            PyObject *joined = PyUnicode_FromFormat(cookie ? "%U; %U" : "%U,%U", old, val);

            Py_DECREF(val);
            val = joined;
        } else if (PyErr_Occurred()) {
            Py_DECREF(val);
            val = NULL;
        }
        rc = val ? PyDict_SetItem(d, key, val) : -1;
        Py_XDECREF(val);
        Py_DECREF(key);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* SERVER_NAME and SERVER_PORT: from Host when the client sent one (as
 * gunicorn), else the address the request came in on. */
static int set_server(PyObject *d, const srv_request_t *v)
{
    const char *h = v->host.p;
    size_t n = v->host.len, colon = n;

    if (n == 0) {
        if (set_str(d, "SERVER_NAME", v->server_name, (Py_ssize_t)strlen(v->server_name)) < 0)
            return -1;
        return set_int_str(d, "SERVER_PORT", v->server_port);
    }
    if (h[0] == '[') {
        const char *close = memchr(h, ']', n);

        colon = close ? (size_t)(close - h) + 1 : n;
    } else {
        const char *c = memchr(h, ':', n);

        colon = c ? (size_t)(c - h) : n;
    }
    if (set_str(d, "SERVER_NAME", h, (Py_ssize_t)colon) < 0)
        return -1;
    if (colon + 1 < n)
        return set_str(d, "SERVER_PORT", h + colon + 1, (Py_ssize_t)(n - colon - 1));
    return set_str(d, "SERVER_PORT", "80", 2);
}

PyObject *srv__wsgi_environ(srv_wsgi_t *w, const srv_request_t *v, PyObject *input)
{
    PyObject *d = PyDict_Copy(w->base_environ); /* new ref */

    if (d == NULL)
        return NULL;
    if (set_str(d, "REQUEST_METHOD", v->method.p, (Py_ssize_t)v->method.len) < 0 ||
        set_path_info(w, d, v) < 0 ||
        set_str(d, "QUERY_STRING", v->query.p, (Py_ssize_t)v->query.len) < 0 ||
        set_str(d, "RAW_URI", v->target.p, (Py_ssize_t)v->target.len) < 0 ||
        set_str(d, "SERVER_PROTOCOL", v->version_minor ? "HTTP/1.1" : "HTTP/1.0", 8) < 0 ||
        set_str(d, "REMOTE_ADDR", v->remote_addr, (Py_ssize_t)strlen(v->remote_addr)) < 0 ||
        set_int_str(d, "REMOTE_PORT", v->remote_port) < 0 ||
        set_str(d, "wsgi.url_scheme", v->url_scheme, (Py_ssize_t)strlen(v->url_scheme)) < 0 ||
        PyDict_SetItemString(d, "wsgi.input", input) < 0 || set_server(d, v) < 0 ||
        set_headers(d, v) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}
