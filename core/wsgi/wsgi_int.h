/* wsgi_int.h: what the files of core/wsgi share. Includes Python.h. */
#ifndef SRV_WSGI_WSGI_INT_H
#define SRV_WSGI_WSGI_INT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "config/config.h"
#include "srv.h"

/* Strings made once (srv__wsgi_strings_make): the environ's fixed keys,
 * values many requests share, and the names srv looks up on the app's
 * objects. Interned, so that their hash is computed once too. */
enum {
    /* the keys of every environ, up to S_SERVER_PORT */
    S_REQUEST_METHOD,
    S_PATH_INFO,
    S_QUERY_STRING,
    S_RAW_URI,
    S_SERVER_PROTOCOL,
    S_REMOTE_ADDR,
    S_REMOTE_PORT,
    S_URL_SCHEME,
    S_INPUT,
    S_SERVER_NAME,
    S_SERVER_PORT,
    S_HTTP_1_0,
    S_HTTP_1_1,
    S_CLOSE,
    S_WRITE,
    S_COUNT
};

/* Recent request header names with their environ key (HTTP_HOST...) and
 * their last value, so that the fields clients repeat on every request
 * make no new strings. Credentials (Cookie, Authorization) are not kept
 * past their request. Under the GIL. */
#define SRV_WSGI_KEYS       128
#define SRV_WSGI_KEY_MAXLEN 40
typedef struct srv_wsgi_key_s {
    char name[SRV_WSGI_KEY_MAXLEN]; /* the header name as the client sent it */
    size_t len;
    PyObject *key;   /* owned; NULL: empty entry */
    PyObject *value; /* owned, or NULL */
    int secret;      /* a credential: its value is never kept */
} srv_wsgi_key_t;

/* The loaded app and everything built once for every request. */
typedef struct srv_wsgi_s {
    const srv_config_t *cfg; /* borrowed */
    int loaded;
    PyObject *callable;      /* the app (owned) */
    PyObject *helpers;       /* the _srv helper module (owned) */
    PyObject *format_exc;    /* _srv.format_exc (owned) */
    PyObject *watch;         /* _srv.Watch for reload, or NULL (owned) */
    PyObject *body_error;    /* _srv.RequestBodyError, an OSError (owned) */
    PyObject *errors_stream; /* wsgi.errors (owned) */
    PyObject *script_name;   /* SCRIPT_NAME (owned str) */
    PyObject *base_environ;  /* the keys every environ shares (owned dict) */
    PyObject *str[S_COUNT];  /* owned */
    srv_wsgi_key_t keys[SRV_WSGI_KEYS];
    int debug;
} srv_wsgi_t;

/* The state of one request, on the app thread's stack. Python objects
 * that outlive the request (an app may keep start_response or wsgi.input)
 * see it set back to NULL and raise instead of touching freed memory. */
typedef struct srv_wsgi_req_s {
    srv_wsgi_t *w;
    srv_req_t *req;
    PyObject *status;  /* from start_response (owned str) */
    PyObject *headers; /* from start_response (owned list) */
    int head_sent;
    int body_err; /* SRV_E* of a failed body read, for the response */
    int gone;     /* the client is gone: stop producing */
} srv_wsgi_req_t;

/* Types (defined in their files, readied in interp.c). */
extern PyTypeObject srv__wsgi_input_type;
extern PyTypeObject srv__wsgi_start_response_type;
extern PyTypeObject srv__wsgi_file_wrapper_type;
extern PyTypeObject srv__wsgi_errors_type;

/* New wsgi.input / start_response objects bound to r (new refs, or NULL
 * with an exception set). srv__wsgi_detach() unbinds them at the end. */
PyObject *srv__wsgi_input_new(srv_wsgi_req_t *r);
PyObject *srv__wsgi_start_response_new(srv_wsgi_req_t *r);
void srv__wsgi_detach(PyObject *input, PyObject *start_response);
void srv__wsgi_detach_input(PyObject *input);

/* Makes w->str (0, or -1 with an exception set); frees it and the header
 * keys. GIL held. */
int srv__wsgi_strings_make(srv_wsgi_t *w);
void srv__wsgi_strings_free(srv_wsgi_t *w);

/* Builds the environ of a request (new ref, or NULL with an exception). */
PyObject *srv__wsgi_environ(srv_wsgi_t *w, const srv_request_t *v, PyObject *input);
/* The keys every environ shares; multithread/multiprocess as configured. */
PyObject *srv__wsgi_base_environ(srv_wsgi_t *w, int multithread, int multiprocess);

/* Sends the status line and headers from start_response, if not sent
 * yet. Returns 0, or -1 with a Python exception set. */
int srv__wsgi_send_head(srv_wsgi_req_t *r);
/* Sends bytes of the body (flags: SRV_RESP_LAST). Returns 0, or -1: the
 * client is gone (r->gone, no exception) or an exception is set. */
int srv__wsgi_write(srv_wsgi_req_t *r, const char *p, Py_ssize_t n, int flags);

/* Takes / gives up the GIL with this app thread's state (made by the
 * app's thread_init). take returns -1 if the thread has no state. */
int srv__wsgi_take_gil(void);
void srv__wsgi_drop_gil(void);

/* Handles one request (the srv_app_t handle callback). App thread. */
int srv__wsgi_handle(void *data, srv_req_t *req);

/* Logs the current exception with its traceback (and clears it). Returns
 * the formatted text (new ref) when want_text, else NULL. GIL held. */
PyObject *srv__wsgi_log_exception(srv_wsgi_t *w, const char *context, int want_text);

#endif
