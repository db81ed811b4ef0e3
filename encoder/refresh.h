/*
 * Intra refresh, encoder side (docs/codec.md, "Intra refresh").
 *
 * A refresh cycle codes band k (luma rows [64k, 64k + 64)) of P frame k of
 * the cycle, k = 0 .. nbands - 1, with the prediction over the band and a
 * guard below it taken from the refresh strip, an intra picture coded in
 * the same packet, and keeps the prediction of rows [0, 64k) inside
 * reference rows [0, 64k + NV_REFRESH_SLACK) (chroma: half).  The guard is
 * the smallest that makes the output of rows [0, 64k + 64 +
 * NV_REFRESH_SLACK) independent of any reference row at or below
 * 64k + NV_REFRESH_SLACK, given how far up the model's graphs carry a
 * change (common/reach.h); so by induction a decoder whose reference was wrong
 * anywhere decodes the last frame of a cycle that it received whole
 * exactly.
 */
#ifndef NEUVC_ENCODER_REFRESH_H
#define NEUVC_ENCODER_REFRESH_H

#include <stddef.h>

#include "common/mc.h"
#include "common/model.h"

#define NV_REFRESH_SLACK 8       /* luma rows of the reference below the clean rows a vector may read */

typedef struct nv_refresh {
    const nl_graph *pred, *hyper_synthesis, *synthesis;   /* the model's inter graphs */
} nv_refresh;

/* Takes m's inter graphs, checking that common/reach.h can follow them.
 * 0, or NEUVC_ERR(EINVAL) with a message. */
int nv_refresh_init(nv_refresh *r, const nv_model *m, char *err, size_t errlen);

/* Rows [0, return) of a refresh frame's output that depend on nothing
 * but the prediction rows [0, y1) and the frame's own bytes (the
 * prediction above 64 * band reading only exact reference rows, rows
 * [64 * band, y1) the strip's): hp when y1 >= hp. */
int nv_refresh_exact_rows(const nv_refresh *r, int y1, int hp);

/* refresh_guard (block rows): the same for every band (the bottom of the
 * picture only clips the region). */
int nv_refresh_guard(const nv_refresh *r);

/* Clamps the vertical components of the field (wb x hb, stride wb) so
 * that no output sample in luma rows [0, 64 * band) (chroma [0, 32 * band))
 * reads a reference row at or below 64 * band + NV_REFRESH_SLACK (chroma
 * 32 * band + NV_REFRESH_SLACK / 2), filter taps and OBMC windows included
 * (docs/motion.md).  band 0 changes nothing. */
void nv_refresh_clamp_field(nv_mv *mvs, int wb, int hb, int band);

#endif
