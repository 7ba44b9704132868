/* lt-demo-source.c: the built-in test pattern, published into our own ingest server (see
 * lt-demo-source.h). */
#define G_LOG_DOMAIN "lt-demo"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gst/gst.h>

#include "lt-demo-source.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

struct _LtDemoSource
{
  GObject            parent_instance;

  LtIngestServer    *server;
  LtStreamRegistry  *registry;
  char              *app;
  char              *name;

  gboolean           active;
  LtDemoSourceState  state;
  char              *last_error;
  LtStream          *stream;

  GstElement        *pipeline;
  guint              retry_id;
  guint              backoff_ms;
  gulong             server_state_id;
  gulong             online_id;
  gulong             offline_id;
};

G_DEFINE_FINAL_TYPE (LtDemoSource, lt_demo_source, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SERVER,
  PROP_APP,
  PROP_NAME,
  PROP_ACTIVE,
  PROP_STATE,
  PROP_LAST_ERROR,
  PROP_STREAM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void try_start (LtDemoSource *self);

static void
set_state (LtDemoSource      *self,
           LtDemoSourceState  state)
{
  if (self->state == state)
    return;

  g_debug ("state %d → %d", self->state, state);
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
set_last_error (LtDemoSource *self,
                const char   *message)
{
  if (g_strcmp0 (self->last_error, message) == 0)
    return;

  g_free (self->last_error);
  self->last_error = g_strdup (message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
}

static void
set_stream (LtDemoSource *self,
            LtStream     *stream)
{
  if (g_set_object (&self->stream, stream))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STREAM]);
}

static const char *
first_available (const char * const *factories)
{
  for (guint i = 0; factories[i] != NULL; i++)
    {
      g_autoptr(GstElementFactory) factory = gst_element_factory_find (factories[i]);

      if (factory != NULL)
        return factories[i];
    }

  return NULL;
}

/* The pipeline as gst-launch text; NULL (and @error) when an encoder is missing. */
static char *
describe_pipeline (GError **error)
{
  static const char * const aac_encoders[] = { "voaacenc", "avenc_aac", "fdkaacenc", NULL };
  static const char * const overlays[] = { "clockoverlay", "timeoverlay", NULL };
  static const char * const required[] = {
    "videotestsrc", "audiotestsrc", "x264enc", "h264parse", "aacparse", "flvmux",
    "rtmp2sink", NULL,
  };
  const char *aac = first_available (aac_encoders);
  const char *overlay = first_available (overlays);
  g_autofree char *overlay_part = NULL;

  for (guint i = 0; required[i] != NULL; i++)
    if (first_available ((const char * const[]) { required[i], NULL }) == NULL)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                     _("The GStreamer element “%s” is not installed"), required[i]);
        return NULL;
      }
  if (aac == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           _("No AAC encoder is installed for GStreamer"));
      return NULL;
    }

  if (g_strcmp0 (overlay, "clockoverlay") == 0)
    overlay_part = g_strdup ("clockoverlay time-format=\"%Y-%m-%d %H:%M:%S\" "
                             "font-desc=\"Sans 36\" ! videoconvert ! ");
  else if (overlay != NULL)
    overlay_part = g_strdup ("timeoverlay font-desc=\"Sans 36\" ! videoconvert ! ");
  else
    overlay_part = g_strdup ("");

  /* Scrolling colour bars show that the picture is live (a still one would show nothing);
   * a tick every second makes audio/video sync audible. ultrafast: ~12 % of a core here,
   * veryfast cost 31 % — the demo is on by default, so it must be cheap. */
  return g_strdup_printf (
    "videotestsrc is-live=true pattern=smpte horizontal-speed=2 "
    "! video/x-raw,format=I420,width=1280,height=720,framerate=30/1 "
    "! %s"
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate=1500 "
    "! h264parse ! queue ! flvmux name=mux streamable=true "
    "! rtmp2sink name=sink "
    "audiotestsrc is-live=true wave=ticks volume=0.4 "
    "! audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=2 "
    "! %s bitrate=96000 ! aacparse ! queue ! mux.",
    overlay_part, aac);
}

static void
teardown (LtDemoSource *self)
{
  if (self->pipeline != NULL)
    {
      g_autoptr(GstBus) bus = gst_element_get_bus (self->pipeline);

      gst_bus_remove_watch (bus);
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      gst_clear_object (&self->pipeline);
    }
}

static gboolean
retry_cb (gpointer user_data)
{
  LtDemoSource *self = user_data;

  self->retry_id = 0;
  try_start (self);

  return G_SOURCE_REMOVE;
}

static void
fail (LtDemoSource *self,
      const char   *reason)
{
  g_debug ("publishing ended: %s", reason);

  teardown (self);
  set_last_error (self, reason);
  set_state (self, self->active ? LT_DEMO_SOURCE_STATE_WAITING : LT_DEMO_SOURCE_STATE_STOPPED);

  if (!self->active)
    return;

  g_clear_handle_id (&self->retry_id, g_source_remove);
  self->retry_id = g_timeout_add (self->backoff_ms, retry_cb, self);
  self->backoff_ms = MIN (self->backoff_ms * 2, BACKOFF_MAX_MS);
}

static gboolean
bus_cb (GstBus     *bus,
        GstMessage *message,
        gpointer    user_data)
{
  LtDemoSource *self = user_data;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      {
        g_autoptr(GError) error = NULL;

        gst_message_parse_error (message, &error, NULL);
        fail (self, error->message);
        break;
      }

    case GST_MESSAGE_EOS:
      fail (self, _("The demo stream ended"));
      break;

    default:
      break;
    }

  return G_SOURCE_CONTINUE;
}

static void
try_start (LtDemoSource *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) sink = NULL;
  g_autoptr(GstBus) bus = NULL;
  g_autofree char *description = NULL;
  g_autofree char *url = NULL;

  if (!self->active || self->pipeline != NULL || self->retry_id != 0)
    return;

  if (lt_ingest_server_get_state (self->server) != LT_INGEST_STATE_RUNNING)
    {
      set_state (self, LT_DEMO_SOURCE_STATE_WAITING);
      return;
    }

  description = describe_pipeline (&error);
  if (description != NULL)
    self->pipeline = gst_parse_launch_full (description, NULL, GST_PARSE_FLAG_FATAL_ERRORS,
                                            &error);
  if (self->pipeline == NULL)
    {
      /* Nothing a retry could fix (an element is missing): wait with the reason. */
      set_last_error (self, error->message);
      set_state (self, LT_DEMO_SOURCE_STATE_WAITING);
      return;
    }
  gst_object_ref_sink (self->pipeline);

  url = lt_ingest_server_dup_local_publish_url (self->server, LT_STREAM_SOURCE_DEMO,
                                                self->app, self->name);
  sink = gst_bin_get_by_name (GST_BIN (self->pipeline), "sink");
  g_object_set (sink, "location", url, NULL);

  bus = gst_element_get_bus (self->pipeline);
  gst_bus_add_watch (bus, bus_cb, self);

  set_state (self, LT_DEMO_SOURCE_STATE_CONNECTING);
  g_debug ("publishing to %s/%s", self->app, self->name);

  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    fail (self, _("The demo stream could not be started"));
}

static gboolean
is_ours (LtDemoSource *self,
         LtStream     *stream)
{
  return lt_stream_get_source_kind (stream) == LT_STREAM_SOURCE_DEMO &&
         g_strcmp0 (lt_stream_get_app (stream), self->app) == 0 &&
         g_strcmp0 (lt_stream_get_name (stream), self->name) == 0;
}

static void
stream_online_cb (LtStreamRegistry *registry,
                  LtStream         *stream,
                  LtDemoSource     *self)
{
  if (!is_ours (self, stream) || self->pipeline == NULL)
    return;

  self->backoff_ms = BACKOFF_MIN_MS;
  set_stream (self, stream);
  set_last_error (self, NULL);
  set_state (self, LT_DEMO_SOURCE_STATE_ONLINE);
}

static void
stream_offline_cb (LtStreamRegistry *registry,
                   LtStream         *stream,
                   LtDemoSource     *self)
{
  if (stream != self->stream)
    return;

  set_stream (self, NULL);
  /* The connection is gone (nginx restarted, or refused us): publish again. */
  if (self->pipeline != NULL)
    fail (self, _("The ingest server ended the demo stream"));
}

static void
server_state_cb (LtIngestServer *server,
                 GParamSpec     *pspec,
                 LtDemoSource   *self)
{
  if (!self->active)
    return;

  if (lt_ingest_server_get_state (server) == LT_INGEST_STATE_RUNNING)
    {
      /* Up (again): no need to wait for the backoff. */
      g_clear_handle_id (&self->retry_id, g_source_remove);
      self->backoff_ms = BACKOFF_MIN_MS;
      try_start (self);
    }
  else if (self->pipeline != NULL)
    {
      teardown (self);
      set_stream (self, NULL);
      set_state (self, LT_DEMO_SOURCE_STATE_WAITING);
    }
}

static void
lt_demo_source_dispose (GObject *object)
{
  LtDemoSource *self = LT_DEMO_SOURCE (object);

  if (self->server != NULL)
    lt_demo_source_stop (self);

  if (self->server != NULL)
    g_clear_signal_handler (&self->server_state_id, self->server);
  if (self->registry != NULL)
    {
      g_clear_signal_handler (&self->online_id, self->registry);
      g_clear_signal_handler (&self->offline_id, self->registry);
    }
  g_clear_object (&self->server);
  g_clear_object (&self->registry);

  G_OBJECT_CLASS (lt_demo_source_parent_class)->dispose (object);
}

static void
lt_demo_source_finalize (GObject *object)
{
  LtDemoSource *self = LT_DEMO_SOURCE (object);

  g_free (self->app);
  g_free (self->name);
  g_free (self->last_error);

  G_OBJECT_CLASS (lt_demo_source_parent_class)->finalize (object);
}

static void
lt_demo_source_constructed (GObject *object)
{
  LtDemoSource *self = LT_DEMO_SOURCE (object);

  G_OBJECT_CLASS (lt_demo_source_parent_class)->constructed (object);

  self->registry = g_object_ref (lt_ingest_server_get_registry (self->server));
  self->server_state_id = g_signal_connect (self->server, "notify::state",
                                            G_CALLBACK (server_state_cb), self);
  self->online_id = g_signal_connect (self->registry, "stream-online",
                                      G_CALLBACK (stream_online_cb), self);
  self->offline_id = g_signal_connect (self->registry, "stream-offline",
                                       G_CALLBACK (stream_offline_cb), self);
}

static void
lt_demo_source_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  LtDemoSource *self = LT_DEMO_SOURCE (object);

  switch (prop_id)
    {
    case PROP_SERVER:
      g_value_set_object (value, self->server);
      break;
    case PROP_APP:
      g_value_set_string (value, self->app);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_ACTIVE:
      g_value_set_boolean (value, self->active);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;
    case PROP_STREAM:
      g_value_set_object (value, self->stream);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_demo_source_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  LtDemoSource *self = LT_DEMO_SOURCE (object);

  switch (prop_id)
    {
    case PROP_SERVER:
      self->server = g_value_dup_object (value);
      break;
    case PROP_APP:
      self->app = g_strdup (g_value_get_string (value) ?: LT_DEMO_DEFAULT_APP);
      break;
    case PROP_NAME:
      self->name = g_strdup (g_value_get_string (value) ?: LT_DEMO_DEFAULT_STREAM);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_demo_source_class_init (LtDemoSourceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags co = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = lt_demo_source_dispose;
  object_class->finalize = lt_demo_source_finalize;
  object_class->constructed = lt_demo_source_constructed;
  object_class->get_property = lt_demo_source_get_property;
  object_class->set_property = lt_demo_source_set_property;

  properties[PROP_SERVER] =
    g_param_spec_object ("server", NULL, NULL, LT_TYPE_INGEST_SERVER, co);
  properties[PROP_APP] = g_param_spec_string ("app", NULL, NULL, LT_DEMO_DEFAULT_APP, co);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, LT_DEMO_DEFAULT_STREAM, co);
  properties[PROP_ACTIVE] = g_param_spec_boolean ("active", NULL, NULL, FALSE, ro);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, LT_TYPE_DEMO_SOURCE_STATE,
                       LT_DEMO_SOURCE_STATE_STOPPED, ro);
  properties[PROP_LAST_ERROR] = g_param_spec_string ("last-error", NULL, NULL, NULL, ro);
  properties[PROP_STREAM] = g_param_spec_object ("stream", NULL, NULL, LT_TYPE_STREAM, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lt_demo_source_init (LtDemoSource *self)
{
  self->backoff_ms = BACKOFF_MIN_MS;
}

LtDemoSource *
lt_demo_source_new (LtIngestServer *server,
                    const char     *app,
                    const char     *name)
{
  g_return_val_if_fail (LT_IS_INGEST_SERVER (server), NULL);

  return g_object_new (LT_TYPE_DEMO_SOURCE,
                       "server", server,
                       "app", app,
                       "name", name,
                       NULL);
}

const char *
lt_demo_source_get_app (LtDemoSource *self)
{
  g_return_val_if_fail (LT_IS_DEMO_SOURCE (self), NULL);
  return self->app;
}

const char *
lt_demo_source_get_name (LtDemoSource *self)
{
  g_return_val_if_fail (LT_IS_DEMO_SOURCE (self), NULL);
  return self->name;
}

void
lt_demo_source_start (LtDemoSource *self)
{
  g_return_if_fail (LT_IS_DEMO_SOURCE (self));

  if (self->active)
    return;

  self->active = TRUE;
  self->backoff_ms = BACKOFF_MIN_MS;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
  try_start (self);
}

void
lt_demo_source_stop (LtDemoSource *self)
{
  g_return_if_fail (LT_IS_DEMO_SOURCE (self));

  if (!self->active)
    return;

  self->active = FALSE;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  teardown (self);
  /* The ingest server takes the stream offline when nginx reports the unpublish. */
  set_stream (self, NULL);
  set_last_error (self, NULL);
  set_state (self, LT_DEMO_SOURCE_STATE_STOPPED);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
}

gboolean
lt_demo_source_get_active (LtDemoSource *self)
{
  g_return_val_if_fail (LT_IS_DEMO_SOURCE (self), FALSE);
  return self->active;
}

LtDemoSourceState
lt_demo_source_get_state (LtDemoSource *self)
{
  g_return_val_if_fail (LT_IS_DEMO_SOURCE (self), LT_DEMO_SOURCE_STATE_STOPPED);
  return self->state;
}

const char *
lt_demo_source_get_last_error (LtDemoSource *self)
{
  g_return_val_if_fail (LT_IS_DEMO_SOURCE (self), NULL);
  return self->last_error;
}

LtStream *
lt_demo_source_get_stream (LtDemoSource *self)
{
  g_return_val_if_fail (LT_IS_DEMO_SOURCE (self), NULL);
  return self->stream;
}
