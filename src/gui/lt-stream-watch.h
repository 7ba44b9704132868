/* lt-stream-watch.h: what the stream list's rows and the details pane share — they stand
 * for a stream identity, not for one LtStream or LtRecording. The watch looks both up
 * again by key whenever the engine's registry or recording manager change, follows their
 * notifications, and has its widget update once per frame with what changed (so the
 * widget changes inside a frame, before its layout, never between two, and a burst of
 * notifications costs one update), and once a second while it ticks. */
#pragma once

#include <gtk/gtk.h>

#include "lt-engine.h"

G_BEGIN_DECLS

typedef enum /*< skip >*/
{
  LT_STREAM_WATCH_STREAM    = 1 << 0,  /* the stream (another object, or its properties) */
  LT_STREAM_WATCH_RECORDING = 1 << 1,  /* the recording's properties or files */
  LT_STREAM_WATCH_FORMATS   = 1 << 2,  /* another recording object, or its formats */
  LT_STREAM_WATCH_TICK      = 1 << 3,  /* a second passed */
  LT_STREAM_WATCH_ALL       = 0xf,
} LtStreamWatchChanges;

/* Called in the frame clock's update phase of @widget. */
typedef void (*LtStreamWatchUpdate) (GtkWidget            *widget,
                                     LtStreamWatchChanges  changes);

#define LT_TYPE_STREAM_WATCH (lt_stream_watch_get_type ())
G_DECLARE_FINAL_TYPE (LtStreamWatch, lt_stream_watch, LT, STREAM_WATCH, GObject)

/* @widget owns the watch (and disposes it in its own dispose). */
LtStreamWatch *lt_stream_watch_new           (LtEngine             *engine,
                                              GtkWidget            *widget,
                                              LtStreamWatchUpdate   update);
/* The identity followed (lt_stream_make_key()), or NULL for none. */
void           lt_stream_watch_set_key       (LtStreamWatch        *self,
                                              const char           *key);
const char    *lt_stream_watch_get_key       (LtStreamWatch        *self);
/* The online stream and the recording of the key, or NULL (transfer none). */
LtStream      *lt_stream_watch_get_stream    (LtStreamWatch        *self);
LtRecording   *lt_stream_watch_get_recording (LtStreamWatch        *self);
/* The identity's parts, from the stream or the recording; FALSE when neither exists. */
gboolean       lt_stream_watch_get_identity  (LtStreamWatch        *self,
                                              const char          **domain,
                                              const char          **app,
                                              const char          **name);
/* Looks the objects up again now and schedules an update (e.g. after a command). */
void           lt_stream_watch_refresh       (LtStreamWatch        *self);
/* An update with everything, now (outside a layout only, e.g. when the widget is made). */
void           lt_stream_watch_update_now    (LtStreamWatch        *self);
/* Whether the widget is on screen: unmapped, it neither updates nor ticks; mapped again,
 * it catches up in its next frame. Call from the widget's map/unmap. */
void           lt_stream_watch_set_mapped    (LtStreamWatch        *self,
                                              gboolean              mapped);
/* Whether to update once a second (countdowns, durations) while mapped. */
void           lt_stream_watch_set_ticking   (LtStreamWatch        *self,
                                              gboolean              ticking);

/* The style class of a recording state on @widget: "recording", "paused" or "failed"
 * (see lt-streams-page.css), none while not recording. */
void           lt_stream_watch_set_state_class (GtkWidget          *widget,
                                                LtRecordingState    state);

G_END_DECLS
