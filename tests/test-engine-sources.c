/* test-engine-sources.c: the engine's pull-source calls (lt-engine-sources.c).
 *
 * A real file:// source made by ffmpeg is added, comes online, is turned off and on,
 * changed to another identity and removed; after each engine restart the list and the
 * catalog's ingest_sources rows say the same. Bad addresses, domains and names, an
 * identity taken by another source or by the demo stream, and calls before start fail
 * with their own errors and change nothing. A pull source with a rule is recorded. */
#include "config.h"

#include <gio/gio.h>
#include <sqlite3.h>
#include <string.h>

#include "lt-engine-sources.h"
#include "lt-test-publisher.h"
#include "lt-test-utils.h"

static LtEngine *
start_engine (const char *dir)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LtEngine *engine = lt_engine_new (dir);

  lt_engine_set_api_listen (engine, NULL);
  lt_engine_set_ingest_port (engine, lt_test_pick_free_port ());
  lt_engine_start_async (engine, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_engine_start_finish (engine, result, &error);
  g_assert_no_error (error);
  return engine;
}

static void
stop_engine (LtEngine *engine)
{
  lt_engine_shutdown (engine);
  g_assert_finalize_object (engine);
}

static void
set_demo_enabled (LtEngine *engine,
                  gboolean  enabled)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lt_engine_set_demo_enabled_async (engine, enabled, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_engine_set_demo_enabled_finish (engine, result, &error);
  g_assert_no_error (error);
}

static LtPullSource *
add_source (LtEngine    *engine,
            const char  *uri,
            const char  *domain,
            const char  *app,
            const char  *stream,
            gboolean     enabled,
            GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_engine_add_pull_source_async (engine, uri, domain, app, stream, enabled, NULL,
                                   lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_engine_add_pull_source_finish (engine, result, error);
}

static LtPullSource *
update_source (LtEngine      *engine,
               LtPullSource  *source,
               const char    *uri,
               const char    *domain,
               const char    *app,
               const char    *stream,
               gboolean       enabled,
               GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_engine_update_pull_source_async (engine, source, uri, domain, app, stream, enabled, NULL,
                                      lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_engine_update_pull_source_finish (engine, result, error);
}

static void
set_source_enabled (LtEngine     *engine,
                    LtPullSource *source,
                    gboolean      enabled)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lt_engine_set_pull_source_enabled_async (engine, source, enabled, NULL,
                                           lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_engine_set_pull_source_enabled_finish (engine, result, &error));
  g_assert_no_error (error);
}

static gboolean
remove_source (LtEngine      *engine,
               LtPullSource  *source,
               GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_engine_remove_pull_source_async (engine, source, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_engine_remove_pull_source_finish (engine, result, error);
}

static LtPullSource *
source_at (LtEngine *engine,
           guint     position)
{
  g_autoptr(LtPullSource) source = g_list_model_get_item (lt_engine_get_pull_sources (engine),
                                                          position);

  /* The list keeps it alive. */
  return source;
}

static guint
n_sources (LtEngine *engine)
{
  return g_list_model_get_n_items (lt_engine_get_pull_sources (engine));
}

/* The rows of ingest_sources, "kind uri domain/app/stream enabled" in id order, read
 * from the file after the engine closed it. */
static char *
read_rows (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "catalog.db", NULL);
  g_autoptr(GString) out = g_string_new (NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL);
  g_assert_cmpint (rc, ==, SQLITE_OK);
  rc = sqlite3_prepare_v2 (db,
                           "SELECT kind, coalesce (uri, '-'), domain, app, stream, enabled"
                           " FROM ingest_sources ORDER BY id",
                           -1, &stmt, NULL);
  g_assert_cmpint (rc, ==, SQLITE_OK);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_string_append_printf (out, "%s %s %s/%s/%s %d\n",
                            sqlite3_column_text (stmt, 0), sqlite3_column_text (stmt, 1),
                            sqlite3_column_text (stmt, 2), sqlite3_column_text (stmt, 3),
                            sqlite3_column_text (stmt, 4), sqlite3_column_int (stmt, 5));
  g_assert_cmpint (rc, ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  return g_string_free (g_steal_pointer (&out), FALSE);
}

typedef struct
{
  LtEngine   *engine;
  const char *domain;
  const char *app;
  const char *stream;
} Identity;

static gboolean
stream_online_with_media (gpointer data)
{
  Identity *id = data;
  LtStream *stream = lt_stream_registry_lookup (lt_engine_get_stream_registry (id->engine),
                                                id->domain, id->app, id->stream);

  return stream != NULL && lt_stream_get_has_media_info (stream) &&
         lt_stream_get_source_kind (stream) == LT_STREAM_SOURCE_PULL;
}

static gboolean
stream_offline (gpointer data)
{
  Identity *id = data;

  return lt_stream_registry_lookup (lt_engine_get_stream_registry (id->engine),
                                    id->domain, id->app, id->stream) == NULL;
}

static void
test_lifecycle (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *media = g_build_filename (dir, "clip.mp4", NULL);
  g_autofree char *uri = NULL;
  g_autofree char *rows = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(GError) error = NULL;
  LtEngine *engine;
  g_autoptr(LtPullSource) old = NULL;
  LtPullSource *source;
  LtPullSource *updated;
  Identity clip, moved;

  /* Long enough to stay online while the test looks at it (files play at real time). */
  lt_test_make_media_file (media, 30, "libx264");
  uri = g_filename_to_uri (media, NULL, &error);
  g_assert_no_error (error);

  engine = start_engine (dir);
  set_demo_enabled (engine, FALSE);
  g_assert_cmpuint (n_sources (engine), ==, 0);

  /* Added enabled, without a domain: a file has no host, so the default domain. */
  source = add_source (engine, uri, NULL, "files", "clip", TRUE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (source);
  g_object_unref (source);   /* the list holds it */
  g_assert_cmpuint (n_sources (engine), ==, 1);
  g_assert_true (source_at (engine, 0) == source);
  g_assert_cmpstr (lt_pull_source_get_uri (source), ==, uri);
  g_assert_cmpstr (lt_pull_source_get_domain (source), ==, LT_DEFAULT_DOMAIN);
  g_assert_cmpstr (lt_pull_source_get_app (source), ==, "files");
  g_assert_cmpstr (lt_pull_source_get_name (source), ==, "clip");
  g_assert_true (lt_pull_source_get_enabled (source));
  clip = (Identity) { engine, LT_DEFAULT_DOMAIN, "files", "clip" };
  lt_test_wait_until (stream_online_with_media, &clip, 20000, "the file source online");

  /* Off: offline at once, and remembered. */
  set_source_enabled (engine, source, FALSE);
  g_assert_false (lt_pull_source_get_enabled (source));
  g_assert_cmpint (lt_pull_source_get_state (source), ==, LT_PULL_SOURCE_STATE_DISABLED);
  lt_test_wait_until (stream_offline, &clip, 5000, "the file source offline");

  stop_engine (engine);
  rows = read_rows (dir);
  expected = g_strdup_printf ("demo - %s/live/demo 0\npull %s %s/files/clip 0\n",
                              LT_DEFAULT_DOMAIN, uri, LT_DEFAULT_DOMAIN);
  g_assert_cmpstr (rows, ==, expected);
  g_clear_pointer (&rows, g_free);
  g_clear_pointer (&expected, g_free);

  /* Back after a restart, still off; on again. */
  engine = start_engine (dir);
  g_assert_cmpuint (n_sources (engine), ==, 1);
  source = source_at (engine, 0);
  g_assert_cmpstr (lt_pull_source_get_uri (source), ==, uri);
  g_assert_cmpstr (lt_pull_source_get_domain (source), ==, LT_DEFAULT_DOMAIN);
  g_assert_false (lt_pull_source_get_enabled (source));
  clip.engine = engine;
  set_source_enabled (engine, source, TRUE);
  lt_test_wait_until (stream_online_with_media, &clip, 20000, "the file source online again");

  /* Another identity, with a domain given in capitals: the new source takes the old
   * one's place and stream, the old one is off. */
  old = g_object_ref (source);
  updated = update_source (engine, source, uri, "Studio.Example.COM.", "files", "clip2", TRUE,
                           &error);
  g_assert_no_error (error);
  g_assert_nonnull (updated);
  g_object_unref (updated);
  g_assert_cmpuint (n_sources (engine), ==, 1);
  g_assert_true (source_at (engine, 0) == updated);
  g_assert_false (lt_pull_source_get_enabled (old));
  g_assert_cmpstr (lt_pull_source_get_domain (updated), ==, "studio.example.com");
  g_assert_cmpstr (lt_pull_source_get_name (updated), ==, "clip2");
  moved = (Identity) { engine, "studio.example.com", "files", "clip2" };
  lt_test_wait_until (stream_offline, &clip, 5000, "the old identity offline");
  lt_test_wait_until (stream_online_with_media, &moved, 20000, "the new identity online");

  /* The old source is no longer the engine's. */
  g_assert_false (remove_source (engine, old, &error));
  g_assert_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_finalize_object (g_steal_pointer (&old));

  stop_engine (engine);
  rows = read_rows (dir);
  expected = g_strdup_printf ("demo - %s/live/demo 0\npull %s studio.example.com/files/clip2 1\n",
                              LT_DEFAULT_DOMAIN, uri);
  g_assert_cmpstr (rows, ==, expected);
  g_clear_pointer (&rows, g_free);
  g_clear_pointer (&expected, g_free);

  /* Enabled sources come online by themselves after a restart; removal takes it away. */
  engine = start_engine (dir);
  g_assert_cmpuint (n_sources (engine), ==, 1);
  source = source_at (engine, 0);
  g_assert_true (lt_pull_source_get_enabled (source));
  moved.engine = engine;
  lt_test_wait_until (stream_online_with_media, &moved, 20000, "the source online after restart");
  g_object_ref (source);
  g_assert_true (remove_source (engine, source, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_sources (engine), ==, 0);
  g_assert_false (lt_pull_source_get_enabled (source));
  lt_test_wait_until (stream_offline, &moved, 5000, "the removed source offline");
  g_assert_finalize_object (source);

  stop_engine (engine);
  rows = read_rows (dir);
  expected = g_strdup_printf ("demo - %s/live/demo 0\n", LT_DEFAULT_DOMAIN);
  g_assert_cmpstr (rows, ==, expected);

  engine = start_engine (dir);
  g_assert_cmpuint (n_sources (engine), ==, 0);
  stop_engine (engine);
}

/* Table-driven: what the checks refuse, the field they blame and the error. */
static void
test_check (void)
{
  static const struct
  {
    const char        *uri;
    const char        *domain;
    const char        *app;
    const char        *stream;
    LtPullSourceField  field;
    int                code;   /* LT_PULL_SOURCE_ERROR_*, -1 for none */
  } cases[] = {
    { "rtsp://cam.example.com/s1", NULL, "live", "cam", LT_PULL_SOURCE_FIELD_NONE, -1 },
    { "srt://10.0.0.2:9000?mode=caller", "", "live", "cam", LT_PULL_SOURCE_FIELD_NONE, -1 },
    { "file:///tmp/a.mp4", "Studio.Example.com.", "vod", "a b", LT_PULL_SOURCE_FIELD_NONE, -1 },
    { "http://h.example.com/x.m3u8", "a-b.c1", "直播", "流", LT_PULL_SOURCE_FIELD_NONE, -1 },
    { NULL, NULL, "live", "cam", LT_PULL_SOURCE_FIELD_URI, LT_PULL_SOURCE_ERROR_INVALID_URI },
    { "", NULL, "live", "cam", LT_PULL_SOURCE_FIELD_URI, LT_PULL_SOURCE_ERROR_INVALID_URI },
    { "not a uri", NULL, "live", "cam", LT_PULL_SOURCE_FIELD_URI,
      LT_PULL_SOURCE_ERROR_INVALID_URI },
    { "ftp://h.example.com/x", NULL, "live", "cam", LT_PULL_SOURCE_FIELD_URI,
      LT_PULL_SOURCE_ERROR_UNSUPPORTED_SCHEME },
    { "rtsp://cam/s1", "bad domain", "live", "cam", LT_PULL_SOURCE_FIELD_DOMAIN,
      LT_PULL_SOURCE_ERROR_FAILED },
    { "rtsp://cam/s1", "192.168.1.2", "live", "cam", LT_PULL_SOURCE_FIELD_DOMAIN,
      LT_PULL_SOURCE_ERROR_FAILED },
    { "rtsp://cam/s1", "-a.example.com", "live", "cam", LT_PULL_SOURCE_FIELD_DOMAIN,
      LT_PULL_SOURCE_ERROR_FAILED },
    { "rtsp://cam/s1", "a..example.com", "live", "cam", LT_PULL_SOURCE_FIELD_DOMAIN,
      LT_PULL_SOURCE_ERROR_FAILED },
    { "rtsp://cam/s1", NULL, "", "cam", LT_PULL_SOURCE_FIELD_APP, LT_PULL_SOURCE_ERROR_FAILED },
    { "rtsp://cam/s1", NULL, NULL, "cam", LT_PULL_SOURCE_FIELD_APP, LT_PULL_SOURCE_ERROR_FAILED },
    { "rtsp://cam/s1", NULL, "li\tve", "cam", LT_PULL_SOURCE_FIELD_APP,
      LT_PULL_SOURCE_ERROR_FAILED },
    { "rtsp://cam/s1", NULL, "live", "", LT_PULL_SOURCE_FIELD_STREAM,
      LT_PULL_SOURCE_ERROR_FAILED },
    { "rtsp://cam/s1", NULL, "live", "c\x01", LT_PULL_SOURCE_FIELD_STREAM,
      LT_PULL_SOURCE_ERROR_FAILED },
    { "rtsp://cam/s1", NULL, "live", "\xff", LT_PULL_SOURCE_FIELD_STREAM,
      LT_PULL_SOURCE_ERROR_FAILED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      LtPullSourceField field = LT_PULL_SOURCE_FIELD_STREAM + 1;
      gboolean ok;

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i].uri);
      ok = lt_engine_check_pull_source (cases[i].uri, cases[i].domain, cases[i].app,
                                        cases[i].stream, &field, &error);
      g_assert_cmpint (field, ==, cases[i].field);
      if (cases[i].code < 0)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
        }
      else
        {
          g_assert_error (error, LT_PULL_SOURCE_ERROR, cases[i].code);
          g_assert_false (ok);
          g_assert_cmpuint (strlen (error->message), >, 0);
        }
    }

  /* A 256-byte name is one too many. */
  {
    g_autofree char *long_name = g_strnfill (256, 'x');
    g_autoptr(GError) error = NULL;
    LtPullSourceField field;

    g_assert_false (lt_engine_check_pull_source ("rtsp://cam/s1", NULL, "live", long_name,
                                                 &field, &error));
    g_assert_error (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_FAILED);
    g_assert_cmpint (field, ==, LT_PULL_SOURCE_FIELD_STREAM);
    long_name[255] = '\0';
    g_clear_error (&error);
    g_assert_true (lt_engine_check_pull_source ("rtsp://cam/s1", NULL, "live", long_name,
                                                NULL, &error));
    g_assert_no_error (error);
  }
}

static void
test_domain (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  LtEngine *engine = lt_engine_new (dir);
  static const struct { const char *uri, *domain, *expected; } cases[] = {
    { "rtsp://Cam.Example.com./s1", NULL, "cam.example.com" },
    { "rtsp://cam.example.com/s1", "", "cam.example.com" },
    { "rtsp://cam.example.com/s1", "Studio.Example.COM.", "studio.example.com" },
    { "rtmp://127.0.0.1:1935/live/x", NULL, LT_DEFAULT_DOMAIN },
    { "srt://[::1]:9000", NULL, LT_DEFAULT_DOMAIN },
    { "rtsp://localhost/s1", NULL, LT_DEFAULT_DOMAIN },
    { "file:///tmp/a.mp4", NULL, LT_DEFAULT_DOMAIN },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *domain = lt_engine_dup_pull_source_domain (engine, cases[i].uri,
                                                                  cases[i].domain);

      g_assert_cmpstr (domain, ==, cases[i].expected);
    }
  g_assert_finalize_object (engine);
}

static void
assert_refused (LtEngine   *engine,
                const char *uri,
                const char *domain,
                const char *app,
                const char *stream,
                GQuark      domain_quark,
                int         code,
                const char *message_part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LtPullSource) source = NULL;
  guint before = n_sources (engine);

  source = add_source (engine, uri, domain, app, stream, FALSE, &error);
  g_assert_null (source);
  g_assert_error (error, domain_quark, code);
  if (message_part != NULL)
    g_assert_nonnull (strstr (error->message, message_part));
  g_assert_cmpuint (n_sources (engine), ==, before);
}

static void
test_errors (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *rows = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LtPullSource) first = NULL;
  g_autoptr(LtPullSource) second = NULL;
  g_autoptr(LtPullSource) stray = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  LtEngine *engine = lt_engine_new (dir);

  /* Before start: nothing to add to. */
  stray = add_source (engine, "rtsp://cam.example.com/s1", NULL, "live", "cam", FALSE, &error);
  g_assert_null (stray);
  g_assert_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_NOT_STARTED);
  g_clear_error (&error);
  g_assert_finalize_object (engine);

  engine = start_engine (dir);
  set_demo_enabled (engine, FALSE);

  assert_refused (engine, "not a uri", NULL, "live", "cam",
                  LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_INVALID_URI, NULL);
  assert_refused (engine, "gopher://cam.example.com/s1", NULL, "live", "cam",
                  LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_UNSUPPORTED_SCHEME, "gopher");
  assert_refused (engine, "rtsp://cam.example.com/s1", "no spaces.example.com", "live", "cam",
                  LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_FAILED, "no spaces");
  assert_refused (engine, "rtsp://cam.example.com/s1", NULL, "", "cam",
                  LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_FAILED, "app");
  assert_refused (engine, "rtsp://cam.example.com/s1", NULL, "live", "c\nam",
                  LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_FAILED, "stream");

  /* The demo's identity (default domain, live/demo), even with the demo off; the domain
   * is compared without regard to case. */
  assert_refused (engine, "rtmp://127.0.0.1/live/x", NULL, "live", "demo",
                  LT_ENGINE_ERROR, LT_ENGINE_ERROR_SOURCE_EXISTS, "demo");
  assert_refused (engine, "rtsp://cam.example.com/s1", "LIVE.Livetape.Local", "live", "demo",
                  LT_ENGINE_ERROR, LT_ENGINE_ERROR_SOURCE_EXISTS, "demo");

  /* Another source's identity. */
  first = add_source (engine, "rtsp://cam.example.com/s1", NULL, "live", "cam", FALSE, &error);
  g_assert_no_error (error);
  second = add_source (engine, "rtsp://cam.example.com/s2", NULL, "live", "cam2", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_sources (engine), ==, 2);
  assert_refused (engine, "rtsp://other.example.com/x", "cam.example.com", "live", "cam",
                  LT_ENGINE_ERROR, LT_ENGINE_ERROR_SOURCE_EXISTS, "cam.example.com/live/cam");

  /* An update into a taken identity leaves both as they were. */
  stray = update_source (engine, second, "rtsp://cam.example.com/s2", NULL, "live", "cam",
                         FALSE, &error);
  g_assert_null (stray);
  g_assert_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_SOURCE_EXISTS);
  g_clear_error (&error);
  stray = update_source (engine, second, "ftp://x/y", NULL, "live", "cam3", FALSE, &error);
  g_assert_null (stray);
  g_assert_error (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_UNSUPPORTED_SCHEME);
  g_clear_error (&error);
  g_assert_true (source_at (engine, 1) == second);

  /* Keeping its own identity is no conflict. */
  stray = update_source (engine, second, "rtsp://cam.example.com/s2b", NULL, "live", "cam2",
                         FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (source_at (engine, 1) == stray);
  g_assert_cmpstr (lt_pull_source_get_uri (stray), ==, "rtsp://cam.example.com/s2b");

  /* A source that is not (or no longer) the engine's. */
  g_assert_false (remove_source (engine, second, &error));
  g_assert_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_FAILED);
  g_clear_error (&error);
  lt_engine_set_pull_source_enabled_async (engine, second, TRUE, NULL,
                                           lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_false (lt_engine_set_pull_source_enabled_finish (engine, result, &error));
  g_assert_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_FAILED);
  g_clear_error (&error);
  g_clear_object (&result);   /* it holds the engine */
  g_assert_false (lt_pull_source_get_enabled (second));

  stop_engine (engine);
  rows = read_rows (dir);
  expected = g_strdup_printf ("demo - %s/live/demo 0\n"
                              "pull rtsp://cam.example.com/s1 cam.example.com/live/cam 0\n"
                              "pull rtsp://cam.example.com/s2b cam.example.com/live/cam2 0\n",
                              LT_DEFAULT_DOMAIN);
  g_assert_cmpstr (rows, ==, expected);
}

static gboolean
recording_has_slice (gpointer data)
{
  LtRecording *recording = data;
  const LtRecordingFile *file = lt_recording_get_current_file (recording, "m3u8");

  return file != NULL && file->n_slices >= 1;
}

static gboolean
recording_not_recording (gpointer data)
{
  return lt_recording_get_state (data) == LT_RECORDING_STATE_NOT_RECORDING;
}

/* A pull source is recorded like a pushed stream: its media reaches the recorder through
 * the source's loopback address (a TS remux over SRT), slices are cut and catalogued. */
static void
test_recorded (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *media = g_build_filename (dir, "cam.flv", NULL);
  g_autofree char *uri = NULL;
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LtRule) rule = NULL;
  g_autoptr(LtPullSource) source = NULL;
  g_autofree char *db_path = g_build_filename (dir, "catalog.db", NULL);
  g_autoptr(LtRecording) recording = NULL;
  Identity id;
  LtEngine *engine;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  lt_test_make_media_file (media, 8, "libx264");
  uri = g_filename_to_uri (media, NULL, NULL);
  engine = start_engine (dir);
  set_demo_enabled (engine, FALSE);

  g_hash_table_insert (params, "DomainName", "pull.example.com");
  g_hash_table_insert (params, "AppName", "cams");
  g_hash_table_insert (params, "OssEndpoint", "local");
  g_hash_table_insert (params, "OssBucket", "pulled");
  g_hash_table_insert (params, "RecordFormat.1.Format", "m3u8");
  g_hash_table_insert (params, "RecordFormat.1.SliceDuration", "5");
  g_hash_table_insert (params, "RecordFormat.2.Format", "flv");
  rule = lt_rule_new_from_params (params, now, &error);
  g_assert_no_error (error);
  lt_rule_store_add_async (lt_engine_get_rule_store (engine), rule, NULL,
                           lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_rule_store_add_finish (lt_engine_get_rule_store (engine), result, &error));

  source = add_source (engine, uri, "pull.example.com", "cams", "one", TRUE, &error);
  g_assert_no_error (error);
  id = (Identity) { engine, "pull.example.com", "cams", "one" };
  lt_test_wait_until (stream_online_with_media, &id, 20000, "the pull source online");

  /* Held: the manager drops it once the session ended with the stream offline. */
  recording = lt_recording_manager_lookup (lt_engine_get_recording_manager (engine),
                                           lt_stream_get_key (lt_pull_source_get_stream (source)));
  g_assert_nonnull (recording);
  g_object_ref (recording);
  lt_test_wait_until (recording_has_slice, recording, 20000, "a slice of the pull source");
  g_assert_cmpint (lt_recording_get_trigger (recording), ==, LT_RECORDING_TRIGGER_AUTO);

  /* The source taken away: the session pauses; cancel_delay closes its files. */
  g_assert_true (remove_source (engine, source, &error));
  g_assert_no_error (error);
  lt_test_wait_until (stream_offline, &id, 10000, "the pull source offline");
  g_assert_true (lt_recording_manager_command (lt_engine_get_recording_manager (engine),
                                               "pull.example.com", "cams", "one",
                                               LT_RECORD_COMMAND_CANCEL_DELAY, 0, &error));
  g_assert_no_error (error);
  lt_test_wait_until (recording_not_recording, recording, 10000, "the session to end");
  stop_engine (engine);

  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT (SELECT count(*) FROM recording_files "
                                           "WHERE state = 'closed'), (SELECT count(*) FROM slices), "
                                           "(SELECT coalesce (sum (duration_us), 0) FROM slices)",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 2);
  g_assert_cmpint (sqlite3_column_int (stmt, 1), >=, 1);
  g_assert_cmpint (sqlite3_column_int64 (stmt, 2), >=, 5 * G_USEC_PER_SEC);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

int
main (int    argc,
      char **argv)
{
  lt_test_init (&argc, &argv);

  g_test_add_func ("/engine-sources/check", test_check);
  g_test_add_func ("/engine-sources/domain", test_domain);
  g_test_add_func ("/engine-sources/errors", test_errors);
  g_test_add_func ("/engine-sources/lifecycle", test_lifecycle);
  g_test_add_func ("/engine-sources/recorded", test_recorded);

  return g_test_run ();
}
