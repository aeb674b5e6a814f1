/* fields.c: header lookups and the conditions of a 304. */
#include "http/fields.h"

#include <string.h>

#include "http/chars.h"
#include "http/date.h"

const srv_str_t *srv_http_find_field(const srv_header_t *h, size_t n, const char *lname)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (srv_http_ieq(h[i].name.p, h[i].name.len, lname))
            return &h[i].value;
    return NULL;
}

int srv_http_none_match(const char *p, size_t len, const char *etag, size_t elen)
{
    size_t pos = 0, n;
    const char *el;

    while (srv_http_list_next(p, len, &pos, &el, &n)) {
        if (n == 1 && el[0] == '*')
            return 1;
        if (n > 2 && el[0] == 'W' && el[1] == '/') {
            el += 2;
            n -= 2;
        }
        if (elen > 0 && n == elen && memcmp(el, etag, elen) == 0)
            return 1;
    }
    return 0;
}

int srv_http_not_modified(const srv_header_t *h, size_t n, const char *etag, size_t elen,
                          int64_t mtime)
{
    const srv_str_t *inm = srv_http_find_field(h, n, "if-none-match");
    const srv_str_t *ims;
    int64_t since;

    if (inm != NULL)
        return srv_http_none_match(inm->p, inm->len, etag, elen);
    ims = srv_http_find_field(h, n, "if-modified-since");
    return ims != NULL && mtime >= 0 && srv_http_date_parse(ims->p, ims->len, &since) == 0 &&
           mtime <= since;
}
