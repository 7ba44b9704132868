/* lt-api-signature.c: placeholder until written. */
#include "config.h"
