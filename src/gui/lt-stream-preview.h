/* lt-stream-preview.h: a small, cheap live picture of a stream — a GdkPaintable fed by a
 * GStreamer pipeline that plays the stream's loopback URI (lt_stream_get_loopback_uri()),
 * decodes only the video, and offers at most 10 frames a second of at most 480×270 to
 * the main context. The pipeline runs only while the preview is active (its picture is on
 * screen); audio is never decoded. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum /*< skip >*/
{
  LT_STREAM_PREVIEW_STOPPED,     /* not active, or no URI */
  LT_STREAM_PREVIEW_CONNECTING,  /* waiting for the first picture */
  LT_STREAM_PREVIEW_PLAYING,
  LT_STREAM_PREVIEW_NO_VIDEO,    /* the stream has no video */
  LT_STREAM_PREVIEW_FAILED,      /* see "message"; tried again shortly while active */
} LtStreamPreviewState;

#define LT_TYPE_STREAM_PREVIEW (lt_stream_preview_get_type ())
G_DECLARE_FINAL_TYPE (LtStreamPreview, lt_stream_preview, LT, STREAM_PREVIEW, GObject)

LtStreamPreview      *lt_stream_preview_new         (void);
/* The URI to play, or NULL; a new URI drops the last picture. */
void                  lt_stream_preview_set_uri     (LtStreamPreview *self,
                                                     const char      *uri);
const char           *lt_stream_preview_get_uri     (LtStreamPreview *self);
/* Runs the pipeline while TRUE (and a URI is set); FALSE stops it at once. */
void                  lt_stream_preview_set_active  (LtStreamPreview *self,
                                                     gboolean         active);
gboolean              lt_stream_preview_get_active  (LtStreamPreview *self);
/* "state" (notified). */
LtStreamPreviewState  lt_stream_preview_get_state   (LtStreamPreview *self);
/* "message" (notified): why it failed, translated, or NULL. */
const char           *lt_stream_preview_get_message (LtStreamPreview *self);
/* Takes the newest decoded frame, if any, as the picture; TRUE when there was one. Call
 * it from the showing widget's frame clock (a tick callback), so that the picture changes
 * inside a frame, never between two. */
gboolean              lt_stream_preview_pull_frame  (LtStreamPreview *self);
/* Pictures shown since the URI was set (for tests). */
guint                 lt_stream_preview_get_n_frames (LtStreamPreview *self);
/* Whether a pipeline exists now (for tests: it must not while inactive). */
gboolean              lt_stream_preview_get_running (LtStreamPreview *self);

G_END_DECLS
