/*
 * Demuxer for raw neuvc streams (.nvc files, as neuvc-enc writes them).
 * Part of neuvc (ffmpeg_plugin/); compiled into libavformat by
 * ffmpeg_plugin/build-ffmpeg.sh.  Licensed like the libavformat it becomes
 * part of: GNU LGPL version 2.1 or later.
 */

/*
 * Layout (docs/bitstream.md): a 100-byte sequence header starting with
 * "NVC1", then packets of  u32 payload_size | i64 pts | payload,  all
 * little-endian, until the end of the file.  The header becomes the
 * stream's extradata (the decoder checks it in full, CRC included); pts
 * count in units of fps_den / fps_num seconds.
 */

#include "libavutil/intreadwrite.h"
#include "libavutil/pixfmt.h"

#include "avformat.h"
#include "internal.h"

#define NVC_HEADER_SIZE        100
#define NVC_PACKET_HEADER_SIZE 12

typedef struct NvcDemuxContext {
    int64_t max_packet;           /* refuse larger payload sizes */
} NvcDemuxContext;

static int nvc_probe(const AVProbeData *p)
{
    if (p->buf_size < 8 || AV_RL32(p->buf) != MKTAG('N', 'V', 'C', '1'))
        return 0;
    if (AV_RL16(p->buf + 4) == 1 && AV_RL16(p->buf + 6) == NVC_HEADER_SIZE)
        return AVPROBE_SCORE_MAX;
    return AVPROBE_SCORE_EXTENSION;   /* the magic of a newer version */
}

static int nvc_read_header(AVFormatContext *s)
{
    NvcDemuxContext *nvc = s->priv_data;
    uint8_t h[NVC_HEADER_SIZE];
    unsigned version, header_size, width, height, fps_num, fps_den;
    AVStream *st;
    int ret;

    ret = avio_read(s->pb, h, sizeof(h));
    if (ret < 0 && ret != AVERROR_EOF)
        return ret;
    if (ret != (int)sizeof(h) || AV_RL32(h) != MKTAG('N', 'V', 'C', '1')) {
        av_log(s, AV_LOG_ERROR, "not a neuvc stream, or its sequence header is truncated\n");
        return AVERROR_INVALIDDATA;
    }
    version     = AV_RL16(h + 4);
    header_size = AV_RL16(h + 6);
    width       = AV_RL16(h + 8);
    height      = AV_RL16(h + 10);
    fps_num     = AV_RL32(h + 12);
    fps_den     = AV_RL32(h + 16);
    if (version > 1) {
        avpriv_request_sample(s, "neuvc stream version %u", version);
        return AVERROR_PATCHWELCOME;
    }
    if (version != 1 || header_size != NVC_HEADER_SIZE || !width || !height ||
        !fps_num || !fps_den || fps_num > INT_MAX || fps_den > INT_MAX) {
        av_log(s, AV_LOG_ERROR, "invalid neuvc sequence header (version %u, size %u, "
               "%ux%u, %u/%u fps)\n", version, header_size, width, height, fps_num, fps_den);
        return AVERROR_INVALIDDATA;
    }

    st = avformat_new_stream(s, NULL);
    if (!st)
        return AVERROR(ENOMEM);
    st->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
    st->codecpar->codec_id   = AV_CODEC_ID_NEUVC;
    st->codecpar->codec_tag  = MKTAG('N', 'V', 'C', '1');
    st->codecpar->width      = width;
    st->codecpar->height     = height;
    st->codecpar->format     = AV_PIX_FMT_YUV420P;
    ret = ff_alloc_extradata(st->codecpar, NVC_HEADER_SIZE);
    if (ret < 0)
        return ret;
    memcpy(st->codecpar->extradata, h, NVC_HEADER_SIZE);

    avpriv_set_pts_info(st, 64, fps_den, fps_num);
    st->avg_frame_rate = st->r_frame_rate = (AVRational){ (int)fps_num, (int)fps_den };

    /* As neuvc-dec: four raw frames plus 1 MiB bounds a payload_size. */
    nvc->max_packet = 4 * ((int64_t)width * height * 3 / 2 + 1) + (1 << 20);
    return 0;
}

static int nvc_read_packet(AVFormatContext *s, AVPacket *pkt)
{
    NvcDemuxContext *nvc = s->priv_data;
    uint8_t ph[NVC_PACKET_HEADER_SIZE];
    int64_t pos = avio_tell(s->pb), pts;
    uint32_t size;
    int ret;

    ret = avio_read(s->pb, ph, sizeof(ph));
    if (ret == 0 || ret == AVERROR_EOF)
        return AVERROR_EOF;              /* clean end: at a packet boundary */
    if (ret < 0)
        return ret;
    if (ret < (int)sizeof(ph)) {
        av_log(s, AV_LOG_ERROR, "truncated file: %d bytes of a packet header at %"PRId64"\n",
               ret, pos);
        return AVERROR_INVALIDDATA;
    }
    size = AV_RL32(ph);
    pts  = (int64_t)AV_RL64(ph + 4);
    if (size == 0 || size > nvc->max_packet || size > INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE) {
        av_log(s, AV_LOG_ERROR, "invalid packet size %"PRIu32" at %"PRId64"\n", size, pos);
        return AVERROR_INVALIDDATA;
    }

    ret = av_get_packet(s->pb, pkt, (int)size);
    if (ret < 0)
        return ret;
    if (ret < (int)size) {
        av_log(s, AV_LOG_ERROR, "truncated file: %d of %"PRIu32" payload bytes at %"PRId64"\n",
               ret, size, pos);
        pkt->flags |= AV_PKT_FLAG_CORRUPT;
    }
    pkt->stream_index = 0;
    pkt->pos = pos;
    pkt->pts = pkt->dts = pts;          /* low delay: decoding order is display order */
    if (pkt->size > 0 && pkt->data[0] == 0)  /* frame_type 0: intra */
        pkt->flags |= AV_PKT_FLAG_KEY;
    return 0;
}

const AVInputFormat ff_nvc_demuxer = {
    .name           = "nvc",
    .long_name      = NULL_IF_CONFIG_SMALL("raw neuvc stream"),
    .priv_data_size = sizeof(NvcDemuxContext),
    .read_probe     = nvc_probe,
    .read_header    = nvc_read_header,
    .read_packet    = nvc_read_packet,
    .extensions     = "nvc",
    .flags          = AVFMT_GENERIC_INDEX,
};
