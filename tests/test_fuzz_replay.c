/* The fuzz targets (tests/fuzz/fuzz_*.c) built with the native compiler
 * and run on every seed (tests/fuzz/corpus/NAME/) and every regression
 * input (tests/fuzz/regress/NAME/), so that the native and sanitizer
 * suites replay past findings too; a target aborts on anything it finds
 * wrong.  Fuzzing itself is `make check-fuzz` (docs/security.md). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ENTRY fuzz_dec_stream
#include "tests/fuzz/fuzz_dec_stream.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_dec_packet
#include "tests/fuzz/fuzz_dec_packet.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_nvc_reader
#include "tests/fuzz/fuzz_nvc_reader.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_nvm
#include "tests/fuzz/fuzz_nvm.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_y4m
#include "tests/fuzz/fuzz_y4m.c"
#undef FUZZ_ENTRY

typedef struct target {
    const char *name;
    int (*run)(const uint8_t *data, size_t size);
} target;

static const target targets[] = {
    { "dec_stream", fuzz_dec_stream }, { "dec_packet", fuzz_dec_packet },
    { "nvc_reader", fuzz_nvc_reader }, { "nvm", fuzz_nvm },
    { "y4m", fuzz_y4m },
};

/* Runs t on every file of dir; returns how many (0 when dir is absent). */
static int replay_dir(const target *t, const char *dir)
{
    char path[512];
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "cannot open %s", path);
        uint8_t *buf = malloc(1 << 20);
        ck_assert_ptr_nonnull(buf);
        size_t size = fread(buf, 1, 1 << 20, f);
        fclose(f);
        t->run(buf, size);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

START_TEST(replay)
{
    const target *t = &targets[_i];
    char dir[256];
    snprintf(dir, sizeof(dir), "tests/fuzz/corpus/%s", t->name);
    int seeds = replay_dir(t, dir);
    /* Seeds made from a clip at test time (tests/fuzz/clip-seeds.sh). */
    snprintf(dir, sizeof(dir), "build/fuzz-seeds/%s", t->name);
    seeds += replay_dir(t, dir);
    snprintf(dir, sizeof(dir), "tests/fuzz/regress/%s", t->name);
    int regress = replay_dir(t, dir);
    printf("fuzz_%s: %d seeds, %d regression inputs replayed\n", t->name, seeds, regress);
    ck_assert_int_gt(seeds, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fuzz_replay");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, replay, 0, (int)(sizeof(targets) / sizeof(targets[0])));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
