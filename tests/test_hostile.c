/* Hostile input to the decoder and the readers (docs/security.md): every
 * truncation point of a real stream, random byte flips across a stream of
 * I and P frames, declared sizes at and beyond the limits (pictures,
 * packets larger than the file), zero-length packets, a header of another
 * model.  Each must give an error code and a one-line message, never a
 * crash, and the decoder must go on with the next valid packet: a good I
 * frame after the damage decodes to exactly the picture of a clean decode.
 * Also API misuse: NULL pointers, calls in the wrong order, closing twice,
 * pictures of the wrong size.
 *
 * The stream is the fuzz seed build/fuzz-seeds/dec_stream/tree_60x100_ippi.nvc
 * (a crop of a real clip, made at test time by tests/fuzz/clip-seeds.sh):
 * packets I P P I. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bitstream.h"
#include "common/bytes.h"
#include "common/y4m.h"
#include "neuvc/neuvc.h"

#define STREAM "build/fuzz-seeds/dec_stream/tree_60x100_ippi.nvc"
#define NPK 4

typedef struct stream {
    uint8_t *file;
    size_t file_size;
    const uint8_t *hdr;           /* NVC_SEQ_HEADER_SIZE bytes */
    const uint8_t *pk[NPK];       /* payloads, into file */
    size_t pk_size[NPK];
    size_t pk_off[NPK];           /* file offset of each packet header */
    int w, h;
    uint8_t *clean[NPK];          /* the clean decode, planes packed */
} stream;

static stream st;
static FILE *errlog;              /* stderr goes here during the calls under test */
static int saved_stderr = -1;

static uint32_t rng_state = 2024;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static size_t pic_bytes(int w, int h)
{
    return (size_t)w * h + 2 * (size_t)((w + 1) / 2) * ((h + 1) / 2);
}

/* The picture's planes, packed, in a new buffer. */
static uint8_t *pic_pack(const NeuvcPicture *p)
{
    uint8_t *buf = malloc(pic_bytes(p->width, p->height)), *o = buf;
    ck_assert_ptr_nonnull(buf);
    for (int i = 0; i < 3; i++) {
        int pw = i ? (p->width + 1) / 2 : p->width, ph = i ? (p->height + 1) / 2 : p->height;
        for (int y = 0; y < ph; y++, o += pw)
            memcpy(o, p->data[i] + y * p->stride[i], (size_t)pw);
    }
    return buf;
}

/* Sends stderr to errlog until log_end(); returns the log's size before. */
static long log_begin(void)
{
    fflush(stderr);
    saved_stderr = dup(2);
    ck_assert_int_ge(saved_stderr, 0);
    ck_assert_int_ge(dup2(fileno(errlog), 2), 0);
    return (long)lseek(fileno(errlog), 0, SEEK_END);
}

static long log_end(void)
{
    fflush(stderr);
    long end = (long)lseek(fileno(errlog), 0, SEEK_END);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    return end;
}

/* Checks that exactly one line "neuvc: ..." was logged from pos to end. */
static void expect_message(long pos, long end)
{
    char text[1024];
    ck_assert_int_gt(end, pos);
    ck_assert_int_lt(end - pos, (long)sizeof(text));
    ck_assert_int_eq(pread(fileno(errlog), text, (size_t)(end - pos), pos), end - pos);
    text[end - pos] = '\0';
    ck_assert_msg(!strncmp(text, "neuvc: ", 7) && strchr(text, '\n') == text + (end - pos) - 1,
                  "message: '%s'", text);
}

static NeuvcDecoder *dec_new(int max_w, int max_h)
{
    NeuvcDecoder *dec = NULL;
    NeuvcDecSettings s;
    neuvc_dec_default_settings(&s);
    s.log_level = 1;
    s.threads = 1;
    if (max_w)
        s.max_width = max_w;
    if (max_h)
        s.max_height = max_h;
    ck_assert_int_eq(neuvc_dec_open(&dec, &s), 0);
    return dec;
}

/* Sends one packet; on success takes the picture and, when want is not
 * NULL, checks it against want.  A failure must log one message and
 * leave no picture. */
static int send(NeuvcDecoder *dec, const uint8_t *data, size_t size, const uint8_t *want)
{
    NeuvcPacket p = { data, size, 1, NEUVC_FRAME_I, 0 };
    NeuvcPicture pic;
    long pos = log_begin();
    int ret = neuvc_dec_send_packet(dec, &p);
    long end = log_end();
    if (ret < 0) {
        expect_message(pos, end);
        ck_assert_int_eq(neuvc_dec_receive_picture(dec, &pic), NEUVC_ERR(EAGAIN));
        return ret;
    }
    ck_assert_int_eq(neuvc_dec_receive_picture(dec, &pic), 0);
    ck_assert_int_eq(pic.width, st.w);
    ck_assert_int_eq(pic.height, st.h);
    if (want) {
        uint8_t *got = pic_pack(&pic);
        ck_assert_mem_eq(got, want, pic_bytes(st.w, st.h));
        free(got);
    }
    return 0;
}

static void stream_load(void)
{
    FILE *f = fopen(STREAM, "rb");
    ck_assert_msg(f != NULL, "missing %s", STREAM);
    st.file = malloc(1 << 16);
    st.file_size = fread(st.file, 1, 1 << 16, f);
    fclose(f);
    nvc_seq_header h;
    ck_assert_int_eq(nvc_seq_header_parse(&h, st.file, st.file_size, 0, 0, NULL, 0),
                     NVC_SEQ_HEADER_SIZE);
    st.hdr = st.file;
    st.w = h.width;
    st.h = h.height;
    size_t pos = NVC_SEQ_HEADER_SIZE;
    for (int i = 0; i < NPK; i++) {
        st.pk_off[i] = pos;
        st.pk_size[i] = bytes_load_u32le(st.file + pos);
        st.pk[i] = st.file + pos + NVC_PACKET_HEADER_SIZE;
        pos += NVC_PACKET_HEADER_SIZE + st.pk_size[i];
    }
    ck_assert_uint_eq(pos, st.file_size);
    ck_assert_int_eq(st.pk[0][0], NEUVC_FRAME_I);
    ck_assert_int_eq(st.pk[1][0], NEUVC_FRAME_P);
    ck_assert_int_eq(st.pk[2][0], NEUVC_FRAME_P);
    ck_assert_int_eq(st.pk[3][0], NEUVC_FRAME_I);
    /* The clean decode. */
    NeuvcDecoder *dec = dec_new(0, 0);
    ck_assert_int_eq(neuvc_dec_set_header(dec, st.hdr, NVC_SEQ_HEADER_SIZE), 0);
    for (int i = 0; i < NPK; i++) {
        NeuvcPacket p = { st.pk[i], st.pk_size[i], i, NEUVC_FRAME_I, 0 };
        NeuvcPicture pic;
        ck_assert_int_eq(neuvc_dec_send_packet(dec, &p), 0);
        ck_assert_int_eq(neuvc_dec_receive_picture(dec, &pic), 0);
        ck_assert_int_eq(pic.frame_type, i == 1 || i == 2 ? NEUVC_FRAME_P : NEUVC_FRAME_I);
        st.clean[i] = pic_pack(&pic);
    }
    neuvc_dec_close(&dec);
}

static void setup(void)
{
    errlog = tmpfile();
    ck_assert_ptr_nonnull(errlog);
    stream_load();
}

/* Every truncation point of the file: the reader stops with
 * INVALIDDATA and a message (or cleanly at a packet boundary), every
 * packet it did return decodes as in the clean decode; the cut payload
 * itself, sent as a packet, is refused with a message; the last I frame
 * then decodes exactly. */
START_TEST(stream_truncations)
{
    NeuvcDecoder *dec = dec_new(0, 0);
    ck_assert_int_eq(neuvc_dec_set_header(dec, st.hdr, NVC_SEQ_HEADER_SIZE), 0);
    int refused = 0;
    for (size_t len = 0; len < st.file_size; len++) {
        FILE *f = len ? fmemopen(st.file, len, "rb") : fopen("/dev/null", "rb");
        ck_assert_ptr_nonnull(f);
        nvc_reader r;
        int ret = nvc_reader_open(&r, f, 0, 0, 0);
        int boundary = len == NVC_SEQ_HEADER_SIZE;
        for (int i = 0; i < NPK; i++)
            boundary |= len == st.pk_off[i] && i > 0;
        if (len < NVC_SEQ_HEADER_SIZE) {
            ck_assert_int_eq(ret, NEUVC_ERR_INVALIDDATA);
            ck_assert(r.errmsg[0]);
        } else {
            ck_assert_int_eq(ret, 0);
            const uint8_t *data;
            size_t size;
            int64_t pts;
            int n = 0;
            while ((ret = nvc_read_packet(&r, &data, &size, &pts)) > 0) {
                ck_assert_int_lt(n, NPK);
                ck_assert_uint_eq(size, st.pk_size[n]);
                ck_assert(!memcmp(data, st.pk[n], size));
                n++;
            }
            ck_assert_int_eq(ret, boundary ? 0 : NEUVC_ERR_INVALIDDATA);
            if (ret < 0)
                ck_assert(r.errmsg[0]);
            /* The packet cut short, as a demuxer without framing would pass it. */
            if (n < NPK && len > st.pk_off[n] + NVC_PACKET_HEADER_SIZE) {
                size_t have = len - st.pk_off[n] - NVC_PACKET_HEADER_SIZE;
                ck_assert_int_eq(send(dec, st.pk[n], have, NULL), NEUVC_ERR_INVALIDDATA);
                refused++;
                /* Recovery at the next I frame (every 4th point: each costs a decode). */
                if (len % 4 == 0)
                    ck_assert_int_eq(send(dec, st.pk[3], st.pk_size[3], st.clean[3]), 0);
            }
        }
        nvc_reader_close(&r);
        fclose(f);
    }
    printf("truncations: %zu points, %d cut payloads refused\n", st.file_size, refused);
    ck_assert_int_eq(send(dec, st.pk[3], st.pk_size[3], st.clean[3]), 0);
    neuvc_dec_close(&dec);
}
END_TEST

/* Random byte flips anywhere in one of the first three packets: the
 * damaged packet gives INVALIDDATA or a picture (never another code),
 * the P frames after a refused one are refused (no reference), and the
 * I frame after them decodes exactly. */
START_TEST(stream_flips)
{
    NeuvcDecoder *dec = dec_new(0, 0);
    ck_assert_int_eq(neuvc_dec_set_header(dec, st.hdr, NVC_SEQ_HEADER_SIZE), 0);
    uint8_t buf[4096];
    int refused = 0, decoded = 0;
    for (int it = 0; it < 120; it++) {
        int k = (int)(rng() % 3);
        ck_assert_uint_le(st.pk_size[k], sizeof(buf));
        memcpy(buf, st.pk[k], st.pk_size[k]);
        for (int n = 1 + (int)(rng() % 3); n > 0; n--)
            buf[rng() % st.pk_size[k]] ^= (uint8_t)(1 + rng() % 255);
        for (int i = 0; i < k; i++)
            ck_assert_int_eq(send(dec, st.pk[i], st.pk_size[i], st.clean[i]), 0);
        int ret = send(dec, buf, st.pk_size[k], NULL);
        ck_assert_msg(ret == 0 || ret == NEUVC_ERR_INVALIDDATA, "flip %d: %d", it, ret);
        refused += ret < 0;
        decoded += ret == 0;
        for (int i = k + 1; i < 3; i++) {
            int r2 = send(dec, st.pk[i], st.pk_size[i], NULL);
            if (ret < 0)
                ck_assert_int_eq(r2, NEUVC_ERR_INVALIDDATA);
            else
                ck_assert_int_eq(r2, 0);
        }
        ck_assert_int_eq(send(dec, st.pk[3], st.pk_size[3], st.clean[3]), 0);
    }
    printf("flips: %d packets refused, %d decoded\n", refused, decoded);
    ck_assert_int_gt(refused, 0);
    neuvc_dec_close(&dec);
}
END_TEST

/* The first packet of the .nvc file[0..n), read with a packet limit of
 * max_packet (0: none), fails with want and a message containing msg; the
 * reader then holds a buffer of at most max_buf bytes (0: none). */
static void expect_packet_error(uint8_t *file, size_t n, size_t max_packet, int want,
                                const char *msg, size_t max_buf)
{
    FILE *f = fmemopen(file, n, "rb");
    ck_assert_ptr_nonnull(f);
    nvc_reader r;
    const uint8_t *data;
    size_t size;
    int64_t pts;
    ck_assert_int_eq(nvc_reader_open(&r, f, 0, 0, max_packet), 0);
    ck_assert_int_eq(nvc_read_packet(&r, &data, &size, &pts), want);
    ck_assert_msg(strstr(r.errmsg, msg), "message \"%s\" lacks \"%s\"", r.errmsg, msg);
    if (max_buf)
        ck_assert_uint_le(r.buf_cap, max_buf);
    else
        ck_assert_ptr_null(r.buf);
    nvc_reader_close(&r);
    fclose(f);
}

/* Zero-length and empty packets, and packets of another frame size. */
START_TEST(odd_packets)
{
    NeuvcDecoder *dec = dec_new(0, 0);
    ck_assert_int_eq(neuvc_dec_set_header(dec, st.hdr, NVC_SEQ_HEADER_SIZE), 0);
    ck_assert_int_eq(send(dec, st.pk[0], 0, NULL), NEUVC_ERR_INVALIDDATA);
    ck_assert_int_eq(send(dec, NULL, 0, NULL), NEUVC_ERR_INVALIDDATA);
    ck_assert_int_eq(send(dec, st.pk[0], st.pk_size[0], st.clean[0]), 0);
    ck_assert_int_eq(send(dec, st.pk[1], 0, NULL), NEUVC_ERR_INVALIDDATA);
    /* The P frame after it has no reference. */
    ck_assert_int_eq(send(dec, st.pk[1], st.pk_size[1], NULL), NEUVC_ERR_INVALIDDATA);
    ck_assert_int_eq(send(dec, st.pk[3], st.pk_size[3], st.clean[3]), 0);
    /* A frame of a 16x16 stream under the 60x100 header: wrong sub-stream count. */
    static const uint8_t small_i[] = { 0, 20, 0, 2, 1, 1, 0x80, 0x80 };
    ck_assert_int_eq(send(dec, small_i, sizeof(small_i), NULL), NEUVC_ERR_INVALIDDATA);
    ck_assert_int_eq(send(dec, st.pk[3], st.pk_size[3], st.clean[3]), 0);
    /* An .nvc packet of size 0 in a file. */
    uint8_t file[NVC_SEQ_HEADER_SIZE + NVC_PACKET_HEADER_SIZE];
    memcpy(file, st.hdr, NVC_SEQ_HEADER_SIZE);
    memset(file + NVC_SEQ_HEADER_SIZE, 0, NVC_PACKET_HEADER_SIZE);
    expect_packet_error(file, sizeof(file), 0, NEUVC_ERR_INVALIDDATA, "size 0", 0);
    neuvc_dec_close(&dec);
}
END_TEST

/* A sequence header of size w x h (the stream's model). */
static void header_of_size(uint8_t out[NVC_SEQ_HEADER_SIZE], int w, int h)
{
    memcpy(out, st.hdr, NVC_SEQ_HEADER_SIZE);
    bytes_store_u16le(out + 8, (uint16_t)w);
    bytes_store_u16le(out + 10, (uint16_t)h);
    bytes_store_u32le(out + 96, bytes_crc32(0, out, 96));
}

/* Declared picture sizes at and beyond the limits: ERANGE and a message
 * above the decoder's settings, the decoder still usable; a packet size
 * far beyond the file costs no more memory than the file. */
START_TEST(huge_sizes)
{
    uint8_t h[NVC_SEQ_HEADER_SIZE];
    NeuvcDecoder *dec = dec_new(0, 0);      /* defaults: 8192 x 8192 */
    static const int too_big[][2] = { { 8193, 16 }, { 16, 8193 }, { 65535, 65535 }, { 8193, 8193 } };
    for (size_t i = 0; i < sizeof(too_big) / sizeof(too_big[0]); i++) {
        header_of_size(h, too_big[i][0], too_big[i][1]);
        long pos = log_begin();
        int ret = neuvc_dec_set_header(dec, h, sizeof(h));
        long end = log_end();
        ck_assert_int_eq(ret, NEUVC_ERR(ERANGE));
        expect_message(pos, end);
    }
    /* The limits are settings: 256 x 128 here. */
    neuvc_dec_close(&dec);
    dec = dec_new(256, 128);
    static const int over[][2] = { { 257, 100 }, { 60, 129 } };
    for (int i = 0; i < 2; i++) {
        header_of_size(h, over[i][0], over[i][1]);
        long pos = log_begin();
        int ret = neuvc_dec_set_header(dec, h, sizeof(h));
        long end = log_end();
        ck_assert_int_eq(ret, NEUVC_ERR(ERANGE));
        expect_message(pos, end);
    }
    header_of_size(h, 256, 128);
    ck_assert_int_eq(neuvc_dec_set_header(dec, h, sizeof(h)), 0);
    /* The stream's packets under a header of another size: refused. */
    for (int i = 0; i < NPK; i++)
        ck_assert_int_eq(send(dec, st.pk[i], st.pk_size[i], NULL), NEUVC_ERR_INVALIDDATA);
    /* Back to the stream's own header: decodes again. */
    ck_assert_int_eq(neuvc_dec_set_header(dec, st.hdr, NVC_SEQ_HEADER_SIZE), 0);
    ck_assert_int_eq(send(dec, st.pk[0], st.pk_size[0], st.clean[0]), 0);
    neuvc_dec_close(&dec);

    /* Packet sizes of 2^32-1 and of 1 MiB + 1 over 20 bytes of data. */
    static const uint32_t claims[] = { UINT32_MAX, (1u << 20) + 1 };
    for (int i = 0; i < 2; i++) {
        uint8_t file[NVC_SEQ_HEADER_SIZE + NVC_PACKET_HEADER_SIZE + 20];
        memcpy(file, st.hdr, NVC_SEQ_HEADER_SIZE);
        bytes_store_u32le(file + NVC_SEQ_HEADER_SIZE, claims[i]);
        memset(file + NVC_SEQ_HEADER_SIZE + 4, 0x11, sizeof(file) - NVC_SEQ_HEADER_SIZE - 4);
        /* The buffer: what arrived, rounded up to one chunk. */
        expect_packet_error(file, sizeof(file), 0, NEUVC_ERR_INVALIDDATA, "truncated", 65536);
        /* With a packet limit: ERANGE before reading. */
        expect_packet_error(file, sizeof(file), 1 << 20, NEUVC_ERR(ERANGE), "above the limit", 0);
    }

    /* Y4M: sizes beyond the reader's limits are refused before any
     * allocation; within them, a frame cut short is INVALIDDATA. */
    static const char *const y4m_bad[] = {
        "YUV4MPEG2 W8193 H16 F25:1\nFRAME\n", "YUV4MPEG2 W16 H65536 F25:1\nFRAME\n",
        "YUV4MPEG2 W4294967312 H16\nFRAME\n", "YUV4MPEG2 W0 H16\nFRAME\n",
    };
    for (size_t i = 0; i < sizeof(y4m_bad) / sizeof(y4m_bad[0]); i++) {
        FILE *f = fmemopen((void *)y4m_bad[i], strlen(y4m_bad[i]), "rb");
        y4m_reader yr;
        int ret = y4m_reader_open(&yr, f, 8192, 8192);
        ck_assert_msg(ret == NEUVC_ERR(ERANGE) || ret == NEUVC_ERR_INVALIDDATA, "%s: %d",
                      y4m_bad[i], ret);
        ck_assert(yr.errmsg[0]);
        ck_assert_ptr_null(yr.buf);
        y4m_reader_close(&yr);
        fclose(f);
    }
    static const char y4m_short[] = "YUV4MPEG2 W64 H64 F25:1\nFRAME\nabc";
    FILE *f = fmemopen((void *)y4m_short, sizeof(y4m_short) - 1, "rb");
    y4m_reader yr;
    NeuvcPicture pic;
    ck_assert_int_eq(y4m_reader_open(&yr, f, 8192, 8192), 0);
    ck_assert_int_eq(y4m_read_picture(&yr, &pic), NEUVC_ERR_INVALIDDATA);
    ck_assert(yr.errmsg[0]);
    y4m_reader_close(&yr);
    fclose(f);
}
END_TEST

/* A header naming another model: ENOSYS and a message naming it; the
 * decoder keeps its previous header and goes on decoding. */
START_TEST(other_model)
{
    uint8_t h[NVC_SEQ_HEADER_SIZE];
    NeuvcDecoder *dec = dec_new(0, 0);
    ck_assert_int_eq(neuvc_dec_set_header(dec, st.hdr, NVC_SEQ_HEADER_SIZE), 0);
    ck_assert_int_eq(send(dec, st.pk[0], st.pk_size[0], st.clean[0]), 0);
    memcpy(h, st.hdr, sizeof(h));
    memset(h + 32, 0, 64);
    memcpy(h + 32, "another-model-2", 15);
    bytes_store_u32le(h + 96, bytes_crc32(0, h, 96));
    long pos = log_begin();
    int ret = neuvc_dec_set_header(dec, h, sizeof(h));
    long end = log_end();
    ck_assert_int_eq(ret, NEUVC_ERR(ENOSYS));
    expect_message(pos, end);
    ck_assert_int_eq(send(dec, st.pk[1], st.pk_size[1], st.clean[1]), 0);
    neuvc_dec_close(&dec);
}
END_TEST

/* ------------------------------------------------------------ API misuse */

START_TEST(decoder_api_misuse)
{
    NeuvcDecoder *dec = NULL;
    NeuvcPicture pic;
    NeuvcPacket pkt = { st.pk[0], st.pk_size[0], 0, NEUVC_FRAME_I, 0 };
    ck_assert_int_eq(neuvc_dec_open(NULL, NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_dec_set_header(NULL, NULL, 0), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_dec_send_packet(NULL, &pkt), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_dec_receive_picture(NULL, NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_dec_param_parse(NULL, "threads", "1"), NEUVC_ERR(EINVAL));
    neuvc_dec_default_settings(NULL);
    neuvc_dec_close(NULL);
    dec = dec_new(0, 0);
    /* Wrong order: receive before anything, packet before the header. */
    ck_assert_int_eq(neuvc_dec_receive_picture(dec, &pic), NEUVC_ERR(EAGAIN));
    long pos = log_begin();
    int ret = neuvc_dec_send_packet(dec, &pkt);
    long end = log_end();
    ck_assert_int_eq(ret, NEUVC_ERR(EINVAL));
    expect_message(pos, end);
    pos = log_begin();
    ret = neuvc_dec_set_header(dec, st.hdr, 0);
    end = log_end();
    ck_assert_int_eq(ret, NEUVC_ERR_INVALIDDATA);
    expect_message(pos, end);
    ck_assert_int_eq(neuvc_dec_set_header(dec, st.hdr, NVC_SEQ_HEADER_SIZE), 0);
    ck_assert_int_eq(neuvc_dec_receive_picture(dec, NULL), NEUVC_ERR(EINVAL));
    pkt.data = NULL;
    ck_assert_int_eq(neuvc_dec_send_packet(dec, &pkt), NEUVC_ERR(EINVAL));
    pkt.data = st.pk[0];
    ck_assert_int_eq(neuvc_dec_send_packet(dec, &pkt), 0);
    ck_assert_int_eq(neuvc_dec_send_packet(dec, &pkt), NEUVC_ERR(EAGAIN));
    /* A new header (same size) while a picture waits keeps it. */
    ck_assert_int_eq(neuvc_dec_set_header(dec, st.hdr, NVC_SEQ_HEADER_SIZE), 0);
    ck_assert_int_eq(neuvc_dec_receive_picture(dec, &pic), 0);
    ck_assert_int_eq(neuvc_dec_send_packet(dec, NULL), 0);
    ck_assert_int_eq(neuvc_dec_send_packet(dec, NULL), NEUVC_ERR_EOF);
    ck_assert_int_eq(neuvc_dec_receive_picture(dec, &pic), NEUVC_ERR_EOF);
    ck_assert_int_eq(neuvc_dec_send_packet(dec, &pkt), NEUVC_ERR_EOF);
    /* Closing twice: the first close clears the pointer. */
    neuvc_dec_close(&dec);
    ck_assert_ptr_null(dec);
    neuvc_dec_close(&dec);
}
END_TEST

START_TEST(encoder_api_misuse)
{
    NeuvcEncSettings s;
    NeuvcEncoder *enc = NULL;
    NeuvcPacket pkt;
    NeuvcPicture rec;
    const uint8_t *hdr;
    size_t hsize;
    static uint8_t plane[3][64 * 64];
    ck_assert_int_eq(neuvc_enc_get_header(NULL, &hdr, &hsize), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_get_recon(NULL, &rec), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_force_keyframe(NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_set_bitrate(NULL, 100), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_get_complexity(NULL, NULL), NEUVC_ERR(EINVAL));
    neuvc_enc_default_settings(NULL);
    neuvc_enc_default_settings(&s);
    s.width = 64;
    s.height = 48;
    s.log_level = 0;
    s.threads = 1;
    ck_assert_int_eq(neuvc_enc_open(&enc, &s), 0);
    ck_assert_int_eq(neuvc_enc_get_header(enc, NULL, &hsize), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_get_complexity(enc, NULL), NEUVC_ERR(EINVAL));
    /* Wrong order: a packet or a reconstruction before any picture. */
    ck_assert_int_eq(neuvc_enc_receive_packet(enc, &pkt), NEUVC_ERR(EAGAIN));
    ck_assert_int_eq(neuvc_enc_receive_packet(enc, NULL), NEUVC_ERR(EINVAL));
    int rret = neuvc_enc_get_recon(enc, &rec);
    ck_assert_msg(rret == NEUVC_ERR(EAGAIN) || rret == NEUVC_ERR(EINVAL), "get_recon: %d", rret);
    /* Pictures of the wrong size, or without planes. */
    NeuvcPicture pic = { { plane[0], plane[1], plane[2] }, { 64, 32, 32 }, 64, 48, 0,
                         NEUVC_FRAME_I, 0 };
    pic.width = 66;
    ck_assert_int_eq(neuvc_enc_send_picture(enc, &pic), NEUVC_ERR(EINVAL));
    pic.width = 64;
    pic.height = 47;
    ck_assert_int_eq(neuvc_enc_send_picture(enc, &pic), NEUVC_ERR(EINVAL));
    pic.height = 48;
    pic.data[1] = NULL;
    ck_assert_int_eq(neuvc_enc_send_picture(enc, &pic), NEUVC_ERR(EINVAL));
    pic.data[1] = plane[1];
    pic.stride[0] = 10;               /* below the width */
    ck_assert_int_eq(neuvc_enc_send_picture(enc, &pic), NEUVC_ERR(EINVAL));
    pic.stride[0] = 64;
    /* Then a good one; a second send before the receive is EAGAIN. */
    ck_assert_int_eq(neuvc_enc_send_picture(enc, &pic), 0);
    ck_assert_int_eq(neuvc_enc_send_picture(enc, &pic), NEUVC_ERR(EAGAIN));
    ck_assert_int_eq(neuvc_enc_receive_packet(enc, &pkt), 0);
    ck_assert_int_eq(neuvc_enc_send_picture(enc, NULL), 0);
    ck_assert_int_eq(neuvc_enc_send_picture(enc, &pic), NEUVC_ERR_EOF);
    ck_assert_int_eq(neuvc_enc_receive_packet(enc, &pkt), NEUVC_ERR_EOF);
    neuvc_enc_close(&enc);
    ck_assert_ptr_null(enc);
    neuvc_enc_close(&enc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("hostile");
    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, stream_truncations);
    tcase_add_test(tc, stream_flips);
    tcase_add_test(tc, odd_packets);
    tcase_add_test(tc, huge_sizes);
    tcase_add_test(tc, other_model);
    tcase_add_test(tc, decoder_api_misuse);
    tcase_add_test(tc, encoder_api_misuse);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
