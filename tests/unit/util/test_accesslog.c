/* Unit tests of core/util/accesslog.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "util/accesslog.h"

#define S(lit)                                                                                     \
    {                                                                                              \
        lit, sizeof(lit) - 1                                                                       \
    }

static const srv_header_t req_hdrs[] = {
    {S("Host"), S("example.com")},
    {S("User-Agent"), S("curl/8.0 \"quoted\"")},
    {S("Referer"), S("http://r/")},
    {S("X-Evil"), S("a\xff\tb\\")},
};
static const srv_header_t resp_hdrs[] = {{S("Content-Type"), S("text/html")}};

static srv_access_entry_t entry(void)
{
    srv_access_entry_t e;

    memset(&e, 0, sizeof(e));
    e.remote_addr = "10.0.0.1";
    e.method = (srv_str_t)S("GET");
    e.target = (srv_str_t)S("/p?q=1");
    e.path = (srv_str_t)S("/p");
    e.query = (srv_str_t)S("q=1");
    e.version_minor = 1;
    e.status = 200;
    e.body_bytes = 1234;
    e.start_sec = 1795647600; /* 2026-11-25 23:00:00 */
    e.duration_us = 1500123;
    e.req_headers = req_hdrs;
    e.nreq = 4;
    e.resp_headers = resp_hdrs;
    e.nresp = 1;
    return e;
}

static const char *fmt_line(const char *fmt, srv_access_entry_t *e)
{
    static char line[1024];
    srv_accesslog_t *log;
    size_t n;

    cr_assert_eq(srv_accesslog_open(&log, fmt, "/dev/null"), 0, "%s", fmt);
    n = srv_accesslog_format(log, e, line, sizeof(line));
    line[n] = '\0';
    srv_accesslog_close(log);
    return line;
}

Test(accesslog, gunicorn_default_format)
{
    srv_access_entry_t e = entry();

    cr_assert_str_eq(
        fmt_line("%(h)s %(l)s %(u)s %(t)s \"%(r)s\" %(s)s %(b)s \"%(f)s\" \"%(a)s\"", &e),
        "10.0.0.1 - - [25/Nov/2026:23:00:00 +0000] \"GET /p?q=1 HTTP/1.1\" 200 1234 "
        "\"http://r/\" \"curl/8.0 \\x22quoted\\x22\"\n");
}

Test(accesslog, every_atom)
{
    srv_access_entry_t e = entry();

    cr_assert_str_eq(fmt_line("%(m)s|%(U)s|%(q)s|%(H)s|%(B)s|%(T)s|%(M)s|%(D)s|%(L)s|%%", &e),
                     "GET|/p|q=1|HTTP/1.1|1234|1|1500|1500123|1.500123|%\n");
    cr_assert_str_eq(
        fmt_line("%({host}i)s %({X-Evil}i)s %({content-type}o)s %({x}o)s %({X}e)s", &e),
        "example.com a\\xff\\x09b\\x5c text/html - -\n");
    e.body_bytes = 0;
    cr_assert_str_eq(fmt_line("%(b)s %(B)s", &e), "- 0\n");
    e.version_minor = 0;
    cr_assert_str_eq(fmt_line("%(H)s", &e), "HTTP/1.0\n");
    cr_assert_str_eq(fmt_line("%(C)s", &e), "-\n", "not the cache's business");
    e.cache = "UPDATING";
    cr_assert_str_eq(fmt_line("[%(C)s]", &e), "[UPDATING]\n");
}

Test(accesslog, response_header_names)
{
    srv_accesslog_t *log;
    const srv_str_t *names;
    size_t n;

    cr_assert_eq(srv_accesslog_open(&log, "%({Content-Type}o)s %({X-Id}o)s %(s)s", "/dev/null"), 0);
    names = srv_accesslog_resp_names(log, &n);
    cr_assert_eq(n, 2);
    cr_assert_eq(names[1].len, 4);
    cr_assert_eq(memcmp(names[1].p, "X-Id", 4), 0);
    srv_accesslog_close(log);
}

Test(accesslog, bad_formats)
{
    const char *why;
    static const char *const bad[] = {"%(x)s",   "%(h)",       "%(h)d",    "%h",    "50%",
                                      "%({}i)s", "%({a b}i)s", "%({a}z)s", "%(hh)s"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        cr_assert_eq(srv_accesslog_check(bad[i], &why), SRV_EINVAL, "%s", bad[i]);
        cr_assert_not_null(why);
    }
}

Test(accesslog, long_lines_are_cut_but_stay_one_line)
{
    srv_access_entry_t e = entry();
    srv_accesslog_t *log;
    char line[32];
    size_t n;

    cr_assert_eq(srv_accesslog_open(&log, "%(r)s %(r)s %(r)s %(r)s", "/dev/null"), 0);
    n = srv_accesslog_format(log, &e, line, sizeof(line));
    cr_assert_eq(n, sizeof(line));
    cr_assert_eq(line[n - 1], '\n');
    cr_assert_null(memchr(line, '\n', n - 1));
    srv_accesslog_close(log);
}
