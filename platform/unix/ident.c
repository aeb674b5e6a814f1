/* ident.c: the user and group the workers run as. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unix/plat_int.h"
#include "util/log.h"

static int all_digits(const char *s)
{
    return s[0] != '\0' && strspn(s, "0123456789") == strlen(s);
}

int srv__plat_resolve_ident(const srv_config_t *cfg, srv_ident_t *id)
{
    const char *user = SRV_CFG_STR(cfg, user), *group = SRV_CFG_STR(cfg, group);
    struct passwd *pw = NULL;
    struct group *gr;

    memset(id, 0, sizeof(*id));
    if (user[0] == '\0' && group[0] == '\0')
        return 0;
    id->uid = getuid();
    id->gid = getgid();
    if (user[0] != '\0') {
        pw = all_digits(user) ? getpwuid((uid_t)strtoul(user, NULL, 10)) : getpwnam(user);
        if (pw == NULL && !all_digits(user)) {
            srv_log_error("user '%s' does not exist", user);
            return SRV_ECONFIG;
        }
        id->uid = pw ? pw->pw_uid : (uid_t)strtoul(user, NULL, 10);
        id->gid = pw ? pw->pw_gid : id->gid;
        snprintf(id->name, sizeof(id->name), "%s", pw ? pw->pw_name : user);
    }
    if (group[0] != '\0') {
        gr = all_digits(group) ? getgrgid((gid_t)strtoul(group, NULL, 10)) : getgrnam(group);
        if (gr == NULL && !all_digits(group)) {
            srv_log_error("group '%s' does not exist", group);
            return SRV_ECONFIG;
        }
        id->gid = gr ? gr->gr_gid : (gid_t)strtoul(group, NULL, 10);
    }
    id->set = 1;
    return 0;
}

int srv__plat_drop_privileges(const srv_ident_t *id)
{
    if (!id->set)
        return 0;
    /* Groups first: once the uid changes, the process may not. */
    if (geteuid() == 0 && setgroups(0, NULL) != 0) {
        srv_log_error("setgroups: %s", strerror(errno));
        return srv__plat_err(errno);
    }
    if (setgid(id->gid) != 0 || setuid(id->uid) != 0) {
        srv_log_error("cannot switch to uid %d, gid %d: %s", (int)id->uid, (int)id->gid,
                      strerror(errno));
        return srv__plat_err(errno);
    }
    return 0;
}
