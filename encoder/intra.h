/*
 * Intra frames, encoder half (docs/codec.md, "Intra frame", steps 1 to 4,
 * 6 and 8); steps 5, 7, 9 and 10 are the decoder's code (decoder/intra.h).
 */
#ifndef NEUVC_ENCODER_INTRA_H
#define NEUVC_ENCODER_INTRA_H

#include <stddef.h>

#include "common/bitstream.h"
#include "common/picture.h"
#include "decoder/intra.h"
#include "entropy/rangecoder.h"

/* Codes the picture in x6 (u8, (hp/2, wp/2, 6)) at qp (0..63) with c
 * (opened with encoder != 0): c->recon receives the reconstruction and
 * fh the frame header, its sub-streams pointing into rc[0 .. c->nbands]
 * (valid until those are reset).  rc holds 1 + c->nbands initialized
 * coders.  Returns 0, NEUVC_ERR(ENOMEM), or NEUVC_ERR(EINVAL) (a value a
 * model produced outside the coded ranges), with a message in err. */
int nv_intra_encode(nv_intra *c, rc_enc *rc, const nl_tensor *x6, int qp,
                    nvc_frame_header *fh, char *err, size_t errlen);
/* The same in stages (see nv_inter_encode_analyse): analysis into *y,
 * coding at qp (repeatable), then nv_intra_reconstruct(c, qp). */
int nv_intra_encode_analyse(nv_intra *c, const nl_tensor *x6, nl_tensor *y, char *err,
                            size_t errlen);
int nv_intra_encode_code(nv_intra *c, rc_enc *rc, const nl_tensor *y, int qp,
                         nvc_frame_header *fh, char *err, size_t errlen);

/* Shared by I and P frames.  Codes the bands of c->yq, band j into
 * rc[j] (c->nbands coders), with mu and sidx from the hyper-synthesis. */
int nv_enc_latent_bands(nv_intra *c, rc_enc *rc, const nl_tensor *mu, const nl_tensor *sidx,
                        char *err, size_t errlen);
/* Deadzone quantization towards the predicted mean (encoder-only; the
 * decoder reads whatever yq is coded).  With v = y * mult / 2^shift the
 * unrounded latent and d = v - mu, c->yq becomes
 *     mu + sign(d) * floor(|d| + 1/2 - dz / 32)      (clamped to +-4096)
 * so values within 1/2 + dz/32 of mu cost the mean's (cheapest) symbol.
 * dz in [0, 16]; 0 leaves the plain rounding of step 2 untouched. */
void nv_enc_deadzone(nv_intra *c, const nl_tensor *y, const nl_requant *rq, const nl_tensor *mu,
                     int dz);
/* Finishes rc[0 .. n-1] and fills fh (type, qp, n sub-streams pointing
 * into the coders' buffers). */
int nv_enc_finish_frame(rc_enc *rc, int n, NeuvcFrameType type, int qp, nvc_frame_header *fh,
                        char *err, size_t errlen);

#endif
