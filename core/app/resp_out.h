/* resp_out.h: how a response's bytes travel to the socket (resp_out.c),
 * for the response API (req.c). App thread of the exchange. */
#ifndef SRV_APP_RESP_OUT_H
#define SRV_APP_RESP_OUT_H

#include <stddef.h>

#include "app/exchange.h"

/* How a response's final bytes wait for its release: not at all, with the
 * release that follows at once, or until the app's iterator ends (watched
 * by the loop, worker.c: on_hold_watch). */
enum { HOLD_NONE = 0, HOLD_RELEASE, HOLD_WATCHED };

/* Sends the head (if it is not out yet), then pre + data + suf. Returns 0
 * or SRV_E*. */
int srv__resp_send(srv_req_t *x, const char *pre, size_t prelen, const char *data, size_t len,
                   const char *suf, size_t suflen, int hold);
/* Hands list (bytes of output, not counting files) to the loop. */
int srv__resp_queue(srv_req_t *x, srv_list_t *list, size_t bytes, int hold, int wait);
/* At the release: writes what x->late holds if the loop sleeps and no job
 * waits (without w->lock); then, under w->lock, hands the rest to the
 * loop. */
void srv__resp_write_late(srv_req_t *x);
void srv__resp_late_to_loop_locked(srv_req_t *x);
/* Waits until the loop clears waitflag (req.c). With w->lock held. */
void srv__req_wait(srv_req_t *x, unsigned waitflag);

#endif
