/* make bench: the kernel benchmark of the bit-exact checker, i.e.
 * `test_checkasm --bench` (per-kernel speed-up over netlib/ref and GMAC/s
 * on the default model's shapes).  The code is tests/test_checkasm.c. */
#define CHECKASM_NO_MAIN
#include "test_checkasm.c"

int main(int argc, char **argv)
{
    char *args[] = { argv[0], (char *)"--bench", NULL };
    (void)argc;
    return checkasm_main(2, args);
}
