/* test-gui-timeline.c: the Timeline page, driven through the real window under Xvfb, over
 * a real engine whose catalog holds real TS slices made by ffmpeg: two recording sessions
 * of a stream with a gap between them.
 *
 * - Nothing recorded: the empty state.
 * - The stream is offered and shown: its two ranges, the time it takes to open (printed).
 * - The view's own input handlers (its key, scroll and drag controllers, their signals
 *   emitted as GTK would: Xvfb has no XTEST here to inject real events) zoom, pan and
 *   select a range across both sessions, snapping to slice boundaries; zoomed in, the
 *   slices are loaded one by one.
 * - Create M3U8: the playlist exists, its URL is shown, it plays in the app's GtkVideo
 *   (prepared and playing, no error, the duration of the slices ± one slice); the index
 *   file list shows it and the model has it as a mark; a range in the gap says why not.
 * - Its address is copied to the clipboard.
 * - Export MP4: cancelled, nothing is left; run, the progress reaches 1 and ffprobe finds
 *   the expected duration.
 * - A session still recording: the page polls while shown, and a new slice shows up.
 * - Reveal in the file manager asks org.freedesktop.FileManager1 (a fake one on the
 *   session bus, in this process) to show the playlist.
 * Screenshots (light, dark, narrow, zh_CN) are kept in $LT_TEST_OUTPUT_DIR/screenshots. */
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "lt-catalog.h"
#include "lt-engine.h"
#include "lt-test-gui.h"
#include "lt-test-utils.h"
#include "lt-timeline-page.h"
#include "lt-timeline-text.h"
#include "lt-timeline-view.h"
#include "lt-window-private.h"

#define DOMAIN     "example.com"
#define STREAM_KEY "example.com/live/cam"
#define BUCKET     "recordings"
#define N_SLICES   6
#define GAP_S      40

typedef struct
{
  char           *data_dir;
  LtEngine       *engine;
  LtWindow       *window;
  LtTimelinePage *page;
  LtTimelineModel *model;
  LtTimelineView *view;

  gint64          slice_start[N_SLICES];
  gint64          slice_duration[N_SLICES];
  gint64          total_us;
} Fixture;

static gboolean
pointer_is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

/* ---- tools ---- */

/* Runs @argv, returns its stdout; fails the test when it fails. */
static char *
run (const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int status;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("%s failed: %s\n%s", argv[0], error->message, err);
  return out;
}

static double
probe_duration (const char *path)
{
  const char *argv[] = { "ffprobe", "-v", "error", "-show_entries", "format=duration",
                         "-of", "csv=p=0", path, NULL };
  g_autofree char *out = run (argv);

  return g_ascii_strtod (out, NULL);
}

/* ---- the catalog ---- */

static gpointer
exec_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  return lt_catalog_exec (db, data, error) ? GINT_TO_POINTER (TRUE) : NULL;
}

static void
sql (Fixture    *f,
     const char *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (lt_catalog_run_sync (lt_engine_get_catalog (f->engine), exec_job,
                                         (gpointer) text, &error));
  g_assert_no_error (error);
}

/* Six 2-second slices by ffmpeg in the local target's "recordings" bucket, catalogued as
 * two sessions of three slices, GAP_S apart, ending half an hour ago. */
static void
add_recording (Fixture *f)
{
  const char *root = lt_engine_get_local_storage_root (f->engine);
  g_autofree char *folder = g_build_filename (root, BUCKET, "record", "live", "cam", NULL);
  g_autofree char *pattern = g_build_filename (folder, "slice-%03d.ts", NULL);
  gint64 t0 = (g_get_real_time () / G_USEC_PER_SEC - 1800) * G_USEC_PER_SEC;
  gint64 at = t0;
  const char *ffmpeg[] = {
    "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
    "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
    "-t", "12", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-keyint_min", "50",
    "-sc_threshold", "0", "-c:a", "aac", "-f", "segment", "-segment_time", "2",
    "-segment_format", "mpegts", pattern, NULL
  };

  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  g_free (run (ffmpeg));

  sql (f, "INSERT INTO streams (id, domain, app, stream, first_seen, last_seen) "
          "VALUES (1, '" DOMAIN "', 'live', 'cam', 0, 0)");
  f->total_us = 0;
  for (guint i = 0; i < N_SLICES; i++)
    {
      g_autofree char *name = g_strdup_printf ("slice-%03u.ts", i);
      g_autofree char *local = g_build_filename (folder, name, NULL);
      g_autofree char *key = g_strconcat ("record/live/cam/", name, NULL);
      gint64 duration = (gint64) (probe_duration (local) * G_USEC_PER_SEC);
      guint session = 1 + i / 3;
      char *text;

      if (i == 3)
        at += GAP_S * G_USEC_PER_SEC;
      if (i % 3 == 0)
        {
          text = sqlite3_mprintf ("INSERT INTO sessions (id, stream_id, rule_json, trigger_kind,"
                                  " state, started_at_us, ended_at_us, end_reason)"
                                  " VALUES (%u, 1, '{}', 'auto', 'ended', %lld, %lld,"
                                  " 'merge_window_expired')",
                                  session, (long long) at, (long long) (at + 6 * G_USEC_PER_SEC));
          sql (f, text);
          sqlite3_free (text);
        }
      text = sqlite3_mprintf ("INSERT INTO slices (session_id, stream_id, sequence, start_time_us,"
                              " duration_us, target, bucket, object_key, local_path, width, height,"
                              " state) VALUES (%u, 1, %u, %lld, %lld, 'local', '" BUCKET "', %Q, %Q,"
                              " 320, 240, 'closed')",
                              session, i, (long long) at, (long long) duration, key, local);
      sql (f, text);
      sqlite3_free (text);
      f->slice_start[i] = at;
      f->slice_duration[i] = duration;
      f->total_us += duration;
      at += duration;
    }
  /* The sessions end where their last slices end. */
  {
    char *text = sqlite3_mprintf ("UPDATE sessions SET ended_at_us = CASE id WHEN 1 THEN %lld"
                                  " ELSE %lld END",
                                  (long long) (f->slice_start[2] + f->slice_duration[2]),
                                  (long long) (f->slice_start[5] + f->slice_duration[5]));
    sql (f, text);
    sqlite3_free (text);
  }
}

/* ---- fixture ---- */

static LtTimelinePage *
find_page (GtkWidget *widget)
{
  if (LT_IS_TIMELINE_PAGE (widget))
    return LT_TIMELINE_PAGE (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      LtTimelinePage *page = find_page (child);

      if (page != NULL)
        return page;
    }
  return NULL;
}

static void
fixture_set_up_with (Fixture  *f,
                     gboolean  recorded)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lt_test_gui_load_style ();
  f->data_dir = lt_test_make_temp_dir ();
  f->engine = lt_engine_new (f->data_dir);
  lt_engine_set_ingest_enabled (f->engine, FALSE);
  lt_engine_set_api_listen (f->engine, NULL);
  lt_engine_start_async (f->engine, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_engine_start_finish (f->engine, result, &error);
  g_assert_no_error (error);
  if (recorded)
    add_recording (f);

  f->window = lt_window_new (NULL, NULL);
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1000, 760);
  lt_window_set_engine (f->window, f->engine);
  g_assert_cmpstr (_lt_window_get_state (f->window), ==, "main");
  _lt_window_set_page (f->window, "timeline");
  f->page = find_page (GTK_WIDGET (f->window));
  g_assert_nonnull (f->page);
  f->model = _lt_timeline_page_get_model (f->page);
  f->view = LT_TIMELINE_VIEW (_lt_timeline_page_get_view (f->page));
  gtk_window_present (GTK_WINDOW (f->window));
  lt_test_wait_until ((LtTestCondition) gtk_widget_get_mapped, f->window, 5000, "the window");
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  user_data)
{
  fixture_set_up_with (f, TRUE);
}

static void
fixture_set_up_empty (Fixture       *f,
                      gconstpointer  user_data)
{
  fixture_set_up_with (f, FALSE);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  user_data)
{
  LtWindow *window = f->window;
  LtTimelinePage *page = f->page;

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  g_object_add_weak_pointer (G_OBJECT (page), (gpointer *) &page);
  gtk_window_destroy (GTK_WINDOW (f->window));
  lt_test_wait_until (pointer_is_null, &window, 5000, "the window to be finalized");
  /* Work still on its way back (a catalog query) holds the page, and so the engine. */
  lt_test_wait_until (pointer_is_null, &page, 5000, "the page to be finalized");

  lt_engine_shutdown (f->engine);
  g_assert_finalize_object (f->engine);
  g_free (f->data_dir);
}

static void
fixture_set_up_zh_CN (Fixture       *f,
                      gconstpointer  user_data)
{
  lt_test_use_language ("zh_CN");
  fixture_set_up (f, user_data);
}

static void
fixture_tear_down_zh_CN (Fixture       *f,
                         gconstpointer  user_data)
{
  fixture_tear_down (f, user_data);
  lt_test_use_language (NULL);
}

/* ---- helpers ---- */

static gboolean
page_ready (gpointer data)
{
  Fixture *f = data;

  return g_strcmp0 (_lt_timeline_page_get_state (f->page), "ready") == 0 &&
         !_lt_timeline_page_is_loading (f->page) &&
         lt_timeline_model_get_ranges (f->model) != NULL;
}

static gboolean
page_listed (gpointer data)
{
  return g_strcmp0 (_lt_timeline_page_get_state (data), "loading") != 0;
}

static gboolean
page_idle (gpointer data)
{
  return !_lt_timeline_page_is_loading (data);
}

static void
wait_loaded (Fixture *f)
{
  /* The debounce first, then the queries. */
  lt_test_spin (150);
  lt_test_wait_until (page_idle, f->page, 5000, "the page to load");
}

static gint64
span (Fixture *f)
{
  return lt_timeline_model_get_visible_end (f->model) - lt_timeline_model_get_visible_start (f->model);
}

static GtkEventController *
view_controller (Fixture    *f,
                 const char *name)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (f->view));

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (g_strcmp0 (gtk_event_controller_get_name (controller), name) == 0)
        return controller;
    }
  g_error ("the view has no controller %s", name);
  return NULL;
}

static void
press_key (Fixture *f,
           guint    keyval,
           GdkModifierType state)
{
  gboolean handled = FALSE;

  g_signal_emit_by_name (view_controller (f, "lt-timeline-key"), "key-pressed", keyval, 0,
                         state, &handled);
  g_assert_true (handled);
}

static void
ctrl_scroll (Fixture *f,
             double   dy)
{
  GtkEventController *key = view_controller (f, "lt-timeline-key");
  gboolean handled = FALSE;

  gtk_widget_grab_focus (GTK_WIDGET (f->view));
  g_signal_emit_by_name (key, "modifiers", GDK_CONTROL_MASK, &handled);
  g_signal_emit_by_name (view_controller (f, "lt-timeline-scroll"), "scroll", 0.0, dy, &handled);
  g_assert_true (handled);
  g_signal_emit_by_name (key, "modifiers", 0, &handled);
}

/* A drag on the ranges' lane from @from_us to @to_us, as the drag gesture reports it. */
static void
drag_select (Fixture *f,
             gint64   from_us,
             gint64   to_us)
{
  GtkEventController *drag = view_controller (f, "lt-timeline-drag");
  double y = _lt_timeline_view_lane_y (f->view);
  double x0 = _lt_timeline_view_time_to_x (f->view, from_us);
  double x1 = _lt_timeline_view_time_to_x (f->view, to_us);

  g_assert_cmpfloat (x0, >=, 0);
  g_assert_cmpfloat (x1, <=, gtk_widget_get_width (GTK_WIDGET (f->view)));
  g_signal_emit_by_name (drag, "drag-begin", x0, y);
  for (int step = 1; step <= 10; step++)
    g_signal_emit_by_name (drag, "drag-update", (x1 - x0) * step / 10, 0.0);
  g_signal_emit_by_name (drag, "drag-end", x1 - x0, 0.0);
}

static gboolean
frame_painted_cb (GtkWidget     *widget,
                  GdkFrameClock *clock,
                  gpointer       user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Shows the stream again and measures how long until its ranges are drawn. */
static void
open_stream (Fixture *f)
{
  gboolean painted = FALSE;
  gint64 begin;

  begin = g_get_monotonic_time ();
  g_assert_true (_lt_timeline_page_select_stream (f->page, STREAM_KEY));
  lt_test_wait_until (page_ready, f, 5000, "the stream's ranges");
  gtk_widget_add_tick_callback (GTK_WIDGET (f->view), frame_painted_cb, &painted, NULL);
  gtk_widget_queue_draw (GTK_WIDGET (f->view));
  lt_test_wait_for (&painted, 5000);
  /* The tick runs before the frame's paint: one more iteration paints it. */
  g_main_context_iteration (NULL, FALSE);
  g_test_message ("opening the Timeline page of a stream (2 ranges, %d slices): %.1f ms",
                  N_SLICES, (g_get_monotonic_time () - begin) / 1000.0);
}

static void
select_everything (Fixture *f)
{
  gint64 first = f->slice_start[0];
  gint64 last = f->slice_start[N_SLICES - 1] + f->slice_duration[N_SLICES - 1];
  gint64 start, end;

  lt_timeline_model_set_visible (f->model, first - 10 * G_USEC_PER_SEC,
                                 last + 10 * G_USEC_PER_SEC);
  wait_loaded (f);
  /* A little before the first slice and a little after the last: snapping takes the drag
   * to the ranges' ends, or the selection reaches past them; both select every slice. */
  drag_select (f, first - G_USEC_PER_SEC / 2, last + G_USEC_PER_SEC / 2);
  g_assert_true (lt_timeline_model_get_selection (f->model, &start, &end));
  g_test_message ("selection %" G_GINT64_FORMAT " µs from the first slice to %" G_GINT64_FORMAT
                  " µs from the last slice's end", start - first, end - last);
  g_assert_cmpint (start, <=, first + 1);
  g_assert_cmpint (end, >=, last - 1);
  /* The selection box says this selection: its ends and its length. */
  {
    g_autofree char *text = _lt_timeline_page_dup_selection_text (f->page);
    g_autofree char *range = lt_timeline_text_span (start, end, "%Y-%m-%d %H:%M:%S");
    g_autofree char *duration = lt_timeline_text_duration (end - start);
    g_autofree char *expected = g_strdup_printf ("%s (%s)", range, duration);

    g_assert_cmpstr (text, ==, expected);
  }
}

static gboolean
not_creating (gpointer data)
{
  return !_lt_timeline_page_is_creating (data);
}

static void
create_m3u8 (Fixture *f)
{
  _lt_timeline_page_create_m3u8 (f->page);
  g_assert_true (_lt_timeline_page_is_creating (f->page));
  lt_test_wait_until (not_creating, f->page, 10000, "Create M3U8");
}

/* ---- tests ---- */

static void
test_empty (Fixture       *f,
            gconstpointer  user_data)
{
  lt_test_wait_until (page_listed, f->page, 5000, "the stream list");
  g_assert_cmpstr (_lt_timeline_page_get_state (f->page), ==, "empty");
  g_assert_cmpuint (_lt_timeline_page_get_n_streams (f->page), ==, 0);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "timeline-empty.png");
}

static void
test_navigate (Fixture       *f,
               gconstpointer  user_data)
{
  GPtrArray *ranges;
  GArray *slices;
  const LtTimelineRange *range;
  gint64 before;

  lt_test_wait_until (page_ready, f, 5000, "the stream list");
  g_assert_cmpuint (_lt_timeline_page_get_n_streams (f->page), ==, 1);
  open_stream (f);

  /* Opened on the whole recording: both sessions, one range each, the gap between. */
  ranges = lt_timeline_model_get_ranges (f->model);
  g_assert_cmpuint (ranges->len, ==, 2);
  range = g_ptr_array_index (ranges, 0);
  g_assert_cmpint (llabs (range->start_us - f->slice_start[0]), <=, 1);
  g_assert_cmpuint (range->n_slices, ==, 3);
  g_assert_cmpstr (range->end_reason, ==, "merge_window_expired");
  g_assert_cmpint (lt_timeline_model_get_visible_start (f->model), <=, f->slice_start[0]);
  g_assert_cmpint (lt_timeline_model_get_visible_end (f->model), >=,
                   f->slice_start[5] + f->slice_duration[5]);
  /* The toolbar says the visible span: its first day and its length. */
  {
    gint64 start = lt_timeline_model_get_visible_start (f->model);
    g_autofree char *day = lt_timeline_text_time (start, "%Y-%m-%d");
    g_autofree char *length = lt_timeline_text_duration (span (f));
    g_autofree char *expected = g_strdup_printf ("%s · %s", day, length);

    g_assert_cmpstr (_lt_timeline_page_get_span_text (f->page), ==, expected);
  }
  g_assert_cmpstr (_lt_timeline_page_get_state (f->page), ==, "ready");

  /* Zoomed in this far, the slices are there one by one. */
  slices = lt_timeline_model_get_slices (f->model);
  g_assert_nonnull (slices);
  g_assert_cmpuint (slices->len, ==, N_SLICES);

  /* Keys on the focused view: + zooms in, − out, arrows pan. */
  lt_timeline_model_set_visible (f->model, f->slice_start[0] - 600 * G_USEC_PER_SEC,
                                 f->slice_start[0] + 600 * G_USEC_PER_SEC);
  gtk_widget_grab_focus (GTK_WIDGET (f->view));
  before = span (f);
  press_key (f, GDK_KEY_plus, 0);
  g_assert_cmpint (span (f), <, before);
  before = span (f);
  press_key (f, GDK_KEY_minus, 0);
  g_assert_cmpint (span (f), >, before);
  before = lt_timeline_model_get_visible_start (f->model);
  press_key (f, GDK_KEY_Left, 0);
  g_assert_cmpint (lt_timeline_model_get_visible_start (f->model), <, before);

  /* Ctrl+scroll zooms at the pointer; the page's buttons zoom around the middle. */
  before = span (f);
  ctrl_scroll (f, -3);
  g_assert_cmpint (span (f), <, before);
  before = span (f);
  gtk_widget_activate_action (GTK_WIDGET (f->page), "timeline.zoom-out", NULL);
  g_assert_cmpint (span (f), >, before);
  before = span (f);
  gtk_widget_activate_action (GTK_WIDGET (f->page), "timeline.zoom-in", NULL);
  g_assert_cmpint (span (f), <, before);

  /* "Now" keeps the span and ends at the live edge. */
  before = span (f);
  gtk_widget_activate_action (GTK_WIDGET (f->page), "timeline.now", NULL);
  g_assert_cmpint (lt_timeline_model_get_visible_end (f->model), ==,
                   lt_timeline_model_get_bounds_end (f->model));
  g_assert_cmpint (llabs (span (f) - before), <=, 1);

  /* Zoomed out past the slice span: ranges only, loaded once the view stops moving. */
  lt_timeline_model_set_visible (f->model, f->slice_start[0] - 3 * G_TIME_SPAN_DAY,
                                 f->slice_start[0] + G_TIME_SPAN_HOUR);
  wait_loaded (f);
  g_assert_null (lt_timeline_model_get_slices (f->model));
  g_assert_cmpuint (lt_timeline_model_get_ranges (f->model)->len, ==, 2);

  /* A drag selects, snapped to slice boundaries; zoom to selection shows it. */
  select_everything (f);
  gtk_widget_activate_action (GTK_WIDGET (f->page), "timeline.zoom-selection", NULL);
  g_assert_cmpint (lt_timeline_model_get_visible_start (f->model), <=, f->slice_start[0]);
  press_key (f, GDK_KEY_Escape, 0);
  g_assert_false (lt_timeline_model_get_selection (f->model, NULL, NULL));
  g_assert_null (_lt_timeline_page_dup_selection_text (f->page));
}

static gboolean
media_ready (gpointer data)
{
  GtkMediaStream *media = data;

  return gtk_media_stream_get_error (media) != NULL ||
         (gtk_media_stream_is_prepared (media) && gtk_media_stream_get_playing (media) &&
          gtk_media_stream_get_timestamp (media) > 0);
}

static gboolean
player_closed (gpointer data)
{
  return _lt_timeline_page_get_video (data) == NULL;
}

static gboolean
player_open (gpointer data)
{
  return _lt_timeline_page_get_video (data) != NULL;
}

static void
set_flag (gboolean *flag)
{
  *flag = TRUE;
}

static gboolean
exported (gpointer data)
{
  return !_lt_timeline_page_is_exporting (data);
}

typedef struct
{
  GPtrArray *uris;
  gboolean   acquired;
} FileManager;

static void
name_acquired_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  *(gboolean *) user_data = TRUE;
}

static void
file_manager_call_cb (GDBusConnection       *connection,
                      const char            *sender,
                      const char            *path,
                      const char            *interface,
                      const char            *method,
                      GVariant              *parameters,
                      GDBusMethodInvocation *invocation,
                      gpointer               user_data)
{
  FileManager *fm = user_data;
  g_autofree const char **uris = NULL;
  const char *startup_id;

  g_assert_cmpstr (method, ==, "ShowItems");
  g_variant_get (parameters, "(^a&s&s)", &uris, &startup_id);
  for (guint i = 0; uris[i] != NULL; i++)
    g_ptr_array_add (fm->uris, g_strdup (uris[i]));
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static const char file_manager_xml[] =
  "<node><interface name='org.freedesktop.FileManager1'>"
  "<method name='ShowItems'><arg type='as' direction='in'/><arg type='s' direction='in'/>"
  "</method></interface></node>";

static void
test_create_play_export (Fixture       *f,
                         gconstpointer  user_data)
{
  g_autofree char *out_dir = lt_test_make_temp_dir ();
  g_autofree char *mp4 = g_build_filename (out_dir, "cam.mp4", NULL);
  g_autoptr(GFile) mp4_file = g_file_new_for_path (mp4);
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GDBusNodeInfo) node = NULL;
  g_autoptr(GError) error = NULL;
  GDBusInterfaceVTable vtable = { file_manager_call_cb, NULL, NULL, { 0 } };
  FileManager fm = { g_ptr_array_new_with_free_func (g_free), FALSE };
  const LtIndexFile *file;
  GtkWidget *video;
  GtkMediaStream *media;
  GtkWidget *player;
  g_autofree char *playlist = NULL;
  g_autofree char *expected_uri = NULL;
  double probed;
  guint registration, owner;

  lt_test_wait_until (page_ready, f, 5000, "the stream list");
  open_stream (f);

  /* Nothing recorded in the gap: the core's reason, shown at the selection. */
  lt_timeline_model_set_selection (f->model, f->slice_start[2] + f->slice_duration[2] + 10 * G_USEC_PER_SEC,
                                   f->slice_start[3] - 10 * G_USEC_PER_SEC);
  create_m3u8 (f);
  g_assert_nonnull (_lt_timeline_page_get_error_text (f->page));
  g_test_message ("in the gap: %s", _lt_timeline_page_get_error_text (f->page));
  g_assert_null (_lt_timeline_page_get_created (f->page));
  g_assert_null (_lt_timeline_page_get_url_text (f->page));

  /* Across both sessions: every slice, one playlist. */
  select_everything (f);
  create_m3u8 (f);
  g_assert_null (_lt_timeline_page_get_error_text (f->page));
  file = _lt_timeline_page_get_created (f->page);
  g_assert_nonnull (file);
  g_assert_cmpstr (_lt_timeline_page_get_url_text (f->page), ==, file->url);
  g_assert_true (g_file_test (file->local_path, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpstr (file->bucket, ==, BUCKET);
  g_assert_cmpint (llabs (file->duration_us - f->total_us), <=, 10 * G_TIME_SPAN_MILLISECOND);
  g_assert_true (g_file_get_contents (file->local_path, &playlist, NULL, NULL));
  g_test_message ("playlist:\n%s", playlist);
  g_assert_nonnull (strstr (playlist, "#EXT-X-DISCONTINUITY"));
  g_assert_nonnull (strstr (playlist, "../slice-005.ts"));

  /* Its address goes to the clipboard. */
  {
    GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (f->page));
    g_autoptr(GAsyncResult) result = NULL;
    g_autofree char *copied = NULL;

    gtk_widget_activate_action (GTK_WIDGET (f->page), "timeline.copy-url", NULL);
    gdk_clipboard_read_text_async (clipboard, NULL, lt_test_store_result_cb, &result);
    lt_test_wait_result (&result);
    copied = gdk_clipboard_read_text_finish (clipboard, result, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (copied, ==, file->url);
  }

  /* The list of index files has it, and the view shows it as a mark. */
  wait_loaded (f);
  g_assert_cmpuint (_lt_timeline_page_count_index_rows (f->page), ==, 1);
  g_assert_nonnull (lt_timeline_model_get_marks (f->model));
  g_assert_cmpuint (lt_timeline_model_get_marks (f->model)->len, ==, 1);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "timeline-light.png");

  /* The row's Copy button copies the same address. */
  {
    GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (f->page));
    g_autoptr(GAsyncResult) result = NULL;
    g_autofree char *copied = NULL;
    gboolean changed = FALSE;
    gulong handler;

    gdk_clipboard_set_text (clipboard, "");
    handler = g_signal_connect_swapped (clipboard, "changed", G_CALLBACK (set_flag), &changed);
    /* (A button's activation clicks it a moment later, as a key press would.) */
    gtk_widget_activate (_lt_timeline_page_get_row_button (_lt_timeline_page_get_index_row (f->page, 0),
                                                           "copy"));
    lt_test_wait_for (&changed, 5000);
    g_signal_handler_disconnect (clipboard, handler);
    gdk_clipboard_read_text_async (clipboard, NULL, lt_test_store_result_cb, &result);
    lt_test_wait_result (&result);
    copied = gdk_clipboard_read_text_finish (clipboard, result, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (copied, ==, file->url);
  }

  /* It plays in the app. */
  _lt_timeline_page_play_created (f->page);
  video = _lt_timeline_page_get_video (f->page);
  g_assert_nonnull (video);
  player = gtk_widget_get_ancestor (video, GTK_TYPE_WINDOW);
  media = gtk_video_get_media_stream (GTK_VIDEO (video));
  g_assert_nonnull (media);
  lt_test_wait_until (media_ready, media, 20000, "the playlist to play");
  g_assert_no_error (gtk_media_stream_get_error (media));
  g_test_message ("GtkVideo: duration %.3f s, slices %.3f s",
                  gtk_media_stream_get_duration (media) / 1e6, f->total_us / 1e6);
  g_assert_cmpint (llabs (gtk_media_stream_get_duration (media) - f->total_us), <=,
                   f->slice_duration[0] + 100 * G_TIME_SPAN_MILLISECOND);
  lt_test_save_screenshot (player, "timeline-player.png");
  gtk_window_destroy (GTK_WINDOW (player));
  lt_test_wait_until (player_closed, f->page, 5000, "the player to close");

  /* The row's Play button opens the player on the same file. */
  gtk_widget_activate (_lt_timeline_page_get_row_button (_lt_timeline_page_get_index_row (f->page, 0),
                                                         "play"));
  lt_test_wait_until (player_open, f->page, 5000, "the player to open");
  video = _lt_timeline_page_get_video (f->page);
  media = gtk_video_get_media_stream (GTK_VIDEO (video));
  g_assert_true (GTK_IS_MEDIA_FILE (media));
  {
    g_autofree char *played = g_file_get_path (gtk_media_file_get_file (GTK_MEDIA_FILE (media)));

    g_assert_cmpstr (played, ==, file->local_path);
  }
  gtk_window_destroy (GTK_WINDOW (gtk_widget_get_ancestor (video, GTK_TYPE_WINDOW)));
  lt_test_wait_until (player_closed, f->page, 5000, "the player to close");

  /* Export MP4, cancelled at once: no file, no error. */
  _lt_timeline_page_export_to (f->page, mp4_file);
  g_assert_true (_lt_timeline_page_is_exporting (f->page));
  gtk_widget_activate_action (GTK_WIDGET (f->page), "timeline.cancel-export", NULL);
  lt_test_wait_until (exported, f->page, 30000, "the export to stop");
  g_assert_false (_lt_timeline_page_get_export_done (f->page));
  g_assert_null (_lt_timeline_page_get_error_text (f->page));
  g_assert_false (g_file_test (mp4, G_FILE_TEST_EXISTS));

  /* Export MP4: progress to the end, a file of the slices' duration. */
  _lt_timeline_page_export_to (f->page, mp4_file);
  g_assert_true (_lt_timeline_page_is_exporting (f->page));
  lt_test_wait_until (exported, f->page, 30000, "the export");
  g_assert_null (_lt_timeline_page_get_error_text (f->page));
  g_assert_true (_lt_timeline_page_get_export_done (f->page));
  g_assert_cmpfloat (_lt_timeline_page_get_export_progress (f->page), ==, 1.0);
  probed = probe_duration (mp4);
  g_test_message ("exported MP4: %.3f s, slices %.3f s", probed, f->total_us / 1e6);
  g_assert_cmpfloat (fabs (probed - f->total_us / 1e6), <, f->slice_duration[0] / 1e6);

  /* Reveal: the file manager is asked to show the playlist. */
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  node = g_dbus_node_info_new_for_xml (file_manager_xml, &error);
  g_assert_no_error (error);
  registration = g_dbus_connection_register_object (bus, "/org/freedesktop/FileManager1",
                                                    node->interfaces[0], &vtable, &fm, NULL,
                                                    &error);
  g_assert_no_error (error);
  owner = g_bus_own_name_on_connection (bus, "org.freedesktop.FileManager1",
                                        G_BUS_NAME_OWNER_FLAGS_NONE, name_acquired_cb, NULL,
                                        &fm.acquired, NULL);
  lt_test_wait_for (&fm.acquired, 5000);
  gtk_widget_activate (_lt_timeline_page_get_row_button (_lt_timeline_page_get_index_row (f->page, 0),
                                                         "reveal"));
  expected_uri = g_filename_to_uri (file->local_path, NULL, NULL);
  for (int i = 0; i < 100 && fm.uris->len == 0; i++)
    lt_test_spin (50);
  g_assert_cmpuint (fm.uris->len, ==, 1);
  /* The reply on its way back holds the page (and through it the engine). */
  lt_test_spin (200);
  g_assert_cmpstr (g_ptr_array_index (fm.uris, 0), ==, expected_uri);
  g_bus_unown_name (owner);
  g_dbus_connection_unregister_object (bus, registration);
  g_ptr_array_unref (fm.uris);
}

static gboolean
grew (gpointer data)
{
  Fixture *f = data;
  GPtrArray *ranges = lt_timeline_model_get_ranges (f->model);
  const LtTimelineRange *last;

  if (ranges == NULL || ranges->len != 2)
    return FALSE;
  last = g_ptr_array_index (ranges, 1);
  return last->n_slices == 4;
}

/* A session still recording: the page polls, and a slice closed meanwhile shows up. */
static void
test_live (Fixture       *f,
           gconstpointer  user_data)
{
  const LtTimelineRange *last;
  gint64 now_before;
  char *text;

  lt_test_wait_until (page_ready, f, 5000, "the stream list");
  g_assert_false (_lt_timeline_page_is_polling (f->page));
  sql (f, "UPDATE sessions SET state = 'recording', ended_at_us = NULL, end_reason = NULL "
          "WHERE id = 2");
  /* A recording starting or stopping changes the recording manager's list: the page
   * lists the streams again and finds this one recording. */
  g_list_model_items_changed (lt_recording_manager_get_recordings (lt_engine_get_recording_manager (f->engine)),
                              0, 0, 0);
  lt_test_wait_until ((LtTestCondition) _lt_timeline_page_is_polling, f->page, 5000,
                      "the page to poll");
  lt_test_wait_until (page_idle, f->page, 5000, "the ranges");
  last = g_ptr_array_index (lt_timeline_model_get_ranges (f->model), 1);
  g_assert_cmpstr (last->end_reason, ==, "recording");
  now_before = lt_timeline_model_get_now (f->model);

  text = sqlite3_mprintf ("INSERT INTO slices (session_id, stream_id, sequence, start_time_us,"
                          " duration_us, target, bucket, object_key, state) VALUES (2, 1, 6,"
                          " %lld, %lld, 'local', '" BUCKET "', 'record/live/cam/slice-005.ts',"
                          " 'closed')",
                          (long long) (f->slice_start[5] + f->slice_duration[5]),
                          (long long) f->slice_duration[5]);
  sql (f, text);
  sqlite3_free (text);
  lt_test_wait_until (grew, f, 8000, "the new slice to show");
  g_assert_cmpint (lt_timeline_model_get_now (f->model), >, now_before);

  /* Not shown, not polled. */
  _lt_window_set_page (f->window, "rules");
  g_assert_false (_lt_timeline_page_is_polling (f->page));
  _lt_window_set_page (f->window, "timeline");
  g_assert_true (_lt_timeline_page_is_polling (f->page));
}

static void
test_screenshots (Fixture       *f,
                  gconstpointer  user_data)
{
  AdwStyleManager *style = adw_style_manager_get_default ();

  lt_test_wait_until (page_ready, f, 5000, "the stream list");
  open_stream (f);
  select_everything (f);
  create_m3u8 (f);
  g_assert_null (_lt_timeline_page_get_error_text (f->page));
  wait_loaded (f);

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  lt_test_spin (200);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "timeline-dark.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);

  gtk_window_set_default_size (GTK_WINDOW (f->window), 360, 720);
  lt_test_spin (300);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "timeline-narrow.png");
}

static void
test_zh_CN (Fixture       *f,
            gconstpointer  user_data)
{
  lt_test_wait_until (page_ready, f, 5000, "the stream list");
  open_stream (f);
  select_everything (f);
  create_m3u8 (f);
  wait_loaded (f);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "timeline-zh_CN.png");

  /* The page's own words are translated: the lengths of the selection and of the span. */
  {
    g_autofree char *text = _lt_timeline_page_dup_selection_text (f->page);

    g_assert_nonnull (text);
    g_assert_true (g_regex_match_simple ("[秒分时天]", text, 0, 0));
    g_assert_true (g_regex_match_simple ("[秒分时天]", _lt_timeline_page_get_span_text (f->page),
                                         0, 0));
  }

  /* A player still open when the window goes: the teardown must finalize everything. */
  _lt_timeline_page_play_created (f->page);
  g_assert_nonnull (_lt_timeline_page_get_video (f->page));
  lt_test_spin (300);
}

int
main (int   argc,
      char *argv[])
{
  lt_test_gui_init (&argc, &argv);

  g_test_add ("/gui-timeline/empty", Fixture, NULL, fixture_set_up_empty, test_empty,
              fixture_tear_down);
  g_test_add ("/gui-timeline/navigate", Fixture, NULL, fixture_set_up, test_navigate,
              fixture_tear_down);
  g_test_add ("/gui-timeline/create-play-export", Fixture, NULL, fixture_set_up,
              test_create_play_export, fixture_tear_down);
  g_test_add ("/gui-timeline/live", Fixture, NULL, fixture_set_up, test_live,
              fixture_tear_down);
  g_test_add ("/gui-timeline/screenshots", Fixture, NULL, fixture_set_up, test_screenshots,
              fixture_tear_down);
  g_test_add ("/gui-timeline/zh_CN", Fixture, NULL, fixture_set_up_zh_CN, test_zh_CN,
              fixture_tear_down_zh_CN);

  return g_test_run ();
}
