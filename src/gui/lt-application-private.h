/* lt-application-private.h: for the GUI tests. */
#pragma once

#include "lt-application.h"

G_BEGIN_DECLS

/* What lt_application_run_gui() creates; @flags lets tests run without a bus name. */
LtApplication *_lt_application_new (const char        *data_dir,
                                    const char        *api_listen,
                                    GApplicationFlags  flags);

G_END_DECLS
