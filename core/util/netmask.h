/* netmask.h: address ranges, as `forwarded_allow_ips` names them: an IPv4
 * or IPv6 address, a CIDR range ("10.0.0.0/8", "fd00::/8"), or "*" for
 * every address. Pure: parsing text and comparing bytes. */
#ifndef SRV_UTIL_NETMASK_H
#define SRV_UTIL_NETMASK_H

#include <stddef.h>

typedef struct srv_netmask_s {
    int family;             /* 4, 6, or 0 for "*" */
    unsigned char addr[16]; /* network byte order; 4 bytes used for IPv4 */
    int bits;               /* prefix length */
} srv_netmask_t;

/* Parses one range. Returns 0, or SRV_EINVAL with *why set to a static
 * reason. Bits set past the prefix ("10.0.0.1/8") are refused: which of
 * the two was meant cannot be told. */
int srv_netmask_parse(const char *s, srv_netmask_t *out, const char **why);

/* Whether the address (family 4 with 4 bytes, or 6 with 16) lies in one
 * of the n ranges. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a
 * dual-stack listener sees IPv4 clients) is matched as its IPv4 address. */
int srv_netmask_match(const srv_netmask_t *m, size_t n, int family, const unsigned char *addr);

#endif
