/*
 * Motion-compensation dispatch (common/mcdsp.h).
 */
#include "common/mcdsp.h"

#include <pthread.h>

#include "netlib/dsp.h"

void nv_mcdsp_init(nv_mcdsp *d, unsigned allowed)
{
    nv_mcdsp_init_c(d);
    unsigned flags = allowed & nl_cpu_flags();
#if defined(__x86_64__) || defined(__i386__)
    if (flags & NL_CPU_FLAG_AVX2) {
        nv_mcdsp_init_x86_avx2(d);
        nv_mcdsp_init_x86_x6_avx2(d);
        d->flags = NL_CPU_FLAG_AVX2;
    }
    if ((flags & NL_CPU_FLAG_AVX512) && (flags & NL_CPU_FLAG_AVX2)) {
        nv_mcdsp_init_x86_avx512(d);
        d->flags |= NL_CPU_FLAG_AVX512;
    }
#elif defined(__aarch64__)
    if (flags & NL_CPU_FLAG_NEON) {
        nv_mcdsp_init_arm_neon(d);
        d->flags = NL_CPU_FLAG_NEON;
    }
#else
    (void)flags;
#endif
}

/* One table per level in use: C, AVX2, AVX-512 (AMX adds nothing here);
 * on aarch64 C and NEON (the dot product adds nothing here). */
static nv_mcdsp tables[3];
static unsigned cpu_flags;       /* nl_cpu_flags(), read once (it makes a syscall) */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_tables(void)
{
    cpu_flags = nl_cpu_flags();
    nv_mcdsp_init(&tables[0], 0);
#if defined(__aarch64__)
    nv_mcdsp_init(&tables[1], NL_CPU_FLAG_NEON);
#else
    nv_mcdsp_init(&tables[1], NL_CPU_FLAG_AVX2);
    nv_mcdsp_init(&tables[2], NL_CPU_FLAG_AVX2 | NL_CPU_FLAG_AVX512);
#endif
}

const nv_mcdsp *nv_mcdsp_get(unsigned allowed)
{
    pthread_once(&once, init_tables);
    const unsigned f = allowed & cpu_flags;
#if defined(__aarch64__)
    return (f & NL_CPU_FLAG_NEON) ? &tables[1] : &tables[0];
#else
    return (f & NL_CPU_FLAG_AVX2) && (f & NL_CPU_FLAG_AVX512) ? &tables[2]
           : (f & NL_CPU_FLAG_AVX2)                           ? &tables[1]
                                                              : &tables[0];
#endif
}
