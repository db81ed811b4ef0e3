/*
 * What netlib/opencl's executor, single ops and OBMC share: a kernel set
 * per user, device buffers and transfers, the op constants on the device,
 * and one launch function per op.  Internal to netlib/opencl.
 *
 * Every nlcl_int result is an OpenCL status (NLCL_SUCCESS or a negative
 * CL_* code); transfers are blocking, launches are enqueued on ks->q (in
 * order) and complete by the next blocking transfer or Finish.  Device
 * tensors are dense (stride w * c) in the host layout (netlib.h).
 */
#ifndef NEUVC_NETLIB_OPENCL_LAUNCH_H
#define NEUVC_NETLIB_OPENCL_LAUNCH_H

#include <stddef.h>
#include <stdint.h>

#include "netlib/netlib.h"
#include "netlib/opencl/opencl.h"

/* The kernels of kernels.cl, as indices into nl_cl_kset.k. */
enum {
    NL_CL_K_CONV_U8, NL_CL_K_CONV_S8, NL_CL_K_CONV_S16, NL_CL_K_REQUANT, NL_CL_K_ADD,
    NL_CL_K_CLAMP, NL_CL_K_S2D, NL_CL_K_D2S, NL_CL_K_CONCAT, NL_CL_K_MC,
    NL_CL_K_COUNT
};

/* Output channels and columns of one convolution work item (kernels.cl's
 * CONV_OB and CONV_PX). */
#define NL_CL_CONV_OB 8
#define NL_CL_CONV_PX 4

/* A queue and one object per kernel: what one thread needs to launch
 * (clSetKernelArg is not thread-safe on a shared kernel object). */
typedef struct nl_cl_kset {
    const nl_cl *cl;
    nlcl_command_queue q;
    nlcl_kernel k[NL_CL_K_COUNT];
    nlcl_mem dummy;              /* 16 bytes, bound where an optional array is absent */
    size_t wg;                   /* work-group size: min(64, device maximum), a power of 2 */
} nl_cl_kset;

/* 0, or nl_cl_get's error / NEUVC_ERR(EIO) with a message; ks is then
 * empty (nl_cl_kset_free is still safe). */
int nl_cl_kset_init(nl_cl_kset *ks, char *err, size_t errlen);
void nl_cl_kset_free(nl_cl_kset *ks);

/* Kernel arguments in order: {size, pointer} pairs. */
typedef struct nl_cl_karg {
    size_t size;
    const void *p;
} nl_cl_karg;
#define NL_CL_ARG(v) { sizeof(v), &(v) }

nlcl_int nl_cl_set_args(const nl_cl_kset *ks, int k, const nl_cl_karg *args, int n);
/* n rounded up to a multiple of m (m >= 1). */
size_t nl_cl_round_up(size_t n, size_t m);
/* 1-D launch of kernel k over n elements (work-groups of ks->wg; the
 * kernels check their index against n). */
nlcl_int nl_cl_launch_1d(const nl_cl_kset *ks, int k, size_t n);

/* A read-write buffer of bytes (1 when 0); NULL and *e set on failure. */
nlcl_mem nl_cl_buf_new(const nl_cl_kset *ks, size_t bytes, nlcl_int *e);
nlcl_int nl_cl_buf_write(const nl_cl_kset *ks, nlcl_mem m, const void *p, size_t bytes);
/* A device copy of bytes at p; NULL (and *e untouched) when p is NULL. */
nlcl_mem nl_cl_const_new(const nl_cl_kset *ks, const void *p, size_t bytes, nlcl_int *e);
/* Releases *m when set and clears it. */
void nl_cl_mem_release(const nl_cl_kset *ks, nlcl_mem *m);
/* Host tensor (any stride) to / from a dense device buffer. */
nlcl_int nl_cl_tensor_upload(const nl_cl_kset *ks, nlcl_mem m, const nl_tensor *t);
nlcl_int nl_cl_tensor_download(const nl_cl_kset *ks, nlcl_mem m, nl_tensor *t);
/* h * w * c * element size. */
size_t nl_cl_tensor_bytes(const nl_tensor *t);

/* The constants of one op on the device: conv: weight (HWIO, cout
 * padded to NL_CL_CONV_OB with zero weights), bias (or NULL), mult, shift;
 * requant: -, bias (or NULL), mult, shift; add: -, ma, mb, shift. */
typedef struct nl_cl_op_dev {
    nlcl_mem a, b, c, d;
} nl_cl_op_dev;

nlcl_int nl_cl_conv_consts(const nl_cl_kset *ks, const nl_conv_desc *d, nl_cl_op_dev *od);
nlcl_int nl_cl_requant_consts(const nl_cl_kset *ks, const nl_requant *rq, int c,
                              nl_cl_op_dev *od);
nlcl_int nl_cl_add_consts(const nl_cl_kset *ks, const nl_add_desc *d, int c, nl_cl_op_dev *od);
void nl_cl_op_dev_free(const nl_cl_kset *ks, nl_cl_op_dev *od);

/* One op over whole tensors (shapes from the host views x, y, ...; the
 * buffers hold them densely), with nl_xxx_ref's contract (netlib.h). */
nlcl_int nl_cl_run_conv(const nl_cl_kset *ks, const nl_conv_desc *d, const nl_cl_op_dev *od,
                        nlcl_mem src, const nl_tensor *x, nlcl_mem dst, const nl_tensor *y);
nlcl_int nl_cl_run_requant(const nl_cl_kset *ks, const nl_requant *rq, const nl_cl_op_dev *od,
                           nlcl_mem src, const nl_tensor *x, nlcl_mem dst, const nl_tensor *y);
nlcl_int nl_cl_run_add(const nl_cl_kset *ks, const nl_add_desc *d, const nl_cl_op_dev *od,
                       nlcl_mem a, const nl_tensor *ta, nlcl_mem b, const nl_tensor *tb,
                       nlcl_mem dst, const nl_tensor *y);
/* dst may be src. */
nlcl_int nl_cl_run_clamp(const nl_cl_kset *ks, nlcl_mem src, nlcl_mem dst, const nl_tensor *t,
                         int32_t lo, int32_t hi);
/* Space-to-depth (d2s == 0) or depth-to-space (d2s == 1) by r. */
nlcl_int nl_cl_run_shuffle(const nl_cl_kset *ks, int d2s, nlcl_mem src, const nl_tensor *x,
                           nlcl_mem dst, const nl_tensor *y, int r);
nlcl_int nl_cl_run_concat(const nl_cl_kset *ks, nlcl_mem a, const nl_tensor *ta, nlcl_mem b,
                          const nl_tensor *tb, nlcl_mem dst, const nl_tensor *y);

#endif
