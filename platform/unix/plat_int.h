/* plat_int.h: helpers shared by the files of the Unix backend. */
#ifndef SRV_PLATFORM_UNIX_PLAT_INT_H
#define SRV_PLATFORM_UNIX_PLAT_INT_H

#include "srv.h"

/* Maps an errno value to an SRV_E* code. */
int srv__plat_err(int e);

#endif
