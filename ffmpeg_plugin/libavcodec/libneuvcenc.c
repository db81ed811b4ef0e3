/*
 * libneuvc encoder wrapper for FFmpeg 5.1 (the neuvc learned video codec).
 * Part of neuvc (ffmpeg_plugin/); compiled into libavcodec by
 * ffmpeg_plugin/build-ffmpeg.sh.  Licensed like the libavcodec it becomes
 * part of: GNU LGPL version 2.1 or later.
 */

/*
 * One frame in, one packet out: libneuvc codes a picture as soon as it is
 * sent, so the codec has no AV_CODEC_CAP_DELAY and the generic code gives
 * every packet the pts (and dts) of its frame.
 *
 * Settings, in the order they are applied (a later one wins):
 *   - the codec context: width, height, framerate (else 1 / time_base),
 *     gop_size (-g), bit_rate (-b:v), rc_max_rate, rc_buffer_size,
 *     thread_count (-threads);
 *   - the private option qp (-qp);
 *   - -neuvc-params key=value:key=value, handed to neuvc_enc_param_parse()
 *     with the names neuvc-enc uses (qp, keyint, threads, cpu, model,
 *     bitrate, ...).
 * What libneuvc refuses makes avcodec_open2() fail with libneuvc's error
 * code.
 *
 * Video calls: a frame with pict_type AV_PICTURE_TYPE_I (ffmpeg
 * -force_key_frames) is coded as an intra frame; a change of
 * avctx->bit_rate between frames (an application's new bandwidth
 * estimate) goes to neuvc_enc_set_bitrate() before the next frame, as
 * libx264 does with its reconfiguration.
 */

#include <string.h>

#include <neuvc/neuvc.h>

#include "libavutil/avassert.h"
#include "libavutil/common.h"
#include "libavutil/dict.h"
#include "libavutil/log.h"
#include "libavutil/mem.h"
#include "libavutil/opt.h"
#include "libavutil/pixfmt.h"
#include "libavutil/rational.h"

#include "avcodec.h"
#include "codec_internal.h"
#include "encode.h"
#include "packet_internal.h"

/* The worker thread limit of libneuvc (docs/cli.md: --threads 0..64). */
#define NEUVC_WRAPPER_MAX_THREADS 64

typedef struct LibNeuvcEncContext {
    const AVClass *class;
    NeuvcEncoder *enc;
    NeuvcEncSettings settings;
    int64_t bit_rate;             /* avctx->bit_rate the encoder runs at (rate control) */
    int qp;                       /* -qp; -1: libneuvc's default */
    AVDictionary *params;         /* -neuvc-params */
} LibNeuvcEncContext;

/* libneuvc's codes are negative errno values, as AVERROR(); only "invalid
 * data" and "end of stream" have codes of their own in FFmpeg. */
static int neuvc_to_averror(int err)
{
    if (err == NEUVC_ERR_INVALIDDATA)
        return AVERROR_INVALIDDATA;
    if (err == NEUVC_ERR_EOF)
        return AVERROR_EOF;
    return err < 0 ? err : AVERROR_EXTERNAL;
}

/* libneuvc prints its own one-line reasons on stderr when its log level
 * is at least 1; follow FFmpeg's verbosity. */
static int neuvc_log_level(void)
{
    int level = av_log_get_level();
    if (level >= AV_LOG_VERBOSE)
        return 2;
    if (level >= AV_LOG_ERROR)
        return 1;
    return 0;
}

static int libneuvc_settings_from_context(AVCodecContext *avctx)
{
    LibNeuvcEncContext *ctx = avctx->priv_data;
    NeuvcEncSettings *s = &ctx->settings;
    int num = 0, den = 0;

    neuvc_enc_default_settings(s);
    s->width  = avctx->width;
    s->height = avctx->height;
    s->log_level = neuvc_log_level();

    if (avctx->framerate.num > 0 && avctx->framerate.den > 0)
        av_reduce(&num, &den, avctx->framerate.num, avctx->framerate.den, 1 << 30);
    else if (avctx->time_base.num > 0 && avctx->time_base.den > 0)
        av_reduce(&num, &den, avctx->time_base.den, avctx->time_base.num, 1 << 30);
    if (num > 0 && den > 0) {
        s->fps_num = num;
        s->fps_den = den;
    }

    /* gop_size defaults to -1 here (see libneuvc_defaults): left alone,
     * libneuvc's intra period is used.  0 means "the first frame only",
     * as keyint 0 does in neuvc-enc. */
    if (avctx->gop_size >= 0)
        s->keyint = avctx->gop_size;

    if (avctx->thread_count > NEUVC_WRAPPER_MAX_THREADS) {
        av_log(avctx, AV_LOG_WARNING, "%d threads requested, libneuvc uses at most %d\n",
               avctx->thread_count, NEUVC_WRAPPER_MAX_THREADS);
        s->threads = NEUVC_WRAPPER_MAX_THREADS;
    } else {
        s->threads = FFMAX(avctx->thread_count, 0); /* 0: all cores */
    }

    if (avctx->bit_rate > 0)
        s->bitrate_kbps = (int)FFMIN((avctx->bit_rate + 500) / 1000, INT_MAX);
    if (avctx->rc_max_rate > 0)
        s->vbv_maxrate_kbps = (int)FFMIN((avctx->rc_max_rate + 500) / 1000, INT_MAX);
    if (avctx->rc_buffer_size > 0)
        s->vbv_bufsize_kbit = (avctx->rc_buffer_size + 500) / 1000;

    if (ctx->qp >= 0)
        s->qp = ctx->qp;

    if (ctx->params) {
        const AVDictionaryEntry *e = NULL;
        while ((e = av_dict_get(ctx->params, "", e, AV_DICT_IGNORE_SUFFIX))) {
            int ret = neuvc_enc_param_parse(s, e->key, e->value);
            if (ret == NEUVC_ERR(ENOENT)) {
                av_log(avctx, AV_LOG_ERROR, "neuvc-params: unknown parameter '%s'\n", e->key);
                return AVERROR(EINVAL);
            }
            if (ret < 0) {
                av_log(avctx, AV_LOG_ERROR, "neuvc-params: bad value '%s' for '%s'\n",
                       e->value, e->key);
                return AVERROR(EINVAL);
            }
        }
    }
    return 0;
}

static av_cold int libneuvc_encode_close(AVCodecContext *avctx)
{
    LibNeuvcEncContext *ctx = avctx->priv_data;
    neuvc_enc_close(&ctx->enc);
    return 0;
}

static av_cold int libneuvc_encode_init(AVCodecContext *avctx)
{
    LibNeuvcEncContext *ctx = avctx->priv_data;
    const NeuvcEncSettings *s = &ctx->settings;
    const uint8_t *header;
    size_t header_size;
    int ret;

    if ((ret = libneuvc_settings_from_context(avctx)) < 0)
        return ret;

    ret = neuvc_enc_open(&ctx->enc, s);
    if (ret < 0) {
        av_log(avctx, AV_LOG_ERROR, "cannot open the libneuvc encoder: %s\n",
               neuvc_strerror(ret));
        return neuvc_to_averror(ret);
    }

    ret = neuvc_enc_get_header(ctx->enc, &header, &header_size);
    if (ret < 0)
        return neuvc_to_averror(ret);
    if (header_size == 0 || header_size > INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE)
        return AVERROR_BUG;
    av_freep(&avctx->extradata);
    avctx->extradata = av_mallocz(header_size + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!avctx->extradata)
        return AVERROR(ENOMEM);
    memcpy(avctx->extradata, header, header_size);
    avctx->extradata_size = (int)header_size;

    avctx->has_b_frames = 0;
    if (s->bitrate_kbps > 0)
        avctx->bit_rate = (int64_t)s->bitrate_kbps * 1000;
    ctx->bit_rate = avctx->bit_rate;

    av_log(avctx, AV_LOG_VERBOSE, "libneuvc %s: %dx%d, %d/%d fps, qp %d, keyint %d, threads %d\n",
           neuvc_version_string(), s->width, s->height, s->fps_num, s->fps_den, s->qp,
           s->keyint, s->threads);
    return 0;
}

static int libneuvc_encode_frame(AVCodecContext *avctx, AVPacket *pkt,
                                 const AVFrame *frame, int *got_packet)
{
    LibNeuvcEncContext *ctx = avctx->priv_data;
    NeuvcPicture pic;
    NeuvcPacket out;
    int ret;

    *got_packet = 0;
    if (!frame)            /* no frame is held back: nothing to drain */
        return 0;

    memset(&pic, 0, sizeof(pic));
    for (int i = 0; i < 3; i++) {
        pic.data[i]   = frame->data[i];
        pic.stride[i] = frame->linesize[i];
    }
    pic.width  = frame->width;
    pic.height = frame->height;
    pic.pts    = frame->pts;
    pic.force_keyframe = frame->pict_type == AV_PICTURE_TYPE_I;

    if (avctx->bit_rate != ctx->bit_rate && ctx->settings.bitrate_kbps > 0) {
        const int64_t kbps = (avctx->bit_rate + 500) / 1000;
        ret = neuvc_enc_set_bitrate(ctx->enc, (int)FFMIN(FFMAX(kbps, 0), INT_MAX));
        if (ret < 0) {
            av_log(avctx, AV_LOG_ERROR, "libneuvc refused the bitrate %"PRId64" b/s: %s\n",
                   avctx->bit_rate, neuvc_strerror(ret));
            return neuvc_to_averror(ret);
        }
        ctx->bit_rate = avctx->bit_rate;
    }

    ret = neuvc_enc_send_picture(ctx->enc, &pic);
    if (ret < 0) {
        av_log(avctx, AV_LOG_ERROR, "libneuvc could not code the frame: %s\n",
               neuvc_strerror(ret));
        return neuvc_to_averror(ret);
    }
    ret = neuvc_enc_receive_packet(ctx->enc, &out);
    if (ret < 0) {
        av_log(avctx, AV_LOG_ERROR, "libneuvc gave no packet for the frame: %s\n",
               neuvc_strerror(ret));
        return ret == NEUVC_ERR(EAGAIN) ? AVERROR_BUG : neuvc_to_averror(ret);
    }
    if (out.size == 0 || out.size > INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE)
        return AVERROR_EXTERNAL;

    ret = ff_get_encode_buffer(avctx, pkt, (int64_t)out.size, 0);
    if (ret < 0)
        return ret;
    memcpy(pkt->data, out.data, out.size);
    if (out.frame_type == NEUVC_FRAME_I)
        pkt->flags |= AV_PKT_FLAG_KEY;
    ff_side_data_set_encoder_stats(pkt, out.qp * FF_QP2LAMBDA, NULL, 0,
                                   out.frame_type == NEUVC_FRAME_I ? AV_PICTURE_TYPE_I
                                                                   : AV_PICTURE_TYPE_P);
    *got_packet = 1;
    return 0;
}

static const enum AVPixelFormat libneuvc_pix_fmts[] = {
    AV_PIX_FMT_YUV420P,
    AV_PIX_FMT_NONE,
};

#define OFFSET(x) offsetof(LibNeuvcEncContext, x)
#define VE AV_OPT_FLAG_VIDEO_PARAM | AV_OPT_FLAG_ENCODING_PARAM
static const AVOption libneuvc_enc_options[] = {
    { "qp", "Quality index 0..63, lower is better (-1: libneuvc's default)",
      OFFSET(qp), AV_OPT_TYPE_INT, { .i64 = -1 }, -1, 63, VE },
    { "neuvc-params", "libneuvc settings as a :-separated list of key=value "
      "(the names of neuvc-enc's options)",
      OFFSET(params), AV_OPT_TYPE_DICT, { 0 }, 0, 0, VE },
    { NULL },
};

static const AVClass libneuvc_enc_class = {
    .class_name = "libneuvc encoder",
    .item_name  = av_default_item_name,
    .option     = libneuvc_enc_options,
    .version    = LIBAVUTIL_VERSION_INT,
};

/* Generic options whose FFmpeg defaults would mean something here:
 * b=200k would ask for rate control, g=12 would override libneuvc's
 * intra period. */
static const FFCodecDefault libneuvc_defaults[] = {
    { "b", "0" },
    { "g", "-1" },
    { NULL },
};

const FFCodec ff_libneuvc_encoder = {
    .p.name         = "libneuvc",
    .p.long_name    = NULL_IF_CONFIG_SMALL("libneuvc neuvc (learned video codec)"),
    .p.type         = AVMEDIA_TYPE_VIDEO,
    .p.id           = AV_CODEC_ID_NEUVC,
    .p.capabilities = AV_CODEC_CAP_DR1 | AV_CODEC_CAP_OTHER_THREADS,
    .p.pix_fmts     = libneuvc_pix_fmts,
    .p.priv_class   = &libneuvc_enc_class,
    .p.wrapper_name = "libneuvc",
    .priv_data_size = sizeof(LibNeuvcEncContext),
    .init           = libneuvc_encode_init,
    FF_CODEC_ENCODE_CB(libneuvc_encode_frame),
    .close          = libneuvc_encode_close,
    .defaults       = libneuvc_defaults,
    .caps_internal  = FF_CODEC_CAP_INIT_CLEANUP | FF_CODEC_CAP_AUTO_THREADS,
};
