/* lt-pull-source.h: a source the operator added (SPEC section 1) — rtmp://, rtsp://,
 * srt://, http(s):// FLV or HLS, file:// — with its own domain / app / stream identity.
 * While enabled it keeps one connection to the upstream, reconnecting with exponential
 * backoff (1 s doubling to 30 s), and is online (in the LtStreamRegistry) while media
 * flows.
 *
 * How the recorder gets the media: the pull source is the only connection to the
 * upstream (an SRT listener or a one-shot source accepts no second one) and republishes
 * what it receives, remuxed into MPEG-TS without re-encoding, on an SRT listener on
 * loopback that any number of consumers can call: the stream's loopback URI,
 * srt://127.0.0.1:PORT?mode=caller. MPEG-TS carries every codec of SPEC section 1 (H.264,
 * H.265, MPEG-4 Part 2, AAC, MP3); FLV through nginx would not carry H.265 or MPEG-4,
 * which are exactly what RTSP, SRT and HLS cameras send. H.264/H.265 get their parameter
 * sets before every keyframe, so a consumer can join at any keyframe. Other codecs are
 * not forwarded; they show in the stream's codec properties so that the recorder can
 * fail with UnsupportedCodec naming them.
 *
 * file:// and HLS sources are paced to real time (they would otherwise be read as fast
 * as possible); live protocols are forwarded as they come. A file that ends is played
 * again after a second.
 *
 * Main context only; GStreamer threads post to the bus, whose watch runs here.
 */
#pragma once

#include <gio/gio.h>

#include "lt-enum-types.h"
#include "lt-stream-registry.h"

G_BEGIN_DECLS

#define LT_PULL_SOURCE_ERROR (lt_pull_source_error_quark ())

typedef enum /*< skip >*/
{
  LT_PULL_SOURCE_ERROR_FAILED,
  LT_PULL_SOURCE_ERROR_INVALID_URI,
  LT_PULL_SOURCE_ERROR_UNSUPPORTED_SCHEME,
} LtPullSourceError;

GQuark lt_pull_source_error_quark (void);

typedef enum
{
  LT_PULL_SOURCE_STATE_DISABLED,
  LT_PULL_SOURCE_STATE_CONNECTING,
  LT_PULL_SOURCE_STATE_ONLINE,
  LT_PULL_SOURCE_STATE_WAITING,    /* a retry is scheduled; see last-error */
} LtPullSourceState;

#define LT_TYPE_PULL_SOURCE (lt_pull_source_get_type ())
G_DECLARE_FINAL_TYPE (LtPullSource, lt_pull_source, LT, PULL_SOURCE, GObject)

/* Accepts rtmp(s)://, rtsp(s)://, srt://, http(s)://, file:// URIs. */
gboolean      lt_pull_source_check_uri       (const char        *uri,
                                              GError           **error);

/* A disabled source; @domain may be NULL for the host of @uri, or @default_domain (see
 * lt_stream_domain_from_url()). */
LtPullSource *lt_pull_source_new             (LtStreamRegistry  *registry,
                                              const char        *uri,
                                              const char        *domain,
                                              const char        *app,
                                              const char        *name,
                                              GError           **error);

const char   *lt_pull_source_get_uri         (LtPullSource      *self);
const char   *lt_pull_source_get_domain      (LtPullSource      *self);
const char   *lt_pull_source_get_app         (LtPullSource      *self);
const char   *lt_pull_source_get_name        (LtPullSource      *self);

/* Enabling connects at once; disabling disconnects and takes the stream offline. */
gboolean      lt_pull_source_get_enabled     (LtPullSource      *self);
void          lt_pull_source_set_enabled     (LtPullSource      *self,
                                              gboolean           enabled);

LtPullSourceState lt_pull_source_get_state   (LtPullSource      *self);
/* Why the last attempt ended (for display), or NULL. */
const char   *lt_pull_source_get_last_error  (LtPullSource      *self);
/* The online stream, NULL while offline. Transfer none. */
LtStream     *lt_pull_source_get_stream      (LtPullSource      *self);
/* Delay before the scheduled retry (ms), 0 when none is scheduled. */
guint         lt_pull_source_get_retry_delay (LtPullSource      *self);

/* How long an online source may deliver nothing before it counts as failed (default
 * 10 s); how long a connection attempt may take (default 20 s; SRT listeners wait for
 * their caller indefinitely). */
void          lt_pull_source_set_timeouts    (LtPullSource      *self,
                                              guint              stall_seconds,
                                              guint              connect_seconds);

G_END_DECLS
