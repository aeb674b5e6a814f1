/* libFuzzer target: the INI reader and every value parser behind it.
 * Any text either loads or fails with a message that names the file; it
 * never crashes, leaks or leaves a half-set value. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    srv_config_t *cfg;
    char err[512];
    char *text;
    int rc;

    if (size > 65536)
        return 0;
    text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    if (srv_config_new(&cfg) != 0) {
        free(text);
        return 0;
    }
    err[0] = '\0';
    rc = srv_config_load_string(cfg, text, "fuzz.ini", err, sizeof(err));
    if (rc != 0) {
        assert(rc == SRV_ECONFIG);
        assert(strncmp(err, "fuzz.ini:", 9) == 0 || strncmp(err, "out of memory", 13) == 0);
    } else {
        int v = srv_config_validate(cfg, err, sizeof(err));

        /* "bind =" empties the list; only validation may accept that. */
        assert(cfg->v[SRV_K_bind].nlist >= 1 || v == SRV_ECONFIG);
    }
    srv_config_free(cfg);
    free(text);
    return 0;
}
