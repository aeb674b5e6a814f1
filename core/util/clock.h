/* clock.h: calendar arithmetic without the C library's locale- and
 * OS-dependent gmtime/strftime, so the same bytes come out everywhere. */
#ifndef SRV_UTIL_CLOCK_H
#define SRV_UTIL_CLOCK_H

#include <stdint.h>

typedef struct srv_civil_s {
    int year;  /* e.g. 2026 */
    int month; /* 1..12 */
    int day;   /* 1..31 */
    int hour, min, sec;
    int wday; /* 0 = Sunday */
} srv_civil_t;

/* Converts seconds since 1970-01-01T00:00:00Z to UTC fields. Valid for
 * years 1970..9999 (later times are clamped to 9999-12-31T23:59:59). */
void srv_time_civil(int64_t unix_secs, srv_civil_t *out);

/* The current time: seconds since the epoch and the microseconds within. */
void srv_time_now(int64_t *secs, int32_t *usecs);

extern const char srv_time_wday_names[7][4];   /* "Sun".."Sat" */
extern const char srv_time_month_names[12][4]; /* "Jan".."Dec" */

#endif
