/* date.h: the IMF-fixdate of RFC 9110 5.6.7 ("Sun, 06 Nov 1994 08:49:37 GMT"). */
#ifndef SRV_HTTP_DATE_H
#define SRV_HTTP_DATE_H

#include <stddef.h>
#include <stdint.h>

#define SRV_HTTP_DATE_LEN 29

/* Formats t (seconds since the epoch) into out[0..29). */
void srv_http_date_format(int64_t t, char *out);
/* Copies the current date into out[0..29). The string is cached per thread
 * and formatted once per second. Any thread. */
void srv_http_date_now(char *out);

/* Reads an HTTP-date into seconds since the epoch: the IMF-fixdate that
 * srv_http_date_format() writes, or either obsolete form that RFC 9110
 * 5.6.7 says a recipient must accept too (RFC 850's, with a two-digit
 * year, and asctime's). Returns 0, or -1 for anything else. */
int srv_http_date_parse(const char *s, size_t len, int64_t *out);

#endif
