#include "common/y4m.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define Y4M_MAGIC "YUV4MPEG2"
#define Y4M_FRAME_TAG "FRAME"

__attribute__((format(printf, 2, 3)))
static void y4m_set_err(char *errmsg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, Y4M_ERRMSG_SIZE, fmt, ap);
    va_end(ap);
}

static int reader_fail(y4m_reader *r, int err)
{
    r->err = err;
    return err;
}

/* Quoted form of a value from the input for a message: at most
 * Y4M_QUOTE_CHARS source bytes, bytes outside 0x20..0x7E as \xNN, "..."
 * when cut. */
#define Y4M_QUOTE_CHARS 32
#define Y4M_QUOTE_SIZE (Y4M_QUOTE_CHARS * 4 + 4)

static const char *quote_value(char out[Y4M_QUOTE_SIZE], const char *v, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && i < Y4M_QUOTE_CHARS; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c >= 0x20 && c <= 0x7E)
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, Y4M_QUOTE_SIZE - o, "\\x%02x", c);
    }
    if (len > Y4M_QUOTE_CHARS) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* Reads the rest of a '\n'-terminated line, at most max bytes before the
 * '\n', into line (NUL-terminated, '\n' removed).  Returns the length, -1
 * at end of input before any byte, or a NEUVC_ERR code (message set). */
static int read_line(y4m_reader *r, char *line, int max, const char *what)
{
    int n = 0;
    for (;;) {
        int c = getc(r->f);
        if (c == EOF) {
            if (ferror(r->f)) {
                y4m_set_err(r->errmsg, "Y4M: read error in the %s", what);
                return NEUVC_ERR(EIO);
            }
            if (n == 0)
                return -1;
            y4m_set_err(r->errmsg, "Y4M: input ends inside the %s", what);
            return NEUVC_ERR_INVALIDDATA;
        }
        if (c == '\n')
            break;
        if (n >= max) {
            y4m_set_err(r->errmsg, "Y4M: %s longer than %d bytes", what, Y4M_LINE_MAX - 1);
            return NEUVC_ERR_INVALIDDATA;
        }
        if (c == '\0') {
            y4m_set_err(r->errmsg, "Y4M: NUL byte in the %s", what);
            return NEUVC_ERR_INVALIDDATA;
        }
        line[n++] = (char)c;
    }
    line[n] = '\0';
    return n;
}

/* Decimal digits only, 1..9 of them (so the value fits an int). */
static int parse_uint(const char *s, size_t len, int *v)
{
    if (len == 0 || len > 9)
        return -1;
    int x = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 0;
}

/* "num:den", both parse_uint values. */
static int parse_ratio(const char *s, size_t len, int *num, int *den)
{
    const char *colon = memchr(s, ':', len);
    if (!colon)
        return -1;
    size_t nlen = (size_t)(colon - s);
    if (parse_uint(s, nlen, num) < 0 || parse_uint(colon + 1, len - nlen - 1, den) < 0)
        return -1;
    return 0;
}

static const char *const y4m_ok_colorspaces[] = { "420jpeg", "420paldv", "420mpeg2", "420" };

static int colorspace_ok(const char *v, size_t len)
{
    for (size_t i = 0; i < sizeof(y4m_ok_colorspaces) / sizeof(y4m_ok_colorspaces[0]); i++)
        if (strlen(y4m_ok_colorspaces[i]) == len && !memcmp(y4m_ok_colorspaces[i], v, len))
            return 1;
    return 0;
}

static int parse_dim(y4m_reader *r, char tag, const char *v, size_t len, int limit, int *out)
{
    int x;
    char q[Y4M_QUOTE_SIZE];
    if (parse_uint(v, len, &x) < 0 || x == 0) {
        y4m_set_err(r->errmsg, "Y4M: %s '%c%s' is not a positive integer",
                    tag == 'W' ? "width" : "height", tag, quote_value(q, v, len));
        return NEUVC_ERR_INVALIDDATA;
    }
    if (x > limit) {
        y4m_set_err(r->errmsg, "Y4M: %s %d is above the limit %d",
                    tag == 'W' ? "width" : "height", x, limit);
        return NEUVC_ERR(ERANGE);
    }
    *out = x;
    return 0;
}

/* One header tag: its letter t and value v[0..len-1]. */
static int parse_tag(y4m_reader *r, char t, const char *v, size_t len, int max_w, int max_h)
{
    y4m_info *info = &r->info;
    char q[Y4M_QUOTE_SIZE];
    switch (t) {
    case 'W':
        return parse_dim(r, 'W', v, len, max_w, &info->width);
    case 'H':
        return parse_dim(r, 'H', v, len, max_h, &info->height);
    case 'F': {
        int num, den;
        if (parse_ratio(v, len, &num, &den) < 0 || (num == 0) != (den == 0)) {
            y4m_set_err(r->errmsg, "Y4M: frame rate 'F%s' is not num:den with both >= 1",
                        quote_value(q, v, len));
            return NEUVC_ERR_INVALIDDATA;
        }
        if (num == 0) {           /* F0:0 = unknown */
            num = 25;
            den = 1;
        }
        info->fps_num = num;
        info->fps_den = den;
        return 0;
    }
    case 'A': {
        int num, den;
        if (parse_ratio(v, len, &num, &den) < 0 || (num == 0) != (den == 0)) {
            y4m_set_err(r->errmsg, "Y4M: pixel aspect 'A%s' is not num:den (or 0:0)",
                        quote_value(q, v, len));
            return NEUVC_ERR_INVALIDDATA;
        }
        info->sar_num = num;
        info->sar_den = den;
        return 0;
    }
    case 'I':
        if (len != 1 || !strchr("ptbm?", v[0])) {
            y4m_set_err(r->errmsg, "Y4M: interlacing 'I%s' is not one of Ip, It, Ib, Im, I?",
                        quote_value(q, v, len));
            return NEUVC_ERR_INVALIDDATA;
        }
        info->interlace = v[0];
        return 0;
    case 'C':
        if (!colorspace_ok(v, len)) {
            y4m_set_err(r->errmsg,
                        "Y4M: colour space 'C%s' is not supported; neuvc reads 8-bit 4:2:0 only "
                        "(C420jpeg, C420paldv, C420mpeg2, C420 or no C tag)",
                        quote_value(q, v, len));
            return NEUVC_ERR(ENOSYS);
        }
        memcpy(info->colorspace, v, len); /* len <= 8: one of the accepted names */
        info->colorspace[len] = '\0';
        return 0;
    default:                      /* X (comment/extension) and unknown tags */
        return 0;
    }
}

static int parse_header(y4m_reader *r, int max_w, int max_h)
{
    /* The magic is checked byte by byte so that input of another kind is
     * called that, whatever its first line looks like. */
    size_t mlen = strlen(Y4M_MAGIC);
    for (size_t i = 0; i < mlen; i++) {
        int c = getc(r->f);
        if (c == EOF && ferror(r->f)) {
            y4m_set_err(r->errmsg, "Y4M: read error in the stream header");
            return NEUVC_ERR(EIO);
        }
        if (c == EOF && i == 0) {
            y4m_set_err(r->errmsg, "Y4M: empty input, expected a YUV4MPEG2 header");
            return NEUVC_ERR_INVALIDDATA;
        }
        if (c != Y4M_MAGIC[i]) {
            y4m_set_err(r->errmsg, "Y4M: missing YUV4MPEG2 magic: not a Y4M stream");
            return NEUVC_ERR_INVALIDDATA;
        }
    }
    char line[Y4M_LINE_MAX];
    int n = read_line(r, line, Y4M_LINE_MAX - 1 - (int)mlen, "stream header");
    if (n == -1) {
        y4m_set_err(r->errmsg, "Y4M: input ends inside the stream header");
        return NEUVC_ERR_INVALIDDATA;
    }
    if (n < 0)
        return n;
    if (line[0] != ' ' && line[0] != '\0') {
        y4m_set_err(r->errmsg, "Y4M: missing YUV4MPEG2 magic: not a Y4M stream");
        return NEUVC_ERR_INVALIDDATA;
    }
    const char *p = line;
    while (*p) {
        if (*p == ' ') {          /* tolerate repeated separators */
            p++;
            continue;
        }
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int ret = parse_tag(r, p[0], p + 1, len - 1, max_w, max_h);
        if (ret < 0)
            return ret;
        p += len;
    }
    if (!r->info.width || !r->info.height) {
        y4m_set_err(r->errmsg, "Y4M: header has no %s tag",
                    !r->info.width ? "W (width)" : "H (height)");
        return NEUVC_ERR_INVALIDDATA;
    }
    return 0;
}

int y4m_reader_open(y4m_reader *r, FILE *f, int max_width, int max_height)
{
    memset(r, 0, sizeof(*r));
    if (!f)
        return NEUVC_ERR(EINVAL);
    r->f = f;
    r->info.fps_num = 25;
    r->info.fps_den = 1;
    r->info.interlace = 'p';
    int max_w = max_width <= 0 || max_width > Y4M_DIM_MAX ? Y4M_DIM_MAX : max_width;
    int max_h = max_height <= 0 || max_height > Y4M_DIM_MAX ? Y4M_DIM_MAX : max_height;
    int ret = parse_header(r, max_w, max_h);
    if (ret < 0)
        return reader_fail(r, ret);
    uint64_t luma = (uint64_t)r->info.width * (uint64_t)r->info.height;
    uint64_t chroma = (uint64_t)((r->info.width + 1) / 2) * (uint64_t)((r->info.height + 1) / 2);
    uint64_t total = luma + 2 * chroma;
    if (total > SIZE_MAX / 2) {
        y4m_set_err(r->errmsg, "Y4M: %dx%d frames are too large for this machine",
                    r->info.width, r->info.height);
        return reader_fail(r, NEUVC_ERR(ERANGE));
    }
    r->frame_size = (size_t)total;
    return 0;
}

/* Reads rows of w bytes, h of them, stride apart. */
/* Reads a plane of h rows of w bytes, stride apart; rows that are back to
 * back (stride == w) are read in one call. */
static int read_plane(y4m_reader *r, uint8_t *dst, ptrdiff_t stride, int w, int h,
                      const char *name)
{
    int rows_per_call = stride == w ? h : 1;
    for (int y = 0; y < h; y += rows_per_call) {
        size_t want = (size_t)w * (size_t)rows_per_call;
        size_t got = fread(dst + (ptrdiff_t)y * stride, 1, want, r->f);
        if (got != want) {
            if (ferror(r->f)) {
                y4m_set_err(r->errmsg, "Y4M: read error in frame %lld", (long long)r->frames_read);
                return NEUVC_ERR(EIO);
            }
            y4m_set_err(r->errmsg, "Y4M: frame %lld is truncated (input ends in the %s plane, "
                        "row %d of %d)", (long long)r->frames_read, name,
                        y + (int)(got / (size_t)w), h);
            return NEUVC_ERR_INVALIDDATA;
        }
    }
    return 0;
}

int y4m_read_frame(y4m_reader *r, uint8_t *const planes[3], const ptrdiff_t strides[3])
{
    if (!r || !r->f || !planes || !strides)
        return NEUVC_ERR(EINVAL);
    if (r->err)
        return r->err;
    if (r->at_end)
        return 0;
    int w = r->info.width, h = r->info.height;
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    for (int i = 0; i < 3; i++) {
        ptrdiff_t s = strides[i] < 0 ? -strides[i] : strides[i];
        if (!planes[i] || s < (i ? cw : w)) {
            y4m_set_err(r->errmsg, "Y4M: plane %d buffer missing or stride too small", i);
            return NEUVC_ERR(EINVAL);
        }
    }
    char line[Y4M_LINE_MAX];
    int n = read_line(r, line, Y4M_LINE_MAX - 1, "FRAME line");
    if (n == -1) {
        r->at_end = 1;
        return 0;
    }
    if (n < 0)
        return reader_fail(r, n);
    size_t tlen = strlen(Y4M_FRAME_TAG);
    if ((size_t)n < tlen || memcmp(line, Y4M_FRAME_TAG, tlen) != 0 ||
        (line[tlen] != ' ' && line[tlen] != '\0')) {
        char q[Y4M_QUOTE_SIZE];
        y4m_set_err(r->errmsg, "Y4M: bad FRAME line before frame %lld: '%s'",
                    (long long)r->frames_read, quote_value(q, line, (size_t)n));
        return reader_fail(r, NEUVC_ERR_INVALIDDATA);
    }
    int ret = read_plane(r, planes[0], strides[0], w, h, "Y");
    if (ret >= 0)
        ret = read_plane(r, planes[1], strides[1], cw, ch, "U");
    if (ret >= 0)
        ret = read_plane(r, planes[2], strides[2], cw, ch, "V");
    if (ret < 0)
        return reader_fail(r, ret);
    r->frames_read++;
    return 1;
}

int y4m_read_picture(y4m_reader *r, NeuvcPicture *pic)
{
    if (!r || !pic)
        return NEUVC_ERR(EINVAL);
    if (r->err)
        return r->err;
    int w = r->info.width, h = r->info.height;
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    if (!r->buf) {
        r->buf = malloc(r->frame_size);
        if (!r->buf) {
            y4m_set_err(r->errmsg, "Y4M: out of memory for a %dx%d frame", w, h);
            return reader_fail(r, NEUVC_ERR(ENOMEM));
        }
    }
    uint8_t *planes[3] = { r->buf, r->buf + (size_t)w * h, r->buf + (size_t)w * h + (size_t)cw * ch };
    ptrdiff_t strides[3] = { w, cw, cw };
    int64_t index = r->frames_read;
    int ret = y4m_read_frame(r, planes, strides);
    if (ret <= 0)
        return ret;
    memset(pic, 0, sizeof(*pic));
    for (int i = 0; i < 3; i++) {
        pic->data[i] = planes[i];
        pic->stride[i] = strides[i];
    }
    pic->width = w;
    pic->height = h;
    pic->pts = index;
    pic->frame_type = NEUVC_FRAME_I;
    return 1;
}

void y4m_reader_close(y4m_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    r->buf = NULL;
}

int y4m_writer_open(y4m_writer *w, FILE *f, const y4m_info *info)
{
    memset(w, 0, sizeof(*w));
    if (!f || !info)
        return NEUVC_ERR(EINVAL);
    if (info->width < 1 || info->width > Y4M_DIM_MAX || info->height < 1 ||
        info->height > Y4M_DIM_MAX || info->fps_num < 1 || info->fps_den < 1 ||
        info->sar_num < 0 || info->sar_den < 0) {
        y4m_set_err(w->errmsg, "Y4M: cannot write %dx%d at %d/%d fps, aspect %d:%d",
                    info->width, info->height, info->fps_num, info->fps_den,
                    info->sar_num, info->sar_den);
        return NEUVC_ERR(EINVAL);
    }
    int sar_num = info->sar_num, sar_den = info->sar_den;
    if (!sar_num || !sar_den)
        sar_num = sar_den = 0;
    w->f = f;
    w->width = info->width;
    w->height = info->height;
    if (fprintf(f, Y4M_MAGIC " W%d H%d F%d:%d Ip A%d:%d C420jpeg\n", info->width, info->height,
                info->fps_num, info->fps_den, sar_num, sar_den) < 0) {
        y4m_set_err(w->errmsg, "Y4M: write error in the stream header");
        return NEUVC_ERR(EIO);
    }
    return 0;
}

static int write_plane(y4m_writer *w, const uint8_t *src, ptrdiff_t stride, int pw, int ph)
{
    int rows_per_call = stride == pw ? ph : 1;
    for (int y = 0; y < ph; y += rows_per_call) {
        size_t want = (size_t)pw * (size_t)rows_per_call;
        if (fwrite(src + (ptrdiff_t)y * stride, 1, want, w->f) != want) {
            y4m_set_err(w->errmsg, "Y4M: write error in frame %lld", (long long)w->frames_written);
            return NEUVC_ERR(EIO);
        }
    }
    return 0;
}

int y4m_write_frame(y4m_writer *w, const uint8_t *const planes[3], const ptrdiff_t strides[3])
{
    if (!w || !w->f || !planes || !strides)
        return NEUVC_ERR(EINVAL);
    int cw = (w->width + 1) / 2, ch = (w->height + 1) / 2;
    for (int i = 0; i < 3; i++) {
        ptrdiff_t s = strides[i] < 0 ? -strides[i] : strides[i];
        if (!planes[i] || s < (i ? cw : w->width)) {
            y4m_set_err(w->errmsg, "Y4M: plane %d buffer missing or stride too small", i);
            return NEUVC_ERR(EINVAL);
        }
    }
    if (fputs(Y4M_FRAME_TAG "\n", w->f) < 0) {
        y4m_set_err(w->errmsg, "Y4M: write error in frame %lld", (long long)w->frames_written);
        return NEUVC_ERR(EIO);
    }
    int ret = write_plane(w, planes[0], strides[0], w->width, w->height);
    if (ret >= 0)
        ret = write_plane(w, planes[1], strides[1], cw, ch);
    if (ret >= 0)
        ret = write_plane(w, planes[2], strides[2], cw, ch);
    if (ret < 0)
        return ret;
    w->frames_written++;
    return 0;
}
