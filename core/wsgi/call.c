/* call.c: one WSGI call: start_response, write(), iterating the result,
 * file_wrapper, close(), and what happens when the app fails.
 *
 * The head goes out with the first non-empty body piece (PEP 3333), so a
 * generator may call start_response lazily: the first item is pulled
 * before the status is looked at. A list or tuple of bytes goes out as one
 * response with Content-Length; anything else is sent piece by piece as it
 * comes (chunked on HTTP/1.1), never held back. close() is always called. */
#include <string.h>

#include "util/log.h"
#include "wsgi/wsgi_int.h"

/* ---- start_response and write ---- */

typedef struct start_response_s {
    PyObject_HEAD srv_wsgi_req_t *r; /* borrowed; NULL after the request */
} start_response_t;

PyObject *srv__wsgi_start_response_new(srv_wsgi_req_t *r)
{
    start_response_t *sr = PyObject_New(start_response_t, &srv__wsgi_start_response_type);

    if (sr != NULL)
        sr->r = r;
    return (PyObject *)sr;
}

void srv__wsgi_detach(PyObject *input, PyObject *start_response)
{
    srv__wsgi_detach_input(input);
    if (start_response != NULL)
        ((start_response_t *)start_response)->r = NULL;
}

static srv_wsgi_req_t *live(PyObject *self)
{
    srv_wsgi_req_t *r = ((start_response_t *)self)->r;

    if (r == NULL)
        PyErr_SetString(PyExc_RuntimeError, "start_response used after its request ended");
    return r;
}

/* Checks what PEP 3333 says an app must pass: a native string status and
 * a list of (str, str) tuples. The bytes themselves are checked by srv
 * when the head is sent (no CR, LF, NUL or other control bytes). */
static int check_headers(PyObject *status, PyObject *headers)
{
    Py_ssize_t i;

    if (!PyUnicode_Check(status)) {
        PyErr_Format(PyExc_TypeError, "status must be str, not %.100s", Py_TYPE(status)->tp_name);
        return -1;
    }
    if (!PyList_Check(headers)) {
        PyErr_Format(PyExc_TypeError, "headers must be a list, not %.100s",
                     Py_TYPE(headers)->tp_name);
        return -1;
    }
    for (i = 0; i < PyList_GET_SIZE(headers); i++) {
        PyObject *h = PyList_GET_ITEM(headers, i); /* borrowed */

        if (!PyTuple_Check(h) || PyTuple_GET_SIZE(h) != 2 ||
            !PyUnicode_Check(PyTuple_GET_ITEM(h, 0)) || !PyUnicode_Check(PyTuple_GET_ITEM(h, 1))) {
            PyErr_SetString(PyExc_TypeError, "each header must be a (str, str) tuple");
            return -1;
        }
    }
    return 0;
}

static PyObject *start_response_call(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {(char *)"status", (char *)"headers", (char *)"exc_info", NULL};
    srv_wsgi_req_t *r = live(self);
    PyObject *status, *headers, *exc_info = Py_None;

    if (r == NULL)
        return NULL;
    if (kwds == NULL && PyTuple_GET_SIZE(args) >= 2 && PyTuple_GET_SIZE(args) <= 3) {
        /* The usual call, without the cost of the general parser. */
        status = PyTuple_GET_ITEM(args, 0);
        headers = PyTuple_GET_ITEM(args, 1);
        if (PyTuple_GET_SIZE(args) == 3)
            exc_info = PyTuple_GET_ITEM(args, 2);
    } else if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|O:start_response", kwlist, &status,
                                            &headers, &exc_info)) {
        return NULL;
    }
    if (exc_info != Py_None) {
        if (r->head_sent) {
            /* Too late to change the response: re-raise the app's error
             * (PEP 3333), which ends the response with a close. */
            if (PyTuple_Check(exc_info) && PyTuple_GET_SIZE(exc_info) == 3) {
                PyObject *tp = PyTuple_GET_ITEM(exc_info, 0), *v = PyTuple_GET_ITEM(exc_info, 1),
                         *tb = PyTuple_GET_ITEM(exc_info, 2);

                Py_INCREF(tp);
                Py_INCREF(v);
                Py_INCREF(tb);
                PyErr_Restore(tp, v, tb == Py_None ? NULL : tb);
            } else {
                PyErr_SetString(PyExc_RuntimeError, "headers already sent");
            }
            return NULL;
        }
    } else if (r->status != NULL) {
        PyErr_SetString(PyExc_AssertionError,
                        "start_response called a second time without exc_info");
        return NULL;
    }
    if (check_headers(status, headers) < 0)
        return NULL;
    Py_INCREF(status);
    Py_INCREF(headers);
    Py_XSETREF(r->status, status);
    Py_XSETREF(r->headers, headers);
    return PyObject_GetAttr(self, r->w->str[S_WRITE]);
}

static PyObject *write_method(PyObject *self, PyObject *data)
{
    srv_wsgi_req_t *r = live(self);
    Py_buffer view;
    int rc;

    if (r == NULL)
        return NULL;
    if (r->status == NULL) {
        PyErr_SetString(PyExc_AssertionError, "write() before start_response()");
        return NULL;
    }
    if (!PyBytes_Check(data) && !PyByteArray_Check(data) && !PyMemoryView_Check(data)) {
        PyErr_Format(PyExc_TypeError, "write() takes bytes, not %.100s", Py_TYPE(data)->tp_name);
        return NULL;
    }
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    rc = view.len > 0 ? srv__wsgi_write(r, view.buf, view.len, 0) : 0;
    PyBuffer_Release(&view);
    if (rc < 0 && !PyErr_Occurred())
        PyErr_SetString(PyExc_OSError, "client disconnected");
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef start_response_methods[] = {
    {"write", write_method, METH_O, "write(data): the write() callable of PEP 3333"},
    {NULL, NULL, 0, NULL}};

PyTypeObject srv__wsgi_start_response_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "srv.StartResponse",
    .tp_basicsize = sizeof(start_response_t),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "start_response(status, headers, exc_info=None)",
    .tp_call = start_response_call,
    .tp_methods = start_response_methods,
};

/* ---- Sending ---- */

/* Parses "200 OK" into a code and the reason's offset. */
static int parse_status(PyObject *status, int *code, const char **reason)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(status, &n);

    if (s == NULL)
        return -1;
    if (n < 3 || s[0] < '1' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' ||
        (n > 3 && s[3] != ' ')) {
        PyErr_Format(PyExc_ValueError, "invalid status %R (expected '200 OK')", status);
        return -1;
    }
    *code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    *reason = n > 4 ? s + 4 : NULL;
    return 0;
}

/* The latin-1 bytes of a str, as PEP 3333 wants header text. */
static int latin1(PyObject *s, srv_str_t *out)
{
    if (PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND) {
        PyErr_Format(PyExc_ValueError, "header text must be latin-1: %R", s);
        return -1;
    }
    out->p = (const char *)PyUnicode_1BYTE_DATA(s);
    out->len = (size_t)PyUnicode_GET_LENGTH(s);
    return 0;
}

int srv__wsgi_send_head(srv_wsgi_req_t *r)
{
    srv_header_t stack[32];
    srv_header_t *h = stack;
    Py_ssize_t n, i;
    const char *reason;
    int code, rc = -1, src;

    if (r->head_sent)
        return 0;
    if (r->status == NULL) {
        PyErr_SetString(PyExc_AssertionError, "the app returned without calling start_response");
        return -1;
    }
    if (parse_status(r->status, &code, &reason) < 0)
        return -1;
    n = PyList_GET_SIZE(r->headers);
    if ((size_t)n > sizeof(stack) / sizeof(stack[0])) {
        h = PyMem_Malloc((size_t)n * sizeof(*h));
        if (h == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    for (i = 0; i < n; i++) {
        PyObject *t = PyList_GET_ITEM(r->headers, i); /* borrowed */

        if (latin1(PyTuple_GET_ITEM(t, 0), &h[i].name) < 0 ||
            latin1(PyTuple_GET_ITEM(t, 1), &h[i].value) < 0)
            goto out;
    }
    /* The reason phrase is UTF-8 here (PyUnicode_AsUTF8); srv checks its
     * bytes like any other. */
    src = srv_resp_start(r->req, code, reason, h, (size_t)n);
    if (src != 0) {
        PyErr_Format(PyExc_ValueError, "invalid response from the app (status %R): %s", r->status,
                     src == SRV_EINVAL ? "a bad status or header, see the log" : srv_strerror(src));
        goto out;
    }
    r->head_sent = 1;
    rc = 0;
out:
    if (h != stack)
        PyMem_Free(h);
    return rc;
}

int srv__wsgi_write(srv_wsgi_req_t *r, const char *p, Py_ssize_t n, int flags)
{
    int rc;

    if (srv__wsgi_send_head(r) < 0)
        return -1;
    rc = srv_resp_write(r->req, p, (size_t)n, flags);
    if (rc != 0) {
        r->gone = 1;
        return -1;
    }
    return 0;
}

/* A list or tuple whose items are all bytes: one response of known
 * length. Returns 1 when sent, 0 when it is not such a sequence, -1 on
 * error. */
static int send_sequence(srv_wsgi_req_t *r, PyObject *seq)
{
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq), i;
    PyObject **items = PySequence_Fast_ITEMS(seq);
    int64_t total = 0;

    for (i = 0; i < n; i++) {
        if (!PyBytes_Check(items[i]))
            return 0;
        total += PyBytes_GET_SIZE(items[i]);
    }
    if (srv__wsgi_send_head(r) < 0)
        return -1;
    if (n != 1)
        srv_resp_length_hint(r->req, total);
    for (i = 0; i < n; i++)
        if (srv__wsgi_write(r, PyBytes_AS_STRING(items[i]), PyBytes_GET_SIZE(items[i]),
                            i == n - 1 ? SRV_RESP_LAST : 0) < 0)
            return -1;
    if (n == 0 && srv_resp_finish(r->req) != 0)
        r->gone = 1;
    return 1;
}

/* A file_wrapper around a real file: srv sends the file itself. Returns 1
 * when sent, 0 when the file has no descriptor, -1 on error. */
static int send_file(srv_wsgi_req_t *r, PyObject *wrapper)
{
    PyObject *filelike = PyObject_GetAttrString(wrapper, "filelike"); /* new ref */
    PyObject *fdobj = NULL, *pos = NULL;                              /* new refs */
    long fd;
    long long offset = 0;
    int rc = 0;

    if (filelike == NULL)
        return -1;
    if (!PyObject_HasAttrString(filelike, "fileno"))
        goto out;
    fdobj = PyObject_CallMethod(filelike, "fileno", NULL);
    if (fdobj == NULL) {
        PyErr_Clear(); /* io.BytesIO and friends: iterate instead */
        goto out;
    }
    fd = PyLong_AsLong(fdobj);
    if (fd < 0) {
        PyErr_Clear();
        goto out;
    }
    /* Send from where the app left the file (tell() counts what a
     * buffered reader already consumed). */
    if (PyObject_HasAttrString(filelike, "tell")) {
        pos = PyObject_CallMethod(filelike, "tell", NULL);
        if (pos != NULL)
            offset = PyLong_AsLongLong(pos);
        if (pos == NULL || offset < 0) {
            PyErr_Clear();
            offset = 0;
        }
    }
    if (srv__wsgi_send_head(r) < 0) {
        rc = -1;
        goto out;
    }
    rc = srv_resp_file(r->req, (int)fd, offset, -1);
    if (rc == SRV_ENOSYS) {
        rc = 0; /* a streamed response already under way: iterate */
        goto out;
    }
    if (rc != 0) {
        r->gone = 1;
        rc = -1;
        goto out;
    }
    rc = 1;
out:
    Py_XDECREF(pos);
    Py_XDECREF(fdobj);
    Py_DECREF(filelike);
    return rc;
}

static int send_iterable(srv_wsgi_req_t *r, PyObject *result)
{
    PyObject *it = PyObject_GetIter(result); /* new ref */
    PyObject *item;

    if (it == NULL)
        return -1;
    while ((item = PyIter_Next(it)) != NULL) {
        int rc = 0;

        if (!PyBytes_Check(item)) {
            PyErr_Format(PyExc_TypeError, "the app must yield bytes, not %.100s",
                         Py_TYPE(item)->tp_name);
            rc = -1;
        } else if (PyBytes_GET_SIZE(item) > 0) {
            rc = srv__wsgi_write(r, PyBytes_AS_STRING(item), PyBytes_GET_SIZE(item), 0);
        }
        Py_DECREF(item);
        if (rc < 0) {
            Py_DECREF(it);
            return -1;
        }
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        return -1;
    if (srv__wsgi_send_head(r) < 0)
        return -1;
    if (srv_resp_finish(r->req) != 0) {
        r->gone = 1;
        return -1;
    }
    return 0;
}

static int send_result(srv_wsgi_req_t *r, PyObject *result)
{
    int rc;

    if (PyList_CheckExact(result) || PyTuple_CheckExact(result)) {
        rc = send_sequence(r, result);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    } else if (Py_TYPE(result) == &srv__wsgi_file_wrapper_type) {
        rc = send_file(r, result);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    return send_iterable(r, result);
}

/* ---- Errors ---- */

/* Logs the app's exception and decides the answer: 400/413/408 when a body
 * read failed under it, else 500 (with the traceback in the body under
 * debug) if nothing was sent, else a close. Returns the code for srv. */
static int app_failed(srv_wsgi_req_t *r)
{
    const srv_request_t *v = srv_req_request(r->req);
    char ctx[512];
    PyObject *text;

    snprintf(ctx, sizeof(ctx), "Error handling request %.*s %.*s", (int)v->method.len, v->method.p,
             (int)(v->target.len > 300 ? 300 : v->target.len), v->target.p);
    if (r->body_err != 0) {
        /* The app let our body error through: the client's fault. */
        PyErr_Clear();
        return r->body_err;
    }
    if (r->gone) {
        PyErr_Clear();
        return SRV_ECONNRESET;
    }
    text = srv__wsgi_log_exception(r->w, ctx, r->w->debug && !r->head_sent);
    if (text != NULL) {
        static const srv_header_t ct = {{"Content-Type", 12}, {"text/plain; charset=utf-8", 25}};
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(text, &n);

        if (s != NULL && srv_resp_start(r->req, 500, NULL, &ct, 1) == 0) {
            srv_resp_write(r->req, s, (size_t)n, SRV_RESP_LAST);
            Py_DECREF(text);
            return 0;
        }
        PyErr_Clear();
        Py_DECREF(text);
    }
    return SRV_EAPP;
}

/* ---- The call ---- */

static void close_result(srv_wsgi_req_t *r, PyObject *result)
{
    PyObject *close, *res; /* new refs */

    /* A list or tuple has no close(): spare the AttributeError that
     * asking would make (a formatted message, then thrown away). */
    if (PyList_CheckExact(result) || PyTuple_CheckExact(result))
        return;
    close = PyObject_GetAttr(result, r->w->str[S_CLOSE]);
    if (close == NULL) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError))
            PyErr_Clear();
        else
            srv__wsgi_log_exception(r->w, "Error closing the app's response", 0);
        return;
    }
    res = PyObject_CallNoArgs(close);
    if (res == NULL)
        srv__wsgi_log_exception(r->w, "Error closing the app's response", 0);
    Py_XDECREF(res);
    Py_DECREF(close);
}

int srv__wsgi_handle(void *data, srv_req_t *req)
{
    srv_wsgi_t *w = data;
    srv_wsgi_req_t r;
    PyObject *input = NULL, *environ = NULL, *sr = NULL, *result = NULL; /* new refs */
    int rc = 0;

    memset(&r, 0, sizeof(r));
    r.w = w;
    r.req = req;
    if (srv__wsgi_take_gil() != 0)
        return SRV_EAPP;
    input = srv__wsgi_input_new(&r);
    sr = srv__wsgi_start_response_new(&r);
    environ = input && sr ? srv__wsgi_environ(w, srv_req_request(req), input) : NULL;
    if (environ == NULL) {
        rc = app_failed(&r);
        goto out;
    }
    result = PyObject_CallFunctionObjArgs(w->callable, environ, sr, NULL);
    if (result == NULL || send_result(&r, result) < 0)
        rc = app_failed(&r);
out:
    /* close() always, whatever happened (PEP 3333). */
    if (result != NULL) {
        close_result(&r, result);
        Py_DECREF(result);
    }
    srv__wsgi_detach(input, sr);
    Py_XDECREF(environ);
    Py_XDECREF(sr);
    Py_XDECREF(input);
    Py_XDECREF(r.status);
    Py_XDECREF(r.headers);
    srv__wsgi_drop_gil();
    if (rc == 0 && r.gone)
        rc = SRV_ECONNRESET;
    return rc;
}
