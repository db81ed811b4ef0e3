/*
 * neuvc: a learned (neural) low-delay video codec with an integer-exact
 * INT8 runtime.  This is the only public header of libneuvc.
 *
 * Usage, encoder (one picture in, one packet out, no frame delay):
 *
 *     NeuvcEncSettings s;
 *     neuvc_enc_default_settings(&s);
 *     s.width = 1280; s.height = 720;
 *     neuvc_enc_param_parse(&s, "qp", "30");       // same names as the CLI
 *     NeuvcEncoder *enc;
 *     if (neuvc_enc_open(&enc, &s) < 0) ...
 *     for each picture:
 *         neuvc_enc_send_picture(enc, &pic);
 *         while (neuvc_enc_receive_packet(enc, &pkt) == 0) write(pkt.data, pkt.size);
 *     neuvc_enc_close(&enc);
 *
 * Decoder: neuvc_dec_open(&dec, &settings), then neuvc_dec_send_packet()
 * and neuvc_dec_receive_picture() in the same pattern.
 *
 * Errors: every function that can fail returns 0 (or a count) on success
 * and a negative errno on failure, as NEUVC_ERR(EINVAL) etc.  The values map
 * one-to-one to FFmpeg: AVERROR(e) == NEUVC_ERR(e) for every code below
 * except NEUVC_ERR_INVALIDDATA, which a wrapper turns into
 * AVERROR_INVALIDDATA.
 *
 * Thread safety: one encoder or decoder instance is used by one thread at a
 * time; distinct instances are independent.
 */
#ifndef NEUVC_NEUVC_H
#define NEUVC_NEUVC_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define NEUVC_API __declspec(dllexport)
#elif defined(__GNUC__)
#define NEUVC_API __attribute__((visibility("default")))
#else
#define NEUVC_API
#endif

#define NEUVC_VERSION_MAJOR 0
#define NEUVC_VERSION_MINOR 1
#define NEUVC_VERSION_PATCH 0
#define NEUVC_VERSION_INT(a, b, c) (((a) << 16) | ((b) << 8) | (c))
#define NEUVC_VERSION \
    NEUVC_VERSION_INT(NEUVC_VERSION_MAJOR, NEUVC_VERSION_MINOR, NEUVC_VERSION_PATCH)

/* ----------------------------------------------------------- error codes */
#define NEUVC_ERR(e) (-(e))
/* EINVAL  bad argument or setting (also: call in the wrong order)
 * ENOMEM  allocation failed
 * EAGAIN  no output available yet: send more input
 * ENOSYS  not supported (feature or backend not available in this build)
 * ENOENT  a file (model, input) could not be opened
 * ERANGE  a size or value is outside the configured limits
 * EIO     read or write failed
 * NEUVC_ERR_INVALIDDATA  the data (stream, packet, model file, Y4M) is
 *         corrupt, truncated or of an unknown kind */
#define NEUVC_ERR_INVALIDDATA NEUVC_ERR(EBADMSG)
#define NEUVC_ERR_EOF NEUVC_ERR(EPIPE) /* the stream has ended (after flush) */

/* Human-readable text for an error code; never NULL. */
NEUVC_API const char *neuvc_strerror(int err);

/* Version of the library at run time (NEUVC_VERSION_INT form), and as text. */
NEUVC_API unsigned neuvc_version(void);
NEUVC_API const char *neuvc_version_string(void);

/* ------------------------------------------------------------- pictures */
typedef enum NeuvcFrameType {
    NEUVC_FRAME_I = 0,            /* intra: decodable alone */
    NEUVC_FRAME_P = 1,            /* predicted from the previous frame */
} NeuvcFrameType;

/* 8-bit YUV 4:2:0.  Chroma planes are ((w + 1) / 2) x ((h + 1) / 2). */
typedef struct NeuvcPicture {
    uint8_t *data[3];
    ptrdiff_t stride[3];
    int width, height;
    int64_t pts;
    NeuvcFrameType frame_type;    /* set by the decoder; encoder input: ignored */
    int force_keyframe;           /* encoder input: 1 = code this picture as I */
} NeuvcPicture;

/* A coded frame.  data stays valid until the next call on the same
 * encoder/decoder instance or its close; the library owns it. */
typedef struct NeuvcPacket {
    const uint8_t *data;
    size_t size;
    int64_t pts;
    NeuvcFrameType frame_type;
    int qp;                       /* the frame's quality index */
} NeuvcPacket;

/* Backend selection (--cpu in the tools). */
typedef enum NeuvcCpu {
    NEUVC_CPU_AUTO = 0,           /* best available CPU backend */
    NEUVC_CPU_REF = 1,            /* scalar C reference */
    NEUVC_CPU_AVX2 = 2,
    NEUVC_CPU_AVX512 = 3,         /* AVX-512 VNNI */
    NEUVC_CPU_NEON = 4,           /* aarch64 NEON, with the dot product where the CPU has it */
    NEUVC_CPU_OPENCL = 5,         /* networks and motion compensation on an OpenCL device
                                   * (docs/opencl.md); open fails with NEUVC_ERR(ENOSYS)
                                   * when none is usable */
} NeuvcCpu;

/* -------------------------------------------------------------- encoder */
typedef struct NeuvcEncSettings {
    int width, height;            /* required; 1..max_width x 1..max_height */
    int fps_num, fps_den;         /* default 30/1 */
    int qp;                       /* 0..63, lower is better; default 32 */
    int keyint;                   /* intra period; default 32; <= 0: first frame only */
    int threads;                  /* 0 = all cores (default) */
    NeuvcCpu cpu;                 /* default NEUVC_CPU_AUTO */
    const char *model_path;       /* NULL = built-in default model */
    int bitrate_kbps;             /* 0 = constant qp (default); >0 = rate control: a qp per
                                   * frame, no lookahead, no frame delay (docs/video-call.md) */
    int vbv_maxrate_kbps;         /* VBV, x264 meanings; 0 = unset.  maxrate needs bufsize, */
    int vbv_bufsize_kbit;         /*  bufsize alone takes maxrate = bitrate */
    int intra_refresh;            /* 0 = periodic keyframes (default); 1 = intra refresh:
                                   * cycles of ceil(height / 64) refreshing P frames, one
                                   * ending every max(keyint, that) frames after the I frame */
    int max_width, max_height;    /* limits; default 8192 x 8192 */
    int log_level;                /* 0 quiet, 1 errors (default), 2 info */
    int deadzone_intra;           /* 0..16: latents within 1/2 + d/32 of the predicted */
    int deadzone_inter;           /*  mean are coded as the mean (I / P frames); 0 (default) = rounding */
} NeuvcEncSettings;

typedef struct NeuvcEncoder NeuvcEncoder;

NEUVC_API void neuvc_enc_default_settings(NeuvcEncSettings *s);
/* Sets one setting by its name, as the CLI and FFmpeg's -neuvc-params do
 * ("qp", "keyint", "threads", "cpu", "model", "bitrate", "vbv-maxrate",
 * "vbv-bufsize", "intra-refresh", "fps", "max-width", "max-height",
 * "deadzone-intra", "deadzone-inter", "log-level").
 * Returns 0, NEUVC_ERR(ENOENT) for an unknown name, NEUVC_ERR(EINVAL) for a
 * bad value. */
NEUVC_API int neuvc_enc_param_parse(NeuvcEncSettings *s, const char *name, const char *value);
NEUVC_API int neuvc_enc_open(NeuvcEncoder **enc, const NeuvcEncSettings *s);
/* The sequence header (what starts a .nvc file, and what a container
 * stores as codec private data).  Owned by the encoder. */
NEUVC_API int neuvc_enc_get_header(NeuvcEncoder *enc, const uint8_t **data, size_t *size);
/* Codes the picture at once (no frame delay).  Its packet must be taken with
 * neuvc_enc_receive_packet() before the next send, which otherwise returns
 * NEUVC_ERR(EAGAIN).  pic == NULL flushes (no frames are held back, so it
 * only ends the stream); a send after a flush returns NEUVC_ERR_EOF. */
NEUVC_API int neuvc_enc_send_picture(NeuvcEncoder *enc, const NeuvcPicture *pic);
/* 0 and a packet, NEUVC_ERR(EAGAIN) when none is pending, NEUVC_ERR_EOF after
 * a flush. */
NEUVC_API int neuvc_enc_receive_packet(NeuvcEncoder *enc, NeuvcPacket *pkt);
/* The reconstruction of the last coded picture (what a decoder outputs). */
NEUVC_API int neuvc_enc_get_recon(NeuvcEncoder *enc, NeuvcPicture *pic);
/* The next picture sent is coded as an intra frame. */
NEUVC_API int neuvc_enc_force_keyframe(NeuvcEncoder *enc);
/* Intra refresh only: the next picture sent starts a new refresh cycle
 * (band 0), abandoning the one under way, so a receiver that lost packets
 * before the call decodes exactly again by the end of that cycle,
 * ceil(height / 64) frames on, if it receives them (docs/video-call.md).
 * NEUVC_ERR(EINVAL) for an encoder opened without intra refresh. */
NEUVC_API int neuvc_enc_request_refresh(NeuvcEncoder *enc);
/* Network complexity of this encoder at its coded size (width and height
 * rounded up to multiples of 64): multiply-accumulates of one frame's
 * networks, for the encoder (its reconstruction pass included) and for a
 * decoder, for I and P frames (P: 0 when the model has no inter part). */
typedef struct NeuvcComplexity {
    int coded_width, coded_height;
    uint64_t intra_enc_macs, intra_dec_macs;
    uint64_t inter_enc_macs, inter_dec_macs;
} NeuvcComplexity;
NEUVC_API int neuvc_enc_get_complexity(NeuvcEncoder *enc, NeuvcComplexity *c);
/* Changes the bitrate target from the next frame on (a new bandwidth
 * estimate); the VBV scales with it.  NEUVC_ERR(EINVAL) for an encoder
 * opened without a bitrate, or kbps outside 1..1000000. */
NEUVC_API int neuvc_enc_set_bitrate(NeuvcEncoder *enc, int bitrate_kbps);
NEUVC_API void neuvc_enc_close(NeuvcEncoder **enc);

/* -------------------------------------------------------------- decoder */
typedef struct NeuvcDecSettings {
    int threads;                  /* 0 = all cores (default) */
    NeuvcCpu cpu;                 /* default NEUVC_CPU_AUTO */
    const char *model_path;       /* NULL = built-in models only */
    int max_width, max_height;    /* refuse larger streams; default 8192 */
    int log_level;                /* 0 quiet, 1 errors (default), 2 info */
} NeuvcDecSettings;

typedef struct NeuvcDecoder NeuvcDecoder;

NEUVC_API void neuvc_dec_default_settings(NeuvcDecSettings *s);
NEUVC_API int neuvc_dec_param_parse(NeuvcDecSettings *s, const char *name, const char *value);
NEUVC_API int neuvc_dec_open(NeuvcDecoder **dec, const NeuvcDecSettings *s);
/* The sequence header must be given before the first packet (else
 * send_packet returns NEUVC_ERR(EINVAL)).  A stream made with a model this
 * decoder does not have (neither built in nor settings.model_path) is
 * refused with NEUVC_ERR(ENOSYS). */
NEUVC_API int neuvc_dec_set_header(NeuvcDecoder *dec, const uint8_t *data, size_t size);
/* Decodes the packet at once; its picture must be taken before the next
 * send (else NEUVC_ERR(EAGAIN)).  A corrupt or truncated packet returns
 * NEUVC_ERR_INVALIDDATA and the decoder stays usable.  After one, or a
 * lost packet (a gap in the frame numbers), P frames return
 * NEUVC_ERR_INVALIDDATA with no picture until the next I frame or the
 * end of an intra refresh cycle that starts after the loss; from there
 * the pictures are those of a loss-free decoding.  pkt == NULL flushes. */
NEUVC_API int neuvc_dec_send_packet(NeuvcDecoder *dec, const NeuvcPacket *pkt);
/* 0 and a picture owned by the decoder (valid until the next call on dec),
 * NEUVC_ERR(EAGAIN) when none is pending, NEUVC_ERR_EOF after a flush. */
NEUVC_API int neuvc_dec_receive_picture(NeuvcDecoder *dec, NeuvcPicture *pic);
NEUVC_API void neuvc_dec_close(NeuvcDecoder **dec);

#ifdef __cplusplus
}
#endif
#endif
