#ifndef TAGWAVE_CHIREDIS_SHIM_H
#define TAGWAVE_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <sys/time.h>
#endif
