/*
 * Reference space-to-depth and depth-to-space, PyTorch's pixel_unshuffle
 * and pixel_shuffle channel order (netlib.h):
 *
 *   s2d: dst[y][x][c*r*r + i*r + j] = src[y*r + i][x*r + j][c]
 *   d2s: dst[y*r + i][x*r + j][c]   = src[y][x][c*r*r + i*r + j]
 *
 * for 0 <= i, j < r.  Pure copies: src and dst of one type, no overlap.
 * Both compute output rows [y0, y1) only (any split over threads).
 * d2s(s2d(t)) == t for every r.
 */
#include <assert.h>
#include <string.h>

#include "netlib/netlib.h"
#include "netlib/ref/elem.h"

static void copy_elem(const nl_tensor *src, int sy, ptrdiff_t si,
                      nl_tensor *dst, int dy, ptrdiff_t di)
{
    memcpy(nl_elem_ptr(dst, dy, di), nl_elem_ptr(src, sy, si),
           (size_t)nl_elem_size(src->type));
}

void nl_s2d_ref(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1)
{
    assert(nl_tensor_ok(src) && nl_tensor_ok(dst) && src->type == dst->type);
    assert(r >= 1 && src->h % r == 0 && src->w % r == 0);
    assert(dst->h == src->h / r && dst->w == src->w / r &&
           dst->c == src->c * r * r);

    assert(0 <= y0 && y0 <= y1 && y1 <= dst->h);

    for (int y = y0; y < y1; y++)
        for (int x = 0; x < dst->w; x++)
            for (int c = 0; c < src->c; c++)
                for (int i = 0; i < r; i++)
                    for (int j = 0; j < r; j++)
                        copy_elem(src, y * r + i, (ptrdiff_t)(x * r + j) * src->c + c,
                                  dst, y, (ptrdiff_t)x * dst->c + (c * r + i) * r + j);
}

void nl_d2s_ref(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1)
{
    assert(nl_tensor_ok(src) && nl_tensor_ok(dst) && src->type == dst->type);
    assert(r >= 1 && src->c % (r * r) == 0);
    assert(dst->h == src->h * r && dst->w == src->w * r &&
           dst->c == src->c / (r * r));

    assert(0 <= y0 && y0 <= y1 && y1 <= dst->h);

    for (int yo = y0; yo < y1; yo++) {
        const int y = yo / r, i = yo % r;
        for (int x = 0; x < src->w; x++)
            for (int c = 0; c < dst->c; c++)
                for (int j = 0; j < r; j++)
                    copy_elem(src, y, (ptrdiff_t)x * src->c + (c * r + i) * r + j,
                              dst, yo, (ptrdiff_t)(x * r + j) * dst->c + c);
    }
}
