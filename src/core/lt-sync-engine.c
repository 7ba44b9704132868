/* lt-sync-engine.c: the sync engine (SPEC section 7) on the catalog's upload_outbox and
 * upload_parts tables.
 *
 * One pass at a time (on the main context) asks the catalog for the due rows, oldest
 * first, whose dependencies are stored, and starts uploads within the limits: at most
 * `concurrency` in all, one per object key at a time (a re-pointed playlist never overtakes
 * its older content), none for a paused or failing target (so a failing target never blocks
 * the others: its rows are simply passed over). A pass runs every second, when a slot
 * frees and when something is queued.
 *
 * An upload reads its data on a thread (the whole file for a single PUT; one part at a
 * time for multipart), computes its MD5, sends it with Content-MD5 and compares the ETag.
 * A row with a recorded MD5 (a slice, hashed by the recorder as it wrote it) skips the
 * hashing pass while its file still has the recorded size; if the server refuses that MD5
 * or its ETag differs, the MD5 is dropped (also in the catalog) and the file hashed.
 * Each stored part is written to upload_parts before the next is sent, so a kill -9 loses
 * at most the parts in flight. Completion, failure and backoff are catalog jobs queued in
 * order on the one worker thread.
 *
 * Spool copies are removed by a cleanup pass once a row is done and its keep period is
 * over; the row is deleted in the same durable job that records it.
 *
 * A live playlist is read when its upload starts, so it may already name a slice that was
 * written after its row was last re-pointed (the recorder rewrites the playlist a moment
 * before the slice's catalog job queues it); the window is that moment, and the next
 * version (at the latest the final one, which waits for every slice) corrects it.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "lt-s3-client.h"
#include "lt-storage-targets.h"
#include "lt-sync-engine.h"
#include "lt-template.h"

#define PICK_LIMIT 64
#define POLL_INTERVAL_MS 1000
#define CHANGED_INTERVAL_US (250 * G_TIME_SPAN_MILLISECOND)
#define THROUGHPUT_WINDOW_US (5 * G_USEC_PER_SEC)
#define CLEANUP_INTERVAL_US (30 * G_USEC_PER_SEC)
#define DEFAULT_REQUEST_TIMEOUT_MS 30000
/* A clock-skew retry happens at once, but not forever. */
#define MAX_SKEW_RETRIES 3

G_DEFINE_QUARK (lt-sync-engine-error-quark, lt_sync_engine_error)

static const char *kind_names[] = { "slice", "playlist", "file", "index" };

const char *
lt_sync_kind_to_string (LtSyncKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (kind_names), NULL);
  return kind_names[kind];
}

static LtSyncKind
kind_from_string (const char *text)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (g_strcmp0 (text, kind_names[i]) == 0)
      return i;
  return LT_SYNC_KIND_FILE;
}

/* ---- LtSyncFailure ---- */

struct _LtSyncFailure
{
  GObject     parent_instance;
  gint64      id;
  char       *target;
  char       *bucket;
  char       *object_key;
  LtSyncKind  kind;
  char       *last_error;
  guint       attempts;
};

G_DEFINE_FINAL_TYPE (LtSyncFailure, lt_sync_failure, G_TYPE_OBJECT)

static void
lt_sync_failure_finalize (GObject *object)
{
  LtSyncFailure *self = LT_SYNC_FAILURE (object);

  g_free (self->target);
  g_free (self->bucket);
  g_free (self->object_key);
  g_free (self->last_error);
  G_OBJECT_CLASS (lt_sync_failure_parent_class)->finalize (object);
}

static void
lt_sync_failure_class_init (LtSyncFailureClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = lt_sync_failure_finalize;
}

static void
lt_sync_failure_init (LtSyncFailure *self)
{
}

gint64
lt_sync_failure_get_id (LtSyncFailure *self)
{
  g_return_val_if_fail (LT_IS_SYNC_FAILURE (self), 0);
  return self->id;
}

const char *
lt_sync_failure_get_target (LtSyncFailure *self)
{
  g_return_val_if_fail (LT_IS_SYNC_FAILURE (self), NULL);
  return self->target;
}

const char *
lt_sync_failure_get_bucket (LtSyncFailure *self)
{
  g_return_val_if_fail (LT_IS_SYNC_FAILURE (self), NULL);
  return self->bucket;
}

const char *
lt_sync_failure_get_object_key (LtSyncFailure *self)
{
  g_return_val_if_fail (LT_IS_SYNC_FAILURE (self), NULL);
  return self->object_key;
}

LtSyncKind
lt_sync_failure_get_kind (LtSyncFailure *self)
{
  g_return_val_if_fail (LT_IS_SYNC_FAILURE (self), LT_SYNC_KIND_FILE);
  return self->kind;
}

const char *
lt_sync_failure_get_last_error (LtSyncFailure *self)
{
  g_return_val_if_fail (LT_IS_SYNC_FAILURE (self), NULL);
  return self->last_error;
}

guint
lt_sync_failure_get_attempts (LtSyncFailure *self)
{
  g_return_val_if_fail (LT_IS_SYNC_FAILURE (self), 0);
  return self->attempts;
}

void
lt_sync_target_status_free (LtSyncTargetStatus *status)
{
  if (status == NULL)
    return;
  g_free (status->target);
  g_free (status->current_key);
  g_free (status->last_error);
  g_free (status);
}

/* ---- rows ---- */

typedef struct
{
  gint64      id;
  char       *target;
  char       *bucket;
  char       *key;
  char       *local_path;
  LtSyncKind  kind;
  guint       attempts;
  gint64      size;
  char       *upload_id;
  char       *content_md5;    /* hex, hashed by whoever wrote the file; NULL: unknown */
} Row;

static void
row_free (Row *row)
{
  if (row == NULL)
    return;
  g_free (row->target);
  g_free (row->bucket);
  g_free (row->key);
  g_free (row->local_path);
  g_free (row->upload_id);
  g_free (row->content_md5);
  g_free (row);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Row, row_free)

#define ROW_COLUMNS "o.id, o.target, o.bucket, o.object_key, o.local_path, o.kind, o.attempts, " \
                    "o.size, o.upload_id, o.content_md5"
/* RETURNING cannot name the table's alias. */
#define ROW_COLUMNS_PLAIN "id, target, bucket, object_key, local_path, kind, attempts, size, " \
                          "upload_id, content_md5"

static Row *
row_from_stmt (sqlite3_stmt *stmt)
{
  Row *row = g_new0 (Row, 1);
  g_autofree char *kind = NULL;

  row->id = sqlite3_column_int64 (stmt, 0);
  row->target = lt_catalog_column_dup (stmt, 1);
  row->bucket = lt_catalog_column_dup (stmt, 2);
  row->key = lt_catalog_column_dup (stmt, 3);
  row->local_path = lt_catalog_column_dup (stmt, 4);
  kind = lt_catalog_column_dup (stmt, 5);
  row->kind = kind_from_string (kind);
  row->attempts = sqlite3_column_int (stmt, 6);
  row->size = sqlite3_column_int64 (stmt, 7);
  row->upload_id = lt_catalog_column_dup (stmt, 8);
  row->content_md5 = lt_catalog_column_dup (stmt, 9);
  return row;
}

/* Reads "BLOCK:MD5,…" (a recording file's block MD5s, "-" where unknown) for a file of
 * @size bytes: the MD5s (NULL entries for "-"), and *@block_size; NULL when @text is not
 * such a list or does not cover exactly @size bytes. */
static GPtrArray *
part_md5s_parse (const char *text,
                 gint64      size,
                 guint64    *block_size)
{
  g_autoptr(GPtrArray) md5s = NULL;
  g_auto(GStrv) items = NULL;
  const char *colon;
  guint64 block;
  char *end;

  if (text == NULL || size <= 0 || (colon = strchr (text, ':')) == NULL)
    return NULL;
  block = g_ascii_strtoull (text, &end, 10);
  if (end != colon || block == 0 || (guint64) size > block * LT_SYNC_MAX_PARTS)
    return NULL;
  items = g_strsplit (colon + 1, ",", -1);
  if (g_strv_length (items) != ((guint64) size + block - 1) / block)
    return NULL;
  md5s = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; items[i] != NULL; i++)
    {
      if (strcmp (items[i], "-") == 0)
        g_ptr_array_add (md5s, NULL);
      else if (lt_s3_is_md5_hex (items[i]))
        g_ptr_array_add (md5s, g_ascii_strdown (items[i], -1));
      else
        return NULL;
    }
  if (block_size != NULL)
    *block_size = block;
  return g_steal_pointer (&md5s);
}

/* ---- enqueueing (worker thread) ---- */

gint64
_lt_sync_enqueue_in_transaction (sqlite3     *db,
                                 const char  *target,
                                 const char  *bucket,
                                 const char  *object_key,
                                 const char  *local_path,
                                 LtSyncKind   kind,
                                 gint64       size,
                                 const char  *content_md5,
                                 gint64       depends_on,
                                 gint64       source_id,
                                 GError     **error)
{
  g_autoptr(GPtrArray) blocks = part_md5s_parse (content_md5, size, NULL);
  g_autofree char *md5 = NULL;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (target != NULL && bucket != NULL && object_key != NULL, 0);
  g_return_val_if_fail (local_path != NULL, 0);

  /* Only a whole file's MD5 (or its blocks') is of use, and only with its size (checked
   * before sending). */
  if ((lt_s3_is_md5_hex (content_md5) || blocks != NULL) && size > 0)
    md5 = g_ascii_strdown (content_md5, -1);

  if (depends_on < 0)
    {
      stmt = lt_catalog_stmt (db, "SELECT coalesce (max (id), 0) FROM upload_outbox", error);
      if (stmt == NULL || !lt_catalog_next_row (stmt, error))
        return 0;
      depends_on = sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
    }

  /* A playlist changes while it is live: one pending row per key, re-pointed, so that a
   * stalled target does not pile up one row per slice. */
  if (kind == LT_SYNC_KIND_PLAYLIST)
    {
      stmt = lt_catalog_stmt (db,
                              "UPDATE upload_outbox SET local_path = ?4, size = ?5, "
                              "depends_on = coalesce (?6, depends_on), "
                              "source_id = coalesce (?7, source_id), content_md5 = ?8 "
                              "WHERE target = ?1 AND bucket = ?2 AND object_key = ?3 "
                              "AND state = 'pending' AND kind = 'playlist' RETURNING id",
                              error);
      if (stmt == NULL)
        return 0;
      lt_catalog_bind_text (stmt, 1, target, NULL);
      lt_catalog_bind_text (stmt, 2, bucket, NULL);
      lt_catalog_bind_text (stmt, 3, object_key, NULL);
      lt_catalog_bind_text (stmt, 4, local_path, NULL);
      sqlite3_bind_int64 (stmt, 5, size);
      if (depends_on > 0)
        sqlite3_bind_int64 (stmt, 6, depends_on);
      if (source_id > 0)
        sqlite3_bind_int64 (stmt, 7, source_id);
      lt_catalog_bind_text (stmt, 8, md5, NULL);
      if (lt_catalog_next_row (stmt, error))
        {
          gint64 id = sqlite3_column_int64 (stmt, 0);

          /* RETURNING: step to the end so the update is complete. */
          while (lt_catalog_next_row (stmt, NULL))
            ;
          return id;
        }
      if (error != NULL && *error != NULL)
        return 0;
    }

  stmt = lt_catalog_stmt (db,
                          "INSERT INTO upload_outbox (target, bucket, object_key, local_path, kind, "
                          "depends_on, size, created_at_us, source_id, content_md5) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                          error);
  if (stmt == NULL)
    return 0;
  lt_catalog_bind_text (stmt, 1, target, NULL);
  lt_catalog_bind_text (stmt, 2, bucket, NULL);
  lt_catalog_bind_text (stmt, 3, object_key, NULL);
  lt_catalog_bind_text (stmt, 4, local_path, NULL);
  lt_catalog_bind_text (stmt, 5, lt_sync_kind_to_string (kind), NULL);
  if (depends_on > 0)
    sqlite3_bind_int64 (stmt, 6, depends_on);
  sqlite3_bind_int64 (stmt, 7, size);
  sqlite3_bind_int64 (stmt, 8, g_get_real_time ());
  if (source_id > 0)
    sqlite3_bind_int64 (stmt, 9, source_id);
  lt_catalog_bind_text (stmt, 10, md5, NULL);
  if (!lt_catalog_step_done (stmt, error))
    return 0;
  return sqlite3_last_insert_rowid (db);
}

/* ---- the engine ---- */

typedef struct
{
  char     *name;
  gboolean  paused;
  gboolean  failing;
  char     *last_error;
  guint     queue_length;
  guint     failures;
  GQueue    samples;          /* Sample *: bytes sent at a time, newest last */
} TargetState;

typedef struct
{
  gint64  time_us;
  guint64 bytes;
} Sample;

static void
target_state_free (TargetState *ts)
{
  g_free (ts->name);
  g_free (ts->last_error);
  g_queue_clear_full (&ts->samples, g_free);
  g_free (ts);
}

/* A client per target and bucket: S3 clients are made for one bucket. */
typedef struct
{
  LtS3Client *client;         /* NULL while being made */
  gboolean    ready;          /* orphans swept: uploads may start */
  gboolean    preset;         /* given by lt_sync_engine_set_target_client() */
  char       *error;          /* why no client can be made, or NULL */
  guint       serial;         /* tells a slot made again under the same key from this one */
} ClientSlot;

static void
client_slot_free (ClientSlot *slot)
{
  g_clear_object (&slot->client);
  g_free (slot->error);
  g_free (slot);
}

struct _LtSyncEngine
{
  GObject        parent_instance;

  LtCatalog     *catalog;
  GObject       *targets;       /* LtStorageTargets or NULL */
  char          *spool;

  guint          concurrency;
  guint64        multipart_threshold;
  guint          keep_days;
  double         backoff_scale;
  guint          request_timeout_ms;
  LtS3Bandwidth *bandwidth;

  GHashTable    *clients;       /* "target\nbucket" → ClientSlot */
  guint          slot_serial;   /* the last ClientSlot.serial given */
  GHashTable    *tstates;       /* target → TargetState */
  GHashTable    *in_flight;     /* &id → Upload */
  GHashTable    *busy_keys;     /* "target\nbucket\nkey" → GINT count */
  GListStore    *failures;

  GCancellable  *cancellable;
  guint          poll_id;
  guint          changed_id;
  gint64         last_changed_us;
  gint64         last_cleanup_us;
  guint          started : 1;
  guint          shut_down : 1;
  guint          pass_running : 1;
  guint          pass_again : 1;
  guint          cleanup_running : 1;
};

G_DEFINE_FINAL_TYPE (LtSyncEngine, lt_sync_engine, G_TYPE_OBJECT)

enum
{
  SIGNAL_CHANGED,
  SIGNAL_TARGET_FAILING,
  SIGNAL_ROW_DONE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void schedule_pass (LtSyncEngine *self);

static char *
slot_key (const char *target,
          const char *bucket)
{
  return g_strconcat (target, "\n", bucket, NULL);
}

/* A new slot under @key, replacing any there. */
static ClientSlot *
slot_new (LtSyncEngine *self,
          const char   *key)
{
  ClientSlot *slot = g_new0 (ClientSlot, 1);

  slot->serial = ++self->slot_serial;
  g_hash_table_replace (self->clients, g_strdup (key), slot);
  return slot;
}

static char *
busy_key (const Row *row)
{
  return g_strconcat (row->target, "\n", row->bucket, "\n", row->key, NULL);
}

static TargetState *
target_state (LtSyncEngine *self,
              const char   *target)
{
  TargetState *ts = g_hash_table_lookup (self->tstates, target);

  if (ts == NULL)
    {
      ts = g_new0 (TargetState, 1);
      ts->name = g_strdup (target);
      g_queue_init (&ts->samples);
      g_hash_table_insert (self->tstates, ts->name, ts);
    }
  return ts;
}

static LtStorageTarget *
lookup_target (LtSyncEngine *self,
               const char   *name)
{
  if (self->targets == NULL)
    return NULL;
  return lt_storage_targets_lookup (LT_STORAGE_TARGETS (self->targets), name);
}

static gboolean
target_paused (LtSyncEngine *self,
               const char   *name)
{
  LtStorageTarget *target = lookup_target (self, name);
  TargetState *ts = g_hash_table_lookup (self->tstates, name);

  if (ts != NULL && ts->paused)
    return TRUE;
  return target != NULL && lt_storage_target_get_paused (target);
}

static gboolean
changed_timeout_cb (gpointer data)
{
  LtSyncEngine *self = data;

  self->changed_id = 0;
  self->last_changed_us = g_get_monotonic_time ();
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return G_SOURCE_REMOVE;
}

/* "changed" at most every CHANGED_INTERVAL_US: progress arrives per chunk sent. */
static void
emit_changed (LtSyncEngine *self)
{
  gint64 now = g_get_monotonic_time ();
  gint64 wait_us;

  if (self->changed_id != 0 || self->shut_down)
    return;
  wait_us = self->last_changed_us + CHANGED_INTERVAL_US - now;
  if (wait_us <= 0)
    {
      self->last_changed_us = now;
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
      return;
    }
  self->changed_id = g_timeout_add ((guint) (wait_us / 1000) + 1, changed_timeout_cb, self);
}

static void
publish_target_state (LtSyncEngine *self,
                      const char   *name)
{
  LtStorageTarget *target = lookup_target (self, name);
  TargetState *ts = target_state (self, name);
  LtStorageTargetState state;

  if (target == NULL)
    return;
  if (ts->failing)
    state = LT_STORAGE_TARGET_STATE_FAILING;
  else if (target_paused (self, name))
    state = LT_STORAGE_TARGET_STATE_PAUSED;
  else
    state = LT_STORAGE_TARGET_STATE_OK;
  lt_storage_target_set_state (target, state, ts->failing ? ts->last_error : NULL);
}

static void
set_target_failing (LtSyncEngine *self,
                    const char   *name,
                    const char   *message)
{
  TargetState *ts = target_state (self, name);

  if (ts->failing && g_strcmp0 (ts->last_error, message) == 0)
    return;
  ts->failing = TRUE;
  g_free (ts->last_error);
  ts->last_error = g_strdup (message);
  g_message ("Storage target %s stopped: %s", name, message);
  publish_target_state (self, name);
  g_signal_emit (self, signals[SIGNAL_TARGET_FAILING], 0, name, message);
  emit_changed (self);
}

static void
clear_target_failing (LtSyncEngine *self,
                      const char   *name)
{
  TargetState *ts = target_state (self, name);
  g_autofree char *prefix = g_strconcat (name, "\n", NULL);
  GHashTableIter iter;
  gpointer key, value;

  ts->failing = FALSE;
  g_clear_pointer (&ts->last_error, g_free);
  /* A client that could not be made (a keyring problem) is tried again. */
  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      ClientSlot *slot = value;

      if (g_str_has_prefix (key, prefix) && !slot->preset && slot->error != NULL)
        g_hash_table_iter_remove (&iter);
    }
  publish_target_state (self, name);
  emit_changed (self);
}

static void
add_sample (LtSyncEngine *self,
            const char   *target,
            guint64       bytes)
{
  TargetState *ts = target_state (self, target);
  Sample *sample;
  gint64 now = g_get_monotonic_time ();

  sample = g_new (Sample, 1);
  sample->time_us = now;
  sample->bytes = bytes;
  g_queue_push_tail (&ts->samples, sample);
  while ((sample = g_queue_peek_head (&ts->samples)) != NULL &&
         sample->time_us < now - THROUGHPUT_WINDOW_US)
    g_free (g_queue_pop_head (&ts->samples));
}

static double
throughput (TargetState *ts)
{
  gint64 now = g_get_monotonic_time ();
  guint64 bytes = 0;

  for (GList *l = ts->samples.head; l != NULL; l = l->next)
    {
      Sample *sample = l->data;

      if (sample->time_us >= now - THROUGHPUT_WINDOW_US)
        bytes += sample->bytes;
    }
  return (double) bytes * G_USEC_PER_SEC / THROUGHPUT_WINDOW_US;
}

/* ---- catalog jobs (worker thread) ---- */

typedef struct
{
  gint64   id;
  char    *target;
  char    *bucket;
  char    *text;          /* error message, upload id, etag, excluded targets (JSON) */
  gint64   time_us;
  gint64   value;
  guint    part_number;
  guint64  size;
} Op;

static void
op_free (Op *op)
{
  g_free (op->target);
  g_free (op->bucket);
  g_free (op->text);
  g_free (op);
}

typedef struct
{
  GPtrArray  *rows;       /* Row * */
  GHashTable *queued;     /* target → GUINT pending + uploading */
  GHashTable *failed;     /* target → GUINT failed */
} PickResult;

static void
pick_result_free (PickResult *result)
{
  g_clear_pointer (&result->rows, g_ptr_array_unref);
  g_clear_pointer (&result->queued, g_hash_table_unref);
  g_clear_pointer (&result->failed, g_hash_table_unref);
  g_free (result);
}

static gpointer
pick_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  Op *op = data;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);
  PickResult *result;
  GError *local_error = NULL;
  sqlite3_stmt *stmt;

  /* Due, oldest first, not of an excluded (paused, failing) target; a playlist waits for
   * the slices queued before the newest slice it names (depends_on) on its target. */
  stmt = lt_catalog_stmt (db,
                          "SELECT " ROW_COLUMNS " FROM upload_outbox o "
                          "WHERE o.state = 'pending' AND o.next_attempt_at_us <= ?1 "
                          "AND o.target NOT IN (SELECT value FROM json_each (?2)) "
                          "AND (o.depends_on IS NULL OR NOT EXISTS (SELECT 1 FROM upload_outbox s "
                          "  WHERE s.state IN ('pending', 'uploading') AND s.kind = 'slice' "
                          "  AND s.target = o.target AND s.id <= o.depends_on)) "
                          "ORDER BY o.id LIMIT ?3",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, op->time_us);
  lt_catalog_bind_text (stmt, 2, op->text, NULL);
  sqlite3_bind_int64 (stmt, 3, op->value);
  while (lt_catalog_next_row (stmt, &local_error))
    g_ptr_array_add (rows, row_from_stmt (stmt));
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }

  result = g_new0 (PickResult, 1);
  result->rows = g_steal_pointer (&rows);
  result->queued = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  result->failed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  stmt = lt_catalog_stmt (db,
                          "SELECT target, state, count(*) FROM upload_outbox "
                          "WHERE state IN ('pending', 'uploading', 'failed') GROUP BY target, state",
                          error);
  if (stmt == NULL)
    {
      pick_result_free (result);
      return NULL;
    }
  while (lt_catalog_next_row (stmt, &local_error))
    {
      const char *state = (const char *) sqlite3_column_text (stmt, 1);
      GHashTable *table = g_strcmp0 (state, "failed") == 0 ? result->failed : result->queued;
      char *target = lt_catalog_column_dup (stmt, 0);
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (table, target));

      g_hash_table_replace (table, target,
                            GUINT_TO_POINTER (n + (guint) sqlite3_column_int (stmt, 2)));
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      pick_result_free (result);
      return NULL;
    }
  return result;
}

/* Marks the row in flight; returns it as it is now, or fails NOT_FOUND when it is no
 * longer pending (retried, removed). */
static gpointer
mark_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  Op *op = data;
  sqlite3_stmt *stmt;
  Row *row;

  stmt = lt_catalog_stmt (db,
                          "UPDATE upload_outbox SET state = 'uploading', attempts = attempts + 1 "
                          "WHERE id = ?1 AND state = 'pending' RETURNING " ROW_COLUMNS_PLAIN,
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, op->id);
  if (!lt_catalog_next_row (stmt, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, LT_SYNC_ENGINE_ERROR, LT_SYNC_ENGINE_ERROR_NOT_FOUND,
                             "not pending");
      return NULL;
    }
  row = row_from_stmt (stmt);
  while (lt_catalog_next_row (stmt, NULL))
    ;
  return row;
}

/* Runs one statement about outbox row @id (?1), with @text as ?2 if the statement has one. */
static gboolean
exec_for_id (sqlite3     *db,
             const char  *sql,
             gint64       id,
             const char  *text,
             GError     **error)
{
  sqlite3_stmt *stmt = lt_catalog_stmt (db, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_bind_parameter_count (stmt) >= 2)
    lt_catalog_bind_text (stmt, 2, text, NULL);
  return lt_catalog_step_done (stmt, error);
}

/* The row's stored parts: gone once its upload is done, failed or started over. */
static gboolean
forget_parts (sqlite3  *db,
              gint64    id,
              GError  **error)
{
  return exec_for_id (db, "DELETE FROM upload_parts WHERE outbox_id = ?1", id, NULL, error);
}

static gpointer
done_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  Op *op = data;
  sqlite3_stmt *stmt;

  if (!lt_catalog_begin (db, error))
    return NULL;
  stmt = lt_catalog_stmt (db,
                          "UPDATE upload_outbox SET state = 'done', done_at_us = ?2, etag = ?3, "
                          "size = ?4, last_error = NULL WHERE id = ?1",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, op->id);
  sqlite3_bind_int64 (stmt, 2, g_get_real_time ());
  lt_catalog_bind_text (stmt, 3, op->text, NULL);
  sqlite3_bind_int64 (stmt, 4, (gint64) op->size);
  if (!lt_catalog_step_done (stmt, error))
    goto fail;
  /* The slice's or file's row says it is stored now. */
  if (!exec_for_id (db,
                    "UPDATE slices SET state = 'uploaded' WHERE id = "
                    "(SELECT source_id FROM upload_outbox WHERE id = ?1 AND kind = 'slice') "
                    "AND state = 'closed'",
                    op->id, NULL, error) ||
      !exec_for_id (db,
                    "UPDATE recording_files SET state = 'uploaded' WHERE id = "
                    "(SELECT source_id FROM upload_outbox WHERE id = ?1 "
                    " AND kind IN ('playlist', 'file')) AND state = 'closed'",
                    op->id, NULL, error) ||
      !forget_parts (db, op->id, error) || !lt_catalog_commit (db, error))
    goto fail;
  return GINT_TO_POINTER (TRUE);

fail:
  lt_catalog_rollback (db);
  return NULL;
}

/* Back to pending at op->time_us (a retry), with the error of the attempt. */
static gpointer
retry_later_job (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  Op *op = data;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "UPDATE upload_outbox SET state = 'pending', next_attempt_at_us = ?2, "
                          "last_error = coalesce (?3, last_error) WHERE id = ?1 AND state = 'uploading'",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, op->id);
  sqlite3_bind_int64 (stmt, 2, op->time_us);
  lt_catalog_bind_text (stmt, 3, op->text, NULL);
  if (!lt_catalog_step_done (stmt, error))
    return NULL;
  return GINT_TO_POINTER (TRUE);
}

static gpointer
fail_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  Op *op = data;

  if (!exec_for_id (db,
                    "UPDATE upload_outbox SET state = 'failed', last_error = ?2, "
                    "upload_id = NULL WHERE id = ?1",
                    op->id, op->text, error) ||
      !forget_parts (db, op->id, error))
    return NULL;
  return GINT_TO_POINTER (TRUE);
}

/* The row's recorded MD5 turned out stale (refused, or another ETag): from now on its file
 * is hashed before sending, also after a restart. */
static gpointer
drop_md5_job (sqlite3  *db,
              gpointer  data,
              GError  **error)
{
  Op *op = data;

  if (!exec_for_id (db, "UPDATE upload_outbox SET content_md5 = NULL WHERE id = ?1", op->id,
                    NULL, error))
    return NULL;
  return GINT_TO_POINTER (TRUE);
}

static gpointer
reset_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  if (!lt_catalog_exec (db, "UPDATE upload_outbox SET state = 'pending' WHERE state = 'uploading'",
                        error))
    return NULL;
  return GINT_TO_POINTER (TRUE);
}

static gpointer
failures_job (sqlite3  *db,
              gpointer  data,
              GError  **error)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  GError *local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "SELECT id, target, bucket, object_key, kind, last_error, attempts "
                          "FROM upload_outbox WHERE state = 'failed' ORDER BY id LIMIT 1000",
                          error);
  if (stmt == NULL)
    return NULL;
  while (lt_catalog_next_row (stmt, &local_error))
    {
      LtSyncFailure *item = g_object_new (LT_TYPE_SYNC_FAILURE, NULL);
      g_autofree char *kind = NULL;

      item->id = sqlite3_column_int64 (stmt, 0);
      item->target = lt_catalog_column_dup (stmt, 1);
      item->bucket = lt_catalog_column_dup (stmt, 2);
      item->object_key = lt_catalog_column_dup (stmt, 3);
      kind = lt_catalog_column_dup (stmt, 4);
      item->kind = kind_from_string (kind);
      item->last_error = lt_catalog_column_dup (stmt, 5);
      item->attempts = sqlite3_column_int (stmt, 6);
      g_ptr_array_add (items, item);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  return g_steal_pointer (&items);
}

/* op->id > 0: that row; else every failed row of op->target. */
static gpointer
requeue_job (sqlite3  *db,
             gpointer  data,
             GError  **error)
{
  Op *op = data;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "UPDATE upload_outbox SET state = 'pending', attempts = 0, "
                          "next_attempt_at_us = 0 WHERE state = 'failed' "
                          "AND (id = ?1 OR (?1 = 0 AND target = ?2))",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, op->id);
  lt_catalog_bind_text (stmt, 2, op->target, NULL);
  if (!lt_catalog_step_done (stmt, error))
    return NULL;
  if (op->id > 0 && sqlite3_changes (db) == 0)
    {
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, op->id);

      g_set_error (error, LT_SYNC_ENGINE_ERROR, LT_SYNC_ENGINE_ERROR_NOT_FOUND,
                   _("No failed upload with id %s"), id);
      return NULL;
    }
  return GINT_TO_POINTER (TRUE);
}

/* A new multipart upload for the row: its id stored, old parts forgotten. */
static gpointer
set_upload_id_job (sqlite3  *db,
                   gpointer  data,
                   GError  **error)
{
  Op *op = data;

  if (!lt_catalog_begin (db, error))
    return NULL;
  if (!exec_for_id (db, "UPDATE upload_outbox SET upload_id = ?2 WHERE id = ?1", op->id,
                    op->text, error) ||
      !forget_parts (db, op->id, error) || !lt_catalog_commit (db, error))
    {
      lt_catalog_rollback (db);
      return NULL;
    }
  return GINT_TO_POINTER (TRUE);
}

static gpointer
store_part_job (sqlite3  *db,
                gpointer  data,
                GError  **error)
{
  Op *op = data;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "INSERT OR REPLACE INTO upload_parts (outbox_id, part_number, etag, size) "
                          "VALUES (?1, ?2, ?3, ?4)",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, op->id);
  sqlite3_bind_int64 (stmt, 2, op->part_number);
  lt_catalog_bind_text (stmt, 3, op->text, NULL);
  sqlite3_bind_int64 (stmt, 4, (gint64) op->size);
  if (!lt_catalog_step_done (stmt, error))
    return NULL;
  return GINT_TO_POINTER (TRUE);
}

/* The stored parts of the row: GPtrArray of LtS3Part. */
static gpointer
load_parts_job (sqlite3  *db,
                gpointer  data,
                GError  **error)
{
  Op *op = data;
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_s3_part_free);
  GError *local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "SELECT part_number, etag, size FROM upload_parts WHERE outbox_id = ?1 "
                          "ORDER BY part_number",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, op->id);
  while (lt_catalog_next_row (stmt, &local_error))
    g_ptr_array_add (parts, lt_s3_part_new (sqlite3_column_int (stmt, 0),
                                            (const char *) sqlite3_column_text (stmt, 1),
                                            sqlite3_column_int64 (stmt, 2)));
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  return g_steal_pointer (&parts);
}

/* The multipart upload ids rows of op->target/op->bucket own: a GHashTable set. */
static gpointer
owned_uploads_job (sqlite3  *db,
                   gpointer  data,
                   GError  **error)
{
  Op *op = data;
  g_autoptr(GHashTable) owned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GError *local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "SELECT upload_id FROM upload_outbox WHERE target = ?1 AND bucket = ?2 "
                          "AND upload_id IS NOT NULL AND state IN ('pending', 'uploading')",
                          error);
  if (stmt == NULL)
    return NULL;
  lt_catalog_bind_text (stmt, 1, op->target, NULL);
  lt_catalog_bind_text (stmt, 2, op->bucket, NULL);
  while (lt_catalog_next_row (stmt, &local_error))
    g_hash_table_add (owned, lt_catalog_column_dup (stmt, 0));
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  return g_steal_pointer (&owned);
}

/* Spool copies whose keep period is over (done before op->time_us): the file is removed
 * and the row deleted; the slice's or file's local_path cleared. A live playlist's rows
 * (no source) never remove the file: the recorder still writes it and its final row
 * removes it. A file another row still has to send stays. Returns the number removed. */
static gpointer
cleanup_job (sqlite3  *db,
             gpointer  data,
             GError  **error)
{
  Op *op = data;
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) remove = g_array_new (FALSE, FALSE, sizeof (gboolean));
  GError *local_error = NULL;
  sqlite3_stmt *stmt;
  guint removed = 0;

  stmt = lt_catalog_stmt (db,
                          "SELECT o.id, o.local_path, "
                          "(o.source_id IS NOT NULL OR o.kind <> 'playlist') AND NOT EXISTS "
                          " (SELECT 1 FROM upload_outbox p WHERE p.object_key = o.object_key "
                          "  AND p.id <> o.id AND p.local_path = o.local_path AND p.state <> 'done') "
                          "FROM upload_outbox o WHERE o.state = 'done' AND o.done_at_us <= ?1 "
                          "ORDER BY o.id LIMIT 256",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, op->time_us);
  while (lt_catalog_next_row (stmt, &local_error))
    {
      gboolean rm = sqlite3_column_int (stmt, 2) != 0;

      g_ptr_array_add (ids, GSIZE_TO_POINTER ((gsize) sqlite3_column_int64 (stmt, 0)));
      g_ptr_array_add (paths, lt_catalog_column_dup (stmt, 1));
      g_array_append_val (remove, rm);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }

  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = (gint64) GPOINTER_TO_SIZE (g_ptr_array_index (ids, i));
      const char *path = g_ptr_array_index (paths, i);

      if (g_array_index (remove, gboolean, i))
        {
          if (g_unlink (path) != 0 && errno != ENOENT)
            {
              int saved_errno = errno;

              g_message ("Cannot remove the uploaded spool copy %s: %s", path,
                         g_strerror (saved_errno));
              continue;
            }
          removed++;
        }
      if (!lt_catalog_begin (db, error))
        return NULL;
      /* A file left in place keeps its local_path. */
      if ((g_array_index (remove, gboolean, i) &&
           (!exec_for_id (db,
                          "UPDATE slices SET local_path = NULL WHERE id = (SELECT source_id "
                          "FROM upload_outbox WHERE id = ?1 AND kind = 'slice')",
                          id, NULL, error) ||
            !exec_for_id (db,
                          "UPDATE recording_files SET local_path = NULL WHERE id = "
                          "(SELECT source_id FROM upload_outbox WHERE id = ?1 "
                          " AND kind IN ('playlist', 'file'))",
                          id, NULL, error))) ||
          !exec_for_id (db, "DELETE FROM upload_outbox WHERE id = ?1", id, NULL, error) ||
          !lt_catalog_commit (db, error))
        {
          lt_catalog_rollback (db);
          return NULL;
        }
    }
  return GUINT_TO_POINTER (removed + 1);
}

static void
run_job (LtSyncEngine        *self,
         LtCatalogJobFunc     func,
         Op                  *op,
         GDestroyNotify       result_free,
         GAsyncReadyCallback  callback,
         gpointer             user_data)
{
  lt_catalog_run_async (self->catalog, func, op, (GDestroyNotify) op_free, result_free,
                        NULL, callback, user_data);
}

static void
job_logged_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL &&
      !g_error_matches (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CLOSED))
    g_message ("Sync engine: a catalog update failed: %s", error->message);
}

/* ---- uploads (main context) ---- */

typedef struct
{
  LtSyncEngine *self;          /* a reference */
  Row          *row;
  LtS3Client   *client;
  GCancellable *cancellable;
  GFile        *file;
  guint64       size;
  guint64       sent;          /* bytes stored for good (parts) */
  guint64       request_sent;  /* bytes of the request in flight */
  guint         skew_retries;
  GBytes       *data;          /* small objects: the bytes sent */
  char         *md5_hex;
  gboolean      recorded_md5;  /* this attempt sends row->content_md5 (no hashing pass) */
  /* multipart */
  guint64       part_size;
  guint         n_parts;
  guint         next_part;
  GPtrArray    *parts;         /* LtS3Part * or NULL, index part_number - 1 */
  GPtrArray    *part_md5s;     /* recorded block MD5s matching the parts (NULL: none) */
} Upload;

static void
upload_free (Upload *upload)
{
  g_clear_object (&upload->self);
  row_free (upload->row);
  g_clear_object (&upload->client);
  g_clear_object (&upload->cancellable);
  g_clear_object (&upload->file);
  g_clear_pointer (&upload->data, g_bytes_unref);
  g_free (upload->md5_hex);
  g_clear_pointer (&upload->parts, g_ptr_array_unref);
  g_clear_pointer (&upload->part_md5s, g_ptr_array_unref);
  g_free (upload);
}

/* The upload leaves the in-flight set; the next pass may start another. */
static void
upload_end (Upload *upload)
{
  LtSyncEngine *self = upload->self;
  g_autofree char *bkey = busy_key (upload->row);
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->busy_keys, bkey));

  if (n <= 1)
    g_hash_table_remove (self->busy_keys, bkey);
  else
    g_hash_table_insert (self->busy_keys, g_steal_pointer (&bkey), GUINT_TO_POINTER (n - 1));
  /* Removing frees the upload. */
  g_object_ref (self);
  g_hash_table_remove (self->in_flight, &upload->row->id);
  emit_changed (self);
  schedule_pass (self);
  g_object_unref (self);
}

static void
refresh_failures_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(LtSyncEngine) self = user_data;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;

  items = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  if (items == NULL)
    return;
  g_list_store_splice (self->failures, 0, g_list_model_get_n_items (G_LIST_MODEL (self->failures)),
                       items->pdata, items->len);
  emit_changed (self);
}

static void
refresh_failures (LtSyncEngine *self)
{
  run_job (self, failures_job, g_new0 (Op, 1), (GDestroyNotify) g_ptr_array_unref,
           refresh_failures_cb, g_object_ref (self));
}

static void
done_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Upload *upload = user_data;
  g_autoptr(GError) error = NULL;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    g_message ("Sync engine: cannot record the upload of %s as done: %s", upload->row->key,
               error->message);
  else
    g_signal_emit (upload->self, signals[SIGNAL_ROW_DONE], 0, upload->row->id,
                   upload->row->target, upload->row->key);
  upload_end (upload);
}

static void
upload_succeeded (Upload     *upload,
                  const char *etag)
{
  Op *op = g_new0 (Op, 1);

  op->id = upload->row->id;
  op->text = g_strdup (etag);
  op->size = upload->size;
  run_job (upload->self, done_job, op, NULL, done_cb, upload);
}

static void
abort_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!lt_s3_client_abort_multipart_finish (LT_S3_CLIENT (source), result, &error) &&
      !g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_NO_SUCH_UPLOAD))
    g_message ("Cannot abort an abandoned multipart upload: %s", error->message);
}

static void
upload_failed_for_good (Upload     *upload,
                        const char *message)
{
  LtSyncEngine *self = upload->self;
  Op *op = g_new0 (Op, 1);

  g_message ("Upload of %s to %s failed: %s", upload->row->key, upload->row->target, message);
  /* Abandoned: its multipart upload must not linger in the bucket. */
  if (upload->row->upload_id != NULL)
    lt_s3_client_abort_multipart_async (upload->client, upload->row->key, upload->row->upload_id,
                                        NULL, abort_cb, NULL);
  op->id = upload->row->id;
  op->text = g_strdup (message);
  run_job (self, fail_job, op, NULL, job_logged_cb, NULL);
  refresh_failures (self);
  upload_end (upload);
}

static void
retry_upload (Upload     *upload,
              gint64      delay_us,
              const char *message)
{
  Op *op = g_new0 (Op, 1);

  op->id = upload->row->id;
  op->time_us = g_get_real_time () + delay_us;
  op->text = g_strdup (message);
  run_job (upload->self, retry_later_job, op, NULL, job_logged_cb, NULL);
  upload_end (upload);
}

static void upload_begin (Upload *upload);

/* Decides what an error means: a retry (backoff, or at once after a clock correction), the
 * target stopped, or the row failed. */
static void
upload_error (Upload *upload,
              GError *error)
{
  LtSyncEngine *self = upload->self;
  gint64 delay_us;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Shutting down: lt_sync_engine_shutdown() puts the rows back to pending. */
      upload_end (upload);
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
      g_error_matches (error, LT_SYNC_ENGINE_ERROR, LT_SYNC_ENGINE_ERROR_MISSING_FILE))
    {
      g_autofree char *message =
        g_strdup_printf (_("The local copy %s is missing, so it cannot be uploaded"),
                         upload->row->local_path);

      upload_failed_for_good (upload, message);
      return;
    }
  if (g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_CLOCK_SKEW) &&
      upload->skew_retries < MAX_SKEW_RETRIES && lt_s3_error_get_server_time (error) > 0)
    {
      gint64 offset = lt_s3_error_get_server_time (error) - g_get_real_time () / G_USEC_PER_SEC;

      g_message ("Storage target %s: the clock is %" G_GINT64_FORMAT " s off; corrected",
                 upload->row->target, offset);
      lt_s3_client_set_clock_offset (upload->client, offset);
      upload->skew_retries++;
      upload_begin (upload);
      return;
    }
  if (g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_NO_SUCH_UPLOAD) &&
      upload->row->upload_id != NULL)
    {
      /* The multipart upload is gone (aborted by someone): start a new one. */
      g_clear_pointer (&upload->row->upload_id, g_free);
      upload_begin (upload);
      return;
    }
  if (error->domain == LT_S3_ERROR && lt_s3_error_is_permanent (error))
    {
      g_autofree char *message = NULL;

      message = g_strdup_printf (_("Uploads to bucket “%s” are refused: %s"),
                                 upload->row->bucket, error->message);
      set_target_failing (self, upload->row->target, message);
      retry_upload (upload, 0, message);
      return;
    }

  delay_us = (gint64) (lt_s3_backoff_delay (upload->row->attempts, LT_S3_BACKOFF_CAP_MS) *
                       self->backoff_scale * 1000.0);
  g_debug ("Upload of %s failed (attempt %u), again in %" G_GINT64_FORMAT " ms: %s",
           upload->row->key, upload->row->attempts, delay_us / 1000, error->message);
  retry_upload (upload, delay_us, error->message);
}

static void
progress_cb (guint64  bytes_sent,
             guint64  bytes_total,
             gpointer user_data)
{
  Upload *upload = user_data;

  if (bytes_sent > upload->request_sent)
    add_sample (upload->self, upload->row->target, bytes_sent - upload->request_sent);
  upload->request_sent = bytes_sent;
  emit_changed (upload->self);
}

/* ---- single PUT ---- */

/* Forgets the row's recorded MD5, here and in the catalog (the job runs before any later
 * one about the row, so a retry or a restart reads NULL). */
static void
drop_recorded_md5 (Upload     *upload,
                   const char *why)
{
  Op *op;

  upload->recorded_md5 = FALSE;
  g_clear_pointer (&upload->part_md5s, g_ptr_array_unref);
  if (upload->row->content_md5 == NULL)
    return;
  g_debug ("Upload of %s: the recorded MD5 %s is not used (%s); hashing the file",
           upload->row->key, upload->row->content_md5, why);
  g_clear_pointer (&upload->row->content_md5, g_free);
  op = g_new0 (Op, 1);
  op->id = upload->row->id;
  run_job (upload->self, drop_md5_job, op, NULL, job_logged_cb, NULL);
}

static void
put_object_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Upload *upload = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *etag = NULL;

  etag = lt_s3_client_put_object_finish (LT_S3_CLIENT (source), result, &error);
  upload->request_sent = 0;
  /* A recorded MD5 the server refused, or that its ETag contradicts, is stale (the file
   * changed since it was hashed): it is dropped and the file sent again, hashed afresh.
   * Never recorded as done. */
  if (upload->recorded_md5 &&
      ((etag == NULL && g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_BAD_DIGEST)) ||
       (etag != NULL && g_ascii_strcasecmp (etag, upload->md5_hex) != 0)))
    {
      drop_recorded_md5 (upload, etag == NULL ? error->message : "another ETag");
      upload_begin (upload);
      return;
    }
  if (etag == NULL)
    {
      upload_error (upload, error);
      return;
    }
  upload->sent = upload->size;
  upload_succeeded (upload, etag);
}

static void
put_bytes_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Upload *upload = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *etag = NULL;

  etag = lt_s3_client_put_bytes_finish (LT_S3_CLIENT (source), result, &error);
  if (etag == NULL)
    {
      upload_error (upload, error);
      return;
    }
  /* Checked here too: a retry must never be recorded as done with other bytes. */
  if (g_ascii_strcasecmp (etag, upload->md5_hex) != 0)
    {
      g_autoptr(GError) mismatch =
        g_error_new (LT_S3_ERROR, LT_S3_ERROR_BAD_DIGEST,
                     _("The stored object's ETag %s does not match the local MD5 %s"),
                     etag, upload->md5_hex);

      upload_error (upload, mismatch);
      return;
    }
  add_sample (upload->self, upload->row->target, upload->size);
  upload->sent = upload->size;
  upload_succeeded (upload, etag);
}

/* Playlists and index files are small and may be rewritten while they are sent (a live
 * playlist): they are read once (off the main thread) and those bytes are sent and
 * checked. */
static void
small_loaded_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Upload *upload = user_data;
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents, &length, NULL, &error))
    {
      upload_error (upload, error);
      return;
    }
  g_clear_pointer (&upload->data, g_bytes_unref);
  upload->data = g_bytes_new_take (contents, length);
  upload->size = length;
  g_free (upload->md5_hex);
  upload->md5_hex = g_compute_checksum_for_bytes (G_CHECKSUM_MD5, upload->data);
  lt_s3_client_put_bytes_async (upload->client, upload->row->key, upload->data,
                                upload->row->kind == LT_SYNC_KIND_PLAYLIST ||
                                upload->row->kind == LT_SYNC_KIND_INDEX
                                  ? "application/vnd.apple.mpegurl" : NULL,
                                upload->cancellable, put_bytes_cb, upload);
}

static const char *
content_type_for (const char *key)
{
  if (g_str_has_suffix (key, ".ts"))
    return "video/mp2t";
  if (g_str_has_suffix (key, ".mp4"))
    return "video/mp4";
  if (g_str_has_suffix (key, ".flv"))
    return "video/x-flv";
  if (g_str_has_suffix (key, ".m3u8"))
    return "application/vnd.apple.mpegurl";
  return NULL;
}

/* ---- multipart ---- */

static void upload_next_part (Upload *upload);
static void multipart_begin (Upload *upload);

static void
file_md5_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_MD5);
  g_autoptr(GFileInputStream) in = NULL;
  g_autofree guchar *buffer = g_malloc (1024 * 1024);
  GError *error = NULL;
  gssize n;

  in = g_file_read (G_FILE (task_data), cancellable, &error);
  if (in == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buffer, 1024 * 1024, cancellable,
                                   &error)) > 0)
    g_checksum_update (checksum, buffer, n);
  if (n < 0)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_strdup (g_checksum_get_string (checksum)), g_free);
}

typedef struct
{
  Upload *upload;
  char   *etag;
} VerifyData;

static void
verify_md5_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  VerifyData *vd = user_data;
  Upload *upload = vd->upload;
  g_autofree char *etag = vd->etag;
  g_autoptr(GError) error = NULL;
  g_autofree char *md5 = NULL;

  g_free (vd);
  md5 = g_task_propagate_pointer (G_TASK (result), &error);
  if (md5 == NULL)
    {
      upload_error (upload, error);
      return;
    }
  if (g_ascii_strcasecmp (md5, etag) == 0)
    {
      upload->sent = upload->size;
      upload_succeeded (upload, etag);
      return;
    }
  {
    g_autoptr(GError) mismatch =
      g_error_new (LT_S3_ERROR, LT_S3_ERROR_BAD_DIGEST,
                   _("The stored object's ETag %s matches neither its parts nor the local "
                     "file"), etag);

    /* Start over with a new multipart upload: what is stored cannot be trusted. */
    g_clear_pointer (&upload->row->upload_id, g_free);
    upload_error (upload, mismatch);
  }
}

static void
verify_head_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Upload *upload = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;
  g_autofree char *expected = NULL;
  VerifyData *vd;
  char *etag;

  etag = lt_s3_client_head_object_finish (LT_S3_CLIENT (source), result, NULL, &error);
  if (etag == NULL)
    {
      /* Not stored after all: a new multipart upload. */
      if (g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_NO_SUCH_KEY))
        g_clear_pointer (&upload->row->upload_id, g_free);
      upload_error (upload, error);
      return;
    }
  expected = lt_s3_multipart_etag (upload->parts);
  if (expected != NULL && g_ascii_strcasecmp (etag, expected) == 0)
    {
      upload->sent = upload->size;
      upload_succeeded (upload, etag);
      g_free (etag);
      return;
    }
  vd = g_new0 (VerifyData, 1);
  vd->upload = upload;
  vd->etag = etag;
  task = g_task_new (NULL, upload->cancellable, verify_md5_cb, vd);
  g_task_set_source_tag (task, verify_head_cb);
  g_task_set_task_data (task, g_object_ref (upload->file), g_object_unref);
  g_task_run_in_thread (task, file_md5_thread);
}

static void
complete_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Upload *upload = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *etag = NULL;
  g_autofree char *expected = NULL;

  etag = lt_s3_client_complete_multipart_finish (LT_S3_CLIENT (source), result, &error);
  if (etag == NULL && g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_BAD_DIGEST))
    {
      /* Some servers (s3rver) give the whole object's MD5 instead of md5-of-md5s-N: the
       * object is checked against the file itself before anything is decided. */
      lt_s3_client_head_object_async (upload->client, upload->row->key, upload->cancellable,
                                      verify_head_cb, upload);
      return;
    }
  if (etag == NULL)
    {
      upload_error (upload, error);
      return;
    }
  expected = lt_s3_multipart_etag (upload->parts);
  if (expected == NULL || g_ascii_strcasecmp (etag, expected) != 0)
    {
      g_autoptr(GError) mismatch =
        g_error_new (LT_S3_ERROR, LT_S3_ERROR_BAD_DIGEST,
                     _("The stored object's ETag %s does not match the local parts (%s)"),
                     etag, expected != NULL ? expected : "?");

      /* Start over: the parts on the server are not what we sent. */
      g_clear_pointer (&upload->row->upload_id, g_free);
      upload_error (upload, mismatch);
      return;
    }
  upload->sent = upload->size;
  upload_succeeded (upload, etag);
}

static void
part_stored_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Upload *upload = user_data;
  g_autoptr(GError) error = NULL;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    {
      upload_error (upload, error);
      return;
    }
  if (g_cancellable_is_cancelled (upload->cancellable))
    {
      upload_end (upload);
      return;
    }
  upload_next_part (upload);
}

static void
upload_part_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Upload *upload = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *etag = NULL;
  guint index = upload->next_part;
  guint64 length;
  Op *op;

  etag = lt_s3_client_upload_part_finish (LT_S3_CLIENT (source), result, &error);
  upload->request_sent = 0;
  /* A recorded block MD5 the server refused, or that its ETag contradicts: the file
   * changed since it was written. The recorded MD5s go, and this part is sent again,
   * hashed (so are the ones after it). */
  if (upload->recorded_md5 &&
      ((etag == NULL && g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_BAD_DIGEST)) ||
       (etag != NULL && g_ascii_strcasecmp (etag, g_ptr_array_index (upload->part_md5s, index)) != 0)))
    {
      drop_recorded_md5 (upload, etag == NULL ? error->message : "another ETag");
      upload_next_part (upload);
      return;
    }
  if (etag == NULL)
    {
      upload_error (upload, error);
      return;
    }
  length = MIN (upload->part_size, upload->size - (guint64) index * upload->part_size);
  g_ptr_array_index (upload->parts, index) = lt_s3_part_new (index + 1, etag, length);
  upload->sent += length;

  /* Recorded before the next part is sent: a restart resumes after it. */
  op = g_new0 (Op, 1);
  op->id = upload->row->id;
  op->part_number = index + 1;
  op->text = g_strdup (etag);
  op->size = length;
  run_job (upload->self, store_part_job, op, NULL, part_stored_cb, upload);
}

static void
upload_next_part (Upload *upload)
{
  while (upload->next_part < upload->n_parts &&
         g_ptr_array_index (upload->parts, upload->next_part) != NULL)
    upload->next_part++;

  if (upload->next_part < upload->n_parts)
    {
      guint64 offset = (guint64) upload->next_part * upload->part_size;
      guint64 length = MIN (upload->part_size, upload->size - offset);

      const char *md5 = upload->part_md5s != NULL
                        ? g_ptr_array_index (upload->part_md5s, upload->next_part) : NULL;

      upload->recorded_md5 = md5 != NULL;
      if (md5 != NULL)
        lt_s3_client_upload_part_with_md5_async (upload->client, upload->row->key,
                                                 upload->row->upload_id, upload->next_part + 1,
                                                 upload->file, (goffset) offset,
                                                 (goffset) length, md5, progress_cb, upload,
                                                 NULL, upload->cancellable, upload_part_cb,
                                                 upload);
      else
        lt_s3_client_upload_part_async (upload->client, upload->row->key,
                                        upload->row->upload_id, upload->next_part + 1,
                                        upload->file, (goffset) offset, (goffset) length,
                                        progress_cb, upload, NULL, upload->cancellable,
                                        upload_part_cb, upload);
      return;
    }

  /* Every part is stored: the parts array has no holes now. */
  lt_s3_client_complete_multipart_async (upload->client, upload->row->key,
                                         upload->row->upload_id, upload->parts,
                                         upload->cancellable, complete_cb, upload);
}

static void
upload_id_stored_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Upload *upload = user_data;
  g_autoptr(GError) error = NULL;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    {
      upload_error (upload, error);
      return;
    }
  upload_next_part (upload);
}

static void
create_multipart_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Upload *upload = user_data;
  g_autoptr(GError) error = NULL;
  char *upload_id;
  Op *op;

  upload_id = lt_s3_client_create_multipart_finish (LT_S3_CLIENT (source), result, &error);
  if (upload_id == NULL)
    {
      upload_error (upload, error);
      return;
    }
  g_free (upload->row->upload_id);
  upload->row->upload_id = upload_id;
  /* Stored before any part is sent, so that a crash can resume or abort it. */
  op = g_new0 (Op, 1);
  op->id = upload->row->id;
  op->text = g_strdup (upload_id);
  run_job (upload->self, set_upload_id_job, op, NULL, upload_id_stored_cb, upload);
}

typedef struct
{
  Upload    *upload;
  GPtrArray *listed;
} ResumeData;

static void
stored_parts_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  ResumeData *rd = user_data;
  Upload *upload = rd->upload;
  g_autoptr(GPtrArray) listed = rd->listed;
  g_autoptr(GPtrArray) stored = NULL;
  g_autoptr(GError) error = NULL;

  g_free (rd);
  stored = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  if (stored == NULL)
    {
      upload_error (upload, error);
      return;
    }
  /* Only a part both the catalog and ListParts know, with the same ETag and the size it
   * must have, counts as stored. */
  for (guint i = 0; i < stored->len; i++)
    {
      LtS3Part *mine = g_ptr_array_index (stored, i);
      guint index = mine->part_number - 1;
      guint64 expected;

      if (mine->part_number < 1 || index >= upload->n_parts)
        continue;
      expected = MIN (upload->part_size, upload->size - (guint64) index * upload->part_size);
      if (mine->size != expected)
        continue;
      for (guint j = 0; j < listed->len; j++)
        {
          LtS3Part *theirs = g_ptr_array_index (listed, j);

          if (theirs->part_number == mine->part_number &&
              g_ascii_strcasecmp (theirs->etag, mine->etag) == 0 &&
              (theirs->size == 0 || theirs->size == expected) &&
              g_ptr_array_index (upload->parts, index) == NULL)
            {
              g_ptr_array_index (upload->parts, index) =
                lt_s3_part_new (mine->part_number, mine->etag, expected);
              upload->sent += expected;
            }
        }
    }
  g_debug ("Resuming %s: %u of %u parts already stored", upload->row->key,
           (guint) (upload->sent / MAX (upload->part_size, 1)), upload->n_parts);
  upload_next_part (upload);
}

static void
list_parts_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Upload *upload = user_data;
  g_autoptr(GError) error = NULL;
  GPtrArray *listed;
  ResumeData *rd;
  Op *op;

  listed = lt_s3_client_list_parts_finish (LT_S3_CLIENT (source), result, &error);
  if (listed == NULL && error->domain == LT_S3_ERROR && !lt_s3_error_is_retryable (error) &&
      !lt_s3_error_is_permanent (error) &&
      !g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_CLOCK_SKEW))
    {
      /* A server without ListParts (s3rver), or an upload that cannot be listed: nothing
       * can be trusted, so a new multipart upload; the old one is aborted. */
      lt_s3_client_abort_multipart_async (upload->client, upload->row->key, upload->row->upload_id,
                                          NULL, abort_cb, NULL);
      g_clear_pointer (&upload->row->upload_id, g_free);
      multipart_begin (upload);
      return;
    }
  if (listed == NULL)
    {
      upload_error (upload, error);
      return;
    }
  rd = g_new0 (ResumeData, 1);
  rd->upload = upload;
  rd->listed = listed;
  op = g_new0 (Op, 1);
  op->id = upload->row->id;
  run_job (upload->self, load_parts_job, op, (GDestroyNotify) g_ptr_array_unref,
           stored_parts_cb, rd);
}

static guint64
part_size_for (guint64 size)
{
  guint64 part = LT_SYNC_MIN_PART_SIZE;
  const guint64 mib = 1024 * 1024;

  /* Grow in whole MiB until it fits in the part limit. */
  if ((size + part - 1) / part > LT_SYNC_MAX_PARTS)
    part = ((size + LT_SYNC_MAX_PARTS - 1) / LT_SYNC_MAX_PARTS + mib - 1) / mib * mib;
  return part;
}

static void
multipart_begin (Upload *upload)
{
  upload->part_size = part_size_for (upload->size);
  upload->n_parts = (guint) MAX ((upload->size + upload->part_size - 1) / upload->part_size, 1);
  upload->next_part = 0;
  upload->sent = 0;
  g_clear_pointer (&upload->parts, g_ptr_array_unref);
  upload->parts = g_ptr_array_new_full (upload->n_parts, (GDestroyNotify) lt_s3_part_free);
  g_ptr_array_set_size (upload->parts, upload->n_parts);
  g_clear_pointer (&upload->part_md5s, g_ptr_array_unref);
  if (upload->row->content_md5 != NULL)
    {
      guint64 block = 0;

      /* The recorder's block MD5s serve when the file is as it was written and its parts
       * are those blocks. */
      if (upload->row->size > 0 && upload->size == (guint64) upload->row->size)
        upload->part_md5s = part_md5s_parse (upload->row->content_md5, upload->row->size,
                                             &block);
      if (upload->part_md5s == NULL || block != upload->part_size)
        drop_recorded_md5 (upload, "they do not match the parts");
    }

  if (upload->row->upload_id != NULL)
    lt_s3_client_list_parts_async (upload->client, upload->row->key, upload->row->upload_id,
                                   upload->cancellable, list_parts_cb, upload);
  else
    lt_s3_client_create_multipart_async (upload->client, upload->row->key,
                                         content_type_for (upload->row->key),
                                         upload->cancellable, create_multipart_cb, upload);
}

static void
size_queried_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Upload *upload = user_data;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) error = NULL;

  info = g_file_query_info_finish (G_FILE (source), result, &error);
  if (info == NULL)
    {
      upload_error (upload, error);
      return;
    }
  upload->size = (guint64) g_file_info_get_size (info);
  upload->sent = 0;
  upload->recorded_md5 = FALSE;

  if (upload->size > upload->self->multipart_threshold)
    {
      multipart_begin (upload);
      return;
    }
  /* The MD5 recorded with the row describes the file only while it has the size it had. */
  if (upload->row->content_md5 != NULL && !lt_s3_is_md5_hex (upload->row->content_md5))
    drop_recorded_md5 (upload, "block MD5s, not the whole file's");
  else if (upload->row->content_md5 != NULL &&
           (upload->row->size <= 0 || upload->size != (guint64) upload->row->size))
    drop_recorded_md5 (upload, "the file's size changed");
  if (upload->row->content_md5 != NULL)
    {
      upload->recorded_md5 = TRUE;
      g_free (upload->md5_hex);
      upload->md5_hex = g_ascii_strdown (upload->row->content_md5, -1);
      lt_s3_client_put_object_with_md5_async (upload->client, upload->row->key, upload->file,
                                              content_type_for (upload->row->key),
                                              upload->md5_hex, progress_cb, upload, NULL,
                                              upload->cancellable, put_object_cb, upload);
    }
  else
    lt_s3_client_put_object_async (upload->client, upload->row->key, upload->file,
                                   content_type_for (upload->row->key), progress_cb, upload, NULL,
                                   upload->cancellable, put_object_cb, upload);
}

/* (Re)starts the upload of the row from what is known about it. The file is read (a small
 * one) or its size asked for off the main thread: the spool may be on a slow disk. */
static void
upload_begin (Upload *upload)
{
  upload->request_sent = 0;
  g_clear_object (&upload->file);
  upload->file = g_file_new_for_path (upload->row->local_path);
  if (upload->row->kind == LT_SYNC_KIND_PLAYLIST || upload->row->kind == LT_SYNC_KIND_INDEX)
    g_file_load_contents_async (upload->file, upload->cancellable, small_loaded_cb, upload);
  else
    g_file_query_info_async (upload->file, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                             G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT, upload->cancellable,
                             size_queried_cb, upload);
}

static void
mark_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Upload *upload = user_data;
  g_autoptr(GError) error = NULL;
  Row *row;

  row = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  if (row == NULL)
    {
      if (!g_error_matches (error, LT_SYNC_ENGINE_ERROR, LT_SYNC_ENGINE_ERROR_NOT_FOUND) &&
          !g_error_matches (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CLOSED))
        g_message ("Sync engine: cannot start the upload of %s: %s", upload->row->key,
                   error->message);
      upload_end (upload);
      return;
    }
  if (g_cancellable_is_cancelled (upload->cancellable))
    {
      row_free (row);
      upload_end (upload);
      return;
    }
  /* The row as it is now (a playlist may have been re-pointed). The id is the key of the
   * in-flight table: it does not change. */
  g_free (upload->row->local_path);
  upload->row->local_path = g_steal_pointer (&row->local_path);
  g_free (upload->row->upload_id);
  upload->row->upload_id = g_steal_pointer (&row->upload_id);
  g_free (upload->row->content_md5);
  upload->row->content_md5 = g_steal_pointer (&row->content_md5);
  upload->row->size = row->size;
  upload->row->attempts = row->attempts;
  row_free (row);
  upload_begin (upload);
}

static void
start_upload (LtSyncEngine *self,
              Row          *row,
              LtS3Client   *client)
{
  Upload *upload = g_new0 (Upload, 1);
  Op *op = g_new0 (Op, 1);

  upload->self = g_object_ref (self);
  upload->row = row;
  upload->client = g_object_ref (client);
  upload->cancellable = g_object_ref (self->cancellable);
  upload->size = (guint64) MAX (row->size, 0);
  g_hash_table_insert (self->in_flight, &row->id, upload);
  {
    char *bkey = busy_key (row);
    guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->busy_keys, bkey));

    g_hash_table_insert (self->busy_keys, bkey, GUINT_TO_POINTER (n + 1));
  }
  op->id = row->id;
  run_job (self, mark_job, op, (GDestroyNotify) row_free, mark_cb, upload);
}

/* ---- clients: one per target and bucket ---- */

typedef struct
{
  LtSyncEngine *self;
  char         *key;        /* slot key */
  guint         serial;     /* of the slot it was started for */
  char         *target;
  char         *bucket;
} SlotData;

static SlotData *
slot_data_new (LtSyncEngine *self,
               ClientSlot   *slot,
               const char   *key,
               const char   *target,
               const char   *bucket)
{
  SlotData *sd = g_new0 (SlotData, 1);

  sd->self = g_object_ref (self);
  sd->key = g_strdup (key);
  sd->serial = slot->serial;
  sd->target = g_strdup (target);
  sd->bucket = g_strdup (bucket);
  return sd;
}

/* The slot @sd was started for, or NULL when it has been dropped since (the target was
 * edited or retried): a late answer (a secret read with the old key, a sweep) must not
 * land in a slot made again under the same key. */
static ClientSlot *
slot_data_get_slot (SlotData *sd)
{
  ClientSlot *slot = g_hash_table_lookup (sd->self->clients, sd->key);

  return slot != NULL && slot->serial == sd->serial ? slot : NULL;
}

static void
slot_data_free (SlotData *sd)
{
  g_clear_object (&sd->self);
  g_free (sd->key);
  g_free (sd->target);
  g_free (sd->bucket);
  g_free (sd);
}

static void
orphan_abort_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!lt_s3_client_abort_multipart_finish (LT_S3_CLIENT (source), result, &error) &&
      !g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_NO_SUCH_UPLOAD) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_message ("Cannot abort an orphaned multipart upload: %s", error->message);
}

typedef struct
{
  SlotData  *sd;
  GPtrArray *uploads;
} SweepData;

static void
owned_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  SweepData *sw = user_data;
  SlotData *sd = sw->sd;
  g_autoptr(GPtrArray) uploads = sw->uploads;
  g_autoptr(GHashTable) owned = NULL;
  g_autoptr(GError) error = NULL;
  ClientSlot *slot;

  g_free (sw);
  owned = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  slot = slot_data_get_slot (sd);
  if (slot != NULL && slot->client != NULL && owned != NULL && !sd->self->shut_down)
    {
      for (guint i = 0; i < uploads->len; i++)
        {
          LtS3Upload *up = g_ptr_array_index (uploads, i);

          if (g_hash_table_contains (owned, up->upload_id))
            continue;
          g_message ("Aborting the orphaned multipart upload of %s in %s/%s", up->key,
                     sd->target, sd->bucket);
          lt_s3_client_abort_multipart_async (slot->client, up->key, up->upload_id,
                                              sd->self->cancellable, orphan_abort_cb, NULL);
        }
    }
  if (slot != NULL)
    slot->ready = TRUE;
  schedule_pass (sd->self);
  slot_data_free (sd);
}

static void
list_uploads_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SlotData *sd = user_data;
  g_autoptr(GPtrArray) uploads = NULL;
  g_autoptr(GError) error = NULL;
  SweepData *sw;
  ClientSlot *slot;
  Op *op;

  uploads = lt_s3_client_list_multipart_uploads_finish (LT_S3_CLIENT (source), result, &error);
  if (uploads == NULL && g_error_matches (error, LT_S3_ERROR, LT_S3_ERROR_CLOCK_SKEW) &&
      lt_s3_error_get_server_time (error) > 0 &&
      lt_s3_client_get_clock_offset (LT_S3_CLIENT (source)) == 0)
    {
      /* The first request to a target finds a skewed clock: corrected, asked again. */
      lt_s3_client_set_clock_offset (LT_S3_CLIENT (source),
                                     lt_s3_error_get_server_time (error) -
                                     g_get_real_time () / G_USEC_PER_SEC);
      lt_s3_client_list_multipart_uploads_async (LT_S3_CLIENT (source), NULL,
                                                 sd->self->cancellable, list_uploads_cb, sd);
      return;
    }
  if (uploads == NULL)
    {
      /* Not fatal: uploads go on; the sweep is tried again on the next start. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_message ("Cannot list the multipart uploads of %s/%s: %s", sd->target, sd->bucket,
                   error->message);
      slot = slot_data_get_slot (sd);
      if (slot != NULL)
        slot->ready = TRUE;
      schedule_pass (sd->self);
      slot_data_free (sd);
      return;
    }
  sw = g_new0 (SweepData, 1);
  sw->sd = sd;
  sw->uploads = g_steal_pointer (&uploads);
  op = g_new0 (Op, 1);
  op->target = g_strdup (sd->target);
  op->bucket = g_strdup (sd->bucket);
  run_job (sd->self, owned_uploads_job, op, (GDestroyNotify) g_hash_table_unref, owned_cb, sw);
}

/* Before the first upload through a client, the multipart uploads no row owns (left by a
 * crash between create and the row's update, or by rows gone since) are aborted. */
static void
slot_sweep (LtSyncEngine *self,
            ClientSlot   *slot,
            const char   *key,
            const char   *target,
            const char   *bucket)
{
  lt_s3_client_list_multipart_uploads_async (slot->client, NULL, self->cancellable,
                                             list_uploads_cb,
                                             slot_data_new (self, slot, key, target, bucket));
}

static void
secret_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  SlotData *sd = user_data;
  LtSyncEngine *self = sd->self;
  g_autoptr(GError) error = NULL;
  LtStorageTarget *target;
  ClientSlot *slot;
  char *secret;

  secret = lt_storage_targets_lookup_secret_finish (LT_STORAGE_TARGETS (source), result, &error);
  slot = slot_data_get_slot (sd);
  target = lookup_target (self, sd->target);
  if (slot == NULL || self->shut_down)
    {
      if (secret != NULL)
        {
          memset (secret, 0, strlen (secret));
          g_free (secret);
        }
      slot_data_free (sd);
      return;
    }
  if (secret != NULL && target != NULL)
    {
      LtS3Config config = { 0, };

      config.endpoint = lt_storage_target_get_endpoint (target);
      config.region = lt_storage_target_get_region (target);
      config.bucket = sd->bucket;
      config.path_style = lt_storage_target_get_path_style (target);
      config.access_key_id = lt_storage_target_get_access_key_id (target);
      config.max_connections = MAX (self->concurrency, 8);
      config.timeout_s = MAX (self->request_timeout_ms / 1000, 1);
      slot->client = lt_s3_client_new (&config, secret, &error);
      memset (secret, 0, strlen (secret));
      g_free (secret);
    }
  if (slot->client == NULL)
    {
      g_autofree char *message = NULL;

      message = g_strdup_printf (_("Cannot connect to storage target “%s”: %s"), sd->target,
                                 error != NULL ? error->message : _("it no longer exists"));
      slot->error = g_strdup (message);
      set_target_failing (self, sd->target, message);
      slot_data_free (sd);
      return;
    }
  lt_s3_client_set_bandwidth (slot->client, self->bandwidth);
  slot_sweep (self, slot, sd->key, sd->target, sd->bucket);
  slot_data_free (sd);
}

/* The client for the row's target and bucket when it is ready, else NULL (and it is being
 * made: a pass runs when it is). */
static LtS3Client *
client_for (LtSyncEngine *self,
            const Row    *row)
{
  g_autofree char *key = slot_key (row->target, row->bucket);
  ClientSlot *slot = g_hash_table_lookup (self->clients, key);
  LtStorageTarget *target;

  if (slot != NULL)
    return slot->ready && slot->client != NULL ? slot->client : NULL;

  slot = slot_new (self, key);
  target = lookup_target (self, row->target);
  if (target == NULL || lt_storage_target_get_kind (target) != LT_STORAGE_TARGET_KIND_S3)
    {
      g_autofree char *message =
        g_strdup_printf (_("Storage target “%s” does not exist (any more)"), row->target);

      slot->error = g_strdup (message);
      set_target_failing (self, row->target, message);
      return NULL;
    }
  lt_storage_targets_lookup_secret_async (LT_STORAGE_TARGETS (self->targets), target,
                                          self->cancellable, secret_cb,
                                          slot_data_new (self, slot, key, row->target,
                                                         row->bucket));
  return NULL;
}

/* ---- the pass ---- */

static void
cleanup_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LtSyncEngine) self = user_data;
  g_autoptr(GError) error = NULL;
  gpointer removed;

  self->cleanup_running = FALSE;
  removed = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  if (removed == NULL)
    {
      if (!g_error_matches (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CLOSED))
        g_message ("Sync engine: spool cleanup failed: %s", error->message);
      return;
    }
  if (GPOINTER_TO_UINT (removed) > 1)
    g_debug ("Removed %u uploaded spool copies", GPOINTER_TO_UINT (removed) - 1);
}

static void
maybe_cleanup (LtSyncEngine *self,
               gboolean      force)
{
  gint64 now = g_get_monotonic_time ();
  Op *op;

  if (self->cleanup_running || self->shut_down)
    return;
  if (!force && now - self->last_cleanup_us < CLEANUP_INTERVAL_US && self->keep_days > 0)
    return;
  self->last_cleanup_us = now;
  self->cleanup_running = TRUE;
  op = g_new0 (Op, 1);
  op->time_us = g_get_real_time () - (gint64) self->keep_days * 86400 * G_USEC_PER_SEC;
  lt_catalog_run_durable_async (self->catalog, cleanup_job, op, (GDestroyNotify) op_free, NULL,
                                NULL, cleanup_cb, g_object_ref (self));
}

static void
pick_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(LtSyncEngine) self = user_data;
  g_autoptr(GError) error = NULL;
  PickResult *picked;
  GHashTableIter iter;
  gpointer key, value;

  self->pass_running = FALSE;
  picked = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  if (picked == NULL)
    {
      if (!g_error_matches (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CLOSED))
        g_message ("Sync engine: cannot read the upload queue: %s", error->message);
      return;
    }
  if (self->shut_down)
    {
      pick_result_free (picked);
      return;
    }

  g_hash_table_iter_init (&iter, self->tstates);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      TargetState *ts = value;

      ts->queue_length = 0;
      ts->failures = 0;
    }
  g_hash_table_iter_init (&iter, picked->queued);
  while (g_hash_table_iter_next (&iter, &key, &value))
    target_state (self, key)->queue_length = GPOINTER_TO_UINT (value);
  g_hash_table_iter_init (&iter, picked->failed);
  while (g_hash_table_iter_next (&iter, &key, &value))
    target_state (self, key)->failures = GPOINTER_TO_UINT (value);

  for (guint i = 0; i < picked->rows->len; i++)
    {
      Row *row = g_ptr_array_index (picked->rows, i);
      g_autofree char *bkey = NULL;
      LtS3Client *client;

      if (g_hash_table_size (self->in_flight) >= self->concurrency)
        break;
      if (g_hash_table_contains (self->in_flight, &row->id) ||
          target_paused (self, row->target) || target_state (self, row->target)->failing)
        continue;
      bkey = busy_key (row);
      if (g_hash_table_contains (self->busy_keys, bkey))
        continue;
      client = client_for (self, row);
      if (client == NULL)
        continue;
      start_upload (self, g_steal_pointer (&g_ptr_array_index (picked->rows, i)), client);
    }
  pick_result_free (picked);
  emit_changed (self);

  if (self->pass_again)
    schedule_pass (self);
}

static void
schedule_pass (LtSyncEngine *self)
{
  g_autoptr(GPtrArray) excluded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) json = g_string_new ("[");
  GHashTableIter iter;
  gpointer key, value;
  Op *op;

  if (!self->started || self->shut_down)
    return;
  if (self->pass_running)
    {
      self->pass_again = TRUE;
      return;
    }
  self->pass_again = FALSE;
  if (g_hash_table_size (self->in_flight) >= self->concurrency)
    return;

  /* Paused and failing targets are left out in the query, so their rows never fill the
   * page and hold up the others. Target names are [a-z0-9-]: no escaping needed, but be
   * safe with JSON anyway. */
  g_hash_table_iter_init (&iter, self->tstates);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      TargetState *ts = value;

      if (ts->failing || target_paused (self, ts->name))
        {
          g_autofree char *quoted = g_strescape (ts->name, NULL);

          g_string_append_printf (json, "%s\"%s\"", json->len > 1 ? "," : "", quoted);
        }
    }
  if (self->targets != NULL)
    {
      GListModel *model = G_LIST_MODEL (self->targets);

      for (guint i = 0; i < g_list_model_get_n_items (model); i++)
        {
          g_autoptr(LtStorageTarget) target = g_list_model_get_item (model, i);
          g_autofree char *quoted = NULL;

          if (!lt_storage_target_get_paused (target))
            continue;
          quoted = g_strescape (lt_storage_target_get_name (target), NULL);
          g_string_append_printf (json, "%s\"%s\"", json->len > 1 ? "," : "", quoted);
        }
    }
  g_string_append_c (json, ']');

  self->pass_running = TRUE;
  op = g_new0 (Op, 1);
  op->time_us = g_get_real_time ();
  op->text = g_string_free (g_steal_pointer (&json), FALSE);
  op->value = PICK_LIMIT;
  run_job (self, pick_job, op, (GDestroyNotify) pick_result_free, pick_cb, g_object_ref (self));
  maybe_cleanup (self, FALSE);
}

static gboolean
poll_cb (gpointer data)
{
  LtSyncEngine *self = data;

  schedule_pass (self);
  return G_SOURCE_CONTINUE;
}

/* ---- GObject ---- */

static void
lt_sync_engine_dispose (GObject *object)
{
  LtSyncEngine *self = LT_SYNC_ENGINE (object);

  lt_sync_engine_shutdown (self);
  g_clear_handle_id (&self->changed_id, g_source_remove);
  G_OBJECT_CLASS (lt_sync_engine_parent_class)->dispose (object);
}

static void
lt_sync_engine_finalize (GObject *object)
{
  LtSyncEngine *self = LT_SYNC_ENGINE (object);

  g_clear_pointer (&self->in_flight, g_hash_table_unref);
  g_clear_pointer (&self->busy_keys, g_hash_table_unref);
  g_clear_pointer (&self->clients, g_hash_table_unref);
  g_clear_pointer (&self->tstates, g_hash_table_unref);
  g_clear_pointer (&self->bandwidth, lt_s3_bandwidth_unref);
  g_clear_object (&self->failures);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->targets);
  g_clear_object (&self->catalog);
  g_free (self->spool);
  G_OBJECT_CLASS (lt_sync_engine_parent_class)->finalize (object);
}

static void
lt_sync_engine_class_init (LtSyncEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lt_sync_engine_dispose;
  object_class->finalize = lt_sync_engine_finalize;

  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  signals[SIGNAL_TARGET_FAILING] =
    g_signal_new ("target-failing", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_ROW_DONE] =
    g_signal_new ("row-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_INT64, G_TYPE_STRING, G_TYPE_STRING);
}

static void
lt_sync_engine_init (LtSyncEngine *self)
{
  self->concurrency = LT_SYNC_DEFAULT_CONCURRENCY;
  self->multipart_threshold = LT_SYNC_DEFAULT_MULTIPART_THRESHOLD;
  self->keep_days = LT_SYNC_DEFAULT_KEEP_DAYS;
  self->backoff_scale = 1.0;
  self->request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS;
  self->bandwidth = lt_s3_bandwidth_new (0);
  self->clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) client_slot_free);
  self->tstates = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) target_state_free);
  self->in_flight = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                           (GDestroyNotify) upload_free);
  self->busy_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->failures = g_list_store_new (LT_TYPE_SYNC_FAILURE);
  self->cancellable = g_cancellable_new ();
}

/* A target added, edited or removed: its clients are made again from the new settings
 * and key, and a failing target gets another chance (the operator changed something). */
static void
targets_changed_cb (GObject      *targets,
                    const char   *name,
                    LtSyncEngine *self)
{
  g_autofree char *prefix = g_strconcat (name, "\n", NULL);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      ClientSlot *slot = value;

      if (g_str_has_prefix (key, prefix) && !slot->preset)
        g_hash_table_iter_remove (&iter);
    }
  if (g_hash_table_contains (self->tstates, name))
    clear_target_failing (self, name);
  schedule_pass (self);
}

LtSyncEngine *
lt_sync_engine_new (LtCatalog  *catalog,
                    GObject    *targets,
                    const char *spool_folder)
{
  LtSyncEngine *self;

  g_return_val_if_fail (LT_IS_CATALOG (catalog), NULL);
  g_return_val_if_fail (targets == NULL || LT_IS_STORAGE_TARGETS (targets), NULL);
  g_return_val_if_fail (spool_folder != NULL, NULL);

  self = g_object_new (LT_TYPE_SYNC_ENGINE, NULL);
  self->catalog = g_object_ref (catalog);
  self->targets = targets != NULL ? g_object_ref (targets) : NULL;
  self->spool = g_strdup (spool_folder);
  if (targets != NULL)
    g_signal_connect_object (targets, "changed", G_CALLBACK (targets_changed_cb), self, 0);
  return self;
}

const char *
lt_sync_engine_get_spool_folder (LtSyncEngine *self)
{
  g_return_val_if_fail (LT_IS_SYNC_ENGINE (self), NULL);
  return self->spool;
}

GObject *
lt_sync_engine_get_targets (LtSyncEngine *self)
{
  g_return_val_if_fail (LT_IS_SYNC_ENGINE (self), NULL);
  return self->targets;
}

void
lt_sync_engine_set_concurrency (LtSyncEngine *self,
                                guint         n)
{
  g_return_if_fail (LT_IS_SYNC_ENGINE (self));
  self->concurrency = CLAMP (n, 1, 64);
  schedule_pass (self);
}

void
lt_sync_engine_set_bandwidth_limit (LtSyncEngine *self,
                                    guint64       bytes_per_s)
{
  g_return_if_fail (LT_IS_SYNC_ENGINE (self));
  lt_s3_bandwidth_set_rate (self->bandwidth, bytes_per_s);
}

void
lt_sync_engine_set_multipart_threshold (LtSyncEngine *self,
                                        guint64       bytes)
{
  g_return_if_fail (LT_IS_SYNC_ENGINE (self));
  /* Below one minimal part multipart makes no sense. */
  self->multipart_threshold = MAX (bytes, (guint64) LT_SYNC_MIN_PART_SIZE);
}

void
lt_sync_engine_set_keep_days (LtSyncEngine *self,
                              guint         days)
{
  g_return_if_fail (LT_IS_SYNC_ENGINE (self));
  self->keep_days = days;
}

void
lt_sync_engine_set_backoff_scale (LtSyncEngine *self,
                                  double        scale)
{
  g_return_if_fail (LT_IS_SYNC_ENGINE (self));
  self->backoff_scale = MAX (scale, 0.0);
}

void
lt_sync_engine_set_request_timeout (LtSyncEngine *self,
                                    guint         timeout_ms)
{
  g_return_if_fail (LT_IS_SYNC_ENGINE (self));
  self->request_timeout_ms = MAX (timeout_ms, 1000);
}

void
lt_sync_engine_set_target_client (LtSyncEngine *self,
                                  const char   *name,
                                  GObject      *client)
{
  g_autofree char *key = NULL;
  ClientSlot *slot;

  g_return_if_fail (LT_IS_SYNC_ENGINE (self));
  g_return_if_fail (name != NULL);
  g_return_if_fail (LT_IS_S3_CLIENT (client));

  key = slot_key (name, lt_s3_client_get_bucket (LT_S3_CLIENT (client)));
  slot = slot_new (self, key);
  slot->client = LT_S3_CLIENT (g_object_ref (client));
  slot->preset = TRUE;
  lt_s3_client_set_bandwidth (slot->client, self->bandwidth);
  if (self->started)
    slot_sweep (self, slot, key, name, lt_s3_client_get_bucket (slot->client));
}

static void
start_sweeps (LtSyncEngine *self)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      ClientSlot *slot = value;
      g_auto(GStrv) parts = g_strsplit (key, "\n", 2);

      if (slot->client != NULL && !slot->ready)
        slot_sweep (self, slot, key, parts[0], parts[1]);
    }
}

void
lt_sync_engine_start (LtSyncEngine *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (LT_IS_SYNC_ENGINE (self));

  if (self->started || self->shut_down)
    return;
  /* Before anything is picked: rows a crash left in flight are due again. */
  if (lt_catalog_run_sync (self->catalog, reset_job, NULL, &error) == NULL)
    g_message ("Sync engine: cannot reset the uploads in flight: %s", error->message);
  self->started = TRUE;
  start_sweeps (self);
  refresh_failures (self);
  self->poll_id = g_timeout_add (POLL_INTERVAL_MS, poll_cb, self);
  schedule_pass (self);
}

void
lt_sync_engine_shutdown (LtSyncEngine *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (LT_IS_SYNC_ENGINE (self));

  if (self->shut_down)
    return;
  self->shut_down = TRUE;
  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  if (self->started && lt_catalog_run_sync (self->catalog, reset_job, NULL, &error) == NULL &&
      !g_error_matches (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CLOSED))
    g_message ("Sync engine: cannot put the uploads in flight back: %s", error->message);
}

void
lt_sync_engine_kick (LtSyncEngine *self)
{
  g_return_if_fail (LT_IS_SYNC_ENGINE (self));
  schedule_pass (self);
}

/* A path component that stays one component: no separators, not "." or "..". */
static gboolean
component_is_safe (const char *name)
{
  return name != NULL && name[0] != '\0' && strchr (name, '/') == NULL &&
         strcmp (name, ".") != 0 && strcmp (name, "..") != 0 && lt_object_key_is_safe (name);
}

char *
lt_sync_engine_spool_root (LtSyncEngine  *self,
                           const char    *target,
                           GError       **error)
{
  g_return_val_if_fail (LT_IS_SYNC_ENGINE (self), NULL);

  if (!component_is_safe (target))
    {
      g_set_error (error, LT_SYNC_ENGINE_ERROR, LT_SYNC_ENGINE_ERROR_UNSAFE_KEY,
                   _("“%s” cannot be used as a spool folder name"), target != NULL ? target : "");
      return NULL;
    }
  return g_build_filename (self->spool, target, NULL);
}

char *
lt_sync_engine_spool_path (LtSyncEngine  *self,
                           const char    *target,
                           const char    *bucket,
                           const char    *object_key,
                           GError       **error)
{
  g_autofree char *root = NULL;

  g_return_val_if_fail (LT_IS_SYNC_ENGINE (self), NULL);

  root = lt_sync_engine_spool_root (self, target, error);
  if (root == NULL)
    return NULL;
  /* lt_object_key_is_safe() refuses absolute keys, ".." and "." segments, backslashes and
   * control characters: the key stays below the bucket folder. */
  if (!component_is_safe (bucket) || !lt_object_key_is_safe (object_key))
    {
      g_set_error (error, LT_SYNC_ENGINE_ERROR, LT_SYNC_ENGINE_ERROR_UNSAFE_KEY,
                   _("The object “%s” in bucket “%s” cannot be kept in the spool folder"),
                   object_key != NULL ? object_key : "", bucket != NULL ? bucket : "");
      return NULL;
    }
  return g_build_filename (root, bucket, object_key, NULL);
}

typedef struct
{
  char       *target;
  char       *bucket;
  char       *key;
  char       *path;
  LtSyncKind  kind;
} EnqueueData;

static void
enqueue_data_free (EnqueueData *ed)
{
  g_free (ed->target);
  g_free (ed->bucket);
  g_free (ed->key);
  g_free (ed->path);
  g_free (ed);
}

static gpointer
enqueue_job (sqlite3  *db,
             gpointer  data,
             GError  **error)
{
  EnqueueData *ed = data;
  GStatBuf st;
  gint64 id;

  if (!lt_catalog_begin (db, error))
    return NULL;
  id = _lt_sync_enqueue_in_transaction (db, ed->target, ed->bucket, ed->key, ed->path, ed->kind,
                                        g_stat (ed->path, &st) == 0 ? (gint64) st.st_size : 0,
                                        NULL, 0, 0, error);
  if (id == 0 || !lt_catalog_commit (db, error))
    {
      lt_catalog_rollback (db);
      return NULL;
    }
  return g_memdup2 (&id, sizeof id);
}

static void
enqueue_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtSyncEngine *self = g_task_get_source_object (task);
  GError *error = NULL;
  gint64 *id;

  id = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  if (id == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  schedule_pass (self);
  g_task_return_int (task, *id);
  g_free (id);
}

void
lt_sync_engine_enqueue_async (LtSyncEngine        *self,
                              const char          *target,
                              const char          *bucket,
                              const char          *object_key,
                              const char          *local_path,
                              LtSyncKind           kind,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  EnqueueData *ed;

  g_return_if_fail (LT_IS_SYNC_ENGINE (self));
  g_return_if_fail (target != NULL && bucket != NULL && object_key != NULL && local_path != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_sync_engine_enqueue_async);
  if (!component_is_safe (target) || !component_is_safe (bucket) ||
      !lt_object_key_is_safe (object_key))
    {
      g_task_return_new_error (task, LT_SYNC_ENGINE_ERROR, LT_SYNC_ENGINE_ERROR_UNSAFE_KEY,
                               _("The object “%s” in bucket “%s” cannot be uploaded: its name "
                                 "is not safe"), object_key, bucket);
      return;
    }
  ed = g_new0 (EnqueueData, 1);
  ed->target = g_strdup (target);
  ed->bucket = g_strdup (bucket);
  ed->key = g_strdup (object_key);
  ed->path = g_strdup (local_path);
  ed->kind = kind;
  lt_catalog_run_async (self->catalog, enqueue_job, ed, (GDestroyNotify) enqueue_data_free, g_free,
                        cancellable, enqueue_cb, g_steal_pointer (&task));
}

gint64
lt_sync_engine_enqueue_finish (LtSyncEngine  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), 0);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lt_sync_engine_enqueue_async, 0);
  return g_task_propagate_int (G_TASK (result), error);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

char **
lt_sync_engine_list_targets (LtSyncEngine *self)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (LT_IS_SYNC_ENGINE (self), NULL);

  g_hash_table_iter_init (&iter, self->tstates);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, g_strdup (key));
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

LtSyncTargetStatus *
lt_sync_engine_get_target_status (LtSyncEngine *self,
                                  const char   *target)
{
  LtSyncTargetStatus *status;
  TargetState *ts;
  Upload *oldest = NULL;
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (LT_IS_SYNC_ENGINE (self), NULL);
  g_return_val_if_fail (target != NULL, NULL);

  status = g_new0 (LtSyncTargetStatus, 1);
  status->target = g_strdup (target);
  status->paused = target_paused (self, target);
  ts = g_hash_table_lookup (self->tstates, target);
  if (ts != NULL)
    {
      status->queue_length = ts->queue_length;
      status->failures = ts->failures;
      status->throughput = throughput (ts);
      status->failing = ts->failing;
      status->last_error = g_strdup (ts->last_error);
    }
  g_hash_table_iter_init (&iter, self->in_flight);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Upload *upload = value;

      if (g_strcmp0 (upload->row->target, target) == 0 &&
          (oldest == NULL || upload->row->id < oldest->row->id))
        oldest = upload;
    }
  if (oldest != NULL)
    {
      status->current_key = g_strdup (oldest->row->key);
      status->current_sent = MIN (oldest->sent + oldest->request_sent, oldest->size);
      status->current_size = oldest->size;
    }
  return status;
}

GListModel *
lt_sync_engine_get_failures (LtSyncEngine *self)
{
  g_return_val_if_fail (LT_IS_SYNC_ENGINE (self), NULL);
  return G_LIST_MODEL (self->failures);
}

static void
requeue_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtSyncEngine *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  refresh_failures (self);
  schedule_pass (self);
  g_task_return_boolean (task, TRUE);
}

void
lt_sync_engine_retry_async (LtSyncEngine        *self,
                            gint64               id,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;
  Op *op;

  g_return_if_fail (LT_IS_SYNC_ENGINE (self));
  g_return_if_fail (id > 0);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_sync_engine_retry_async);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->failures)); i++)
    {
      g_autoptr(LtSyncFailure) item = g_list_model_get_item (G_LIST_MODEL (self->failures), i);

      if (item->id == id)
        clear_target_failing (self, item->target);
    }
  op = g_new0 (Op, 1);
  op->id = id;
  lt_catalog_run_async (self->catalog, requeue_job, op, (GDestroyNotify) op_free, NULL,
                        cancellable, requeue_cb, task);
}

gboolean
lt_sync_engine_retry_finish (LtSyncEngine  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lt_sync_engine_retry_async,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
lt_sync_engine_retry_all_async (LtSyncEngine        *self,
                                const char          *target,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task;
  Op *op;

  g_return_if_fail (LT_IS_SYNC_ENGINE (self));
  g_return_if_fail (target != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_sync_engine_retry_all_async);
  clear_target_failing (self, target);
  op = g_new0 (Op, 1);
  op->target = g_strdup (target);
  lt_catalog_run_async (self->catalog, requeue_job, op, (GDestroyNotify) op_free, NULL,
                        cancellable, requeue_cb, task);
}

gboolean
lt_sync_engine_retry_all_finish (LtSyncEngine  *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lt_sync_engine_retry_all_async,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
set_paused_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!lt_storage_targets_set_paused_finish (LT_STORAGE_TARGETS (source), result, &error))
    g_message ("Cannot store the pause of a storage target: %s", error->message);
}

static void
set_paused (LtSyncEngine *self,
            const char   *target,
            gboolean      paused)
{
  TargetState *ts = target_state (self, target);

  ts->paused = paused;
  if (self->targets != NULL && lookup_target (self, target) != NULL)
    lt_storage_targets_set_paused_async (LT_STORAGE_TARGETS (self->targets), target, paused,
                                         NULL, set_paused_cb, NULL);
  publish_target_state (self, target);
  emit_changed (self);
  schedule_pass (self);
}

void
lt_sync_engine_pause (LtSyncEngine *self,
                      const char   *target)
{
  g_return_if_fail (LT_IS_SYNC_ENGINE (self));
  g_return_if_fail (target != NULL);
  set_paused (self, target, TRUE);
}

void
lt_sync_engine_resume (LtSyncEngine *self,
                       const char   *target)
{
  g_return_if_fail (LT_IS_SYNC_ENGINE (self));
  g_return_if_fail (target != NULL);
  set_paused (self, target, FALSE);
}

char *
lt_sync_engine_resolve_target (LtSyncEngine *self,
                               const char   *endpoint)
{
  LtStorageTarget *target;

  g_return_val_if_fail (LT_IS_SYNC_ENGINE (self), NULL);

  if (self->targets == NULL)
    return NULL;
  target = lt_storage_targets_resolve (LT_STORAGE_TARGETS (self->targets), endpoint);
  if (target == NULL || lt_storage_target_get_kind (target) != LT_STORAGE_TARGET_KIND_S3)
    return NULL;
  return g_strdup (lt_storage_target_get_name (target));
}

char *
lt_sync_engine_dup_bucket_url (LtSyncEngine *self,
                               const char   *target,
                               const char   *bucket)
{
  LtStorageTarget *t;

  g_return_val_if_fail (LT_IS_SYNC_ENGINE (self), NULL);
  g_return_val_if_fail (target != NULL && bucket != NULL, NULL);

  t = lookup_target (self, target);
  return t != NULL ? lt_storage_target_dup_bucket_url (t, bucket) : NULL;
}
