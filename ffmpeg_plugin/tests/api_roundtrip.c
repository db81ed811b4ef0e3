/*
 * A video-call style user of the public libavcodec API only: encodes 30
 * synthetic frames with the libneuvc encoder and decodes them again, all
 * in memory, checking FFmpeg's contract on the way (one packet per frame
 * at once, pts, key frames, extradata, decoder output format), then feeds
 * the decoder corrupt packets.
 *
 *     api_roundtrip OUTDIR
 *
 * writes OUTDIR/api.nvc (the sequence header and the packets, as .nvc, for
 * neuvc-dec) and OUTDIR/api.yuv (the decoded frames, planar 4:2:0), so
 * that tests/test_ffmpeg.py can compare FFmpeg's decoding with neuvc-dec.
 * Prints "FAIL: ..." and exits 1 at the first failed check, prints one
 * summary line and exits 0 when everything held.
 *
 * Built by tests/test_ffmpeg.py against build/ffmpeg/prefix.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>

#define W 173                 /* odd sizes on purpose */
#define H 99
#define NFRAMES 30
#define GOP 10
#define FORCED_KEY 17

typedef struct Pkt {
    uint8_t *data;
    int size;
    int64_t pts;
    int key;
} Pkt;

static uint8_t *clean_frames[NFRAMES];    /* decoded planes, packed */
static int frame_bytes;

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    exit(1);
}

static const char *err2str(int err)
{
    static char buf[AV_ERROR_MAX_STRING_SIZE];
    return av_make_error_string(buf, sizeof(buf), err);
}

/* A moving picture: a diagonal gradient sliding right, a bright square
 * moving down, smooth chroma. */
static void fill_frame(AVFrame *f, int n)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = 40 + ((x + 2 * n) * 3 + y * 2) % 160;
            if (x >= 60 && x < 90 && y >= n * 2 && y < n * 2 + 30)
                v = 235;
            f->data[0][y * f->linesize[0] + x] = (uint8_t)v;
        }
    for (int y = 0; y < (H + 1) / 2; y++)
        for (int x = 0; x < (W + 1) / 2; x++) {
            f->data[1][y * f->linesize[1] + x] = (uint8_t)(128 + (x - 43) / 2);
            f->data[2][y * f->linesize[2] + x] = (uint8_t)(128 + (y - 25) + n);
        }
}

/* Packs the three planes of f into buf (frame_bytes bytes). */
static void pack_frame(const AVFrame *f, uint8_t *buf)
{
    int n = av_image_copy_to_buffer(buf, frame_bytes, (const uint8_t *const *)f->data,
                                    f->linesize, AV_PIX_FMT_YUV420P, W, H, 1);
    if (n != frame_bytes)
        fail("av_image_copy_to_buffer gave %d bytes, %d expected", n, frame_bytes);
}

static double psnr_y(const AVFrame *a, const AVFrame *b)
{
    double se = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int d = a->data[0][y * a->linesize[0] + x] - b->data[0][y * b->linesize[0] + x];
            se += d * d;
        }
    if (se == 0)
        return 100.0;
    return 10.0 * log10(255.0 * 255.0 * W * H / se);
}

static AVCodecContext *open_decoder(const uint8_t *extradata, int size)
{
    const AVCodec *dec = avcodec_find_decoder(AV_CODEC_ID_NEUVC);
    if (!dec)
        fail("no decoder for AV_CODEC_ID_NEUVC");
    if (strcmp(dec->name, "libneuvc"))
        fail("decoder for AV_CODEC_ID_NEUVC is '%s', not libneuvc", dec->name);
    AVCodecContext *c = avcodec_alloc_context3(dec);
    if (!c)
        fail("avcodec_alloc_context3");
    c->extradata = av_mallocz(size + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!c->extradata)
        fail("out of memory");
    memcpy(c->extradata, extradata, size);
    c->extradata_size = size;
    int ret = avcodec_open2(c, dec, NULL);
    if (ret < 0)
        fail("opening the decoder: %s", err2str(ret));
    return c;
}

/* Sends one packet; returns the error of send or receive (0: a frame in f,
 * AVERROR(EAGAIN): no frame). */
static int decode_one(AVCodecContext *c, const Pkt *p, AVFrame *f, int len)
{
    AVPacket *pkt = av_packet_alloc();
    if (!pkt || av_new_packet(pkt, len) < 0)
        fail("out of memory");
    memcpy(pkt->data, p->data, len);
    pkt->pts = pkt->dts = p->pts;
    if (p->key)
        pkt->flags |= AV_PKT_FLAG_KEY;
    int ret = avcodec_send_packet(c, pkt);
    av_packet_free(&pkt);
    if (ret < 0)
        return ret;
    return avcodec_receive_frame(c, f);
}

int main(int argc, char **argv)
{
    char path[4096];
    Pkt pkts[NFRAMES];
    AVFrame *src[NFRAMES];
    int ret;

    if (argc != 2) {
        fprintf(stderr, "usage: api_roundtrip OUTDIR\n");
        return 2;
    }
    frame_bytes = av_image_get_buffer_size(AV_PIX_FMT_YUV420P, W, H, 1);

    /* ---- the codec id and its descriptor */
    const AVCodecDescriptor *desc = avcodec_descriptor_get(AV_CODEC_ID_NEUVC);
    if (!desc || strcmp(desc->name, "neuvc") || desc->type != AVMEDIA_TYPE_VIDEO)
        fail("no video descriptor named neuvc for AV_CODEC_ID_NEUVC");
    if (avcodec_descriptor_get_by_name("neuvc")->id != AV_CODEC_ID_NEUVC)
        fail("descriptor 'neuvc' has another id");

    /* ---- encoder, set up as a video-call app would */
    const AVCodec *enc = avcodec_find_encoder_by_name("libneuvc");
    if (!enc)
        fail("no encoder named libneuvc");
    if (enc->id != AV_CODEC_ID_NEUVC || avcodec_find_encoder(AV_CODEC_ID_NEUVC) != enc)
        fail("libneuvc is not the encoder of AV_CODEC_ID_NEUVC");
    AVCodecContext *ec = avcodec_alloc_context3(enc);
    if (!ec)
        fail("avcodec_alloc_context3");
    ec->width = W;
    ec->height = H;
    ec->pix_fmt = AV_PIX_FMT_YUV420P;
    ec->time_base = (AVRational){ 1, 30 };
    ec->framerate = (AVRational){ 30, 1 };
    ec->gop_size = GOP;
    ec->flags |= AV_CODEC_FLAG_LOW_DELAY;
    if ((ret = av_opt_set(ec->priv_data, "qp", "28", 0)) < 0)
        fail("setting the private option qp: %s", err2str(ret));
    if ((ret = avcodec_open2(ec, enc, NULL)) < 0)
        fail("opening the encoder: %s", err2str(ret));
    if (ec->extradata_size != 100 || memcmp(ec->extradata, "NVC1", 4))
        fail("extradata is not the 100-byte sequence header (%d bytes)", ec->extradata_size);

    AVPacket *pkt = av_packet_alloc();
    if (!pkt)
        fail("out of memory");
    for (int i = 0; i < NFRAMES; i++) {
        AVFrame *f = av_frame_alloc();
        if (!f)
            fail("out of memory");
        f->format = AV_PIX_FMT_YUV420P;
        f->width = W;
        f->height = H;
        if (av_frame_get_buffer(f, 0) < 0)
            fail("av_frame_get_buffer");
        fill_frame(f, i);
        f->pts = i;
        f->pict_type = i == FORCED_KEY ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
        src[i] = f;
        if ((ret = avcodec_send_frame(ec, f)) < 0)
            fail("frame %d: avcodec_send_frame: %s", i, err2str(ret));
        /* No delay: the packet of this frame is there at once. */
        if ((ret = avcodec_receive_packet(ec, pkt)) < 0)
            fail("frame %d: no packet right after the frame (%s)", i, err2str(ret));
        if (pkt->pts != i || pkt->dts != i)
            fail("frame %d: packet pts %lld dts %lld", i, (long long)pkt->pts,
                 (long long)pkt->dts);
        const int key = !!(pkt->flags & AV_PKT_FLAG_KEY);
        if (pkt->size < 4)
            fail("frame %d: packet of %d bytes", i, pkt->size);
        if (key != (pkt->data[0] == 0))
            fail("frame %d: key flag %d but frame_type byte %d", i, key, pkt->data[0]);
        if ((i % GOP == 0 || i == FORCED_KEY) && !key)
            fail("frame %d: should be an intra frame (gop %d, forced at %d)", i, GOP,
                 FORCED_KEY);
        pkts[i].data = malloc(pkt->size);
        if (!pkts[i].data)
            fail("out of memory");
        memcpy(pkts[i].data, pkt->data, pkt->size);
        pkts[i].size = pkt->size;
        pkts[i].pts = pkt->pts;
        pkts[i].key = key;
        av_packet_unref(pkt);
        if ((ret = avcodec_receive_packet(ec, pkt)) != AVERROR(EAGAIN))
            fail("frame %d: a second packet, or an error, for one frame (%s)", i, err2str(ret));
    }
    if ((ret = avcodec_send_frame(ec, NULL)) < 0)
        fail("flushing the encoder: %s", err2str(ret));
    if ((ret = avcodec_receive_packet(ec, pkt)) != AVERROR_EOF)
        fail("the flushed encoder gave %s, not end of stream", err2str(ret));

    /* ---- the stream as .nvc, for neuvc-dec */
    snprintf(path, sizeof(path), "%s/api.nvc", argv[1]);
    FILE *nvc = fopen(path, "wb");
    if (!nvc)
        fail("cannot write %s", path);
    fwrite(ec->extradata, 1, ec->extradata_size, nvc);
    for (int i = 0; i < NFRAMES; i++) {
        uint8_t h[12];
        uint32_t sz = (uint32_t)pkts[i].size;
        uint64_t pts = (uint64_t)pkts[i].pts;
        for (int b = 0; b < 4; b++)
            h[b] = (uint8_t)(sz >> (8 * b));
        for (int b = 0; b < 8; b++)
            h[4 + b] = (uint8_t)(pts >> (8 * b));
        fwrite(h, 1, sizeof(h), nvc);
        fwrite(pkts[i].data, 1, pkts[i].size, nvc);
    }
    if (fclose(nvc))
        fail("writing %s", path);

    /* ---- decoder */
    AVCodecContext *dc = open_decoder(ec->extradata, ec->extradata_size);
    if (dc->width != W || dc->height != H || dc->pix_fmt != AV_PIX_FMT_YUV420P)
        fail("decoder after open: %dx%d format %d, not %dx%d yuv420p", dc->width, dc->height,
             dc->pix_fmt, W, H);
    AVFrame *out = av_frame_alloc();
    if (!out)
        fail("out of memory");
    snprintf(path, sizeof(path), "%s/api.yuv", argv[1]);
    FILE *yuv = fopen(path, "wb");
    if (!yuv)
        fail("cannot write %s", path);
    double min_psnr = 1e9;
    for (int i = 0; i < NFRAMES; i++) {
        ret = decode_one(dc, &pkts[i], out, pkts[i].size);
        if (ret < 0)
            fail("packet %d: no frame right after the packet (%s)", i, err2str(ret));
        if (out->format != AV_PIX_FMT_YUV420P || out->width != W || out->height != H)
            fail("frame %d: format %d %dx%d", i, out->format, out->width, out->height);
        if (out->pts != pkts[i].pts)
            fail("frame %d: pts %lld, packet pts %lld", i, (long long)out->pts,
                 (long long)pkts[i].pts);
        if (out->key_frame != pkts[i].key)
            fail("frame %d: key_frame %d, packet key %d", i, out->key_frame, pkts[i].key);
        min_psnr = fmin(min_psnr, psnr_y(out, src[i]));
        clean_frames[i] = malloc(frame_bytes);
        if (!clean_frames[i])
            fail("out of memory");
        pack_frame(out, clean_frames[i]);
        fwrite(clean_frames[i], 1, frame_bytes, yuv);
        av_frame_unref(out);
        if ((ret = avcodec_receive_frame(dc, out)) != AVERROR(EAGAIN))
            fail("packet %d: a second frame, or an error, for one packet (%s)", i, err2str(ret));
    }
    if (fclose(yuv))
        fail("writing %s", path);
    if ((ret = avcodec_send_packet(dc, NULL)) < 0)
        fail("flushing the decoder: %s", err2str(ret));
    if ((ret = avcodec_receive_frame(dc, out)) != AVERROR_EOF)
        fail("the flushed decoder gave %s, not end of stream", err2str(ret));
    avcodec_free_context(&dc);
    if (min_psnr < 20.0)
        fail("decoded pictures are far from the source (lowest PSNR-Y %.2f dB)", min_psnr);

    /* ---- corrupt packets: packet 5 cut short by a byte, packet 12 with a
     * reserved frame-header flag set.  Each must give AVERROR_INVALIDDATA;
     * P frames after it give no picture; decoding goes on at the next intra
     * frame with pictures identical to the clean decoding. */
    dc = open_decoder(ec->extradata, ec->extradata_size);
    uint8_t *packed = malloc(frame_bytes);
    if (!packed)
        fail("out of memory");
    int need_intra = 0, errors = 0, resumed = 0;
    for (int i = 0; i < NFRAMES; i++) {
        Pkt p = pkts[i];
        int len = p.size;
        uint8_t *copy = malloc(p.size);
        if (!copy)
            fail("out of memory");
        memcpy(copy, p.data, p.size);
        p.data = copy;
        const int corrupt = i == 5 || i == 12;
        if (i == 5)
            len = p.size - 1;
        if (i == 12)
            copy[2] |= 0x80;
        ret = decode_one(dc, &p, out, len);
        free(copy);
        if (corrupt) {
            if (ret != AVERROR_INVALIDDATA)
                fail("corrupt packet %d: %s, not AVERROR_INVALIDDATA", i, err2str(ret));
            errors++;
            need_intra = 1;
            continue;
        }
        if (need_intra && !p.key) {
            if (ret != AVERROR(EAGAIN))
                fail("packet %d (P after an error): %s, expected no picture", i, err2str(ret));
            continue;
        }
        if (ret < 0)
            fail("packet %d after corrupt ones: %s", i, err2str(ret));
        pack_frame(out, packed);
        av_frame_unref(out);
        if (memcmp(packed, clean_frames[i], frame_bytes))
            fail("packet %d after corrupt ones: picture differs from the clean decoding", i);
        if (need_intra)
            resumed++;
        need_intra = 0;
    }
    if (errors != 2 || resumed != 2)
        fail("%d errors reported, decoding resumed %d times (2 and 2 expected)", errors, resumed);
    avcodec_free_context(&dc);

    printf("api_roundtrip: %d frames %dx%d encoded and decoded, lowest PSNR-Y %.2f dB, "
           "%d corrupt packets refused, decoding resumed after each\n",
           NFRAMES, W, H, min_psnr, errors);

    for (int i = 0; i < NFRAMES; i++) {
        free(pkts[i].data);
        free(clean_frames[i]);
        av_frame_free(&src[i]);
    }
    free(packed);
    av_frame_free(&out);
    av_packet_free(&pkt);
    avcodec_free_context(&ec);
    return 0;
}
