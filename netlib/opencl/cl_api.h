/*
 * The part of the OpenCL 1.2 host API that netlib uses, declared here and
 * loaded at run time from the ICD loader (libOpenCL.so.1, Debian's
 * ocl-icd-libopencl1) with dlopen: libneuvc has no link-time dependency
 * on OpenCL and builds without OpenCL headers (cross builds included), and
 * a machine without a loader or a platform still loads the library; only
 * the OpenCL backend then reports itself unavailable.
 *
 * Types and constants are the ABI of the Khronos headers (CL/cl.h), under
 * the prefix NLCL_ / nlcl_ so that both may be included together:
 * tests/test_opencl.c checks every value below against CL/cl.h when that
 * header is installed (Debian's opencl-c-headers).  Calling convention:
 * CL_API_CALL is empty on every non-Windows target.
 */
#ifndef NEUVC_NETLIB_OPENCL_CL_API_H
#define NEUVC_NETLIB_OPENCL_CL_API_H

#include <stddef.h>
#include <stdint.h>

typedef int32_t nlcl_int;
typedef uint32_t nlcl_uint;
typedef uint64_t nlcl_ulong;
typedef nlcl_ulong nlcl_bitfield;
typedef struct _cl_platform_id *nlcl_platform_id;
typedef struct _cl_device_id *nlcl_device_id;
typedef struct _cl_context *nlcl_context;
typedef struct _cl_command_queue *nlcl_command_queue;
typedef struct _cl_mem *nlcl_mem;
typedef struct _cl_program *nlcl_program;
typedef struct _cl_kernel *nlcl_kernel;
typedef struct _cl_event *nlcl_event;
typedef intptr_t nlcl_context_properties;

#define NLCL_SUCCESS 0
#define NLCL_DEVICE_NOT_FOUND (-1)
#define NLCL_PLATFORM_NOT_FOUND_KHR (-1001)
#define NLCL_FALSE 0u
#define NLCL_TRUE 1u
#define NLCL_PLATFORM_VERSION 0x0901u
#define NLCL_PLATFORM_NAME 0x0902u
#define NLCL_PLATFORM_VENDOR 0x0903u
#define NLCL_DEVICE_TYPE_CPU (1u << 1)
#define NLCL_DEVICE_TYPE_GPU (1u << 2)
#define NLCL_DEVICE_TYPE_ALL 0xFFFFFFFFu
#define NLCL_DEVICE_TYPE 0x1000u
#define NLCL_DEVICE_MAX_COMPUTE_UNITS 0x1002u
#define NLCL_DEVICE_MAX_WORK_GROUP_SIZE 0x1004u
#define NLCL_DEVICE_MAX_CLOCK_FREQUENCY 0x100Cu
#define NLCL_DEVICE_MAX_MEM_ALLOC_SIZE 0x1010u
#define NLCL_DEVICE_NAME 0x102Bu
#define NLCL_DRIVER_VERSION 0x102Du
#define NLCL_DEVICE_PROFILE 0x102Eu
#define NLCL_DEVICE_VERSION 0x102Fu
#define NLCL_DEVICE_EXTENSIONS 0x1030u
#define NLCL_MEM_READ_WRITE (1u << 0)
#define NLCL_MEM_READ_ONLY (1u << 2)
#define NLCL_PROGRAM_BINARY_SIZES 0x1165u
#define NLCL_PROGRAM_BINARIES 0x1166u
#define NLCL_PROGRAM_BUILD_LOG 0x1183u

/* Every entry point netlib calls, filled by nl_cl_api_load(). */
typedef struct nlcl_api {
    nlcl_int (*GetPlatformIDs)(nlcl_uint, nlcl_platform_id *, nlcl_uint *);
    nlcl_int (*GetPlatformInfo)(nlcl_platform_id, nlcl_uint, size_t, void *, size_t *);
    nlcl_int (*GetDeviceIDs)(nlcl_platform_id, nlcl_bitfield, nlcl_uint, nlcl_device_id *,
                             nlcl_uint *);
    nlcl_int (*GetDeviceInfo)(nlcl_device_id, nlcl_uint, size_t, void *, size_t *);
    nlcl_context (*CreateContext)(const nlcl_context_properties *, nlcl_uint,
                                  const nlcl_device_id *,
                                  void (*)(const char *, const void *, size_t, void *), void *,
                                  nlcl_int *);
    nlcl_int (*ReleaseContext)(nlcl_context);
    nlcl_command_queue (*CreateCommandQueue)(nlcl_context, nlcl_device_id, nlcl_bitfield,
                                             nlcl_int *);
    nlcl_int (*ReleaseCommandQueue)(nlcl_command_queue);
    nlcl_program (*CreateProgramWithSource)(nlcl_context, nlcl_uint, const char **,
                                            const size_t *, nlcl_int *);
    nlcl_program (*CreateProgramWithBinary)(nlcl_context, nlcl_uint, const nlcl_device_id *,
                                            const size_t *, const unsigned char **, nlcl_int *,
                                            nlcl_int *);
    nlcl_int (*BuildProgram)(nlcl_program, nlcl_uint, const nlcl_device_id *, const char *,
                             void (*)(nlcl_program, void *), void *);
    nlcl_int (*GetProgramInfo)(nlcl_program, nlcl_uint, size_t, void *, size_t *);
    nlcl_int (*GetProgramBuildInfo)(nlcl_program, nlcl_device_id, nlcl_uint, size_t, void *,
                                    size_t *);
    nlcl_int (*ReleaseProgram)(nlcl_program);
    nlcl_kernel (*CreateKernel)(nlcl_program, const char *, nlcl_int *);
    nlcl_int (*ReleaseKernel)(nlcl_kernel);
    nlcl_int (*SetKernelArg)(nlcl_kernel, nlcl_uint, size_t, const void *);
    nlcl_int (*EnqueueNDRangeKernel)(nlcl_command_queue, nlcl_kernel, nlcl_uint, const size_t *,
                                     const size_t *, const size_t *, nlcl_uint,
                                     const nlcl_event *, nlcl_event *);
    nlcl_mem (*CreateBuffer)(nlcl_context, nlcl_bitfield, size_t, void *, nlcl_int *);
    nlcl_int (*ReleaseMemObject)(nlcl_mem);
    nlcl_int (*EnqueueReadBuffer)(nlcl_command_queue, nlcl_mem, nlcl_uint, size_t, size_t,
                                  void *, nlcl_uint, const nlcl_event *, nlcl_event *);
    nlcl_int (*EnqueueWriteBuffer)(nlcl_command_queue, nlcl_mem, nlcl_uint, size_t, size_t,
                                   const void *, nlcl_uint, const nlcl_event *, nlcl_event *);
    nlcl_int (*EnqueueCopyBuffer)(nlcl_command_queue, nlcl_mem, nlcl_mem, size_t, size_t, size_t,
                                  nlcl_uint, const nlcl_event *, nlcl_event *);
    nlcl_int (*Finish)(nlcl_command_queue);
} nlcl_api;

/* Loads the ICD loader (the environment variable NEUVC_OPENCL_LIB names
 * another file) and every entry point above into *api.  0, or
 * NEUVC_ERR(ENOENT) with a one-line reason in err.  The library stays
 * loaded for the life of the process. */
int nl_cl_api_load(nlcl_api *api, char *err, size_t errlen);

#endif
