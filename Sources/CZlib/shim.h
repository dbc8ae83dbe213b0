#ifndef TAGWAVE_CZLIB_SHIM_H
#define TAGWAVE_CZLIB_SHIM_H
#include <zlib.h>
#endif
