/*
 * x86 convolutions (AVX2 and AVX-512 VNNI): the layout both share.
 *
 * Staged rows.  A kernel never reads the source tensor in its inner loop.
 * For each output row it "stages" the k input rows it needs (a ring of k
 * rows on the stack, so with stride 1 each input row is staged once per
 * x-chunk) as a run of pixels of cin elements of es bytes each, with the
 * zero padding written in:
 *   es = 1: u8 samples as they are; s8 samples as u8 = s8 + 128 (AVX-512,
 *           whose u8 x s8 dot product wants an unsigned side; the padding
 *           then holds 128, the image of 0);
 *   es = 2: s16 samples; on AVX2 also u8 and s8 samples, widened to s16.
 * Staged pixel j of an x-chunk starting at output column xa is input
 * column xa * stride - k/2 + j.  So the k*k*cin taps of output pixel x of
 * the chunk are, per kernel row ky, the k*cin*es CONTIGUOUS bytes at
 * x * stride * cin * es of the staged row for ky (HWC keeps the channels
 * of neighbouring pixels adjacent).  That run is read as G = ceil(k * cin
 * * es / 4) groups of 4 bytes (4 u8 or 2 s16 samples), each broadcast to
 * every lane; the last group may read up to 3 bytes past the run (the
 * next pixel or zeroed slack), which meet zero weights.
 *
 * Packed weights.  Output channels are cut into blocks of `lanes` (16 on
 * AVX-512, 8 on AVX2; the last block padded with zero weights), blocks
 * into tiles of nv blocks (the last tile may hold fewer).  Tile t
 * (blocks b0 = t * nv ... b0 + nvt - 1) starts at byte b0 * k * G * vb
 * (vb = lanes * 4, one vector) and holds, for ky < k, g < G, j < nvt, the
 * vector at ((ky * G + g) * nvt + j) * vb whose lane l holds the weights
 * of output channel o = (b0 + j) * lanes + l for the 4 bytes of group g:
 * element e = g * 4 / es + q (q < 4 / es) is tap (kx, i) = (e / cin,
 * e % cin), weight[o][ky][kx][i], as s8 (es 1) or s16 (es 2); 0 when
 * e >= k * cin or o >= cout.  A kernel walks a tile's weights in order.
 *
 * Epilogue constants, per output channel o (padding channels: 0):
 *   acc0[o] = bias[o] - (s8 staged as u8 ? 128 * sum of o's weights : 0)
 *             the accumulator's start, so no add of the bias is needed;
 *   mul, add, shr, sub: int64 per channel, stored per block in even/odd
 *             order (the block's channels 0, 2, 4, ... then 1, 3, 5, ...)
 *             to match vpmuldq, which multiplies the even 32-bit lanes:
 *             mul = mult[o]; shr = shift[o];
 *             add = 2^(shift-1) (0 for shift 0)          [AVX-512]
 *             add = 2^(shift-1) + 2^62, sub = 2^(62-shift) [AVX2, biased]
 * The proofs of exactness are with the kernels that use them.
 */
#ifndef NEUVC_NETLIB_X86_CONV_X86_H
#define NEUVC_NETLIB_X86_CONV_X86_H

#include <stddef.h>
#include <stdint.h>

#include "netlib/dsp.h"
#include "netlib/netlib.h"

/* Bytes of the ring of staged rows, on the stack of every kernel call:
 * k rows of NL_X86_ROW_BYTES(k) bytes (so a 1x1 row may be 3x longer). */
#define NL_X86_STAGE_BYTES (72 * 1024)
#define NL_X86_ROW_BYTES(k) (NL_X86_STAGE_BYTES / (k) / 64 * 64)
#define NL_X86_WINDOW_BYTES (32 * 1024) /* AMX windowed rows: the ring's bytes */
/* AMX kernel-row split: steps of a chunk (at most), and their partial
 * sums' bytes (4 accumulator tiles a step) at the end of the stage. */
#define NL_X86_KSPLIT_STEPS 4
#define NL_X86_KSPLIT_BYTES (NL_X86_KSPLIT_STEPS * 4 * 1024)
#define NL_X86_KSPLIT_MIN (48 * 1024) /* B bytes of a pair from which to split */
#define NL_X86_MAX_NV 4          /* blocks per tile */
#define NL_X86_MAX_PIX 24        /* pixels per tile */

typedef enum nl_x86_stage {
    NL_X86_STAGE_COPY = 0,       /* es bytes per element as stored (u8, s16) */
    NL_X86_STAGE_S8_TO_U8,       /* s8 + 128, es 1 */
    NL_X86_STAGE_U8_TO_S16,      /* zero-extend, es 2 */
    NL_X86_STAGE_S8_TO_S16,      /* sign-extend, es 2 */
} nl_x86_stage;

/* How a kernel tiles: lanes per vector, pixels per tile for a tile of nv'
 * blocks (pix[nv'], nv' = 1 .. max_nv), and the epilogue flavour. */
typedef struct nl_x86_tiling {
    int lanes;
    int max_nv;
    int pix[NL_X86_MAX_NV + 1];
    int biased_shift;            /* 1: AVX2 constants (add with 2^62, sub) */
} nl_x86_tiling;

/* A packed convolution: the head of plan->priv, arrays after it. */
typedef struct nl_x86_conv {
    int k, stride, cin, cout;
    int es;                      /* bytes per staged element, 1 or 2 */
    nl_x86_stage stage;
    uint8_t pad_byte;            /* the byte a padding element is made of */
    int lanes, vbytes;           /* vbytes = lanes * 4 */
    int groups;                  /* G */
    int nblk;                    /* ceil(cout / lanes) */
    int nv;                      /* blocks per tile */
    int pix[NL_X86_MAX_NV + 1];  /* pixels per tile of nv' blocks */
    int pix_max;
    int chunk;                   /* output columns per x-chunk */
    nl_type out_type;
    int oes;                     /* bytes per output element */
    int32_t lo, hi;
    const uint8_t *w;            /* packed weights */
    const int32_t *acc0;         /* [nblk * lanes] */
    const int64_t *mul, *add, *shr, *sub; /* [nblk * lanes] each, even/odd order */
    /* AMX, rq32 = 1 (every shift >= 32): shift - 32 per lane, in the
     * lanes' own order ([nblk * 16], or the npat patterns); else unused. */
    int rq32;
    const int32_t *shr32;
    /* Narrow form (nl_x86_conv_pack_narrow), else 0 / NULL. */
    int narrow;
    int q;                       /* Q: dwords per staged pixel (cin * es / 4) */
    int nc;                      /* channels computed: cout rounded up to even */
    int vpix;                    /* pixels per tile: 16 * pixel vectors */
    int plane_len;               /* pixels per staged plane (multiple of 16) */
    const int32_t *tidx;         /* [Q][4][16] transposition indices ... */
    const uint16_t *tmask;       /* [Q][4]     ... and their lanes */
    const uint16_t *perm;        /* [nc / 2][2][32] output interleave indices ... */
    const uint32_t *perm_mask;   /* [nc / 2]         ... and the words from the 2nd pair */
    /* AMX form (nl_x86_conv_pack_amx), else 0. */
    int amx;
    int planes;                  /* staged byte planes: 1, or 2 for s16 (low u8, high s8) */
    int nck;                     /* 64-byte K chunks per kernel row: ceil(k * cin / 64) */
    int plane_bytes;             /* bytes of one staged plane (a ring slot holds `planes`) */
    int npat;                    /* cout < 16: packed accumulators (below), else 0 */
    int ksplit;                  /* kernel-row split (below) */
    int xblk;                    /* output pixels per x-block (below) */
    int window;                  /* windowed rows (below) ... */
    int scratch_bytes;           /* ... staged first in a scratch plane of this size */
} nl_x86_conv;

/* Fills plan->priv for plan->desc: stage mode and es as given, tiling t.
 * 0, NEUVC_ERR(ENOTSUP) when a tile's staged rows cannot fit
 * NL_X86_ROW_BYTES(k) (very large cin: the plan then runs the reference),
 * NEUVC_ERR(ENOMEM). */
int nl_x86_conv_pack(nl_conv_plan *plan, const nl_x86_tiling *t, nl_x86_stage stage);

/* Narrow form, for few output channels (AVX-512): pixels in the lanes
 * instead of channels.  Taken when stride is 1, cout <= 8, the output is
 * not s32, and a staged pixel is Q = cin * es / 4 whole dwords, Q <= 8.
 *
 * Each staged row is transposed into Q planes: plane q holds dword q of
 * every staged pixel, so the groups of 16 neighbouring output pixels for
 * tap (ky, kx, dword q) are 64 contiguous bytes: plane q of row ky, from
 * pixel x + kx.  Weights: for ky, kx, q, o < nc, the dword of output
 * channel o's weights for dword q of a pixel (4 s8 or 2 s16; 0 for
 * o >= cout or channels >= cin), broadcast by the kernel.  acc0 / mul /
 * add / shr as above (one block of 16 lanes, even/odd order).  tidx /
 * tmask: vpermt2d indices that gather plane q from 16 staged pixels held
 * in Q registers (pair s of registers: lanes tmask[q][s]); perm /
 * perm_mask: vpermt2w indices that interleave nc channel vectors of 16
 * pixels (as words, in pairs of channels) into HWC order, 32 words per
 * output chunk. */
int nl_x86_conv_narrow_ok(const nl_conv_desc *d, int es);
int nl_x86_conv_pack_narrow(nl_conv_plan *plan, nl_x86_stage stage, int es);

/* AMX form (AMX-TILE + AMX-INT8, conv_amx.c): 16 pixels x 16 channels
 * per accumulator tile, K in chunks of 64 bytes.
 *
 * Staging: every input is staged as bytes, cin per pixel (es 1), padding
 * 0: u8 and s8 as they are (tdpbusd / tdpbssd take either sign), s16 x
 * split into two planes, lo = x & 255 (u8) and hi = x >> 8 (s8), so x =
 * 256 hi + lo.  The k*cin taps of kernel row ky of output pixel x are the
 * contiguous run at x * stride * cin of the staged row (plane), read as
 * nck chunks of 64 bytes; a chunk may read up to 63 bytes past the run,
 * which meet zero weights.  An A tile is 16 consecutive output pixels,
 * row i at pixel i's run + 64 c (row stride stride * cin).
 *
 * Packed weights: output channels in blocks of 16 (the last padded with
 * zero weights), blocks in pairs (the last pair may hold one block).
 * Pair t (blocks b0 = 2t, nvt = 1 or 2 of them) starts at byte
 * b0 * k * nck * 1024 and holds, for ky < k, c < nck, j < nvt, the B tile
 * at ((ky * nck + c) * nvt + j) * 1024: row r (16 rows of 64 bytes), byte
 * 4 l + q = weight of output channel (b0 + j) * 16 + l for element
 * e = 64 c + 4 r + q of the run, tap (kx, i) = (e / cin, e % cin); 0 when
 * e >= k * cin or the channel >= cout.  acc0 = bias (no offset: nothing
 * is staged with one), mul / add / shr as for AVX-512 (lanes 16).
 *
 * Fewer than 16 output channels (npat > 0): the accumulator and B tiles
 * are configured cout channels wide (4 cout bytes a row), so a stored
 * accumulator tile is 16 pixels x cout int32, packed, in the output's
 * order, and the epilogue requantizes 16 of those at a time instead of one
 * pixel's 16 lanes.  Lane l of vector v of a tile is channel (16 v + l) %
 * cout: npat = cout / gcd(16, cout) patterns, pattern j as block j of
 * acc0 / mul / add / shr (its lane l: channel (16 j + l) % cout).
 *
 * x-blocks: the kernel runs every pair of blocks over xblk output pixels
 * (a multiple of 16) before the next xblk, so that their staged runs stay
 * in L1 across the pairs: 16 for 1x1 kernels on s16 input (measured 3-6 %
 * faster on 1x1 s16 96->96 and 384->192), else the whole x-chunk (no
 * gain measured on u8 input or 3x3, a loss where blocks cut steps short).
 *
 * Kernel-row split (ksplit = 1: 3x3 kernels whose pair of blocks has
 * NL_X86_KSPLIT_MIN or more bytes of B tiles, more than L1 keeps beside
 * the staged rows): the kernel sums kernel row by kernel row over the
 * steps of an x-chunk (chunk <= 16 NL_X86_KSPLIT_STEPS), the partial sums
 * (exact: see conv_amx.c) in the last NL_X86_KSPLIT_BYTES of the stage;
 * the ring has the rest.
 *
 * Windowed rows (window = 1: 3x3 kernels whose runs are one chunk, k *
 * cin <= 64, starting off 64-byte lines, stride * cin not a multiple of
 * 64): a tile load whose rows cross cache lines costs several tile
 * products, so each input row, once staged as above into a scratch plane
 * (scratch_bytes, after the ring), is copied into its ring slot as
 * windows: output pixel x's nck chunks at
 * 64 nck x of a plane of plane_bytes = chunk * 64 nck (bytes past the run
 * are the next pixels' or zero slack, and meet zero weights).  A tile rows
 * are then 64-byte aligned, 64 nck apart; B is unchanged.  Each staged row
 * serves k output rows, so the copy is paid once per k.
 *
 * Two sources (plan->run2, dsp.h: the input as the channel concatenation
 * of a and b): a staged pixel is a's ca channels then b's cb, staged from
 * both rows (conv_amx.c, stage_row_pair) into the same planes; nothing
 * after the staging differs.
 * 0; NEUVC_ERR(ENOTSUP) when 16 output pixels' staged runs cannot fit a
 * plane; NEUVC_ERR(ENOMEM). */
int nl_x86_conv_pack_amx(nl_conv_plan *plan);

/* Converts n source elements to staged elements (c->stage). */
typedef void (*nl_x86_cvt_fn)(uint8_t *dst, const void *src, size_t n);
/* Plain C converter for a stage mode (the ISA files have faster ones). */
nl_x86_cvt_fn nl_x86_cvt_c(nl_x86_stage stage);

/* Stages input row iy, columns ix0 .. ix0 + npx - 1 (any of them may lie
 * outside the picture, as may the row: padding) into buf, npx * cin
 * elements of c->es bytes; the columns inside the picture through cvt. */
void nl_x86_stage_row(const nl_x86_conv *c, const nl_tensor *src, int iy, int ix0, int npx,
                      uint8_t *buf, nl_x86_cvt_fn cvt);

/* Table fillers (netlib/x86/conv_avx2.c, conv_avx512.c); call only when
 * nl_cpu_flags() has the level. */
void nl_dsp_init_x86_avx2(nl_dsp *d);
void nl_dsp_init_x86_avx512(nl_dsp *d);
void nl_dsp_init_x86_amx(nl_dsp *d);

#endif
