#include "tests/common/testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errmsg.h"
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

int tu_encode(tu_stream *s, const NeuvcEncSettings *es, const uint8_t *src, int n, char *err,
              size_t errlen)
{
    const size_t fb = TU_FRAME_BYTES(es->width, es->height);
    NeuvcEncoder *enc = NULL;
    const uint8_t *hdr;
    int ret;
    memset(s, 0, sizeof(*s));
    if (n < 1 || n > TU_MAX_FRAMES)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL), "%d frames", n);
    if ((ret = neuvc_enc_open(&enc, es)) < 0)
        return nv_fail(err, errlen, ret, "neuvc_enc_open: %d", ret);
    if ((ret = neuvc_enc_get_header(enc, &hdr, &s->header_size)) < 0) {
        nv_fail(err, errlen, ret, "neuvc_enc_get_header: %d", ret);
        goto fail;
    }
    if (s->header_size > sizeof(s->header)) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOSPC), "header of %zu bytes", s->header_size);
        goto fail;
    }
    memcpy(s->header, hdr, s->header_size);
    for (int k = 0; k < n; k++) {
        NeuvcPicture p, rec;
        NeuvcPacket pkt;
        tu_picture_of(&p, (uint8_t *)src + (size_t)k * fb, es->width, es->height);
        p.pts = k;
        if ((ret = neuvc_enc_send_picture(enc, &p)) < 0 ||
            (ret = neuvc_enc_receive_packet(enc, &pkt)) < 0) {
            nv_fail(err, errlen, ret, "frame %d: encoding: %d", k, ret);
            goto fail;
        }
        int want = es->keyint > 0 && k % es->keyint ? NEUVC_FRAME_P : NEUVC_FRAME_I;
        if ((int)pkt.frame_type != want) {
            ret = nv_fail(err, errlen, NEUVC_ERR(EPROTO), "frame %d: type %d, want %d", k,
                          (int)pkt.frame_type, want);
            goto fail;
        }
        s->pkt[k] = malloc(pkt.size);
        s->recon[k] = malloc(fb);
        s->n = k + 1;
        if (!s->pkt[k] || !s->recon[k]) {
            ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
            goto fail;
        }
        memcpy(s->pkt[k], pkt.data, pkt.size);
        s->size[k] = pkt.size;
        if ((ret = neuvc_enc_get_recon(enc, &rec)) < 0) {
            nv_fail(err, errlen, ret, "frame %d: neuvc_enc_get_recon: %d", k, ret);
            goto fail;
        }
        tu_pack(s->recon[k], &rec, es->width, es->height);
    }
    ret = 0;
fail:
    neuvc_enc_close(&enc);
    return ret;
}

int tu_decode(const tu_stream *s, const NeuvcDecSettings *ds, int w, int h, uint8_t *out,
              char *err, size_t errlen)
{
    NeuvcDecoder *dec = NULL;
    int ret;
    if ((ret = neuvc_dec_open(&dec, ds)) < 0)
        return nv_fail(err, errlen, ret, "neuvc_dec_open: %d", ret);
    if ((ret = neuvc_dec_set_header(dec, s->header, s->header_size)) < 0) {
        nv_fail(err, errlen, ret, "neuvc_dec_set_header: %d", ret);
        goto fail;
    }
    for (int k = 0; k < s->n; k++) {
        NeuvcPacket pkt;
        NeuvcPicture pic;
        memset(&pkt, 0, sizeof(pkt));
        pkt.data = s->pkt[k];
        pkt.size = s->size[k];
        pkt.pts = k;
        if ((ret = neuvc_dec_send_packet(dec, &pkt)) < 0 ||
            (ret = neuvc_dec_receive_picture(dec, &pic)) < 0) {
            nv_fail(err, errlen, ret, "frame %d: decoding: %d", k, ret);
            goto fail;
        }
        tu_pack(out + (size_t)k * TU_FRAME_BYTES(w, h), &pic, w, h);
    }
    ret = 0;
fail:
    neuvc_dec_close(&dec);
    return ret;
}

void tu_stream_free(tu_stream *s)
{
    for (int k = 0; k < s->n; k++) {
        free(s->pkt[k]);
        free(s->recon[k]);
        s->pkt[k] = s->recon[k] = NULL;
    }
    s->n = 0;
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
