/* host.c: the _srvhost module that runs srv inside a python3 process
 * (hosted mode, service/launch.c). _srvhost.main(argv) hands the command
 * line to srv_wsgi_host_main() and returns its exit code. Built into the
 * module only (service/CMakeLists.txt), not into srv_wsgi. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "wsgi/wsgi.h"

static PyObject *host_main(PyObject *self, PyObject *arg)
{
    Py_ssize_t n, i;
    PyObject **bytes = NULL;
    char **argv = NULL;
    int rc = 1;

    (void)self;
    if (!PyList_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "main() takes the list of arguments");
        return NULL;
    }
    n = PyList_GET_SIZE(arg);
    bytes = PyMem_Calloc((size_t)n + 1, sizeof(*bytes));
    argv = PyMem_Calloc((size_t)n + 1, sizeof(*argv));
    if (bytes == NULL || argv == NULL) {
        PyErr_NoMemory();
        goto out;
    }
    for (i = 0; i < n; i++) {
        /* The command line in the file system encoding, as it came. */
        bytes[i] = PyUnicode_EncodeFSDefault(PyList_GET_ITEM(arg, i));
        if (bytes[i] == NULL)
            goto out;
        argv[i] = PyBytes_AS_STRING(bytes[i]);
    }
    rc = srv_wsgi_host_main((int)n, argv);
out:
    if (bytes != NULL)
        for (i = 0; i < n; i++)
            Py_XDECREF(bytes[i]);
    PyMem_Free(bytes);
    PyMem_Free(argv);
    return PyErr_Occurred() ? NULL : PyLong_FromLong(rc);
}

static PyMethodDef host_methods[] = {
    {"main", host_main, METH_O, "main(argv) -> exit code: run the srv command."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef host_module = {
    PyModuleDef_HEAD_INIT,
    "_srvhost",
    "srv, hosted by python3.",
    -1,
    host_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__srvhost(void); /* what python3 looks up */

PyMODINIT_FUNC PyInit__srvhost(void)
{
    return PyModule_Create(&host_module);
}
