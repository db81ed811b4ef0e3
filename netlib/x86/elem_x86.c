/* The per-channel constant patterns of the x86 element kernels
 * (elem_x86.h).  Plain C, built without ISA flags: runs once per call. */
#include "netlib/x86/elem_x86.h"

void nl_x86_rq_pattern_fill(nl_x86_rq_pattern *pt, const nl_requant *rq, int c, int period)
{
    for (int e = 0; e < period; e++) {
        int ch = e % c, s = rq->shift[ch];
        int64_t m = rq->mult[ch], b = rq->bias ? rq->bias[ch] : 0;
        pt->m[e] = m;
        pt->k[e] = b * m + (s > 0 ? (int64_t)1 << (s - 1) : 0);
        pt->s[e] = s;
        pt->sub[e] = (int64_t)((uint64_t)1 << (63 - s));
    }
}

void nl_x86_add_pattern_fill(nl_x86_add_pattern *pt, const nl_add_desc *ad, int c, int period)
{
    for (int e = 0; e < period; e++) {
        int ch = e % c, s = ad->shift[ch];
        pt->ma[e] = ad->ma[ch];
        pt->mb[e] = ad->mb[ch];
        pt->k[e] = s > 0 ? (int64_t)1 << (s - 1) : 0;
        pt->s[e] = s;
        pt->sub[e] = (int64_t)((uint64_t)1 << (63 - s));
    }
}

int nl_x86_add16_covered(const nl_add_desc *ad, int c)
{
    for (int ch = 0; ch < c; ch++)
        if (ad->shift[ch] < 17 || ad->ma[ch] >= NL_X86_ADD16_MMAX ||
            ad->mb[ch] >= NL_X86_ADD16_MMAX)
            return 0;
    return 1;
}

/* m = mh * 2^16 + ml, ml in [-2^15, 2^15), mh in [0, 2^15) for 0 <= m <
 * NL_X86_ADD16_MMAX = 2^31 - 2^15: mh * 2^16 = m - ml is a multiple of
 * 2^16 in (m - 2^15, m + 2^15], so >= 0 (above -2^15) and < 2^31. */
static void split16(int32_t m, int32_t *mh, int32_t *ml)
{
    *ml = ((m + (1 << 15)) & 0xFFFF) - (1 << 15);
    *mh = (m - *ml) >> 16;
}

static int32_t pair16(int32_t lo, int32_t hi)
{
    return (int32_t)((uint32_t)(uint16_t)lo | (uint32_t)(uint16_t)hi << 16);
}

void nl_x86_add16_pattern_fill(nl_x86_add16_pattern *pt, const nl_add_desc *ad, int c,
                               int period)
{
    for (int q = 0; q < period; q++) {
        int r = q & 31, e = (q & ~31) + 8 * ((r & 15) >> 2) + (r & 3) + (r >= 16 ? 4 : 0);
        int ch = e % c;
        int32_t ha, la, hb, lb;
        split16(ad->ma[ch], &ha, &la);
        split16(ad->mb[ch], &hb, &lb);
        pt->ml[q] = pair16(la, lb);
        pt->mh[q] = pair16(ha, hb);
        pt->s[q] = ad->shift[ch] - 17;
    }
}
