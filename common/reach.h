/*
 * How far up a change in a network graph's input can travel: for intra
 * refresh (docs/codec.md, "Intra refresh"), which must know which output
 * rows are independent of input rows at or below a line.
 *
 * A tensor whose rows each cover s luma rows (its scale: 2 for x6 and p6,
 * 8 for pt, 16 for latents and pf, 64 for z) has sample row r covering
 * luma rows [r*s, (r+1)*s).  Given a line L of input i, the first
 * affected row of output o is the first luma row of the first output
 * sample row that can depend on an input sample covering a row >= L;
 * every output row above it depends only on input rows above L.  It
 * follows from the op list and the index arithmetic of the ops
 * (netlib/netlib.h): a k x k convolution of stride t makes output row y
 * read input rows y*t - k/2 .. y*t + k/2; space-to-depth by r makes row y
 * of rows y*r .. y*r + r - 1; depth-to-space by r makes row y of row
 * y / r; element-wise ops and concatenation take the first of their
 * operands.  Exact for the ops' reads (a weight of zero is not looked at).
 */
#ifndef NEUVC_COMMON_REACH_H
#define NEUVC_COMMON_REACH_H

#include "netlib/graph.h"
#include "neuvc/neuvc.h"

#define NV_REACH_NONE 0x7fffffff /* no output row depends on the input */
#define NV_REACH_MAX_SLOTS 768   /* larger graphs are refused (EINVAL) */

/* The first affected luma row *row of output `out` of graph g (the op
 * list of a validated graph) for input `in` (scale in_scale) changed at
 * and below luma row line (>= 0); *out_scale (may be NULL) gets the
 * output's scale.  Returns 0; 1 when the output does not depend on that
 * input (*row = NV_REACH_NONE); NEUVC_ERR(EINVAL) for indices out of
 * range, operands of different scales, a depth-to-space that does not
 * divide the scale, sizes beyond 2^20, or more than NV_REACH_MAX_SLOTS
 * slots.  Allocates nothing. */
int nv_graph_first_affected(const nl_graph *g, unsigned in, int in_scale, unsigned out, int line,
                            int *row, int *out_scale);

#endif
