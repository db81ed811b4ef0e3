/*
 * Space-to-depth and depth-to-space in plain C (no ISA flags): the
 * reference's element order (netlib/ref/shuffle.c) through a table of
 * source offsets built once per call, so the inner loop is a gather with
 * a fixed element size.  Pure copies, so trivially exact.  Channel counts
 * whose table would exceed OFF_MAX entries run the reference.
 */
#include <stdint.h>
#include <string.h>

#include "netlib/ref/elem.h"
#include "netlib/x86/elem_x86.h"

#define OFF_MAX 4096

#define GATHER(T)                                                                      \
    do {                                                                               \
        T *dd = (T *)d;                                                                \
        const T *ss = (const T *)s;                                                    \
        for (int e = 0; e < n; e++)                                                    \
            dd[e] = ss[off[e]];                                                        \
    } while (0)

/* d[e] = s[off[e]] for e < n, elements of es bytes. */
static inline void gather(void *d, const void *s, const ptrdiff_t *off, int n, ptrdiff_t es)
{
    switch (es) {
    case 1: GATHER(uint8_t); break;
    case 2: GATHER(int16_t); break;
    default: GATHER(int32_t); break;
    }
}

void nl_s2d_c_fast(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1)
{
    const int cin = src->c, n = dst->c;
    if (n > OFF_MAX) {
        nl_s2d_ref(src, dst, r, y0, y1);
        return;
    }
    const ptrdiff_t es = nl_elem_size(src->type);
    ptrdiff_t off[OFF_MAX];
    /* dst element c * r * r + i * r + j of pixel x is src element c of
     * pixel x * r + j in row y * r + i. */
    for (int c = 0; c < cin; c++)
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++)
                off[(c * r + i) * r + j] = (ptrdiff_t)i * src->stride + (ptrdiff_t)j * cin + c;
    for (int y = y0; y < y1; y++) {
        const char *srow = (const char *)src->data + (ptrdiff_t)y * r * src->stride * es;
        char *drow = (char *)dst->data + (ptrdiff_t)y * dst->stride * es;
        for (int x = 0; x < dst->w; x++)
            gather(drow + (ptrdiff_t)x * n * es, srow + (ptrdiff_t)x * r * cin * es, off, n, es);
    }
}

void nl_d2s_c_fast(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1)
{
    const int cout = dst->c, n = r * cout;
    if (n > OFF_MAX) {
        nl_d2s_ref(src, dst, r, y0, y1);
        return;
    }
    const ptrdiff_t es = nl_elem_size(src->type);
    ptrdiff_t off[OFF_MAX];
    int have_i = -1;
    for (int yo = y0; yo < y1; yo++) {
        const int y = yo / r, i = yo % r;
        /* dst pixel x * r + j, channel c, is src element c * r * r + i * r
         * + j of pixel x: a run of r * cout dst elements per src pixel. */
        if (i != have_i) {
            for (int j = 0; j < r; j++)
                for (int c = 0; c < cout; c++)
                    off[j * cout + c] = ((ptrdiff_t)c * r + i) * r + j;
            have_i = i;
        }
        const char *srow = (const char *)src->data + (ptrdiff_t)y * src->stride * es;
        char *drow = (char *)dst->data + (ptrdiff_t)yo * dst->stride * es;
        for (int x = 0; x < src->w; x++)
            gather(drow + (ptrdiff_t)x * n * es, srow + (ptrdiff_t)x * src->c * es, off, n, es);
    }
}
