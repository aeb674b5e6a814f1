/* Unit tests of core/util/netmask: the forms forwarded_allow_ips accepts,
 * the ones it refuses, and which addresses each range holds. */
#include <criterion/criterion.h>
#include <string.h>
#include <uv.h>

#include "util/netmask.h"
#include "srv.h"

/* Whether the address text lies in the ranges given as texts. */
static int holds(const char *const *ranges, size_t n, const char *addr)
{
    srv_netmask_t m[8];
    unsigned char a[16];
    const char *why = NULL;
    size_t i;

    cr_assert_leq(n, 8);
    for (i = 0; i < n; i++)
        cr_assert_eq(srv_netmask_parse(ranges[i], &m[i], &why), 0, "%s: %s", ranges[i], why);
    if (uv_inet_pton(AF_INET, addr, a) == 0)
        return srv_netmask_match(m, n, 4, a);
    cr_assert_eq(uv_inet_pton(AF_INET6, addr, a), 0, "%s", addr);
    return srv_netmask_match(m, n, 6, a);
}

static int holds1(const char *range, const char *addr)
{
    return holds(&range, 1, addr);
}

Test(netmask, a_single_address_holds_itself_only)
{
    cr_assert(holds1("127.0.0.1", "127.0.0.1"));
    cr_assert_not(holds1("127.0.0.1", "127.0.0.2"));
    cr_assert(holds1("::1", "::1"));
    cr_assert_not(holds1("::1", "::2"));
    cr_assert_not(holds1("::1", "127.0.0.1"), "the families do not mix");
    cr_assert_not(holds1("127.0.0.1", "::1"));
}

Test(netmask, ranges_hold_their_prefix)
{
    cr_assert(holds1("10.0.0.0/8", "10.255.3.4"));
    cr_assert_not(holds1("10.0.0.0/8", "11.0.0.0"));
    cr_assert(holds1("192.168.1.128/25", "192.168.1.200"));
    cr_assert_not(holds1("192.168.1.128/25", "192.168.1.127"), "the bit past a byte counts");
    cr_assert(holds1("172.16.0.0/12", "172.31.255.255"));
    cr_assert_not(holds1("172.16.0.0/12", "172.32.0.0"));
    cr_assert(holds1("fd00::/8", "fdab:1::7"));
    cr_assert_not(holds1("fd00::/8", "fe80::1"));
    cr_assert(holds1("2001:db8::/33", "2001:db8:7fff::1"));
    cr_assert_not(holds1("2001:db8::/33", "2001:db8:8000::1"));
    cr_assert(holds1("0.0.0.0/0", "203.0.113.9"));
    cr_assert_not(holds1("0.0.0.0/0", "2001:db8::1"));
}

Test(netmask, a_star_holds_every_address)
{
    cr_assert(holds1("*", "203.0.113.9"));
    cr_assert(holds1("*", "2001:db8::1"));
}

Test(netmask, an_ipv4_mapped_address_is_matched_as_ipv4)
{
    cr_assert(holds1("127.0.0.1", "::ffff:127.0.0.1"));
    cr_assert(holds1("10.0.0.0/8", "::ffff:10.1.2.3"));
    cr_assert_not(holds1("10.0.0.0/8", "::ffff:11.1.2.3"));
    cr_assert_not(holds1("::1", "::ffff:0.0.0.1"));
}

Test(netmask, any_of_several_ranges)
{
    const char *r[] = {"127.0.0.1", "::1", "10.0.0.0/8"};

    cr_assert(holds(r, 3, "10.9.9.9"));
    cr_assert(holds(r, 3, "::1"));
    cr_assert_not(holds(r, 3, "192.0.2.1"));
    cr_assert_not(srv_netmask_match(NULL, 0, 4, (const unsigned char *)"\x7f\0\0\1"),
                  "no range holds no address");
}

Test(netmask, bad_forms_are_refused_with_a_reason)
{
    static const char *bad[] = {
        "",       "/8",         "10.0.0.0/",   "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x",
        "::/129", "10.0.0.1/8", "fd00::1/8",   "localhost",   "10.0.0",      "1.2.3.4.5",
        "[::1]",  "**",         "10.0.0.0/+8", "::1 ",        " ::1",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        srv_netmask_t m;
        const char *why = NULL;

        cr_assert_eq(srv_netmask_parse(bad[i], &m, &why), SRV_EINVAL, "'%s' was accepted", bad[i]);
        cr_assert(why != NULL && why[0] != '\0', "'%s' has no reason", bad[i]);
    }
}

Test(netmask, host_bits_past_the_prefix_are_named)
{
    srv_netmask_t m;
    const char *why = NULL;

    cr_assert_eq(srv_netmask_parse("10.0.0.1/8", &m, &why), SRV_EINVAL);
    cr_assert(strstr(why, "10.0.0.0/8") != NULL, "%s", why);
    cr_assert_eq(srv_netmask_parse("10.0.0.0/8", &m, &why), 0);
    cr_assert_eq(srv_netmask_parse("10.0.0.1/32", &m, &why), 0);
    cr_assert_eq(srv_netmask_parse("192.168.1.128/25", &m, &why), 0);
    cr_assert_eq(srv_netmask_parse("192.168.1.192/25", &m, &why), SRV_EINVAL);
}
