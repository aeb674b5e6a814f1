/* alloc.h: the allocator every part of srv uses, replaceable so that tests
 * can fail the Nth allocation and check that the failure is handled. */
#ifndef SRV_UTIL_ALLOC_H
#define SRV_UTIL_ALLOC_H

#include <stddef.h>

typedef struct srv_allocator_s {
    void *(*malloc_fn)(size_t n);
    void *(*realloc_fn)(void *p, size_t n);
    void (*free_fn)(void *p);
} srv_allocator_t;

/* Replaces the allocator; NULL restores the C library's. Call it before any
 * other srv function: memory must be freed by the allocator that made it. */
void srv_set_allocator(const srv_allocator_t *a);

/* As malloc/calloc/realloc/free. They return NULL on failure (and for a zero
 * size they return a unique pointer that must be freed). */
void *srv_malloc(size_t n);
void *srv_calloc(size_t count, size_t size);
void *srv_realloc(void *p, size_t n);
void srv_free(void *p);
/* Returns a NUL-terminated copy of s[0..len) (owned by the caller) or NULL. */
char *srv_strndup(const char *s, size_t len);
char *srv_strdup(const char *s);

#endif
