/* Unit tests of core/util: buf, list, alloc, clock, num. */
#include <criterion/criterion.h>
#include <string.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/list.h"
#include "util/num.h"
#include "srv.h"

Test(buf, grows_to_its_limit_and_no_further)
{
    srv_buf_t b;
    char chunk[100];

    memset(chunk, 'x', sizeof(chunk));
    srv_buf_init(&b, 1000);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(srv_buf_append(&b, chunk, sizeof(chunk)), 0);
    cr_assert_eq(b.len, 1000);
    cr_assert_leq(b.cap, 1000);
    cr_assert_eq(srv_buf_append(&b, "y", 1), SRV_E2BIG);
    cr_assert_eq(b.len, 1000, "a failed append leaves the buffer as it was");
    srv_buf_free(&b);
}

Test(buf, consume_and_printf)
{
    srv_buf_t b;

    srv_buf_init(&b, 64);
    cr_assert_eq(srv_buf_puts(&b, "hello world"), 0);
    srv_buf_consume(&b, 6);
    cr_assert_eq(b.len, 5);
    cr_assert_eq(memcmp(b.data, "world", 5), 0);
    cr_assert_eq(srv_buf_printf(&b, "-%d-%s", 42, "x"), 0);
    cr_assert_eq(b.len, 10);
    cr_assert_eq(memcmp(b.data, "world-42-x", 10), 0);
    cr_assert_eq(srv_buf_printf(&b, "%060d", 0), SRV_E2BIG);
    cr_assert_eq(b.len, 10);
    srv_buf_consume(&b, 100);
    cr_assert_eq(b.len, 0);
    srv_buf_free(&b);
}

static int fail_after;
static void *failing_malloc(size_t n)
{
    return fail_after-- > 0 ? malloc(n) : NULL;
}
static void *failing_realloc(void *p, size_t n)
{
    return fail_after-- > 0 ? realloc(p, n) : NULL;
}

Test(buf, allocation_failure_leaves_it_intact)
{
    srv_allocator_t a = {failing_malloc, failing_realloc, free};
    srv_buf_t b;
    char big[5000];

    memset(big, 'z', sizeof(big));
    srv_set_allocator(&a);
    fail_after = 1;
    srv_buf_init(&b, 1 << 20);
    cr_assert_eq(srv_buf_append(&b, "abc", 3), 0);
    cr_assert_eq(srv_buf_append(&b, big, sizeof(big)), SRV_ENOMEM);
    cr_assert_eq(b.len, 3);
    cr_assert_eq(memcmp(b.data, "abc", 3), 0);
    srv_buf_free(&b);
    srv_set_allocator(NULL);
}

typedef struct item_s {
    int v;
    srv_list_t link;
} item_t;

Test(list, push_pop_splice_unlink)
{
    srv_list_t a, b;
    item_t it[5];
    srv_list_t *n;
    int i, want;

    srv_list_init(&a);
    srv_list_init(&b);
    for (i = 0; i < 5; i++) {
        it[i].v = i;
        srv_list_init(&it[i].link);
        srv_list_push_tail(i < 3 ? &a : &b, &it[i].link);
    }
    srv_list_unlink(&it[1].link);
    srv_list_unlink(&it[1].link); /* twice is harmless */
    cr_assert_not(srv_list_linked(&it[1].link));
    srv_list_splice_tail(&a, &b);
    cr_assert(srv_list_empty(&b));
    for (want = 0; (n = srv_list_pop_head(&a)) != NULL;) {
        int v = srv_list_entry(n, item_t, link)->v;

        cr_assert_eq(v, want == 1 ? 2 : want, "order");
        want = v + 1;
    }
    cr_assert(srv_list_empty(&a));
}

Test(clock, civil_conversion)
{
    srv_civil_t c;

    srv_time_civil(0, &c);
    cr_assert_eq(c.year, 1970);
    cr_assert_eq(c.wday, 4);
    srv_time_civil(1709164800, &c); /* 2024-02-29 */
    cr_assert_eq(c.year, 2024);
    cr_assert_eq(c.month, 2);
    cr_assert_eq(c.day, 29);
    srv_time_civil(-5, &c);
    cr_assert_eq(c.year, 1970, "negative times clamp");
    srv_time_civil(INT64_MAX, &c);
    cr_assert_eq(c.year, 9999, "far times clamp");
}

Test(num, a_counted_decimal_says_when_it_is_above_its_maximum)
{
    int64_t v = -1;

    cr_assert_eq(srv_parse_decimal_n("123x", 3, 200, &v), 0, "only len bytes are read");
    cr_assert_eq(v, 123);
    cr_assert_eq(srv_parse_decimal_n("99999999999999999999999", 23, 2147483648LL, &v), 1);
    cr_assert_eq(v, 2147483648LL, "above the maximum: the maximum");
    cr_assert_eq(srv_parse_decimal_n("99999999999999999999x", 21, 10, &v), -1,
                 "a bad byte after the maximum is passed still fails");
    cr_assert_eq(srv_parse_decimal_n("", 0, 10, &v), -1);
}

Test(num, decimal_within_its_maximum)
{
    int64_t v = -1;

    cr_assert_eq(srv_parse_decimal("0", 0, &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(srv_parse_decimal("65535", 65535, &v), 0);
    cr_assert_eq(v, 65535);
    cr_assert_eq(srv_parse_decimal("000080", 65535, &v), 0, "leading zeros are digits");
    cr_assert_eq(v, 80);
    cr_assert_eq(srv_parse_decimal("9223372036854775807", INT64_MAX, &v), 0);
    cr_assert_eq(v, INT64_MAX);
    v = -1;
    cr_assert_eq(srv_parse_decimal("65536", 65535, &v), -1);
    cr_assert_eq(srv_parse_decimal("33", 32, &v), -1);
    cr_assert_eq(srv_parse_decimal("7", 5, &v), -1, "one digit above a maximum below 9");
    cr_assert_eq(srv_parse_decimal("1", 0, &v), -1);
    cr_assert_eq(srv_parse_decimal("9223372036854775808", INT64_MAX, &v), -1, "no overflow");
    cr_assert_eq(srv_parse_decimal("", 10, &v), -1);
    cr_assert_eq(srv_parse_decimal("+1", 10, &v), -1);
    cr_assert_eq(srv_parse_decimal("1 ", 10, &v), -1);
    cr_assert_eq(v, -1, "a refused text leaves *out alone");
}
