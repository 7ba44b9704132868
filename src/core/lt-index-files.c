/* lt-index-files.c: index files (SPEC section 5) — VOD M3U8 playlists over a stream's
 * catalogued slices, and their records.
 *
 * Creating one is a single catalog job: the slice query, the rendering, the atomic write
 * into the local target's bucket folder and the index_files row all happen on the catalog
 * worker, so the main context never waits on the disk and a failed write leaves no row.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "lt-index-files.h"
#include "lt-playlist.h"
#include "lt-s3-sigv4.h"
#include "lt-storage.h"
#include "lt-storage-targets.h"
#include "lt-sync-engine.h"
#include "lt-template.h"
#include "lt-timeline.h"

G_DEFINE_QUARK (lt-index-files-error-quark, lt_index_files_error)

void
lt_index_file_free (LtIndexFile *file)
{
  if (file == NULL)
    return;
  g_free (file->record_id);
  g_free (file->domain);
  g_free (file->app);
  g_free (file->stream);
  g_free (file->endpoint);
  g_free (file->bucket);
  g_free (file->object_key);
  g_free (file->local_path);
  g_free (file->url);
  g_free (file);
}

gboolean
lt_index_files_check_range (gint64   start_time,
                            gint64   end_time,
                            GError **error)
{
  if (end_time <= start_time)
    {
      g_set_error (error, LT_INDEX_FILES_ERROR, LT_INDEX_FILES_ERROR_END_BEFORE_START,
                   _("EndTime must be later than StartTime"));
      return FALSE;
    }
  if (end_time - start_time > LT_INDEX_FILES_MAX_SPAN)
    {
      g_set_error (error, LT_INDEX_FILES_ERROR, LT_INDEX_FILES_ERROR_SPAN_TOO_LONG,
                   _("StartTime and EndTime may be at most 4 days apart"));
      return FALSE;
    }
  return TRUE;
}

/* Builds the playlist for @key in @target (NULL: compare buckets only) and @bucket;
 * *@foreign (allocated when some slice lives elsewhere) holds the absolute URIs of the
 * segments that need one: the object's URL in S3, else the file:// URI of the local path. */
static LtPlaylist *
build_playlist (const char          *target,
                const char          *bucket,
                const char          *key,
                const LtIndexSlice  *slices,
                guint                n_slices,
                gint64               start_us,
                gint64               end_us,
                gboolean             end_included,
                gint64              *duration_us,
                int                 *first_video,
                GPtrArray          **foreign,
                GError             **error)
{
  g_autoptr(LtPlaylist) playlist = lt_playlist_new (LT_PLAYLIST_TYPE_VOD, key);
  const LtIndexSlice *prev = NULL;
  gint64 longest = 0;
  gint64 total = 0;
  int video = -1;

  *foreign = NULL;
  for (guint i = 0; i < n_slices; i++)
    {
      const LtIndexSlice *slice = &slices[i];
      gboolean same_bucket = slice->bucket != NULL && slice->object_key != NULL &&
                             g_strcmp0 (slice->bucket, bucket) == 0 &&
                             (target == NULL ||
                              g_strcmp0 (slice->target != NULL ? slice->target
                                                               : LT_STORAGE_LOCAL_TARGET,
                                         target) == 0);
      gboolean discontinuity = FALSE;

      if (slice->start_time_us + slice->duration_us <= start_us)
        continue;
      if (end_included ? slice->start_time_us > end_us : slice->start_time_us >= end_us)
        continue;
      /* A slice that is neither in this bucket, nor in S3, nor on disk cannot be
       * referenced. */
      if (!same_bucket && slice->url == NULL && slice->local_path == NULL)
        continue;

      /* A gap where the timeline splits its ranges (the same tolerance), a reconnect or
       * another session: #EXT-X-DISCONTINUITY. */
      if (prev != NULL)
        discontinuity =
          slice->start_time_us - (prev->start_time_us + prev->duration_us) >
            LT_TIMELINE_MERGE_TOLERANCE_US ||
          slice->discontinuity_seq != prev->discontinuity_seq ||
          slice->session_id != prev->session_id;

      if (same_bucket)
        lt_playlist_add_segment (playlist, slice->object_key, slice->duration_us,
                                 slice->start_time_us, discontinuity);
      else
        {
          g_autofree char *uri = slice->url != NULL
                                 ? g_strdup (slice->url)
                                 : g_filename_to_uri (slice->local_path, NULL, NULL);

          if (uri == NULL)
            continue;
          if (*foreign == NULL)
            *foreign = g_ptr_array_new_with_free_func (g_free);
          g_ptr_array_set_size (*foreign, lt_playlist_get_n_segments (playlist) + 1);
          (*foreign)->pdata[lt_playlist_get_n_segments (playlist)] = g_steal_pointer (&uri);
          /* The key only has to be safe; the rendered URI is replaced. */
          lt_playlist_add_segment (playlist, "foreign.ts", slice->duration_us,
                                   slice->start_time_us, discontinuity);
        }

      if (video < 0 && slice->width > 0 && slice->height > 0)
        video = (int) i;
      longest = MAX (longest, slice->duration_us);
      total += slice->duration_us;
      prev = slice;
    }

  if (prev == NULL)
    {
      g_clear_pointer (foreign, g_ptr_array_unref);
      g_set_error (error, LT_INDEX_FILES_ERROR, LT_INDEX_FILES_ERROR_NO_CONTENT,
                   _("Nothing was recorded in the requested time range"));
      return NULL;
    }

  lt_playlist_set_target_duration (playlist,
                                   (guint) MAX (1, (longest + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC));
  lt_playlist_set_ended (playlist, TRUE);
  *duration_us = total;
  *first_video = video;
  return g_steal_pointer (&playlist);
}

/* Renders @playlist, with the URIs of the segments in @foreign replaced. */
static char *
render (LtPlaylist *playlist,
        GPtrArray  *foreign)
{
  g_autofree char *text = lt_playlist_to_string (playlist);
  g_auto(GStrv) lines = NULL;
  GString *out;
  guint segment = 0;

  if (foreign == NULL)
    return g_steal_pointer (&text);

  lines = g_strsplit (text, "\n", -1);
  out = g_string_sized_new (strlen (text) + 64 * foreign->len);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];

      if (line[0] != '\0' && line[0] != '#')
        {
          if (segment < foreign->len && foreign->pdata[segment] != NULL)
            line = foreign->pdata[segment];
          segment++;
        }
      g_string_append (out, line);
      if (lines[i + 1] != NULL)
        g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

char *
lt_index_files_render (const char          *bucket,
                       const char          *key,
                       const LtIndexSlice  *slices,
                       guint                n_slices,
                       gint64               start_us,
                       gint64               end_us,
                       gboolean             end_included,
                       gint64              *duration_us,
                       int                 *first_video,
                       GError             **error)
{
  g_autoptr(LtPlaylist) playlist = NULL;
  g_autoptr(GPtrArray) foreign = NULL;
  gint64 duration = 0;
  int video = -1;

  g_return_val_if_fail (key != NULL, NULL);

  playlist = build_playlist (NULL, bucket, key, slices, n_slices, start_us, end_us, end_included,
                             &duration, &video, &foreign, error);
  if (playlist == NULL)
    return NULL;
  if (duration_us != NULL)
    *duration_us = duration;
  if (first_video != NULL)
    *first_video = video;
  return render (playlist, foreign);
}

/* Catalog jobs -------------------------------------------------------------------------- */

typedef struct
{
  char    *local_root;
  char    *domain;
  char    *app;
  char    *stream;
  gint64   start_time;
  gint64   end_time;
  gboolean end_time_included;
  char    *endpoint;
  char    *bucket;
  char    *object_template;
  char    *s3_target;      /* an S3 target: written to its spool (local_root), queued */
  char    *bucket_url;     /* its objects' URL prefix */
  GHashTable *s3_targets;  /* name → LtStorageTarget: where slices in S3 live */
} CreateJob;

static void
create_job_free (gpointer data)
{
  CreateJob *job = data;

  g_free (job->local_root);
  g_free (job->domain);
  g_free (job->app);
  g_free (job->stream);
  g_free (job->endpoint);
  g_free (job->bucket);
  g_free (job->object_template);
  g_free (job->s3_target);
  g_free (job->bucket_url);
  g_clear_pointer (&job->s3_targets, g_hash_table_unref);
  g_free (job);
}

/* @shared: the text repeats from row to row (a bucket), so one copy serves them all; keys
 * and paths are unique, and hashing them would only cost time. */
static const char *
column_text (sqlite3_stmt *stmt,
             int           column,
             GStringChunk *chunk,
             gboolean      shared)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  if (text == NULL)
    return NULL;
  return shared ? g_string_chunk_insert_const (chunk, text) : g_string_chunk_insert (chunk, text);
}

static gboolean
read_slices (sqlite3       *db,
             gint64         stream_id,
             gint64         start_us,
             gint64         end_us,
             GArray        *slices,
             GStringChunk  *chunk,
             GError       **error)
{
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "SELECT session_id, start_time_us, duration_us, discontinuity_seq,"
                          "       bucket, object_key, local_path, width, height, target"
                          "  FROM slices"
                          " WHERE stream_id = ? AND start_time_us >= ? AND start_time_us <= ?"
                          "   AND start_time_us + duration_us > ?"
                          "   AND state IN ('closed', 'uploaded')"
                          /* In the index's own order (rowid last): no sort. */
                          " ORDER BY start_time_us, duration_us, id",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, stream_id);
  sqlite3_bind_int64 (stmt, 2, start_us - LT_TIMELINE_SLICE_LOOKBACK_US);
  sqlite3_bind_int64 (stmt, 3, end_us);
  sqlite3_bind_int64 (stmt, 4, start_us);
  while (lt_catalog_next_row (stmt, error))
    {
      LtIndexSlice slice = {
        .session_id = sqlite3_column_int64 (stmt, 0),
        .start_time_us = sqlite3_column_int64 (stmt, 1),
        .duration_us = sqlite3_column_int64 (stmt, 2),
        .discontinuity_seq = sqlite3_column_int64 (stmt, 3),
        .bucket = column_text (stmt, 4, chunk, TRUE),
        .object_key = column_text (stmt, 5, chunk, FALSE),
        .local_path = column_text (stmt, 6, chunk, FALSE),
        .width = sqlite3_column_int (stmt, 7),
        .height = sqlite3_column_int (stmt, 8),
        .target = column_text (stmt, 9, chunk, TRUE),
      };

      g_array_append_val (slices, slice);
    }
  return error == NULL || *error == NULL;
}

/* Slices stored in S3 elsewhere than the index file (another target, another bucket) are
 * referenced by their object's URL: that is where their data lives, their spool copy goes
 * after the keep period. A slice of the local target keeps its file:// URI. */
static void
locate_foreign_slices (CreateJob    *job,
                       GArray       *slices,
                       GStringChunk *chunk)
{
  const char *own_target = job->s3_target != NULL ? job->s3_target : LT_STORAGE_LOCAL_TARGET;
  g_autoptr(GHashTable) prefixes = NULL;

  if (job->s3_targets == NULL)
    return;
  prefixes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < slices->len; i++)
    {
      LtIndexSlice *slice = &g_array_index (slices, LtIndexSlice, i);
      LtStorageTarget *target;
      g_autofree char *prefix_key = NULL;
      g_autofree char *encoded = NULL;
      g_autofree char *url = NULL;
      char *prefix;

      if (slice->target == NULL || slice->bucket == NULL || slice->object_key == NULL
          || (g_strcmp0 (slice->target, own_target) == 0
              && g_strcmp0 (slice->bucket, job->bucket) == 0)
          || (target = g_hash_table_lookup (job->s3_targets, slice->target)) == NULL)
        continue;
      prefix_key = g_strconcat (slice->target, "/", slice->bucket, NULL);
      prefix = g_hash_table_lookup (prefixes, prefix_key);
      if (prefix == NULL)
        {
          prefix = lt_storage_target_dup_bucket_url (target, slice->bucket);
          if (prefix == NULL)
            continue;
          g_hash_table_insert (prefixes, g_steal_pointer (&prefix_key), prefix);
        }
      encoded = lt_s3_sigv4_uri_encode (slice->object_key, -1, TRUE);
      url = g_strconcat (prefix, encoded, NULL);
      slice->url = g_string_chunk_insert (chunk, url);
    }
}

static gpointer
create_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  CreateJob *job = data;
  g_autoptr(LtIndexFile) file = NULL;
  g_autoptr(GArray) slices = g_array_new (FALSE, FALSE, sizeof (LtIndexSlice));
  g_autoptr(GStringChunk) chunk = g_string_chunk_new (4096);
  g_autoptr(LtPlaylist) playlist = NULL;
  g_autoptr(GPtrArray) foreign = NULL;
  g_autofree char *key = NULL;
  const char *tmpl;
  LtTemplateVars vars = { 0 };
  gint64 start_us = job->start_time * G_USEC_PER_SEC;
  gint64 end_us = job->end_time * G_USEC_PER_SEC;
  gint64 stream_id;
  gint64 duration = 0;
  int video = -1;
  sqlite3_stmt *stmt;

  if (!lt_index_files_check_range (job->start_time, job->end_time, error))
    return NULL;
  if (!_lt_timeline_lookup_stream (db, job->domain, job->app, job->stream, &stream_id,
                                   error))
    return NULL;
  if (stream_id == 0)
    {
      g_set_error (error, LT_INDEX_FILES_ERROR, LT_INDEX_FILES_ERROR_NO_CONTENT,
                   _("Nothing was recorded in the requested time range"));
      return NULL;
    }
  if (!read_slices (db, stream_id, start_us, end_us, slices, chunk, error))
    return NULL;
  locate_foreign_slices (job, slices, chunk);

  tmpl = job->object_template != NULL && job->object_template[0] != '\0'
    ? job->object_template : LT_INDEX_FILES_DEFAULT_OBJECT;
  vars.domain_name = job->domain;
  vars.app_name = job->app;
  vars.stream_name = job->stream;
  vars.start_time = job->start_time;
  vars.end_time = job->end_time;
  vars.unix_timestamp = job->start_time;
  key = lt_template_expand_with_extension (tmpl, &vars,
                                           g_str_has_suffix (tmpl, ".m3u8") ? NULL : ".m3u8",
                                           error);
  if (key == NULL)
    return NULL;

  playlist = build_playlist (job->s3_target != NULL ? job->s3_target : LT_STORAGE_LOCAL_TARGET,
                             job->bucket, key, (const LtIndexSlice *) (gpointer) slices->data,
                             slices->len, start_us, end_us, job->end_time_included,
                             &duration, &video, &foreign, error);
  if (playlist == NULL)
    return NULL;

  if (!lt_storage_prepare_bucket (job->local_root,
                                  job->s3_target != NULL ? LT_STORAGE_LOCAL_TARGET : job->endpoint,
                                  job->bucket, error))
    return NULL;

  file = g_new0 (LtIndexFile, 1);
  file->record_id = g_uuid_string_random ();
  file->domain = g_strdup (job->domain);
  file->app = g_strdup (job->app);
  file->stream = g_strdup (job->stream);
  file->start_time_us = start_us;
  file->end_time_us = end_us;
  file->duration_us = duration;
  if (video >= 0)
    {
      file->width = g_array_index (slices, LtIndexSlice, video).width;
      file->height = g_array_index (slices, LtIndexSlice, video).height;
    }
  file->create_time = g_get_real_time () / G_USEC_PER_SEC;
  file->endpoint = g_strdup (job->s3_target != NULL ? job->s3_target : LT_STORAGE_LOCAL_TARGET);
  file->bucket = g_strdup (job->bucket);
  file->object_key = g_strdup (key);
  file->local_path = g_build_filename (job->local_root, job->bucket, key, NULL);
  if (job->s3_target != NULL)
    {
      /* In the bucket: where the index file is read from once uploaded. */
      g_autofree char *encoded = lt_s3_sigv4_uri_encode (key, -1, TRUE);

      file->url = g_strconcat (job->bucket_url, encoded, NULL);
    }
  else
    file->url = g_filename_to_uri (file->local_path, NULL, error);
  if (file->url == NULL)
    return NULL;

  if (foreign == NULL)
    {
      if (!lt_playlist_write_file (playlist, file->local_path, error))
        return NULL;
    }
  else
    {
      /* Absolute URIs: LtPlaylist only writes relative ones, so write the text ourselves,
       * as atomically (temporary file, fsync, rename). */
      g_autofree char *text = render (playlist, foreign);
      g_autofree char *dir = g_path_get_dirname (file->local_path);

      if (g_mkdir_with_parents (dir, 0755) != 0 ||
          !g_file_set_contents_full (file->local_path, text, -1,
                                     G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                     0644, error))
        {
          if (error != NULL && *error == NULL)
            g_set_error (error, LT_INDEX_FILES_ERROR, LT_INDEX_FILES_ERROR_FAILED,
                         _("Could not create the folder “%s”"), dir);
          return NULL;
        }
    }

  /* The record and, for an S3 target, its upload: one transaction. */
  if (!lt_catalog_begin (db, error))
    return NULL;
  stmt = lt_catalog_stmt (db,
                          "INSERT INTO index_files (record_id, stream_id, start_time_us,"
                          "  end_time_us, duration_us, end_time_included, width, height,"
                          "  create_time, target, bucket, object_key, local_path, url)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, file->record_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, stream_id);
  sqlite3_bind_int64 (stmt, 3, file->start_time_us);
  sqlite3_bind_int64 (stmt, 4, file->end_time_us);
  sqlite3_bind_int64 (stmt, 5, file->duration_us);
  sqlite3_bind_int (stmt, 6, job->end_time_included ? 1 : 0);
  if (file->width > 0)
    {
      sqlite3_bind_int (stmt, 7, file->width);
      sqlite3_bind_int (stmt, 8, file->height);
    }
  sqlite3_bind_int64 (stmt, 9, file->create_time);
  sqlite3_bind_text (stmt, 10, file->endpoint, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 11, file->bucket, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 12, file->object_key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 13, file->local_path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 14, file->url, -1, SQLITE_TRANSIENT);
  if (!lt_catalog_step_done (stmt, error))
    goto fail;
  /* After every slice queued before it (-1), so that it never names a missing object. */
  if (job->s3_target != NULL &&
      _lt_sync_enqueue_in_transaction (db, job->s3_target, job->bucket, key, file->local_path,
                                       LT_SYNC_KIND_INDEX, 0, NULL, -1, 0, error) == 0)
    goto fail;
  if (!lt_catalog_commit (db, error))
    goto fail;

  return g_steal_pointer (&file);

fail:
  lt_catalog_rollback (db);
  return NULL;
}

#define SYNC_ENGINE_KEY "lt-index-files-sync-engine"

/* The S3 targets by name, for the catalog job (locate_foreign_slices): a target is not
 * changed once made (an edit replaces it), so the job may read the references it holds. */
static GHashTable *
snapshot_s3_targets (LtStorageTargets *targets)
{
  GHashTable *table;
  guint n;

  table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  n = g_list_model_get_n_items (G_LIST_MODEL (targets));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LtStorageTarget) target = g_list_model_get_item (G_LIST_MODEL (targets), i);

      if (lt_storage_target_get_kind (target) == LT_STORAGE_TARGET_KIND_S3)
        {
          char *name = g_strdup (lt_storage_target_get_name (target));

          g_hash_table_insert (table, name, g_steal_pointer (&target));
        }
    }
  return table;
}

void
_lt_index_files_set_sync_engine (LtCatalog    *catalog,
                                 LtSyncEngine *sync)
{
  g_return_if_fail (LT_IS_CATALOG (catalog));
  g_return_if_fail (sync == NULL || LT_IS_SYNC_ENGINE (sync));

  /* Borrowed, not a reference (the sync engine holds the catalog): whoever sets it clears
   * it before dropping the sync engine, as lt_engine_dispose() does. */
  g_object_set_data (G_OBJECT (catalog), SYNC_ENGINE_KEY, sync);
}

void
lt_index_files_create_async (LtCatalog                *catalog,
                             const char               *local_root,
                             const LtIndexFileRequest *request,
                             GCancellable             *cancellable,
                             GAsyncReadyCallback       callback,
                             gpointer                  user_data)
{
  CreateJob *job;

  g_return_if_fail (LT_IS_CATALOG (catalog));
  g_return_if_fail (local_root != NULL);
  g_return_if_fail (request != NULL);

  job = g_new0 (CreateJob, 1);
  job->local_root = g_strdup (local_root);
  job->domain = g_strdup (request->domain);
  job->app = g_strdup (request->app);
  job->stream = g_strdup (request->stream);
  job->start_time = request->start_time;
  job->end_time = request->end_time;
  job->end_time_included = request->end_time_included;
  job->endpoint = g_strdup (request->endpoint);
  job->bucket = g_strdup (request->bucket);
  job->object_template = g_strdup (request->object_template);
  {
    LtSyncEngine *sync = g_object_get_data (G_OBJECT (catalog), SYNC_ENGINE_KEY);

    /* An S3 target: the index file goes to its spool and is uploaded from there. */
    if (sync != NULL && !lt_storage_is_local_endpoint (request->endpoint))
      job->s3_target = lt_sync_engine_resolve_target (sync, request->endpoint);
    if (job->s3_target != NULL)
      {
        g_autofree char *root = lt_sync_engine_spool_root (sync, job->s3_target, NULL);

        job->bucket_url = lt_sync_engine_dup_bucket_url (sync, job->s3_target, request->bucket);
        if (root != NULL && job->bucket_url != NULL)
          {
            g_free (job->local_root);
            job->local_root = g_steal_pointer (&root);
          }
        else
          g_clear_pointer (&job->s3_target, g_free);
      }
    if (sync != NULL && lt_sync_engine_get_targets (sync) != NULL)
      job->s3_targets = snapshot_s3_targets (LT_STORAGE_TARGETS (lt_sync_engine_get_targets (sync)));
  }
  lt_catalog_run_async (catalog, create_job, job, create_job_free,
                        (GDestroyNotify) lt_index_file_free, cancellable, callback, user_data);
}

LtIndexFile *
lt_index_files_create_finish (LtCatalog     *catalog,
                              GAsyncResult  *result,
                              GError       **error)
{
  return lt_catalog_run_finish (catalog, result, error);
}

/* Lookup and list ----------------------------------------------------------------------- */

#define FILE_COLUMNS \
  "i.record_id, s.domain, s.app, s.stream, i.start_time_us, i.end_time_us, i.duration_us," \
  " i.width, i.height, i.create_time, i.target, i.bucket, i.object_key, i.local_path, i.url"

static LtIndexFile *
file_from_row (sqlite3_stmt *stmt)
{
  LtIndexFile *file = g_new0 (LtIndexFile, 1);

  file->record_id = lt_catalog_column_dup (stmt, 0);
  file->domain = lt_catalog_column_dup (stmt, 1);
  file->app = lt_catalog_column_dup (stmt, 2);
  file->stream = lt_catalog_column_dup (stmt, 3);
  file->start_time_us = sqlite3_column_int64 (stmt, 4);
  file->end_time_us = sqlite3_column_int64 (stmt, 5);
  file->duration_us = sqlite3_column_int64 (stmt, 6);
  file->width = sqlite3_column_int (stmt, 7);
  file->height = sqlite3_column_int (stmt, 8);
  file->create_time = sqlite3_column_int64 (stmt, 9);
  file->endpoint = lt_catalog_column_dup (stmt, 10);
  file->bucket = lt_catalog_column_dup (stmt, 11);
  file->object_key = lt_catalog_column_dup (stmt, 12);
  file->local_path = lt_catalog_column_dup (stmt, 13);
  file->url = lt_catalog_column_dup (stmt, 14);
  return file;
}

typedef struct
{
  char    *domain;
  char    *app;
  char    *stream;
  char    *record_id;
  gint64   start_time;
  gint64   end_time;
  gboolean descending;
  guint    page_num;
  guint    page_size;
} QueryJob;

static void
query_job_free (gpointer data)
{
  QueryJob *job = data;

  g_free (job->domain);
  g_free (job->app);
  g_free (job->stream);
  g_free (job->record_id);
  g_free (job);
}

static gpointer
lookup_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  QueryJob *job = data;
  sqlite3_stmt *stmt;
  LtIndexFile *file;

  stmt = lt_catalog_stmt (db,
                          "SELECT " FILE_COLUMNS " FROM index_files i"
                          "  JOIN streams s ON s.id = i.stream_id"
                          " WHERE s.domain = ? AND s.app = ? AND s.stream = ? AND i.record_id = ?",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, job->domain, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, job->app, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, job->stream, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, job->record_id, -1, SQLITE_TRANSIENT);
  if (!lt_catalog_next_row (stmt, error))
    {
      if (error == NULL || *error == NULL)
        g_set_error (error, LT_INDEX_FILES_ERROR, LT_INDEX_FILES_ERROR_NOT_FOUND,
                     _("There is no index file “%s” of this stream"), job->record_id);
      return NULL;
    }
  file = file_from_row (stmt);
  sqlite3_reset (stmt);
  return file;
}

void
lt_index_files_lookup_async (LtCatalog           *catalog,
                             const char          *domain,
                             const char          *app,
                             const char          *stream,
                             const char          *record_id,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  QueryJob *job = g_new0 (QueryJob, 1);

  job->domain = g_strdup (domain);
  job->app = g_strdup (app);
  job->stream = g_strdup (stream);
  job->record_id = g_strdup (record_id);
  lt_catalog_run_async (catalog, lookup_job, job, query_job_free,
                        (GDestroyNotify) lt_index_file_free, cancellable, callback, user_data);
}

LtIndexFile *
lt_index_files_lookup_finish (LtCatalog     *catalog,
                              GAsyncResult  *result,
                              GError       **error)
{
  return lt_catalog_run_finish (catalog, result, error);
}

typedef struct
{
  GPtrArray *files;
  guint64    total;
} ListResult;

static void
list_result_free (gpointer data)
{
  ListResult *list = data;

  g_ptr_array_unref (list->files);
  g_free (list);
}

static gpointer
list_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  QueryJob *job = data;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_index_file_free);
  ListResult *list;
  sqlite3_stmt *stmt;
  gint64 stream_id;
  guint64 total = 0;

  if (!_lt_timeline_lookup_stream (db, job->domain, job->app, job->stream, &stream_id,
                                   error))
    return NULL;

  if (stream_id != 0)
    {
      stmt = lt_catalog_stmt (db,
                              "SELECT count(*) FROM index_files"
                              " WHERE stream_id = ? AND start_time_us < ? AND end_time_us > ?",
                              error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, stream_id);
      sqlite3_bind_int64 (stmt, 2, job->end_time * G_USEC_PER_SEC);
      sqlite3_bind_int64 (stmt, 3, job->start_time * G_USEC_PER_SEC);
      if (!lt_catalog_next_row (stmt, error))
        return NULL;
      total = (guint64) sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);

      stmt = lt_catalog_stmt (db,
                              job->descending
                              ? "SELECT " FILE_COLUMNS " FROM index_files i"
                                "  JOIN streams s ON s.id = i.stream_id"
                                " WHERE i.stream_id = ? AND i.start_time_us < ? AND i.end_time_us > ?"
                                " ORDER BY i.start_time_us DESC, i.record_id DESC LIMIT ? OFFSET ?"
                              : "SELECT " FILE_COLUMNS " FROM index_files i"
                                "  JOIN streams s ON s.id = i.stream_id"
                                " WHERE i.stream_id = ? AND i.start_time_us < ? AND i.end_time_us > ?"
                                " ORDER BY i.start_time_us ASC, i.record_id ASC LIMIT ? OFFSET ?",
                              error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, stream_id);
      sqlite3_bind_int64 (stmt, 2, job->end_time * G_USEC_PER_SEC);
      sqlite3_bind_int64 (stmt, 3, job->start_time * G_USEC_PER_SEC);
      sqlite3_bind_int64 (stmt, 4, job->page_size);
      sqlite3_bind_int64 (stmt, 5, (gint64) (job->page_num - 1) * job->page_size);
      while (lt_catalog_next_row (stmt, error))
        g_ptr_array_add (files, file_from_row (stmt));
      if (error != NULL && *error != NULL)
        return NULL;
    }

  list = g_new0 (ListResult, 1);
  list->files = g_steal_pointer (&files);
  list->total = total;
  return list;
}

void
lt_index_files_list_async (LtCatalog           *catalog,
                           const char          *domain,
                           const char          *app,
                           const char          *stream,
                           gint64               start_time,
                           gint64               end_time,
                           gboolean             descending,
                           guint                page_num,
                           guint                page_size,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  QueryJob *job = g_new0 (QueryJob, 1);

  g_return_if_fail (page_num >= 1);

  job->domain = g_strdup (domain);
  job->app = g_strdup (app);
  job->stream = g_strdup (stream);
  job->start_time = start_time;
  job->end_time = end_time;
  job->descending = descending;
  job->page_num = page_num;
  job->page_size = page_size;
  lt_catalog_run_async (catalog, list_job, job, query_job_free, list_result_free,
                        cancellable, callback, user_data);
}

GPtrArray *
lt_index_files_list_finish (LtCatalog     *catalog,
                            GAsyncResult  *result,
                            guint64       *total_num,
                            GError       **error)
{
  ListResult *list = lt_catalog_run_finish (catalog, result, error);
  GPtrArray *files;

  if (list == NULL)
    return NULL;
  files = g_steal_pointer (&list->files);
  if (total_num != NULL)
    *total_num = list->total;
  g_free (list);
  return files;
}
