/*
 * x86 convolutions: the prepare hook's shared part (weight packing and
 * epilogue constants, layout in conv_x86.h) and row staging.  Plain C,
 * built without ISA flags: it runs once per plan, or once per staged row.
 */
#include "netlib/x86/conv_x86.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "neuvc/neuvc.h"
#include "netlib/conv_common.h"

/* One zeroed allocation: the head, then (aligned) w_bytes of weights,
 * acc0 [nch], mul, add, shr, sub [nch] each, shr32 [nch], their pointers
 * set in h. */
static uint8_t *plan_alloc(nl_x86_conv *h, size_t w_bytes, size_t nch)
{
    const size_t i64 = nch * sizeof(int64_t), i32 = nch * sizeof(int32_t);
    const size_t parts[8] = { sizeof(nl_x86_conv), w_bytes, i32, i64, i64, i64, i64, i32 };
    size_t off[8];
    uint8_t *mem = nl_conv_arena(parts, 8, off);
    if (!mem)
        return NULL;
    h->w = mem + off[1];
    h->acc0 = (int32_t *)(mem + off[2]);
    h->mul = (int64_t *)(mem + off[3]);
    h->add = (int64_t *)(mem + off[4]);
    h->shr = (int64_t *)(mem + off[5]);
    h->sub = (int64_t *)(mem + off[6]);
    h->shr32 = (int32_t *)(mem + off[7]);
    return mem;
}

/* acc0, mul, add, shr, sub of n lanes (layout in conv_x86.h), lane i
 * holding channel i % period (period 0: channel i; n = cout); lanes per
 * block, biased: the AVX2 form. */
static void lane_constants(const nl_conv_desc *d, int n, int period, int lanes, int biased,
                           nl_x86_stage stage, int32_t *acc0, int64_t *mul, int64_t *add,
                           int64_t *shr, int64_t *sub)
{
    for (int i = 0; i < n; i++) {
        const int o = period ? i % period : i;
        /* The S8_TO_U8 kernels see x + 128. */
        acc0[i] = nl_conv_acc0(d, o, stage == NL_X86_STAGE_S8_TO_U8 ? 128 : 0);
        /* Position in the block's even/odd order. */
        int blk = i / lanes, l = i % lanes;
        size_t pos = (size_t)blk * lanes + (size_t)(l % 2) * (lanes / 2) + (size_t)(l / 2);
        int s = d->rq.shift[o];
        int64_t rnd = s > 0 ? (int64_t)1 << (s - 1) : 0;
        mul[pos] = d->rq.mult[o];
        shr[pos] = s;
        if (biased) {
            add[pos] = rnd + ((int64_t)1 << 62); /* <= 2^61 + 2^62 < 2^63 */
            sub[pos] = (int64_t)1 << (62 - s);
        } else {
            add[pos] = rnd;
            sub[pos] = 0;
        }
    }
}

/* acc0, mul, add, shr, sub of every output channel (layout in conv_x86.h). */
static void epilogue_constants(const nl_conv_desc *d, int lanes, int biased, nl_x86_stage stage,
                               int32_t *acc0, int64_t *mul, int64_t *add, int64_t *shr,
                               int64_t *sub)
{
    lane_constants(d, d->cout, 0, lanes, biased, stage, acc0, mul, add, shr, sub);
}

/* The head fields every packed form sets alike; each form adds its own. */
static void head_init(nl_x86_conv *h, const nl_conv_desc *d, nl_x86_stage stage, int es,
                      int lanes)
{
    memset(h, 0, sizeof(*h));
    h->k = d->k;
    h->stride = d->stride;
    h->cin = d->cin;
    h->cout = d->cout;
    h->stage = stage;
    h->es = es;
    h->pad_byte = stage == NL_X86_STAGE_S8_TO_U8 ? 0x80 : 0;
    h->lanes = lanes;
    h->vbytes = lanes * 4;
    h->out_type = d->out_type;
    h->oes = (int)nl_type_size(d->out_type);
    h->lo = d->rq.lo;
    h->hi = d->rq.hi;
}

int nl_x86_conv_pack(nl_conv_plan *plan, const nl_x86_tiling *t, nl_x86_stage stage)
{
    const nl_conv_desc *d = &plan->desc;
    nl_x86_conv head;
    head_init(&head, d, stage,
              stage == NL_X86_STAGE_U8_TO_S16 || stage == NL_X86_STAGE_S8_TO_S16 ||
                      (stage == NL_X86_STAGE_COPY && d->in_type == NL_S16) ? 2 : 1,
              t->lanes);
    head.groups = (d->k * d->cin * head.es + 3) / 4;
    head.nblk = (d->cout + t->lanes - 1) / t->lanes;
    head.nv = nl_conv_pick_nv(head.nblk, t->max_nv);
    head.pix_max = nl_conv_pix_max(t->pix, head.nblk, head.nv);
    for (int nv = 1; nv <= NL_X86_MAX_NV; nv++)
        head.pix[nv] = nv <= t->max_nv ? t->pix[nv] : 0;

    /* x-chunk: the staged pixels a chunk of n columns may read are
     * (n + pix_max - 2) * stride + k (tiles round n up by at most
     * pix_max - 1 columns), plus 4 bytes for the last group's overread. */
    const long px_bytes = (long)d->cin * head.es;
    const long chunk = nl_conv_chunk((NL_X86_ROW_BYTES(d->k) - 4) / px_bytes, d->k, d->stride,
                                     head.pix_max);
    if (chunk < 0)
        return (int)chunk;
    head.chunk = (int)chunk; /* < NL_X86_STAGE_BYTES */

    /* One allocation: head, weights, acc0, then the four int64 arrays.
     * Sizes: nblk * lanes <= 2^16 + 15, k * G <= 3 * (3 * 2^16 * 2 + 3) / 4,
     * vbytes <= 64: below 2^41 bytes, no overflow in size_t. */
    const size_t nch = (size_t)head.nblk * (size_t)t->lanes;
    const size_t w_bytes = (size_t)head.nblk * (size_t)d->k * (size_t)head.groups *
                           (size_t)head.vbytes;
    uint8_t *mem = plan_alloc(&head, w_bytes, nch);
    if (!mem)
        return NEUVC_ERR(ENOMEM);
    uint8_t *w = (uint8_t *)head.w;
    int32_t *acc0 = (int32_t *)head.acc0;
    int64_t *mul = (int64_t *)head.mul, *add = (int64_t *)head.add;
    int64_t *shr = (int64_t *)head.shr, *sub = (int64_t *)head.sub;

    /* Weights, tile by tile, in the order the kernels walk them. */
    const int G = head.groups, per_group = 4 / head.es;
    uint8_t *wp = w;
    for (int b0 = 0; b0 < head.nblk; b0 += head.nv) {
        int nvt = head.nblk - b0 < head.nv ? head.nblk - b0 : head.nv;
        for (int ky = 0; ky < d->k; ky++)
            for (int g = 0; g < G; g++)
                for (int j = 0; j < nvt; j++)
                    for (int l = 0; l < t->lanes; l++) {
                        int o = (b0 + j) * t->lanes + l;
                        for (int q = 0; q < per_group; q++) {
                            int v = nl_conv_weight_at(d, o, ky, g * per_group + q);
                            if (head.es == 1) {
                                *wp++ = (uint8_t)(int8_t)v;
                            } else {
                                int16_t v16 = (int16_t)v;
                                memcpy(wp, &v16, 2);
                                wp += 2;
                            }
                        }
                    }
    }

    epilogue_constants(d, t->lanes, t->biased_shift, stage, acc0, mul, add, shr, sub);

    memcpy(mem, &head, sizeof(head));
    plan->priv = mem;
    return 0;
}

int nl_x86_conv_narrow_ok(const nl_conv_desc *d, int es)
{
    return d->stride == 1 && d->cout <= 8 && d->out_type != NL_S32 && (d->cin * es) % 4 == 0 &&
           d->cin * es / 4 <= 8;
}

int nl_x86_conv_pack_narrow(nl_conv_plan *plan, nl_x86_stage stage, int es)
{
    const nl_conv_desc *d = &plan->desc;
    if (!nl_x86_conv_narrow_ok(d, es))
        return NEUVC_ERR(ENOTSUP);
    nl_x86_conv head;
    head_init(&head, d, stage, es, 16); /* stride 1 (narrow_ok) */
    head.nblk = 1;
    head.nv = 1;
    head.narrow = 1;
    head.q = d->cin * es / 4;
    head.nc = (d->cout + 1) / 2 * 2;
    /* Pixel vectors per tile: nc * V accumulators + nc weights + V inputs
     * within the 32 registers. */
    static const int vecs[5] = { 0, 4, 4, 3, 2 };
    head.vpix = 16 * vecs[head.nc / 2];
    /* Staging: the contiguous row, then k rows of Q planes, plane_len
     * pixels each.  A tile at x <= chunk - 1 reads pixels up to
     * x + k - 1 + vpix - 1 < chunk + k + vpix: inside plane_len. */
    const int pb = 4 * head.q;
    int plane_len = NL_X86_STAGE_BYTES / ((d->k + 1) * pb) / 16 * 16;
    int chunk = plane_len - head.vpix - d->k - 16;
    if (chunk >= head.vpix)
        chunk -= chunk % head.vpix;
    if (chunk < 1)
        return NEUVC_ERR(ENOTSUP);
    head.plane_len = plane_len;
    head.chunk = chunk;
    head.pix_max = head.vpix;

    const int taps = d->k * d->k * head.q;        /* dwords per output pixel */
    const size_t w_bytes = (size_t)taps * (size_t)head.nc * 4;
    /* The four int64 arrays (16 each) as one part of 4 aligned slots. */
    const size_t parts[8] = {
        sizeof(nl_x86_conv), w_bytes, 16 * sizeof(int32_t),
        4 * nl_conv_align_up(16 * sizeof(int64_t)),
        (size_t)head.q * 4 * 16 * sizeof(int32_t), (size_t)head.q * 4 * sizeof(uint16_t),
        (size_t)(head.nc / 2) * 64 * sizeof(uint16_t), (size_t)(head.nc / 2) * sizeof(uint32_t),
    };
    size_t off[8];
    uint8_t *mem = nl_conv_arena(parts, 8, off);
    if (!mem)
        return NEUVC_ERR(ENOMEM);
    uint8_t *w = mem + off[1];
    int32_t *acc0 = (int32_t *)(mem + off[2]);
    int64_t *i64 = (int64_t *)(mem + off[3]);
    int32_t *tidx = (int32_t *)(mem + off[4]);
    uint16_t *tmask = (uint16_t *)(mem + off[5]);
    uint16_t *perm = (uint16_t *)(mem + off[6]);
    uint32_t *pmask = (uint32_t *)(mem + off[7]);

    /* Weights: [ky][kx][q][o] dwords. */
    const int per_dword = 4 / es;
    uint8_t *wp = w;
    for (int ky = 0; ky < d->k; ky++)
        for (int kx = 0; kx < d->k; kx++)
            for (int q = 0; q < head.q; q++)
                for (int o = 0; o < head.nc; o++)
                    for (int b = 0; b < per_dword; b++) {
                        int i = q * per_dword + b; /* channel; < cin (pb == cin * es) */
                        int v = o < d->cout
                                ? d->weight[(((ptrdiff_t)o * d->k + ky) * d->k + kx) * d->cin + i]
                                : 0;
                        if (es == 1) {
                            *wp++ = (uint8_t)(int8_t)v;
                        } else {
                            int16_t v16 = (int16_t)v;
                            memcpy(wp, &v16, 2);
                            wp += 2;
                        }
                    }
    epilogue_constants(d, 16, 0, stage, acc0, i64, i64 + 16, i64 + 32, i64 + 48);

    /* Transposition: pixel p's dword q is dword p * Q + q of the 16 pixels'
     * Q registers; register pair s holds dwords [32 s, 32 s + 32). */
    for (int q = 0; q < head.q; q++)
        for (int sp = 0; sp < 4; sp++)
            for (int p = 0; p < 16; p++) {
                int at = p * head.q + q - 32 * sp;
                if (at >= 0 && at < 32) {
                    tidx[(q * 4 + sp) * 16 + p] = at;
                    tmask[q * 4 + sp] |= (uint16_t)(1u << p);
                }
            }
    /* Interleave: word i of the output (16 pixels x cout) is pixel i / cout,
     * channel o = i % cout: word (o % 2) * 16 + p of channel pair o / 2;
     * pairs 0, 1 through the first vpermt2w, pairs 2, 3 the second. */
    for (int r = 0; r < head.nc / 2; r++)
        for (int wi = 0; wi < 32; wi++) {
            int i = 32 * r + wi;
            if (i >= 16 * d->cout)
                break;
            int p = i / d->cout, o = i % d->cout, pair = o / 2;
            int at = (pair % 2) * 32 + (o % 2) * 16 + p;
            perm[(r * 2 + pair / 2) * 32 + wi] = (uint16_t)at;
            if (pair >= 2)
                pmask[r] |= 1u << wi;
        }

    head.w = w;
    head.acc0 = acc0;
    head.mul = i64;
    head.add = i64 + 16;
    head.shr = i64 + 32;
    head.sub = i64 + 48;
    head.tidx = tidx;
    head.tmask = tmask;
    head.perm = perm;
    head.perm_mask = pmask;
    memcpy(mem, &head, sizeof(head));
    plan->priv = mem;
    return 0;
}

static void cvt_copy1(uint8_t *dst, const void *src, size_t n)
{
    memcpy(dst, src, n);
}

static void cvt_copy2(uint8_t *dst, const void *src, size_t n)
{
    memcpy(dst, src, 2 * n);
}

static void cvt_s8_u8(uint8_t *dst, const void *src, size_t n)
{
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++)
        dst[i] = s[i] ^ 0x80; /* two's complement: (uint8_t)(x + 128) */
}

static void cvt_u8_s16(uint8_t *dst, const void *src, size_t n)
{
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++) {
        int16_t v = s[i];
        memcpy(dst + 2 * i, &v, 2);
    }
}

static void cvt_s8_s16(uint8_t *dst, const void *src, size_t n)
{
    const int8_t *s = src;
    for (size_t i = 0; i < n; i++) {
        int16_t v = s[i];
        memcpy(dst + 2 * i, &v, 2);
    }
}

nl_x86_cvt_fn nl_x86_cvt_c(nl_x86_stage stage)
{
    switch (stage) {
    case NL_X86_STAGE_S8_TO_U8: return cvt_s8_u8;
    case NL_X86_STAGE_U8_TO_S16: return cvt_u8_s16;
    case NL_X86_STAGE_S8_TO_S16: return cvt_s8_s16;
    default: return NULL;
    }
}

void nl_x86_stage_row(const nl_x86_conv *c, const nl_tensor *src, int iy, int ix0, int npx,
                      uint8_t *buf, nl_x86_cvt_fn cvt)
{
    const size_t px_bytes = (size_t)c->cin * (size_t)c->es;
    if (iy < 0 || iy >= src->h) {
        memset(buf, c->pad_byte, (size_t)npx * px_bytes);
        return;
    }
    /* Columns [a, b) of the run lie inside the picture. */
    int a, b;
    nl_conv_row_span(ix0, npx, src->w, &a, &b);
    memset(buf, c->pad_byte, (size_t)a * px_bytes);
    if (b > a) {
        const size_t in_es = nl_type_size(src->type);
        const uint8_t *row = (const uint8_t *)src->data +
                             ((ptrdiff_t)iy * src->stride + (ptrdiff_t)(ix0 + a) * c->cin) *
                             (ptrdiff_t)in_es;
        size_t n = (size_t)(b - a) * (size_t)c->cin;
        if (c->stage == NL_X86_STAGE_COPY)
            (c->es == 1 ? cvt_copy1 : cvt_copy2)(buf + (size_t)a * px_bytes, row, n);
        else
            cvt(buf + (size_t)a * px_bytes, row, n);
    }
    memset(buf + (size_t)b * px_bytes, c->pad_byte, (size_t)(npx - b) * px_bytes);
}

int nl_x86_conv_pack_amx(nl_conv_plan *plan)
{
    const nl_conv_desc *d = &plan->desc;
    nl_x86_conv head;
    head_init(&head, d, NL_X86_STAGE_COPY, 1, 16);
    head.nblk = (d->cout + 15) / 16;
    head.nv = 2;
    head.amx = 1;
    head.planes = d->in_type == NL_S16 ? 2 : 1;
    head.nck = (d->k * d->cin + 63) / 64;
    head.ksplit = d->k == 3 && (long)d->k * head.nck * 2048 >= NL_X86_KSPLIT_MIN;
    head.plane_bytes = (head.ksplit ? (NL_X86_STAGE_BYTES - NL_X86_KSPLIT_BYTES) / d->k / 64 * 64
                                    : NL_X86_ROW_BYTES(d->k)) /
                       head.planes / 64 * 64;
    /* Windowed rows (conv_x86.h) for 3x3 kernels whose runs are one chunk
     * starting off 64-byte lines; they measured slower with more chunks
     * (small x-chunks). */
    head.window = d->k == 3 && head.nck == 1 &&
                  (d->stride * d->cin) % 64 != 0; /* never with ksplit (nck >= 8) */

    /* x-chunk: n output columns (a multiple of 16: the last A tile of a
     * chunk reads 16 pixels' runs) whose runs, (n - 1) * stride * cin +
     * 64 nck bytes, and staged input, ((n - 1) * stride + k) * cin bytes,
     * fit a plane (windowed: the scratch plane, and k rows of `planes`
     * windowed planes of n * 64 nck bytes fit NL_X86_WINDOW_BYTES, all of
     * them the stage). */
    const long ps = (long)d->stride * d->cin, pb = head.plane_bytes;
    long n = 0;
    for (long t = 16; t <= 4096; t += 16) {
        const long run_bytes = (t - 1) * ps + 64L * head.nck;
        if (head.window) {
            const long ring = (long)d->k * head.planes * t * 64 * head.nck;
            const long scratch = (run_bytes + 63) / 64 * 64;
            if (ring > NL_X86_WINDOW_BYTES || ring + head.planes * scratch > NL_X86_STAGE_BYTES)
                break;
        } else if (run_bytes > pb || ((t - 1) * d->stride + d->k) * d->cin > pb) {
            break;
        }
        n = t;
    }
    if (head.window && n < 16) {
        head.window = 0;         /* the rows in place, as above */
        for (long t = 16; t <= 4096; t += 16) {
            if ((t - 1) * ps + 64L * head.nck > pb || ((t - 1) * d->stride + d->k) * d->cin > pb)
                break;
            n = t;
        }
    }
    if (n < 16)
        return NEUVC_ERR(ENOTSUP);
    if (n >= 64)
        n -= n % 64;             /* whole steps of 64 pixels (conv_amx.c) */
    if (head.ksplit && n > 16 * NL_X86_KSPLIT_STEPS)
        n = 16 * NL_X86_KSPLIT_STEPS; /* a chunk's partial sums fit */
    /* x-blocks (conv_x86.h): 16 pixels for 1x1 on s16 input, else the
     * chunk. */
    head.xblk = d->k == 1 && head.planes == 2 ? 16 : (int)n;
    head.chunk = (int)n;
    head.pix_max = 16;
    if (head.window) {
        head.plane_bytes = (int)n * 64 * head.nck;
        head.scratch_bytes = (int)(((n - 1) * ps + 64L * head.nck + 63) / 64 * 64);
    }

    /* Packed accumulators for fewer than 16 channels (conv_x86.h): the
     * lane patterns repeat every cout / gcd(16, cout) vectors. */
    if (d->cout < 16) {
        int g = 16, b = d->cout;
        while (b) {
            int t = g % b;
            g = b;
            b = t;
        }
        head.npat = d->cout / g;
    }

    /* One allocation: head, weights, acc0, then mul, add, shr, sub.  Sizes:
     * nblk <= 2^12 + 1, k * nck <= 3 * (3 * 2^16 / 64 + 1): below 2^37. */
    const size_t nch = (size_t)(head.npat ? head.npat : head.nblk) * 16;
    const size_t blk_bytes = (size_t)d->k * (size_t)head.nck * 1024;
    const size_t w_bytes = (size_t)head.nblk * blk_bytes;
    uint8_t *mem = plan_alloc(&head, w_bytes, nch);
    if (!mem)
        return NEUVC_ERR(ENOMEM);
    uint8_t *w = (uint8_t *)head.w;
    int32_t *acc0 = (int32_t *)head.acc0;
    int64_t *mul = (int64_t *)head.mul, *add = (int64_t *)head.add;
    int64_t *shr = (int64_t *)head.shr, *sub = (int64_t *)head.sub;

    for (int b0 = 0; b0 < head.nblk; b0 += 2) {
        const int nvt = head.nblk - b0 < 2 ? 1 : 2;
        uint8_t *pair = w + (size_t)b0 * blk_bytes;
        for (int ky = 0; ky < d->k; ky++)
            for (int c = 0; c < head.nck; c++)
                for (int j = 0; j < nvt; j++) {
                    uint8_t *t = pair + ((size_t)(ky * head.nck + c) * (size_t)nvt + (size_t)j) *
                                        1024;
                    for (int r = 0; r < 16; r++)
                        for (int l = 0; l < 16; l++)
                            for (int q = 0; q < 4; q++)
                                t[r * 64 + l * 4 + q] = (uint8_t)(int8_t)nl_conv_weight_at(
                                    d, (b0 + j) * 16 + l, ky, 64 * c + 4 * r + q);
                }
    }
    if (head.npat)
        lane_constants(d, head.npat * 16, d->cout, 16, 0, NL_X86_STAGE_COPY, acc0, mul, add, shr,
                       sub);
    else
        epilogue_constants(d, 16, 0, NL_X86_STAGE_COPY, acc0, mul, add, shr, sub);
    /* Shifts of 32 or more on every channel: the epilogue's 32-bit form. */
    head.rq32 = 1;
    for (int o = 0; o < d->cout; o++)
        head.rq32 &= d->rq.shift[o] >= 32;
    if (head.rq32) {
        int32_t *s32 = (int32_t *)head.shr32;
        for (size_t i = 0; i < nch; i++) {
            const int o = head.npat ? (int)(i % (size_t)d->cout) : (int)i;
            s32[i] = o < d->cout ? d->rq.shift[o] - 32 : 0;
        }
    }

    memcpy(mem, &head, sizeof(head));
    plan->priv = mem;
    return 0;
}
