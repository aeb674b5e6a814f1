/* list.h: an intrusive, circular, doubly linked list (no allocation).
 * A node is embedded in the struct it links; srv_list_entry() gets the struct
 * back. An unlinked node points at itself, so srv_list_unlink() is safe to
 * call twice. */
#ifndef SRV_UTIL_LIST_H
#define SRV_UTIL_LIST_H

#include <stddef.h>

typedef struct srv_list_s {
    struct srv_list_s *next;
    struct srv_list_s *prev;
} srv_list_t;

#define srv_list_entry(node, type, member) ((type *)((char *)(node)-offsetof(type, member)))

static inline void srv_list_init(srv_list_t *l)
{
    l->next = l;
    l->prev = l;
}

static inline int srv_list_empty(const srv_list_t *l)
{
    return l->next == l;
}

/* Nonzero when node is linked into some list. */
static inline int srv_list_linked(const srv_list_t *node)
{
    return node->next != node;
}

static inline void srv_list_push_tail(srv_list_t *l, srv_list_t *node)
{
    node->prev = l->prev;
    node->next = l;
    l->prev->next = node;
    l->prev = node;
}

static inline void srv_list_push_head(srv_list_t *l, srv_list_t *node)
{
    node->next = l->next;
    node->prev = l;
    l->next->prev = node;
    l->next = node;
}

static inline void srv_list_unlink(srv_list_t *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    srv_list_init(node);
}

/* Removes and returns the first node, or NULL when l is empty. */
static inline srv_list_t *srv_list_pop_head(srv_list_t *l)
{
    srv_list_t *n = l->next;

    if (n == l)
        return NULL;
    srv_list_unlink(n);
    return n;
}

/* Moves every node of from to the tail of to; from ends up empty. */
static inline void srv_list_splice_tail(srv_list_t *to, srv_list_t *from)
{
    if (srv_list_empty(from))
        return;
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    srv_list_init(from);
}

#endif
