/* lt-streams-page.c: the Streams page.
 *
 * A view over the engine's ingest and recordings, in two panes (an AdwLeaflet that folds
 * into one on narrow windows). The list pane: the ingest server's state (with the reason
 * when it failed), the server address publishers use (copyable), the demo stream switch,
 * the streams — every identity that is online or still has a recording session, so a
 * stream paused in its merge window keeps its row — and the pull sources with their
 * state, a switch each and an editor. The details pane (LtStreamDetails) shows the
 * selected stream: a live preview, the recording state of each format, the commands.
 *
 * The stream list is a model of identity keys kept here as the union of the stream
 * registry and the recording manager's recordings (in the order they appeared); rows
 * look the objects up by key. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "lt-stream-details.h"
#include "lt-stream-row.h"
#include "lt-stream-source-editor.h"
#include "lt-stream-text.h"
#include "lt-streams-page-private.h"

struct _LtStreamsPage
{
  AdwBin           parent_instance;

  LtEngine        *engine;
  LtIngestServer  *server;
  LtDemoSource    *demo;
  GCancellable    *cancellable;
  char            *server_url;
  char            *status_text;
  GListStore      *keys;          /* GtkStringObject: the identities listed */
  LtStreamSourceEditor *editor;   /* weak: the open source editor */
  guint            folded_idle_id;

  AdwLeaflet      *leaflet;
  AdwActionRow    *status_row;
  GtkImage        *status_icon;
  GtkSpinner      *status_spinner;
  AdwActionRow    *url_row;
  GtkWidget       *copy_button;
  AdwActionRow    *demo_row;
  GtkSwitch       *demo_switch;
  GtkListBox      *list;
  GtkLabel        *empty_label;
  GtkListBox      *sources_list;
  LtStreamDetails *details;
};

G_DEFINE_FINAL_TYPE (LtStreamsPage, lt_streams_page, ADW_TYPE_BIN)

static void
show_toast (LtStreamsPage *self,
            const char    *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (escaped));
}

/* ---- the stream list ---- */

static GtkWidget *
create_stream_row (gpointer item,
                   gpointer user_data)
{
  LtStreamsPage *self = user_data;

  return lt_stream_row_new (self->engine, gtk_string_object_get_string (item));
}

static void
select_first_if_none (LtStreamsPage *self)
{
  GtkListBoxRow *first;

  if (self->leaflet == NULL || adw_leaflet_get_folded (self->leaflet) ||
      gtk_list_box_get_selected_row (self->list) != NULL)
    return;
  first = gtk_list_box_get_row_at_index (self->list, 0);
  if (first != NULL)
    gtk_list_box_select_row (self->list, first);
}

static void
add_key (GHashTable *wanted,
         GPtrArray  *order,
         const char *key)
{
  if (g_hash_table_add (wanted, g_strdup (key)))
    g_ptr_array_add (order, g_strdup (key));
}

/* The union of the online streams and the recordings, keeping the rows that stay. */
static void
sync_keys (LtStreamsPage *self)
{
  g_autoptr(GHashTable) wanted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func (g_free);
  GListModel *registry = G_LIST_MODEL (lt_engine_get_stream_registry (self->engine));
  LtRecordingManager *manager = lt_engine_get_recording_manager (self->engine);
  guint n;

  n = g_list_model_get_n_items (registry);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LtStream) stream = g_list_model_get_item (registry, i);

      add_key (wanted, order, lt_stream_get_key (stream));
    }
  if (manager != NULL)
    {
      GListModel *recordings = lt_recording_manager_get_recordings (manager);

      n = g_list_model_get_n_items (recordings);
      for (guint i = 0; i < n; i++)
        {
          g_autoptr(LtRecording) recording = g_list_model_get_item (recordings, i);

          add_key (wanted, order, lt_recording_get_key (recording));
        }
    }

  for (guint i = g_list_model_get_n_items (G_LIST_MODEL (self->keys)); i > 0; i--)
    {
      g_autoptr(GtkStringObject) item = g_list_model_get_item (G_LIST_MODEL (self->keys), i - 1);
      const char *key = gtk_string_object_get_string (item);

      if (!g_hash_table_contains (wanted, key))
        g_list_store_remove (self->keys, i - 1);
    }
  n = g_list_model_get_n_items (G_LIST_MODEL (self->keys));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GtkStringObject) item = g_list_model_get_item (G_LIST_MODEL (self->keys), i);

      g_hash_table_add (listed, (gpointer) gtk_string_object_get_string (item));
    }
  for (guint i = 0; i < order->len; i++)
    {
      const char *key = g_ptr_array_index (order, i);

      if (!g_hash_table_contains (listed, key))
        {
          g_autoptr(GtkStringObject) item = gtk_string_object_new (key);

          g_list_store_append (self->keys, item);
        }
    }

  select_first_if_none (self);
}

static void
row_selected_cb (LtStreamsPage *self,
                 GtkListBoxRow *row)
{
  if (self->details == NULL)   /* disposing */
    return;
  lt_stream_details_set_key (self->details,
                             row != NULL ? lt_stream_row_get_key (LT_STREAM_ROW (row)) : NULL);
}

static void
row_activated_cb (LtStreamsPage *self,
                  GtkListBoxRow *row)
{
  adw_leaflet_set_visible_child (self->leaflet, GTK_WIDGET (self->details));
}

static gboolean
apply_folded_cb (gpointer data)
{
  LtStreamsPage *self = data;

  self->folded_idle_id = 0;
  lt_stream_details_set_show_back (self->details, adw_leaflet_get_folded (self->leaflet));
  select_first_if_none (self);
  return G_SOURCE_REMOVE;
}

/* The leaflet folds while it allocates: what follows from it waits for an idle, so that
 * no widget changes size in the middle of a layout. The idle is removed in dispose. */
static void
folded_changed_cb (LtStreamsPage *self)
{
  if (self->folded_idle_id == 0)
    self->folded_idle_id = g_idle_add (apply_folded_cb, self);
}

static void
show_list_activated (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  LtStreamsPage *self = LT_STREAMS_PAGE (widget);

  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

/* ---- pull sources ---- */

static void
update_source_row (AdwActionRow *row)
{
  LtPullSource *source = g_object_get_data (G_OBJECT (row), "lt-source");
  GtkSwitch *sw = g_object_get_data (G_OBJECT (row), "lt-switch");
  g_autofree char *state = lt_stream_text_pull_state (source);
  /* TRANSLATORS: a pull source's address and its state, e.g. "rtsp://cam/1 · Online" */
  g_autofree char *subtitle = g_strdup_printf (_("%s · %s"), lt_pull_source_get_uri (source),
                                               state);
  g_autofree char *escaped = g_markup_escape_text (subtitle, -1);

  adw_action_row_set_subtitle (row, escaped);
  gtk_switch_set_active (sw, lt_pull_source_get_enabled (source));
  gtk_switch_set_state (sw, lt_pull_source_get_enabled (source));
}

typedef struct
{
  LtStreamsPage *page;
  GtkWidget     *row;
} SourceCall;

static void
source_call_free (SourceCall *call)
{
  g_object_unref (call->page);
  g_object_unref (call->row);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SourceCall, source_call_free)

static void
source_enabled_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(SourceCall) call = user_data;
  g_autoptr(GError) error = NULL;

  if (!lt_engine_set_pull_source_enabled_finish (LT_ENGINE (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_toast (call->page, error->message);
  /* The switch shows what the source does, whatever happened. */
  update_source_row (ADW_ACTION_ROW (call->row));
}

static gboolean
source_state_set_cb (LtStreamsPage *self,
                     gboolean       state,
                     GtkSwitch     *sw)
{
  GtkWidget *row = gtk_widget_get_ancestor (GTK_WIDGET (sw), ADW_TYPE_ACTION_ROW);
  LtPullSource *source = g_object_get_data (G_OBJECT (row), "lt-source");
  SourceCall *call;

  if (state == lt_pull_source_get_enabled (source))
    return FALSE;

  call = g_new0 (SourceCall, 1);
  call->page = g_object_ref (self);
  call->row = g_object_ref (row);
  lt_engine_set_pull_source_enabled_async (self->engine, source, state, self->cancellable,
                                           source_enabled_cb, call);
  return TRUE;
}

static void
open_editor (LtStreamsPage *self,
             LtPullSource  *source)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->editor != NULL)
    gtk_window_destroy (GTK_WINDOW (self->editor));

  self->editor = lt_stream_source_editor_new (self->engine, source);
  g_object_add_weak_pointer (G_OBJECT (self->editor), (gpointer *) &self->editor);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (self->editor), GTK_WINDOW (root));
  gtk_window_present (GTK_WINDOW (self->editor));
}

static void
edit_clicked_cb (LtStreamsPage *self,
                 GtkButton     *button)
{
  GtkWidget *row = gtk_widget_get_ancestor (GTK_WIDGET (button), ADW_TYPE_ACTION_ROW);

  open_editor (self, g_object_get_data (G_OBJECT (row), "lt-source"));
}

static GtkWidget *
create_source_row (gpointer item,
                   gpointer user_data)
{
  LtStreamsPage *self = user_data;
  LtPullSource *source = item;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *sw = gtk_switch_new ();
  GtkWidget *edit = gtk_button_new_from_icon_name ("document-edit-symbolic");
  GtkWidget *icon = g_object_new (GTK_TYPE_IMAGE,
                                  "icon-name", "folder-download-symbolic",
                                  "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                                  NULL);
  g_autofree char *title = lt_stream_text_identity (lt_pull_source_get_domain (source),
                                                    lt_pull_source_get_app (source),
                                                    lt_pull_source_get_name (source));
  g_autofree char *escaped = g_markup_escape_text (title, -1);
  g_autofree char *label = g_strdup_printf (_("Pull %s"), title);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), escaped);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);

  gtk_widget_set_valign (sw, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (sw, _("Pull this source"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (sw), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  g_signal_connect_object (sw, "state-set", G_CALLBACK (source_state_set_cb), self,
                           G_CONNECT_SWAPPED);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), sw);

  gtk_widget_set_valign (edit, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (edit, _("Edit Source"));
  gtk_widget_add_css_class (edit, "flat");
  g_signal_connect_object (edit, "clicked", G_CALLBACK (edit_clicked_cb), self,
                           G_CONNECT_SWAPPED);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), edit);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), edit);

  g_object_set_data_full (G_OBJECT (row), "lt-source", g_object_ref (source), g_object_unref);
  g_object_set_data (G_OBJECT (row), "lt-switch", sw);
  update_source_row (ADW_ACTION_ROW (row));
  g_signal_connect_object (source, "notify", G_CALLBACK (update_source_row), row,
                           G_CONNECT_SWAPPED);
  return row;
}

static void
add_source_activated (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  open_editor (LT_STREAMS_PAGE (widget), NULL);
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
  g_autofree char *subtitle = NULL;
  g_autofree char *escaped = NULL;
  guint port;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "streams.add-source", self->server != NULL);
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
  subtitle = g_strdup_printf (_("%s — use any stream name as the stream key; any app name "
                                "works in place of “live”."), url);
  escaped = g_markup_escape_text (subtitle, -1);
  adw_action_row_set_subtitle (self->url_row, escaped);
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
  if (self->server_url == NULL)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), self->server_url);
  show_toast (self, _("Address copied"));
}

/* ---- GObject ---- */

static void
lt_streams_page_dispose (GObject *object)
{
  LtStreamsPage *self = LT_STREAMS_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->folded_idle_id, g_source_remove);
  if (self->editor != NULL)
    {
      g_object_remove_weak_pointer (G_OBJECT (self->editor), (gpointer *) &self->editor);
      gtk_window_destroy (GTK_WINDOW (g_steal_pointer (&self->editor)));
    }
  self->details = NULL;
  self->leaflet = NULL;
  gtk_widget_dispose_template (GTK_WIDGET (self), LT_TYPE_STREAMS_PAGE);

  g_clear_object (&self->keys);
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

  g_type_ensure (LT_TYPE_STREAM_DETAILS);
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
  gtk_widget_class_bind_template_child (widget_class, LtStreamsPage, sources_list);
  gtk_widget_class_bind_template_callback (widget_class, copy_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, demo_state_set_cb);
  gtk_widget_class_bind_template_callback (widget_class, row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, row_activated_cb);

  gtk_widget_class_install_action (widget_class, "streams.add-source", NULL,
                                   add_source_activated);
  gtk_widget_class_install_action (widget_class, "streams.show-list", NULL,
                                   show_list_activated);
}

/* The page's own styles, once per display. */
static void
load_style (GtkWidget *widget)
{
  GdkDisplay *display = gtk_widget_get_display (widget);
  g_autoptr(GtkCssProvider) provider = NULL;

  if (g_object_get_data (G_OBJECT (display), "lt-streams-page-css") != NULL)
    return;

  provider = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (provider,
                                       "/io/github/livetape/Livetape/lt-streams-page.css");
  gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_set_data (G_OBJECT (display), "lt-streams-page-css", GINT_TO_POINTER (TRUE));
}

static void
lt_streams_page_init (LtStreamsPage *self)
{
  load_style (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->keys = g_list_store_new (GTK_TYPE_STRING_OBJECT);
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Not template children: GTK 4.8 unparents a template child that is the template's
   * own child behind AdwBin's back, and AdwBin then unparents it a second time. */
  self->leaflet = ADW_LEAFLET (adw_bin_get_child (ADW_BIN (self)));
  self->details = LT_STREAM_DETAILS (adw_leaflet_get_child_by_name (self->leaflet, "details"));
  g_signal_connect_object (self->leaflet, "notify::folded", G_CALLBACK (folded_changed_cb), self,
                           G_CONNECT_SWAPPED);
  update_server (self);
  update_demo (self);
  lt_stream_details_set_show_back (self->details, adw_leaflet_get_folded (self->leaflet));
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
  LtRecordingManager *manager;

  g_return_if_fail (LT_IS_STREAMS_PAGE (self));
  g_return_if_fail (LT_IS_ENGINE (engine));
  g_return_if_fail (self->engine == NULL);

  self->engine = g_object_ref (engine);
  g_set_object (&self->server, lt_engine_get_ingest_server (engine));
  g_set_object (&self->demo, lt_engine_get_demo_source (engine));

  gtk_list_box_bind_model (self->list, G_LIST_MODEL (self->keys),
                           create_stream_row, self, NULL);
  gtk_list_box_bind_model (self->sources_list, lt_engine_get_pull_sources (engine),
                           create_source_row, self, NULL);
  lt_stream_details_set_engine (self->details, engine);

  g_signal_connect_object (lt_engine_get_stream_registry (engine), "items-changed",
                           G_CALLBACK (sync_keys), self, G_CONNECT_SWAPPED);
  manager = lt_engine_get_recording_manager (engine);
  if (manager != NULL)
    g_signal_connect_object (lt_recording_manager_get_recordings (manager), "items-changed",
                             G_CALLBACK (sync_keys), self, G_CONNECT_SWAPPED);
  sync_keys (self);

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

LtStreamDetails *
_lt_streams_page_get_details (LtStreamsPage *self)
{
  return self->details;
}

GtkListBox *
_lt_streams_page_get_sources_list (LtStreamsPage *self)
{
  return self->sources_list;
}

GtkSwitch *
_lt_streams_page_get_source_switch (LtStreamsPage *self,
                                    int            index)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (self->sources_list, index);

  return row != NULL ? g_object_get_data (G_OBJECT (row), "lt-switch") : NULL;
}

LtStreamSourceEditor *
_lt_streams_page_get_source_editor (LtStreamsPage *self)
{
  return self->editor;
}

GtkWidget *
_lt_streams_page_get_row (LtStreamsPage *self,
                          const char    *key)
{
  for (int i = 0;; i++)
    {
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (self->list, i);

      if (row == NULL)
        return NULL;
      if (g_strcmp0 (lt_stream_row_get_key (LT_STREAM_ROW (row)), key) == 0)
        return GTK_WIDGET (row);
    }
}

gboolean
_lt_streams_page_get_folded (LtStreamsPage *self)
{
  return adw_leaflet_get_folded (self->leaflet);
}
