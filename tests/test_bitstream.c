/* The .nvc formats: byte helpers, sequence header, frame header, file
 * framing; every corruption and truncation must be refused. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bitstream.h"
#include "common/bytes.h"

static uint32_t rng_state = 4242;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static FILE *input_from(const void *data, size_t n)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    if (n)
        ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    rewind(f);
    return f;
}

/* ---------------------------------------------------------- byte helpers */

static uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

START_TEST(test_crc32)
{
    ck_assert_uint_eq(bytes_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(bytes_crc32(0, NULL, 0), 0);
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rng();
    for (size_t n = 0; n <= sizeof(buf); n += 37) {
        uint32_t whole = bytes_crc32(0, buf, n);
        ck_assert_uint_eq(whole, crc32_bitwise(buf, n));
        /* continuing over a split gives the same value */
        ck_assert_uint_eq(bytes_crc32(bytes_crc32(0, buf, n / 3), buf + n / 3, n - n / 3), whole);
    }
}
END_TEST

START_TEST(test_le_loads_stores)
{
    uint8_t b[8];
    bytes_store_u16le(b, 0xBEEF);
    ck_assert_uint_eq(b[0], 0xEF);
    ck_assert_uint_eq(b[1], 0xBE);
    ck_assert_uint_eq(bytes_load_u16le(b), 0xBEEF);
    bytes_store_u32le(b, 0x12345678u);
    ck_assert_mem_eq(b, "\x78\x56\x34\x12", 4);
    ck_assert_uint_eq(bytes_load_u32le(b), 0x12345678u);
    bytes_store_u64le(b, 0x0102030405060708ull);
    ck_assert_mem_eq(b, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
    ck_assert_uint_eq(bytes_load_u64le(b), 0x0102030405060708ull);
    static const int64_t vals[] = { 0, 1, -1, INT64_MAX, INT64_MIN, -1234567890123ll };
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        bytes_store_i64le(b, vals[i]);
        ck_assert_int_eq(bytes_load_i64le(b), vals[i]);
    }
    bytes_store_i64le(b, -2);
    ck_assert_mem_eq(b, "\xFE\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 8);
}
END_TEST

START_TEST(test_leb128)
{
    static const uint32_t vals[] = { 0, 1, 127, 128, 300, 16383, 16384, 2097151, 2097152,
                                     268435455, 268435456, 0xFFFFFFFFu };
    static const int sizes[] = { 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5 };
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        uint8_t b[8];
        ck_assert_int_eq(bytes_leb128_size(vals[i]), sizes[i]);
        ck_assert_int_eq(bytes_leb128_write(b, vals[i]), sizes[i]);
        uint32_t v = 0;
        ck_assert_int_eq(bytes_leb128_read(b, (size_t)sizes[i], &v), sizes[i]);
        ck_assert_uint_eq(v, vals[i]);
        for (int cut = 0; cut < sizes[i]; cut++)
            ck_assert_int_eq(bytes_leb128_read(b, (size_t)cut, &v), BYTES_LEB128_TRUNCATED);
    }
    uint8_t b300[] = { 0xAC, 0x02 };
    uint32_t v = 0;
    ck_assert_int_eq(bytes_leb128_read(b300, 2, &v), 2);
    ck_assert_uint_eq(v, 300);
    uint8_t six[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
    ck_assert_int_eq(bytes_leb128_read(six, 6, &v), BYTES_LEB128_TOO_LONG);
    uint8_t over[] = { 0xFF, 0xFF, 0xFF, 0xFF, 0x10 };
    ck_assert_int_eq(bytes_leb128_read(over, 5, &v), BYTES_LEB128_OVERFLOW);
    uint8_t nonmin[] = { 0x81, 0x00 };
    ck_assert_int_eq(bytes_leb128_read(nonmin, 2, &v), BYTES_LEB128_NONMINIMAL);
    uint8_t nonmin5[] = { 0x80, 0x80, 0x80, 0x80, 0x00 };
    ck_assert_int_eq(bytes_leb128_read(nonmin5, 5, &v), BYTES_LEB128_NONMINIMAL);
    ck_assert_ptr_nonnull(bytes_leb128_strerror(BYTES_LEB128_TOO_LONG));
}
END_TEST

/* ------------------------------------------------------ sequence header */

static nvc_seq_header sample_seq(void)
{
    nvc_seq_header h;
    memset(&h, 0, sizeof(h));
    h.width = 1296;
    h.height = 721;
    h.fps_num = 30000;
    h.fps_den = 1001;
    h.flags = 0;
    strcpy(h.model_id, "neuvc-rt-v1");
    memcpy(h.model_fp, "\x01\x23\x45\x67\x89\xAB\xCD\xEF", 8);
    return h;
}

static void make_seq(uint8_t buf[NVC_SEQ_HEADER_SIZE])
{
    nvc_seq_header h = sample_seq();
    ck_assert_int_eq(nvc_seq_header_write(&h, buf, NVC_SEQ_HEADER_SIZE, NULL, 0),
                     NVC_SEQ_HEADER_SIZE);
}

static void reseal(uint8_t *buf)
{
    bytes_store_u32le(buf + 96, bytes_crc32(0, buf, 96));
}

START_TEST(test_seq_roundtrip)
{
    nvc_seq_header h = sample_seq(), out;
    uint8_t buf[NVC_SEQ_HEADER_SIZE + 10];
    char msg[NVC_ERRMSG_SIZE];
    ck_assert_int_eq(nvc_seq_header_write(&h, buf, sizeof(buf), msg, sizeof(msg)), NVC_SEQ_HEADER_SIZE);
    ck_assert_mem_eq(buf, "NVC1\x01\x00\x64\x00", 8);
    ck_assert_uint_eq(bytes_load_u16le(buf + 8), 1296);
    ck_assert_uint_eq(bytes_load_u16le(buf + 10), 721);
    ck_assert_mem_eq(buf + 24, h.model_fp, 8);
    ck_assert_str_eq((const char *)buf + 32, "neuvc-rt-v1");
    memset(&out, 0x55, sizeof(out));
    /* trailing bytes after the header are not looked at */
    ck_assert_int_eq(nvc_seq_header_parse(&out, buf, sizeof(buf), 0, 0, msg, sizeof(msg)),
                     NVC_SEQ_HEADER_SIZE);
    ck_assert_int_eq(out.width, 1296);
    ck_assert_int_eq(out.height, 721);
    ck_assert_int_eq(out.fps_num, 30000);
    ck_assert_int_eq(out.fps_den, 1001);
    ck_assert_uint_eq(out.flags, 0);
    ck_assert_str_eq(out.model_id, "neuvc-rt-v1");
    ck_assert_mem_eq(out.model_fp, h.model_fp, 8);

    /* extremes: 65535 x 1, INT32_MAX frame rate, a 63-character id */
    h.width = 65535;
    h.height = 1;
    h.fps_num = INT32_MAX;
    h.fps_den = INT32_MAX;
    memset(h.model_id, '~', NVC_MODEL_ID_MAX);
    h.model_id[0] = ' ';
    h.model_id[NVC_MODEL_ID_MAX] = '\0';
    ck_assert_int_eq(nvc_seq_header_write(&h, buf, NVC_SEQ_HEADER_SIZE, NULL, 0), NVC_SEQ_HEADER_SIZE);
    ck_assert_int_eq(nvc_seq_header_parse(&out, buf, NVC_SEQ_HEADER_SIZE, 0, 0, NULL, 0),
                     NVC_SEQ_HEADER_SIZE);
    ck_assert_int_eq(out.width, 65535);
    ck_assert_int_eq(out.height, 1);
    ck_assert_int_eq(out.fps_num, INT32_MAX);
    ck_assert_str_eq(out.model_id, h.model_id);
    /* limits: equal passes, one above is ERANGE */
    ck_assert_int_eq(nvc_seq_header_parse(&out, buf, NVC_SEQ_HEADER_SIZE, 65535, 1, NULL, 0),
                     NVC_SEQ_HEADER_SIZE);
    ck_assert_int_eq(nvc_seq_header_parse(&out, buf, NVC_SEQ_HEADER_SIZE, 65534, 0, msg, sizeof(msg)),
                     NEUVC_ERR(ERANGE));
    ck_assert_ptr_nonnull(strstr(msg, "65535"));
}
END_TEST

/* One corruption of a valid header per entry; the CRC is recomputed
 * afterwards unless the entry is about the CRC itself. */
typedef struct seq_corruption {
    const char *name;
    int offset;               /* byte to change */
    int len;                  /* bytes written from data */
    const char *data;
    int reseal;
    int err;
    const char *msg;          /* text the message must contain */
} seq_corruption;

static const seq_corruption seq_bad[] = {
    { "magic", 0, 4, "NVC2", 1, NEUVC_ERR_INVALIDDATA, "magic" },
    { "magic lowercase", 0, 1, "n", 1, NEUVC_ERR_INVALIDDATA, "magic" },
    { "version 0", 4, 2, "\x00\x00", 1, NEUVC_ERR_INVALIDDATA, "version" },
    { "version 2", 4, 2, "\x02\x00", 1, NEUVC_ERR(ENOSYS), "version" },
    { "version 256", 4, 2, "\x00\x01", 1, NEUVC_ERR(ENOSYS), "version" },
    { "size 99", 6, 2, "\x63\x00", 1, NEUVC_ERR_INVALIDDATA, "size" },
    { "size 101", 6, 2, "\x65\x00", 1, NEUVC_ERR_INVALIDDATA, "size" },
    { "size 0", 6, 2, "\x00\x00", 1, NEUVC_ERR_INVALIDDATA, "size" },
    { "size 65535", 6, 2, "\xFF\xFF", 1, NEUVC_ERR_INVALIDDATA, "size" },
    { "width 0", 8, 2, "\x00\x00", 1, NEUVC_ERR_INVALIDDATA, "size 0x" },
    { "height 0", 10, 2, "\x00\x00", 1, NEUVC_ERR_INVALIDDATA, "x0 " },
    { "width over limit", 8, 2, "\x81\x07", 1, NEUVC_ERR(ERANGE), "1921" },
    { "height over limit", 10, 2, "\x39\x04", 1, NEUVC_ERR(ERANGE), "1081" },
    { "fps num 0", 12, 4, "\x00\x00\x00\x00", 1, NEUVC_ERR_INVALIDDATA, "frame rate" },
    { "fps den 0", 16, 4, "\x00\x00\x00\x00", 1, NEUVC_ERR_INVALIDDATA, "frame rate" },
    { "fps num 2^31", 12, 4, "\x00\x00\x00\x80", 1, NEUVC_ERR_INVALIDDATA, "frame rate" },
    { "fps den 2^32-1", 16, 4, "\xFF\xFF\xFF\xFF", 1, NEUVC_ERR_INVALIDDATA, "frame rate" },
    { "flag bit 0", 20, 1, "\x01", 1, NEUVC_ERR_INVALIDDATA, "reserved" },
    { "flag bit 31", 23, 1, "\x80", 1, NEUVC_ERR_INVALIDDATA, "reserved" },
    { "model id empty", 32, 1, "\x00", 0, NEUVC_ERR_INVALIDDATA, "empty model id" },
    { "model id tab", 33, 1, "\t", 1, NEUVC_ERR_INVALIDDATA, "non-printable" },
    { "model id DEL", 32, 1, "\x7F", 1, NEUVC_ERR_INVALIDDATA, "non-printable" },
    { "model id 0xC3", 34, 1, "\xC3", 1, NEUVC_ERR_INVALIDDATA, "non-printable" },
    { "model id padding", 95, 1, "x", 1, NEUVC_ERR_INVALIDDATA, "padding" },
    { "crc", 96, 1, "\x00", 0, NEUVC_ERR_INVALIDDATA, "CRC" },
    { "crc of changed field", 8, 1, "\x11", 0, NEUVC_ERR_INVALIDDATA, "CRC" },
};
#define N_SEQ_BAD ((int)(sizeof(seq_bad) / sizeof(seq_bad[0])))

START_TEST(test_seq_corrupt_field)
{
    const seq_corruption *c = &seq_bad[_i];
    uint8_t buf[NVC_SEQ_HEADER_SIZE];
    make_seq(buf);
    if (c->offset != 96)
        memcpy(buf + c->offset, c->data, (size_t)c->len);
    if (c->offset == 32 && c->len == 1 && c->data[0] == 0) {
        memset(buf + 32, 0, 64);          /* an empty id: all padding */
        reseal(buf);
    } else if (c->reseal) {
        reseal(buf);
    } else if (c->offset == 96) {
        buf[96] ^= 0x5A;                  /* break the stored CRC */
    }
    nvc_seq_header out = sample_seq(), before = out;
    out.width = 77;
    before.width = 77;
    char msg[NVC_ERRMSG_SIZE] = "";
    int ret = nvc_seq_header_parse(&out, buf, sizeof(buf), 1920, 1080, msg, sizeof(msg));
    ck_assert_msg(ret == c->err, "%s: got %d, expected %d (%s)", c->name, ret, c->err, msg);
    ck_assert_msg(strstr(msg, c->msg) != NULL, "%s: message '%s' lacks '%s'", c->name, msg, c->msg);
    ck_assert_msg(!memcmp(&out, &before, sizeof(out)), "%s: output changed on failure", c->name);
}
END_TEST

START_TEST(test_seq_model_id_too_long)
{
    uint8_t buf[NVC_SEQ_HEADER_SIZE];
    make_seq(buf);
    memset(buf + 32, 'a', 64);            /* no terminating zero */
    reseal(buf);
    nvc_seq_header out;
    char msg[NVC_ERRMSG_SIZE];
    ck_assert_int_eq(nvc_seq_header_parse(&out, buf, sizeof(buf), 0, 0, msg, sizeof(msg)),
                     NEUVC_ERR_INVALIDDATA);
    ck_assert_ptr_nonnull(strstr(msg, "longer"));
    memset(buf + 32 + 63, 0, 1);          /* 63 characters is the maximum */
    reseal(buf);
    ck_assert_int_eq(nvc_seq_header_parse(&out, buf, sizeof(buf), 0, 0, msg, sizeof(msg)),
                     NVC_SEQ_HEADER_SIZE);
    ck_assert_uint_eq(strlen(out.model_id), 63);
}
END_TEST

START_TEST(test_seq_truncations_and_bitflips)
{
    uint8_t buf[NVC_SEQ_HEADER_SIZE];
    make_seq(buf);
    nvc_seq_header out;
    char msg[NVC_ERRMSG_SIZE];
    for (size_t n = 0; n < NVC_SEQ_HEADER_SIZE; n++) {
        /* a copy of exactly n bytes, so that ASan sees any read past it */
        uint8_t *cut = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(cut);
        memcpy(cut, buf, n);
        int ret = nvc_seq_header_parse(&out, cut, n, 0, 0, msg, sizeof(msg));
        ck_assert_msg(ret == NEUVC_ERR_INVALIDDATA, "length %zu: %d", n, ret);
        ck_assert_msg(strstr(msg, "truncated") != NULL, "length %zu: '%s'", n, msg);
        free(cut);
    }
    ck_assert_int_eq(nvc_seq_header_parse(&out, NULL, 0, 0, 0, NULL, 0), NEUVC_ERR_INVALIDDATA);
    for (int bit = 0; bit < NVC_SEQ_HEADER_SIZE * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        int ret = nvc_seq_header_parse(&out, buf, sizeof(buf), 0, 0, NULL, 0);
        ck_assert_msg(ret < 0, "bit %d flipped: accepted", bit);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    ck_assert_int_eq(nvc_seq_header_parse(&out, buf, sizeof(buf), 0, 0, NULL, 0), NVC_SEQ_HEADER_SIZE);
}
END_TEST

START_TEST(test_seq_write_refuses)
{
    uint8_t buf[NVC_SEQ_HEADER_SIZE];
    char msg[NVC_ERRMSG_SIZE];
    nvc_seq_header h = sample_seq();
    ck_assert_int_eq(nvc_seq_header_write(&h, buf, NVC_SEQ_HEADER_SIZE - 1, NULL, 0), NEUVC_ERR(EINVAL));
    h.width = 0;
    ck_assert_int_eq(nvc_seq_header_write(&h, buf, sizeof(buf), msg, sizeof(msg)), NEUVC_ERR(EINVAL));
    h = sample_seq();
    h.height = 65536;
    ck_assert_int_eq(nvc_seq_header_write(&h, buf, sizeof(buf), NULL, 0), NEUVC_ERR(EINVAL));
    h = sample_seq();
    h.fps_den = 0;
    ck_assert_int_eq(nvc_seq_header_write(&h, buf, sizeof(buf), NULL, 0), NEUVC_ERR(EINVAL));
    h = sample_seq();
    h.flags = 4;
    ck_assert_int_eq(nvc_seq_header_write(&h, buf, sizeof(buf), NULL, 0), NEUVC_ERR(EINVAL));
    h = sample_seq();
    h.model_id[0] = '\0';
    ck_assert_int_eq(nvc_seq_header_write(&h, buf, sizeof(buf), NULL, 0), NEUVC_ERR(EINVAL));
    h = sample_seq();
    h.model_id[2] = '\n';
    ck_assert_int_eq(nvc_seq_header_write(&h, buf, sizeof(buf), msg, sizeof(msg)), NEUVC_ERR(EINVAL));
    ck_assert_ptr_nonnull(strstr(msg, "non-printable"));
    h = sample_seq();
    memset(h.model_id, 'z', sizeof(h.model_id));   /* unterminated */
    ck_assert_int_eq(nvc_seq_header_write(&h, buf, sizeof(buf), NULL, 0), NEUVC_ERR(EINVAL));
}
END_TEST

/* --------------------------------------------------------- frame header */

/* Builds a payload with n sub-streams of the given sizes, filled with
 * bytes derived from their index; returns its size (buffer from malloc). */
static uint8_t *make_frame_opt(int type, int qp, unsigned flags, int frame_num, int band,
                               int guard, int n, const size_t *sizes, size_t *out_size)
{
    nvc_frame_header fh;
    memset(&fh, 0, sizeof(fh));
    fh.type = (NeuvcFrameType)type;
    fh.qp = qp;
    fh.flags = flags;
    fh.num_substreams = n;
    fh.frame_num = frame_num;
    fh.refresh_band = band;
    fh.refresh_guard = guard;
    fh.refresh_qp = qp;
    uint8_t *subs[NVC_MAX_SUBSTREAMS] = { 0 };
    for (int i = 0; i < n; i++) {
        subs[i] = malloc(sizes[i] ? sizes[i] : 1);
        ck_assert_ptr_nonnull(subs[i]);
        for (size_t k = 0; k < sizes[i]; k++)
            subs[i][k] = (uint8_t)(i * 31 + (int)k);
        fh.substream[i] = subs[i];
        fh.substream_size[i] = sizes[i];
    }
    size_t total = nvc_frame_payload_size(&fh);
    ck_assert_uint_gt(total, 0);
    uint8_t *buf = malloc(total);
    ck_assert_ptr_nonnull(buf);
    size_t written = 0;
    ck_assert_int_eq(nvc_frame_write(&fh, buf, total, &written), 0);
    ck_assert_uint_eq(written, total);
    /* too small a buffer is refused */
    ck_assert_int_eq(nvc_frame_write(&fh, buf, total - 1, &written), NEUVC_ERR(EINVAL));
    for (int i = 0; i < n; i++)
        free(subs[i]);
    *out_size = total;
    return buf;
}

static uint8_t *make_frame(int type, int qp, unsigned flags, int n, const size_t *sizes,
                           size_t *out_size)
{
    return make_frame_opt(type, qp, flags, 0, 0, 0, n, sizes, out_size);
}

static void check_substreams(const nvc_frame_header *fh, const uint8_t *payload, size_t size,
                             int n, const size_t *sizes)
{
    ck_assert_int_eq(fh->num_substreams, n);
    const uint8_t *expect = payload + size;
    for (int i = n - 1; i >= 0; i--) {
        expect -= sizes[i];
        ck_assert_uint_eq(fh->substream_size[i], sizes[i]);
        ck_assert_ptr_eq(fh->substream[i], expect);
        for (size_t k = 0; k < sizes[i]; k++)
            ck_assert_uint_eq(fh->substream[i][k], (uint8_t)(i * 31 + (int)k));
    }
}

START_TEST(test_frame_roundtrip)
{
    size_t sizes[NVC_MAX_SUBSTREAMS];
    /* one sub-stream */
    sizes[0] = 10;
    size_t size;
    uint8_t *p = make_frame(NEUVC_FRAME_I, 0, 0, 1, sizes, &size);
    ck_assert_uint_eq(size, 4 + 1 + 10);
    ck_assert_mem_eq(p, "\x00\x00\x00\x01\x0A", 5);
    nvc_frame_header fh;
    ck_assert_int_eq(nvc_frame_header_parse(&fh, p, size, NULL, 0), 0);
    ck_assert_int_eq(fh.type, NEUVC_FRAME_I);
    ck_assert_int_eq(fh.qp, 0);
    ck_assert_uint_eq(fh.flags, 0);
    check_substreams(&fh, p, size, 1, sizes);
    free(p);
    /* several, with empty ones and multi-byte sizes */
    size_t mixed[] = { 0, 127, 128, 0, 20000, 1, 0 };
    p = make_frame(NEUVC_FRAME_P, 63, 0, 7, mixed, &size);
    ck_assert_int_eq(nvc_frame_header_parse(&fh, p, size, NULL, 0), 0);
    ck_assert_int_eq(fh.type, NEUVC_FRAME_P);
    ck_assert_int_eq(fh.qp, 63);
    ck_assert_uint_eq(fh.flags, 0);
    check_substreams(&fh, p, size, 7, mixed);
    free(p);
    /* the optional fields: frame_num, then refresh band and guard (LE u16) */
    p = make_frame_opt(NEUVC_FRAME_P, 20, NVC_FRAME_FLAG_INTRA_REFRESH | NVC_FRAME_FLAG_FRAME_NUM,
                       201, 0x1234, 5, 7, mixed, &size);
    ck_assert_mem_eq(p, "\x01\x14\x03\x07\xC9\x34\x12\x05\x00\x14", 10);
    ck_assert_int_eq(nvc_frame_header_parse(&fh, p, size, NULL, 0), 0);
    ck_assert_uint_eq(fh.flags, NVC_FRAME_FLAG_INTRA_REFRESH | NVC_FRAME_FLAG_FRAME_NUM);
    ck_assert_int_eq(fh.frame_num, 201);
    ck_assert_int_eq(fh.refresh_band, 0x1234);
    ck_assert_int_eq(fh.refresh_guard, 5);
    ck_assert_int_eq(fh.refresh_qp, 20);
    check_substreams(&fh, p, size, 7, mixed);
    free(p);
    p = make_frame_opt(NEUVC_FRAME_I, 20, NVC_FRAME_FLAG_FRAME_NUM, 7, 0, 0, 7, mixed, &size);
    ck_assert_int_eq(nvc_frame_header_parse(&fh, p, size, NULL, 0), 0);
    ck_assert_int_eq(fh.frame_num, 7);
    check_substreams(&fh, p, size, 7, mixed);
    free(p);
    /* the most sub-streams */
    for (int i = 0; i < NVC_MAX_SUBSTREAMS; i++)
        sizes[i] = (size_t)(rng() % 300);
    p = make_frame(NEUVC_FRAME_P, 31, 0, NVC_MAX_SUBSTREAMS, sizes, &size);
    ck_assert_int_eq(nvc_frame_header_parse(&fh, p, size, NULL, 0), 0);
    check_substreams(&fh, p, size, NVC_MAX_SUBSTREAMS, sizes);
    free(p);
}
END_TEST

/* Every proper prefix of a valid payload, and the payload with one byte
 * more, is refused. */
START_TEST(test_frame_truncations)
{
    size_t sizes[] = { 3, 200, 0, 5 };
    size_t size;
    uint8_t *p = make_frame_opt(NEUVC_FRAME_P, 40, NVC_FRAME_FLAGS_KNOWN, 9, 3, 5, 4, sizes, &size);
    nvc_frame_header fh;
    for (size_t n = 0; n < size; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(cut);
        memcpy(cut, p, n);
        int ret = nvc_frame_header_parse(&fh, cut, n, NULL, 0);
        ck_assert_msg(ret == NEUVC_ERR_INVALIDDATA, "length %zu of %zu accepted: %d", n, size, ret);
        free(cut);
    }
    uint8_t *longer = malloc(size + 1);
    ck_assert_ptr_nonnull(longer);
    memcpy(longer, p, size);
    longer[size] = 0;
    char msg[NVC_ERRMSG_SIZE];
    ck_assert_int_eq(nvc_frame_header_parse(&fh, longer, size + 1, msg, sizeof(msg)),
                     NEUVC_ERR_INVALIDDATA);
    ck_assert_ptr_nonnull(strstr(msg, "follow"));
    ck_assert_int_eq(nvc_frame_header_parse(&fh, p, size, NULL, 0), 0);
    free(longer);
    free(p);
}
END_TEST

/* Parses a hand-made payload; expects INVALIDDATA with msg in the text. */
static void expect_frame_bad(const uint8_t *data, size_t n, const char *msg)
{
    uint8_t *copy = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, data, n);
    nvc_frame_header fh;
    char text[NVC_ERRMSG_SIZE] = "";
    int ret = nvc_frame_header_parse(&fh, copy, n, text, sizeof(text));
    ck_assert_msg(ret == NEUVC_ERR_INVALIDDATA, "'%s' case: got %d", msg, ret);
    ck_assert_msg(strstr(text, msg) != NULL, "message '%s' lacks '%s'", text, msg);
    free(copy);
}

#define BAD(msg, ...) do { \
        static const uint8_t d_[] = { __VA_ARGS__ }; \
        expect_frame_bad(d_, sizeof(d_), msg); \
    } while (0)

START_TEST(test_frame_bad_values)
{
    /* valid reference: I, qp 0, no flags, one sub-stream of 2 bytes */
    static const uint8_t ok[] = { 0, 0, 0, 1, 2, 0xAA, 0xBB };
    nvc_frame_header fh;
    ck_assert_int_eq(nvc_frame_header_parse(&fh, ok, sizeof(ok), NULL, 0), 0);

    BAD("frame type 7", 7, 0, 0, 1, 2, 0xAA, 0xBB);
    BAD("frame type 2", 2, 0, 0, 1, 2, 0xAA, 0xBB);
    BAD("frame type 255", 255, 0, 0, 1, 2, 0xAA, 0xBB);
    BAD("qp 64", 0, 64, 0, 1, 2, 0xAA, 0xBB);
    BAD("qp 255", 1, 255, 0, 1, 2, 0xAA, 0xBB);
    BAD("reserved flags 0x04", 0, 0, 4, 1, 2, 0xAA, 0xBB);
    BAD("intra refresh flag on an I frame", 0, 0, 1, 1, 0, 0, 0, 0, 0, 2, 0xAA, 0xBB);
    BAD("refresh qp 64", 1, 0, 1, 1, 0, 0, 0, 0, 64, 2, 0xAA, 0xBB);
    BAD("truncated", 1, 0, 3, 1, 0, 0, 0, 0, 0);
    BAD("truncated", 1, 0, 2, 1);
    BAD("reserved flags 0x80", 0, 0, 0x80, 1, 2, 0xAA, 0xBB);
    BAD("zero sub-streams", 0, 0, 0, 0);
    BAD("zero sub-streams", 0, 0, 0, 0, 0xAA);
    /* one sub-stream claiming one byte more than there is */
    BAD("overflows", 0, 0, 0, 1, 3, 0xAA, 0xBB);
    /* a size of 2^32-1 in a tiny payload */
    BAD("overflows", 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0xAA);
    /* two sizes, each within the payload, whose sum is not */
    BAD("overflows", 0, 0, 0, 2, 2, 2, 0xAA, 0xBB);
    /* sizes adding up to less than the rest */
    BAD("follow", 0, 0, 0, 2, 1, 0, 0xAA, 0xBB);
    /* more sub-streams announced than sizes present */
    BAD("cut off", 0, 0, 0, 3, 0, 0);
    /* varints: 6 bytes, above 32 bits, non-minimal, cut off */
    BAD("longer than 5", 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0xAA);
    BAD("above 2^32", 0, 0, 0, 1, 0x81, 0x80, 0x80, 0x80, 0x10, 0xAA);
    BAD("not minimally", 0, 0, 0, 1, 0x82, 0x00, 0xAA, 0xBB);
    BAD("cut off", 0, 0, 0, 1, 0x82);
    BAD("truncated", 0, 0, 0);
}
END_TEST

START_TEST(test_frame_write_refuses)
{
    nvc_frame_header fh;
    memset(&fh, 0, sizeof(fh));
    static const uint8_t sub[4] = { 1, 2, 3, 4 };
    fh.type = NEUVC_FRAME_P;
    fh.qp = 10;
    fh.num_substreams = 1;
    fh.substream[0] = sub;
    fh.substream_size[0] = 4;
    uint8_t buf[64];
    size_t w;
    ck_assert_int_eq(nvc_frame_header_size(&fh), 5);
    ck_assert_int_eq(nvc_frame_header_write(&fh, buf, 5, &w), 0);
    ck_assert_uint_eq(w, 5);
    ck_assert_int_eq(nvc_frame_header_write(&fh, buf, 4, &w), NEUVC_ERR(EINVAL));
    nvc_frame_header bad = fh;
    bad.type = (NeuvcFrameType)2;
    ck_assert_int_eq(nvc_frame_write(&bad, buf, sizeof(buf), &w), NEUVC_ERR(EINVAL));
    ck_assert_uint_eq(nvc_frame_payload_size(&bad), 0);
    bad = fh;
    bad.qp = 64;
    ck_assert_int_eq(nvc_frame_write(&bad, buf, sizeof(buf), &w), NEUVC_ERR(EINVAL));
    bad.qp = -1;
    ck_assert_int_eq(nvc_frame_write(&bad, buf, sizeof(buf), &w), NEUVC_ERR(EINVAL));
    bad = fh;
    bad.flags = 4;
    ck_assert_int_eq(nvc_frame_write(&bad, buf, sizeof(buf), &w), NEUVC_ERR(EINVAL));
    bad = fh;
    bad.flags = NVC_FRAME_FLAG_FRAME_NUM;
    bad.frame_num = 256;
    ck_assert_int_eq(nvc_frame_write(&bad, buf, sizeof(buf), &w), NEUVC_ERR(EINVAL));
    bad = fh;
    bad.flags = NVC_FRAME_FLAG_INTRA_REFRESH;
    bad.refresh_guard = NVC_REFRESH_MAX + 1;
    ck_assert_int_eq(nvc_frame_write(&bad, buf, sizeof(buf), &w), NEUVC_ERR(EINVAL));
    bad.refresh_guard = 0;
    bad.refresh_qp = 64;
    ck_assert_int_eq(nvc_frame_write(&bad, buf, sizeof(buf), &w), NEUVC_ERR(EINVAL));
    bad.refresh_qp = 0;
    bad.type = NEUVC_FRAME_I;
    ck_assert_int_eq(nvc_frame_write(&bad, buf, sizeof(buf), &w), NEUVC_ERR(EINVAL));
    bad = fh;
    bad.num_substreams = 0;
    ck_assert_int_eq(nvc_frame_write(&bad, buf, sizeof(buf), &w), NEUVC_ERR(EINVAL));
    bad.num_substreams = 256;
    ck_assert_int_eq(nvc_frame_write(&bad, buf, sizeof(buf), &w), NEUVC_ERR(EINVAL));
    bad = fh;
    bad.substream[0] = NULL;
    ck_assert_int_eq(nvc_frame_write(&bad, buf, sizeof(buf), &w), NEUVC_ERR(EINVAL));
    bad = fh;
    bad.substream_size[0] = (size_t)UINT32_MAX;
    ck_assert_int_eq(nvc_frame_write(&bad, buf, sizeof(buf), &w), NEUVC_ERR(ERANGE));
    ck_assert_int_eq(nvc_frame_write(&fh, buf, sizeof(buf), &w), 0);
    ck_assert_uint_eq(w, 9);
    ck_assert_mem_eq(buf, "\x01\x0A\x00\x01\x04\x01\x02\x03\x04", 9);
}
END_TEST

/* ----------------------------------------------------- .nvc file framing */

/* A file image: sequence header and npk packets of sizes 1, 300, 70000,
 * ... with pts -5, 0, 5, ... built through nvc_writer. */
static uint8_t *make_file(int npk, size_t *size)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    ck_assert_ptr_nonnull(f);
    uint8_t seq[NVC_SEQ_HEADER_SIZE];
    make_seq(seq);
    nvc_writer w;
    ck_assert_int_eq(nvc_writer_open(&w, f, seq, sizeof(seq)), 0);
    static const size_t psizes[] = { 1, 300, 70000, 20 };
    uint8_t *payload = malloc(70000);
    ck_assert_ptr_nonnull(payload);
    for (int i = 0; i < npk; i++) {
        size_t ps = psizes[i % 4];
        for (size_t k = 0; k < ps; k++)
            payload[k] = (uint8_t)(i + (int)k * 3);
        ck_assert_int_eq(nvc_write_packet(&w, payload, ps, -5 + 5 * (int64_t)i), 0);
    }
    free(payload);
    ck_assert_int_eq(w.packets_written, npk);
    ck_assert_int_eq(fclose(f), 0);
    *size = len;
    return (uint8_t *)mem;
}

/* Reads every packet; returns the final code, packets read in *count. */
static int read_all(FILE *f, size_t max_packet, int *count, char *msg, size_t *max_cap)
{
    nvc_reader r;
    int ret = nvc_reader_open(&r, f, 1920, 1080, max_packet);
    *count = 0;
    if (ret == 0) {
        const uint8_t *data;
        size_t size;
        int64_t pts;
        static const size_t psizes[] = { 1, 300, 70000, 20 };
        while ((ret = nvc_read_packet(&r, &data, &size, &pts)) == 1) {
            int i = *count;
            ck_assert_uint_eq(size, psizes[i % 4]);
            ck_assert_int_eq(pts, -5 + 5 * (int64_t)i);
            ck_assert_uint_eq(data[0], (uint8_t)i);
            ck_assert_uint_eq(data[size - 1], (uint8_t)(i + (int)(size - 1) * 3));
            (*count)++;
        }
        if (ret == 0)   /* the end stays the end */
            ck_assert_int_eq(nvc_read_packet(&r, &data, &size, &pts), 0);
        else            /* errors are sticky */
            ck_assert_int_eq(nvc_read_packet(&r, &data, &size, &pts), ret);
    }
    if (msg)
        strcpy(msg, r.errmsg);
    if (max_cap)
        *max_cap = r.buf_cap;
    nvc_reader_close(&r);
    return ret;
}

START_TEST(test_file_roundtrip)
{
    size_t size;
    uint8_t *img = make_file(6, &size);
    ck_assert_uint_eq(size, NVC_SEQ_HEADER_SIZE + 6 * 12 + 1 + 300 + 70000 + 20 + 1 + 300);
    FILE *f = input_from(img, size);
    int count;
    size_t cap;
    ck_assert_int_eq(read_all(f, 0, &count, NULL, &cap), 0);
    ck_assert_int_eq(count, 6);
    ck_assert_uint_eq(cap, 70000);   /* grown to the largest packet, no further */
    fclose(f);
    /* a packet exactly at the limit is read */
    f = input_from(img, size);
    ck_assert_int_eq(read_all(f, 70000, &count, NULL, NULL), 0);
    ck_assert_int_eq(count, 6);
    fclose(f);
    /* a file of the header alone: clean end at once */
    f = input_from(img, NVC_SEQ_HEADER_SIZE);
    ck_assert_int_eq(read_all(f, 0, &count, NULL, NULL), 0);
    ck_assert_int_eq(count, 0);
    fclose(f);
    /* the header as read is kept */
    f = input_from(img, size);
    nvc_reader r;
    ck_assert_int_eq(nvc_reader_open(&r, f, 0, 0, 0), 0);
    ck_assert_mem_eq(r.seq_raw, img, NVC_SEQ_HEADER_SIZE);
    ck_assert_str_eq(r.seq.model_id, "neuvc-rt-v1");
    ck_assert_int_eq(r.seq.width, 1296);
    nvc_reader_close(&r);
    fclose(f);
    free(img);
}
END_TEST

/* Every cut of the file is a clean end when it falls on a packet boundary
 * and an error otherwise. */
START_TEST(test_file_truncations)
{
    size_t size;
    uint8_t *img = make_file(4, &size);
    size_t bounds[5];
    bounds[0] = NVC_SEQ_HEADER_SIZE;
    static const size_t psizes[] = { 1, 300, 70000, 20 };
    for (int i = 0; i < 4; i++)
        bounds[i + 1] = bounds[i] + 12 + psizes[i];
    ck_assert_uint_eq(bounds[4], size);
    /* every length up to the third packet's header, then a sample of the
     * large payload (every byte would be slow) */
    for (size_t cut = 0; cut <= size; cut += (cut > bounds[2] + 16 && cut < bounds[3] - 16) ? 997 : 1) {
        int boundary = -1;
        for (int i = 0; i < 5; i++)
            if (cut == bounds[i])
                boundary = i;
        FILE *f = input_from(img, cut);
        int count;
        char msg[NVC_ERRMSG_SIZE];
        int ret = read_all(f, 0, &count, msg, NULL);
        if (boundary >= 0) {
            ck_assert_msg(ret == 0, "cut %zu: %d (%s)", cut, ret, msg);
            ck_assert_int_eq(count, boundary);
        } else {
            ck_assert_msg(ret == NEUVC_ERR_INVALIDDATA, "cut %zu: %d", cut, ret);
            ck_assert_msg(strstr(msg, "truncated") != NULL || strstr(msg, "empty") != NULL,
                          "cut %zu: '%s'", cut, msg);
        }
        fclose(f);
    }
    free(img);
}
END_TEST

/* A file whose third packet header is replaced by (size, pts 0). */
static FILE *file_with_size(uint32_t psize, size_t keep_after)
{
    size_t size;
    uint8_t *img = make_file(4, &size);
    size_t at = NVC_SEQ_HEADER_SIZE + 12 + 1 + 12 + 300;
    bytes_store_u32le(img + at, psize);
    size_t n = at + 12 + keep_after;
    FILE *f = input_from(img, n < size ? n : size);
    free(img);
    return f;
}

START_TEST(test_file_bad_sizes)
{
    int count;
    char msg[NVC_ERRMSG_SIZE];
    size_t cap;
    /* above the caller's limit: ERANGE, before reading any payload */
    FILE *f = file_with_size(70000, 70000);
    ck_assert_int_eq(read_all(f, 69999, &count, msg, NULL), NEUVC_ERR(ERANGE));
    ck_assert_int_eq(count, 2);
    ck_assert_ptr_nonnull(strstr(msg, "limit"));
    fclose(f);
    f = file_with_size(0xFFFFFFFFu, 10);
    ck_assert_int_eq(read_all(f, 1 << 20, &count, msg, NULL), NEUVC_ERR(ERANGE));
    fclose(f);
    /* within the limit but larger than the file: truncation, and the
     * buffer stays near the bytes present */
    f = file_with_size(200u << 20, 10);
    ck_assert_int_eq(read_all(f, 0, &count, msg, &cap), NEUVC_ERR_INVALIDDATA);
    ck_assert_int_eq(count, 2);
    ck_assert_ptr_nonnull(strstr(msg, "truncated"));
    ck_assert_uint_le(cap, 1 << 17);
    fclose(f);
    /* zero size */
    f = file_with_size(0, 70000);
    ck_assert_int_eq(read_all(f, 0, &count, msg, NULL), NEUVC_ERR_INVALIDDATA);
    ck_assert_ptr_nonnull(strstr(msg, "size 0"));
    fclose(f);
}
END_TEST

START_TEST(test_file_bad_header)
{
    nvc_reader r;
    FILE *f = input_from("", 0);
    ck_assert_int_eq(nvc_reader_open(&r, f, 0, 0, 0), NEUVC_ERR_INVALIDDATA);
    ck_assert_ptr_nonnull(strstr(r.errmsg, "empty"));
    nvc_reader_close(&r);
    fclose(f);
    f = input_from("YUV4MPEG2 W2 H2\n", 16);
    ck_assert_int_eq(nvc_reader_open(&r, f, 0, 0, 0), NEUVC_ERR_INVALIDDATA);
    ck_assert_ptr_nonnull(strstr(r.errmsg, "magic"));
    fclose(f);
    uint8_t seq[NVC_SEQ_HEADER_SIZE];
    make_seq(seq);
    f = input_from(seq, sizeof(seq));
    ck_assert_int_eq(nvc_reader_open(&r, f, 1280, 720, 0), NEUVC_ERR(ERANGE));
    fclose(f);
    seq[40] ^= 1;
    f = input_from(seq, sizeof(seq));
    ck_assert_int_eq(nvc_reader_open(&r, f, 0, 0, 0), NEUVC_ERR_INVALIDDATA);
    ck_assert_ptr_nonnull(strstr(r.errmsg, "CRC"));
    fclose(f);
    /* the writer refuses an invalid header and writes nothing */
    FILE *o = tmpfile();
    ck_assert_ptr_nonnull(o);
    nvc_writer w;
    ck_assert_int_eq(nvc_writer_open(&w, o, seq, sizeof(seq)), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(ftell(o), 0);
    seq[40] ^= 1;
    ck_assert_int_eq(nvc_writer_open(&w, o, seq, sizeof(seq) - 1), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_writer_open(&w, o, seq, sizeof(seq)), 0);
    ck_assert_int_eq(nvc_write_packet(&w, seq, 0, 0), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_write_packet(&w, NULL, 4, 0), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(ftell(o), NVC_SEQ_HEADER_SIZE);
    fclose(o);
    /* read and write errors */
    FILE *wo = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(wo);
    ck_assert_int_eq(nvc_reader_open(&r, wo, 0, 0, 0), NEUVC_ERR(EIO));
    fclose(wo);
    FILE *ro = fopen("/dev/null", "r");
    ck_assert_ptr_nonnull(ro);
    ck_assert_int_eq(nvc_writer_open(&w, ro, seq, sizeof(seq)), NEUVC_ERR(EIO));
    fclose(ro);
}
END_TEST

typedef struct pipe_job {
    int fd;
    const uint8_t *data;
    size_t size;
} pipe_job;

static void *pipe_writer(void *arg)
{
    pipe_job *job = arg;
    size_t off = 0;
    while (off < job->size) {
        size_t n = job->size - off < 4096 ? job->size - off : 4096;  /* small writes */
        ssize_t k = write(job->fd, job->data + off, n);
        if (k <= 0)
            break;
        off += (size_t)k;
    }
    close(job->fd);
    return NULL;
}

START_TEST(test_file_pipe)
{
    size_t size;
    uint8_t *img = make_file(8, &size);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pipe_job job = { fds[1], img, size };
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, pipe_writer, &job), 0);
    FILE *f = fdopen(fds[0], "rb");
    ck_assert_ptr_nonnull(f);
    int count;
    ck_assert_int_eq(read_all(f, 0, &count, NULL, NULL), 0);
    ck_assert_int_eq(count, 8);
    pthread_join(th, NULL);
    fclose(f);
    free(img);
}
END_TEST

/* Random bytes through both parsers: never accepted by chance in a way
 * that breaks the invariants, never a crash (ASan checks the reads). */
START_TEST(test_random_input)
{
    nvc_seq_header h;
    nvc_frame_header fh;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = rng() % 64;
        uint8_t *b = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(b);
        for (size_t i = 0; i < n; i++)
            b[i] = (uint8_t)(rng() % 4 ? rng() % 8 : rng());
        ck_assert_int_lt(nvc_seq_header_parse(&h, b, n, 0, 0, NULL, 0), 0);
        if (nvc_frame_header_parse(&fh, b, n, NULL, 0) == 0) {
            size_t sum = 0;
            for (int i = 0; i < fh.num_substreams; i++) {
                ck_assert(fh.substream[i] >= b && fh.substream[i] + fh.substream_size[i] <= b + n);
                sum += fh.substream_size[i];
            }
            ck_assert_uint_eq(sum + nvc_frame_header_size(&fh), n);
        }
        free(b);
    }
}
END_TEST

static Suite *bitstream_suite(void)
{
    Suite *s = suite_create("bitstream");
    TCase *tb = tcase_create("bytes");
    tcase_add_test(tb, test_crc32);
    tcase_add_test(tb, test_le_loads_stores);
    tcase_add_test(tb, test_leb128);
    suite_add_tcase(s, tb);
    TCase *ts = tcase_create("sequence");
    tcase_add_test(ts, test_seq_roundtrip);
    tcase_add_loop_test(ts, test_seq_corrupt_field, 0, N_SEQ_BAD);
    tcase_add_test(ts, test_seq_model_id_too_long);
    tcase_add_test(ts, test_seq_truncations_and_bitflips);
    tcase_add_test(ts, test_seq_write_refuses);
    suite_add_tcase(s, ts);
    TCase *tf = tcase_create("frame");
    tcase_add_test(tf, test_frame_roundtrip);
    tcase_add_test(tf, test_frame_truncations);
    tcase_add_test(tf, test_frame_bad_values);
    tcase_add_test(tf, test_frame_write_refuses);
    tcase_add_test(tf, test_random_input);
    suite_add_tcase(s, tf);
    TCase *tn = tcase_create("file");
    tcase_set_timeout(tn, 60);
    tcase_add_test(tn, test_file_roundtrip);
    tcase_add_test(tn, test_file_truncations);
    tcase_add_test(tn, test_file_bad_sizes);
    tcase_add_test(tn, test_file_bad_header);
    tcase_add_test(tn, test_file_pipe);
    suite_add_tcase(s, tn);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(bitstream_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
