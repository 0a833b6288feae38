#ifndef VENEER_CZLIB_SHIM_H
#define VENEER_CZLIB_SHIM_H

#include <zlib.h>

// deflateInit2/inflateInit2 are macros that pass the library version and struct size; Swift cannot call
// macros, so these wrappers do.
static inline int veneer_inflate_init2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

static inline int veneer_deflate_init2(z_streamp stream, int level, int windowBits) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}

#endif
