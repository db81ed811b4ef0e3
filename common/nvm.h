/*
 * .nvm model files: reader and writer of the container that carries the
 * codec's networks (integer parameters, tensors, graphs).  The format is
 * specified byte by byte in docs/model-format.md; training/nvm.py reads and
 * writes the identical bytes.
 *
 * A loaded model is immutable and may be shared by any number of threads.
 * Everything read from a file is checked before use: magic, version, sizes
 * against the caller's limit, the payload SHA-256, every count, dimension
 * and offset (no product can overflow), name syntax and uniqueness, and
 * every graph (netlib/graph.h: slots, tensor dtypes and shapes, channel
 * counts, descriptor checks).  Failures return a negative errno and, when
 * err is not NULL, a one-line message in err:
 *     NEUVC_ERR_INVALIDDATA  corrupt, truncated or unknown data
 *     NEUVC_ERR(ERANGE)      the payload is larger than max_payload
 *     NEUVC_ERR(ENOENT)      the file cannot be opened
 *     NEUVC_ERR(EIO)         a read failed
 *     NEUVC_ERR(ENOMEM)      allocation failed
 *     NEUVC_ERR(ENOSYS)      big-endian host (the format is little-endian)
 */
#ifndef NEUVC_COMMON_NVM_H
#define NEUVC_COMMON_NVM_H

#include <stddef.h>
#include <stdint.h>

struct nl_graph;                 /* netlib/graph.h */

#define NVM_MAGIC "NVM1"         /* 4 bytes, no terminator in the file */
#define NVM_VERSION 1
#define NVM_HEADER_SIZE 112      /* bytes before the payload */
#define NVM_NAME_MAX 63          /* names and model id: 1..63 bytes 0x21..0x7e */
#define NVM_MAX_NDIM 4
#define NVM_ALIGN 16             /* tensor data alignment in the file and in memory */
#define NVM_MAX_ITEMS 65536      /* most params, tensors, graphs (each kind) */
#define NVM_FINGERPRINT_SIZE 8   /* first bytes of the payload SHA-256 */
#define NVM_DEFAULT_MAX_PAYLOAD ((size_t)256 << 20)
#define NVM_ERRMSG_SIZE 256      /* room for the messages (longer ones are cut) */
#define NVM_ANY_DIM (-1)         /* wildcard dimension for nvm_find_tensor */

/* Byte layout (docs/model-format.md): header field offsets, record sizes. */
#define NVM_OFF_VERSION 4
#define NVM_OFF_ID 8
#define NVM_OFF_PAYLOAD_SIZE 72
#define NVM_OFF_SHA256 80
#define NVM_NAME_FIELD 64        /* name fields: the name, then zeros */
#define NVM_COUNTS_SIZE 16       /* n_params n_tensors n_graphs reserved */
#define NVM_PARAM_REC 72
#define NVM_TENSOR_REC 96
#define NVM_GRAPH_HDR 80
#define NVM_INPUT_REC 12
#define NVM_OUTPUT_REC 4
#define NVM_OP_REC 64

/* Element types of stored tensors (codes as stored in the file). */
typedef enum nvm_dtype {
    NVM_U8 = 0,
    NVM_S8 = 1,
    NVM_U16 = 2,
    NVM_S16 = 3,
    NVM_U32 = 4,
    NVM_S32 = 5,
    NVM_NDTYPES
} nvm_dtype;

typedef struct nvm_param {
    char name[NVM_NAME_MAX + 1];
    int64_t value;
} nvm_param;

typedef struct nvm_tensor {
    char name[NVM_NAME_MAX + 1];
    nvm_dtype dtype;
    int ndim;                    /* 1..NVM_MAX_NDIM */
    int dims[NVM_MAX_NDIM];      /* [0, ndim): 1..INT32_MAX; [ndim, 4): 1 */
    size_t count;                /* product of dims, >= 1 */
    size_t size;                 /* count * nvm_dtype_size(dtype) bytes */
    const void *data;            /* row-major, host order, NVM_ALIGN-aligned */
} nvm_tensor;

typedef struct nvm_model nvm_model;

/* Bytes per element (1, 2 or 4), 0 for an invalid dtype. */
size_t nvm_dtype_size(nvm_dtype dt);
/* "u8", "s8", "u16", "s16", "u32", "s32"; "?" for an invalid dtype. */
const char *nvm_dtype_name(nvm_dtype dt);
/* 1 if s is a valid name or model id: 1..NVM_NAME_MAX bytes, each 0x21..0x7e. */
int nvm_name_valid(const char *s);

/* ------------------------------------------------------------- reader */

/* Use the caller's buffer in place instead of copying it: the buffer must
 * stay unchanged and alive until nvm_free().  Honoured only when buf is
 * NVM_ALIGN-aligned (a copy is made otherwise).  For the built-in model. */
#define NVM_LOAD_BORROW 1u
/* Skip the payload's SHA-256 check (everything else is still validated,
 * and the stored digest is still the fingerprint).  For the built-in
 * model only: it is part of the library, and the test suite checks its
 * digest (tests/test_codec.c loads it without this flag). */
#define NVM_LOAD_TRUSTED 2u

/* Parses and validates a whole file image buf[0 .. size-1].  max_payload
 * bounds the declared payload size (NEUVC_ERR(ERANGE) above it). */
int nvm_load_mem(nvm_model **out, const void *buf, size_t size, size_t max_payload,
                 unsigned flags, char *err, size_t errlen);
/* Reads and validates a file; allocates at most max_payload plus the
 * header, and nothing before the header and file size agree. */
int nvm_load_file(nvm_model **out, const char *path, size_t max_payload,
                  char *err, size_t errlen);
/* Frees the model and its graphs; *m = NULL.  No-op on NULL. */
void nvm_free(nvm_model **m);

const char *nvm_model_id(const nvm_model *m);
/* SHA-256 of the payload (NEUVC_SHA256_SIZE bytes, as stored in the header). */
const uint8_t *nvm_payload_sha256(const nvm_model *m);
/* The model fingerprint the bitstream carries: the first
 * NVM_FINGERPRINT_SIZE bytes of the payload SHA-256. */
void nvm_fingerprint(const nvm_model *m, uint8_t fp[NVM_FINGERPRINT_SIZE]);

/* Items in file order, index 0..count-1 (NULL out of range). */
uint32_t nvm_num_params(const nvm_model *m);
const nvm_param *nvm_param_at(const nvm_model *m, uint32_t i);
uint32_t nvm_num_tensors(const nvm_model *m);
const nvm_tensor *nvm_tensor_at(const nvm_model *m, uint32_t i);
uint32_t nvm_num_graphs(const nvm_model *m);
const struct nl_graph *nvm_graph_at(const nvm_model *m, uint32_t i);

/* Lookup by name (O(log n)); NULL when absent. */
const nvm_param *nvm_find_param(const nvm_model *m, const char *name);
/* 0 and *value when the parameter exists and lies in [lo, hi];
 * NEUVC_ERR(ENOENT) when absent; NEUVC_ERR_INVALIDDATA when outside. */
int nvm_get_param(const nvm_model *m, const char *name, int64_t lo, int64_t hi,
                  int64_t *value);
/* The tensor of that name when it has exactly this dtype, ndim and dims
 * (ndim int arguments follow; NVM_ANY_DIM matches any size); NULL when
 * absent or of another dtype or shape.  Example:
 *     nvm_find_tensor(m, "cdf", NVM_U16, 2, 64, NVM_ANY_DIM) */
const nvm_tensor *nvm_find_tensor(const nvm_model *m, const char *name,
                                  nvm_dtype dtype, int ndim, ...);
const struct nl_graph *nvm_find_graph(const nvm_model *m, const char *name);

/* ------------------------------------------------------------- writer
 * Builds the canonical encoding of a model: items in the order they are
 * added, sections in the fixed order of docs/model-format.md.  The same
 * content always gives the same bytes, and training/nvm.py gives these
 * bytes too.  The writer checks what the encoding needs (name syntax and
 * uniqueness, dtype, dims, counts) but not graph semantics: graphs are
 * stored as given, so tests can produce files the reader must refuse.
 * Errors: NEUVC_ERR(EINVAL), NEUVC_ERR(ERANGE) for counts or sizes over
 * the format's limits, NEUVC_ERR(ENOMEM), NEUVC_ERR(EIO). */
typedef struct nvm_writer nvm_writer;

int nvm_writer_new(nvm_writer **w, const char *model_id);
int nvm_writer_add_param(nvm_writer *w, const char *name, int64_t value);
/* Copies count * element-size bytes from data (host order). */
int nvm_writer_add_tensor(nvm_writer *w, const char *name, nvm_dtype dtype,
                          int ndim, const int *dims, const void *data);
/* Copies the stored fields of g (name, counts, inputs, outputs, ops). */
int nvm_writer_add_graph(nvm_writer *w, const struct nl_graph *g);
/* The whole file in a malloc'd buffer the caller frees. */
int nvm_writer_finish(nvm_writer *w, uint8_t **buf, size_t *size);
int nvm_writer_save(nvm_writer *w, const char *path);
void nvm_writer_free(nvm_writer **w);

#endif
