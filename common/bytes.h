/*
 * Little byte helpers shared by the stream formats: little-endian loads and
 * stores, unsigned LEB128 varints limited to 32 bits, and CRC-32 (IEEE).
 *
 * Loads and stores never check bounds: the caller has checked that the
 * bytes exist.  The LEB128 reader checks its own bounds.
 */
#ifndef NEUVC_COMMON_BYTES_H
#define NEUVC_COMMON_BYTES_H

#include <stddef.h>
#include <stdint.h>

uint16_t bytes_load_u16le(const uint8_t *p);
uint32_t bytes_load_u32le(const uint8_t *p);
uint64_t bytes_load_u64le(const uint8_t *p);
/* Two's complement, as written by bytes_store_i64le. */
int64_t bytes_load_i64le(const uint8_t *p);

void bytes_store_u16le(uint8_t *p, uint16_t v);
void bytes_store_u32le(uint8_t *p, uint32_t v);
void bytes_store_u64le(uint8_t *p, uint64_t v);
void bytes_store_i64le(uint8_t *p, int64_t v);

/* LEB128: 7 value bits per byte, least significant group first, bit 7 set
 * on every byte but the last.  Values are 0..UINT32_MAX, so an encoding is
 * 1..BYTES_LEB128_MAX bytes, and only the minimal encoding is valid (the
 * last byte of a multi-byte encoding is never 0x00). */
#define BYTES_LEB128_MAX 5

/* Failure codes of bytes_leb128_read (not errno values). */
#define BYTES_LEB128_TRUNCATED   (-1) /* input ended inside the varint */
#define BYTES_LEB128_TOO_LONG    (-2) /* a 5th byte with its continuation bit */
#define BYTES_LEB128_OVERFLOW    (-3) /* value above UINT32_MAX */
#define BYTES_LEB128_NONMINIMAL  (-4) /* trailing zero group */

/* Reads one varint from p[0 .. avail-1].  Returns the number of bytes it
 * used (1..5) and sets *v, or a BYTES_LEB128_* code and leaves *v alone. */
int bytes_leb128_read(const uint8_t *p, size_t avail, uint32_t *v);
/* Text for a BYTES_LEB128_* code; never NULL. */
const char *bytes_leb128_strerror(int code);
/* Bytes the minimal encoding of v takes (1..5). */
int bytes_leb128_size(uint32_t v);
/* Writes the minimal encoding of v to p (room for bytes_leb128_size(v)
 * bytes); returns that size. */
int bytes_leb128_write(uint8_t *p, uint32_t v);

/* CRC-32 with the IEEE 802.3 polynomial (reflected 0xEDB88320, initial
 * value and final xor 0xFFFFFFFF), as zlib and PNG compute it.  Start with
 * crc = 0; feed the previous result back in to continue over more data.
 * bytes_crc32(0, "123456789", 9) == 0xCBF43926. */
uint32_t bytes_crc32(uint32_t crc, const uint8_t *p, size_t n);

#endif
