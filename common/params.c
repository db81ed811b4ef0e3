#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/params.h"

int nv_parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v;

    if (!s || !*s)
        return NEUVC_ERR(EINVAL);
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return NEUVC_ERR(EINVAL);
    *out = (int)v;
    return 0;
}

static const char *const cpu_names[] = {
    [NEUVC_CPU_AUTO] = "auto",
    [NEUVC_CPU_REF] = "ref",
    [NEUVC_CPU_AVX2] = "avx2",
    [NEUVC_CPU_AVX512] = "avx512",
    [NEUVC_CPU_NEON] = "neon",
    [NEUVC_CPU_OPENCL] = "opencl",
};

int nv_parse_cpu(const char *s, NeuvcCpu *out)
{
    if (!s)
        return NEUVC_ERR(EINVAL);
    for (size_t i = 0; i < sizeof(cpu_names) / sizeof(cpu_names[0]); i++) {
        if (!strcmp(s, cpu_names[i])) {
            *out = (NeuvcCpu)i;
            return 0;
        }
    }
    return NEUVC_ERR(EINVAL);
}

const char *nv_cpu_name(NeuvcCpu cpu)
{
    if ((unsigned)cpu < sizeof(cpu_names) / sizeof(cpu_names[0]))
        return cpu_names[cpu];
    return "unknown";
}

int nv_parse_ratio(const char *s, int *num, int *den)
{
    char buf[64];
    char *sep;
    int n, d = 1;

    if (!s || strlen(s) >= sizeof(buf))
        return NEUVC_ERR(EINVAL);
    strcpy(buf, s);
    sep = strpbrk(buf, "/:");
    if (sep) {
        *sep = 0;
        if (nv_parse_int(sep + 1, 1, 1 << 30, &d) < 0)
            return NEUVC_ERR(EINVAL);
    }
    if (nv_parse_int(buf, 1, 1 << 30, &n) < 0)
        return NEUVC_ERR(EINVAL);
    *num = n;
    *den = d;
    return 0;
}
