/*
 * Data movement with NEON (baseline aarch64): space-to-depth,
 * depth-to-space (r = 2 and 4, the factors the model uses; other r run
 * the reference) and concatenation.  Contracts and element order: the
 * references (netlib/ref/shuffle.c, concat.c).  Pure copies of elements
 * of es = 1, 2 or 4 bytes, so trivially exact; src and dst never overlap.
 *
 * s2d, per output pixel x and channel block [c0, c0 + L) (L = 16 / es
 * channels, one 16-byte vector per source pixel x * r + j of source row
 * y * r + i): the r * r vectors V(i, j) go to dst elements
 * c * r * r + i * r + j, an r * r-way interleave of units of es bytes.
 *   r = 2: ST4 of (V(0,0), V(0,1), V(1,0), V(1,1)) at lanes of es bytes.
 *   r = 4: for each i, ST4 of V(i, 0..3) (lanes of es bytes) into a 64-byte
 *          block T(i); then ST4 of the four T(i) at lanes of 4 * es bytes,
 *          16 bytes of each T(i) at a time.
 * d2s is the inverse with LD4 (output row y * r + i keeps the i-th of the
 * loaded vectors).  Channel counts that are not a multiple of L finish
 * with one more block ending at the last channel, overlapping the one
 * before (the same bytes written twice).  Pixels of fewer than L channels
 * (on the side with fewer) go through a staging buffer: the pixel's
 * channels moved into a zeroed 16-byte slot each, one block computed there,
 * the valid bytes moved out.
 *
 * concat: each part of a pixel (na, nb bytes) moved with 16-byte vectors,
 * the last one ending at the part's end (overlapping), 8- or 4-byte moves
 * for parts below 16 bytes: nothing outside a part is read or written.
 */
#include <arm_neon.h>
#include <string.h>

#include "netlib/arm/conv_arm.h"
#include "netlib/netlib.h"
#include "netlib/ref/elem.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* d[0..63]: the 4-way interleave of the 16 bytes at p0 .. p3, in lanes of
 * lb = 1, 2, 4, 8 or 16 bytes (ST4). */
ALWAYS_INLINE void zip4(uint8_t *d, const uint8_t *p0, const uint8_t *p1, const uint8_t *p2,
                        const uint8_t *p3, const int lb)
{
    const uint8x16_t a = vld1q_u8(p0), b = vld1q_u8(p1), c = vld1q_u8(p2), e = vld1q_u8(p3);
    switch (lb) {
    case 1: {
        const uint8x16x4_t v = { { a, b, c, e } };
        vst4q_u8(d, v);
        break;
    }
    case 2: {
        const uint16x8x4_t v = { { vreinterpretq_u16_u8(a), vreinterpretq_u16_u8(b),
                                   vreinterpretq_u16_u8(c), vreinterpretq_u16_u8(e) } };
        vst4q_u16((uint16_t *)(void *)d, v);
        break;
    }
    case 4: {
        const uint32x4x4_t v = { { vreinterpretq_u32_u8(a), vreinterpretq_u32_u8(b),
                                   vreinterpretq_u32_u8(c), vreinterpretq_u32_u8(e) } };
        vst4q_u32((uint32_t *)(void *)d, v);
        break;
    }
    case 8: {
        const uint64x2x4_t v = { { vreinterpretq_u64_u8(a), vreinterpretq_u64_u8(b),
                                   vreinterpretq_u64_u8(c), vreinterpretq_u64_u8(e) } };
        vst4q_u64((uint64_t *)(void *)d, v);
        break;
    }
    default:
        vst1q_u8(d, a);
        vst1q_u8(d + 16, b);
        vst1q_u8(d + 32, c);
        vst1q_u8(d + 48, e);
        break;
    }
}

/* The inverse of zip4 for one of the four: the 16 bytes of lane group k
 * (0..3) of the 64 bytes at s, in lanes of lb bytes (LD4). */
ALWAYS_INLINE uint8x16_t unzip4(const uint8_t *s, const int lb, const int k)
{
    switch (lb) {
    case 1: return vld4q_u8(s).val[k];
    case 2: return vreinterpretq_u8_u16(vld4q_u16((const uint16_t *)(const void *)s).val[k]);
    case 4: return vreinterpretq_u8_u32(vld4q_u32((const uint32_t *)(const void *)s).val[k]);
    case 8: return vreinterpretq_u8_u64(vld4q_u64((const uint64_t *)(const void *)s).val[k]);
    default: return vld1q_u8(s + 16 * k);
    }
}

/* n bytes from s to d (no overlap between them), nothing outside. */
ALWAYS_INLINE void move(uint8_t *d, const uint8_t *s, ptrdiff_t n)
{
    if (n >= 16) {
        ptrdiff_t o = 0;
        for (; o + 16 <= n; o += 16)
            vst1q_u8(d + o, vld1q_u8(s + o));
        if (o < n)
            vst1q_u8(d + n - 16, vld1q_u8(s + n - 16));
    } else if (n >= 8) {
        const uint8x8_t a = vld1_u8(s), b = vld1_u8(s + n - 8);
        vst1_u8(d, a);
        vst1_u8(d + n - 8, b);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else {
        for (ptrdiff_t o = 0; o < n; o++)
            d[o] = s[o];
    }
}

/* ------------------------------------------------------ space-to-depth */

/* One channel block of one output pixel: L = 16 / es channels from p
 * (source pixel j of source row i at p + i * rs + j * spx) to the 16 * r * r
 * bytes at q. */
ALWAYS_INLINE void s2d_block(uint8_t *q, const uint8_t *p, ptrdiff_t spx, ptrdiff_t rs,
                             const int r, const int es)
{
    if (r == 2) {
        zip4(q, p, p + spx, p + rs, p + rs + spx, es);
        return;
    }
    uint8_t t[4][64];
    for (int i = 0; i < 4; i++) {
        const uint8_t *pi = p + i * rs;
        zip4(t[i], pi, pi + spx, pi + 2 * spx, pi + 3 * spx, es);
    }
    for (int k = 0; k < 4; k++)
        zip4(q + 64 * k, t[0] + 16 * k, t[1] + 16 * k, t[2] + 16 * k, t[3] + 16 * k, 4 * es);
}

ALWAYS_INLINE void s2d_rows(const nl_tensor *src, nl_tensor *dst, const int r, const int es,
                            int y0, int y1)
{
    const int cin = src->c, L = 16 / es, wd = dst->w;
    const ptrdiff_t spx = (ptrdiff_t)cin * es, dpx = (ptrdiff_t)dst->c * es;
    const ptrdiff_t rs = src->stride * es;
    /* Pixels of fewer than L channels: the r * r source pixels staged 16
     * bytes apart, one block into t, its first dpx bytes out. */
    uint8_t stage[16 * 16], t[16 * 16];
    memset(stage, 0, sizeof(stage));
    for (int y = y0; y < y1; y++) {
        const uint8_t *s = nl_elem_ptr(src, y * r, 0);
        uint8_t *d = nl_elem_ptr(dst, y, 0);
        for (int x = 0; x < wd; x++) {
            const uint8_t *sx = s + x * r * spx;
            uint8_t *dx = d + x * dpx;
            if (cin < L) {
                for (int i = 0; i < r; i++)
                    for (int j = 0; j < r; j++)
                        move(stage + (i * r + j) * 16, sx + i * rs + j * spx, spx);
                s2d_block(t, stage, 16, 16 * r, r, es);
                move(dx, t, dpx);
                continue;
            }
            for (int c0 = 0; c0 < cin; c0 += L) {
                const int c = c0 + L <= cin ? c0 : cin - L; /* the last block overlaps */
                s2d_block(dx + (ptrdiff_t)c * r * r * es, sx + c * es, spx, rs, r, es);
            }
        }
    }
}

/* r = 2 or 4 and es = 1, 2 or 4 through rows (each pair its own
 * constants), other r the reference. */
#define SHUFFLE_DISPATCH(rows, ref)                                                     \
    do {                                                                                \
        const int es = (int)nl_type_size(src->type);                                    \
        if (r != 2 && r != 4)                                                           \
            ref(src, dst, r, y0, y1);                                                   \
        else if (es == 1)                                                               \
            r == 2 ? rows(src, dst, 2, 1, y0, y1) : rows(src, dst, 4, 1, y0, y1);       \
        else if (es == 2)                                                               \
            r == 2 ? rows(src, dst, 2, 2, y0, y1) : rows(src, dst, 4, 2, y0, y1);       \
        else                                                                            \
            r == 2 ? rows(src, dst, 2, 4, y0, y1) : rows(src, dst, 4, 4, y0, y1);       \
    } while (0)

static void nl_s2d_neon(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1)
{
    SHUFFLE_DISPATCH(s2d_rows, nl_s2d_ref);
}

/* ------------------------------------------------------ depth-to-space */

/* One channel block of output row y * r + i: the 16 * r * r bytes at p
 * (L = 16 / es channels of one source pixel) to output pixels j at q + j *
 * dpx, 16 bytes each. */
ALWAYS_INLINE void d2s_block(uint8_t *q, const uint8_t *p, ptrdiff_t dpx, const int r,
                             const int es, int i)
{
    if (r == 2) {
        /* LD4 groups (i, j) = 2 * i + j. */
        vst1q_u8(q, unzip4(p, es, 2 * i));
        vst1q_u8(q + dpx, unzip4(p, es, 2 * i + 1));
        return;
    }
    uint8_t t[64];
    for (int k = 0; k < 4; k++)
        vst1q_u8(t + 16 * k, unzip4(p + 64 * k, 4 * es, i));
    const uint8x16_t v0 = unzip4(t, es, 0), v1 = unzip4(t, es, 1);
    const uint8x16_t v2 = unzip4(t, es, 2), v3 = unzip4(t, es, 3);
    vst1q_u8(q, v0);
    vst1q_u8(q + dpx, v1);
    vst1q_u8(q + 2 * dpx, v2);
    vst1q_u8(q + 3 * dpx, v3);
}

ALWAYS_INLINE void d2s_rows(const nl_tensor *src, nl_tensor *dst, const int r, const int es,
                            int y0, int y1)
{
    const int cout = dst->c, L = 16 / es, ws = src->w;
    const ptrdiff_t spx = (ptrdiff_t)src->c * es, dpx = (ptrdiff_t)cout * es;
    /* Pixels of fewer than L channels: the source pixel staged into the
     * first spx bytes, one block into t (16 bytes per output pixel), the
     * first dpx bytes of each out. */
    uint8_t stage[16 * 16], t[16 * 4];
    memset(stage, 0, sizeof(stage));
    for (int yo = y0; yo < y1; yo++) {
        const int i = yo % r;
        const uint8_t *s = nl_elem_ptr(src, yo / r, 0);
        uint8_t *d = nl_elem_ptr(dst, yo, 0);
        for (int x = 0; x < ws; x++) {
            const uint8_t *sx = s + x * spx;
            uint8_t *dx = d + x * r * dpx;
            if (cout < L) {
                move(stage, sx, spx);
                d2s_block(t, stage, 16, r, es, i);
                for (int j = 0; j < r; j++)
                    move(dx + j * dpx, t + 16 * j, dpx);
                continue;
            }
            for (int c0 = 0; c0 < cout; c0 += L) {
                const int c = c0 + L <= cout ? c0 : cout - L; /* the last block overlaps */
                d2s_block(dx + c * es, sx + (ptrdiff_t)c * r * r * es, dpx, r, es, i);
            }
        }
    }
}

static void nl_d2s_neon(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1)
{
    SHUFFLE_DISPATCH(d2s_rows, nl_d2s_ref);
}

/* ------------------------------------------------------------- concat */

static void nl_concat_neon(const nl_tensor *a, const nl_tensor *b, nl_tensor *dst, int y0,
                           int y1)
{
    const ptrdiff_t es = (ptrdiff_t)nl_type_size(dst->type);
    const ptrdiff_t na = a->c * es, nb = b->c * es, nd = dst->c * es;
    for (int y = y0; y < y1; y++) {
        const uint8_t *pa = nl_elem_ptr(a, y, 0), *pb = nl_elem_ptr(b, y, 0);
        uint8_t *d = nl_elem_ptr(dst, y, 0);
        for (int x = 0; x < dst->w; x++) {
            move(d + x * nd, pa + x * na, na);
            move(d + x * nd + na, pb + x * nb, nb);
        }
    }
}

void nl_dsp_init_arm_neon_shuffle(nl_dsp *d)
{
    d->s2d = nl_s2d_neon;          d->s2d_name = "nl_s2d_neon";
    d->d2s = nl_d2s_neon;          d->d2s_name = "nl_d2s_neon";
    d->concat = nl_concat_neon;    d->concat_name = "nl_concat_neon";
}
