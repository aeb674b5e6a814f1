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
        if (s[i] < '0' || s[i] > '9' || v > (max - (s[i] - '0')) / 10)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

#endif
