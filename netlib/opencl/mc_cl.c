/*
 * OBMC on OpenCL (opencl.h): the reference planes and the vector field go
 * up, nl_mc_obmc_x6_cl (kernels.cl) predicts every x6 sample, x6 comes
 * back.  Buffers are made once per picture size.
 */
#include "netlib/opencl/opencl.h"

#include <errno.h>
#include <stdlib.h>

#include "common/errmsg.h"
#include "netlib/opencl/launch.h"
#include "neuvc/neuvc.h"

struct nl_cl_mc {
    nl_cl_kset ks;
    int w, h;
    nlcl_mem ref[3], mvs, x6;
};

void nl_cl_mc_free(nl_cl_mc **pmc)
{
    if (!pmc || !*pmc)
        return;
    nl_cl_mc *mc = *pmc;
    if (mc->ks.cl) {
        for (int p = 0; p < 3; p++)
            nl_cl_mem_release(&mc->ks, &mc->ref[p]);
        nl_cl_mem_release(&mc->ks, &mc->mvs);
        nl_cl_mem_release(&mc->ks, &mc->x6);
    }
    nl_cl_kset_free(&mc->ks);
    free(mc);
    *pmc = NULL;
}

int nl_cl_mc_new(nl_cl_mc **pmc, int w, int h, char *err, size_t errlen)
{
    int ret;
    *pmc = NULL;
    if (w < 16 || h < 16 || w % 16 || h % 16 || w > NL_GRAPH_MAX_SIDE || h > NL_GRAPH_MAX_SIDE)
        return nv_fail(err, errlen, NEUVC_ERR(EINVAL), "OpenCL OBMC: size %dx%d", w, h);
    nl_cl_mc *mc = calloc(1, sizeof(*mc));
    if (!mc)
        return nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "out of memory");
    if ((ret = nl_cl_kset_init(&mc->ks, err, errlen)) < 0)
        goto fail;
    mc->w = w;
    mc->h = h;
    const size_t luma = (size_t)w * (size_t)h, chroma = luma / 4;
    const size_t nmv = (size_t)(w / 16) * (size_t)(h / 16);
    nlcl_int e = NLCL_SUCCESS;
    mc->ref[0] = nl_cl_buf_new(&mc->ks, luma, &e);
    if (e == NLCL_SUCCESS)
        mc->ref[1] = nl_cl_buf_new(&mc->ks, chroma, &e);
    if (e == NLCL_SUCCESS)
        mc->ref[2] = nl_cl_buf_new(&mc->ks, chroma, &e);
    if (e == NLCL_SUCCESS)
        mc->mvs = nl_cl_buf_new(&mc->ks, nmv * 4, &e);
    if (e == NLCL_SUCCESS)
        mc->x6 = nl_cl_buf_new(&mc->ks, chroma * 6, &e);
    if (e != NLCL_SUCCESS || !mc->x6) {
        ret = nv_fail(err, errlen, NEUVC_ERR(ENOMEM), "OpenCL: out of device memory (%d)", (int)e);
        goto fail;
    }
    *pmc = mc;
    return 0;
fail:
    nl_cl_mc_free(&mc);
    return ret;
}

int nl_cl_mc_obmc_x6(nl_cl_mc *mc, const uint8_t *const planes[3], const ptrdiff_t strides[3],
                     const int16_t *mvs, ptrdiff_t mv_stride, nl_tensor *x6)
{
    const nl_cl_kset *ks = &mc->ks;
    const int w = mc->w, h = mc->h, wb = w / 16, hb = h / 16;
    if (x6->type != NL_U8 || x6->c != 6 || x6->w != w / 2 || x6->h != h / 2 || mv_stride < wb)
        return NEUVC_ERR(EINVAL);
    nlcl_int e = NLCL_SUCCESS;
    for (int p = 0; p < 3 && e == NLCL_SUCCESS; p++) {
        const nl_tensor t = { (void *)planes[p], p ? h / 2 : h, p ? w / 2 : w, 1, strides[p],
                              NL_U8 };
        e = nl_cl_tensor_upload(ks, mc->ref[p], &t);
    }
    if (e == NLCL_SUCCESS) {
        const nl_tensor t = { (void *)mvs, hb, wb, 2, 2 * mv_stride, NL_S16 };
        e = nl_cl_tensor_upload(ks, mc->mvs, &t);
    }
    const int ys = w, cs = w / 2, mvs_w = wb;
    const nl_cl_karg args[] = {
        NL_CL_ARG(mc->ref[0]), NL_CL_ARG(ys), NL_CL_ARG(mc->ref[1]), NL_CL_ARG(mc->ref[2]),
        NL_CL_ARG(cs), NL_CL_ARG(w), NL_CL_ARG(h), NL_CL_ARG(mc->mvs), NL_CL_ARG(mvs_w),
        NL_CL_ARG(mc->x6),
    };
    if (e == NLCL_SUCCESS)
        e = nl_cl_set_args(ks, NL_CL_K_MC, args, (int)(sizeof(args) / sizeof(args[0])));
    if (e == NLCL_SUCCESS) {
        /* 16 x (wg / 16) work-groups of x6 samples. */
        size_t local[2] = { ks->wg >= 16 ? 16 : ks->wg, ks->wg >= 16 ? ks->wg / 16 : 1 };
        size_t global[2] = { nl_cl_round_up((size_t)w / 2, local[0]),
                             nl_cl_round_up((size_t)h / 2, local[1]) };
        e = ks->cl->api.EnqueueNDRangeKernel(ks->q, ks->k[NL_CL_K_MC], 2, NULL, global, local, 0,
                                             NULL, NULL);
    }
    if (e == NLCL_SUCCESS)
        e = nl_cl_tensor_download(ks, mc->x6, x6);
    return e == NLCL_SUCCESS ? 0 : NEUVC_ERR(EIO);
}
