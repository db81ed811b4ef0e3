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
