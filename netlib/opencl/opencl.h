/*
 * netlib's OpenCL backend: one device per process, the kernels of
 * kernels.cl built once, graph executors whose tensors live on the device,
 * and single-op entry points for the checker.
 *
 * DEVICE.  The first use (nl_cl_get) loads the ICD loader (cl_api.h),
 * lists every platform's devices and takes, in this order: the device
 * numbered by the environment variable NEUVC_OPENCL_DEVICE (0, 1, ... over
 * all platforms in loader order), else the first GPU, else the first
 * device.  A device must be available, have a compiler, and run the
 * full profile (64-bit integers) or have cles_khr_int64.  The outcome,
 * success or the reason for failure, is kept for the life of the process
 * (pthread_once): later calls are free.
 *
 * PROGRAM.  kernels.cl (embedded at build time) is built once per process
 * with -cl-std=CL1.2.  The binary is cached as a file in
 * $NEUVC_OPENCL_CACHE, else $XDG_CACHE_HOME/neuvc, else ~/.cache/neuvc,
 * named by the SHA-256 of the source, the build options and the
 * platform, device and driver versions; a cached binary that fails to
 * load or build is ignored and rebuilt.  NEUVC_OPENCL_CACHE=off disables
 * the cache.
 *
 * THREADS.  The device state is shared and read-only after creation; every
 * executor has its own command queue and kernel objects, so executors may
 * run concurrently on different threads (one executor: one thread at a
 * time, as on the CPU).
 */
#ifndef NEUVC_NETLIB_OPENCL_OPENCL_H
#define NEUVC_NETLIB_OPENCL_OPENCL_H

#include <stddef.h>
#include <stdint.h>

#include "netlib/graph.h"
#include "netlib/netlib.h"
#include "netlib/opencl/cl_api.h"

/* The process's OpenCL state (read-only once made). */
typedef struct nl_cl {
    nlcl_api api;
    nlcl_platform_id platform;
    nlcl_device_id device;
    nlcl_context ctx;
    nlcl_program prog;
    char desc[256];              /* "platform / device (type, N compute units)" */
    int is_gpu;
    int from_cache;              /* the program came from the binary cache */
    double build_seconds;        /* wall time of the program build (or load) */
} nl_cl;

/* The shared state, made at the first call.  0 and *cl set, or
 * NEUVC_ERR(ENOENT) (no loader, no platform, no suitable device) /
 * NEUVC_ERR(ENOSYS) (the program failed to build) / NEUVC_ERR(ENOMEM),
 * with the one-line reason in err (the same on every call). */
int nl_cl_get(const nl_cl **cl, char *err, size_t errlen);

/* "OpenCL: <desc>" when usable, else "OpenCL unavailable: <reason>". */
const char *nl_cl_describe(void);

/* ------------------------------------------------------------ executor
 * nl_graph_exec's contract (graph.h) on the device; graph_exec.c forwards
 * to these when its table asks for OpenCL (nl_dsp.opencl).  Inputs are
 * uploaded at each run, every intermediate slot stays on the device, and
 * only the graph outputs are read back (into host buffers owned by the
 * executor).  Device buffers are shared between slots whose lifetimes do
 * not overlap (the CPU executor's plan). */
typedef struct nl_cl_exec nl_cl_exec;

int nl_cl_exec_new(nl_cl_exec **ex, const nl_graph *g, char *err, size_t errlen);
void nl_cl_exec_free(nl_cl_exec **ex);
int nl_cl_exec_prepare(nl_cl_exec *ex, const int *h, const int *w, char *err, size_t errlen);
int nl_cl_exec_run(nl_cl_exec *ex, const nl_tensor *in, nl_tensor *out, nl_stats *st,
                   char *err, size_t errlen);
const nl_tensor *nl_cl_exec_output(const nl_cl_exec *ex, uint32_t i);
uint64_t nl_cl_exec_macs(const nl_cl_exec *ex);
size_t nl_cl_exec_bytes(const nl_cl_exec *ex);
/* Input `in` of ex takes output `out` of src: at a run where the input
 * tensor given is src's output view (same data pointer), the device copy
 * is used and nothing is uploaded.  src must outlive ex and have run
 * since it was last prepared. */
int nl_cl_exec_link(nl_cl_exec *ex, uint32_t in, const nl_cl_exec *src, uint32_t out);
/* Output `out` is not read back (only linked executors read it); its view
 * keeps its shape and host buffer, whose contents are then undefined. */
int nl_cl_exec_device_only(nl_cl_exec *ex, uint32_t out);

/* ------------------------------------------------------------ single ops
 * One op on the device, with nl_xxx_ref's contract and result (netlib.h)
 * over the whole tensor: upload, run, read back.  For the checker (slow:
 * buffers are made per call).  0, NEUVC_ERR(ENOENT) without a device,
 * NEUVC_ERR(EIO) on an OpenCL error, NEUVC_ERR(ENOMEM). */
int nl_cl_conv(const nl_conv_desc *d, const nl_tensor *src, nl_tensor *dst);
int nl_cl_requant(const nl_requant *rq, const nl_tensor *src, nl_tensor *dst);
int nl_cl_add(const nl_add_desc *d, const nl_tensor *a, const nl_tensor *b, nl_tensor *dst);
int nl_cl_clamp(nl_tensor *t, int32_t lo, int32_t hi);
int nl_cl_s2d(const nl_tensor *src, nl_tensor *dst, int r);
int nl_cl_d2s(const nl_tensor *src, nl_tensor *dst, int r);
int nl_cl_concat(const nl_tensor *a, const nl_tensor *b, nl_tensor *dst);

/* ------------------------------------------------------------ OBMC
 * nv_mc_obmc_picture followed by nv_x6_pack, on the device: the three
 * planes of the reference (luma w x h, multiples of 16; chroma w/2 x h/2)
 * and the (w/16) x (h/16) vector field (x, y int16 pairs, mv_stride
 * vectors per row) in, the x6 tensor (u8, h/2 x w/2 x 6) out. */
typedef struct nl_cl_mc nl_cl_mc;
int nl_cl_mc_new(nl_cl_mc **mc, int w, int h, char *err, size_t errlen);
void nl_cl_mc_free(nl_cl_mc **mc);
int nl_cl_mc_obmc_x6(nl_cl_mc *mc, const uint8_t *const planes[3], const ptrdiff_t strides[3],
                     const int16_t *mvs, ptrdiff_t mv_stride, nl_tensor *x6);

#endif
