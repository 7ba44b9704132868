/* lt-stream-preview.c: the live preview of a stream (see lt-stream-preview.h).
 *
 * Debian 12 has no gtk4paintablesink (gst-plugins-rs), so this is its small cousin:
 * uridecodebin on the loopback URI, video only (audio pads stop before a decoder and go
 * to a fakesink), one decoder thread, videorate capped at 10 fps before any scaling or
 * conversion, then scaled to at most 480×270 BGRA into an appsink that keeps only the
 * newest frame. The widget showing it takes that frame (a non-blocking pull) from its
 * frame clock, so streaming threads never touch this object; they only link pads and post
 * application messages, which the bus watch reads here.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include "lt-stream-preview.h"

#define PREVIEW_CAPS     "video/x-raw,format=BGRA,pixel-aspect-ratio=1/1," \
                         "width=[1,480],height=[1,270]"
#define PREVIEW_MAX_FPS  10
#define RETRY_SECONDS    3
/* The size the picture asks for before the first frame (16:9). */
#define IDLE_WIDTH       480
#define IDLE_HEIGHT      270

struct _LtStreamPreview
{
  GObject               parent_instance;

  char                 *uri;
  gboolean              active;
  LtStreamPreviewState  state;
  char                 *message;

  GstElement           *pipeline;
  GstElement           *sink;        /* owned by the pipeline */
  gboolean              has_video;
  guint                 retry_id;

  GdkTexture           *texture;
  guint                 n_frames;
};

static void lt_stream_preview_paintable_init (GdkPaintableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LtStreamPreview, lt_stream_preview, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GDK_TYPE_PAINTABLE,
                                                      lt_stream_preview_paintable_init))

enum {
  PROP_0,
  PROP_STATE,
  PROP_MESSAGE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---- GdkPaintable ---- */

static void
lt_stream_preview_snapshot (GdkPaintable *paintable,
                            GdkSnapshot  *snapshot,
                            double        width,
                            double        height)
{
  LtStreamPreview *self = LT_STREAM_PREVIEW (paintable);

  if (self->texture != NULL)
    gdk_paintable_snapshot (GDK_PAINTABLE (self->texture), snapshot, width, height);
}

static int
lt_stream_preview_get_intrinsic_width (GdkPaintable *paintable)
{
  LtStreamPreview *self = LT_STREAM_PREVIEW (paintable);

  return self->texture != NULL ? gdk_texture_get_width (self->texture) : IDLE_WIDTH;
}

static int
lt_stream_preview_get_intrinsic_height (GdkPaintable *paintable)
{
  LtStreamPreview *self = LT_STREAM_PREVIEW (paintable);

  return self->texture != NULL ? gdk_texture_get_height (self->texture) : IDLE_HEIGHT;
}

static double
lt_stream_preview_get_intrinsic_aspect_ratio (GdkPaintable *paintable)
{
  return (double) lt_stream_preview_get_intrinsic_width (paintable) /
         lt_stream_preview_get_intrinsic_height (paintable);
}

static void
lt_stream_preview_paintable_init (GdkPaintableInterface *iface)
{
  iface->snapshot = lt_stream_preview_snapshot;
  iface->get_intrinsic_width = lt_stream_preview_get_intrinsic_width;
  iface->get_intrinsic_height = lt_stream_preview_get_intrinsic_height;
  iface->get_intrinsic_aspect_ratio = lt_stream_preview_get_intrinsic_aspect_ratio;
}

static void
set_texture (LtStreamPreview *self,
             GdkTexture      *texture)
{
  int width, height;

  if (self->texture == NULL && texture == NULL)
    return;

  width = lt_stream_preview_get_intrinsic_width (GDK_PAINTABLE (self));
  height = lt_stream_preview_get_intrinsic_height (GDK_PAINTABLE (self));
  g_set_object (&self->texture, texture);
  if (width != lt_stream_preview_get_intrinsic_width (GDK_PAINTABLE (self)) ||
      height != lt_stream_preview_get_intrinsic_height (GDK_PAINTABLE (self)))
    gdk_paintable_invalidate_size (GDK_PAINTABLE (self));
  gdk_paintable_invalidate_contents (GDK_PAINTABLE (self));
}

/* ---- state ---- */

static void
set_state (LtStreamPreview      *self,
           LtStreamPreviewState  state,
           const char           *message)
{
  if (g_strcmp0 (self->message, message) != 0)
    {
      g_free (self->message);
      self->message = g_strdup (message);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
    }
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
}

/* Callbacks hold the preview weakly: a pipeline left running never keeps it alive. */
static GWeakRef *
weak_ref_new (LtStreamPreview *self)
{
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  g_weak_ref_init (ref, self);
  return ref;
}

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

static void
stop_pipeline (LtStreamPreview *self)
{
  if (self->pipeline != NULL)
    {
      g_autoptr(GstBus) bus = gst_element_get_bus (self->pipeline);

      gst_bus_remove_watch (bus);
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      self->sink = NULL;
      gst_clear_object (&self->pipeline);
    }
  self->has_video = FALSE;
}

static gboolean start_pipeline (LtStreamPreview *self);

static gboolean
retry_cb (gpointer data)
{
  g_autoptr(LtStreamPreview) self = g_weak_ref_get (data);

  if (self == NULL)
    return G_SOURCE_REMOVE;

  self->retry_id = 0;
  if (self->active && self->uri != NULL && self->pipeline == NULL)
    start_pipeline (self);
  return G_SOURCE_REMOVE;
}

/* The pipeline ended (error, end of stream): show why, try again shortly while shown. */
static void
fail (LtStreamPreview *self,
      const char      *message)
{
  stop_pipeline (self);
  set_texture (self, NULL);
  set_state (self, LT_STREAM_PREVIEW_FAILED, message);
  if (self->active && self->retry_id == 0)
    self->retry_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, RETRY_SECONDS, retry_cb,
                                                 weak_ref_new (self), weak_ref_free);
}

/* ---- streaming threads: link pads, post messages; never touch the preview ---- */

static gboolean
autoplug_continue_cb (GstElement *bin,
                      GstPad     *pad,
                      GstCaps    *caps,
                      gpointer    user_data)
{
  const GstStructure *structure = gst_caps_get_structure (caps, 0);

  /* Audio is not shown: stop before a parser or decoder is plugged for it. */
  return structure == NULL || !g_str_has_prefix (gst_structure_get_name (structure), "audio/");
}

static void
post_note (GstElement *element,
           const char *name)
{
  gst_element_post_message (element,
                            gst_message_new_application (GST_OBJECT (element),
                                                         gst_structure_new_empty (name)));
}

static void
pad_added_cb (GstElement *decode,
              GstPad     *pad,
              gpointer    user_data)
{
  GstElement *video_head = user_data;
  g_autoptr(GstPad) video_sink = gst_element_get_static_pad (video_head, "sink");
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  const GstStructure *structure;
  GstElement *fakesink;
  g_autoptr(GstPad) fake_pad = NULL;
  g_autoptr(GstObject) parent = NULL;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  structure = !gst_caps_is_empty (caps) ? gst_caps_get_structure (caps, 0) : NULL;
  if (structure != NULL &&
      g_str_has_prefix (gst_structure_get_name (structure), "video/x-raw") &&
      !gst_pad_is_linked (video_sink) &&
      gst_pad_link (pad, video_sink) == GST_PAD_LINK_OK)
    {
      post_note (decode, "lt-preview-video");
      return;
    }

  /* Anything else flows into a fakesink, so that no pad is left not-linked. */
  parent = gst_object_get_parent (GST_OBJECT (decode));
  fakesink = gst_element_factory_make ("fakesink", NULL);
  if (parent == NULL || fakesink == NULL)
    {
      if (fakesink != NULL)
        gst_object_unref (gst_object_ref_sink (fakesink));
      return;
    }
  g_object_set (fakesink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (parent), fakesink);
  gst_element_sync_state_with_parent (fakesink);
  fake_pad = gst_element_get_static_pad (fakesink, "sink");
  gst_pad_link (pad, fake_pad);
}

static void
no_more_pads_cb (GstElement *decode,
                 gpointer    user_data)
{
  post_note (decode, "lt-preview-no-more-pads");
}

/* One decoder thread: a preview need not keep up with more than its 10 fps, and frame
 * threads would cost memory and latency for nothing. */
static void
deep_element_added_cb (GstBin     *bin,
                       GstBin     *sub_bin,
                       GstElement *element,
                       gpointer    user_data)
{
  GstElementFactory *factory = gst_element_get_factory (element);

  if (factory != NULL &&
      g_str_has_prefix (gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (factory)), "avdec_") &&
      g_object_class_find_property (G_OBJECT_GET_CLASS (element), "max-threads") != NULL)
    g_object_set (element, "max-threads", 1, NULL);
}

/* ---- main context ---- */

static gboolean
bus_cb (GstBus     *bus,
        GstMessage *message,
        gpointer    data)
{
  g_autoptr(LtStreamPreview) self = g_weak_ref_get (data);

  if (self == NULL || self->pipeline == NULL)
    return G_SOURCE_CONTINUE;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *debug = NULL;
        g_autofree char *text = NULL;

        gst_message_parse_error (message, &error, &debug);
        g_debug ("preview of %s: %s (%s)", self->uri, error->message, debug ? debug : "");
        text = g_strdup_printf (_("No preview: %s"), error->message);
        fail (self, text);
      }
      break;

    case GST_MESSAGE_EOS:
      fail (self, _("The stream ended."));
      break;

    case GST_MESSAGE_APPLICATION:
      {
        const GstStructure *structure = gst_message_get_structure (message);

        if (gst_structure_has_name (structure, "lt-preview-video"))
          {
            self->has_video = TRUE;
          }
        else if (gst_structure_has_name (structure, "lt-preview-no-more-pads") &&
                 !self->has_video)
          {
            /* Nothing to decode: stop rather than pull the stream for no picture. */
            stop_pipeline (self);
            set_state (self, LT_STREAM_PREVIEW_NO_VIDEO, NULL);
          }
      }
      break;

    default:
      break;
    }

  return G_SOURCE_CONTINUE;
}

static GdkTexture *
texture_from_sample (GstSample *sample)
{
  GstCaps *caps = gst_sample_get_caps (sample);
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  const GstStructure *structure;
  g_autoptr(GBytes) bytes = NULL;
  GstMapInfo map;
  int width = 0;
  int height = 0;
  gsize stride;

  if (caps == NULL || buffer == NULL)
    return NULL;
  structure = gst_caps_get_structure (caps, 0);
  if (!gst_structure_get_int (structure, "width", &width) ||
      !gst_structure_get_int (structure, "height", &height) ||
      width <= 0 || height <= 0)
    return NULL;

  /* BGRA rows are 4-byte aligned: no padding. */
  stride = (gsize) width * 4;
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return NULL;
  if (map.size >= stride * height)
    bytes = g_bytes_new (map.data, stride * height);
  gst_buffer_unmap (buffer, &map);
  if (bytes == NULL)
    return NULL;

  /* Opaque video: BGRA with alpha 255 is the same premultiplied or not. */
  return gdk_memory_texture_new (width, height, GDK_MEMORY_B8G8R8A8_PREMULTIPLIED,
                                 bytes, stride);
}

static gboolean
start_pipeline (LtStreamPreview *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GstCaps) caps = NULL;
  g_autoptr(GstBus) bus = NULL;
  GstElement *decode, *rate, *scale, *convert, *sink;

  g_assert (self->pipeline == NULL);

  if (!gst_is_initialized () && !gst_init_check (NULL, NULL, &error))
    {
      fail (self, error->message);
      return FALSE;
    }

  decode = gst_element_factory_make ("uridecodebin", NULL);
  rate = gst_element_factory_make ("videorate", NULL);
  scale = gst_element_factory_make ("videoscale", NULL);
  convert = gst_element_factory_make ("videoconvert", NULL);
  sink = gst_element_factory_make ("appsink", NULL);
  if (decode == NULL || rate == NULL || scale == NULL || convert == NULL || sink == NULL)
    {
      GstElement *elements[] = { decode, rate, scale, convert, sink };

      for (gsize i = 0; i < G_N_ELEMENTS (elements); i++)
        if (elements[i] != NULL)
          gst_object_unref (gst_object_ref_sink (elements[i]));
      /* Stays failed: retrying would not install the plugins. */
      stop_pipeline (self);
      set_state (self, LT_STREAM_PREVIEW_FAILED,
                 _("No preview: GStreamer’s base plugins are missing."));
      return FALSE;
    }

  self->pipeline = gst_pipeline_new ("preview");
  self->sink = sink;
  self->has_video = FALSE;
  gst_bin_add_many (GST_BIN (self->pipeline), decode, rate, scale, convert, sink, NULL);
  gst_element_link_many (rate, scale, convert, sink, NULL);

  caps = gst_caps_from_string (PREVIEW_CAPS);
  g_object_set (rate, "max-rate", PREVIEW_MAX_FPS, "drop-only", TRUE, NULL);
  g_object_set (sink, "caps", caps, "max-buffers", 1, "drop", TRUE, "sync", FALSE,
                "enable-last-sample", FALSE, "emit-signals", FALSE, NULL);
  g_object_set (decode, "uri", self->uri, NULL);
  g_signal_connect (decode, "autoplug-continue", G_CALLBACK (autoplug_continue_cb), NULL);
  g_signal_connect (decode, "pad-added", G_CALLBACK (pad_added_cb), rate);
  g_signal_connect (decode, "no-more-pads", G_CALLBACK (no_more_pads_cb), NULL);
  g_signal_connect (self->pipeline, "deep-element-added",
                    G_CALLBACK (deep_element_added_cb), NULL);

  bus = gst_element_get_bus (self->pipeline);
  gst_bus_add_watch_full (bus, G_PRIORITY_DEFAULT, bus_cb, weak_ref_new (self), weak_ref_free);

  set_state (self, LT_STREAM_PREVIEW_CONNECTING, NULL);
  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      /* The error message on the bus says why; it may not have arrived yet. */
      fail (self, _("No preview: the stream cannot be played."));
      return FALSE;
    }

  return TRUE;
}

static void
restart (LtStreamPreview *self)
{
  stop_pipeline (self);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  if (self->active && self->uri != NULL)
    start_pipeline (self);
  else
    set_state (self, LT_STREAM_PREVIEW_STOPPED, NULL);
}

/* ---- GObject ---- */

static void
lt_stream_preview_dispose (GObject *object)
{
  LtStreamPreview *self = LT_STREAM_PREVIEW (object);

  stop_pipeline (self);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_clear_object (&self->texture);

  G_OBJECT_CLASS (lt_stream_preview_parent_class)->dispose (object);
}

static void
lt_stream_preview_finalize (GObject *object)
{
  LtStreamPreview *self = LT_STREAM_PREVIEW (object);

  g_clear_pointer (&self->uri, g_free);
  g_clear_pointer (&self->message, g_free);

  G_OBJECT_CLASS (lt_stream_preview_parent_class)->finalize (object);
}

static void
lt_stream_preview_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  LtStreamPreview *self = LT_STREAM_PREVIEW (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;

    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_stream_preview_class_init (LtStreamPreviewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lt_stream_preview_dispose;
  object_class->finalize = lt_stream_preview_finalize;
  object_class->get_property = lt_stream_preview_get_property;

  properties[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL,
                      LT_STREAM_PREVIEW_STOPPED, LT_STREAM_PREVIEW_FAILED,
                      LT_STREAM_PREVIEW_STOPPED,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MESSAGE] =
    g_param_spec_string ("message", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lt_stream_preview_init (LtStreamPreview *self)
{
}

LtStreamPreview *
lt_stream_preview_new (void)
{
  return g_object_new (LT_TYPE_STREAM_PREVIEW, NULL);
}

void
lt_stream_preview_set_uri (LtStreamPreview *self,
                           const char      *uri)
{
  g_return_if_fail (LT_IS_STREAM_PREVIEW (self));

  if (g_strcmp0 (self->uri, uri) == 0)
    return;

  g_free (self->uri);
  self->uri = g_strdup (uri);
  self->n_frames = 0;
  set_texture (self, NULL);
  restart (self);
}

const char *
lt_stream_preview_get_uri (LtStreamPreview *self)
{
  g_return_val_if_fail (LT_IS_STREAM_PREVIEW (self), NULL);

  return self->uri;
}

void
lt_stream_preview_set_active (LtStreamPreview *self,
                              gboolean         active)
{
  g_return_if_fail (LT_IS_STREAM_PREVIEW (self));

  active = !!active;
  if (self->active == active)
    return;

  self->active = active;
  /* A picture that is not live any more is not kept. */
  if (!active)
    set_texture (self, NULL);
  restart (self);
}

gboolean
lt_stream_preview_get_active (LtStreamPreview *self)
{
  g_return_val_if_fail (LT_IS_STREAM_PREVIEW (self), FALSE);

  return self->active;
}

LtStreamPreviewState
lt_stream_preview_get_state (LtStreamPreview *self)
{
  g_return_val_if_fail (LT_IS_STREAM_PREVIEW (self), LT_STREAM_PREVIEW_STOPPED);

  return self->state;
}

const char *
lt_stream_preview_get_message (LtStreamPreview *self)
{
  g_return_val_if_fail (LT_IS_STREAM_PREVIEW (self), NULL);

  return self->message;
}

guint
lt_stream_preview_get_n_frames (LtStreamPreview *self)
{
  g_return_val_if_fail (LT_IS_STREAM_PREVIEW (self), 0);

  return self->n_frames;
}

gboolean
lt_stream_preview_pull_frame (LtStreamPreview *self)
{
  g_autoptr(GstSample) sample = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  g_return_val_if_fail (LT_IS_STREAM_PREVIEW (self), FALSE);

  if (self->sink == NULL)
    return FALSE;
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (self->sink), 0);
  if (sample == NULL)
    return FALSE;

  texture = texture_from_sample (sample);
  if (texture == NULL)
    return FALSE;
  set_texture (self, texture);
  self->n_frames++;
  set_state (self, LT_STREAM_PREVIEW_PLAYING, NULL);
  return TRUE;
}

gboolean
lt_stream_preview_get_running (LtStreamPreview *self)
{
  g_return_val_if_fail (LT_IS_STREAM_PREVIEW (self), FALSE);

  return self->pipeline != NULL;
}
