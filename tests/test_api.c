/* Public API: settings defaults, the shared parameter vocabulary, error
 * codes, and argument checking. */
#include <check.h>
#include <string.h>

#include "neuvc/neuvc.h"

START_TEST(enc_defaults)
{
    NeuvcEncSettings s;
    memset(&s, 0x5a, sizeof(s));
    neuvc_enc_default_settings(&s);
    ck_assert_int_eq(s.qp, 32);
    ck_assert_int_eq(s.keyint, 32);
    ck_assert_int_eq(s.threads, 0);
    ck_assert_int_eq(s.cpu, NEUVC_CPU_AUTO);
    ck_assert_int_eq(s.fps_num, 30);
    ck_assert_int_eq(s.fps_den, 1);
    ck_assert_int_eq(s.bitrate_kbps, 0);
    ck_assert_int_eq(s.max_width, 8192);
    ck_assert_int_eq(s.max_height, 8192);
    ck_assert_ptr_null(s.model_path);
    ck_assert_int_eq(s.width, 0);
}
END_TEST

START_TEST(enc_param_parse)
{
    NeuvcEncSettings s;
    neuvc_enc_default_settings(&s);
    ck_assert_int_eq(neuvc_enc_param_parse(&s, "qp", "17"), 0);
    ck_assert_int_eq(s.qp, 17);
    ck_assert_int_eq(neuvc_enc_param_parse(&s, "qp", "64"), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_param_parse(&s, "qp", "-1"), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_param_parse(&s, "qp", "12x"), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_param_parse(&s, "qp", ""), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(s.qp, 17);
    ck_assert_int_eq(neuvc_enc_param_parse(&s, "keyint", "-1"), 0);
    ck_assert_int_eq(s.keyint, -1);
    ck_assert_int_eq(neuvc_enc_param_parse(&s, "cpu", "avx512"), 0);
    ck_assert_int_eq(s.cpu, NEUVC_CPU_AVX512);
    ck_assert_int_eq(neuvc_enc_param_parse(&s, "cpu", "sse9"), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_param_parse(&s, "fps", "30000/1001"), 0);
    ck_assert_int_eq(s.fps_num, 30000);
    ck_assert_int_eq(s.fps_den, 1001);
    ck_assert_int_eq(neuvc_enc_param_parse(&s, "fps", "0/1"), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_param_parse(&s, "no-such-option", "1"), NEUVC_ERR(ENOENT));
    ck_assert_int_eq(neuvc_enc_param_parse(NULL, "qp", "1"), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_param_parse(&s, "qp", NULL), NEUVC_ERR(EINVAL));
}
END_TEST

START_TEST(enc_open_checks)
{
    NeuvcEncSettings s;
    NeuvcEncoder *enc = (NeuvcEncoder *)&s; /* must be reset to NULL on failure */
    neuvc_enc_default_settings(&s);
    ck_assert_int_eq(neuvc_enc_open(&enc, &s), NEUVC_ERR(EINVAL)); /* no size */
    ck_assert_ptr_null(enc);
    s.width = 9000;
    s.height = 100;
    ck_assert_int_eq(neuvc_enc_open(&enc, &s), NEUVC_ERR(ERANGE));
    s.width = 64;
    s.fps_den = 0;
    ck_assert_int_eq(neuvc_enc_open(&enc, &s), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_open(NULL, &s), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_open(&enc, NULL), NEUVC_ERR(EINVAL));
    neuvc_enc_close(NULL);
    enc = NULL;
    neuvc_enc_close(&enc);
    ck_assert_int_eq(neuvc_enc_send_picture(NULL, NULL), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_enc_receive_packet(NULL, NULL), NEUVC_ERR(EINVAL));
}
END_TEST

START_TEST(dec_defaults_and_parse)
{
    NeuvcDecSettings s;
    NeuvcDecoder *dec = NULL;
    neuvc_dec_default_settings(&s);
    ck_assert_int_eq(s.threads, 0);
    ck_assert_int_eq(s.max_width, 8192);
    ck_assert_int_eq(neuvc_dec_param_parse(&s, "threads", "3"), 0);
    ck_assert_int_eq(s.threads, 3);
    ck_assert_int_eq(neuvc_dec_param_parse(&s, "threads", "many"), NEUVC_ERR(EINVAL));
    ck_assert_int_eq(neuvc_dec_param_parse(&s, "qp", "3"), NEUVC_ERR(ENOENT));
    s.max_width = 0;
    ck_assert_int_eq(neuvc_dec_open(&dec, &s), NEUVC_ERR(EINVAL));
    ck_assert_ptr_null(dec);
    ck_assert_int_eq(neuvc_dec_send_packet(NULL, NULL), NEUVC_ERR(EINVAL));
    neuvc_dec_close(&dec);
}
END_TEST

START_TEST(errors_and_version)
{
    ck_assert_uint_eq(neuvc_version(), NEUVC_VERSION);
    ck_assert_str_eq(neuvc_version_string(), "0.1.0");
    /* one-to-one with FFmpeg's AVERROR(e) == -e */
    ck_assert_int_eq(NEUVC_ERR(EINVAL), -EINVAL);
    ck_assert_int_eq(NEUVC_ERR(ENOMEM), -ENOMEM);
    ck_assert_int_eq(NEUVC_ERR(EAGAIN), -EAGAIN);
    ck_assert_str_eq(neuvc_strerror(NEUVC_ERR(ENOMEM)), "out of memory");
    ck_assert_str_eq(neuvc_strerror(12345), "unknown error");
    ck_assert_ptr_nonnull(strstr(neuvc_strerror(NEUVC_ERR_INVALIDDATA), "invalid data"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, enc_defaults);
    tcase_add_test(tc, enc_param_parse);
    tcase_add_test(tc, enc_open_checks);
    tcase_add_test(tc, dec_defaults_and_parse);
    tcase_add_test(tc, errors_and_version);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
