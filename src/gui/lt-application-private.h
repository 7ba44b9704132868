/* lt-application-private.h: for the GUI tests. */
#pragma once

#include "lt-application.h"

G_BEGIN_DECLS

/* What lt_application_run_gui() creates; @flags lets tests run without a bus name. */
LtApplication *_lt_application_new (const char        *data_dir,
                                    const char        *api_listen,
                                    GApplicationFlags  flags);
/* Before startup: @enabled FALSE keeps nginx and the demo off (tests that need no
 * streams); @port as for lt_engine_set_ingest_port(). */
void           _lt_application_set_ingest (LtApplication     *self,
                                           gboolean           enabled,
                                           guint              port);

G_END_DECLS
