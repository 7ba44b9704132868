/* lt-application.h: the desktop console's application — it owns the engine and the main
 * window. */
#pragma once

#include <adwaita.h>

#include "lt-engine.h"

G_BEGIN_DECLS

#define LT_TYPE_APPLICATION (lt_application_get_type ())
G_DECLARE_FINAL_TYPE (LtApplication, lt_application, LT, APPLICATION, AdwApplication)

/* The engine (created at startup; it may still be starting), or NULL before startup. */
LtEngine *lt_application_get_engine (LtApplication *self);

/* Runs the console until its window is closed. @data_dir: NULL for the XDG default;
 * @api_listen: the control API address, NULL for the setting (default 127.0.0.1:8088);
 * @ingest_port: the RTMP ingest port, 0 for the setting (default 1935).
 * Options were parsed by the caller: only argv[0] is handed on to GApplication. */
int lt_application_run_gui (const char *data_dir,
                            const char *api_listen,
                            guint       ingest_port,
                            int         argc,
                            char      **argv);

G_END_DECLS
