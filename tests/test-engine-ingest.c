/* test-engine-ingest.c: the engine's ingest wiring against a real nginx-rtmp and ffmpeg.
 *
 * A first start records the demo source and brings it online under the default domain as
 * live/demo; an ffmpeg publisher shows up in the registry with its codecs; a busy ingest
 * port fails the ingest, not the engine; shutdown leaves no nginx. Suite: integration. */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "lt-engine.h"
#include "lt-test-publisher.h"
#include "lt-test-utils.h"

static LtEngine *
start_engine (const char *dir,
              guint       port)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LtEngine *engine = lt_engine_new (dir);

  lt_engine_set_api_listen (engine, NULL);
  lt_engine_set_ingest_port (engine, port);
  lt_engine_start_async (engine, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_engine_start_finish (engine, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (lt_engine_get_ingest_server (engine));
  g_assert_cmpuint (lt_ingest_server_get_port (lt_engine_get_ingest_server (engine)), ==, port);
  return engine;
}

static void
stop_engine (LtEngine *engine)
{
  LtIngestServer *server = lt_engine_get_ingest_server (engine);
  GPid nginx = lt_ingest_server_get_nginx_pid (server);

  lt_engine_shutdown (engine);
  g_assert_cmpint (lt_ingest_server_get_state (server), ==, LT_INGEST_STATE_STOPPED);
  if (nginx != 0)
    g_assert_false (lt_test_process_alive (nginx));
  g_assert_finalize_object (engine);
}

static gboolean
ingest_running (gpointer data)
{
  return lt_ingest_server_get_state (data) == LT_INGEST_STATE_RUNNING;
}

static gboolean
ingest_failed (gpointer data)
{
  return lt_ingest_server_get_state (data) == LT_INGEST_STATE_FAILED;
}

typedef struct
{
  LtStreamRegistry *registry;
  const char       *app;
  const char       *name;
} Lookup;

static gboolean
stream_has_media (gpointer data)
{
  Lookup *lookup = data;
  LtStream *stream = lt_stream_registry_lookup (lookup->registry, LT_DEFAULT_DOMAIN,
                                                lookup->app, lookup->name);

  return stream != NULL && lt_stream_get_has_media_info (stream);
}

static gboolean
registry_empty (gpointer data)
{
  return g_list_model_get_n_items (data) == 0;
}

static void
test_demo_and_publisher (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  guint port = lt_test_pick_free_port ();
  LtEngine *engine = start_engine (dir, port);
  LtStreamRegistry *registry = lt_engine_get_stream_registry (engine);
  Lookup demo = { registry, "live", "demo" };
  Lookup cam = { registry, "studio", "cam1" };
  g_autofree char *url = NULL;
  LtStream *stream;

  /* On by default on a first start. */
  g_assert_true (lt_engine_get_demo_enabled (engine));
  lt_test_wait_until (ingest_running, lt_engine_get_ingest_server (engine), 20000, "nginx");
  lt_test_wait_until (stream_has_media, &demo, 30000, "the demo stream");
  stream = lt_stream_registry_lookup (registry, LT_DEFAULT_DOMAIN, "live", "demo");
  g_assert_cmpint (lt_stream_get_source_kind (stream), ==, LT_STREAM_SOURCE_DEMO);
  g_assert_cmpstr (lt_stream_get_video_codec (stream), ==, "h264");
  g_assert_cmpstr (lt_stream_get_audio_codec (stream), ==, "aac");

  /* A real publisher next to it. */
  url = g_strdup_printf ("rtmp://127.0.0.1:%u/studio/cam1", port);
  lt_test_publisher_spawn_ffmpeg (url, NULL);
  lt_test_wait_until (stream_has_media, &cam, 30000, "the ffmpeg stream");
  stream = lt_stream_registry_lookup (registry, LT_DEFAULT_DOMAIN, "studio", "cam1");
  g_assert_cmpint (lt_stream_get_source_kind (stream), ==, LT_STREAM_SOURCE_PUSH);
  g_assert_cmpstr (lt_stream_get_video_codec (stream), ==, "h264");
  g_assert_cmpstr (lt_stream_get_audio_codec (stream), ==, "aac");
  g_assert_cmpuint (lt_stream_get_width (stream), ==, 640);
  g_assert_cmpuint (lt_stream_get_height (stream), ==, 360);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (registry)), ==, 2);

  stop_engine (engine);
}

static void
test_demo_choice_kept (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  guint port = lt_test_pick_free_port ();
  LtEngine *engine = start_engine (dir, port);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LtStreamRegistry *registry;
  Lookup demo;

  lt_engine_set_demo_enabled_async (engine, FALSE, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_engine_set_demo_enabled_finish (engine, result, &error));
  g_assert_no_error (error);
  g_assert_false (lt_engine_get_demo_enabled (engine));
  g_clear_object (&result);
  stop_engine (engine);

  /* Off stays off over a restart; on again brings the stream back. */
  engine = start_engine (dir, port);
  registry = lt_engine_get_stream_registry (engine);
  g_assert_false (lt_engine_get_demo_enabled (engine));
  lt_test_wait_until (ingest_running, lt_engine_get_ingest_server (engine), 20000, "nginx");
  lt_test_spin (1000);
  g_assert_true (registry_empty (registry));

  lt_engine_set_demo_enabled_async (engine, TRUE, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_engine_set_demo_enabled_finish (engine, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  demo = (Lookup) { registry, "live", "demo" };
  lt_test_wait_until (stream_has_media, &demo, 30000, "the demo stream");

  stop_engine (engine);
}

static void
test_port_in_use (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 port;
  LtEngine *engine;

  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);

  /* The engine starts; the ingest says why it does not run. */
  engine = start_engine (dir, port);
  lt_test_wait_until (ingest_failed, lt_engine_get_ingest_server (engine), 20000,
                      "the ingest to fail");
  g_assert_nonnull (lt_ingest_server_get_last_error (lt_engine_get_ingest_server (engine)));
  g_assert_nonnull (lt_engine_get_catalog (engine));

  stop_engine (engine);
  g_socket_listener_close (listener);
}

int
main (int    argc,
      char **argv)
{
  /* Isolated test dirs hide GNOME's proxy settings schema, which GIO's default proxy
   * resolver needs; nothing here goes through a proxy. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  lt_test_init (&argc, &argv);

  g_test_add_func ("/engine-ingest/demo-and-publisher", test_demo_and_publisher);
  g_test_add_func ("/engine-ingest/demo-choice-kept", test_demo_choice_kept);
  g_test_add_func ("/engine-ingest/port-in-use", test_port_in_use);

  return g_test_run ();
}
