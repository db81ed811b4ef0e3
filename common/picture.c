/*
 * Padded pictures, edge extension, and the x6 packing (common/picture.h).
 */
#include "common/picture.h"

#include <stdlib.h>
#include <string.h>

#include "common/mcdsp.h"
#include "common/threadpool.h"

int nv_picture_alloc(nv_picture *p, int wp, int hp)
{
    memset(p, 0, sizeof(*p));
    if (wp < NV_PAD || hp < NV_PAD || wp % NV_PAD || hp % NV_PAD || wp > 65536 || hp > 65536)
        return NEUVC_ERR(EINVAL);
    /* wp, hp <= 2^16: the three planes total 1.5 * 2^32 bytes at most. */
    size_t luma = (size_t)wp * (size_t)hp;
    size_t chroma = luma / 4;
    p->mem = aligned_alloc(NV_PICTURE_ALIGN, luma + 2 * chroma);
    if (!p->mem)
        return NEUVC_ERR(ENOMEM);
    for (int i = 0; i < 3; i++) {
        p->width[i] = i ? wp / 2 : wp;
        p->height[i] = i ? hp / 2 : hp;
        p->stride[i] = p->width[i];
    }
    /* wp is a multiple of 64, wp / 2 of 32: rows stay 32-byte aligned;
     * planes start at multiples of luma / 4, a multiple of 1024. */
    p->data[0] = p->mem;
    p->data[1] = p->mem + luma;
    p->data[2] = p->mem + luma + chroma;
    return 0;
}

void nv_picture_free(nv_picture *p)
{
    if (!p)
        return;
    free(p->mem);
    memset(p, 0, sizeof(*p));
}

int nv_picture_check(const NeuvcPicture *pic, int w, int h)
{
    if (!pic || pic->width != w || pic->height != h)
        return NEUVC_ERR(EINVAL);
    for (int i = 0; i < 3; i++) {
        ptrdiff_t row = i ? (w + 1) / 2 : w;
        ptrdiff_t s = pic->stride[i];
        if (!pic->data[i] || (s < 0 ? -s : s) < row)
            return NEUVC_ERR(EINVAL);
    }
    return 0;
}

/* Extends one plane: the area cw x ch (>= 1 each) over width x height. */
static void plane_extend(uint8_t *data, ptrdiff_t stride, int width, int height, int cw, int ch)
{
    if (cw < width) {
        for (int y = 0; y < ch; y++) {
            uint8_t *row = data + y * stride;
            memset(row + cw, row[cw - 1], (size_t)(width - cw));
        }
    }
    const uint8_t *last = data + (ch - 1) * stride;
    for (int y = ch; y < height; y++)
        memcpy(data + y * stride, last, (size_t)width);
}

void nv_picture_extend(nv_picture *p, int w, int h)
{
    for (int i = 0; i < 3; i++) {
        int cw = i ? (w + 1) / 2 : w;
        int ch = i ? (h + 1) / 2 : h;
        plane_extend(p->data[i], p->stride[i], p->width[i], p->height[i], cw, ch);
    }
}

void nv_picture_import(nv_picture *dst, const NeuvcPicture *src, int w, int h)
{
    for (int i = 0; i < 3; i++) {
        int cw = i ? (w + 1) / 2 : w;
        int ch = i ? (h + 1) / 2 : h;
        for (int y = 0; y < ch; y++)
            memcpy(dst->data[i] + y * dst->stride[i], src->data[i] + y * src->stride[i],
                   (size_t)cw);
    }
    nv_picture_extend(dst, w, h);
}

void nv_picture_crop(const nv_picture *p, int w, int h, NeuvcPicture *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < 3; i++) {
        out->data[i] = p->data[i];
        out->stride[i] = p->stride[i];
    }
    out->width = w;
    out->height = h;
}

void nv_x6_pack_row_c(const uint8_t *y0, const uint8_t *y1, const uint8_t *u, const uint8_t *v,
                      uint8_t *o, int w)
{
    for (int x = 0; x < w; x++, o += NV_X6_CHANNELS) {
        o[0] = y0[2 * x];
        o[1] = y0[2 * x + 1];
        o[2] = y1[2 * x];
        o[3] = y1[2 * x + 1];
        o[4] = u[x];
        o[5] = v[x];
    }
}

void nv_x6_unpack_row_c(const uint8_t *s, uint8_t *y0, uint8_t *y1, uint8_t *u, uint8_t *v,
                        int w)
{
    for (int x = 0; x < w; x++, s += NV_X6_CHANNELS) {
        y0[2 * x] = s[0];
        y0[2 * x + 1] = s[1];
        y1[2 * x] = s[2];
        y1[2 * x + 1] = s[3];
        u[x] = s[4];
        v[x] = s[5];
    }
}

static void pack_rows(nv_x6_pack_row_fn f, const nv_picture *p, nl_tensor *x6, int ya,
                      int yb)
{
    for (int y = ya; y < yb; y++) {
        const uint8_t *y0 = p->data[0] + (2 * y) * p->stride[0];
        f(y0, y0 + p->stride[0], p->data[1] + y * p->stride[1], p->data[2] + y * p->stride[2],
          (uint8_t *)x6->data + y * x6->stride, x6->w);
    }
}

static void unpack_rows(nv_x6_unpack_row_fn f, const nl_tensor *x6, nv_picture *p, int ya,
                        int yb)
{
    for (int y = ya; y < yb; y++) {
        uint8_t *y0 = p->data[0] + (2 * y) * p->stride[0];
        f((const uint8_t *)x6->data + y * x6->stride, y0, y0 + p->stride[0],
          p->data[1] + y * p->stride[1], p->data[2] + y * p->stride[2], x6->w);
    }
}

void nv_x6_pack(const nv_picture *p, nl_tensor *x6)
{
    pack_rows(nv_x6_pack_row_c, p, x6, 0, x6->h);
}

void nv_x6_unpack(const nl_tensor *x6, nv_picture *p)
{
    unpack_rows(nv_x6_unpack_row_c, x6, p, 0, x6->h);
}

/* Pool jobs of nv_x6_pack_pool / nv_x6_unpack_pool: band j of X6_BANDS. */
#define X6_BANDS 8

typedef struct x6_job {
    nv_picture *pic;
    nl_tensor *x6;
    nv_x6_pack_row_fn pack;      /* NULL: unpack */
    nv_x6_unpack_row_fn unpack;
} x6_job;

static void x6_band(void *arg, int j, int thread)
{
    const x6_job *b = arg;
    const int h = b->x6->h, y0 = j * h / X6_BANDS, y1 = (j + 1) * h / X6_BANDS;
    (void)thread;
    if (b->pack)
        pack_rows(b->pack, b->pic, b->x6, y0, y1);
    else
        unpack_rows(b->unpack, b->x6, b->pic, y0, y1);
}

void nv_x6_pack_pool(nv_pool *pool, const nv_mcdsp *mc, const nv_picture *p, nl_tensor *x6)
{
    /* p is only read */
    x6_job b = { (nv_picture *)p, x6, mc ? mc->x6_pack_row : nv_x6_pack_row_c, NULL };
    nv_pool_run(pool, x6_band, &b, X6_BANDS);
}

void nv_x6_unpack_pool(nv_pool *pool, const nv_mcdsp *mc, const nl_tensor *x6, nv_picture *p)
{
    /* x6 is only read */
    x6_job b = { p, (nl_tensor *)x6, NULL, mc ? mc->x6_unpack_row : nv_x6_unpack_row_c };
    nv_pool_run(pool, x6_band, &b, X6_BANDS);
}
