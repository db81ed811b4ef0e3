/*
 * netlib: element types and descriptor validation.  Every check here is
 * what makes the reference kernels (netlib/ref) free of overflow: a
 * descriptor accepted by nl_conv_check() keeps every intermediate value
 * within the ranges the rounding-rule comment of netlib.h relies on.
 */
#include "netlib/netlib.h"

#include "neuvc/neuvc.h"

size_t nl_type_size(nl_type t)
{
    switch (t) {
    case NL_U8: return 1;
    case NL_S8: return 1;
    case NL_S16: return 2;
    case NL_S32: return 4;
    default: return 0;
    }
}

void nl_type_range(nl_type t, int32_t *lo, int32_t *hi)
{
    switch (t) {
    case NL_U8: *lo = 0; *hi = 255; break;
    case NL_S8: *lo = -128; *hi = 127; break;
    case NL_S16: *lo = -NL_S16_MAX; *hi = NL_S16_MAX; break;
    case NL_S32: *lo = INT32_MIN; *hi = INT32_MAX; break;
    default: *lo = 0; *hi = -1; break; /* empty: no value is valid */
    }
}

static int type_valid(nl_type t)
{
    return t >= NL_U8 && t < NL_NTYPES;
}

/* lo <= hi, both inside the natural range of t. */
static int bounds_valid(int32_t lo, int32_t hi, nl_type t)
{
    int32_t tlo, thi;
    if (!type_valid(t))
        return 0;
    nl_type_range(t, &tlo, &thi);
    return tlo <= lo && lo <= hi && hi <= thi;
}

int nl_requant_check(const nl_requant *rq, int c, nl_type out_type)
{
    if (!rq || !rq->mult || !rq->shift || c < 1 || c > NL_CHANNELS_MAX)
        return NEUVC_ERR(EINVAL);
    if (!bounds_valid(rq->lo, rq->hi, out_type))
        return NEUVC_ERR(EINVAL);
    for (int i = 0; i < c; i++) {
        /* mult is int32_t, so mult < 2^31 holds by type. */
        if (rq->mult[i] < 0 || rq->shift[i] > NL_SHIFT_MAX)
            return NEUVC_ERR(EINVAL);
        if (rq->bias && (rq->bias[i] < -NL_BIAS_MAX || rq->bias[i] > NL_BIAS_MAX))
            return NEUVC_ERR(EINVAL);
    }
    return 0;
}

int nl_add_check(const nl_add_desc *d, int c, nl_type out_type)
{
    if (!d || !d->ma || !d->mb || !d->shift || c < 1 || c > NL_CHANNELS_MAX)
        return NEUVC_ERR(EINVAL);
    if (!bounds_valid(d->lo, d->hi, out_type))
        return NEUVC_ERR(EINVAL);
    for (int i = 0; i < c; i++)
        if (d->ma[i] < 0 || d->mb[i] < 0 || d->shift[i] > NL_SHIFT_MAX)
            return NEUVC_ERR(EINVAL);
    return 0;
}

/* Largest |input sample| * largest |weight| for an input type.  u8 and s8
 * share the u8 bound (255 * 128) as netlib.h states: a kernel may offset
 * s8 samples by +128 to use unsigned-by-signed dot products. */
static int64_t max_product(nl_type in_type)
{
    return in_type == NL_S16 ? (int64_t)NL_S16_MAX * 128 : (int64_t)255 * 128;
}

int nl_conv_check(const nl_conv_desc *d)
{
    if (!d)
        return NEUVC_ERR(EINVAL);
    if ((d->k != 1 && d->k != 3) || (d->stride != 1 && d->stride != 2))
        return NEUVC_ERR(EINVAL);
    if (d->cin < 1 || d->cin > NL_CHANNELS_MAX || d->cout < 1 || d->cout > NL_CHANNELS_MAX)
        return NEUVC_ERR(EINVAL);
    if (d->in_type != NL_U8 && d->in_type != NL_S8 && d->in_type != NL_S16)
        return NEUVC_ERR(EINVAL);
    if (!type_valid(d->out_type) || !d->weight)
        return NEUVC_ERR(EINVAL);
    int ret = nl_requant_check(&d->rq, d->cout, d->out_type);
    if (ret < 0)
        return ret;
    /* cout * k * k * cin <= 2^16 * 9 * 2^16 < 2^36: exact in uint64_t. */
    uint64_t nw = (uint64_t)d->cout * (uint64_t)(d->k * d->k) * (uint64_t)d->cin;
    for (uint64_t i = 0; i < nw; i++)
        if (d->weight[i] < -127)
            return NEUVC_ERR(EINVAL);
    /* k*k*cin <= 9 * 2^16 and max_product <= 2^19, so the product < 2^39:
     * exact in int64.  Refusing >= 2^30 leaves |acc| < 2^30 and, with
     * |bias| <= NL_BIAS_MAX < 2^30, |acc + bias| < 2^31. */
    int64_t taps = (int64_t)d->k * d->k * d->cin;
    if (taps * max_product(d->in_type) >= ((int64_t)1 << 30))
        return NEUVC_ERR(ERANGE);
    return 0;
}
