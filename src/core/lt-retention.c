/* lt-retention.c: retention (SPEC 5) — drops old slice and index-file records from the
 * catalog, and, only when the operator's spool retention says so, deletes the local copies
 * of recordings whose data is stored.
 *
 * A pass is a chain of small durable catalog jobs (at most BATCH_ROWS rows each, one
 * transaction each), queued one after the other from the caller's main context: other
 * catalog work (recording rows, API queries) runs between two batches, so a pass over
 * millions of rows never holds the recorder up. Each job works on one stream through the
 * per-stream time indexes (slices_stream_time, index_files_stream_create,
 * recording_files_stream_time) and resumes from a cursor.
 *
 * Conservative by design: a slice of an open session (recording or paused), and anything
 * whose local file an upload_outbox row not yet done still names, is never touched; a file
 * is deleted only when its canonical parent directory lies under the canonical local root
 * and the name is a regular file there (not a symlink), through the directory's fd.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "lt-retention.h"

#define BATCH_ROWS  2000
#define DAY_US      (24 * G_TIME_SPAN_HOUR)

typedef enum
{
  PHASE_SPOOL_SLICES,   /* local files of old slices (spool_days > 0) */
  PHASE_SPOOL_FILES,    /* local files of old recording files (spool_days > 0) */
  PHASE_SLICES,         /* slice records (slice_days > 0) */
  PHASE_INDEX_FILES,    /* index-file records (index_days > 0) */
  PHASE_DONE,
} Phase;

/* One pass: owned by the main-context side, read by the jobs (one at a time). */
typedef struct
{
  gint64             now_us;
  guint              slice_days;
  guint              index_days;
  guint              spool_days;
  char              *local_root;     /* canonical after the first job, or NULL: no file
                                      * is deleted */

  GArray            *stream_ids;     /* gint64, loaded by the first job */
  gboolean           streams_loaded;
  Phase              phase;
  guint              stream_index;
  gint64             cursor_us;      /* resume at start_time_us >= this … */
  gint64             cursor_id;      /* … skipping ids <= this at exactly cursor_us */

  LtRetentionResult  result;
} Pass;

static void
pass_free (gpointer data)
{
  Pass *pass = data;

  g_free (pass->local_root);
  g_clear_pointer (&pass->stream_ids, g_array_unref);
  g_free (pass);
}

/* Helpers on the worker ------------------------------------------------------------------ */

/* The ids of the sessions still open (recording or paused): few, from sessions_unfinished. */
static GHashTable *
load_open_sessions (sqlite3  *db,
                    GError  **error)
{
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  GError *local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, "SELECT id FROM sessions WHERE state IN ('recording', 'paused')",
                          error);
  if (stmt == NULL)
    return NULL;
  while (lt_catalog_next_row (stmt, &local_error))
    {
      gint64 *id = g_new (gint64, 1);

      *id = sqlite3_column_int64 (stmt, 0);
      g_hash_table_add (ids, id);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  return g_steal_pointer (&ids);
}

/* The local paths and object keys that an upload not yet done (pending, uploading, or
 * failed and waiting for a retry) still needs: from upload_outbox_due (state first). */
static GHashTable *
load_pending_uploads (sqlite3  *db,
                      GError  **error)
{
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GError *local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "SELECT local_path, target || '\n' || bucket || '\n' || object_key "
                          "FROM upload_outbox WHERE state IN ('pending', 'uploading', 'failed')",
                          error);
  if (stmt == NULL)
    return NULL;
  while (lt_catalog_next_row (stmt, &local_error))
    {
      g_hash_table_add (names, lt_catalog_column_dup (stmt, 0));
      g_hash_table_add (names, lt_catalog_column_dup (stmt, 1));
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  return g_steal_pointer (&names);
}

static gboolean
upload_pending (GHashTable *pending,
                const char *local_path,
                const char *target,
                const char *bucket,
                const char *object_key)
{
  g_autofree char *key = NULL;

  if (g_hash_table_size (pending) == 0)
    return FALSE;
  if (local_path != NULL && g_hash_table_contains (pending, local_path))
    return TRUE;
  if (target == NULL || bucket == NULL || object_key == NULL)
    return FALSE;
  key = g_strconcat (target, "\n", bucket, "\n", object_key, NULL);
  return g_hash_table_contains (pending, key);
}

typedef enum
{
  FILE_KEPT,      /* not ours to delete, or deleting failed: the record keeps its path */
  FILE_DELETED,
  FILE_MISSING,   /* already gone from its place under the root */
} FileOutcome;

/* Deletes @path if, and only if, its canonical parent directory is @root or below it and
 * the name there is a regular file (a symlink is left alone, wherever it points). Relative
 * paths are taken from @root. */
static FileOutcome
delete_spool_file (const char *root,
                   const char *path)
{
  g_autofree char *full = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *base = NULL;
  char *canonical;
  gsize root_len = strlen (root);
  struct stat st;
  int dir_fd;
  gboolean inside;
  FileOutcome outcome = FILE_KEPT;

  full = g_path_is_absolute (path) ? g_strdup (path) : g_build_filename (root, path, NULL);
  parent = g_path_get_dirname (full);
  base = g_path_get_basename (full);
  if (g_str_equal (base, ".") || g_str_equal (base, "..") || g_str_equal (base, G_DIR_SEPARATOR_S))
    return FILE_KEPT;

  /* A folder that is gone cannot be checked: the record keeps its path. */
  canonical = realpath (parent, NULL);
  if (canonical == NULL)
    return FILE_KEPT;
  inside = strncmp (canonical, root, root_len) == 0 &&
           (canonical[root_len] == '\0' || canonical[root_len] == '/' ||
            g_str_equal (root, "/"));
  if (!inside)
    {
      g_debug ("Retention: not deleting %s, outside %s", full, root);
      free (canonical);
      return FILE_KEPT;
    }

  dir_fd = open (canonical, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  free (canonical);
  if (dir_fd < 0)
    return FILE_KEPT;
  if (fstatat (dir_fd, base, &st, AT_SYMLINK_NOFOLLOW) != 0)
    outcome = errno == ENOENT ? FILE_MISSING : FILE_KEPT;
  else if (!S_ISREG (st.st_mode))
    g_debug ("Retention: not deleting %s, not a regular file", full);
  else if (unlinkat (dir_fd, base, 0) == 0)
    outcome = FILE_DELETED;
  else if (errno == ENOENT)
    outcome = FILE_MISSING;
  close (dir_fd);
  return outcome;
}

static gboolean
load_streams (sqlite3  *db,
              Pass     *pass,
              GError  **error)
{
  GError *local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, "SELECT id FROM streams ORDER BY id", error);
  if (stmt == NULL)
    return FALSE;
  while (lt_catalog_next_row (stmt, &local_error))
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (pass->stream_ids, id);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  pass->streams_loaded = TRUE;
  return TRUE;
}

/* From pass->phase on to the first phase the policy asks for (PHASE_DONE if none). */
static void
skip_idle_phases (Pass *pass)
{
  gboolean spool = pass->spool_days > 0 && pass->local_root != NULL;

  while ((pass->phase == PHASE_SPOOL_SLICES && !spool) ||
         (pass->phase == PHASE_SPOOL_FILES && !spool) ||
         (pass->phase == PHASE_SLICES && pass->slice_days == 0) ||
         (pass->phase == PHASE_INDEX_FILES && pass->index_days == 0))
    pass->phase++;
}

/* On to the next stream, or the next phase after the last one. */
static void
next_stream (Pass *pass)
{
  pass->cursor_us = G_MININT64;
  pass->cursor_id = 0;
  if (++pass->stream_index < pass->stream_ids->len)
    return;

  pass->stream_index = 0;
  pass->phase++;
  skip_idle_phases (pass);
}

/* Slices: the spool files, or the records ------------------------------------------------- */

/* Runs @sql (one parameter: the row id) for each id in @ids. */
static gboolean
forget_rows (sqlite3     *db,
             const char  *sql,
             GArray      *ids,
             GError     **error)
{
  sqlite3_stmt *stmt = lt_catalog_stmt (db, sql, error);

  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < ids->len; i++)
    {
      sqlite3_bind_int64 (stmt, 1, g_array_index (ids, gint64, i));
      if (!lt_catalog_step_done (stmt, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
batch_slices (sqlite3  *db,
              Pass     *pass,
              gint64    stream_id,
              gboolean  records,
              GError  **error)
{
  g_autoptr(GHashTable) open_sessions = NULL;
  g_autoptr(GHashTable) pending = NULL;
  g_autoptr(GArray) forget = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 cutoff = pass->now_us - (gint64) (records ? pass->slice_days : pass->spool_days) * DAY_US;
  gint64 spool_cutoff = pass->now_us - (gint64) pass->spool_days * DAY_US;
  gboolean spool = pass->spool_days > 0 && pass->local_root != NULL;
  guint n_rows = 0;
  sqlite3_stmt *stmt;
  GError *local_error = NULL;

  open_sessions = load_open_sessions (db, error);
  if (open_sessions == NULL)
    return FALSE;
  pending = load_pending_uploads (db, error);
  if (pending == NULL)
    return FALSE;

  if (!lt_catalog_begin (db, error))
    return FALSE;

  /* In time order through slices_stream_time; a slice ending before the cutoff starts
   * before it. */
  stmt = lt_catalog_stmt (db,
                          "SELECT id, start_time_us, duration_us, session_id, state, local_path, "
                          "target, bucket, object_key FROM slices INDEXED BY slices_stream_time "
                          "WHERE stream_id = ?1 AND start_time_us >= ?2 AND start_time_us < ?3 "
                          "ORDER BY start_time_us, id LIMIT ?4",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, stream_id);
  sqlite3_bind_int64 (stmt, 2, pass->cursor_us);
  sqlite3_bind_int64 (stmt, 3, cutoff);
  sqlite3_bind_int64 (stmt, 4, BATCH_ROWS);
  while (lt_catalog_next_row (stmt, &local_error))
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      gint64 start = sqlite3_column_int64 (stmt, 1);
      gint64 end = start + sqlite3_column_int64 (stmt, 2);
      gint64 session_id = sqlite3_column_int64 (stmt, 3);
      const char *state = (const char *) sqlite3_column_text (stmt, 4);
      const char *local_path = (const char *) sqlite3_column_text (stmt, 5);
      gboolean stored = g_strcmp0 (state, "closed") == 0 || g_strcmp0 (state, "uploaded") == 0;

      n_rows++;
      if (start == pass->cursor_us && id <= pass->cursor_id)
        continue;
      pass->cursor_us = start;
      pass->cursor_id = id;

      if (end >= cutoff || g_hash_table_contains (open_sessions, &session_id) ||
          upload_pending (pending, local_path, (const char *) sqlite3_column_text (stmt, 6),
                          (const char *) sqlite3_column_text (stmt, 7),
                          (const char *) sqlite3_column_text (stmt, 8)))
        continue;

      /* The file goes when the spool retention says so and its data is stored (a lost or
       * open slice's file is left for recovery or the operator). Spool pass: a record
       * whose file could not be deleted keeps its path. Record pass: the record goes
       * anyway (catalog retention does not depend on the files), its file too if the
       * spool retention allows — so a spool retention longer than the records' does not
       * leave files behind that nothing remembers. */
      if (local_path != NULL && spool && stored && end < spool_cutoff)
        {
          FileOutcome outcome = delete_spool_file (pass->local_root, local_path);

          if (outcome == FILE_DELETED)
            pass->result.files_deleted++;
          if (outcome != FILE_KEPT && !records)
            g_array_append_val (forget, id);
        }
      if (records)
        g_array_append_val (forget, id);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      goto fail;
    }

  if (!forget_rows (db, records ? "DELETE FROM slices WHERE id = ?1"
                                 : "UPDATE slices SET local_path = NULL WHERE id = ?1",
                    forget, error))
    goto fail;
  if (!lt_catalog_commit (db, error))
    return FALSE;
  if (records)
    pass->result.slices_dropped += forget->len;

  if (n_rows < BATCH_ROWS)
    next_stream (pass);
  return TRUE;

fail:
  lt_catalog_rollback (db);
  return FALSE;
}

/* Recording files' spool copies: few rows per stream, one batch. */
static gboolean
batch_spool_files (sqlite3  *db,
                   Pass     *pass,
                   gint64    stream_id,
                   GError  **error)
{
  g_autoptr(GHashTable) open_sessions = NULL;
  g_autoptr(GHashTable) pending = NULL;
  g_autoptr(GArray) forget = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 cutoff = pass->now_us - (gint64) pass->spool_days * DAY_US;
  guint n_rows = 0;
  sqlite3_stmt *stmt;
  GError *local_error = NULL;

  open_sessions = load_open_sessions (db, error);
  if (open_sessions == NULL)
    return FALSE;
  pending = load_pending_uploads (db, error);
  if (pending == NULL)
    return FALSE;
  if (!lt_catalog_begin (db, error))
    return FALSE;

  stmt = lt_catalog_stmt (db,
                          "SELECT id, start_time_us, session_id, local_path, target, bucket, "
                          "object_key FROM recording_files INDEXED BY recording_files_stream_time "
                          "WHERE stream_id = ?1 AND start_time_us >= ?2 AND start_time_us < ?3 "
                          "AND local_path IS NOT NULL AND state IN ('closed', 'uploaded') "
                          "AND end_time_us IS NOT NULL AND end_time_us < ?3 "
                          "ORDER BY start_time_us, id LIMIT ?4",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, stream_id);
  sqlite3_bind_int64 (stmt, 2, pass->cursor_us);
  sqlite3_bind_int64 (stmt, 3, cutoff);
  sqlite3_bind_int64 (stmt, 4, BATCH_ROWS);
  while (lt_catalog_next_row (stmt, &local_error))
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      gint64 start = sqlite3_column_int64 (stmt, 1);
      gint64 session_id = sqlite3_column_int64 (stmt, 2);
      const char *local_path = (const char *) sqlite3_column_text (stmt, 3);

      n_rows++;
      if (start == pass->cursor_us && id <= pass->cursor_id)
        continue;
      pass->cursor_us = start;
      pass->cursor_id = id;
      if (g_hash_table_contains (open_sessions, &session_id) ||
          upload_pending (pending, local_path, (const char *) sqlite3_column_text (stmt, 4),
                          (const char *) sqlite3_column_text (stmt, 5),
                          (const char *) sqlite3_column_text (stmt, 6)))
        continue;
      switch (delete_spool_file (pass->local_root, local_path))
        {
        case FILE_DELETED:
          pass->result.files_deleted++;
          G_GNUC_FALLTHROUGH;
        case FILE_MISSING:
          g_array_append_val (forget, id);
          break;
        case FILE_KEPT:
        default:
          break;
        }
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      goto fail;
    }

  if (!forget_rows (db, "UPDATE recording_files SET local_path = NULL WHERE id = ?1", forget,
                    error))
    goto fail;
  if (!lt_catalog_commit (db, error))
    return FALSE;
  if (n_rows < BATCH_ROWS)
    next_stream (pass);
  return TRUE;

fail:
  lt_catalog_rollback (db);
  return FALSE;
}

/* Index-file records (the playlists themselves stay: they are the user's files). */
static gboolean
batch_index_files (sqlite3  *db,
                   Pass     *pass,
                   gint64    stream_id,
                   GError  **error)
{
  gint64 cutoff = (pass->now_us - (gint64) pass->index_days * DAY_US) / G_USEC_PER_SEC;
  sqlite3_stmt *stmt;
  guint n_changes;

  if (!lt_catalog_begin (db, error))
    return FALSE;
  stmt = lt_catalog_stmt (db,
                          "DELETE FROM index_files WHERE rowid IN (SELECT rowid FROM index_files "
                          "WHERE stream_id = ?1 AND create_time < ?2 LIMIT ?3)",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, stream_id);
  sqlite3_bind_int64 (stmt, 2, cutoff);
  sqlite3_bind_int64 (stmt, 3, BATCH_ROWS);
  if (!lt_catalog_step_done (stmt, error))
    goto fail;
  n_changes = (guint) sqlite3_changes (db);
  if (!lt_catalog_commit (db, error))
    return FALSE;
  pass->result.index_files_dropped += n_changes;
  if (n_changes < BATCH_ROWS)
    next_stream (pass);
  return TRUE;

fail:
  lt_catalog_rollback (db);
  return FALSE;
}

/* One batch of the pass: TRUE when it did its work (the pass may be done then). */
static gpointer
batch_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  Pass *pass = data;
  gint64 stream_id;

  if (!pass->streams_loaded)
    {
      if (!load_streams (db, pass, error))
        return NULL;
      /* On the worker, not the caller's main context: realpath() touches the disk. A
       * root that does not exist has no files to delete. */
      if (pass->local_root != NULL)
        {
          char *canonical = realpath (pass->local_root, NULL);

          g_free (pass->local_root);
          pass->local_root = canonical != NULL ? g_strdup (canonical) : NULL;
          free (canonical);
        }
      pass->stream_index = 0;
      pass->cursor_us = G_MININT64;
      pass->cursor_id = 0;
      pass->phase = pass->stream_ids->len == 0 ? PHASE_DONE : PHASE_SPOOL_SLICES;
      skip_idle_phases (pass);
      return GINT_TO_POINTER (TRUE);
    }

  if (pass->phase == PHASE_DONE)
    return GINT_TO_POINTER (TRUE);

  stream_id = g_array_index (pass->stream_ids, gint64, pass->stream_index);
  switch (pass->phase)
    {
    case PHASE_SPOOL_SLICES:
      if (!batch_slices (db, pass, stream_id, FALSE, error))
        return NULL;
      break;
    case PHASE_SPOOL_FILES:
      if (!batch_spool_files (db, pass, stream_id, error))
        return NULL;
      break;
    case PHASE_SLICES:
      if (!batch_slices (db, pass, stream_id, TRUE, error))
        return NULL;
      break;
    case PHASE_INDEX_FILES:
      if (!batch_index_files (db, pass, stream_id, error))
        return NULL;
      break;
    case PHASE_DONE:
    default:
      g_assert_not_reached ();
    }
  return GINT_TO_POINTER (TRUE);
}

/* The chain on the caller's main context ------------------------------------------------ */

static void run_batch (GTask *task);

static void
batch_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  Pass *pass = g_task_get_task_data (task);

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, _("Retention failed: "));
      g_task_return_error (task, error);
      return;
    }
  if (pass->phase == PHASE_DONE)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  run_batch (g_steal_pointer (&task));
}

/* Takes @task. */
static void
run_batch (GTask *task)
{
  LtCatalog *catalog = g_task_get_source_object (task);

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  /* The pass is the task's data: the job reads and moves it on the worker while this side
   * waits; the next batch is queued only after the previous one completed. */
  lt_catalog_run_durable_async (catalog, batch_job, g_task_get_task_data (task), NULL, NULL,
                                g_task_get_cancellable (task), batch_done_cb, task);
}

void
lt_retention_run_async (LtCatalog               *catalog,
                        const LtRetentionPolicy *policy,
                        GCancellable            *cancellable,
                        GAsyncReadyCallback      callback,
                        gpointer                 user_data)
{
  GTask *task;
  Pass *pass;

  g_return_if_fail (LT_IS_CATALOG (catalog));
  g_return_if_fail (policy != NULL);

  task = g_task_new (catalog, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_retention_run_async);

  pass = g_new0 (Pass, 1);
  pass->now_us = policy->now_us != 0 ? policy->now_us : g_get_real_time ();
  pass->slice_days = policy->slice_days;
  pass->index_days = policy->index_days;
  pass->spool_days = policy->spool_days;
  /* Made canonical by the first job. */
  if (policy->spool_days > 0)
    pass->local_root = g_strdup (policy->local_root);
  pass->stream_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_task_set_task_data (task, pass, pass_free);

  run_batch (task);
}

gboolean
lt_retention_run_finish (LtCatalog          *catalog,
                         GAsyncResult       *result,
                         LtRetentionResult  *out_result,
                         GError            **error)
{
  Pass *pass;

  g_return_val_if_fail (g_task_is_valid (result, catalog), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lt_retention_run_async,
                        FALSE);

  pass = g_task_get_task_data (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (out_result != NULL)
    *out_result = pass->result;
  return TRUE;
}
