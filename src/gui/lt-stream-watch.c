/* lt-stream-watch.c: one stream identity followed for a widget (see lt-stream-watch.h).
 *
 * The frame update is a one-shot tick callback on the widget: it runs in the frame
 * clock's update phase, so whatever the widget changes is laid out and painted in the
 * same frame. The one-second tick only schedules such an update. The widget owns the
 * watch and disposes it first, so the callbacks (which hold no reference) never outlive
 * either. */
#include "config.h"

#include "lt-stream-watch.h"

struct _LtStreamWatch
{
  GObject               parent_instance;

  LtEngine             *engine;
  GtkWidget            *widget;       /* not owned: it owns the watch */
  LtStreamWatchUpdate   update;
  char                 *key;
  LtStream             *stream;
  LtRecording          *recording;
  LtStreamWatchChanges  pending;
  gboolean              mapped;
  gboolean              ticking;
  guint                 frame_id;
  guint                 timer_id;
};

G_DEFINE_FINAL_TYPE (LtStreamWatch, lt_stream_watch, G_TYPE_OBJECT)

static gboolean
frame_cb (GtkWidget     *widget,
          GdkFrameClock *clock,
          gpointer       user_data)
{
  LtStreamWatch *self = user_data;
  LtStreamWatchChanges changes = self->pending;

  self->frame_id = 0;
  self->pending = 0;
  self->update (self->widget, changes);
  return G_SOURCE_REMOVE;
}

static void
queue (LtStreamWatch        *self,
       LtStreamWatchChanges  changes)
{
  self->pending |= changes;
  if (self->mapped && self->frame_id == 0)
    self->frame_id = gtk_widget_add_tick_callback (self->widget, frame_cb, self, NULL);
}

static void
stream_notify_cb (LtStreamWatch *self)
{
  queue (self, LT_STREAM_WATCH_STREAM);
}

static void
recording_notify_cb (LtStreamWatch *self,
                     GParamSpec    *pspec)
{
  queue (self, g_strcmp0 (pspec->name, "formats") == 0
               ? LT_STREAM_WATCH_RECORDING | LT_STREAM_WATCH_FORMATS
               : LT_STREAM_WATCH_RECORDING);
}

static void
files_changed_cb (LtStreamWatch *self)
{
  queue (self, LT_STREAM_WATCH_RECORDING);
}

static void
resolve (LtStreamWatch *self)
{
  LtRecordingManager *manager = lt_engine_get_recording_manager (self->engine);
  LtStream *stream = NULL;
  LtRecording *recording = NULL;

  if (self->key != NULL)
    {
      stream = lt_stream_registry_lookup_key (lt_engine_get_stream_registry (self->engine),
                                              self->key);
      if (manager != NULL)
        recording = lt_recording_manager_lookup (manager, self->key);
    }

  if (stream != self->stream)
    {
      if (self->stream != NULL)
        g_signal_handlers_disconnect_by_data (self->stream, self);
      g_set_object (&self->stream, stream);
      if (stream != NULL)
        g_signal_connect_object (stream, "notify", G_CALLBACK (stream_notify_cb), self,
                                 G_CONNECT_SWAPPED);
      queue (self, LT_STREAM_WATCH_STREAM);
    }
  if (recording != self->recording)
    {
      if (self->recording != NULL)
        g_signal_handlers_disconnect_by_data (self->recording, self);
      g_set_object (&self->recording, recording);
      if (recording != NULL)
        {
          g_signal_connect_object (recording, "notify", G_CALLBACK (recording_notify_cb),
                                   self, G_CONNECT_SWAPPED);
          g_signal_connect_object (recording, "files-changed", G_CALLBACK (files_changed_cb),
                                   self, G_CONNECT_SWAPPED);
        }
      queue (self, LT_STREAM_WATCH_RECORDING | LT_STREAM_WATCH_FORMATS);
    }
}

static gboolean
timer_cb (gpointer data)
{
  queue (data, LT_STREAM_WATCH_TICK);
  return G_SOURCE_CONTINUE;
}

static void
update_timer (LtStreamWatch *self)
{
  if (self->mapped && self->ticking && self->timer_id == 0)
    self->timer_id = g_timeout_add_seconds (1, timer_cb, self);
  else if (!(self->mapped && self->ticking))
    g_clear_handle_id (&self->timer_id, g_source_remove);
}

static void
cancel_frame (LtStreamWatch *self)
{
  if (self->frame_id != 0)
    {
      gtk_widget_remove_tick_callback (self->widget, self->frame_id);
      self->frame_id = 0;
    }
}

static void
lt_stream_watch_dispose (GObject *object)
{
  LtStreamWatch *self = LT_STREAM_WATCH (object);

  cancel_frame (self);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  if (self->stream != NULL)
    g_signal_handlers_disconnect_by_data (self->stream, self);
  if (self->recording != NULL)
    g_signal_handlers_disconnect_by_data (self->recording, self);
  g_clear_object (&self->stream);
  g_clear_object (&self->recording);
  g_clear_object (&self->engine);

  G_OBJECT_CLASS (lt_stream_watch_parent_class)->dispose (object);
}

static void
lt_stream_watch_finalize (GObject *object)
{
  LtStreamWatch *self = LT_STREAM_WATCH (object);

  g_clear_pointer (&self->key, g_free);

  G_OBJECT_CLASS (lt_stream_watch_parent_class)->finalize (object);
}

static void
lt_stream_watch_class_init (LtStreamWatchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lt_stream_watch_dispose;
  object_class->finalize = lt_stream_watch_finalize;
}

static void
lt_stream_watch_init (LtStreamWatch *self)
{
}

LtStreamWatch *
lt_stream_watch_new (LtEngine            *engine,
                     GtkWidget           *widget,
                     LtStreamWatchUpdate  update)
{
  LtStreamWatch *self;
  LtRecordingManager *manager;

  g_return_val_if_fail (LT_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (GTK_IS_WIDGET (widget), NULL);
  g_return_val_if_fail (update != NULL, NULL);

  self = g_object_new (LT_TYPE_STREAM_WATCH, NULL);
  self->engine = g_object_ref (engine);
  self->widget = widget;
  self->update = update;
  self->mapped = gtk_widget_get_mapped (widget);

  g_signal_connect_object (lt_engine_get_stream_registry (engine), "items-changed",
                           G_CALLBACK (resolve), self, G_CONNECT_SWAPPED);
  manager = lt_engine_get_recording_manager (engine);
  if (manager != NULL)
    g_signal_connect_object (lt_recording_manager_get_recordings (manager), "items-changed",
                             G_CALLBACK (resolve), self, G_CONNECT_SWAPPED);
  return self;
}

void
lt_stream_watch_set_key (LtStreamWatch *self,
                         const char    *key)
{
  g_return_if_fail (LT_IS_STREAM_WATCH (self));

  if (g_strcmp0 (self->key, key) == 0)
    return;
  g_free (self->key);
  self->key = g_strdup (key);
  resolve (self);
}

const char *
lt_stream_watch_get_key (LtStreamWatch *self)
{
  g_return_val_if_fail (LT_IS_STREAM_WATCH (self), NULL);

  return self->key;
}

LtStream *
lt_stream_watch_get_stream (LtStreamWatch *self)
{
  g_return_val_if_fail (LT_IS_STREAM_WATCH (self), NULL);

  return self->stream;
}

LtRecording *
lt_stream_watch_get_recording (LtStreamWatch *self)
{
  g_return_val_if_fail (LT_IS_STREAM_WATCH (self), NULL);

  return self->recording;
}

gboolean
lt_stream_watch_get_identity (LtStreamWatch  *self,
                              const char    **domain,
                              const char    **app,
                              const char    **name)
{
  g_return_val_if_fail (LT_IS_STREAM_WATCH (self), FALSE);

  if (self->stream != NULL)
    {
      *domain = lt_stream_get_domain (self->stream);
      *app = lt_stream_get_app (self->stream);
      *name = lt_stream_get_name (self->stream);
      return TRUE;
    }
  if (self->recording != NULL)
    {
      *domain = lt_recording_get_domain (self->recording);
      *app = lt_recording_get_app (self->recording);
      *name = lt_recording_get_stream_name (self->recording);
      return TRUE;
    }
  return FALSE;
}

void
lt_stream_watch_refresh (LtStreamWatch *self)
{
  g_return_if_fail (LT_IS_STREAM_WATCH (self));

  resolve (self);
  queue (self, LT_STREAM_WATCH_RECORDING);
}

void
lt_stream_watch_update_now (LtStreamWatch *self)
{
  g_return_if_fail (LT_IS_STREAM_WATCH (self));

  cancel_frame (self);
  self->pending = 0;
  self->update (self->widget, LT_STREAM_WATCH_ALL);
}

void
lt_stream_watch_set_mapped (LtStreamWatch *self,
                            gboolean       mapped)
{
  g_return_if_fail (LT_IS_STREAM_WATCH (self));

  self->mapped = !!mapped;
  if (!self->mapped)
    cancel_frame (self);
  else
    queue (self, LT_STREAM_WATCH_ALL);
  update_timer (self);
}

void
lt_stream_watch_set_ticking (LtStreamWatch *self,
                             gboolean       ticking)
{
  g_return_if_fail (LT_IS_STREAM_WATCH (self));

  self->ticking = !!ticking;
  update_timer (self);
}

void
lt_stream_watch_set_state_class (GtkWidget        *widget,
                                 LtRecordingState  state)
{
  static const char * const classes[] = { "recording", "paused", "failed" };
  const char *wanted = NULL;

  switch (state)
    {
    case LT_RECORDING_STATE_STARTING:
    case LT_RECORDING_STATE_RECORDING:
      wanted = "recording";
      break;
    case LT_RECORDING_STATE_PAUSED:
    case LT_RECORDING_STATE_STOPPING:
      wanted = "paused";
      break;
    case LT_RECORDING_STATE_SUSPENDED:
    case LT_RECORDING_STATE_FAILED:
      wanted = "failed";
      break;
    case LT_RECORDING_STATE_NOT_RECORDING:
    default:
      break;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (classes); i++)
    {
      if (g_strcmp0 (wanted, classes[i]) == 0)
        gtk_widget_add_css_class (widget, classes[i]);
      else
        gtk_widget_remove_css_class (widget, classes[i]);
    }
}
