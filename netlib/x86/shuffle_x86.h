/*
 * Space-to-depth and depth-to-space kernels beyond the C ones of
 * elem_x86.h (nl_s2d_c_fast, nl_d2s_c_fast): shuffle_avx2.c (set by
 * nl_dsp_init_x86_elem_avx2), shuffle_avx512.c.  Same
 * contract as nl_s2d_ref / nl_d2s_ref (netlib.h), any shape (shapes
 * without a vector form run the C ones).
 */
#ifndef NEUVC_NETLIB_X86_SHUFFLE_X86_H
#define NEUVC_NETLIB_X86_SHUFFLE_X86_H

#include "netlib/dsp.h"

void nl_s2d_avx2(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1);
void nl_d2s_avx2(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1);
void nl_s2d_avx512(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1);
void nl_d2s_avx512(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1);
/* s2d and d2s of d: the AVX-512 forms (needs NL_CPU_FLAG_AVX512). */
void nl_dsp_init_x86_shuffle_avx512(nl_dsp *d);

#endif
