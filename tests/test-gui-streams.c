/* test-gui-streams.c: the console's Streams page over a real engine with a real ingest
 * (nginx on a free port) and the demo source, under Xvfb.
 *
 * The page says the ingest accepts streams and shows the server address, which the copy
 * button puts on the clipboard; the demo stream, on by default on a first start, shows up
 * as a row with its codecs, picture and bitrate; the switch turns it off (the row goes,
 * the empty state explains how to publish) and on again, and the choice is kept in the
 * catalog. Screenshots (light and dark) are kept in $LT_TEST_OUTPUT_DIR/screenshots. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "lt-engine.h"
#include "lt-test-publisher.h"
#include "lt-test-gui.h"
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
load_style (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      g_autoptr(GtkCssProvider) provider = gtk_css_provider_new ();
      GdkDisplay *display = gdk_display_get_default ();

      gtk_css_provider_load_from_resource (provider, "/io/github/livetape/Livetape/style.css");
      gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (provider),
                                                  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
      gtk_icon_theme_add_resource_path (gtk_icon_theme_get_for_display (display),
                                        "/io/github/livetape/Livetape/icons");
      g_once_init_leave (&done, 1);
    }
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
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  load_style ();

  fixture->data_dir = lt_test_make_temp_dir ();
  start_engine (fixture);

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
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  LtWindow *window = fixture->window;

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  lt_test_wait_until (pointer_is_null, &window, 5000, "the window to be finalized");

  stop_engine (fixture);
  g_free (fixture->data_dir);
}

static gboolean
ingest_running (gpointer data)
{
  Fixture *fixture = data;

  return lt_ingest_server_get_state (lt_engine_get_ingest_server (fixture->engine)) ==
         LT_INGEST_STATE_RUNNING;
}

static GtkWidget *
first_row (Fixture *fixture)
{
  return GTK_WIDGET (gtk_list_box_get_row_at_index (_lt_streams_page_get_list (fixture->page), 0));
}

static gboolean
demo_row_complete (gpointer data)
{
  Fixture *fixture = data;
  GtkWidget *row = first_row (fixture);
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

static void
test_demo_online (Fixture       *fixture,
                  gconstpointer  user_data)
{
  AdwStyleManager *style = adw_style_manager_get_default ();
  LtIngestServer *server = lt_engine_get_ingest_server (fixture->engine);
  g_autofree char *status = NULL;
  g_autofree char *copied = NULL;
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
  row = first_row (fixture);
  title = adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row));
  g_assert_cmpstr (title, ==, "live.livetape.local/live/demo");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "Demo"));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "1280×720"));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "AAC"));

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), "streams-page.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), "streams-page-dark.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);

  /* Off with the switch: the stream goes, the empty state says how to publish. */
  gtk_widget_activate (_lt_streams_page_get_demo_switch (fixture->page));
  lt_test_wait_until (demo_disabled, fixture, 5000, "the demo to be turned off");
  lt_test_wait_until (list_empty, fixture, 10000, "the demo row to go");
  g_assert_false (gtk_switch_get_state (GTK_SWITCH (_lt_streams_page_get_demo_switch (fixture->page))));
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), "streams-page-empty.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);

  /* The choice is kept: the next start leaves the demo off. */
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  fixture->window = lt_window_new (NULL, NULL);
  stop_engine (fixture);
  start_engine (fixture);
  g_assert_false (lt_engine_get_demo_enabled (fixture->engine));
  lt_window_set_engine (fixture->window, fixture->engine);
  fixture->page = _lt_window_get_streams_page (fixture->window);
  gtk_window_present (GTK_WINDOW (fixture->window));
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (_lt_streams_page_get_demo_switch (fixture->page))));

  /* And on again. */
  gtk_widget_activate (_lt_streams_page_get_demo_switch (fixture->page));
  lt_test_wait_until (demo_enabled, fixture, 5000, "the demo to be turned on");
  lt_test_wait_until (demo_row_complete, fixture, 30000, "the demo row again");
}

int
main (int    argc,
      char **argv)
{
  g_auto(GStrv) icon_path = NULL;
  const char * const *data_dirs;
  guint n_dirs;

  /* The isolated dirs hide the system MIME database and icon themes: keep the real ones. */
  g_content_type_set_mime_dirs (NULL);
  data_dirs = g_get_system_data_dirs ();
  n_dirs = g_strv_length ((GStrv) data_dirs);
  icon_path = g_new0 (char *, n_dirs + 1);
  for (guint i = 0; i < n_dirs; i++)
    icon_path[i] = g_build_filename (data_dirs[i], "icons", NULL);

  /* Isolated test dirs hide GNOME's proxy settings schema, which GIO's default proxy
   * resolver needs; nothing here goes through a proxy. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  lt_test_init (&argc, &argv);
  gtk_init ();
  adw_init ();
  gtk_icon_theme_set_search_path (gtk_icon_theme_get_for_display (gdk_display_get_default ()),
                                  (const char * const *) icon_path);

  g_test_add ("/gui/streams/demo-online", Fixture, NULL,
              fixture_set_up, test_demo_online, fixture_tear_down);

  return g_test_run ();
}
