/* lt-engine.c: placeholder until written. */
#include "config.h"
