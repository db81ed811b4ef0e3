/*
 * Reference in-place clamp: t[y][x][c] = min(max(t[y][x][c], lo), hi) for
 * rows [y0, y1), any type, lo <= hi within the type's range (so the result
 * is always storable).  ReLU is lo = 0.
 */
#include <assert.h>

#include "netlib/netlib.h"
#include "netlib/ref/elem.h"

void nl_clamp_ref(nl_tensor *t, int32_t lo, int32_t hi, int y0, int y1)
{
    assert(nl_tensor_ok(t));
    assert(0 <= y0 && y0 <= y1 && y1 <= t->h);
#ifndef NDEBUG
    int32_t tlo, thi;
    nl_type_range(t->type, &tlo, &thi);
    assert(tlo <= lo && lo <= hi && hi <= thi);
#endif
    const ptrdiff_t n = (ptrdiff_t)t->w * t->c;

    for (int y = y0; y < y1; y++) {
        for (ptrdiff_t i = 0; i < n; i++) {
            void *p = nl_elem_ptr(t, y, i);
            int32_t v = nl_elem_load(p, t->type);
            if (v < lo)
                v = lo;
            if (v > hi)
                v = hi;
            nl_elem_store(p, t->type, v);
        }
    }
}
