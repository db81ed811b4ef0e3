/*
 * Single ops on OpenCL (opencl.h): each makes a kernel set of its own,
 * device copies of the operands, one launch, reads the result back and
 * releases everything.  For the checker: slow, and exact.
 */
#include "netlib/opencl/opencl.h"

#include <string.h>

#include "netlib/opencl/launch.h"
#include "neuvc/neuvc.h"

typedef struct one_op {
    nl_cl_kset ks;
    nl_cl_op_dev od;
    nlcl_mem m[3];               /* operands: up to two sources and the destination */
} one_op;

static int one_begin(one_op *o)
{
    memset(o, 0, sizeof(*o));
    return nl_cl_kset_init(&o->ks, NULL, 0);
}

/* Device buffer i for t, uploaded when up. */
static nlcl_int one_buf(one_op *o, int i, const nl_tensor *t, int up)
{
    nlcl_int e = NLCL_SUCCESS;
    o->m[i] = nl_cl_buf_new(&o->ks, nl_cl_tensor_bytes(t), &e);
    if (o->m[i] && e == NLCL_SUCCESS && up)
        e = nl_cl_tensor_upload(&o->ks, o->m[i], t);
    return o->m[i] ? e : (e != NLCL_SUCCESS ? e : -4);
}

/* Reads m[i] into t (when e is still a success), releases everything. */
static int one_end(one_op *o, nlcl_int e, int i, nl_tensor *t)
{
    if (e == NLCL_SUCCESS)
        e = nl_cl_tensor_download(&o->ks, o->m[i], t);
    nl_cl_op_dev_free(&o->ks, &o->od);
    for (int k = 0; k < 3; k++)
        nl_cl_mem_release(&o->ks, &o->m[k]);
    nl_cl_kset_free(&o->ks);
    return e == NLCL_SUCCESS ? 0 : NEUVC_ERR(EIO);
}

int nl_cl_conv(const nl_conv_desc *d, const nl_tensor *src, nl_tensor *dst)
{
    one_op o;
    int ret = one_begin(&o);
    if (ret < 0)
        return ret;
    nlcl_int e = nl_cl_conv_consts(&o.ks, d, &o.od);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 0, src, 1);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 2, dst, 0);
    if (e == NLCL_SUCCESS)
        e = nl_cl_run_conv(&o.ks, d, &o.od, o.m[0], src, o.m[2], dst);
    return one_end(&o, e, 2, dst);
}

int nl_cl_requant(const nl_requant *rq, const nl_tensor *src, nl_tensor *dst)
{
    one_op o;
    int ret = one_begin(&o);
    if (ret < 0)
        return ret;
    nlcl_int e = nl_cl_requant_consts(&o.ks, rq, src->c, &o.od);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 0, src, 1);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 2, dst, 0);
    if (e == NLCL_SUCCESS)
        e = nl_cl_run_requant(&o.ks, rq, &o.od, o.m[0], src, o.m[2], dst);
    return one_end(&o, e, 2, dst);
}

int nl_cl_add(const nl_add_desc *d, const nl_tensor *a, const nl_tensor *b, nl_tensor *dst)
{
    one_op o;
    int ret = one_begin(&o);
    if (ret < 0)
        return ret;
    nlcl_int e = nl_cl_add_consts(&o.ks, d, dst->c, &o.od);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 0, a, 1);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 1, b, 1);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 2, dst, 0);
    if (e == NLCL_SUCCESS)
        e = nl_cl_run_add(&o.ks, d, &o.od, o.m[0], a, o.m[1], b, o.m[2], dst);
    return one_end(&o, e, 2, dst);
}

int nl_cl_clamp(nl_tensor *t, int32_t lo, int32_t hi)
{
    one_op o;
    int ret = one_begin(&o);
    if (ret < 0)
        return ret;
    nlcl_int e = one_buf(&o, 0, t, 1);
    if (e == NLCL_SUCCESS)
        e = nl_cl_run_clamp(&o.ks, o.m[0], o.m[0], t, lo, hi);
    return one_end(&o, e, 0, t);
}

static int one_shuffle(int d2s, const nl_tensor *src, nl_tensor *dst, int r)
{
    one_op o;
    int ret = one_begin(&o);
    if (ret < 0)
        return ret;
    nlcl_int e = one_buf(&o, 0, src, 1);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 2, dst, 0);
    if (e == NLCL_SUCCESS)
        e = nl_cl_run_shuffle(&o.ks, d2s, o.m[0], src, o.m[2], dst, r);
    return one_end(&o, e, 2, dst);
}

int nl_cl_s2d(const nl_tensor *src, nl_tensor *dst, int r)
{
    return one_shuffle(0, src, dst, r);
}

int nl_cl_d2s(const nl_tensor *src, nl_tensor *dst, int r)
{
    return one_shuffle(1, src, dst, r);
}

int nl_cl_concat(const nl_tensor *a, const nl_tensor *b, nl_tensor *dst)
{
    one_op o;
    int ret = one_begin(&o);
    if (ret < 0)
        return ret;
    nlcl_int e = one_buf(&o, 0, a, 1);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 1, b, 1);
    if (e == NLCL_SUCCESS)
        e = one_buf(&o, 2, dst, 0);
    if (e == NLCL_SUCCESS)
        e = nl_cl_run_concat(&o.ks, o.m[0], a, o.m[1], b, o.m[2], dst);
    return one_end(&o, e, 2, dst);
}
