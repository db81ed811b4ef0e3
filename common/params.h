/* Parsing of setting values shared by the encoder and decoder settings,
 * the CLI tools and the FFmpeg wrapper (one vocabulary, x264-style). */
#ifndef NEUVC_COMMON_PARAMS_H
#define NEUVC_COMMON_PARAMS_H

#include "neuvc/neuvc.h"

/* Decimal integer in [lo, hi], whole string, no trailing garbage.
 * 0 or NEUVC_ERR(EINVAL). */
int nv_parse_int(const char *s, int lo, int hi, int *out);
/* "ref", "avx2", "avx512", "neon", "opencl", "auto" -> NeuvcCpu. */
int nv_parse_cpu(const char *s, NeuvcCpu *out);
/* "NUM/DEN" or "NUM:DEN" or "NUM" (DEN = 1), both in [1, 2^30]. */
int nv_parse_ratio(const char *s, int *num, int *den);
const char *nv_cpu_name(NeuvcCpu cpu);

#endif
