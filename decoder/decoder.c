/* Public decoder API.  The decoding engine arrives with the trained model;
 * until then opening validates the settings and reports NEUVC_ERR(ENOSYS). */
#include <stdlib.h>

#include "decoder/settings.h"

struct NeuvcDecoder {
    NeuvcDecSettings s;
};

int neuvc_dec_open(NeuvcDecoder **dec, const NeuvcDecSettings *s)
{
    int ret;

    if (!dec)
        return NEUVC_ERR(EINVAL);
    *dec = NULL;
    ret = nv_dec_settings_check(s);
    if (ret < 0)
        return ret;
    return NEUVC_ERR(ENOSYS);
}

int neuvc_dec_set_header(NeuvcDecoder *dec, const uint8_t *data, size_t size)
{
    if (!dec || !data)
        return NEUVC_ERR(EINVAL);
    return NEUVC_ERR(ENOSYS);
}

int neuvc_dec_send_packet(NeuvcDecoder *dec, const NeuvcPacket *pkt)
{
    if (!dec)
        return NEUVC_ERR(EINVAL);
    return NEUVC_ERR(ENOSYS);
}

int neuvc_dec_receive_picture(NeuvcDecoder *dec, NeuvcPicture *pic)
{
    if (!dec || !pic)
        return NEUVC_ERR(EINVAL);
    return NEUVC_ERR(ENOSYS);
}

void neuvc_dec_close(NeuvcDecoder **dec)
{
    if (!dec || !*dec)
        return;
    free(*dec);
    *dec = NULL;
}
