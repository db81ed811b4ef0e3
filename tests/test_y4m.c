/* Y4M reader and writer: round trips, refused headers, FRAME lines,
 * truncation, clean end, pipes. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/y4m.h"

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* A stream over the given bytes (seekable, but the reader never seeks). */
static FILE *input_from(const void *data, size_t n)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    if (n)
        ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    rewind(f);
    return f;
}

static FILE *input_str(const char *s)
{
    return input_from(s, strlen(s));
}

/* Picture with padded rows, filled with random bytes (padding 0xEE). */
typedef struct test_pic {
    int w, h;
    uint8_t *mem;
    uint8_t *planes[3];
    ptrdiff_t strides[3];
} test_pic;

static void pic_alloc(test_pic *p, int w, int h, int pad, int fill)
{
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    p->w = w;
    p->h = h;
    p->strides[0] = w + pad;
    p->strides[1] = p->strides[2] = cw + pad;
    size_t ysz = (size_t)p->strides[0] * h, csz = (size_t)p->strides[1] * ch;
    p->mem = malloc(ysz + 2 * csz);
    ck_assert_ptr_nonnull(p->mem);
    memset(p->mem, 0xEE, ysz + 2 * csz);
    p->planes[0] = p->mem;
    p->planes[1] = p->mem + ysz;
    p->planes[2] = p->mem + ysz + csz;
    if (!fill)
        return;
    for (int i = 0; i < 3; i++) {
        int pw = i ? cw : w, ph = i ? ch : h;
        for (int y = 0; y < ph; y++)
            for (int x = 0; x < pw; x++)
                p->planes[i][y * p->strides[i] + x] = (uint8_t)rng();
    }
}

static void pic_free(test_pic *p)
{
    free(p->mem);
    p->mem = NULL;
}

static int pic_equal(const test_pic *a, uint8_t *const planes[3], const ptrdiff_t strides[3])
{
    int cw = (a->w + 1) / 2, ch = (a->h + 1) / 2;
    for (int i = 0; i < 3; i++) {
        int pw = i ? cw : a->w, ph = i ? ch : a->h;
        for (int y = 0; y < ph; y++)
            if (memcmp(a->planes[i] + y * a->strides[i], planes[i] + y * strides[i], (size_t)pw))
                return 0;
    }
    return 1;
}

static const int rt_sizes[][2] = {
    { 1, 1 }, { 2, 2 }, { 3, 5 }, { 5, 3 }, { 1, 7 }, { 7, 1 }, { 17, 9 }, { 33, 31 },
    { 64, 64 }, { 854, 480 }, { 1296, 720 }, { 1281, 719 },
};
#define N_RT_SIZES ((int)(sizeof(rt_sizes) / sizeof(rt_sizes[0])))

/* Writes two random frames, reads one into a caller buffer with another
 * stride and one into the reader's own buffer, then the clean end. */
START_TEST(test_roundtrip)
{
    int w = rt_sizes[_i][0], h = rt_sizes[_i][1];
    rng_state = 777u + (uint32_t)_i;
    test_pic src[2];
    pic_alloc(&src[0], w, h, 3, 1);
    pic_alloc(&src[1], w, h, 0, 1);

    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    y4m_writer wr;
    y4m_info info = { .width = w, .height = h, .fps_num = 30000, .fps_den = 1001,
                      .sar_num = 4, .sar_den = 3 };
    ck_assert_int_eq(y4m_writer_open(&wr, f, &info), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(y4m_write_frame(&wr, (const uint8_t *const *)src[i].planes, src[i].strides), 0);
    ck_assert_int_eq(wr.frames_written, 2);
    rewind(f);

    y4m_reader rd;
    ck_assert_int_eq(y4m_reader_open(&rd, f, 0, 0), 0);
    ck_assert_int_eq(rd.info.width, w);
    ck_assert_int_eq(rd.info.height, h);
    ck_assert_int_eq(rd.info.fps_num, 30000);
    ck_assert_int_eq(rd.info.fps_den, 1001);
    ck_assert_int_eq(rd.info.sar_num, 4);
    ck_assert_int_eq(rd.info.sar_den, 3);
    ck_assert_int_eq(rd.info.interlace, 'p');
    ck_assert_str_eq(rd.info.colorspace, "420jpeg");
    size_t cplane = (size_t)((w + 1) / 2) * (size_t)((h + 1) / 2);
    ck_assert_uint_eq(rd.frame_size, (size_t)w * h + 2 * cplane);

    test_pic dst;
    pic_alloc(&dst, w, h, 5, 0);
    ck_assert_int_eq(y4m_read_frame(&rd, dst.planes, dst.strides), 1);
    ck_assert(pic_equal(&src[0], dst.planes, dst.strides));
    /* The padding of the caller's rows is not written. */
    ck_assert_uint_eq(dst.planes[0][w], 0xEE);

    NeuvcPicture pic;
    ck_assert_int_eq(y4m_read_picture(&rd, &pic), 1);
    ck_assert_int_eq(pic.width, w);
    ck_assert_int_eq(pic.height, h);
    ck_assert_int_eq(pic.pts, 1);
    ck_assert(pic_equal(&src[1], pic.data, pic.stride));

    ck_assert_int_eq(y4m_read_picture(&rd, &pic), 0);
    ck_assert_int_eq(y4m_read_frame(&rd, dst.planes, dst.strides), 0);
    ck_assert_int_eq(rd.frames_read, 2);
    y4m_reader_close(&rd);
    y4m_reader_close(&rd);
    fclose(f);
    pic_free(&dst);
    pic_free(&src[0]);
    pic_free(&src[1]);
}
END_TEST

/* Opens a reader on s, expects err (0 = success); the message must
 * contain msg when given. */
static void expect_open(const char *s, int max_w, int max_h, int err, const char *msg)
{
    FILE *f = input_str(s);
    y4m_reader rd;
    int ret = y4m_reader_open(&rd, f, max_w, max_h);
    ck_assert_msg(ret == err, "header '%s': got %d, expected %d (%s)", s, ret, err, rd.errmsg);
    if (err) {
        ck_assert_msg(strlen(rd.errmsg) > 0, "no message for '%s'", s);
        ck_assert_ptr_null(strchr(rd.errmsg, '\n'));
    }
    if (msg)
        ck_assert_msg(strstr(rd.errmsg, msg) != NULL, "message '%s' lacks '%s'", rd.errmsg, msg);
    y4m_reader_close(&rd);
    fclose(f);
}

static const char *const refused_cs[] = {
    "422", "444", "420p10", "mono", "444alpha", "411", "420p12", "422p10", "444p16",
    "mono16", "420jpegx", "42", "", "foo",
};
#define N_REFUSED_CS ((int)(sizeof(refused_cs) / sizeof(refused_cs[0])))

START_TEST(test_refused_colorspace)
{
    char hdr[128], tag[32];
    snprintf(hdr, sizeof(hdr), "YUV4MPEG2 W8 H8 F25:1 C%s Ip\nFRAME\n", refused_cs[_i]);
    snprintf(tag, sizeof(tag), "'C%s'", refused_cs[_i]);
    expect_open(hdr, 0, 0, NEUVC_ERR(ENOSYS), tag);
    /* and the message says what is supported */
    expect_open(hdr, 0, 0, NEUVC_ERR(ENOSYS), "C420jpeg");
}
END_TEST

START_TEST(test_accepted_headers)
{
    static const char *const cs[] = { " C420jpeg", " C420paldv", " C420mpeg2", " C420", "" };
    for (int i = 0; i < 5; i++) {
        char hdr[128];
        snprintf(hdr, sizeof(hdr), "YUV4MPEG2 W3 H5 F24:1%s\n", cs[i]);
        expect_open(hdr, 0, 0, 0, NULL);
    }
    /* X and unknown tags are ignored, separators may repeat, F0:0 = unknown */
    FILE *f = input_str("YUV4MPEG2  XYSCSS=420JPEG W640  H360 Z123 F0:0 It A0:0 XCOLORRANGE=FULL\n");
    y4m_reader rd;
    ck_assert_int_eq(y4m_reader_open(&rd, f, 640, 360), 0);
    ck_assert_int_eq(rd.info.width, 640);
    ck_assert_int_eq(rd.info.height, 360);
    ck_assert_int_eq(rd.info.fps_num, 25);
    ck_assert_int_eq(rd.info.fps_den, 1);
    ck_assert_int_eq(rd.info.interlace, 't');
    ck_assert_str_eq(rd.info.colorspace, "");
    /* no frames: the clean end at once */
    uint8_t buf[640 * 360];
    uint8_t *planes[3] = { buf, buf, buf };
    ptrdiff_t strides[3] = { 640, 320, 320 };
    ck_assert_int_eq(y4m_read_frame(&rd, planes, strides), 0);
    y4m_reader_close(&rd);
    fclose(f);
    /* the largest accepted sizes at a limit and at Y4M_DIM_MAX */
    expect_open("YUV4MPEG2 W1920 H1080\n", 1920, 1080, 0, NULL);
    expect_open("YUV4MPEG2 W65535 H65535\n", 0, 0, 0, NULL);
}
END_TEST

START_TEST(test_bad_headers)
{
    const int inval = NEUVC_ERR_INVALIDDATA, range = NEUVC_ERR(ERANGE);
    expect_open("", 0, 0, inval, "empty");
    expect_open("YUV4MPEG W8 H8\n", 0, 0, inval, "magic");
    expect_open("yuv4mpeg2 W8 H8\n", 0, 0, inval, "magic");
    expect_open("RIFF\x10\0\0\0WAVEfmt ", 0, 0, inval, "magic");
    expect_open("YUV4MPEG2W8 H8\n", 0, 0, inval, "magic");
    expect_open("YUV4", 0, 0, inval, "magic");
    expect_open("YUV4MPEG2 W8 H8", 0, 0, inval, "ends inside");
    expect_open("YUV4MPEG2", 0, 0, inval, "ends inside");
    expect_open("YUV4MPEG2 W0 H8\n", 0, 0, inval, "W0");
    expect_open("YUV4MPEG2 W8 H0\n", 0, 0, inval, "H0");
    expect_open("YUV4MPEG2 W8 H-1\n", 0, 0, inval, "H-1");
    expect_open("YUV4MPEG2 W+8 H8\n", 0, 0, inval, "W+8");
    expect_open("YUV4MPEG2 W H8\n", 0, 0, inval, "width");
    expect_open("YUV4MPEG2 W8x H8\n", 0, 0, inval, "W8x");
    expect_open("YUV4MPEG2 W1000000000 H8\n", 0, 0, inval, "width");
    expect_open("YUV4MPEG2 W99999999999999999999 H8\n", 0, 0, inval, "width");
    expect_open("YUV4MPEG2 W65536 H8\n", 0, 0, range, "65535");
    expect_open("YUV4MPEG2 W8 H70000\n", 0, 0, range, "70000");
    expect_open("YUV4MPEG2 W1921 H1080\n", 1920, 1080, range, "1921");
    expect_open("YUV4MPEG2 W1920 H1081\n", 1920, 1080, range, "1081");
    expect_open("YUV4MPEG2 H8\n", 0, 0, inval, "W (width)");
    expect_open("YUV4MPEG2 W8\n", 0, 0, inval, "H (height)");
    expect_open("YUV4MPEG2\n", 0, 0, inval, "no W");
    expect_open("YUV4MPEG2 W8 H8 F0:1\n", 0, 0, inval, "F0:1");
    expect_open("YUV4MPEG2 W8 H8 F30:0\n", 0, 0, inval, "F30:0");
    expect_open("YUV4MPEG2 W8 H8 F30\n", 0, 0, inval, "F30");
    expect_open("YUV4MPEG2 W8 H8 F:1\n", 0, 0, inval, "F:1");
    expect_open("YUV4MPEG2 W8 H8 Fx:y\n", 0, 0, inval, "Fx:y");
    expect_open("YUV4MPEG2 W8 H8 A1\n", 0, 0, inval, "A1");
    expect_open("YUV4MPEG2 W8 H8 A0:1\n", 0, 0, inval, "A0:1");
    expect_open("YUV4MPEG2 W8 H8 Ix\n", 0, 0, inval, "Ix");
    expect_open("YUV4MPEG2 W8 H8 Ipp\n", 0, 0, inval, "Ipp");
    expect_open("YUV4MPEG2 W8 H8 ", 0, 0, inval, "ends inside");
    /* CR LF line ends: the CR is part of the last value, shown escaped */
    expect_open("YUV4MPEG2 W8 H8 C420jpeg\r\n", 0, 0, NEUVC_ERR(ENOSYS), "'C420jpeg\\x0d'");
    expect_open("YUV4MPEG2 W8 H\x01\n", 0, 0, inval, "'H\\x01'");
    static const char nul[] = "YUV4MPEG2 W8 H8 \0 C420\n";
    FILE *f = input_from(nul, sizeof(nul) - 1);
    y4m_reader rd;
    ck_assert_int_eq(y4m_reader_open(&rd, f, 0, 0), inval);
    ck_assert_ptr_nonnull(strstr(rd.errmsg, "NUL"));
    y4m_reader_close(&rd);
    fclose(f);
}
END_TEST

/* A header line of exactly Y4M_LINE_MAX - 1 bytes is read; one byte more
 * is refused, as is a line without end. */
START_TEST(test_header_length)
{
    char *s = malloc(Y4M_LINE_MAX + 64);
    ck_assert_ptr_nonnull(s);
    const char *base = "YUV4MPEG2 W8 H8 X";
    size_t blen = strlen(base);
    memcpy(s, base, blen);
    memset(s + blen, 'a', Y4M_LINE_MAX - 1 - blen);
    s[Y4M_LINE_MAX - 1] = '\n';
    s[Y4M_LINE_MAX] = '\0';
    expect_open(s, 0, 0, 0, NULL);
    s[Y4M_LINE_MAX - 1] = 'a';
    s[Y4M_LINE_MAX] = '\n';
    s[Y4M_LINE_MAX + 1] = '\0';
    expect_open(s, 0, 0, NEUVC_ERR_INVALIDDATA, "longer");
    /* a megabyte without a newline is refused after Y4M_LINE_MAX bytes */
    size_t big = 1 << 20;
    char *g = malloc(big + 1);
    ck_assert_ptr_nonnull(g);
    memcpy(g, base, blen);
    memset(g + blen, 'b', big - blen);
    g[big] = '\0';
    FILE *f = input_str(g);
    y4m_reader rd;
    ck_assert_int_eq(y4m_reader_open(&rd, f, 0, 0), NEUVC_ERR_INVALIDDATA);
    ck_assert_int_le(ftell(f), Y4M_LINE_MAX + 1);
    y4m_reader_close(&rd);
    fclose(f);
    free(g);
    free(s);
}
END_TEST

/* "YUV4MPEG2 W3 H3\n" then what follows; a 3x3 frame is 9 + 4 + 4 bytes. */
static int read_after_header(const char *tail, size_t tail_len, int *frames, char *msg)
{
    const char *hdr = "YUV4MPEG2 W3 H3\n";
    size_t hlen = strlen(hdr);
    char *all = malloc(hlen + tail_len + 1);
    ck_assert_ptr_nonnull(all);
    memcpy(all, hdr, hlen);
    memcpy(all + hlen, tail, tail_len);
    FILE *f = input_from(all, hlen + tail_len);
    y4m_reader rd;
    ck_assert_int_eq(y4m_reader_open(&rd, f, 0, 0), 0);
    NeuvcPicture pic;
    int ret;
    *frames = 0;
    while ((ret = y4m_read_picture(&rd, &pic)) == 1)
        (*frames)++;
    if (ret < 0)
        ck_assert_int_eq(y4m_read_picture(&rd, &pic), ret); /* errors are sticky */
    strcpy(msg, rd.errmsg);
    y4m_reader_close(&rd);
    fclose(f);
    free(all);
    return ret;
}

#define FRAME17 "0123456789abcdefg"

START_TEST(test_frame_lines)
{
    char msg[Y4M_ERRMSG_SIZE];
    int frames;
    const int inval = NEUVC_ERR_INVALIDDATA;
#define TAIL(s) s, sizeof(s) - 1
    ck_assert_int_eq(read_after_header(TAIL("FRAME\n" FRAME17 "FRAME\n" FRAME17), &frames, msg), 0);
    ck_assert_int_eq(frames, 2);
    ck_assert_int_eq(read_after_header(TAIL("FRAME Ip Xfoo\n" FRAME17), &frames, msg), 0);
    ck_assert_int_eq(frames, 1);
    ck_assert_int_eq(read_after_header(TAIL("FRAMX\n" FRAME17), &frames, msg), inval);
    ck_assert_int_eq(frames, 0);
    ck_assert_ptr_nonnull(strstr(msg, "FRAME"));
    ck_assert_int_eq(read_after_header(TAIL("FRAME\n" FRAME17 "FRAMEX\n" FRAME17), &frames, msg), inval);
    ck_assert_int_eq(frames, 1);
    ck_assert_int_eq(read_after_header(TAIL("frame\n" FRAME17), &frames, msg), inval);
    ck_assert_int_eq(read_after_header(TAIL("\n" FRAME17), &frames, msg), inval);
    ck_assert_int_eq(read_after_header(TAIL("FRAME\n" FRAME17 "garbage"), &frames, msg), inval);
    ck_assert_int_eq(frames, 1);
    ck_assert_int_eq(read_after_header(TAIL("FRAME\n" FRAME17 "FRA"), &frames, msg), inval);
    ck_assert_int_eq(frames, 1);
    ck_assert_int_eq(read_after_header(TAIL("FRAME\n" FRAME17 "FRAME"), &frames, msg), inval);
    ck_assert_int_eq(frames, 1);
    ck_assert_int_eq(read_after_header(TAIL("FRAME\0\n" FRAME17), &frames, msg), inval);
    /* an over-long FRAME line */
    char *t = malloc(Y4M_LINE_MAX + 32);
    ck_assert_ptr_nonnull(t);
    memcpy(t, "FRAME ", 6);
    memset(t + 6, 'x', Y4M_LINE_MAX);
    t[Y4M_LINE_MAX + 6] = '\n';
    ck_assert_int_eq(read_after_header(t, Y4M_LINE_MAX + 7, &frames, msg), inval);
    ck_assert_ptr_nonnull(strstr(msg, "longer"));
    free(t);
#undef TAIL
}
END_TEST

/* Every cut inside the second frame (its FRAME line or its planes) is an
 * error after one good frame; the cut at the frame boundary is the clean
 * end. */
START_TEST(test_truncated_frame)
{
    const char *two = "FRAME\n" FRAME17 "FRAME\n" FRAME17;
    size_t one_len = 6 + 17, len = 2 * one_len;
    char msg[Y4M_ERRMSG_SIZE];
    int frames;
    for (size_t cut = one_len; cut <= len; cut++) {
        int ret = read_after_header(two, cut, &frames, msg);
        ck_assert_int_eq(frames, cut == len ? 2 : 1);
        if (cut == one_len || cut == len) {
            ck_assert_int_eq(ret, 0);
        } else {
            ck_assert_msg(ret == NEUVC_ERR_INVALIDDATA, "cut %zu: %d", cut, ret);
            if (cut >= one_len + 6)
                ck_assert_msg(strstr(msg, "truncated") != NULL, "cut %zu: '%s'", cut, msg);
        }
    }
}
END_TEST

/* The same cuts read into padded caller rows (row-by-row reading). */
START_TEST(test_truncated_strided)
{
    const char *s = "YUV4MPEG2 W3 H3\nFRAME\n" FRAME17;
    size_t full = strlen(s), hlen = strlen("YUV4MPEG2 W3 H3\nFRAME\n");
    uint8_t buf[3 * 8];
    uint8_t *planes[3] = { buf, buf + 8, buf + 16 };
    ptrdiff_t strides[3] = { 4, 4, 4 };
    for (size_t cut = hlen; cut <= full; cut++) {
        FILE *f = input_from(s, cut);
        y4m_reader rd;
        ck_assert_int_eq(y4m_reader_open(&rd, f, 0, 0), 0);
        int ret = y4m_read_frame(&rd, planes, strides);
        if (cut == full) {
            ck_assert_int_eq(ret, 1);
            ck_assert_mem_eq(buf, "012", 3);
            ck_assert_mem_eq(buf + 4, "345", 3);
            ck_assert_mem_eq(buf + 16, "de", 2);
            ck_assert_mem_eq(buf + 20, "fg", 2);
        } else {
            ck_assert_msg(ret == NEUVC_ERR_INVALIDDATA, "cut %zu: %d", cut, ret);
            ck_assert_ptr_nonnull(strstr(rd.errmsg, "truncated"));
            if (cut == hlen + 5)
                ck_assert_msg(strstr(rd.errmsg, "Y plane, row 1 of 3") != NULL, "%s", rd.errmsg);
            if (cut == hlen + 9 + 4 + 1)
                ck_assert_msg(strstr(rd.errmsg, "V plane, row 0 of 2") != NULL, "%s", rd.errmsg);
        }
        y4m_reader_close(&rd);
        fclose(f);
    }
    /* and through the reader's own (contiguous) buffer */
    FILE *f = input_from(s, hlen + 7);
    y4m_reader rd;
    ck_assert_int_eq(y4m_reader_open(&rd, f, 0, 0), 0);
    NeuvcPicture pic;
    ck_assert_int_eq(y4m_read_picture(&rd, &pic), NEUVC_ERR_INVALIDDATA);
    ck_assert_msg(strstr(rd.errmsg, "Y plane, row 2 of 3") != NULL, "%s", rd.errmsg);
    y4m_reader_close(&rd);
    fclose(f);
}
END_TEST

typedef struct pipe_job {
    int fd;
    int w, h, frames;
    uint32_t seed;
} pipe_job;

/* Writes frames of pixel value (seed + frame + x * y) through the pipe. */
static void *pipe_writer(void *arg)
{
    pipe_job *job = arg;
    FILE *f = fdopen(job->fd, "wb");
    if (!f)
        return NULL;
    y4m_writer wr;
    y4m_info info = { .width = job->w, .height = job->h, .fps_num = 50, .fps_den = 1 };
    int cw = (job->w + 1) / 2, ch = (job->h + 1) / 2;
    uint8_t *buf = malloc((size_t)job->w * job->h + 2 * (size_t)cw * ch);
    if (buf && y4m_writer_open(&wr, f, &info) == 0) {
        for (int n = 0; n < job->frames; n++) {
            size_t total = (size_t)job->w * job->h + 2 * (size_t)cw * ch;
            for (size_t i = 0; i < total; i++)
                buf[i] = (uint8_t)(job->seed + (uint32_t)n + (uint32_t)(i * 7));
            const uint8_t *planes[3] = { buf, buf + (size_t)job->w * job->h,
                                         buf + (size_t)job->w * job->h + (size_t)cw * ch };
            ptrdiff_t strides[3] = { job->w, cw, cw };
            if (y4m_write_frame(&wr, planes, strides) < 0)
                break;
        }
    }
    free(buf);
    fclose(f);
    return NULL;
}

START_TEST(test_pipe)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pipe_job job = { .fd = fds[1], .w = 854, .h = 480, .frames = 3, .seed = 9 };
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, pipe_writer, &job), 0);
    FILE *f = fdopen(fds[0], "rb");
    ck_assert_ptr_nonnull(f);
    y4m_reader rd;
    ck_assert_int_eq(y4m_reader_open(&rd, f, 1920, 1080), 0);
    ck_assert_int_eq(rd.info.fps_num, 50);
    NeuvcPicture pic;
    int n = 0, ret;
    while ((ret = y4m_read_picture(&rd, &pic)) == 1) {
        int cw = (job.w + 1) / 2;
        size_t ysz = (size_t)job.w * job.h;
        ck_assert_uint_eq(pic.data[0][0], (uint8_t)(job.seed + (uint32_t)n));
        ck_assert_uint_eq(pic.data[0][853 + 479 * 854], (uint8_t)(job.seed + (uint32_t)n + (ysz - 1) * 7));
        ck_assert_uint_eq(pic.data[1][0], (uint8_t)(job.seed + (uint32_t)n + ysz * 7));
        ck_assert_uint_eq(pic.data[2][cw + 1],
                          (uint8_t)(job.seed + (uint32_t)n + (ysz + (size_t)cw * 240 + cw + 1) * 7));
        n++;
    }
    ck_assert_int_eq(ret, 0);
    ck_assert_int_eq(n, 3);
    pthread_join(th, NULL);
    y4m_reader_close(&rd);
    fclose(f);
}
END_TEST

START_TEST(test_fmemopen)
{
    static char data[] = "YUV4MPEG2 W2 H2 F30:1 C420mpeg2\nFRAME\nABCDEF";
    FILE *f = fmemopen(data, sizeof(data) - 1, "rb");
    ck_assert_ptr_nonnull(f);
    y4m_reader rd;
    ck_assert_int_eq(y4m_reader_open(&rd, f, 0, 0), 0);
    NeuvcPicture pic;
    ck_assert_int_eq(y4m_read_picture(&rd, &pic), 1);
    ck_assert_mem_eq(pic.data[0], "ABCD", 4);
    ck_assert_uint_eq(pic.data[1][0], 'E');
    ck_assert_uint_eq(pic.data[2][0], 'F');
    ck_assert_int_eq(y4m_read_picture(&rd, &pic), 0);
    y4m_reader_close(&rd);
    fclose(f);
}
END_TEST

START_TEST(test_io_errors_and_args)
{
    /* reading from a write-only stream is a read error */
    FILE *wo = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(wo);
    y4m_reader rd;
    ck_assert_int_eq(y4m_reader_open(&rd, wo, 0, 0), NEUVC_ERR(EIO));
    ck_assert_ptr_nonnull(strstr(rd.errmsg, "read error"));
    y4m_reader_close(&rd);
    fclose(wo);
    /* writing to a read-only stream is a write error */
    FILE *ro = fopen("/dev/null", "r");
    ck_assert_ptr_nonnull(ro);
    y4m_writer wr;
    y4m_info info = { .width = 4, .height = 4, .fps_num = 25, .fps_den = 1 };
    ck_assert_int_eq(y4m_writer_open(&wr, ro, &info), NEUVC_ERR(EIO));
    fclose(ro);
    /* writer argument checks */
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    y4m_info bad = info;
    bad.width = 0;
    ck_assert_int_eq(y4m_writer_open(&wr, f, &bad), NEUVC_ERR(EINVAL));
    bad = info;
    bad.height = 65536;
    ck_assert_int_eq(y4m_writer_open(&wr, f, &bad), NEUVC_ERR(EINVAL));
    bad = info;
    bad.fps_den = 0;
    ck_assert_int_eq(y4m_writer_open(&wr, f, &bad), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(ftell(f), 0);
    ck_assert_int_eq(y4m_writer_open(&wr, f, &info), 0);
    uint8_t buf[16];
    const uint8_t *planes[3] = { buf, buf, buf };
    ptrdiff_t small[3] = { 3, 2, 2 }, ok[3] = { 4, 2, 2 };
    ck_assert_int_eq(y4m_write_frame(&wr, planes, small), NEUVC_ERR(EINVAL));
    const uint8_t *missing[3] = { buf, NULL, buf };
    ck_assert_int_eq(y4m_write_frame(&wr, missing, ok), NEUVC_ERR(EINVAL));
    memset(buf, 1, sizeof(buf));
    ck_assert_int_eq(y4m_write_frame(&wr, planes, ok), 0);
    /* reader stride check */
    rewind(f);
    ck_assert_int_eq(y4m_reader_open(&rd, f, 0, 0), 0);
    uint8_t *dst[3] = { buf, buf, buf };
    ptrdiff_t rs[3] = { 4, 1, 2 };
    ck_assert_int_eq(y4m_read_frame(&rd, dst, rs), NEUVC_ERR(EINVAL));
    rs[1] = 2;
    ck_assert_int_eq(y4m_read_frame(&rd, dst, rs), 1);
    ck_assert_int_eq(y4m_read_frame(&rd, dst, rs), 0);
    y4m_reader_close(&rd);
    fclose(f);
}
END_TEST

static Suite *y4m_suite(void)
{
    Suite *s = suite_create("y4m");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_roundtrip, 0, N_RT_SIZES);
    tcase_add_loop_test(tc, test_refused_colorspace, 0, N_REFUSED_CS);
    tcase_add_test(tc, test_accepted_headers);
    tcase_add_test(tc, test_bad_headers);
    tcase_add_test(tc, test_header_length);
    tcase_add_test(tc, test_frame_lines);
    tcase_add_test(tc, test_truncated_frame);
    tcase_add_test(tc, test_truncated_strided);
    tcase_add_test(tc, test_pipe);
    tcase_add_test(tc, test_fmemopen);
    tcase_add_test(tc, test_io_errors_and_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(y4m_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
