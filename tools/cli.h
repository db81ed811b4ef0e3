/*
 * Shared code of the command-line tools neuvc-enc and neuvc-dec: messages,
 * option parsing, opening files ("-" = stdin / stdout), wall-clock timing,
 * the progress line and PSNR.
 *
 * Messages: every error is ONE line on stderr, "<tool>: <what is wrong>".
 * The tools exit with CLI_EXIT_OK (0) on success and CLI_EXIT_FAIL (1) on
 * any failure, never by a signal on bad input.
 *
 * Options: a tool lists its own options in a table (id > 0).  Every other
 * long option "--name VALUE" is handed to the library's parameter parser
 * (neuvc_enc_param_parse / neuvc_dec_param_parse) under the same name, so
 * the library holds the one list of setting names and their ranges; table
 * entries with id CLI_LIB only add a short name, flag syntax ("--name"
 * with no value means "1") and a line of --help for such a parameter.
 */
#ifndef NEUVC_TOOLS_CLI_H
#define NEUVC_TOOLS_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "neuvc/neuvc.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1

/* The tool's name for messages ("neuvc-enc"); set once at start. */
void cli_set_prog(const char *name);
const char *cli_prog(void);

/* Prints "<tool>: <message>\n" on stderr (clearing a progress line first).
 * The message must be a single line. */
__attribute__((format(printf, 1, 2)))
void cli_error(const char *fmt, ...);

/* Text for a library error code; for NEUVC_ERR(ENOSYS) it says "not
 * supported (ENOSYS)" by this build, and how to see the library's reason
 * (the tools run it with log-level 0, so that an error is one line). */
const char *cli_strerror(int err);
/* Before opening a coder with backend cpu: for opencl, fails (-1) with one
 * line saying why when no OpenCL device is usable, else (verbose) names
 * the device in one line; for auto, prints the one-line note when
 * NEUVC_CPU=opencl had to fall back to the CPU.  0 otherwise. */
int cli_check_backend(NeuvcCpu cpu, int verbose);

/* ---------------------------------------------------------------- options */
#define CLI_LIB 0                 /* table id: a library parameter */

typedef struct cli_opt {
    const char *name;             /* long name without "--"; NULL ends a table */
    char short_name;              /* '\0': none */
    const char *arg;              /* value placeholder for --help; NULL: a flag */
    int id;                       /* > 0: the tool's own option; CLI_LIB */
    const char *range;            /* accepted values, for --help and errors; may be NULL */
    const char *help;             /* one line of --help */
    const int *dflt;              /* default shown as "[N]" in --help; may be NULL */
} cli_opt;

/* The library's parameter parser for one settings struct. */
typedef int (*cli_param_fn)(void *settings, const char *name, const char *value);

typedef struct cli_lib {
    void *settings;               /* what parse writes to */
    size_t settings_size;         /* bytes of *settings (a scratch copy is probed) */
    cli_param_fn parse;
    const char *fps_name;         /* set *fps_given when this name is parsed; may be NULL */
    int *fps_given;
} cli_lib;

typedef struct cli_args {
    int argc;
    char **argv;
    int next;                     /* index of the next argv entry, 1..argc */
    int positional_only;          /* 1 after "--" */
} cli_args;

enum {
    CLI_ARG_END = 0,              /* no arguments left */
    CLI_ARG_OPTION = 1,           /* a tool option: *id, *value (NULL for a flag) */
    CLI_ARG_POSITIONAL = 2,       /* *value is a file name ("-" included) */
    CLI_ARG_DONE = 3,             /* a library parameter, already applied */
    CLI_ARG_ERROR = -1,           /* bad option or value; the message is printed */
};

void cli_args_init(cli_args *a, int argc, char **argv);
/* Takes the next argument: "--name VALUE", "--name=VALUE", "-x VALUE",
 * "-xVALUE", "--" and positionals.  Library parameters are applied through
 * lib at once (in command-line order, so a later one wins). */
int cli_args_next(cli_args *a, const cli_opt *table, const cli_lib *lib, int *id,
                  const char **value);

/* Applies "key=value:key=value..." (the string must stay alive: a "model"
 * value points into it).  The ':' inside a value can be written "\:".
 * Modifies s in place.  0, or CLI_ARG_ERROR with the message printed. */
int cli_apply_params(char *s, const cli_opt *table, const cli_lib *lib);

/* The --params values given so far, kept because settings (model_path) may
 * point into them; at most CLI_MAX_PARAMS. */
#define CLI_MAX_PARAMS 32
typedef struct cli_params {
    char *v[CLI_MAX_PARAMS];
    int n;
} cli_params;
/* Keeps a copy of v and applies it with cli_apply_params: 0 or -1 (message
 * printed). */
int cli_params_add(cli_params *p, const char *v, const cli_opt *table, const cli_lib *lib);
void cli_params_free(cli_params *p);

/* Parses a tool option's integer value in [lo, hi]; prints the error. */
int cli_parse_int(const char *opt, const char *value, int lo, int hi, int *out);

/* Prints "<tool> X.Y.Z (libneuvc X.Y.Z)" on stdout: the version the tool
 * was built with and that of the library it runs with. */
void cli_print_version(void);

/* Prints the table as --help lines. */
void cli_print_options(FILE *f, const cli_opt *table);

/* ------------------------------------------------------------------ files */
/* Opens path for reading ("-": stdin).  NULL with the error printed. */
FILE *cli_open_input(const char *path, const char *what);
/* Opens path for writing ("-": stdout, refused when it is a terminal).
 * NULL with the error printed. */
FILE *cli_open_output(const char *path, const char *what);
/* Flushes and closes (stdin / stdout are flushed, not closed).  0, or -1
 * with the error printed when complain is set and writing had failed. */
int cli_close_file(FILE *f, const char *path, const char *what, int complain);
/* Name of path for messages: "stdin" / "stdout" for "-". */
const char *cli_file_name(const char *path, int output);

/* Ctrl-C (SIGINT) sets a flag instead of killing the tool, so that it can
 * finish the files it writes; SIGPIPE is ignored, so that a closed pipe is
 * a write error with a message, not a silent death. */
void cli_install_signals(void);
int cli_interrupted(void);

/* ------------------------------------------------------------ time, progress */
/* Monotonic wall-clock time in seconds. */
double cli_time_now(void);

typedef struct cli_progress {
    int enabled;                  /* 0: cli_progress_show does nothing */
    double last;                  /* time of the last line */
    int shown;                    /* a line is on the terminal now */
} cli_progress;

/* enabled = force (1 on, 0 off) or, when force < 0, whether stderr is a
 * terminal. */
void cli_progress_init(cli_progress *p, int force);
/* Shows text (no newline, '\r'-updated) if 0.5 s passed since the last. */
__attribute__((format(printf, 2, 3)))
void cli_progress_show(cli_progress *p, const char *fmt, ...);
/* Erases the line, if one is shown. */
void cli_progress_clear(cli_progress *p);

/* ------------------------------------------------------------------- PSNR */
#define CLI_PSNR_CAP 100.0        /* dB, for identical planes (MSE = 0) */

typedef struct cli_psnr {
    double sum[3];                /* per-plane PSNR summed over frames */
    double sum_yuv;               /* (6Y + U + V) / 8, summed over frames */
    int64_t frames;
    int64_t capped;               /* planes that read CLI_PSNR_CAP */
} cli_psnr;

/* PSNR in dB of one w x h plane, capped at CLI_PSNR_CAP. */
double cli_plane_psnr(const uint8_t *a, ptrdiff_t sa, const uint8_t *b, ptrdiff_t sb,
                      int w, int h);
/* Adds one frame (src and rec of the same size, 4:2:0). */
void cli_psnr_add(cli_psnr *acc, const NeuvcPicture *src, const NeuvcPicture *rec);

#endif
