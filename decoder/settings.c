/* Decoder settings: documented defaults and the name -> value parser. */
#include <string.h>

#include "common/params.h"
#include "decoder/settings.h"
#include "encoder/settings.h"

void neuvc_dec_default_settings(NeuvcDecSettings *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof(*s));
    s->threads = 0;
    s->cpu = NEUVC_CPU_AUTO;
    s->max_width = NEUVC_DEFAULT_MAX_DIM;
    s->max_height = NEUVC_DEFAULT_MAX_DIM;
    s->log_level = 1;
}

int neuvc_dec_param_parse(NeuvcDecSettings *s, const char *name, const char *value)
{
    if (!s || !name || !value)
        return NEUVC_ERR(EINVAL);
    if (!strcmp(name, "threads"))
        return nv_parse_int(value, 0, NEUVC_MAX_THREADS, &s->threads);
    if (!strcmp(name, "cpu"))
        return nv_parse_cpu(value, &s->cpu);
    if (!strcmp(name, "model")) {
        s->model_path = value;
        return 0;
    }
    if (!strcmp(name, "max-width"))
        return nv_parse_int(value, 1, NEUVC_MAX_DIM, &s->max_width);
    if (!strcmp(name, "max-height"))
        return nv_parse_int(value, 1, NEUVC_MAX_DIM, &s->max_height);
    if (!strcmp(name, "log-level"))
        return nv_parse_int(value, 0, 2, &s->log_level);
    return NEUVC_ERR(ENOENT);
}

int nv_dec_settings_check(const NeuvcDecSettings *s)
{
    if (!s)
        return NEUVC_ERR(EINVAL);
    if (s->threads < 0 || s->threads > NEUVC_MAX_THREADS || (unsigned)s->cpu > NEUVC_CPU_OPENCL)
        return NEUVC_ERR(EINVAL);
    if (s->max_width < 1 || s->max_width > NEUVC_MAX_DIM ||
        s->max_height < 1 || s->max_height > NEUVC_MAX_DIM)
        return NEUVC_ERR(EINVAL);
    return 0;
}
