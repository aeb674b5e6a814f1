/* config_int.h: helpers shared by the files of core/config. */
#ifndef SRV_CONFIG_CONFIG_INT_H
#define SRV_CONFIG_CONFIG_INT_H

#include <stddef.h>

#include "plat_compiler.h"

/* The long flag of a key ("--keep-alive"). */
const char *srv__config_flag(int key);
/* snprintf into err (when err is not NULL). */
void srv__config_errf(char *err, size_t errlen, const char *fmt, ...) SRV_PRINTF(3, 4);

#endif
