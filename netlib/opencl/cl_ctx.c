/*
 * The process's OpenCL device, context and program (opencl.h): device
 * choice, program build, binary cache.
 */
#include "netlib/opencl/opencl.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "common/sha256.h"
#include "neuvc/neuvc.h"

/* kernels.cl as bytes (build/gen/opencl_kernels.c, tools/gen/bin2c). */
extern const unsigned char nl_opencl_kernels[];
extern const size_t nl_opencl_kernels_size;

#define BUILD_OPTIONS "-cl-std=CL1.2"
#define MAX_PLATFORMS 16
#define MAX_DEVICES 64

static nl_cl g_cl;
static int g_ret;
static char g_err[256];
static char g_desc[320];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void dev_str(const nl_cl *cl, nlcl_device_id d, nlcl_uint what, char *buf, size_t n)
{
    buf[0] = '\0';
    if (cl->api.GetDeviceInfo(d, what, n, buf, NULL) != NLCL_SUCCESS)
        buf[0] = '\0';
    buf[n - 1] = '\0';
}

/* A device netlib can use: available, with a compiler (checked by the
 * build itself), and 64-bit integers (full profile or cles_khr_int64). */
static int device_usable(const nl_cl *cl, nlcl_device_id d)
{
    char profile[64], ext[4096];
    dev_str(cl, d, NLCL_DEVICE_PROFILE, profile, sizeof(profile));
    dev_str(cl, d, NLCL_DEVICE_EXTENSIONS, ext, sizeof(ext));
    return !strcmp(profile, "FULL_PROFILE") || strstr(ext, "cles_khr_int64") != NULL;
}

static int device_pick(nl_cl *cl, char *err, size_t errlen)
{
    nlcl_platform_id plats[MAX_PLATFORMS];
    nlcl_uint np = 0;
    nlcl_int e = cl->api.GetPlatformIDs(MAX_PLATFORMS, plats, &np);
    if (e != NLCL_SUCCESS || np == 0)
        return nv_fail(err, errlen, NEUVC_ERR(ENOENT), "no OpenCL platform (clGetPlatformIDs: %d)",
                       (int)e);
    if (np > MAX_PLATFORMS)
        np = MAX_PLATFORMS;
    const char *env = getenv("NEUVC_OPENCL_DEVICE");
    long want = -1;
    if (env && *env) {
        char *end;
        want = strtol(env, &end, 10);
        if (*end || want < 0)
            return nv_fail(err, errlen, NEUVC_ERR(ENOENT), "NEUVC_OPENCL_DEVICE=%s: not a number",
                           env);
    }
    long index = 0;
    int found_gpu = 0, found = 0;
    for (nlcl_uint p = 0; p < np; p++) {
        nlcl_device_id devs[MAX_DEVICES];
        nlcl_uint nd = 0;
        if (cl->api.GetDeviceIDs(plats[p], NLCL_DEVICE_TYPE_ALL, MAX_DEVICES, devs, &nd) !=
            NLCL_SUCCESS)
            continue;
        if (nd > MAX_DEVICES)
            nd = MAX_DEVICES;
        for (nlcl_uint i = 0; i < nd; i++, index++) {
            nlcl_bitfield type = 0;
            cl->api.GetDeviceInfo(devs[i], NLCL_DEVICE_TYPE, sizeof(type), &type, NULL);
            int gpu = (type & NLCL_DEVICE_TYPE_GPU) != 0;
            int take;
            if (want >= 0)
                take = index == want;
            else
                take = device_usable(cl, devs[i]) && (!found || (gpu && !found_gpu));
            if (!take)
                continue;
            if (want >= 0 && !device_usable(cl, devs[i]))
                return nv_fail(err, errlen, NEUVC_ERR(ENOENT),
                               "OpenCL device %ld has no 64-bit integers (embedded profile)",
                               want);
            cl->platform = plats[p];
            cl->device = devs[i];
            cl->is_gpu = gpu;
            found = 1;
            found_gpu = gpu;
        }
    }
    if (!found)
        return want >= 0 ? nv_fail(err, errlen, NEUVC_ERR(ENOENT),
                                   "NEUVC_OPENCL_DEVICE=%ld: only %ld OpenCL devices", want, index)
                         : nv_fail(err, errlen, NEUVC_ERR(ENOENT),
                                   "no usable OpenCL device (%ld found)", index);
    char pname[128], dname[128];
    nlcl_uint cu = 0;
    pname[0] = '\0';
    cl->api.GetPlatformInfo(cl->platform, NLCL_PLATFORM_NAME, sizeof(pname), pname, NULL);
    pname[sizeof(pname) - 1] = '\0';
    dev_str(cl, cl->device, NLCL_DEVICE_NAME, dname, sizeof(dname));
    cl->api.GetDeviceInfo(cl->device, NLCL_DEVICE_MAX_COMPUTE_UNITS, sizeof(cu), &cu, NULL);
    snprintf(cl->desc, sizeof(cl->desc), "%s / %s (%s, %u compute units)", pname, dname,
             cl->is_gpu ? "GPU" : "not a GPU", (unsigned)cu);
    return 0;
}

/* The cache file name for this source and device, or "" when off. */
static void cache_path(const nl_cl *cl, char *path, size_t n)
{
    path[0] = '\0';
    const char *dir = getenv("NEUVC_OPENCL_CACHE");
    char buf[1024];
    if (dir && !strcmp(dir, "off"))
        return;
    if (!dir || !*dir) {
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (xdg && *xdg)
            snprintf(buf, sizeof(buf), "%s/neuvc", xdg);
        else if (home && *home)
            snprintf(buf, sizeof(buf), "%s/.cache/neuvc", home);
        else
            return;
        dir = buf;
    }
    neuvc_sha256_ctx h;
    char s[512];
    neuvc_sha256_init(&h);
    neuvc_sha256_update(&h, nl_opencl_kernels, nl_opencl_kernels_size);
    neuvc_sha256_update(&h, BUILD_OPTIONS, sizeof(BUILD_OPTIONS));
    s[0] = '\0';
    cl->api.GetPlatformInfo(cl->platform, NLCL_PLATFORM_VERSION, sizeof(s), s, NULL);
    s[sizeof(s) - 1] = '\0';
    neuvc_sha256_update(&h, s, strlen(s) + 1);
    static const nlcl_uint info[] = { NLCL_DEVICE_NAME, NLCL_DEVICE_VERSION, NLCL_DRIVER_VERSION };
    for (size_t i = 0; i < sizeof(info) / sizeof(info[0]); i++) {
        dev_str(cl, cl->device, info[i], s, sizeof(s));
        neuvc_sha256_update(&h, s, strlen(s) + 1);
    }
    uint8_t md[NEUVC_SHA256_SIZE];
    neuvc_sha256_final(&h, md);
    char hex[2 * 16 + 1];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    if ((size_t)snprintf(path, n, "%s/opencl-%s.bin", dir, hex) >= n)
        path[0] = '\0';
}

/* mkdir -p of the folder holding path (errors ignored: the write fails). */
static void make_dirs(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(buf, 0755);
        *p = '/';
    }
}

static nlcl_program program_from_cache(const nl_cl *cl, const char *path)
{
    FILE *f = path[0] ? fopen(path, "rb") : NULL;
    if (!f)
        return NULL;
    unsigned char *bin = NULL;
    nlcl_program prog = NULL;
    long size;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0 || size > (64L << 20) ||
        fseek(f, 0, SEEK_SET) != 0)
        goto done;
    bin = malloc((size_t)size);
    if (!bin || fread(bin, 1, (size_t)size, f) != (size_t)size)
        goto done;
    size_t len = (size_t)size;
    const unsigned char *bins[1] = { bin };
    nlcl_int st = 0, e = 0;
    prog = cl->api.CreateProgramWithBinary(cl->ctx, 1, &cl->device, &len, bins, &st, &e);
    if (prog && (e != NLCL_SUCCESS || st != NLCL_SUCCESS ||
                 cl->api.BuildProgram(prog, 1, &cl->device, BUILD_OPTIONS, NULL, NULL) !=
                     NLCL_SUCCESS)) {
        cl->api.ReleaseProgram(prog);
        prog = NULL;
    }
done:
    free(bin);
    fclose(f);
    return prog;
}

static void program_to_cache(const nl_cl *cl, const char *path)
{
    size_t size = 0;
    if (!path[0] || cl->api.GetProgramInfo(cl->prog, NLCL_PROGRAM_BINARY_SIZES, sizeof(size),
                                           &size, NULL) != NLCL_SUCCESS ||
        size == 0)
        return;
    unsigned char *bin = malloc(size);
    unsigned char *bins[1] = { bin };
    char tmp[1100];
    if (!bin || cl->api.GetProgramInfo(cl->prog, NLCL_PROGRAM_BINARIES, sizeof(bins), bins,
                                       NULL) != NLCL_SUCCESS)
        goto done;
    make_dirs(path);
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        goto done;
    int ok = fwrite(bin, 1, size, f) == size;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0)
        remove(tmp);
done:
    free(bin);
}

static int program_build(nl_cl *cl, char *err, size_t errlen)
{
    char path[1100];
    double t0 = now_seconds();
    cache_path(cl, path, sizeof(path));
    cl->prog = program_from_cache(cl, path);
    if (cl->prog) {
        cl->from_cache = 1;
        cl->build_seconds = now_seconds() - t0;
        return 0;
    }
    const char *src = (const char *)nl_opencl_kernels;
    size_t len = nl_opencl_kernels_size;
    nlcl_int e = 0;
    cl->prog = cl->api.CreateProgramWithSource(cl->ctx, 1, &src, &len, &e);
    if (!cl->prog || e != NLCL_SUCCESS)
        return nv_fail(err, errlen, NEUVC_ERR(ENOSYS), "OpenCL: program not created (%d)", (int)e);
    e = cl->api.BuildProgram(cl->prog, 1, &cl->device, BUILD_OPTIONS, NULL, NULL);
    if (e != NLCL_SUCCESS) {
        char log[2048];
        log[0] = '\0';
        cl->api.GetProgramBuildInfo(cl->prog, cl->device, NLCL_PROGRAM_BUILD_LOG, sizeof(log), log,
                                    NULL);
        log[sizeof(log) - 1] = '\0';
        for (char *p = log; *p; p++)
            if (*p == '\n')
                *p = ' ';
        return nv_fail(err, errlen, NEUVC_ERR(ENOSYS),
                       "OpenCL: kernels failed to build (%d): %.160s", (int)e, log);
    }
    cl->build_seconds = now_seconds() - t0;
    program_to_cache(cl, path);
    return 0;
}

static void cl_init(void)
{
    nl_cl *cl = &g_cl;
    int ret = nl_cl_api_load(&cl->api, g_err, sizeof(g_err));
    if (ret == 0)
        ret = device_pick(cl, g_err, sizeof(g_err));
    if (ret == 0) {
        nlcl_int e = 0;
        cl->ctx = cl->api.CreateContext(NULL, 1, &cl->device, NULL, NULL, &e);
        if (!cl->ctx || e != NLCL_SUCCESS)
            ret = nv_fail(g_err, sizeof(g_err), NEUVC_ERR(ENOENT),
                          "OpenCL: no context on %s (%d)", cl->desc, (int)e);
    }
    if (ret == 0)
        ret = program_build(cl, g_err, sizeof(g_err));
    g_ret = ret;
    if (ret == 0)
        snprintf(g_desc, sizeof(g_desc), "OpenCL: %s", cl->desc);
    else
        snprintf(g_desc, sizeof(g_desc), "OpenCL unavailable: %s", g_err);
    /* On failure the context and program stay (the state is never used);
     * the process ends without releasing them, as on success. */
}

int nl_cl_get(const nl_cl **cl, char *err, size_t errlen)
{
    pthread_once(&g_once, cl_init);
    if (g_ret < 0) {
        if (cl)
            *cl = NULL;
        return nv_fail(err, errlen, g_ret, "%s", g_err);
    }
    if (cl)
        *cl = &g_cl;
    return 0;
}

const char *nl_cl_describe(void)
{
    pthread_once(&g_once, cl_init);
    return g_desc;
}
