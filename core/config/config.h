/* config.h: the configuration inside srv.
 *
 * Values are set from four sources with the precedence CLI > environment >
 * file > defaults; each value remembers where it came from, so that
 * `srv --print-config` can show it and errors can name it. */
#ifndef SRV_CONFIG_CONFIG_H
#define SRV_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "srv.h"

typedef enum srv_ctype_e {
    SRV_CT_INT,
    SRV_CT_SIZE,
    SRV_CT_BOOL,
    SRV_CT_STR,
    SRV_CT_ENUM,
    SRV_CT_LIST, /* repeatable, and items separated by commas */
    SRV_CT_LINES /* repeatable; a comma belongs to the item */
} srv_ctype_t;

typedef enum srv_key_e {
#define SRV_KEY(name, type, def, min, max, flag, shrt, choices, metavar, help) SRV_K_##name,
#include "config/keys.def"
#undef SRV_KEY
    SRV_NKEYS
} srv_key_t;

typedef struct srv_keyinfo_s {
    const char *name;
    srv_ctype_t type;
    const char *def;
    int64_t min, max;
    const char *flag; /* "--name" form, always set */
    char shrt;
    const char *choices;
    const char *metavar;
    const char *help;
} srv_keyinfo_t;

/* The key table, indexed by srv_key_t. */
extern const srv_keyinfo_t srv_keys[SRV_NKEYS];

typedef struct srv_cval_s {
    int64_t i;   /* INT, SIZE, BOOL; the index of the choice for ENUM */
    char *s;     /* STR, ENUM (owned); "" when unset, never NULL once set */
    char **list; /* LIST (owned, NULL-terminated) */
    size_t nlist;
} srv_cval_t;

typedef struct srv_cwhere_s {
    srv_config_source_t src;
    char *file; /* owned; for SRV_SRC_FILE */
    int line;   /* for SRV_SRC_FILE */
} srv_cwhere_t;

struct srv_config_s {
    srv_cval_t v[SRV_NKEYS];
    srv_cwhere_t where[SRV_NKEYS];
    char *config_file; /* owned; -c FILE, NULL when none */
};

/* Typed reads. */
#define SRV_CFG_INT(cfg, key) ((cfg)->v[SRV_K_##key].i)
#define SRV_CFG_STR(cfg, key) ((const char *)(cfg)->v[SRV_K_##key].s)

/* Finds a key by INI name; "-" and "_" are the same. Returns -1 if unknown. */
int srv_config_find(const char *name, size_t len);
/* Sets a key by index; where describes the source for messages and
 * --print-config (where->file is copied). Returns 0 or SRV_ECONFIG with
 * err filled in. */
int srv_config_set_key(srv_config_t *cfg, int key, const char *value, const srv_cwhere_t *where,
                       char *err, size_t errlen);
/* Describes a source into buf ("command line", "environment SRV_X",
 * "srv.ini:12", "default"). Returns buf. */
const char *srv_config_where_str(const srv_cwhere_t *w, int key, char *buf, size_t len);

/* Loads an INI file. Returns 0, or SRV_ECONFIG with a message naming the
 * file, the line, the key, the value and what is allowed. */
int srv_config_load_file(srv_config_t *cfg, const char *path, char *err, size_t errlen);
/* Loads an INI text held in memory (for tests and fuzzing); name is used
 * in messages. */
int srv_config_load_string(srv_config_t *cfg, const char *text, const char *name, char *err,
                           size_t errlen);
/* With PORT in the environment and bind set by no source, makes bind
 * 0.0.0.0:PORT, as gunicorn does for platforms that assign the port. Call
 * it once every source is loaded. Returns 0, or SRV_ECONFIG for a PORT
 * that is not a port number. */
int srv_config_port_default(srv_config_t *cfg, const char *(*getenv_fn)(const char *name),
                            char *err, size_t errlen);
/* Reads SRV_<KEY> variables through getenv_fn (getenv, or a test double). */
int srv_config_load_env(srv_config_t *cfg, const char *(*getenv_fn)(const char *name), char *err,
                        size_t errlen);

/* What the command line asked for besides setting keys. */
typedef enum srv_cli_action_e {
    SRV_CLI_RUN = 0,
    SRV_CLI_HELP,
    SRV_CLI_VERSION,
    SRV_CLI_PRINT_CONFIG,
    SRV_CLI_CHECK_CONFIG,
    SRV_CLI_HELP_MARKDOWN, /* docs/config.md, for the build */
    SRV_CLI_HELP_MAN       /* the srv(1) man page, for the build */
} srv_cli_action_t;

/* Parses argv: options (long with "=" or a separate value, short with the
 * value attached or separate), "-c FILE", "--", and one positional
 * MODULE:APP (the key app). Sets keys with SRV_SRC_CLI and cfg->config_file.
 * Returns 0 with *action set, or SRV_ECONFIG with err filled in. */
int srv_config_parse_args(srv_config_t *cfg, int argc, char **argv, srv_cli_action_t *action,
                          char *err, size_t errlen);

/* Checks rules that involve several keys, once every source is loaded.
 * Returns 0 or SRV_ECONFIG. */
int srv_config_validate(const srv_config_t *cfg, char *err, size_t errlen);

/* Writes `srv --help`. */
void srv_config_usage(FILE *out, const char *prog);
/* Writes the effective configuration, one "key = value  # source" a line. */
void srv_config_print(const srv_config_t *cfg, FILE *out);
/* Writes docs/config.md. */
void srv_config_markdown(FILE *out);
/* Writes the srv(1) man page (roff) from the key table. */
void srv_config_man(FILE *out);
/* Nonzero when cfg serves its built-in app rather than the WSGI app: when
 * only builtin is set, or both are and builtin came from a source of
 * higher precedence (srv_config_validate() refuses both from one source). */
int srv_config_serves_builtin(const srv_config_t *cfg);

/* Nonzero when key has the same value in a and b. */
int srv_config_same(const srv_config_t *a, const srv_config_t *b, int key);

/* A listening address from `bind`. */
typedef enum srv_addr_kind_e { SRV_ADDR_TCP = 0, SRV_ADDR_UNIX } srv_addr_kind_t;

typedef struct srv_addr_s {
    srv_addr_kind_t kind;
    char host[256]; /* TCP: a name or an address, without brackets; "" = any */
    int port;       /* TCP: 0..65535 (0: let the system pick) */
    char path[256]; /* UNIX */
} srv_addr_t;

/* Parses HOST:PORT, [IPV6]:PORT, :PORT, HOST (port 8000) or unix:PATH.
 * Returns 0, or SRV_EINVAL with *why set. */
int srv_addr_parse(const char *s, srv_addr_t *out, const char **why);

#endif
