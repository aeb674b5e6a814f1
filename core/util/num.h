/* num.h: reading a decimal number from text, for every parser of srv's
 * settings (sizes, ports, prefix lengths). */
#ifndef SRV_UTIL_NUM_H
#define SRV_UTIL_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Reads s, which must be one or more ASCII digits and nothing else, into
 * *out. Returns 0, or -1 for anything else or a value above max. */
static inline int srv_parse_decimal(const char *s, int64_t max, int64_t *out)
{
    int64_t v = 0;
    size_t i;

    if (s[0] == '\0')
        return -1;
    for (i = 0; s[i]; i++) {
        int d = s[i] - '0';

        /* v * 10 + d <= max, without overflow; d > max first, since
         * (max - d) / 10 would round a negative up to 0 */
        if (d < 0 || d > 9 || d > max || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

#endif
