/* error.h: SRV_E* helpers for the inside of srv. */
#ifndef SRV_UTIL_ERROR_H
#define SRV_UTIL_ERROR_H

#include "srv.h"

/* Maps a libuv error code (negative UV_E*) to an SRV_E* code; 0 stays 0.
 * libuv already translated errno / GetLastError(), so this is the only
 * translation core/ needs. */
int srv_err_from_uv(int uverr);

#endif
