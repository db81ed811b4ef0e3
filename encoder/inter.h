/*
 * Inter (P) frames, encoder half (docs/codec.md, "Inter frame", steps 1,
 * 4, 5 and 7 and the motion decisions); steps 2, 3, 6 and 8 are the
 * decoder's code (decoder/inter.h).
 *
 * Motion decisions (the encoder's choice; docs/motion.md leaves them
 * open): nv_me_search on the padded luma planes, against the reference
 * c->recon (what the decoder has), with the previous P frame's field as
 * extra candidates, quarter samples, and the rate weight
 * nv_me_lambda_q8(qp).  Stronger rate weights and a preference for
 * (0, 0) or the predicted vector (step 4 of encoder/me.h) were measured
 * and cost more than they save: the numbers are in encoder/inter.c.
 */
#ifndef NEUVC_ENCODER_INTER_H
#define NEUVC_ENCODER_INTER_H

#include <stddef.h>

#include "common/bitstream.h"
#include "common/picture.h"
#include "decoder/inter.h"
#include "encoder/me.h"
#include "entropy/rangecoder.h"

/* The search parameters used for qp (0..63). */
void nv_inter_me_params(int qp, nv_me_params *p);

/* Codes the picture src (coded size, edges extended) whose x6 packing is
 * x6 as a P frame at qp (0..63) with p (its nv_intra opened with encoder
 * != 0; c->recon holds the reference): c->recon receives the
 * reconstruction, p->mvs the field, p->pred the prediction, and fh the
 * frame header, its sub-streams pointing into rc[0 .. 1 + nbands] (valid
 * until those are reset).  prev: NULL or the previous field (wb x hb,
 * stride wb), candidates of the search; it must not be p->mvs.  me: the
 * search parameters (nv_inter_me_params, or others for experiments).
 * Returns 0, NEUVC_ERR(ENOMEM), or NEUVC_ERR(EINVAL) (a value a model
 * produced outside the coded ranges), with a message in err. */
int nv_inter_encode(nv_inter *p, rc_enc *rc, const nv_picture *src, const nl_tensor *x6, int qp,
                    const nv_mv *prev, const nv_me_params *me, nvc_frame_header *fh, char *err,
                    size_t errlen);

/* nv_inter_encode in stages, so that the rate control can code the
 * analysed frame at several qp before it reconstructs it once:
 * analyse (search, prediction, analysis into *y, a view valid until the
 * next analyse), then code (any number of times; fh as above), then
 * nv_inter_reconstruct(p, qp of the code kept).  refresh_band >= 0 makes
 * an intra refresh frame: the field is clamped (encoder/refresh.h) and
 * luma rows [64 * refresh_band, const_y1) are predicted by the constant;
 * -1: an ordinary P frame. */
int nv_inter_encode_analyse(nv_inter *p, const nv_picture *src, const nl_tensor *x6,
                            const nv_mv *prev, const nv_me_params *me, int refresh_band,
                            int const_y1, nl_tensor *y, char *err, size_t errlen);
int nv_inter_encode_code(nv_inter *p, rc_enc *rc, const nl_tensor *y, int qp,
                         nvc_frame_header *fh, char *err, size_t errlen);

#endif
