/* lt-recording-manager.c: streams in, recording sessions out (SPEC section 3).
 *
 * One Entry per stream identity that is online or still has a session. An entry's
 * session is an LtRecorder plus its catalog identity (LtSessionRow); the recorder keeps
 * the merge window itself, the manager decides when a session starts, resumes or ends and
 * turns the recorder's reports into catalog jobs.
 *
 * Decisions are made when a stream comes online, with the rule of highest priority as it
 * is then (a rule changed later applies from the next publish): an exclusion rule, a
 * StartTime/EndTime window that is not open, OnDemand 2 without record=1|true, OnDemand 7,
 * or for OnDemand 1 a "no" (or no answer) from the domain's OnDemandUrl mean "not
 * recording", and the LtRecording says why. File and status callbacks (SPEC 4) are queued
 * as the recorder reports files and state changes. A window that opens while the stream is online starts the
 * recording then; one that closes ends it.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "lt-on-demand.h"
#include "lt-outbound.h"
#include "lt-recording-catalog.h"
#include "lt-recording-manager.h"
#include "lt-recording-private.h"
#include "lt-storage.h"
#include "lt-sync-engine.h"



G_DEFINE_QUARK (lt-recording-error-quark, lt_recording_error)

const char *
lt_recording_error_code_name (LtRecordingError code)
{
  switch (code)
    {
    case LT_RECORDING_ERROR_STREAM_NOT_FOUND:
      return "InvalidStream.NotFound";
    case LT_RECORDING_ERROR_CONFIG_NOT_FOUND:
      return "InvalidConfig.NotFound";
    case LT_RECORDING_ERROR_TASK_ALREADY_STARTED:
      return "TaskAlreadyStarted";
    case LT_RECORDING_ERROR_TASK_NOT_FOUND:
      return "TaskNotFound";
    case LT_RECORDING_ERROR_INVALID_TASK_STATUS:
      return "InvalidTaskStatus";
    case LT_RECORDING_ERROR_INVALID_PARAMETER:
      return "InvalidParameter";
    case LT_RECORDING_ERROR_FAILED:
    default:
      return "InternalError";
    }
}

guint
lt_recording_error_http_status (LtRecordingError code)
{
  switch (code)
    {
    case LT_RECORDING_ERROR_STREAM_NOT_FOUND:
    case LT_RECORDING_ERROR_CONFIG_NOT_FOUND:
    case LT_RECORDING_ERROR_TASK_NOT_FOUND:
      return 404;
    case LT_RECORDING_ERROR_TASK_ALREADY_STARTED:
    case LT_RECORDING_ERROR_INVALID_TASK_STATUS:
      return 409;
    case LT_RECORDING_ERROR_INVALID_PARAMETER:
      return 400;
    case LT_RECORDING_ERROR_FAILED:
    default:
      return 500;
    }
}

gboolean
lt_record_command_from_string (const char      *string,
                               LtRecordCommand *command)
{
  static const struct { const char *name; LtRecordCommand command; } commands[] = {
    { "start", LT_RECORD_COMMAND_START },
    { "stop", LT_RECORD_COMMAND_STOP },
    { "cancel_delay", LT_RECORD_COMMAND_CANCEL_DELAY },
    { "restart", LT_RECORD_COMMAND_RESTART },
  };

  for (guint i = 0; string != NULL && i < G_N_ELEMENTS (commands); i++)
    if (strcmp (string, commands[i].name) == 0)
      {
        *command = commands[i].command;
        return TRUE;
      }
  return FALSE;
}

/* {Sequence} counters, shared with the recorders' streaming threads. */
typedef struct
{
  gatomicrefcount  ref_count;
  GMutex           lock;
  GHashTable      *next;   /* _lt_recording_sequence_key() → gint64* */
} Sequences;

static Sequences *
sequences_ref (Sequences *seq)
{
  g_atomic_ref_count_inc (&seq->ref_count);
  return seq;
}

static void
sequences_unref (Sequences *seq)
{
  if (!g_atomic_ref_count_dec (&seq->ref_count))
    return;
  g_mutex_clear (&seq->lock);
  g_hash_table_unref (seq->next);
  g_free (seq);
}

typedef struct
{
  Sequences *sequences;
  char      *keys[LT_RECORD_FORMAT_KIND_COUNT];
} SequenceFuncData;

static void
sequence_func_data_free (gpointer data)
{
  SequenceFuncData *sfd = data;

  sequences_unref (sfd->sequences);
  for (guint i = 0; i < LT_RECORD_FORMAT_KIND_COUNT; i++)
    g_free (sfd->keys[i]);
  g_free (sfd);
}

/* Streaming thread: must not block (a short lock, no I/O). */
static guint64
allocate_sequence (LtRecordFormatKind format,
                   gpointer           user_data)
{
  SequenceFuncData *sfd = user_data;
  Sequences *seq = sfd->sequences;
  gint64 *next;
  guint64 value;

  g_mutex_lock (&seq->lock);
  next = g_hash_table_lookup (seq->next, sfd->keys[format]);
  if (next == NULL)
    {
      next = g_new (gint64, 1);
      *next = 1;
      g_hash_table_insert (seq->next, g_strdup (sfd->keys[format]), next);
    }
  value = (guint64) (*next)++;
  g_mutex_unlock (&seq->lock);
  return value;
}

typedef struct
{
  LtRecordingManager *self;          /* unowned: entries never outlive the manager */
  char               *key;
  LtRecording        *recording;
  LtStream           *stream;        /* online now, or NULL */

  /* The session, while there is one. */
  LtRecorder         *recorder;
  LtSessionRow       *row;
  LtRule             *rule;
  LtRecorderState     recorder_state;
  const char         *pause_reason;  /* for the next pause: "offline", "manual_stop" */
  const char         *end_reason;    /* set by whoever ends the session */
  gboolean            operator_stopped;
  gboolean            pause_requested; /* lt_recorder_pause() called, PAUSED not seen yet */
  gboolean            decide_when_finished; /* published again while the session closed */
  gboolean            paused;        /* a pause is open in the catalog */

  guint               highlight_id;
  guint               window_id;     /* the schedule: window opens (no session) / closes */

  /* Callbacks (SPEC 4). */
  GHashTable         *push_args;     /* the session's publish parameters (a reference) */
  gboolean            started_notified;
  gboolean            error_notified;

  /* OnDemand 1: the question being asked. */
  LtRule             *asking_rule;
  GCancellable       *on_demand;
  guint               media_wait_id;
  guint               media_waits;
} Entry;

struct _LtRecordingManager
{
  GObject             parent_instance;

  LtCatalog          *catalog;
  LtRuleStore        *rules;
  LtStreamRegistry   *registry;
  char               *local_root;

  GListStore         *recordings;    /* LtRecording, in the order entries appeared */
  GHashTable         *entries;       /* key → Entry */
  Sequences          *sequences;

  gulong              online_id;
  gulong              offline_id;

  LtSyncEngine       *sync;          /* may be NULL: only the local target */
  LtNotifyStore      *notify;        /* may be NULL: no callbacks, OnDemand 1 never records */
  LtCallbackQueue    *callbacks;
  SoupSession        *outbound;
  guint               pending_stops;
  LtRecoveryStats     recovery;

  guint               started : 1;
  guint               shut_down : 1;
};

G_DEFINE_FINAL_TYPE (LtRecordingManager, lt_recording_manager, G_TYPE_OBJECT)

static void entry_evaluate      (Entry      *entry);
static void entry_ask_on_demand (Entry      *entry,
                                 LtRule     *rule);
static void entry_stop_session  (Entry      *entry,
                                 const char *end_reason);

/* ---- entries ---- */

static void
entry_cancel_question (Entry *entry)
{
  if (entry->on_demand != NULL)
    g_cancellable_cancel (entry->on_demand);
  g_clear_object (&entry->on_demand);
  g_clear_handle_id (&entry->media_wait_id, g_source_remove);
  g_clear_object (&entry->asking_rule);
}

static void
entry_clear_timers (Entry *entry)
{
  g_clear_handle_id (&entry->highlight_id, g_source_remove);
  g_clear_handle_id (&entry->window_id, g_source_remove);
  entry_cancel_question (entry);
}

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  entry_clear_timers (entry);
  if (entry->recorder != NULL)
    g_signal_handlers_disconnect_by_data (entry->recorder, entry);
  g_clear_object (&entry->recorder);
  g_clear_pointer (&entry->row, _lt_session_row_unref);
  g_clear_pointer (&entry->push_args, g_hash_table_unref);
  g_clear_object (&entry->rule);
  g_clear_object (&entry->stream);
  g_clear_object (&entry->recording);
  g_free (entry->key);
  g_free (entry);
}

static Entry *
entry_get (LtRecordingManager *self,
           LtStream           *stream)
{
  const char *key = lt_stream_get_key (stream);
  Entry *entry = g_hash_table_lookup (self->entries, key);

  if (entry != NULL)
    return entry;

  entry = g_new0 (Entry, 1);
  entry->self = self;
  entry->key = g_strdup (key);
  entry->recording = _lt_recording_new (lt_stream_get_domain (stream), lt_stream_get_app (stream),
                                        lt_stream_get_name (stream), key);
  g_hash_table_insert (self->entries, entry->key, entry);
  g_list_store_append (self->recordings, entry->recording);
  return entry;
}

/* Drops the entry once nothing is left of it: no stream online, no session. */
static void
entry_maybe_remove (Entry *entry)
{
  LtRecordingManager *self = entry->self;
  guint position;

  if (entry->stream != NULL || entry->recorder != NULL)
    return;
  if (g_list_store_find (self->recordings, entry->recording, &position))
    g_list_store_remove (self->recordings, position);
  g_hash_table_remove (self->entries, entry->key);
}

static Entry *
entry_for_recorder (LtRecordingManager *self,
                    LtRecorder         *recorder)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Entry *) value)->recorder == recorder)
      return value;
  return NULL;
}

static void
entry_set_not_recording (Entry      *entry,
                         const char *reason)
{
  _lt_recording_set_state (entry->recording, LT_RECORDING_STATE_NOT_RECORDING);
  _lt_recording_set_reason (entry->recording, NULL, reason);
  _lt_recording_set_trigger (entry->recording, LT_RECORDING_TRIGGER_NONE);
}

static void
entry_fail (Entry        *entry,
            const char   *code,
            const char   *message)
{
  _lt_recording_set_state (entry->recording, LT_RECORDING_STATE_FAILED);
  _lt_recording_set_reason (entry->recording, code, message);
}

/* ---- decisions ---- */

typedef struct
{
  LtRule             *rule;      /* transfer none: the store's */
  LtRecordingTrigger  trigger;
  char               *reason;    /* why not, when not recording */
  gint64              opens_at;  /* Unix s: the window opens later (re-evaluate then) */
} Decision;

static gboolean
push_arg_says_record (LtStream *stream)
{
  const char *value = lt_stream_get_publish_arg (stream, "record");

  return value != NULL && (g_strcmp0 (value, "1") == 0 || g_ascii_strcasecmp (value, "true") == 0);
}

static char *
format_local_time (gint64 unix_time)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (unix_time);
  g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_local (utc) : NULL;

  return local != NULL ? g_date_time_format (local, "%x %X") : g_strdup ("?");
}

static gboolean
decide (LtRecordingManager *self,
        LtStream           *stream,
        Decision           *decision)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  LtRule *rule;

  memset (decision, 0, sizeof *decision);
  rule = lt_rule_store_match (self->rules, lt_stream_get_domain (stream),
                              lt_stream_get_app (stream), lt_stream_get_name (stream), NULL);
  if (rule == NULL)
    {
      decision->reason = g_strdup (_("No recording rule matches this stream."));
      return FALSE;
    }
  decision->rule = rule;
  if (lt_rule_is_exclusion (rule))
    {
      decision->reason = g_strdup_printf (_("The rule for %s/%s/%s has no formats: it excludes "
                                            "this stream from recording."),
                                          lt_rule_get_domain_name (rule),
                                          lt_rule_get_app_name (rule),
                                          lt_rule_get_stream_name (rule));
      return FALSE;
    }
  if (lt_rule_get_start_time (rule) > 0 && !lt_rule_is_active_at (rule, now))
    {
      g_autofree char *start = format_local_time (lt_rule_get_start_time (rule));
      g_autofree char *end = format_local_time (lt_rule_get_end_time (rule));

      if (now < lt_rule_get_start_time (rule))
        {
          decision->opens_at = lt_rule_get_start_time (rule);
          decision->reason = g_strdup_printf (_("The rule records from %s to %s; waiting for "
                                                "the window to open."), start, end);
        }
      else
        decision->reason = g_strdup_printf (_("The rule’s recording window (%s to %s) has "
                                              "closed."), start, end);
      return FALSE;
    }

  switch (lt_rule_get_on_demand (rule))
    {
    case LT_ON_DEMAND_AUTOMATIC:
      decision->trigger = lt_rule_get_start_time (rule) > 0 ? LT_RECORDING_TRIGGER_SCHEDULED
                                                            : LT_RECORDING_TRIGGER_AUTO;
      return TRUE;
    case LT_ON_DEMAND_PUSH_ARG:
      if (push_arg_says_record (stream))
        {
          decision->trigger = LT_RECORDING_TRIGGER_PUSH_ARG;
          return TRUE;
        }
      decision->reason = g_strdup (_("The rule records only streams published with "
                                     "“record=1” in the address (OnDemand 2)."));
      return FALSE;
    case LT_ON_DEMAND_URL:
      /* Decided by the on-demand address: asked once the stream's codec and bitrate are
       * known (entry_ask_on_demand). */
      decision->trigger = LT_RECORDING_TRIGGER_ON_DEMAND;
      return TRUE;
    case LT_ON_DEMAND_MANUAL:
    default:
      decision->reason = g_strdup (_("The rule records only when started by hand "
                                     "(OnDemand 7)."));
      return FALSE;
    }
}

/* ---- callbacks (SPEC 4) ---- */

static void
send_callback (Entry      *entry,
               const char *kind,
               JsonNode   *body)
{
  LtRecordingManager *self = entry->self;
  const char *domain = lt_recording_get_domain (entry->recording);
  const LtNotifyConfig *config;
  g_autofree char *text = NULL;

  if (self->notify == NULL || self->callbacks == NULL)
    return;
  config = lt_notify_store_lookup (self->notify, domain);
  if (config == NULL || config->notify_url == NULL)
    return;
  if (g_str_equal (kind, "status") && !config->need_status_notify)
    return;
  text = json_to_string (body, FALSE);
  lt_callback_queue_enqueue_async (self->callbacks, domain, entry->key, kind, config->notify_url,
                                   text, NULL, NULL, NULL);
}

static JsonBuilder *
callback_body_begin (Entry *entry)
{
  JsonBuilder *builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "domain");
  json_builder_add_string_value (builder, lt_recording_get_domain (entry->recording));
  json_builder_set_member_name (builder, "app");
  json_builder_add_string_value (builder, lt_recording_get_app (entry->recording));
  json_builder_set_member_name (builder, "stream");
  json_builder_add_string_value (builder, lt_recording_get_stream_name (entry->recording));
  return builder;
}

static void
callback_body_send (Entry       *entry,
                    const char  *kind,
                    JsonBuilder *builder)
{
  g_autoptr(JsonNode) node = NULL;

  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  send_callback (entry, kind, node);
  g_object_unref (builder);
}

/* record_started, record_paused, record_resumed, record_ended, record_error (@reason). */
static void
notify_status (Entry      *entry,
               const char *event,
               const char *reason)
{
  JsonBuilder *builder = callback_body_begin (entry);

  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, event);
  if (reason != NULL)
    {
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, reason);
    }
  callback_body_send (entry, "status", builder);
}

/* A finished recording file: uri is its object key, times in Unix seconds, the duration a
 * float in seconds, push_args the publish parameters named callback_*. */
static void
notify_file (Entry                 *entry,
             const LtRecordingFile *file)
{
  JsonBuilder *builder = callback_body_begin (entry);
  json_builder_set_member_name (builder, "uri");
  json_builder_add_string_value (builder, file->object_key);
  json_builder_set_member_name (builder, "duration");
  json_builder_add_double_value (builder, (double) file->duration / G_USEC_PER_SEC);
  json_builder_set_member_name (builder, "start_time");
  json_builder_add_int_value (builder, file->start_time / G_USEC_PER_SEC);
  json_builder_set_member_name (builder, "stop_time");
  json_builder_add_int_value (builder, MAX (file->end_time, file->start_time) / G_USEC_PER_SEC);
  json_builder_set_member_name (builder, "push_args");
  json_builder_begin_object (builder);
  if (entry->push_args != NULL)
    {
      g_autoptr(GList) names = g_hash_table_get_keys (entry->push_args);

      /* Sorted: the same publish gives the same body. */
      names = g_list_sort (names, (GCompareFunc) strcmp);
      for (GList *l = names; l != NULL; l = l->next)
        if (g_str_has_prefix (l->data, "callback_"))
          {
            json_builder_set_member_name (builder, l->data);
            json_builder_add_string_value (builder,
                                           g_hash_table_lookup (entry->push_args, l->data));
          }
    }
  json_builder_end_object (builder);
  callback_body_send (entry, "file", builder);
}

/* ---- the recorder's reports ---- */

static void
recorder_file_opened_cb (LtRecorder            *recorder,
                         const LtRecordingFile *file,
                         gpointer               user_data)
{
  Entry *entry = user_data;

  _lt_recording_catalog_file_opened (entry->self->catalog, entry->row, file);
  _lt_recording_set_current_file (entry->recording, lt_record_format_kind_to_string (file->format),
                                  file);
}

static void
recorder_slice_closed_cb (LtRecorder             *recorder,
                          const LtRecordingSlice *slice,
                          gpointer                user_data)
{
  Entry *entry = user_data;
  const char *format = lt_record_format_kind_to_string (slice->format);
  const LtRecordingFile *current;

  _lt_recording_catalog_slice_closed (entry->self->catalog, entry->row, slice);

  /* The console shows the playlist growing. */
  current = lt_recording_get_current_file (entry->recording, format);
  if (current != NULL && g_strcmp0 (current->path, slice->playlist_path) == 0)
    {
      g_autoptr(LtRecordingFile) grown = lt_recording_file_copy (current);

      grown->size += slice->size;
      grown->duration += slice->duration;
      grown->n_slices++;
      grown->width = slice->width;
      grown->height = slice->height;
      _lt_recording_set_current_file (entry->recording, format, grown);
    }
}

static void
recorder_file_closed_cb (LtRecorder            *recorder,
                         const LtRecordingFile *file,
                         gpointer               user_data)
{
  Entry *entry = user_data;
  const char *format = lt_record_format_kind_to_string (file->format);
  const LtRecordingFile *current;

  _lt_recording_catalog_file_closed (entry->self->catalog, entry->row, file);
  notify_file (entry, file);
  current = lt_recording_get_current_file (entry->recording, format);
  if (current != NULL && g_strcmp0 (current->path, file->open_path) == 0)
    _lt_recording_set_current_file (entry->recording, format, NULL);
}

static void
recorder_error_cb (LtRecorder   *recorder,
                   const GError *error,
                   int           format,
                   gpointer      user_data)
{
  Entry *entry = user_data;
  const char *code = error->domain == LT_RECORDER_ERROR
                     ? lt_recorder_error_reason (error->code) : "InternalError";
  g_autofree char *subject = g_strdup_printf ("%s/%s/%s",
                                              lt_recording_get_domain (entry->recording),
                                              lt_recording_get_app (entry->recording),
                                              lt_recording_get_stream_name (entry->recording));

  g_message ("Recording %s: %s (%s)", subject, error->message, code);
  _lt_recording_set_reason (entry->recording, code, error->message);
  lt_catalog_add_event_async (entry->self->catalog, "recording-error", subject,
                              error->message, NULL, NULL, NULL);
  notify_status (entry, "record_error", code);
  entry->error_notified = TRUE;
}

static void recorder_stopped_cb (GObject      *source,
                                 GAsyncResult *result,
                                 gpointer      user_data);

/* The session is over (the recorder is STOPPED or FAILED): its row is ended and the entry
 * goes back to "not recording", or away when the stream is offline. */
static void
entry_session_finished (Entry    *entry,
                        gboolean  failed)
{
  LtRecordingManager *self = entry->self;
  const GError *error = lt_recorder_get_error (entry->recorder);
  const char *reason = entry->end_reason;
  g_autoptr(LtRecorder) recorder = g_steal_pointer (&entry->recorder);

  if (failed && error != NULL)
    reason = error->domain == LT_RECORDER_ERROR ? lt_recorder_error_reason (error->code)
                                                : "InternalError";
  if (reason == NULL)
    reason = "merge_window_expired";
  _lt_recording_catalog_ended (self->catalog, entry->row, g_get_real_time (), failed, reason,
                               NULL, NULL);
  if (failed && !entry->error_notified)
    notify_status (entry, "record_error", reason);
  if (!failed)
    notify_status (entry, "record_ended", NULL);

  g_signal_handlers_disconnect_by_data (recorder, entry);
  /* Make sure every file is closed and reported before the recorder goes (a no-op when it
   * finished by itself). The manager waits for these at shutdown. */
  self->pending_stops++;
  lt_recorder_stop_async (recorder, NULL, recorder_stopped_cb, g_object_ref (self));

  entry_clear_timers (entry);
  g_clear_pointer (&entry->row, _lt_session_row_unref);
  g_clear_object (&entry->rule);
  entry->paused = FALSE;
  entry->pause_requested = FALSE;
  entry->pause_reason = NULL;
  entry->end_reason = NULL;
  entry->started_notified = FALSE;
  entry->error_notified = FALSE;
  g_clear_pointer (&entry->push_args, g_hash_table_unref);
  _lt_recording_set_session (entry->recording, 0, NULL, NULL);
  _lt_recording_set_pause_deadline (entry->recording, 0);
  _lt_recording_set_highlight_deadline (entry->recording, 0);

  if (failed)
    {
      entry_fail (entry, lt_recording_get_reason_code (entry->recording) != NULL
                         ? lt_recording_get_reason_code (entry->recording) : reason,
                  error != NULL ? error->message
                                : lt_recording_get_reason (entry->recording));
      _lt_recording_set_trigger (entry->recording, LT_RECORDING_TRIGGER_NONE);
    }
  else if (entry->operator_stopped || g_strcmp0 (reason, "cancel_delay") == 0)
    entry_set_not_recording (entry, _("Stopped by the operator."));
  else if (g_strcmp0 (reason, "highlight_end") == 0)
    entry_set_not_recording (entry, _("The highlight clip is finished."));
  else if (g_strcmp0 (reason, "schedule_end") == 0)
    entry_set_not_recording (entry, _("The rule’s recording window has closed."));
  else
    entry_set_not_recording (entry, _("The session ended."));
  entry->operator_stopped = FALSE;

  if (self->shut_down)
    return;
  if (entry->decide_when_finished && entry->stream != NULL)
    {
      entry->decide_when_finished = FALSE;
      entry_evaluate (entry);
      return;
    }
  entry->decide_when_finished = FALSE;
  entry_maybe_remove (entry);
}

static void
recorder_state_changed_cb (LtRecorder      *recorder,
                           LtRecorderState  state,
                           gpointer         user_data)
{
  Entry *entry = user_data;
  LtRecordingManager *self = entry->self;
  gint64 now = g_get_real_time ();

  entry->recorder_state = state;
  switch (state)
    {
    case LT_RECORDER_STATE_IDLE:
    case LT_RECORDER_STATE_STARTING:
      _lt_recording_set_state (entry->recording, LT_RECORDING_STATE_STARTING);
      break;

    case LT_RECORDER_STATE_RECORDING:
      entry->pause_requested = FALSE;
      if (!entry->started_notified)
        {
          notify_status (entry, "record_started", NULL);
          entry->started_notified = TRUE;
        }
      else if (entry->paused)
        notify_status (entry, "record_resumed", NULL);
      entry->error_notified = FALSE;
      if (entry->paused)
        {
          _lt_recording_catalog_resumed (self->catalog, entry->row, now);
          entry->paused = FALSE;
        }
      _lt_recording_set_pause_deadline (entry->recording, 0);
      _lt_recording_set_reason (entry->recording, NULL, NULL);
      _lt_recording_set_state (entry->recording, LT_RECORDING_STATE_RECORDING);
      break;

    case LT_RECORDER_STATE_PAUSED:
      {
        gint64 deadline = lt_recorder_get_pause_deadline (recorder);

        entry->pause_requested = FALSE;
        if (!entry->paused)
          {
            _lt_recording_catalog_paused (self->catalog, entry->row, now,
                                          entry->pause_reason != NULL ? entry->pause_reason
                                                                      : "offline");
            entry->paused = TRUE;
            if (entry->started_notified)
              notify_status (entry, "record_paused", NULL);
          }
        entry->pause_reason = NULL;
        _lt_recording_set_pause_deadline (entry->recording,
                                          deadline > 0 ? now + (deadline - g_get_monotonic_time ())
                                                       : 0);
        _lt_recording_set_state (entry->recording, LT_RECORDING_STATE_PAUSED);
      }
      break;

    case LT_RECORDER_STATE_SUSPENDED:
      if (!entry->paused)
        {
          _lt_recording_catalog_paused (self->catalog, entry->row, now, "disk_full");
          entry->paused = TRUE;
        }
      _lt_recording_set_state (entry->recording, LT_RECORDING_STATE_SUSPENDED);
      break;

    case LT_RECORDER_STATE_STOPPING:
      _lt_recording_set_state (entry->recording, LT_RECORDING_STATE_STOPPING);
      break;

    case LT_RECORDER_STATE_STOPPED:
    case LT_RECORDER_STATE_FAILED:
      entry_session_finished (entry, state == LT_RECORDER_STATE_FAILED);
      break;

    default:
      break;
    }
}

static void
recorder_stopped_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(LtRecordingManager) self = user_data;
  g_autoptr(GError) error = NULL;
  Entry *entry;

  if (!lt_recorder_stop_finish (LT_RECORDER (source), result, &error))
    g_message ("A recording did not stop cleanly: %s", error->message);
  self->pending_stops--;

  /* Stopped on request (not through its own state change): finish the session now. */
  entry = entry_for_recorder (self, LT_RECORDER (source));
  if (entry != NULL)
    entry_session_finished (entry, lt_recorder_get_state (LT_RECORDER (source)) ==
                                   LT_RECORDER_STATE_FAILED);
}

/* ---- sessions ---- */

static void
session_begun_cb (gpointer user_data)
{
  g_autoptr(LtRecording) recording = user_data;
  LtRecorder *recorder = _lt_recording_get_recorder (recording);
  LtSessionRow *row;

  /* The row id is read on the main thread only after the job that wrote it completed. */
  if (recorder == NULL)
    return;
  row = g_object_get_data (G_OBJECT (recorder), "lt-session-row");
  if (row != NULL)
    _lt_recording_set_session (recording, _lt_session_row_get_id (row),
                               lt_recording_get_formats (recording), recorder);
}

static gboolean
highlight_done_cb (gpointer user_data)
{
  Entry *entry = user_data;

  entry->highlight_id = 0;
  entry_stop_session (entry, "highlight_end");
  return G_SOURCE_REMOVE;
}

static gboolean
window_cb (gpointer user_data)
{
  Entry *entry = user_data;

  entry->window_id = 0;
  if (entry->recorder != NULL)
    entry_stop_session (entry, "schedule_end");
  else if (entry->stream != NULL)
    entry_evaluate (entry);
  return G_SOURCE_REMOVE;
}

/* A timer at a wall-clock time (Unix s); GLib timers are monotonic, good enough over the
 * at most 15 days a window lies ahead. */
static guint
timeout_at (gint64       unix_time,
            GSourceFunc  func,
            gpointer     data)
{
  gint64 delay_s = unix_time - g_get_real_time () / G_USEC_PER_SEC;

  return g_timeout_add_seconds ((guint) CLAMP (delay_s, 0, G_MAXUINT / 2), func, data);
}

static gboolean
entry_attach (Entry   *entry,
              GError **error)
{
  const char *uri = lt_stream_get_loopback_uri (entry->stream);

  if (uri == NULL)
    {
      g_set_error (error, LT_RECORDING_ERROR, LT_RECORDING_ERROR_FAILED,
                   _("The stream has no address to record from."));
      return FALSE;
    }
  return lt_recorder_attach_uri (entry->recorder, uri, error);
}

static gboolean
entry_start_session (Entry               *entry,
                     LtRule              *rule,
                     LtRecordingTrigger   trigger,
                     GPtrArray           *formats,
                     GError             **error)
{
  LtRecordingManager *self = entry->self;
  g_autoptr(LtRecorder) recorder = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  SequenceFuncData *sfd;
  LtRecorderParams params = { 0, };
  const char *endpoint = lt_rule_get_oss_endpoint (rule);
  const char *bucket = lt_rule_get_oss_bucket (rule);
  g_autofree char *target_name = NULL;
  g_autofree char *storage_root = NULL;

  /* Where the files go (SPEC 7): the local target's folder, or for an S3 target the sync
   * engine's spool (SPOOL/<target>/<bucket>/<key>), uploaded from there. */
  if (!lt_storage_is_local_endpoint (endpoint) && self->sync != NULL)
    target_name = lt_sync_engine_resolve_target (self->sync, endpoint);
  if (target_name != NULL)
    {
      storage_root = lt_sync_engine_spool_root (self->sync, target_name, error);
      if (storage_root == NULL)
        return FALSE;
    }
  else if (!lt_storage_is_local_endpoint (endpoint))
    {
      g_set_error (error, LT_RECORDING_ERROR, LT_RECORDING_ERROR_FAILED,
                   _("The rule stores to “%s”, which is not a storage target of this "
                     "Livetape."), endpoint);
      return FALSE;
    }
  else
    storage_root = g_strdup (self->local_root);
  if (!lt_storage_prepare_bucket (storage_root, LT_STORAGE_LOCAL_TARGET, bucket, error))
    return FALSE;

  if (formats == NULL)
    formats = lt_rule_get_formats (rule);
  params.domain_name = lt_stream_get_domain (entry->stream);
  params.app_name = lt_stream_get_app (entry->stream);
  params.stream_name = lt_stream_get_name (entry->stream);
  params.storage_root = storage_root;
  params.bucket = bucket;
  params.delay_time = lt_rule_get_delay_time (rule);
  recorder = lt_recorder_new (&params, formats, error);
  if (recorder == NULL)
    return FALSE;

  sfd = g_new0 (SequenceFuncData, 1);
  sfd->sequences = sequences_ref (self->sequences);
  for (guint i = 0; i < LT_RECORD_FORMAT_KIND_COUNT; i++)
    sfd->keys[i] = _lt_recording_sequence_key (lt_rule_get_domain_name (rule),
                                               lt_rule_get_app_name (rule),
                                               lt_rule_get_stream_name (rule),
                                               lt_record_format_kind_to_string (i));
  lt_recorder_set_sequence_func (recorder, allocate_sequence, sfd, sequence_func_data_free);

  entry->recorder = g_object_ref (recorder);
  entry->rule = g_object_ref (rule);
  g_clear_pointer (&entry->push_args, g_hash_table_unref);
  if (lt_stream_get_publish_args (entry->stream) != NULL)
    entry->push_args = g_hash_table_ref (lt_stream_get_publish_args (entry->stream));
  entry->recorder_state = LT_RECORDER_STATE_IDLE;
  entry->row = _lt_session_row_new (lt_stream_get_domain (entry->stream),
                                    lt_stream_get_app (entry->stream),
                                    lt_stream_get_name (entry->stream),
                                    rule,
                                    target_name != NULL ? target_name : LT_STORAGE_LOCAL_TARGET,
                                    bucket);
  g_object_set_data_full (G_OBJECT (recorder), "lt-session-row",
                          _lt_session_row_ref (entry->row),
                          (GDestroyNotify) _lt_session_row_unref);
  g_signal_connect (recorder, "file-opened", G_CALLBACK (recorder_file_opened_cb), entry);
  g_signal_connect (recorder, "slice-closed", G_CALLBACK (recorder_slice_closed_cb), entry);
  g_signal_connect (recorder, "file-closed", G_CALLBACK (recorder_file_closed_cb), entry);
  g_signal_connect (recorder, "error", G_CALLBACK (recorder_error_cb), entry);
  g_signal_connect (recorder, "state-changed", G_CALLBACK (recorder_state_changed_cb), entry);

  for (guint i = 0; i < formats->len; i++)
    {
      const LtRecordFormat *format = g_ptr_array_index (formats, i);

      g_ptr_array_add (names, (gpointer) lt_record_format_kind_to_string (format->kind));
    }
  g_ptr_array_add (names, NULL);
  _lt_recording_set_session (entry->recording, 0, (const char * const *) names->pdata,
                             recorder);
  _lt_recording_set_trigger (entry->recording, trigger);
  _lt_recording_set_reason (entry->recording, NULL, NULL);
  _lt_recording_set_state (entry->recording, LT_RECORDING_STATE_STARTING);

  _lt_recording_catalog_begin (self->catalog, entry->row, lt_recording_trigger_to_string (trigger),
                               lt_stream_get_publish_args (entry->stream), g_get_real_time (),
                               session_begun_cb, g_object_ref (entry->recording));

  if (trigger == LT_RECORDING_TRIGGER_SCHEDULED && lt_rule_get_end_time (rule) > 0)
    {
      g_clear_handle_id (&entry->window_id, g_source_remove);
      entry->window_id = timeout_at (lt_rule_get_end_time (rule), window_cb, entry);
    }

  if (!entry_attach (entry, error))
    {
      entry->end_reason = "error";
      entry_session_finished (entry, TRUE);
      return FALSE;
    }
  return TRUE;
}

/* Ends the session now: no merge window. */
static void
entry_stop_session (Entry      *entry,
                    const char *end_reason)
{
  if (entry->recorder == NULL)
    return;
  entry->end_reason = end_reason;
  g_clear_handle_id (&entry->highlight_id, g_source_remove);
  _lt_recording_set_state (entry->recording, LT_RECORDING_STATE_STOPPING);
  entry->self->pending_stops++;
  lt_recorder_stop_async (entry->recorder, NULL, recorder_stopped_cb,
                          g_object_ref (entry->self));
}

/* ---- OnDemand 1 ---- */

/* How long to wait for a stream's codec and first bitrate figure before asking anyway. */
#define MEDIA_WAIT_INTERVAL_MS 250
#define MEDIA_WAIT_MAX         40

typedef struct
{
  LtRecordingManager *self;
  GCancellable       *cancellable;
} Question;

static void
on_demand_answered_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  Question *question = user_data;
  g_autoptr(LtRecordingManager) self = question->self;
  g_autoptr(GCancellable) cancellable = question->cancellable;
  g_autoptr(LtOnDemandDecision) decision = lt_on_demand_query_finish (result);
  g_autoptr(GError) error = NULL;
  g_autoptr(LtRule) rule = NULL;
  Entry *entry = NULL;
  GHashTableIter iter;
  gpointer value;

  g_free (question);
  /* The entry's question, unless it was cancelled (offline, shutdown, another answer). */
  if (g_cancellable_is_cancelled (cancellable) || self->shut_down)
    return;
  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Entry *) value)->on_demand == cancellable)
      entry = value;
  if (entry == NULL || entry->stream == NULL || entry->recorder != NULL)
    return;

  rule = g_steal_pointer (&entry->asking_rule);
  g_clear_object (&entry->on_demand);
  if (!decision->need_record)
    {
      g_message ("Not recording %s: %s", entry->key, decision->reason);
      _lt_recording_set_state (entry->recording, LT_RECORDING_STATE_NOT_RECORDING);
      _lt_recording_set_reason (entry->recording, decision->reason_code, decision->reason);
      return;
    }
  if (!entry_start_session (entry, rule, LT_RECORDING_TRIGGER_ON_DEMAND, decision->formats,
                            &error))
    entry_fail (entry, "InternalError", error->message);
}

static void
entry_send_question (Entry *entry)
{
  LtRecordingManager *self = entry->self;
  const LtNotifyConfig *config = self->notify != NULL
    ? lt_notify_store_lookup (self->notify, lt_stream_get_domain (entry->stream)) : NULL;
  const char *codec = lt_stream_get_video_codec (entry->stream);
  Question *question = g_new0 (Question, 1);

  entry->on_demand = g_cancellable_new ();
  question->self = g_object_ref (self);
  question->cancellable = g_object_ref (entry->on_demand);
  lt_on_demand_query_async (self->outbound, config != NULL ? config->on_demand_url : NULL,
                            lt_stream_get_domain (entry->stream),
                            lt_stream_get_app (entry->stream),
                            lt_stream_get_name (entry->stream),
                            lt_stream_get_bitrate (entry->stream),
                            codec != NULL ? codec : "",
                            lt_rule_get_formats (entry->asking_rule),
                            entry->on_demand, on_demand_answered_cb, question);
}

static gboolean
media_wait_cb (gpointer user_data)
{
  Entry *entry = user_data;

  if (entry->stream == NULL)
    {
      entry->media_wait_id = 0;
      return G_SOURCE_REMOVE;
    }
  if ((!lt_stream_get_has_media_info (entry->stream) || lt_stream_get_bitrate (entry->stream) == 0) &&
      ++entry->media_waits < MEDIA_WAIT_MAX)
    return G_SOURCE_CONTINUE;
  entry->media_wait_id = 0;
  entry_send_question (entry);
  return G_SOURCE_REMOVE;
}

/* The request carries the stream's real codec and bitrate: it waits (at most 10 s) until
 * the ingest knows them. */
static void
entry_ask_on_demand (Entry  *entry,
                     LtRule *rule)
{
  entry_cancel_question (entry);
  entry->asking_rule = g_object_ref (rule);
  entry->media_waits = 0;
  _lt_recording_set_state (entry->recording, LT_RECORDING_STATE_NOT_RECORDING);
  _lt_recording_set_reason (entry->recording, NULL,
                            _("Asking the on-demand address whether to record…"));
  _lt_recording_set_trigger (entry->recording, LT_RECORDING_TRIGGER_NONE);
  if (lt_stream_get_has_media_info (entry->stream) && lt_stream_get_bitrate (entry->stream) > 0)
    entry_send_question (entry);
  else
    entry->media_wait_id = g_timeout_add (MEDIA_WAIT_INTERVAL_MS, media_wait_cb, entry);
}

static void
entry_evaluate (Entry *entry)
{
  Decision decision;
  g_autoptr(GError) error = NULL;

  g_clear_handle_id (&entry->window_id, g_source_remove);
  if (!decide (entry->self, entry->stream, &decision))
    {
      entry_set_not_recording (entry, decision.reason);
      if (decision.opens_at > 0)
        entry->window_id = timeout_at (decision.opens_at, window_cb, entry);
      g_free (decision.reason);
      return;
    }
  if (decision.trigger == LT_RECORDING_TRIGGER_ON_DEMAND)
    {
      entry_ask_on_demand (entry, decision.rule);
      return;
    }
  if (!entry_start_session (entry, decision.rule, decision.trigger, NULL, &error))
    entry_fail (entry, "InternalError", error->message);
}

/* ---- the registry ---- */

static void
stream_online_cb (LtStreamRegistry   *registry,
                  LtStream           *stream,
                  LtRecordingManager *self)
{
  Entry *entry = entry_get (self, stream);

  g_set_object (&entry->stream, stream);
  if (entry->recorder == NULL)
    {
      entry_evaluate (entry);
      return;
    }

  /* Back within the merge window — or so soon that the recorder has not reported the
   * pause yet: the same session goes on (a session the operator stopped goes on only when
   * the rules would record the stream anyway). */
  if (entry->recorder_state == LT_RECORDER_STATE_PAUSED || entry->pause_requested)
    {
      Decision decision;
      gboolean record = !entry->operator_stopped || decide (self, stream, &decision);
      g_autoptr(GError) error = NULL;

      if (entry->operator_stopped)
        g_free (decision.reason);
      if (!record)
        return;
      entry->operator_stopped = FALSE;
      if (!entry_attach (entry, &error))
        g_message ("Cannot resume recording %s: %s", entry->key, error->message);
      return;
    }

  /* The session is closing its files (cancel_delay, a highlight's or a window's end): the
   * new publish is decided on once it has. */
  entry->decide_when_finished = TRUE;
}

static void
stream_offline_cb (LtStreamRegistry   *registry,
                   LtStream           *stream,
                   LtRecordingManager *self)
{
  Entry *entry = g_hash_table_lookup (self->entries, lt_stream_get_key (stream));

  if (entry == NULL || entry->stream != stream)
    return;
  entry_cancel_question (entry);
  g_clear_object (&entry->stream);
  g_clear_handle_id (&entry->highlight_id, g_source_remove);
  _lt_recording_set_highlight_deadline (entry->recording, 0);
  if (entry->recorder != NULL)
    {
      /* The recorder notices a closed connection itself; say so at once all the same. */
      entry->pause_reason = "offline";
      entry->pause_requested = TRUE;
      lt_recorder_pause (entry->recorder);
      return;
    }
  g_clear_handle_id (&entry->window_id, g_source_remove);
  entry_maybe_remove (entry);
}

/* ---- commands ---- */

gboolean
lt_recording_manager_command (LtRecordingManager *self,
                              const char         *domain,
                              const char         *app,
                              const char         *stream_name,
                              LtRecordCommand     command,
                              guint               duration_s,
                              GError            **error)
{
  LtStream *stream;
  Entry *entry = NULL;
  LtRule *rule;

  g_return_val_if_fail (LT_IS_RECORDING_MANAGER (self), FALSE);
  g_return_val_if_fail (domain != NULL && app != NULL && stream_name != NULL, FALSE);

  if (duration_s > LT_RECORDING_MAX_HIGHLIGHT_DURATION ||
      (duration_s > 0 && command != LT_RECORD_COMMAND_START))
    {
      g_set_error (error, LT_RECORDING_ERROR, LT_RECORDING_ERROR_INVALID_PARAMETER,
                   _("Duration must be 1 to %u seconds, and only with the start command."),
                   LT_RECORDING_MAX_HIGHLIGHT_DURATION);
      return FALSE;
    }
  if (!self->started || self->shut_down)
    {
      g_set_error (error, LT_RECORDING_ERROR, LT_RECORDING_ERROR_FAILED,
                   _("Recording is not running."));
      return FALSE;
    }

  stream = lt_stream_registry_lookup (self->registry, domain, app, stream_name);
  if (stream != NULL)
    entry = g_hash_table_lookup (self->entries, lt_stream_get_key (stream));
  else
    {
      g_autofree char *key = lt_stream_make_key (domain, app, stream_name);

      entry = g_hash_table_lookup (self->entries, key);
    }

  if (command == LT_RECORD_COMMAND_START)
    {
      if (stream == NULL)
        {
          g_set_error (error, LT_RECORDING_ERROR, LT_RECORDING_ERROR_STREAM_NOT_FOUND,
                       _("The stream %s/%s/%s is not online."), domain, app, stream_name);
          return FALSE;
        }
      entry = entry_get (self, stream);
      g_set_object (&entry->stream, stream);
      if (entry->recorder != NULL)
        {
          if (entry->recorder_state != LT_RECORDER_STATE_PAUSED || !entry->operator_stopped)
            {
              g_set_error (error, LT_RECORDING_ERROR, LT_RECORDING_ERROR_TASK_ALREADY_STARTED,
                           _("The stream %s/%s/%s is being recorded already."),
                           domain, app, stream_name);
              return FALSE;
            }
          /* Stopped by the operator, still in the merge window: resume the session. */
          entry->operator_stopped = FALSE;
          if (!entry_attach (entry, error))
            return FALSE;
        }
      else
        {
          rule = lt_rule_store_match (self->rules, domain, app, stream_name, NULL);
          if (rule == NULL || lt_rule_is_exclusion (rule))
            {
              g_set_error (error, LT_RECORDING_ERROR, LT_RECORDING_ERROR_CONFIG_NOT_FOUND,
                           _("No recording rule with formats matches %s/%s/%s."),
                           domain, app, stream_name);
              return FALSE;
            }
          g_clear_handle_id (&entry->window_id, g_source_remove);
          if (!entry_start_session (entry, rule, LT_RECORDING_TRIGGER_MANUAL, NULL, error))
            {
              entry_fail (entry, "InternalError", (*error)->message);
              return FALSE;
            }
        }
      if (duration_s > 0)
        {
          g_clear_handle_id (&entry->highlight_id, g_source_remove);
          entry->highlight_id = g_timeout_add_seconds (duration_s, highlight_done_cb, entry);
          _lt_recording_set_highlight_deadline (entry->recording,
                                                g_get_real_time () + duration_s * G_USEC_PER_SEC);
        }
      return TRUE;
    }

  if (entry == NULL || entry->recorder == NULL ||
      entry->recorder_state == LT_RECORDER_STATE_STOPPING)
    {
      g_set_error (error, LT_RECORDING_ERROR, LT_RECORDING_ERROR_TASK_NOT_FOUND,
                   _("The stream %s/%s/%s is not being recorded."), domain, app, stream_name);
      return FALSE;
    }

  switch (command)
    {
    case LT_RECORD_COMMAND_STOP:
      g_clear_handle_id (&entry->highlight_id, g_source_remove);
      _lt_recording_set_highlight_deadline (entry->recording, 0);
      entry->operator_stopped = TRUE;
      if (entry->recorder_state == LT_RECORDER_STATE_PAUSED)
        return TRUE;
      if (entry->recorder_state == LT_RECORDER_STATE_SUSPENDED)
        {
          /* Nothing is being written (disk full): there is nothing to pause. */
          entry_stop_session (entry, "manual_stop");
          return TRUE;
        }
      entry->pause_reason = "manual_stop";
      entry->pause_requested = TRUE;
      lt_recorder_pause (entry->recorder);
      return TRUE;

    case LT_RECORD_COMMAND_CANCEL_DELAY:
      /* Right after an unpublish or a stop the recorder may not have reported the pause
       * yet: that counts as paused. */
      if (entry->recorder_state != LT_RECORDER_STATE_PAUSED && !entry->pause_requested)
        {
          g_set_error (error, LT_RECORDING_ERROR, LT_RECORDING_ERROR_INVALID_TASK_STATUS,
                       _("The recording of %s/%s/%s is not paused: cancel_delay closes the "
                         "files of a paused session."), domain, app, stream_name);
          return FALSE;
        }
      entry_stop_session (entry, "cancel_delay");
      return TRUE;

    case LT_RECORD_COMMAND_RESTART:
      if (entry->recorder_state != LT_RECORDER_STATE_RECORDING &&
          entry->recorder_state != LT_RECORDER_STATE_STARTING)
        {
          g_set_error (error, LT_RECORDING_ERROR, LT_RECORDING_ERROR_INVALID_TASK_STATUS,
                       _("The recording of %s/%s/%s is not running: only a running "
                         "recording can restart."), domain, app, stream_name);
          return FALSE;
        }
      lt_recorder_restart (entry->recorder);
      return TRUE;

    case LT_RECORD_COMMAND_START:
    default:
      g_assert_not_reached ();
    }
}

/* ---- life cycle ---- */

typedef struct
{
  LtRecoveryStats *stats;
  GHashTable      *sequences;
} StartResult;

static void
start_result_free (gpointer data)
{
  StartResult *sr = data;

  g_free (sr->stats);
  g_clear_pointer (&sr->sequences, g_hash_table_unref);
  g_free (sr);
}

static gpointer
start_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  StartResult *sr = g_new0 (StartResult, 1);

  sr->stats = _lt_recording_catalog_recover_job (db, NULL, error);
  if (sr->stats == NULL ||
      (sr->sequences = _lt_recording_catalog_load_sequences (db, error)) == NULL)
    {
      start_result_free (sr);
      return NULL;
    }
  return sr;
}

static void
start_job_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtRecordingManager *self = g_task_get_source_object (task);
  StartResult *sr;
  GError *error = NULL;
  GHashTableIter iter;
  gpointer key, value;

  sr = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  if (sr == NULL)
    {
      g_prefix_error (&error, _("Cannot recover the recordings of the last run: "));
      g_task_return_error (task, error);
      return;
    }
  if (self->shut_down)
    {
      start_result_free (sr);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("Recording was shut down while starting."));
      return;
    }

  self->recovery = *sr->stats;
  if (sr->stats->files > 0 || sr->stats->slices > 0 || sr->stats->lost_files > 0 ||
      sr->stats->torn_slices > 0 || sr->stats->empty_files > 0)
    g_message ("Recovered recordings of the last run: %u files finished, %u slices catalogued, "
               "%u interrupted slices kept, %u empty files removed, %u files missing",
               sr->stats->files, sr->stats->slices, sr->stats->torn_slices,
               sr->stats->empty_files, sr->stats->lost_files);

  g_mutex_lock (&self->sequences->lock);
  g_hash_table_iter_init (&iter, sr->sequences);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_hash_table_iter_steal (&iter);
      g_hash_table_replace (self->sequences->next, key, value);
    }
  g_mutex_unlock (&self->sequences->lock);
  start_result_free (sr);

  self->started = TRUE;
  self->online_id = g_signal_connect (self->registry, "stream-online",
                                      G_CALLBACK (stream_online_cb), self);
  self->offline_id = g_signal_connect (self->registry, "stream-offline",
                                       G_CALLBACK (stream_offline_cb), self);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->registry)); i++)
    {
      g_autoptr(LtStream) stream = g_list_model_get_item (G_LIST_MODEL (self->registry), i);

      stream_online_cb (self->registry, stream, self);
    }
  g_task_return_boolean (task, TRUE);
}

void
lt_recording_manager_start_async (LtRecordingManager  *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LT_IS_RECORDING_MANAGER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_recording_manager_start_async);
  if (self->started || self->shut_down)
    {
      g_task_return_new_error (task, LT_RECORDING_ERROR, LT_RECORDING_ERROR_FAILED,
                               _("Recording was started already."));
      return;
    }
  lt_catalog_run_async (self->catalog, start_job, NULL, NULL, start_result_free, cancellable,
                        start_job_cb, g_object_ref (task));
}

gboolean
lt_recording_manager_start_finish (LtRecordingManager  *self,
                                   GAsyncResult        *result,
                                   GError             **error)
{
  g_return_val_if_fail (LT_IS_RECORDING_MANAGER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
shutdown_timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

void
lt_recording_manager_shutdown (LtRecordingManager *self,
                               guint               timeout_ms)
{
  g_autoptr(GPtrArray) entries = NULL;
  GMainContext *context = g_main_context_ref_thread_default ();
  gboolean timed_out = FALSE;
  guint timeout_id;

  g_return_if_fail (LT_IS_RECORDING_MANAGER (self));

  if (self->shut_down)
    {
      g_main_context_unref (context);
      return;
    }
  self->shut_down = TRUE;
  g_clear_signal_handler (&self->online_id, self->registry);
  g_clear_signal_handler (&self->offline_id, self->registry);

  entries = g_ptr_array_new ();
  {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, self->entries);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      g_ptr_array_add (entries, value);
  }
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (entries, i);

      entry_clear_timers (entry);
      entry_stop_session (entry, "shutdown");
    }

  timeout_id = g_timeout_add (timeout_ms, shutdown_timeout_cb, &timed_out);
  while (self->pending_stops > 0 && !timed_out)
    g_main_context_iteration (context, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  else
    g_message ("%u recordings did not finish closing their files in time", self->pending_stops);
  g_main_context_unref (context);
}

void
lt_recording_manager_set_notify (LtRecordingManager *self,
                                 LtNotifyStore      *notify,
                                 LtCallbackQueue    *callbacks)
{
  g_return_if_fail (LT_IS_RECORDING_MANAGER (self));
  g_return_if_fail (notify == NULL || LT_IS_NOTIFY_STORE (notify));
  g_return_if_fail (callbacks == NULL || LT_IS_CALLBACK_QUEUE (callbacks));

  g_set_object (&self->notify, notify);
  g_set_object (&self->callbacks, callbacks);
}

GListModel *
lt_recording_manager_get_recordings (LtRecordingManager *self)
{
  g_return_val_if_fail (LT_IS_RECORDING_MANAGER (self), NULL);

  return G_LIST_MODEL (self->recordings);
}

LtRecording *
lt_recording_manager_lookup (LtRecordingManager *self,
                             const char         *key)
{
  Entry *entry;

  g_return_val_if_fail (LT_IS_RECORDING_MANAGER (self), NULL);

  entry = key != NULL ? g_hash_table_lookup (self->entries, key) : NULL;
  return entry != NULL ? entry->recording : NULL;
}

void
lt_recording_manager_get_recovery_stats (LtRecordingManager *self,
                                         guint              *files,
                                         guint              *slices)
{
  g_return_if_fail (LT_IS_RECORDING_MANAGER (self));

  if (files != NULL)
    *files = self->recovery.files;
  if (slices != NULL)
    *slices = self->recovery.slices + self->recovery.torn_slices;
}

static void
lt_recording_manager_dispose (GObject *object)
{
  LtRecordingManager *self = LT_RECORDING_MANAGER (object);

  if (self->registry != NULL)
    {
      g_clear_signal_handler (&self->online_id, self->registry);
      g_clear_signal_handler (&self->offline_id, self->registry);
    }
  g_clear_pointer (&self->entries, g_hash_table_unref);
  g_clear_object (&self->recordings);
  g_clear_object (&self->notify);
  g_clear_object (&self->callbacks);
  g_clear_object (&self->sync);
  g_clear_object (&self->outbound);
  g_clear_object (&self->registry);
  g_clear_object (&self->rules);
  g_clear_object (&self->catalog);

  G_OBJECT_CLASS (lt_recording_manager_parent_class)->dispose (object);
}

static void
lt_recording_manager_finalize (GObject *object)
{
  LtRecordingManager *self = LT_RECORDING_MANAGER (object);

  g_free (self->local_root);
  sequences_unref (self->sequences);

  G_OBJECT_CLASS (lt_recording_manager_parent_class)->finalize (object);
}

static void
lt_recording_manager_class_init (LtRecordingManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lt_recording_manager_dispose;
  object_class->finalize = lt_recording_manager_finalize;
}

static void
lt_recording_manager_init (LtRecordingManager *self)
{
  self->recordings = g_list_store_new (LT_TYPE_RECORDING);
  self->outbound = lt_outbound_session_new (LT_ON_DEMAND_TIMEOUT_MS / 1000);
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  self->sequences = g_new0 (Sequences, 1);
  g_atomic_ref_count_init (&self->sequences->ref_count);
  g_mutex_init (&self->sequences->lock);
  self->sequences->next = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

void
_lt_recording_manager_set_sync_engine (LtRecordingManager *self,
                                       LtSyncEngine       *sync)
{
  g_return_if_fail (LT_IS_RECORDING_MANAGER (self));
  g_return_if_fail (sync == NULL || LT_IS_SYNC_ENGINE (sync));

  g_set_object (&self->sync, sync);
}

LtRecordingManager *
lt_recording_manager_new (LtCatalog        *catalog,
                          LtRuleStore      *rules,
                          LtStreamRegistry *registry,
                          const char       *local_storage_root)
{
  LtRecordingManager *self;

  g_return_val_if_fail (LT_IS_CATALOG (catalog), NULL);
  g_return_val_if_fail (LT_IS_RULE_STORE (rules), NULL);
  g_return_val_if_fail (LT_IS_STREAM_REGISTRY (registry), NULL);
  g_return_val_if_fail (local_storage_root != NULL, NULL);

  self = g_object_new (LT_TYPE_RECORDING_MANAGER, NULL);
  self->catalog = g_object_ref (catalog);
  self->rules = g_object_ref (rules);
  self->registry = g_object_ref (registry);
  self->local_root = g_strdup (local_storage_root);
  return self;
}
