#ifndef NEUVC_DECODER_SETTINGS_H
#define NEUVC_DECODER_SETTINGS_H

#include "neuvc/neuvc.h"

int nv_dec_settings_check(const NeuvcDecSettings *s);

#endif
