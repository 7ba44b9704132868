/* lt-secret-store.c: placeholder until written. */
#include "config.h"
