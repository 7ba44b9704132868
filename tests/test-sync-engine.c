/* test-sync-engine.c: LtSyncEngine against two real S3 servers on loopback — s3rver (npm)
 * and our strict, fault-injecting server (tests/integration/s3strict.py). Slices, a
 * playlist and a multipart file are queued; every object is read back and checksummed.
 * Under 500/503 storms, resets, a hanging server, wrong ETags and a skewed clock nothing is
 * lost or corrupt; a refusing server stops the target with a message and nothing is marked
 * done; a multipart upload interrupted by a shutdown resumes without sending its stored
 * parts again and orphaned uploads are aborted. Spool copies go only after a verified
 * upload (keep 0 here). */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "lt-catalog.h"
#include "lt-index-files.h"
#include "lt-recording-catalog.h"
#include "lt-storage-targets.h"
#include "lt-s3-client.h"
#include "lt-sync-engine.h"
#include "lt-test-s3.h"
#include "lt-test-utils.h"

#define BUCKET "livetape-sync"
#define TARGET "s3t"
#define MIB (1024 * 1024)
/* Requests in flight per client. */
#define CONNECTIONS 8

static LtTestS3Server strict_server = { .name = "strict", .strict = TRUE, .bucket = BUCKET };
static LtTestS3Server s3rver_server = { .name = "s3rver", .strict = FALSE, .bucket = BUCKET };

/* ---- fixture ---- */

typedef struct
{
  LtTestS3Server *server;
  char           *dir;
  LtCatalog      *catalog;
  LtSyncEngine   *engine;
  LtS3Client     *client;
  GHashTable     *md5s;        /* key → expected hex MD5 */
  GHashTable     *paths;       /* key → spool path */
  GPtrArray      *done_order;  /* keys in "row-done" order */
  guint           failing;
  char           *failing_message;
} Fixture;

static void
row_done_cb (LtSyncEngine *engine,
             gint64        id,
             const char   *target,
             const char   *key,
             Fixture      *fx)
{
  g_ptr_array_add (fx->done_order, g_strdup (key));
}

static void
target_failing_cb (LtSyncEngine *engine,
                   const char   *target,
                   const char   *message,
                   Fixture      *fx)
{
  g_assert_cmpstr (target, ==, TARGET);
  fx->failing++;
  g_free (fx->failing_message);
  fx->failing_message = g_strdup (message);
}

static LtSyncEngine *
make_engine_with_targets (Fixture *fx,
                          guint    timeout_s,
                          GObject *targets)
{
  g_autofree char *spool = g_build_filename (fx->dir, "spool", NULL);
  LtSyncEngine *engine = lt_sync_engine_new (fx->catalog, targets, spool);

  lt_sync_engine_set_keep_days (engine, 0);
  lt_sync_engine_set_backoff_scale (engine, 0.02);
  lt_sync_engine_set_multipart_threshold (engine, 16 * MIB);
  g_clear_object (&fx->client);
  fx->client = lt_test_s3_make_client (fx->server, NULL, NULL, CONNECTIONS, timeout_s);
  lt_sync_engine_set_target_client (engine, TARGET, G_OBJECT (fx->client));
  g_signal_connect (engine, "row-done", G_CALLBACK (row_done_cb), fx);
  g_signal_connect (engine, "target-failing", G_CALLBACK (target_failing_cb), fx);
  return engine;
}

static LtSyncEngine *
make_engine (Fixture *fx,
             guint    timeout_s)
{
  return make_engine_with_targets (fx, timeout_s, NULL);
}

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  g_autofree char *db = NULL;
  g_autoptr(GError) error = NULL;

  fx->server = (LtTestS3Server *) data;
  fx->dir = lt_test_make_temp_dir ();
  db = g_build_filename (fx->dir, "catalog.db", NULL);
  fx->catalog = lt_catalog_new (db);
  g_assert_true (lt_catalog_open_sync (fx->catalog, &error));
  g_assert_no_error (error);
  fx->md5s = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  fx->paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  fx->done_order = g_ptr_array_new_with_free_func (g_free);
  fx->engine = make_engine (fx, 3);
  if (fx->server->strict)
    g_free (lt_test_s3_control (&strict_server, "clear", "{}"));
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  lt_sync_engine_shutdown (fx->engine);
  lt_test_spin (300);
  g_assert_finalize_object (fx->engine);
  g_clear_object (&fx->client);
  lt_catalog_close (fx->catalog);
  g_clear_object (&fx->catalog);
  g_hash_table_unref (fx->md5s);
  g_hash_table_unref (fx->paths);
  g_ptr_array_unref (fx->done_order);
  g_free (fx->failing_message);
  g_free (fx->dir);
  if (fx->server->strict)
    g_free (lt_test_s3_control (&strict_server, "clear", "{}"));
}

/* Writes @size random bytes as the spool copy of @key. */
static char *
spool_file (Fixture    *fx,
            const char *key,
            gsize       size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = lt_sync_engine_spool_path (fx->engine, TARGET, BUCKET, key, &error);
  g_autofree char *dir = NULL;
  g_autofree guint8 *data = g_malloc (MAX (size, 1));

  g_assert_no_error (error);
  for (gsize i = 0; i + 4 <= size; i += 4)
    {
      guint32 r = g_random_int ();
      memcpy (data + i, &r, 4);
    }
  dir = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (path, (const char *) data, (gssize) size, &error);
  g_assert_no_error (error);
  g_hash_table_replace (fx->md5s, g_strdup (key),
                        g_compute_checksum_for_data (G_CHECKSUM_MD5, data, size));
  g_hash_table_replace (fx->paths, g_strdup (key), g_strdup (path));
  return g_steal_pointer (&path);
}

typedef struct
{
  const char *key;
  const char *path;
  LtSyncKind  kind;
  gint64      depends_on;
  const char *md5;      /* recorded with the row, or NULL */
  gint64      size;     /* the size it was recorded for */
} EnqueueJob;

static gpointer
enqueue_job (sqlite3  *db,
             gpointer  data,
             GError  **error)
{
  EnqueueJob *job = data;
  gint64 *id = g_new (gint64, 1);

  *id = _lt_sync_enqueue_in_transaction (db, TARGET, BUCKET, job->key, job->path, job->kind,
                                         job->md5 != NULL ? job->size : 0, job->md5,
                                         job->depends_on, 0, error);
  if (*id == 0)
    {
      g_free (id);
      return NULL;
    }
  return id;
}

static gint64
enqueue (Fixture    *fx,
         const char *key,
         LtSyncKind  kind,
         gint64      depends_on)
{
  EnqueueJob job = { key, g_hash_table_lookup (fx->paths, key), kind, depends_on, NULL, 0 };
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *id = NULL;

  g_assert_nonnull (job.path);
  id = lt_catalog_run_sync (fx->catalog, enqueue_job, &job, &error);
  g_assert_no_error (error);
  lt_sync_engine_kick (fx->engine);
  return *id;
}

/* A slice queued with the MD5 its writer computed for @size bytes (as the recorder does). */
static gint64
enqueue_kind_with_md5 (Fixture    *fx,
                       LtSyncKind  kind,
                       const char *key,
                       const char *md5,
                       gint64      size)
{
  EnqueueJob job = { key, g_hash_table_lookup (fx->paths, key), kind, 0, md5, size };
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *id = NULL;

  g_assert_nonnull (job.path);
  g_assert_nonnull (md5);
  id = lt_catalog_run_sync (fx->catalog, enqueue_job, &job, &error);
  g_assert_no_error (error);
  lt_sync_engine_kick (fx->engine);
  return *id;
}

static gint64
enqueue_with_md5 (Fixture    *fx,
                  const char *key,
                  const char *md5,
                  gint64      size)
{
  return enqueue_kind_with_md5 (fx, LT_SYNC_KIND_SLICE, key, md5, size);
}

/* "BLOCK:MD5,…" for the file of @key as the recorder reports it, with @patched blocks
 * (a bit mask) as "-" and @wrong ones given a wrong MD5. */
static char *
block_md5s (Fixture *fx,
            const char *key,
            gsize       block,
            guint       patched,
            guint       wrong)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr(GError) error = NULL;
  GString *text = g_string_new (NULL);

  g_file_get_contents (g_hash_table_lookup (fx->paths, key), &contents, &length, &error);
  g_assert_no_error (error);
  g_string_append_printf (text, "%" G_GSIZE_FORMAT ":", block);
  for (guint i = 0; (gsize) i * block < length; i++)
    {
      g_autofree char *md5 = g_compute_checksum_for_data (G_CHECKSUM_MD5,
                                                          (const guint8 *) contents + i * block,
                                                          MIN (block, length - i * block));

      if (i > 0)
        g_string_append_c (text, ',');
      if (patched & (1u << i))
        g_string_append (text, "-");
      else if (wrong & (1u << i))
        g_string_append (text, "0123456789abcdef0123456789abcdef");
      else
        g_string_append (text, md5);
    }
  return g_string_free (text, FALSE);
}

typedef struct
{
  const char *sql;
  gint64      value;
} QueryJob;

static gpointer
query_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  QueryJob *job = data;
  sqlite3_stmt *stmt = lt_catalog_stmt (db, job->sql, error);

  if (stmt == NULL || !lt_catalog_next_row (stmt, error))
    return NULL;
  job->value = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return GINT_TO_POINTER (TRUE);
}

static gint64
query_int (Fixture    *fx,
           const char *sql)
{
  QueryJob job = { sql, 0 };
  g_autoptr(GError) error = NULL;

  lt_catalog_run_sync (fx->catalog, query_job, &job, &error);
  g_assert_no_error (error);
  return job.value;
}

static gint64 G_GNUC_PRINTF (2, 3)
query_intf (Fixture    *fx,
            const char *format,
            ...)
{
  g_autofree char *sql = NULL;
  va_list args;

  va_start (args, format);
  sql = g_strdup_vprintf (format, args);
  va_end (args);
  return query_int (fx, sql);
}

static gboolean
queue_empty (gpointer data)
{
  Fixture *fx = data;

  return query_int (fx, "SELECT count(*) FROM upload_outbox "
                        "WHERE state IN ('pending', 'uploading')") == 0;
}

static void
wait_queue_empty (Fixture *fx,
                  guint    timeout_ms)
{
  g_assert_true (lt_test_iterate_until (queue_empty, fx, timeout_ms));
  /* The last "row-done" arrives on the main context after its row is written. */
  lt_test_spin (300);
}

static gboolean
spool_empty (gpointer data)
{
  Fixture *fx = data;
  GHashTableIter iter;
  gpointer value;

  /* A live playlist (no final row) stays: the recorder still writes it. */
  g_hash_table_iter_init (&iter, fx->paths);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (!g_str_has_suffix (value, ".m3u8") && g_file_test (value, G_FILE_TEST_EXISTS))
      return FALSE;
  return TRUE;
}

static void
get_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Every object expected is in the bucket with the bytes that were spooled. */
static void
assert_all_stored (Fixture *fx)
{
  g_autoptr(LtS3Client) reader = lt_test_s3_make_client (fx->server, NULL, NULL, CONNECTIONS, 30);
  GHashTableIter iter;
  gpointer key, value;

  if (fx->server->strict)
    g_free (lt_test_s3_control (&strict_server, "clear", "{}"));
  g_hash_table_iter_init (&iter, fx->md5s);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autofree char *dest_path = g_build_filename (fx->dir, "readback", NULL);
      g_autoptr(GFile) dest = g_file_new_for_path (dest_path);
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *etag = NULL;
      g_autofree char *data = NULL;
      g_autofree char *md5 = NULL;
      gsize length = 0;

      lt_s3_client_get_object_async (reader, key, dest, NULL, get_cb, &result);
      lt_test_wait_result (&result);
      etag = lt_s3_client_get_object_finish (reader, result, &error);
      g_assert_no_error (error);
      g_file_get_contents (dest_path, &data, &length, &error);
      g_assert_no_error (error);
      md5 = g_compute_checksum_for_data (G_CHECKSUM_MD5, (const guchar *) data, length);
      g_assert_cmpstr (md5, ==, value);
    }
}

static guint
index_of (GPtrArray  *keys,
          const char *key)
{
  for (guint i = 0; i < keys->len; i++)
    if (g_strcmp0 (g_ptr_array_index (keys, i), key) == 0)
      return i;
  g_assert_not_reached ();
  return 0;
}

/* The last time @key was stored: a live playlist may be stored again as it grows, and only
 * its final version names every slice. */
static guint
last_index_of (GPtrArray  *keys,
               const char *key)
{
  for (guint i = keys->len; i > 0; i--)
    if (g_strcmp0 (g_ptr_array_index (keys, i - 1), key) == 0)
      return i - 1;
  g_assert_not_reached ();
  return 0;
}

/* ---- tests ---- */

/* Slices, their playlist and a large file: everything arrives intact, the playlist after
 * its slices, the multipart file in parts, and the spool is emptied only afterwards. */
static void
test_basic (Fixture       *fx,
            gconstpointer  data)
{
  gint64 last_slice = 0;
  g_autofree char *playlist = NULL;
  GString *text = g_string_new ("#EXTM3U\n");

  lt_sync_engine_start (fx->engine);
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *key = g_strdup_printf ("record/app/s/1700000000/%u.ts", i);

      g_free (spool_file (fx, key, 200 * 1024 + i));
      g_string_append_printf (text, "#EXTINF:2.0,\n%u.ts\n", i);
    }
  /* The playlist file names them all. */
  {
    g_autoptr(GError) error = NULL;

    playlist = lt_sync_engine_spool_path (fx->engine, TARGET, BUCKET,
                                          "record/app/s/1700000000.m3u8", &error);
    g_assert_no_error (error);
    g_file_set_contents (playlist, text->str, -1, &error);
    g_assert_no_error (error);
    g_hash_table_replace (fx->md5s, g_strdup ("record/app/s/1700000000.m3u8"),
                          g_compute_checksum_for_string (G_CHECKSUM_MD5, text->str, -1));
    g_hash_table_replace (fx->paths, g_strdup ("record/app/s/1700000000.m3u8"),
                          g_strdup (playlist));
  }
  g_free (spool_file (fx, "record/app/s/big.mp4", 70 * MIB + 12345));

  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *key = g_strdup_printf ("record/app/s/1700000000/%u.ts", i);

      last_slice = enqueue (fx, key, LT_SYNC_KIND_SLICE, 0);
    }
  enqueue (fx, "record/app/s/1700000000.m3u8", LT_SYNC_KIND_PLAYLIST, last_slice);
  /* A second version of the live playlist re-points the pending row. */
  g_assert_cmpint (query_int (fx, "SELECT count(*) FROM upload_outbox WHERE kind = 'playlist'"),
                   <=, 1);
  enqueue (fx, "record/app/s/big.mp4", LT_SYNC_KIND_FILE, 0);

  wait_queue_empty (fx, 120000);
  g_assert_cmpint (query_int (fx, "SELECT count(*) FROM upload_outbox WHERE state = 'failed'"),
                   ==, 0);
  g_assert_true (lt_test_iterate_until (spool_empty, fx, 10000));
  assert_all_stored (fx);

  /* Slices before the playlist naming them. */
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *key = g_strdup_printf ("record/app/s/1700000000/%u.ts", i);

      g_assert_cmpuint (index_of (fx->done_order, key), <,
                        index_of (fx->done_order, "record/app/s/1700000000.m3u8"));
    }
  g_assert_cmpuint (fx->done_order->len, ==, 8);
  g_assert_true (g_file_test (playlist, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (fx->failing, ==, 0);
  g_string_free (text, TRUE);
}

static void
queue_slices (Fixture *fx,
              guint    n,
              gsize    size)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *key = g_strdup_printf ("storm/%u-%u.ts", g_random_int (), i);

      g_free (spool_file (fx, key, size + i));
      enqueue (fx, key, LT_SYNC_KIND_SLICE, 0);
    }
}

static void
finish_and_check (Fixture *fx,
                  guint    timeout_ms)
{
  wait_queue_empty (fx, timeout_ms);
  g_assert_cmpint (query_int (fx, "SELECT count(*) FROM upload_outbox WHERE state = 'failed'"),
                   ==, 0);
  g_assert_true (lt_test_iterate_until (spool_empty, fx, 10000));
  g_assert_cmpuint (fx->done_order->len, ==, g_hash_table_size (fx->md5s));
  assert_all_stored (fx);
}

/* 500/503/SlowDown storms and connection resets at random offsets. */
static void
test_storm (Fixture       *fx,
            gconstpointer  data)
{
  GString *faults = g_string_new ("[");

  for (guint i = 0; i < 24; i++)
    {
      static const char *kinds[] = {
        "{\"kind\": \"error\", \"status\": 503, \"code\": \"SlowDown\", \"method\": \"PUT\"}",
        "{\"kind\": \"error\", \"status\": 500, \"code\": \"InternalError\", \"method\": \"PUT\"}",
        "{\"kind\": \"reset\", \"method\": \"PUT\"}",
      };
      g_string_append_printf (faults, "%s%s", i > 0 ? "," : "", kinds[i % 3]);
    }
  g_string_append (faults, "]");
  g_free (lt_test_s3_control (&strict_server, "faults", faults->str));
  g_string_free (faults, TRUE);

  lt_sync_engine_start (fx->engine);
  queue_slices (fx, 12, 300 * 1024);
  g_free (spool_file (fx, "storm/big.flv", 20 * MIB + 7));
  enqueue (fx, "storm/big.flv", LT_SYNC_KIND_FILE, 0);
  finish_and_check (fx, 120000);
  g_assert_cmpint (lt_test_s3_stat (&strict_server, "faults_pending"), ==, 0);
  g_assert_cmpint (query_int (fx, "SELECT count(*) FROM upload_parts"), ==, 0);
}

/* Slices queued with the MD5 their writer computed (the recorder hashes each TS slice as it
 * writes it) are sent with that MD5, without a hashing pass: a right one is stored in one
 * PUT and stays with its row. A deliberately wrong one, a file rewritten (same size) since
 * it was hashed, and a file whose size changed never give a wrong object nor a row done
 * with a mismatch: the wrong MD5 reaches the server (the strict one refuses the body with
 * BadDigest, s3rver stores it and its ETag contradicts it), is dropped from the row, and
 * the file is hashed and sent again. */
static void
test_recorded_md5 (Fixture       *fx,
                   gconstpointer  data)
{
  static const char *wrong = "0123456789abcdef0123456789abcdef";
  gint64 right_ids[3], stale_ids[2], resized_id;
  gint64 checked_before = 0;

  /* Rows (and spool copies) stay after their upload, so that they can be looked at. */
  lt_sync_engine_set_keep_days (fx->engine, 7);
  if (fx->server->strict)
    checked_before = lt_test_s3_stat (&strict_server, "md5_checked");

  for (guint i = 0; i < G_N_ELEMENTS (right_ids); i++)
    {
      g_autofree char *key = g_strdup_printf ("md5/right-%u.ts", i);

      g_free (spool_file (fx, key, 100 * 1024 + i));
      right_ids[i] = enqueue_with_md5 (fx, key, g_hash_table_lookup (fx->md5s, key),
                                       100 * 1024 + i);
    }
  /* A wrong MD5 for the right size. */
  g_free (spool_file (fx, "md5/wrong.ts", 90 * 1024));
  stale_ids[0] = enqueue_with_md5 (fx, "md5/wrong.ts", wrong, 90 * 1024);
  /* The right MD5 once, but the file was written again since (same size, other bytes). */
  g_free (spool_file (fx, "md5/rewritten.ts", 80 * 1024));
  {
    g_autofree char *old_md5 = g_strdup (g_hash_table_lookup (fx->md5s, "md5/rewritten.ts"));

    stale_ids[1] = enqueue_with_md5 (fx, "md5/rewritten.ts", old_md5, 80 * 1024);
    g_free (spool_file (fx, "md5/rewritten.ts", 80 * 1024));
    g_assert_cmpstr (old_md5, !=, g_hash_table_lookup (fx->md5s, "md5/rewritten.ts"));
  }
  /* The right MD5 once, but the file has another size now: hashed, not sent with it. */
  g_free (spool_file (fx, "md5/resized.ts", 70 * 1024));
  resized_id = enqueue_with_md5 (fx, "md5/resized.ts",
                                 g_hash_table_lookup (fx->md5s, "md5/resized.ts"), 70 * 1024);
  g_free (spool_file (fx, "md5/resized.ts", 70 * 1024 + 3));

  lt_sync_engine_start (fx->engine);
  wait_queue_empty (fx, 60000);
  g_assert_cmpint (query_int (fx, "SELECT count(*) FROM upload_outbox WHERE state = 'failed'"),
                   ==, 0);
  g_assert_cmpuint (fx->done_order->len, ==, 6);
  g_assert_cmpuint (fx->failing, ==, 0);
  /* Every object is stored with the bytes of its file (read back and hashed). */
  assert_all_stored (fx);

  /* The right MD5s were used as they were (still on their rows) and stored as the ETag. */
  for (guint i = 0; i < G_N_ELEMENTS (right_ids); i++)
    {
      g_autofree char *key = g_strdup_printf ("md5/right-%u.ts", i);
      const char *md5 = g_hash_table_lookup (fx->md5s, key);

      g_assert_cmpint (query_intf (fx, "SELECT count(*) FROM upload_outbox WHERE id = %"
                                   G_GINT64_FORMAT " AND state = 'done' AND content_md5 = '%s' "
                                   "AND etag = '%s'", right_ids[i], md5, md5), ==, 1);
    }
  /* The stale ones were dropped, and the rows are done with the ETag of the real bytes. */
  for (guint i = 0; i < G_N_ELEMENTS (stale_ids); i++)
    {
      const char *md5 = g_hash_table_lookup (fx->md5s, i == 0 ? "md5/wrong.ts"
                                                               : "md5/rewritten.ts");

      g_assert_cmpint (query_intf (fx, "SELECT count(*) FROM upload_outbox WHERE id = %"
                                   G_GINT64_FORMAT " AND state = 'done' AND content_md5 IS NULL "
                                   "AND etag = '%s'", stale_ids[i], md5), ==, 1);
    }
  g_assert_cmpint (query_intf (fx, "SELECT count(*) FROM upload_outbox WHERE id = %"
                               G_GINT64_FORMAT " AND state = 'done' AND content_md5 IS NULL "
                               "AND etag = '%s'", resized_id,
                               (const char *) g_hash_table_lookup (fx->md5s, "md5/resized.ts")),
                   ==, 1);

  /* The strict server saw each recorded MD5 as it was: one PUT per right slice and per
   * resized file, two for each stale one (the refused body, then the hashed one). An
   * engine that hashed the files itself would never have sent the stale MD5s. */
  if (fx->server->strict)
    g_assert_cmpint (lt_test_s3_stat (&strict_server, "md5_checked") - checked_before, ==,
                     G_N_ELEMENTS (right_ids) + 2 * G_N_ELEMENTS (stale_ids) + 1);
}

/* A recording file's block MD5s (hashed by the recorder, the header's block patched at
 * close) spare its multipart parts the hashing pass: the parts go with them; a wrong one
 * is refused and that part is sent again hashed; blocks of another size than the parts
 * are not used. Every object arrives intact. */
static void
test_recorded_part_md5s (Fixture       *fx,
                         gconstpointer  data)
{
  const gint64 size = 20 * MIB + 7;     /* three parts of 8 MiB, 8 MiB, 4 MiB + 7 */
  g_autofree char *right = NULL;
  g_autofree char *wrong = NULL;
  g_autofree char *other_size = NULL;
  gint64 right_id, wrong_id, other_id;
  gint64 checked_before = lt_test_s3_stat (&strict_server, "md5_checked");

  lt_sync_engine_set_keep_days (fx->engine, 7);
  g_free (spool_file (fx, "parts/right.mp4", size));
  g_free (spool_file (fx, "parts/wrong.flv", size));
  g_free (spool_file (fx, "parts/other.mp4", size));
  right = block_md5s (fx, "parts/right.mp4", 8 * MIB, 1u << 0, 0);
  wrong = block_md5s (fx, "parts/wrong.flv", 8 * MIB, 1u << 0, 1u << 2);
  other_size = block_md5s (fx, "parts/other.mp4", 4 * MIB, 0, 0);
  right_id = enqueue_kind_with_md5 (fx, LT_SYNC_KIND_FILE, "parts/right.mp4", right, size);
  wrong_id = enqueue_kind_with_md5 (fx, LT_SYNC_KIND_FILE, "parts/wrong.flv", wrong, size);
  other_id = enqueue_kind_with_md5 (fx, LT_SYNC_KIND_FILE, "parts/other.mp4", other_size,
                                    size);
  g_assert_cmpint (query_intf (fx, "SELECT count(*) FROM upload_outbox WHERE content_md5 "
                               "IS NOT NULL AND id IN (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                               ", %" G_GINT64_FORMAT ")", right_id, wrong_id, other_id), ==, 3);

  lt_sync_engine_start (fx->engine);
  wait_queue_empty (fx, 60000);
  g_assert_cmpint (query_int (fx, "SELECT count(*) FROM upload_outbox WHERE state = 'failed'"),
                   ==, 0);
  assert_all_stored (fx);
  /* Used as recorded: still on the row. The wrong one and the other block size: gone. */
  g_assert_cmpint (query_intf (fx, "SELECT count(*) FROM upload_outbox WHERE id = %"
                               G_GINT64_FORMAT " AND state = 'done' AND content_md5 = '%s'",
                               right_id, right), ==, 1);
  g_assert_cmpint (query_intf (fx, "SELECT count(*) FROM upload_outbox WHERE state = 'done' "
                               "AND content_md5 IS NULL AND id IN (%" G_GINT64_FORMAT ", %"
                               G_GINT64_FORMAT ")", wrong_id, other_id), ==, 2);
  /* Three parts each, and the refused third part of the wrong one once more: an engine
   * that hashed the parts itself would never have sent the wrong MD5. */
  g_assert_cmpint (lt_test_s3_stat (&strict_server, "md5_checked") - checked_before, ==,
                   3 * 3 + 1);
}

/* A server that reads the request and never answers: the request times out and is
 * retried. */
static void
test_hang (Fixture       *fx,
           gconstpointer  data)
{
  g_free (lt_test_s3_control (&strict_server, "faults",
                              "[{\"kind\": \"hang\", \"method\": \"PUT\"}]"));
  lt_sync_engine_start (fx->engine);
  queue_slices (fx, 2, 64 * 1024);
  finish_and_check (fx, 60000);
  g_assert_cmpint (lt_test_s3_stat (&strict_server, "faults_pending"), ==, 0);
}

/* A wrong ETag is never recorded as done: the upload is sent again. */
static void
test_wrong_etag (Fixture       *fx,
                 gconstpointer  data)
{
  g_free (lt_test_s3_control (&strict_server, "faults",
                              "[{\"kind\": \"wrong_etag\", \"method\": \"PUT\"},"
                              " {\"kind\": \"wrong_etag\", \"method\": \"POST\"}]"));
  lt_sync_engine_start (fx->engine);
  queue_slices (fx, 1, 100 * 1024);
  g_free (spool_file (fx, "etag/big.mp4", 17 * MIB));
  enqueue (fx, "etag/big.mp4", LT_SYNC_KIND_FILE, 0);
  finish_and_check (fx, 60000);
  g_assert_cmpint (lt_test_s3_stat (&strict_server, "faults_pending"), ==, 0);
  /* Both wrong ETags were served, and each object was recorded done once, with the
   * right bytes (finish_and_check read them back). */
  g_assert_cmpuint (fx->done_order->len, ==, 2);
}

/* A server clock an hour ahead: RequestTimeTooSkewed, corrected from its Date, retried. */
static void
test_skew (Fixture       *fx,
           gconstpointer  data)
{
  g_free (lt_test_s3_control (&strict_server, "skew", "{\"seconds\": 3600}"));
  lt_sync_engine_start (fx->engine);
  queue_slices (fx, 3, 50 * 1024);
  finish_and_check (fx, 30000);
  g_assert_cmpint (ABS (lt_s3_client_get_clock_offset (fx->client) - 3600), <=, 5);
  g_assert_cmpint (lt_test_s3_stat (&strict_server, "skew_rejected"), >=, 1);
}

/* A wrong secret: the target stops with a message, nothing is marked done, the spool
 * copies stay; with the right key and a retry everything goes. */
static void
test_denied (Fixture       *fx,
             gconstpointer  data)
{
  g_autoptr(LtS3Client) bad = lt_test_s3_make_client (fx->server, NULL, "not-the-secret",
                                                      CONNECTIONS, 3);
  g_autoptr(LtSyncTargetStatus) status = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lt_sync_engine_set_target_client (fx->engine, TARGET, G_OBJECT (bad));
  lt_sync_engine_start (fx->engine);
  queue_slices (fx, 3, 10 * 1024);
  while (fx->failing == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (fx->failing_message);
  g_assert_nonnull (strstr (fx->failing_message, BUCKET));
  /* Give it time to (wrongly) go on. */
  lt_test_spin (1500);
  g_assert_cmpuint (fx->failing, ==, 1);
  g_assert_cmpuint (fx->done_order->len, ==, 0);
  g_assert_cmpint (query_int (fx, "SELECT count(*) FROM upload_outbox WHERE state = 'done'"),
                   ==, 0);
  g_assert_false (spool_empty (fx));
  status = lt_sync_engine_get_target_status (fx->engine, TARGET);
  g_assert_true (status->failing);
  g_assert_cmpstr (status->last_error, ==, fx->failing_message);
  g_assert_cmpuint (status->queue_length, ==, 3);

  lt_sync_engine_set_target_client (fx->engine, TARGET, G_OBJECT (fx->client));
  lt_sync_engine_retry_all_async (fx->engine, TARGET, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_sync_engine_retry_all_finish (fx->engine, result, &error));
  g_assert_no_error (error);
  finish_and_check (fx, 30000);
}

/* A missing local file fails its row with a clear reason; the others go on. */
static void
test_missing_file (Fixture       *fx,
                   gconstpointer  data)
{
  g_autofree char *gone = spool_file (fx, "missing/gone.ts", 1000);
  GListModel *failures = lt_sync_engine_get_failures (fx->engine);
  g_autoptr(LtSyncFailure) item = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_unlink (gone), ==, 0);
  g_hash_table_remove (fx->md5s, "missing/gone.ts");
  lt_sync_engine_start (fx->engine);
  enqueue (fx, "missing/gone.ts", LT_SYNC_KIND_SLICE, 0);
  queue_slices (fx, 2, 1000);
  while (g_list_model_get_n_items (failures) == 0)
    g_main_context_iteration (NULL, TRUE);
  item = g_list_model_get_item (failures, 0);
  g_assert_cmpstr (lt_sync_failure_get_object_key (item), ==, "missing/gone.ts");
  g_assert_cmpstr (lt_sync_failure_get_target (item), ==, TARGET);
  g_assert_cmpint (lt_sync_failure_get_kind (item), ==, LT_SYNC_KIND_SLICE);
  g_assert_nonnull (strstr (lt_sync_failure_get_last_error (item), gone));
  g_assert_cmpuint (fx->failing, ==, 0);
  g_hash_table_remove (fx->paths, "missing/gone.ts");
  wait_queue_empty (fx, 30000);
  g_assert_cmpuint (fx->done_order->len, ==, 2);
  assert_all_stored (fx);

  /* Retried with the file back: it goes. */
  g_free (spool_file (fx, "missing/gone.ts", 1000));
  lt_sync_engine_retry_async (fx->engine, lt_sync_failure_get_id (item), NULL,
                              lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_sync_engine_retry_finish (fx->engine, result, &error));
  g_assert_no_error (error);
  finish_and_check (fx, 30000);
  while (g_list_model_get_n_items (failures) != 0)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
has_failure (gpointer data)
{
  return g_list_model_get_n_items (G_LIST_MODEL (data)) > 0;
}

/* A playlist (read whole, not streamed) whose local copy is gone fails for good too, on
 * the first attempt, instead of being retried with backoff. */
static void
test_missing_playlist (Fixture       *fx,
                       gconstpointer  data)
{
  g_autofree char *gone = spool_file (fx, "missing/gone.m3u8", 100);
  GListModel *failures = lt_sync_engine_get_failures (fx->engine);
  g_autoptr(LtSyncFailure) item = NULL;

  g_assert_cmpint (g_unlink (gone), ==, 0);
  g_hash_table_remove (fx->md5s, "missing/gone.m3u8");
  lt_sync_engine_start (fx->engine);
  enqueue (fx, "missing/gone.m3u8", LT_SYNC_KIND_PLAYLIST, 0);
  lt_test_wait_until (has_failure, failures, 30000, "the missing playlist failed");
  item = g_list_model_get_item (failures, 0);
  g_assert_cmpstr (lt_sync_failure_get_object_key (item), ==, "missing/gone.m3u8");
  g_assert_cmpint (lt_sync_failure_get_kind (item), ==, LT_SYNC_KIND_PLAYLIST);
  g_assert_nonnull (strstr (lt_sync_failure_get_last_error (item), gone));
  g_assert_cmpuint (lt_sync_failure_get_attempts (item), ==, 1);
  g_assert_cmpuint (fx->failing, ==, 0);
  g_hash_table_remove (fx->paths, "missing/gone.m3u8");
}

static gboolean
two_parts_stored (gpointer data)
{
  Fixture *fx = data;

  return query_int (fx, "SELECT count(*) FROM upload_parts") >= 2;
}

static void
create_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* A multipart upload stopped after two parts resumes in a new engine without sending the
 * stored parts again; a multipart upload no row owns is aborted at start. */
static void
test_resume (Fixture       *fx,
             gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *orphan = NULL;
  g_autoptr(GPtrArray) uploads = NULL;
  gint64 stored_parts, requests_before, requests_after;
  const guint n_parts = 5;   /* 36 MiB + 1 in 8 MiB parts */

  g_free (spool_file (fx, "resume/big.mp4", 36 * MIB + 1));
  /* An orphan: created behind the engine's back. */
  lt_s3_client_create_multipart_async (fx->client, "resume/orphan.mp4", NULL, NULL, create_cb,
                                       &result);
  lt_test_wait_result (&result);
  orphan = lt_s3_client_create_multipart_finish (fx->client, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  /* Slowly, so that it can be stopped half-way. */
  lt_sync_engine_set_bandwidth_limit (fx->engine, 16 * MIB);
  lt_sync_engine_start (fx->engine);
  enqueue (fx, "resume/big.mp4", LT_SYNC_KIND_FILE, 0);
  g_assert_true (lt_test_iterate_until (two_parts_stored, fx, 60000));
  lt_sync_engine_shutdown (fx->engine);
  /* The cancelled requests hand their references back on the main context. */
  lt_test_spin (500);
  g_assert_finalize_object (g_steal_pointer (&fx->engine));
  stored_parts = query_int (fx, "SELECT count(*) FROM upload_parts");
  g_assert_cmpint (stored_parts, >=, 2);
  g_assert_cmpint (stored_parts, <, n_parts);
  g_assert_cmpint (query_int (fx, "SELECT count(*) FROM upload_outbox WHERE state = 'uploading'"),
                   ==, 0);

  requests_before = lt_test_s3_stat (&strict_server, "requests");
  fx->engine = make_engine (fx, 3);
  lt_sync_engine_start (fx->engine);
  finish_and_check (fx, 60000);
  requests_after = lt_test_s3_stat (&strict_server, "requests");
  /* List uploads, abort the orphan, list parts, the missing parts, complete — and the
   * read-back GET of finish_and_check (after "clear", which does not reset counts). */
  g_assert_cmpint (requests_after - requests_before, <=, 4 + (n_parts - stored_parts) + 1 + 1);

  lt_s3_client_list_multipart_uploads_async (fx->client, NULL, NULL, create_cb, &result);
  lt_test_wait_result (&result);
  uploads = lt_s3_client_list_multipart_uploads_finish (fx->client, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uploads->len, ==, 0);
}

/* A paused target sends nothing, and its figures say so; resumed, everything goes. */
static void
test_pause (Fixture       *fx,
            gconstpointer  data)
{
  g_autoptr(LtSyncTargetStatus) paused = NULL;
  g_autoptr(LtSyncTargetStatus) done = NULL;
  g_auto(GStrv) names = NULL;
  guint changed = 0;

  g_signal_connect_swapped (fx->engine, "changed", G_CALLBACK (g_atomic_int_inc), &changed);
  lt_sync_engine_start (fx->engine);
  lt_sync_engine_pause (fx->engine, TARGET);
  queue_slices (fx, 4, 20 * 1024);
  lt_test_spin (1500);
  g_assert_cmpuint (fx->done_order->len, ==, 0);
  paused = lt_sync_engine_get_target_status (fx->engine, TARGET);
  g_assert_true (paused->paused);
  g_assert_false (paused->failing);
  g_assert_cmpuint (paused->queue_length, ==, 4);
  g_assert_null (paused->current_key);
  names = lt_sync_engine_list_targets (fx->engine);
  g_assert_cmpstr (names[0], ==, TARGET);
  g_assert_null (names[1]);
  g_assert_cmpuint (changed, >, 0);

  lt_sync_engine_resume (fx->engine, TARGET);
  finish_and_check (fx, 30000);
  lt_test_spin (1100);
  done = lt_sync_engine_get_target_status (fx->engine, TARGET);
  g_assert_false (done->paused);
  g_assert_cmpuint (done->queue_length, ==, 0);
  g_assert_cmpuint (done->failures, ==, 0);
  g_assert_cmpfloat (done->throughput, >, 0.0);
}

static void
job_done_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* The recording manager's catalog jobs queue the uploads themselves for an S3 target: every
 * slice, the live playlist, the final playlist and an MP4; the slices' and files' rows
 * become 'uploaded' and their spool copies go (keep 0). */
static void
test_recording_hooks (Fixture       *fx,
                      gconstpointer  data)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(LtRule) rule = NULL;
  g_autoptr(LtSessionRow) row = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LtSecretStore) secrets = NULL;
  g_autoptr(LtStorageTargets) targets = NULL;
  LtRecordingFile playlist = { 0, };
  LtRecordingFile mp4 = { 0, };
  GString *text = g_string_new ("#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n");
  gint64 now = g_get_real_time ();
  gboolean begun = FALSE;

  g_hash_table_insert (params, "DomainName", "sync.example.com");
  g_hash_table_insert (params, "AppName", "app");
  g_hash_table_insert (params, "OssEndpoint", TARGET);
  g_hash_table_insert (params, "OssBucket", BUCKET);
  g_hash_table_insert (params, "RecordFormat.1.Format", "m3u8");
  g_hash_table_insert (params, "RecordFormat.1.SliceDuration", "6");
  {
    g_autoptr(GDateTime) when = g_date_time_new_now_utc ();

    rule = lt_rule_new_from_params (params, when, &error);
  }
  g_assert_no_error (error);

  /* A real storage target this time (the keyring of the test session holds its key), so
   * that OssEndpoint resolves, for the index file below. */
  {
    g_autofree char *root = g_build_filename (fx->dir, "local", NULL);
    g_autoptr(LtStorageTarget) target = NULL;
    g_autoptr(GAsyncResult) result = NULL;

    secrets = lt_secret_store_new (fx->dir);
    targets = lt_storage_targets_new (fx->catalog, secrets, root);
    lt_storage_targets_load_async (targets, NULL, lt_test_store_result_cb, &result);
    lt_test_wait_result (&result);
    g_assert_true (lt_storage_targets_load_finish (targets, result, &error));
    g_clear_object (&result);
    target = lt_storage_target_new_s3 (TARGET, fx->server->endpoint, "us-east-1", BUCKET, TRUE,
                                       fx->server->access_key_id);
    lt_storage_targets_add_async (targets, target, fx->server->secret, NULL,
                                  lt_test_store_result_cb, &result);
    lt_test_wait_result (&result);
    g_assert_true (lt_storage_targets_add_finish (targets, result, &error));
    g_assert_no_error (error);
  }
  lt_sync_engine_shutdown (fx->engine);
  lt_test_spin (100);
  g_assert_finalize_object (g_steal_pointer (&fx->engine));
  /* No preset client: the engine makes its own from the target and the keyring. */
  fx->engine = make_engine_with_targets (fx, 3, G_OBJECT (targets));
  lt_sync_engine_start (fx->engine);
  /* Paused while the slices are catalogued, so that their rows can be looked at. */
  lt_sync_engine_pause (fx->engine, TARGET);
  _lt_index_files_set_sync_engine (fx->catalog, fx->engine);
  row = _lt_session_row_new ("sync.example.com", "app", "s", rule, TARGET, BUCKET);
  _lt_recording_catalog_begin (fx->catalog, row, "auto", NULL, now, job_done_cb, &begun);
  lt_test_wait_for (&begun, 10000);

  playlist.format = LT_RECORD_FORMAT_M3U8;
  playlist.sequence = 1;
  playlist.object_key = "rec/app/s/1.m3u8";
  playlist.path = lt_sync_engine_spool_path (fx->engine, TARGET, BUCKET, playlist.object_key,
                                             &error);
  g_assert_no_error (error);
  playlist.start_time = now;
  _lt_recording_catalog_file_opened (fx->catalog, row, &playlist);

  for (guint i = 0; i < 3; i++)
    {
      LtRecordingSlice slice = { 0, };
      g_autofree char *key = g_strdup_printf ("rec/app/s/1/%u.ts", i);

      slice.format = LT_RECORD_FORMAT_M3U8;
      slice.sequence = i;
      slice.playlist_sequence = 1;
      slice.playlist_path = playlist.path;
      slice.object_key = key;
      slice.path = spool_file (fx, key, 150 * 1024 + i);
      slice.start_time = now + i * 6 * G_USEC_PER_SEC;
      slice.duration = 6 * G_USEC_PER_SEC;
      slice.size = 150 * 1024 + i;
      slice.keyframe = TRUE;
      /* The recorder's MD5 of the slice; the last as after a crash: unknown. */
      slice.md5 = i < 2 ? g_hash_table_lookup (fx->md5s, key) : NULL;
      g_string_append_printf (text, "#EXTINF:6.0,\n1/%u.ts\n", i);
      g_file_set_contents (playlist.path, text->str, -1, &error);
      g_assert_no_error (error);
      _lt_recording_catalog_slice_closed (fx->catalog, row, &slice);
      g_free (slice.path);
    }
  g_string_append (text, "#EXT-X-ENDLIST\n");
  g_file_set_contents (playlist.path, text->str, -1, &error);
  g_assert_no_error (error);
  g_hash_table_replace (fx->md5s, g_strdup (playlist.object_key),
                        g_compute_checksum_for_string (G_CHECKSUM_MD5, text->str, -1));
  g_hash_table_replace (fx->paths, g_strdup (playlist.object_key), g_strdup (playlist.path));
  playlist.end_time = now + 18 * G_USEC_PER_SEC;
  playlist.duration = 18 * G_USEC_PER_SEC;
  playlist.n_slices = 3;
  _lt_recording_catalog_file_closed (fx->catalog, row, &playlist);

  mp4.format = LT_RECORD_FORMAT_MP4;
  mp4.sequence = 1;
  mp4.object_key = "rec/app/s/1.mp4";
  mp4.path = spool_file (fx, mp4.object_key, 3 * MIB + 5);
  mp4.start_time = now;
  _lt_recording_catalog_file_opened (fx->catalog, row, &mp4);
  mp4.end_time = now + 18 * G_USEC_PER_SEC;
  mp4.duration = 18 * G_USEC_PER_SEC;
  mp4.size = 3 * MIB + 5;
  _lt_recording_catalog_file_closed (fx->catalog, row, &mp4);

  /* Queued by the catalog jobs, in their own transactions; each slice's row with the MD5
   * the recorder reported and the size it covers (the slice's own row's size too). */
  g_assert_cmpint (query_int (fx, "SELECT count(*) FROM upload_outbox"), >=, 5);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *key = g_strdup_printf ("rec/app/s/1/%u.ts", i);
      g_autofree char *md5_test = NULL;

      md5_test = i < 2 ? g_strdup_printf ("= '%s'", (const char *) g_hash_table_lookup (fx->md5s, key))
                       : g_strdup ("IS NULL");
      g_assert_cmpint (query_intf (fx, "SELECT count(*) FROM upload_outbox o JOIN slices s "
                                   "ON s.id = o.source_id WHERE o.kind = 'slice' "
                                   "AND o.object_key = '%s' AND o.state = 'pending' "
                                   "AND o.content_md5 %s AND o.size = %u AND s.size = %u",
                                   key, md5_test, 150 * 1024 + i, 150 * 1024 + i), ==, 1);
    }
  lt_sync_engine_resume (fx->engine, TARGET);
  lt_sync_engine_kick (fx->engine);
  wait_queue_empty (fx, 60000);
  g_assert_cmpint (query_int (fx, "SELECT count(*) FROM upload_outbox WHERE state = 'failed'"),
                   ==, 0);
  /* Every spool copy goes, the final playlist's too. */
  while (g_file_test (playlist.path, G_FILE_TEST_EXISTS) || !spool_empty (fx))
    g_main_context_iteration (NULL, TRUE);
  assert_all_stored (fx);
  g_assert_cmpint (query_int (fx, "SELECT count(*) FROM slices WHERE state = 'uploaded' "
                                  "AND local_path IS NULL"), ==, 3);
  g_assert_cmpint (query_int (fx, "SELECT count(*) FROM recording_files "
                                  "WHERE state = 'uploaded' AND local_path IS NULL"), ==, 2);
  /* Every version of the playlist names at least the first slice. */
  g_assert_cmpuint (index_of (fx->done_order, "rec/app/s/1/0.ts"), <,
                    index_of (fx->done_order, playlist.object_key));
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *key = g_strdup_printf ("rec/app/s/1/%u.ts", i);

      g_assert_cmpuint (index_of (fx->done_order, key), <,
                        last_index_of (fx->done_order, playlist.object_key));
    }

  /* An index file over the slices, to the same S3 target: spooled, queued, uploaded; its
   * slice URIs are relative (the same bucket), its URL the object's. */
  {
    LtIndexFileRequest request = { 0, };
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(LtIndexFile) index = NULL;
    g_autoptr(LtS3Client) reader = lt_test_s3_make_client (fx->server, NULL, NULL, CONNECTIONS, 30);
    g_autofree char *dest_path = g_build_filename (fx->dir, "index-readback", NULL);
    g_autoptr(GFile) dest = g_file_new_for_path (dest_path);
    g_autofree char *prefix = g_strdup_printf ("%s/%s/", fx->server->endpoint, BUCKET);
    g_autofree char *etag = NULL;
    g_autofree char *contents = NULL;

    request.domain = "sync.example.com";
    request.app = "app";
    request.stream = "s";
    request.start_time = now / G_USEC_PER_SEC;
    request.end_time = now / G_USEC_PER_SEC + 30;
    request.endpoint = TARGET;
    request.bucket = BUCKET;
    request.object_template = "rec/app/s/index";
    lt_index_files_create_async (fx->catalog, "/nonexistent", &request, NULL,
                                 lt_test_store_result_cb, &result);
    lt_test_wait_result (&result);
    index = lt_index_files_create_finish (fx->catalog, result, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (index->endpoint, ==, TARGET);
    g_assert_cmpstr (index->object_key, ==, "rec/app/s/index.m3u8");
    g_assert_true (g_str_has_prefix (index->url, prefix));
    g_assert_true (g_str_has_suffix (index->url, "rec/app/s/index.m3u8"));
    lt_sync_engine_kick (fx->engine);
    wait_queue_empty (fx, 30000);
    g_clear_object (&result);
    lt_s3_client_get_object_async (reader, "rec/app/s/index.m3u8", dest, NULL, get_cb, &result);
    lt_test_wait_result (&result);
    etag = lt_s3_client_get_object_finish (reader, result, &error);
    g_assert_no_error (error);
    g_file_get_contents (dest_path, &contents, NULL, &error);
    g_assert_no_error (error);
    g_assert_nonnull (strstr (contents, "\n1/0.ts\n"));
    g_assert_nonnull (strstr (contents, "#EXT-X-ENDLIST"));
  }

  /* The same slices from an index file of the local target: they live in S3 (their spool
   * copies are gone), so the playlist names their objects' URLs, which serve them. */
  {
    LtIndexFileRequest request = { 0, };
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(LtIndexFile) index = NULL;
    g_autofree char *local_root = g_build_filename (fx->dir, "local-root", NULL);
    g_autofree char *contents = NULL;
    g_autofree char *first = g_strdup_printf ("\n%s/%s/rec/app/s/1/0.ts\n",
                                              fx->server->endpoint, BUCKET);
    g_autofree char *last = g_strdup_printf ("\n%s/%s/rec/app/s/1/2.ts\n",
                                             fx->server->endpoint, BUCKET);

    request.domain = "sync.example.com";
    request.app = "app";
    request.stream = "s";
    request.start_time = now / G_USEC_PER_SEC;
    request.end_time = now / G_USEC_PER_SEC + 30;
    request.endpoint = "local";
    request.bucket = "elsewhere";
    request.object_template = "index/s";
    lt_index_files_create_async (fx->catalog, local_root, &request, NULL,
                                 lt_test_store_result_cb, &result);
    lt_test_wait_result (&result);
    index = lt_index_files_create_finish (fx->catalog, result, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (index->endpoint, ==, "local");
    g_file_get_contents (index->local_path, &contents, NULL, &error);
    g_assert_no_error (error);
    g_assert_nonnull (strstr (contents, first));
    g_assert_nonnull (strstr (contents, last));
    g_assert_null (strstr (contents, "file://"));
  }
  _lt_index_files_set_sync_engine (fx->catalog, NULL);
  g_free (playlist.path);
  g_free (mp4.path);
  g_string_free (text, TRUE);
}

int
main (int    argc,
      char **argv)
{
  LtTestS3Server *servers[] = { &s3rver_server, &strict_server };
  int status;

  lt_test_init (&argc, &argv);
  lt_test_s3_server_start (&strict_server);
  lt_test_s3_server_start (&s3rver_server);

  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    {
      g_autofree char *basic = g_strdup_printf ("/sync/%s/basic", servers[i]->name);
      g_autofree char *missing = g_strdup_printf ("/sync/%s/missing-file", servers[i]->name);

      g_test_add (basic, Fixture, servers[i], fixture_setup, test_basic, fixture_teardown);
      g_test_add (missing, Fixture, servers[i], fixture_setup, test_missing_file,
                  fixture_teardown);
    }
  g_test_add ("/sync/strict/storm", Fixture, &strict_server, fixture_setup, test_storm,
              fixture_teardown);
  g_test_add ("/sync/strict/hang", Fixture, &strict_server, fixture_setup, test_hang,
              fixture_teardown);
  g_test_add ("/sync/strict/recorded-md5", Fixture, &strict_server, fixture_setup,
              test_recorded_md5, fixture_teardown);
  g_test_add ("/sync/s3rver/recorded-md5", Fixture, &s3rver_server, fixture_setup,
              test_recorded_md5, fixture_teardown);
  g_test_add ("/sync/strict/recorded-part-md5s", Fixture, &strict_server, fixture_setup,
              test_recorded_part_md5s, fixture_teardown);
  g_test_add ("/sync/strict/wrong-etag", Fixture, &strict_server, fixture_setup,
              test_wrong_etag, fixture_teardown);
  g_test_add ("/sync/strict/skew", Fixture, &strict_server, fixture_setup, test_skew,
              fixture_teardown);
  g_test_add ("/sync/strict/denied", Fixture, &strict_server, fixture_setup, test_denied,
              fixture_teardown);
  g_test_add ("/sync/strict/resume", Fixture, &strict_server, fixture_setup, test_resume,
              fixture_teardown);
  g_test_add ("/sync/strict/recording-hooks", Fixture, &strict_server, fixture_setup,
              test_recording_hooks, fixture_teardown);
  g_test_add ("/sync/strict/pause", Fixture, &strict_server, fixture_setup, test_pause,
              fixture_teardown);
  g_test_add ("/sync/strict/missing-playlist", Fixture, &strict_server, fixture_setup,
              test_missing_playlist, fixture_teardown);

  status = g_test_run ();

  lt_test_s3_server_stop (&s3rver_server);
  lt_test_s3_server_stop (&strict_server);
  return status;
}
