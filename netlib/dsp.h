/*
 * netlib dispatch: which kernel runs each op, chosen once per process (or
 * per executor) from the CPU's features.
 *
 * A table (nl_dsp) is filled with the C reference first, then upgraded in
 * ascending order of CPU feature (AVX2, then AVX-512 VNNI; on aarch64
 * NEON, then NEON with the dot product), each level
 * overwriting only the entries it implements.  Every kernel gives the
 * reference's result byte for byte (tests/test_checkasm.c proves it per
 * kernel); they differ only in speed.
 *
 * Convolutions run through a plan: nl_conv_plan_new() picks the kernel for
 * a descriptor and lets it pack the weights once into its own layout (the
 * "prepare" hook); nl_conv_plan_run() then computes any row range of the
 * output, from any number of threads at once (a plan is read-only after
 * creation, and kernels keep their scratch on the stack: the x86 ones
 * take about 80 KiB of it per call, NL_X86_STAGE_BYTES plus a little;
 * threads that run them need stacks of at least 128 KiB).
 *
 * Forcing a level: nl_dsp_init(d, nl_cpu_flags() & mask) with the mask of
 * the wanted level, or nl_dsp_init_cpu(d, NEUVC_CPU_xxx) which maps the
 * public NeuvcCpu values (include/neuvc/neuvc.h) and refuses a level this
 * CPU lacks.  nl_dsp_default() is the process-wide table, filled once
 * (pthread_once) for the best level of this CPU, or for the level named by
 * the environment variable NEUVC_CPU (read once, at that first call):
 *     NEUVC_CPU=ref | avx2 | avx512 | avx512vnni | neon | opencl | auto
 * (an unknown value or a level this CPU lacks is ignored: auto;
 * avx512vnni is avx512 without AMX, for comparisons on AMX machines; opencl
 * without a usable OpenCL device falls back to auto, and
 * nl_dsp_default_note() says so).  It exists
 * so that byte-identity between backends can be checked on the whole codec
 * from the shell; the API's cpu setting is the supported way.
 */
#ifndef NEUVC_NETLIB_DSP_H
#define NEUVC_NETLIB_DSP_H

#include <stddef.h>
#include <stdint.h>

#include "netlib/netlib.h"

/* CPU features (bits of nl_cpu_flags()).  Each level implies the ones
 * before it in its family: NL_CPU_FLAG_AVX512 is only reported together
 * with NL_CPU_FLAG_AVX2, NL_CPU_FLAG_AMX with both, NL_CPU_FLAG_NEON_DOTPROD
 * with NL_CPU_FLAG_NEON.  AMX is not a public level of its own:
 * NEUVC_CPU_AVX512 and NEUVC_CPU_AUTO use it where the CPU has it (its
 * kernels take the convolutions, AVX-512 the rest); a table without it is
 * nl_dsp_init(d, NL_CPU_FLAG_AVX2 | NL_CPU_FLAG_AVX512). */
enum {
    NL_CPU_FLAG_AVX2 = 1u << 0,   /* AVX2 + FMA, YMM state enabled by the OS */
    NL_CPU_FLAG_AVX512 = 1u << 1, /* AVX-512 F, BW, VL and VNNI, ZMM state enabled */
    NL_CPU_FLAG_AMX = 1u << 2,    /* AMX-TILE + AMX-INT8, tile data granted to the process */
    NL_CPU_FLAG_NEON = 1u << 3,   /* aarch64 Advanced SIMD (always there) */
    NL_CPU_FLAG_NEON_DOTPROD = 1u << 4, /* ARMv8.2 SDOT/UDOT (HWCAP_ASIMDDP) */
};
#define NL_CPU_FLAGS_ALL                                                                 \
    (NL_CPU_FLAG_AVX2 | NL_CPU_FLAG_AVX512 | NL_CPU_FLAG_AMX | NL_CPU_FLAG_NEON |         \
     NL_CPU_FLAG_NEON_DOTPROD)

/* Features of this CPU that the OS lets programs use (x86: cpuid +
 * xgetbv, and for AMX Linux's arch_prctl(ARCH_REQ_XCOMP_PERM) grant of the
 * tile data state, which it requests; aarch64: NEON, and the dot product
 * from getauxval(AT_HWCAP)); 0 on other architectures.  Computed on every
 * call: cheap, but call it once. */
unsigned nl_cpu_flags(void);

/* ------------------------------------------------------------- conv */
typedef struct nl_conv_plan nl_conv_plan;

/* Computes output rows [y0, y1) of dst = conv(src) (shapes and types as
 * nl_conv_ref requires; any row strides). */
typedef void (*nl_conv_run_fn)(const nl_conv_plan *p, const nl_tensor *src, nl_tensor *dst,
                               int y0, int y1);
/* The prepare hook: packs p->desc into p->priv (a block the hook allocates
 * with aligned_alloc or malloc; freed with free()).  0; NEUVC_ERR(ENOTSUP)
 * when this kernel cannot take the descriptor (the plan then runs the
 * reference); NEUVC_ERR(ENOMEM). */
typedef int (*nl_conv_pack_fn)(nl_conv_plan *p);

typedef struct nl_conv_kernel {
    const char *name;            /* e.g. "nl_conv3x3_u8s8_avx512vnni" */
    nl_conv_pack_fn pack;        /* NULL: nothing to prepare (the reference) */
    nl_conv_run_fn run;
} nl_conv_kernel;

/* Computes output rows [y0, y1) of dst = conv(src) where src is the
 * channel concatenation of a and b (nl_concat_ref: one type, the same h
 * and w, a->c + b->c = cin, a->c and b->c >= 1, any row strides), without
 * forming it: the same bytes as the run on the concatenated tensor. */
typedef void (*nl_conv_run2_fn)(const nl_conv_plan *p, const nl_tensor *a, const nl_tensor *b,
                                nl_tensor *dst, int y0, int y1);

struct nl_conv_plan {
    nl_conv_desc desc;           /* copy; weight and rq arrays borrowed (must outlive) */
    nl_conv_kernel kern;         /* the kernel that runs (after any fallback) */
    void *priv;                  /* the kernel's packed data, NULL for the reference */
    nl_conv_run2_fn run2;        /* set by a prepare hook whose kernel can, else NULL */
};

/* ------------------------------------------------------------ other ops
 * One entry per op family, with the reference's signature and contract
 * (netlib.h): output rows [y0, y1) only, every type combination the
 * reference accepts.  A kernel that implements only some combinations
 * (or sizes) calls the reference for the others, so an entry is always
 * complete.  Every entry is safe to call from several threads on
 * disjoint row ranges. */
typedef void (*nl_requant_fn)(const nl_requant *rq, const nl_tensor *src, nl_tensor *dst,
                              int y0, int y1);
typedef void (*nl_add_fn)(const nl_add_desc *d, const nl_tensor *a, const nl_tensor *b,
                          nl_tensor *dst, int y0, int y1);
typedef void (*nl_clamp_fn)(nl_tensor *t, int32_t lo, int32_t hi, int y0, int y1);
typedef void (*nl_shuffle_fn)(const nl_tensor *src, nl_tensor *dst, int r, int y0, int y1);
typedef void (*nl_concat_fn)(const nl_tensor *a, const nl_tensor *b, nl_tensor *dst,
                             int y0, int y1);

/* Table positions: kernel size, stride, input type, output type. */
enum { NL_DSP_K1 = 0, NL_DSP_K3 = 1 };
enum { NL_DSP_S1 = 0, NL_DSP_S2 = 1 };
#define NL_DSP_NIN 3             /* input types NL_U8, NL_S8, NL_S16 */

typedef struct nl_dsp {
    unsigned flags;              /* the features this table was allowed to use */
    nl_conv_kernel conv[2][2][NL_DSP_NIN][NL_NTYPES];
    /* Each fn with its kernel's name (e.g. "nl_requant_ref"), which the
     * checker and the benchmark print. */
    nl_requant_fn requant;  const char *requant_name;
    nl_add_fn add;          const char *add_name;
    nl_clamp_fn clamp;      const char *clamp_name;
    nl_shuffle_fn s2d;      const char *s2d_name;
    nl_shuffle_fn d2s;      const char *d2s_name;
    nl_concat_fn concat;    const char *concat_name;
    /* 1: graph executors made with this table run on the OpenCL device
     * (netlib/opencl/opencl.h); the CPU entries above then serve only the
     * ops callers run on the host themselves.  Set by nl_dsp_init_cpu. */
    int opencl;
} nl_dsp;

/* Fills d with the reference, then upgrades it with every level present
 * in allowed_flags & nl_cpu_flags() (so a flag this CPU lacks is
 * ignored). */
void nl_dsp_init(nl_dsp *d, unsigned allowed_flags);
/* Fills d for a NeuvcCpu value (NEUVC_CPU_AUTO: every level of this CPU;
 * NEUVC_CPU_REF: the reference; NEUVC_CPU_AVX2 / NEUVC_CPU_AVX512: up to
 * that level; NEUVC_CPU_NEON: NEON, with the dot product where the CPU
 * has it; NEUVC_CPU_OPENCL: every CPU level plus opencl = 1, when an
 * OpenCL device is usable).  0; NEUVC_ERR(ENOTSUP) when this CPU (or
 * build) lacks the level, or for OpenCL without a usable device
 * (nl_cl_describe() says why); NEUVC_ERR(EINVAL) for a value outside
 * NeuvcCpu.  d is filled with the reference on failure. */
int nl_dsp_init_cpu(nl_dsp *d, int cpu);
/* The process-wide table (see the top of this file).  Thread-safe. */
const nl_dsp *nl_dsp_default(void);
/* NULL, or one line saying that NEUVC_CPU named a backend the default
 * table could not take and which it took instead (for the tools). */
const char *nl_dsp_default_note(void);
/* "ref", "avx2", "avx512", "avx512+amx", "neon", "neondot" or "opencl": the highest level a
 * table uses. */
const char *nl_dsp_level_name(const nl_dsp *d);

/* The table entry for a descriptor (d must pass nl_conv_check). */
const nl_conv_kernel *nl_dsp_conv_kernel(const nl_dsp *dsp, const nl_conv_desc *d);

/* Plans a convolution on dsp (NULL: nl_dsp_default()).  d must pass
 * nl_conv_check; its arrays must outlive the plan.  0, NEUVC_ERR(EINVAL)
 * or NEUVC_ERR(ENOMEM). */
int nl_conv_plan_new(nl_conv_plan **p, const nl_dsp *dsp, const nl_conv_desc *d);
void nl_conv_plan_free(nl_conv_plan **p);
/* nl_conv_ref's contract and result, on the plan's kernel; st as there. */
void nl_conv_plan_run(const nl_conv_plan *p, const nl_tensor *src, nl_tensor *dst,
                      int y0, int y1, nl_stats *st);


#endif
