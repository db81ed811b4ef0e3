/* Public encoder API.  The coding engine arrives with the trained model
 * (issue: end-to-end codec); until then opening validates the settings and
 * reports NEUVC_ERR(ENOSYS) so that no caller mistakes it for a codec. */
#include <stdlib.h>

#include "encoder/settings.h"

struct NeuvcEncoder {
    NeuvcEncSettings s;
};

int neuvc_enc_open(NeuvcEncoder **enc, const NeuvcEncSettings *s)
{
    int ret;

    if (!enc)
        return NEUVC_ERR(EINVAL);
    *enc = NULL;
    ret = nv_enc_settings_check(s);
    if (ret < 0)
        return ret;
    return NEUVC_ERR(ENOSYS);
}

int neuvc_enc_get_header(NeuvcEncoder *enc, const uint8_t **data, size_t *size)
{
    if (!enc || !data || !size)
        return NEUVC_ERR(EINVAL);
    return NEUVC_ERR(ENOSYS);
}

int neuvc_enc_send_picture(NeuvcEncoder *enc, const NeuvcPicture *pic)
{
    if (!enc)
        return NEUVC_ERR(EINVAL);
    return NEUVC_ERR(ENOSYS);
}

int neuvc_enc_receive_packet(NeuvcEncoder *enc, NeuvcPacket *pkt)
{
    if (!enc || !pkt)
        return NEUVC_ERR(EINVAL);
    return NEUVC_ERR(ENOSYS);
}

int neuvc_enc_get_recon(NeuvcEncoder *enc, NeuvcPicture *pic)
{
    if (!enc || !pic)
        return NEUVC_ERR(EINVAL);
    return NEUVC_ERR(ENOSYS);
}

int neuvc_enc_force_keyframe(NeuvcEncoder *enc)
{
    if (!enc)
        return NEUVC_ERR(EINVAL);
    return NEUVC_ERR(ENOSYS);
}

int neuvc_enc_set_bitrate(NeuvcEncoder *enc, int bitrate_kbps)
{
    if (!enc || bitrate_kbps < 0)
        return NEUVC_ERR(EINVAL);
    return NEUVC_ERR(ENOSYS);
}

void neuvc_enc_close(NeuvcEncoder **enc)
{
    if (!enc || !*enc)
        return;
    free(*enc);
    *enc = NULL;
}
