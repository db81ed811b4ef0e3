/*
 * ARM convolutions (plain NEON and NEON with the dot product): the layout
 * both share.
 *
 * Staged rows, as on x86 (netlib/x86/conv_x86.h): a kernel never reads the
 * source tensor in its inner loop.  For each output row it stages the k
 * input rows it needs (a ring of k rows on the stack; with stride 1 each
 * input row is staged once per x-chunk) as a run of pixels of cin
 * elements, zero padding written in.  Staged pixel j of an x-chunk
 * starting at output column xa is input column xa * stride - k/2 + j, so
 * the k*cin taps of kernel row ky for output pixel x are the k*cin
 * CONTIGUOUS elements at x * stride * cin of the staged row ky.  Kernels
 * read that run in groups of 16 bytes (E elements: 16 s8 or 8 s16); the
 * last group reads up to 15 bytes past the run (the next pixel, or slack
 * the driver zeroes), which meet zero weights.
 *
 * Staged element types (the "planes" of a row):
 *   dot form (es 1, s8; SDOT multiplies s8 by s8):
 *     u8 input:  x - 128 (x ^ 0x80; padding 0x80, the image of 0), and
 *                acc0 = bias + 128 * sum of the channel's weights;
 *     s8 input:  as stored;
 *     s16 input: two planes, hi = (x + 128) >> 8 in [-16, 16] and
 *                lo = x - 256 * hi in [-128, 127] (the low byte read as
 *                s8), so x * w = 256 * hi * w + lo * w: the kernel runs
 *                the hi plane, shifts its sums left by 8, runs the lo plane.
 *   plain form (es 2, s16; SMLAL multiplies s16 by an s16 lane):
 *     every input widened to s16 (u8 zero-, s8 sign-extended), exact.
 *
 * Packed weights.  Output channels are cut into blocks of `lanes` (4 on
 * the dot form, one int32x4 of SDOT sums; 8 on the plain form, two
 * int32x4), the last block padded with zero weights; blocks into tiles of
 * nv blocks (the last tile may hold fewer).  With G = ceil(k * cin / E)
 * groups per kernel row and S sub-steps per group (dot: 4 sub-groups of
 * Q = 4 elements, one SDOT by lane each; plain: 8 single elements, one
 * SMLAL pair by lane each), tile t (blocks b0 = t * nv ... b0 + nvt - 1)
 * starts at byte b0 * k * G * S * 16 and holds, for ky < k, g < G,
 * u < S, j < nvt, the 16-byte vector at (((ky * G + g) * S + u) * nvt + j)
 * * 16 whose lane l holds the weights of output channel o = (b0 + j) *
 * lanes + l for elements e = g * E + u * Q + q (q < Q): tap (kx, i) =
 * (e / cin, e % cin), weight[o][ky][kx][i] as s8 (dot) or s16 (plain);
 * 0 when e >= k * cin or o >= cout.  A kernel walks a tile in order.
 *
 * Epilogue constants per output channel o (padding channels 0): acc0
 * (int32, added to the sums), mult (int32), nshift = -shift (int64, the
 * operand of SRSHL, the rounding shift of THE rounding rule: see
 * nl_arm_requant4).
 */
#ifndef NEUVC_NETLIB_ARM_CONV_ARM_H
#define NEUVC_NETLIB_ARM_CONV_ARM_H

#include <stddef.h>
#include <stdint.h>

#include "netlib/dsp.h"
#include "netlib/netlib.h"

/* Bytes of the ring of staged rows, on the stack of every kernel call:
 * k * planes rows of NL_ARM_ROW_BYTES(k * planes) bytes. */
#define NL_ARM_STAGE_BYTES (72 * 1024)
#define NL_ARM_ROW_BYTES(n) (NL_ARM_STAGE_BYTES / (n) / 16 * 16)
#define NL_ARM_MAX_NV 4          /* blocks per tile */

typedef enum nl_arm_stage {
    NL_ARM_STAGE_COPY = 0,       /* as stored (s8 for dot, s16 for plain) */
    NL_ARM_STAGE_U8_TO_S8,       /* x ^ 0x80 (dot) */
    NL_ARM_STAGE_S16_SPLIT,      /* hi and lo planes (dot) */
    NL_ARM_STAGE_U8_TO_S16,      /* zero-extend (plain) */
    NL_ARM_STAGE_S8_TO_S16,      /* sign-extend (plain) */
} nl_arm_stage;

/* A packed convolution: the head of plan->priv, arrays after it. */
typedef struct nl_arm_conv {
    int k, stride, cin, cout;
    int dot;                     /* 1: dot form, 0: plain form */
    nl_arm_stage stage;
    int planes;                  /* staged planes per row: 2 for NL_ARM_STAGE_S16_SPLIT */
    int es;                      /* bytes per staged element: 1 dot, 2 plain */
    uint8_t pad_byte;            /* the byte a padding element is made of */
    int lanes;                   /* channels per block: 4 dot, 8 plain */
    int groups;                  /* G */
    int subs;                    /* S */
    int nblk;                    /* ceil(cout / lanes) */
    int nv;                      /* blocks per tile */
    int pix[NL_ARM_MAX_NV + 1];  /* pixels per tile of nv' blocks */
    int pix_max;
    int chunk;                   /* output columns per x-chunk */
    int row_bytes;               /* bytes of one staged row slot */
    nl_type out_type;
    int oes;                     /* bytes per output element */
    int32_t lo, hi;
    const uint8_t *w;            /* packed weights */
    const int32_t *acc0;         /* [nblk * lanes] */
    const int32_t *mult;         /* [nblk * lanes] */
    const int64_t *nshift;       /* [nblk * lanes] */
} nl_arm_conv;

/* One tile: pixels x (P stored as npix <= P) x nvt blocks from block b0.
 * rows[pl * k + ky]: staged row ky of plane pl, already offset to the
 * tile's first pixel; ps: bytes between the runs of neighbouring output
 * pixels; w: the tile's weights; out: the tile's first output pixel. */
typedef void (*nl_arm_tile_fn)(const nl_arm_conv *c, const uint8_t *const *rows, ptrdiff_t ps,
                               const uint8_t *w, int b0, uint8_t *out, int npix);

/* Fills plan->priv for plan->desc in the dot (dot = 1) or plain form, with
 * pix[nv'] pixels per tile of nv' = 1 .. max_nv blocks.  0,
 * NEUVC_ERR(ENOTSUP) when a tile's staged rows cannot fit a row slot
 * (very large cin: the plan then runs the reference), NEUVC_ERR(ENOMEM). */
int nl_arm_conv_pack(nl_conv_plan *plan, int dot, const int *pix, int max_nv);

/* Computes output rows [y0, y1) with tiles[nvt] for tiles of nvt blocks. */
void nl_arm_conv_run(const nl_conv_plan *plan, const nl_tensor *src, nl_tensor *dst, int y0,
                     int y1, const nl_arm_tile_fn *tiles);

/* Table fillers (netlib/arm/conv_neon.c, conv_neondot.c); call only when
 * nl_cpu_flags() has the level.  The NEON one also installs the
 * element-wise ops of elem_neon.c (nl_dsp_init_arm_neon_elem, which
 * installs the data movement of shuffle_neon.c: s2d, d2s, concat). */
void nl_dsp_init_arm_neon(nl_dsp *d);
void nl_dsp_init_arm_neondot(nl_dsp *d);
void nl_dsp_init_arm_neon_elem(nl_dsp *d);
void nl_dsp_init_arm_neon_shuffle(nl_dsp *d);

#endif
