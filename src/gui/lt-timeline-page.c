/* lt-timeline-page.c: the Timeline page (see lt-timeline-page.h).
 *
 * The page owns the LtTimelineModel and feeds it: the streams that have recordings come
 * from the catalog (lt_timeline_list_streams), the ranges and — zoomed in — the slices of
 * the visible time plus a margin from lt_timeline_query_coverage/_slices, loaded a moment
 * after the visible time stops moving (a drag or a zoom moves it many times a second) and
 * cancelling the load before; the index files are the model's marks. While the stream
 * records and the page is on screen, the coverage is polled so that the live edge grows.
 *
 * "Create M3U8" goes through the same core call as CreateLiveStreamRecordIndexFiles, into
 * the local storage target: the bucket is the one the selected recording's slices are in
 * (so the playlist refers to them relatively), else the bucket of the rule that applies to
 * the stream, else "demo" (the local target's built-in bucket). */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-export.h"
#include "lt-index-files.h"
#include "lt-stream-text.h"
#include "lt-timeline-page.h"
#include "lt-timeline-text.h"
#include "lt-timeline-view.h"
#include "lt-timeline.h"

#define LOAD_DELAY_MS        100
#define POLL_INTERVAL_MS     3000
#define STREAMS_DELAY_MS     500
#define MAX_SLICES           20000
#define INDEX_FILES_LIMIT    100
#define FALLBACK_BUCKET      "demo"
#define OPEN_SPAN_US         G_TIME_SPAN_DAY

struct _LtTimelinePage
{
  AdwBin            parent_instance;

  LtEngine         *engine;             /* weak */
  LtCatalog        *catalog;
  LtTimelineModel  *model;
  GCancellable     *cancellable;        /* the page's lifetime */

  /* The streams offered. */
  GPtrArray        *streams;            /* LtTimelineStream */
  GtkStringList    *stream_keys;
  gboolean          listing;
  gboolean          list_again;
  gboolean          listed;
  gboolean          updating_list;
  guint             streams_refresh_id;

  /* The stream shown. */
  char             *domain;
  char             *app;
  char             *stream;
  gboolean          recording;

  /* Loading the visible time. */
  GCancellable     *load_cancellable;
  guint             load_id;
  guint             n_loads;
  guint             poll_id;
  GCancellable     *files_cancellable;
  gboolean          files_loading;

  /* Create M3U8. */
  gboolean          creating;
  LtIndexFile      *created;

  gboolean          disposed;

  /* Export MP4. */
  GtkFileChooserNative *chooser;
  LtExport         *export;
  GCancellable     *export_cancellable;
  double            export_progress;
  gboolean          export_done;

  /* The player window and its video (weak pointers). */
  GtkWidget        *player;
  GtkWidget        *video;

  GtkStack         *stack;
  GtkDropDown      *stream_dropdown;
  GtkLabel         *span_label;
  LtTimelineView   *view;
  AdwActionRow     *selection_row;
  GtkRevealer      *export_revealer;
  GtkProgressBar   *export_bar;
  GtkLabel         *error_label;
  GtkWidget        *result_group;
  AdwActionRow     *url_row;
  GtkLabel         *result_duration_label;
  GtkListBox       *files_list;
};

G_DEFINE_FINAL_TYPE (LtTimelinePage, lt_timeline_page, ADW_TYPE_BIN)

static void refresh_streams (LtTimelinePage *self);
static void refresh_files   (LtTimelinePage *self);
static void load_visible    (LtTimelinePage *self);
static void update_actions  (LtTimelinePage *self);
static void update_poll     (LtTimelinePage *self);

/* ---- text ---- */

/* "2026-11-22 00:50:00 – 00:56:00" (the date once when both ends are on the same day). */
static char *
format_range (gint64 start_us,
              gint64 end_us)
{
  return lt_timeline_text_span (start_us, end_us, "%Y-%m-%d %H:%M:%S");
}

/* ---- toasts ---- */

static void
add_toast (LtTimelinePage *self,
           AdwToast       *toast)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
  else
    g_object_unref (toast);
}

static void
show_toast (LtTimelinePage *self,
            const char     *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  add_toast (self, adw_toast_new (escaped));
}

static void
set_error (LtTimelinePage *self,
           const char     *message)
{
  gtk_label_set_label (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

/* ---- reveal in the file manager ---- */

typedef struct
{
  LtTimelinePage *page;
  char           *uri;
} RevealData;

static void
reveal_data_free (RevealData *data)
{
  g_clear_object (&data->page);
  g_free (data->uri);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RevealData, reveal_data_free)

static void
show_folder_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LtTimelinePage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!gtk_show_uri_full_finish (GTK_WINDOW (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *message = g_strdup_printf (_("Could not open the folder: %s"),
                                                  error->message);
      show_toast (self, message);
    }
}

/* Without a file manager that can point at the file, open its folder. */
static void
show_folder (RevealData *data)
{
  g_autoptr(GFile) file = g_file_new_for_uri (data->uri);
  g_autoptr(GFile) folder = g_file_get_parent (file);
  g_autofree char *folder_uri = folder != NULL ? g_file_get_uri (folder) : g_strdup (data->uri);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (data->page));

  if (root == NULL || !GTK_IS_WINDOW (root))
    return;
  gtk_show_uri_full (GTK_WINDOW (root), folder_uri, GDK_CURRENT_TIME, data->page->cancellable,
                     show_folder_cb, g_object_ref (data->page));
}

static void
show_items_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(RevealData) data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_folder (data);
}

static void
session_bus_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(RevealData) data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_finish (result, &error);
  const char *uris[] = { data->uri, NULL };
  GCancellable *cancellable = data->page->cancellable;

  if (bus == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_folder (data);
      return;
    }
  g_dbus_connection_call (bus, "org.freedesktop.FileManager1", "/org/freedesktop/FileManager1",
                          "org.freedesktop.FileManager1", "ShowItems",
                          g_variant_new ("(^ass)", uris, ""), NULL, G_DBUS_CALL_FLAGS_NONE,
                          5000, cancellable, show_items_cb, g_steal_pointer (&data));
}

/* Shows @path selected in the file manager (org.freedesktop.FileManager1), or its folder. */
static void
reveal_path (LtTimelinePage *self,
             const char     *path)
{
  RevealData *data;

  if (path == NULL)
    return;
  data = g_new0 (RevealData, 1);
  data->page = g_object_ref (self);
  data->uri = g_filename_to_uri (path, NULL, NULL);
  if (data->uri == NULL)
    {
      reveal_data_free (data);
      return;
    }
  g_bus_get (G_BUS_TYPE_SESSION, self->cancellable, session_bus_cb, data);
}

/* ---- the player ---- */

static void
play_path (LtTimelinePage *self,
           const char     *path,
           const char     *title,
           const char     *subtitle)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GtkMediaStream) media = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  AdwWindowTitle *window_title;
  GtkWidget *header;

  if (self->player == NULL)
    {
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
      GtkEventController *shortcuts = gtk_shortcut_controller_new ();
      GtkShortcut *close = gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("Escape"),
                                             gtk_named_action_new ("window.close"));

      header = adw_header_bar_new ();

      self->player = adw_window_new ();
      gtk_window_set_default_size (GTK_WINDOW (self->player), 854, 540);
      if (root != NULL && GTK_IS_WINDOW (root))
        gtk_window_set_transient_for (GTK_WINDOW (self->player), GTK_WINDOW (root));
      gtk_window_set_destroy_with_parent (GTK_WINDOW (self->player), TRUE);
      adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), adw_window_title_new ("", ""));
      gtk_box_append (GTK_BOX (box), header);
      self->video = gtk_video_new ();
      gtk_widget_set_vexpand (self->video, TRUE);
      gtk_video_set_autoplay (GTK_VIDEO (self->video), TRUE);
      gtk_box_append (GTK_BOX (box), self->video);
      adw_window_set_content (ADW_WINDOW (self->player), box);
      gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), close);
      gtk_widget_add_controller (self->player, shortcuts);
      g_object_add_weak_pointer (G_OBJECT (self->player), (gpointer *) &self->player);
      g_object_add_weak_pointer (G_OBJECT (self->video), (gpointer *) &self->video);
    }

  gtk_window_set_title (GTK_WINDOW (self->player), title);
  header = gtk_widget_get_first_child (adw_window_get_content (ADW_WINDOW (self->player)));
  window_title = ADW_WINDOW_TITLE (adw_header_bar_get_title_widget (ADW_HEADER_BAR (header)));
  adw_window_title_set_title (window_title, title);
  adw_window_title_set_subtitle (window_title, subtitle);
  /* GTK's media backend (GStreamer's playbin) plays the VOD playlist from its file. */
  media = gtk_media_file_new_for_file (file);
  gtk_video_set_media_stream (GTK_VIDEO (self->video), media);
  gtk_media_stream_play (media);
  gtk_window_present (GTK_WINDOW (self->player));
}

/* ---- the stream list ---- */

static LtTimelineStream *
stream_at (LtTimelinePage *self,
           guint           position)
{
  if (self->streams == NULL || position >= self->streams->len)
    return NULL;
  return g_ptr_array_index (self->streams, position);
}

static char *
stream_key (const LtTimelineStream *stream)
{
  return lt_stream_text_identity (stream->domain, stream->app, stream->stream);
}

static void
stream_item_setup_cb (GtkSignalListItemFactory *factory,
                      GtkListItem              *item,
                      gpointer                  user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new (NULL);
  GtkWidget *dot = gtk_image_new_from_icon_name ("media-record-symbolic");

  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  /* Enough of the name to tell streams apart on a narrow window. */
  gtk_label_set_width_chars (GTK_LABEL (label), 14);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 36);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (dot, "error");
  gtk_widget_set_tooltip_text (dot, _("Recording"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (dot), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Recording"), -1);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), dot);
  gtk_list_item_set_child (item, box);
}

static void
stream_item_bind_cb (GtkSignalListItemFactory *factory,
                     GtkListItem              *item,
                     LtTimelinePage           *self)
{
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkWidget *label = gtk_widget_get_first_child (box);
  GtkWidget *dot = gtk_widget_get_next_sibling (label);
  LtTimelineStream *stream = stream_at (self, gtk_list_item_get_position (item));

  gtk_label_set_label (GTK_LABEL (label),
                       gtk_string_object_get_string (gtk_list_item_get_item (item)));
  gtk_widget_set_visible (dot, stream != NULL && stream->recording);
}

static void
update_state (LtTimelinePage *self)
{
  const char *state;

  if (!self->listed)
    state = "loading";
  else if (self->streams == NULL || self->streams->len == 0)
    state = "empty";
  else
    state = "ready";
  gtk_stack_set_visible_child_name (self->stack, state);
}

/* The view shows @stream: bounds from its first recording (or a month back) to now,
 * zoomed to all of it, or to its last day when it is longer. */
static void
show_stream (LtTimelinePage         *self,
             const LtTimelineStream *stream)
{
  gint64 now = g_get_real_time ();
  gint64 first = stream->first_us;
  gint64 last = MAX (stream->last_us, first);
  /* The last day of it at most: what an operator comes back for, and a month of 6-second
   * slices would take the coverage query a good part of a second. */
  gint64 shown = MIN (last - first, OPEN_SPAN_US);
  gint64 pad = MAX (shown / 20, 10 * G_TIME_SPAN_SECOND);
  /* A month back at least, so that zooming out shows the recording in its month. */
  gint64 bounds_start = MIN (first - pad, now - LT_TIMELINE_MODEL_MAX_SPAN_US);
  gint64 bounds_end = MAX (now, last + pad);
  gint64 visible_start = last - shown - pad;
  gint64 visible_end = last + pad;

  g_free (self->domain);
  g_free (self->app);
  g_free (self->stream);
  self->domain = g_strdup (stream->domain);
  self->app = g_strdup (stream->app);
  self->stream = g_strdup (stream->stream);
  self->recording = stream->recording;

  g_cancellable_cancel (self->load_cancellable);
  g_clear_handle_id (&self->load_id, g_source_remove);
  lt_timeline_model_clear_selection (self->model);
  lt_timeline_model_set_ranges (self->model, NULL);
  lt_timeline_model_set_slices (self->model, NULL);
  lt_timeline_model_set_marks (self->model, NULL);
  lt_timeline_model_set_now (self->model, now);
  /* No clamping needed: 20 s (two 10 s pads) ≤ the visible span ≤ a day and a tenth, and
   * it starts at or after bounds_start; the model clamps anyway. */
  lt_timeline_model_set_bounds (self->model, bounds_start, bounds_end);
  lt_timeline_model_set_visible (self->model, visible_start, visible_end);

  gtk_widget_set_visible (self->result_group, FALSE);
  g_clear_pointer (&self->created, lt_index_file_free);
  set_error (self, NULL);

  /* Loaded now rather than after the debounce: this is what opening the page waits for. */
  load_visible (self);
  refresh_files (self);
  update_poll (self);
  update_actions (self);
}

static void
stream_selected_cb (LtTimelinePage *self)
{
  LtTimelineStream *stream;

  if (self->updating_list)
    return;
  stream = stream_at (self, gtk_drop_down_get_selected (self->stream_dropdown));
  if (stream == NULL)
    return;
  show_stream (self, stream);
}

static gboolean
same_streams (GPtrArray *a,
              GPtrArray *b)
{
  if (a == NULL || b == NULL || a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    {
      LtTimelineStream *x = g_ptr_array_index (a, i);
      LtTimelineStream *y = g_ptr_array_index (b, i);

      if (g_strcmp0 (x->domain, y->domain) != 0 || g_strcmp0 (x->app, y->app) != 0 ||
          g_strcmp0 (x->stream, y->stream) != 0 || x->recording != y->recording)
        return FALSE;
    }
  return TRUE;
}

static void
set_streams (LtTimelinePage *self,
             GPtrArray      *streams)
{
  gboolean same = same_streams (self->streams, streams);
  guint selected = GTK_INVALID_LIST_POSITION;
  guint n_old = g_list_model_get_n_items (G_LIST_MODEL (self->stream_keys));
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) keys = NULL;

  g_clear_pointer (&self->streams, g_ptr_array_unref);
  self->streams = g_ptr_array_ref (streams);

  for (guint i = 0; i < streams->len; i++)
    {
      LtTimelineStream *stream = g_ptr_array_index (streams, i);
      g_autofree char *key = stream_key (stream);

      if (self->stream != NULL && g_strcmp0 (stream->domain, self->domain) == 0 &&
          g_strcmp0 (stream->app, self->app) == 0 && g_strcmp0 (stream->stream, self->stream) == 0)
        {
          selected = i;
          if (self->recording != stream->recording)
            {
              /* The last range grows now, or says why it ended. */
              self->recording = stream->recording;
              update_poll (self);
              load_visible (self);
            }
        }
      g_strv_builder_add (builder, key);
    }

  if (!same)
    {
      /* The picker keeps showing the stream shown; rebuilding it must not reload it. */
      keys = g_strv_builder_end (builder);
      self->updating_list = TRUE;
      gtk_string_list_splice (self->stream_keys, 0, n_old, (const char * const *) keys);
      gtk_drop_down_set_selected (self->stream_dropdown,
                                  selected != GTK_INVALID_LIST_POSITION ? selected : 0);
      self->updating_list = FALSE;
    }

  self->listed = TRUE;
  update_state (self);
  if (selected == GTK_INVALID_LIST_POSITION && streams->len > 0)
    stream_selected_cb (self);
}

static void
streams_listed_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(LtTimelinePage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) streams = NULL;

  streams = lt_timeline_list_streams_finish (LT_CATALOG (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->listing = FALSE;
  if (streams == NULL)
    show_toast (self, error->message);
  else
    set_streams (self, streams);

  if (self->list_again)
    {
      self->list_again = FALSE;
      refresh_streams (self);
    }
}

static void
refresh_streams (LtTimelinePage *self)
{
  g_clear_handle_id (&self->streams_refresh_id, g_source_remove);
  if (self->catalog == NULL)
    return;
  if (self->listing)
    {
      self->list_again = TRUE;
      return;
    }
  self->listing = TRUE;
  lt_timeline_list_streams_async (self->catalog, self->cancellable, streams_listed_cb,
                                  g_object_ref (self));
}

static gboolean
streams_refresh_timeout_cb (gpointer user_data)
{
  LtTimelinePage *self = user_data;

  self->streams_refresh_id = 0;
  refresh_streams (self);
  return G_SOURCE_REMOVE;
}

/* Recordings start and stop in bursts (a restart of the ingest): one listing a moment
 * later covers them. */
static void
recordings_changed_cb (LtTimelinePage *self)
{
  if (self->streams_refresh_id == 0)
    self->streams_refresh_id = g_timeout_add (STREAMS_DELAY_MS, streams_refresh_timeout_cb, self);
}

/* ---- loading the visible time ---- */

typedef struct
{
  LtTimelinePage *page;
  GCancellable   *cancellable;
} LoadData;

static LoadData *
load_data_new (LtTimelinePage *self)
{
  LoadData *data = g_new0 (LoadData, 1);

  data->page = g_object_ref (self);
  data->cancellable = g_object_ref (self->load_cancellable);
  self->n_loads++;
  return data;
}

static void
load_data_free (LoadData *data)
{
  data->page->n_loads--;
  g_clear_object (&data->page);
  g_clear_object (&data->cancellable);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LoadData, load_data_free)

static void
coverage_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(LoadData) data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ranges = NULL;

  ranges = lt_timeline_query_coverage_finish (LT_CATALOG (object), result, &error);
  /* A newer load replaced this one. */
  if (g_cancellable_is_cancelled (data->cancellable))
    return;
  if (ranges == NULL)
    {
      show_toast (data->page, error->message);
      return;
    }
  lt_timeline_model_set_ranges (data->page->model, ranges);
}

static void
slices_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(LoadData) data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) slices = NULL;

  slices = lt_timeline_query_slices_finish (LT_CATALOG (object), result, &error);
  if (g_cancellable_is_cancelled (data->cancellable))
    return;
  if (slices == NULL)
    {
      show_toast (data->page, error->message);
      return;
    }
  lt_timeline_model_set_slices (data->page->model, slices);
}

static void
load_visible (LtTimelinePage *self)
{
  gint64 start = lt_timeline_model_get_visible_start (self->model);
  gint64 end = lt_timeline_model_get_visible_end (self->model);
  gint64 span = end - start;
  gint64 bounds_start = lt_timeline_model_get_bounds_start (self->model);
  gint64 bounds_end = lt_timeline_model_get_bounds_end (self->model);

  g_clear_handle_id (&self->load_id, g_source_remove);
  if (self->catalog == NULL || self->stream == NULL)
    return;

  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->load_cancellable = g_cancellable_new ();

  /* A margin of half a span on each side: a small pan shows data at once. */
  lt_timeline_query_coverage_async (self->catalog, self->domain, self->app, self->stream,
                                    MAX (start - span / 2, bounds_start),
                                    MIN (end + span / 2, bounds_end),
                                    self->load_cancellable, coverage_cb, load_data_new (self));
  if (span <= LT_TIMELINE_MODEL_SLICE_SPAN_US)
    lt_timeline_query_slices_async (self->catalog, self->domain, self->app, self->stream,
                                    MAX (start - span / 4, bounds_start),
                                    MIN (end + span / 4, bounds_end), MAX_SLICES,
                                    self->load_cancellable, slices_cb, load_data_new (self));
  else
    lt_timeline_model_set_slices (self->model, NULL);
}

static gboolean
load_timeout_cb (gpointer user_data)
{
  LtTimelinePage *self = user_data;

  self->load_id = 0;
  load_visible (self);
  return G_SOURCE_REMOVE;
}

static void
update_span_label (LtTimelinePage *self)
{
  gint64 start = lt_timeline_model_get_visible_start (self->model);
  gint64 end = lt_timeline_model_get_visible_end (self->model);
  g_autofree char *day = lt_timeline_text_time (start, "%Y-%m-%d");
  g_autofree char *span = lt_timeline_text_duration (end - start);

  g_autofree char *text = g_strdup_printf ("%s · %s", day, span);

  gtk_label_set_label (self->span_label, text);
}

static void
visible_changed_cb (LtTimelinePage *self)
{
  update_span_label (self);
  if (self->stream == NULL)
    return;
  g_clear_handle_id (&self->load_id, g_source_remove);
  self->load_id = g_timeout_add (LOAD_DELAY_MS, load_timeout_cb, self);
}

/* While the stream records and the page is shown, the live edge moves: the bounds end
 * now, a view that followed the edge keeps following it, and the coverage is reloaded. */
static gboolean
poll_cb (gpointer user_data)
{
  LtTimelinePage *self = user_data;
  gint64 now = g_get_real_time ();
  gint64 old_end = lt_timeline_model_get_bounds_end (self->model);
  gboolean following = lt_timeline_model_get_visible_end (self->model) >= old_end - G_USEC_PER_SEC;

  lt_timeline_model_set_now (self->model, now);
  if (now > old_end)
    {
      lt_timeline_model_set_bounds (self->model, lt_timeline_model_get_bounds_start (self->model),
                                    now);
      if (following)
        lt_timeline_model_pan (self->model, now - old_end);
    }
  load_visible (self);
  refresh_streams (self);
  return G_SOURCE_CONTINUE;
}

static void
update_poll (LtTimelinePage *self)
{
  gboolean want = self->recording && self->stream != NULL &&
                  gtk_widget_get_mapped (GTK_WIDGET (self));

  if (want && self->poll_id == 0)
    self->poll_id = g_timeout_add (POLL_INTERVAL_MS, poll_cb, self);
  else if (!want)
    g_clear_handle_id (&self->poll_id, g_source_remove);
}

/* ---- index files ---- */

typedef struct
{
  char *url;
  char *path;
  char *title;
  char *subtitle;
} FileRowData;

static void
file_row_data_free (FileRowData *data)
{
  g_free (data->url);
  g_free (data->path);
  g_free (data->title);
  g_free (data->subtitle);
  g_free (data);
}

static FileRowData *
file_row_data (GtkWidget *button)
{
  GtkWidget *row = gtk_widget_get_ancestor (button, ADW_TYPE_ACTION_ROW);

  return row != NULL ? g_object_get_data (G_OBJECT (row), "lt-index-file") : NULL;
}

static void
file_play_clicked_cb (GtkButton      *button,
                      LtTimelinePage *self)
{
  FileRowData *data = file_row_data (GTK_WIDGET (button));

  if (data != NULL)
    play_path (self, data->path, data->title, data->subtitle);
}

static void
copy_text (LtTimelinePage *self,
           const char     *text)
{
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
  show_toast (self, _("Address copied"));
}

static void
file_copy_clicked_cb (GtkButton      *button,
                      LtTimelinePage *self)
{
  FileRowData *data = file_row_data (GTK_WIDGET (button));

  if (data != NULL)
    copy_text (self, data->url);
}

static void
file_reveal_clicked_cb (GtkButton      *button,
                        LtTimelinePage *self)
{
  FileRowData *data = file_row_data (GTK_WIDGET (button));

  if (data != NULL)
    reveal_path (self, data->path);
}

static GtkWidget *
row_button (LtTimelinePage *self,
            const char     *icon,
            const char     *tooltip,
            GCallback       callback)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip,
                                  -1);
  gtk_widget_add_css_class (button, "flat");
  g_signal_connect_object (button, "clicked", callback, self, 0);
  return button;
}

static GtkWidget *
file_row_new (LtTimelinePage    *self,
              const LtIndexFile *file)
{
  GtkWidget *row = adw_action_row_new ();
  FileRowData *data = g_new0 (FileRowData, 1);
  GtkWidget *button;
  g_autofree char *duration = lt_timeline_text_duration (file->duration_us);
  g_autofree char *created = lt_timeline_text_time (file->create_time * G_USEC_PER_SEC,
                                                    "%Y-%m-%d %H:%M:%S");

  data->url = g_strdup (file->url);
  data->path = g_strdup (file->local_path);
  data->title = format_range (file->start_time_us, file->end_time_us);
  /* Translators: an index file's duration and when it was made. */
  data->subtitle = g_strdup_printf (_("%s · created %s"), duration, created);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), data->title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), data->subtitle);
  gtk_widget_set_tooltip_text (row, file->url);
  button = row_button (self, "media-playback-start-symbolic", _("Play"),
                       G_CALLBACK (file_play_clicked_cb));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  g_object_set_data (G_OBJECT (row), "lt-play", button);
  button = row_button (self, "edit-copy-symbolic", _("Copy Address"),
                       G_CALLBACK (file_copy_clicked_cb));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  g_object_set_data (G_OBJECT (row), "lt-copy", button);
  button = row_button (self, "folder-open-symbolic", _("Show in Files"),
                       G_CALLBACK (file_reveal_clicked_cb));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  g_object_set_data (G_OBJECT (row), "lt-reveal", button);
  g_object_set_data_full (G_OBJECT (row), "lt-index-file", data,
                          (GDestroyNotify) file_row_data_free);
  return row;
}

static void
files_listed_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(LtTimelinePage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = NULL;
  guint64 total = 0;
  GtkWidget *child;

  files = lt_index_files_list_finish (LT_CATALOG (object), result, &total, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->files_loading = FALSE;
  if (files == NULL)
    {
      show_toast (self, error->message);
      return;
    }

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->files_list))) != NULL)
    gtk_list_box_remove (self->files_list, child);
  for (guint i = 0; i < files->len; i++)
    gtk_list_box_append (self->files_list, file_row_new (self, g_ptr_array_index (files, i)));
  lt_timeline_model_set_marks (self->model, files);
}

static void
refresh_files (LtTimelinePage *self)
{
  if (self->catalog == NULL || self->stream == NULL)
    return;
  g_cancellable_cancel (self->files_cancellable);
  g_clear_object (&self->files_cancellable);
  self->files_cancellable = g_cancellable_new ();
  self->files_loading = TRUE;
  /* The latest ones are what the operator comes back for; the API pages through all. */
  lt_index_files_list_async (self->catalog, self->domain, self->app, self->stream,
                             0, G_MAXINT32 * G_GINT64_CONSTANT (16), TRUE, 1, INDEX_FILES_LIMIT,
                             self->files_cancellable, files_listed_cb, g_object_ref (self));
}

/* ---- the selection and Create M3U8 ---- */

static void
update_actions (LtTimelinePage *self)
{
  gboolean has_selection = lt_timeline_model_get_selection (self->model, NULL, NULL);
  gboolean has_stream = self->stream != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "timeline.zoom-selection", has_selection);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "timeline.create-playlist",
                                 has_stream && has_selection && !self->creating);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "timeline.export",
                                 has_stream && has_selection && self->export == NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "timeline.cancel-export",
                                 self->export != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "timeline.copy-url", self->created != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "timeline.play-result", self->created != NULL);
}

static void
selection_changed_cb (LtTimelinePage *self)
{
  gint64 start, end;

  if (lt_timeline_model_get_selection (self->model, &start, &end))
    {
      g_autofree char *range = format_range (start, end);
      g_autofree char *duration = lt_timeline_text_duration (end - start);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->selection_row), range);
      adw_action_row_set_subtitle (self->selection_row, duration);
    }
  else
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->selection_row),
                                     _("No Selection"));
      adw_action_row_set_subtitle (self->selection_row,
                                   _("Drag across the recorded time to select a range"));
    }
  update_actions (self);
}

/* Where the playlist goes: see the comment at the top. */
static const char *
choose_bucket (LtTimelinePage *self,
               gint64          start_us,
               gint64          end_us)
{
  GPtrArray *ranges = lt_timeline_model_get_ranges (self->model);
  LtRule *rule;

  for (guint i = 0; ranges != NULL && i < ranges->len; i++)
    {
      LtTimelineRange *range = g_ptr_array_index (ranges, i);

      if (range->end_us > start_us && range->start_us < end_us &&
          g_strcmp0 (range->target, "local") == 0 && range->bucket != NULL)
        return range->bucket;
    }
  rule = self->engine != NULL ? lt_rule_store_match (lt_engine_get_rule_store (self->engine),
                                                     self->domain, self->app, self->stream,
                                                     NULL)
                               : NULL;
  if (rule != NULL && lt_rule_get_oss_bucket (rule) != NULL)
    return lt_rule_get_oss_bucket (rule);
  return FALLBACK_BUCKET;
}

static void
show_created (LtTimelinePage *self)
{
  g_autofree char *duration = lt_timeline_text_duration (self->created->duration_us);
  g_autofree char *text = NULL;

  if (self->created->width > 0 && self->created->height > 0)
    text = g_strdup_printf ("%s · %d×%d", duration, self->created->width, self->created->height);
  else
    text = g_strdup (duration);
  adw_action_row_set_subtitle (self->url_row, self->created->url);
  gtk_label_set_label (self->result_duration_label, text);
  gtk_widget_set_visible (self->result_group, TRUE);
}

static void
created_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LtTimelinePage) self = user_data;
  g_autoptr(GError) error = NULL;
  LtIndexFile *file;

  file = lt_index_files_create_finish (LT_CATALOG (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->creating = FALSE;
  if (file == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("Could not create the playlist: %s"),
                                                  error->message);

      set_error (self, message);
      update_actions (self);
      return;
    }
  g_clear_pointer (&self->created, lt_index_file_free);
  self->created = file;
  show_created (self);
  refresh_files (self);
  update_actions (self);
}

static void
create_playlist (LtTimelinePage *self)
{
  LtIndexFileRequest request = { 0 };
  gint64 start, end;

  if (self->creating || self->stream == NULL || self->engine == NULL ||
      !lt_timeline_model_get_selection (self->model, &start, &end))
    return;

  request.domain = self->domain;
  request.app = self->app;
  request.stream = self->stream;
  /* The index files' times are whole seconds: round outwards, so that nothing selected
   * is left out. */
  request.start_time = start / G_USEC_PER_SEC;
  request.end_time = (end + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;
  request.end_time_included = FALSE;
  request.endpoint = "local";
  request.bucket = choose_bucket (self, start, end);
  request.object_template = NULL;

  self->creating = TRUE;
  set_error (self, NULL);
  update_actions (self);
  lt_index_files_create_async (self->catalog, lt_engine_get_local_storage_root (self->engine),
                               &request, self->cancellable, created_cb, g_object_ref (self));
}

/* ---- Export MP4 ---- */

static void
export_progress_cb (LtTimelinePage *self)
{
  double progress;
  g_autofree char *text = NULL;

  if (self->export == NULL)
    return;
  progress = CLAMP (lt_export_get_progress (self->export), 0.0, 1.0);
  self->export_progress = MAX (self->export_progress, progress);
  gtk_progress_bar_set_fraction (self->export_bar, progress);
  /* Translators: export progress, e.g. "Exporting… 42 %". */
  text = g_strdup_printf (_("Exporting… %d %%"), (int) (progress * 100 + 0.5));
  gtk_progress_bar_set_text (self->export_bar, text);
}

typedef struct
{
  LtTimelinePage *page;
  GFile          *file;
} ExportData;

static void
export_data_free (ExportData *data)
{
  g_clear_object (&data->page);
  g_clear_object (&data->file);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ExportData, export_data_free)

static void
exported_toast_clicked_cb (AdwToast   *toast,
                           ExportData *data)
{
  g_autofree char *path = g_file_get_path (data->file);

  reveal_path (data->page, path);
}

static void
exported_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(ExportData) data = user_data;
  LtTimelinePage *self = data->page;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = lt_export_run_finish (LT_EXPORT (object), result, &error);
  if (self->export == LT_EXPORT (object))
    {
      g_signal_handlers_disconnect_by_func (self->export, export_progress_cb, self);
      g_clear_object (&self->export);
    }
  if (self->disposed)
    return;
  gtk_revealer_set_reveal_child (self->export_revealer, FALSE);
  update_actions (self);

  if (ok)
    {
      g_autofree char *name = g_file_get_basename (data->file);
      g_autofree char *escaped = g_markup_escape_text (name, -1);
      g_autofree char *title = g_strdup_printf (_("Exported “%s”"), escaped);
      AdwToast *toast = adw_toast_new (title);

      /* No progress set here: the export reached 1.0 on its own before finishing, and
       * the tests check that the bar showed it. */
      self->export_done = TRUE;
      adw_toast_set_button_label (toast, _("_Open Folder"));
      g_signal_connect_data (toast, "button-clicked", G_CALLBACK (exported_toast_clicked_cb),
                             g_steal_pointer (&data), (GClosureNotify) export_data_free, 0);
      add_toast (self, toast);
    }
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *message = g_strdup_printf (_("Could not export: %s"), error->message);

      set_error (self, message);
    }
}

static void
start_export (LtTimelinePage *self,
              GFile          *file)
{
  ExportData *data;
  gint64 start, end;

  if (self->export != NULL || self->stream == NULL ||
      !lt_timeline_model_get_selection (self->model, &start, &end))
    return;

  self->export = lt_export_new (self->catalog, self->domain, self->app, self->stream,
                                start, end, file);
  self->export_progress = 0;
  self->export_done = FALSE;
  g_clear_object (&self->export_cancellable);
  self->export_cancellable = g_cancellable_new ();
  g_signal_connect_object (self->export, "notify::progress", G_CALLBACK (export_progress_cb),
                           self, G_CONNECT_SWAPPED);
  set_error (self, NULL);
  export_progress_cb (self);
  gtk_revealer_set_reveal_child (self->export_revealer, TRUE);
  update_actions (self);

  data = g_new0 (ExportData, 1);
  data->page = g_object_ref (self);
  data->file = g_object_ref (file);
  lt_export_run_async (self->export, self->export_cancellable, exported_cb, data);
}

static void
chooser_response_cb (GtkNativeDialog *dialog,
                     int              response,
                     LtTimelinePage  *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      if (file != NULL)
        start_export (self, file);
    }
  g_clear_object (&self->chooser);
}

static void
export_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  LtTimelinePage *self = LT_TIMELINE_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *stamp = NULL;
  g_autofree char *name = NULL;
  const char *videos = g_get_user_special_dir (G_USER_DIRECTORY_VIDEOS);
  gint64 start, end;

  if (self->chooser != NULL || !lt_timeline_model_get_selection (self->model, &start, &end))
    return;

  self->chooser = gtk_file_chooser_native_new (_("Export MP4"),
                                               root != NULL && GTK_IS_WINDOW (root)
                                               ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_SAVE,
                                               _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  gtk_file_filter_set_name (filter, _("MP4 Video"));
  gtk_file_filter_add_mime_type (filter, "video/mp4");
  gtk_file_filter_add_suffix (filter, "mp4");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  stamp = lt_timeline_text_time (start, "%Y%m%d-%H%M%S");
  name = g_strdup_printf ("%s-%s.mp4", self->stream, stamp);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
  if (videos != NULL && g_file_test (videos, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GFile) folder = g_file_new_for_path (videos);

      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), folder, NULL);
    }
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (chooser_response_cb), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* ---- actions ---- */

static gint64
visible_middle (LtTimelinePage *self)
{
  return lt_timeline_model_get_visible_start (self->model) +
         (lt_timeline_model_get_visible_end (self->model) -
          lt_timeline_model_get_visible_start (self->model)) / 2;
}

static void
zoom_in_activated (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  LtTimelinePage *self = LT_TIMELINE_PAGE (widget);

  lt_timeline_model_zoom (self->model, 2.0, visible_middle (self));
}

static void
zoom_out_activated (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  LtTimelinePage *self = LT_TIMELINE_PAGE (widget);

  lt_timeline_model_zoom (self->model, 0.5, visible_middle (self));
}

static void
zoom_selection_activated (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  lt_timeline_model_zoom_to_selection (LT_TIMELINE_PAGE (widget)->model);
}

/* Keeps the span, ending at the live edge (or the last recording). */
static void
now_activated (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  LtTimelinePage *self = LT_TIMELINE_PAGE (widget);
  gint64 span = lt_timeline_model_get_visible_end (self->model) -
                lt_timeline_model_get_visible_start (self->model);
  gint64 end = lt_timeline_model_get_bounds_end (self->model);

  lt_timeline_model_set_visible (self->model, end - span, end);
}

static void
create_playlist_activated (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  create_playlist (LT_TIMELINE_PAGE (widget));
}

static void
cancel_export_activated (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  LtTimelinePage *self = LT_TIMELINE_PAGE (widget);

  if (self->export_cancellable != NULL)
    g_cancellable_cancel (self->export_cancellable);
}

static void
copy_url_activated (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  LtTimelinePage *self = LT_TIMELINE_PAGE (widget);

  if (self->created != NULL)
    copy_text (self, self->created->url);
}

static void
play_result_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  LtTimelinePage *self = LT_TIMELINE_PAGE (widget);
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;

  if (self->created == NULL)
    return;
  title = lt_stream_text_identity (self->created->domain, self->created->app,
                                   self->created->stream);
  subtitle = format_range (self->created->start_time_us, self->created->end_time_us);
  play_path (self, self->created->local_path, title, subtitle);
}

/* ---- GObject ---- */

static void
lt_timeline_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (lt_timeline_page_parent_class)->map (widget);
  update_poll (LT_TIMELINE_PAGE (widget));
}

static void
lt_timeline_page_unmap (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (lt_timeline_page_parent_class)->unmap (widget);
  update_poll (LT_TIMELINE_PAGE (widget));
}

static void
lt_timeline_page_dispose (GObject *object)
{
  LtTimelinePage *self = LT_TIMELINE_PAGE (object);

  self->disposed = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->load_cancellable);
  g_cancellable_cancel (self->files_cancellable);
  if (self->export_cancellable != NULL)
    g_cancellable_cancel (self->export_cancellable);
  g_clear_handle_id (&self->load_id, g_source_remove);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_handle_id (&self->streams_refresh_id, g_source_remove);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  /* The player may outlive the page a moment (its pipeline stopping): let go of it. */
  g_clear_weak_pointer (&self->video);
  if (self->player != NULL)
    {
      GtkWidget *player = self->player;

      g_clear_weak_pointer (&self->player);
      gtk_window_destroy (GTK_WINDOW (player));
    }
  if (self->export != NULL)
    g_signal_handlers_disconnect_by_func (self->export, export_progress_cb, self);
  g_clear_object (&self->export);
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  /* The stack is both the bin's child and a template child (see lt-sync-page.c). */
  adw_bin_set_child (ADW_BIN (self), NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), LT_TYPE_TIMELINE_PAGE);
  g_clear_weak_pointer (&self->engine);
  g_clear_object (&self->catalog);

  G_OBJECT_CLASS (lt_timeline_page_parent_class)->dispose (object);
}

static void
lt_timeline_page_finalize (GObject *object)
{
  LtTimelinePage *self = LT_TIMELINE_PAGE (object);

  g_clear_object (&self->model);
  g_clear_object (&self->stream_keys);
  g_clear_pointer (&self->streams, g_ptr_array_unref);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->load_cancellable);
  g_clear_object (&self->files_cancellable);
  g_clear_object (&self->export_cancellable);
  g_clear_pointer (&self->created, lt_index_file_free);
  g_free (self->domain);
  g_free (self->app);
  g_free (self->stream);

  G_OBJECT_CLASS (lt_timeline_page_parent_class)->finalize (object);
}

static void
lt_timeline_page_class_init (LtTimelinePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lt_timeline_page_dispose;
  object_class->finalize = lt_timeline_page_finalize;
  widget_class->map = lt_timeline_page_map;
  widget_class->unmap = lt_timeline_page_unmap;

  g_type_ensure (LT_TYPE_TIMELINE_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/livetape/Livetape/lt-timeline-page.ui");
  gtk_widget_class_bind_template_child (widget_class, LtTimelinePage, stack);
  gtk_widget_class_bind_template_child (widget_class, LtTimelinePage, stream_dropdown);
  gtk_widget_class_bind_template_child (widget_class, LtTimelinePage, span_label);
  gtk_widget_class_bind_template_child (widget_class, LtTimelinePage, view);
  gtk_widget_class_bind_template_child (widget_class, LtTimelinePage, selection_row);
  gtk_widget_class_bind_template_child (widget_class, LtTimelinePage, export_revealer);
  gtk_widget_class_bind_template_child (widget_class, LtTimelinePage, export_bar);
  gtk_widget_class_bind_template_child (widget_class, LtTimelinePage, error_label);
  gtk_widget_class_bind_template_child (widget_class, LtTimelinePage, result_group);
  gtk_widget_class_bind_template_child (widget_class, LtTimelinePage, url_row);
  gtk_widget_class_bind_template_child (widget_class, LtTimelinePage, result_duration_label);
  gtk_widget_class_bind_template_child (widget_class, LtTimelinePage, files_list);

  gtk_widget_class_install_action (widget_class, "timeline.zoom-in", NULL, zoom_in_activated);
  gtk_widget_class_install_action (widget_class, "timeline.zoom-out", NULL, zoom_out_activated);
  gtk_widget_class_install_action (widget_class, "timeline.zoom-selection", NULL,
                                   zoom_selection_activated);
  gtk_widget_class_install_action (widget_class, "timeline.now", NULL, now_activated);
  gtk_widget_class_install_action (widget_class, "timeline.create-playlist", NULL,
                                   create_playlist_activated);
  gtk_widget_class_install_action (widget_class, "timeline.export", NULL, export_activated);
  gtk_widget_class_install_action (widget_class, "timeline.cancel-export", NULL,
                                   cancel_export_activated);
  gtk_widget_class_install_action (widget_class, "timeline.copy-url", NULL, copy_url_activated);
  gtk_widget_class_install_action (widget_class, "timeline.play-result", NULL,
                                   play_result_activated);
}

static void
lt_timeline_page_init (LtTimelinePage *self)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  GtkWidget *placeholder;

  self->cancellable = g_cancellable_new ();
  self->load_cancellable = g_cancellable_new ();
  self->files_cancellable = g_cancellable_new ();
  self->model = lt_timeline_model_new ();
  self->stream_keys = gtk_string_list_new (NULL);

  gtk_widget_init_template (GTK_WIDGET (self));

  lt_timeline_view_set_model (self->view, self->model);
  g_signal_connect_swapped (self->model, "visible-changed", G_CALLBACK (visible_changed_cb), self);
  g_signal_connect_swapped (self->model, "selection-changed", G_CALLBACK (selection_changed_cb),
                            self);

  g_signal_connect (factory, "setup", G_CALLBACK (stream_item_setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (stream_item_bind_cb), self);
  gtk_drop_down_set_factory (self->stream_dropdown, factory);
  gtk_drop_down_set_model (self->stream_dropdown, G_LIST_MODEL (self->stream_keys));
  g_signal_connect_object (self->stream_dropdown, "notify::selected",
                           G_CALLBACK (stream_selected_cb), self, G_CONNECT_SWAPPED);

  placeholder = gtk_label_new (_("No index files yet"));
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 12);
  gtk_widget_set_margin_bottom (placeholder, 12);
  gtk_list_box_set_placeholder (self->files_list, placeholder);

  update_span_label (self);
  selection_changed_cb (self);
  update_state (self);
}

GtkWidget *
lt_timeline_page_new (void)
{
  return g_object_new (LT_TYPE_TIMELINE_PAGE, NULL);
}

void
lt_timeline_page_set_engine (LtTimelinePage *self,
                             LtEngine       *engine)
{
  LtRecordingManager *manager;

  g_return_if_fail (LT_IS_TIMELINE_PAGE (self));
  g_return_if_fail (LT_IS_ENGINE (engine));
  g_return_if_fail (self->engine == NULL);

  /* Weak: work still on its way back from the catalog may hold the page after the window
   * is gone, and must not keep the engine alive past its shutdown. */
  g_set_weak_pointer (&self->engine, engine);
  self->catalog = g_object_ref (lt_engine_get_catalog (engine));
  manager = lt_engine_get_recording_manager (engine);
  if (manager != NULL)
    g_signal_connect_object (lt_recording_manager_get_recordings (manager), "items-changed",
                             G_CALLBACK (recordings_changed_cb), self, G_CONNECT_SWAPPED);
  refresh_streams (self);
}

/* ---- for tests ---- */

const char *
_lt_timeline_page_get_state (LtTimelinePage *self)
{
  return gtk_stack_get_visible_child_name (self->stack);
}

guint
_lt_timeline_page_get_n_streams (LtTimelinePage *self)
{
  return self->streams != NULL ? self->streams->len : 0;
}

gboolean
_lt_timeline_page_select_stream (LtTimelinePage *self,
                                 const char     *key)
{
  for (guint i = 0; self->streams != NULL && i < self->streams->len; i++)
    {
      g_autofree char *other = stream_key (g_ptr_array_index (self->streams, i));

      if (g_strcmp0 (other, key) == 0)
        {
          if (gtk_drop_down_get_selected (self->stream_dropdown) == i)
            stream_selected_cb (self);
          else
            gtk_drop_down_set_selected (self->stream_dropdown, i);
          return TRUE;
        }
    }
  return FALSE;
}

LtTimelineModel *
_lt_timeline_page_get_model (LtTimelinePage *self)
{
  return self->model;
}

GtkWidget *
_lt_timeline_page_get_view (LtTimelinePage *self)
{
  return GTK_WIDGET (self->view);
}

gboolean
_lt_timeline_page_is_polling (LtTimelinePage *self)
{
  return self->poll_id != 0;
}

gboolean
_lt_timeline_page_is_loading (LtTimelinePage *self)
{
  return self->load_id != 0 || self->n_loads > 0 || self->files_loading;
}

const char *
_lt_timeline_page_get_span_text (LtTimelinePage *self)
{
  return gtk_label_get_label (self->span_label);
}

char *
_lt_timeline_page_dup_selection_text (LtTimelinePage *self)
{
  if (!lt_timeline_model_get_selection (self->model, NULL, NULL))
    return NULL;
  return g_strdup_printf ("%s (%s)",
                          adw_preferences_row_get_title (ADW_PREFERENCES_ROW (self->selection_row)),
                          adw_action_row_get_subtitle (self->selection_row));
}

void
_lt_timeline_page_create_m3u8 (LtTimelinePage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "timeline.create-playlist", NULL);
}

gboolean
_lt_timeline_page_is_creating (LtTimelinePage *self)
{
  return self->creating;
}

const LtIndexFile *
_lt_timeline_page_get_created (LtTimelinePage *self)
{
  return self->created;
}

const char *
_lt_timeline_page_get_url_text (LtTimelinePage *self)
{
  if (!gtk_widget_get_visible (self->result_group))
    return NULL;
  return adw_action_row_get_subtitle (self->url_row);
}

const char *
_lt_timeline_page_get_error_text (LtTimelinePage *self)
{
  if (!gtk_widget_get_visible (GTK_WIDGET (self->error_label)))
    return NULL;
  return gtk_label_get_label (self->error_label);
}

void
_lt_timeline_page_play_created (LtTimelinePage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "timeline.play-result", NULL);
}

GtkWidget *
_lt_timeline_page_get_video (LtTimelinePage *self)
{
  return self->video;
}

void
_lt_timeline_page_export_to (LtTimelinePage *self,
                             GFile          *file)
{
  start_export (self, file);
}

gboolean
_lt_timeline_page_is_exporting (LtTimelinePage *self)
{
  return self->export != NULL;
}

double
_lt_timeline_page_get_export_progress (LtTimelinePage *self)
{
  return self->export_progress;
}

gboolean
_lt_timeline_page_get_export_done (LtTimelinePage *self)
{
  return self->export_done;
}

guint
_lt_timeline_page_count_index_rows (LtTimelinePage *self)
{
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->files_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (ADW_IS_ACTION_ROW (child))
      n++;
  return n;
}

GtkWidget *
_lt_timeline_page_get_index_row (LtTimelinePage *self,
                                 guint           i)
{
  return GTK_WIDGET (gtk_list_box_get_row_at_index (self->files_list, (int) i));
}

GtkWidget *
_lt_timeline_page_get_row_button (GtkWidget  *row,
                                  const char *which)
{
  g_autofree char *key = g_strconcat ("lt-", which, NULL);

  return row != NULL ? g_object_get_data (G_OBJECT (row), key) : NULL;
}
