/*
 * OpenCL launch helpers shared by the executor, the single ops and OBMC
 * (launch.h): kernel sets, buffers, transfers, op constants, one function
 * per op that sets the arguments and enqueues the kernel.
 */
#include "netlib/opencl/launch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/errmsg.h"
#include "neuvc/neuvc.h"

static const char *const nl_cl_kernel_names[NL_CL_K_COUNT] = {
    "nl_conv_u8_cl", "nl_conv_s8_cl", "nl_conv_s16_cl", "nl_requant_cl", "nl_add_cl",
    "nl_clamp_cl", "nl_s2d_cl", "nl_d2s_cl", "nl_concat_cl", "nl_mc_obmc_x6_cl",
};

void nl_cl_kset_free(nl_cl_kset *ks)
{
    if (!ks->cl)
        return;
    const nlcl_api *a = &ks->cl->api;
    for (int i = 0; i < NL_CL_K_COUNT; i++)
        if (ks->k[i])
            a->ReleaseKernel(ks->k[i]);
    if (ks->dummy)
        a->ReleaseMemObject(ks->dummy);
    if (ks->q)
        a->ReleaseCommandQueue(ks->q);
    memset(ks, 0, sizeof(*ks));
}

int nl_cl_kset_init(nl_cl_kset *ks, char *err, size_t errlen)
{
    memset(ks, 0, sizeof(*ks));
    int ret = nl_cl_get(&ks->cl, err, errlen);
    if (ret < 0)
        return ret;
    const nl_cl *cl = ks->cl;
    const nlcl_api *a = &cl->api;
    nlcl_int e = 0;
    ks->q = a->CreateCommandQueue(cl->ctx, cl->device, 0, &e);
    if (!ks->q || e != NLCL_SUCCESS)
        goto fail;
    for (int i = 0; i < NL_CL_K_COUNT; i++) {
        ks->k[i] = a->CreateKernel(cl->prog, nl_cl_kernel_names[i], &e);
        if (!ks->k[i] || e != NLCL_SUCCESS)
            goto fail;
    }
    ks->dummy = a->CreateBuffer(cl->ctx, NLCL_MEM_READ_WRITE, 16, NULL, &e);
    if (!ks->dummy || e != NLCL_SUCCESS)
        goto fail;
    size_t maxwg = 1;
    a->GetDeviceInfo(cl->device, NLCL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof(maxwg), &maxwg, NULL);
    ks->wg = 1;
    while (ks->wg * 2 <= 64 && ks->wg * 2 <= maxwg)
        ks->wg *= 2;
    return 0;
fail:
    nl_cl_kset_free(ks);
    return nv_fail(err, errlen, NEUVC_ERR(EIO), "OpenCL: queue or kernels not created (%d)",
                   (int)e);
}

nlcl_int nl_cl_set_args(const nl_cl_kset *ks, int k, const nl_cl_karg *args, int n)
{
    for (int i = 0; i < n; i++) {
        nlcl_int e = ks->cl->api.SetKernelArg(ks->k[k], (nlcl_uint)i, args[i].size, args[i].p);
        if (e != NLCL_SUCCESS)
            return e;
    }
    return NLCL_SUCCESS;
}

size_t nl_cl_round_up(size_t n, size_t m)
{
    return (n + m - 1) / m * m;
}

/* 1-D launch over n elements (work-groups of ks->wg, kernels check i < n). */
nlcl_int nl_cl_launch_1d(const nl_cl_kset *ks, int k, size_t n)
{
    size_t global = nl_cl_round_up(n, ks->wg), local = ks->wg;
    return ks->cl->api.EnqueueNDRangeKernel(ks->q, ks->k[k], 1, NULL, &global, &local, 0, NULL,
                                            NULL);
}

nlcl_mem nl_cl_buf_new(const nl_cl_kset *ks, size_t bytes, nlcl_int *e)
{
    return ks->cl->api.CreateBuffer(ks->cl->ctx, NLCL_MEM_READ_WRITE, bytes ? bytes : 1, NULL, e);
}

nlcl_int nl_cl_buf_write(const nl_cl_kset *ks, nlcl_mem m, const void *p, size_t bytes)
{
    return ks->cl->api.EnqueueWriteBuffer(ks->q, m, NLCL_TRUE, 0, bytes, p, 0, NULL, NULL);
}

/* A constant array on the device (NULL when p is NULL). */
nlcl_mem nl_cl_const_new(const nl_cl_kset *ks, const void *p, size_t bytes, nlcl_int *e)
{
    if (!p)
        return NULL;
    nlcl_mem m = nl_cl_buf_new(ks, bytes, e);
    if (m && *e == NLCL_SUCCESS)
        *e = nl_cl_buf_write(ks, m, p, bytes);
    return m;
}

void nl_cl_mem_release(const nl_cl_kset *ks, nlcl_mem *m)
{
    if (*m)
        ks->cl->api.ReleaseMemObject(*m);
    *m = NULL;
}

/* Host tensor (any stride) into a dense device buffer, blocking. */
nlcl_int nl_cl_tensor_upload(const nl_cl_kset *ks, nlcl_mem m, const nl_tensor *t)
{
    const size_t es = nl_type_size(t->type), row = (size_t)t->w * (size_t)t->c * es;
    if (t->stride == (ptrdiff_t)t->w * t->c)
        return nl_cl_buf_write(ks, m, t->data, row * (size_t)t->h);
    for (int y = 0; y < t->h; y++) {
        nlcl_int e = ks->cl->api.EnqueueWriteBuffer(
            ks->q, m, NLCL_FALSE, row * (size_t)y, row,
            (const char *)t->data + (size_t)y * (size_t)t->stride * es, 0, NULL, NULL);
        if (e != NLCL_SUCCESS)
            return e;
    }
    return ks->cl->api.Finish(ks->q);
}

/* Dense device buffer into a host tensor (any stride), blocking. */
nlcl_int nl_cl_tensor_download(const nl_cl_kset *ks, nlcl_mem m, nl_tensor *t)
{
    const size_t es = nl_type_size(t->type), row = (size_t)t->w * (size_t)t->c * es;
    if (t->stride == (ptrdiff_t)t->w * t->c)
        return ks->cl->api.EnqueueReadBuffer(ks->q, m, NLCL_TRUE, 0, row * (size_t)t->h, t->data,
                                             0, NULL, NULL);
    for (int y = 0; y < t->h; y++) {
        nlcl_int e = ks->cl->api.EnqueueReadBuffer(
            ks->q, m, NLCL_FALSE, row * (size_t)y, row,
            (char *)t->data + (size_t)y * (size_t)t->stride * es, 0, NULL, NULL);
        if (e != NLCL_SUCCESS)
            return e;
    }
    return ks->cl->api.Finish(ks->q);
}

size_t nl_cl_tensor_bytes(const nl_tensor *t)
{
    return (size_t)t->h * (size_t)t->w * (size_t)t->c * nl_type_size(t->type);
}

/* ------------------------------------------------------------ op constants */

void nl_cl_op_dev_free(const nl_cl_kset *ks, nl_cl_op_dev *od)
{
    nl_cl_mem_release(ks, &od->a);
    nl_cl_mem_release(ks, &od->b);
    nl_cl_mem_release(ks, &od->c);
    nl_cl_mem_release(ks, &od->d);
}

/* Weights [cout][k][k][cin] -> [k][k][cin][cout8] on the device, cout8 =
 * cout rounded up to NL_CL_CONV_OB, the added channels' weights 0. */
nlcl_int nl_cl_conv_consts(const nl_cl_kset *ks, const nl_conv_desc *d, nl_cl_op_dev *od)
{
    const size_t kk = (size_t)d->k * (size_t)d->k, cin = (size_t)d->cin, cout = (size_t)d->cout;
    const size_t cout8 = nl_cl_round_up(cout, NL_CL_CONV_OB), n = kk * cin * cout8;
    int8_t *hwio = calloc(n, 1);
    nlcl_int e = NLCL_SUCCESS;
    if (!hwio)
        return -6; /* CL_OUT_OF_HOST_MEMORY */
    for (size_t o = 0; o < cout; o++)
        for (size_t t = 0; t < kk; t++)
            for (size_t i = 0; i < cin; i++)
                hwio[(t * cin + i) * cout8 + o] = d->weight[(o * kk + t) * cin + i];
    od->a = nl_cl_const_new(ks, hwio, n, &e);
    free(hwio);
    if (e == NLCL_SUCCESS)
        e = nl_cl_requant_consts(ks, &d->rq, d->cout, od);
    return e;
}

/* Three per-channel arrays of c channels into od->b, c (int32) and d
 * (one byte each); a NULL array leaves its buffer NULL. */
static nlcl_int consts_bcd(const nl_cl_kset *ks, const void *b, const void *c4, const void *d1,
                           int c, nl_cl_op_dev *od)
{
    nlcl_int e = NLCL_SUCCESS;
    od->b = nl_cl_const_new(ks, b, (size_t)c * 4, &e);
    if (e == NLCL_SUCCESS)
        od->c = nl_cl_const_new(ks, c4, (size_t)c * 4, &e);
    if (e == NLCL_SUCCESS)
        od->d = nl_cl_const_new(ks, d1, (size_t)c, &e);
    return e;
}

nlcl_int nl_cl_requant_consts(const nl_cl_kset *ks, const nl_requant *rq, int c, nl_cl_op_dev *od)
{
    return consts_bcd(ks, rq->bias, rq->mult, rq->shift, c, od);
}

nlcl_int nl_cl_add_consts(const nl_cl_kset *ks, const nl_add_desc *d, int c, nl_cl_op_dev *od)
{
    return consts_bcd(ks, d->ma, d->mb, d->shift, c, od);
}

/* ------------------------------------------------------------ launches
 * Shapes are the host views' (dense on the device); each enqueues one
 * kernel and returns the OpenCL status. */

#define A NL_CL_ARG
#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

nlcl_int nl_cl_run_conv(const nl_cl_kset *ks, const nl_conv_desc *d, const nl_cl_op_dev *od,
                        nlcl_mem src, const nl_tensor *x, nlcl_mem dst, const nl_tensor *y)
{
    const int kern = d->in_type == NL_U8   ? NL_CL_K_CONV_U8
                     : d->in_type == NL_S8 ? NL_CL_K_CONV_S8
                                           : NL_CL_K_CONV_S16;
    const int has_bias = od->b != NULL, out_type = (int)d->out_type;
    const nlcl_mem bias = od->b ? od->b : ks->dummy;
    const nl_cl_karg args[] = {
        A(src), A(x->h), A(x->w), A(d->cin), A(od->a), A(bias), A(has_bias), A(od->c), A(od->d),
        A(d->k), A(d->stride), A(d->cout), A(d->rq.lo), A(d->rq.hi), A(out_type), A(dst), A(y->h),
        A(y->w),
    };
    nlcl_int e = nl_cl_set_args(ks, kern, args, NARGS(args));
    if (e != NLCL_SUCCESS)
        return e;
    /* Work items: NL_CL_CONV_OB channels x NL_CL_CONV_PX columns each;
     * work-groups of up to wg items, channel groups first, then column
     * groups. */
    const size_t gx = ((size_t)d->cout + NL_CL_CONV_OB - 1) / NL_CL_CONV_OB;
    const size_t gy = ((size_t)y->w + NL_CL_CONV_PX - 1) / NL_CL_CONV_PX;
    size_t lx = 1, ly = 1;
    while (lx < gx && lx * 2 <= ks->wg)
        lx *= 2;
    while (ly < gy && lx * ly * 2 <= ks->wg)
        ly *= 2;
    size_t local[3] = { lx, ly, 1 };
    size_t global[3] = { nl_cl_round_up(gx, lx), nl_cl_round_up(gy, ly), (size_t)y->h };
    return ks->cl->api.EnqueueNDRangeKernel(ks->q, ks->k[kern], 3, NULL, global, local, 0, NULL,
                                            NULL);
}

nlcl_int nl_cl_run_requant(const nl_cl_kset *ks, const nl_requant *rq, const nl_cl_op_dev *od,
                           nlcl_mem src, const nl_tensor *x, nlcl_mem dst, const nl_tensor *y)
{
    const int st = (int)x->type, dt = (int)y->type, c = x->c, has_bias = od->b != NULL;
    const int n = x->h * x->w * x->c;
    const nlcl_mem bias = od->b ? od->b : ks->dummy;
    const nl_cl_karg args[] = {
        A(src), A(st), A(dst), A(dt), A(n), A(c), A(bias), A(has_bias), A(od->c), A(od->d),
        A(rq->lo), A(rq->hi),
    };
    nlcl_int e = nl_cl_set_args(ks, NL_CL_K_REQUANT, args, NARGS(args));
    return e != NLCL_SUCCESS ? e : nl_cl_launch_1d(ks, NL_CL_K_REQUANT, (size_t)n);
}

nlcl_int nl_cl_run_add(const nl_cl_kset *ks, const nl_add_desc *d, const nl_cl_op_dev *od,
                       nlcl_mem a, const nl_tensor *ta, nlcl_mem b, const nl_tensor *tb,
                       nlcl_mem dst, const nl_tensor *y)
{
    const int at = (int)ta->type, bt = (int)tb->type, dt = (int)y->type, c = y->c;
    const int n = y->h * y->w * y->c;
    const nl_cl_karg args[] = {
        A(a), A(at), A(b), A(bt), A(dst), A(dt), A(n), A(c), A(od->b), A(od->c), A(od->d),
        A(d->lo), A(d->hi),
    };
    nlcl_int e = nl_cl_set_args(ks, NL_CL_K_ADD, args, NARGS(args));
    return e != NLCL_SUCCESS ? e : nl_cl_launch_1d(ks, NL_CL_K_ADD, (size_t)n);
}

nlcl_int nl_cl_run_clamp(const nl_cl_kset *ks, nlcl_mem src, nlcl_mem dst, const nl_tensor *t,
                         int32_t lo, int32_t hi)
{
    const int type = (int)t->type, n = t->h * t->w * t->c;
    const nl_cl_karg args[] = { A(src), A(dst), A(type), A(n), A(lo), A(hi) };
    nlcl_int e = nl_cl_set_args(ks, NL_CL_K_CLAMP, args, NARGS(args));
    return e != NLCL_SUCCESS ? e : nl_cl_launch_1d(ks, NL_CL_K_CLAMP, (size_t)n);
}

nlcl_int nl_cl_run_shuffle(const nl_cl_kset *ks, int d2s, nlcl_mem src, const nl_tensor *x,
                           nlcl_mem dst, const nl_tensor *y, int r)
{
    const int kern = d2s ? NL_CL_K_D2S : NL_CL_K_S2D;
    const int es = (int)nl_type_size(x->type), n = y->h * y->w * y->c;
    const nl_cl_karg args[] = { A(src), A(x->w), A(x->c), A(dst), A(y->w), A(r), A(es), A(n) };
    nlcl_int e = nl_cl_set_args(ks, kern, args, NARGS(args));
    return e != NLCL_SUCCESS ? e : nl_cl_launch_1d(ks, kern, (size_t)n);
}

nlcl_int nl_cl_run_concat(const nl_cl_kset *ks, nlcl_mem a, const nl_tensor *ta, nlcl_mem b,
                          const nl_tensor *tb, nlcl_mem dst, const nl_tensor *y)
{
    const int es = (int)nl_type_size(y->type), n = y->h * y->w * y->c;
    const nl_cl_karg args[] = { A(a), A(ta->c), A(b), A(tb->c), A(dst), A(es), A(n) };
    nlcl_int e = nl_cl_set_args(ks, NL_CL_K_CONCAT, args, NARGS(args));
    return e != NLCL_SUCCESS ? e : nl_cl_launch_1d(ks, NL_CL_K_CONCAT, (size_t)n);
}
