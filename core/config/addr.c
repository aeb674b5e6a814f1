/* addr.c: parsing `bind` addresses (the same forms as gunicorn). */
#include <string.h>

#include "config/config.h"
#include "util/num.h"

static int parse_port(const char *s, int *out)
{
    int64_t v;

    if (srv_parse_decimal(s, 65535, &v) != 0)
        return -1;
    *out = (int)v;
    return 0;
}

int srv_addr_parse(const char *s, srv_addr_t *out, const char **why)
{
    const char *colon;
    size_t hl;

    memset(out, 0, sizeof(*out));
    if (strncmp(s, "unix:", 5) == 0) {
        size_t pl = strlen(s + 5);

        if (pl == 0 || pl >= sizeof(out->path)) {
            *why = pl ? "unix socket path too long" : "empty unix socket path";
            return SRV_EINVAL;
        }
        out->kind = SRV_ADDR_UNIX;
        memcpy(out->path, s + 5, pl + 1);
        return 0;
    }
    out->kind = SRV_ADDR_TCP;
    out->port = 8000;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (close == NULL || close == s + 1) {
            *why = "IPv6 address without its closing ']'";
            return SRV_EINVAL;
        }
        hl = (size_t)(close - s - 1);
        if (hl >= sizeof(out->host)) {
            *why = "host too long";
            return SRV_EINVAL;
        }
        memcpy(out->host, s + 1, hl);
        if (close[1] == '\0')
            return 0;
        if (close[1] != ':' || parse_port(close + 2, &out->port) != 0) {
            *why = "expected [IPV6]:PORT with PORT 0..65535";
            return SRV_EINVAL;
        }
        return 0;
    }
    colon = strrchr(s, ':');
    if (colon != NULL && strchr(s, ':') != colon) {
        *why = "an IPv6 address must be written in brackets: [::1]:8000";
        return SRV_EINVAL;
    }
    hl = colon ? (size_t)(colon - s) : strlen(s);
    if (hl >= sizeof(out->host)) {
        *why = "host too long";
        return SRV_EINVAL;
    }
    memcpy(out->host, s, hl);
    out->host[hl] = '\0';
    if (colon && parse_port(colon + 1, &out->port) != 0) {
        *why = "expected HOST:PORT with PORT 0..65535";
        return SRV_EINVAL;
    }
    if (hl == 0 && colon == NULL) {
        *why = "empty address";
        return SRV_EINVAL;
    }
    if (strspn(out->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_*") !=
        hl) {
        *why = "invalid character in host";
        return SRV_EINVAL;
    }
    if (strcmp(out->host, "*") == 0)
        out->host[0] = '\0';
    return 0;
}
