/*
 * srv.h: the public API of srv.
 *
 * srv is an HTTP/1.1 application server. A program embeds it by filling a
 * srv_config_t, describing its application as a srv_app_t and calling
 * srv_run(). The srv command line tool is such a program; the WSGI bridge is
 * one srv_app_t, the built-in hello and echo apps are others.
 *
 * Threads. srv runs one event-loop thread per worker and a pool of app
 * threads. The app's handle() callback always runs on an app thread and may
 * block; the srv_req_* and srv_resp_* functions below are called from that
 * thread only, for the request it was handed. Everything else in this header
 * may be called from any thread unless its comment says otherwise.
 *
 * Errors. Functions that can fail return 0 or a negative SRV_E* code.
 * SRV_EAGAIN means "not yet" and is not a failure.
 */
#ifndef SRV_H
#define SRV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SRV_VERSION_MAJOR  0
#define SRV_VERSION_MINOR  1
#define SRV_VERSION_PATCH  0
#define SRV_VERSION_STRING "0.1.0"

/* The error table: name, message. Generates the enum, srv_strerror() and
 * srv_err_name(). Codes are negative and stable only within one build. */
#define SRV_ERRNO_MAP(XX)                                                                          \
    XX(EAGAIN, "resource temporarily unavailable")                                                 \
    XX(ENOMEM, "out of memory")                                                                    \
    XX(EINVAL, "invalid argument")                                                                 \
    XX(E2BIG, "value too large")                                                                   \
    XX(ERANGE, "value out of range")                                                               \
    XX(ENOENT, "no such file or directory")                                                        \
    XX(EACCES, "permission denied")                                                                \
    XX(EEXIST, "already exists")                                                                   \
    XX(EIO, "input/output error")                                                                  \
    XX(EBADF, "bad file descriptor")                                                               \
    XX(EADDRINUSE, "address already in use")                                                       \
    XX(EADDRNOTAVAIL, "address not available")                                                     \
    XX(EAFNOSUPPORT, "address family not supported")                                               \
    XX(ECONNRESET, "connection reset by peer")                                                     \
    XX(EPIPE, "broken pipe")                                                                       \
    XX(ETIMEDOUT, "timed out")                                                                     \
    XX(ECANCELED, "operation canceled")                                                            \
    XX(ENOSYS, "function not implemented")                                                         \
    XX(EPROTO, "protocol error")                                                                   \
    XX(EBODY, "request body incomplete or malformed")                                              \
    XX(ETOOLARGE, "request body larger than allowed")                                              \
    XX(ESTATE, "call not allowed in this state")                                                   \
    XX(ECONFIG, "invalid configuration")                                                           \
    XX(EAPP, "application error")                                                                  \
    XX(EUNKNOWN, "unknown system error")

typedef enum srv_errno_e {
    SRV_OK = 0,
    SRV_ERRNO_FIRST_ = -1000,
#define SRV_XX_(name, msg) SRV_##name,
    SRV_ERRNO_MAP(SRV_XX_)
#undef SRV_XX_
        SRV_ERRNO_LAST_
} srv_errno_t;

/* Returns a static message for an SRV_E* code (or "unknown error"). */
const char *srv_strerror(int err);
/* Returns the static name of an SRV_E* code, such as "SRV_EINVAL". */
const char *srv_err_name(int err);

/* A byte string that srv does not own: p is borrowed, len bytes long, and
 * not NUL-terminated unless a comment says so. */
typedef struct srv_str_s {
    const char *p;
    size_t len;
} srv_str_t;

typedef struct srv_header_s {
    srv_str_t name;
    srv_str_t value;
} srv_header_t;

/* ---- Configuration ----------------------------------------------------- */

/* The configuration: every key of the key table (see `srv --help` or
 * docs/config.md), with the place each value came from. Opaque. */
typedef struct srv_config_s srv_config_t;

/* Where a configuration value came from, lowest precedence first. */
typedef enum srv_config_source_e {
    SRV_SRC_DEFAULT = 0,
    SRV_SRC_FILE,
    SRV_SRC_ENV,
    SRV_SRC_CLI,
    SRV_SRC_API
} srv_config_source_t;

/* Allocates a config holding the defaults. Returns 0 or SRV_ENOMEM; on
 * success the caller owns *out and frees it with srv_config_free(). */
int srv_config_new(srv_config_t **out);
void srv_config_free(srv_config_t *cfg);

/* Sets key (its INI name, such as "workers") to value, as if from src.
 * A value from a lower-precedence source never replaces one from a higher.
 * Returns 0, or SRV_ECONFIG with a one-line message naming the key, the value
 * and what is allowed written to err (err may be NULL). Not thread-safe. */
int srv_config_set(srv_config_t *cfg, const char *key, const char *value, srv_config_source_t src,
                   char *err, size_t errlen);

/* ---- The application interface ---------------------------------------- */

/* One request and its response. Opaque; valid from handle() until
 * handle() returns, on the app thread that runs handle(). */
typedef struct srv_req_s srv_req_t;

/* How a request was parsed. All strings are borrowed from srv and stay
 * valid until handle() returns. */
typedef struct srv_request_s {
    srv_str_t method;            /* "GET" */
    srv_str_t target;            /* the request-target as sent: "/a%20b?x=1" */
    srv_str_t path;              /* its path, still percent-encoded: "/a%20b"; may be empty
                                    for an absolute-form target without a path */
    srv_str_t query;             /* after '?', without it; empty when absent */
    srv_str_t host;              /* Host header or the authority of an absolute target */
    int version_minor;           /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
    const srv_header_t *headers; /* in the order received; names with '_' dropped */
    size_t nheaders;
    int64_t content_length;  /* -1 when the body is chunked or absent */
    int chunked;             /* nonzero for Transfer-Encoding: chunked */
    const char *remote_addr; /* NUL-terminated peer address, "" for unix sockets */
    int remote_port;
    const char *server_name; /* NUL-terminated local address the request came in on */
    int server_port;
    const char *url_scheme; /* "http" */
} srv_request_t;

/* The application. srv copies this struct; data is borrowed for the
 * lifetime of srv_run(). Every callback but handle() may be NULL. */
typedef struct srv_app_s {
    const char *name; /* for logs */
    void *data;       /* passed to every callback */

    /* In each worker process, before its threads start. Returns 0 or an
     * SRV_E* code, which stops the worker. */
    int (*worker_init)(void *data);
    /* In each worker process, after every app thread has returned. */
    void (*worker_exit)(void *data);
    /* On each app thread as it starts and as it ends. */
    int (*thread_init)(void *data);
    void (*thread_exit)(void *data);

    /* Handles one request on an app thread. It reads the body with
     * srv_req_read() and answers with srv_resp_*(). Returns 0, or an SRV_E*
     * code when it failed: srv then answers 500 if no response head was
     * started, and otherwise closes the connection so that the client sees a
     * truncated response, never a wrong one. srv finishes a response that
     * handle() left unfinished. */
    int (*handle)(void *data, srv_req_t *req);

    /* Called around any wait of an app thread inside srv_req_read() or
     * srv_resp_*() (for a body that has not arrived, or a client that reads
     * slower than the app writes), so that an interpreter can let other
     * threads run. wait_begin's return value is passed to wait_end. */
    void *(*wait_begin)(void *data);
    void (*wait_end)(void *data, void *token);

    /* Around fork() in a process that has already loaded the app (the
     * prefork master with --preload): fork_prepare just before, then
     * fork_parent in the parent and fork_child in the new process. Main
     * thread, no app thread running. */
    void (*fork_prepare)(void *data);
    void (*fork_parent)(void *data);
    void (*fork_child)(void *data);

    /* The app's own name for the calling app thread (Python's thread
     * ident), asked once on each app thread; report_stuck() gets it back. */
    uint64_t (*thread_ident)(void *data);
    /* A request on the app thread `ident` ran past `timeout`: log where it
     * is (for Python, its stack). Called on a helper thread that may block;
     * never on the loop thread. */
    void (*report_stuck)(void *data, uint64_t ident);
    /* Whether a file of the app's code changed since the last call (the
     * first call after the load compares with the load): 1 with the
     * file's name in file (cap bytes), else 0. For `reload`; called once a
     * second on a helper thread, never on the loop thread. */
    int (*changed)(void *data, char *file, size_t cap);

    /* Optional, for an app that lives in another program (srv's hosted
     * Python): called in each new worker process of the prefork master,
     * right after fork, instead of serving there. It replaces the process
     * (exec) with that program, which calls srv_run() with the same
     * configuration and serves as the worker whose sockets and slot the
     * environment names. Returns only if it could not. */
    void (*worker_exec)(void *data);
} srv_app_t;

/* Returns the parsed request. Borrowed; valid until handle() returns. */
const srv_request_t *srv_req_request(const srv_req_t *req);

/* Reads up to cap bytes of the request body into buf, waiting until at least
 * one byte is there or the body has ended. The body is decoded (chunked
 * framing removed). Sends "100 Continue" first when the client asked for
 * it. *nread is 0 at the end of the body. Returns 0, or SRV_EBODY when the
 * client sent a malformed or truncated body, SRV_ETOOLARGE past the body
 * limit, SRV_ETIMEDOUT, or SRV_ECONNRESET when the client is gone. */
int srv_req_read(srv_req_t *req, void *buf, size_t cap, size_t *nread);

/* Starts the response. status is 200..599 (1xx cannot be sent by an app);
 * reason may be NULL for the standard phrase. Headers are copied. srv adds
 * Date (unless given), Content-Length or Transfer-Encoding, and Connection;
 * it drops the app's Transfer-Encoding, Connection and Keep-Alive headers
 * (Connection: close is honoured). Returns 0, SRV_EINVAL when a header name
 * is not a token, a value holds CR, LF, NUL or another control byte, the
 * status or reason is invalid, or Content-Length is not a number (nothing is
 * sent), or SRV_ESTATE if the response was already started. */
int srv_resp_start(srv_req_t *req, int status, const char *reason, const srv_header_t *headers,
                   size_t nheaders);

#define SRV_RESP_LAST 1 /* this is the last piece of the body */

/* Sends len bytes of the body (copied). With SRV_RESP_LAST the response is
 * complete after them, which lets srv send head and body in one write and
 * use Content-Length. Waits only when the client is behind by more than the
 * write buffer. Returns 0, SRV_ESTATE before srv_resp_start() or after the
 * last piece, or SRV_ECONNRESET / SRV_ETIMEDOUT when the client is gone (the
 * app should stop producing). */
int srv_resp_write(srv_req_t *req, const void *data, size_t len, int flags);

/* Announces that the body will be exactly total bytes, written in several
 * pieces, so that srv can send Content-Length instead of chunked framing
 * (the app's own Content-Length wins). Call it after srv_resp_start() and
 * before the first write. Returns 0 or SRV_ESTATE. */
int srv_resp_length_hint(srv_req_t *req, int64_t total);

/* Sends count bytes of the open file fd from offset (count < 0: to its end)
 * as the rest of the body and finishes the response. srv duplicates fd, so
 * the caller may close it as soon as this returns. Returns as
 * srv_resp_write(), or SRV_EBADF / SRV_EIO when the file cannot be read. */
int srv_resp_file(srv_req_t *req, int fd, int64_t offset, int64_t count);

/* Finishes the response (the last chunk for a chunked body). Idempotent.
 * Returns as srv_resp_write(). */
int srv_resp_finish(srv_req_t *req);

/* Nonzero once the response head has been handed to srv. */
int srv_resp_started(const srv_req_t *req);

/* ---- Running ----------------------------------------------------------- */

/* Serves app with cfg until srv_stop() or a stop signal. Binds the
 * listeners, prints the startup line, runs the process model of this
 * platform. Returns 0 after a clean stop, or an SRV_E* code. Call it once,
 * from the main thread. cfg and app are borrowed until it returns. */
int srv_run(const srv_config_t *cfg, const srv_app_t *app);

/* On a reload (SIGHUP), srv_run() calls fn(arg) for the new configuration:
 * a new config that srv then owns, or NULL to keep the current one (fn
 * logs why). Without it a reload keeps the configuration. */
typedef srv_config_t *(*srv_reload_fn)(void *arg);
void srv_set_reload(srv_reload_fn fn, void *arg);

/* Asks a running srv_run() to stop: gracefully (finish what is in flight,
 * up to graceful_timeout) when graceful is nonzero, else at once. Safe from
 * any thread and from a signal handler. */
void srv_stop(int graceful);

#ifdef __cplusplus
}
#endif

#endif /* SRV_H */
