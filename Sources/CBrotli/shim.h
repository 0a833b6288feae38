#ifndef VENEER_CBROTLI_SHIM_H
#define VENEER_CBROTLI_SHIM_H

#include <brotli/decode.h>

#endif
