/*
 * Public encoder API (include/neuvc/neuvc.h).
 *
 * Frame types (low delay, IPPP...): frame n (counting every picture
 * sent, from 0) is an I frame when n is a multiple of keyint (keyint <=
 * 0: only frame 0; keyint == 1: every frame), when the picture has
 * force_keyframe set, when neuvc_enc_force_keyframe() came before it, or
 * when the frame before it failed; the others are P frames predicted from
 * the previous frame's reconstruction (docs/codec.md).  A forced I frame
 * does not move the periodic ones.  With a model that has no inter part
 * every frame is an I frame.
 *
 * Intra refresh (s.intra_refresh): no periodic I frames; with period =
 * max(keyint, nbands), P frame d after the last I frame refreshes band
 * (d - 1) % period - (period - nbands) when that is >= 0 (encoder/refresh.h):
 * cycles of nbands frames, each ending at a multiple of period after the
 * I frame, where a periodic I frame would be; neuvc_enc_request_refresh()
 * makes the next P frame band 0 (a new cycle at once, the schedule
 * shifted with it).
 *
 * qp: the settings' qp, or with a bitrate or a VBV the rate control's
 * choice per frame (encoder/ratecontrol.h): the frame is analysed once and
 * coded (quantization, entropy coding) at one or more qp before the
 * reconstruction of the one kept.  Every packet carries its frame number
 * modulo 256 (NVC_FRAME_FLAG_FRAME_NUM), so a decoder sees a lost packet.
 *
 * A picture is coded as soon as it is sent, so its packet can be
 * received right after: one picture in, one packet out, no delay.  While
 * a packet waits to be received, send_picture refuses the next picture
 * with NEUVC_ERR(EAGAIN) (as FFmpeg's send/receive API does); after a
 * flush (pic == NULL) it returns NEUVC_ERR_EOF.
 *
 * Backends: cpu auto picks the best kernels this CPU runs (or NEUVC_CPU=
 * ref|avx2|avx512|opencl from the environment; opencl without a device
 * falls back to the CPU); ref, avx2, avx512 and opencl force one, and one
 * the CPU lacks (or neon, not built on x86; opencl without a usable
 * OpenCL device, docs/opencl.md) is refused with NEUVC_ERR(ENOSYS).
 * Every backend gives the same bytes.
 *
 * Threads: threads (0: all cores) sizes the pool of nv_intra (network
 * layers, motion search and OBMC in row bands, latent bands in parallel);
 * the bytes do not depend on it (tests/test_threads.c).
 *
 * Messages: every failure with a cause worth knowing prints one line
 * "neuvc: ..." to stderr when log_level >= 1.
 *
 * Memory: everything is allocated at open except the packet buffer and
 * the range coders' buffers, which grow (only) while a frame is larger
 * than any before it.  The reference of a P frame is the reconstruction
 * the intra context keeps (decoder/inter.h: no second copy is needed).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bitstream.h"
#include "common/model.h"
#include "common/mcdsp.h"
#include "common/picture.h"
#include "decoder/inter.h"
#include "decoder/intra.h"
#include "encoder/inter.h"
#include "encoder/intra.h"
#include "encoder/ratecontrol.h"
#include "encoder/refresh.h"
#include "encoder/settings.h"

struct NeuvcEncoder {
    NeuvcEncSettings s;          /* model_path cleared: not kept after open */
    nv_model *model;
    nv_intra intra;
    nv_inter inter;              /* open when has_inter */
    int has_inter;               /* the model has the inter part: P frames possible */
    nv_mv *prev_mvs;             /* the last P frame's field (wb x hb), search candidates */
    int prev_mvs_valid;          /* 1 when the last frame was a P frame */
    nv_picture src;              /* the input, on the coded size */
    uint8_t *x6_mem;
    nl_tensor x6;                /* u8 (hp/2, wp/2, 6) */
    /* Coders: with the inter part, rc[0] codes the field of P frames,
     * rc[1] z and rc[2 + j] band j of both frame types; without it, rc[0]
     * is z and rc[1 + j] band j.  n_rc = has_inter + 1 + intra.nbands. */
    rc_enc rc[NVC_MAX_SUBSTREAMS];
    int n_rc;
    int ref_valid;               /* intra.recon is the reference a decoder has */
    int64_t frame_num;           /* pictures sent so far (coded or failed) */
    uint8_t header[NVC_SEQ_HEADER_SIZE];
    uint8_t *pkt;                /* the last packet's payload */
    size_t pkt_cap;
    NeuvcPacket out;
    int out_pending;             /* 1 while out waits for receive_packet */
    int flushed;
    int recon_valid;             /* 1 once a picture was coded */
    int64_t recon_pts;
    NeuvcFrameType recon_type;
    int force_key;
    int refresh_req;             /* neuvc_enc_request_refresh() came: the next P frame is band 0 */
    int rc_on;                   /* bitrate or VBV: qp chosen per frame by rc */
    nv_rc rc_state;
    nv_refresh refresh;          /* when s.intra_refresh */
    int guard;                   /* refresh_guard of every refresh frame */
    nv_refresh_strip strip;      /* coded by the coders after the frame's */
    int64_t last_key;            /* frame number of the last I frame (or of the frame before a
                                    requested refresh cycle) */
    char errmsg[NV_ERRMSG_SIZE];
};

__attribute__((format(printf, 4, 5)))
static int enc_log(int log_level, char *errmsg, int code, const char *fmt, ...)
{
    char buf[NV_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg ? errmsg : buf, NV_ERRMSG_SIZE, fmt, ap);
    va_end(ap);
    if (log_level >= 1)
        fprintf(stderr, "neuvc: %s\n", errmsg ? errmsg : buf);
    return code;
}

/* Refuses settings this build cannot honour. */
static int enc_supported(const NeuvcEncSettings *s, char *errmsg)
{
    if (s->height > NV_INTER_MAX_HEIGHT)
        return enc_log(s->log_level, errmsg, NEUVC_ERR(ERANGE),
                       "height %d above the %d a frame's sub-streams can cover", s->height,
                       NV_INTER_MAX_HEIGHT);
    return 0;
}

static int enc_header(NeuvcEncoder *e)
{
    nvc_seq_header h;
    char msg[NVC_ERRMSG_SIZE];
    memset(&h, 0, sizeof(h));
    h.width = e->s.width;
    h.height = e->s.height;
    h.fps_num = e->s.fps_num;
    h.fps_den = e->s.fps_den;
    h.flags = 0;
    snprintf(h.model_id, sizeof(h.model_id), "%s", e->model->id);
    memcpy(h.model_fp, e->model->fp, sizeof(h.model_fp));
    int ret = nvc_seq_header_write(&h, e->header, sizeof(e->header), msg, sizeof(msg));
    if (ret < 0)
        return enc_log(e->s.log_level, e->errmsg, ret, "%s", msg);
    return 0;
}

int neuvc_enc_open(NeuvcEncoder **penc, const NeuvcEncSettings *s)
{
    NeuvcEncoder *e = NULL;
    int ret;

    if (!penc)
        return NEUVC_ERR(EINVAL);
    *penc = NULL;
    ret = nv_enc_settings_check(s);
    if (ret < 0) {
        if (s)
            enc_log(s->log_level, NULL, ret,
                    "invalid encoder settings (size %dx%d, limits %dx%d, qp %d, fps %d/%d)",
                    s->width, s->height, s->max_width, s->max_height, s->qp, s->fps_num,
                    s->fps_den);
        return ret;
    }
    if ((ret = enc_supported(s, NULL)) < 0)
        return ret;
    e = calloc(1, sizeof(*e));
    if (!e)
        return enc_log(s->log_level, NULL, NEUVC_ERR(ENOMEM), "out of memory");
    e->s = *s;
    e->s.model_path = NULL;
    if ((ret = nv_model_open(&e->model, s->model_path, e->errmsg, sizeof(e->errmsg))) < 0 ||
        (ret = nv_intra_open(&e->intra, e->model, s->width, s->height, 1, s->cpu, s->threads, e->errmsg,
                             sizeof(e->errmsg))) < 0) {
        enc_log(s->log_level, NULL, ret, "%s", e->errmsg);
        goto fail;
    }
    e->intra.dz_intra = s->deadzone_intra;
    e->intra.dz_inter = s->deadzone_inter;
    const int wp = e->intra.wp, hp = e->intra.hp;
    e->has_inter = e->model->has_inter;
    if (e->has_inter &&
        (ret = nv_inter_open(&e->inter, &e->intra, e->errmsg, sizeof(e->errmsg))) < 0) {
        enc_log(s->log_level, NULL, ret, "%s", e->errmsg);
        goto fail;
    }
    if (s->intra_refresh &&
        (!e->has_inter || (ret = nv_refresh_init(&e->refresh, e->model, e->errmsg,
                                                  sizeof(e->errmsg))) < 0)) {
        ret = enc_log(s->log_level, NULL, NEUVC_ERR(ENOSYS), "intra refresh: %s",
                      e->has_inter ? e->errmsg : "the model has no P frames");
        goto fail;
    }
    if (s->intra_refresh) {
        e->guard = nv_refresh_guard(&e->refresh);
        if ((ret = nv_refresh_strip_open(&e->strip, e->model, wp, hp, e->guard, s->cpu, s->threads, e->errmsg,
                                         sizeof(e->errmsg))) < 0) {
            enc_log(s->log_level, NULL, ret, "%s", e->errmsg);
            goto fail;
        }
        e->inter.strip = &e->strip.c;
        if (2 + e->intra.nbands + e->strip.nsub > NVC_MAX_SUBSTREAMS) {
            ret = enc_log(s->log_level, NULL, NEUVC_ERR(ERANGE),
                          "intra refresh: height %d needs more than %d sub-streams", s->height,
                          NVC_MAX_SUBSTREAMS);
            goto fail;
        }
    }
    e->rc_on = s->bitrate_kbps > 0 || s->vbv_maxrate_kbps > 0 || s->vbv_bufsize_kbit > 0;
    /* The budget period: keyint frames with one I frame, or with intra
     * refresh max(keyint, nbands) frames of which nbands refresh. */
    const int period = s->intra_refresh ? (s->keyint > e->intra.nbands ? s->keyint : e->intra.nbands)
                                        : s->keyint;
    if (e->rc_on && (ret = nv_rc_init(&e->rc_state, s, period, !s->intra_refresh,
                                      s->intra_refresh ? e->intra.nbands : 0, wp, hp,
                                      e->errmsg, sizeof(e->errmsg))) < 0) {
        enc_log(s->log_level, NULL, ret, "%s", e->errmsg);
        goto fail;
    }
    e->x6_mem = malloc((size_t)wp * (size_t)hp / 4 * NV_X6_CHANNELS);
    if (e->has_inter)
        e->prev_mvs = calloc((size_t)e->inter.wb * (size_t)e->inter.hb, sizeof(nv_mv));
    if (nv_picture_alloc(&e->src, wp, hp) < 0 || !e->x6_mem || (e->has_inter && !e->prev_mvs)) {
        ret = enc_log(s->log_level, NULL, NEUVC_ERR(ENOMEM), "out of memory for %dx%d pictures",
                      s->width, s->height);
        goto fail;
    }
    e->x6 = (nl_tensor){ e->x6_mem, hp / 2, wp / 2, NV_X6_CHANNELS,
                         (ptrdiff_t)(wp / 2) * NV_X6_CHANNELS, NL_U8 };
    /* Hint: 4 bits per latent value for a band, a byte per z value, half
     * a byte per vector; a larger frame grows a coder's buffer, which it
     * then keeps. */
    size_t band_hint = (size_t)(wp / NV_LATENT_STRIDE) * NV_BAND_ROWS * e->model->cy / 2 + 64;
    size_t z_hint = (size_t)(wp / NV_HYPER_STRIDE) * (hp / NV_HYPER_STRIDE) * e->model->cz + 64;
    size_t mv_hint = (size_t)(wp / NV_MC_LUMA_BLOCK) * (hp / NV_MC_LUMA_BLOCK) / 2 + 64;
    const int z_at = e->has_inter;
    const int n_frame = z_at + 1 + e->intra.nbands;
    for (; e->n_rc < n_frame + e->strip.nsub; e->n_rc++) {
        size_t hint = e->n_rc < z_at ? mv_hint : e->n_rc == z_at ? z_hint :
                      e->n_rc == n_frame ? z_hint : band_hint;
        if (rc_enc_init(&e->rc[e->n_rc], hint) < 0) {
            rc_enc_free(&e->rc[e->n_rc]);
            ret = enc_log(s->log_level, NULL, NEUVC_ERR(ENOMEM), "out of memory");
            goto fail;
        }
    }
    if ((ret = enc_header(e)) < 0)
        goto fail;
    if (s->log_level >= 2)
        fprintf(stderr, "neuvc: encoder %dx%d (coded %dx%d), model '%s' (%s), qp %d, keyint %d\n",
                s->width, s->height, wp, hp, e->model->id,
                e->has_inter ? "I and P frames" : "no inter part: I frames only", s->qp,
                s->keyint);
    *penc = e;
    return 0;
fail:
    neuvc_enc_close(&e);
    return ret;
}

int neuvc_enc_get_header(NeuvcEncoder *enc, const uint8_t **data, size_t *size)
{
    if (!enc || !data || !size)
        return NEUVC_ERR(EINVAL);
    *data = enc->header;
    *size = sizeof(enc->header);
    return 0;
}

/* The packet buffer holds need bytes (grows only). */
static int pkt_reserve(NeuvcEncoder *e, size_t need)
{
    if (need <= e->pkt_cap)
        return 0;
    size_t cap = need + need / 2;
    uint8_t *p = realloc(e->pkt, cap);
    if (!p)
        return NEUVC_ERR(ENOMEM);
    e->pkt = p;
    e->pkt_cap = cap;
    return 0;
}

int neuvc_enc_send_picture(NeuvcEncoder *enc, const NeuvcPicture *pic)
{
    nvc_frame_header fh;
    size_t written;
    int ret;

    if (!enc)
        return NEUVC_ERR(EINVAL);
    if (enc->flushed)
        return NEUVC_ERR_EOF;
    if (enc->out_pending)
        return NEUVC_ERR(EAGAIN);
    if (!pic) {
        enc->flushed = 1;
        return 0;
    }
    if (nv_picture_check(pic, enc->s.width, enc->s.height) < 0)
        return enc_log(enc->s.log_level, enc->errmsg, NEUVC_ERR(EINVAL),
                       "picture %dx%d does not match the configured %dx%d (or lacks planes)",
                       pic->width, pic->height, enc->s.width, enc->s.height);
    nv_picture_import(&enc->src, pic, enc->s.width, enc->s.height);
    nv_x6_pack_pool(enc->intra.pool, nv_mcdsp_get(enc->intra.dsp.flags), &enc->src, &enc->x6);
    const int keyint = enc->s.keyint;
    /* frame_num >= 0, keyint > 0: the remainder is defined.  With intra
     * refresh, keyint only spaces the refresh cycles. */
    const int64_t n = enc->frame_num++;
    const int periodic = !enc->s.intra_refresh && (keyint > 0 ? n % keyint == 0 : n == 0);
    const int key = !enc->has_inter || !enc->ref_valid || enc->force_key ||
                    pic->force_keyframe || periodic;
    /* Until this frame is out, the reference is in doubt: a failure below
     * leaves the next frame an I frame. */
    const int restart = enc->refresh_req;
    enc->force_key = 0;
    enc->refresh_req = 0;
    enc->recon_valid = 0;
    enc->ref_valid = 0;
    /* Intra refresh: frame d after the I frame refreshes band
     * (d - 1) % period - (period - nb) when that is >= 0: the cycle ends
     * where a periodic I frame would be (the one after an I frame would
     * repeat it); a request starts one at once. */
    int band = -1, y0 = 0, y1 = 0, strip_h;
    if (key) {
        enc->last_key = n;
    } else if (enc->s.intra_refresh) {
        const int nb = enc->intra.nbands;
        const int64_t period = keyint > nb ? keyint : nb;
        if (restart)
            enc->last_key = n - 1 - (period - nb);
        const int64_t pos = (n - enc->last_key - 1) % period - (period - nb);
        if (pos >= 0) {
            band = (int)pos;
            nv_refresh_rows(band, enc->guard, enc->intra.hp, &y0, &y1, &strip_h);
        }
    }
    int qp = !enc->rc_on ? enc->s.qp :
             nv_rc_start(&enc->rc_state, key ? NV_RC_I : band >= 0 ? NV_RC_REFRESH : NV_RC_P);
    /* The refresh strip, coded at the frame's first qp plus the strip offset. */
    nvc_frame_header sfh;
    size_t strip_bytes = 0;
    const int strip_qp = qp + NV_REFRESH_STRIP_QP < 63 ? qp + NV_REFRESH_STRIP_QP : 63;
    if (band >= 0) {
        ret = nv_refresh_strip_encode(&enc->strip, &enc->src, y0, y1, enc->rc + 2 + enc->intra.nbands,
                                      strip_qp, &sfh, enc->errmsg, sizeof(enc->errmsg));
        if (ret < 0)
            return enc_log(enc->s.log_level, NULL, ret, "refresh strip: %s", enc->errmsg);
        for (int i = 0; i < sfh.num_substreams; i++)
            strip_bytes += sfh.substream_size[i] + 5;
    }
    nl_tensor y;
    if (key) {
        ret = nv_intra_encode_analyse(&enc->intra, &enc->x6, &y, enc->errmsg, sizeof(enc->errmsg));
    } else {
        nv_me_params me;
        /* The search's rate weight: the last frame's qp under rate control. */
        const nv_rc *r = &enc->rc_state;
        nv_inter_me_params(!enc->rc_on ? enc->s.qp : r->prev_qp >= 0 ? r->prev_qp : enc->s.qp, &me);
        ret = nv_inter_encode_analyse(&enc->inter, &enc->src, &enc->x6,
                                      enc->prev_mvs_valid ? enc->prev_mvs : NULL, &me, band, y1,
                                      &y, enc->errmsg, sizeof(enc->errmsg));
    }
    if (ret < 0)
        return enc_log(enc->s.log_level, NULL, ret, "%s", enc->errmsg);
    /* Code at one qp, or at the rate control's sequence of trials. */
    for (;;) {
        ret = key ? nv_intra_encode_code(&enc->intra, enc->rc + enc->has_inter, &y, qp, &fh,
                                         enc->errmsg, sizeof(enc->errmsg))
                  : nv_inter_encode_code(&enc->inter, enc->rc, &y, qp, &fh, enc->errmsg,
                                         sizeof(enc->errmsg));
        if (ret < 0)
            return enc_log(enc->s.log_level, NULL, ret, "%s", enc->errmsg);
        if (!enc->rc_on)
            break;
        const int next = nv_rc_next(&enc->rc_state, qp, nvc_frame_payload_size(&fh) + strip_bytes);
        if (next < 0)
            break;
        qp = next;
    }
    ret = key ? nv_intra_reconstruct(&enc->intra, qp) : nv_inter_reconstruct(&enc->inter, qp);
    if (ret < 0)
        return enc_log(enc->s.log_level, enc->errmsg, ret, "synthesis failed");
    fh.flags |= NVC_FRAME_FLAG_FRAME_NUM;
    fh.frame_num = (int)(n & 255);
    if (band >= 0) {
        fh.flags |= NVC_FRAME_FLAG_INTRA_REFRESH;
        fh.refresh_band = band;
        fh.refresh_guard = enc->guard;
        fh.refresh_qp = strip_qp;
        for (int i = 0; i < sfh.num_substreams; i++) {
            fh.substream[fh.num_substreams + i] = sfh.substream[i];
            fh.substream_size[fh.num_substreams + i] = sfh.substream_size[i];
        }
        fh.num_substreams += sfh.num_substreams;
    }
    size_t size = nvc_frame_payload_size(&fh);
    if (size == 0)
        return enc_log(enc->s.log_level, enc->errmsg, NEUVC_ERR(ERANGE),
                       "frame larger than a packet can hold");
    if (pkt_reserve(enc, size) < 0)
        return enc_log(enc->s.log_level, enc->errmsg, NEUVC_ERR(ENOMEM), "out of memory");
    if ((ret = nvc_frame_write(&fh, enc->pkt, enc->pkt_cap, &written)) < 0)
        return enc_log(enc->s.log_level, enc->errmsg, ret, "cannot write the frame");
    const NeuvcFrameType type = key ? NEUVC_FRAME_I : NEUVC_FRAME_P;
    if (!key)
        memcpy(enc->prev_mvs, enc->inter.mvs,
               (size_t)enc->inter.wb * (size_t)enc->inter.hb * sizeof(nv_mv));
    enc->prev_mvs_valid = !key;
    enc->ref_valid = 1;
    if (enc->rc_on)
        nv_rc_done(&enc->rc_state, qp, written);
    enc->out = (NeuvcPacket){ enc->pkt, written, pic->pts, type, qp };
    enc->out_pending = 1;
    enc->recon_valid = 1;
    enc->recon_pts = pic->pts;
    enc->recon_type = type;
    return 0;
}

int neuvc_enc_receive_packet(NeuvcEncoder *enc, NeuvcPacket *pkt)
{
    if (!enc || !pkt)
        return NEUVC_ERR(EINVAL);
    if (enc->out_pending) {
        *pkt = enc->out;
        enc->out_pending = 0;
        return 0;
    }
    return enc->flushed ? NEUVC_ERR_EOF : NEUVC_ERR(EAGAIN);
}

int neuvc_enc_get_recon(NeuvcEncoder *enc, NeuvcPicture *pic)
{
    if (!enc || !pic)
        return NEUVC_ERR(EINVAL);
    if (!enc->recon_valid)
        return NEUVC_ERR(EAGAIN);
    nv_picture_crop(&enc->intra.recon, enc->s.width, enc->s.height, pic);
    pic->pts = enc->recon_pts;
    pic->frame_type = enc->recon_type;
    return 0;
}

int neuvc_enc_force_keyframe(NeuvcEncoder *enc)
{
    if (!enc)
        return NEUVC_ERR(EINVAL);
    enc->force_key = 1;
    return 0;
}

int neuvc_enc_request_refresh(NeuvcEncoder *enc)
{
    if (!enc)
        return NEUVC_ERR(EINVAL);
    if (!enc->s.intra_refresh)
        return enc_log(enc->s.log_level, enc->errmsg, NEUVC_ERR(EINVAL),
                       "request_refresh: the encoder was opened without intra refresh");
    enc->refresh_req = 1;
    return 0;
}

int neuvc_enc_set_bitrate(NeuvcEncoder *enc, int bitrate_kbps)
{
    if (!enc)
        return NEUVC_ERR(EINVAL);
    if (!enc->rc_on || !enc->rc_state.abr)
        return enc_log(enc->s.log_level, enc->errmsg, NEUVC_ERR(EINVAL),
                       "set_bitrate: the encoder was opened without a bitrate (constant qp)");
    if (nv_rc_set_bitrate(&enc->rc_state, bitrate_kbps) < 0)
        return enc_log(enc->s.log_level, enc->errmsg, NEUVC_ERR(EINVAL),
                       "set_bitrate: %d kbit/s outside 1..1000000", bitrate_kbps);
    return 0;
}

void neuvc_enc_close(NeuvcEncoder **penc)
{
    if (!penc || !*penc)
        return;
    NeuvcEncoder *e = *penc;
    for (int i = 0; i < e->n_rc; i++)
        rc_enc_free(&e->rc[i]);
    free(e->pkt);
    free(e->x6_mem);
    free(e->prev_mvs);
    nv_refresh_strip_close(&e->strip);
    nv_picture_free(&e->src);
    nv_inter_close(&e->inter);
    nv_intra_close(&e->intra);
    nv_model_close(&e->model);
    free(e);
    *penc = NULL;
}

int neuvc_enc_get_complexity(NeuvcEncoder *enc, NeuvcComplexity *c)
{
    if (!enc || !c)
        return NEUVC_ERR(EINVAL);
    const nv_nets *n = &enc->intra.nets;
    memset(c, 0, sizeof(*c));
    c->coded_width = enc->intra.wp;
    c->coded_height = enc->intra.hp;
    c->intra_dec_macs = nl_graph_exec_macs(n->hyper_synthesis) + nl_graph_exec_macs(n->synthesis);
    c->intra_enc_macs = c->intra_dec_macs + nl_graph_exec_macs(n->analysis) +
                        nl_graph_exec_macs(n->hyper_analysis);
    if (enc->has_inter) {
        c->inter_dec_macs = nl_graph_exec_macs(n->pred) + nl_graph_exec_macs(n->inter_hyper_synthesis) +
                            nl_graph_exec_macs(n->inter_synthesis);
        c->inter_enc_macs = c->inter_dec_macs + nl_graph_exec_macs(n->inter_analysis) +
                            nl_graph_exec_macs(n->inter_hyper_analysis);
    }
    return 0;
}
