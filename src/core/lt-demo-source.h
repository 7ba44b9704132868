/* lt-demo-source.h: the built-in demo stream (SPEC section 1) — a moving test pattern
 * (with a clock when GStreamer's text overlays are installed) and a tick every second,
 * H.264 1280x720@30 ~1.5 Mbit/s + AAC, published into the ingest server with rtmp2sink
 * like any external publisher. It is a real push stream: default domain, app "live",
 * stream "demo", source kind LT_STREAM_SOURCE_DEMO.
 *
 * While active it follows the ingest server: it publishes once the server runs and
 * republishes with backoff (1 s doubling to 30 s) when the connection breaks.
 * Main context only.
 */
#pragma once

#include <gio/gio.h>

#include "lt-enum-types.h"
#include "lt-ingest-server.h"

G_BEGIN_DECLS

#define LT_DEMO_DEFAULT_APP    "live"
#define LT_DEMO_DEFAULT_STREAM "demo"

typedef enum
{
  LT_DEMO_SOURCE_STATE_STOPPED,
  LT_DEMO_SOURCE_STATE_WAITING,      /* for the ingest server, or for a retry */
  LT_DEMO_SOURCE_STATE_CONNECTING,
  LT_DEMO_SOURCE_STATE_ONLINE,
} LtDemoSourceState;

#define LT_TYPE_DEMO_SOURCE (lt_demo_source_get_type ())
G_DECLARE_FINAL_TYPE (LtDemoSource, lt_demo_source, LT, DEMO_SOURCE, GObject)

/* @app / @name: NULL for LT_DEMO_DEFAULT_APP / LT_DEMO_DEFAULT_STREAM. */
LtDemoSource     *lt_demo_source_new            (LtIngestServer *server,
                                                 const char     *app,
                                                 const char     *name);

const char       *lt_demo_source_get_app        (LtDemoSource   *self);
const char       *lt_demo_source_get_name       (LtDemoSource   *self);

/* Start publishing (now, or once the ingest server runs) / stop. Idempotent. */
void              lt_demo_source_start          (LtDemoSource   *self);
void              lt_demo_source_stop           (LtDemoSource   *self);
gboolean          lt_demo_source_get_active     (LtDemoSource   *self);

LtDemoSourceState lt_demo_source_get_state      (LtDemoSource   *self);
const char       *lt_demo_source_get_last_error (LtDemoSource   *self);
/* The demo's online stream, NULL while offline. Transfer none. */
LtStream         *lt_demo_source_get_stream     (LtDemoSource   *self);

G_END_DECLS
