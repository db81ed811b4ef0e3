#ifndef NEUVC_ENCODER_SETTINGS_H
#define NEUVC_ENCODER_SETTINGS_H

#include "neuvc/neuvc.h"

#define NEUVC_DEFAULT_QP 32
#define NEUVC_DEFAULT_MAX_DIM 8192
#define NEUVC_MAX_DIM 65535        /* the sequence header's 16-bit fields */
#define NEUVC_MAX_THREADS 64

/* 0 when every field is in range, NEUVC_ERR(EINVAL) or NEUVC_ERR(ERANGE). */
int nv_enc_settings_check(const NeuvcEncSettings *s);

#endif
