/* clock.c: days-to-civil conversion (Howard Hinnant's public-domain
 * algorithm, rewritten here) and the clock. */
#include "util/clock.h"

#include <uv.h>

const char srv_time_wday_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
const char srv_time_month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

#define SRV_MAX_SECS INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

void srv_time_civil(int64_t t, srv_civil_t *out)
{
    int64_t days, secs, z, era, doe, yoe, doy, mp, y;

    if (t < 0)
        t = 0;
    if (t > SRV_MAX_SECS)
        t = SRV_MAX_SECS;
    days = t / 86400;
    secs = t % 86400;
    out->hour = (int)(secs / 3600);
    out->min = (int)(secs % 3600 / 60);
    out->sec = (int)(secs % 60);
    out->wday = (int)((days + 4) % 7); /* 1970-01-01 was a Thursday */

    /* Shift the epoch to 0000-03-01 so that leap days fall at the end of a
     * 400-year era; t >= 0 keeps every quantity non-negative. */
    z = days + 719468;
    era = z / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    out->year = (int)(y + (out->month <= 2));
}

void srv_time_now(int64_t *secs, int32_t *usecs)
{
    uv_timeval64_t tv;

    if (uv_gettimeofday(&tv) != 0) {
        tv.tv_sec = 0;
        tv.tv_usec = 0;
    }
    *secs = tv.tv_sec;
    if (usecs != NULL)
        *usecs = tv.tv_usec;
}
