/* date.h: the IMF-fixdate of RFC 9110 5.6.7 ("Sun, 06 Nov 1994 08:49:37 GMT"). */
#ifndef SRV_HTTP_DATE_H
#define SRV_HTTP_DATE_H

#include <stdint.h>

#define SRV_HTTP_DATE_LEN 29

/* Formats t (seconds since the epoch) into out[0..29). */
void srv_http_date_format(int64_t t, char *out);
/* Copies the current date into out[0..29). The string is cached per thread
 * and formatted once per second. Any thread. */
void srv_http_date_now(char *out);

#endif
