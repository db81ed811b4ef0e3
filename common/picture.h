/*
 * Pictures on the coded (padded) size, and the x6 tensor the networks see
 * (docs/codec.md, "Pictures").
 *
 * A picture of W x H is coded on Wp x Hp, both rounded up to multiples of
 * NV_PAD (64); its chroma planes are Wp/2 x Hp/2, of which the source
 * fills ((W+1)/2) x ((H+1)/2).  Edge extension repeats the last column
 * and the last row of that source area into the rest of each plane.
 *
 * x6 is an HWC u8 tensor of (Hp/2) x (Wp/2) x 6:
 *     channel 0..3 = Y(2y, 2x), Y(2y, 2x+1), Y(2y+1, 2x), Y(2y+1, 2x+1)
 *     channel 4    = U(y, x),   channel 5 = V(y, x).
 */
#ifndef NEUVC_COMMON_PICTURE_H
#define NEUVC_COMMON_PICTURE_H

#include <stddef.h>
#include <stdint.h>

#include "neuvc/neuvc.h"
#include "netlib/netlib.h"

#define NV_PAD 64               /* Wp, Hp are multiples of this */
#define NV_X6_CHANNELS 6
#define NV_PICTURE_ALIGN 64     /* alignment of the luma plane */

/* An owned picture of the coded size: plane p is width[p] x height[p]
 * samples, rows stride[p] == width[p] bytes apart (so every row starts on
 * a multiple of 32 bytes). */
typedef struct nv_picture {
    uint8_t *data[3];
    ptrdiff_t stride[3];
    int width[3], height[3];    /* luma wp x hp, chroma wp/2 x hp/2 */
    uint8_t *mem;
} nv_picture;

/* The coded size of a side of n (1..65535) samples: ceil(n / NV_PAD) * NV_PAD. */
static inline int nv_padded_size(int n)
{
    return (n + NV_PAD - 1) / NV_PAD * NV_PAD;
}

/* Allocates a picture of wp x hp (positive multiples of NV_PAD, at most
 * 65536 each).  Returns 0, NEUVC_ERR(EINVAL) or NEUVC_ERR(ENOMEM); on
 * failure p holds nothing and nv_picture_free(p) is still safe. */
int nv_picture_alloc(nv_picture *p, int wp, int hp);
/* Frees the planes; safe on a zeroed or freed picture. */
void nv_picture_free(nv_picture *p);

/* 0 when pic can be read as a w x h picture: data non-NULL, pic->width ==
 * w, pic->height == h, |stride| >= the plane's row width; else
 * NEUVC_ERR(EINVAL). */
int nv_picture_check(const NeuvcPicture *pic, int w, int h);

/* Copies the w x h picture src (checked by nv_picture_check) into dst
 * (coded size nv_padded_size(w) x nv_padded_size(h)) and extends its
 * edges. */
void nv_picture_import(nv_picture *dst, const NeuvcPicture *src, int w, int h);
/* Repeats the last column and row of the w x h area (chroma
 * ((w+1)/2) x ((h+1)/2)) over the rest of every plane of p. */
void nv_picture_extend(nv_picture *p, int w, int h);

/* The w x h top-left area of p as a NeuvcPicture view (p keeps the
 * planes); pts, frame_type and force_keyframe are zeroed. */
void nv_picture_crop(const nv_picture *p, int w, int h, NeuvcPicture *out);

/* x6 (u8, (hp/2) x (wp/2) x 6) from the whole coded area of p. */
void nv_x6_pack(const nv_picture *p, nl_tensor *x6);
/* The whole coded area of p from x6 (u8, (hp/2) x (wp/2) x 6). */
void nv_x6_unpack(const nl_tensor *x6, nv_picture *p);
/* One x6 row of w pixels: o[6 x + 0..5] = y0[2 x], y0[2 x + 1], y1[2 x],
 * y1[2 x + 1], u[x], v[x] (y0, y1: the two luma rows of the x6 row); the
 * C kernels of common/mcdsp.h's x6_pack_row and x6_unpack_row. */
void nv_x6_pack_row_c(const uint8_t *y0, const uint8_t *y1, const uint8_t *u, const uint8_t *v,
                      uint8_t *o, int w);
void nv_x6_unpack_row_c(const uint8_t *s, uint8_t *y0, uint8_t *y1, uint8_t *u, uint8_t *v,
                        int w);
/* nv_x6_pack / nv_x6_unpack in bands of rows on the pool's threads (NULL:
 * the caller alone) with mc's row kernels (NULL: the C ones); the same
 * bytes. */
struct nv_pool;
struct nv_mcdsp;
void nv_x6_pack_pool(struct nv_pool *pool, const struct nv_mcdsp *mc, const nv_picture *p,
                     nl_tensor *x6);
void nv_x6_unpack_pool(struct nv_pool *pool, const struct nv_mcdsp *mc, const nl_tensor *x6,
                       nv_picture *p);

#endif
