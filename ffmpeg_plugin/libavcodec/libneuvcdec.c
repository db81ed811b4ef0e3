/*
 * libneuvc decoder wrapper for FFmpeg 5.1 (the neuvc learned video codec).
 * Part of neuvc (ffmpeg_plugin/); compiled into libavcodec by
 * ffmpeg_plugin/build-ffmpeg.sh.  Licensed like the libavcodec it becomes
 * part of: GNU LGPL version 2.1 or later.
 */

/*
 * The sequence header (100 bytes, docs/bitstream.md) comes as extradata;
 * each packet is one frame payload and gives one picture at once (no
 * delay), 8-bit YUV 4:2:0, with the packet's pts.
 *
 * Errors: a packet libneuvc refuses as corrupt gives AVERROR_INVALIDDATA.
 * The P frames after it would be predicted from a picture that was never
 * decoded, so they are skipped (no frame, no error) until the next intra
 * frame, where decoding goes on.  The same holds at the start and after a
 * flush (seek): decoding starts at an intra frame.  Whether a packet is
 * intra is read from its first byte (frame_type, 0 = I), so packets
 * without container key flags work too.
 */

#include <string.h>

#include <neuvc/neuvc.h>

#include "libavutil/common.h"
#include "libavutil/dict.h"
#include "libavutil/imgutils.h"
#include "libavutil/intreadwrite.h"
#include "libavutil/log.h"
#include "libavutil/opt.h"
#include "libavutil/pixfmt.h"

#include "avcodec.h"
#include "codec_internal.h"
#include "internal.h"

#define NEUVC_WRAPPER_MAX_THREADS 64
#define NEUVC_SEQ_HEADER_SIZE     100

typedef struct LibNeuvcDecContext {
    const AVClass *class;
    NeuvcDecoder *dec;
    int have_header;              /* extradata was accepted */
    int need_intra;               /* skip P frames until an I frame */
    int64_t skipped;              /* P frames skipped since the last I frame */
    AVDictionary *params;         /* -neuvc-params */
} LibNeuvcDecContext;

static int neuvc_to_averror(int err)
{
    if (err == NEUVC_ERR_INVALIDDATA)
        return AVERROR_INVALIDDATA;
    if (err == NEUVC_ERR_EOF)
        return AVERROR_EOF;
    return err < 0 ? err : AVERROR_EXTERNAL;
}

static int neuvc_log_level(void)
{
    int level = av_log_get_level();
    if (level >= AV_LOG_VERBOSE)
        return 2;
    if (level >= AV_LOG_ERROR)
        return 1;
    return 0;
}

static av_cold int libneuvc_decode_close(AVCodecContext *avctx)
{
    LibNeuvcDecContext *ctx = avctx->priv_data;
    neuvc_dec_close(&ctx->dec);
    return 0;
}

static av_cold int libneuvc_decode_init(AVCodecContext *avctx)
{
    LibNeuvcDecContext *ctx = avctx->priv_data;
    NeuvcDecSettings s;
    int ret;

    neuvc_dec_default_settings(&s);
    s.log_level = neuvc_log_level();
    s.threads = FFMIN(FFMAX(avctx->thread_count, 0), NEUVC_WRAPPER_MAX_THREADS);
    if (ctx->params) {
        const AVDictionaryEntry *e = NULL;
        while ((e = av_dict_get(ctx->params, "", e, AV_DICT_IGNORE_SUFFIX))) {
            ret = neuvc_dec_param_parse(&s, e->key, e->value);
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

    ret = neuvc_dec_open(&ctx->dec, &s);
    if (ret < 0) {
        av_log(avctx, AV_LOG_ERROR, "cannot open the libneuvc decoder: %s\n",
               neuvc_strerror(ret));
        return neuvc_to_averror(ret);
    }

    avctx->pix_fmt = AV_PIX_FMT_YUV420P;
    avctx->has_b_frames = 0;
    ctx->need_intra = 1;

    if (avctx->extradata_size > 0) {
        ret = neuvc_dec_set_header(ctx->dec, avctx->extradata, avctx->extradata_size);
        if (ret < 0) {
            av_log(avctx, AV_LOG_ERROR, "the neuvc sequence header (extradata, %d bytes) "
                   "was refused: %s\n", avctx->extradata_size, neuvc_strerror(ret));
            return neuvc_to_averror(ret);
        }
        ctx->have_header = 1;
        /* Accepted, so at least the 100 bytes of version 1 are there:
         * width and height at offsets 8 and 10, the frame rate at 12. */
        if (avctx->extradata_size >= NEUVC_SEQ_HEADER_SIZE) {
            const uint8_t *h = avctx->extradata;
            unsigned fps_num = AV_RL32(h + 12), fps_den = AV_RL32(h + 16);
            ret = ff_set_dimensions(avctx, AV_RL16(h + 8), AV_RL16(h + 10));
            if (ret < 0)
                return ret;
            if (fps_num > 0 && fps_den > 0 && fps_num <= INT_MAX && fps_den <= INT_MAX)
                avctx->framerate = (AVRational){ (int)fps_num, (int)fps_den };
        }
    }
    return 0;
}

static void libneuvc_decode_flush(AVCodecContext *avctx)
{
    LibNeuvcDecContext *ctx = avctx->priv_data;
    ctx->need_intra = 1;
    ctx->skipped = 0;
}

static int libneuvc_decode_frame(AVCodecContext *avctx, AVFrame *frame,
                                 int *got_frame, AVPacket *avpkt)
{
    LibNeuvcDecContext *ctx = avctx->priv_data;
    NeuvcPacket in;
    NeuvcPicture pic;
    int linesize[4] = { 0 };
    const uint8_t *src[4] = { NULL };
    int ret, intra;

    *got_frame = 0;
    if (!ctx->have_header) {
        av_log(avctx, AV_LOG_ERROR, "no neuvc sequence header: the stream must carry "
               "it as extradata (codec private data)\n");
        return AVERROR_INVALIDDATA;
    }
    if (avpkt->size <= 0)
        return AVERROR_INVALIDDATA;

    /* A P frame without its reference is skipped; anything else (an I
     * frame, or a first byte that is no frame type: corrupt) goes to
     * libneuvc, which decodes or refuses it. */
    intra = avpkt->data[0] == NEUVC_FRAME_I;
    if (ctx->need_intra && avpkt->data[0] == NEUVC_FRAME_P) {
        if (!ctx->skipped++)
            av_log(avctx, AV_LOG_WARNING,
                   "no reference picture: skipping P frames until the next intra frame\n");
        return avpkt->size;
    }

    memset(&in, 0, sizeof(in));
    in.data = avpkt->data;
    in.size = avpkt->size;
    in.pts  = avpkt->pts;
    in.frame_type = intra ? NEUVC_FRAME_I : NEUVC_FRAME_P;

    ret = neuvc_dec_send_packet(ctx->dec, &in);
    if (ret < 0) {
        if (ret == NEUVC_ERR_INVALIDDATA) {
            ctx->need_intra = 1;
            ctx->skipped = 0;
        }
        av_log(avctx, AV_LOG_ERROR, "libneuvc refused the packet (%d bytes, pts %"PRId64"): %s\n",
               avpkt->size, avpkt->pts, neuvc_strerror(ret));
        return neuvc_to_averror(ret);
    }
    ret = neuvc_dec_receive_picture(ctx->dec, &pic);
    if (ret < 0) {
        av_log(avctx, AV_LOG_ERROR, "libneuvc gave no picture for the packet: %s\n",
               neuvc_strerror(ret));
        return ret == NEUVC_ERR(EAGAIN) ? AVERROR_BUG : neuvc_to_averror(ret);
    }
    if (ctx->need_intra && ctx->skipped)
        av_log(avctx, AV_LOG_INFO, "decoding goes on at an intra frame (%"PRId64" P frames "
               "skipped)\n", ctx->skipped);
    ctx->need_intra = 0;
    ctx->skipped = 0;

    if (pic.width != avctx->width || pic.height != avctx->height) {
        ret = ff_set_dimensions(avctx, pic.width, pic.height);
        if (ret < 0)
            return ret;
    }
    avctx->pix_fmt = AV_PIX_FMT_YUV420P;

    ret = ff_get_buffer(avctx, frame, 0);
    if (ret < 0)
        return ret;
    for (int i = 0; i < 3; i++) {
        if (pic.stride[i] < INT_MIN || pic.stride[i] > INT_MAX)
            return AVERROR_EXTERNAL;
        src[i] = pic.data[i];
        linesize[i] = (int)pic.stride[i];
    }
    av_image_copy(frame->data, frame->linesize, src, linesize,
                  AV_PIX_FMT_YUV420P, pic.width, pic.height);

    frame->pts       = avpkt->pts;
    frame->key_frame = pic.frame_type == NEUVC_FRAME_I;
    frame->pict_type = pic.frame_type == NEUVC_FRAME_I ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_P;
    *got_frame = 1;
    return avpkt->size;
}

#define OFFSET(x) offsetof(LibNeuvcDecContext, x)
#define VD AV_OPT_FLAG_VIDEO_PARAM | AV_OPT_FLAG_DECODING_PARAM
static const AVOption libneuvc_dec_options[] = {
    { "neuvc-params", "libneuvc decoder settings as a :-separated list of key=value "
      "(the names of neuvc-dec's options: threads, cpu, model, max-width, max-height)",
      OFFSET(params), AV_OPT_TYPE_DICT, { 0 }, 0, 0, VD },
    { NULL },
};

static const AVClass libneuvc_dec_class = {
    .class_name = "libneuvc decoder",
    .item_name  = av_default_item_name,
    .option     = libneuvc_dec_options,
    .version    = LIBAVUTIL_VERSION_INT,
};

const FFCodec ff_libneuvc_decoder = {
    .p.name         = "libneuvc",
    .p.long_name    = NULL_IF_CONFIG_SMALL("libneuvc neuvc (learned video codec)"),
    .p.type         = AVMEDIA_TYPE_VIDEO,
    .p.id           = AV_CODEC_ID_NEUVC,
    .p.capabilities = AV_CODEC_CAP_DR1 | AV_CODEC_CAP_OTHER_THREADS,
    .p.priv_class   = &libneuvc_dec_class,
    .p.wrapper_name = "libneuvc",
    .priv_data_size = sizeof(LibNeuvcDecContext),
    .init           = libneuvc_decode_init,
    FF_CODEC_DECODE_CB(libneuvc_decode_frame),
    .flush          = libneuvc_decode_flush,
    .close          = libneuvc_decode_close,
    .caps_internal  = FF_CODEC_CAP_INIT_CLEANUP | FF_CODEC_CAP_AUTO_THREADS,
};
