/* input.c: wsgi.input, the request body as a file-like object.
 *
 * It reads straight from srv (srv_req_read), which streams the body from
 * the loop thread with backpressure and gives up the GIL only when it has
 * to wait for the client. readline() keeps what it read past a newline for
 * the next call. A malformed, truncated, oversized or too-slow body raises
 * _srv.RequestBodyError (an OSError); the request then ends with 400, 413
 * or 408 and the connection closes. */
#include <string.h>

#include "util/buf.h"
#include "wsgi/wsgi_int.h"

#define READ_CHUNK 65536
#define LINE_CHUNK 8192

typedef struct input_s {
    PyObject_HEAD srv_wsgi_req_t *r; /* borrowed; NULL after the request */
    srv_buf_t buf;                   /* read ahead by readline() */
    size_t start;                    /* first unread byte of buf */
    int eof;
} input_t;

PyObject *srv__wsgi_input_new(srv_wsgi_req_t *r)
{
    input_t *in = PyObject_New(input_t, &srv__wsgi_input_type);

    if (in == NULL)
        return NULL;
    in->r = r;
    srv_buf_init(&in->buf, (size_t)-1 / 2);
    in->start = 0;
    in->eof = 0;
    return (PyObject *)in;
}

static void input_dealloc(PyObject *self)
{
    input_t *in = (input_t *)self;

    srv_buf_free(&in->buf);
    PyObject_Free(self);
}

static const char *body_error_text(int rc)
{
    switch (rc) {
    case SRV_ETOOLARGE:
        return "request body larger than limit_request_body";
    case SRV_ETIMEDOUT:
        return "request body not received in time";
    case SRV_ECONNRESET:
        return "client disconnected";
    default:
        return "request body malformed or truncated";
    }
}

/* Reads up to n body bytes into p. Returns the count (0 at the end), or
 * -1 with an exception set. */
static Py_ssize_t body_read(input_t *in, char *p, size_t n)
{
    srv_wsgi_req_t *r = in->r;
    size_t got = 0;
    int rc;

    if (r == NULL) {
        PyErr_SetString(PyExc_ValueError, "wsgi.input used after its request ended");
        return -1;
    }
    if (in->eof || n == 0)
        return 0;
    rc = srv_req_read(r->req, p, n, &got);
    if (rc != 0) {
        r->body_err = rc;
        PyErr_SetString(r->w->body_error, body_error_text(rc));
        return -1;
    }
    if (got == 0)
        in->eof = 1;
    return (Py_ssize_t)got;
}

/* Appends up to n more body bytes to the read-ahead buffer. */
static Py_ssize_t fill(input_t *in, size_t n)
{
    Py_ssize_t got;

    if (in->start > 0 && in->start == in->buf.len) {
        in->buf.len = 0;
        in->start = 0;
    }
    if (srv_buf_reserve(&in->buf, n) != 0) {
        PyErr_NoMemory();
        return -1;
    }
    got = body_read(in, in->buf.data + in->buf.len, n);
    if (got > 0)
        in->buf.len += (size_t)got;
    return got;
}

static int parse_size(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t *size)
{
    *size = -1;
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "expected at most one argument");
        return -1;
    }
    if (nargs == 1 && args[0] != Py_None) {
        *size = PyLong_AsSsize_t(args[0]);
        if (*size == -1 && PyErr_Occurred())
            return -1;
    }
    return 0;
}

/* read(size=-1): size bytes, fewer only at the end of the body. */
static PyObject *input_read(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    input_t *in = (input_t *)self;
    Py_ssize_t size;
    srv_buf_t out;
    PyObject *res;

    if (parse_size(args, nargs, &size) < 0)
        return NULL;
    srv_buf_init(&out, size < 0 ? (size_t)-1 / 2 : (size_t)size);
    /* What readline() read ahead comes first. */
    if (in->buf.len > in->start) {
        size_t have = in->buf.len - in->start;
        size_t take = size >= 0 && (size_t)size < have ? (size_t)size : have;

        if (srv_buf_append(&out, in->buf.data + in->start, take) != 0)
            goto nomem;
        in->start += take;
    }
    while (size < 0 || out.len < (size_t)size) {
        size_t want = size < 0 ? READ_CHUNK : (size_t)size - out.len;
        Py_ssize_t got;

        if (want > READ_CHUNK)
            want = READ_CHUNK;
        if (srv_buf_reserve(&out, want) != 0)
            goto nomem;
        got = body_read(in, out.data + out.len, want);
        if (got < 0) {
            srv_buf_free(&out);
            return NULL;
        }
        if (got == 0)
            break;
        out.len += (size_t)got;
    }
    res = PyBytes_FromStringAndSize(out.data ? out.data : "", (Py_ssize_t)out.len);
    srv_buf_free(&out);
    return res;
nomem:
    srv_buf_free(&out);
    return PyErr_NoMemory();
}

/* readline(size=-1): up to and including the next newline. */
static PyObject *readline_impl(input_t *in, Py_ssize_t size)
{
    size_t scanned = 0;

    for (;;) {
        const char *base = in->buf.data ? in->buf.data + in->start : NULL;
        size_t have = in->buf.len - in->start, limit = have;
        const char *nl;
        Py_ssize_t got;

        if (size >= 0 && (size_t)size < limit)
            limit = (size_t)size;
        nl = base ? memchr(base + scanned, '\n', limit - scanned) : NULL;
        if (nl != NULL || (size >= 0 && have >= (size_t)size) || in->eof) {
            size_t n = nl ? (size_t)(nl - base) + 1 : limit;
            PyObject *line = PyBytes_FromStringAndSize(base ? base : "", (Py_ssize_t)n);

            if (line != NULL)
                in->start += n;
            return line;
        }
        scanned = limit;
        got = fill(in, LINE_CHUNK);
        if (got < 0)
            return NULL;
    }
}

static PyObject *input_readline(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t size;

    if (parse_size(args, nargs, &size) < 0)
        return NULL;
    return readline_impl((input_t *)self, size);
}

/* readlines(hint=-1): lines until the end, or until hint bytes. */
static PyObject *input_readlines(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t hint, total = 0;
    PyObject *lines;

    if (parse_size(args, nargs, &hint) < 0)
        return NULL;
    lines = PyList_New(0);
    if (lines == NULL)
        return NULL;
    for (;;) {
        PyObject *line = readline_impl((input_t *)self, -1);
        Py_ssize_t n;

        if (line == NULL) {
            Py_DECREF(lines);
            return NULL;
        }
        n = PyBytes_GET_SIZE(line);
        if (n == 0) {
            Py_DECREF(line);
            break;
        }
        if (PyList_Append(lines, line) < 0) {
            Py_DECREF(line);
            Py_DECREF(lines);
            return NULL;
        }
        Py_DECREF(line);
        total += n;
        if (hint > 0 && total >= hint)
            break;
    }
    return lines;
}

static PyObject *input_iter(PyObject *self)
{
    Py_INCREF(self);
    return self;
}

static PyObject *input_next(PyObject *self)
{
    PyObject *line = readline_impl((input_t *)self, -1);

    if (line != NULL && PyBytes_GET_SIZE(line) == 0) {
        Py_DECREF(line);
        return NULL; /* StopIteration */
    }
    return line;
}

static PyMethodDef input_methods[] = {
    {"read", (PyCFunction)(void (*)(void))input_read, METH_FASTCALL,
     "read(size=-1): body bytes; fewer than size only at the end"},
    {"readline", (PyCFunction)(void (*)(void))input_readline, METH_FASTCALL,
     "readline(size=-1): the next line, with its newline"},
    {"readlines", (PyCFunction)(void (*)(void))input_readlines, METH_FASTCALL,
     "readlines(hint=-1): the remaining lines"},
    {NULL, NULL, 0, NULL}};

PyTypeObject srv__wsgi_input_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "srv.Input",
    .tp_basicsize = sizeof(input_t),
    .tp_dealloc = input_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "wsgi.input: the request body",
    .tp_iter = input_iter,
    .tp_iternext = input_next,
    .tp_methods = input_methods,
};

void srv__wsgi_detach_input(PyObject *input)
{
    if (input != NULL)
        ((input_t *)input)->r = NULL;
}
