/* Encoder settings: documented defaults and the name -> value parser shared
 * by neuvc-enc, the API and FFmpeg's -neuvc-params. */
#include <string.h>

#include "common/params.h"
#include "encoder/settings.h"

void neuvc_enc_default_settings(NeuvcEncSettings *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof(*s));
    s->fps_num = 30;
    s->fps_den = 1;
    s->qp = NEUVC_DEFAULT_QP;
    s->keyint = 32;
    s->threads = 0;
    s->cpu = NEUVC_CPU_AUTO;
    s->max_width = NEUVC_DEFAULT_MAX_DIM;
    s->max_height = NEUVC_DEFAULT_MAX_DIM;
    s->log_level = 1;
}

int neuvc_enc_param_parse(NeuvcEncSettings *s, const char *name, const char *value)
{
    if (!s || !name || !value)
        return NEUVC_ERR(EINVAL);
    if (!strcmp(name, "qp"))
        return nv_parse_int(value, 0, 63, &s->qp);
    if (!strcmp(name, "keyint"))
        return nv_parse_int(value, -1, 1 << 20, &s->keyint);
    if (!strcmp(name, "threads"))
        return nv_parse_int(value, 0, NEUVC_MAX_THREADS, &s->threads);
    if (!strcmp(name, "cpu"))
        return nv_parse_cpu(value, &s->cpu);
    if (!strcmp(name, "model")) {
        s->model_path = value;
        return 0;
    }
    if (!strcmp(name, "bitrate"))
        return nv_parse_int(value, 0, 1000000, &s->bitrate_kbps);
    if (!strcmp(name, "vbv-maxrate"))
        return nv_parse_int(value, 0, 1000000, &s->vbv_maxrate_kbps);
    if (!strcmp(name, "vbv-bufsize"))
        return nv_parse_int(value, 0, 1000000, &s->vbv_bufsize_kbit);
    if (!strcmp(name, "intra-refresh"))
        return nv_parse_int(value, 0, 1, &s->intra_refresh);
    if (!strcmp(name, "fps"))
        return nv_parse_ratio(value, &s->fps_num, &s->fps_den);
    if (!strcmp(name, "max-width"))
        return nv_parse_int(value, 1, NEUVC_MAX_DIM, &s->max_width);
    if (!strcmp(name, "max-height"))
        return nv_parse_int(value, 1, NEUVC_MAX_DIM, &s->max_height);
    if (!strcmp(name, "log-level"))
        return nv_parse_int(value, 0, 2, &s->log_level);
    if (!strcmp(name, "deadzone-intra"))
        return nv_parse_int(value, 0, 16, &s->deadzone_intra);
    if (!strcmp(name, "deadzone-inter"))
        return nv_parse_int(value, 0, 16, &s->deadzone_inter);
    return NEUVC_ERR(ENOENT);
}

int nv_enc_settings_check(const NeuvcEncSettings *s)
{
    if (!s)
        return NEUVC_ERR(EINVAL);
    if (s->max_width < 1 || s->max_width > NEUVC_MAX_DIM ||
        s->max_height < 1 || s->max_height > NEUVC_MAX_DIM)
        return NEUVC_ERR(EINVAL);
    if (s->width < 1 || s->height < 1)
        return NEUVC_ERR(EINVAL);
    if (s->width > s->max_width || s->height > s->max_height)
        return NEUVC_ERR(ERANGE);
    if (s->fps_num < 1 || s->fps_den < 1)
        return NEUVC_ERR(EINVAL);
    if (s->qp < 0 || s->qp > 63 || s->threads < 0 || s->threads > NEUVC_MAX_THREADS)
        return NEUVC_ERR(EINVAL);
    if ((unsigned)s->cpu > NEUVC_CPU_OPENCL)
        return NEUVC_ERR(EINVAL);
    if (s->bitrate_kbps < 0 || s->vbv_maxrate_kbps < 0 || s->vbv_bufsize_kbit < 0)
        return NEUVC_ERR(EINVAL);
    if (s->intra_refresh < 0 || s->intra_refresh > 1)
        return NEUVC_ERR(EINVAL);
    if (s->deadzone_intra < 0 || s->deadzone_intra > 16 || s->deadzone_inter < 0 ||
        s->deadzone_inter > 16)
        return NEUVC_ERR(EINVAL);
    return 0;
}
