/*
 * Plain C helpers of the SIMD convolutions' prepare hooks (netlib/x86,
 * netlib/arm): the parts of weight packing, tiling and epilogue constants
 * that do not depend on the ISA.  Built for every architecture without
 * ISA flags; runs once per plan or once per staged row, never per pixel.
 */
#ifndef NEUVC_NETLIB_CONV_COMMON_H
#define NEUVC_NETLIB_CONV_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "netlib/dsp.h"
#include "netlib/netlib.h"

/* Alignment of the packed plans' arrays (and of their one allocation). */
#define NL_CONV_ALIGN 64

/* n rounded up to NL_CONV_ALIGN. */
size_t nl_conv_align_up(size_t n);

/* One zeroed allocation of NL_CONV_ALIGN-aligned parts of bytes[0 .. n)
 * bytes, one after another (each started at a multiple of NL_CONV_ALIGN),
 * their offsets in off[0 .. n) (off[0] = 0); free() frees it.  NULL when
 * out of memory. */
uint8_t *nl_conv_arena(const size_t *bytes, int n, size_t *off);

/* Blocks per tile: all of them when they fit one tile, else the largest
 * count <= max_nv that divides nblk, else max_nv (smaller last tile). */
int nl_conv_pick_nv(int nblk, int max_nv);

/* Pixels per tile the widest tile of a plan covers: pix[nv], or that of
 * the smaller last tile when it is wider (pix[] indexed by blocks). */
int nl_conv_pix_max(const int *pix, int nblk, int nv);

/* Output columns per x-chunk: a chunk of n columns runs tiles up to column
 * n + pix_max - 2, which read staged pixels up to (n + pix_max - 2) *
 * stride + k - 1; a staged row holds max_px pixels.  A multiple of pix_max
 * when at least pix_max; NEUVC_ERR(ENOTSUP) when not even one fits. */
long nl_conv_chunk(long max_px, int k, int stride, int pix_max);

/* Weight of element e of the k*cin run of kernel row ky, channel o; 0
 * beyond cout or the run (padding lanes and groups). */
int nl_conv_weight_at(const nl_conv_desc *d, int o, int ky, int e);

/* Accumulator start of channel o when the kernels see x + in_off instead
 * of x (in_off -128, 0 or 128): bias - in_off * sum w.  |128 * sum w| <=
 * 128 * 127 * k*k*cin < 2^29 (nl_conv_check: k*k*cin * 255 * 128 < 2^30),
 * so the result (|.| < 2^30 + 2^29) fits int32. */
int32_t nl_conv_acc0(const nl_conv_desc *d, int o, int in_off);

/* Columns [*a, *b) of a run of npx pixels from column ix0 that lie inside
 * a row of w pixels (0 <= *a <= *b <= npx). */
void nl_conv_row_span(int ix0, int npx, int w, int *a, int *b);

/* Installs k1[in] and k3[in] (indexed by input type, NL_DSP_NIN each) as
 * the 1x1 and 3x3 kernels of d for both strides and every output type. */
void nl_conv_install(nl_dsp *d, const nl_conv_kernel *k1, const nl_conv_kernel *k3);

#endif
