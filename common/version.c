#include <string.h>

#include "neuvc/neuvc.h"

#define NV_STR2(x) #x
#define NV_STR(x) NV_STR2(x)

unsigned neuvc_version(void)
{
    return NEUVC_VERSION;
}

const char *neuvc_version_string(void)
{
    return NV_STR(NEUVC_VERSION_MAJOR) "." NV_STR(NEUVC_VERSION_MINOR) "." NV_STR(NEUVC_VERSION_PATCH);
}

const char *neuvc_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case NEUVC_ERR(EINVAL): return "invalid argument";
    case NEUVC_ERR(ENOMEM): return "out of memory";
    case NEUVC_ERR(EAGAIN): return "no output yet: send more input";
    case NEUVC_ERR(ENOSYS): return "not supported";
    case NEUVC_ERR(ENOENT): return "not found";
    case NEUVC_ERR(ERANGE): return "outside the configured limits";
    case NEUVC_ERR(EIO): return "input/output error";
    case NEUVC_ERR_INVALIDDATA: return "invalid data (corrupt, truncated or unknown stream)";
    case NEUVC_ERR_EOF: return "end of stream";
    default: return "unknown error";
    }
}
