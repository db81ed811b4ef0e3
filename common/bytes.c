#include "common/bytes.h"

uint16_t bytes_load_u16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

uint32_t bytes_load_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

uint64_t bytes_load_u64le(const uint8_t *p)
{
    return (uint64_t)bytes_load_u32le(p) | (uint64_t)bytes_load_u32le(p + 4) << 32;
}

int64_t bytes_load_i64le(const uint8_t *p)
{
    uint64_t u = bytes_load_u64le(p);
    /* Values above INT64_MAX are negative numbers in two's complement; the
     * conversion below avoids the implementation-defined unsigned-to-signed
     * cast. */
    if (u <= (uint64_t)INT64_MAX)
        return (int64_t)u;
    return -(int64_t)(~u) - 1;
}

void bytes_store_u16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void bytes_store_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void bytes_store_u64le(uint8_t *p, uint64_t v)
{
    bytes_store_u32le(p, (uint32_t)v);
    bytes_store_u32le(p + 4, (uint32_t)(v >> 32));
}

void bytes_store_i64le(uint8_t *p, int64_t v)
{
    bytes_store_u64le(p, (uint64_t)v);
}

int bytes_leb128_read(const uint8_t *p, size_t avail, uint32_t *v)
{
    uint32_t value = 0;
    for (int i = 0; i < BYTES_LEB128_MAX; i++) {
        if ((size_t)i >= avail)
            return BYTES_LEB128_TRUNCATED;
        uint8_t b = p[i];
        if (i == BYTES_LEB128_MAX - 1) {
            if (b & 0x80)
                return BYTES_LEB128_TOO_LONG;
            if (b > 0x0F) /* the 5th group holds bits 28..31 only */
                return BYTES_LEB128_OVERFLOW;
        }
        value |= (uint32_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            if (i > 0 && b == 0)
                return BYTES_LEB128_NONMINIMAL;
            *v = value;
            return i + 1;
        }
    }
    return BYTES_LEB128_TOO_LONG; /* not reached: the 5th byte returns */
}

const char *bytes_leb128_strerror(int code)
{
    switch (code) {
    case BYTES_LEB128_TRUNCATED: return "varint cut off by the end of the data";
    case BYTES_LEB128_TOO_LONG: return "varint longer than 5 bytes";
    case BYTES_LEB128_OVERFLOW: return "varint value above 2^32-1";
    case BYTES_LEB128_NONMINIMAL: return "varint not minimally encoded";
    default: return "varint error";
    }
}

int bytes_leb128_size(uint32_t v)
{
    int n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

int bytes_leb128_write(uint8_t *p, uint32_t v)
{
    int n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(0x80 | (v & 0x7F));
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* crc32_nibble[i]: the reflected CRC register after shifting the 4-bit
 * value i through it, i.e. four steps of the bitwise algorithm. */
static const uint32_t crc32_nibble[16] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
    0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
    0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
    0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t bytes_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    uint32_t c = ~crc;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        c = (c >> 4) ^ crc32_nibble[c & 15];
        c = (c >> 4) ^ crc32_nibble[c & 15];
    }
    return ~c;
}
