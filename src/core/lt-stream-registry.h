/* lt-stream-registry.h: the streams online now — push, pull and demo — as a GListModel of
 * LtStream, keyed by domain (lowercased) / app / stream, with "stream-online" and
 * "stream-offline" signals. The one place that decides whether an identity is taken: the
 * ingest server refuses a second publisher and a pull source waits while its identity is
 * online from elsewhere.
 *
 * Main context only: producers marshal their events here first (GStreamer and nginx
 * callbacks never touch it from other threads). Signals are emitted on the thread that
 * created the registry.
 */
#pragma once

#include <gio/gio.h>

#include "lt-stream.h"

G_BEGIN_DECLS

#define LT_STREAM_REGISTRY_ERROR (lt_stream_registry_error_quark ())

typedef enum
{
  LT_STREAM_REGISTRY_ERROR_FAILED,
  LT_STREAM_REGISTRY_ERROR_EXISTS,  /* the identity is already online */
} LtStreamRegistryError;

GQuark lt_stream_registry_error_quark (void);

#define LT_TYPE_STREAM_REGISTRY (lt_stream_registry_get_type ())
G_DECLARE_FINAL_TYPE (LtStreamRegistry, lt_stream_registry, LT, STREAM_REGISTRY, GObject)

LtStreamRegistry *lt_stream_registry_new        (void);

/* Adds @stream (appended at the end of the model), sets it online, then emits
 * items-changed and "stream-online". Fails with EXISTS when its identity is online. */
gboolean          lt_stream_registry_add        (LtStreamRegistry *self,
                                                 LtStream         *stream,
                                                 GError          **error);
/* Removes @stream if it is in the registry: sets it offline, then emits items-changed and
 * "stream-offline". Returns FALSE when it was not there. */
gboolean          lt_stream_registry_remove     (LtStreamRegistry *self,
                                                 LtStream         *stream);
/* The online stream with this identity (@domain is compared case-insensitively), or NULL.
 * Transfer none. */
LtStream         *lt_stream_registry_lookup     (LtStreamRegistry *self,
                                                 const char       *domain,
                                                 const char       *app,
                                                 const char       *name);
/* Same, by lt_stream_make_key(). */
LtStream         *lt_stream_registry_lookup_key (LtStreamRegistry *self,
                                                 const char       *key);

G_END_DECLS
