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

#include "common/bitstream.h"
#include "common/mc.h"
#include "common/model.h"
#include "common/picture.h"
#include "decoder/intra.h"
#include "entropy/rangecoder.h"

/* The strip's qp above the frame's.  Measured on sam2_01_dog (train, 720p,
 * 40 frames, qp 32, cycles every 32 frames): offset 0 / 4 / 8 gave 6164 /
 * 6069 / 6284 kbit/s at PSNR-YUV 37.65 / 37.61 / 37.49 dB and largest
 * frames 56.9 / 54.4 / 53.1 kB (keyframes: 54.5 kB): a coarser strip
 * leaves more to the P frame; no clear gain, so none. */
#define NV_REFRESH_STRIP_QP 0
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

/* The refresh strip of an encoder: an intra context of wp x strip height,
 * its source picture and x6 packing. */
typedef struct nv_refresh_strip {
    nv_intra c;
    nv_picture src;
    uint8_t *x6_mem;
    nl_tensor x6;
    int nsub;                    /* sub-streams of a strip: 1 + its bands */
} nv_refresh_strip;

/* Opens st for strips of the guard's height, wp wide.  0, or an error of
 * nv_intra_open / NEUVC_ERR(ENOMEM) with a message; st is then closed. */
int nv_refresh_strip_open(nv_refresh_strip *st, const nv_model *m, int wp, int hp, int guard,
                          int cpu, int threads, char *err, size_t errlen);
void nv_refresh_strip_close(nv_refresh_strip *st);

/* Codes the strip of rows [y0, y1) of src (coded size; the last row
 * repeated below y1) as an intra picture at qp into rc[0 .. nsub - 1];
 * sfh gets its sub-streams and st->c.recon the reconstruction that
 * replaces the prediction.  0 or an error with a message. */
int nv_refresh_strip_encode(nv_refresh_strip *st, const nv_picture *src, int y0, int y1,
                            rc_enc *rc, int qp, nvc_frame_header *sfh, char *err, size_t errlen);

#endif
