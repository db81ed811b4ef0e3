/*
 * netlib dispatch tables (dsp.h): CPU feature detection, table filling in
 * ascending order of feature, the process-wide default, convolution plans.
 */
#include "netlib/dsp.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "neuvc/neuvc.h"
#include "netlib/opencl/opencl.h"

#if defined(__x86_64__) || defined(__i386__)
#define NL_DSP_X86 1
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include "netlib/x86/conv_x86.h"
#include "netlib/x86/elem_x86.h"
#include "netlib/x86/shuffle_x86.h"
#else
#define NL_DSP_X86 0
#endif

#if defined(__aarch64__)
#define NL_DSP_ARM 1
#include "netlib/arm/conv_arm.h"
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif
#else
#define NL_DSP_ARM 0
#endif

#if NL_DSP_X86
/* XCR0: the register states the OS saves on context switches. */
static uint64_t xgetbv0(void)
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static int amx_permitted(void)
{
#if defined(__linux__) && defined(__x86_64__)
    return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
#else
    return 0;
#endif
}
#endif

unsigned nl_cpu_flags(void)
{
    unsigned flags = 0;
#if NL_DSP_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    /* ECX bit 27 OSXSAVE (xgetbv usable), 28 AVX, 12 FMA. */
    if (!(c & (1u << 27)) || !(c & (1u << 28)) || !(c & (1u << 12)))
        return 0;
    uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6)             /* XMM and YMM state */
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    if (b & (1u << 5))                   /* EBX bit 5 AVX2 */
        flags |= NL_CPU_FLAG_AVX2;
    /* EBX bits 16 AVX512F, 30 AVX512BW, 31 AVX512VL; ECX bit 11
     * AVX512_VNNI; XCR0 bits 5-7: opmask, ZMM0-15 upper halves, ZMM16-31. */
    const unsigned need_b = (1u << 16) | (1u << 30) | (1u << 31);
    if ((flags & NL_CPU_FLAG_AVX2) && (b & need_b) == need_b && (c & (1u << 11)) &&
        (xcr0 & 0xE0) == 0xE0)
        flags |= NL_CPU_FLAG_AVX512;
    /* EDX bits 24 AMX-TILE, 25 AMX-INT8; XCR0 bits 17-18 TILECFG and
     * TILEDATA; on Linux the process must also be granted the TILEDATA
     * state (ARCH_REQ_XCOMP_PERM 0x1023, XFEATURE_XTILEDATA 18), which
     * is idempotent and process-wide. */
    if ((flags & NL_CPU_FLAG_AVX512) && (d & (3u << 24)) == (3u << 24) &&
        (xcr0 & (3u << 17)) == (3u << 17) && amx_permitted())
        flags |= NL_CPU_FLAG_AMX;
#endif
#if NL_DSP_ARM
    flags |= NL_CPU_FLAG_NEON; /* baseline of aarch64 */
#if defined(__linux__)
    if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP)
        flags |= NL_CPU_FLAG_NEON_DOTPROD;
#endif
#endif
    return flags;
}

static void conv_ref_run(const nl_conv_plan *p, const nl_tensor *src, nl_tensor *dst,
                         int y0, int y1)
{
    nl_conv_ref(&p->desc, src, dst, y0, y1, NULL);
}

void nl_dsp_init(nl_dsp *d, unsigned allowed_flags)
{
    static const nl_conv_kernel ref = { "nl_conv_ref", NULL, conv_ref_run };
    memset(d, 0, sizeof(*d));
    for (int k = 0; k < 2; k++)
        for (int s = 0; s < 2; s++)
            for (int i = 0; i < NL_DSP_NIN; i++)
                for (int o = 0; o < NL_NTYPES; o++)
                    d->conv[k][s][i][o] = ref;
    d->requant = nl_requant_ref;  d->requant_name = "nl_requant_ref";
    d->add = nl_add_ref;          d->add_name = "nl_add_ref";
    d->clamp = nl_clamp_ref;      d->clamp_name = "nl_clamp_ref";
    d->s2d = nl_s2d_ref;          d->s2d_name = "nl_s2d_ref";
    d->d2s = nl_d2s_ref;          d->d2s_name = "nl_d2s_ref";
    d->concat = nl_concat_ref;    d->concat_name = "nl_concat_ref";
    unsigned flags = allowed_flags & nl_cpu_flags();
    /* A level is only used on top of the ones below it. */
    if (!(flags & NL_CPU_FLAG_AVX2))
        flags &= ~(unsigned)NL_CPU_FLAG_AVX512;
    if (!(flags & NL_CPU_FLAG_NEON))
        flags &= ~(unsigned)NL_CPU_FLAG_NEON_DOTPROD;
#if NL_DSP_X86
    if (flags & NL_CPU_FLAG_AVX2) {
        nl_dsp_init_x86_avx2(d);
        nl_dsp_init_x86_elem_avx2(d);
    }
    if (flags & NL_CPU_FLAG_AVX512) {
        nl_dsp_init_x86_avx512(d);
        nl_dsp_init_x86_elem_avx512(d);
        nl_dsp_init_x86_shuffle_avx512(d);
    }
    if ((flags & NL_CPU_FLAG_AMX) && (flags & NL_CPU_FLAG_AVX512))
        nl_dsp_init_x86_amx(d);
    else
        flags &= ~(unsigned)NL_CPU_FLAG_AMX;
#endif
#if NL_DSP_ARM
    if (flags & NL_CPU_FLAG_NEON)
        nl_dsp_init_arm_neon(d);
    if (flags & NL_CPU_FLAG_NEON_DOTPROD)
        nl_dsp_init_arm_neondot(d);
#endif
    d->flags = flags;
}

int nl_dsp_init_cpu(nl_dsp *d, int cpu)
{
    unsigned want, need;
    switch (cpu) {
    case NEUVC_CPU_AUTO: want = NL_CPU_FLAGS_ALL; break;
    case NEUVC_CPU_REF: want = 0; break;
    case NEUVC_CPU_AVX2: want = NL_CPU_FLAG_AVX2; break;
    case NEUVC_CPU_AVX512: want = NL_CPU_FLAG_AVX2 | NL_CPU_FLAG_AVX512; break; /* + AMX */
    case NEUVC_CPU_NEON: want = NL_CPU_FLAG_NEON | NL_CPU_FLAG_NEON_DOTPROD; break;
    case NEUVC_CPU_OPENCL:
        if (nl_cl_get(NULL, NULL, 0) < 0) {
            nl_dsp_init(d, 0);
            return NEUVC_ERR(ENOTSUP);
        }
        nl_dsp_init(d, NL_CPU_FLAGS_ALL);
        d->opencl = 1;
        return 0;
    default:
        nl_dsp_init(d, 0);
        return NEUVC_ERR(EINVAL);
    }
    /* NEON takes the dot product where there is one, so needs only NEON. */
    need = cpu == NEUVC_CPU_NEON ? NL_CPU_FLAG_NEON : want;
    if (cpu != NEUVC_CPU_AUTO && (nl_cpu_flags() & need) != need) {
        nl_dsp_init(d, 0);
        return NEUVC_ERR(ENOTSUP);
    }
    nl_dsp_init(d, cpu == NEUVC_CPU_AVX512 ? want | NL_CPU_FLAG_AMX : want);
    return 0;
}

static nl_dsp default_dsp;
static char default_note[400];
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void)
{
    static const struct { const char *name; int cpu; } env_names[] = {
        { "auto", NEUVC_CPU_AUTO },
        { "ref", NEUVC_CPU_REF },
        { "avx2", NEUVC_CPU_AVX2 },
        { "avx512", NEUVC_CPU_AVX512 },
        { "opencl", NEUVC_CPU_OPENCL },
        { "neon", NEUVC_CPU_NEON },
    };
    const char *env = getenv("NEUVC_CPU");
    int cpu = NEUVC_CPU_AUTO;
    /* Diagnostic: the AVX-512 VNNI kernels without AMX. */
    const unsigned vnni = NL_CPU_FLAG_AVX2 | NL_CPU_FLAG_AVX512;
    if (env && !strcmp(env, "avx512vnni") && (nl_cpu_flags() & vnni) == vnni) {
        nl_dsp_init(&default_dsp, vnni);
        return;
    }
    for (size_t i = 0; env && i < sizeof(env_names) / sizeof(env_names[0]); i++)
        if (!strcmp(env, env_names[i].name))
            cpu = env_names[i].cpu;
    if (nl_dsp_init_cpu(&default_dsp, cpu) < 0) {
        nl_dsp_init_cpu(&default_dsp, NEUVC_CPU_AUTO);
        if (cpu == NEUVC_CPU_OPENCL)
            snprintf(default_note, sizeof(default_note), "NEUVC_CPU=opencl: %s; using the CPU (%s)",
                     nl_cl_describe(), nl_dsp_level_name(&default_dsp));
    }
}

const char *nl_dsp_default_note(void)
{
    pthread_once(&default_once, default_init);
    return default_note[0] ? default_note : NULL;
}

const nl_dsp *nl_dsp_default(void)
{
    pthread_once(&default_once, default_init);
    return &default_dsp;
}

const char *nl_dsp_level_name(const nl_dsp *d)
{
    if (d->opencl)
        return "opencl";
    if (d->flags & NL_CPU_FLAG_AMX)
        return "avx512+amx";
    if (d->flags & NL_CPU_FLAG_AVX512)
        return "avx512";
    if (d->flags & NL_CPU_FLAG_AVX2)
        return "avx2";
    if (d->flags & NL_CPU_FLAG_NEON_DOTPROD)
        return "neondot";
    if (d->flags & NL_CPU_FLAG_NEON)
        return "neon";
    return "ref";
}

const nl_conv_kernel *nl_dsp_conv_kernel(const nl_dsp *dsp, const nl_conv_desc *d)
{
    return &dsp->conv[d->k == 3 ? NL_DSP_K3 : NL_DSP_K1][d->stride == 2 ? NL_DSP_S2 : NL_DSP_S1]
                     [d->in_type][d->out_type];
}

int nl_conv_plan_new(nl_conv_plan **pp, const nl_dsp *dsp, const nl_conv_desc *d)
{
    if (!pp)
        return NEUVC_ERR(EINVAL);
    *pp = NULL;
    if (nl_conv_check(d) < 0)
        return NEUVC_ERR(EINVAL);
    if (!dsp)
        dsp = nl_dsp_default();
    nl_conv_plan *p = calloc(1, sizeof(*p));
    if (!p)
        return NEUVC_ERR(ENOMEM);
    p->desc = *d;
    p->kern = *nl_dsp_conv_kernel(dsp, d);
    if (p->kern.pack) {
        int ret = p->kern.pack(p);
        if (ret == NEUVC_ERR(ENOTSUP)) {
            /* This kernel cannot take the shape: the reference can. */
            free(p->priv);
            p->priv = NULL;
            nl_dsp ref;
            nl_dsp_init(&ref, 0);
            p->kern = *nl_dsp_conv_kernel(&ref, d);
        } else if (ret < 0) {
            nl_conv_plan_free(&p);
            return ret;
        }
    }
    *pp = p;
    return 0;
}

void nl_conv_plan_free(nl_conv_plan **pp)
{
    if (!pp || !*pp)
        return;
    free((*pp)->priv);
    free(*pp);
    *pp = NULL;
}

void nl_conv_plan_run(const nl_conv_plan *p, const nl_tensor *src, nl_tensor *dst,
                      int y0, int y1, nl_stats *st)
{
    const nl_conv_desc *d = &p->desc;
    if (y1 > y0)
        p->kern.run(p, src, dst, y0, y1);
    if (st && y1 > y0)
        st->macs += (uint64_t)(y1 - y0) * (uint64_t)dst->w * (uint64_t)d->cout *
                    (uint64_t)(d->k * d->k) * (uint64_t)d->cin;
}
