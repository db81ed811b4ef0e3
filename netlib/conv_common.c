#include "netlib/conv_common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "neuvc/neuvc.h"

size_t nl_conv_align_up(size_t n)
{
    return (n + NL_CONV_ALIGN - 1) / NL_CONV_ALIGN * NL_CONV_ALIGN;
}

uint8_t *nl_conv_arena(const size_t *bytes, int n, size_t *off)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        off[i] = total;
        total += nl_conv_align_up(bytes[i]);
    }
    uint8_t *mem = aligned_alloc(NL_CONV_ALIGN, total);
    if (mem)
        memset(mem, 0, total);
    return mem;
}

int nl_conv_pick_nv(int nblk, int max_nv)
{
    if (nblk <= max_nv)
        return nblk;
    for (int nv = max_nv; nv >= 2; nv--)
        if (nblk % nv == 0)
            return nv;
    return max_nv;
}

int nl_conv_pix_max(const int *pix, int nblk, int nv)
{
    int pix_max = pix[nv];
    if (nblk % nv && pix[nblk % nv] > pix_max)
        pix_max = pix[nblk % nv];
    return pix_max;
}

long nl_conv_chunk(long max_px, int k, int stride, int pix_max)
{
    if (max_px < k)
        return NEUVC_ERR(ENOTSUP);
    long chunk = (max_px - k) / stride - pix_max + 2;
    if (chunk < 1)
        return NEUVC_ERR(ENOTSUP);
    if (chunk >= pix_max)
        chunk -= chunk % pix_max;
    return chunk;
}

int nl_conv_weight_at(const nl_conv_desc *d, int o, int ky, int e)
{
    if (o >= d->cout || e >= d->k * d->cin)
        return 0;
    int kx = e / d->cin, i = e % d->cin;
    return d->weight[(((ptrdiff_t)o * d->k + ky) * d->k + kx) * d->cin + i];
}

int32_t nl_conv_acc0(const nl_conv_desc *d, int o, int in_off)
{
    int64_t a0 = d->rq.bias ? d->rq.bias[o] : 0;
    if (in_off) {
        int64_t sw = 0;
        for (int e = 0; e < d->k * d->k * d->cin; e++)
            sw += d->weight[(ptrdiff_t)o * d->k * d->k * d->cin + e];
        a0 -= in_off * sw;
    }
    return (int32_t)a0;
}

void nl_conv_row_span(int ix0, int npx, int w, int *pa, int *pb)
{
    int a = ix0 < 0 ? -ix0 : 0;
    if (a > npx)
        a = npx;
    int b = w - ix0;
    if (b > npx)
        b = npx;
    if (b < a)
        b = a;
    *pa = a;
    *pb = b;
}

void nl_conv_install(nl_dsp *d, const nl_conv_kernel *k1, const nl_conv_kernel *k3)
{
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < NL_DSP_NIN; i++)
            for (int o = 0; o < NL_NTYPES; o++) {
                d->conv[NL_DSP_K1][s][i][o] = k1[i];
                d->conv[NL_DSP_K3][s][i][o] = k3[i];
            }
}
