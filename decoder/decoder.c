/*
 * Public decoder API (include/neuvc/neuvc.h).
 *
 * Models: the built-in model always, plus settings->model_path when given;
 * the sequence header picks the one whose model id and fingerprint it
 * names, and a stream made with any other model is refused with
 * NEUVC_ERR(ENOSYS) and a message naming both sides.
 *
 * Decoding: a packet is decoded as soon as it is sent, into a picture the
 * decoder owns (valid until the next call on the decoder).  While a
 * picture waits to be received, send_packet refuses the next packet with
 * NEUVC_ERR(EAGAIN); after a flush (pkt == NULL) it returns NEUVC_ERR_EOF.
 *
 * References: a P frame predicts from the previous frame's reconstruction
 * (decoder/inter.h), which is valid after a decoded I or P frame.  At the
 * start of a stream (and after a new sequence header), after any packet
 * that failed to decode, and when the frame numbers of the packets
 * (NVC_FRAME_FLAG_FRAME_NUM) show a gap (a lost packet), there is no
 * valid reference until the next I frame decodes, or until an intra
 * refresh cycle that starts after the loss completes (docs/codec.md,
 * "Intra refresh": its frames are decoded on the way, with no output): a
 * P frame before that gives NEUVC_ERR_INVALIDDATA and a message, and no
 * picture.  A corrupt or truncated packet gives
 * NEUVC_ERR_INVALIDDATA and no picture; the decoder stays usable and
 * resumes at the next I frame.  A P frame of a model without the inter
 * part is invalid data too.
 *
 * Backends as in the encoder (cpu setting; a backend this CPU lacks is
 * refused with ENOSYS when the sequence header arrives); threads as in
 * the encoder (the output does not depend on it).  Messages as in the encoder: one line
 * "neuvc: ..." on stderr per failure when log_level >= 1.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bitstream.h"
#include "common/model.h"
#include "common/picture.h"
#include "decoder/inter.h"
#include "decoder/intra.h"
#include "decoder/settings.h"

#define DEC_MAX_MODELS 2         /* the --model file, the built-in one */

struct NeuvcDecoder {
    NeuvcDecSettings s;          /* model_path cleared: not kept after open */
    nv_model *models[DEC_MAX_MODELS];
    int n_models;
    const nv_model *model;       /* the header's model, NULL before a header */
    nvc_seq_header seq;
    int have_header;
    nv_intra intra;              /* open while have_header */
    nv_inter inter;              /* open while have_header and model->has_inter */
    nv_intra strip;              /* the intra refresh strip, open (wp x its height) once one came */
    int ref_valid;               /* intra.recon is the reference of a next P frame */
    /* Recovery by intra refresh while !ref_valid: intra.recon is right in
     * luma rows [0, clean_rows) as far as the refresh cycle guarantees;
     * -1: no cycle under way. */
    int clean_rows;
    int last_num;                /* frame_num of the last packet, -1: none or not carried */
    NeuvcPicture out;
    int out_pending;             /* 1 while out waits for receive_picture */
    int flushed;
    char errmsg[NV_ERRMSG_SIZE];
};

__attribute__((format(printf, 4, 5)))
static int dec_log(int log_level, char *errmsg, int code, const char *fmt, ...)
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

int neuvc_dec_open(NeuvcDecoder **pdec, const NeuvcDecSettings *s)
{
    NeuvcDecoder *d = NULL;
    int ret;

    if (!pdec)
        return NEUVC_ERR(EINVAL);
    *pdec = NULL;
    ret = nv_dec_settings_check(s);
    if (ret < 0) {
        if (s)
            dec_log(s->log_level, NULL, ret, "invalid decoder settings (limits %dx%d, threads %d)",
                    s->max_width, s->max_height, s->threads);
        return ret;
    }
    d = calloc(1, sizeof(*d));
    if (!d)
        return dec_log(s->log_level, NULL, NEUVC_ERR(ENOMEM), "out of memory");
    d->s = *s;
    d->s.model_path = NULL;
    if (s->model_path) {
        ret = nv_model_open(&d->models[d->n_models], s->model_path, d->errmsg, sizeof(d->errmsg));
        if (ret < 0)
            goto fail;
        d->n_models++;
    }
    /* The built-in model is optional next to a --model file; running out
     * of memory is not. */
    ret = nv_model_open(&d->models[d->n_models], NULL, d->errmsg, sizeof(d->errmsg));
    if (ret < 0 && (!d->n_models || ret == NEUVC_ERR(ENOMEM)))
        goto fail;
    if (ret == 0)
        d->n_models++;
    *pdec = d;
    return 0;
fail:
    dec_log(s->log_level, NULL, ret, "%s", d->errmsg);
    neuvc_dec_close(&d);
    return ret;
}

static void fp_hex(const uint8_t *fp, char out[2 * NVM_FINGERPRINT_SIZE + 1])
{
    for (int i = 0; i < NVM_FINGERPRINT_SIZE; i++)
        snprintf(out + 2 * i, 3, "%02x", fp[i]);
}

/* The loaded model the header names, or NULL with the message in errmsg. */
static const nv_model *dec_find_model(NeuvcDecoder *d, const nvc_seq_header *h)
{
    char want[2 * NVM_FINGERPRINT_SIZE + 1], have[2 * NVM_FINGERPRINT_SIZE + 1];
    for (int i = 0; i < d->n_models; i++)
        if (!strcmp(d->models[i]->id, h->model_id) &&
            !memcmp(d->models[i]->fp, h->model_fp, NVM_FINGERPRINT_SIZE))
            return d->models[i];
    fp_hex(h->model_fp, want);
    fp_hex(d->models[0]->fp, have);
    snprintf(d->errmsg, sizeof(d->errmsg),
             "the stream needs model '%s' (fingerprint %s), this decoder has '%s' (%s)%s",
             h->model_id, want, d->models[0]->id, have,
             d->n_models > 1 ? " and the built-in model" : "");
    return NULL;
}

int neuvc_dec_set_header(NeuvcDecoder *dec, const uint8_t *data, size_t size)
{
    nvc_seq_header h;
    char msg[NVC_ERRMSG_SIZE];
    int ret;

    if (!dec || !data)
        return NEUVC_ERR(EINVAL);
    ret = nvc_seq_header_parse(&h, data, size, dec->s.max_width, dec->s.max_height, msg,
                               sizeof(msg));
    if (ret < 0)
        return dec_log(dec->s.log_level, dec->errmsg, ret, "%s", msg);
    const nv_model *m = dec_find_model(dec, &h);
    if (!m)
        return dec_log(dec->s.log_level, NULL, NEUVC_ERR(ENOSYS), "%s", dec->errmsg);
    if (dec->have_header && m == dec->model && h.width == dec->seq.width &&
        h.height == dec->seq.height) {
        dec->seq = h;
        return 0;
    }
    dec->have_header = 0;
    dec->out_pending = 0;
    dec->ref_valid = 0;
    dec->clean_rows = -1;
    dec->last_num = -1;
    dec->model = NULL;
    nv_inter_close(&dec->inter);
    nv_intra_close(&dec->intra);
    nv_intra_close(&dec->strip);
    ret = nv_intra_open(&dec->intra, m, h.width, h.height, 0, dec->s.cpu, dec->s.threads, dec->errmsg,
                        sizeof(dec->errmsg));
    /* A height above NV_INTER_MAX_HEIGHT cannot have P frames: I frames only. */
    if (ret == 0 && m->has_inter && h.height <= NV_INTER_MAX_HEIGHT)
        ret = nv_inter_open(&dec->inter, &dec->intra, dec->errmsg, sizeof(dec->errmsg));
    if (ret < 0) {
        nv_intra_close(&dec->intra);
        return dec_log(dec->s.log_level, NULL, ret, "%s", dec->errmsg);
    }
    dec->model = m;
    dec->seq = h;
    dec->have_header = 1;
    if (dec->s.log_level >= 2)
        fprintf(stderr, "neuvc: decoder %dx%d at %d/%d fps, model '%s'\n", h.width, h.height,
                h.fps_num, h.fps_den, m->id);
    return 0;
}

int neuvc_dec_send_packet(NeuvcDecoder *dec, const NeuvcPacket *pkt)
{
    nvc_frame_header fh;
    char msg[NVC_ERRMSG_SIZE];
    int ret;

    if (!dec)
        return NEUVC_ERR(EINVAL);
    if (dec->flushed)
        return NEUVC_ERR_EOF;
    if (dec->out_pending)
        return NEUVC_ERR(EAGAIN);
    if (!pkt) {
        dec->flushed = 1;
        return 0;
    }
    if (!dec->have_header)
        return dec_log(dec->s.log_level, dec->errmsg, NEUVC_ERR(EINVAL),
                       "packet before the sequence header");
    if (!pkt->data && pkt->size)
        return NEUVC_ERR(EINVAL);
    /* From here until the frame is decoded the reference is in doubt: any
     * failure (a lost frame) leaves none. */
    int had_ref = dec->ref_valid;
    const int clean = dec->clean_rows;
    dec->ref_valid = 0;
    dec->clean_rows = -1;
    ret = nvc_frame_header_parse(&fh, pkt->data, pkt->size, msg, sizeof(msg));
    if (ret < 0) {
        dec->last_num = -1;
        return dec_log(dec->s.log_level, dec->errmsg, ret, "%s", msg);
    }
    /* A gap in the frame numbers is a lost packet: the reference is gone. */
    const int num = fh.flags & NVC_FRAME_FLAG_FRAME_NUM ? fh.frame_num : -1;
    const int lost = num >= 0 && dec->last_num >= 0 && num != ((dec->last_num + 1) & 255);
    const int prev_num = dec->last_num;
    dec->last_num = num;
    const char *why = lost ? "a packet before it was lost" :
                      "start of the stream, or a frame after an error";
    had_ref = had_ref && !lost;
    int band = -1, y0, y1, strip_h;
    if (fh.type == NEUVC_FRAME_P && dec->inter.c && (fh.flags & NVC_FRAME_FLAG_INTRA_REFRESH) &&
        nv_refresh_rows(fh.refresh_band, fh.refresh_guard, dec->intra.hp, &y0, &y1, &strip_h) == 0 &&
        (dec->strip.hp != strip_h || dec->strip.wp != dec->intra.wp)) {
        /* A refresh strip of a new height (once per stream in practice). */
        nv_intra_close(&dec->strip);
        dec->inter.strip = NULL;
        ret = nv_intra_open(&dec->strip, dec->model, dec->intra.wp, strip_h, 0, dec->s.cpu,
                            dec->s.threads, dec->errmsg, sizeof(dec->errmsg));
        if (ret < 0)
            return dec_log(dec->s.log_level, NULL, ret, "%s", dec->errmsg);
        dec->inter.strip = &dec->strip;
    }
    if (fh.type == NEUVC_FRAME_I) {
        ret = nv_intra_decode(&dec->intra, &fh, dec->errmsg, sizeof(dec->errmsg));
    } else if (!dec->inter.c) {
        return dec_log(dec->s.log_level, dec->errmsg, NEUVC_ERR_INVALIDDATA,
                       "P frame in a stream whose model '%s' has no inter part (or whose height "
                       "%d is above %d)", dec->model->id, dec->seq.height, NV_INTER_MAX_HEIGHT);
    } else if (had_ref) {
        ret = nv_inter_decode(&dec->inter, &fh, dec->errmsg, sizeof(dec->errmsg));
    } else if ((fh.flags & NVC_FRAME_FLAG_INTRA_REFRESH) &&
               (fh.refresh_band == 0 ||
                (!lost && clean >= fh.refresh_band * NV_REFRESH_BAND))) {
        /* Recovery (docs/codec.md, "Intra refresh"): the bands below the
         * refreshed one and the next may depend on the lost reference. */
        band = fh.refresh_band;
        dec->inter.lenient_band = band + 2;
        ret = nv_inter_decode(&dec->inter, &fh, dec->errmsg, sizeof(dec->errmsg));
        dec->inter.lenient_band = INT_MAX;
    } else {
        return dec_log(dec->s.log_level, dec->errmsg, NEUVC_ERR_INVALIDDATA,
                       "P frame without a reference (%s): waiting for an I frame or the start "
                       "of an intra refresh cycle", why);
    }
    if (ret < 0)
        return dec_log(dec->s.log_level, NULL, ret, "%s", dec->errmsg);
    if (band >= 0 && dec->inter.const_y1 < dec->intra.hp) {
        dec->clean_rows = (band + 1) * NV_REFRESH_BAND;
        return dec_log(dec->s.log_level, dec->errmsg, NEUVC_ERR_INVALIDDATA,
                       "P frame without a reference (%s): recovering by intra refresh, rows "
                       "0..%d of %d exact", why, dec->clean_rows - 1, dec->intra.hp);
    }
    /* A gap before a good I frame is only a note (one line per call: a
     * frame that fails reports its error alone). */
    if (lost && fh.type == NEUVC_FRAME_I && dec->s.log_level >= 1)
        fprintf(stderr, "neuvc: frame number %d after %d: %d packet(s) lost\n", num, prev_num,
                (num - prev_num - 1) & 255);
    nv_picture_crop(&dec->intra.recon, dec->seq.width, dec->seq.height, &dec->out);
    dec->out.pts = pkt->pts;
    dec->out.frame_type = fh.type;
    dec->out_pending = 1;
    dec->ref_valid = 1;
    return 0;
}

int neuvc_dec_receive_picture(NeuvcDecoder *dec, NeuvcPicture *pic)
{
    if (!dec || !pic)
        return NEUVC_ERR(EINVAL);
    if (dec->out_pending) {
        *pic = dec->out;
        dec->out_pending = 0;
        return 0;
    }
    return dec->flushed ? NEUVC_ERR_EOF : NEUVC_ERR(EAGAIN);
}

void neuvc_dec_close(NeuvcDecoder **pdec)
{
    if (!pdec || !*pdec)
        return;
    NeuvcDecoder *d = *pdec;
    nv_inter_close(&d->inter);
    nv_intra_close(&d->intra);
    nv_intra_close(&d->strip);
    for (int i = 0; i < d->n_models; i++)
        nv_model_close(&d->models[i]);
    free(d);
    *pdec = NULL;
}
