/*
 * Vertical reach of a network graph: how far (in luma rows of the picture)
 * an output sample's value can depend on an input away from the rows the
 * output sample covers.  Used by intra refresh (docs/codec.md, "Intra
 * refresh") to size the guard below a refreshed band.
 *
 * Definition.  A tensor whose rows each cover s luma rows (its scale: 2
 * for x6 and p6, 8 for pt, 16 for latents and pf, 64 for z) has sample
 * row r covering luma rows [r*s, (r+1)*s).  The reach d of output o on
 * input i is a bound such that output row r depends only on input samples
 * that cover some luma row of [r*s_o - d, (r+1)*s_o + d).  It is derived
 * from the op list alone (conservative, exact for the ops' index
 * arithmetic): a k x k convolution on a tensor of scale s adds
 * (k / 2) * s, a stride t multiplies the scale by t, space-to-depth by r
 * multiplies the scale, depth-to-space by r divides it and adds s - s/r
 * (a finer row covers part of its source row), element-wise ops and
 * concatenation take the larger reach of their operands.
 */
#ifndef NEUVC_COMMON_REACH_H
#define NEUVC_COMMON_REACH_H

#include "netlib/graph.h"
#include "neuvc/neuvc.h"

/* The reach (luma rows, >= 0) of output `out` of graph g (validated) on
 * input `in`, whose rows cover in_scale luma rows each; *out_scale (may
 * be NULL) receives the output's scale.  Returns 0 and *reach; 1 when the
 * output does not depend on that input (*reach = 0); NEUVC_ERR(EINVAL)
 * for indices out of range, operands of different scales or a
 * depth-to-space that does not divide the scale. */
int nv_graph_reach(const nl_graph *g, unsigned in, int in_scale, unsigned out, int *reach,
                   int *out_scale);

#endif
