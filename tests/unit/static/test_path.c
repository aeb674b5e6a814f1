/* Unit tests of core/static/path: the `static` items srv accepts, which
 * file a request path maps to, the paths it leaves to the app (every way
 * out of the directory among them), and the Content-Type table. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "static/path.h"

static const srv_static_mount_t g_mounts[] = {
    {"/static", 7, "/srv/pub", 8},
    {"/static/img", 11, "/data/img", 9},
    {"/favicon", 8, "/srv/fav", 8},
};

/* The file path maps to, or NULL when it is left to the app. */
static const char *map(const char *path)
{
    static char out[256];

    if (srv_static_map(g_mounts, 3, path, strlen(path), out, sizeof(out)) < 0)
        return NULL;
    return out;
}

static void refused(const char *path)
{
    const char *r = map(path);

    cr_assert_null(r, "%s mapped to %s", path, r ? r : "");
}

Test(static_path, a_path_under_a_prefix_maps_under_its_directory)
{
    cr_assert_str_eq(map("/static/app.css"), "/srv/pub/app.css");
    cr_assert_str_eq(map("/static/css/a/b.css"), "/srv/pub/css/a/b.css");
    cr_assert_str_eq(map("/static/a.b.c"), "/srv/pub/a.b.c");
}

Test(static_path, the_longest_prefix_wins_whatever_the_order)
{
    cr_assert_str_eq(map("/static/img/logo.png"), "/data/img/logo.png");
    cr_assert_str_eq(map("/static/imgx/logo.png"), "/srv/pub/imgx/logo.png");
}

Test(static_path, a_prefix_matches_whole_segments_only)
{
    refused("/staticx/a.css");
    refused("/stati/a.css");
    refused("/other/a.css");
    refused("");
    refused("static/a.css");
    cr_assert_str_eq(map("/favicon/x.ico"), "/srv/fav/x.ico");
    refused("/favicon.ico");
}

Test(static_path, percent_escapes_are_decoded)
{
    cr_assert_str_eq(map("/static/a%20b.txt"), "/srv/pub/a b.txt");
    cr_assert_str_eq(map("/static/%C3%A9t%c3%a9.txt"), "/srv/pub/\xc3\xa9t\xc3\xa9.txt");
    refused("/static/a%2"); /* cut */
    refused("/static/a%zz");
    refused("/static/a%");
}

Test(static_path, directories_are_left_to_the_app)
{
    refused("/static");
    refused("/static/");
    refused("/static/css/");
    refused("/static//a.css");
    refused("/static/css//a.css");
}

Test(static_path, no_way_out_of_the_directory)
{
    static const char *const bad[] = {
        "/static/../etc/passwd", "/static/css/../../x",  "/static/%2e%2e/x", "/static/%2E%2E/x",
        "/static/.%2e/x",        "/static/..",           "/static/.",        "/static/./a.css",
        "/static/a%2fb",         "/static/a%2F..%2Fb",   "/static/..%5cx",   "/static/a\\..\\b",
        "/static/a%5c..%5cb",    "/static/C:/Windows/x", "/static/c%3a%5cx", "/static/a.txt::$DATA",
        "/static/a%00.txt",      "/static/a%0a.txt",     "/static/a%0d.txt", "/static/a%7f.txt",
        "/static/a%01.txt",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        refused(bad[i]);
}

Test(static_path, names_windows_gives_another_meaning_are_left_to_the_app)
{
    static const char *const bad[] = {
        "/static/con",    "/static/CON",      "/static/nul.txt", "/static/Aux.css",
        "/static/prn",    "/static/com1",     "/static/LPT9.js", "/static/css/com0.x.y",
        "/static/a.css.", "/static/a.css%20", "/static/a%20",    "/static/d./a.css",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        refused(bad[i]);
    cr_assert_str_eq(map("/static/console.css"), "/srv/pub/console.css");
    cr_assert_str_eq(map("/static/com10.css"), "/srv/pub/com10.css");
    cr_assert_str_eq(map("/static/com.css"), "/srv/pub/com.css");
    cr_assert_str_eq(map("/static/nul_x.txt"), "/srv/pub/nul_x.txt");
    cr_assert_str_eq(map("/static/a%20b"), "/srv/pub/a b");
}

Test(static_path, hidden_files_are_left_to_the_app)
{
    refused("/static/.env");
    refused("/static/.git/config");
    refused("/static/css/.htaccess");
    refused("/static/%2egit/config");
    cr_assert_str_eq(map("/static/a.env"), "/srv/pub/a.env");
}

Test(static_path, a_name_longer_than_the_room_is_refused_not_cut)
{
    char out[20]; /* "/srv/pub/" and 10 bytes, and the NUL */

    cr_assert_eq(srv_static_map(g_mounts, 3, "/static/abcdefghijk", 19, out, sizeof(out)), -1);
    cr_assert_eq(srv_static_map(g_mounts, 3, "/static/a/cdefghijk", 19, out, sizeof(out)), -1);
    cr_assert_eq(srv_static_map(g_mounts, 3, "/static/abcdefghij", 18, out, sizeof(out)), 0);
    cr_assert_str_eq(out, "/srv/pub/abcdefghij");
}

Test(static_path, the_whole_site_can_be_mounted)
{
    static const srv_static_mount_t root = {"/", 1, "/srv/www", 8};
    char out[64];

    cr_assert_eq(srv_static_map(&root, 1, "/robots.txt", 11, out, sizeof(out)), 0);
    cr_assert_str_eq(out, "/srv/www/robots.txt");
    cr_assert_eq(srv_static_map(&root, 1, "/a/b.txt", 8, out, sizeof(out)), 0);
    cr_assert_str_eq(out, "/srv/www/a/b.txt");
    cr_assert_eq(srv_static_map(&root, 1, "/", 1, out, sizeof(out)), -1);
    cr_assert_eq(srv_static_map(&root, 1, "/../x", 5, out, sizeof(out)), -1);
}

static void mount_ok(const char *item, const char *prefix, const char *dir)
{
    size_t plen;
    const char *d, *why = NULL;

    cr_assert_eq(srv_static_mount_parse(item, &plen, &d, &why), 0, "%s: %s", item, why);
    cr_assert_eq(plen, strlen(prefix), "%s", item);
    cr_assert_eq(memcmp(item, prefix, plen), 0, "%s", item);
    cr_assert_str_eq(d, dir);
}

static void mount_bad(const char *item)
{
    size_t plen;
    const char *d, *why = NULL;

    cr_assert_eq(srv_static_mount_parse(item, &plen, &d, &why), -1, "%s", item);
    cr_assert_not_null(why);
}

Test(static_path, mount_items)
{
    mount_ok("/static=pub", "/static", "pub");
    mount_ok("/static/=/srv/pub", "/static", "/srv/pub");
    mount_ok("/a/b//=d", "/a/b", "d");
    mount_ok("/=www", "/", "www");
    mount_ok("/s=C:\\site\\static", "/s", "C:\\site\\static");
    mount_ok("/s=a=b", "/s", "a=b");
    mount_bad("static=pub");
    mount_bad("/static");
    mount_bad("/static=");
    mount_bad("=pub");
    mount_bad("/a b=pub");
    mount_bad("/a%20b=pub");
    mount_bad("/a/../b=pub");
    mount_bad("/a/./b=pub");
    mount_bad("/a//b=pub");
    mount_bad("/a?b=pub");
}

Test(static_path, content_types_by_extension)
{
    cr_assert_str_eq(srv_static_type("/x/a.css", 8), "text/css; charset=utf-8");
    cr_assert_str_eq(srv_static_type("/x/A.PNG", 8), "image/png");
    cr_assert_str_eq(srv_static_type("/x/a.tar.gz", 11), "application/gzip");
    cr_assert_str_eq(srv_static_type("/x/a.js", 7), "text/javascript; charset=utf-8");
    cr_assert_str_eq(srv_static_type("/x/README", 9), "application/octet-stream");
    cr_assert_str_eq(srv_static_type("/x.d/README", 11), "application/octet-stream");
    cr_assert_str_eq(srv_static_type("/x/a.unknown", 12), "application/octet-stream");
    cr_assert_str_eq(srv_static_type("/x/a.", 5), "application/octet-stream");
}

static int accepts(const char *ae, const char *coding)
{
    return srv_static_accepts(ae, strlen(ae), coding);
}

Test(static_path, accept_encoding)
{
    cr_assert(accepts("gzip", "gzip"));
    cr_assert(accepts("deflate, GZIP", "gzip"));
    cr_assert(accepts("gzip;q=0.5", "gzip"));
    cr_assert(accepts("gzip ; q=1.0", "gzip"));
    cr_assert(accepts("gzip;level=0", "gzip"), "a parameter other than q");
    cr_assert_not(accepts("gzip;level=1;q=0", "gzip"));
    cr_assert_not(accepts("gzip;q=0", "gzip"));
    cr_assert_not(accepts("gzip;Q=0.000", "gzip"));
    cr_assert_not(accepts("x-gzip", "gzip"));
    cr_assert_not(accepts("gzipx", "gzip"));
    cr_assert_not(accepts("", "gzip"));
    cr_assert_not(accepts(",,;", "gzip"));
    cr_assert(accepts("*", "br"));
    cr_assert_not(accepts("*;q=0", "br"));
    cr_assert_not(accepts("*, br;q=0", "br"));
    cr_assert(accepts("br;q=0, *", "gzip"));
    cr_assert(accepts("gzip;q=0, gzip", "gzip"), "the last mention counts");
}

/* srv_static_range on a 100-byte file: 1 with "off+n", -1, or 0. */
static const char *range(const char *r)
{
    static char out[64];
    int64_t off = -7, n = -7;
    int k = srv_static_range(r, strlen(r), 100, &off, &n);

    if (k > 0)
        snprintf(out, sizeof(out), "%lld+%lld", (long long)off, (long long)n);
    else
        snprintf(out, sizeof(out), "%d", k);
    return out;
}

Test(static_path, one_range_of_bytes)
{
    cr_assert_str_eq(range("bytes=0-9"), "0+10");
    cr_assert_str_eq(range("bytes=0-0"), "0+1");
    cr_assert_str_eq(range("bytes=90-"), "90+10");
    cr_assert_str_eq(range("bytes=99-99"), "99+1");
    cr_assert_str_eq(range("bytes=50-1000"), "50+50", "the last byte is the file's");
    cr_assert_str_eq(range("bytes=-10"), "90+10");
    cr_assert_str_eq(range("bytes=-1000"), "0+100");
    cr_assert_str_eq(range("BYTES=1-2"), "1+2");
    cr_assert_str_eq(range("bytes=100-"), "-1", "starts past the end: 416");
    cr_assert_str_eq(range("bytes=100-200"), "-1");
    cr_assert_str_eq(range("bytes=-0"), "-1");
    /* Sent whole: another unit, several ranges, or no valid range. */
    static const char *const whole[] = {
        "items=0-9",   "bytes=0-1,5-6",
        "bytes=5-2",   "bytes=",
        "bytes=-",     "bytes=a-b",
        "bytes= 0-9",  "bytes=0-9 ",
        "bytes=0x1-2", "bytes=+1-2",
        "bytes=1",     "bytes=-1-2",
        "bytes=0-9,",  "bytes=9999999999999999999-",
        "bytes",
    };
    size_t i;

    for (i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
        cr_assert_str_eq(range(whole[i]), "0", "%s", whole[i]);
}

Test(static_path, a_range_of_an_empty_file_is_unsatisfiable)
{
    int64_t off, n;

    cr_assert_eq(srv_static_range("bytes=0-", 8, 0, &off, &n), -1);
    cr_assert_eq(srv_static_range("bytes=-5", 8, 0, &off, &n), -1);
}
