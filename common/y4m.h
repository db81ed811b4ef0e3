/*
 * YUV4MPEG2 (.y4m) reader and writer, 8-bit 4:2:0 only.
 *
 * Stream: one header line "YUV4MPEG2" followed by space-separated tags and
 * '\n', then per frame a line "FRAME" (optionally followed by space-
 * separated parameters, which are ignored) and '\n', then the Y plane
 * (width x height bytes), U and V ((width+1)/2 x (height+1)/2 bytes each),
 * rows top to bottom without padding.
 *
 * Accepted colour spaces: C420jpeg, C420paldv, C420mpeg2, C420, and no C
 * tag at all (4:2:0 by the format's convention).  Anything else is refused
 * with NEUVC_ERR(ENOSYS) and a message naming the tag found.
 *
 * The reader never seeks (stdin and pipes work), reads nothing past the
 * frame it returns, and never allocates per frame: the only allocation is
 * the frame buffer behind y4m_read_picture, made once.
 *
 * Errors: negative NEUVC_ERR codes; the reader and writer also leave one
 * line of text (no trailing newline) in their errmsg.  Once a reader has
 * failed, every later read returns the same code.
 */
#ifndef NEUVC_COMMON_Y4M_H
#define NEUVC_COMMON_Y4M_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "neuvc/neuvc.h"

/* Longest header or FRAME line accepted, '\n' included. */
#define Y4M_LINE_MAX 1024
/* Largest width or height accepted whatever the caller's limits. */
#define Y4M_DIM_MAX 65535
#define Y4M_ERRMSG_SIZE 256

typedef struct y4m_info {
    int width, height;            /* 1..Y4M_DIM_MAX, within the caller's limits */
    int fps_num, fps_den;         /* both >= 1; 25/1 when the stream has no F
                                     tag or F0:0 ("unknown") */
    int sar_num, sar_den;         /* pixel aspect; 0:0 = unknown (no A tag) */
    char interlace;               /* 'p', 't', 'b', 'm' or '?' (no I tag: 'p') */
    char colorspace[16];          /* C tag value as found, "" when absent */
} y4m_info;

typedef struct y4m_reader {
    FILE *f;
    y4m_info info;
    size_t frame_size;            /* bytes of one frame's three planes */
    int64_t frames_read;
    int err;                      /* 0, or the sticky error code */
    int at_end;                   /* 1 after the clean end of the stream */
    uint8_t *buf;                 /* y4m_read_picture's frame, NULL until used */
    char errmsg[Y4M_ERRMSG_SIZE];
} y4m_reader;

/* Reads and checks the stream header from f (which stays the caller's: it
 * is never closed).  max_width / max_height <= 0 mean Y4M_DIM_MAX.
 * Returns 0; NEUVC_ERR_INVALIDDATA for a missing magic, malformed or
 * over-long header, a missing or bad W/H/F/A/I value; NEUVC_ERR(ERANGE)
 * for a width or height above the limits; NEUVC_ERR(ENOSYS) for a colour
 * space other than 8-bit 4:2:0; NEUVC_ERR(EIO) for a read error.  On
 * failure r holds no resources (y4m_reader_close is still allowed). */
int y4m_reader_open(y4m_reader *r, FILE *f, int max_width, int max_height);

/* Reads the next frame into caller planes: planes[0] rows of width bytes
 * every strides[0] bytes (height rows), planes[1] and planes[2] rows of
 * (width+1)/2 bytes ((height+1)/2 rows).  |strides[i]| >= row width.
 * Returns 1 when a frame was read, 0 at the clean end of the stream (end of
 * input exactly where a FRAME line would start), NEUVC_ERR_INVALIDDATA for a
 * bad FRAME line or a frame cut short (the planes then hold a partial
 * picture), NEUVC_ERR(EIO) for a read error, NEUVC_ERR(EINVAL) for bad
 * arguments. */
int y4m_read_frame(y4m_reader *r, uint8_t *const planes[3], const ptrdiff_t strides[3]);

/* The same into a buffer the reader owns (allocated on the first call,
 * NEUVC_ERR(ENOMEM) if that fails).  pic gets data, stride, width, height,
 * pts (the frame's index from 0), frame_type = I, force_keyframe = 0; its
 * planes stay valid until the next read or y4m_reader_close. */
int y4m_read_picture(y4m_reader *r, NeuvcPicture *pic);

/* Frees what the reader allocated; f is left open.  Safe after a failed
 * open and twice in a row. */
void y4m_reader_close(y4m_reader *r);

typedef struct y4m_writer {
    FILE *f;
    int width, height;
    int64_t frames_written;
    char errmsg[Y4M_ERRMSG_SIZE];
} y4m_writer;

/* Writes the stream header "YUV4MPEG2 W H F Ip A C420jpeg" for info's
 * width, height, frame rate and aspect (info's interlace and colorspace are
 * not used: output is always progressive C420jpeg).  Returns 0,
 * NEUVC_ERR(EINVAL) for a size outside 1..Y4M_DIM_MAX or a frame rate term
 * < 1 or a negative aspect term, NEUVC_ERR(EIO) if writing fails. */
int y4m_writer_open(y4m_writer *w, FILE *f, const y4m_info *info);

/* Writes "FRAME\n" and the three planes, laid out as for y4m_read_frame.
 * Returns 0, NEUVC_ERR(EINVAL), or NEUVC_ERR(EIO). */
int y4m_write_frame(y4m_writer *w, const uint8_t *const planes[3], const ptrdiff_t strides[3]);

#endif
