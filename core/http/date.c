/* date.c: HTTP dates. */
#include "http/date.h"

#include <string.h>

#include "util/clock.h"
#include "plat_compiler.h"

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

void srv_http_date_format(int64_t t, char *out)
{
    srv_civil_t c;

    srv_time_civil(t, &c);
    memcpy(out, srv_time_wday_names[c.wday], 3);
    out[3] = ',';
    out[4] = ' ';
    put2(out + 5, c.day);
    out[7] = ' ';
    memcpy(out + 8, srv_time_month_names[c.month - 1], 3);
    out[11] = ' ';
    put2(out + 12, c.year / 100);
    put2(out + 14, c.year % 100);
    out[16] = ' ';
    put2(out + 17, c.hour);
    out[19] = ':';
    put2(out + 20, c.min);
    out[22] = ':';
    put2(out + 23, c.sec);
    memcpy(out + 25, " GMT", 4);
}

/* Each app thread and loop thread keeps its own copy, so that no lock or
 * atomic is needed on the response path. */
static SRV_THREAD_LOCAL int64_t tl_date_sec = -1;
static SRV_THREAD_LOCAL char tl_date[SRV_HTTP_DATE_LEN];

void srv_http_date_now(char *out)
{
    int64_t now;

    srv_time_now(&now, NULL);
    if (now != tl_date_sec) {
        srv_http_date_format(now, tl_date);
        tl_date_sec = now;
    }
    memcpy(out, tl_date, SRV_HTTP_DATE_LEN);
}
