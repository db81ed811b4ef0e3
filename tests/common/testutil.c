#include "tests/common/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/y4m.h"

int tu_clip_crop(uint8_t *dst, int n, int w, int h, int x, int y, char *path,
                 size_t pathlen)
{
    const char *dir = getenv("NEUVC_CLIPS");
    const size_t cw = (size_t)(w + 1) / 2, ch = (size_t)(h + 1) / 2;
    snprintf(path, pathlen, "%s/eval/vmaf_park_joy_480x270_10f.y4m",
             dir && *dir ? dir : "../shared/clips");
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int ret = -2;
    y4m_reader r;
    if (y4m_reader_open(&r, f, 0, 0) != 0)
        goto fail;
    for (int k = 0; k < n; k++) {
        NeuvcPicture p;
        if (y4m_read_picture(&r, &p) != 1) {
            y4m_reader_close(&r);
            goto fail;
        }
        uint8_t *d = dst + (size_t)k * TU_FRAME_BYTES(w, h);
        for (int j = 0; j < h; j++)
            memcpy(d + (size_t)j * w, p.data[0] + (size_t)(j + y) * p.stride[0] + x, (size_t)w);
        for (int i = 1; i < 3; i++)
            for (size_t j = 0; j < ch; j++)
                memcpy(d + (size_t)w * h + (i - 1) * cw * ch + j * cw,
                       p.data[i] + (j + y / 2) * p.stride[i] + x / 2, cw);
    }
    y4m_reader_close(&r);
    ret = 0;
fail:
    fclose(f);
    return ret;
}

void tu_picture_of(NeuvcPicture *p, uint8_t *d, int w, int h)
{
    const size_t cw = (size_t)(w + 1) / 2, ch = (size_t)(h + 1) / 2;
    memset(p, 0, sizeof(*p));
    p->data[0] = d;
    p->data[1] = d + (size_t)w * h;
    p->data[2] = d + (size_t)w * h + cw * ch;
    p->stride[0] = w;
    p->stride[1] = p->stride[2] = (ptrdiff_t)cw;
    p->width = w;
    p->height = h;
}

void tu_pack(uint8_t *dst, const NeuvcPicture *p, int w, int h)
{
    const size_t cw = (size_t)(w + 1) / 2, ch = (size_t)(h + 1) / 2;
    for (int j = 0; j < h; j++)
        memcpy(dst + (size_t)j * w, p->data[0] + (ptrdiff_t)j * p->stride[0], (size_t)w);
    for (int i = 1; i < 3; i++)
        for (size_t j = 0; j < ch; j++)
            memcpy(dst + (size_t)w * h + (i - 1) * cw * ch + j * cw,
                   p->data[i] + (ptrdiff_t)j * p->stride[i], cw);
}

uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int32_t rng_range(rng *r, int32_t lo, int32_t hi)
{
    return (int32_t)((int64_t)lo + (int64_t)(rng_next(r) % (uint64_t)((int64_t)hi - lo + 1)));
}
