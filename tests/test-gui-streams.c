/* test-gui-streams.c: the console's Streams page over a real engine with a real ingest
 * (nginx on a free port), the demo source and a pull source, under Xvfb.
 *
 * - The page says the ingest accepts streams and shows the server address, which the
 *   copy button puts on the clipboard; the demo stream, on by default on a first start,
 *   shows up with its codecs, picture and bitrate, is recorded (a rule for its app is
 *   added as well) and shows each format's file; the live preview gets pictures.
 * - Stop pauses it with a merge-window countdown that ticks, Cancel delay closes the
 *   files (not recording), Start records again; Start without a rule shows the
 *   manager's error.
 * - The demo switch turns the stream off (the paused recording keeps its row until its
 *   files close), the choice is kept in the catalog.
 * - A pull source is added through the dialog: a bad address is refused at its field, a
 *   taken identity at the identity, a file made by ffmpeg comes online and can be
 *   previewed; it is removed through the dialog.
 * - Narrow windows fold the page into list and details; the preview runs only while it
 *   is on screen.
 * Screenshots (light, dark, narrow, zh_CN) are kept in $LT_TEST_OUTPUT_DIR/screenshots. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "lt-engine.h"
#include "lt-streams-page-private.h"
#include "lt-test-gui.h"
#include "lt-test-publisher.h"
#include "lt-test-utils.h"
#include "lt-window-private.h"

typedef struct
{
  char          *data_dir;
  LtEngine      *engine;
  LtWindow      *window;
  LtStreamsPage *page;
} Fixture;

static gboolean
pointer_is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

static void
start_engine (Fixture *fixture)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  fixture->engine = lt_engine_new (fixture->data_dir);
  lt_engine_set_api_listen (fixture->engine, NULL);
  lt_engine_set_ingest_port (fixture->engine, lt_test_pick_free_port ());
  lt_engine_start_async (fixture->engine, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_engine_start_finish (fixture->engine, result, &error);
  g_assert_no_error (error);
}

static void
show_window (Fixture *fixture)
{
  fixture->window = lt_window_new (NULL, NULL);
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 1000, 720);
  lt_window_set_engine (fixture->window, fixture->engine);
  g_assert_cmpstr (_lt_window_get_state (fixture->window), ==, "main");
  fixture->page = _lt_window_get_streams_page (fixture->window);
  gtk_window_present (GTK_WINDOW (fixture->window));
  lt_test_wait_until ((LtTestCondition) gtk_widget_get_mapped, fixture->window, 5000,
                      "the window");
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  lt_test_gui_load_style ();

  fixture->data_dir = lt_test_make_temp_dir ();
  start_engine (fixture);
  show_window (fixture);
}

static void
stop_engine (Fixture *fixture)
{
  GPid nginx = lt_ingest_server_get_nginx_pid (lt_engine_get_ingest_server (fixture->engine));

  lt_engine_shutdown (fixture->engine);
  /* Shutdown leaves no nginx behind. */
  if (nginx != 0)
    g_assert_false (lt_test_process_alive (nginx));
  g_assert_finalize_object (g_steal_pointer (&fixture->engine));
}

static void
destroy_window (Fixture *fixture)
{
  LtWindow *window = fixture->window;

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  lt_test_wait_until (pointer_is_null, &window, 5000, "the window to be finalized");
  fixture->window = NULL;
  fixture->page = NULL;
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  destroy_window (fixture);
  stop_engine (fixture);
  g_free (fixture->data_dir);
}

/* ---- helpers ---- */

static gboolean
ingest_running (gpointer data)
{
  Fixture *fixture = data;

  return lt_ingest_server_get_state (lt_engine_get_ingest_server (fixture->engine)) ==
         LT_INGEST_STATE_RUNNING;
}

static char *
demo_key (void)
{
  return lt_stream_make_key (LT_DEFAULT_DOMAIN, LT_DEMO_DEFAULT_APP, LT_DEMO_DEFAULT_STREAM);
}

static GtkWidget *
first_row (Fixture *fixture)
{
  return GTK_WIDGET (gtk_list_box_get_row_at_index (_lt_streams_page_get_list (fixture->page), 0));
}

static LtStreamDetails *
details (Fixture *fixture)
{
  return _lt_streams_page_get_details (fixture->page);
}

static gboolean
demo_row_complete (gpointer data)
{
  Fixture *fixture = data;
  g_autofree char *key = demo_key ();
  GtkWidget *row = _lt_streams_page_get_row (fixture->page, key);
  const char *subtitle;

  if (row == NULL)
    return FALSE;
  subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (row));
  return subtitle != NULL && strstr (subtitle, "kbit/s") != NULL &&
         strstr (subtitle, "H.264") != NULL;
}

static gboolean
list_empty (gpointer data)
{
  Fixture *fixture = data;

  return first_row (fixture) == NULL;
}

static gboolean
demo_disabled (gpointer data)
{
  Fixture *fixture = data;

  return !lt_engine_get_demo_enabled (fixture->engine);
}

static gboolean
demo_enabled (gpointer data)
{
  Fixture *fixture = data;

  return lt_engine_get_demo_enabled (fixture->engine);
}

static void
clipboard_read_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  char **text = user_data;
  g_autoptr(GError) error = NULL;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, &error);
  g_assert_no_error (error);
}

static gboolean
string_is_set (gpointer data)
{
  return *(char **) data != NULL;
}

typedef struct
{
  Fixture          *fixture;
  char             *key;
  LtRecordingState  state;
} StateWait;

static LtRecordingState
recording_state (Fixture    *fixture,
                 const char *key)
{
  LtRecording *recording =
    lt_recording_manager_lookup (lt_engine_get_recording_manager (fixture->engine), key);

  return recording != NULL ? lt_recording_get_state (recording)
                           : LT_RECORDING_STATE_NOT_RECORDING;
}

static gboolean
state_reached (gpointer data)
{
  StateWait *wait = data;

  return recording_state (wait->fixture, wait->key) == wait->state;
}

static void
wait_state (Fixture          *fixture,
            const char       *key,
            LtRecordingState  state,
            guint             timeout_ms)
{
  StateWait wait = { fixture, (char *) key, state };
  g_autofree char *what = g_strdup_printf ("%s to be %s", key,
                                           lt_recording_state_to_string (state));

  lt_test_wait_until (state_reached, &wait, timeout_ms, what);
  /* The views show a change in their next frame. */
  lt_test_spin (300);
}

typedef struct
{
  LtStreamDetails *details;
  const char      *format;
  const char      *needle;
} FormatWait;

static gboolean
format_shows (gpointer data)
{
  FormatWait *wait = data;
  const char *text = _lt_stream_details_get_format_text (wait->details, wait->format);

  return text != NULL && strstr (text, wait->needle) != NULL;
}

static void
wait_format (LtStreamDetails *pane,
             const char      *format,
             const char      *needle)
{
  FormatWait wait = { pane, format, needle };
  g_autofree char *what = g_strdup_printf ("the %s row to show “%s”", format, needle);

  lt_test_wait_until (format_shows, &wait, 30000, what);
}

static gboolean
preview_has_frames (gpointer data)
{
  return lt_stream_preview_get_n_frames (data) > 0 &&
         lt_stream_preview_get_state (data) == LT_STREAM_PREVIEW_PLAYING;
}

static gboolean
preview_stopped (gpointer data)
{
  return !lt_stream_preview_get_running (data);
}

/* "clicked" at once: gtk_widget_activate() shows the press for a moment first. */
static void
click (GtkWidget *button)
{
  g_assert_true (gtk_widget_get_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
}

static void
select_row (Fixture    *fixture,
            const char *key)
{
  GtkWidget *row = _lt_streams_page_get_row (fixture->page, key);

  g_assert_nonnull (row);
  gtk_list_box_select_row (_lt_streams_page_get_list (fixture->page), GTK_LIST_BOX_ROW (row));
  g_assert_cmpstr (lt_stream_details_get_key (details (fixture)), ==, key);
}

static void
rule_added_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  lt_rule_store_add_finish (LT_RULE_STORE (source), result, &error);
  g_assert_no_error (error);
  *done = TRUE;
}

/* A rule for the demo's app, as an operator would write it. (The engine's own rule for
 * the demo stream, if there is one, is more specific and wins; both record m3u8 + mp4.) */
static void
add_demo_app_rule (Fixture *fixture)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LtRule) rule = NULL;
  gboolean done = FALSE;

  g_hash_table_insert (params, "DomainName", LT_DEFAULT_DOMAIN);
  g_hash_table_insert (params, "AppName", LT_DEMO_DEFAULT_APP);
  g_hash_table_insert (params, "OssEndpoint", "local");
  g_hash_table_insert (params, "OssBucket", "test");
  g_hash_table_insert (params, "RecordFormat.1.Format", "m3u8");
  g_hash_table_insert (params, "RecordFormat.1.SliceDuration", "5");
  g_hash_table_insert (params, "RecordFormat.2.Format", "mp4");
  rule = lt_rule_new_from_params (params, now, &error);
  g_assert_no_error (error);
  lt_rule_store_add_async (lt_engine_get_rule_store (fixture->engine), rule, NULL,
                           rule_added_cb, &done);
  lt_test_wait_for (&done, 5000);
}

static void
screenshots_light_dark (Fixture    *fixture,
                        const char *name)
{
  AdwStyleManager *style = adw_style_manager_get_default ();
  g_autofree char *light = g_strdup_printf ("%s.png", name);
  g_autofree char *dark = g_strdup_printf ("%s-dark.png", name);

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), light);
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), dark);
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);
}

/* ---- the ingest and the demo ---- */

static void
test_demo_online (Fixture       *fixture,
                  gconstpointer  user_data)
{
  LtIngestServer *server = lt_engine_get_ingest_server (fixture->engine);
  g_autofree char *status = NULL;
  g_autofree char *copied = NULL;
  g_autofree char *key = demo_key ();
  GtkWidget *row;
  const char *title;

  lt_test_wait_until (ingest_running, fixture, 20000, "the ingest server to run");
  status = g_strdup_printf ("Accepting streams on port %u", lt_ingest_server_get_port (server));
  g_assert_cmpstr (_lt_streams_page_get_ingest_status (fixture->page), ==, status);

  /* The server address publishers need, ready to copy. */
  g_assert_true (g_str_has_prefix (_lt_streams_page_get_server_url (fixture->page), "rtmp://"));
  g_assert_true (g_str_has_suffix (_lt_streams_page_get_server_url (fixture->page), "/live"));
  g_assert_true (gtk_widget_get_sensitive (_lt_streams_page_get_copy_button (fixture->page)));
  g_signal_emit_by_name (_lt_streams_page_get_copy_button (fixture->page), "clicked");
  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (GTK_WIDGET (fixture->page)), NULL,
                                 clipboard_read_cb, &copied);
  lt_test_wait_until (string_is_set, &copied, 5000, "the clipboard");
  g_assert_cmpstr (copied, ==, _lt_streams_page_get_server_url (fixture->page));

  /* The demo, on by default on a first start, with what is known about it. */
  g_assert_true (lt_engine_get_demo_enabled (fixture->engine));
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (_lt_streams_page_get_demo_switch (fixture->page))));
  lt_test_wait_until (demo_row_complete, fixture, 30000, "the demo row with its media");
  row = _lt_streams_page_get_row (fixture->page, key);
  title = adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row));
  g_assert_cmpstr (title, ==, "live.livetape.local/live/demo");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "Demo"));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "1280×720"));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "AAC"));

  /* On a wide window the first stream is selected; its preview plays. */
  g_assert_false (_lt_streams_page_get_folded (fixture->page));
  g_assert_cmpstr (lt_stream_details_get_key (details (fixture)), ==, key);
  lt_test_wait_until (preview_has_frames, _lt_stream_details_get_preview (details (fixture)),
                      20000, "preview pictures");

  /* Recorded by the first run's rule: each format shows its file. */
  wait_state (fixture, key, LT_RECORDING_STATE_RECORDING, 30000);
  wait_format (details (fixture), "m3u8", ".m3u8");
  wait_format (details (fixture), "mp4", ".mp4");
  g_assert_cmpstr (lt_stream_row_get_badge (LT_STREAM_ROW (row)), ==, "Recording");
  screenshots_light_dark (fixture, "streams-page");

  /* Off with the switch: the stream goes offline, its recording waits in the merge
   * window; cancelling the delay closes the files and the row goes. */
  gtk_widget_activate (_lt_streams_page_get_demo_switch (fixture->page));
  lt_test_wait_until (demo_disabled, fixture, 5000, "the demo to be turned off");
  wait_state (fixture, key, LT_RECORDING_STATE_PAUSED, 10000);
  g_assert_true (g_str_has_prefix (lt_stream_row_get_badge (LT_STREAM_ROW (row)), "Paused · "));
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Offline");
  g_assert_false (gtk_widget_get_sensitive (_lt_stream_details_get_button (details (fixture),
                                                                           "start")));
  lt_test_wait_until (preview_stopped, _lt_stream_details_get_preview (details (fixture)),
                      5000, "the preview to stop");
  click (_lt_stream_details_get_button (details (fixture), "cancel-delay"));
  lt_test_wait_until (list_empty, fixture, 10000, "the demo row to go");
  g_assert_false (gtk_switch_get_state (GTK_SWITCH (_lt_streams_page_get_demo_switch (fixture->page))));
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_FORCE_LIGHT);
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), "streams-page-empty.png");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_DEFAULT);

  /* The choice is kept: the next start leaves the demo off. */
  destroy_window (fixture);
  stop_engine (fixture);
  start_engine (fixture);
  g_assert_false (lt_engine_get_demo_enabled (fixture->engine));
  show_window (fixture);
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (_lt_streams_page_get_demo_switch (fixture->page))));

  /* And on again. */
  gtk_widget_activate (_lt_streams_page_get_demo_switch (fixture->page));
  lt_test_wait_until (demo_enabled, fixture, 5000, "the demo to be turned on");
  lt_test_wait_until (demo_row_complete, fixture, 30000, "the demo row again");
}

/* ---- the commands ---- */

typedef struct
{
  LtStreamDetails *details;
  char            *before;
} TextChange;

static gboolean
state_text_changed (gpointer data)
{
  TextChange *change = data;

  return g_strcmp0 (_lt_stream_details_get_state_text (change->details), change->before) != 0;
}

static void
test_commands (Fixture       *fixture,
               gconstpointer  user_data)
{
  g_autofree char *key = demo_key ();
  LtStreamDetails *pane = details (fixture);
  GtkWidget *row;
  TextChange change = { pane, NULL };
  const char *text;

  add_demo_app_rule (fixture);
  lt_test_wait_until (demo_row_complete, fixture, 30000, "the demo row");
  select_row (fixture, key);
  row = _lt_streams_page_get_row (fixture->page, key);
  wait_state (fixture, key, LT_RECORDING_STATE_RECORDING, 30000);
  wait_format (pane, "m3u8", ".m3u8");
  g_assert_cmpstr (_lt_stream_details_get_state_title (pane), ==, "Recording");
  g_assert_nonnull (strstr (_lt_stream_details_get_state_text (pane), "recorded"));
  g_assert_true (g_str_has_prefix (_lt_stream_details_get_format_text (pane, "m3u8"),
                                   "Recording · "));
  g_assert_false (gtk_widget_get_sensitive (_lt_stream_details_get_button (pane, "start")));
  g_assert_false (gtk_widget_get_sensitive (_lt_stream_details_get_button (pane,
                                                                           "cancel-delay")));

  /* Stop: paused like an unpublish, the files close when the countdown ends. */
  click (_lt_stream_details_get_button (pane, "stop"));
  wait_state (fixture, key, LT_RECORDING_STATE_PAUSED, 10000);
  g_assert_cmpstr (_lt_stream_details_get_state_title (pane), ==, "Paused");
  text = _lt_stream_details_get_state_text (pane);
  g_assert_true (g_str_has_prefix (text, "Stopped. The files close in "));
  g_assert_true (g_str_has_prefix (_lt_stream_details_get_format_text (pane, "m3u8"),
                                   "Paused · "));
  g_assert_true (g_str_has_prefix (lt_stream_row_get_badge (LT_STREAM_ROW (row)), "Paused · "));
  g_assert_true (gtk_widget_get_sensitive (_lt_stream_details_get_button (pane,
                                                                          "cancel-delay")));
  g_assert_false (gtk_widget_get_sensitive (_lt_stream_details_get_button (pane, "restart")));
  /* The countdown ticks. */
  change.before = g_strdup (text);
  lt_test_wait_until (state_text_changed, &change, 3000, "the countdown to tick");
  g_assert_true (g_str_has_prefix (_lt_stream_details_get_state_text (pane),
                                   "Stopped. The files close in "));
  g_free (change.before);
  screenshots_light_dark (fixture, "streams-paused");

  /* Cancel delay: the files close now; the stream stays, not recorded. */
  click (_lt_stream_details_get_button (pane, "cancel-delay"));
  wait_state (fixture, key, LT_RECORDING_STATE_NOT_RECORDING, 15000);
  g_assert_cmpstr (_lt_stream_details_get_state_title (pane), ==, "Not Recording");
  g_assert_cmpstr (lt_stream_row_get_badge (LT_STREAM_ROW (row)), ==, "Not Recording");
  g_assert_null (_lt_stream_details_get_format_text (pane, "m3u8"));

  /* Start: recording again, by the operator. */
  click (_lt_stream_details_get_button (pane, "start"));
  wait_state (fixture, key, LT_RECORDING_STATE_RECORDING, 30000);
  wait_format (pane, "m3u8", ".m3u8");
  g_assert_cmpstr (_lt_stream_details_get_state_title (pane), ==, "Recording");
  g_assert_nonnull (strstr (_lt_stream_details_get_state_text (pane), "Started by the operator."));
  g_assert_null (_lt_stream_details_get_last_error (pane));

  /* Restart: new files, still recording. */
  click (_lt_stream_details_get_button (pane, "restart"));
  lt_test_spin (500);
  g_assert_null (_lt_stream_details_get_last_error (pane));
  wait_state (fixture, key, LT_RECORDING_STATE_RECORDING, 30000);
}

/* ---- pull sources ---- */

static gboolean
editor_closed (gpointer data)
{
  Fixture *fixture = data;

  return _lt_streams_page_get_source_editor (fixture->page) == NULL;
}

static gboolean
editor_open (gpointer data)
{
  Fixture *fixture = data;

  return _lt_streams_page_get_source_editor (fixture->page) != NULL;
}

static gboolean
editor_idle (gpointer data)
{
  return !_lt_stream_source_editor_get_busy (data);
}

static void
set_field (LtStreamSourceEditor *editor,
           LtPullSourceField     field,
           const char           *text)
{
  gtk_editable_set_text (_lt_stream_source_editor_get_field (editor, field), text);
}

/* @existing: the editor of the first pull source, else a new one. */
static LtStreamSourceEditor *
open_editor (Fixture  *fixture,
             gboolean  existing)
{
  LtStreamSourceEditor *editor;

  if (!existing)
    {
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->page),
                                                 "streams.add-source", NULL));
    }
  else
    {
      GtkListBoxRow *row =
        gtk_list_box_get_row_at_index (_lt_streams_page_get_sources_list (fixture->page), 0);

      g_assert_nonnull (row);
      /* Activating the row opens its editor. */
      g_signal_emit_by_name (row, "activate");
    }
  /* A row activates its edit button, which clicks after showing the press. */
  lt_test_wait_until (editor_open, fixture, 5000, "the editor to open");
  editor = _lt_streams_page_get_source_editor (fixture->page);
  lt_test_wait_until ((LtTestCondition) gtk_widget_get_mapped, editor, 5000, "the editor");
  return editor;
}

static LtPullSource *
first_source (Fixture *fixture)
{
  g_autoptr(LtPullSource) source =
    g_list_model_get_item (lt_engine_get_pull_sources (fixture->engine), 0);

  /* The engine's list keeps it. */
  return source;
}

static gboolean
sources_empty (gpointer data)
{
  Fixture *fixture = data;

  return g_list_model_get_n_items (lt_engine_get_pull_sources (fixture->engine)) == 0;
}

typedef struct
{
  Fixture    *fixture;
  const char *key;
} RowWait;

static gboolean
row_online (gpointer data)
{
  RowWait *wait = data;
  GtkWidget *row = _lt_streams_page_get_row (wait->fixture->page, wait->key);
  const char *subtitle = row != NULL ? adw_action_row_get_subtitle (ADW_ACTION_ROW (row)) : NULL;

  return subtitle != NULL && g_str_has_prefix (subtitle, "Pull") &&
         strstr (subtitle, "H.264") != NULL;
}

static gboolean
row_gone (gpointer data)
{
  RowWait *wait = data;

  return _lt_streams_page_get_row (wait->fixture->page, wait->key) == NULL;
}

static void
test_pull_source (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autofree char *media = g_build_filename (fixture->data_dir, "clip.mp4", NULL);
  g_autofree char *uri = NULL;
  g_autofree char *key = lt_stream_make_key (LT_DEFAULT_DOMAIN, "files", "clip");
  g_autofree char *moved_key = lt_stream_make_key (LT_DEFAULT_DOMAIN, "files", "clip2");
  LtStreamSourceEditor *editor;
  LtStreamDetails *pane = details (fixture);
  GtkListBoxRow *source_row;
  GtkSwitch *source_switch;
  AdwMessageDialog *dialog;
  g_autoptr(GError) error = NULL;
  RowWait wait = { fixture, key };

  lt_test_make_media_file (media, 30, "libx264");
  uri = g_filename_to_uri (media, NULL, &error);
  g_assert_no_error (error);
  lt_test_wait_until (ingest_running, fixture, 20000, "the ingest server to run");

  /* A new editor does not complain about what was not typed yet, but cannot save. */
  editor = open_editor (fixture, FALSE);
  g_assert_null (_lt_stream_source_editor_get_error (editor, LT_PULL_SOURCE_FIELD_URI));
  g_assert_null (_lt_stream_source_editor_get_error (editor, LT_PULL_SOURCE_FIELD_STREAM));
  g_assert_false (_lt_stream_source_editor_get_can_save (editor));
  g_assert_cmpstr (gtk_editable_get_text (_lt_stream_source_editor_get_field (editor,
                   LT_PULL_SOURCE_FIELD_APP)), ==, "live");

  /* A bad address, refused at its field as it is typed. */
  set_field (editor, LT_PULL_SOURCE_FIELD_URI, "gopher://cam.example.com/1");
  set_field (editor, LT_PULL_SOURCE_FIELD_APP, "files");
  set_field (editor, LT_PULL_SOURCE_FIELD_STREAM, "clip");
  g_assert_nonnull (strstr (_lt_stream_source_editor_get_error (editor, LT_PULL_SOURCE_FIELD_URI),
                            "gopher"));
  g_assert_false (_lt_stream_source_editor_get_can_save (editor));
  set_field (editor, LT_PULL_SOURCE_FIELD_DOMAIN, "no spaces allowed");
  g_assert_nonnull (_lt_stream_source_editor_get_error (editor, LT_PULL_SOURCE_FIELD_DOMAIN));
  gtk_window_set_default_size (GTK_WINDOW (editor), 560, 760);
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_FORCE_LIGHT);
  lt_test_save_screenshot (GTK_WIDGET (editor), "stream-source-editor-error.png");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_FORCE_DARK);
  lt_test_save_screenshot (GTK_WIDGET (editor), "stream-source-editor-error-dark.png");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_DEFAULT);

  /* A good one: saved, listed, online. */
  set_field (editor, LT_PULL_SOURCE_FIELD_DOMAIN, "");
  set_field (editor, LT_PULL_SOURCE_FIELD_URI, uri);
  g_assert_null (_lt_stream_source_editor_get_error (editor, LT_PULL_SOURCE_FIELD_URI));
  g_assert_null (_lt_stream_source_editor_get_error (editor, LT_PULL_SOURCE_FIELD_DOMAIN));
  g_assert_true (_lt_stream_source_editor_get_can_save (editor));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "editor.save", NULL));
  lt_test_wait_until (editor_closed, fixture, 5000, "the editor to close");
  g_assert_cmpuint (g_list_model_get_n_items (lt_engine_get_pull_sources (fixture->engine)), ==, 1);
  source_row = gtk_list_box_get_row_at_index (_lt_streams_page_get_sources_list (fixture->page), 0);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (source_row)), ==,
                   "live.livetape.local/files/clip");
  lt_test_wait_until (row_online, &wait, 20000, "the pull stream's row");

  /* Its preview; Start without a rule for it says why not. */
  select_row (fixture, key);
  lt_test_wait_until (preview_has_frames, _lt_stream_details_get_preview (pane), 20000,
                      "preview pictures of the file");
  g_assert_cmpstr (_lt_stream_details_get_state_title (pane), ==, "Not Recording");
  click (_lt_stream_details_get_button (pane, "start"));
  g_assert_nonnull (_lt_stream_details_get_last_error (pane));
  g_assert_nonnull (strstr (_lt_stream_details_get_last_error (pane), "files/clip"));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (source_row)), "Online"));
  screenshots_light_dark (fixture, "streams-pull");

  /* The preview stops when the page is not shown, and comes back. */
  _lt_window_set_page (fixture->window, "rules");
  lt_test_wait_until (preview_stopped, _lt_stream_details_get_preview (pane), 5000,
                      "the preview to stop on another page");
  _lt_window_set_page (fixture->window, "streams");
  lt_test_wait_until (preview_has_frames, _lt_stream_details_get_preview (pane), 20000,
                      "the preview back");

  /* The same identity again: refused at the identity, nothing added. */
  editor = open_editor (fixture, FALSE);
  set_field (editor, LT_PULL_SOURCE_FIELD_URI, "rtsp://cam.example.com/1");
  set_field (editor, LT_PULL_SOURCE_FIELD_DOMAIN, LT_DEFAULT_DOMAIN);
  set_field (editor, LT_PULL_SOURCE_FIELD_APP, "files");
  set_field (editor, LT_PULL_SOURCE_FIELD_STREAM, "clip");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "editor.save", NULL));
  lt_test_wait_until (editor_idle, editor, 5000, "the save to finish");
  g_assert_nonnull (_lt_stream_source_editor_get_error (editor, LT_PULL_SOURCE_FIELD_STREAM));
  g_assert_nonnull (strstr (_lt_stream_source_editor_get_error (editor,
                                                                 LT_PULL_SOURCE_FIELD_STREAM),
                            "exists already"));
  g_assert_cmpuint (g_list_model_get_n_items (lt_engine_get_pull_sources (fixture->engine)), ==, 1);
  /* Changing the name clears it. */
  set_field (editor, LT_PULL_SOURCE_FIELD_STREAM, "clip2");
  g_assert_null (_lt_stream_source_editor_get_error (editor, LT_PULL_SOURCE_FIELD_STREAM));
  gtk_window_close (GTK_WINDOW (editor));
  lt_test_wait_until (editor_closed, fixture, 5000, "the editor to close");

  /* Its switch turns it off (the stream goes) and on. */
  source_switch = _lt_streams_page_get_source_switch (fixture->page, 0);
  g_assert_true (gtk_switch_get_active (source_switch));
  gtk_switch_set_active (source_switch, FALSE);
  lt_test_wait_until (row_gone, &wait, 10000, "the switched-off stream's row to go");
  g_assert_false (lt_pull_source_get_enabled (first_source (fixture)));
  g_assert_false (gtk_switch_get_state (source_switch));
  gtk_switch_set_active (source_switch, TRUE);
  lt_test_wait_until (row_online, &wait, 20000, "the stream back");

  /* Edited: another stream name; the stream moves to it. */
  editor = open_editor (fixture, TRUE);
  g_assert_cmpstr (gtk_editable_get_text (_lt_stream_source_editor_get_field (editor,
                   LT_PULL_SOURCE_FIELD_URI)), ==, uri);
  g_assert_true (gtk_switch_get_active (_lt_stream_source_editor_get_enabled (editor)));
  g_assert_true (_lt_stream_source_editor_get_can_save (editor));
  set_field (editor, LT_PULL_SOURCE_FIELD_STREAM, "clip2");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "editor.save", NULL));
  lt_test_wait_until (editor_closed, fixture, 5000, "the editor to close after the edit");
  lt_test_wait_until (row_gone, &wait, 10000, "the old identity's row to go");
  wait.key = moved_key;
  lt_test_wait_until (row_online, &wait, 20000, "the new identity's row");
  source_row = gtk_list_box_get_row_at_index (_lt_streams_page_get_sources_list (fixture->page), 0);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (source_row)), ==,
                   "live.livetape.local/files/clip2");

  /* Removed through its editor, after a confirmation. */
  editor = open_editor (fixture, TRUE);
  g_assert_cmpstr (gtk_editable_get_text (_lt_stream_source_editor_get_field (editor,
                   LT_PULL_SOURCE_FIELD_STREAM)), ==, "clip2");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "editor.remove", NULL));
  dialog = _lt_stream_source_editor_get_remove_dialog (editor);
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "remove");
  lt_test_wait_until (editor_closed, fixture, 5000, "the editor to close after removal");
  lt_test_wait_until (sources_empty, fixture, 5000, "the source to go");
  lt_test_wait_until (row_gone, &wait, 10000, "the pull stream's row to go");
  g_assert_null (gtk_list_box_get_row_at_index (_lt_streams_page_get_sources_list (fixture->page), 0));
}

/* ---- narrow ---- */

static gboolean
page_folded (gpointer data)
{
  Fixture *fixture = data;

  return _lt_streams_page_get_folded (fixture->page);
}

static void
test_narrow (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autofree char *key = demo_key ();
  LtStreamDetails *pane = details (fixture);
  GtkWidget *row;

  lt_test_wait_until (demo_row_complete, fixture, 30000, "the demo row");
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 360, 720);
  lt_test_wait_until (page_folded, fixture, 5000, "the page to fold");

  /* The list first; the details (and their preview) only once a stream is opened. */
  lt_test_wait_until (preview_stopped, _lt_stream_details_get_preview (pane), 5000,
                      "the hidden preview to stop");
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), "streams-narrow-list.png");
  row = _lt_streams_page_get_row (fixture->page, key);
  g_signal_emit_by_name (row, "activate");
  lt_test_wait_until (preview_has_frames, _lt_stream_details_get_preview (pane), 20000,
                      "the preview in the folded details");
  wait_state (fixture, key, LT_RECORDING_STATE_RECORDING, 30000);
  wait_format (pane, "mp4", ".mp4");
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), "streams-narrow-details.png");

  /* Back to the list. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (pane), "streams.show-list", NULL));
  lt_test_wait_until (preview_stopped, _lt_stream_details_get_preview (pane), 5000,
                      "the preview to stop back in the list");
}

/* ---- zh_CN ---- */

static void
fixture_set_up_zh_CN (Fixture       *fixture,
                      gconstpointer  user_data)
{
  lt_test_use_language ("zh_CN");
  fixture_set_up (fixture, user_data);
}

static void
fixture_tear_down_zh_CN (Fixture       *fixture,
                         gconstpointer  user_data)
{
  fixture_tear_down (fixture, user_data);
  lt_test_use_language (NULL);
}

static void
test_screenshots_zh_CN (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autofree char *key = demo_key ();
  LtStreamDetails *pane = details (fixture);
  LtStreamSourceEditor *editor;

  g_assert_cmpstr (g_dgettext (GETTEXT_PACKAGE, "No Stream Selected"), !=, "No Stream Selected");
  lt_test_wait_until (demo_row_complete, fixture, 30000, "the demo row");
  wait_state (fixture, key, LT_RECORDING_STATE_RECORDING, 30000);
  wait_format (pane, "mp4", ".mp4");
  lt_test_wait_until (preview_has_frames, _lt_stream_details_get_preview (pane), 20000,
                      "preview pictures");
  g_assert_cmpstr (_lt_stream_details_get_state_title (pane), ==,
                   g_dpgettext2 (GETTEXT_PACKAGE, "recording state", "Recording"));
  g_assert_cmpstr (_lt_stream_details_get_state_title (pane), !=, "Recording");
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), "streams-page-zh_CN.png");

  click (_lt_stream_details_get_button (pane, "stop"));
  wait_state (fixture, key, LT_RECORDING_STATE_PAUSED, 10000);
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), "streams-paused-zh_CN.png");

  editor = open_editor (fixture, FALSE);
  gtk_window_set_default_size (GTK_WINDOW (editor), 560, 760);
  set_field (editor, LT_PULL_SOURCE_FIELD_URI, "ftp://cam.example.com/1");
  set_field (editor, LT_PULL_SOURCE_FIELD_STREAM, "");
  g_assert_nonnull (_lt_stream_source_editor_get_error (editor, LT_PULL_SOURCE_FIELD_URI));
  lt_test_save_screenshot (GTK_WIDGET (editor), "stream-source-editor-zh_CN.png");
  gtk_window_close (GTK_WINDOW (editor));
  lt_test_wait_until (editor_closed, fixture, 5000, "the editor to close");
}

int
main (int    argc,
      char **argv)
{
  lt_test_gui_init (&argc, &argv);

  g_test_add ("/gui/streams/demo-online", Fixture, NULL,
              fixture_set_up, test_demo_online, fixture_tear_down);
  g_test_add ("/gui/streams/commands", Fixture, NULL,
              fixture_set_up, test_commands, fixture_tear_down);
  g_test_add ("/gui/streams/pull-source", Fixture, NULL,
              fixture_set_up, test_pull_source, fixture_tear_down);
  g_test_add ("/gui/streams/narrow", Fixture, NULL,
              fixture_set_up, test_narrow, fixture_tear_down);
  g_test_add ("/gui/streams/screenshots-zh_CN", Fixture, NULL,
              fixture_set_up_zh_CN, test_screenshots_zh_CN, fixture_tear_down_zh_CN);

  return g_test_run ();
}
