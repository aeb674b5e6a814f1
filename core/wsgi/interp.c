/* interp.c: the embedded interpreter: start, load the app, per-thread
 * states, the GIL hand-off around waits, and the end.
 *
 * GIL discipline. The main thread initialises Python, loads the app and
 * releases the GIL for good (until finalisation). Each app thread gets a
 * thread state once, takes the GIL for one request at a time and gives it
 * up whenever srv makes it wait for the client (wait_begin/wait_end). Loop
 * threads never touch Python. */
#include "wsgi/wsgi_int.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "util/alloc.h"

#include "config/config.h"
#include "plat_compiler.h"
#include "util/log.h"
#include "wsgi/wsgi.h"

/* Python code the bridge needs: importing the app as gunicorn does, and
 * formatting tracebacks. Kept in Python because it is Python's job. */
static const char helper_source[] =
    "import ast, importlib, os, sys, traceback\n"
    "\n"
    "class RequestBodyError(OSError):\n"
    "    '''The request body was malformed, truncated, too large or too slow.'''\n"
    "\n"
    "class AppImportError(Exception):\n"
    "    pass\n"
    "\n"
    "def _literal(node):\n"
    "    try:\n"
    "        return ast.literal_eval(node)\n"
    "    except ValueError:\n"
    "        raise AppImportError('Factory arguments must be literals: %s' % ast.unparse(node))\n"
    "\n"
    "def import_app(spec):\n"
    "    module_name, _, obj = spec.partition(':')\n"
    "    if not module_name:\n"
    "        raise AppImportError('No module in %r (expected MODULE:APP)' % spec)\n"
    "    obj = obj or 'application'\n"
    "    try:\n"
    "        expr = ast.parse(obj, mode='eval').body\n"
    "    except SyntaxError:\n"
    "        raise AppImportError('Failed to parse %r as an attribute name or function call.'\n"
    "                             % obj) from None\n"
    "    args, kwargs, call = (), {}, False\n"
    "    if isinstance(expr, ast.Call):\n"
    "        call = True\n"
    "        args = [_literal(a) for a in expr.args]\n"
    "        kwargs = {k.arg: _literal(k.value) for k in expr.keywords}\n"
    "        expr = expr.func\n"
    "    names = []\n"
    "    while isinstance(expr, ast.Attribute):\n"
    "        names.insert(0, expr.attr)\n"
    "        expr = expr.value\n"
    "    if not isinstance(expr, ast.Name):\n"
    "        raise AppImportError('Failed to parse %r as an attribute name or function call.'\n"
    "                             % obj)\n"
    "    names.insert(0, expr.id)\n"
    "    app = importlib.import_module(module_name)\n"
    "    for name in names:\n"
    "        try:\n"
    "            app = getattr(app, name)\n"
    "        except AttributeError:\n"
    "            raise AppImportError('Failed to find attribute %r in %r.'\n"
    "                                 % (name, module_name)) from None\n"
    "    if call:\n"
    "        app = app(*args, **kwargs)\n"
    "        if app is None:\n"
    "            raise AppImportError('The factory %r in %r returned None.' % (obj, module_name))\n"
    "    if not callable(app):\n"
    "        raise AppImportError('Application object %r in %r must be callable.'\n"
    "                             % (obj, module_name))\n"
    "    return app\n"
    "\n"
    "class Watch:\n"
    "    '''reload: the files of the loaded modules and the extra ones, by mtime.'''\n"
    "    def __init__(self, extra):\n"
    "        self.extra = extra\n"
    "        self.mtimes = {}\n"
    "        self.changed()\n"
    "\n"
    "    def files(self):\n"
    "        for m in list(sys.modules.values()):\n"
    "            try:\n"
    "                f = m.__file__\n"
    "            except Exception:\n"
    "                continue\n"
    "            if isinstance(f, str):\n"
    "                yield f\n"
    "        yield from self.extra\n"
    "\n"
    "    def changed(self):\n"
    "        '''The first file whose mtime changed since the last call, or None;\n"
    "        a file seen for the first time (a module imported since) is noted.'''\n"
    "        found = None\n"
    "        for f in self.files():\n"
    "            try:\n"
    "                t = os.stat(f).st_mtime_ns\n"
    "            except OSError:\n"
    "                continue\n"
    "            if self.mtimes.setdefault(f, t) != t:\n"
    "                self.mtimes[f] = t\n"
    "                found = found or f\n"
    "        return found\n"
    "\n"
    "def format_exc(tp, value, tb):\n"
    "    if isinstance(value, AppImportError):\n"
    "        return str(value) + '\\n'\n"
    "    # srv's own frames (this helper) are noise in the app's traceback.\n"
    "    frames = [f for f in traceback.extract_tb(tb) if f.filename != '<srv>']\n"
    "    return ('Traceback (most recent call last):\\n' if frames else '') + \\\n"
    "        ''.join(traceback.format_list(frames)) + \\\n"
    "        ''.join(traceback.format_exception_only(tp, value))\n";

/* Python in this process: up (initialised here, or by the python3 that
 * hosts srv), and the main thread's state while it does not hold the GIL.
 * Main thread only. */
static int g_py_up;
static int g_hosted;
static PyThreadState *g_main_ts;

void srv_wsgi_hosted_begin(void)
{
    g_hosted = 1;
    g_py_up = 1;
    g_main_ts = PyEval_SaveThread();
}

void srv_wsgi_hosted_end(void)
{
    PyEval_RestoreThread(g_main_ts);
    g_main_ts = NULL;
}

/* One thread state per app thread, made once. */
static SRV_THREAD_LOCAL PyThreadState *tl_ts;
static SRV_THREAD_LOCAL PyGILState_STATE tl_gil;

PyObject *srv__wsgi_log_exception(srv_wsgi_t *w, const char *context, int want_text)
{
    PyObject *tp, *val, *tb, *text = NULL;
    const char *s = NULL;

    PyErr_Fetch(&tp, &val, &tb);
    if (tp == NULL)
        return NULL;
    PyErr_NormalizeException(&tp, &val, &tb);
    if (tb != NULL && val != NULL)
        PyException_SetTraceback(val, tb);
    if (w != NULL && w->format_exc != NULL)
        text = PyObject_CallFunctionObjArgs(w->format_exc, tp, val ? val : Py_None,
                                            tb ? tb : Py_None, NULL); /* new ref */
    if (text == NULL) {
        PyErr_Clear();
        text = val ? PyObject_Str(val) : NULL; /* new ref */
        if (text == NULL)
            PyErr_Clear();
    }
    if (text != NULL)
        s = PyUnicode_AsUTF8(text);
    if (s == NULL) {
        PyErr_Clear();
        s = "(the exception could not be formatted)";
    }
    srv_log_error("%s\n%s", context, s);
    Py_XDECREF(tp);
    Py_XDECREF(val);
    Py_XDECREF(tb);
    if (!want_text) {
        Py_XDECREF(text);
        return NULL;
    }
    return text;
}

/* ---- Hooks of the srv_app_t ---- */

static int thread_init(void *data)
{
    (void)data;
    /* PyGILState_Ensure makes this thread's state and takes the GIL; the
     * state is kept until thread_exit, so every request reuses it. */
    tl_gil = PyGILState_Ensure();
    tl_ts = PyEval_SaveThread();
    return 0;
}

static void thread_exit(void *data)
{
    (void)data;
    if (tl_ts == NULL)
        return;
    PyEval_RestoreThread(tl_ts);
    PyGILState_Release(tl_gil);
    tl_ts = NULL;
}

static void *wait_begin(void *data)
{
    (void)data;
    return PyEval_SaveThread();
}

static void wait_end(void *data, void *token)
{
    (void)data;
    PyEval_RestoreThread((PyThreadState *)token);
}

int srv__wsgi_take_gil(void)
{
    if (tl_ts == NULL)
        return -1;
    PyEval_RestoreThread(tl_ts);
    return 0;
}

void srv__wsgi_drop_gil(void)
{
    tl_ts = PyEval_SaveThread();
}

static void free_state(srv_wsgi_t *w)
{
    Py_CLEAR(w->callable);
    Py_CLEAR(w->watch);
    Py_CLEAR(w->format_exc);
    Py_CLEAR(w->body_error);
    Py_CLEAR(w->errors_stream);
    Py_CLEAR(w->script_name);
    Py_CLEAR(w->base_environ);
    srv__wsgi_strings_free(w);
    Py_CLEAR(w->helpers);
}

/* Drops what load() made; embedded, also finalises Python. Main thread,
 * without the GIL. */
static void unload(srv_wsgi_t *w)
{
    PyEval_RestoreThread(g_main_ts);
    free_state(w);
    w->loaded = 0;
    if (g_hosted) {
        g_main_ts = PyEval_SaveThread(); /* python3 finalises itself */
        return;
    }
    if (Py_FinalizeEx() != 0)
        srv_log_warn("Python reported errors while finalising");
    g_main_ts = NULL;
    g_py_up = 0;
}

static void worker_exit(void *data)
{
    srv_wsgi_t *w = data;

    if (w->loaded)
        unload(w);
}

/* ---- Loading ---- */

static int sys_path_insert(const char *dir)
{
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    PyObject *s;
    int rc;

    if (path == NULL || !PyList_Check(path))
        return -1;
    s = PyUnicode_DecodeFSDefault(dir); /* new ref */
    if (s == NULL)
        return -1;
    rc = PyList_Insert(path, 0, s);
    Py_DECREF(s);
    return rc;
}

/* Makes Python ready in this process and takes the GIL. */
static int start_python(const srv_config_t *cfg)
{
    const char *venv = SRV_CFG_STR(cfg, virtualenv);
    PyConfig c;
    PyStatus st;
    char exe[4096];

    if (g_py_up) {
        /* Hosted: the python3 that runs srv is the virtualenv's already. */
        PyEval_RestoreThread(g_main_ts);
        return 0;
    }
    if (venv[0] == '\0' && getenv("VIRTUAL_ENV") != NULL)
        venv = getenv("VIRTUAL_ENV");
    /* The Python configuration, as the python command uses (PYTHONPATH and
     * friends apply, as they do under gunicorn), minus its signal
     * handlers: signals belong to srv's platform layer. */
    PyConfig_InitPythonConfig(&c);
    c.install_signal_handlers = 0;
    c.parse_argv = 0;
    st = PyConfig_SetBytesString(&c, &c.program_name, "srv");
    if (!PyStatus_Exception(st) && venv[0] != '\0') {
        /* Python finds a virtualenv through the pyvenv.cfg next to its
         * executable: point it at the venv's interpreter. */
        snprintf(exe, sizeof(exe), "%s/bin/python3", venv);
        st = PyConfig_SetBytesString(&c, &c.executable, exe);
    }
    if (!PyStatus_Exception(st))
        st = Py_InitializeFromConfig(&c);
    PyConfig_Clear(&c);
    if (PyStatus_Exception(st)) {
        srv_log_error("cannot start Python: %s", st.err_msg ? st.err_msg : "unknown error");
        return -1;
    }
    g_py_up = 1;
    return 0;
}

static int ready_types(void)
{
    return PyType_Ready(&srv__wsgi_input_type) < 0 ||
                   PyType_Ready(&srv__wsgi_start_response_type) < 0 ||
                   PyType_Ready(&srv__wsgi_file_wrapper_type) < 0 ||
                   PyType_Ready(&srv__wsgi_errors_type) < 0
               ? -1
               : 0;
}

static PyObject *load_helpers(void)
{
    PyObject *code, *mod;

    code = Py_CompileString(helper_source, "<srv>", Py_file_input); /* new ref */
    if (code == NULL)
        return NULL;
    mod = PyImport_ExecCodeModule("_srv", code); /* new ref */
    Py_DECREF(code);
    return mod;
}

/* Moves every object the GC tracks now (the modules, classes and functions
 * of the app's import) to the permanent generation, as Python's gc docs
 * advise for a server that forks: a full collection no longer walks them,
 * which shortens its pause, and no longer writes their headers, which
 * would copy every page a --preload master shares with its workers. No
 * gc.collect() first: the garbage it freed would leave holes in those
 * pages for the workers to fill. */
static int gc_freeze(void)
{
    PyObject *gc = PyImport_ImportModule("gc");                        /* new ref */
    PyObject *r = gc ? PyObject_CallMethod(gc, "freeze", NULL) : NULL; /* new ref */

    Py_XDECREF(gc);
    Py_XDECREF(r);
    return r != NULL ? 0 : -1;
}

/* raw_env: each NAME=VALUE into os.environ, which sets the process's
 * environment too (for the C libraries the app uses, and its children).
 * GIL held. */
static int set_environ(const srv_config_t *cfg)
{
    const srv_cval_t *env = &cfg->v[SRV_K_raw_env];
    PyObject *os, *env_map = NULL; /* new refs (os.environ) */
    size_t i;
    int rc = -1;

    if (env->nlist == 0)
        return 0;
    os = PyImport_ImportModule("os");
    if (os != NULL)
        env_map = PyObject_GetAttrString(os, "environ");
    for (i = 0; env_map != NULL && i < env->nlist; i++) {
        const char *item = env->list[i], *eq = strchr(item, '=');        /* checked: there is one */
        PyObject *k = PyUnicode_DecodeFSDefaultAndSize(item, eq - item); /* new ref */
        PyObject *v = k != NULL ? PyUnicode_DecodeFSDefault(eq + 1) : NULL; /* new ref */
        int r = v != NULL ? PyObject_SetItem(env_map, k, v) : -1;

        Py_XDECREF(k);
        Py_XDECREF(v);
        if (r != 0)
            goto out;
    }
    rc = env_map != NULL ? 0 : -1;
out:
    Py_XDECREF(env_map);
    Py_XDECREF(os);
    return rc;
}

/* reload: notes the modification times of the app's files now (the
 * modules loaded, and reload_extra_files). GIL held. */
static int start_watch(srv_wsgi_t *w)
{
    const srv_cval_t *extra = &w->cfg->v[SRV_K_reload_extra_files];
    PyObject *list = PyList_New((Py_ssize_t)extra->nlist); /* new ref */
    size_t i;

    if (list == NULL)
        return -1;
    for (i = 0; i < extra->nlist; i++) {
        PyObject *s = PyUnicode_DecodeFSDefault(extra->list[i]); /* new ref */

        if (s == NULL) {
            Py_DECREF(list);
            return -1;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, s); /* steals s */
    }
    w->watch = PyObject_CallMethod(w->helpers, "Watch", "O", list);
    Py_DECREF(list);
    return w->watch != NULL ? 0 : -1;
}

/* app.changed: asks the Watch. Takes the GIL; a helper thread. */
static int changed(void *data, char *file, size_t cap)
{
    srv_wsgi_t *w = data;
    PyGILState_STATE g;
    PyObject *r, *b = NULL; /* new refs */
    int rc = 0;

    if (w->watch == NULL)
        return 0;
    g = PyGILState_Ensure();
    r = PyObject_CallMethod(w->watch, "changed", NULL);
    if (r == NULL) {
        srv__wsgi_log_exception(w, "reload: cannot look at the app's files:", 0);
    } else if (r != Py_None) {
        /* The name as the file system has it (undecodable bytes too). */
        b = PyUnicode_EncodeFSDefault(r);
        snprintf(file, cap, "%s", b != NULL ? PyBytes_AS_STRING(b) : "a file");
        rc = 1;
    }
    PyErr_Clear();
    Py_XDECREF(b);
    Py_XDECREF(r);
    PyGILState_Release(g);
    return rc;
}

/* Initialises Python and imports the app into w. */
static int load(srv_wsgi_t *w)
{
    const srv_config_t *cfg = w->cfg;
    const srv_cval_t *pp = &cfg->v[SRV_K_pythonpath];
    const char *spec = SRV_CFG_STR(cfg, app);
    const char *root = SRV_CFG_STR(cfg, root_path);
    const char *chdir_to = SRV_CFG_STR(cfg, chdir);
    char cwd[4096];
    size_t cwdlen = sizeof(cwd), i;
    PyObject *specobj = NULL; /* new ref */
    int ok = 0;

    if (chdir_to[0] != '\0' && uv_chdir(chdir_to) != 0) {
        srv_log_error("cannot change to directory '%s' (chdir)", chdir_to);
        return SRV_EAPP;
    }
    if (uv_cwd(cwd, &cwdlen) != 0)
        cwd[0] = '\0';
    if (start_python(cfg) != 0)
        return SRV_EAPP;
    if (set_environ(cfg) != 0)
        goto out;
    /* As gunicorn: pythonpath entries, then the working directory, first. */
    for (i = pp->nlist; i > 0; i--)
        if (sys_path_insert(pp->list[i - 1]) != 0)
            goto out;
    if (cwd[0] != '\0' && sys_path_insert(cwd) != 0)
        goto out;
    if (ready_types() != 0)
        goto out;
    w->helpers = load_helpers();
    if (w->helpers == NULL)
        goto out;
    w->format_exc = PyObject_GetAttrString(w->helpers, "format_exc");
    w->body_error = PyObject_GetAttrString(w->helpers, "RequestBodyError");
    if (w->format_exc == NULL || w->body_error == NULL)
        goto out;
    if (root[0] == '\0' && getenv("SCRIPT_NAME") != NULL)
        root = getenv("SCRIPT_NAME");
    w->script_name = PyUnicode_DecodeLatin1(root, (Py_ssize_t)strlen(root), NULL);
    w->errors_stream = PyObject_CallNoArgs((PyObject *)&srv__wsgi_errors_type);
    if (w->script_name == NULL || w->errors_stream == NULL)
        goto out;
    w->debug = SRV_CFG_INT(cfg, debug) != 0;
    if (srv__wsgi_strings_make(w) != 0)
        goto out;
    w->base_environ =
        srv__wsgi_base_environ(w, SRV_CFG_INT(cfg, threads) > 1, SRV_CFG_INT(cfg, workers) != 1);
    if (w->base_environ == NULL)
        goto out;
    if (SRV_CFG_INT(cfg, switch_interval) > 0) {
        /* A CPU-bound page would otherwise be preempted every 5 ms by the
         * next request's thread: time-slicing instead of first come, first
         * served, which costs throughput and p99 (pool.c keeps one thread
         * running app code when it can; this keeps it running). */
        PyObject *sys = PyImport_ImportModule("sys"); /* new ref */
        PyObject *r = sys ? PyObject_CallMethod(sys, "setswitchinterval", "d",
                                                SRV_CFG_INT(cfg, switch_interval) / 1000.0)
                          : NULL; /* new ref */

        Py_XDECREF(sys);
        if (r == NULL)
            goto out;
        Py_DECREF(r);
    }
    specobj = PyUnicode_FromString(spec);
    if (specobj == NULL)
        goto out;
    w->callable = PyObject_CallMethod(w->helpers, "import_app", "O", specobj);
    if (w->callable == NULL)
        goto out;
    if (SRV_CFG_INT(cfg, reload) && start_watch(w) != 0)
        goto out;
    if (SRV_CFG_INT(cfg, gc_freeze) && gc_freeze() != 0)
        goto out;
    ok = 1;
out:
    Py_XDECREF(specobj);
    if (!ok) {
        char ctx[512];

        snprintf(ctx, sizeof(ctx), "cannot load the app '%s':", spec);
        if (PyErr_Occurred())
            srv__wsgi_log_exception(w, ctx, 0);
        else
            srv_log_error("%s", ctx);
        g_main_ts = PyEval_SaveThread();
        unload(w);
        return SRV_EAPP;
    }
    w->loaded = 1;
    g_main_ts = PyEval_SaveThread();
    return 0;
}

static int worker_init(void *data)
{
    srv_wsgi_t *w = data;

    return w->loaded ? 0 : load(w);
}

/* ---- fork() with Python up (--preload, or hosted by python3) ---- */

static void fork_prepare(void *data)
{
    (void)data;
    if (!g_py_up)
        return;
    PyEval_RestoreThread(g_main_ts);
    PyOS_BeforeFork();
}

static void fork_parent(void *data)
{
    (void)data;
    if (!g_py_up)
        return;
    PyOS_AfterFork_Parent();
    g_main_ts = PyEval_SaveThread();
}

static void fork_child(void *data)
{
    (void)data;
    if (!g_py_up)
        return;
    PyOS_AfterFork_Child();
    g_main_ts = PyEval_SaveThread();
}

/* ---- Stuck requests ---- */

static uint64_t thread_ident(void *data)
{
    (void)data;
    return (uint64_t)PyThread_get_thread_ident();
}

/* Logs the Python stack of app thread `ident`. It takes the GIL, which a
 * thread busy in Python code hands over at its next switch interval. */
static void report_stuck(void *data, uint64_t ident)
{
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *sys = NULL, *frames = NULL, *key = NULL, *tb = NULL, *stack = NULL; /* new refs */
    PyObject *sep = NULL, *text = NULL;                                           /* new refs */
    PyObject *frame = NULL;                                                       /* borrowed */
    const char *s = NULL;

    (void)data;
    sys = PyImport_ImportModule("sys");
    frames = sys ? PyObject_CallMethod(sys, "_current_frames", NULL) : NULL;
    key = PyLong_FromUnsignedLongLong(ident);
    if (frames != NULL && key != NULL)
        frame = PyDict_GetItemWithError(frames, key);
    if (frame != NULL) {
        tb = PyImport_ImportModule("traceback");
        stack = tb ? PyObject_CallMethod(tb, "format_stack", "O", frame) : NULL;
        sep = PyUnicode_FromString("");
        text = stack && sep ? PyUnicode_Join(sep, stack) : NULL;
        s = text ? PyUnicode_AsUTF8(text) : NULL;
    }
    if (s != NULL)
        srv_log_error("Stack of the request that timed out (most recent call last):\n%s", s);
    else
        srv_log_error("The stack of the request that timed out is not available");
    PyErr_Clear();
    Py_XDECREF(text);
    Py_XDECREF(sep);
    Py_XDECREF(stack);
    Py_XDECREF(tb);
    Py_XDECREF(key);
    Py_XDECREF(frames);
    Py_XDECREF(sys);
    PyGILState_Release(g);
}

int srv_wsgi_app(const srv_config_t *cfg, srv_app_t *app)
{
    srv_wsgi_t *w = srv_calloc(1, sizeof(*w));

    if (w == NULL)
        return SRV_ENOMEM;
    w->cfg = cfg;
    memset(app, 0, sizeof(*app));
    app->name = "wsgi";
    app->data = w;
    app->worker_init = worker_init;
    app->worker_exit = worker_exit;
    app->thread_init = thread_init;
    app->thread_exit = thread_exit;
    app->handle = srv__wsgi_handle;
    app->wait_begin = wait_begin;
    app->wait_end = wait_end;
    app->fork_prepare = fork_prepare;
    app->fork_parent = fork_parent;
    app->fork_child = fork_child;
    app->thread_ident = thread_ident;
    app->report_stuck = report_stuck;
    app->changed = changed;
    return 0;
}

void srv_wsgi_app_free(srv_app_t *app)
{
    if (app->data == NULL)
        return;
    worker_exit(app->data);
    srv_free(app->data);
    app->data = NULL;
}

int srv_wsgi_load(srv_app_t *app)
{
    return load(app->data);
}
