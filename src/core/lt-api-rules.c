/* lt-api-rules.c: placeholder until written. */
#include "config.h"
