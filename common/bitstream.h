/*
 * The .nvc formats (docs/bitstream.md is the specification):
 *   - the sequence header (starts a .nvc file; Matroska codec private data),
 *   - the frame header at the start of every packet payload, which splits
 *     the payload into independent sub-streams,
 *   - .nvc file framing: sequence header, then packets (size, pts, payload),
 *     with a reader over a FILE* that never seeks and a writer.
 *
 * Every parser checks every value against the ranges of the specification
 * and never reads outside the buffer it was given.  Errors are negative
 * NEUVC_ERR codes; where a function takes errmsg (may be NULL), it leaves
 * one line of text there on failure.
 */
#ifndef NEUVC_COMMON_BITSTREAM_H
#define NEUVC_COMMON_BITSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "neuvc/neuvc.h"

/* ------------------------------------------------------ sequence header */
#define NVC_SEQ_MAGIC "NVC1"          /* 4 bytes, no terminator */
#define NVC_SEQ_VERSION 1
#define NVC_SEQ_HEADER_SIZE 100       /* bytes, version 1, CRC included */
#define NVC_DIM_MAX 65535
#define NVC_MODEL_ID_MAX 63           /* characters, 0x20..0x7E */
#define NVC_MODEL_FP_SIZE 8           /* first bytes of the payload's sha256 */
#define NVC_SEQ_FLAGS_KNOWN 0u        /* no flag bits are defined yet */
#define NVC_ERRMSG_SIZE 256

typedef struct nvc_seq_header {
    int width, height;                /* 1..NVC_DIM_MAX */
    int fps_num, fps_den;             /* 1..INT32_MAX each */
    uint32_t flags;                   /* only NVC_SEQ_FLAGS_KNOWN bits */
    char model_id[NVC_MODEL_ID_MAX + 1];          /* 1..63 chars, NUL-terminated */
    uint8_t model_fp[NVC_MODEL_FP_SIZE];
} nvc_seq_header;

/* Checks h and writes its NVC_SEQ_HEADER_SIZE bytes to buf.  Returns the
 * size written, NEUVC_ERR(EINVAL) when a field is out of range (errmsg
 * says which) or cap < NVC_SEQ_HEADER_SIZE. */
int nvc_seq_header_write(const nvc_seq_header *h, uint8_t *buf, size_t cap,
                         char *errmsg, size_t errmsg_size);

/* Parses a sequence header from buf[0 .. size-1]; bytes after the header
 * are not looked at.  max_width / max_height <= 0 mean NVC_DIM_MAX.
 * Returns the header's size in bytes (NVC_SEQ_HEADER_SIZE) and fills h;
 * NEUVC_ERR_INVALIDDATA when the data is not a valid header (wrong magic,
 * truncated, CRC mismatch, a field out of range); NEUVC_ERR(ENOSYS) for a
 * format version above NVC_SEQ_VERSION; NEUVC_ERR(ERANGE) when the picture
 * size is above the caller's limits.  h is unchanged on failure. */
int nvc_seq_header_parse(nvc_seq_header *h, const uint8_t *buf, size_t size,
                         int max_width, int max_height, char *errmsg, size_t errmsg_size);

/* --------------------------------------------------------- frame header */
#define NVC_MAX_SUBSTREAMS 255
#define NVC_QP_MAX 63
#define NVC_FRAME_FLAG_INTRA_REFRESH 0x01u /* P frames only: refresh_band, refresh_guard follow */
#define NVC_FRAME_FLAG_FRAME_NUM 0x02u     /* frame_num follows */
#define NVC_FRAME_FLAGS_KNOWN 0x03u
/* Fixed part: type, qp, flags, sub-stream count. */
#define NVC_FRAME_HEADER_FIXED 4
/* Optional fields: frame_num (1 byte), refresh_band and refresh_guard (2
 * each) and refresh_qp (1). */
#define NVC_FRAME_HEADER_OPT_MAX 6
#define NVC_FRAME_HEADER_MAX (NVC_FRAME_HEADER_FIXED + NVC_FRAME_HEADER_OPT_MAX + NVC_MAX_SUBSTREAMS * 5)
#define NVC_REFRESH_MAX 65535              /* refresh_band, refresh_guard: u16 */

typedef struct nvc_frame_header {
    NeuvcFrameType type;              /* NEUVC_FRAME_I or NEUVC_FRAME_P */
    int qp;                           /* 0..NVC_QP_MAX */
    unsigned flags;                   /* only NVC_FRAME_FLAGS_KNOWN bits */
    int num_substreams;               /* 1..NVC_MAX_SUBSTREAMS */
    /* With NVC_FRAME_FLAG_FRAME_NUM: the frame's number modulo 256 (0..255). */
    int frame_num;
    /* With NVC_FRAME_FLAG_INTRA_REFRESH (P frames): the refreshed band
     * (64 luma rows) and the guard below it in 16-row units, each
     * 0..NVC_REFRESH_MAX, and the qp of the refresh strip (0..NVC_QP_MAX);
     * docs/bitstream.md section 5.3.  The parser checks only the ranges;
     * the decoder checks them against the picture. */
    int refresh_band, refresh_guard, refresh_qp;
    /* Sub-stream i is substream[i][0 .. substream_size[i]-1].  After a
     * parse they point into the payload, in order, back to back, ending
     * exactly at its end. */
    const uint8_t *substream[NVC_MAX_SUBSTREAMS];
    size_t substream_size[NVC_MAX_SUBSTREAMS];
} nvc_frame_header;

/* Parses payload[0 .. size-1] (one whole packet payload).  Returns 0 and
 * fills fh; NEUVC_ERR_INVALIDDATA for any value outside its range, a
 * truncated header, or sub-stream sizes that do not add up to exactly the
 * rest of the payload.  On failure fh's contents are unspecified. */
int nvc_frame_header_parse(nvc_frame_header *fh, const uint8_t *payload, size_t size,
                           char *errmsg, size_t errmsg_size);

/* Bytes of the header alone (fixed part and size varints) for fh's
 * sub-stream sizes, or 0 when fh is out of range (any check
 * nvc_frame_header_write makes). */
size_t nvc_frame_header_size(const nvc_frame_header *fh);
/* Total payload bytes: header plus all sub-streams; 0 when out of range. */
size_t nvc_frame_payload_size(const nvc_frame_header *fh);

/* Writes the header alone (the sub-streams are expected to follow it, in
 * order).  Returns 0 and *written; NEUVC_ERR(EINVAL) for a field out of
 * range or too small a buffer, NEUVC_ERR(ERANGE) for a payload that would
 * exceed UINT32_MAX bytes. */
int nvc_frame_header_write(const nvc_frame_header *fh, uint8_t *buf, size_t cap, size_t *written);
/* Writes the header and then the sub-streams fh points to (which must not
 * overlap buf).  Same returns. */
int nvc_frame_write(const nvc_frame_header *fh, uint8_t *buf, size_t cap, size_t *written);

/* ----------------------------------------------------- .nvc file framing */
/* Packet header: u32 payload size, i64 pts. */
#define NVC_PACKET_HEADER_SIZE 12

typedef struct nvc_reader {
    FILE *f;
    nvc_seq_header seq;
    uint8_t seq_raw[NVC_SEQ_HEADER_SIZE]; /* the header bytes, as read */
    size_t max_packet_size;           /* 1..UINT32_MAX */
    uint8_t *buf;                     /* last packet's payload */
    size_t buf_cap;
    uint64_t offset;                  /* bytes consumed from f */
    int64_t packets_read;
    int err;                          /* 0, or the sticky error code */
    char errmsg[NVC_ERRMSG_SIZE];
} nvc_reader;

/* Reads and parses the sequence header from f (never closed, never
 * seeked).  max_width / max_height as for nvc_seq_header_parse;
 * max_packet_size 0 means UINT32_MAX.  Returns 0 or an error of
 * nvc_seq_header_parse (an input ending inside the header, empty input
 * included, is NEUVC_ERR_INVALIDDATA), NEUVC_ERR(EIO) for a read error. */
int nvc_reader_open(nvc_reader *r, FILE *f, int max_width, int max_height,
                    size_t max_packet_size);

/* Reads the next packet.  Returns 1 and sets *data (valid until the next
 * call or close), *size (>= 1) and *pts; 0 at the clean end of the file
 * (end of input exactly at a packet boundary); NEUVC_ERR(ERANGE) for a
 * packet above max_packet_size; NEUVC_ERR_INVALIDDATA for a zero size or
 * input ending inside a packet; NEUVC_ERR(ENOMEM); NEUVC_ERR(EIO).  The
 * buffer grows with the bytes actually present, never to a size a corrupt
 * header merely claims. */
int nvc_read_packet(nvc_reader *r, const uint8_t **data, size_t *size, int64_t *pts);

void nvc_reader_close(nvc_reader *r);

typedef struct nvc_writer {
    FILE *f;
    int64_t packets_written;
    char errmsg[NVC_ERRMSG_SIZE];
} nvc_writer;

/* Writes the sequence header seq[0 .. seq_size-1] (as made by
 * nvc_seq_header_write or neuvc_enc_get_header; it is parsed first and
 * refused with NEUVC_ERR(EINVAL) if invalid).  NEUVC_ERR(EIO) if writing
 * fails.  f is never closed: flush and close it to finish the file. */
int nvc_writer_open(nvc_writer *w, FILE *f, const uint8_t *seq, size_t seq_size);
/* Writes one packet; size 1..UINT32_MAX (else NEUVC_ERR(EINVAL)). */
int nvc_write_packet(nvc_writer *w, const uint8_t *data, size_t size, int64_t pts);

#endif
