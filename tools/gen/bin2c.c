/* Build-time generator: writes a file's bytes as a 64-byte aligned C array
 * (the built-in model).  Usage: bin2c SYMBOL FILE > OUT.c */
#include <stdio.h>

int main(int argc, char **argv)
{
    FILE *f;
    int c;
    unsigned long n = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: bin2c SYMBOL FILE\n");
        return 2;
    }
    f = fopen(argv[2], "rb");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    printf("#include <stddef.h>\n_Alignas(64) const unsigned char %s[] = {\n", argv[1]);
    while ((c = fgetc(f)) != EOF) {
        printf("%u,%s", (unsigned)c, (++n % 24) ? "" : "\n");
    }
    if (ferror(f)) {
        perror(argv[2]);
        fclose(f);
        return 1;
    }
    fclose(f);
    printf("};\nconst size_t %s_size = %lu;\n", argv[1], n);
    return 0;
}
