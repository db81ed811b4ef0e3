/*
 * neuvc-enc: Y4M (8-bit 4:2:0) in, .nvc stream out (docs/cli.md).
 *
 *     neuvc-enc [options] -o OUT.nvc IN.y4m        ("-": stdin / stdout)
 *
 * The .nvc file is the encoder's sequence header, then one packet per
 * frame (common/bitstream.h).  Every packet is written whole (and flushed)
 * as soon as it is made, before the next picture is read, so the output of a run that stops early (bad input, Ctrl-C, a
 * library error) is a valid stream of the frames coded so far.
 *
 * stderr: a progress line when it is a terminal (--progress / --no-progress
 * force it), then one summary line (not with --quiet): frames, fps, kbit/s
 * of the whole file, and PSNR of the reconstruction against the source.
 * A failure prints one line "neuvc-enc: <what is wrong>" and exits 1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/bitstream.h"
#include "common/y4m.h"
#include "tools/cli.h"
#include "tools/readahead.h"

enum {
    OPT_OUTPUT = 1, OPT_INPUT, OPT_FRAMES, OPT_RECON, OPT_PARAMS, OPT_QUIET,
    OPT_PROGRESS, OPT_NO_PROGRESS, OPT_STATS, OPT_VERSION, OPT_HELP,
};


/* The defaults shown by --help: the library's, except log-level (0: the
 * tool prints the one error line itself). */
static NeuvcEncSettings g_defaults;

static const cli_opt enc_opts[] = {
    { "output", 'o', "FILE", OPT_OUTPUT, NULL, "write the .nvc stream to FILE (\"-\": stdout)", NULL },
    { "input", 'i', "FILE", OPT_INPUT, NULL, "read Y4M from FILE (\"-\": stdin), or give it last", NULL },
    { "qp", 'q', "N", CLI_LIB, "0..63", "quality index, lower is better", &g_defaults.qp },
    { "keyint", 'I', "N", CLI_LIB, "-1..1048576", "intra period; 0 or -1: only the first frame is I",
      &g_defaults.keyint },
    { "frames", 0, "N", OPT_FRAMES, "0..2147483647", "stop after N frames; 0: all", NULL },
    { "recon", 0, "FILE", OPT_RECON, NULL, "write the reconstruction (what a decoder outputs) as Y4M", NULL },
    { "model", 0, "FILE", CLI_LIB, NULL, "load the model from FILE instead of the built-in one", NULL },
    { "threads", 0, "N", CLI_LIB, "0..64", "worker threads; 0: all cores", &g_defaults.threads },
    { "cpu", 0, "X", CLI_LIB, "ref|avx2|avx512|neon|opencl|auto", "backend (auto: the best available)", NULL },
    { "bitrate", 'B', "KBPS", CLI_LIB, "0..1000000", "target bitrate in kbit/s; 0: constant qp",
      &g_defaults.bitrate_kbps },
    { "vbv-maxrate", 0, "KBPS", CLI_LIB, "0..1000000", "VBV maximum rate in kbit/s; 0: unset",
      &g_defaults.vbv_maxrate_kbps },
    { "vbv-bufsize", 0, "KBIT", CLI_LIB, "0..1000000", "VBV buffer size in kbit; 0: unset",
      &g_defaults.vbv_bufsize_kbit },
    { "intra-refresh", 0, NULL, CLI_LIB, NULL, "gradual intra refresh instead of periodic I frames", NULL },
    { "fps", 0, "N/D", CLI_LIB, "N, D in 1..1073741824", "frame rate (default: the Y4M header's)", NULL },
    { "max-width", 0, "N", CLI_LIB, "1..65535", "refuse wider input", &g_defaults.max_width },
    { "max-height", 0, "N", CLI_LIB, "1..65535", "refuse taller input", &g_defaults.max_height },
    { "log-level", 0, "N", CLI_LIB, "0..2", "library messages: 0 none, 1 errors, 2 info",
      &g_defaults.log_level },
    { "deadzone-intra", 0, "N", CLI_LIB, "0..16", "I frames: code latents within 1/2+N/32 of the mean as the mean",
      &g_defaults.deadzone_intra },
    { "deadzone-inter", 0, "N", CLI_LIB, "0..16", "P frames: the same", &g_defaults.deadzone_inter },
    { "params", 0, "K=V:K=V", OPT_PARAMS, NULL, "set the options above by name (qp=30:keyint=64)", NULL },
    { "quiet", 0, NULL, OPT_QUIET, NULL, "no progress and no summary line (errors still show)", NULL },
    { "stats", 0, NULL, OPT_STATS, NULL, "also print the networks' kMAC per pixel (encoder and decoder)", NULL },
    { "progress", 0, NULL, OPT_PROGRESS, NULL, "show the progress line even when stderr is no terminal", NULL },
    { "no-progress", 0, NULL, OPT_NO_PROGRESS, NULL, "never show the progress line", NULL },
    { "version", 'V', NULL, OPT_VERSION, NULL, "print the version and exit", NULL },
    { "help", 'h', NULL, OPT_HELP, NULL, "print this help and exit", NULL },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

typedef struct enc_ctx {
    NeuvcEncSettings s;
    int fps_given;                /* --fps (or fps= in --params) was given */
    const char *in_path, *out_path, *recon_path;
    int max_frames;               /* 0: all */
    int quiet;
    int stats;                    /* --stats: print the complexity line */
    int progress;                 /* -1: when stderr is a terminal, 0 off, 1 on */
    cli_params params;            /* --params values: s.model_path may point here */

    FILE *in, *out, *recon;
    y4m_reader yr;
    y4m_readahead ra;             /* yr's frames, read one ahead */
    y4m_writer yw;
    nvc_writer nw;
    NeuvcEncoder *enc;
    int want_recon;               /* get_recon after each frame (--recon or PSNR) */
    uint64_t bytes;               /* bytes of the .nvc file written so far */
    int64_t frames;               /* packets written */
    int64_t total;                /* frames expected, for the progress line; 0 unknown */
    cli_psnr psnr;
    cli_progress prog;
    double t0;
} enc_ctx;

static int enc_param(void *s, const char *name, const char *value)
{
    return neuvc_enc_param_parse(s, name, value);
}

static void print_help(void)
{
    printf("neuvc-enc %s: learned low-delay video encoder, Y4M (8-bit 4:2:0) to .nvc\n\n"
           "usage: neuvc-enc [options] -o OUT.nvc IN.y4m\n"
           "       \"-\" reads stdin / writes stdout: cat in.y4m | neuvc-enc -o - - > out.nvc\n\n",
           neuvc_version_string());
    cli_print_options(stdout, enc_opts);
    printf("\nEvery long option that the library knows (neuvc_enc_param_parse) is accepted,\n"
           "as \"--name VALUE\" or \"--name=VALUE\"; --params sets the same names.\n"
           "Summary line (stderr): frames, fps of the whole run, kbit/s of the whole file\n"
           "(headers included) at the stream's frame rate, and PSNR Y, U, V and\n"
           "YUV = (6Y+U+V)/8 in dB, per-frame values averaged over the frames; a plane\n"
           "identical to the source counts as %.0f dB (the cap).  Exit status: 0, or 1\n"
           "after one error line.\n", CLI_PSNR_CAP);
}

/* 0: go on; 1: done (help or version printed); -1: error printed. */
static int parse_args(enc_ctx *c, int argc, char **argv)
{
    cli_lib lib = { &c->s, sizeof(c->s), enc_param, "fps", &c->fps_given };
    cli_args a;
    cli_args_init(&a, argc, argv);
    for (;;) {
        int id;
        const char *v;
        int kind = cli_args_next(&a, enc_opts, &lib, &id, &v);
        if (kind == CLI_ARG_END)
            return 0;
        if (kind == CLI_ARG_ERROR)
            return -1;
        if (kind == CLI_ARG_DONE)
            continue;
        if (kind == CLI_ARG_POSITIONAL) {
            if (c->in_path) {
                cli_error("more than one input ('%s' and '%s')", c->in_path, v);
                return -1;
            }
            c->in_path = v;
            continue;
        }
        switch (id) {
        case OPT_OUTPUT: c->out_path = v; break;
        case OPT_INPUT:
            if (c->in_path) {
                cli_error("more than one input ('%s' and '%s')", c->in_path, v);
                return -1;
            }
            c->in_path = v;
            break;
        case OPT_FRAMES:
            if (cli_parse_int("--frames", v, 0, 2147483647, &c->max_frames) < 0)
                return -1;
            break;
        case OPT_RECON: c->recon_path = v; break;
        case OPT_PARAMS:
            if (cli_params_add(&c->params, v, enc_opts, &lib) < 0)
                return -1;
            break;
        case OPT_QUIET: c->quiet = 1; break;
        case OPT_STATS: c->stats = 1; break;
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

/* Checks that belong to the command line as a whole. */
static int check_args(const enc_ctx *c)
{
    if (!c->in_path) {
        cli_error("no input file (usage: neuvc-enc [options] -o OUT.nvc IN.y4m; see --help)");
        return -1;
    }
    if (!c->out_path) {
        cli_error("no output file: give -o OUT.nvc (\"-\" for stdout)");
        return -1;
    }
    if (c->recon_path && !strcmp(c->recon_path, "-") && !strcmp(c->out_path, "-")) {
        cli_error("--recon - and -o - would both write to stdout");
        return -1;
    }
    if (c->recon_path && strcmp(c->recon_path, "-") && !strcmp(c->recon_path, c->out_path)) {
        cli_error("--recon and -o name the same file '%s'", c->out_path);
        return -1;
    }
    if (c->s.model_path) {        /* a clear message before the library's */
        FILE *m = fopen(c->s.model_path, "rb");
        if (!m) {
            cli_error("cannot open model '%s': %s", c->s.model_path, strerror(errno));
            return -1;
        }
        fclose(m);
    }
    return 0;
}

/* Frames the input holds, from its size when it is a regular file. */
static int64_t expected_frames(const enc_ctx *c)
{
    struct stat st;
    int64_t n = 0;
    if (fstat(fileno(c->in), &st) == 0 && S_ISREG(st.st_mode)) {
        long pos = ftell(c->in);
        if (pos >= 0 && st.st_size > pos)
            n = (int64_t)(st.st_size - pos) / (int64_t)(c->yr.frame_size + 6); /* "FRAME\n" */
    }
    if (c->max_frames && (n == 0 || c->max_frames < n))
        n = c->max_frames;
    return n;
}

static int open_encoder(enc_ctx *c)
{
    const y4m_info *info = &c->yr.info;
    c->s.width = info->width;
    c->s.height = info->height;
    if (!c->fps_given) {
        c->s.fps_num = info->fps_num;
        c->s.fps_den = info->fps_den;
    }
    if (cli_check_backend(c->s.cpu, !c->quiet) < 0)
        return -1;
    int ret = neuvc_enc_open(&c->enc, &c->s);
    if (ret < 0) {
        if (c->s.model_path)
            cli_error("cannot open the encoder with model '%s': %s", c->s.model_path,
                      cli_strerror(ret));
        else
            cli_error("cannot open the encoder for %dx%d at %d/%d fps: %s", c->s.width,
                      c->s.height, c->s.fps_num, c->s.fps_den, cli_strerror(ret));
        return -1;
    }
    return 0;
}

static int open_outputs(enc_ctx *c)
{
    const uint8_t *hdr;
    size_t hdr_size;
    int ret = neuvc_enc_get_header(c->enc, &hdr, &hdr_size);
    if (ret < 0) {
        cli_error("cannot get the sequence header: %s", cli_strerror(ret));
        return -1;
    }
    c->out = cli_open_output(c->out_path, "stream");
    if (!c->out)
        return -1;
    ret = nvc_writer_open(&c->nw, c->out, hdr, hdr_size);
    if (ret < 0) {
        if (ret == NEUVC_ERR(EIO))
            cli_error("cannot write '%s': %s (%s)", cli_file_name(c->out_path, 1), c->nw.errmsg,
                      strerror(errno));
        else
            cli_error("the library's sequence header is invalid: %s", c->nw.errmsg);
        return -1;
    }
    c->bytes = NVC_SEQ_HEADER_SIZE;   /* what nvc_writer_open wrote */
    if (c->recon_path) {
        c->recon = cli_open_output(c->recon_path, "reconstruction");
        if (!c->recon)
            return -1;
        /* Exactly the Y4M header neuvc-dec writes: from the sequence
         * header, with no pixel aspect (the stream has none), so that the
         * two files compare equal byte for byte. */
        nvc_seq_header seq;
        if (nvc_seq_header_parse(&seq, hdr, hdr_size, 0, 0, NULL, 0) < 0) {
            cli_error("the library's sequence header is invalid"); /* parsed above */
            return -1;
        }
        y4m_info ri;
        memset(&ri, 0, sizeof(ri));
        ri.width = seq.width;
        ri.height = seq.height;
        ri.fps_num = seq.fps_num;
        ri.fps_den = seq.fps_den;
        if (y4m_writer_open(&c->yw, c->recon, &ri) < 0) {
            cli_error("cannot write '%s': %s", cli_file_name(c->recon_path, 1), c->yw.errmsg);
            return -1;
        }
    }
    return 0;
}

/* Writes every packet the encoder has ready.  eof: set on NEUVC_ERR_EOF. */
static int drain_packets(enc_ctx *c, int *eof)
{
    for (;;) {
        NeuvcPacket pkt;
        int ret = neuvc_enc_receive_packet(c->enc, &pkt);
        if (ret == NEUVC_ERR(EAGAIN))
            return 0;
        if (ret == NEUVC_ERR_EOF) {
            *eof = 1;
            return 0;
        }
        if (ret < 0) {
            cli_error("encoding frame %lld failed: %s", (long long)c->frames, cli_strerror(ret));
            return -1;
        }
        ret = nvc_write_packet(&c->nw, pkt.data, pkt.size, pkt.pts);
        /* The packet leaves at once (a pipe to a sender: no frame of delay). */
        if (ret == 0 && fflush(c->out) != 0)
            ret = NEUVC_ERR(EIO);
        if (ret < 0) {
            if (ret == NEUVC_ERR(EIO))
                cli_error("cannot write '%s': %s (%s)", cli_file_name(c->out_path, 1),
                          c->nw.errmsg, strerror(errno));
            else
                cli_error("frame %lld: the encoder returned a packet that cannot be stored: %s",
                          (long long)c->frames, c->nw.errmsg);
            return -1;
        }
        c->bytes += NVC_PACKET_HEADER_SIZE + (uint64_t)pkt.size;
        c->frames++;
    }
}

/* Codes one source picture: its packet, its reconstruction and PSNR. */
static int encode_picture(enc_ctx *c, const NeuvcPicture *pic)
{
    int eof = 0;
    int ret = neuvc_enc_send_picture(c->enc, pic);
    if (ret == NEUVC_ERR(EAGAIN)) {   /* output pending first: write it, retry once */
        if (drain_packets(c, &eof) < 0)
            return -1;
        ret = neuvc_enc_send_picture(c->enc, pic);
    }
    if (ret < 0) {
        cli_error("encoding frame %lld failed: %s", (long long)pic->pts, cli_strerror(ret));
        return -1;
    }
    if (drain_packets(c, &eof) < 0)
        return -1;
    if (!c->want_recon)
        return 0;
    NeuvcPicture rec;
    ret = neuvc_enc_get_recon(c->enc, &rec);
    if (ret < 0) {
        cli_error("no reconstruction of frame %lld: %s", (long long)pic->pts, cli_strerror(ret));
        return -1;
    }
    if (rec.width != pic->width || rec.height != pic->height) {
        cli_error("the reconstruction of frame %lld is %dx%d, the source %dx%d",
                  (long long)pic->pts, rec.width, rec.height, pic->width, pic->height);
        return -1;
    }
    cli_psnr_add(&c->psnr, pic, &rec);
    if (c->recon) {
        const uint8_t *const planes[3] = { rec.data[0], rec.data[1], rec.data[2] };
        if (y4m_write_frame(&c->yw, planes, rec.stride) < 0) {
            cli_error("cannot write '%s': %s (%s)", cli_file_name(c->recon_path, 1),
                      c->yw.errmsg, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static double kbit_per_s(const enc_ctx *c, int64_t frames)
{
    if (frames <= 0)
        return 0.0;
    double seconds = (double)frames * c->s.fps_den / c->s.fps_num;
    return (double)c->bytes * 8.0 / 1000.0 / seconds;
}

static void show_progress(enc_ctx *c)
{
    double dt = cli_time_now() - c->t0;
    double fps = dt > 0 ? (double)c->frames / dt : 0.0;
    double kbps = kbit_per_s(c, c->frames);
    if (c->total > 0 && c->frames <= c->total) {
        int eta = fps > 0 ? (int)((double)(c->total - c->frames) / fps) : 0;
        cli_progress_show(&c->prog, "[%5.1f%%] %lld/%lld frames, %.2f fps, %.2f kb/s, eta %d:%02d:%02d",
                          100.0 * (double)c->frames / (double)c->total, (long long)c->frames,
                          (long long)c->total, fps, kbps, eta / 3600, eta / 60 % 60, eta % 60);
    } else {
        cli_progress_show(&c->prog, "%lld frames, %.2f fps, %.2f kb/s", (long long)c->frames, fps,
                          kbps);
    }
}

static void print_summary(const enc_ctx *c)
{
    double dt = cli_time_now() - c->t0;
    double fps = dt > 0 ? (double)c->frames / dt : 0.0;
    char psnr[160] = "";
    if (c->psnr.frames > 0) {
        double n = (double)c->psnr.frames;
        int len = snprintf(psnr, sizeof(psnr), ", PSNR Y %.3f U %.3f V %.3f YUV %.3f dB",
                           c->psnr.sum[0] / n, c->psnr.sum[1] / n, c->psnr.sum[2] / n,
                           c->psnr.sum_yuv / n);
        if (c->psnr.capped > 0 && len > 0 && (size_t)len < sizeof(psnr))
            snprintf(psnr + len, sizeof(psnr) - (size_t)len, " (%lld identical planes at the %.0f dB cap)",
                     (long long)c->psnr.capped, CLI_PSNR_CAP);
    }
    fprintf(stderr, "encoded %lld frames, %.2f fps, %.2f kb/s%s\n", (long long)c->frames, fps,
            kbit_per_s(c, c->frames), psnr);
}

/* --stats: network multiply-accumulates per pixel of the coded size. */
static void print_complexity(const enc_ctx *c)
{
    NeuvcComplexity cx;
    if (neuvc_enc_get_complexity(c->enc, &cx) < 0)
        return;
    double px = (double)cx.coded_width * cx.coded_height;
    fprintf(stderr, "complexity at %dx%d (coded size): I frames %.2f kMAC/px to encode, %.2f to decode; "
            "P frames %.2f to encode, %.2f to decode\n", cx.coded_width, cx.coded_height,
            cx.intra_enc_macs / px / 1e3, cx.intra_dec_macs / px / 1e3, cx.inter_enc_macs / px / 1e3,
            cx.inter_dec_macs / px / 1e3);
}

static int encode_all(enc_ctx *c)
{
    for (;;) {
        if (c->max_frames && c->frames >= c->max_frames)
            break;
        if (cli_interrupted()) {
            cli_error("interrupted after %lld frames; '%s' holds them", (long long)c->frames,
                      cli_file_name(c->out_path, 1));
            return -1;
        }
        NeuvcPicture pic;
        int ret = y4m_readahead_next(&c->ra, &pic);
        if (ret == 0)
            break;
        if (ret < 0) {
            cli_error("%s: %s", cli_file_name(c->in_path, 0), c->yr.errmsg);
            return -1;
        }
        if (encode_picture(c, &pic) < 0)
            return -1;
        show_progress(c);
    }
    int ret = neuvc_enc_send_picture(c->enc, NULL);
    if (ret < 0) {
        cli_error("flushing the encoder failed: %s", cli_strerror(ret));
        return -1;
    }
    for (int eof = 0; !eof;) {
        int64_t before = c->frames;
        if (drain_packets(c, &eof) < 0)
            return -1;
        if (!eof && c->frames == before) {
            cli_error("the encoder did not end its stream after the flush");
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    enc_ctx c;
    int rc = CLI_EXIT_FAIL;

    memset(&c, 0, sizeof(c));
    c.t0 = cli_time_now();
    cli_set_prog("neuvc-enc");
    cli_install_signals();
    neuvc_enc_default_settings(&g_defaults);
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
    ret = y4m_reader_open(&c.yr, c.in, c.s.max_width, c.s.max_height);
    if (ret < 0) {
        cli_error("%s: %s", cli_file_name(c.in_path, 0), c.yr.errmsg);
        goto fail;
    }
    if (open_encoder(&c) < 0 || open_outputs(&c) < 0)
        goto fail;
    c.want_recon = c.recon != NULL || !c.quiet;
    c.total = expected_frames(&c);
    cli_progress_init(&c.prog, c.quiet ? 0 : c.progress);
    y4m_readahead_start(&c.ra, &c.yr, c.in);
    if (encode_all(&c) < 0)
        goto fail;
    cli_progress_clear(&c.prog);
    rc = CLI_EXIT_OK;
fail:
    /* Outputs are closed on every path, so what was written is kept; a
     * write error found only now turns success into failure. */
    if (cli_close_file(c.out, c.out_path, "stream", rc == CLI_EXIT_OK) < 0)
        rc = CLI_EXIT_FAIL;
    if (cli_close_file(c.recon, c.recon_path, "reconstruction", rc == CLI_EXIT_OK) < 0)
        rc = CLI_EXIT_FAIL;
    if (rc == CLI_EXIT_OK && !c.quiet && c.enc)
        print_summary(&c);
    if (rc == CLI_EXIT_OK && c.stats && c.enc)
        print_complexity(&c);
    neuvc_enc_close(&c.enc);
    y4m_readahead_stop(&c.ra);
    y4m_reader_close(&c.yr);
    if (c.in && c.in != stdin)
        fclose(c.in);
    cli_params_free(&c.params);
    return rc;
}
