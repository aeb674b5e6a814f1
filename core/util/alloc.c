/* alloc.c: the replaceable allocator. */
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

static srv_allocator_t g_alloc = {malloc, realloc, free};

void srv_set_allocator(const srv_allocator_t *a)
{
    if (a == NULL) {
        g_alloc.malloc_fn = malloc;
        g_alloc.realloc_fn = realloc;
        g_alloc.free_fn = free;
    } else {
        g_alloc = *a;
    }
}

void *srv_malloc(size_t n)
{
    return g_alloc.malloc_fn(n ? n : 1);
}

void *srv_calloc(size_t count, size_t size)
{
    void *p;

    if (size != 0 && count > (size_t)-1 / size)
        return NULL;
    p = srv_malloc(count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

void *srv_realloc(void *p, size_t n)
{
    return g_alloc.realloc_fn(p, n ? n : 1);
}

void srv_free(void *p)
{
    if (p != NULL)
        g_alloc.free_fn(p);
}

char *srv_strndup(const char *s, size_t len)
{
    char *d = srv_malloc(len + 1);

    if (d != NULL) {
        if (len)
            memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

char *srv_strdup(const char *s)
{
    return srv_strndup(s, strlen(s));
}
