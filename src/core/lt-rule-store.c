/* lt-rule-store.c: placeholder until written. */
#include "config.h"
