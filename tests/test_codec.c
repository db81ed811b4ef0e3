/* The codec through the public API: intra round trips on a real clip and
 * on tiny sizes (decoder output == encoder reconstruction, byte for
 * byte), quality and size bounds, corrupt and truncated packets, model
 * refusal, API misuse; P frames (IPPP...): round trips on a real clip,
 * frame types from keyint and forced keyframes, P frames without a
 * reference, and recovery at the next I frame after a damaged P frame.
 * `test_codec --bench` times whole 480x270 frames.
 *
 * The clips are read from $NEUVC_CLIPS/eval, else ../shared/clips/eval
 * relative to the working directory (the repository root); the P-frame
 * tests decode theirs (an .mp4) with ffmpeg, which must be on PATH.  A
 * missing clip or ffmpeg is a failure. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/bitstream.h"
#include "common/nvm.h"
#include "common/y4m.h"
#include "netlib/graph.h"
#include "neuvc/neuvc.h"

extern const unsigned char nv_default_model[];
extern const size_t nv_default_model_size;

#define CLIP_NAME "vmaf_park_joy_480x270_10f.y4m"
#define FACE_CLIP "sadtalker_WDA_KatieHill_512.mp4"

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* ------------------------------------------------------------ pictures */

typedef struct test_pic {
    int w, h;
    uint8_t *mem;
    NeuvcPicture pic;
} test_pic;

/* A w x h picture with pad bytes after each row; content: 0 none, 1
 * random, 2 smooth gradient with a little noise. */
static void pic_alloc(test_pic *p, int w, int h, int pad, int content)
{
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    memset(p, 0, sizeof(*p));
    p->w = w;
    p->h = h;
    p->pic.width = w;
    p->pic.height = h;
    p->pic.stride[0] = w + pad;
    p->pic.stride[1] = p->pic.stride[2] = cw + pad;
    size_t ysz = (size_t)p->pic.stride[0] * h, csz = (size_t)p->pic.stride[1] * ch;
    p->mem = malloc(ysz + 2 * csz);
    ck_assert_ptr_nonnull(p->mem);
    memset(p->mem, 0xEE, ysz + 2 * csz);
    p->pic.data[0] = p->mem;
    p->pic.data[1] = p->mem + ysz;
    p->pic.data[2] = p->mem + ysz + csz;
    if (!content)
        return;
    for (int i = 0; i < 3; i++) {
        int pw = i ? cw : w, ph = i ? ch : h;
        for (int y = 0; y < ph; y++)
            for (int x = 0; x < pw; x++) {
                uint32_t v = content == 1 ? rng() : (uint32_t)(x * 3 + y * 2 + 40 * i) + rng() % 8;
                p->pic.data[i][y * p->pic.stride[i] + x] = (uint8_t)v;
            }
    }
}

static void pic_free(test_pic *p)
{
    free(p->mem);
    p->mem = NULL;
}

static int pic_equal(const NeuvcPicture *a, const NeuvcPicture *b)
{
    if (a->width != b->width || a->height != b->height)
        return 0;
    for (int i = 0; i < 3; i++) {
        int pw = i ? (a->width + 1) / 2 : a->width, ph = i ? (a->height + 1) / 2 : a->height;
        for (int y = 0; y < ph; y++)
            if (memcmp(a->data[i] + y * a->stride[i], b->data[i] + y * b->stride[i], (size_t)pw))
                return 0;
    }
    return 1;
}

/* PSNR-YUV, (6 Y + U + V) / 8 of the mean squared errors. */
static double psnr_yuv(const NeuvcPicture *a, const NeuvcPicture *b)
{
    double mse[3];
    for (int i = 0; i < 3; i++) {
        int pw = i ? (a->width + 1) / 2 : a->width, ph = i ? (a->height + 1) / 2 : a->height;
        double s = 0;
        for (int y = 0; y < ph; y++)
            for (int x = 0; x < pw; x++) {
                double d = (double)a->data[i][y * a->stride[i] + x] - b->data[i][y * b->stride[i] + x];
                s += d * d;
            }
        mse[i] = s / ((double)pw * ph);
    }
    double m = (6 * mse[0] + mse[1] + mse[2]) / 8;
    return m <= 1e-10 ? 100.0 : 10 * log10(255.0 * 255.0 / m);
}

/* Frames [0, n) of the clip, cropped to w x h at (x0, y0) (even). */
static void clip_crop(test_pic *out, int n, int x0, int y0, int w, int h)
{
    const char *dir = getenv("NEUVC_CLIPS");
    char path[1024];
    snprintf(path, sizeof(path), "%s/eval/%s", dir && *dir ? dir : "../shared/clips", CLIP_NAME);
    FILE *f = fopen(path, "rb");
    if (!f)
        ck_abort_msg("test clip %s missing (set NEUVC_CLIPS to the clips folder)", path);
    y4m_reader r;
    ck_assert_int_eq(y4m_reader_open(&r, f, 0, 0), 0);
    ck_assert_int_le(x0 + w, r.info.width);
    ck_assert_int_le(y0 + h, r.info.height);
    for (int k = 0; k < n; k++) {
        NeuvcPicture src;
        ck_assert_int_eq(y4m_read_picture(&r, &src), 1);
        pic_alloc(&out[k], w, h, 7, 0);
        for (int i = 0; i < 3; i++) {
            int s = i ? 2 : 1;
            for (int y = 0; y < (i ? (h + 1) / 2 : h); y++)
                memcpy(out[k].pic.data[i] + y * out[k].pic.stride[i],
                       src.data[i] + (y0 / s + y) * src.stride[i] + x0 / s,
                       (size_t)(i ? (w + 1) / 2 : w));
        }
        out[k].pic.pts = 100 + k;
    }
    y4m_reader_close(&r);
    fclose(f);
}

/* Frames [0, n) of the talking-head clip FACE_CLIP, cropped by ffmpeg to
 * w x h at (x0, y0), into out (pts 200 + k). */
static void face_crop(test_pic *out, int n, int x0, int y0, int w, int h)
{
    const char *dir = getenv("NEUVC_CLIPS");
    char path[1024], cmd[1400];
    snprintf(path, sizeof(path), "%s/eval/%s", dir && *dir ? dir : "../shared/clips", FACE_CLIP);
    if (access(path, R_OK) != 0)
        ck_abort_msg("test clip %s missing (set NEUVC_CLIPS to the clips folder)", path);
    snprintf(cmd, sizeof(cmd),
             "ffmpeg -nostdin -v error -i '%s' -frames:v %d -vf crop=%d:%d:%d:%d "
             "-pix_fmt yuv420p -f yuv4mpegpipe -",
             path, n, w, h, x0, y0);
    FILE *f = popen(cmd, "r");
    ck_assert_msg(f != NULL, "cannot run ffmpeg");
    y4m_reader r;
    ck_assert_msg(y4m_reader_open(&r, f, 0, 0) == 0, "ffmpeg gave no Y4M (is it on PATH?): %s",
                  cmd);
    ck_assert_int_eq(r.info.width, w);
    ck_assert_int_eq(r.info.height, h);
    for (int k = 0; k < n; k++) {
        NeuvcPicture src;
        ck_assert_int_eq(y4m_read_picture(&r, &src), 1);
        pic_alloc(&out[k], w, h, 3, 0);
        for (int i = 0; i < 3; i++)
            for (int y = 0; y < (i ? (h + 1) / 2 : h); y++)
                memcpy(out[k].pic.data[i] + y * out[k].pic.stride[i],
                       src.data[i] + y * src.stride[i], (size_t)(i ? (w + 1) / 2 : w));
        out[k].pic.pts = 200 + k;
    }
    y4m_reader_close(&r);
    ck_assert_int_eq(pclose(f), 0);
}

/* A copy of pic (planes owned by out). */
static void pic_copy(test_pic *out, const NeuvcPicture *pic)
{
    pic_alloc(out, pic->width, pic->height, 0, 0);
    for (int i = 0; i < 3; i++)
        for (int y = 0; y < (i ? (pic->height + 1) / 2 : pic->height); y++)
            memcpy(out->pic.data[i] + y * out->pic.stride[i], pic->data[i] + y * pic->stride[i],
                   (size_t)(i ? (pic->width + 1) / 2 : pic->width));
    out->pic.pts = pic->pts;
    out->pic.frame_type = pic->frame_type;
}

/* ------------------------------------------------------------- codec */

/* An encoder for w x h at qp with intra period keyint. */
static NeuvcEncoder *enc_new_k(int w, int h, int qp, int keyint)
{
    NeuvcEncSettings s;
    NeuvcEncoder *enc = NULL;
    neuvc_enc_default_settings(&s);
    s.width = w;
    s.height = h;
    s.qp = qp;
    s.keyint = keyint;
    ck_assert_int_eq(neuvc_enc_open(&enc, &s), 0);
    ck_assert_ptr_nonnull(enc);
    return enc;
}

/* The same with the default keyint (32). */
static NeuvcEncoder *enc_new(int w, int h, int qp)
{
    return enc_new_k(w, h, qp, 32);
}

static NeuvcDecoder *dec_new(NeuvcEncoder *enc)
{
    NeuvcDecSettings s;
    NeuvcDecoder *dec = NULL;
    const uint8_t *hdr;
    size_t hsize;
    neuvc_dec_default_settings(&s);
    s.log_level = 0; /* the corrupt-packet tests would print a line each */
    ck_assert_int_eq(neuvc_dec_open(&dec, &s), 0);
    ck_assert_int_eq(neuvc_enc_get_header(enc, &hdr, &hsize), 0);
    ck_assert_uint_eq(hsize, NVC_SEQ_HEADER_SIZE);
    ck_assert_int_eq(neuvc_dec_set_header(dec, hdr, hsize), 0);
    return dec;
}

typedef struct packet {
    uint8_t *data;
    size_t size;
    int64_t pts;
    NeuvcFrameType type;
} packet;

/* Codes pic; the packet is copied out.  Its type is the frame header's. */
static packet encode(NeuvcEncoder *enc, const NeuvcPicture *pic)
{
    NeuvcPacket p;
    packet out;
    ck_assert_int_eq(neuvc_enc_receive_packet(enc, &p), NEUVC_ERR(EAGAIN));
    ck_assert_int_eq(neuvc_enc_send_picture(enc, pic), 0);
    ck_assert_int_eq(neuvc_enc_receive_packet(enc, &p), 0);
    ck_assert(p.frame_type == NEUVC_FRAME_I || p.frame_type == NEUVC_FRAME_P);
    ck_assert_int_eq(p.data[0], p.frame_type);
    ck_assert_int_eq(p.pts, pic->pts);
    ck_assert_uint_gt(p.size, 4);
    out.data = malloc(p.size);
    ck_assert_ptr_nonnull(out.data);
    memcpy(out.data, p.data, p.size);
    out.size = p.size;
    out.pts = p.pts;
    out.type = p.frame_type;
    return out;
}

/* Sends data[0 .. size-1]; returns send's result, and on success checks
 * that exactly one picture comes out, into *pic. */
static int decode(NeuvcDecoder *dec, const uint8_t *data, size_t size, int64_t pts,
                  NeuvcPicture *pic)
{
    NeuvcPacket p = { data, size, pts, NEUVC_FRAME_I, 0 };
    NeuvcPicture tmp;
    int ret = neuvc_dec_send_packet(dec, &p);
    if (ret < 0) {
        ck_assert_int_eq(neuvc_dec_receive_picture(dec, &tmp), NEUVC_ERR(EAGAIN));
        return ret;
    }
    ck_assert_int_eq(neuvc_dec_receive_picture(dec, pic ? pic : &tmp), 0);
    ck_assert_int_eq(neuvc_dec_receive_picture(dec, &tmp), NEUVC_ERR(EAGAIN));
    return 0;
}

/* Encodes pic, decodes the packet with dec and checks decoded == recon. */
static packet roundtrip(NeuvcEncoder *enc, NeuvcDecoder *dec, const NeuvcPicture *pic,
                        double *psnr)
{
    NeuvcPicture rec, out;
    packet p = encode(enc, pic);
    ck_assert_int_eq(neuvc_enc_get_recon(enc, &rec), 0);
    ck_assert_int_eq(rec.width, pic->width);
    ck_assert_int_eq(rec.height, pic->height);
    ck_assert_int_eq(rec.frame_type, p.type);
    ck_assert_int_eq(decode(dec, p.data, p.size, p.pts, &out), 0);
    ck_assert_int_eq(out.frame_type, p.type);
    ck_assert_int_eq(out.pts, pic->pts);
    ck_assert_msg(pic_equal(&rec, &out), "decoder output differs from the encoder's recon");
    if (psnr)
        *psnr = psnr_yuv(pic, &rec);
    return p;
}

/* --------------------------------------------------- real-clip round trip */

/* Crops of park_joy (runners and trees, much texture), 3 I frames
 * (keyint 1) at each qp.  Sanity bounds: model neuvc-rt-0 gives PSNR-YUV
 * 32.6 / 30.2 / 24.9 dB at qp 20 / 32 / 44 on the 128x96 crop, 32.8 /
 * 30.3 / 25.0 on the 67x45 one (measured at the first export, training
 * step 3333); a broken model or pipeline gives about 10 dB. */
static const int rt_qps[3] = { 20, 32, 44 };
static const double rt_min_psnr[3] = { 28.0, 25.0, 21.0 };

static void clip_roundtrip(int x0, int y0, int w, int h, int check_psnr)
{
    test_pic src[3];
    size_t bytes[3];
    clip_crop(src, 3, x0, y0, w, h);
    for (int q = 0; q < 3; q++) {
        NeuvcEncoder *enc = enc_new_k(w, h, rt_qps[q], 1);
        NeuvcDecoder *dec = dec_new(enc);
        double sum = 0;
        bytes[q] = 0;
        for (int k = 0; k < 3; k++) {
            double psnr;
            packet p = roundtrip(enc, dec, &src[k].pic, &psnr);
            ck_assert_int_eq(p.type, NEUVC_FRAME_I);
            bytes[q] += p.size;
            sum += psnr;
            free(p.data);
        }
        printf("park_joy %dx%d qp %d: %.1f bytes/frame, PSNR-YUV %.2f dB\n", w, h, rt_qps[q],
               bytes[q] / 3.0, sum / 3);
        if (check_psnr)
            ck_assert_msg(sum / 3 > rt_min_psnr[q], "qp %d: PSNR %.2f dB <= %.1f", rt_qps[q],
                          sum / 3, rt_min_psnr[q]);
        neuvc_dec_close(&dec);
        neuvc_enc_close(&enc);
    }
    ck_assert_uint_gt(bytes[0], bytes[1]);
    ck_assert_uint_gt(bytes[1], bytes[2]);
    for (int k = 0; k < 3; k++)
        pic_free(&src[k]);
}

START_TEST(clip_128x96)
{
    clip_roundtrip(160, 80, 128, 96, 1);
}
END_TEST

START_TEST(clip_odd_67x45)
{
    clip_roundtrip(200, 120, 67, 45, 1);
}
END_TEST

/* ------------------------------------------------------- tiny sizes */

static const int tiny_sizes[][2] = {
    { 1, 1 }, { 2, 2 }, { 63, 65 }, { 64, 64 }, { 66, 34 }, { 130, 72 }, { 3, 129 },
};

START_TEST(tiny_roundtrip)
{
    int w = tiny_sizes[_i][0], h = tiny_sizes[_i][1];
    rng_state = 99u + (uint32_t)_i;
    NeuvcEncoder *enc = enc_new(w, h, 16 + 10 * _i % 40);
    NeuvcDecoder *dec = dec_new(enc);
    for (int k = 0; k < 2; k++) {
        test_pic src;
        pic_alloc(&src, w, h, k * 3, 1 + k);
        src.pic.pts = -5 + k;
        packet p = roundtrip(enc, dec, &src.pic, NULL);
        ck_assert_int_eq(p.type, k ? NEUVC_FRAME_P : NEUVC_FRAME_I);
        free(p.data);
        pic_free(&src);
    }
    neuvc_dec_close(&dec);
    neuvc_enc_close(&enc);
}
END_TEST

/* Same input, two encoders: identical packets, I and P; a third encoder
 * of keyint 1 codes the second picture as the same I frame as the
 * first, but for the frame number (byte 4 of the frame header). */
START_TEST(deterministic)
{
    test_pic src;
    rng_state = 7;
    pic_alloc(&src, 80, 48, 0, 2);
    NeuvcEncoder *a = enc_new(80, 48, 30), *b = enc_new(80, 48, 30);
    NeuvcEncoder *c = enc_new_k(80, 48, 30, 1);
    packet pa = encode(a, &src.pic), pb = encode(b, &src.pic), pc = encode(c, &src.pic);
    packet pa2 = encode(a, &src.pic), pb2 = encode(b, &src.pic), pc2 = encode(c, &src.pic);
    ck_assert_uint_eq(pa.size, pb.size);
    ck_assert_mem_eq(pa.data, pb.data, pa.size);
    ck_assert_uint_eq(pa.size, pc.size);
    ck_assert_mem_eq(pa.data, pc.data, pa.size);
    ck_assert_int_eq(pa2.type, NEUVC_FRAME_P);
    ck_assert_uint_eq(pa2.size, pb2.size);
    ck_assert_mem_eq(pa2.data, pb2.data, pa2.size);
    ck_assert_int_eq(pc2.type, NEUVC_FRAME_I);
    ck_assert_uint_eq(pc2.size, pc.size);
    ck_assert_uint_eq(pc.data[2], NVC_FRAME_FLAG_FRAME_NUM);
    ck_assert_uint_eq(pc.data[4], 0);
    ck_assert_uint_eq(pc2.data[4], 1);
    ck_assert_mem_eq(pc2.data, pc.data, 4);
    ck_assert_mem_eq(pc2.data + 5, pc.data + 5, pc.size - 5);
    packet *all[6] = { &pa, &pb, &pc, &pa2, &pb2, &pc2 };
    for (int i = 0; i < 6; i++)
        free(all[i]->data);
    neuvc_enc_close(&a);
    neuvc_enc_close(&b);
    neuvc_enc_close(&c);
    pic_free(&src);
}
END_TEST

/* --------------------------------------------- no per-frame allocation */

#if defined(__SANITIZE_ADDRESS__)
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_in_use(void)
{
    return __sanitizer_get_current_allocated_bytes();
}
#else
#include <malloc.h>
static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}
#endif

/* After an I and a P frame as large as any later one (random pictures at
 * qp 0: the P frame is even larger than the I frame), coding and
 * decoding allocate nothing: the heap in use stays the same to the byte
 * over the frames P I P P (keyint 3). */
START_TEST(no_alloc_per_frame)
{
    enum { n = 6 };
    test_pic pics[n];
    rng_state = 11;
    for (int k = 0; k < n; k++)
        pic_alloc(&pics[k], 130, 72, 0, k < 2 ? 1 : 2);
    NeuvcEncoder *enc = enc_new_k(130, 72, 0, 3);
    NeuvcDecoder *dec = dec_new(enc);
    size_t before = 0;
    for (int k = 0; k < n; k++) {
        NeuvcPacket p;
        NeuvcPicture out;
        if (k == 2)
            before = heap_in_use();
        ck_assert_int_eq(neuvc_enc_send_picture(enc, &pics[k].pic), 0);
        ck_assert_int_eq(neuvc_enc_receive_packet(enc, &p), 0);
        ck_assert_int_eq(p.frame_type, k % 3 ? NEUVC_FRAME_P : NEUVC_FRAME_I);
        ck_assert_int_eq(decode(dec, p.data, p.size, p.pts, &out), 0);
    }
    size_t after = heap_in_use();
    ck_assert_uint_gt(before, 0);
    ck_assert_uint_eq(after, before);
    neuvc_dec_close(&dec);
    neuvc_enc_close(&enc);
    for (int k = 0; k < n; k++)
        pic_free(&pics[k]);
}
END_TEST

/* ------------------------------------------------- corrupt packets */

/* One coded 64x64 picture and a decoder for it. */
typedef struct fixture {
    NeuvcEncoder *enc;
    NeuvcDecoder *dec;
    test_pic src;
    packet p;
    NeuvcPicture rec;
} fixture;

static void fixture_open(fixture *fx, int w, int h)
{
    rng_state = 4242;
    pic_alloc(&fx->src, w, h, 0, 2);
    fx->enc = enc_new(w, h, 28);
    fx->dec = dec_new(fx->enc);
    fx->p = encode(fx->enc, &fx->src.pic);
    ck_assert_int_eq(neuvc_enc_get_recon(fx->enc, &fx->rec), 0);
}

static void fixture_close(fixture *fx)
{
    free(fx->p.data);
    pic_free(&fx->src);
    neuvc_dec_close(&fx->dec);
    neuvc_enc_close(&fx->enc);
}

static void expect_good_decode(fixture *fx)
{
    NeuvcPicture out;
    ck_assert_int_eq(decode(fx->dec, fx->p.data, fx->p.size, 3, &out), 0);
    ck_assert(pic_equal(&out, &fx->rec));
}

START_TEST(truncated_packets)
{
    fixture fx;
    fixture_open(&fx, 64, 64);
    for (size_t len = 0; len < fx.p.size; len++) {
        ck_assert_int_eq(decode(fx.dec, fx.p.data, len, 0, NULL), NEUVC_ERR_INVALIDDATA);
        if (len % 16 == 0)
            expect_good_decode(&fx);
    }
    expect_good_decode(&fx);
    fixture_close(&fx);
}
END_TEST

/* Sub-streams cut short or extended under a consistent frame header:
 * the range decoder's end checks must catch (nearly) all of them. */
START_TEST(truncated_substreams)
{
    fixture fx;
    nvc_frame_header fh;
    fixture_open(&fx, 64, 64);
    ck_assert_int_eq(nvc_frame_header_parse(&fh, fx.p.data, fx.p.size, NULL, 0), 0);
    ck_assert_int_eq(fh.num_substreams, 2);
    uint8_t *buf = malloc(fx.p.size + 16);
    uint8_t extra[8] = { 0, 0xff, 0x80, 1, 2, 3, 4, 5 };
    int tried = 0, refused = 0;
    for (int s = 0; s < fh.num_substreams; s++) {
        const uint8_t *orig = fh.substream[s];
        size_t orig_size = fh.substream_size[s];
        for (size_t cut = 0; cut <= orig_size + 2; cut++) {
            nvc_frame_header t = fh;
            uint8_t longer[4096];
            size_t written;
            if (cut < orig_size) {
                t.substream_size[s] = cut;        /* cut short */
            } else {
                size_t add = cut - orig_size + 1; /* 1..3 bytes appended */
                ck_assert_uint_le(orig_size + add, sizeof(longer));
                memcpy(longer, orig, orig_size);
                memcpy(longer + orig_size, extra + cut - orig_size, add);
                t.substream[s] = longer;
                t.substream_size[s] = orig_size + add;
            }
            ck_assert_int_eq(nvc_frame_write(&t, buf, fx.p.size + 16, &written), 0);
            int ret = decode(fx.dec, buf, written, 0, NULL);
            ck_assert(ret == 0 || ret == NEUVC_ERR_INVALIDDATA);
            tried++;
            refused += ret < 0;
        }
    }
    printf("sub-streams cut or extended: %d of %d refused\n", refused, tried);
    ck_assert_int_ge(refused * 100, tried * 95);
    expect_good_decode(&fx);
    free(buf);
    fixture_close(&fx);
}
END_TEST

START_TEST(random_flips)
{
    fixture fx;
    fixture_open(&fx, 66, 34);
    uint8_t *buf = malloc(fx.p.size);
    int decoded = 0, refused = 0;
    rng_state = 31337;
    for (int it = 0; it < 300; it++) {
        memcpy(buf, fx.p.data, fx.p.size);
        int nflip = 1 + (int)(rng() % 3);
        for (int k = 0; k < nflip; k++) {
            size_t pos = rng() % fx.p.size;
            /* Mostly in the sub-streams, where the range decoder works. */
            if (it % 4 == 0)
                pos = rng() % (fx.p.size < 12 ? fx.p.size : 12);
            buf[pos] ^= (uint8_t)(1 + rng() % 255);
        }
        int ret = decode(fx.dec, buf, fx.p.size, 0, NULL);
        ck_assert_msg(ret == 0 || ret == NEUVC_ERR_INVALIDDATA || ret == NEUVC_ERR(ENOSYS),
                      "flip %d: %d", it, ret);
        decoded += ret == 0;
        refused += ret < 0;
        if (it % 25 == 0)
            expect_good_decode(&fx);
    }
    printf("random flips: %d refused, %d decoded\n", refused, decoded);
    ck_assert_int_gt(refused, 0);
    expect_good_decode(&fx);
    free(buf);
    fixture_close(&fx);
}
END_TEST

/* Capture of stderr into a temporary file while a call runs. */
static FILE *stderr_begin(int *saved)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    fflush(stderr);
    *saved = dup(2);
    ck_assert_int_ge(*saved, 0);
    ck_assert_int_ge(dup2(fileno(f), 2), 0);
    return f;
}

static void stderr_end(FILE *f, int saved, char *text, size_t cap)
{
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(f);
    size_t n = fread(text, 1, cap - 1, f);
    text[n] = '\0';
    fclose(f);
}

START_TEST(model_mismatch)
{
    fixture fx;
    nvc_seq_header h;
    uint8_t raw[NVC_SEQ_HEADER_SIZE];
    const uint8_t *hdr;
    size_t hsize;
    char text[1024];
    int saved;
    fixture_open(&fx, 64, 64);
    ck_assert_int_eq(neuvc_enc_get_header(fx.enc, &hdr, &hsize), 0);
    ck_assert_int_eq(nvc_seq_header_parse(&h, hdr, hsize, 0, 0, NULL, 0), NVC_SEQ_HEADER_SIZE);
    ck_assert_int_eq(h.width, 64);
    ck_assert_int_eq(h.fps_num, 30);

    /* The header names the built-in model. */
    nvm_model *m = NULL;
    uint8_t fp[NVM_FINGERPRINT_SIZE];
    ck_assert_int_eq(nvm_load_mem(&m, nv_default_model, nv_default_model_size,
                                  NVM_DEFAULT_MAX_PAYLOAD, NVM_LOAD_BORROW, NULL, 0), 0);
    nvm_fingerprint(m, fp);
    ck_assert_str_eq(h.model_id, nvm_model_id(m));
    ck_assert_mem_eq(h.model_fp, fp, NVM_FINGERPRINT_SIZE);
    nvm_free(&m);

    /* Another fingerprint: refused, with a message naming both. */
    nvc_seq_header bad = h;
    bad.model_fp[3] ^= 0x10;
    ck_assert_int_eq(nvc_seq_header_write(&bad, raw, sizeof(raw), NULL, 0), NVC_SEQ_HEADER_SIZE);
    NeuvcDecoder *dec = NULL;
    NeuvcDecSettings ds;
    neuvc_dec_default_settings(&ds);
    ck_assert_int_eq(neuvc_dec_open(&dec, &ds), 0);
    FILE *f = stderr_begin(&saved);
    int ret = neuvc_dec_set_header(dec, raw, sizeof(raw));
    stderr_end(f, saved, text, sizeof(text));
    ck_assert_int_eq(ret, NEUVC_ERR(ENOSYS));
    ck_assert_msg(strncmp(text, "neuvc: ", 7) == 0 && strstr(text, h.model_id) &&
                      strchr(text, '\n') == text + strlen(text) - 1,
                  "message: %s", text);
    /* Still no header: packets are refused. */
    ck_assert_int_eq(decode(dec, fx.p.data, fx.p.size, 0, NULL), NEUVC_ERR(EINVAL));

    /* Another model id. */
    bad = h;
    snprintf(bad.model_id, sizeof(bad.model_id), "some-other-model");
    ck_assert_int_eq(nvc_seq_header_write(&bad, raw, sizeof(raw), NULL, 0), NVC_SEQ_HEADER_SIZE);
    f = stderr_begin(&saved);
    ret = neuvc_dec_set_header(dec, raw, sizeof(raw));
    stderr_end(f, saved, text, sizeof(text));
    ck_assert_int_eq(ret, NEUVC_ERR(ENOSYS));
    ck_assert_msg(strstr(text, "some-other-model") && strstr(text, h.model_id), "message: %s",
                  text);

    /* Corrupt and truncated headers. */
    memcpy(raw, hdr, hsize);
    raw[50] ^= 1;
    ck_assert_int_eq(neuvc_dec_set_header(dec, raw, sizeof(raw)), NEUVC_ERR_INVALIDDATA);
    ck_assert_int_eq(neuvc_dec_set_header(dec, hdr, hsize - 1), NEUVC_ERR_INVALIDDATA);
    /* The right header, then the packet decodes. */
    ck_assert_int_eq(neuvc_dec_set_header(dec, hdr, hsize), 0);
    NeuvcPicture out;
    ck_assert_int_eq(decode(dec, fx.p.data, fx.p.size, 0, &out), 0);
    ck_assert(pic_equal(&out, &fx.rec));
    neuvc_dec_close(&dec);
    fixture_close(&fx);
}
END_TEST

/* A header of another size: the decoder reconfigures, and a packet of the
 * old size is refused as invalid data. */
START_TEST(header_size_change)
{
    fixture a, b;
    fixture_open(&a, 64, 64);
    fixture_open(&b, 40, 130);
    const uint8_t *hdr;
    size_t hsize;
    ck_assert_int_eq(neuvc_enc_get_header(b.enc, &hdr, &hsize), 0);
    ck_assert_int_eq(neuvc_dec_set_header(a.dec, hdr, hsize), 0);
    NeuvcPicture out;
    ck_assert_int_eq(decode(a.dec, b.p.data, b.p.size, 0, &out), 0);
    ck_assert(pic_equal(&out, &b.rec));
    ck_assert_int_eq(decode(a.dec, a.p.data, a.p.size, 0, NULL), NEUVC_ERR_INVALIDDATA);
    fixture_close(&a);
    fixture_close(&b);
}
END_TEST

START_TEST(decoder_misuse)
{
    fixture fx;
    fixture_open(&fx, 64, 64);
    NeuvcDecoder *dec = NULL;
    NeuvcDecSettings ds;
    NeuvcPicture out;
    neuvc_dec_default_settings(&ds);
    ds.log_level = 0;
    ck_assert_int_eq(neuvc_dec_open(&dec, &ds), 0);
    /* packet before header */
    ck_assert_int_eq(decode(dec, fx.p.data, fx.p.size, 0, NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_dec_set_header(dec, NULL, 100), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_dec_set_header(NULL, fx.p.data, 100), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_dec_receive_picture(dec, NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_dec_receive_picture(NULL, &out), NEUVC_ERR(EINVAL));
    neuvc_dec_close(&dec);

    /* A P frame before any I frame has no reference: invalid data. */
    uint8_t *buf = malloc(fx.p.size);
    memcpy(buf, fx.p.data, fx.p.size);
    buf[0] = NEUVC_FRAME_P;
    ck_assert_int_eq(decode(fx.dec, buf, fx.p.size, 0, NULL), NEUVC_ERR_INVALIDDATA);
    buf[0] = NEUVC_FRAME_I;
    buf[1] = 64; /* qp */
    ck_assert_int_eq(decode(fx.dec, buf, fx.p.size, 0, NULL), NEUVC_ERR_INVALIDDATA);
    free(buf);
    ck_assert_int_eq(decode(fx.dec, NULL, 5, 0, NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(decode(fx.dec, NULL, 0, 0, NULL), NEUVC_ERR_INVALIDDATA);

    /* send twice without receive, then flush */
    NeuvcPacket p = { fx.p.data, fx.p.size, 9, NEUVC_FRAME_I, 0 };
    ck_assert_int_eq(neuvc_dec_send_packet(fx.dec, &p), 0);
    ck_assert_int_eq(neuvc_dec_send_packet(fx.dec, &p), NEUVC_ERR(EAGAIN));
    ck_assert_int_eq(neuvc_dec_send_packet(fx.dec, NULL), NEUVC_ERR(EAGAIN));
    ck_assert_int_eq(neuvc_dec_receive_picture(fx.dec, &out), 0);
    ck_assert_int_eq(out.pts, 9);
    ck_assert(pic_equal(&out, &fx.rec));
    ck_assert_int_eq(neuvc_dec_send_packet(fx.dec, NULL), 0);
    ck_assert_int_eq(neuvc_dec_receive_picture(fx.dec, &out), NEUVC_ERR_EOF);
    ck_assert_int_eq(neuvc_dec_send_packet(fx.dec, &p), NEUVC_ERR_EOF);
    fixture_close(&fx);
}
END_TEST

/* --------------------------------------------------------- encoder */

START_TEST(encoder_misuse)
{
    NeuvcEncSettings s;
    NeuvcEncoder *enc = NULL;
    NeuvcPacket pkt;
    NeuvcPicture rec;
    neuvc_enc_default_settings(&s);
    s.log_level = 0;
    s.width = 64;
    s.height = 48;
    s.qp = 64;
    ck_assert_int_eq(neuvc_enc_open(&enc, &s), NEUVC_ERR(EINVAL));
    ck_assert_ptr_null(enc);
    s.qp = -1;
    ck_assert_int_eq(neuvc_enc_open(&enc, &s), NEUVC_ERR(EINVAL));
    s.qp = 63;
    s.bitrate_kbps = 500;
    s.vbv_maxrate_kbps = 600;          /* without vbv-bufsize */
    ck_assert_int_eq(neuvc_enc_open(&enc, &s), NEUVC_ERR(EINVAL));
    s.bitrate_kbps = s.vbv_maxrate_kbps = 0;
    s.height = 16257; /* beyond 254 bands of 64 rows */
    s.max_height = 20000;
    ck_assert_int_eq(neuvc_enc_open(&enc, &s), NEUVC_ERR(ERANGE));
    s.height = 48;
    ck_assert_int_eq(neuvc_enc_open(&enc, &s), 0);

    ck_assert_int_eq(neuvc_enc_get_recon(enc, &rec), NEUVC_ERR(EAGAIN));
    ck_assert_int_eq(neuvc_enc_get_header(enc, NULL, NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_get_recon(enc, NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_get_recon(NULL, &rec), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_receive_packet(enc, NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_set_bitrate(enc, 1000), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_set_bitrate(enc, -1), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_force_keyframe(enc), 0);
    ck_assert_int_eq(neuvc_enc_force_keyframe(NULL), NEUVC_ERR(EINVAL));

    test_pic wrong, right;
    rng_state = 5;
    pic_alloc(&wrong, 64, 50, 0, 1);
    pic_alloc(&right, 64, 48, 0, 1);
    ck_assert_int_eq(neuvc_enc_send_picture(enc, &wrong.pic), NEUVC_ERR(EINVAL));
    NeuvcPicture nodata = right.pic;
    nodata.data[2] = NULL;
    ck_assert_int_eq(neuvc_enc_send_picture(enc, &nodata), NEUVC_ERR(EINVAL));
    nodata = right.pic;
    nodata.stride[1] = 31; /* below the 32 chroma samples of a row */
    ck_assert_int_eq(neuvc_enc_send_picture(enc, &nodata), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_receive_packet(enc, &pkt), NEUVC_ERR(EAGAIN));

    /* one packet per picture; a second picture waits for receive */
    right.pic.pts = 77;
    ck_assert_int_eq(neuvc_enc_send_picture(enc, &right.pic), 0);
    ck_assert_int_eq(neuvc_enc_send_picture(enc, &right.pic), NEUVC_ERR(EAGAIN));
    ck_assert_int_eq(neuvc_enc_get_recon(enc, &rec), 0);
    ck_assert_int_eq(rec.pts, 77);
    ck_assert_int_eq(neuvc_enc_receive_packet(enc, &pkt), 0);
    ck_assert_int_eq(pkt.pts, 77);
    ck_assert_int_eq(pkt.qp, 63);
    ck_assert_int_eq(pkt.data[1], 63);
    ck_assert_int_eq(neuvc_enc_receive_packet(enc, &pkt), NEUVC_ERR(EAGAIN));
    /* negative strides (bottom-up rows) are pictures too */
    NeuvcPicture flipped = right.pic;
    for (int i = 0; i < 3; i++) {
        int rows = i ? 24 : 48;
        flipped.data[i] = right.pic.data[i] + (rows - 1) * right.pic.stride[i];
        flipped.stride[i] = -right.pic.stride[i];
    }
    ck_assert_int_eq(neuvc_enc_send_picture(enc, &flipped), 0);
    ck_assert_int_eq(neuvc_enc_receive_packet(enc, &pkt), 0);
    /* flush */
    ck_assert_int_eq(neuvc_enc_send_picture(enc, NULL), 0);
    ck_assert_int_eq(neuvc_enc_receive_packet(enc, &pkt), NEUVC_ERR_EOF);
    ck_assert_int_eq(neuvc_enc_send_picture(enc, &right.pic), NEUVC_ERR_EOF);
    neuvc_enc_close(&enc);
    ck_assert_ptr_null(enc);
    pic_free(&wrong);
    pic_free(&right);
}
END_TEST

/* ------------------------------------------------------------ models */

static char tmp_dir[256];

static void tmp_setup(void)
{
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/neuvc_test_codec_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
}

static void tmp_remove(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    unlink(path);
}

/* Edits of the built-in model for model_edit: tensor `tensor` (when not
 * NULL) has element `index` set to `value`, or is left out when drop;
 * graph `skip_graph` (when not NULL) is left out; parameter `param` (when
 * not NULL) gets `pvalue`, or is left out when pvalue < 0; every tensor
 * and graph whose name starts with `strip` (when not NULL) is left out. */
typedef struct model_change {
    const char *tensor;
    size_t index;
    int64_t value;
    int drop;
    const char *skip_graph;
    const char *param;
    int64_t pvalue;
    const char *strip;
} model_change;

static int stripped(const model_change *c, const char *name)
{
    return c->strip && !strncmp(name, c->strip, strlen(c->strip));
}

/* The built-in model with the changes c, saved as tmp_dir/name.  Returns
 * the file's path (static buffer). */
static const char *model_edit(const char *name, const model_change *c)
{
    static char path[512];
    nvm_model *m = NULL;
    nvm_writer *w = NULL;
    ck_assert_int_eq(nvm_load_mem(&m, nv_default_model, nv_default_model_size,
                                  NVM_DEFAULT_MAX_PAYLOAD, NVM_LOAD_BORROW, NULL, 0), 0);
    ck_assert_int_eq(nvm_writer_new(&w, nvm_model_id(m)), 0);
    int pchanged = c->param == NULL;
    for (uint32_t i = 0; i < nvm_num_params(m); i++) {
        const nvm_param *pa = nvm_param_at(m, i);
        int64_t v = pa->value;
        if (c->param && !strcmp(pa->name, c->param)) {
            pchanged = 1;
            if (c->pvalue < 0)
                continue;
            v = c->pvalue;
        }
        ck_assert_int_eq(nvm_writer_add_param(w, pa->name, v), 0);
    }
    ck_assert(pchanged);
    const char *tensor = c->tensor;
    const int drop = c->drop;
    const size_t index = c->index;
    const int64_t value = c->value;
    int changed = tensor == NULL;
    for (uint32_t i = 0; i < nvm_num_tensors(m); i++) {
        const nvm_tensor *t = nvm_tensor_at(m, i);
        if (stripped(c, t->name))
            continue;
        if (tensor && !strcmp(t->name, tensor)) {
            changed = 1;
            if (drop)
                continue;
            void *copy = malloc(t->size);
            memcpy(copy, t->data, t->size);
            ck_assert_uint_lt(index, t->count);
            switch (t->dtype) {
            case NVM_U8: ((uint8_t *)copy)[index] = (uint8_t)value; break;
            case NVM_U16: ((uint16_t *)copy)[index] = (uint16_t)value; break;
            case NVM_S32: ((int32_t *)copy)[index] = (int32_t)value; break;
            default: ck_abort_msg("dtype");
            }
            ck_assert_int_eq(nvm_writer_add_tensor(w, t->name, t->dtype, t->ndim, t->dims, copy), 0);
            free(copy);
        } else {
            ck_assert_int_eq(nvm_writer_add_tensor(w, t->name, t->dtype, t->ndim, t->dims, t->data), 0);
        }
    }
    ck_assert(changed);
    for (uint32_t i = 0; i < nvm_num_graphs(m); i++) {
        const char *gname = nvm_graph_at(m, i)->name;
        if ((!c->skip_graph || strcmp(gname, c->skip_graph)) && !stripped(c, gname))
            ck_assert_int_eq(nvm_writer_add_graph(w, nvm_graph_at(m, i)), 0);
    }
    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    ck_assert_int_eq(nvm_writer_save(w, path), 0);
    nvm_writer_free(&w);
    nvm_free(&m);
    return path;
}

/* model_edit with one tensor or graph change. */
static const char *model_variant(const char *name, const char *tensor, size_t index,
                                 int64_t value, int drop, const char *skip_graph)
{
    const model_change c = { tensor, index, value, drop, skip_graph, NULL, 0, NULL };
    return model_edit(name, &c);
}

static int open_with_model(const char *path, int *dec_ret)
{
    NeuvcEncSettings s;
    NeuvcEncoder *enc = NULL;
    neuvc_enc_default_settings(&s);
    s.width = 64;
    s.height = 64;
    s.model_path = path;
    s.log_level = 0;
    int ret = neuvc_enc_open(&enc, &s);
    if (ret == 0)
        ck_assert_ptr_nonnull(enc);
    else
        ck_assert_ptr_null(enc);
    neuvc_enc_close(&enc);
    NeuvcDecSettings ds;
    NeuvcDecoder *dec = NULL;
    neuvc_dec_default_settings(&ds);
    ds.model_path = path;
    ds.log_level = 0;
    *dec_ret = neuvc_dec_open(&dec, &ds);
    neuvc_dec_close(&dec);
    return ret;
}

START_TEST(model_files)
{
    int dret;
    char path[512];
    tmp_setup();
    snprintf(path, sizeof(path), "%s/missing.nvm", tmp_dir);
    ck_assert_int_eq(open_with_model(path, &dret), NEUVC_ERR(ENOENT));
    ck_assert_int_eq(dret, NEUVC_ERR(ENOENT));

    snprintf(path, sizeof(path), "%s/garbage.nvm", tmp_dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    rng_state = 3;
    for (int i = 0; i < 5000; i++)
        fputc((int)(rng() & 255), f);
    fclose(f);
    ck_assert_int_eq(open_with_model(path, &dret), NEUVC_ERR_INVALIDDATA);
    ck_assert_int_eq(dret, NEUVC_ERR_INVALIDDATA);
    tmp_remove("garbage.nvm");

    /* The unchanged copy works, for encoder and decoder alike. */
    const char *p = model_variant("same.nvm", NULL, 0, 0, 0, NULL);
    ck_assert_int_eq(open_with_model(p, &dret), 0);
    ck_assert_int_eq(dret, 0);
    tmp_remove("same.nvm");

    /* Each a model that nv_model_open must refuse. */
    static const struct {
        const char *tensor;
        size_t index;
        int64_t value;
        int drop;
        const char *graph;
    } bad[] = {
        { "y.k", 3, 128, 0, NULL },              /* K above 127: n > 256 */
        { "y.b", 5, 16, 0, NULL },               /* b >= 16 */
        { "intra.z.b", 0, 1, 0, NULL },          /* z tables take no raw bits */
        { "y.cdf", 2, 0, 0, NULL },              /* row 0 not increasing */
        { "intra.z.cdf", 257 + 1, 40000, 0, NULL }, /* beyond 2^15 */
        { "intra.y_qshift", 7, 63, 0, NULL },    /* shift beyond 62 */
        { "intra.y_dqmult", 9, -5, 0, NULL },    /* negative multiplier */
        { "intra.z.k", 0, 0, 1, NULL },          /* table missing */
        { NULL, 0, 0, 0, "intra.synthesis" },    /* graph missing */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p = model_variant("bad.nvm", bad[i].tensor, bad[i].index, bad[i].value, bad[i].drop,
                          bad[i].graph);
        ck_assert_msg(open_with_model(p, &dret) == NEUVC_ERR_INVALIDDATA, "variant %zu", i);
        ck_assert_int_eq(dret, NEUVC_ERR_INVALIDDATA);
    }
    /* The inter part is checked like the intra part when param inter = 1. */
    static const model_change bad_inter[] = {
        { "inter.z.k", 0, 0, 1, NULL, NULL, 0, NULL },          /* table missing */
        { "inter.z.b", 3, 2, 0, NULL, NULL, 0, NULL },          /* z takes no raw bits */
        { "inter.z.cdf", 2, 0, 0, NULL, NULL, 0, NULL },        /* row 0 not increasing */
        { "inter.y_qshift", 11, 63, 0, NULL, NULL, 0, NULL },   /* shift beyond 62 */
        { "inter.y_dqmult", 2, -1, 0, NULL, NULL, 0, NULL },    /* negative multiplier */
        { NULL, 0, 0, 0, "inter.synthesis", NULL, 0, NULL },    /* graph missing */
        { NULL, 0, 0, 0, "inter.pred", NULL, 0, NULL },
        { NULL, 0, 0, 0, "intra.synthesis", "inter", -1, "inter." }, /* intra still checked */
        { NULL, 0, 0, 0, NULL, "inter", 2, NULL },              /* inter must be 0 or 1 */
        { NULL, 0, 0, 0, NULL, "inter", 1, "inter.y_" },        /* inter = 1, gains missing */
    };
    for (size_t i = 0; i < sizeof(bad_inter) / sizeof(bad_inter[0]); i++) {
        p = model_edit("bad.nvm", &bad_inter[i]);
        ck_assert_msg(open_with_model(p, &dret) == NEUVC_ERR_INVALIDDATA, "inter variant %zu", i);
        ck_assert_int_eq(dret, NEUVC_ERR_INVALIDDATA);
    }
    /* Without the inter part (param 0, or absent with everything inter.*
     * gone) a model is valid. */
    static const model_change no_inter[] = {
        { NULL, 0, 0, 0, NULL, "inter", 0, NULL },
        { NULL, 0, 0, 0, NULL, "inter", -1, "inter." },
    };
    for (size_t i = 0; i < 2; i++) {
        p = model_edit("nointer.nvm", &no_inter[i]);
        ck_assert_msg(open_with_model(p, &dret) == 0, "no-inter variant %zu", i);
        ck_assert_int_eq(dret, 0);
    }
    tmp_remove("nointer.nvm");
    tmp_remove("bad.nvm");
    rmdir(tmp_dir);
}
END_TEST

/* A decoder given another model file still decodes streams of the
 * built-in model; an encoder with that model file makes streams a plain
 * decoder refuses. */
START_TEST(decoder_model_choice)
{
    int dret;
    tmp_setup();
    /* A model with other bytes but the same id: another fingerprint. */
    const char *p = model_variant("other.nvm", "y.cdf", 256, 1, 0, NULL);
    ck_assert_int_eq(open_with_model(p, &dret), 0);
    ck_assert_int_eq(dret, 0);

    NeuvcEncSettings s;
    NeuvcEncoder *enc = NULL;
    neuvc_enc_default_settings(&s);
    s.width = 32;
    s.height = 32;
    s.model_path = p;
    ck_assert_int_eq(neuvc_enc_open(&enc, &s), 0);
    const uint8_t *hdr;
    size_t hsize;
    ck_assert_int_eq(neuvc_enc_get_header(enc, &hdr, &hsize), 0);

    NeuvcDecSettings ds;
    NeuvcDecoder *plain = NULL, *with = NULL;
    neuvc_dec_default_settings(&ds);
    ds.log_level = 0;
    ck_assert_int_eq(neuvc_dec_open(&plain, &ds), 0);
    ck_assert_int_eq(neuvc_dec_set_header(plain, hdr, hsize), NEUVC_ERR(ENOSYS));
    ds.model_path = p;
    ck_assert_int_eq(neuvc_dec_open(&with, &ds), 0);
    ck_assert_int_eq(neuvc_dec_set_header(with, hdr, hsize), 0);
    test_pic src;
    rng_state = 8;
    pic_alloc(&src, 32, 32, 0, 2);
    packet pk = roundtrip(enc, with, &src.pic, NULL);
    free(pk.data);
    /* ... and streams of the built-in model too. */
    NeuvcEncoder *enc2 = enc_new(32, 32, 32);
    ck_assert_int_eq(neuvc_enc_get_header(enc2, &hdr, &hsize), 0);
    ck_assert_int_eq(neuvc_dec_set_header(with, hdr, hsize), 0);
    pk = roundtrip(enc2, with, &src.pic, NULL);
    free(pk.data);
    pic_free(&src);
    neuvc_enc_close(&enc2);
    neuvc_enc_close(&enc);
    neuvc_dec_close(&plain);
    neuvc_dec_close(&with);
    tmp_remove("other.nvm");
    rmdir(tmp_dir);
}
END_TEST

/* With a model without the inter part every frame is an I frame, and a
 * P frame of such a stream is invalid data. */
START_TEST(model_without_inter)
{
    static const model_change no_inter = { NULL, 0, 0, 0, NULL, "inter", -1, "inter." };
    tmp_setup();
    const char *path = model_edit("nointer.nvm", &no_inter);
    NeuvcEncSettings s;
    NeuvcEncoder *enc = NULL;
    neuvc_enc_default_settings(&s);
    s.width = 72;
    s.height = 40;
    s.model_path = path;
    ck_assert_int_eq(neuvc_enc_open(&enc, &s), 0);
    NeuvcDecSettings ds;
    NeuvcDecoder *dec = NULL;
    const uint8_t *hdr;
    size_t hsize;
    neuvc_dec_default_settings(&ds);
    ds.model_path = path;
    ds.log_level = 0;
    ck_assert_int_eq(neuvc_dec_open(&dec, &ds), 0);
    ck_assert_int_eq(neuvc_enc_get_header(enc, &hdr, &hsize), 0);
    ck_assert_int_eq(neuvc_dec_set_header(dec, hdr, hsize), 0);
    test_pic src;
    rng_state = 21;
    pic_alloc(&src, 72, 40, 0, 2);
    packet p[3];
    for (int k = 0; k < 3; k++) {
        p[k] = roundtrip(enc, dec, &src.pic, NULL);
        ck_assert_int_eq(p[k].type, NEUVC_FRAME_I);
    }
    /* The decoder has a reference, but no inter part. */
    p[2].data[0] = NEUVC_FRAME_P;
    ck_assert_int_eq(decode(dec, p[2].data, p[2].size, 0, NULL), NEUVC_ERR_INVALIDDATA);
    ck_assert_int_eq(decode(dec, p[1].data, p[1].size, 0, NULL), 0);
    for (int k = 0; k < 3; k++)
        free(p[k].data);
    pic_free(&src);
    neuvc_enc_close(&enc);
    neuvc_dec_close(&dec);
    tmp_remove("nointer.nvm");
    rmdir(tmp_dir);
}
END_TEST

/* ---------------------------------------------------------- P frames */

/* The face crop of the P-frame tests: eyes and nose of the talking head
 * (head motion, blinks; little else moves), 128x96 at (176, 176). */
#define FACE_W 128
#define FACE_H 96
#define FACE_FRAMES 8
#define FACE_QP 32

/* A coded stream: its packets and the encoder's reconstructions. */
typedef struct stream {
    int n;
    packet p[16];
    test_pic rec[16];
} stream;

/* Codes pics[k % npics] for k < n with keyint; force[k] (when force is
 * not NULL) 1: force_keyframe on the picture, 2: neuvc_enc_force_keyframe
 * before it.  Each packet is decoded by a decoder along the way (==
 * recon). */
static void stream_code(stream *st, const test_pic *pics, int npics, int n, int keyint,
                        const int *force)
{
    ck_assert_int_le(n, 16);
    NeuvcEncoder *enc = enc_new_k(FACE_W, FACE_H, FACE_QP, keyint);
    NeuvcDecoder *dec = dec_new(enc);
    st->n = n;
    for (int k = 0; k < n; k++) {
        NeuvcPicture pic = pics[k % npics].pic, rec;
        pic.pts = 300 + k;
        pic.force_keyframe = force && force[k] == 1;
        if (force && force[k] == 2)
            ck_assert_int_eq(neuvc_enc_force_keyframe(enc), 0);
        st->p[k] = roundtrip(enc, dec, &pic, NULL);
        ck_assert_int_eq(neuvc_enc_get_recon(enc, &rec), 0);
        pic_copy(&st->rec[k], &rec);
    }
    neuvc_dec_close(&dec);
    neuvc_enc_close(&enc);
}

static void stream_free(stream *st)
{
    for (int k = 0; k < st->n; k++) {
        free(st->p[k].data);
        pic_free(&st->rec[k]);
    }
}

/* "IPPP..." of a stream. */
static void stream_types(const stream *st, char *out)
{
    for (int k = 0; k < st->n; k++)
        out[k] = st->p[k].type == NEUVC_FRAME_I ? 'I' : 'P';
    out[st->n] = '\0';
}

/* Decodes packet k of st with dec: expect 0 (output == recon k) or an
 * error code. */
static void expect_frame(NeuvcDecoder *dec, const stream *st, int k, int expect)
{
    NeuvcPicture out;
    int ret = decode(dec, st->p[k].data, st->p[k].size, st->p[k].pts, &out);
    ck_assert_msg(ret == expect, "packet %d: %d, expected %d", k, ret, expect);
    if (expect == 0) {
        ck_assert_msg(pic_equal(&out, &st->rec[k].pic), "packet %d differs from the recon", k);
        ck_assert_int_eq(out.frame_type, st->p[k].type);
    }
}

/* 8 frames, keyint 4: I P P P I P P P, every frame decoded == recon, P
 * frames smaller than the I frame before them at no worse quality.
 * Model neuvc-rt-0 (inter step 1111) at qp 32: I frames about 900 bytes
 * at 36.2 dB PSNR-YUV, P frames about 400 bytes at 37.3 dB; a P frame
 * predicted from a wrong reference, or coded without its prediction,
 * would be far larger or far worse. */
START_TEST(p_clip_roundtrip)
{
    test_pic src[FACE_FRAMES];
    face_crop(src, FACE_FRAMES, 176, 176, FACE_W, FACE_H);
    NeuvcEncoder *enc = enc_new_k(FACE_W, FACE_H, FACE_QP, 4);
    NeuvcDecoder *dec = dec_new(enc);
    size_t ibytes = 0, pbytes = 0;
    double ipsnr = 0, psum = 0;
    for (int k = 0; k < FACE_FRAMES; k++) {
        double psnr;
        packet p = roundtrip(enc, dec, &src[k].pic, &psnr);
        ck_assert_int_eq(p.type, k % 4 ? NEUVC_FRAME_P : NEUVC_FRAME_I);
        printf("face %dx%d qp %d frame %d: %c, %zu bytes, PSNR-YUV %.2f dB\n", FACE_W, FACE_H,
               FACE_QP, k, k % 4 ? 'P' : 'I', p.size, psnr);
        if (p.type == NEUVC_FRAME_I) {
            ibytes = p.size;
            ipsnr = psnr;
        } else {
            ck_assert_msg(p.size * 10 < ibytes * 8, "P frame %d: %zu bytes, I frame %zu", k,
                          p.size, ibytes);
            ck_assert_msg(psnr > ipsnr - 1.0, "P frame %d: %.2f dB, I frame %.2f dB", k, psnr,
                          ipsnr);
            pbytes += p.size;
            psum += psnr;
        }
        free(p.data);
    }
    printf("face: P frames %.0f bytes at %.2f dB on average\n", pbytes / 6.0, psum / 6);
    neuvc_dec_close(&dec);
    neuvc_enc_close(&enc);
    for (int k = 0; k < FACE_FRAMES; k++)
        pic_free(&src[k]);
}
END_TEST

/* Frame types from keyint: <= 0 only the first frame is I, 1 all. */
START_TEST(p_keyint)
{
    static const struct {
        int keyint;
        const char *types;
    } cases[] = {
        { -1, "IPPPPPPPPP" }, { 0, "IPPPPPPPPP" }, { 1, "IIIIIIIIII" },
        { 3, "IPPIPPIPPI" }, { 32, "IPPPPPPPPP" },
    };
    test_pic src[4];
    face_crop(src, 4, 176, 176, FACE_W, FACE_H);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        stream st;
        char types[17];
        stream_code(&st, src, 4, 10, cases[i].keyint, NULL);
        stream_types(&st, types);
        ck_assert_msg(!strcmp(types, cases[i].types), "keyint %d: %s, expected %s",
                      cases[i].keyint, types, cases[i].types);
        stream_free(&st);
    }
    for (int k = 0; k < 4; k++)
        pic_free(&src[k]);
}
END_TEST

/* force_keyframe on a picture and neuvc_enc_force_keyframe() make that
 * picture an I frame; the periodic ones stay at multiples of keyint. */
START_TEST(p_force_keyframe)
{
    /* keyint 4: forced at 2 (picture flag), 7 (API) and 8 (flag, where a
     * periodic one is anyway) */
    static const int force[12] = { 0, 0, 1, 0, 0, 0, 0, 2, 1, 0, 0, 0 };
    test_pic src[4];
    stream st;
    char types[17];
    face_crop(src, 4, 176, 176, FACE_W, FACE_H);
    stream_code(&st, src, 4, 12, 4, force);
    stream_types(&st, types);
    ck_assert_msg(!strcmp(types, "IPIPIPPIIPPP"), "types %s", types);
    stream_free(&st);
    /* the flag of the API lasts one picture */
    static const int api[6] = { 0, 2, 0, 0, 0, 0 };
    stream_code(&st, src, 4, 6, -1, api);
    stream_types(&st, types);
    ck_assert_msg(!strcmp(types, "IIPPPP"), "types %s", types);
    stream_free(&st);
    for (int k = 0; k < 4; k++)
        pic_free(&src[k]);
}
END_TEST

/* A P frame fed to a fresh decoder (no reference) is invalid data, with a
 * message; the next I frame decodes, and the P frames after it decode
 * byte-identical to the encoder's reconstruction. */
START_TEST(p_without_reference)
{
    test_pic src[FACE_FRAMES];
    stream st;
    char text[1024];
    int saved;
    face_crop(src, FACE_FRAMES, 176, 176, FACE_W, FACE_H);
    stream_code(&st, src, FACE_FRAMES, 8, 4, NULL);
    NeuvcEncoder *enc = enc_new_k(FACE_W, FACE_H, FACE_QP, 4);
    NeuvcDecoder *dec = dec_new(enc);
    neuvc_enc_close(&enc);
    /* A decoder of log level 1: one line saying why. */
    NeuvcDecSettings ds;
    NeuvcDecoder *loud = NULL;
    const uint8_t *hdr;
    size_t hsize;
    neuvc_dec_default_settings(&ds);
    ds.log_level = 1;
    ck_assert_int_eq(neuvc_dec_open(&loud, &ds), 0);
    enc = enc_new_k(FACE_W, FACE_H, FACE_QP, 4);
    ck_assert_int_eq(neuvc_enc_get_header(enc, &hdr, &hsize), 0);
    ck_assert_int_eq(neuvc_dec_set_header(loud, hdr, hsize), 0);
    neuvc_enc_close(&enc);
    FILE *f = stderr_begin(&saved);
    int ret = decode(loud, st.p[1].data, st.p[1].size, 0, NULL);
    stderr_end(f, saved, text, sizeof(text));
    ck_assert_int_eq(ret, NEUVC_ERR_INVALIDDATA);
    ck_assert_msg(!strncmp(text, "neuvc: ", 7) && strstr(text, "reference"), "message: %s", text);
    neuvc_dec_close(&loud);

    expect_frame(dec, &st, 1, NEUVC_ERR_INVALIDDATA);
    expect_frame(dec, &st, 2, NEUVC_ERR_INVALIDDATA);
    expect_frame(dec, &st, 3, NEUVC_ERR_INVALIDDATA);
    for (int k = 4; k < 8; k++)
        expect_frame(dec, &st, k, 0);
    /* the same from the start of the stream */
    for (int k = 0; k < 8; k++)
        expect_frame(dec, &st, k, 0);
    /* a new sequence header (another size, then this one) drops the reference */
    fixture other;
    fixture_open(&other, 64, 64);
    ck_assert_int_eq(neuvc_enc_get_header(other.enc, &hdr, &hsize), 0);
    ck_assert_int_eq(neuvc_dec_set_header(dec, hdr, hsize), 0);
    enc = enc_new_k(FACE_W, FACE_H, FACE_QP, 4);
    ck_assert_int_eq(neuvc_enc_get_header(enc, &hdr, &hsize), 0);
    ck_assert_int_eq(neuvc_dec_set_header(dec, hdr, hsize), 0);
    neuvc_enc_close(&enc);
    fixture_close(&other);
    expect_frame(dec, &st, 5, NEUVC_ERR_INVALIDDATA);
    expect_frame(dec, &st, 4, 0);
    expect_frame(dec, &st, 5, 0);
    neuvc_dec_close(&dec);
    stream_free(&st);
    for (int k = 0; k < FACE_FRAMES; k++)
        pic_free(&src[k]);
}
END_TEST

/* Decodes st with a fresh decoder, packet 1 (a P frame) replaced by
 * bad[0 .. len-1]: returns what that packet gave.  When it was refused,
 * P frames 2 and 3 must be refused too (no reference); frames 4..7 (I P
 * P P) must then decode exactly as a clean decode does, whatever packet
 * 1 gave. */
static int damaged_decode(NeuvcEncoder *hdr_enc, const stream *st, const uint8_t *bad,
                          size_t len)
{
    NeuvcDecoder *dec = dec_new(hdr_enc);
    expect_frame(dec, st, 0, 0);
    int ret = decode(dec, bad, len, st->p[1].pts, NULL);
    ck_assert_msg(ret == 0 || ret == NEUVC_ERR_INVALIDDATA, "damaged packet: %d", ret);
    for (int k = 2; k < 4; k++) {
        if (ret < 0) {
            expect_frame(dec, st, k, NEUVC_ERR_INVALIDDATA);
        } else {
            /* decoded from a damaged reference: any result but a crash */
            int r = decode(dec, st->p[k].data, st->p[k].size, st->p[k].pts, NULL);
            ck_assert(r == 0 || r == NEUVC_ERR_INVALIDDATA);
        }
    }
    for (int k = 4; k < 8; k++)
        expect_frame(dec, st, k, 0);
    neuvc_dec_close(&dec);
    return ret;
}

/* A truncated or corrupted P packet: an error; decoding resumes at the
 * next I frame, byte-identical to a clean decode from there on. */
START_TEST(p_damaged_recovery)
{
    test_pic src[FACE_FRAMES];
    stream st;
    face_crop(src, FACE_FRAMES, 176, 176, FACE_W, FACE_H);
    stream_code(&st, src, FACE_FRAMES, 8, 4, NULL);
    NeuvcEncoder *enc = enc_new_k(FACE_W, FACE_H, FACE_QP, 4);
    const packet *p = &st.p[1];
    ck_assert_int_eq(p->type, NEUVC_FRAME_P);
    uint8_t *buf = malloc(p->size);
    ck_assert_ptr_nonnull(buf);
    /* every truncation is refused (the frame header's sizes no longer add up) */
    for (size_t len = 0; len < p->size; len += len < 16 ? 1 : 7)
        ck_assert_int_eq(damaged_decode(enc, &st, p->data, len), NEUVC_ERR_INVALIDDATA);
    /* flipped bytes: mostly refused; either way the stream recovers */
    int refused = 0, tried = 0;
    rng_state = 4711;
    for (int it = 0; it < 60; it++, tried++) {
        memcpy(buf, p->data, p->size);
        int nflip = 1 + (int)(rng() % 3);
        for (int k = 0; k < nflip; k++)
            buf[rng() % p->size] ^= (uint8_t)(1 + rng() % 255);
        refused += damaged_decode(enc, &st, buf, p->size) < 0;
    }
    printf("P packet of %zu bytes, flipped bytes: %d of %d refused\n", p->size, refused, tried);
    ck_assert_int_gt(refused, tried / 2);
    free(buf);
    neuvc_enc_close(&enc);
    stream_free(&st);
    for (int k = 0; k < FACE_FRAMES; k++)
        pic_free(&src[k]);
}
END_TEST

/* The sub-streams of a P frame (vectors, z, bands) cut short or extended
 * under a consistent frame header: the range decoder's end checks catch
 * (nearly) all of them.  Before each try the I frame restores the
 * reference. */
START_TEST(p_truncated_substreams)
{
    test_pic src[2];
    stream st;
    nvc_frame_header fh;
    face_crop(src, 2, 176, 176, FACE_W, FACE_H);
    stream_code(&st, src, 2, 2, 4, NULL);
    NeuvcEncoder *enc = enc_new_k(FACE_W, FACE_H, FACE_QP, 4);
    NeuvcDecoder *dec = dec_new(enc);
    const packet *p = &st.p[1];
    ck_assert_int_eq(nvc_frame_header_parse(&fh, p->data, p->size, NULL, 0), 0);
    ck_assert_int_eq(fh.type, NEUVC_FRAME_P);
    ck_assert_int_eq(fh.num_substreams, 2 + 2); /* vectors, z, bands of 96 -> 128 rows */
    uint8_t *buf = malloc(p->size + 16);
    uint8_t extra[8] = { 0, 0xff, 0x80, 1, 2, 3, 4, 5 };
    int tried = 0, refused = 0;
    for (int s = 0; s < fh.num_substreams; s++) {
        const uint8_t *orig = fh.substream[s];
        size_t orig_size = fh.substream_size[s];
        for (size_t cut = 0; cut <= orig_size + 2; cut += cut < 24 || cut >= orig_size ? 1 : 5) {
            nvc_frame_header t = fh;
            uint8_t longer[4096];
            size_t written;
            if (cut < orig_size) {
                t.substream_size[s] = cut;
            } else {
                size_t add = cut - orig_size + 1;
                ck_assert_uint_le(orig_size + add, sizeof(longer));
                memcpy(longer, orig, orig_size);
                memcpy(longer + orig_size, extra + cut - orig_size, add);
                t.substream[s] = longer;
                t.substream_size[s] = orig_size + add;
            }
            ck_assert_int_eq(nvc_frame_write(&t, buf, p->size + 16, &written), 0);
            expect_frame(dec, &st, 0, 0);
            int ret = decode(dec, buf, written, 0, NULL);
            ck_assert(ret == 0 || ret == NEUVC_ERR_INVALIDDATA);
            tried++;
            refused += ret < 0;
        }
    }
    printf("P sub-streams cut or extended: %d of %d refused\n", refused, tried);
    ck_assert_int_ge(refused * 100, tried * 95);
    expect_frame(dec, &st, 0, 0);
    expect_frame(dec, &st, 1, 0);
    free(buf);
    neuvc_dec_close(&dec);
    neuvc_enc_close(&enc);
    stream_free(&st);
    for (int k = 0; k < 2; k++)
        pic_free(&src[k]);
}
END_TEST

/* ----------------------------------------------------------- bench */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Encode and decode time of whole park_joy frames (480x270), one thread,
 * reference kernels. */
START_TEST(bench_frames)
{
    enum { frames = 10 };
    test_pic src[frames];
    clip_crop(src, frames, 0, 0, 480, 270);
    NeuvcEncoder *enc = enc_new(480, 270, 32);
    NeuvcDecoder *dec = dec_new(enc);
    double te = 0, td = 0, bytes = 0, psnr = 0;
    for (int k = 0; k < frames; k++) {
        NeuvcPacket p;
        NeuvcPicture out, rec;
        double t0 = now_s();
        ck_assert_int_eq(neuvc_enc_send_picture(enc, &src[k].pic), 0);
        ck_assert_int_eq(neuvc_enc_receive_packet(enc, &p), 0);
        double t1 = now_s();
        ck_assert_int_eq(decode(dec, p.data, p.size, p.pts, &out), 0);
        double t2 = now_s();
        ck_assert_int_eq(neuvc_enc_get_recon(enc, &rec), 0);
        ck_assert(pic_equal(&rec, &out));
        te += t1 - t0;
        td += t2 - t1;
        bytes += (double)p.size;
        psnr += psnr_yuv(&src[k].pic, &rec);
    }
    printf("park_joy 480x270 qp 32, %d frames: encode %.1f ms/frame, decode %.1f ms/frame, "
           "%.0f bytes/frame (%.3f bpp), PSNR-YUV %.2f dB\n",
           frames, 1e3 * te / frames, 1e3 * td / frames, bytes / frames,
           8 * bytes / frames / (480.0 * 270), psnr / frames);
    neuvc_dec_close(&dec);
    neuvc_enc_close(&enc);
    for (int k = 0; k < frames; k++)
        pic_free(&src[k]);
}
END_TEST

static Suite *codec_suite(int bench_only)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("codec");
    tcase_set_timeout(tc, 300);
    if (bench_only) {
        tcase_add_test(tc, bench_frames);
        suite_add_tcase(s, tc);
        return s;
    }
    tcase_add_test(tc, clip_128x96);
    tcase_add_test(tc, clip_odd_67x45);
    tcase_add_loop_test(tc, tiny_roundtrip, 0, (int)(sizeof(tiny_sizes) / sizeof(tiny_sizes[0])));
    tcase_add_test(tc, deterministic);
    tcase_add_test(tc, no_alloc_per_frame);
    tcase_add_test(tc, truncated_packets);
    tcase_add_test(tc, truncated_substreams);
    tcase_add_test(tc, random_flips);
    tcase_add_test(tc, model_mismatch);
    tcase_add_test(tc, header_size_change);
    tcase_add_test(tc, decoder_misuse);
    tcase_add_test(tc, encoder_misuse);
    tcase_add_test(tc, model_files);
    tcase_add_test(tc, decoder_model_choice);
    tcase_add_test(tc, model_without_inter);
    tcase_add_test(tc, p_clip_roundtrip);
    tcase_add_test(tc, p_keyint);
    tcase_add_test(tc, p_force_keyframe);
    tcase_add_test(tc, p_without_reference);
    tcase_add_test(tc, p_damaged_recovery);
    tcase_add_test(tc, p_truncated_substreams);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    int bench_only = argc == 2 && !strcmp(argv[1], "--bench");
    if (argc > 1 && !bench_only) {
        fprintf(stderr, "usage: %s [--bench]\n", argv[0]);
        return 2;
    }
    SRunner *sr = srunner_create(codec_suite(bench_only));
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
