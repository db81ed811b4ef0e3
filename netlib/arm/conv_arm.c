/*
 * ARM convolutions: the prepare hook's shared part (weight packing and
 * epilogue constants, layout in conv_arm.h), row staging and the driver
 * that walks x-chunks, rows and tiles.  Baseline aarch64 (NEON) only: it
 * runs once per plan, once per staged row, once per tile call.
 */
#include "netlib/arm/conv_arm.h"

#include <arm_neon.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "neuvc/neuvc.h"
#include "netlib/conv_common.h"

int nl_arm_conv_pack(nl_conv_plan *plan, int dot, const int *pix, int max_nv)
{
    const nl_conv_desc *d = &plan->desc;
    nl_arm_conv head;
    memset(&head, 0, sizeof(head));
    head.k = d->k;
    head.stride = d->stride;
    head.cin = d->cin;
    head.cout = d->cout;
    head.dot = dot;
    if (dot) {
        head.stage = d->in_type == NL_U8 ? NL_ARM_STAGE_U8_TO_S8
                   : d->in_type == NL_S16 ? NL_ARM_STAGE_S16_SPLIT : NL_ARM_STAGE_COPY;
        head.es = 1;
        head.lanes = 4;
        head.subs = 4;
    } else {
        head.stage = d->in_type == NL_U8 ? NL_ARM_STAGE_U8_TO_S16
                   : d->in_type == NL_S8 ? NL_ARM_STAGE_S8_TO_S16 : NL_ARM_STAGE_COPY;
        head.es = 2;
        head.lanes = 8;
        head.subs = 8;
    }
    head.planes = head.stage == NL_ARM_STAGE_S16_SPLIT ? 2 : 1;
    head.pad_byte = head.stage == NL_ARM_STAGE_U8_TO_S8 ? 0x80 : 0;
    const int E = 16 / head.es;                  /* elements per group */
    head.groups = (d->k * d->cin + E - 1) / E;
    head.nblk = (d->cout + head.lanes - 1) / head.lanes;
    head.nv = nl_conv_pick_nv(head.nblk, max_nv);
    head.pix_max = nl_conv_pix_max(pix, head.nblk, head.nv);
    for (int nv = 1; nv <= NL_ARM_MAX_NV; nv++)
        head.pix[nv] = nv <= max_nv ? pix[nv] : 0;
    head.out_type = d->out_type;
    head.oes = (int)nl_type_size(d->out_type);
    head.lo = d->rq.lo;
    head.hi = d->rq.hi;

    /* x-chunk: a chunk of n columns runs tiles up to column n + pix_max - 2,
     * which read staged pixels up to (n + pix_max - 2) * stride + k - 1 and
     * then at most 15 bytes more (the last group). */
    head.row_bytes = NL_ARM_ROW_BYTES(d->k * head.planes);
    const long px_bytes = (long)d->cin * head.es;
    const long chunk = nl_conv_chunk((head.row_bytes - 16) / px_bytes, d->k, d->stride,
                                     head.pix_max);
    if (chunk < 0)
        return (int)chunk;
    head.chunk = (int)chunk; /* < NL_ARM_STAGE_BYTES */

    /* One allocation: head, weights, acc0, mult, nshift.  Sizes: nblk *
     * lanes <= 2^16 + 7; weights per block k * G * S * 16 <= 3 * (3 * 2^16
     * / 8 + 1) * 128 < 2^24 bytes, times nblk <= 2^14 + 1: below 2^39. */
    const size_t nch = (size_t)head.nblk * (size_t)head.lanes;
    const size_t w_bytes = (size_t)head.nblk * (size_t)d->k * (size_t)head.groups *
                           (size_t)head.subs * 16;
    const size_t parts[5] = { sizeof(nl_arm_conv), w_bytes, nch * sizeof(int32_t),
                              nch * sizeof(int32_t), nch * sizeof(int64_t) };
    size_t off[5];
    uint8_t *mem = nl_conv_arena(parts, 5, off);
    if (!mem)
        return NEUVC_ERR(ENOMEM);
    uint8_t *w = mem + off[1];
    int32_t *acc0 = (int32_t *)(mem + off[2]);
    int32_t *mult = (int32_t *)(mem + off[3]);
    int64_t *nsh = (int64_t *)(mem + off[4]);

    /* Weights, tile by tile, in the order the kernels walk them. */
    const int G = head.groups, S = head.subs, Q = E / S;
    uint8_t *wp = w;
    for (int b0 = 0; b0 < head.nblk; b0 += head.nv) {
        int nvt = head.nblk - b0 < head.nv ? head.nblk - b0 : head.nv;
        for (int ky = 0; ky < d->k; ky++)
            for (int g = 0; g < G; g++)
                for (int u = 0; u < S; u++)
                    for (int j = 0; j < nvt; j++)
                        for (int l = 0; l < head.lanes; l++) {
                            int o = (b0 + j) * head.lanes + l;
                            for (int q = 0; q < Q; q++) {
                                int v = nl_conv_weight_at(d, o, ky, g * E + u * Q + q);
                                if (dot) {
                                    *wp++ = (uint8_t)(int8_t)v;
                                } else {
                                    int16_t v16 = (int16_t)v;
                                    memcpy(wp, &v16, 2);
                                    wp += 2;
                                }
                            }
                        }
    }
    assert((size_t)(wp - w) == w_bytes);

    for (int o = 0; o < d->cout; o++) {
        /* The U8_TO_S8 kernels see x - 128. */
        acc0[o] = nl_conv_acc0(d, o, head.stage == NL_ARM_STAGE_U8_TO_S8 ? -128 : 0);
        mult[o] = d->rq.mult[o];
        nsh[o] = -(int64_t)d->rq.shift[o];
    }

    head.w = w;
    head.acc0 = acc0;
    head.mult = mult;
    head.nshift = nsh;
    memcpy(mem, &head, sizeof(head));
    plan->priv = mem;
    return 0;
}

/* Converts n source elements into the staged plane(s). */
static void stage_cvt(const nl_arm_conv *c, uint8_t *dst0, uint8_t *dst1, const void *src,
                      size_t n)
{
    size_t i = 0;
    switch (c->stage) {
    case NL_ARM_STAGE_COPY:
        memcpy(dst0, src, n * (size_t)c->es);
        return;
    case NL_ARM_STAGE_U8_TO_S8: {
        const uint8_t *s = src;
        const uint8x16_t x80 = vdupq_n_u8(0x80);
        for (; i + 16 <= n; i += 16)
            vst1q_u8(dst0 + i, veorq_u8(vld1q_u8(s + i), x80));
        for (; i < n; i++)
            dst0[i] = s[i] ^ 0x80; /* (uint8_t)(x - 128) */
        return;
    }
    case NL_ARM_STAGE_S16_SPLIT: {
        /* hi = (x + 128) >> 8, lo = x - 256 * hi = the low byte as s8. */
        const int16_t *s = src;
        int8_t *h = (int8_t *)dst0, *l = (int8_t *)dst1;
        const int16x8_t r = vdupq_n_s16(128);
        for (; i + 8 <= n; i += 8) {
            int16x8_t x = vld1q_s16(s + i);
            vst1_s8(h + i, vmovn_s16(vshrq_n_s16(vaddq_s16(x, r), 8)));
            vst1_s8(l + i, vmovn_s16(x));
        }
        for (; i < n; i++) {
            int hi = (s[i] + 128) >> 8; /* |x| <= 4096: no overflow, in [-16, 16] */
            h[i] = (int8_t)hi;
            l[i] = (int8_t)(s[i] - 256 * hi);
        }
        return;
    }
    case NL_ARM_STAGE_U8_TO_S16: {
        const uint8_t *s = src;
        int16_t *o = (int16_t *)dst0;
        for (; i + 8 <= n; i += 8)
            vst1q_s16(o + i, vreinterpretq_s16_u16(vmovl_u8(vld1_u8(s + i))));
        for (; i < n; i++)
            o[i] = s[i];
        return;
    }
    case NL_ARM_STAGE_S8_TO_S16: {
        const int8_t *s = src;
        int16_t *o = (int16_t *)dst0;
        for (; i + 8 <= n; i += 8)
            vst1q_s16(o + i, vmovl_s8(vld1_s8(s + i)));
        for (; i < n; i++)
            o[i] = s[i];
        return;
    }
    }
}

/* Stages input row iy, columns ix0 .. ix0 + npx - 1 (any of them may lie
 * outside the picture, as may the row: padding) into buf0 (and buf1, the
 * lo plane of a split), npx * cin elements of c->es bytes. */
static void stage_row(const nl_arm_conv *c, const nl_tensor *src, int iy, int ix0, int npx,
                      uint8_t *buf0, uint8_t *buf1)
{
    const size_t px_bytes = (size_t)c->cin * (size_t)c->es;
    uint8_t *bufs[2] = { buf0, buf1 };
    if (iy < 0 || iy >= src->h) {
        for (int p = 0; p < c->planes; p++)
            memset(bufs[p], c->pad_byte, (size_t)npx * px_bytes);
        return;
    }
    /* Columns [a, b) of the run lie inside the picture. */
    int a, b;
    nl_conv_row_span(ix0, npx, src->w, &a, &b);
    for (int p = 0; p < c->planes; p++) {
        memset(bufs[p], c->pad_byte, (size_t)a * px_bytes);
        memset(bufs[p] + (size_t)b * px_bytes, c->pad_byte, (size_t)(npx - b) * px_bytes);
    }
    if (b > a) {
        const size_t in_es = nl_type_size(src->type);
        const uint8_t *row = (const uint8_t *)src->data +
                             ((ptrdiff_t)iy * src->stride + (ptrdiff_t)(ix0 + a) * c->cin) *
                             (ptrdiff_t)in_es;
        stage_cvt(c, buf0 + (size_t)a * px_bytes, buf1 ? buf1 + (size_t)a * px_bytes : NULL,
                  row, (size_t)(b - a) * (size_t)c->cin);
    }
}

void nl_arm_conv_run(const nl_conv_plan *plan, const nl_tensor *src, nl_tensor *dst, int y0,
                     int y1, const nl_arm_tile_fn *tiles)
{
    const nl_arm_conv *c = plan->priv;
    _Alignas(64) uint8_t stage[NL_ARM_STAGE_BYTES];
    const int k = c->k, s = c->stride, pad = k / 2, np = c->planes;
    /* Slot (plane pl, ring position r): k * planes slots of row_bytes. */
    uint8_t *slot[2][3];
    for (int pl = 0; pl < 2; pl++)
        for (int r = 0; r < 3; r++)
            slot[pl][r] = pl < np && r < k ? stage + (size_t)(pl * k + r) * (size_t)c->row_bytes
                                           : NULL;
    const ptrdiff_t px_bytes = (ptrdiff_t)c->cin * c->es, ps = s * px_bytes;
    const ptrdiff_t opx = (ptrdiff_t)c->cout * c->oes;
    const size_t w_tile = (size_t)k * (size_t)c->groups * (size_t)c->subs * 16;
    for (int xa = 0; xa < dst->w; xa += c->chunk) {
        const int n = dst->w - xa < c->chunk ? dst->w - xa : c->chunk;
        const int n_in = (n - 1) * s + k;
        const int n_read = (n + c->pix_max - 2) * s + k;
        /* The pack's chunk guarantees it (vector loads are invisible to ASan). */
        assert((size_t)(n_read * px_bytes + 16) <= (size_t)c->row_bytes);
        for (int pl = 0; pl < np; pl++)
            for (int r = 0; r < k; r++)
                memset(slot[pl][r] + n_in * px_bytes, 0,
                       (size_t)((n_read - n_in) * px_bytes + 16));
        int held[3] = { INT_MIN, INT_MIN, INT_MIN };
        for (int y = y0; y < y1; y++) {
            int at[3];
            for (int ky = 0; ky < k; ky++) {
                int iy = y * s - pad + ky;
                int r = k == 1 ? 0 : (iy + 3) % 3; /* iy >= -1; k rows: distinct slots */
                if (held[r] != iy) {
                    stage_row(c, src, iy, xa * s - pad, n_in, slot[0][r], slot[1][r]);
                    held[r] = iy;
                }
                at[ky] = r;
            }
            uint8_t *orow = (uint8_t *)dst->data +
                            ((ptrdiff_t)y * dst->stride + (ptrdiff_t)xa * c->cout) * c->oes;
            for (int b0 = 0; b0 < c->nblk; b0 += c->nv) {
                const int nvt = c->nblk - b0 < c->nv ? c->nblk - b0 : c->nv;
                const int P = c->pix[nvt];
                const uint8_t *wt = c->w + (size_t)b0 * w_tile;
                for (int x = 0; x < n; x += P) {
                    const uint8_t *rp[6];
                    for (int pl = 0; pl < np; pl++)
                        for (int ky = 0; ky < k; ky++)
                            rp[pl * k + ky] = slot[pl][at[ky]] + x * ps;
                    tiles[nvt](c, rp, ps, wt, b0, orow + x * opx, n - x < P ? n - x : P);
                }
            }
        }
    }
}
