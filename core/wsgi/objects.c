/* objects.c: wsgi.errors and wsgi.file_wrapper. */
#include <string.h>

#include "util/log.h"
#include "wsgi/wsgi_int.h"

#include <structmember.h>

/* ---- wsgi.errors: text written to srv's error log ---- */

static PyObject *errors_write(PyObject *self, PyObject *arg)
{
    Py_ssize_t n;
    const char *s;

    (void)self;
    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "wsgi.errors.write() takes str, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    s = PyUnicode_AsUTF8AndSize(arg, &n);
    if (s == NULL)
        return NULL;
    srv_log_write_raw(s, (size_t)n);
    return PyLong_FromSsize_t(PyUnicode_GET_LENGTH(arg));
}

static PyObject *errors_writelines(PyObject *self, PyObject *seq)
{
    PyObject *it = PyObject_GetIter(seq); /* new ref */
    PyObject *item;

    if (it == NULL)
        return NULL;
    while ((item = PyIter_Next(it)) != NULL) {
        PyObject *r = errors_write(self, item); /* new ref */

        Py_DECREF(item);
        if (r == NULL) {
            Py_DECREF(it);
            return NULL;
        }
        Py_DECREF(r);
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *errors_flush(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    Py_RETURN_NONE;
}

static PyMethodDef errors_methods[] = {
    {"write", errors_write, METH_O, "write(str): to the error log"},
    {"writelines", errors_writelines, METH_O, "writelines(lines): to the error log"},
    {"flush", errors_flush, METH_NOARGS, "flush(): lines are written at once"},
    {NULL, NULL, 0, NULL}};

PyTypeObject srv__wsgi_errors_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "srv.ErrorStream",
    .tp_basicsize = sizeof(PyObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "wsgi.errors: srv's error log",
    .tp_methods = errors_methods,
    .tp_new = PyType_GenericNew,
};

/* ---- wsgi.file_wrapper ----
 * An iterable over a file-like object. When an app returns one whose
 * filelike has a real file descriptor, srv sends the file itself (sendfile
 * on Linux) instead of iterating (see call.c). */

typedef struct file_wrapper_s {
    PyObject_HEAD PyObject *filelike; /* owned */
    Py_ssize_t blksize;
} file_wrapper_t;

static int fw_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {(char *)"filelike", (char *)"blksize", NULL};
    file_wrapper_t *fw = (file_wrapper_t *)self;
    PyObject *filelike;
    Py_ssize_t blksize = 8192;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|n:file_wrapper", kwlist, &filelike, &blksize))
        return -1;
    if (blksize <= 0) {
        PyErr_SetString(PyExc_ValueError, "blksize must be positive");
        return -1;
    }
    Py_INCREF(filelike);
    Py_XSETREF(fw->filelike, filelike);
    fw->blksize = blksize;
    return 0;
}

static void fw_dealloc(PyObject *self)
{
    Py_CLEAR(((file_wrapper_t *)self)->filelike);
    Py_TYPE(self)->tp_free(self);
}

static PyObject *fw_iter(PyObject *self)
{
    Py_INCREF(self);
    return self;
}

static PyObject *fw_next(PyObject *self)
{
    file_wrapper_t *fw = (file_wrapper_t *)self;
    PyObject *data;

    if (fw->filelike == NULL)
        return NULL;
    data = PyObject_CallMethod(fw->filelike, "read", "n", fw->blksize); /* new ref */
    if (data == NULL)
        return NULL;
    if (PyObject_Length(data) > 0)
        return data;
    if (PyErr_Occurred())
        PyErr_Clear();
    Py_DECREF(data);
    return NULL; /* StopIteration */
}

static PyObject *fw_close(PyObject *self, PyObject *unused)
{
    file_wrapper_t *fw = (file_wrapper_t *)self;

    (void)unused;
    if (fw->filelike != NULL && PyObject_HasAttrString(fw->filelike, "close"))
        return PyObject_CallMethod(fw->filelike, "close", NULL);
    Py_RETURN_NONE;
}

static PyMethodDef fw_methods[] = {{"close", fw_close, METH_NOARGS, "close(): closes the file"},
                                   {NULL, NULL, 0, NULL}};

static PyMemberDef fw_members[] = {
    {"filelike", T_OBJECT, offsetof(file_wrapper_t, filelike), READONLY, NULL},
    {"blksize", T_PYSSIZET, offsetof(file_wrapper_t, blksize), READONLY, NULL},
    {NULL, 0, 0, 0, NULL}};

PyTypeObject srv__wsgi_file_wrapper_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "srv.FileWrapper",
    .tp_basicsize = sizeof(file_wrapper_t),
    .tp_dealloc = fw_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "wsgi.file_wrapper(filelike, blksize=8192)",
    .tp_iter = fw_iter,
    .tp_iternext = fw_next,
    .tp_methods = fw_methods,
    .tp_members = fw_members,
    .tp_init = fw_init,
    .tp_new = PyType_GenericNew,
};
