/* lt-rule.c: placeholder until written. */
#include "config.h"
