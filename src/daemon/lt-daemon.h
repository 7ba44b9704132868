/* lt-daemon.h: `livetape --headless` — the engine and the control API with no window,
 * until SIGINT or SIGTERM, then a clean shutdown. */
#pragma once

#include <gio/gio.h>

#include "lt-engine.h"

G_BEGIN_DECLS

#define LT_TYPE_DAEMON (lt_daemon_get_type ())
G_DECLARE_FINAL_TYPE (LtDaemon, lt_daemon, LT, DAEMON, GApplication)

/* @data_dir and @api_listen as for LtEngine (NULL: the defaults). */
LtDaemon *lt_daemon_new             (const char *data_dir,
                                     const char *api_listen);
LtEngine *lt_daemon_get_engine      (LtDaemon   *self);
/* The RTMP ingest port (before running); 0 (default) for the "ingest-port" setting. */
void      lt_daemon_set_ingest_port (LtDaemon   *self,
                                     guint       port);
/* Runs until SIGINT/SIGTERM (exit status 0) or a failed start (1, with the reason on
 * stderr). Prints "Livetape engine ready; control API on http://HOST:PORT/" on stdout once
 * the API listens, so that scripts can wait for it. */
int       lt_daemon_run             (LtDaemon   *self);

G_END_DECLS
