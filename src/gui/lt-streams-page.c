/* lt-streams-page.c: the Streams page.
 *
 * A view over the engine's ingest: the ingest server's state (with the reason when it
 * failed), the server address publishers use (copyable), the demo stream switch, and a
 * boxed list bound to the stream registry. Rows show only what is known about a stream —
 * its identity, how it came in, and its codecs, picture, frame rate and bitrate once
 * measured — and follow the stream's notify:: signals. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "lt-streams-page.h"

struct _LtStreamsPage
{
  AdwBin           parent_instance;

  LtEngine        *engine;
  LtIngestServer  *server;
  LtDemoSource    *demo;
  GCancellable    *cancellable;
  char            *server_url;
  char            *status_text;

  AdwActionRow    *status_row;
  GtkImage        *status_icon;
  GtkSpinner      *status_spinner;
  AdwActionRow    *url_row;
  GtkWidget       *copy_button;
  AdwActionRow    *demo_row;
  GtkSwitch       *demo_switch;
  GtkListBox      *list;
  GtkLabel        *empty_label;
};

G_DEFINE_FINAL_TYPE (LtStreamsPage, lt_streams_page, ADW_TYPE_BIN)

/* ---- stream rows ---- */

static const char *
codec_display_name (const char *codec)
{
  static const struct { const char *id; const char *name; } names[] = {
    { "h264", "H.264" }, { "h265", "H.265" }, { "mpeg4", "MPEG-4" },
    { "aac", "AAC" }, { "mp3", "MP3" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (g_strcmp0 (codec, names[i].id) == 0)
        return names[i].name;
    }
  return codec;
}

static const char *
kind_label (LtStreamSourceKind kind)
{
  switch (kind)
    {
    case LT_STREAM_SOURCE_PULL:
      return C_("stream source", "Pull");
    case LT_STREAM_SOURCE_DEMO:
      return C_("stream source", "Demo");
    case LT_STREAM_SOURCE_PUSH:
    default:
      return C_("stream source", "Push");
    }
}

static const char *
kind_icon (LtStreamSourceKind kind)
{
  switch (kind)
    {
    case LT_STREAM_SOURCE_PULL:
      return "folder-download-symbolic";
    case LT_STREAM_SOURCE_DEMO:
      return "video-display-symbolic";
    case LT_STREAM_SOURCE_PUSH:
    default:
      return "send-to-symbolic";
    }
}

static char *
describe_stream (LtStream *stream)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  GDateTime *since = lt_stream_get_online_since (stream);
  const char *video = lt_stream_get_video_codec (stream);
  const char *audio = lt_stream_get_audio_codec (stream);

  g_ptr_array_add (parts, g_strdup (kind_label (lt_stream_get_source_kind (stream))));

  if (!lt_stream_get_has_media_info (stream))
    {
      g_ptr_array_add (parts, g_strdup (_("Waiting for media information…")));
    }
  else
    {
      if (video != NULL && audio != NULL)
        /* TRANSLATORS: video codec + audio codec, e.g. "H.264 + AAC" */
        g_ptr_array_add (parts, g_strdup_printf (_("%s + %s"), codec_display_name (video),
                                                 codec_display_name (audio)));
      else if (video != NULL)
        g_ptr_array_add (parts, g_strdup_printf (_("%s, no audio"), codec_display_name (video)));
      else if (audio != NULL)
        g_ptr_array_add (parts, g_strdup_printf (_("%s, no video"), codec_display_name (audio)));

      if (lt_stream_get_width (stream) > 0 && lt_stream_get_height (stream) > 0)
        g_ptr_array_add (parts, g_strdup_printf ("%u×%u", lt_stream_get_width (stream),
                                                 lt_stream_get_height (stream)));
      if (lt_stream_get_fps (stream) > 0)
        /* TRANSLATORS: frames per second */
        g_ptr_array_add (parts, g_strdup_printf (_("%.3g fps"), lt_stream_get_fps (stream)));
    }
  if (lt_stream_get_bitrate (stream) > 0)
    g_ptr_array_add (parts, g_strdup_printf (_("%u kbit/s"), lt_stream_get_bitrate (stream)));
  if (since != NULL)
    {
      g_autoptr(GDateTime) local = g_date_time_to_local (since);
      g_autofree char *time = g_date_time_format (local, "%X");

      /* TRANSLATORS: %s is a time of day */
      g_ptr_array_add (parts, g_strdup_printf (_("online since %s"), time));
    }
  g_ptr_array_add (parts, NULL);

  return g_strjoinv (" · ", (char **) parts->pdata);
}

static void
update_stream_row (AdwActionRow *row,
                   GParamSpec   *pspec,
                   LtStream     *stream)
{
  g_autofree char *subtitle = describe_stream (stream);
  g_autofree char *escaped = g_markup_escape_text (subtitle, -1);

  adw_action_row_set_subtitle (row, escaped);
}

static GtkWidget *
create_stream_row (gpointer item,
                   gpointer user_data)
{
  LtStream *stream = item;
  AdwActionRow *row = ADW_ACTION_ROW (adw_action_row_new ());
  GtkWidget *icon = gtk_image_new_from_icon_name (kind_icon (lt_stream_get_source_kind (stream)));
  g_autofree char *title = g_strdup_printf ("%s/%s/%s", lt_stream_get_domain (stream),
                                            lt_stream_get_app (stream),
                                            lt_stream_get_name (stream));
  g_autofree char *escaped = g_markup_escape_text (title, -1);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), escaped);
  adw_action_row_add_prefix (row, icon);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  kind_label (lt_stream_get_source_kind (stream)), -1);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  /* Rows are read, not activated; focus still reaches them so a screen reader reads them. */
  gtk_widget_set_focusable (GTK_WIDGET (row), TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (row), "property");

  update_stream_row (row, NULL, stream);
  g_signal_connect_object (stream, "notify", G_CALLBACK (update_stream_row), row,
                           G_CONNECT_SWAPPED);
  return GTK_WIDGET (row);
}

/* ---- the ingest server ---- */

static void
set_status (LtStreamsPage *self,
            const char    *icon_name,
            const char    *text,
            gboolean       busy,
            gboolean       error)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  g_free (self->status_text);
  self->status_text = g_strdup (text);
  adw_action_row_set_subtitle (self->status_row, escaped);
  gtk_image_set_from_icon_name (self->status_icon, icon_name);
  gtk_spinner_set_spinning (self->status_spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->status_spinner), busy);
  if (error)
    gtk_widget_add_css_class (GTK_WIDGET (self->status_icon), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->status_icon), "error");
}

static void
update_server (LtStreamsPage *self)
{
  g_autofree char *url = NULL;
  g_autofree char *example = NULL;
  g_autofree char *text = NULL;
  g_autofree char *empty = NULL;
  guint port;

  if (self->server == NULL)
    {
      set_status (self, "network-offline-symbolic", _("The ingest is turned off."),
                  FALSE, FALSE);
      gtk_widget_set_sensitive (self->copy_button, FALSE);
      adw_action_row_set_subtitle (self->url_row, "");
      gtk_label_set_label (self->empty_label, _("The ingest is turned off."));
      return;
    }

  port = lt_ingest_server_get_port (self->server);
  switch (lt_ingest_server_get_state (self->server))
    {
    case LT_INGEST_STATE_RUNNING:
      text = g_strdup_printf (_("Accepting streams on port %u"), port);
      set_status (self, "network-server-symbolic", text, FALSE, FALSE);
      break;

    case LT_INGEST_STATE_STARTING:
      text = g_strdup_printf (_("Starting on port %u…"), port);
      set_status (self, "network-server-symbolic", text, TRUE, FALSE);
      break;

    case LT_INGEST_STATE_FAILED:
      text = g_strdup_printf (_("Not running: %s It is tried again shortly."),
                              lt_ingest_server_get_last_error (self->server) != NULL
                              ? lt_ingest_server_get_last_error (self->server)
                              : _("nginx stopped."));
      set_status (self, "dialog-error-symbolic", text, FALSE, TRUE);
      break;

    case LT_INGEST_STATE_STOPPED:
    default:
      set_status (self, "network-offline-symbolic", _("Stopped"), FALSE, FALSE);
      break;
    }

  /* OBS and most encoders take a server URL (rtmp://host:port/app) and a stream key (the
   * stream name); ffmpeg takes both joined. Any app name works; "live" is the example. */
  example = lt_ingest_server_dup_publish_url (self->server, "live", "");
  url = g_strndup (example, strlen (example) - 1);
  g_free (self->server_url);
  self->server_url = g_strdup (url);
  {
    g_autofree char *subtitle =
      g_strdup_printf (_("%s — use any stream name as the stream key; any app name works "
                         "in place of “live”."), url);
    g_autofree char *escaped = g_markup_escape_text (subtitle, -1);

    adw_action_row_set_subtitle (self->url_row, escaped);
  }
  gtk_widget_set_sensitive (self->copy_button, TRUE);

  empty = g_strdup_printf (_("Publish to %s/NAME with OBS, ffmpeg or any RTMP encoder, "
                             "or turn on the demo stream above."), url);
  gtk_label_set_label (self->empty_label, empty);
}

static void
update_demo (LtStreamsPage *self)
{
  const char *subtitle;

  if (self->demo == NULL)
    {
      gtk_widget_set_sensitive (GTK_WIDGET (self->demo_row), FALSE);
      adw_action_row_set_subtitle (self->demo_row, _("Needs the ingest."));
      return;
    }
  gtk_widget_set_sensitive (GTK_WIDGET (self->demo_row), TRUE);

  switch (lt_demo_source_get_state (self->demo))
    {
    case LT_DEMO_SOURCE_STATE_ONLINE:
      subtitle = _("A test pattern with sound, online as live/demo");
      break;
    case LT_DEMO_SOURCE_STATE_CONNECTING:
      subtitle = _("Connecting to the ingest…");
      break;
    case LT_DEMO_SOURCE_STATE_WAITING:
      subtitle = _("Waiting for the ingest…");
      break;
    case LT_DEMO_SOURCE_STATE_STOPPED:
    default:
      subtitle = _("A test pattern with sound, so there is something to record");
      break;
    }
  adw_action_row_set_subtitle (self->demo_row, subtitle);
}

static void
sync_demo_switch (LtStreamsPage *self)
{
  gboolean enabled = lt_engine_get_demo_enabled (self->engine);

  gtk_switch_set_active (self->demo_switch, enabled);
  gtk_switch_set_state (self->demo_switch, enabled);
}

static void
demo_enabled_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(LtStreamsPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!lt_engine_set_demo_enabled_finish (LT_ENGINE (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      adw_action_row_set_subtitle (self->demo_row, error->message);
    }
  sync_demo_switch (self);
}

static gboolean
demo_state_set_cb (LtStreamsPage *self,
                   gboolean       state)
{
  if (self->engine == NULL || state == lt_engine_get_demo_enabled (self->engine))
    return FALSE;   /* the default handler sets the state */

  /* The state follows once the choice is stored. */
  lt_engine_set_demo_enabled_async (self->engine, state, self->cancellable,
                                    demo_enabled_cb, g_object_ref (self));
  return TRUE;
}

static void
copy_clicked_cb (LtStreamsPage *self)
{
  GtkWidget *overlay;

  if (self->server_url == NULL)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), self->server_url);
  overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (_("Address copied")));
}

/* ---- GObject ---- */

static void
lt_streams_page_dispose (GObject *object)
{
  LtStreamsPage *self = LT_STREAMS_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), LT_TYPE_STREAMS_PAGE);

  g_clear_object (&self->demo);
  g_clear_object (&self->server);
  g_clear_object (&self->engine);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (lt_streams_page_parent_class)->dispose (object);
}

static void
lt_streams_page_finalize (GObject *object)
{
  LtStreamsPage *self = LT_STREAMS_PAGE (object);

  g_clear_pointer (&self->server_url, g_free);
  g_clear_pointer (&self->status_text, g_free);

  G_OBJECT_CLASS (lt_streams_page_parent_class)->finalize (object);
}

static void
lt_streams_page_class_init (LtStreamsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lt_streams_page_dispose;
  object_class->finalize = lt_streams_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/livetape/Livetape/lt-streams-page.ui");
  gtk_widget_class_bind_template_child (widget_class, LtStreamsPage, status_row);
  gtk_widget_class_bind_template_child (widget_class, LtStreamsPage, status_icon);
  gtk_widget_class_bind_template_child (widget_class, LtStreamsPage, status_spinner);
  gtk_widget_class_bind_template_child (widget_class, LtStreamsPage, url_row);
  gtk_widget_class_bind_template_child (widget_class, LtStreamsPage, copy_button);
  gtk_widget_class_bind_template_child (widget_class, LtStreamsPage, demo_row);
  gtk_widget_class_bind_template_child (widget_class, LtStreamsPage, demo_switch);
  gtk_widget_class_bind_template_child (widget_class, LtStreamsPage, list);
  gtk_widget_class_bind_template_child (widget_class, LtStreamsPage, empty_label);
  gtk_widget_class_bind_template_callback (widget_class, copy_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, demo_state_set_cb);
}

static void
lt_streams_page_init (LtStreamsPage *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  update_server (self);
  update_demo (self);
}

GtkWidget *
lt_streams_page_new (void)
{
  return g_object_new (LT_TYPE_STREAMS_PAGE, NULL);
}

void
lt_streams_page_set_engine (LtStreamsPage *self,
                            LtEngine      *engine)
{
  g_return_if_fail (LT_IS_STREAMS_PAGE (self));
  g_return_if_fail (LT_IS_ENGINE (engine));
  g_return_if_fail (self->engine == NULL);

  self->engine = g_object_ref (engine);
  g_set_object (&self->server, lt_engine_get_ingest_server (engine));
  g_set_object (&self->demo, lt_engine_get_demo_source (engine));

  gtk_list_box_bind_model (self->list,
                           G_LIST_MODEL (lt_engine_get_stream_registry (engine)),
                           create_stream_row, NULL, NULL);

  if (self->server != NULL)
    {
      g_signal_connect_object (self->server, "notify::state",
                               G_CALLBACK (update_server), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->server, "notify::last-error",
                               G_CALLBACK (update_server), self, G_CONNECT_SWAPPED);
    }
  if (self->demo != NULL)
    g_signal_connect_object (self->demo, "notify::state",
                             G_CALLBACK (update_demo), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (engine, "notify::demo-enabled",
                           G_CALLBACK (sync_demo_switch), self, G_CONNECT_SWAPPED);

  update_server (self);
  update_demo (self);
  sync_demo_switch (self);
}

const char *
_lt_streams_page_get_ingest_status (LtStreamsPage *self)
{
  return self->status_text;
}

const char *
_lt_streams_page_get_server_url (LtStreamsPage *self)
{
  return self->server_url;
}

GtkWidget *
_lt_streams_page_get_demo_switch (LtStreamsPage *self)
{
  return GTK_WIDGET (self->demo_switch);
}

GtkWidget *
_lt_streams_page_get_copy_button (LtStreamsPage *self)
{
  return self->copy_button;
}

GtkListBox *
_lt_streams_page_get_list (LtStreamsPage *self)
{
  return self->list;
}
