/* lt-stream-details.c: the details pane of the selected stream (see lt-stream-details.h).
 *
 * Like the list rows it stands for an identity (an LtStreamWatch follows it), so the
 * pane follows a stream through the merge window and back. The commands go to
 * lt_recording_manager_command(); their errors (the API's messages) appear as toasts.
 * While on screen and recording or paused, the pane updates once a second (recorded
 * duration, file sizes, the merge-window countdown); the preview runs only while its
 * picture is mapped and the stream is online. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-stream-details.h"
#include "lt-stream-text.h"
#include "lt-stream-watch.h"

struct _LtStreamDetails
{
  AdwBin           parent_instance;

  LtEngine        *engine;
  LtStreamWatch   *watch;          /* from set_engine() on */
  LtStream        *stream;         /* the watch's, as of the last update */
  LtRecording     *recording;      /* the watch's, as of the last update */
  LtStreamPreview *preview;
  GHashTable      *format_rows;    /* format name → AdwActionRow (owned by the group) */
  guint            preview_id;     /* the picture's tick callback while the preview runs */
  guint            preview_idle_id;
  gboolean         picture_mapped;
  char            *last_error;     /* the last command's error, for tests */

  GtkStack        *stack;
  GtkWidget       *back_button;
  GtkLabel        *title_label;
  GtkLabel        *domain_label;
  GtkPicture      *picture;
  GtkWidget       *preview_status;
  GtkSpinner      *preview_spinner;
  GtkLabel        *preview_label;
  AdwActionRow    *state_row;
  GtkImage        *state_icon;
  GtkWidget       *start_button;
  GtkWidget       *stop_button;
  GtkWidget       *restart_button;
  GtkWidget       *cancel_delay_button;
  AdwPreferencesGroup *formats_group;
  AdwActionRow    *source_row;
  AdwActionRow    *media_row;
  AdwActionRow    *bitrate_row;
  AdwActionRow    *since_row;
};

G_DEFINE_FINAL_TYPE (LtStreamDetails, lt_stream_details, ADW_TYPE_BIN)

static void
set_subtitle (AdwActionRow *row,
              const char   *text)
{
  g_autofree char *escaped = g_markup_escape_text (text != NULL ? text : "", -1);

  adw_action_row_set_subtitle (row, escaped);
}

/* ---- preview ---- */

/* Frames are taken in the frame clock's update phase, so the picture never changes
 * between a frame's layout and its paint. */
static gboolean
preview_tick_cb (GtkWidget     *widget,
                 GdkFrameClock *clock,
                 gpointer       user_data)
{
  LtStreamDetails *self = user_data;

  lt_stream_preview_pull_frame (self->preview);
  return G_SOURCE_CONTINUE;
}

/* What the overlay says about the preview. */
static void
update_preview_status (LtStreamDetails *self)
{
  const char *uri = lt_stream_preview_get_uri (self->preview);
  const char *text = NULL;
  gboolean busy = FALSE;

  if (self->stream == NULL)
    {
      text = _("The stream is offline.");
    }
  else
    {
      switch (lt_stream_preview_get_state (self->preview))
        {
        case LT_STREAM_PREVIEW_PLAYING:
          break;
        case LT_STREAM_PREVIEW_NO_VIDEO:
          text = _("This stream has no picture.");
          break;
        case LT_STREAM_PREVIEW_FAILED:
          text = lt_stream_preview_get_message (self->preview);
          break;
        case LT_STREAM_PREVIEW_CONNECTING:
        case LT_STREAM_PREVIEW_STOPPED:
        default:
          busy = uri != NULL;
          text = uri != NULL ? NULL : _("Waiting for the stream…");
          break;
        }
    }

  gtk_label_set_label (self->preview_label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->preview_label), text != NULL);
  gtk_spinner_set_spinning (self->preview_spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->preview_spinner), busy);
  gtk_widget_set_visible (self->preview_status, text != NULL || busy);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->picture),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  text != NULL ? text : _("Live preview"), -1);
}

static gboolean
preview_status_idle_cb (gpointer data)
{
  LtStreamDetails *self = data;

  self->preview_idle_id = 0;
  update_preview_status (self);
  return G_SOURCE_REMOVE;
}

/* The preview changes state also while the pane is mapped or unmapped, in the middle of
 * a layout: the overlay follows from an idle (removed in dispose). */
static void
preview_changed_cb (LtStreamDetails *self)
{
  if (self->preview_idle_id == 0)
    self->preview_idle_id = g_idle_add (preview_status_idle_cb, self);
}

/* Runs the preview while its picture is on screen and the stream online. Changes no
 * widget, so it may run inside a layout. */
static void
update_preview_activity (LtStreamDetails *self)
{
  const char *uri = self->stream != NULL ? lt_stream_get_loopback_uri (self->stream) : NULL;
  gboolean active = self->picture_mapped && uri != NULL;

  lt_stream_preview_set_uri (self->preview, uri);
  lt_stream_preview_set_active (self->preview, active);
  if (active && self->preview_id == 0)
    {
      self->preview_id = gtk_widget_add_tick_callback (GTK_WIDGET (self->picture),
                                                       preview_tick_cb, self, NULL);
    }
  else if (!active && self->preview_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self->picture), self->preview_id);
      self->preview_id = 0;
    }
}

static void
picture_map_cb (LtStreamDetails *self)
{
  self->picture_mapped = TRUE;
  update_preview_activity (self);
}

static void
picture_unmap_cb (LtStreamDetails *self)
{
  self->picture_mapped = FALSE;
  update_preview_activity (self);
}

/* ---- the stream ---- */

static void
update_stream (LtStreamDetails *self)
{
  if (self->stream == NULL)
    {
      set_subtitle (self->source_row, _("Offline"));
      set_subtitle (self->media_row, "—");
      set_subtitle (self->bitrate_row, "—");
      set_subtitle (self->since_row, "—");
    }
  else
    {
      LtStreamSourceKind kind = lt_stream_get_source_kind (self->stream);
      const char *uri = lt_stream_get_source_uri (self->stream);
      g_autofree char *source = NULL;
      g_autofree char *media = lt_stream_text_media (self->stream);
      g_autofree char *bitrate = NULL;
      g_autofree char *since = NULL;
      GDateTime *online_since = lt_stream_get_online_since (self->stream);

      /* TRANSLATORS: how a stream comes in ("Push", "Pull", "Demo") and from where */
      source = uri != NULL ? g_strdup_printf (_("%s · %s"), lt_stream_text_kind (kind), uri)
                           : g_strdup (lt_stream_text_kind (kind));
      if (lt_stream_get_bitrate (self->stream) > 0)
        bitrate = g_strdup_printf (_("%u kbit/s"), lt_stream_get_bitrate (self->stream));
      else
        bitrate = g_strdup (_("Measuring…"));
      if (online_since != NULL)
        {
          g_autoptr(GDateTime) local = g_date_time_to_local (online_since);

          since = g_date_time_format (local, "%X");
        }
      set_subtitle (self->source_row, source);
      set_subtitle (self->media_row, media);
      set_subtitle (self->bitrate_row, bitrate);
      set_subtitle (self->since_row, since != NULL ? since : "—");
    }
  update_preview_activity (self);
  update_preview_status (self);
}

/* ---- the recording ---- */

static LtRecordingState
current_state (LtStreamDetails *self)
{
  return self->recording != NULL ? lt_recording_get_state (self->recording)
                                 : LT_RECORDING_STATE_NOT_RECORDING;
}

static void
update_files (LtStreamDetails *self)
{
  GHashTableIter iter;
  gpointer format, row;
  LtRecordingState state = current_state (self);

  g_hash_table_iter_init (&iter, self->format_rows);
  while (g_hash_table_iter_next (&iter, &format, &row))
    {
      g_autofree char *file = NULL;
      g_autofree char *text = NULL;
      const char *icon = lt_stream_text_state_icon (state);

      if (self->recording == NULL)
        continue;
      file = lt_stream_text_file (self->recording, format);
      /* TRANSLATORS: a format's recording state and its file, e.g.
       * "Recording · live_demo_1.m3u8 · 0:42 · 3.1 MB" */
      text = g_strdup_printf (_("%s · %s"), lt_stream_text_state (state), file);
      set_subtitle (row, text);
      gtk_image_set_from_icon_name (g_object_get_data (row, "lt-state-icon"), icon);
      lt_stream_watch_set_state_class (g_object_get_data (row, "lt-state-icon"), state);
    }
}

static void
rebuild_formats (LtStreamDetails *self)
{
  const char * const *formats =
    self->recording != NULL ? lt_recording_get_formats (self->recording) : NULL;
  GHashTableIter iter;
  gpointer row;

  g_hash_table_iter_init (&iter, self->format_rows);
  while (g_hash_table_iter_next (&iter, NULL, &row))
    adw_preferences_group_remove (self->formats_group, row);
  g_hash_table_remove_all (self->format_rows);

  for (guint i = 0; formats != NULL && formats[i] != NULL; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *icon = g_object_new (GTK_TYPE_IMAGE,
                                      "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                                      NULL);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     lt_stream_text_format (formats[i]));
      gtk_widget_add_css_class (icon, "lt-state-icon");
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
      g_object_set_data (G_OBJECT (row), "lt-state-icon", icon);
      gtk_widget_set_focusable (row, TRUE);
      adw_preferences_group_add (self->formats_group, row);
      g_hash_table_insert (self->format_rows, g_strdup (formats[i]), row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->formats_group),
                          g_hash_table_size (self->format_rows) > 0);
  update_files (self);
}

static void
update_recording (LtStreamDetails *self)
{
  LtRecordingState state = current_state (self);
  g_autofree char *text = NULL;
  const char *icon = lt_stream_text_state_icon (state);

  if (self->recording != NULL)
    text = lt_stream_text_recording (self->recording, self->stream != NULL,
                                     g_get_real_time ());
  else if (self->stream != NULL)
    text = g_strdup (_("No recording is running."));
  else
    text = g_strdup (_("The stream is offline."));

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->state_row),
                                 lt_stream_text_state (state));
  set_subtitle (self->state_row, text);
  gtk_image_set_from_icon_name (self->state_icon,
                                icon != NULL ? icon : "media-playback-stop-symbolic");
  lt_stream_watch_set_state_class (GTK_WIDGET (self->state_icon), state);

  /* What each command can do now (Start also resumes a session the operator stopped,
   * while its stream is online); the manager has the last word, and its errors. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "stream.start-recording",
                                 self->stream != NULL &&
                                 (state == LT_RECORDING_STATE_NOT_RECORDING ||
                                  state == LT_RECORDING_STATE_FAILED ||
                                  state == LT_RECORDING_STATE_PAUSED));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "stream.stop-recording",
                                 state == LT_RECORDING_STATE_STARTING ||
                                 state == LT_RECORDING_STATE_RECORDING ||
                                 state == LT_RECORDING_STATE_SUSPENDED);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "stream.restart-recording",
                                 state == LT_RECORDING_STATE_STARTING ||
                                 state == LT_RECORDING_STATE_RECORDING);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "stream.cancel-delay",
                                 state == LT_RECORDING_STATE_PAUSED);

  update_files (self);
  if (self->watch != NULL)
    lt_stream_watch_set_ticking (self->watch,
                                 state == LT_RECORDING_STATE_STARTING ||
                                 state == LT_RECORDING_STATE_RECORDING ||
                                 state == LT_RECORDING_STATE_PAUSED ||
                                 state == LT_RECORDING_STATE_SUSPENDED);
}

static void
update (GtkWidget            *widget,
        LtStreamWatchChanges  changes)
{
  LtStreamDetails *self = LT_STREAM_DETAILS (widget);

  /* The objects are held for the time between two updates (the commands use them). */
  g_set_object (&self->stream, lt_stream_watch_get_stream (self->watch));
  g_set_object (&self->recording, lt_stream_watch_get_recording (self->watch));
  if (changes & LT_STREAM_WATCH_STREAM)
    update_stream (self);
  if (changes & LT_STREAM_WATCH_FORMATS)
    rebuild_formats (self);
  update_recording (self);
}

/* ---- commands ---- */

static void
show_toast (LtStreamDetails *self,
            const char      *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (escaped));
}

static void
command_activated (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  LtStreamDetails *self = LT_STREAM_DETAILS (widget);
  static const struct { const char *action; LtRecordCommand command; } commands[] = {
    { "stream.start-recording", LT_RECORD_COMMAND_START },
    { "stream.stop-recording", LT_RECORD_COMMAND_STOP },
    { "stream.restart-recording", LT_RECORD_COMMAND_RESTART },
    { "stream.cancel-delay", LT_RECORD_COMMAND_CANCEL_DELAY },
  };
  LtRecordingManager *manager;
  g_autoptr(GError) error = NULL;
  const char *domain, *app, *name;
  LtRecordCommand command = LT_RECORD_COMMAND_START;

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (g_str_equal (action_name, commands[i].action))
        command = commands[i].command;
    }

  manager = self->engine != NULL ? lt_engine_get_recording_manager (self->engine) : NULL;
  if (manager == NULL)
    {
      show_toast (self, _("Recording is not available: the ingest is turned off."));
      return;
    }
  if (self->watch == NULL || !lt_stream_watch_get_identity (self->watch, &domain, &app, &name))
    return;

  if (!lt_recording_manager_command (manager, domain, app, name, command, 0, &error))
    {
      g_free (self->last_error);
      self->last_error = g_strdup (error->message);
      show_toast (self, error->message);
    }
  /* The manager notifies what changed; a command that changed nothing still leaves the
   * buttons matching the state. */
  lt_stream_watch_refresh (self->watch);
}

/* ---- GObject ---- */

static void
lt_stream_details_map (GtkWidget *widget)
{
  LtStreamDetails *self = LT_STREAM_DETAILS (widget);

  GTK_WIDGET_CLASS (lt_stream_details_parent_class)->map (widget);
  if (self->watch != NULL)
    lt_stream_watch_set_mapped (self->watch, TRUE);
}

static void
lt_stream_details_unmap (GtkWidget *widget)
{
  LtStreamDetails *self = LT_STREAM_DETAILS (widget);

  if (self->watch != NULL)
    lt_stream_watch_set_mapped (self->watch, FALSE);
  GTK_WIDGET_CLASS (lt_stream_details_parent_class)->unmap (widget);
}

static void
lt_stream_details_dispose (GObject *object)
{
  LtStreamDetails *self = LT_STREAM_DETAILS (object);

  if (self->watch != NULL)
    g_object_run_dispose (G_OBJECT (self->watch));
  g_clear_handle_id (&self->preview_idle_id, g_source_remove);
  if (self->preview_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self->picture), self->preview_id);
      self->preview_id = 0;
    }
  if (self->preview != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->preview, self);
      lt_stream_preview_set_active (self->preview, FALSE);
    }

  gtk_widget_dispose_template (GTK_WIDGET (self), LT_TYPE_STREAM_DETAILS);

  g_clear_object (&self->preview);
  g_clear_object (&self->watch);
  g_clear_object (&self->stream);
  g_clear_object (&self->recording);
  g_clear_object (&self->engine);
  g_clear_pointer (&self->format_rows, g_hash_table_unref);

  G_OBJECT_CLASS (lt_stream_details_parent_class)->dispose (object);
}

static void
lt_stream_details_finalize (GObject *object)
{
  LtStreamDetails *self = LT_STREAM_DETAILS (object);

  g_clear_pointer (&self->last_error, g_free);

  G_OBJECT_CLASS (lt_stream_details_parent_class)->finalize (object);
}

static void
lt_stream_details_class_init (LtStreamDetailsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lt_stream_details_dispose;
  object_class->finalize = lt_stream_details_finalize;
  widget_class->map = lt_stream_details_map;
  widget_class->unmap = lt_stream_details_unmap;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/livetape/Livetape/lt-stream-details.ui");
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, back_button);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, title_label);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, domain_label);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, picture);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, preview_status);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, preview_spinner);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, preview_label);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, state_row);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, state_icon);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, start_button);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, stop_button);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, restart_button);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, cancel_delay_button);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, formats_group);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, source_row);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, media_row);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, bitrate_row);
  gtk_widget_class_bind_template_child (widget_class, LtStreamDetails, since_row);
  gtk_widget_class_bind_template_callback (widget_class, picture_map_cb);
  gtk_widget_class_bind_template_callback (widget_class, picture_unmap_cb);

  gtk_widget_class_install_action (widget_class, "stream.start-recording", NULL,
                                   command_activated);
  gtk_widget_class_install_action (widget_class, "stream.stop-recording", NULL,
                                   command_activated);
  gtk_widget_class_install_action (widget_class, "stream.restart-recording", NULL,
                                   command_activated);
  gtk_widget_class_install_action (widget_class, "stream.cancel-delay", NULL,
                                   command_activated);
}

static void
lt_stream_details_init (LtStreamDetails *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Not a template child: GTK 4.8 unparents a template child that is the template's own
   * child behind AdwBin's back, and AdwBin then unparents it a second time. */
  self->stack = GTK_STACK (adw_bin_get_child (ADW_BIN (self)));

  self->format_rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->preview = lt_stream_preview_new ();
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (self->preview));
  g_signal_connect_object (self->preview, "notify", G_CALLBACK (preview_changed_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_stack_set_visible_child_name (self->stack, "empty");
  update_recording (self);
}

GtkWidget *
lt_stream_details_new (void)
{
  return g_object_new (LT_TYPE_STREAM_DETAILS, NULL);
}

void
lt_stream_details_set_engine (LtStreamDetails *self,
                              LtEngine        *engine)
{
  g_return_if_fail (LT_IS_STREAM_DETAILS (self));
  g_return_if_fail (LT_IS_ENGINE (engine));
  g_return_if_fail (self->engine == NULL);

  self->engine = g_object_ref (engine);
  self->watch = lt_stream_watch_new (engine, GTK_WIDGET (self), update);
}

void
lt_stream_details_set_key (LtStreamDetails *self,
                           const char      *key)
{
  const char *domain, *app, *name;
  g_autofree char *title = NULL;

  g_return_if_fail (LT_IS_STREAM_DETAILS (self));
  g_return_if_fail (self->watch != NULL);

  if (g_strcmp0 (lt_stream_watch_get_key (self->watch), key) == 0)
    return;

  lt_stream_watch_set_key (self->watch, key);
  if (key == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }

  if (lt_stream_watch_get_identity (self->watch, &domain, &app, &name))
    {
      title = g_strdup_printf ("%s/%s", app, name);
      gtk_label_set_label (self->domain_label, domain);
    }
  gtk_label_set_label (self->title_label, title != NULL ? title : key);
  gtk_widget_set_visible (GTK_WIDGET (self->domain_label), title != NULL);
  gtk_stack_set_visible_child_name (self->stack, "stream");
}

const char *
lt_stream_details_get_key (LtStreamDetails *self)
{
  g_return_val_if_fail (LT_IS_STREAM_DETAILS (self), NULL);

  return self->watch != NULL ? lt_stream_watch_get_key (self->watch) : NULL;
}

void
lt_stream_details_set_show_back (LtStreamDetails *self,
                                 gboolean         show_back)
{
  g_return_if_fail (LT_IS_STREAM_DETAILS (self));

  gtk_widget_set_visible (self->back_button, show_back);
}

LtStreamPreview *
_lt_stream_details_get_preview (LtStreamDetails *self)
{
  return self->preview;
}

const char *
_lt_stream_details_get_state_title (LtStreamDetails *self)
{
  return adw_preferences_row_get_title (ADW_PREFERENCES_ROW (self->state_row));
}

const char *
_lt_stream_details_get_state_text (LtStreamDetails *self)
{
  return adw_action_row_get_subtitle (self->state_row);
}

const char *
_lt_stream_details_get_format_text (LtStreamDetails *self,
                                    const char      *format)
{
  GtkWidget *row = g_hash_table_lookup (self->format_rows, format);

  return row != NULL ? adw_action_row_get_subtitle (ADW_ACTION_ROW (row)) : NULL;
}

GtkWidget *
_lt_stream_details_get_button (LtStreamDetails *self,
                               const char      *command)
{
  if (g_strcmp0 (command, "start") == 0)
    return self->start_button;
  if (g_strcmp0 (command, "stop") == 0)
    return self->stop_button;
  if (g_strcmp0 (command, "restart") == 0)
    return self->restart_button;
  if (g_strcmp0 (command, "cancel-delay") == 0)
    return self->cancel_delay_button;
  return NULL;
}

const char *
_lt_stream_details_get_last_error (LtStreamDetails *self)
{
  return self->last_error;
}
