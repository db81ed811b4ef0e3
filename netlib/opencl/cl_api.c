/*
 * Run-time loading of the OpenCL ICD loader (cl_api.h).
 */
#include "netlib/opencl/cl_api.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/errmsg.h"
#include "neuvc/neuvc.h"

int nl_cl_api_load(nlcl_api *api, char *err, size_t errlen)
{
    const char *path = getenv("NEUVC_OPENCL_LIB");
    if (!path || !*path)
        path = "libOpenCL.so.1";
    memset(api, 0, sizeof(*api));
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        return nv_fail(err, errlen, NEUVC_ERR(ENOENT), "no OpenCL ICD loader (%s)",
                       why ? why : path);
    }
    /* One table of (field, symbol) pairs; dlsym returns void *, which
     * POSIX guarantees converts to a function pointer (memcpy keeps ISO C
     * quiet about it). */
    static const struct { size_t off; const char *sym; } syms[] = {
        { offsetof(nlcl_api, GetPlatformIDs), "clGetPlatformIDs" },
        { offsetof(nlcl_api, GetPlatformInfo), "clGetPlatformInfo" },
        { offsetof(nlcl_api, GetDeviceIDs), "clGetDeviceIDs" },
        { offsetof(nlcl_api, GetDeviceInfo), "clGetDeviceInfo" },
        { offsetof(nlcl_api, CreateContext), "clCreateContext" },
        { offsetof(nlcl_api, ReleaseContext), "clReleaseContext" },
        { offsetof(nlcl_api, CreateCommandQueue), "clCreateCommandQueue" },
        { offsetof(nlcl_api, ReleaseCommandQueue), "clReleaseCommandQueue" },
        { offsetof(nlcl_api, CreateProgramWithSource), "clCreateProgramWithSource" },
        { offsetof(nlcl_api, CreateProgramWithBinary), "clCreateProgramWithBinary" },
        { offsetof(nlcl_api, BuildProgram), "clBuildProgram" },
        { offsetof(nlcl_api, GetProgramInfo), "clGetProgramInfo" },
        { offsetof(nlcl_api, GetProgramBuildInfo), "clGetProgramBuildInfo" },
        { offsetof(nlcl_api, ReleaseProgram), "clReleaseProgram" },
        { offsetof(nlcl_api, CreateKernel), "clCreateKernel" },
        { offsetof(nlcl_api, ReleaseKernel), "clReleaseKernel" },
        { offsetof(nlcl_api, SetKernelArg), "clSetKernelArg" },
        { offsetof(nlcl_api, EnqueueNDRangeKernel), "clEnqueueNDRangeKernel" },
        { offsetof(nlcl_api, CreateBuffer), "clCreateBuffer" },
        { offsetof(nlcl_api, ReleaseMemObject), "clReleaseMemObject" },
        { offsetof(nlcl_api, EnqueueReadBuffer), "clEnqueueReadBuffer" },
        { offsetof(nlcl_api, EnqueueWriteBuffer), "clEnqueueWriteBuffer" },
        { offsetof(nlcl_api, EnqueueCopyBuffer), "clEnqueueCopyBuffer" },
        { offsetof(nlcl_api, Finish), "clFinish" },
    };
    for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
        void *f = dlsym(lib, syms[i].sym);
        if (!f) {
            dlclose(lib);
            memset(api, 0, sizeof(*api));
            return nv_fail(err, errlen, NEUVC_ERR(ENOENT), "%s lacks %s", path, syms[i].sym);
        }
        memcpy((char *)api + syms[i].off, &f, sizeof(f));
    }
    return 0;
}
