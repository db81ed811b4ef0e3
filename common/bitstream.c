#include "common/bitstream.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"

/* Sequence header field offsets (docs/bitstream.md, "Sequence header"). */
enum {
    SEQ_OFF_MAGIC = 0,
    SEQ_OFF_VERSION = 4,
    SEQ_OFF_SIZE = 6,
    SEQ_OFF_WIDTH = 8,
    SEQ_OFF_HEIGHT = 10,
    SEQ_OFF_FPS_NUM = 12,
    SEQ_OFF_FPS_DEN = 16,
    SEQ_OFF_FLAGS = 20,
    SEQ_OFF_MODEL_FP = 24,
    SEQ_OFF_MODEL_ID = 32,
    SEQ_MODEL_ID_FIELD = 64,
    SEQ_OFF_CRC = 96,
};

/* Packet payloads grow the reader's buffer in steps of at least this. */
#define NVC_READ_CHUNK 65536

__attribute__((format(printf, 3, 4)))
static void nvc_set_err(char *errmsg, size_t errmsg_size, const char *fmt, ...)
{
    if (!errmsg || !errmsg_size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, errmsg_size, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------ sequence header */

static int model_char_ok(int c)
{
    return c >= 0x20 && c <= 0x7E;
}

int nvc_seq_header_write(const nvc_seq_header *h, uint8_t *buf, size_t cap,
                         char *errmsg, size_t errmsg_size)
{
    if (!h || !buf || cap < NVC_SEQ_HEADER_SIZE) {
        nvc_set_err(errmsg, errmsg_size, "sequence header: no header or buffer below %d bytes",
                    NVC_SEQ_HEADER_SIZE);
        return NEUVC_ERR(EINVAL);
    }
    if (h->width < 1 || h->width > NVC_DIM_MAX || h->height < 1 || h->height > NVC_DIM_MAX) {
        nvc_set_err(errmsg, errmsg_size, "sequence header: size %dx%d outside 1..%d",
                    h->width, h->height, NVC_DIM_MAX);
        return NEUVC_ERR(EINVAL);
    }
    if (h->fps_num < 1 || h->fps_den < 1) {
        nvc_set_err(errmsg, errmsg_size, "sequence header: frame rate %d/%d has a term below 1",
                    h->fps_num, h->fps_den);
        return NEUVC_ERR(EINVAL);
    }
    if (h->flags & ~NVC_SEQ_FLAGS_KNOWN) {
        nvc_set_err(errmsg, errmsg_size, "sequence header: reserved flags 0x%08x set",
                    (unsigned)h->flags);
        return NEUVC_ERR(EINVAL);
    }
    const char *id_end = memchr(h->model_id, '\0', sizeof(h->model_id));
    size_t id_len = id_end ? (size_t)(id_end - h->model_id) : sizeof(h->model_id);
    if (id_len < 1 || id_len > NVC_MODEL_ID_MAX) {
        nvc_set_err(errmsg, errmsg_size, "sequence header: model id must be 1..%d characters",
                    NVC_MODEL_ID_MAX);
        return NEUVC_ERR(EINVAL);
    }
    for (size_t i = 0; i < id_len; i++) {
        if (!model_char_ok((unsigned char)h->model_id[i])) {
            nvc_set_err(errmsg, errmsg_size,
                        "sequence header: model id has a non-printable byte 0x%02x",
                        (unsigned char)h->model_id[i]);
            return NEUVC_ERR(EINVAL);
        }
    }
    memset(buf, 0, NVC_SEQ_HEADER_SIZE);
    memcpy(buf + SEQ_OFF_MAGIC, NVC_SEQ_MAGIC, 4);
    bytes_store_u16le(buf + SEQ_OFF_VERSION, NVC_SEQ_VERSION);
    bytes_store_u16le(buf + SEQ_OFF_SIZE, NVC_SEQ_HEADER_SIZE);
    bytes_store_u16le(buf + SEQ_OFF_WIDTH, (uint16_t)h->width);
    bytes_store_u16le(buf + SEQ_OFF_HEIGHT, (uint16_t)h->height);
    bytes_store_u32le(buf + SEQ_OFF_FPS_NUM, (uint32_t)h->fps_num);
    bytes_store_u32le(buf + SEQ_OFF_FPS_DEN, (uint32_t)h->fps_den);
    bytes_store_u32le(buf + SEQ_OFF_FLAGS, h->flags);
    memcpy(buf + SEQ_OFF_MODEL_FP, h->model_fp, NVC_MODEL_FP_SIZE);
    memcpy(buf + SEQ_OFF_MODEL_ID, h->model_id, id_len);
    bytes_store_u32le(buf + SEQ_OFF_CRC, bytes_crc32(0, buf, SEQ_OFF_CRC));
    return NVC_SEQ_HEADER_SIZE;
}

/* The model id field: 1..63 characters 0x20..0x7E, then zero bytes to the
 * end of the 64-byte field (at least one). */
static int parse_model_id(nvc_seq_header *out, const uint8_t *field, char *errmsg, size_t errmsg_size)
{
    const uint8_t *nul = memchr(field, 0, SEQ_MODEL_ID_FIELD);
    if (!nul) {
        nvc_set_err(errmsg, errmsg_size, "sequence header: model id longer than %d characters",
                    NVC_MODEL_ID_MAX);
        return NEUVC_ERR_INVALIDDATA;
    }
    size_t len = (size_t)(nul - field);
    if (len == 0) {
        nvc_set_err(errmsg, errmsg_size, "sequence header: empty model id");
        return NEUVC_ERR_INVALIDDATA;
    }
    for (size_t i = 0; i < len; i++) {
        if (!model_char_ok(field[i])) {
            nvc_set_err(errmsg, errmsg_size,
                        "sequence header: model id has a non-printable byte 0x%02x at %zu",
                        field[i], i);
            return NEUVC_ERR_INVALIDDATA;
        }
    }
    for (size_t i = len; i < SEQ_MODEL_ID_FIELD; i++) {
        if (field[i]) {
            nvc_set_err(errmsg, errmsg_size, "sequence header: non-zero padding after model id");
            return NEUVC_ERR_INVALIDDATA;
        }
    }
    memcpy(out->model_id, field, len);
    out->model_id[len] = '\0';
    return 0;
}

int nvc_seq_header_parse(nvc_seq_header *h, const uint8_t *buf, size_t size,
                         int max_width, int max_height, char *errmsg, size_t errmsg_size)
{
    if (!h || (!buf && size)) {
        nvc_set_err(errmsg, errmsg_size, "sequence header: no buffer");
        return NEUVC_ERR(EINVAL);
    }
    size_t mcmp = size < 4 ? size : 4;
    if (mcmp && memcmp(buf, NVC_SEQ_MAGIC, mcmp) != 0) {
        nvc_set_err(errmsg, errmsg_size, "not a neuvc stream (no " NVC_SEQ_MAGIC " magic)");
        return NEUVC_ERR_INVALIDDATA;
    }
    if (size < SEQ_OFF_WIDTH) {
        nvc_set_err(errmsg, errmsg_size, "sequence header truncated (%zu of %d bytes)",
                    size, NVC_SEQ_HEADER_SIZE);
        return NEUVC_ERR_INVALIDDATA;
    }
    unsigned version = bytes_load_u16le(buf + SEQ_OFF_VERSION);
    if (version == 0) {
        nvc_set_err(errmsg, errmsg_size, "sequence header: format version 0 is invalid");
        return NEUVC_ERR_INVALIDDATA;
    }
    if (version > NVC_SEQ_VERSION) {
        nvc_set_err(errmsg, errmsg_size,
                    "stream format version %u is newer than this decoder's (%d)",
                    version, NVC_SEQ_VERSION);
        return NEUVC_ERR(ENOSYS);
    }
    unsigned hsize = bytes_load_u16le(buf + SEQ_OFF_SIZE);
    if (hsize != NVC_SEQ_HEADER_SIZE) {
        nvc_set_err(errmsg, errmsg_size, "sequence header: size field %u, version 1 needs %d",
                    hsize, NVC_SEQ_HEADER_SIZE);
        return NEUVC_ERR_INVALIDDATA;
    }
    if (size < NVC_SEQ_HEADER_SIZE) {
        nvc_set_err(errmsg, errmsg_size, "sequence header truncated (%zu of %d bytes)",
                    size, NVC_SEQ_HEADER_SIZE);
        return NEUVC_ERR_INVALIDDATA;
    }
    uint32_t crc = bytes_crc32(0, buf, SEQ_OFF_CRC);
    if (crc != bytes_load_u32le(buf + SEQ_OFF_CRC)) {
        nvc_set_err(errmsg, errmsg_size, "sequence header: CRC mismatch (corrupt header)");
        return NEUVC_ERR_INVALIDDATA;
    }

    nvc_seq_header out;
    memset(&out, 0, sizeof(out));
    out.width = bytes_load_u16le(buf + SEQ_OFF_WIDTH);
    out.height = bytes_load_u16le(buf + SEQ_OFF_HEIGHT);
    if (out.width == 0 || out.height == 0) {
        nvc_set_err(errmsg, errmsg_size, "sequence header: picture size %dx%d is invalid",
                    out.width, out.height);
        return NEUVC_ERR_INVALIDDATA;
    }
    int max_w = max_width <= 0 || max_width > NVC_DIM_MAX ? NVC_DIM_MAX : max_width;
    int max_h = max_height <= 0 || max_height > NVC_DIM_MAX ? NVC_DIM_MAX : max_height;
    if (out.width > max_w || out.height > max_h) {
        nvc_set_err(errmsg, errmsg_size, "stream picture size %dx%d is above the limit %dx%d",
                    out.width, out.height, max_w, max_h);
        return NEUVC_ERR(ERANGE);
    }
    uint32_t num = bytes_load_u32le(buf + SEQ_OFF_FPS_NUM);
    uint32_t den = bytes_load_u32le(buf + SEQ_OFF_FPS_DEN);
    if (num < 1 || num > INT32_MAX || den < 1 || den > INT32_MAX) {
        nvc_set_err(errmsg, errmsg_size, "sequence header: frame rate %u/%u outside 1..2^31-1",
                    (unsigned)num, (unsigned)den);
        return NEUVC_ERR_INVALIDDATA;
    }
    out.fps_num = (int)num;
    out.fps_den = (int)den;
    out.flags = bytes_load_u32le(buf + SEQ_OFF_FLAGS);
    if (out.flags & ~NVC_SEQ_FLAGS_KNOWN) {
        nvc_set_err(errmsg, errmsg_size, "sequence header: reserved flags 0x%08x set",
                    (unsigned)out.flags);
        return NEUVC_ERR_INVALIDDATA;
    }
    memcpy(out.model_fp, buf + SEQ_OFF_MODEL_FP, NVC_MODEL_FP_SIZE);
    int ret = parse_model_id(&out, buf + SEQ_OFF_MODEL_ID, errmsg, errmsg_size);
    if (ret < 0)
        return ret;
    *h = out;
    return NVC_SEQ_HEADER_SIZE;
}

/* --------------------------------------------------------- frame header */

int nvc_frame_header_parse(nvc_frame_header *fh, const uint8_t *payload, size_t size,
                           char *errmsg, size_t errmsg_size)
{
    if (!fh || (!payload && size)) {
        nvc_set_err(errmsg, errmsg_size, "frame header: no buffer");
        return NEUVC_ERR(EINVAL);
    }
    if (size < NVC_FRAME_HEADER_FIXED) {
        nvc_set_err(errmsg, errmsg_size, "frame header truncated (%zu bytes)", size);
        return NEUVC_ERR_INVALIDDATA;
    }
    unsigned type = payload[0], qp = payload[1], flags = payload[2], n = payload[3];
    if (type != NEUVC_FRAME_I && type != NEUVC_FRAME_P) {
        nvc_set_err(errmsg, errmsg_size, "frame header: frame type %u is not I (0) or P (1)", type);
        return NEUVC_ERR_INVALIDDATA;
    }
    if (qp > NVC_QP_MAX) {
        nvc_set_err(errmsg, errmsg_size, "frame header: qp %u above %d", qp, NVC_QP_MAX);
        return NEUVC_ERR_INVALIDDATA;
    }
    if (flags & ~NVC_FRAME_FLAGS_KNOWN) {
        nvc_set_err(errmsg, errmsg_size, "frame header: reserved flags 0x%02x set", flags);
        return NEUVC_ERR_INVALIDDATA;
    }
    if (n < 1) {
        nvc_set_err(errmsg, errmsg_size, "frame header: zero sub-streams");
        return NEUVC_ERR_INVALIDDATA;
    }
    if ((flags & NVC_FRAME_FLAG_INTRA_REFRESH) && type != NEUVC_FRAME_P) {
        nvc_set_err(errmsg, errmsg_size, "frame header: intra refresh flag on an I frame");
        return NEUVC_ERR_INVALIDDATA;
    }
    fh->type = type == NEUVC_FRAME_I ? NEUVC_FRAME_I : NEUVC_FRAME_P;
    fh->qp = (int)qp;
    fh->flags = flags;
    fh->num_substreams = (int)n;
    fh->frame_num = 0;
    fh->refresh_band = fh->refresh_guard = fh->refresh_qp = 0;

    /* Optional fields, then the sizes; pos stays <= size throughout, and
     * "left" is what the sub-streams not yet accounted for may still take. */
    size_t pos = NVC_FRAME_HEADER_FIXED;
    const size_t opt = (flags & NVC_FRAME_FLAG_FRAME_NUM ? 1u : 0u) +
                       (flags & NVC_FRAME_FLAG_INTRA_REFRESH ? 5u : 0u);
    if (size - pos < opt) {
        nvc_set_err(errmsg, errmsg_size, "frame header truncated (%zu bytes)", size);
        return NEUVC_ERR_INVALIDDATA;
    }
    if (flags & NVC_FRAME_FLAG_FRAME_NUM)
        fh->frame_num = payload[pos++];
    if (flags & NVC_FRAME_FLAG_INTRA_REFRESH) {
        fh->refresh_band = payload[pos] | payload[pos + 1] << 8;
        fh->refresh_guard = payload[pos + 2] | payload[pos + 3] << 8;
        fh->refresh_qp = payload[pos + 4];
        pos += 5;
        if (fh->refresh_qp > NVC_QP_MAX) {
            nvc_set_err(errmsg, errmsg_size, "frame header: refresh qp %d above %d",
                        fh->refresh_qp, NVC_QP_MAX);
            return NEUVC_ERR_INVALIDDATA;
        }
    }
    size_t claimed = 0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t v;
        int used = bytes_leb128_read(payload + pos, size - pos, &v);
        if (used < 0) {
            nvc_set_err(errmsg, errmsg_size, "frame header: size of sub-stream %u: %s",
                        i, bytes_leb128_strerror(used));
            return NEUVC_ERR_INVALIDDATA;
        }
        pos += (size_t)used;
        if (v > size - pos || claimed > size - pos - v) {
            nvc_set_err(errmsg, errmsg_size,
                        "frame header: sub-stream %u size %u overflows the payload", i,
                        (unsigned)v);
            return NEUVC_ERR_INVALIDDATA;
        }
        claimed += v;
        fh->substream_size[i] = v;
    }
    if (claimed != size - pos) {
        nvc_set_err(errmsg, errmsg_size,
                    "frame header: sub-streams take %zu bytes but %zu follow the header",
                    claimed, size - pos);
        return NEUVC_ERR_INVALIDDATA;
    }
    for (unsigned i = 0; i < n; i++) {
        fh->substream[i] = payload + pos;
        pos += fh->substream_size[i];
    }
    return 0;
}

/* Checks fh for writing; gives the header's and the payload's byte counts. */
static int frame_header_check(const nvc_frame_header *fh, size_t *header_bytes, size_t *total)
{
    if (!fh || (fh->type != NEUVC_FRAME_I && fh->type != NEUVC_FRAME_P) || fh->qp < 0 ||
        fh->qp > NVC_QP_MAX || (fh->flags & ~NVC_FRAME_FLAGS_KNOWN) ||
        fh->num_substreams < 1 || fh->num_substreams > NVC_MAX_SUBSTREAMS)
        return NEUVC_ERR(EINVAL);
    if ((fh->flags & NVC_FRAME_FLAG_FRAME_NUM) && (fh->frame_num < 0 || fh->frame_num > 255))
        return NEUVC_ERR(EINVAL);
    if ((fh->flags & NVC_FRAME_FLAG_INTRA_REFRESH) &&
        (fh->type != NEUVC_FRAME_P || fh->refresh_band < 0 || fh->refresh_band > NVC_REFRESH_MAX ||
         fh->refresh_guard < 0 || fh->refresh_guard > NVC_REFRESH_MAX || fh->refresh_qp < 0 ||
         fh->refresh_qp > NVC_QP_MAX))
        return NEUVC_ERR(EINVAL);
    size_t hb = NVC_FRAME_HEADER_FIXED + (fh->flags & NVC_FRAME_FLAG_FRAME_NUM ? 1u : 0u) +
                (fh->flags & NVC_FRAME_FLAG_INTRA_REFRESH ? 5u : 0u);
    uint64_t sum = 0;
    for (int i = 0; i < fh->num_substreams; i++) {
        size_t s = fh->substream_size[i];
        if (s > UINT32_MAX)
            return NEUVC_ERR(ERANGE);
        if (s && !fh->substream[i])
            return NEUVC_ERR(EINVAL);
        hb += (size_t)bytes_leb128_size((uint32_t)s);
        sum += s;             /* <= 255 * (2^32 - 1): no overflow */
    }
    if (sum + hb > UINT32_MAX)
        return NEUVC_ERR(ERANGE);
    *header_bytes = hb;
    *total = (size_t)(sum + hb);
    return 0;
}

size_t nvc_frame_header_size(const nvc_frame_header *fh)
{
    size_t hb, total;
    return frame_header_check(fh, &hb, &total) < 0 ? 0 : hb;
}

size_t nvc_frame_payload_size(const nvc_frame_header *fh)
{
    size_t hb, total;
    return frame_header_check(fh, &hb, &total) < 0 ? 0 : total;
}

int nvc_frame_header_write(const nvc_frame_header *fh, uint8_t *buf, size_t cap, size_t *written)
{
    size_t hb, total;
    int ret = frame_header_check(fh, &hb, &total);
    if (ret < 0)
        return ret;
    if (!buf || !written || cap < hb)
        return NEUVC_ERR(EINVAL);
    buf[0] = (uint8_t)fh->type;
    buf[1] = (uint8_t)fh->qp;
    buf[2] = (uint8_t)fh->flags;
    buf[3] = (uint8_t)fh->num_substreams;
    size_t pos = NVC_FRAME_HEADER_FIXED;
    if (fh->flags & NVC_FRAME_FLAG_FRAME_NUM)
        buf[pos++] = (uint8_t)fh->frame_num;
    if (fh->flags & NVC_FRAME_FLAG_INTRA_REFRESH) {
        buf[pos++] = (uint8_t)(fh->refresh_band & 0xff);
        buf[pos++] = (uint8_t)(fh->refresh_band >> 8);
        buf[pos++] = (uint8_t)(fh->refresh_guard & 0xff);
        buf[pos++] = (uint8_t)(fh->refresh_guard >> 8);
        buf[pos++] = (uint8_t)fh->refresh_qp;
    }
    for (int i = 0; i < fh->num_substreams; i++)
        pos += (size_t)bytes_leb128_write(buf + pos, (uint32_t)fh->substream_size[i]);
    *written = pos;
    return 0;
}

int nvc_frame_write(const nvc_frame_header *fh, uint8_t *buf, size_t cap, size_t *written)
{
    size_t hb, total;
    int ret = frame_header_check(fh, &hb, &total);
    if (ret < 0)
        return ret;
    if (!buf || !written || cap < total)
        return NEUVC_ERR(EINVAL);
    size_t pos;
    ret = nvc_frame_header_write(fh, buf, cap, &pos);
    if (ret < 0)
        return ret;
    for (int i = 0; i < fh->num_substreams; i++) {
        if (fh->substream_size[i])
            memcpy(buf + pos, fh->substream[i], fh->substream_size[i]);
        pos += fh->substream_size[i];
    }
    *written = pos;
    return 0;
}

/* ----------------------------------------------------- .nvc file framing */

static int reader_fail(nvc_reader *r, int err)
{
    r->err = err;
    return err;
}

int nvc_reader_open(nvc_reader *r, FILE *f, int max_width, int max_height,
                    size_t max_packet_size)
{
    memset(r, 0, sizeof(*r));
    if (!f)
        return NEUVC_ERR(EINVAL);
    r->f = f;
    r->max_packet_size = max_packet_size == 0 || max_packet_size > UINT32_MAX ?
                         UINT32_MAX : max_packet_size;
    size_t got = fread(r->seq_raw, 1, NVC_SEQ_HEADER_SIZE, f);
    r->offset = got;
    if (got < NVC_SEQ_HEADER_SIZE && ferror(f)) {
        nvc_set_err(r->errmsg, sizeof(r->errmsg), "read error in the sequence header");
        return reader_fail(r, NEUVC_ERR(EIO));
    }
    if (got == 0) {
        nvc_set_err(r->errmsg, sizeof(r->errmsg), "empty input, expected a .nvc stream");
        return reader_fail(r, NEUVC_ERR_INVALIDDATA);
    }
    int ret = nvc_seq_header_parse(&r->seq, r->seq_raw, got, max_width, max_height,
                                   r->errmsg, sizeof(r->errmsg));
    if (ret < 0)
        return reader_fail(r, ret);
    return 0;
}

int nvc_read_packet(nvc_reader *r, const uint8_t **data, size_t *size, int64_t *pts)
{
    if (!r || !r->f || !data || !size || !pts)
        return NEUVC_ERR(EINVAL);
    if (r->err)
        return r->err;
    uint8_t hdr[NVC_PACKET_HEADER_SIZE];
    size_t got = fread(hdr, 1, sizeof(hdr), r->f);
    if (got < sizeof(hdr)) {
        if (ferror(r->f)) {
            nvc_set_err(r->errmsg, sizeof(r->errmsg), "read error at byte %llu",
                        (unsigned long long)(r->offset + got));
            return reader_fail(r, NEUVC_ERR(EIO));
        }
        if (got == 0)
            return 0;
        nvc_set_err(r->errmsg, sizeof(r->errmsg),
                    "truncated file: packet %lld header has %zu of %d bytes",
                    (long long)r->packets_read, got, NVC_PACKET_HEADER_SIZE);
        return reader_fail(r, NEUVC_ERR_INVALIDDATA);
    }
    r->offset += got;
    uint32_t psize = bytes_load_u32le(hdr);
    int64_t ppts = bytes_load_i64le(hdr + 4);
    if (psize == 0) {
        nvc_set_err(r->errmsg, sizeof(r->errmsg), "packet %lld has size 0",
                    (long long)r->packets_read);
        return reader_fail(r, NEUVC_ERR_INVALIDDATA);
    }
    if (psize > r->max_packet_size) {
        nvc_set_err(r->errmsg, sizeof(r->errmsg), "packet %lld size %u is above the limit %zu",
                    (long long)r->packets_read, (unsigned)psize, r->max_packet_size);
        return reader_fail(r, NEUVC_ERR(ERANGE));
    }
    /* The buffer grows with the bytes present (at most doubling what has
     * arrived), so a size field larger than the file costs no more memory
     * than the file itself. */
    size_t have = 0;
    while (have < psize) {
        if (r->buf_cap < psize && (have == r->buf_cap || r->buf_cap < NVC_READ_CHUNK)) {
            size_t cap = r->buf_cap > SIZE_MAX / 2 ? SIZE_MAX : r->buf_cap * 2;
            if (cap < NVC_READ_CHUNK)
                cap = NVC_READ_CHUNK;
            if (cap > psize)
                cap = psize;
            uint8_t *nb = realloc(r->buf, cap);
            if (!nb) {
                nvc_set_err(r->errmsg, sizeof(r->errmsg), "out of memory for a %zu-byte packet",
                            cap);
                return reader_fail(r, NEUVC_ERR(ENOMEM));
            }
            r->buf = nb;
            r->buf_cap = cap;
        }
        size_t want = (r->buf_cap < psize ? r->buf_cap : psize) - have;
        got = fread(r->buf + have, 1, want, r->f);
        have += got;
        r->offset += got;
        if (got < want) {
            if (ferror(r->f)) {
                nvc_set_err(r->errmsg, sizeof(r->errmsg), "read error at byte %llu",
                            (unsigned long long)r->offset);
                return reader_fail(r, NEUVC_ERR(EIO));
            }
            nvc_set_err(r->errmsg, sizeof(r->errmsg),
                        "truncated file: packet %lld has %zu of its %u bytes",
                        (long long)r->packets_read, have, (unsigned)psize);
            return reader_fail(r, NEUVC_ERR_INVALIDDATA);
        }
    }
    r->packets_read++;
    *data = r->buf;
    *size = psize;
    *pts = ppts;
    return 1;
}

void nvc_reader_close(nvc_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    r->buf = NULL;
    r->buf_cap = 0;
}

int nvc_writer_open(nvc_writer *w, FILE *f, const uint8_t *seq, size_t seq_size)
{
    memset(w, 0, sizeof(*w));
    if (!f || !seq)
        return NEUVC_ERR(EINVAL);
    nvc_seq_header h;
    int ret = nvc_seq_header_parse(&h, seq, seq_size, 0, 0, w->errmsg, sizeof(w->errmsg));
    if (ret < 0)
        return NEUVC_ERR(EINVAL);
    w->f = f;
    if (fwrite(seq, 1, (size_t)ret, f) != (size_t)ret) {
        nvc_set_err(w->errmsg, sizeof(w->errmsg), "write error in the sequence header");
        return NEUVC_ERR(EIO);
    }
    return 0;
}

int nvc_write_packet(nvc_writer *w, const uint8_t *data, size_t size, int64_t pts)
{
    if (!w || !w->f || !data || size < 1 || size > UINT32_MAX) {
        if (w)
            nvc_set_err(w->errmsg, sizeof(w->errmsg), "packet of %zu bytes cannot be written",
                        size);
        return NEUVC_ERR(EINVAL);
    }
    uint8_t hdr[NVC_PACKET_HEADER_SIZE];
    bytes_store_u32le(hdr, (uint32_t)size);
    bytes_store_i64le(hdr + 4, pts);
    if (fwrite(hdr, 1, sizeof(hdr), w->f) != sizeof(hdr) ||
        fwrite(data, 1, size, w->f) != size) {
        nvc_set_err(w->errmsg, sizeof(w->errmsg), "write error in packet %lld",
                    (long long)w->packets_written);
        return NEUVC_ERR(EIO);
    }
    w->packets_written++;
    return 0;
}
