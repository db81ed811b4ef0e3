/* Helpers shared by the C tests (linked into every test program).
 *
 * Frames: a 4:2:0 picture of w x h packed in one array: Y (w * h), then U
 * and V ((w + 1) / 2 x (h + 1) / 2 each), rows without padding. */
#ifndef NEUVC_TESTS_COMMON_TESTUTIL_H
#define NEUVC_TESTS_COMMON_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "neuvc/neuvc.h"

/* Bytes of one packed frame. */
#define TU_FRAME_BYTES(w, h) ((size_t)(w) * (h) + 2 * (size_t)(((w) + 1) / 2) * (((h) + 1) / 2))

/* Crops frames 0..n-1 of the test clip eval/vmaf_park_joy_480x270_10f.y4m
 * (under $NEUVC_CLIPS, else ../shared/clips) at luma (x, y), both even,
 * into dst, one packed w x h frame after another.  0; -1 when the clip cannot be opened (its
 * path in path[]); -2 when it cannot be read. */
int tu_clip_crop(uint8_t *dst, int n, int w, int h, int x, int y, char *path,
                 size_t pathlen);

/* p describes the packed frame d of w x h (other fields zero). */
void tu_picture_of(NeuvcPicture *p, uint8_t *d, int w, int h);

/* Packs the w x h picture p into dst. */
void tu_pack(uint8_t *dst, const NeuvcPicture *p, int w, int h);

/* An encoded clip: header, packets and the encoder's reconstructions. */
#define TU_MAX_FRAMES 16
typedef struct tu_stream {
    uint8_t header[256];
    size_t header_size;
    int n;                               /* frames */
    uint8_t *pkt[TU_MAX_FRAMES];         /* malloc'd */
    size_t size[TU_MAX_FRAMES];
    uint8_t *recon[TU_MAX_FRAMES];       /* malloc'd, packed (es->width x es->height) */
} tu_stream;

/* Encodes the n <= TU_MAX_FRAMES packed frames src (one after another,
 * es->width x es->height) with es, one packet per picture, and checks each
 * frame's type: I every es->keyint frames from the first, P between.  0,
 * or a negative errno with the failing step in err (s then holds what was
 * encoded so far); tu_stream_free() in either case. */
int tu_encode(tu_stream *s, const NeuvcEncSettings *es, const uint8_t *src, int n, char *err,
              size_t errlen);

/* Decodes s with ds into out (s->n packed w x h frames).  0, or a
 * negative errno with the failing step in err. */
int tu_decode(const tu_stream *s, const NeuvcDecSettings *ds, int w, int h, uint8_t *out,
              char *err, size_t errlen);

void tu_stream_free(tu_stream *s);

/* Deterministic 64-bit generator (splitmix64). */
typedef struct rng {
    uint64_t s;
} rng;

uint64_t rng_next(rng *r);

/* Uniform in [lo, hi]. */
int32_t rng_range(rng *r, int32_t lo, int32_t hi);

#endif
