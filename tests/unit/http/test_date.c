/* Unit tests of core/http/date: IMF-fixdate out and back in, and the
 * forms srv_http_date_parse() refuses. */
#include <criterion/criterion.h>
#include <string.h>

#include "http/date.h"

static int parse(const char *s, int64_t *t)
{
    return srv_http_date_parse(s, strlen(s), t);
}

Test(http_date, known_dates)
{
    int64_t t;

    cr_assert_eq(parse("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
    cr_assert_eq(t, 784111777);
    cr_assert_eq(parse("Thu, 01 Jan 1970 00:00:00 GMT", &t), 0);
    cr_assert_eq(t, 0);
    cr_assert_eq(parse("Tue, 29 Feb 2000 12:00:00 GMT", &t), 0);
    cr_assert_eq(t, 951825600);
}

Test(http_date, what_format_writes_parse_reads_back)
{
    static const int64_t ts[] = {0, 1, 86399, 86400, 951782400, 1700000000, 1795000000, 4102444799};
    size_t i;

    for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        char s[SRV_HTTP_DATE_LEN];
        int64_t back = -1;

        srv_http_date_format(ts[i], s);
        cr_assert_eq(srv_http_date_parse(s, sizeof(s), &back), 0, "%.29s", s);
        cr_assert_eq(back, ts[i], "%.29s", s);
    }
}

Test(http_date, the_obsolete_forms_are_read_too)
{
    int64_t t;

    cr_assert_eq(parse("Sunday, 06-Nov-94 08:49:37 GMT", &t), 0);
    cr_assert_eq(t, 784111777);
    cr_assert_eq(parse("Sun Nov  6 08:49:37 1994", &t), 0);
    cr_assert_eq(t, 784111777);
    cr_assert_eq(parse("Tue Nov 14 22:13:20 2023", &t), 0);
    cr_assert_eq(t, 1700000000);
    cr_assert_eq(parse("Wednesday, 15-Nov-23 00:00:00 GMT", &t), 0);
    cr_assert_eq(t, 1700006400);
}

Test(http_date, other_forms_are_refused)
{
    static const char *const bad[] = {
        "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",           "Sun, 06-Nov-94 08:49:37 GMT",
        "Sund, 06-Nov-94 08:49:37 GMT",     "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 GMT ",   "Sun, 6 Nov 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",    "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",    "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:49:37 GMT",    "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 19a4 08:49:37 GMT",    "",
    };
    size_t i;
    int64_t t;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(parse(bad[i], &t), -1, "%s", bad[i]);
}
