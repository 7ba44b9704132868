/* lt-recording-catalog.c: the catalog rows of recording sessions (SPEC section 3) and the
 * recovery of what a crash left behind.
 *
 * The recorder reports files and slices on the main context; each report becomes one job
 * on the catalog worker, queued in order. A job that fails is logged and kept in the
 * catalog's event log: it never stops a recording (the files on disk are the truth, and
 * recovery catalogues what a playlist names but the catalog lacks).
 *
 * Recovery (a job, on the worker, before any new session starts): every recording file
 * still 'open' belonged to a Livetape that died. A playlist is read back, every slice it
 * names that the catalog lacks is added (the slice files are complete: the recorder
 * writes a slice into its playlist only once it is closed and durable), ENDLIST is
 * written and the playlist gets its final name. MP4 and FLV files are cut back to their
 * last complete fragment or tag, given their durations (lt_recorder_repair_file()) and
 * renamed. When the open file is gone, the crash came after the recorder renamed it but
 * before its row was updated: the final file is found by its name's stable prefix.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lt-catalog-private.h"
#include "lt-playlist.h"
#include "lt-recorder-private.h"
#include "lt-recording-catalog.h"
#include "lt-storage.h"
#include "lt-sync-engine.h"
#include "lt-template.h"

/* A recording file this small that cannot be repaired never got its first fragment. */
#define EMPTY_FILE_MAX_BYTES (64 * 1024)

struct _LtSessionRow
{
  gatomicrefcount ref_count;

  /* Set at creation, read-only after. */
  char   *domain;
  char   *app;
  char   *stream;
  char   *rule_domain;
  char   *rule_app;
  char   *rule_stream;
  char   *rule_json;
  char   *target;
  char   *bucket;

  /* Written by the begin job on the worker. */
  gint64  id;
  gint64  stream_id;
};

LtSessionRow *
_lt_session_row_new (const char *domain,
                     const char *app,
                     const char *stream,
                     LtRule     *rule,
                     const char *target,
                     const char *bucket)
{
  LtSessionRow *row = g_new0 (LtSessionRow, 1);
  g_autoptr(JsonNode) node = lt_rule_to_json (rule);

  g_atomic_ref_count_init (&row->ref_count);
  row->domain = g_strdup (domain);
  row->app = g_strdup (app);
  row->stream = g_strdup (stream);
  row->rule_domain = g_strdup (lt_rule_get_domain_name (rule));
  row->rule_app = g_strdup (lt_rule_get_app_name (rule));
  row->rule_stream = g_strdup (lt_rule_get_stream_name (rule));
  row->rule_json = json_to_string (node, FALSE);
  row->target = g_strdup (target);
  row->bucket = g_strdup (bucket);
  return row;
}

LtSessionRow *
_lt_session_row_ref (LtSessionRow *row)
{
  g_atomic_ref_count_inc (&row->ref_count);
  return row;
}

void
_lt_session_row_unref (LtSessionRow *row)
{
  if (!g_atomic_ref_count_dec (&row->ref_count))
    return;
  g_free (row->domain);
  g_free (row->app);
  g_free (row->stream);
  g_free (row->rule_domain);
  g_free (row->rule_app);
  g_free (row->rule_stream);
  g_free (row->rule_json);
  g_free (row->target);
  g_free (row->bucket);
  g_free (row);
}

gint64
_lt_session_row_get_id (LtSessionRow *row)
{
  return row->id;
}

char *
_lt_recording_sequence_key (const char *rule_domain,
                            const char *rule_app,
                            const char *rule_stream,
                            const char *format)
{
  g_autofree char *domain = g_ascii_strdown (rule_domain, -1);

  /* \x1f cannot be part of a name (control characters are refused). */
  return g_strdup_printf ("%s\x1f%s\x1f%s\x1f%s", domain, rule_app, rule_stream, format);
}

/* ---- binding helpers ---- */

/* 0 is stored as NULL: width, height of a stream without video. */
static void
bind_positive (sqlite3_stmt *stmt,
               int           index,
               gint64        value)
{
  if (value > 0)
    sqlite3_bind_int64 (stmt, index, value);
  else
    sqlite3_bind_null (stmt, index);
}

/* ---- running jobs ---- */

typedef struct
{
  LtSessionRow      *row;
  gpointer           payload;
  GDestroyNotify     payload_free;
  char              *what;            /* for the log, e.g. "slice …" */
  LtRecordingJobDone done;
  gpointer           done_data;
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;

  g_clear_pointer (&job->row, _lt_session_row_unref);
  if (job->payload_free != NULL)
    g_clear_pointer (&job->payload, job->payload_free);
  g_free (job->what);
  g_free (job);
}

static void
job_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL &&
      !g_error_matches (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CLOSED))
    {
      /* Not fatal: the files are on disk and recovery catalogues what a playlist names. */
      g_message ("Cannot record %s in the catalog: %s", job->what, error->message);
      lt_catalog_add_event_async (LT_CATALOG (source), "recording-catalog-error",
                                  job->what, error->message, NULL, NULL, NULL);
    }
  if (job->done != NULL)
    job->done (job->done_data);
  job_free (job);
}

static void
queue_job (LtCatalog          *catalog,
           LtCatalogJobFunc    func,
           LtSessionRow       *row,
           gpointer            payload,
           GDestroyNotify      payload_free,
           char               *what,
           LtRecordingJobDone  done,
           gpointer            done_data)
{
  Job *job = g_new0 (Job, 1);

  job->row = _lt_session_row_ref (row);
  job->payload = payload;
  job->payload_free = payload_free;
  job->what = what;
  job->done = done;
  job->done_data = done_data;
  /* The job data is freed in job_done_cb, which always runs (also after close). */
  lt_catalog_run_async (catalog, func, job, NULL, NULL, NULL, job_done_cb, job);
}

/* A job whose session never got its row (the begin job failed) has nothing to attach to. */
static gboolean
check_row (Job     *job,
           GError **error)
{
  if (job->row->id > 0)
    return TRUE;
  g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_NOT_FOUND,
               "the session of %s/%s/%s has no catalog row",
               job->row->domain, job->row->app, job->row->stream);
  return FALSE;
}

/* ---- sessions ---- */

typedef struct
{
  char   *trigger;
  char   *push_args;
  gint64  started_at_us;
} BeginData;

static void
begin_data_free (gpointer data)
{
  BeginData *bd = data;

  g_free (bd->trigger);
  g_free (bd->push_args);
  g_free (bd);
}

static gpointer
begin_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  Job *job = data;
  BeginData *bd = job->payload;
  LtSessionRow *row = job->row;
  sqlite3_stmt *stmt;

  if (!lt_catalog_begin (db, error))
    return NULL;

  stmt = lt_catalog_stmt (db,
                          "INSERT INTO streams (domain, app, stream, first_seen, last_seen) "
                          "VALUES (?1, ?2, ?3, ?4, ?4) "
                          "ON CONFLICT (domain, app, stream) DO UPDATE SET "
                          "last_seen = excluded.last_seen RETURNING id",
                          error);
  if (stmt == NULL)
    goto fail;
  lt_catalog_bind_text (stmt, 1, row->domain, NULL);
  lt_catalog_bind_text (stmt, 2, row->app, NULL);
  lt_catalog_bind_text (stmt, 3, row->stream, NULL);
  sqlite3_bind_int64 (stmt, 4, bd->started_at_us / G_USEC_PER_SEC);
  if (!lt_catalog_next_row (stmt, error))
    goto fail;
  row->stream_id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);

  stmt = lt_catalog_stmt (db,
                          "INSERT INTO sessions (stream_id, rule_json, trigger_kind, push_args, "
                          "state, started_at_us) VALUES (?1, ?2, ?3, ?4, 'recording', ?5)",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, row->stream_id);
  lt_catalog_bind_text (stmt, 2, row->rule_json, NULL);
  lt_catalog_bind_text (stmt, 3, bd->trigger, NULL);
  lt_catalog_bind_text (stmt, 4, bd->push_args, NULL);
  sqlite3_bind_int64 (stmt, 5, bd->started_at_us);
  if (!lt_catalog_step_done (stmt, error))
    goto fail;
  row->id = sqlite3_last_insert_rowid (db);

  if (!lt_catalog_commit (db, error))
    {
      row->id = 0;
      return NULL;
    }
  return GINT_TO_POINTER (TRUE);

fail:
  lt_catalog_rollback (db);
  return NULL;
}

static char *
push_args_to_json (GHashTable *args)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  GHashTableIter iter;
  gpointer key, value;

  json_builder_begin_object (builder);
  if (args != NULL)
    {
      g_hash_table_iter_init (&iter, args);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          json_builder_set_member_name (builder, key);
          json_builder_add_string_value (builder, value != NULL ? value : "");
        }
    }
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  return json_to_string (node, FALSE);
}

void
_lt_recording_catalog_begin (LtCatalog          *catalog,
                             LtSessionRow       *row,
                             const char         *trigger,
                             GHashTable         *push_args,
                             gint64              started_at_us,
                             LtRecordingJobDone  done,
                             gpointer            user_data)
{
  BeginData *bd = g_new0 (BeginData, 1);

  bd->trigger = g_strdup (trigger);
  bd->push_args = push_args_to_json (push_args);
  bd->started_at_us = started_at_us;
  queue_job (catalog, begin_job, row, bd, begin_data_free,
             g_strdup_printf ("the session of %s/%s/%s", row->domain, row->app, row->stream),
             done, user_data);
}

typedef struct
{
  gint64    at_us;
  gboolean  failed;
  char     *reason;
} StateData;

static void
state_data_free (gpointer data)
{
  StateData *sd = data;

  g_free (sd->reason);
  g_free (sd);
}

static gpointer
paused_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  Job *job = data;
  StateData *sd = job->payload;
  sqlite3_stmt *stmt;

  if (!check_row (job, error) || !lt_catalog_begin (db, error))
    return NULL;

  /* A pause while paused (disk full after a stop) keeps the first one open. */
  stmt = lt_catalog_stmt (db,
                          "INSERT INTO session_pauses (session_id, stream_id, paused_at_us, reason) "
                          "SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM session_pauses "
                          "WHERE session_id = ?1 AND resumed_at_us IS NULL)",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, job->row->id);
  sqlite3_bind_int64 (stmt, 2, job->row->stream_id);
  sqlite3_bind_int64 (stmt, 3, sd->at_us);
  lt_catalog_bind_text (stmt, 4, sd->reason, NULL);
  if (!lt_catalog_step_done (stmt, error))
    goto fail;

  stmt = lt_catalog_stmt (db,
                          "UPDATE sessions SET state = 'paused', paused_at_us = ?2 "
                          "WHERE id = ?1 AND state = 'recording'",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, job->row->id);
  sqlite3_bind_int64 (stmt, 2, sd->at_us);
  if (!lt_catalog_step_done (stmt, error) || !lt_catalog_commit (db, error))
    goto fail;
  return GINT_TO_POINTER (TRUE);

fail:
  lt_catalog_rollback (db);
  return NULL;
}

void
_lt_recording_catalog_paused (LtCatalog    *catalog,
                              LtSessionRow *row,
                              gint64        at_us,
                              const char   *reason)
{
  StateData *sd = g_new0 (StateData, 1);

  sd->at_us = at_us;
  sd->reason = g_strdup (reason);
  queue_job (catalog, paused_job, row, sd, state_data_free,
             g_strdup_printf ("a pause of %s/%s/%s", row->domain, row->app, row->stream),
             NULL, NULL);
}

static gboolean
close_open_pause (sqlite3  *db,
                  Job      *job,
                  gint64    at_us,
                  GError  **error)
{
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "UPDATE session_pauses SET resumed_at_us = ?2 "
                          "WHERE session_id = ?1 AND resumed_at_us IS NULL",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, job->row->id);
  sqlite3_bind_int64 (stmt, 2, at_us);
  return lt_catalog_step_done (stmt, error);
}

static gpointer
resumed_job (sqlite3  *db,
             gpointer  data,
             GError  **error)
{
  Job *job = data;
  StateData *sd = job->payload;
  sqlite3_stmt *stmt;

  if (!check_row (job, error) || !lt_catalog_begin (db, error))
    return NULL;
  if (!close_open_pause (db, job, sd->at_us, error))
    goto fail;
  stmt = lt_catalog_stmt (db,
                          "UPDATE sessions SET state = 'recording', paused_at_us = NULL "
                          "WHERE id = ?1 AND state = 'paused'",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, job->row->id);
  if (!lt_catalog_step_done (stmt, error) || !lt_catalog_commit (db, error))
    goto fail;
  return GINT_TO_POINTER (TRUE);

fail:
  lt_catalog_rollback (db);
  return NULL;
}

void
_lt_recording_catalog_resumed (LtCatalog    *catalog,
                               LtSessionRow *row,
                               gint64        at_us)
{
  StateData *sd = g_new0 (StateData, 1);

  sd->at_us = at_us;
  queue_job (catalog, resumed_job, row, sd, state_data_free,
             g_strdup_printf ("a resume of %s/%s/%s", row->domain, row->app, row->stream),
             NULL, NULL);
}

static gpointer
ended_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  Job *job = data;
  StateData *sd = job->payload;
  sqlite3_stmt *stmt;

  if (!check_row (job, error) || !lt_catalog_begin (db, error))
    return NULL;
  if (!close_open_pause (db, job, sd->at_us, error))
    goto fail;
  stmt = lt_catalog_stmt (db,
                          "UPDATE sessions SET state = ?2, ended_at_us = ?3, end_reason = ?4 "
                          "WHERE id = ?1",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, job->row->id);
  lt_catalog_bind_text (stmt, 2, sd->failed ? "failed" : "ended", NULL);
  sqlite3_bind_int64 (stmt, 3, sd->at_us);
  lt_catalog_bind_text (stmt, 4, sd->reason, NULL);
  if (!lt_catalog_step_done (stmt, error) || !lt_catalog_commit (db, error))
    goto fail;
  return GINT_TO_POINTER (TRUE);

fail:
  lt_catalog_rollback (db);
  return NULL;
}

void
_lt_recording_catalog_ended (LtCatalog          *catalog,
                             LtSessionRow       *row,
                             gint64              at_us,
                             gboolean            failed,
                             const char         *reason,
                             LtRecordingJobDone  done,
                             gpointer            user_data)
{
  StateData *sd = g_new0 (StateData, 1);

  sd->at_us = at_us;
  sd->failed = failed;
  sd->reason = g_strdup (reason);
  queue_job (catalog, ended_job, row, sd, state_data_free,
             g_strdup_printf ("the end of a session of %s/%s/%s",
                              row->domain, row->app, row->stream),
             done, user_data);
}

/* ---- files and slices ---- */

static gboolean
bump_sequence (sqlite3     *db,
               Job         *job,
               const char  *format,
               guint64      used,
               GError     **error)
{
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "INSERT INTO rule_sequences (domain, app, stream, format, next_sequence) "
                          "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET "
                          "next_sequence = max (next_sequence, excluded.next_sequence)",
                          error);
  if (stmt == NULL)
    return FALSE;
  lt_catalog_bind_text (stmt, 1, job->row->rule_domain, NULL);
  lt_catalog_bind_text (stmt, 2, job->row->rule_app, NULL);
  lt_catalog_bind_text (stmt, 3, job->row->rule_stream, NULL);
  lt_catalog_bind_text (stmt, 4, format, NULL);
  sqlite3_bind_int64 (stmt, 5, (gint64) used + 1);
  return lt_catalog_step_done (stmt, error);
}

static gpointer
file_opened_job (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  Job *job = data;
  const LtRecordingFile *file = job->payload;
  const char *format = lt_record_format_kind_to_string (file->format);
  sqlite3_stmt *stmt;

  if (!check_row (job, error) || !lt_catalog_begin (db, error))
    return NULL;
  stmt = lt_catalog_stmt (db,
                          "INSERT INTO recording_files (session_id, stream_id, format, sequence, "
                          "target, bucket, object_key, local_path, start_time_us, state, "
                          "width, height, video_codec, audio_codec) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'open', ?10, ?11, ?12, ?13)",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, job->row->id);
  sqlite3_bind_int64 (stmt, 2, job->row->stream_id);
  lt_catalog_bind_text (stmt, 3, format, NULL);
  sqlite3_bind_int64 (stmt, 4, (gint64) file->sequence);
  lt_catalog_bind_text (stmt, 5, job->row->target, NULL);
  lt_catalog_bind_text (stmt, 6, job->row->bucket, NULL);
  lt_catalog_bind_text (stmt, 7, file->object_key, NULL);
  lt_catalog_bind_text (stmt, 8, file->path, NULL);
  sqlite3_bind_int64 (stmt, 9, file->start_time);
  bind_positive (stmt, 10, file->width);
  bind_positive (stmt, 11, file->height);
  lt_catalog_bind_text (stmt, 12, file->video_codec, NULL);
  lt_catalog_bind_text (stmt, 13, file->audio_codec, NULL);
  if (!lt_catalog_step_done (stmt, error) ||
      !bump_sequence (db, job, format, file->sequence, error) ||
      !lt_catalog_commit (db, error))
    goto fail;
  return GINT_TO_POINTER (TRUE);

fail:
  lt_catalog_rollback (db);
  return NULL;
}

void
_lt_recording_catalog_file_opened (LtCatalog             *catalog,
                                   LtSessionRow          *row,
                                   const LtRecordingFile *file)
{
  queue_job (catalog, file_opened_job, row, lt_recording_file_copy (file),
             (GDestroyNotify) lt_recording_file_free,
             g_strdup_printf ("the file %s", file->object_key), NULL, NULL);
}

/* The recording_files row of the open file at @path in the session, or 0. */
static gint64
find_file_id (sqlite3     *db,
              gint64       session_id,
              const char  *path,
              GError     **error)
{
  sqlite3_stmt *stmt;
  gint64 id = 0;

  stmt = lt_catalog_stmt (db,
                          "SELECT id FROM recording_files WHERE session_id = ?1 AND local_path = ?2 "
                          "ORDER BY id DESC LIMIT 1",
                          error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64 (stmt, 1, session_id);
  lt_catalog_bind_text (stmt, 2, path, NULL);
  if (lt_catalog_next_row (stmt, error))
    {
      id = sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
    }
  return id;
}

/* An S3 target (SPEC 7): the slice (with the MD5 the recorder hashed while writing it)
 * and the new version of its live playlist are queued for upload in the slice's own
 * transaction; the playlist waits for the slice. */
static gboolean
enqueue_slice_upload (sqlite3                *db,
                      gint64                  slice_id,
                      gint64                  file_id,
                      const char             *target,
                      const char             *bucket,
                      const LtRecordingSlice *slice,
                      GError                **error)
{
  g_autofree char *key = NULL;
  g_autofree char *path = NULL;
  GError *local_error = NULL;
  sqlite3_stmt *stmt;
  gint64 slice_row;

  /* The recorder's MD5 covers exactly slice->size bytes: the upload sends it while the
   * file still has that size, instead of reading the slice twice. */
  slice_row = _lt_sync_enqueue_in_transaction (db, target, bucket, slice->object_key,
                                               slice->path, LT_SYNC_KIND_SLICE,
                                               (gint64) slice->size, slice->md5, 0, slice_id,
                                               error);
  if (slice_row == 0)
    return FALSE;
  if (file_id <= 0)
    return TRUE;
  stmt = lt_catalog_stmt (db,
                          "SELECT object_key, local_path FROM recording_files WHERE id = ?1 "
                          "AND state = 'open' AND format IN ('m3u8', 'cmaf')",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, file_id);
  if (lt_catalog_next_row (stmt, &local_error))
    {
      key = lt_catalog_column_dup (stmt, 0);
      path = lt_catalog_column_dup (stmt, 1);
      sqlite3_reset (stmt);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (key == NULL || path == NULL)
    return TRUE;
  return _lt_sync_enqueue_in_transaction (db, target, bucket, key, path, LT_SYNC_KIND_PLAYLIST, 0,
                                          NULL, slice_row, 0, error) != 0;
}

static gboolean
insert_slice (sqlite3                *db,
              gint64                  session_id,
              gint64                  stream_id,
              gint64                  file_id,
              const char             *target,
              const char             *bucket,
              const LtRecordingSlice *slice,
              gboolean               *inserted,
              GError                **error)
{
  sqlite3_stmt *stmt;

  /* OR IGNORE: (recording_file_id, sequence) is unique, a slice is never catalogued twice. */
  stmt = lt_catalog_stmt (db,
                          "INSERT OR IGNORE INTO slices (session_id, stream_id, recording_file_id, "
                          "sequence, start_time_us, duration_us, size, target, bucket, object_key, "
                          "local_path, discontinuity_seq, width, height, video_codec, audio_codec, "
                          "keyframe, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                          "?12, ?13, ?14, ?15, ?16, ?17, 'closed')",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, session_id);
  sqlite3_bind_int64 (stmt, 2, stream_id);
  bind_positive (stmt, 3, file_id);
  sqlite3_bind_int64 (stmt, 4, (gint64) slice->sequence);
  sqlite3_bind_int64 (stmt, 5, slice->start_time);
  sqlite3_bind_int64 (stmt, 6, MAX (slice->duration, 0));
  sqlite3_bind_int64 (stmt, 7, (gint64) slice->size);
  lt_catalog_bind_text (stmt, 8, target, NULL);
  lt_catalog_bind_text (stmt, 9, bucket, NULL);
  lt_catalog_bind_text (stmt, 10, slice->object_key, NULL);
  lt_catalog_bind_text (stmt, 11, slice->path, NULL);
  sqlite3_bind_int64 (stmt, 12, slice->discontinuity_sequence);
  bind_positive (stmt, 13, slice->width);
  bind_positive (stmt, 14, slice->height);
  lt_catalog_bind_text (stmt, 15, slice->video_codec, NULL);
  lt_catalog_bind_text (stmt, 16, slice->audio_codec, NULL);
  sqlite3_bind_int (stmt, 17, slice->keyframe ? 1 : 0);
  if (!lt_catalog_step_done (stmt, error))
    return FALSE;
  if (sqlite3_changes (db) == 0)
    {
      if (inserted != NULL)
        *inserted = FALSE;
      return TRUE;
    }
  if (inserted != NULL)
    *inserted = TRUE;
  if (target != NULL && !lt_storage_is_local_endpoint (target) && slice->path != NULL)
    return enqueue_slice_upload (db, sqlite3_last_insert_rowid (db), file_id, target, bucket,
                                 slice, error);
  return TRUE;
}

static gpointer
slice_closed_job (sqlite3  *db,
                  gpointer  data,
                  GError  **error)
{
  Job *job = data;
  const LtRecordingSlice *slice = job->payload;
  GError *local_error = NULL;
  gboolean inserted = FALSE;
  sqlite3_stmt *stmt;
  gint64 file_id;

  if (!check_row (job, error) || !lt_catalog_begin (db, error))
    return NULL;
  file_id = find_file_id (db, job->row->id, slice->playlist_path, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      goto fail;
    }
  if (!insert_slice (db, job->row->id, job->row->stream_id, file_id, job->row->target,
                     job->row->bucket, slice, &inserted, error))
    goto fail;
  /* The playlist's row grows with its slices, so the timeline sees a live recording. */
  if (inserted && file_id > 0)
    {
      stmt = lt_catalog_stmt (db,
                              "UPDATE recording_files SET duration_us = duration_us + ?2, "
                              "size = size + ?3, width = coalesce (?4, width), "
                              "height = coalesce (?5, height) WHERE id = ?1 AND state = 'open'",
                              error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, file_id);
      sqlite3_bind_int64 (stmt, 2, MAX (slice->duration, 0));
      sqlite3_bind_int64 (stmt, 3, (gint64) slice->size);
      bind_positive (stmt, 4, slice->width);
      bind_positive (stmt, 5, slice->height);
      if (!lt_catalog_step_done (stmt, error))
        goto fail;
    }
  if (!lt_catalog_commit (db, error))
    goto fail;
  return GINT_TO_POINTER (TRUE);

fail:
  lt_catalog_rollback (db);
  return NULL;
}

void
_lt_recording_catalog_slice_closed (LtCatalog              *catalog,
                                    LtSessionRow           *row,
                                    const LtRecordingSlice *slice)
{
  queue_job (catalog, slice_closed_job, row, lt_recording_slice_copy (slice),
             (GDestroyNotify) lt_recording_slice_free,
             g_strdup_printf ("the slice %s", slice->object_key), NULL, NULL);
}

/* An S3 target (SPEC 7): the closed file (MP4, FLV, or the playlist with its ENDLIST) is
 * queued for upload in the transaction that closes its row. A playlist renamed at its
 * close drops the pending versions of its live name (that file is gone). */
static gboolean
enqueue_file_upload (sqlite3                *db,
                     gint64                  file_id,
                     const char             *old_path,
                     const char             *part_md5s,
                     GError                **error)
{
  g_autofree char *target = NULL;
  g_autofree char *bucket = NULL;
  g_autofree char *format = NULL;
  g_autofree char *key = NULL;
  g_autofree char *path = NULL;
  GError *local_error = NULL;
  sqlite3_stmt *stmt;
  gint64 size = 0;
  gboolean playlist;

  stmt = lt_catalog_stmt (db,
                          "SELECT target, bucket, format, object_key, local_path, size "
                          "FROM recording_files WHERE id = ?1",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, file_id);
  if (lt_catalog_next_row (stmt, &local_error))
    {
      target = lt_catalog_column_dup (stmt, 0);
      bucket = lt_catalog_column_dup (stmt, 1);
      format = lt_catalog_column_dup (stmt, 2);
      key = lt_catalog_column_dup (stmt, 3);
      path = lt_catalog_column_dup (stmt, 4);
      size = sqlite3_column_int64 (stmt, 5);
      sqlite3_reset (stmt);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (target == NULL || lt_storage_is_local_endpoint (target) || path == NULL)
    return TRUE;
  playlist = g_strcmp0 (format, "m3u8") == 0 || g_strcmp0 (format, "cmaf") == 0;
  if (playlist && old_path != NULL && g_strcmp0 (old_path, path) != 0)
    {
      stmt = lt_catalog_stmt (db,
                              "DELETE FROM upload_outbox WHERE local_path = ?1 AND kind = 'playlist' "
                              "AND state = 'pending' AND source_id IS NULL",
                              error);
      if (stmt == NULL)
        return FALSE;
      lt_catalog_bind_text (stmt, 1, old_path, NULL);
      if (!lt_catalog_step_done (stmt, error))
        return FALSE;
    }
  /* The final playlist waits for every slice queued before it (max (id): the newest row). */
  /* A recording file's block MD5s (hashed as it was written) spare its multipart upload
   * a hashing pass. */
  return _lt_sync_enqueue_in_transaction (db, target, bucket, key, path,
                                          playlist ? LT_SYNC_KIND_PLAYLIST : LT_SYNC_KIND_FILE,
                                          size, playlist ? NULL : part_md5s,
                                          playlist ? -1 : 0, file_id, error) != 0;
}

static gboolean
close_file_row (sqlite3                *db,
                gint64                  file_id,
                const LtRecordingFile  *file,
                GError                **error)
{
  g_autofree char *old_path = NULL;
  GError *local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, "SELECT local_path FROM recording_files WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, file_id);
  if (lt_catalog_next_row (stmt, &local_error))
    {
      old_path = lt_catalog_column_dup (stmt, 0);
      sqlite3_reset (stmt);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  stmt = lt_catalog_stmt (db,
                          "UPDATE recording_files SET object_key = ?2, local_path = ?3, "
                          "end_time_us = ?4, duration_us = ?5, size = ?6, state = 'closed', "
                          "width = coalesce (?7, width), height = coalesce (?8, height), "
                          "video_codec = coalesce (?9, video_codec), "
                          "audio_codec = coalesce (?10, audio_codec) WHERE id = ?1",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, file_id);
  lt_catalog_bind_text (stmt, 2, file->object_key, NULL);
  lt_catalog_bind_text (stmt, 3, file->path, NULL);
  sqlite3_bind_int64 (stmt, 4, MAX (file->end_time, file->start_time));
  sqlite3_bind_int64 (stmt, 5, MAX (file->duration, 0));
  sqlite3_bind_int64 (stmt, 6, (gint64) file->size);
  bind_positive (stmt, 7, file->width);
  bind_positive (stmt, 8, file->height);
  lt_catalog_bind_text (stmt, 9, file->video_codec, NULL);
  lt_catalog_bind_text (stmt, 10, file->audio_codec, NULL);
  return lt_catalog_step_done (stmt, error) &&
         enqueue_file_upload (db, file_id, old_path, file->part_md5s, error);
}

static gpointer
file_closed_job (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  Job *job = data;
  const LtRecordingFile *file = job->payload;
  GError *local_error = NULL;
  gint64 file_id;

  if (!check_row (job, error) || !lt_catalog_begin (db, error))
    return NULL;
  file_id = find_file_id (db, job->row->id,
                          file->open_path != NULL ? file->open_path : file->path,
                          &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      goto fail;
    }
  if (file_id == 0)
    {
      /* Its "file-opened" row was lost (a failed job): catalogue it now, closed. */
      g_autoptr(LtRecordingFile) copy = lt_recording_file_copy (file);
      Job open_job = *job;

      g_free (copy->path);
      copy->path = g_strdup (file->open_path != NULL ? file->open_path : file->path);
      open_job.payload = copy;
      lt_catalog_rollback (db);
      if (file_opened_job (db, &open_job, error) == NULL || !lt_catalog_begin (db, error))
        return NULL;
      file_id = sqlite3_last_insert_rowid (db);
    }
  if (!close_file_row (db, file_id, file, error) || !lt_catalog_commit (db, error))
    goto fail;
  return GINT_TO_POINTER (TRUE);

fail:
  lt_catalog_rollback (db);
  return NULL;
}

void
_lt_recording_catalog_file_closed (LtCatalog             *catalog,
                                   LtSessionRow          *row,
                                   const LtRecordingFile *file)
{
  queue_job (catalog, file_closed_job, row, lt_recording_file_copy (file),
             (GDestroyNotify) lt_recording_file_free,
             g_strdup_printf ("the file %s", file->object_key), NULL, NULL);
}

/* ---- {Sequence} ---- */

GHashTable *
_lt_recording_catalog_load_sequences (sqlite3  *db,
                                      GError  **error)
{
  g_autoptr(GHashTable) table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GError *local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, "SELECT domain, app, stream, format, next_sequence "
                              "FROM rule_sequences", error);
  if (stmt == NULL)
    return NULL;
  while (lt_catalog_next_row (stmt, &local_error))
    {
      gint64 *next = g_new (gint64, 1);

      *next = sqlite3_column_int64 (stmt, 4);
      g_hash_table_replace (table,
                            _lt_recording_sequence_key ((const char *) sqlite3_column_text (stmt, 0),
                                                        (const char *) sqlite3_column_text (stmt, 1),
                                                        (const char *) sqlite3_column_text (stmt, 2),
                                                        (const char *) sqlite3_column_text (stmt, 3)),
                            next);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  return g_steal_pointer (&table);
}

/* ---- recovery ---- */

typedef struct
{
  gint64    id;
  gint64    session_id;
  gint64    stream_id;
  LtRecordFormatKind format;
  guint64   sequence;
  char     *target;
  char     *bucket;
  char     *object_key;
  char     *local_path;
  gint64    start_time_us;
  char     *domain;
  char     *app;
  char     *stream;
  char     *rule_json;
} OpenFile;

static void
open_file_free (gpointer data)
{
  OpenFile *of = data;

  g_free (of->target);
  g_free (of->bucket);
  g_free (of->object_key);
  g_free (of->local_path);
  g_free (of->domain);
  g_free (of->app);
  g_free (of->stream);
  g_free (of->rule_json);
  g_free (of);
}

static GPtrArray *
list_open_files (sqlite3  *db,
                 GError  **error)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (open_file_free);
  GError *local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "SELECT f.id, f.session_id, f.stream_id, f.format, f.sequence, f.target, "
                          "f.bucket, f.object_key, f.local_path, f.start_time_us, st.domain, st.app, "
                          "st.stream, se.rule_json FROM recording_files f "
                          "JOIN sessions se ON se.id = f.session_id "
                          "JOIN streams st ON st.id = f.stream_id "
                          "WHERE f.state = 'open' ORDER BY f.id",
                          error);
  if (stmt == NULL)
    return NULL;
  while (lt_catalog_next_row (stmt, &local_error))
    {
      OpenFile *of = g_new0 (OpenFile, 1);
      g_autofree char *format = lt_catalog_column_dup (stmt, 3);

      of->id = sqlite3_column_int64 (stmt, 0);
      of->session_id = sqlite3_column_int64 (stmt, 1);
      of->stream_id = sqlite3_column_int64 (stmt, 2);
      if (!lt_record_format_kind_from_string (format, &of->format))
        of->format = LT_RECORD_FORMAT_M3U8;
      of->sequence = (guint64) sqlite3_column_int64 (stmt, 4);
      of->target = lt_catalog_column_dup (stmt, 5);
      of->bucket = lt_catalog_column_dup (stmt, 6);
      of->object_key = lt_catalog_column_dup (stmt, 7);
      of->local_path = lt_catalog_column_dup (stmt, 8);
      of->start_time_us = sqlite3_column_int64 (stmt, 9);
      of->domain = lt_catalog_column_dup (stmt, 10);
      of->app = lt_catalog_column_dup (stmt, 11);
      of->stream = lt_catalog_column_dup (stmt, 12);
      of->rule_json = lt_catalog_column_dup (stmt, 13);
      g_ptr_array_add (files, of);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  return g_steal_pointer (&files);
}

/* The bucket folder: local_path is BUCKET-DIR/OBJECT-KEY. */
static char *
bucket_dir_of (const OpenFile *of)
{
  gsize path_len, key_len;

  if (of->local_path == NULL || of->object_key == NULL)
    return NULL;
  path_len = strlen (of->local_path);
  key_len = strlen (of->object_key);
  if (key_len + 1 >= path_len || !g_str_has_suffix (of->local_path, of->object_key) ||
      of->local_path[path_len - key_len - 1] != G_DIR_SEPARATOR)
    return NULL;
  return g_strndup (of->local_path, path_len - key_len - 1);
}

/* The object name the recorder would have given the file when closing it. */
static char *
final_key_for (const OpenFile *of,
               gint64          end_time_us)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(LtRule) rule = NULL;
  const LtRecordFormat *format;
  LtTemplateVars vars = { 0, };

  node = json_from_string (of->rule_json, NULL);
  if (node != NULL)
    rule = lt_rule_new_from_json (node, NULL);
  if (rule == NULL || (format = lt_rule_get_format (rule, of->format)) == NULL)
    return NULL;

  vars.domain_name = of->domain;
  vars.app_name = of->app;
  vars.stream_name = of->stream;
  vars.sequence = of->sequence;
  vars.start_time = of->start_time_us / G_USEC_PER_SEC;
  vars.end_time = MAX (end_time_us, of->start_time_us) / G_USEC_PER_SEC;
  vars.unix_timestamp = vars.start_time;
  return lt_template_expand_with_extension (format->object_prefix, &vars,
                                            _lt_recorder_format_extension (of->format), NULL);
}

static gboolean
path_is_catalogued (sqlite3    *db,
                    const char *path)
{
  sqlite3_stmt *stmt = lt_catalog_stmt (db, "SELECT 1 FROM recording_files WHERE local_path = ?1",
                                        NULL);
  gboolean found;

  if (stmt == NULL)
    return TRUE;  /* cannot tell: do not adopt it */
  lt_catalog_bind_text (stmt, 1, path, NULL);
  found = lt_catalog_next_row (stmt, NULL);
  sqlite3_reset (stmt);
  return found;
}

/* The open file is gone: the recorder renamed it (its final name depends on EndTime,
 * unknown here) and died before the catalog heard of it. The final name shares the part
 * of the open name that does not depend on the end time; exactly one uncatalogued file
 * with that prefix is the one. Returns its key, or NULL. */
static char *
find_renamed (sqlite3        *db,
              const OpenFile *of,
              const char     *bucket_dir)
{
  g_autofree char *key_a = final_key_for (of, of->start_time_us);
  g_autofree char *key_b = final_key_for (of, of->start_time_us + (gint64) 7 * 86400 * G_USEC_PER_SEC);
  g_autofree char *dir_key = NULL;
  g_autofree char *dir_path = NULL;
  g_autofree char *found = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *ext = _lt_recorder_format_extension (of->format);
  const char *name;
  gsize prefix_len = 0;
  guint n_found = 0;

  if (key_a == NULL || key_b == NULL)
    return NULL;
  while (key_a[prefix_len] != '\0' && key_a[prefix_len] == key_b[prefix_len])
    prefix_len++;
  /* The end time must not be in a folder name: then there is no folder to look in. */
  if (memchr (key_a + prefix_len, '/', strlen (key_a) - prefix_len) != NULL)
    return NULL;
  dir_key = g_path_get_dirname (key_a);
  dir_path = g_strcmp0 (dir_key, ".") == 0 ? g_strdup (bucket_dir)
                                           : g_build_filename (bucket_dir, dir_key, NULL);
  dir = g_dir_open (dir_path, 0, NULL);
  if (dir == NULL)
    return NULL;

  {
    const char *base_prefix = strrchr (key_a, '/') != NULL ? strrchr (key_a, '/') + 1 : key_a;
    gsize base_prefix_len = prefix_len - (base_prefix - key_a);

    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = NULL;

        if (strncmp (name, base_prefix, base_prefix_len) != 0 || !g_str_has_suffix (name, ext))
          continue;
        path = g_build_filename (dir_path, name, NULL);
        if (path_is_catalogued (db, path))
          continue;
        n_found++;
        g_free (found);
        found = g_strcmp0 (dir_key, ".") == 0 ? g_strdup (name)
                                              : g_strconcat (dir_key, "/", name, NULL);
      }
  }
  return n_found == 1 ? g_steal_pointer (&found) : NULL;
}

#define TS_PACKET 188

/* The folder of the session's slices when the slice template puts every slice of the
 * file in one (it does not depend on {Sequence} or the time), else NULL. */
static char *
slice_dir_key (const OpenFile *of)
{
  g_autoptr(JsonNode) node = json_from_string (of->rule_json, NULL);
  g_autoptr(LtRule) rule = node != NULL ? lt_rule_new_from_json (node, NULL) : NULL;
  const LtRecordFormat *format = rule != NULL ? lt_rule_get_format (rule, of->format) : NULL;
  LtTemplateVars a = { 0, }, b = { 0, };
  g_autofree char *key_a = NULL, *key_b = NULL;
  g_autofree char *dir_a = NULL, *dir_b = NULL;

  if (format == NULL || format->slice_object_prefix == NULL)
    return NULL;
  a.domain_name = b.domain_name = of->domain;
  a.app_name = b.app_name = of->app;
  a.stream_name = b.stream_name = of->stream;
  a.start_time = a.end_time = a.unix_timestamp = of->start_time_us / G_USEC_PER_SEC;
  b.start_time = b.end_time = b.unix_timestamp = a.start_time + 86400 + 3600 + 61;
  b.sequence = 12345;
  key_a = lt_template_expand_with_extension (format->slice_object_prefix, &a, ".ts", NULL);
  key_b = lt_template_expand_with_extension (format->slice_object_prefix, &b, ".ts", NULL);
  if (key_a == NULL || key_b == NULL)
    return NULL;
  dir_a = g_path_get_dirname (key_a);
  dir_b = g_path_get_dirname (key_b);
  return g_strcmp0 (dir_a, dir_b) == 0 ? g_steal_pointer (&dir_a) : NULL;
}

/* The PTS span of a TS file's PES packets, µs (one frame added), or 0 when it has none. */
static gint64
ts_duration (const guint8 *data,
             gsize         length)
{
  gint64 first[2] = { G_MAXINT64, G_MAXINT64 }, last[2] = { G_MININT64, G_MININT64 };

  for (gsize at = 0; at + TS_PACKET <= length; at += TS_PACKET)
    {
      const guint8 *p = data + at;
      gsize payload = 4;
      int kind;
      gint64 pts;

      if (p[0] != 0x47 || !(p[1] & 0x40))
        continue;
      if (p[3] & 0x20)
        payload += 1 + p[4];
      if (!(p[3] & 0x10) || payload + 14 > TS_PACKET)
        continue;
      p += payload;
      if (p[0] != 0 || p[1] != 0 || p[2] != 1 || !(p[7] & 0x80))
        continue;
      if (p[3] >= 0xe0 && p[3] <= 0xef)
        kind = 0;
      else if (p[3] >= 0xc0 && p[3] <= 0xdf)
        kind = 1;
      else
        continue;
      pts = ((gint64) (p[9] & 0x0e) << 29) | ((gint64) p[10] << 22) |
            ((gint64) (p[11] & 0xfe) << 14) | ((gint64) p[12] << 7) | (p[13] >> 1);
      first[kind] = MIN (first[kind], pts);
      last[kind] = MAX (last[kind], pts);
    }
  /* Video when there is some; 90 kHz ticks; plus one frame (30 fps, or an AAC frame). */
  for (int kind = 0; kind < 2; kind++)
    if (last[kind] > first[kind])
      return (last[kind] - first[kind]) * 1000 / 90 + (kind == 0 ? 33333 : 21333);
  return 0;
}

/* The slice being written at the crash: the one .ts file in the bucket's folder @dir_key,
 * modified at @min_mtime (Unix s) or later, named by neither the playlist nor the catalog. It is cut back to
 * whole TS packets; an empty or unplayable one is removed. Returns its key, or NULL. */
static char *
find_torn_slice (sqlite3     *db,
                 LtPlaylist  *playlist,
                 const char  *bucket_dir,
                 const char  *dir_key,
                 gint64       min_mtime,
                 gint64      *duration,
                 guint64     *size)
{
  g_autofree char *dir_path = g_strcmp0 (dir_key, ".") == 0
                              ? g_strdup (bucket_dir)
                              : g_build_filename (bucket_dir, dir_key, NULL);
  g_autofree char *found = NULL;
  g_autoptr(GHashTable) named = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GMappedFile) map = NULL;
  GStatBuf st;
  const char *name;
  guint n_found = 0;

  if ((dir = g_dir_open (dir_path, 0, NULL)) == NULL)
    return NULL;
  for (guint i = 0; i < lt_playlist_get_n_segments (playlist); i++)
    g_hash_table_add (named, lt_playlist_get_segment (playlist, i)->key);

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *key = g_strcmp0 (dir_key, ".") == 0 ? g_strdup (name)
                                                             : g_strconcat (dir_key, "/", name, NULL);
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      sqlite3_stmt *stmt;
      gboolean catalogued;

      if (!g_str_has_suffix (name, ".ts") || g_hash_table_contains (named, key) ||
          g_stat (path, &st) != 0 || !S_ISREG (st.st_mode) || st.st_mtime < min_mtime)
        continue;
      stmt = lt_catalog_stmt (db, "SELECT 1 FROM slices WHERE local_path = ?1", NULL);
      if (stmt == NULL)
        return NULL;
      lt_catalog_bind_text (stmt, 1, path, NULL);
      catalogued = lt_catalog_next_row (stmt, NULL);
      sqlite3_reset (stmt);
      if (catalogued)
        continue;
      n_found++;
      g_free (found);
      found = g_steal_pointer (&key);
    }
  if (n_found != 1)
    return NULL;

  {
    g_autofree char *path = g_build_filename (bucket_dir, found, NULL);
    gsize whole;

    if (g_stat (path, &st) != 0)
      return NULL;
    whole = (gsize) st.st_size - (gsize) st.st_size % TS_PACKET;
    if (whole < (gsize) st.st_size && truncate (path, whole) != 0)
      return NULL;
    if (whole > 0)
      map = g_mapped_file_new (path, FALSE, NULL);
    *duration = map != NULL ? ts_duration ((const guint8 *) g_mapped_file_get_contents (map),
                                           g_mapped_file_get_length (map))
                            : 0;
    if (*duration <= 0)
      {
        g_unlink (path);
        return NULL;
      }
    *size = whole;
  }
  return g_steal_pointer (&found);
}

/* Slices keep their rows (recording_file_id becomes NULL): they are recordings. */
static gboolean
delete_file_row (sqlite3  *db,
                 gint64    file_id,
                 GError  **error)
{
  sqlite3_stmt *stmt = lt_catalog_stmt (db, "DELETE FROM recording_files WHERE id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, file_id);
  return lt_catalog_step_done (stmt, error);
}

static gboolean
file_has_slices (sqlite3 *db,
                 gint64   file_id)
{
  sqlite3_stmt *stmt = lt_catalog_stmt (db, "SELECT 1 FROM slices WHERE recording_file_id = ?1",
                                        NULL);
  gboolean found;

  if (stmt == NULL)
    return TRUE;  /* cannot tell: keep the row */
  sqlite3_bind_int64 (stmt, 1, file_id);
  found = lt_catalog_next_row (stmt, NULL);
  sqlite3_reset (stmt);
  return found;
}

static gboolean
recover_playlist (sqlite3         *db,
                  const OpenFile  *of,
                  const char      *bucket_dir,
                  const char      *path,
                  LtRecordingFile *file,
                  LtRecoveryStats *stats,
                  gboolean        *empty,
                  GError         **error)
{
  g_autofree char *text = NULL;
  g_autofree char *open_path = NULL;
  g_autoptr(LtPlaylist) playlist = NULL;
  g_autofree char *key = NULL;
  g_autofree char *final_key = NULL;
  gsize length = 0;
  guint discontinuities = 0;
  gint64 end_time = of->start_time_us;
  gint64 clock = of->start_time_us;

  if (path == NULL)
    {
      /* Killed before the first slice closed: the playlist was never written. */
      playlist = lt_playlist_new (LT_PLAYLIST_TYPE_EVENT, of->object_key);
      key = g_strdup (of->object_key);
      path = open_path = g_build_filename (bucket_dir, of->object_key, NULL);
    }
  else
    {
      if (!g_file_get_contents (path, &text, &length, error))
        return FALSE;
      key = g_strdup (path + strlen (bucket_dir) + 1);
      playlist = lt_playlist_new_from_data (key, text, length, error);
      if (playlist == NULL)
        return FALSE;
    }

  for (guint i = 0; i < lt_playlist_get_n_segments (playlist); i++)
    {
      const LtPlaylistSegment *segment = lt_playlist_get_segment (playlist, i);
      g_autofree char *slice_path = g_build_filename (bucket_dir, segment->key, NULL);
      LtRecordingSlice slice = { 0, };
      GStatBuf st;
      gboolean inserted = FALSE;

      if (segment->discontinuity && i > 0)
        discontinuities++;
      /* EXT-X-PROGRAM-DATE-TIME may be given only at the start and at discontinuities:
       * between them the clock runs with the durations. */
      if (segment->program_date_time > 0)
        clock = segment->program_date_time;
      slice.format = of->format;
      slice.sequence = lt_playlist_get_media_sequence (playlist) + i;
      slice.path = slice_path;
      slice.object_key = segment->key;
      slice.start_time = clock;
      slice.duration = segment->duration_us;
      slice.size = g_stat (slice_path, &st) == 0 ? (guint64) st.st_size : 0;
      slice.discontinuity_sequence = discontinuities;
      slice.keyframe = TRUE;
      if (!insert_slice (db, of->session_id, of->stream_id, of->id, of->target, of->bucket,
                         &slice, &inserted, error))
        return FALSE;
      if (inserted)
        stats->slices++;
      file->size += slice.size;
      clock += segment->duration_us;
      end_time = MAX (end_time, clock);
    }
  /* The slice that was being written when Livetape died: whole TS packets up to the
   * crash, playable. It joins the playlist and the catalog like the others. */
  if (!lt_playlist_get_ended (playlist))
    {
      g_autofree char *torn_key = NULL;
      g_autofree char *dir_key = NULL;
      gint64 min_mtime = of->start_time_us / G_USEC_PER_SEC - 1;
      gint64 torn_duration = 0;
      guint64 torn_size = 0;
      guint n = lt_playlist_get_n_segments (playlist);

      if (n > 0)
        {
          const char *last_key = lt_playlist_get_segment (playlist, n - 1)->key;
          g_autofree char *last_path = g_build_filename (bucket_dir, last_key, NULL);
          GStatBuf st;

          dir_key = g_path_get_dirname (last_key);
          if (g_stat (last_path, &st) == 0)
            min_mtime = st.st_mtime;
        }
      else
        dir_key = slice_dir_key (of);
      if (dir_key != NULL)
        torn_key = find_torn_slice (db, playlist, bucket_dir, dir_key, min_mtime,
                                    &torn_duration, &torn_size);
      if (torn_key != NULL)
        {
          g_autofree char *slice_path = g_build_filename (bucket_dir, torn_key, NULL);
          LtRecordingSlice slice = { 0, };
          gboolean inserted = FALSE;

          slice.format = of->format;
          slice.sequence = lt_playlist_get_media_sequence (playlist) +
                           lt_playlist_get_n_segments (playlist);
          slice.path = slice_path;
          slice.object_key = torn_key;
          slice.start_time = clock;
          slice.duration = torn_duration;
          slice.size = torn_size;
          slice.discontinuity_sequence = discontinuities;
          slice.keyframe = TRUE;
          if (!insert_slice (db, of->session_id, of->stream_id, of->id, of->target, of->bucket,
                             &slice, &inserted, error))
            return FALSE;
          lt_playlist_add_segment (playlist, torn_key, torn_duration, clock, FALSE);
          lt_playlist_set_target_duration (playlist,
                                           MAX (lt_playlist_get_target_duration (playlist),
                                                (guint) ((torn_duration + G_USEC_PER_SEC - 1) /
                                                         G_USEC_PER_SEC)));
          if (inserted)
            stats->torn_slices++;
          file->size += torn_size;
          clock += torn_duration;
          end_time = MAX (end_time, clock);
        }
    }

  file->duration = lt_playlist_get_duration (playlist);
  file->end_time = end_time;
  file->n_slices = lt_playlist_get_n_segments (playlist);

  if (lt_playlist_get_ended (playlist) && g_strcmp0 (key, of->object_key) != 0)
    {
      /* Already the finished playlist (found after a rename). */
      file->object_key = g_steal_pointer (&key);
      file->path = g_strdup (path);
      return TRUE;
    }

  final_key = final_key_for (of, end_time);
  if (final_key == NULL)
    final_key = g_strdup (key);
  lt_playlist_set_ended (playlist, TRUE);
  if (lt_playlist_get_n_segments (playlist) == 0)
    {
      /* Nothing was recorded into it: the recorder would not have kept it either. */
      g_unlink (path);
      *empty = TRUE;
      return TRUE;
    }
  {
    g_autofree char *final_path = g_build_filename (bucket_dir, final_key, NULL);

    if (g_strcmp0 (final_path, path) != 0 && g_file_test (final_path, G_FILE_TEST_EXISTS))
      {
        g_free (final_key);
        final_key = g_strdup (key);
        g_free (final_path);
        final_path = g_strdup (path);
      }
    lt_playlist_set_key (playlist, final_key);
    if (!lt_playlist_write_file (playlist, final_path, error))
      return FALSE;
    if (g_strcmp0 (final_path, path) != 0)
      g_unlink (path);
    file->object_key = g_steal_pointer (&final_key);
    file->path = g_steal_pointer (&final_path);
  }
  return TRUE;
}

static gboolean
recover_file (sqlite3         *db,
              const OpenFile  *of,
              LtRecoveryStats *stats,
              GError         **error)
{
  g_autofree char *bucket_dir = bucket_dir_of (of);
  g_autofree char *path = g_strdup (of->local_path);
  g_autoptr(LtRecordingFile) file = g_new0 (LtRecordingFile, 1);
  g_autoptr(GError) local_error = NULL;
  gboolean found = TRUE;

  file->format = of->format;
  file->sequence = of->sequence;
  file->start_time = of->start_time_us;
  file->end_time = of->start_time_us;

  if (bucket_dir == NULL)
    found = FALSE;
  else if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *renamed = find_renamed (db, of, bucket_dir);

      g_free (path);
      path = renamed != NULL ? g_build_filename (bucket_dir, renamed, NULL) : NULL;
      found = path != NULL;
    }

  if (found && lt_record_format_kind_is_sliced (of->format))
    {
      gboolean empty = FALSE;

      if (!recover_playlist (db, of, bucket_dir, path, file, stats, &empty, &local_error))
        {
          g_message ("Cannot finish the playlist %s: %s", path, local_error->message);
          found = FALSE;
        }
      else if (empty)
        {
          stats->empty_files++;
          return delete_file_row (db, of->id, error);
        }
    }
  else if (found)
    {
      gint64 duration = 0;
      g_autofree char *final_key = NULL;
      g_autofree char *used_path = NULL;
      GStatBuf st;

      if (!lt_recorder_repair_file (path, of->format, &duration, &local_error))
        {
          /* A file killed before its first fragment or tag holds nothing to play: it was
           * never a recording. Anything bigger is kept as it is, for a human to look at. */
          if (g_stat (path, &st) == 0 && st.st_size < EMPTY_FILE_MAX_BYTES)
            {
              g_unlink (path);
              stats->empty_files++;
              return delete_file_row (db, of->id, error);
            }
          g_message ("Cannot repair %s: %s", path, local_error->message);
          g_clear_error (&local_error);
        }
      file->duration = duration;
      file->end_time = of->start_time_us + duration;
      final_key = g_str_has_suffix (path, of->object_key) ? final_key_for (of, file->end_time)
                                                            : NULL;
      if (final_key != NULL)
        {
          g_autofree char *final_path = g_build_filename (bucket_dir, final_key, NULL);
          int saved_errno = 0;

          used_path = g_strcmp0 (final_path, path) == 0
                      ? g_strdup (path)
                      : _lt_recorder_rename_no_replace (path, final_path, &saved_errno);
          if (used_path == NULL)
            g_message ("Cannot rename %s: %s", path, g_strerror (saved_errno));
        }
      if (used_path != NULL)
        {
          file->object_key = g_strdup (used_path + strlen (bucket_dir) + 1);
          file->path = g_steal_pointer (&used_path);
        }
      else
        {
          file->path = g_strdup (path);
          file->object_key = g_strdup (path + strlen (bucket_dir) + 1);
        }
      if (g_stat (file->path, &st) == 0)
        file->size = st.st_size;
    }

  if (!found && bucket_dir != NULL && lt_record_format_kind_is_sliced (of->format) &&
      !file_has_slices (db, of->id))
    {
      gboolean empty = FALSE;

      /* A playlist is written when its first slice closes: killed before that, the one
       * slice being written is all there is (or nothing at all). */
      if (!recover_playlist (db, of, bucket_dir, NULL, file, stats, &empty, error))
        return FALSE;
      if (empty)
        {
          stats->empty_files++;
          return delete_file_row (db, of->id, error);
        }
      stats->files++;
      return close_file_row (db, of->id, file, error);
    }
  if (!found)
    {
      /* Nothing on disk: the row stays as a closed file without a local copy. */
      stats->lost_files++;
      file->object_key = g_strdup (of->object_key);
      file->path = NULL;
    }
  else
    stats->files++;

  return close_file_row (db, of->id, file, error);
}

gpointer
_lt_recording_catalog_recover_job (sqlite3  *db,
                                   gpointer  data,
                                   GError  **error)
{
  g_autoptr(GPtrArray) files = NULL;
  LtRecoveryStats *stats = g_new0 (LtRecoveryStats, 1);
  gint64 now = g_get_real_time ();
  sqlite3_stmt *stmt;

  files = list_open_files (db, error);
  if (files == NULL)
    goto fail;

  /* One file a transaction: a crash during recovery keeps what was finished. */
  for (guint i = 0; i < files->len; i++)
    {
      OpenFile *of = g_ptr_array_index (files, i);

      g_autoptr(GError) file_error = NULL;

      if (!lt_catalog_begin (db, error))
        goto fail;
      /* A file that cannot be recovered stays open in the catalog (the next start tries
       * again) and does not keep the others or the engine from starting. */
      if (!recover_file (db, of, stats, &file_error) || !lt_catalog_commit (db, &file_error))
        {
          lt_catalog_rollback (db);
          g_message ("Cannot recover the recording %s: %s", of->local_path, file_error->message);
        }
    }

  if (!lt_catalog_begin (db, error))
    goto fail;
  stmt = lt_catalog_stmt (db,
                          "UPDATE session_pauses SET resumed_at_us = ?1 WHERE resumed_at_us IS NULL "
                          "AND session_id IN (SELECT id FROM sessions WHERE state IN ('recording', 'paused'))",
                          error);
  if (stmt == NULL)
    goto fail_rollback;
  sqlite3_bind_int64 (stmt, 1, now);
  if (!lt_catalog_step_done (stmt, error))
    goto fail_rollback;
  /* The session ended where its last file or slice ended. */
  stmt = lt_catalog_stmt (db,
                          "UPDATE sessions SET state = 'ended', end_reason = 'crash', ended_at_us = "
                          "max (started_at_us, coalesce ((SELECT max (coalesce (end_time_us, start_time_us)) "
                          "FROM recording_files WHERE session_id = sessions.id), 0), "
                          "coalesce ((SELECT max (start_time_us + duration_us) FROM slices "
                          "WHERE session_id = sessions.id), 0)) "
                          "WHERE state IN ('recording', 'paused')",
                          error);
  if (stmt == NULL)
    goto fail_rollback;
  if (!lt_catalog_step_done (stmt, error))
    goto fail_rollback;
  stats->sessions = sqlite3_changes (db);
  if (!lt_catalog_commit (db, error))
    goto fail;
  return stats;

fail_rollback:
  lt_catalog_rollback (db);
fail:
  g_free (stats);
  return NULL;
}
