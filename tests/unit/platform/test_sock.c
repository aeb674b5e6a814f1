/* Unit tests of srv_plat_sock_send (platform.h): the write an app thread
 * makes to a connection's socket itself. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "platform.h"

static int sv[2];

static void pair(void)
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK), 0);
}

Test(sock_send, says_it_can_and_sends_the_buffers_in_order)
{
    char a[] = "HTTP/1.1 200 OK\r\n\r\n", b[] = "body", got[64];
    uv_buf_t bufs[2] = {uv_buf_init(a, sizeof(a) - 1), uv_buf_init(b, sizeof(b) - 1)};
    size_t sent = 99;
    ssize_t n;

    cr_assert(srv_plat_can_send_direct(), "Unix sockets take direct writes");
    pair();
    cr_assert_eq(srv_plat_sock_send(sv[0], bufs, 2, &sent), 0);
    cr_assert_eq(sent, sizeof(a) - 1 + sizeof(b) - 1);
    n = read(sv[1], got, sizeof(got));
    cr_assert_eq(n, (ssize_t)sent);
    cr_assert(memcmp(got, "HTTP/1.1 200 OK\r\n\r\nbody", (size_t)n) == 0);
    close(sv[0]);
    close(sv[1]);
}

Test(sock_send, a_full_socket_takes_part_then_nothing_and_never_blocks)
{
    static char big[1 << 20];
    uv_buf_t buf = uv_buf_init(big, sizeof(big));
    size_t sent = 0, total = 0;
    int rc, i;

    pair();
    /* The peer reads nothing: a bounded number of sends fill the socket. */
    for (i = 0; i < 64; i++) {
        rc = srv_plat_sock_send(sv[0], &buf, 1, &sent);
        if (rc != 0)
            break;
        cr_assert(sent > 0 && sent <= sizeof(big));
        total += sent;
    }
    cr_assert_eq(rc, SRV_EAGAIN, "a full socket says so (after %zu bytes)", total);
    cr_assert_eq(sent, 0);
    cr_assert(total > 0 && total < 64 * sizeof(big));
    close(sv[0]);
    close(sv[1]);
}

Test(sock_send, a_closed_peer_is_an_error_and_no_sigpipe)
{
    char a[] = "late";
    uv_buf_t buf = uv_buf_init(a, 4);
    size_t sent = 1;
    struct sigaction dfl, old;
    int rc;

    /* SIGPIPE at its default would end this process. */
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &dfl, &old);
    pair();
    close(sv[1]);
    rc = srv_plat_sock_send(sv[0], &buf, 1, &sent);
    sigaction(SIGPIPE, &old, NULL);
    cr_assert(rc < 0 && rc != SRV_EAGAIN, "got %d", rc);
    cr_assert_eq(sent, 0);
    close(sv[0]);
}
