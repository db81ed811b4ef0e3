/*
 * Inter (P) frames, decoder half (docs/codec.md, "Inter frame", steps 2,
 * 3, 6, 7 and 8, with the parsing of sub-streams 0..N+1), shared with the
 * encoder, whose reconstruction is this same code.
 *
 * An nv_inter extends an nv_intra of the same picture size and model (the
 * model must have the inter part): it uses that context's executors, its
 * latent buffers yq and z, and its reconstruction recon, which is the
 * REFERENCE of a P frame, at the padded size Wp x Hp.  The reference is
 * read only while the prediction is made (step 2), before the synthesis
 * writes the new reconstruction over it (step 8), so the prediction
 * picture is the only second picture a P frame needs.  Everything is
 * allocated by nv_inter_open(); coding a frame allocates nothing.
 *
 * Frame layout: sub-stream 0 is the vector field (docs/motion.md),
 * sub-stream 1 is z, sub-stream 2 + j is latent band j (j < hp / 64), so
 * a P frame has 2 + hp / 64 sub-streams.
 */
#ifndef NEUVC_DECODER_INTER_H
#define NEUVC_DECODER_INTER_H

#include <stddef.h>
#include <stdint.h>

#include "common/bitstream.h"
#include "common/mc.h"
#include "common/picture.h"
#include "decoder/intra.h"

/* Largest picture height whose P frames fit: 2 + hp / 64 sub-streams. */
#define NV_INTER_MAX_HEIGHT ((NVC_MAX_SUBSTREAMS - 2) * NV_PAD)

typedef struct nv_inter {
    nv_intra *c;                 /* the context extended; outlives this */
    int wb, hb;                  /* vector field: wp / 16 x hp / 16 blocks */
    nv_mv *mvs;                  /* wb x hb, stride wb: the frame's field */
    nv_picture pred;             /* OBMC prediction of the frame (coded size) */
    uint8_t *p6_mem;
    nl_tensor p6;                /* u8 (hp/2, wp/2, 6): pred packed as x6 */
    nl_tensor pt, pf;            /* views of inter.pred's outputs after nv_inter_predict;
                                  * on OpenCL they stay on the device (common/model.c):
                                  * pass them to the inter graphs, never read them */
    struct nl_cl_mc *mc;         /* when c->opencl: OBMC on the device, straight into p6
                                  * (pred is then not written) */
    /* Intra refresh (docs/codec.md): luma rows [const_y0, const_y1) of the
     * prediction (chroma [y0/2, y1/2)) are rows [0, y1 - y0) of
     * strip->recon, the refresh strip's reconstruction (y0 == y1: none);
     * even, 0 <= y0 <= y1 <= hp, y1 - y0 <= the strip's height.  Set
     * before nv_inter_predict (nv_inter_decode sets them from the frame
     * header and decodes the strip into *strip). */
    int const_y0, const_y1;
    nv_intra *strip;             /* owner: the encoder or decoder; NULL when unused */
    /* Decoder, recovering from a loss by intra refresh: a latent band
     * j >= lenient_band that fails to decode is kept as decoded instead of
     * failing the frame.  INT_MAX (the default) tolerates nothing. */
    int lenient_band;
} nv_inter;

#define NV_REFRESH_BAND 64       /* luma rows refreshed per frame (one latent band) */
#define NV_REFRESH_GUARD_UNIT 16 /* refresh_guard counts block rows */

/* The rows [*y0, *y1) predicted from the strip in a frame with
 * refresh_band band and refresh_guard guard, for coded height hp, and the
 * strip's coded height (64 + 16 guard rounded up to a multiple of 64): 0,
 * or NEUVC_ERR_INVALIDDATA when the band lies outside the picture or the
 * guard is taller than it. */
int nv_refresh_rows(int band, int guard, int hp, int *y0, int *y1, int *strip_h);

/* Sets up p next to c (opened, model with the inter part).  Returns 0,
 * NEUVC_ERR(EINVAL) for a model without the inter part, NEUVC_ERR(ERANGE)
 * for a height above NV_INTER_MAX_HEIGHT, NEUVC_ERR(ENOMEM), with a
 * message in err.  On failure p holds nothing (nv_inter_close is still
 * safe). */
int nv_inter_open(nv_inter *p, nv_intra *c, char *err, size_t errlen);
void nv_inter_close(nv_inter *p);

/* Steps 2 and 3: the OBMC prediction of the reference c->recon with the
 * field p->mvs (every vector in [NV_MV_MIN, NV_MV_MAX]) into p->pred and
 * p->p6 (only p6 on OpenCL), then inter.pred into p->pt and p->pf.  0,
 * NEUVC_ERR(EINVAL) or NEUVC_ERR(EIO) (an OpenCL failure). */
int nv_inter_predict(nv_inter *p);

/* Step 6: the inter hyper-synthesis on z (s16, (hp/64, wp/64, cz)) and
 * p->pf; mu and sidx receive views valid until the next call.  0 or
 * NEUVC_ERR(EINVAL). */
int nv_inter_hyper(nv_inter *p, const nl_tensor *z, nl_tensor *mu, nl_tensor *sidx);

/* Step 8: dequantizes c->yq at qp (in place) with the inter tables, runs
 * inter.synthesis on it, p->pt and p->p6, and unpacks the result into
 * c->recon (over the reference).  0 or NEUVC_ERR(EINVAL). */
int nv_inter_reconstruct(nv_inter *p, int qp);

/* Decodes the P frame whose header fh was parsed from a packet into
 * c->recon.  With NVC_FRAME_FLAG_INTRA_REFRESH the frame has 1 + strip_h
 * / 64 more sub-streams, the strip (an intra picture wp x strip_h at
 * refresh_qp), which is decoded into p->strip: the caller opens that
 * context (decoder) for wp x strip_h before; a refresh field out of range
 * or a strip of another size is invalid data.  
 * c->recon, predicting from what c->recon holds (the caller knows that
 * it is a valid reference).  Returns 0; NEUVC_ERR_INVALIDDATA for a frame
 * that is not this size's P frame (sub-stream count) or whose sub-streams
 * are corrupt or truncated, with a message in err.  c->recon changes only
 * in the last step, which cannot fail, so a failure leaves it as it was;
 * docs/codec.md still has the decoder treat the reference as lost until
 * the next I frame.  p stays usable. */
int nv_inter_decode(nv_inter *p, const nvc_frame_header *fh, char *err, size_t errlen);

#endif
