/* plat_int.h: helpers shared by the files of the Windows backend. */
#ifndef SRV_PLATFORM_WIN_PLAT_INT_H
#define SRV_PLATFORM_WIN_PLAT_INT_H

#include "srv.h"

/* Maps a Winsock or Win32 error code to an SRV_E* code. */
int srv__plat_err(unsigned long e);
/* Maps a C runtime errno value to an SRV_E* code. */
int srv__plat_crt_err(int e);

#endif
