/*
 * Intra frames, decoder half (docs/codec.md, "Intra frame", steps 5, 7,
 * 9 and 10, with the parsing of sub-streams 0..N), shared with the
 * encoder, whose reconstruction is this same code: so the encoder's
 * reconstruction and the decoder's output are one computation.
 *
 * An nv_intra holds everything one picture size needs, allocated by
 * nv_intra_open(): the executors, the latent buffers and the
 * reconstruction.  Coding a frame allocates nothing.
 *
 * Frame layout: sub-stream 0 is z; sub-stream 1 + j is latent band j
 * (latent rows 4j .. 4j+3, picture rows 64j .. 64j+63), j < hp / 64.
 */
#ifndef NEUVC_DECODER_INTRA_H
#define NEUVC_DECODER_INTRA_H

#include <stddef.h>
#include <stdint.h>

#include "common/bitstream.h"
#include "common/model.h"
#include "common/picture.h"
#include "common/threadpool.h"
#include "netlib/dsp.h"

#define NV_BAND_ROWS 4           /* latent rows per y sub-stream */
/* Largest picture height with 1 + hp / 64 <= NVC_MAX_SUBSTREAMS. */
#define NV_INTRA_MAX_HEIGHT ((NVC_MAX_SUBSTREAMS - 1) * NV_PAD)

typedef struct nv_intra {
    const nv_model *m;
    nv_nets nets;
    int w, h;                    /* picture size, 1..65535 x 1..NV_INTRA_MAX_HEIGHT */
    int wp, hp;                  /* coded size, multiples of NV_PAD */
    int nbands;                  /* hp / 64: y sub-streams */
    nl_tensor yq;                /* s16 (hp/16, wp/16, cy), owned: quantized latent */
    nl_tensor z;                 /* s16 (hp/64, wp/64, cz), owned: decoded z */
    nv_picture recon;            /* the reconstruction of the last frame */
    nv_pool *pool;               /* threads of the networks, motion and bands; owned */
    nl_dsp dsp;                  /* the kernels of the cpu setting */
    /* Profile (wall time, ns) for NEUVC_PROFILE (see nv_intra_close):
     * motion search and OBMC, entropy coding of z and the bands; the
     * networks keep their own (nl_graph_exec_run_ns). */
    uint64_t prof_motion_ns, prof_entropy_ns;
    int prof_frames, prof_encoder;
    int dz_intra, dz_inter;      /* encoder only: deadzone of nv_enc_deadzone, 0..16 */
    int opencl;                  /* the networks (and OBMC) run on OpenCL */
} nv_intra;

/* Sets up c for w x h pictures with model m (which must outlive c);
 * encoder != 0 also prepares the analysis graphs.  Returns 0,
 * NEUVC_ERR(ERANGE) for a height above NV_INTRA_MAX_HEIGHT, or an error
 * of nv_nets_open / NEUVC_ERR(ENOMEM), with a message in err.  On failure
 * c holds nothing (nv_intra_close is still safe). */
/* cpu: the NeuvcCpu backend setting; one the CPU or build lacks is refused
 * with NEUVC_ERR(ENOSYS).  threads: the threads setting (0: all cores,
 * 1: none besides the caller; at most NV_POOL_MAX_THREADS); the output does
 * not depend on it. */
int nv_intra_open(nv_intra *c, const nv_model *m, int w, int h, int encoder, int cpu, int threads,
                  char *err, size_t errlen);
/* With NEUVC_PROFILE=1 in the environment, prints one line to stderr:
 * "neuvc-profile: <encoder|decoder> N frames, T threads: networks X ms,
 * motion Y ms, entropy Z ms per frame" (what tools/bench.py reads). */
void nv_intra_close(nv_intra *c);
/* Monotonic clock, nanoseconds. */
uint64_t nv_now_ns(void);

/* dst = requant(src) with c's kernels and threads (nl_requant_ref's
 * contract and result; dst may be src itself). */
void nv_intra_requant(nv_intra *c, const nl_requant *rq, const nl_tensor *src, nl_tensor *dst);

/* Step 5: runs the hyper-synthesis on z (s16, (hp/64, wp/64, cz)); mu and
 * sidx receive views valid until the next call.  0 or NEUVC_ERR(EINVAL). */
int nv_intra_hyper(nv_intra *c, const nl_tensor *z, nl_tensor *mu, nl_tensor *sidx);

/* Steps 7, 9, 10: dequantizes c->yq at qp (in place: c->yq then holds
 * yd), runs the synthesis and unpacks it into c->recon.  0 or
 * NEUVC_ERR(EINVAL). */
int nv_intra_reconstruct(nv_intra *c, int qp);

/* Decodes an intra frame whose header fh was parsed from a packet (fh's
 * sub-streams point into it) into c->recon.  Returns 0;
 * NEUVC_ERR_INVALIDDATA for a frame that is not this size's intra frame
 * (sub-stream count) or whose sub-streams are corrupt or truncated, with a
 * message in err.  c stays usable after any failure. */
/* Shared by I and P frames.  Decodes z from one sub-stream with table set
 * t into c->z; then the bands of c->yq, band j from sub-stream first + j of
 * fh.  Corrupt or truncated data: NEUVC_ERR_INVALIDDATA and a message. */
int nv_dec_latent_z(nv_intra *c, const uint8_t *buf, size_t size, const nv_latent_tables *t,
                    char *err, size_t errlen);
int nv_dec_latent_bands(nv_intra *c, const nvc_frame_header *fh, int first, const nl_tensor *mu,
                        const nl_tensor *sidx, char *err, size_t errlen);
int nv_intra_decode(nv_intra *c, const nvc_frame_header *fh, char *err, size_t errlen);

#endif
