/* test-pull-demo.c: pull sources (file:// at real time, rtmp:// from a real nginx with a
 * real ffmpeg upstream that dies and comes back, H.265 in a file, a taken identity) and
 * the demo source, each consumed the way the recorder does it: a source made from the
 * stream's loopback URI followed by parsebin. Suite: integration. */
#include "config.h"

#include <gst/gst.h>
#include <string.h>

#include "lt-demo-source.h"
#include "lt-ingest-server.h"
#include "lt-pull-source.h"
#include "lt-stream-registry.h"
#include "lt-test-publisher.h"
#include "lt-test-utils.h"

/* ---- helpers ---- */

static gboolean
pull_online (gpointer data)
{
  return lt_pull_source_get_state (data) == LT_PULL_SOURCE_STATE_ONLINE;
}

static gboolean
pull_offline (gpointer data)
{
  return lt_pull_source_get_state (data) != LT_PULL_SOURCE_STATE_ONLINE;
}

static gboolean
pull_waiting (gpointer data)
{
  return lt_pull_source_get_state (data) == LT_PULL_SOURCE_STATE_WAITING;
}

static gboolean
stream_is_offline (gpointer data)
{
  return !lt_stream_get_online (data);
}

static gboolean
pull_has_bitrate (gpointer data)
{
  LtStream *stream = lt_pull_source_get_stream (data);

  return stream != NULL && lt_stream_get_bitrate (stream) > 0;
}

static gboolean
demo_online (gpointer data)
{
  return lt_demo_source_get_state (data) == LT_DEMO_SOURCE_STATE_ONLINE;
}

static gboolean
stream_has_media_info (gpointer data)
{
  return lt_stream_get_has_media_info (data);
}

/* What a consumer of a loopback URI receives: source from the URI ! parsebin ! fakesinks. */
typedef struct
{
  GstElement *pipeline;
  GMutex      lock;
  gint64      bytes;
  GPtrArray  *media;    /* caps names of parsebin's pads */
} Consumer;

static GstPadProbeReturn
consumer_count_cb (GstPad          *pad,
                   GstPadProbeInfo *info,
                   gpointer         user_data)
{
  Consumer *c = user_data;

  g_mutex_lock (&c->lock);
  c->bytes += gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info));
  g_mutex_unlock (&c->lock);

  return GST_PAD_PROBE_OK;
}

static void
consumer_pad_added_cb (GstElement *parsebin,
                       GstPad     *pad,
                       Consumer   *c)
{
  g_autoptr(GstCaps) caps = gst_pad_query_caps (pad, NULL);
  g_autoptr(GstPad) sinkpad = NULL;
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);

  g_mutex_lock (&c->lock);
  g_ptr_array_add (c->media, g_strdup (gst_structure_get_name (gst_caps_get_structure (caps, 0))));
  g_mutex_unlock (&c->lock);

  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (c->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sinkpad);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, consumer_count_cb, c, NULL);
}

/* Consumes @uri for @ms; returns the bytes of parsed media, fills @media with the caps
 * names seen (e.g. "video/x-h264"). */
static gint64
consume (const char *uri,
         guint       ms,
         GPtrArray  *media)
{
  g_autoptr(GError) error = NULL;
  GstElement *source;
  GstElement *parsebin;
  Consumer c = { 0, };
  gint64 bytes;

  c.pipeline = gst_pipeline_new (NULL);
  c.media = media;
  g_mutex_init (&c.lock);

  source = gst_element_make_from_uri (GST_URI_SRC, uri, NULL, &error);
  g_assert_no_error (error);
  parsebin = gst_element_factory_make ("parsebin", NULL);
  g_signal_connect (parsebin, "pad-added", G_CALLBACK (consumer_pad_added_cb), &c);
  gst_bin_add_many (GST_BIN (c.pipeline), source, parsebin, NULL);
  g_assert_true (gst_element_link (source, parsebin));

  gst_element_set_state (c.pipeline, GST_STATE_PLAYING);
  lt_test_spin (ms);
  gst_element_set_state (c.pipeline, GST_STATE_NULL);
  gst_object_unref (c.pipeline);

  bytes = c.bytes;
  g_mutex_clear (&c.lock);
  return bytes;
}

static gboolean
has_media (GPtrArray  *media,
           const char *name)
{
  return g_ptr_array_find_with_equal_func (media, name, g_str_equal, NULL);
}

static LtIngestServer *
start_ingest (LtStreamRegistry *registry,
              const char       *dir)
{
  g_autofree char *runtime_dir = g_build_filename (dir, "ingest", NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LtIngestServer *server = lt_ingest_server_new (registry, runtime_dir);
  const char *module = g_getenv ("LT_NGINX_RTMP_MODULE");

  lt_ingest_server_set_port (server, lt_test_pick_free_port ());
  if (module != NULL)
    lt_ingest_server_set_rtmp_module (server, module);

  lt_ingest_server_start_async (server, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_ingest_server_start_finish (server, result, &error);
  g_assert_no_error (error);

  return server;
}

/* ---- tests ---- */

static void
test_check_uri (void)
{
  static const struct {
    const char *uri;
    gboolean    ok;
  } cases[] = {
    { "rtmp://example.com/live/a", TRUE },
    { "rtsp://cam.local:554/stream1", TRUE },
    { "srt://10.0.0.2:9000?mode=listener", TRUE },
    { "https://cdn.example.com/live/a.flv", TRUE },
    { "http://cdn.example.com/hls/a.m3u8", TRUE },
    { "file:///tmp/a.mp4", TRUE },
    { "ftp://example.com/a", FALSE },
    { "not a uri", FALSE },
    { "", FALSE },
  };
  g_autoptr(LtStreamRegistry) registry = lt_stream_registry_new ();
  g_autoptr(LtPullSource) source = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gboolean ok = lt_pull_source_check_uri (cases[i].uri, &error);

      g_assert_true (ok == cases[i].ok);
      g_assert_true ((error == NULL) == cases[i].ok);
      g_clear_error (&error);
    }

  /* The domain defaults to the URL's host. */
  source = lt_pull_source_new (registry, "rtmp://Origin.Example.com/live/x", NULL, "live", "x",
                               &error);
  g_assert_no_error (error);
  g_assert_cmpstr (lt_pull_source_get_domain (source), ==, "origin.example.com");
  g_assert_cmpint (lt_pull_source_get_state (source), ==, LT_PULL_SOURCE_STATE_DISABLED);
  g_clear_object (&source);

  source = lt_pull_source_new (registry, "file:///tmp/x.mp4", NULL, "vod", "x", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (lt_pull_source_get_domain (source), ==, LT_DEFAULT_DOMAIN);
  g_clear_object (&source);

  g_assert_null (lt_pull_source_new (registry, "file:///tmp/x.mp4", NULL, "", "x", &error));
  g_assert_error (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_null (lt_pull_source_new (registry, "gopher://x/y", NULL, "a", "x", &error));
  g_assert_error (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_UNSUPPORTED_SCHEME);
}

static void
test_pull_file (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "clip.mp4", NULL);
  g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);
  g_autoptr(LtStreamRegistry) registry = lt_stream_registry_new ();
  g_autoptr(GPtrArray) media = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(LtStream) stream = NULL;
  LtPullSource *source;
  gint64 online_at;
  double online_seconds;

  lt_test_make_media_file (path, 4, "libx264");

  source = lt_pull_source_new (registry, uri, "Files.Example.com", "vod", "clip", &error);
  g_assert_no_error (error);
  lt_pull_source_set_enabled (source, TRUE);
  g_assert_cmpint (lt_pull_source_get_state (source), ==, LT_PULL_SOURCE_STATE_CONNECTING);

  lt_test_wait_until (pull_online, source, 10000, "the file source to come online");
  online_at = g_get_monotonic_time ();
  stream = g_object_ref (lt_pull_source_get_stream (source));
  g_assert_true (lt_stream_registry_lookup (registry, "files.example.com", "vod", "clip") == stream);
  g_assert_cmpint (lt_stream_get_source_kind (stream), ==, LT_STREAM_SOURCE_PULL);
  g_assert_cmpstr (lt_stream_get_source_uri (stream), ==, uri);
  g_assert_true (g_str_has_prefix (lt_stream_get_loopback_uri (stream), "srt://127.0.0.1:"));
  g_assert_cmpuint (g_hash_table_size (lt_stream_get_publish_args (stream)), ==, 0);

  lt_test_wait_until (stream_has_media_info, stream, 5000, "codecs");
  g_assert_cmpstr (lt_stream_get_video_codec (stream), ==, "h264");
  g_assert_cmpstr (lt_stream_get_audio_codec (stream), ==, "aac");
  g_assert_cmpuint (lt_stream_get_width (stream), ==, 320);
  g_assert_cmpuint (lt_stream_get_height (stream), ==, 240);
  g_assert_cmpfloat_with_epsilon (lt_stream_get_fps (stream), 30.0, 0.5);

  /* The recorder's way in. */
  g_assert_cmpint (consume (lt_stream_get_loopback_uri (stream), 1500, media), >, 5000);
  g_assert_true (has_media (media, "video/x-h264"));
  g_assert_true (has_media (media, "audio/mpeg"));

  /* Real time: a 4 s file stays online for about 4 s, then ends... */
  lt_test_wait_until (pull_offline, source, 8000, "the end of the file");
  online_seconds = (g_get_monotonic_time () - online_at) / (double) G_USEC_PER_SEC;
  g_test_message ("a 4 s file was online for %.2f s", online_seconds);
  g_assert_cmpfloat (online_seconds, >, 3.0);
  g_assert_false (lt_stream_get_online (stream));
  g_assert_null (lt_stream_registry_lookup (registry, "files.example.com", "vod", "clip"));
  g_assert_cmpint (lt_pull_source_get_state (source), ==, LT_PULL_SOURCE_STATE_WAITING);
  g_assert_cmpuint (lt_pull_source_get_retry_delay (source), ==, 1000);

  /* ... and plays again: a new session. */
  lt_test_wait_until (pull_online, source, 5000, "the file to play again");
  g_assert_true (lt_pull_source_get_stream (source) != stream);

  /* Disabling stops it. */
  lt_pull_source_set_enabled (source, FALSE);
  g_assert_cmpint (lt_pull_source_get_state (source), ==, LT_PULL_SOURCE_STATE_DISABLED);
  g_assert_null (lt_pull_source_get_stream (source));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (registry)), ==, 0);
  lt_test_spin (1500);
  g_assert_cmpint (lt_pull_source_get_state (source), ==, LT_PULL_SOURCE_STATE_DISABLED);

  g_assert_finalize_object (source);
}

static void
test_pull_rtmp (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autoptr(LtStreamRegistry) registry = lt_stream_registry_new ();
  g_autoptr(LtIngestServer) server = start_ingest (registry, dir);
  g_autoptr(GPtrArray) media = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *upstream_url = NULL;
  LtTestPublisher *upstream;
  LtPullSource *source;
  LtStream *stream;
  gint64 killed_at;
  gint64 back_at;

  upstream_url = g_strdup_printf ("rtmp://127.0.0.1:%u/live/up",
                                  lt_ingest_server_get_port (server));
  upstream = lt_test_publisher_spawn_ffmpeg (upstream_url, NULL);

  /* Its own identity: the upstream itself is online as a push stream. */
  source = lt_pull_source_new (registry, upstream_url, "pull.example.com", "live", "cam",
                               &error);
  g_assert_no_error (error);
  lt_pull_source_set_enabled (source, TRUE);

  lt_test_wait_until (pull_online, source, 20000, "the rtmp source to come online");
  stream = lt_pull_source_get_stream (source);
  g_assert_cmpstr (lt_stream_get_domain (stream), ==, "pull.example.com");
  lt_test_wait_until (stream_has_media_info, stream, 5000, "codecs");
  g_assert_cmpstr (lt_stream_get_video_codec (stream), ==, "h264");
  g_assert_cmpstr (lt_stream_get_audio_codec (stream), ==, "aac");
  g_assert_cmpuint (lt_stream_get_width (stream), ==, 640);
  g_assert_cmpuint (lt_stream_get_height (stream), ==, 360);
  lt_test_wait_until (pull_has_bitrate, source, 6000, "a bitrate");
  g_test_message ("pull bitrate: %u kbit/s", lt_stream_get_bitrate (stream));
  /* A consumer joins mid-GOP: video shows from the next keyframe (GOP 1 s). */
  g_assert_cmpint (consume (lt_stream_get_loopback_uri (stream), 3000, media), >, 10000);
  g_assert_true (has_media (media, "video/x-h264"));
  g_assert_true (has_media (media, "audio/mpeg"));

  /* The upstream dies: offline, retrying. */
  killed_at = g_get_monotonic_time ();
  lt_test_publisher_kill (upstream);
  lt_test_wait_until (pull_offline, source, 5000, "the source to go offline");
  g_test_message ("offline %.2f s after the upstream died",
                  (g_get_monotonic_time () - killed_at) / (double) G_USEC_PER_SEC);
  g_assert_null (lt_pull_source_get_stream (source));
  lt_test_spin (2000);
  g_assert_cmpint (lt_pull_source_get_state (source), !=, LT_PULL_SOURCE_STATE_ONLINE);
  g_assert_nonnull (lt_pull_source_get_last_error (source));
  g_test_message ("while the upstream is away: %s", lt_pull_source_get_last_error (source));

  /* It comes back: so does the source. */
  back_at = g_get_monotonic_time ();
  lt_test_publisher_spawn_ffmpeg (upstream_url, NULL);
  lt_test_wait_until (pull_online, source, 25000, "the source to reconnect");
  g_test_message ("online again %.2f s after the upstream restarted",
                  (g_get_monotonic_time () - back_at) / (double) G_USEC_PER_SEC);
  g_ptr_array_set_size (media, 0);
  g_assert_cmpint (consume (lt_stream_get_loopback_uri (lt_pull_source_get_stream (source)),
                            1500, media), >, 10000);

  g_assert_finalize_object (source);
}

static void
test_pull_hevc (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "hevc.mp4", NULL);
  g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);
  g_autoptr(LtStreamRegistry) registry = lt_stream_registry_new ();
  g_autoptr(GPtrArray) media = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  LtPullSource *source;
  LtStream *stream;

  lt_test_make_media_file (path, 4, "libx265");

  source = lt_pull_source_new (registry, uri, NULL, "vod", "hevc", &error);
  g_assert_no_error (error);
  lt_pull_source_set_enabled (source, TRUE);
  lt_test_wait_until (pull_online, source, 10000, "the HEVC file to come online");
  stream = lt_pull_source_get_stream (source);
  lt_test_wait_until (stream_has_media_info, stream, 5000, "codecs");
  g_assert_cmpstr (lt_stream_get_video_codec (stream), ==, "h265");
  g_assert_cmpstr (lt_stream_get_audio_codec (stream), ==, "aac");

  /* What FLV through nginx could not carry. */
  g_assert_cmpint (consume (lt_stream_get_loopback_uri (stream), 1500, media), >, 5000);
  g_assert_true (has_media (media, "video/x-h265"));

  g_assert_finalize_object (source);
}

static void
test_pull_identity_taken (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "clip.mp4", NULL);
  g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);
  g_autoptr(LtStreamRegistry) registry = lt_stream_registry_new ();
  g_autoptr(LtStream) pushed = lt_stream_new (LT_STREAM_SOURCE_PUSH, "taken.example.com", "live", "x");
  g_autoptr(GError) error = NULL;
  LtPullSource *source;

  lt_test_make_media_file (path, 2, "libx264");
  g_assert_true (lt_stream_registry_add (registry, pushed, NULL));

  source = lt_pull_source_new (registry, uri, "taken.example.com", "live", "x", &error);
  g_assert_no_error (error);
  lt_pull_source_set_enabled (source, TRUE);
  lt_test_wait_until (pull_waiting, source, 10000, "the attempt to be refused");

  g_assert_cmpint (lt_pull_source_get_state (source), ==, LT_PULL_SOURCE_STATE_WAITING);
  g_assert_nonnull (strstr (lt_pull_source_get_last_error (source), "already online"));
  g_assert_true (lt_stream_registry_lookup (registry, "taken.example.com", "live", "x") == pushed);
  g_assert_true (lt_stream_get_online (pushed));

  /* The identity frees up: the next retry gets it. */
  lt_stream_registry_remove (registry, pushed);
  lt_test_wait_until (pull_online, source, 10000, "the source to take the identity");

  g_assert_finalize_object (source);
}

static void
test_demo (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autoptr(LtStreamRegistry) registry = lt_stream_registry_new ();
  g_autoptr(LtIngestServer) server = NULL;
  g_autoptr(GPtrArray) media = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(LtStream) stream = NULL;
  g_autofree char *runtime_dir = g_build_filename (dir, "ingest", NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *module = g_getenv ("LT_NGINX_RTMP_MODULE");
  g_autofree char *intruder_url = NULL;
  LtTestPublisher *intruder;
  LtDemoSource *demo;

  server = lt_ingest_server_new (registry, runtime_dir);
  lt_ingest_server_set_port (server, lt_test_pick_free_port ());
  if (module != NULL)
    lt_ingest_server_set_rtmp_module (server, module);

  /* Started before the server: it waits for it. */
  demo = lt_demo_source_new (server, NULL, NULL);
  lt_demo_source_start (demo);
  g_assert_true (lt_demo_source_get_active (demo));
  g_assert_cmpint (lt_demo_source_get_state (demo), ==, LT_DEMO_SOURCE_STATE_WAITING);

  lt_ingest_server_start_async (server, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_ingest_server_start_finish (server, result, &error);
  g_assert_no_error (error);

  lt_test_wait_until (demo_online, demo, 15000, "the demo to come online");
  stream = g_object_ref (lt_demo_source_get_stream (demo));
  g_assert_true (lt_stream_registry_lookup (registry, LT_DEFAULT_DOMAIN, "live", "demo") == stream);
  g_assert_cmpint (lt_stream_get_source_kind (stream), ==, LT_STREAM_SOURCE_DEMO);
  /* The private marker is not a publish argument. */
  g_assert_cmpuint (g_hash_table_size (lt_stream_get_publish_args (stream)), ==, 0);

  lt_test_wait_until (stream_has_media_info, stream, 10000, "codecs");
  g_assert_cmpstr (lt_stream_get_video_codec (stream), ==, "h264");
  g_assert_cmpstr (lt_stream_get_audio_codec (stream), ==, "aac");
  g_assert_cmpuint (lt_stream_get_width (stream), ==, 1280);
  g_assert_cmpuint (lt_stream_get_height (stream), ==, 720);

  g_assert_cmpint (consume (lt_stream_get_loopback_uri (stream), 2000, media), >, 20000);
  g_assert_true (has_media (media, "video/x-h264"));
  g_assert_true (has_media (media, "audio/mpeg"));

  /* A publisher on the demo's name from outside is refused while the demo runs. */
  intruder_url = g_strdup_printf ("rtmp://127.0.0.1:%u/live/demo",
                                  lt_ingest_server_get_port (server));
  intruder = lt_test_publisher_spawn_ffmpeg (intruder_url, NULL);
  g_assert_true (lt_test_publisher_wait_exit (intruder, 15000));
  g_assert_cmpint (lt_test_publisher_get_exit_status (intruder), !=, 0);
  g_assert_true (lt_demo_source_get_stream (demo) == stream);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (registry)), ==, 1);

  lt_demo_source_stop (demo);
  g_assert_cmpint (lt_demo_source_get_state (demo), ==, LT_DEMO_SOURCE_STATE_STOPPED);
  g_assert_null (lt_demo_source_get_stream (demo));
  lt_test_wait_until (stream_is_offline, stream, 3000, "the demo stream to go offline");

  g_assert_finalize_object (demo);
}

static void
test_demo_stop (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autoptr(LtStreamRegistry) registry = lt_stream_registry_new ();
  g_autoptr(LtIngestServer) server = start_ingest (registry, dir);
  g_autoptr(LtStream) stream = NULL;
  LtDemoSource *demo = lt_demo_source_new (server, "demoapp", "clock");

  lt_demo_source_start (demo);
  lt_test_wait_until (demo_online, demo, 15000, "the demo to come online");
  stream = g_object_ref (lt_demo_source_get_stream (demo));
  g_assert_cmpstr (lt_stream_get_app (stream), ==, "demoapp");
  g_assert_cmpstr (lt_stream_get_name (stream), ==, "clock");

  lt_demo_source_stop (demo);
  lt_test_wait_until (stream_is_offline, stream, 3000, "the demo stream to go offline");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (registry)), ==, 0);

  /* And again. */
  lt_demo_source_start (demo);
  lt_test_wait_until (demo_online, demo, 15000, "the demo to come online again");

  g_assert_finalize_object (demo);
}

int
main (int   argc,
      char *argv[])
{
  /* Isolated test dirs hide GNOME's proxy settings schema, which GIO's default proxy
   * resolver needs; nothing here goes through a proxy. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  lt_test_init (&argc, &argv);
  gst_init (&argc, &argv);

  g_test_add_func ("/pull/check-uri", test_check_uri);
  g_test_add_func ("/pull/file", test_pull_file);
  g_test_add_func ("/pull/rtmp", test_pull_rtmp);
  g_test_add_func ("/pull/hevc", test_pull_hevc);
  g_test_add_func ("/pull/identity-taken", test_pull_identity_taken);
  g_test_add_func ("/demo/publish", test_demo);
  g_test_add_func ("/demo/stop", test_demo_stop);

  return g_test_run ();
}
