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

static int get2(const char *p, int *v)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
        return -1;
    *v = (p[0] - '0') * 10 + (p[1] - '0');
    return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int month_of(const char *p)
{
    int m;

    for (m = 0; m < 12; m++)
        if (memcmp(p, srv_time_month_names[m], 3) == 0)
            return m;
    return -1;
}

/* "HH:MM:SS" */
static int get_time(const char *p, int *h, int *m, int *s)
{
    if (p[2] != ':' || p[5] != ':' || get2(p, h) != 0 || get2(p + 3, m) != 0 || get2(p + 6, s) != 0)
        return -1;
    return *h > 23 || *m > 59 || *s > 60 ? -1 : 0;
}

int srv_http_date_parse(const char *s, size_t len, int64_t *out)
{
    static const char *const days[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
    static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int day, month, year, c, yy, hour, min, sec, w;
    size_t wl = 0;

    if (len < 24)
        return -1;
    for (w = 0; w < 7; w++) {
        wl = strlen(days[w]);
        if (memcmp(s, days[w], 3) == 0)
            break;
    }
    if (w == 7)
        return -1;
    if (len == SRV_HTTP_DATE_LEN && s[3] == ',') {
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        if (s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
            memcmp(s + 25, " GMT", 4) != 0 || get2(s + 5, &day) != 0 || get2(s + 12, &c) != 0 ||
            get2(s + 14, &yy) != 0 || get_time(s + 17, &hour, &min, &sec) != 0)
            return -1;
        month = month_of(s + 8);
        year = c * 100 + yy;
    } else if (len == 24 && s[3] == ' ') {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (s[7] != ' ' || s[10] != ' ' || s[19] != ' ' || get2(s + 20, &c) != 0 ||
            get2(s + 22, &yy) != 0 || get_time(s + 11, &hour, &min, &sec) != 0)
            return -1;
        if (s[8] == ' ' && s[9] >= '1' && s[9] <= '9')
            day = s[9] - '0';
        else if (get2(s + 8, &day) != 0)
            return -1;
        month = month_of(s + 4);
        year = c * 100 + yy;
    } else if (len == wl + 24 && memcmp(s, days[w], wl) == 0) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year is
         * taken between 1970 and 2069. */
        const char *p = s + wl;

        if (p[0] != ',' || p[1] != ' ' || p[4] != '-' || p[8] != '-' || p[11] != ' ' ||
            memcmp(p + 20, " GMT", 4) != 0 || get2(p + 2, &day) != 0 || get2(p + 9, &yy) != 0 ||
            get_time(p + 12, &hour, &min, &sec) != 0)
            return -1;
        month = month_of(p + 5);
        year = yy < 70 ? 2000 + yy : 1900 + yy;
    } else {
        return -1;
    }
    if (month < 0 || day < 1 || day > mdays[month])
        return -1;
    *out = days_from_civil(year, month + 1, day) * 86400 + hour * 3600 + min * 60 + sec;
    return 0;
}
