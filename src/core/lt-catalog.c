/* lt-catalog.c: placeholder until written. */
#include "config.h"
