/* test-ingest.c: the RTMP push ingest with a real nginx-rtmp and real ffmpeg publishers —
 * start/stop, publish with domain/app/stream/args/codecs/bitrate, a refused second
 * publisher, a killed publisher, a killed nginx, a port in use, no process left behind;
 * plus the stream identity helpers and the registry. Suite: integration. */
#include "config.h"

#include <gst/gst.h>
#include <signal.h>
#include <string.h>

#include "lt-ingest-server.h"
#include "lt-stream-registry.h"
#include "lt-test-publisher.h"
#include "lt-test-utils.h"

typedef struct
{
  char             *dir;
  char             *runtime_dir;
  LtStreamRegistry *registry;
  LtIngestServer   *server;
  guint             port;
  guint             online_count;
  guint             offline_count;
} Fixture;

static void
stream_online_cb (LtStreamRegistry *registry,
                  LtStream         *stream,
                  Fixture          *f)
{
  g_assert_true (lt_stream_get_online (stream));
  f->online_count++;
}

static void
stream_offline_cb (LtStreamRegistry *registry,
                   LtStream         *stream,
                   Fixture          *f)
{
  g_assert_false (lt_stream_get_online (stream));
  f->offline_count++;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  const char *module = g_getenv ("LT_NGINX_RTMP_MODULE");

  f->dir = lt_test_make_temp_dir ();
  f->runtime_dir = g_build_filename (f->dir, "ingest", NULL);
  f->registry = lt_stream_registry_new ();
  g_signal_connect (f->registry, "stream-online", G_CALLBACK (stream_online_cb), f);
  g_signal_connect (f->registry, "stream-offline", G_CALLBACK (stream_offline_cb), f);
  f->server = lt_ingest_server_new (f->registry, f->runtime_dir);
  f->port = lt_test_pick_free_port ();
  lt_ingest_server_set_port (f->server, f->port);
  if (module != NULL)
    lt_ingest_server_set_rtmp_module (f->server, module);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  GPid pid = lt_ingest_server_get_nginx_pid (f->server);

  g_assert_finalize_object (g_steal_pointer (&f->server));
  /* Dispose stops nginx and waits for it. */
  if (pid != 0)
    g_assert_false (lt_test_process_alive (pid));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->registry)), ==, 0);
  g_assert_finalize_object (g_steal_pointer (&f->registry));
  g_free (f->runtime_dir);
  g_free (f->dir);
}

static void
start_server (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 begin = g_get_monotonic_time ();

  lt_ingest_server_start_async (f->server, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_ingest_server_start_finish (f->server, result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lt_ingest_server_get_state (f->server), ==, LT_INGEST_STATE_RUNNING);
  g_test_message ("nginx started in %.0f ms",
                  (g_get_monotonic_time () - begin) / 1000.0);
}

typedef struct
{
  Fixture    *f;
  const char *domain;
  const char *app;
  const char *name;
} Lookup;

static gboolean
stream_is_online (gpointer data)
{
  Lookup *l = data;

  return lt_stream_registry_lookup (l->f->registry, l->domain, l->app, l->name) != NULL;
}

static gboolean
stream_is_offline (gpointer data)
{
  return !stream_is_online (data);
}

static LtStream *
wait_online (Fixture    *f,
             const char *domain,
             const char *app,
             const char *name)
{
  Lookup l = { f, domain, app, name };

  lt_test_wait_until (stream_is_online, &l, 20000, "the stream to come online");
  return lt_stream_registry_lookup (f->registry, domain, app, name);
}

static gboolean
has_media_info (gpointer data)
{
  return lt_stream_get_has_media_info (data);
}

static gboolean
has_bitrate (gpointer data)
{
  return lt_stream_get_bitrate (data) > 0;
}

static gboolean
server_running (gpointer data)
{
  return lt_ingest_server_get_state (data) == LT_INGEST_STATE_RUNNING;
}

static gboolean
server_not_running (gpointer data)
{
  return lt_ingest_server_get_state (data) != LT_INGEST_STATE_RUNNING;
}

/* Bytes a consumer gets from @uri within @ms (a throwaway rtmp2src pipeline). */
typedef struct
{
  gint64 bytes;
} Counter;

static GstPadProbeReturn
count_probe_cb (GstPad          *pad,
                GstPadProbeInfo *info,
                gpointer         user_data)
{
  Counter *counter = user_data;

  g_atomic_pointer_add (&counter->bytes, gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info)));
  return GST_PAD_PROBE_OK;
}

static gint64
consume_bytes (const char *uri,
               guint       ms)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstElement) source = NULL;
  g_autoptr(GstPad) pad = NULL;
  g_autofree char *description = NULL;
  Counter counter = { 0 };

  pipeline = gst_parse_launch ("rtmp2src name=src idle-timeout=5 ! fakesink sync=false", &error);
  g_assert_no_error (error);
  source = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  g_object_set (source, "location", uri, NULL);
  pad = gst_element_get_static_pad (source, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_probe_cb, &counter, NULL);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  lt_test_spin (ms);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  return g_atomic_pointer_get (&counter.bytes);
}

/* ---- identity helpers and the registry (no nginx) ---- */

static void
test_domain_from_host (void)
{
  static const struct {
    const char *host;
    const char *expected;
  } cases[] = {
    { "Cam.Example.COM", "cam.example.com" },
    { "example.com.", "example.com" },
    { "127.0.0.1", "default.test" },
    { "192.168.1.20", "default.test" },
    { "::1", "default.test" },
    { "[::1]", "default.test" },
    { "localhost", "default.test" },
    { "LocalHost.", "default.test" },
    { "box.localhost", "default.test" },
    { "", "default.test" },
    { NULL, "default.test" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *domain = lt_stream_domain_from_host (cases[i].host, "Default.Test");

      g_assert_cmpstr (domain, ==, cases[i].expected);
    }
}

static void
test_domain_from_url (void)
{
  static const struct {
    const char *url;
    const char *expected;
  } cases[] = {
    { "rtmp://Live.Example.com:1935/app/stream", "live.example.com" },
    { "srt://10.0.0.2:9000?mode=caller", "dflt" },
    { "https://cdn.example.org/hls/x.m3u8", "cdn.example.org" },
    { "file:///tmp/a.mp4", "dflt" },
    { "rtsp://user:pw@cam.local:554/h264", "cam.local" },
    { "not a url", "dflt" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *domain = lt_stream_domain_from_url (cases[i].url, "dflt");

      g_assert_cmpstr (domain, ==, cases[i].expected);
    }
}

static void
test_names (void)
{
  static const struct {
    const char *name;
    gboolean    valid;
  } cases[] = {
    { "cam1", TRUE },
    { "a/b", TRUE },
    { "名字", TRUE },
    { "../../etc", TRUE },        /* accepted: never used in a path here */
    { "with space", TRUE },
    { "", FALSE },
    { NULL, FALSE },
    { "tab\there", FALSE },
    { "nl\n", FALSE },
    { "\xff\xfe", FALSE },
  };
  g_autofree char *long_name = g_strnfill (256, 'x');
  g_autofree char *k1 = lt_stream_make_key ("D", "a/b", "c");
  g_autofree char *k2 = lt_stream_make_key ("d", "a", "b/c");
  g_autofree char *k3 = lt_stream_make_key ("d", "a/b", "c");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_true (lt_stream_name_is_valid (cases[i].name) == cases[i].valid);
  g_assert_false (lt_stream_name_is_valid (long_name));

  g_assert_cmpstr (k1, !=, k2);
  g_assert_cmpstr (k1, ==, k3);

  g_assert_true (lt_stream_video_codec_is_supported ("h265"));
  g_assert_false (lt_stream_video_codec_is_supported ("vp9"));
  g_assert_true (lt_stream_audio_codec_is_supported ("mp3"));
  g_assert_false (lt_stream_audio_codec_is_supported ("opus"));
}

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  guint      *count)
{
  (*count)++;
}

static void
test_registry (void)
{
  g_autoptr(LtStreamRegistry) registry = lt_stream_registry_new ();
  g_autoptr(LtStream) a = lt_stream_new (LT_STREAM_SOURCE_PUSH, "Example.com", "live", "a");
  g_autoptr(LtStream) a2 = lt_stream_new (LT_STREAM_SOURCE_PULL, "example.COM", "live", "a");
  g_autoptr(LtStream) b = lt_stream_new (LT_STREAM_SOURCE_DEMO, "example.com", "live", "b");
  g_autoptr(LtStream) item = NULL;
  g_autoptr(GError) error = NULL;
  guint changes = 0;

  g_signal_connect (registry, "items-changed", G_CALLBACK (items_changed_cb), &changes);

  g_assert_cmpstr (lt_stream_get_domain (a), ==, "example.com");
  g_assert_true (lt_stream_registry_add (registry, a, &error));
  g_assert_no_error (error);
  g_assert_true (lt_stream_get_online (a));
  g_assert_nonnull (lt_stream_get_online_since (a));

  g_assert_false (lt_stream_registry_add (registry, a2, &error));
  g_assert_error (error, LT_STREAM_REGISTRY_ERROR, LT_STREAM_REGISTRY_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (lt_stream_get_online (a2));

  g_assert_true (lt_stream_registry_add (registry, b, NULL));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (registry)), ==, 2);
  g_assert_true (lt_stream_registry_lookup (registry, "EXAMPLE.com", "live", "a") == a);
  g_assert_null (lt_stream_registry_lookup (registry, "example.com", "Live", "a"));

  g_assert_false (lt_stream_registry_remove (registry, a2));
  g_assert_true (lt_stream_registry_remove (registry, a));
  g_assert_false (lt_stream_get_online (a));
  item = g_list_model_get_item (G_LIST_MODEL (registry), 0);
  g_assert_true (item == b);
  g_assert_cmpuint (changes, ==, 3);

  /* The identity is free again. */
  g_assert_true (lt_stream_registry_add (registry, a2, NULL));
  g_assert_true (lt_stream_registry_remove (registry, a2));
  g_assert_true (lt_stream_registry_remove (registry, b));
}

/* ---- nginx ---- */

static void
test_start_stop (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *config_path = g_build_filename (f->runtime_dir, "nginx.conf", NULL);
  g_autofree char *config = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *url = NULL;
  g_autofree char *expected_url = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  GPid pid;

  g_assert_cmpint (lt_ingest_server_get_state (f->server), ==, LT_INGEST_STATE_STOPPED);
  start_server (f);

  pid = lt_ingest_server_get_nginx_pid (f->server);
  g_assert_cmpint (pid, >, 0);
  g_assert_true (lt_test_process_alive (pid));
  g_assert_null (lt_ingest_server_get_last_error (f->server));

  g_file_get_contents (config_path, &config, NULL, &error);
  g_assert_no_error (error);
  listen = g_strdup_printf ("listen %u;", f->port);
  g_assert_nonnull (strstr (config, listen));
  g_assert_nonnull (strstr (config, "master_process off;"));

  g_socket_client_set_enable_proxy (client, FALSE);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", f->port, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&connection);

  /* Publish URLs for users: the default port is left out. */
  lt_ingest_server_set_public_host (f->server, "ingest.example.com");
  url = lt_ingest_server_dup_publish_url (f->server, "live", "cam1");
  expected_url = g_strdup_printf ("rtmp://ingest.example.com:%u/live/cam1", f->port);
  g_assert_cmpstr (url, ==, expected_url);

  lt_ingest_server_stop (f->server);
  g_assert_cmpint (lt_ingest_server_get_state (f->server), ==, LT_INGEST_STATE_STOPPED);
  g_assert_cmpint (lt_ingest_server_get_nginx_pid (f->server), ==, 0);
  g_assert_false (lt_test_process_alive (pid));
  lt_ingest_server_stop (f->server);

  /* And again, on the same port. */
  start_server (f);
  g_assert_cmpint (lt_ingest_server_get_nginx_pid (f->server), !=, pid);
}

static void
test_publish (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *url1 = g_strdup_printf ("rtmp://127.0.0.1:%u/live/cam1?record=1&callback_a=b", f->port);
  g_autofree char *tc_url = g_strdup_printf ("rtmp://Cam.Example.COM:%u/live", f->port);
  const char *extra[] = { "-rtmp_tcurl", tc_url, NULL };
  g_autofree char *url2 = g_strdup_printf ("rtmp://127.0.0.1:%u/other/app/cam2?x=1", f->port);
  g_autofree char *public_play = g_strdup_printf ("rtmp://127.0.0.1:%u/other/app/cam2", f->port);
  g_autofree char *expected_source = NULL;
  LtStream *stream;
  LtStream *stream2;
  guint bitrate;

  start_server (f);

  /* A host name in the tcUrl is the domain. */
  lt_test_publisher_spawn_ffmpeg (url1, extra);
  stream = wait_online (f, "cam.example.com", "live", "cam1");
  g_object_ref (stream);
  g_test_queue_unref (stream);

  g_assert_cmpint (lt_stream_get_source_kind (stream), ==, LT_STREAM_SOURCE_PUSH);
  g_assert_cmpstr (lt_stream_get_domain (stream), ==, "cam.example.com");
  g_assert_cmpstr (lt_stream_get_app (stream), ==, "live");
  g_assert_cmpstr (lt_stream_get_name (stream), ==, "cam1");
  g_assert_cmpstr (lt_stream_get_publish_arg (stream, "record"), ==, "1");
  g_assert_cmpstr (lt_stream_get_publish_arg (stream, "callback_a"), ==, "b");
  g_assert_cmpuint (g_hash_table_size (lt_stream_get_publish_args (stream)), ==, 2);
  g_assert_nonnull (lt_stream_get_client_id (stream));
  g_assert_cmpstr (lt_stream_get_remote_address (stream), ==, "127.0.0.1");
  expected_source = g_strdup_printf ("%s/cam1", tc_url);
  g_assert_cmpstr (lt_stream_get_source_uri (stream), ==, expected_source);
  g_assert_true (g_str_has_prefix (lt_stream_get_loopback_uri (stream), "rtmp://127.0.0.1:"));
  g_assert_nonnull (lt_stream_get_online_since (stream));

  lt_test_wait_until (has_media_info, stream, 10000, "codecs");
  g_assert_cmpstr (lt_stream_get_video_codec (stream), ==, "h264");
  g_assert_cmpstr (lt_stream_get_audio_codec (stream), ==, "aac");
  g_assert_cmpuint (lt_stream_get_width (stream), ==, 640);
  g_assert_cmpuint (lt_stream_get_height (stream), ==, 360);
  g_assert_cmpfloat_with_epsilon (lt_stream_get_fps (stream), 30.0, 0.5);

  lt_test_wait_until (has_bitrate, stream, 10000, "a bitrate");
  bitrate = lt_stream_get_bitrate (stream);
  g_test_message ("measured bitrate: %u kbit/s", bitrate);
  g_assert_cmpuint (bitrate, >, 100);
  g_assert_cmpuint (bitrate, <, 20000);

  /* The recorder's way in: the loopback URI of the session. */
  g_assert_cmpint (consume_bytes (lt_stream_get_loopback_uri (stream), 1500), >, 10000);

  /* An IP address in the tcUrl gives the default domain; a two-part app is kept. */
  lt_test_publisher_spawn_ffmpeg (url2, NULL);
  stream2 = wait_online (f, LT_DEFAULT_DOMAIN, "other/app", "cam2");
  g_assert_cmpstr (lt_stream_get_publish_arg (stream2, "x"), ==, "1");
  g_assert_cmpstr (lt_stream_get_loopback_uri (stream2), !=, lt_stream_get_loopback_uri (stream));

  /* A player asking for the public URL is redirected to the session. */
  g_assert_cmpint (consume_bytes (public_play, 1500), >, 10000);

  g_assert_cmpuint (f->online_count, ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->registry)), ==, 2);
}

static void
test_second_publisher (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *url = g_strdup_printf ("rtmp://127.0.0.1:%u/live/cam1", f->port);
  LtTestPublisher *first;
  LtTestPublisher *second;
  LtStream *stream;

  start_server (f);

  first = lt_test_publisher_spawn_ffmpeg (url, NULL);
  stream = wait_online (f, LT_DEFAULT_DOMAIN, "live", "cam1");
  g_object_ref (stream);
  g_test_queue_unref (stream);
  lt_test_wait_until (has_bitrate, stream, 10000, "a bitrate");

  second = lt_test_publisher_spawn_ffmpeg (url, NULL);
  g_assert_true (lt_test_publisher_wait_exit (second, 15000));
  g_assert_cmpint (lt_test_publisher_get_exit_status (second), !=, 0);

  /* The first one goes on, in the same session. */
  g_assert_false (lt_test_publisher_has_exited (first));
  g_assert_true (lt_stream_get_online (stream));
  g_assert_true (lt_stream_registry_lookup (f->registry, LT_DEFAULT_DOMAIN, "live", "cam1") == stream);
  g_assert_cmpint (consume_bytes (lt_stream_get_loopback_uri (stream), 1000), >, 10000);
  g_assert_cmpuint (f->online_count, ==, 1);
  g_assert_cmpuint (f->offline_count, ==, 0);
}

static void
test_publisher_killed (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *url = g_strdup_printf ("rtmp://127.0.0.1:%u/live/cam1", f->port);
  Lookup l = { f, LT_DEFAULT_DOMAIN, "live", "cam1" };
  LtTestPublisher *publisher;
  LtStream *stream;
  gint64 killed_at;
  double seconds;

  start_server (f);

  publisher = lt_test_publisher_spawn_ffmpeg (url, NULL);
  stream = wait_online (f, LT_DEFAULT_DOMAIN, "live", "cam1");
  g_object_ref (stream);
  g_test_queue_unref (stream);
  lt_test_spin (500);

  killed_at = g_get_monotonic_time ();
  lt_test_publisher_kill (publisher);
  lt_test_wait_until (stream_is_offline, &l, 2000, "the stream to go offline");
  seconds = (g_get_monotonic_time () - killed_at) / (double) G_USEC_PER_SEC;
  g_test_message ("offline %.3f s after SIGKILL", seconds);

  g_assert_false (lt_stream_get_online (stream));
  g_assert_cmpuint (f->offline_count, ==, 1);

  /* And back. */
  lt_test_publisher_spawn_ffmpeg (url, NULL);
  wait_online (f, LT_DEFAULT_DOMAIN, "live", "cam1");
}

static void
test_nginx_killed (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *url = g_strdup_printf ("rtmp://127.0.0.1:%u/live/cam1", f->port);
  Lookup l = { f, LT_DEFAULT_DOMAIN, "live", "cam1" };
  LtStream *stream;
  GPid pid;
  GPid new_pid;

  start_server (f);

  lt_test_publisher_spawn_ffmpeg (url, NULL);
  stream = wait_online (f, LT_DEFAULT_DOMAIN, "live", "cam1");
  g_object_ref (stream);
  g_test_queue_unref (stream);

  pid = lt_ingest_server_get_nginx_pid (f->server);
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);

  lt_test_wait_until (server_not_running, f->server, 5000, "nginx's death to be noticed");
  lt_test_wait_until (stream_is_offline, &l, 2000, "the stream to go offline");
  g_assert_nonnull (lt_ingest_server_get_last_error (f->server));
  g_test_message ("after kill: %s", lt_ingest_server_get_last_error (f->server));

  lt_test_wait_until (server_running, f->server, 10000, "nginx to be restarted");
  new_pid = lt_ingest_server_get_nginx_pid (f->server);
  g_assert_cmpint (new_pid, !=, pid);
  g_assert_true (lt_test_process_alive (new_pid));
  g_assert_false (lt_test_process_alive (pid));
  g_assert_cmpuint (lt_ingest_server_get_restart_count (f->server), ==, 1);

  /* A new publish works. */
  lt_test_publisher_spawn_ffmpeg (url, NULL);
  stream = wait_online (f, LT_DEFAULT_DOMAIN, "live", "cam1");
  g_assert_cmpint (consume_bytes (lt_stream_get_loopback_uri (stream), 1000), >, 10000);
}

static void
test_port_in_use (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *port_text = g_strdup_printf ("%u", f->port);
  const char *reason;

  g_socket_listener_add_inet_port (listener, f->port, NULL, &error);
  g_assert_no_error (error);

  lt_ingest_server_start_async (f->server, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_false (lt_ingest_server_start_finish (f->server, result, &error));
  g_assert_error (error, LT_INGEST_SERVER_ERROR, LT_INGEST_SERVER_ERROR_PORT_IN_USE);

  g_assert_cmpint (lt_ingest_server_get_state (f->server), ==, LT_INGEST_STATE_FAILED);
  reason = lt_ingest_server_get_last_error (f->server);
  g_test_message ("reason: %s", reason);
  g_assert_nonnull (strstr (reason, port_text));
  g_assert_nonnull (strstr (reason, "already in use"));
  g_assert_cmpint (lt_ingest_server_get_nginx_pid (f->server), ==, 0);
}

/* The owner of the server dies by SIGKILL: nginx must not outlive it. The owner is this
 * test binary run with --hold-nginx (see hold_nginx ()). */
static void
test_owner_killed (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *pid_file = g_build_filename (dir, "nginx.pid", NULL);
  g_autofree char *port = g_strdup_printf ("%u", lt_test_pick_free_port ());
  g_autofree char *contents = NULL;
  const char *argv[] = { NULL, "--hold-nginx", port, dir, pid_file, NULL };
  LtTestPublisher *owner;
  gint64 deadline;
  GPid nginx = 0;

  argv[0] = g_test_get_filename (G_TEST_BUILT, "test-ingest", NULL);
  owner = lt_test_publisher_spawn (argv);

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!g_file_get_contents (pid_file, &contents, NULL, NULL) &&
         g_get_monotonic_time () < deadline)
    lt_test_spin (50);
  g_assert_nonnull (contents);
  nginx = (GPid) g_ascii_strtoll (contents, NULL, 10);
  g_assert_cmpint (nginx, >, 0);
  g_assert_true (lt_test_process_alive (nginx));

  lt_test_publisher_kill (owner);

  deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (lt_test_process_alive (nginx) && g_get_monotonic_time () < deadline)
    lt_test_spin (20);
  g_assert_false (lt_test_process_alive (nginx));
}

static void
hold_started_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  const char *pid_file = user_data;
  LtIngestServer *server = LT_INGEST_SERVER (source);
  g_autofree char *pid = NULL;

  if (!lt_ingest_server_start_finish (server, result, NULL))
    exit (1);
  pid = g_strdup_printf ("%d", (int) lt_ingest_server_get_nginx_pid (server));
  g_file_set_contents (pid_file, pid, -1, NULL);
}

/* --hold-nginx PORT DIR PID_FILE: runs a server until killed. */
static int
hold_nginx (char **argv)
{
  g_autoptr(LtStreamRegistry) registry = lt_stream_registry_new ();
  g_autofree char *runtime_dir = g_build_filename (argv[3], "ingest", NULL);
  g_autoptr(LtIngestServer) server = lt_ingest_server_new (registry, runtime_dir);
  const char *module = g_getenv ("LT_NGINX_RTMP_MODULE");

  lt_ingest_server_set_port (server, (guint) g_ascii_strtoull (argv[2], NULL, 10));
  if (module != NULL)
    lt_ingest_server_set_rtmp_module (server, module);
  lt_ingest_server_start_async (server, NULL, hold_started_cb, argv[4]);
  for (;;)
    g_main_context_iteration (NULL, TRUE);

  return 0;
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 5 && g_str_equal (argv[1], "--hold-nginx"))
    {
      g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
      return hold_nginx (argv);
    }

  /* Isolated test dirs hide GNOME's proxy settings schema, which GIO's default proxy
   * resolver needs; nothing here goes through a proxy. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  lt_test_init (&argc, &argv);
  gst_init (&argc, &argv);

  g_test_add_func ("/ingest/domain-from-host", test_domain_from_host);
  g_test_add_func ("/ingest/domain-from-url", test_domain_from_url);
  g_test_add_func ("/ingest/names", test_names);
  g_test_add_func ("/ingest/registry", test_registry);

  g_test_add ("/ingest/start-stop", Fixture, NULL, fixture_setup, test_start_stop, fixture_teardown);
  g_test_add ("/ingest/publish", Fixture, NULL, fixture_setup, test_publish, fixture_teardown);
  g_test_add ("/ingest/second-publisher", Fixture, NULL, fixture_setup, test_second_publisher, fixture_teardown);
  g_test_add ("/ingest/publisher-killed", Fixture, NULL, fixture_setup, test_publisher_killed, fixture_teardown);
  g_test_add ("/ingest/nginx-killed", Fixture, NULL, fixture_setup, test_nginx_killed, fixture_teardown);
  g_test_add ("/ingest/port-in-use", Fixture, NULL, fixture_setup, test_port_in_use, fixture_teardown);
  g_test_add_func ("/ingest/owner-killed", test_owner_killed);

  return g_test_run ();
}
