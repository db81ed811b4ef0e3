/*
 * Element access shared by the reference kernels: every nl_type is read
 * as int32_t and written from an int32_t that already lies inside the
 * type's range (nl_type_range), so a store never truncates.
 */
#ifndef NEUVC_NETLIB_REF_ELEM_H
#define NEUVC_NETLIB_REF_ELEM_H

#include <stddef.h>
#include <stdint.h>

#include "netlib/netlib.h"

static inline ptrdiff_t nl_elem_size(nl_type t)
{
    return t == NL_S32 ? 4 : t == NL_S16 ? 2 : 1;
}

/* Address of element i (0 <= i < w * c) of row y (0 <= y < h). */
static inline void *nl_elem_ptr(const nl_tensor *t, int y, ptrdiff_t i)
{
    return (char *)t->data + ((ptrdiff_t)y * t->stride + i) * nl_elem_size(t->type);
}

static inline int32_t nl_elem_load(const void *p, nl_type t)
{
    switch (t) {
    case NL_U8: return *(const uint8_t *)p;
    case NL_S8: return *(const int8_t *)p;
    case NL_S16: return *(const int16_t *)p;
    default: return *(const int32_t *)p;
    }
}

/* v within nl_type_range(t). */
static inline void nl_elem_store(void *p, nl_type t, int32_t v)
{
    switch (t) {
    case NL_U8: *(uint8_t *)p = (uint8_t)v; break;
    case NL_S8: *(int8_t *)p = (int8_t)v; break;
    case NL_S16: *(int16_t *)p = (int16_t)v; break;
    default: *(int32_t *)p = v; break;
    }
}

/* A usable view: data set, 1 <= h, w, 1 <= c <= NL_CHANNELS_MAX, a valid
 * type, and rows that do not overlap (stride >= w * c). */
static inline int nl_tensor_ok(const nl_tensor *t)
{
    return t && t->data && t->h >= 1 && t->w >= 1 && t->c >= 1 &&
           t->c <= NL_CHANNELS_MAX && t->type >= NL_U8 && t->type < NL_NTYPES &&
           t->stride >= (ptrdiff_t)t->w * t->c;
}

static inline int nl_same_shape(const nl_tensor *p, const nl_tensor *q)
{
    return p->h == q->h && p->w == q->w && p->c == q->c;
}

#endif
