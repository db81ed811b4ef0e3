/*
 * neuvc-dec: .nvc stream in, Y4M (8-bit 4:2:0) out (docs/cli.md).
 *
 *     neuvc-dec [options] -o OUT.y4m IN.nvc        ("-": stdin / stdout)
 *
 * The Y4M header takes the picture size and frame rate from the stream's
 * sequence header.  Frames are written as they are decoded, so the output
 * of a run that stops early is a valid Y4M file of the frames so far.
 *
 * Errors in the stream:
 *   - a packet the decoder refuses (corrupt payload, a packet lost before
 *     it, or a P frame without a reference until the next keyframe or the
 *     end of an intra refresh cycle): one line per such frame naming its
 *     number and the cause; the frame is concealed by writing the last
 *     good picture again (nothing when there is none yet), so the output
 *     keeps one picture per packet, and decoding goes on with the next
 *     packet; the exit status is 1 at the end;
 *   - broken framing (a truncated file, a packet size above the limit):
 *     packets after it cannot be found, so one line naming the frame and
 *     the error, the frames before it are kept, exit status 1.
 * The summary line ("decoded N frames, F fps") is printed only when every
 * frame decoded (and not with --quiet).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bitstream.h"
#include "common/y4m.h"
#include "tools/cli.h"

enum {
    OPT_OUTPUT = 1, OPT_INPUT, OPT_FRAMES, OPT_PARAMS, OPT_QUIET, OPT_PROGRESS,
    OPT_NO_PROGRESS, OPT_VERSION, OPT_HELP,
};

/* Largest packet accepted: four raw frames plus 1 MiB, far above what any
 * sane encoder makes, and a bound on the memory a corrupt size can claim. */
#define DEC_PACKET_RAW_FACTOR 4
#define DEC_PACKET_SLACK (1u << 20)

static NeuvcDecSettings g_defaults;

static const cli_opt dec_opts[] = {
    { "output", 'o', "FILE", OPT_OUTPUT, NULL, "write Y4M to FILE (\"-\": stdout, /dev/null: none)", NULL },
    { "input", 'i', "FILE", OPT_INPUT, NULL, "read the .nvc stream from FILE (\"-\": stdin), or give it last", NULL },
    { "frames", 0, "N", OPT_FRAMES, "0..2147483647", "stop after N frames; 0: all", NULL },
    { "threads", 0, "N", CLI_LIB, "0..64", "worker threads; 0: all cores", &g_defaults.threads },
    { "cpu", 0, "X", CLI_LIB, "ref|avx2|avx512|neon|opencl|auto", "backend (auto: the best available)", NULL },
    { "model", 0, "FILE", CLI_LIB, NULL, "also load the model in FILE (for streams made with it)", NULL },
    { "max-width", 0, "N", CLI_LIB, "1..65535", "refuse wider streams", &g_defaults.max_width },
    { "max-height", 0, "N", CLI_LIB, "1..65535", "refuse taller streams", &g_defaults.max_height },
    { "log-level", 0, "N", CLI_LIB, "0..2", "library messages: 0 none, 1 errors, 2 info",
      &g_defaults.log_level },
    { "params", 0, "K=V:K=V", OPT_PARAMS, NULL, "set the options above by name (threads=2:cpu=ref)", NULL },
    { "quiet", 0, NULL, OPT_QUIET, NULL, "no progress and no summary line (errors still show)", NULL },
    { "progress", 0, NULL, OPT_PROGRESS, NULL, "show the progress line even when stderr is no terminal", NULL },
    { "no-progress", 0, NULL, OPT_NO_PROGRESS, NULL, "never show the progress line", NULL },
    { "version", 'V', NULL, OPT_VERSION, NULL, "print the version and exit", NULL },
    { "help", 'h', NULL, OPT_HELP, NULL, "print this help and exit", NULL },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

typedef struct dec_ctx {
    NeuvcDecSettings s;
    const char *in_path, *out_path;
    int max_frames;               /* 0: all */
    int quiet;
    int progress;                 /* -1: when stderr is a terminal, 0 off, 1 on */
    cli_params params;            /* --params values: s.model_path may point here */

    FILE *in, *out;
    nvc_reader nr;
    y4m_writer yw;
    NeuvcDecoder *dec;
    int64_t packets;              /* packets read (the next frame's number) */
    int64_t frames;               /* pictures written */
    int64_t failed;               /* frames that did not decode */
    uint8_t *last;                /* copy of the last good picture, for concealment */
    int have_last;
    int awaiting_key;             /* after a failed frame, until one decodes */
    int64_t first_bad;            /* the frame that started it */
    cli_progress prog;
    double t0;
} dec_ctx;

static int dec_param(void *s, const char *name, const char *value)
{
    return neuvc_dec_param_parse(s, name, value);
}

static void print_help(void)
{
    printf("neuvc-dec %s: learned low-delay video decoder, .nvc to Y4M (8-bit 4:2:0)\n\n"
           "usage: neuvc-dec [options] -o OUT.y4m IN.nvc\n"
           "       \"-\" reads stdin / writes stdout: neuvc-dec -o - in.nvc | ffplay -\n\n",
           neuvc_version_string());
    cli_print_options(stdout, dec_opts);
    printf("\nEvery long option that the library knows (neuvc_dec_param_parse) is accepted,\n"
           "as \"--name VALUE\" or \"--name=VALUE\"; --params sets the same names.\n"
           "A packet that fails to decode (corrupt, lost before it, no reference yet): one\n"
           "error line per frame; the previous picture is repeated in its place and decoding\n"
           "goes on; exit status 1 at the end.  A truncated file keeps the frames before the cut; exit status 1.\n"
           "Summary line (stderr, when every frame decoded): frames and fps.\n");
}

/* 0: go on; 1: done (help or version printed); -1: error printed. */
static int parse_args(dec_ctx *c, int argc, char **argv)
{
    cli_lib lib = { &c->s, sizeof(c->s), dec_param, NULL, NULL };
    cli_args a;
    cli_args_init(&a, argc, argv);
    for (;;) {
        int id;
        const char *v;
        int kind = cli_args_next(&a, dec_opts, &lib, &id, &v);
        if (kind == CLI_ARG_END)
            return 0;
        if (kind == CLI_ARG_ERROR)
            return -1;
        if (kind == CLI_ARG_DONE)
            continue;
        if (kind == CLI_ARG_POSITIONAL || id == OPT_INPUT) {
            if (c->in_path) {
                cli_error("more than one input ('%s' and '%s')", c->in_path, v);
                return -1;
            }
            c->in_path = v;
            continue;
        }
        switch (id) {
        case OPT_OUTPUT: c->out_path = v; break;
        case OPT_FRAMES:
            if (cli_parse_int("--frames", v, 0, 2147483647, &c->max_frames) < 0)
                return -1;
            break;
        case OPT_PARAMS:
            if (cli_params_add(&c->params, v, dec_opts, &lib) < 0)
                return -1;
            break;
        case OPT_QUIET: c->quiet = 1; break;
        case OPT_PROGRESS: c->progress = 1; break;
        case OPT_NO_PROGRESS: c->progress = 0; break;
        case OPT_VERSION:
            cli_print_version();
            return 1;
        case OPT_HELP:
            print_help();
            return 1;
        }
    }
}

static int check_args(const dec_ctx *c)
{
    if (!c->in_path) {
        cli_error("no input file (usage: neuvc-dec [options] -o OUT.y4m IN.nvc; see --help)");
        return -1;
    }
    if (!c->out_path) {
        cli_error("no output file: give -o OUT.y4m (\"-\" for stdout, /dev/null for none)");
        return -1;
    }
    if (c->s.model_path) {
        FILE *m = fopen(c->s.model_path, "rb");
        if (!m) {
            cli_error("cannot open model '%s': %s", c->s.model_path, strerror(errno));
            return -1;
        }
        fclose(m);
    }
    return 0;
}

/* Reads the sequence header and sets up the decoder and the Y4M output. */
static int open_stream(dec_ctx *c)
{
    const char *in_name = cli_file_name(c->in_path, 0);
    int ret = nvc_reader_open(&c->nr, c->in, c->s.max_width, c->s.max_height, 0);
    if (ret < 0) {
        cli_error("%s: %s", in_name, c->nr.errmsg);
        return -1;
    }
    const nvc_seq_header *seq = &c->nr.seq;
    uint64_t raw = (uint64_t)seq->width * seq->height +
                   2 * (uint64_t)((seq->width + 1) / 2) * ((seq->height + 1) / 2);
    uint64_t limit = raw * DEC_PACKET_RAW_FACTOR + DEC_PACKET_SLACK;
    c->nr.max_packet_size = limit < UINT32_MAX ? (size_t)limit : UINT32_MAX;

    if (cli_check_backend(c->s.cpu, !c->quiet) < 0)
        return -1;
    ret = neuvc_dec_open(&c->dec, &c->s);
    if (ret < 0) {
        cli_error("cannot open the decoder: %s", cli_strerror(ret));
        return -1;
    }
    ret = neuvc_dec_set_header(c->dec, c->nr.seq_raw, NVC_SEQ_HEADER_SIZE);
    if (ret == NEUVC_ERR(ENOSYS) || ret == NEUVC_ERR(ENOENT)) {
        /* The header itself parsed above: what is missing is its model. */
        char fp[2 * NVC_MODEL_FP_SIZE + 1];
        for (int i = 0; i < NVC_MODEL_FP_SIZE; i++)
            snprintf(fp + 2 * i, 3, "%02x", seq->model_fp[i]);
        cli_error("%s: the stream needs model '%s' (fingerprint %s), which this decoder does "
                  "not have (give the model file with --model FILE)", in_name, seq->model_id, fp);
        return -1;
    }
    if (ret < 0) {
        cli_error("%s: cannot decode a %dx%d stream of model '%s': %s", in_name, seq->width,
                  seq->height, seq->model_id, cli_strerror(ret));
        return -1;
    }
    c->last = malloc((size_t)raw);
    if (!c->last) {
        cli_error("out of memory for a %dx%d picture", seq->width, seq->height);
        return -1;
    }
    c->out = cli_open_output(c->out_path, "decoded video");
    if (!c->out)
        return -1;
    y4m_info info;
    memset(&info, 0, sizeof(info));
    info.width = seq->width;
    info.height = seq->height;
    info.fps_num = seq->fps_num;
    info.fps_den = seq->fps_den;
    if (y4m_writer_open(&c->yw, c->out, &info) < 0) {
        cli_error("cannot write '%s': %s", cli_file_name(c->out_path, 1), c->yw.errmsg);
        return -1;
    }
    return 0;
}

/* The planes of c->last, laid out without padding. */
static void last_planes(const dec_ctx *c, uint8_t *planes[3], ptrdiff_t strides[3])
{
    int w = c->nr.seq.width, h = c->nr.seq.height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    planes[0] = c->last;
    planes[1] = c->last + (size_t)w * h;
    planes[2] = planes[1] + (size_t)cw * ch;
    strides[0] = w;
    strides[1] = strides[2] = cw;
}

static int write_planes(dec_ctx *c, const uint8_t *const planes[3], const ptrdiff_t strides[3])
{
    /* Flushed at once: a picture per packet, no frame of delay through a pipe. */
    if (y4m_write_frame(&c->yw, planes, strides) < 0 || fflush(c->out) != 0) {
        cli_error("cannot write '%s': %s (%s)", cli_file_name(c->out_path, 1), c->yw.errmsg,
                  strerror(errno));
        return -1;
    }
    c->frames++;
    return 0;
}

/* Writes pic and keeps a copy of it for concealment. */
static int write_picture(dec_ctx *c, const NeuvcPicture *pic)
{
    int w = c->nr.seq.width, h = c->nr.seq.height;
    if (pic->width != w || pic->height != h) {
        cli_error("frame %lld: the decoder returned %dx%d for a %dx%d stream",
                  (long long)c->frames, pic->width, pic->height, w, h);
        return -1;
    }
    uint8_t *planes[3];
    ptrdiff_t strides[3];
    last_planes(c, planes, strides);
    for (int i = 0; i < 3; i++) {
        int pw = i ? (w + 1) / 2 : w, ph = i ? (h + 1) / 2 : h;
        for (int y = 0; y < ph; y++)
            memcpy(planes[i] + (ptrdiff_t)y * strides[i], pic->data[i] + (ptrdiff_t)y * pic->stride[i],
                   (size_t)pw);
    }
    c->have_last = 1;
    c->awaiting_key = 0;
    const uint8_t *const src[3] = { pic->data[0], pic->data[1], pic->data[2] };
    return write_planes(c, src, pic->stride);
}

/* Writes every picture the decoder has ready.  eof: set on NEUVC_ERR_EOF.
 * Returns the number written, or -1 after a library error (message printed
 * by the caller, which knows the frame) with *err set, or -2 after a
 * write error (message printed). */
static int drain_pictures(dec_ctx *c, int *eof, int *err)
{
    int n = 0;
    for (;;) {
        if (c->max_frames && c->frames >= c->max_frames)
            return n;
        NeuvcPicture pic;
        int ret = neuvc_dec_receive_picture(c->dec, &pic);
        if (ret == NEUVC_ERR(EAGAIN))
            return n;
        if (ret == NEUVC_ERR_EOF) {
            *eof = 1;
            return n;
        }
        if (ret < 0) {
            *err = ret;
            return -1;
        }
        if (write_picture(c, &pic) < 0)
            return -2;
        n++;
    }
}

/* A frame that did not decode: one line, and the last good picture again.
 * The P frames that follow have no reference until the next I frame (or
 * the end of an intra refresh cycle); each is concealed the same way with
 * a line of its own, and counted in failed. */
static int conceal(dec_ctx *c, int64_t frame, int err)
{
    const char *what = c->have_last ? "the previous picture is repeated" : "skipped";
    if (!c->awaiting_key) {
        cli_error("frame %lld: %s; %s", (long long)frame, cli_strerror(err), what);
        c->first_bad = frame;
    } else {
        cli_error("frame %lld: %s, no reference since frame %lld (until a keyframe or a completed "
                  "intra refresh); %s", (long long)frame, cli_strerror(err),
                  (long long)c->first_bad, what);
    }
    c->awaiting_key = 1;
    c->failed++;
    if (!c->have_last)
        return 0;
    uint8_t *planes[3];
    ptrdiff_t strides[3];
    last_planes(c, planes, strides);
    const uint8_t *const src[3] = { planes[0], planes[1], planes[2] };
    return write_planes(c, src, strides);
}

/* Decodes one packet: 0 (decoded or concealed), -1 on a fatal error. */
static int decode_packet(dec_ctx *c, const uint8_t *data, size_t size, int64_t pts)
{
    int64_t frame = c->packets - 1;
    NeuvcPacket pkt;
    memset(&pkt, 0, sizeof(pkt));
    pkt.data = data;
    pkt.size = size;
    pkt.pts = pts;
    int eof = 0, err = 0, n = 0;
    int ret = neuvc_dec_send_packet(c->dec, &pkt);
    if (ret == NEUVC_ERR(EAGAIN)) {   /* output pending first: write it, retry once */
        n = drain_pictures(c, &eof, &err);
        if (n == -2)
            return -1;
        if (n < 0)
            return conceal(c, frame, err);
        ret = neuvc_dec_send_packet(c->dec, &pkt);
    }
    if (ret == NEUVC_ERR(ENOSYS)) {   /* no frame will decode: stop at once */
        cli_error("frame %lld: %s", (long long)frame, cli_strerror(ret));
        return -1;
    }
    if (ret < 0)
        return conceal(c, frame, ret);
    n = drain_pictures(c, &eof, &err);
    if (n == -2)
        return -1;
    if (n == -1)
        return conceal(c, frame, err);
    return 0;
}

static void show_progress(dec_ctx *c)
{
    double dt = cli_time_now() - c->t0;
    cli_progress_show(&c->prog, "%lld frames, %.2f fps", (long long)c->frames,
                      dt > 0 ? (double)c->frames / dt : 0.0);
}

static int decode_all(dec_ctx *c)
{
    for (;;) {
        if (c->max_frames && c->frames >= c->max_frames)
            return 0;             /* no flush needed: the rest is not wanted */
        if (cli_interrupted()) {
            cli_error("interrupted after %lld frames; '%s' holds them", (long long)c->frames,
                      cli_file_name(c->out_path, 1));
            return -1;
        }
        const uint8_t *data;
        size_t size;
        int64_t pts;
        int ret = nvc_read_packet(&c->nr, &data, &size, &pts);
        if (ret == 0)
            break;
        if (ret < 0) {
            cli_error("frame %lld: %s", (long long)c->packets, c->nr.errmsg);
            return -1;
        }
        c->packets++;
        if (decode_packet(c, data, size, pts) < 0)
            return -1;
        show_progress(c);
    }
    int ret = neuvc_dec_send_packet(c->dec, NULL);
    if (ret < 0) {
        cli_error("flushing the decoder failed: %s", cli_strerror(ret));
        return -1;
    }
    for (int eof = 0; !eof;) {
        int err = 0;
        int n = drain_pictures(c, &eof, &err);
        if (n == -2)
            return -1;
        if (n == -1) {
            cli_error("flushing the decoder failed: %s", cli_strerror(err));
            return -1;
        }
        if (c->max_frames && c->frames >= c->max_frames)
            break;
        if (!eof && n == 0) {
            cli_error("the decoder did not end its stream after the flush");
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    dec_ctx c;
    int rc = CLI_EXIT_FAIL;

    memset(&c, 0, sizeof(c));
    c.t0 = cli_time_now();
    cli_set_prog("neuvc-dec");
    cli_install_signals();
    neuvc_dec_default_settings(&g_defaults);
    g_defaults.log_level = 0;
    c.s = g_defaults;
    c.progress = -1;

    int ret = parse_args(&c, argc, argv);
    if (ret != 0) {
        rc = ret > 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
        goto fail;
    }
    if (check_args(&c) < 0)
        goto fail;
    c.in = cli_open_input(c.in_path, "input");
    if (!c.in)
        goto fail;
    if (open_stream(&c) < 0)
        goto fail;
    cli_progress_init(&c.prog, c.quiet ? 0 : c.progress);
    if (decode_all(&c) < 0)
        goto fail;
    cli_progress_clear(&c.prog);
    rc = c.failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
fail:
    /* The output is closed on every path, so the frames written are kept. */
    if (cli_close_file(c.out, c.out_path, "decoded video", rc == CLI_EXIT_OK) < 0)
        rc = CLI_EXIT_FAIL;
    if (rc == CLI_EXIT_OK && !c.quiet && c.dec) {
        double dt = cli_time_now() - c.t0;
        fprintf(stderr, "decoded %lld frames, %.2f fps\n", (long long)c.frames,
                dt > 0 ? (double)c.frames / dt : 0.0);
    }
    neuvc_dec_close(&c.dec);
    nvc_reader_close(&c.nr);
    free(c.last);
    if (c.in && c.in != stdin)
        fclose(c.in);
    cli_params_free(&c.params);
    return rc;
}
