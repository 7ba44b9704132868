/* lt-template.c: placeholder until written. */
#include "config.h"
