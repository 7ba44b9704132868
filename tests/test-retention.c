/* test-retention.c: retention (SPEC 5) on synthetic catalogs made with the real schema:
 * exactly which slice and index-file records go (age, open sessions, uploads not done,
 * batches larger than one transaction), and that spool files are deleted only when the
 * spool retention is set, only under the local root, never through a hostile path (dot
 * segments, a symlinked file or folder pointing out), never for lost slices, open
 * sessions or pending uploads; and that the engine runs a pass when it starts. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "lt-catalog.h"
#include "lt-engine.h"
#include "lt-retention.h"
#include "lt-test-utils.h"

#define NOW      (G_GINT64_CONSTANT (1800000000) * G_USEC_PER_SEC)
#define DAY      (G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC)
#define DAYS(x)  ((gint64) ((x) * DAY))
/* An instant @x days before NOW. */
#define AGO(x)   (NOW - DAYS (x))

typedef struct
{
  char      *dir;
  LtCatalog *catalog;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  f->dir = lt_test_make_temp_dir ();
  path = g_build_filename (f->dir, "catalog.db", NULL);
  f->catalog = lt_catalog_new (path);
  g_assert_true (lt_catalog_open_sync (f->catalog, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  lt_catalog_close (f->catalog);
  g_assert_finalize_object (f->catalog);
  f->catalog = NULL;
  g_clear_pointer (&f->dir, g_free);
}

/* SQL on the worker ------------------------------------------------------------------- */

static gpointer
exec_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  return lt_catalog_exec (db, data, error) ? GINT_TO_POINTER (TRUE) : NULL;
}

static void
sql (Fixture    *f,
     const char *format,
     ...) G_GNUC_PRINTF (2, 3);

static void
sql (Fixture    *f,
     const char *format,
     ...)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_assert_nonnull (lt_catalog_run_sync (f->catalog, exec_job, text, &error));
  g_assert_no_error (error);
}

static gpointer
query_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  sqlite3_stmt *stmt = lt_catalog_stmt (db, data, error);
  gint64 *value;

  if (stmt == NULL)
    return NULL;
  value = g_new0 (gint64, 1);
  if (lt_catalog_next_row (stmt, error))
    {
      *value = sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
    }
  return value;
}

/* The first column of the first row of a query (0 without rows). */
static gint64
query_int (Fixture    *f,
           const char *format,
           ...) G_GNUC_PRINTF (2, 3);

static gint64
query_int (Fixture    *f,
           const char *format,
           ...)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree gint64 *value = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  value = lt_catalog_run_sync (f->catalog, query_job, text, &error);
  g_assert_no_error (error);
  g_assert_nonnull (value);
  return *value;
}

static void
add_stream (Fixture *f,
            int      id)
{
  sql (f, "INSERT INTO streams (id, domain, app, stream, first_seen, last_seen) "
          "VALUES (%d, 'example.com', 'live', 's%d', 0, 0)", id, id);
}

static void
add_session (Fixture    *f,
             int         id,
             int         stream_id,
             const char *state)
{
  sql (f, "INSERT INTO sessions (id, stream_id, rule_json, trigger_kind, state, started_at_us) "
          "VALUES (%d, %d, '{}', 'auto', '%s', %" G_GINT64_FORMAT ")",
       id, stream_id, state, AGO (400));
}

static int next_sequence = 1;

/* A 6-second slice ending @ended_days_ago days before NOW, named @name. */
static void
add_slice (Fixture    *f,
           int         session_id,
           int         stream_id,
           double      ended_days_ago,
           const char *name,
           const char *local_path,
           const char *state)
{
  g_autofree char *quoted = local_path != NULL ? g_strdup_printf ("'%s'", local_path)
                                               : g_strdup ("NULL");

  sql (f, "INSERT INTO slices (session_id, stream_id, sequence, start_time_us, duration_us, "
          "target, bucket, object_key, local_path, state) VALUES (%d, %d, %d, %" G_GINT64_FORMAT
          ", 6000000, 'local', 'b', '%s', %s, '%s')",
       session_id, stream_id, next_sequence++, AGO (ended_days_ago) - 6000000, name, quoted,
       state);
}

static void
add_upload (Fixture    *f,
            const char *object_key,
            const char *local_path,
            const char *state)
{
  sql (f, "INSERT INTO upload_outbox (target, bucket, object_key, local_path, kind, state, "
          "created_at_us) VALUES ('s3', 'b', '%s', '%s', 'slice', '%s', 0)",
       object_key, local_path, state);
}

static void
add_index_file (Fixture    *f,
                const char *record_id,
                int         stream_id,
                double      created_days_ago)
{
  sql (f, "INSERT INTO index_files (record_id, stream_id, start_time_us, end_time_us, "
          "duration_us, create_time, target, bucket, object_key, url) VALUES ('%s', %d, 0, 1, 1, %"
          G_GINT64_FORMAT ", 'local', 'b', 'k', 'file:///k')",
       record_id, stream_id, AGO (created_days_ago) / G_USEC_PER_SEC);
}

static gboolean
slice_exists (Fixture    *f,
              const char *name)
{
  return query_int (f, "SELECT count(*) FROM slices WHERE object_key = '%s'", name) == 1;
}

static LtRetentionResult
run (Fixture    *f,
     guint       slice_days,
     guint       index_days,
     guint       spool_days,
     const char *local_root)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LtRetentionPolicy policy = { NOW, slice_days, index_days, spool_days, local_root };
  LtRetentionResult out;

  memset (&out, 0xff, sizeof out);
  lt_retention_run_async (f->catalog, &policy, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_retention_run_finish (f->catalog, result, &out, &error));
  g_assert_no_error (error);
  return out;
}

/* Records ------------------------------------------------------------------------------- */

static void
test_records (Fixture       *f,
              gconstpointer  data)
{
  LtRetentionResult out;

  add_stream (f, 1);
  add_stream (f, 2);
  add_stream (f, 3);   /* no rows at all */
  add_session (f, 1, 1, "ended");
  add_session (f, 2, 1, "recording");
  add_session (f, 3, 2, "ended");
  add_session (f, 4, 2, "paused");

  add_slice (f, 1, 1, 100, "old", "/spool/old.ts", "closed");
  add_slice (f, 1, 1, 90.01, "just-past", "/spool/just-past.ts", "uploaded");
  add_slice (f, 1, 1, 89.99, "just-inside", NULL, "closed");
  /* Starts before the cutoff, ends after it: kept. */
  add_slice (f, 1, 1, 90 - 3.0 / 86400, "straddling", NULL, "closed");
  add_slice (f, 1, 1, 100, "lost", NULL, "lost");
  add_slice (f, 2, 1, 120, "open-session", NULL, "closed");
  add_slice (f, 4, 2, 120, "paused-session", NULL, "closed");
  /* Uploads not done keep their slices (by local path, or by object key); done ones not. */
  add_slice (f, 3, 2, 100, "pending", "/spool/pending.ts", "closed");
  add_upload (f, "other-key", "/spool/pending.ts", "pending");
  add_slice (f, 3, 2, 100, "uploading", "/spool/uploading.ts", "closed");
  add_upload (f, "uploading", "/elsewhere/uploading.ts", "uploading");
  sql (f, "UPDATE slices SET target = 's3' WHERE object_key = 'uploading'");
  add_slice (f, 3, 2, 100, "failed-upload", "/spool/failed-upload.ts", "closed");
  add_upload (f, "x", "/spool/failed-upload.ts", "failed");
  add_slice (f, 3, 2, 100, "done-upload", "/spool/done-upload.ts", "uploaded");
  add_upload (f, "done-upload", "/spool/done-upload.ts", "done");
  /* More than two batches of old slices in one stream, all with the same session. */
  sql (f, "WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 4999) "
          "INSERT INTO slices (session_id, stream_id, sequence, start_time_us, duration_us, "
          "object_key, state) SELECT 3, 2, 100000 + i, %" G_GINT64_FORMAT " + i * 6000000, "
          "6000000, 'bulk', 'closed' FROM n",
       AGO (200));

  add_index_file (f, "idx-old", 1, 181);
  add_index_file (f, "idx-new", 1, 179);
  add_index_file (f, "idx-old-2", 2, 400);

  /* Zero days: nothing at all. */
  out = run (f, 0, 0, 0, NULL);
  g_assert_cmpuint (out.slices_dropped, ==, 0);
  g_assert_cmpuint (out.index_files_dropped, ==, 0);
  g_assert_cmpuint (out.files_deleted, ==, 0);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM slices"), ==, 5011);

  out = run (f, 90, 180, 0, "/");
  /* old, just-past, lost, done-upload, 5000 bulk. */
  g_assert_cmpuint (out.slices_dropped, ==, 5004);
  g_assert_cmpuint (out.index_files_dropped, ==, 2);
  g_assert_cmpuint (out.files_deleted, ==, 0);
  g_assert_false (slice_exists (f, "old"));
  g_assert_false (slice_exists (f, "just-past"));
  g_assert_false (slice_exists (f, "lost"));
  g_assert_false (slice_exists (f, "done-upload"));
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM slices WHERE object_key = 'bulk'"), ==, 0);
  g_assert_true (slice_exists (f, "just-inside"));
  g_assert_true (slice_exists (f, "straddling"));
  g_assert_true (slice_exists (f, "open-session"));
  g_assert_true (slice_exists (f, "paused-session"));
  g_assert_true (slice_exists (f, "pending"));
  g_assert_true (slice_exists (f, "uploading"));
  g_assert_true (slice_exists (f, "failed-upload"));
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM slices"), ==, 7);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM index_files WHERE record_id = 'idx-new'"),
                   ==, 1);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM index_files"), ==, 1);
  /* Sessions, uploads and streams are not retention's business. */
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM sessions"), ==, 4);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM upload_outbox"), ==, 4);

  /* A second pass finds nothing more; once the upload is done, its slice goes. */
  out = run (f, 90, 180, 0, NULL);
  g_assert_cmpuint (out.slices_dropped, ==, 0);
  g_assert_cmpuint (out.index_files_dropped, ==, 0);
  sql (f, "UPDATE upload_outbox SET state = 'done' WHERE state = 'pending'");
  out = run (f, 90, 180, 0, NULL);
  g_assert_cmpuint (out.slices_dropped, ==, 1);
  g_assert_false (slice_exists (f, "pending"));
}

/* Spool files ---------------------------------------------------------------------------- */

static char *
make_file (const char *dir,
           const char *name)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, "ts", -1, &error));
  g_assert_no_error (error);
  return path;
}

static void
test_spool (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *root = g_build_filename (f->dir, "root", NULL);
  g_autofree char *outside = g_build_filename (f->dir, "outside", NULL);
  g_autofree char *a = make_file (root, "a.ts");
  g_autofree char *b = make_file (root, "sub/b.ts");
  g_autofree char *lost = make_file (root, "lost.ts");
  g_autofree char *recent = make_file (root, "recent.ts");
  g_autofree char *pending = make_file (root, "pending.ts");
  g_autofree char *open_session = make_file (root, "open.ts");
  g_autofree char *mp4 = make_file (root, "file.mp4");
  g_autofree char *victim = make_file (outside, "x");
  g_autofree char *victim2 = make_file (outside, "y");
  g_autofree char *victim3 = make_file (outside, "z");
  g_autofree char *dotted = g_build_filename (root, "..", "outside", "x", NULL);
  g_autofree char *link = g_build_filename (root, "link.ts", NULL);
  g_autofree char *link_dir = g_build_filename (root, "linkdir", NULL);
  g_autofree char *through_link_dir = g_build_filename (link_dir, "z", NULL);
  g_autofree char *relative_victim = NULL;
  LtRetentionResult out;

  g_assert_cmpint (symlink (victim2, link), ==, 0);
  g_assert_cmpint (symlink (outside, link_dir), ==, 0);
  /* "../../x" relative to root is two levels above it: make it exist there. */
  {
    g_autofree char *up = g_path_get_dirname (f->dir);

    relative_victim = make_file (up, "retention-victim-x");
  }

  add_stream (f, 1);
  add_session (f, 1, 1, "ended");
  add_session (f, 2, 1, "recording");
  add_slice (f, 1, 1, 10, "a", a, "closed");
  add_slice (f, 1, 1, 10, "b", b, "uploaded");
  add_slice (f, 1, 1, 10, "lost", lost, "lost");
  add_slice (f, 1, 1, 5, "recent", recent, "closed");
  add_slice (f, 1, 1, 10, "pending", pending, "closed");
  add_upload (f, "pending-key", pending, "pending");
  add_slice (f, 2, 1, 10, "open", open_session, "closed");
  add_slice (f, 1, 1, 10, "dotted", dotted, "closed");
  add_slice (f, 1, 1, 10, "link", link, "closed");
  add_slice (f, 1, 1, 10, "through-link", through_link_dir, "closed");
  add_slice (f, 1, 1, 10, "relative", "../../retention-victim-x", "closed");
  add_slice (f, 1, 1, 10, "absolute", "/etc/passwd", "closed");
  add_slice (f, 1, 1, 10, "gone", "gone.ts", "closed");
  sql (f, "INSERT INTO recording_files (session_id, stream_id, format, sequence, target, bucket, "
          "object_key, local_path, start_time_us, end_time_us, duration_us, state) VALUES "
          "(1, 1, 'mp4', 1, 'local', 'b', 'file.mp4', '%s', %" G_GINT64_FORMAT ", %"
          G_GINT64_FORMAT ", 1000000, 'closed')", mp4, AGO (10), AGO (10) + 1000000);

  /* No spool retention: no file is touched, whatever the records' age. */
  out = run (f, 0, 0, 0, root);
  g_assert_cmpuint (out.files_deleted, ==, 0);
  out = run (f, 1, 0, 0, NULL);
  g_assert_cmpuint (out.files_deleted, ==, 0);
  /* Everything but the open session's and the pending upload's slice. */
  g_assert_cmpuint (out.slices_dropped, ==, 10);
  g_assert_true (g_file_test (a, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (mp4, G_FILE_TEST_EXISTS));

  /* Start again with the same rows for the spool pass. */
  sql (f, "DELETE FROM slices");
  next_sequence = 1;
  add_slice (f, 1, 1, 10, "a", a, "closed");
  add_slice (f, 1, 1, 10, "b", b, "uploaded");
  add_slice (f, 1, 1, 10, "lost", lost, "lost");
  add_slice (f, 1, 1, 5, "recent", recent, "closed");
  add_slice (f, 1, 1, 10, "pending", pending, "closed");
  add_slice (f, 2, 1, 10, "open", open_session, "closed");
  add_slice (f, 1, 1, 10, "dotted", dotted, "closed");
  add_slice (f, 1, 1, 10, "link", link, "closed");
  add_slice (f, 1, 1, 10, "through-link", through_link_dir, "closed");
  add_slice (f, 1, 1, 10, "relative", "../../retention-victim-x", "closed");
  add_slice (f, 1, 1, 10, "absolute", "/etc/passwd", "closed");
  add_slice (f, 1, 1, 10, "gone", "gone.ts", "closed");

  out = run (f, 0, 0, 7, root);
  g_assert_cmpuint (out.slices_dropped, ==, 0);
  /* a, b and the MP4. */
  g_assert_cmpuint (out.files_deleted, ==, 3);
  g_assert_false (g_file_test (a, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (b, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (mp4, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (lost, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (recent, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (pending, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (open_session, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (victim, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (victim2, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (victim3, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (relative_victim, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test ("/etc/passwd", G_FILE_TEST_EXISTS));
  /* The symlink itself is not a spool file either. */
  g_assert_true (g_file_test (link, G_FILE_TEST_IS_SYMLINK));
  /* The records of deleted (or already missing) files forget their paths, the others keep
   * them. */
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM slices WHERE local_path IS NULL"), ==, 3);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM slices WHERE local_path IS NULL "
                                 "AND object_key IN ('a', 'b', 'gone')"), ==, 3);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM recording_files WHERE local_path IS NULL"),
                   ==, 1);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM slices"), ==, 12);

  /* The root is made canonical: named through a symlink, its files are still under it; a
   * root that does not exist has no files to delete (and is no error). */
  {
    g_autofree char *root_link = g_build_filename (f->dir, "root-link", NULL);
    g_autofree char *missing = g_build_filename (f->dir, "no-such-root", NULL);
    g_autofree char *c = make_file (root, "c.ts");

    g_assert_cmpint (symlink (root, root_link), ==, 0);
    add_slice (f, 1, 1, 10, "c", c, "closed");
    out = run (f, 0, 0, 7, missing);
    g_assert_cmpuint (out.files_deleted, ==, 0);
    g_assert_true (g_file_test (c, G_FILE_TEST_EXISTS));
    out = run (f, 0, 0, 7, root_link);
    g_assert_cmpuint (out.files_deleted, ==, 1);
    g_assert_false (g_file_test (c, G_FILE_TEST_EXISTS));
    g_assert_true (g_file_test (recent, G_FILE_TEST_EXISTS));
  }

  g_unlink (relative_victim);
}

/* Cancelled before it starts: an error, nothing dropped. */
static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LtRetentionPolicy policy = { NOW, 90, 180, 0, NULL };

  add_stream (f, 1);
  add_session (f, 1, 1, "ended");
  add_slice (f, 1, 1, 100, "old", NULL, "closed");
  g_cancellable_cancel (cancellable);
  lt_retention_run_async (f->catalog, &policy, cancellable, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_false (lt_retention_run_finish (f->catalog, result, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (slice_exists (f, "old"));
}

/* The engine: a pass at start (after recovery), with the default settings. */

static gboolean
old_slice_gone (gpointer data)
{
  Fixture *f = data;

  return query_int (f, "SELECT count(*) FROM slices WHERE object_key = 'engine-old'") == 0;
}

static void
test_engine (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(LtEngine) engine = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time ();
  Fixture view = { f->dir, NULL };

  /* Rows in the catalog the engine will open (fixture_set_up made it in f->dir). */
  add_stream (f, 1);
  add_session (f, 1, 1, "ended");
  sql (f, "INSERT INTO slices (session_id, stream_id, sequence, start_time_us, duration_us, "
          "object_key, state) VALUES (1, 1, 1, %" G_GINT64_FORMAT ", 6000000, 'engine-old', "
          "'closed'), (1, 1, 2, %" G_GINT64_FORMAT ", 6000000, 'engine-new', 'closed')",
       now - DAYS (100), now - DAYS (1));
  lt_catalog_close (f->catalog);
  g_clear_object (&f->catalog);

  engine = lt_engine_new (f->dir);
  lt_engine_set_ingest_enabled (engine, FALSE);
  lt_engine_set_api_listen (engine, NULL);
  lt_engine_start_async (engine, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_engine_start_finish (engine, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);   /* it holds the engine */

  view.catalog = lt_engine_get_catalog (engine);
  lt_test_wait_until (old_slice_gone, &view, 10000, "the engine's retention pass");
  g_assert_cmpint (query_int (&view, "SELECT count(*) FROM slices WHERE object_key = 'engine-new'"),
                   ==, 1);

  /* Shutdown removes the hourly source; nothing keeps the engine alive. */
  lt_engine_shutdown (engine);
  g_assert_finalize_object (g_steal_pointer (&engine));

  /* The fixture's teardown closes a catalog: give it one. */
  {
    g_autofree char *path = g_build_filename (f->dir, "catalog.db", NULL);

    f->catalog = lt_catalog_new (path);
    g_assert_true (lt_catalog_open_sync (f->catalog, &error));
    g_assert_no_error (error);
  }
}

int
main (int    argc,
      char **argv)
{
  lt_test_init (&argc, &argv);

  g_test_add ("/retention/records", Fixture, NULL, fixture_set_up, test_records,
              fixture_tear_down);
  g_test_add ("/retention/spool", Fixture, NULL, fixture_set_up, test_spool,
              fixture_tear_down);
  g_test_add ("/retention/cancel", Fixture, NULL, fixture_set_up, test_cancel,
              fixture_tear_down);
  g_test_add ("/retention/engine", Fixture, NULL, fixture_set_up, test_engine,
              fixture_tear_down);

  return g_test_run ();
}
