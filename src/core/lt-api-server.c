/* lt-api-server.c: placeholder until written. */
#include "config.h"
