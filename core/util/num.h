/* num.h: reading a decimal number from text, for every parser of srv's
 * settings (sizes, ports, prefix lengths) and of HTTP's numbers
 * (Content-Length, delta-seconds). */
#ifndef SRV_UTIL_NUM_H
#define SRV_UTIL_NUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Reads s[0..len), which must be one or more ASCII digits and nothing
 * else. Returns 0 with the value in *out; 1 with max in *out when the
 * value is above max; or -1 for anything else. */
static inline int srv_parse_decimal_n(const char *s, size_t len, int64_t max, int64_t *out)
{
    int64_t v = 0;
    int over = 0;
    size_t i;

    if (len == 0)
        return -1;
    for (i = 0; i < len; i++) {
        int d = s[i] - '0';

        if (d < 0 || d > 9)
            return -1;
        /* v * 10 + d <= max, without overflow; d > max first, since
         * (max - d) / 10 would round a negative up to 0 */
        if (over || d > max || v > (max - d) / 10)
            over = 1;
        else
            v = v * 10 + d;
    }
    *out = over ? max : v;
    return over;
}

/* Reads the NUL-terminated s as srv_parse_decimal_n() does. Returns 0, or
 * -1 for anything else or a value above max. */
static inline int srv_parse_decimal(const char *s, int64_t max, int64_t *out)
{
    int64_t v;

    if (srv_parse_decimal_n(s, strlen(s), max, &v) != 0)
        return -1;
    *out = v;
    return 0;
}

#endif
