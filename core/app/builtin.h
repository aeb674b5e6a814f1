/* builtin.h: the apps built into srv, for tests and benchmarks:
 *   hello  a fixed "Hello, World!" (the server's own overhead)
 *   echo   the request back as JSON: method, target, path, query, version,
 *          host, headers in order, body, and "seq", the number of requests
 *          the app has seen, so that a test can tell whether a request
 *          reached it
 *   test   helpers for srv's own black-box tests (see builtin_test.c) */
#ifndef SRV_APP_BUILTIN_H
#define SRV_APP_BUILTIN_H

#include "srv.h"

/* Returns the built-in app called name, or NULL. */
const srv_app_t *srv_builtin_app(const char *name);

/* The handlers, shared between builtin.c and builtin_test.c. */
int srv__builtin_echo(void *data, srv_req_t *req);
int srv__builtin_test(void *data, srv_req_t *req);

#endif
