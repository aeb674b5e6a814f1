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

static const char *const strings[S_COUNT] = {
    [S_REQUEST_METHOD] = "REQUEST_METHOD",
    [S_PATH_INFO] = "PATH_INFO",
    [S_QUERY_STRING] = "QUERY_STRING",
    [S_RAW_URI] = "RAW_URI",
    [S_SERVER_PROTOCOL] = "SERVER_PROTOCOL",
    [S_REMOTE_ADDR] = "REMOTE_ADDR",
    [S_REMOTE_PORT] = "REMOTE_PORT",
    [S_URL_SCHEME] = "wsgi.url_scheme",
    [S_INPUT] = "wsgi.input",
    [S_SERVER_NAME] = "SERVER_NAME",
    [S_SERVER_PORT] = "SERVER_PORT",
    [S_HTTP_1_0] = "HTTP/1.0",
    [S_HTTP_1_1] = "HTTP/1.1",
    [S_CLOSE] = "close",
    [S_WRITE] = "write",
};

int srv__wsgi_strings_make(srv_wsgi_t *w)
{
    int i;

    for (i = 0; i < S_COUNT; i++) {
        w->str[i] = PyUnicode_InternFromString(strings[i]);
        if (w->str[i] == NULL)
            return -1;
    }
    return 0;
}

void srv__wsgi_strings_free(srv_wsgi_t *w)
{
    int i;

    for (i = 0; i < S_COUNT; i++)
        Py_CLEAR(w->str[i]);
    for (i = 0; i < SRV_WSGI_KEYS; i++) {
        Py_CLEAR(w->keys[i].key);
        Py_CLEAR(w->keys[i].value);
    }
}

static int set_str(PyObject *d, PyObject *key, const char *p, Py_ssize_t n)
{
    PyObject *v = PyUnicode_DecodeLatin1(p, n, NULL); /* new ref */
    int rc;

    if (v == NULL)
        return -1;
    rc = PyDict_SetItem(d, key, v);
    Py_DECREF(v);
    return rc;
}

/* A port number as a string (snprintf costs more than the rest of it). */
static int set_port_str(PyObject *d, PyObject *key, unsigned port)
{
    char b[8], *p = b + sizeof(b);

    do
        *--p = (char)('0' + port % 10);
    while ((port /= 10) != 0 && p > b);
    return set_str(d, key, p, b + sizeof(b) - p);
}

PyObject *srv__wsgi_base_environ(srv_wsgi_t *w, int multithread, int multiprocess)
{
    PyObject *d = PyDict_New();                      /* new ref */
    PyObject *version = Py_BuildValue("(ii)", 1, 0); /* new ref */
    int i;

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
    /* The keys srv__wsgi_environ() sets on every request, for now without
     * a value: each environ copied from here has room for them and their
     * place, and only replaces the values. */
    for (i = 0; i <= S_SERVER_PORT; i++)
        if (PyDict_SetItem(d, w->str[i], Py_None) < 0)
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
    rc = PyDict_SetItem(d, w->str[S_PATH_INFO], path);
    Py_DECREF(path);
    return rc;
}

/* The environ key of a header: HTTP_ + the name upper-cased, '-' -> '_';
 * Content-Type and Content-Length lose the prefix (CGI). */
static PyObject *make_header_key(srv_str_t name)
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

/* The cache entry of a header name as the client sent it (most clients
 * send the same names, in the same case, on every request), or NULL when
 * the name is too long to keep. An entry found empty or taken by another
 * name is set to this one (and its value forgotten). */
static srv_wsgi_key_t *field_entry(srv_wsgi_t *w, srv_str_t name)
{
    uint32_t hash = 2166136261u;
    srv_wsgi_key_t *k, *alt;
    size_t i;

    if (name.len > SRV_WSGI_KEY_MAXLEN)
        return NULL;
    for (i = 0; i < name.len; i++)
        hash = (hash ^ (uint8_t)name.p[i]) * 16777619u;
    /* Two places a name may be kept in, so that two names of one request
     * rarely push each other out. */
    k = &w->keys[hash % SRV_WSGI_KEYS];
    alt = &w->keys[(hash >> 16) % SRV_WSGI_KEYS];
    if (k->key != NULL && k->len == name.len && memcmp(k->name, name.p, name.len) == 0)
        return k;
    if (alt->key != NULL && alt->len == name.len && memcmp(alt->name, name.p, name.len) == 0)
        return alt;
    if (k->key != NULL && alt->key == NULL)
        k = alt;
    Py_CLEAR(k->key);
    Py_CLEAR(k->value);
    k->key = make_header_key(name);
    if (k->key == NULL)
        return NULL;
    PyUnicode_InternInPlace(&k->key);
    memcpy(k->name, name.p, name.len);
    k->len = name.len;
    k->secret = srv_http_ieq(name.p, name.len, "cookie") ||
                srv_http_ieq(name.p, name.len, "authorization") ||
                srv_http_ieq(name.p, name.len, "proxy-authorization");
    return k;
}

/* The environ key and value of a header field (new refs; 0, or -1 with
 * an exception set). A value equal to the last one seen for the name (the
 * same Host, User-Agent, Accept... on every request) is shared: strings
 * do not change. A credential's value is made for its request alone, so
 * that the worker does not hold a session cookie or a password after the
 * request that sent it. */
static int field_strings(srv_wsgi_t *w, const srv_header_t *h, PyObject **key, PyObject **val)
{
    srv_wsgi_key_t *k = field_entry(w, h->name);
    Py_ssize_t n = (Py_ssize_t)h->value.len;

    if (k == NULL && PyErr_Occurred())
        return -1;
    if (k == NULL || k->secret) {
        if (k != NULL)
            Py_INCREF(k->key);
        *key = k != NULL ? k->key : make_header_key(h->name);
        *val = *key ? PyUnicode_DecodeLatin1(h->value.p, n, NULL) : NULL;
        if (*val == NULL) {
            Py_CLEAR(*key);
            return -1;
        }
        return 0;
    }
    /* Latin-1 decoding makes one byte per character: compare the bytes. */
    if (k->value == NULL || PyUnicode_GET_LENGTH(k->value) != n ||
        memcmp(PyUnicode_1BYTE_DATA(k->value), h->value.p, (size_t)n) != 0) {
        PyObject *v = PyUnicode_DecodeLatin1(h->value.p, n, NULL); /* new ref */

        if (v == NULL)
            return -1;
        Py_XSETREF(k->value, v);
    }
    Py_INCREF(k->key);
    Py_INCREF(k->value);
    *key = k->key;
    *val = k->value;
    return 0;
}

static int set_headers(srv_wsgi_t *w, PyObject *d, const srv_request_t *v)
{
    size_t i;

    for (i = 0; i < v->nheaders; i++) {
        const srv_header_t *h = &v->headers[i];
        PyObject *key, *val, *old; /* new refs; old borrowed */
        int rc;

        if (field_strings(w, h, &key, &val) < 0)
            return -1;
        old = PyDict_GetItemWithError(d, key);
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
static int set_server(srv_wsgi_t *w, PyObject *d, const srv_request_t *v)
{
    PyObject *name = w->str[S_SERVER_NAME], *port = w->str[S_SERVER_PORT];
    const char *h = v->host.p;
    size_t n = v->host.len, colon = n;

    if (n == 0) {
        if (set_str(d, name, v->server_name, (Py_ssize_t)strlen(v->server_name)) < 0)
            return -1;
        return set_port_str(d, port, (unsigned)v->server_port);
    }
    if (h[0] == '[') {
        const char *close = memchr(h, ']', n);

        colon = close ? (size_t)(close - h) + 1 : n;
    } else {
        const char *c = memchr(h, ':', n);

        colon = c ? (size_t)(c - h) : n;
    }
    if (set_str(d, name, h, (Py_ssize_t)colon) < 0)
        return -1;
    if (colon + 1 < n)
        return set_str(d, port, h + colon + 1, (Py_ssize_t)(n - colon - 1));
    return set_str(d, port, "80", 2);
}

PyObject *srv__wsgi_environ(srv_wsgi_t *w, const srv_request_t *v, PyObject *input)
{
    PyObject *d = PyDict_Copy(w->base_environ); /* new ref */
    PyObject *const *s = w->str;

    if (d == NULL)
        return NULL;
    if (set_str(d, s[S_REQUEST_METHOD], v->method.p, (Py_ssize_t)v->method.len) < 0 ||
        set_path_info(w, d, v) < 0 ||
        set_str(d, s[S_QUERY_STRING], v->query.p, (Py_ssize_t)v->query.len) < 0 ||
        set_str(d, s[S_RAW_URI], v->target.p, (Py_ssize_t)v->target.len) < 0 ||
        PyDict_SetItem(d, s[S_SERVER_PROTOCOL], s[v->version_minor ? S_HTTP_1_1 : S_HTTP_1_0]) <
            0 ||
        set_str(d, s[S_REMOTE_ADDR], v->remote_addr, (Py_ssize_t)strlen(v->remote_addr)) < 0 ||
        set_port_str(d, s[S_REMOTE_PORT], (unsigned)v->remote_port) < 0 ||
        set_str(d, s[S_URL_SCHEME], v->url_scheme, (Py_ssize_t)strlen(v->url_scheme)) < 0 ||
        PyDict_SetItem(d, s[S_INPUT], input) < 0 || set_server(w, d, v) < 0 ||
        set_headers(w, d, v) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}
