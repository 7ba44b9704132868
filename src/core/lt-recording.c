/* lt-recording.c: the recording state of one stream, as the console and the API see it.
 * Plain data with notifications; every decision is the recording manager's. */
#include "config.h"

#include "lt-recording-private.h"

struct _LtRecording
{
  GObject             parent_instance;

  char               *domain;
  char               *app;
  char               *stream_name;
  char               *key;

  LtRecordingState    state;
  char               *reason;
  char               *reason_code;
  LtRecordingTrigger  trigger;
  gint64              pause_deadline;
  gint64              highlight_deadline;
  gint64              session_id;
  GStrv               formats;
  LtRecorder         *recorder;
  GHashTable         *current_files;  /* format name → LtRecordingFile */
};

G_DEFINE_FINAL_TYPE (LtRecording, lt_recording, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (LtRecordingState, lt_recording_state,
  G_DEFINE_ENUM_VALUE (LT_RECORDING_STATE_NOT_RECORDING, "not_recording"),
  G_DEFINE_ENUM_VALUE (LT_RECORDING_STATE_STARTING, "starting"),
  G_DEFINE_ENUM_VALUE (LT_RECORDING_STATE_RECORDING, "recording"),
  G_DEFINE_ENUM_VALUE (LT_RECORDING_STATE_PAUSED, "paused"),
  G_DEFINE_ENUM_VALUE (LT_RECORDING_STATE_SUSPENDED, "suspended"),
  G_DEFINE_ENUM_VALUE (LT_RECORDING_STATE_STOPPING, "stopping"),
  G_DEFINE_ENUM_VALUE (LT_RECORDING_STATE_FAILED, "failed"))

G_DEFINE_ENUM_TYPE (LtRecordingTrigger, lt_recording_trigger,
  G_DEFINE_ENUM_VALUE (LT_RECORDING_TRIGGER_NONE, "none"),
  G_DEFINE_ENUM_VALUE (LT_RECORDING_TRIGGER_AUTO, "auto"),
  G_DEFINE_ENUM_VALUE (LT_RECORDING_TRIGGER_PUSH_ARG, "push_arg"),
  G_DEFINE_ENUM_VALUE (LT_RECORDING_TRIGGER_MANUAL, "manual"),
  G_DEFINE_ENUM_VALUE (LT_RECORDING_TRIGGER_SCHEDULED, "scheduled"),
  G_DEFINE_ENUM_VALUE (LT_RECORDING_TRIGGER_ON_DEMAND, "ondemand"))

enum {
  PROP_0,
  PROP_DOMAIN,
  PROP_APP,
  PROP_STREAM_NAME,
  PROP_KEY,
  PROP_STATE,
  PROP_REASON,
  PROP_REASON_CODE,
  PROP_TRIGGER,
  PROP_PAUSE_DEADLINE,
  PROP_HIGHLIGHT_DEADLINE,
  PROP_SESSION_ID,
  PROP_FORMATS,
  N_PROPS
};

enum {
  SIGNAL_FILES_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static const char *
enum_nick (GType type,
           int   value)
{
  GEnumClass *klass = g_type_class_ref (type);
  GEnumValue *ev = g_enum_get_value (klass, value);
  const char *nick = ev != NULL ? ev->value_nick : NULL;

  /* Enum classes of static types live for the whole program: the nick stays valid. */
  g_type_class_unref (klass);
  return nick;
}

const char *
lt_recording_state_to_string (LtRecordingState state)
{
  return enum_nick (LT_TYPE_RECORDING_STATE, state);
}

const char *
lt_recording_trigger_to_string (LtRecordingTrigger trigger)
{
  return enum_nick (LT_TYPE_RECORDING_TRIGGER, trigger);
}

static void
lt_recording_finalize (GObject *object)
{
  LtRecording *self = LT_RECORDING (object);

  g_free (self->domain);
  g_free (self->app);
  g_free (self->stream_name);
  g_free (self->key);
  g_free (self->reason);
  g_free (self->reason_code);
  g_strfreev (self->formats);
  g_clear_object (&self->recorder);
  g_hash_table_unref (self->current_files);

  G_OBJECT_CLASS (lt_recording_parent_class)->finalize (object);
}

static void
lt_recording_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  LtRecording *self = LT_RECORDING (object);

  switch (prop_id)
    {
    case PROP_DOMAIN:
      g_value_set_string (value, self->domain);
      break;
    case PROP_APP:
      g_value_set_string (value, self->app);
      break;
    case PROP_STREAM_NAME:
      g_value_set_string (value, self->stream_name);
      break;
    case PROP_KEY:
      g_value_set_string (value, self->key);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_REASON:
      g_value_set_string (value, self->reason);
      break;
    case PROP_REASON_CODE:
      g_value_set_string (value, self->reason_code);
      break;
    case PROP_TRIGGER:
      g_value_set_enum (value, self->trigger);
      break;
    case PROP_PAUSE_DEADLINE:
      g_value_set_int64 (value, self->pause_deadline);
      break;
    case PROP_HIGHLIGHT_DEADLINE:
      g_value_set_int64 (value, self->highlight_deadline);
      break;
    case PROP_SESSION_ID:
      g_value_set_int64 (value, self->session_id);
      break;
    case PROP_FORMATS:
      g_value_set_boxed (value, self->formats);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_recording_class_init (LtRecordingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = lt_recording_finalize;
  object_class->get_property = lt_recording_get_property;

  properties[PROP_DOMAIN] = g_param_spec_string ("domain", NULL, NULL, NULL, ro);
  properties[PROP_APP] = g_param_spec_string ("app", NULL, NULL, NULL, ro);
  properties[PROP_STREAM_NAME] = g_param_spec_string ("stream-name", NULL, NULL, NULL, ro);
  properties[PROP_KEY] = g_param_spec_string ("key", NULL, NULL, NULL, ro);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, LT_TYPE_RECORDING_STATE,
                       LT_RECORDING_STATE_NOT_RECORDING, ro);
  properties[PROP_REASON] = g_param_spec_string ("reason", NULL, NULL, NULL, ro);
  properties[PROP_REASON_CODE] = g_param_spec_string ("reason-code", NULL, NULL, NULL, ro);
  properties[PROP_TRIGGER] =
    g_param_spec_enum ("trigger", NULL, NULL, LT_TYPE_RECORDING_TRIGGER,
                       LT_RECORDING_TRIGGER_NONE, ro);
  properties[PROP_PAUSE_DEADLINE] =
    g_param_spec_int64 ("pause-deadline", NULL, NULL, 0, G_MAXINT64, 0, ro);
  properties[PROP_HIGHLIGHT_DEADLINE] =
    g_param_spec_int64 ("highlight-deadline", NULL, NULL, 0, G_MAXINT64, 0, ro);
  properties[PROP_SESSION_ID] =
    g_param_spec_int64 ("session-id", NULL, NULL, 0, G_MAXINT64, 0, ro);
  properties[PROP_FORMATS] = g_param_spec_boxed ("formats", NULL, NULL, G_TYPE_STRV, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_FILES_CHANGED] =
    g_signal_new ("files-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
lt_recording_init (LtRecording *self)
{
  self->formats = g_new0 (char *, 1);
  self->current_files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) lt_recording_file_free);
}

LtRecording *
_lt_recording_new (const char *domain,
                   const char *app,
                   const char *stream_name,
                   const char *key)
{
  LtRecording *self = g_object_new (LT_TYPE_RECORDING, NULL);

  self->domain = g_strdup (domain);
  self->app = g_strdup (app);
  self->stream_name = g_strdup (stream_name);
  self->key = g_strdup (key);
  return self;
}

const char *
lt_recording_get_domain (LtRecording *self)
{
  g_return_val_if_fail (LT_IS_RECORDING (self), NULL);
  return self->domain;
}

const char *
lt_recording_get_app (LtRecording *self)
{
  g_return_val_if_fail (LT_IS_RECORDING (self), NULL);
  return self->app;
}

const char *
lt_recording_get_stream_name (LtRecording *self)
{
  g_return_val_if_fail (LT_IS_RECORDING (self), NULL);
  return self->stream_name;
}

const char *
lt_recording_get_key (LtRecording *self)
{
  g_return_val_if_fail (LT_IS_RECORDING (self), NULL);
  return self->key;
}

LtRecordingState
lt_recording_get_state (LtRecording *self)
{
  g_return_val_if_fail (LT_IS_RECORDING (self), LT_RECORDING_STATE_NOT_RECORDING);
  return self->state;
}

const char *
lt_recording_get_reason (LtRecording *self)
{
  g_return_val_if_fail (LT_IS_RECORDING (self), NULL);
  return self->reason;
}

const char *
lt_recording_get_reason_code (LtRecording *self)
{
  g_return_val_if_fail (LT_IS_RECORDING (self), NULL);
  return self->reason_code;
}

LtRecordingTrigger
lt_recording_get_trigger (LtRecording *self)
{
  g_return_val_if_fail (LT_IS_RECORDING (self), LT_RECORDING_TRIGGER_NONE);
  return self->trigger;
}

gint64
lt_recording_get_pause_deadline (LtRecording *self)
{
  g_return_val_if_fail (LT_IS_RECORDING (self), 0);
  return self->pause_deadline;
}

gint64
lt_recording_get_highlight_deadline (LtRecording *self)
{
  g_return_val_if_fail (LT_IS_RECORDING (self), 0);
  return self->highlight_deadline;
}

gint64
lt_recording_get_session_id (LtRecording *self)
{
  g_return_val_if_fail (LT_IS_RECORDING (self), 0);
  return self->session_id;
}

const char * const *
lt_recording_get_formats (LtRecording *self)
{
  g_return_val_if_fail (LT_IS_RECORDING (self), NULL);
  return (const char * const *) self->formats;
}

const LtRecordingFile *
lt_recording_get_current_file (LtRecording *self,
                               const char  *format)
{
  g_return_val_if_fail (LT_IS_RECORDING (self), NULL);
  g_return_val_if_fail (format != NULL, NULL);

  return g_hash_table_lookup (self->current_files, format);
}

gint64
lt_recording_get_duration (LtRecording *self)
{
  g_return_val_if_fail (LT_IS_RECORDING (self), 0);

  return self->recorder != NULL ? lt_recorder_get_duration (self->recorder) : 0;
}

/* Setters (lt-recording-private.h) */

static gboolean
replace_str (char       **pointer,
             const char  *value)
{
  if (g_strcmp0 (*pointer, value) == 0)
    return FALSE;
  g_free (*pointer);
  *pointer = g_strdup (value);
  return TRUE;
}

static void
notify (LtRecording *self,
        guint        prop)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

void
_lt_recording_set_state (LtRecording      *self,
                         LtRecordingState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  notify (self, PROP_STATE);
}

void
_lt_recording_set_reason (LtRecording *self,
                          const char  *reason_code,
                          const char  *reason)
{
  if (replace_str (&self->reason_code, reason_code))
    notify (self, PROP_REASON_CODE);
  if (replace_str (&self->reason, reason))
    notify (self, PROP_REASON);
}

void
_lt_recording_set_trigger (LtRecording        *self,
                           LtRecordingTrigger  trigger)
{
  if (self->trigger == trigger)
    return;
  self->trigger = trigger;
  notify (self, PROP_TRIGGER);
}

void
_lt_recording_set_pause_deadline (LtRecording *self,
                                  gint64       deadline)
{
  if (self->pause_deadline == deadline)
    return;
  self->pause_deadline = deadline;
  notify (self, PROP_PAUSE_DEADLINE);
}

void
_lt_recording_set_highlight_deadline (LtRecording *self,
                                      gint64       deadline)
{
  if (self->highlight_deadline == deadline)
    return;
  self->highlight_deadline = deadline;
  notify (self, PROP_HIGHLIGHT_DEADLINE);
}

void
_lt_recording_set_session (LtRecording        *self,
                           gint64              session_id,
                           const char * const *formats,
                           LtRecorder         *recorder)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (self->session_id != session_id)
    {
      self->session_id = session_id;
      notify (self, PROP_SESSION_ID);
    }
  if (!g_strv_equal ((const char * const *) self->formats,
                     formats != NULL ? formats : (const char * const []) { NULL }))
    {
      g_strfreev (self->formats);
      self->formats = formats != NULL ? g_strdupv ((char **) formats) : g_new0 (char *, 1);
      notify (self, PROP_FORMATS);
    }
  g_set_object (&self->recorder, recorder);
  if (recorder == NULL && g_hash_table_size (self->current_files) > 0)
    {
      g_hash_table_remove_all (self->current_files);
      g_signal_emit (self, signals[SIGNAL_FILES_CHANGED], 0);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

LtRecorder *
_lt_recording_get_recorder (LtRecording *self)
{
  return self->recorder;
}

void
_lt_recording_set_current_file (LtRecording           *self,
                                const char            *format,
                                const LtRecordingFile *file)
{
  if (file != NULL)
    g_hash_table_replace (self->current_files, g_strdup (format),
                          lt_recording_file_copy (file));
  else if (!g_hash_table_remove (self->current_files, format))
    return;
  g_signal_emit (self, signals[SIGNAL_FILES_CHANGED], 0);
}
