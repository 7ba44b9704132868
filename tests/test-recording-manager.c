/* test-recording-manager.c: the recording manager without nginx: streams are put into a
 * registry by hand and recorded from media files (file://), which the recorder reads as
 * fast as it can. Decisions and their reasons, the manual commands and their errors, the
 * catalog rows of a session, and recovery of a crash's leftovers. The real path (nginx, a
 * publisher, the daemon, kill -9) is tested in tests/integration/test-recording*.py. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "lt-playlist.h"
#include "lt-recording-manager.h"
#include "lt-test-publisher.h"
#include "lt-test-utils.h"

typedef struct
{
  char               *dir;
  char               *root;
  LtCatalog          *catalog;
  LtRuleStore        *rules;
  LtStreamRegistry   *registry;
  LtRecordingManager *manager;
} Fixture;

static void
fixture_start_manager (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  f->manager = lt_recording_manager_new (f->catalog, f->rules, f->registry, f->root);
  lt_recording_manager_start_async (f->manager, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_recording_manager_start_finish (f->manager, result, &error));
  g_assert_no_error (error);
}

static void
fixture_open (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->dir, "catalog.db", NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  f->catalog = lt_catalog_new (path);
  g_assert_true (lt_catalog_open_sync (f->catalog, &error));
  g_assert_no_error (error);
  f->rules = lt_rule_store_new (f->catalog);
  lt_rule_store_load_async (f->rules, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_rule_store_load_finish (f->rules, result, &error));
  f->registry = lt_stream_registry_new ();
  fixture_start_manager (f);
}

static void
fixture_close (Fixture *f)
{
  lt_recording_manager_shutdown (f->manager, 10000);
  g_clear_object (&f->manager);
  lt_catalog_close (f->catalog);
  g_clear_object (&f->registry);
  g_clear_object (&f->rules);
  g_clear_object (&f->catalog);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->dir = lt_test_make_temp_dir ();
  f->root = g_build_filename (f->dir, "storage", NULL);
  fixture_open (f);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  fixture_close (f);
  g_free (f->root);
  g_free (f->dir);
}

/* A rule from key/value pairs (local target, bucket "tests"), added to the store. */
static void
add_rule (Fixture    *f,
          const char *first_key,
          ...)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LtRule) rule = NULL;
  va_list args;

  g_hash_table_insert (params, "OssEndpoint", "local");
  g_hash_table_insert (params, "OssBucket", "tests");
  va_start (args, first_key);
  for (const char *key = first_key; key != NULL; key = va_arg (args, const char *))
    g_hash_table_insert (params, (gpointer) key, va_arg (args, char *));
  va_end (args);

  rule = lt_rule_new_from_params (params, now, &error);
  g_assert_no_error (error);
  lt_rule_store_add_async (f->rules, rule, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_rule_store_add_finish (f->rules, result, &error));
  g_assert_no_error (error);
}

/* A stream online in the registry, its media read from @uri (NULL: a file that does not
 * exist, for streams that must not record). */
static LtStream *
add_stream (Fixture    *f,
            const char *app,
            const char *name,
            const char *uri,
            const char *record_arg)
{
  g_autoptr(LtStream) stream = lt_stream_new (LT_STREAM_SOURCE_PULL, "rec.example.com", app, name);
  g_autoptr(GError) error = NULL;

  lt_stream_set_loopback_uri (stream, uri != NULL ? uri : "file:///nonexistent/lt-test.flv");
  if (record_arg != NULL)
    {
      g_autoptr(GHashTable) args = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

      g_hash_table_insert (args, g_strdup ("record"), g_strdup (record_arg));
      lt_stream_set_publish_args (stream, args);
    }
  g_assert_true (lt_stream_registry_add (f->registry, stream, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&stream);
}

static LtRecording *
recording_of (Fixture  *f,
              LtStream *stream)
{
  LtRecording *recording = lt_recording_manager_lookup (f->manager, lt_stream_get_key (stream));

  g_assert_nonnull (recording);
  return recording;
}

typedef struct
{
  LtRecording      *recording;
  LtRecordingState  state;
} StateWait;

static gboolean
state_is (gpointer data)
{
  StateWait *wait = data;

  return lt_recording_get_state (wait->recording) == wait->state;
}

static void
wait_state (LtRecording      *recording,
            LtRecordingState  state,
            guint             timeout_ms)
{
  StateWait wait = { recording, state };

  lt_test_wait_until (state_is, &wait, timeout_ms, lt_recording_state_to_string (state));
}

static gint64
query_int (Fixture    *f,
           const char *sql)
{
  g_autofree char *path = g_build_filename (f->dir, "catalog.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value = -1;

  /* A second connection, read-only: what another process would see. */
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static void
assert_command_error (Fixture          *f,
                      const char       *app,
                      const char       *stream,
                      LtRecordCommand   command,
                      guint             duration,
                      LtRecordingError  code)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (lt_recording_manager_command (f->manager, "rec.example.com", app, stream,
                                                command, duration, &error));
  g_assert_error (error, LT_RECORDING_ERROR, (int) code);
  g_test_message ("%s: %s", lt_recording_error_code_name (code), error->message);
}

static void
test_decisions (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(LtStream) none = NULL;
  g_autoptr(LtStream) excluded = NULL;
  g_autoptr(LtStream) manual = NULL;
  g_autoptr(LtStream) push_arg = NULL;
  g_autoptr(LtStream) later = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) start = g_date_time_add_hours (now, 2);
  g_autoptr(GDateTime) end = g_date_time_add_hours (now, 3);
  g_autofree char *start_text = g_date_time_format (start, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *end_text = g_date_time_format (end, "%Y-%m-%dT%H:%M:%SZ");
  LtRecording *recording;

  add_rule (f, "DomainName", "rec.example.com", "AppName", "excluded", NULL);
  add_rule (f, "DomainName", "rec.example.com", "AppName", "manual", "OnDemand", "7",
            "RecordFormat.1.Format", "flv", NULL);
  add_rule (f, "DomainName", "rec.example.com", "AppName", "arg", "OnDemand", "2",
            "RecordFormat.1.Format", "flv", NULL);
  add_rule (f, "DomainName", "rec.example.com", "AppName", "sched", "StreamName", "later",
            "StartTime", start_text, "EndTime", end_text, "RecordFormat.1.Format", "flv", NULL);

  none = add_stream (f, "nothing", "a", NULL, NULL);
  recording = recording_of (f, none);
  g_assert_cmpint (lt_recording_get_state (recording), ==, LT_RECORDING_STATE_NOT_RECORDING);
  g_assert_nonnull (strstr (lt_recording_get_reason (recording), "No recording rule"));

  excluded = add_stream (f, "excluded", "a", NULL, NULL);
  recording = recording_of (f, excluded);
  g_assert_cmpint (lt_recording_get_state (recording), ==, LT_RECORDING_STATE_NOT_RECORDING);
  g_assert_nonnull (strstr (lt_recording_get_reason (recording), "excludes"));

  manual = add_stream (f, "manual", "a", NULL, NULL);
  recording = recording_of (f, manual);
  g_assert_cmpint (lt_recording_get_state (recording), ==, LT_RECORDING_STATE_NOT_RECORDING);
  g_assert_nonnull (strstr (lt_recording_get_reason (recording), "OnDemand 7"));

  push_arg = add_stream (f, "arg", "a", NULL, "0");
  recording = recording_of (f, push_arg);
  g_assert_cmpint (lt_recording_get_state (recording), ==, LT_RECORDING_STATE_NOT_RECORDING);
  g_assert_nonnull (strstr (lt_recording_get_reason (recording), "record=1"));

  later = add_stream (f, "sched", "later", NULL, NULL);
  recording = recording_of (f, later);
  g_assert_cmpint (lt_recording_get_state (recording), ==, LT_RECORDING_STATE_NOT_RECORDING);
  g_assert_nonnull (strstr (lt_recording_get_reason (recording), "window to open"));
  g_assert_cmpuint (g_list_model_get_n_items (lt_recording_manager_get_recordings (f->manager)),
                    ==, 5);

  /* The commands' errors. */
  assert_command_error (f, "manual", "offline", LT_RECORD_COMMAND_START, 0,
                        LT_RECORDING_ERROR_STREAM_NOT_FOUND);
  assert_command_error (f, "nothing", "a", LT_RECORD_COMMAND_START, 0,
                        LT_RECORDING_ERROR_CONFIG_NOT_FOUND);
  assert_command_error (f, "excluded", "a", LT_RECORD_COMMAND_START, 0,
                        LT_RECORDING_ERROR_CONFIG_NOT_FOUND);
  assert_command_error (f, "manual", "a", LT_RECORD_COMMAND_STOP, 0,
                        LT_RECORDING_ERROR_TASK_NOT_FOUND);
  assert_command_error (f, "manual", "a", LT_RECORD_COMMAND_CANCEL_DELAY, 0,
                        LT_RECORDING_ERROR_TASK_NOT_FOUND);
  assert_command_error (f, "manual", "a", LT_RECORD_COMMAND_RESTART, 0,
                        LT_RECORDING_ERROR_TASK_NOT_FOUND);
  assert_command_error (f, "manual", "a", LT_RECORD_COMMAND_START,
                        LT_RECORDING_MAX_HIGHLIGHT_DURATION + 1,
                        LT_RECORDING_ERROR_INVALID_PARAMETER);
  assert_command_error (f, "manual", "a", LT_RECORD_COMMAND_STOP, 10,
                        LT_RECORDING_ERROR_INVALID_PARAMETER);

  /* Offline: the entries without a session go away. */
  lt_stream_registry_remove (f->registry, none);
  lt_stream_registry_remove (f->registry, later);
  g_assert_null (lt_recording_manager_lookup (f->manager, lt_stream_get_key (none)));
  g_assert_cmpuint (g_list_model_get_n_items (lt_recording_manager_get_recordings (f->manager)),
                    ==, 3);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM sessions"), ==, 0);
}

static gboolean
playlist_has_three_slices (gpointer data)
{
  const LtRecordingFile *file = lt_recording_get_current_file (data, "m3u8");

  return file != NULL && file->n_slices == 3;
}

static gboolean
offline_pause_recorded (gpointer data)
{
  return query_int (data, "SELECT count(*) FROM session_pauses WHERE reason = 'offline' "
                          "AND resumed_at_us IS NULL") == 1;
}

/* A 12 s file recorded by an automatic rule; the source ends, the session pauses (merge
 * window), cancel_delay ends it. Then the catalog holds the session, its files and slices. */
static void
test_session (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *input = g_build_filename (f->dir, "in.flv", NULL);
  g_autofree char *uri = g_filename_to_uri (input, NULL, NULL);
  g_autoptr(LtStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  LtRecording *recording;
  const LtRecordingFile *current;

  lt_test_make_media_file (input, 12, "libx264");
  add_rule (f, "DomainName", "rec.example.com", "AppName", "auto",
            "RecordFormat.1.Format", "m3u8", "RecordFormat.1.SliceDuration", "5",
            "RecordFormat.2.Format", "mp4", "DelayTime", "15", NULL);

  stream = add_stream (f, "auto", "cam", uri, NULL);
  recording = recording_of (f, stream);
  g_assert_cmpint (lt_recording_get_trigger (recording), ==, LT_RECORDING_TRIGGER_AUTO);
  g_assert_cmpstrv (lt_recording_get_formats (recording), ((const char *[]) { "m3u8", "mp4", NULL }));

  /* Read as fast as possible: the source ends, the merge window starts. */
  wait_state (recording, LT_RECORDING_STATE_PAUSED, 30000);
  g_assert_cmpint (lt_recording_get_pause_deadline (recording), >, g_get_real_time ());
  g_assert_cmpint (lt_recording_get_pause_deadline (recording), <=,
                   g_get_real_time () + 15 * G_USEC_PER_SEC);
  g_assert_cmpint (lt_recording_get_session_id (recording), >, 0);
  /* The slices closed by the pause are reported after the state (their files are made
   * durable first). */
  lt_test_wait_until (playlist_has_three_slices, recording, 10000, "three slices");
  current = lt_recording_get_current_file (recording, "m3u8");
  g_assert_nonnull (current);
  g_assert_nonnull (lt_recording_get_current_file (recording, "mp4"));
  /* The pause reaches the catalog through its writer, after the state change. */
  lt_test_wait_until (offline_pause_recorded, f, 5000, "the offline pause in the catalog");

  /* Paused by its source, not by the operator: a start is refused, restart too. */
  assert_command_error (f, "auto", "cam", LT_RECORD_COMMAND_START, 0,
                        LT_RECORDING_ERROR_TASK_ALREADY_STARTED);
  assert_command_error (f, "auto", "cam", LT_RECORD_COMMAND_RESTART, 0,
                        LT_RECORDING_ERROR_INVALID_TASK_STATUS);

  g_assert_true (lt_recording_manager_command (f->manager, "rec.example.com", "auto", "cam",
                                               LT_RECORD_COMMAND_CANCEL_DELAY, 0, &error));
  g_assert_no_error (error);
  wait_state (recording, LT_RECORDING_STATE_NOT_RECORDING, 10000);
  g_assert_cmpint (lt_recording_get_session_id (recording), ==, 0);
  g_assert_null (lt_recording_get_current_file (recording, "m3u8"));

  /* The rows are written by the catalog worker in order; close to flush them. */
  lt_stream_registry_remove (f->registry, stream);
  fixture_close (f);

  g_assert_cmpint (query_int (f, "SELECT count(*) FROM sessions WHERE state = 'ended' "
                                 "AND end_reason = 'cancel_delay' AND trigger_kind = 'auto'"), ==, 1);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM recording_files WHERE state = 'closed'"),
                   ==, 2);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM slices"), >=, 2);
  /* Every slice names its playlist; the playlist's size and duration are its slices'. */
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM slices WHERE recording_file_id IS NULL"),
                   ==, 0);
  g_assert_cmpint (query_int (f, "SELECT abs (f.duration_us - sum (s.duration_us)) FROM slices s "
                                 "JOIN recording_files f ON f.id = s.recording_file_id"),
                   <, 100000);
  g_assert_cmpint (query_int (f, "SELECT sum (duration_us) FROM slices"), >, 11 * G_USEC_PER_SEC);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM session_pauses WHERE resumed_at_us IS NULL"),
                   ==, 0);
  /* {Sequence}: each format's next file is number 2. */
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM rule_sequences WHERE next_sequence = 2"),
                   ==, 2);

  /* The files are where the rows say, with the sizes they say. */
  {
    g_autofree char *path = g_build_filename (f->dir, "catalog.db", NULL);
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    guint n = 0;

    g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT local_path, size FROM slices UNION ALL "
                                             "SELECT local_path, -1 FROM recording_files",
                                         -1, &stmt, NULL), ==, SQLITE_OK);
    while (sqlite3_step (stmt) == SQLITE_ROW)
      {
        const char *local = (const char *) sqlite3_column_text (stmt, 0);
        gint64 size = sqlite3_column_int64 (stmt, 1);
        GStatBuf st;

        g_assert_true (g_str_has_prefix (local, f->root));
        g_assert_cmpint (g_stat (local, &st), ==, 0);
        if (size >= 0)
          g_assert_cmpint (st.st_size, ==, size);
        n++;
      }
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    g_assert_cmpuint (n, >=, 4);
  }

  fixture_open (f);
}

/* What a crash leaves: an open session with an open playlist naming two slices (one not
 * catalogued yet), the slice being written (torn), and an MP4 file killed before its
 * first fragment. The next start catalogues both slices, finishes and renames the
 * playlist, removes the empty MP4 and ends the session. */
static void
test_recovery (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *bucket = g_build_filename (f->root, "tests", NULL);
  g_autofree char *dir = g_build_filename (bucket, "record", "auto", "cam", NULL);
  g_autofree char *playlist_path = g_build_filename (dir, "1_2026-11-21-10-00-00_2026-11-21-10-00-00.m3u8", NULL);
  g_autofree char *mp4_path = g_build_filename (dir, "1_2026-11-21-10-00-00_2026-11-21-10-00-00.mp4", NULL);
  /* EndTime: 13 s of slices, or a frame less (the torn slice's length is measured). */
  g_autofree char *final_path = g_build_filename (dir, "1_2026-11-21-10-00-00_2026-11-21-10-00-13.m3u8", NULL);
  g_autofree char *final_path_short = g_build_filename (dir, "1_2026-11-21-10-00-00_2026-11-21-10-00-12.m3u8", NULL);
  g_autofree char *final_text = NULL;
  g_autoptr(LtPlaylist) playlist = NULL;
  g_autoptr(GError) error = NULL;
  const gint64 start_us = (gint64) 1795255200 * G_USEC_PER_SEC;  /* 2026-11-21 10:00:00 UTC */
  g_autofree char *sql = NULL;
  guint files = 0, slices = 0;

  add_rule (f, "DomainName", "rec.example.com", "AppName", "auto",
            "RecordFormat.1.Format", "m3u8", "RecordFormat.1.SliceDuration", "5",
            "RecordFormat.2.Format", "mp4", NULL);
  fixture_close (f);

  /* The files: two 5 s slices, the open playlist naming both, a 0-byte MP4. */
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  playlist = lt_playlist_new (LT_PLAYLIST_TYPE_EVENT, "record/auto/cam/1_2026-11-21-10-00-00_2026-11-21-10-00-00.m3u8");
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT "_%u.ts", start_us / G_USEC_PER_SEC + 5 * i, i);
      g_autofree char *key = g_strconcat ("record/auto/cam/", name, NULL);
      g_autofree char *path = g_build_filename (dir, name, NULL);

      lt_test_make_media_file (path, 5, "libx264");
      lt_playlist_add_segment (playlist, key, 5 * G_USEC_PER_SEC, start_us + 5 * i * G_USEC_PER_SEC, FALSE);
    }
  /* The slice being written at the crash: 3 s, its last packet torn. */
  {
    g_autofree char *torn = g_build_filename (dir, "1795255210_2.ts", NULL);
    g_autofree char *data = NULL;
    gsize length = 0;

    lt_test_make_media_file (torn, 3, "libx264");
    g_assert_true (g_file_get_contents (torn, &data, &length, NULL));
    g_assert_cmpuint (length % 188, ==, 0);
    data = g_realloc (data, length + 100);
    memset (data + length, 0x47, 100);
    g_assert_true (g_file_set_contents (torn, data, length + 100, NULL));
  }
  lt_playlist_set_target_duration (playlist, 5);
  g_assert_true (lt_playlist_write_file (playlist, playlist_path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (mp4_path, "", 0, &error));

  /* The rows a crash leaves: the session open, both files open, the first slice only. */
  {
    g_autofree char *path = g_build_filename (f->dir, "catalog.db", NULL);
    g_autofree char *rule_json = NULL;
    sqlite3 *db = NULL;
    char *message = NULL;

    g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
    {
      sqlite3_stmt *stmt = NULL;

      g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT params FROM rules", -1, &stmt, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
      rule_json = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      sqlite3_finalize (stmt);
    }
    sql = sqlite3_mprintf (
      "INSERT INTO streams (id, domain, app, stream, first_seen, last_seen) "
      "  VALUES (1, 'rec.example.com', 'auto', 'cam', 0, 0);"
      "INSERT INTO sessions (id, stream_id, rule_json, trigger_kind, started_at_us) "
      "  VALUES (1, 1, %Q, 'auto', %lld);"
      "INSERT INTO recording_files (id, session_id, stream_id, format, sequence, target, bucket, "
      "  object_key, local_path, start_time_us) VALUES "
      "  (1, 1, 1, 'm3u8', 1, 'local', 'tests', %Q, %Q, %lld),"
      "  (2, 1, 1, 'mp4', 1, 'local', 'tests', %Q, %Q, %lld);"
      "INSERT INTO slices (session_id, stream_id, recording_file_id, sequence, start_time_us, "
      "  duration_us, object_key, local_path) VALUES (1, 1, 1, 0, %lld, 5000000, 'x', 'x');",
      rule_json, (long long) start_us,
      "record/auto/cam/1_2026-11-21-10-00-00_2026-11-21-10-00-00.m3u8", playlist_path,
      (long long) start_us,
      "record/auto/cam/1_2026-11-21-10-00-00_2026-11-21-10-00-00.mp4", mp4_path,
      (long long) start_us, (long long) start_us);
    g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, &message), ==, SQLITE_OK);
    sqlite3_free (sql);
    sql = NULL;
    sqlite3_close (db);
  }

  fixture_open (f);
  lt_recording_manager_get_recovery_stats (f->manager, &files, &slices);
  g_assert_cmpuint (files, ==, 1);
  g_assert_cmpuint (slices, ==, 2);
  fixture_close (f);

  /* The playlist got its final name (EndTime = the end of its last slice), the torn slice
   * and ENDLIST. */
  {
    g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
    const char *name;

    while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
      g_test_message ("after recovery: %s", name);
  }
  g_assert_false (g_file_test (playlist_path, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_get_contents (g_file_test (final_path, G_FILE_TEST_EXISTS) ? final_path
                                                                                  : final_path_short,
                                      &final_text, NULL, &error));
  g_assert_nonnull (strstr (final_text, "#EXT-X-ENDLIST"));
  g_assert_nonnull (strstr (final_text, "1795255210_2.ts"));
  g_assert_false (g_file_test (mp4_path, G_FILE_TEST_EXISTS));

  g_assert_cmpint (query_int (f, "SELECT count(*) FROM slices WHERE recording_file_id = 1"), ==, 3);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM recording_files"), ==, 1);
  /* The torn slice: whole packets only, its length from its timestamps (3 s of 30 fps). */
  g_assert_cmpint (query_int (f, "SELECT size % 188 FROM slices WHERE sequence = 2"), ==, 0);
  g_assert_cmpint (query_int (f, "SELECT abs (duration_us - 3000000) FROM slices "
                                 "WHERE sequence = 2"), <, 50000);
  g_assert_cmpint (query_int (f, "SELECT abs (duration_us - 13000000) FROM recording_files "
                                 "WHERE id = 1 AND state = 'closed'"), <, 50000);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM sessions WHERE state = 'ended' "
                                 "AND end_reason = 'crash'"), ==, 1);

  /* A second start finds nothing left to do. */
  fixture_open (f);
  lt_recording_manager_get_recovery_stats (f->manager, &files, &slices);
  g_assert_cmpuint (files + slices, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  lt_test_init (&argc, &argv);
  gst_init (&argc, &argv);

  g_test_add ("/recording-manager/decisions", Fixture, NULL, fixture_setup, test_decisions,
              fixture_teardown);
  g_test_add ("/recording-manager/session", Fixture, NULL, fixture_setup, test_session,
              fixture_teardown);
  g_test_add ("/recording-manager/recovery", Fixture, NULL, fixture_setup, test_recovery,
              fixture_teardown);

  return g_test_run ();
}
