/*
 * Muxer for raw neuvc streams (.nvc files, as neuvc-dec reads them).
 * Part of neuvc (ffmpeg_plugin/); compiled into libavformat by
 * ffmpeg_plugin/build-ffmpeg.sh.  Licensed like the libavformat it becomes
 * part of: GNU LGPL version 2.1 or later.
 */

/*
 * Writes the stream's extradata (the 100-byte sequence header the
 * libneuvc encoder exports) and then every packet as
 *     u32 payload_size | i64 pts | payload     (little-endian)
 * with pts in units of fps_den / fps_num seconds of the header, which
 * becomes the stream's time base.  So `-c:v libneuvc out.nvc` and
 * `-c copy out.nvc` from Matroska or NUT both give files neuvc-dec reads.
 */

#include "libavutil/intreadwrite.h"

#include "avformat.h"
#include "internal.h"

#define NVC_HEADER_SIZE 100

static int nvc_init(AVFormatContext *s)
{
    AVStream *st;
    AVCodecParameters *par;
    unsigned fps_num, fps_den;

    if (s->nb_streams != 1 || s->streams[0]->codecpar->codec_id != AV_CODEC_ID_NEUVC) {
        av_log(s, AV_LOG_ERROR, "an .nvc file holds exactly one neuvc video stream\n");
        return AVERROR(EINVAL);
    }
    st  = s->streams[0];
    par = st->codecpar;
    if (par->extradata_size != NVC_HEADER_SIZE ||
        AV_RL32(par->extradata) != MKTAG('N', 'V', 'C', '1')) {
        av_log(s, AV_LOG_ERROR, "the neuvc stream has no sequence header as extradata "
               "(%d bytes; %d expected)\n", par->extradata_size, NVC_HEADER_SIZE);
        return AVERROR(EINVAL);
    }
    fps_num = AV_RL32(par->extradata + 12);
    fps_den = AV_RL32(par->extradata + 16);
    if (!fps_num || !fps_den || fps_num > INT_MAX || fps_den > INT_MAX) {
        av_log(s, AV_LOG_ERROR, "invalid frame rate %u/%u in the sequence header\n",
               fps_num, fps_den);
        return AVERROR_INVALIDDATA;
    }
    avpriv_set_pts_info(st, 64, fps_den, fps_num);
    return 0;
}

static int nvc_write_header(AVFormatContext *s)
{
    avio_write(s->pb, s->streams[0]->codecpar->extradata, NVC_HEADER_SIZE);
    return 0;
}

static int nvc_write_packet(AVFormatContext *s, AVPacket *pkt)
{
    int64_t pts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;

    if (pkt->size <= 0) {
        av_log(s, AV_LOG_ERROR, "empty packet: an .nvc file cannot hold it\n");
        return AVERROR(EINVAL);
    }
    if (pts == AV_NOPTS_VALUE) {
        av_log(s, AV_LOG_ERROR, "packet without a timestamp\n");
        return AVERROR(EINVAL);
    }
    avio_wl32(s->pb, (uint32_t)pkt->size);
    avio_wl64(s->pb, (uint64_t)pts);
    avio_write(s->pb, pkt->data, pkt->size);
    return 0;
}

const AVOutputFormat ff_nvc_muxer = {
    .name           = "nvc",
    .long_name      = NULL_IF_CONFIG_SMALL("raw neuvc stream"),
    .extensions     = "nvc",
    .audio_codec    = AV_CODEC_ID_NONE,
    .video_codec    = AV_CODEC_ID_NEUVC,
    .init           = nvc_init,
    .write_header   = nvc_write_header,
    .write_packet   = nvc_write_packet,
};
