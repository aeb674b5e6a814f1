/* netmask.c: parsing and matching address ranges (netmask.h). */
#include "util/netmask.h"

#include <string.h>
#include <uv.h>

#include "srv.h"
#include "util/num.h"

/* Whether any bit of addr past the first bits is set. */
static int host_bits_set(const unsigned char *addr, int nbytes, int bits)
{
    int i;

    for (i = bits / 8; i < nbytes; i++) {
        unsigned char keep = i == bits / 8 ? (unsigned char)(0xff00 >> (bits % 8)) : 0;

        if (addr[i] & (unsigned char)~keep)
            return 1;
    }
    return 0;
}

int srv_netmask_parse(const char *s, srv_netmask_t *out, const char **why)
{
    char host[64];
    int64_t bits;
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);

    memset(out, 0, sizeof(*out));
    if (strcmp(s, "*") == 0)
        return 0;
    if (hl == 0 || hl >= sizeof(host)) {
        *why = "expected an IP address, ADDRESS/BITS or *";
        return SRV_EINVAL;
    }
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (uv_inet_pton(AF_INET, host, out->addr) == 0) {
        out->family = 4;
        out->bits = 32;
    } else if (uv_inet_pton(AF_INET6, host, out->addr) == 0) {
        out->family = 6;
        out->bits = 128;
    } else {
        *why = "not an IPv4 or IPv6 address (host names are not resolved)";
        return SRV_EINVAL;
    }
    if (slash != NULL) {
        if (srv_parse_decimal(slash + 1, out->bits, &bits) != 0) {
            *why = out->family == 4 ? "expected /BITS with BITS 0..32"
                                    : "expected /BITS with BITS 0..128";
            return SRV_EINVAL;
        }
        out->bits = (int)bits;
    }
    if (host_bits_set(out->addr, out->family == 4 ? 4 : 16, out->bits)) {
        *why = "the address has bits set past its /BITS prefix (write the network, as 10.0.0.0/8)";
        return SRV_EINVAL;
    }
    return 0;
}

static int in_range(const srv_netmask_t *m, const unsigned char *addr)
{
    int whole = m->bits / 8, rest = m->bits % 8;

    if (memcmp(m->addr, addr, (size_t)whole) != 0)
        return 0;
    return rest == 0 || ((m->addr[whole] ^ addr[whole]) & (0xff00 >> rest) & 0xff) == 0;
}

int srv_netmask_match(const srv_netmask_t *m, size_t n, int family, const unsigned char *addr)
{
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    size_t i;

    if (family == 6 && memcmp(addr, v4_mapped, sizeof(v4_mapped)) == 0) {
        family = 4;
        addr += sizeof(v4_mapped);
    }
    for (i = 0; i < n; i++)
        if (m[i].family == 0 || (m[i].family == family && in_range(&m[i], addr)))
            return 1;
    return 0;
}
