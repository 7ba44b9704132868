/* lt-catalog.c: the catalog object and its worker thread.
 *
 * One thread owns the sqlite3 connection and runs jobs from a queue, in order. A job queued
 * with a GTask completes on the task's GMainContext: the worker attaches an idle source
 * there, and only that source touches the task (returns it, frees the job's data, drops the
 * task's last reference). So the worker never holds the last reference to the catalog and
 * never finalizes it; and no GTask is returned from two threads.
 *
 * Cancellation: a job not yet started when its cancellable fires completes at once with
 * G_IO_ERROR_CANCELLED and is skipped by the worker (a compare-and-swap on the job's state
 * decides between the worker and the canceller). A job already running runs to its end;
 * GTask then reports the cancellation and frees the result.
 *
 * The typed calls (rules, API keys, events) are in lt-catalog-config.c, the schema in
 * lt-catalog-schema.c.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-catalog-private.h"

/* Statements beyond this many distinct SQL texts are not kept (dynamic SQL would grow the
 * cache without bound); they are finalized after their job. */
#define STMT_CACHE_MAX 256
#define BUSY_TIMEOUT_MS 5000

G_DEFINE_QUARK (lt-catalog-error-quark, lt_catalog_error)

typedef enum
{
  JOB_RUN,
  JOB_OPEN,
  JOB_CLOSE,
} JobKind;

enum
{
  JOB_PENDING,
  JOB_RUNNING,
  JOB_CANCELLED,
};

typedef struct
{
  gatomicrefcount   ref_count;
  JobKind           kind;
  int               state;          /* atomic: JOB_PENDING → RUNNING or CANCELLED */
  gboolean          durable;

  LtCatalogJobFunc  func;
  gpointer          data;
  GDestroyNotify    data_free;
  GDestroyNotify    result_free;
  char             *path;           /* JOB_OPEN */

  /* Written by the worker before the job is handed back. */
  gpointer          result;
  GError           *error;

  /* Async jobs: owned by whoever completes the job, on the task's context. */
  GTask            *task;
  GCancellable     *cancellable;
  gulong            cancelled_id;

  /* Sync jobs: the caller waits on these. */
  gboolean          sync;
  GMutex            mutex;
  GCond             cond;
  gboolean          done;
} Job;

typedef struct
{
  sqlite3_stmt *stmt;
  gboolean      in_use;     /* handed out during the current job */
  gboolean      transient;  /* not in the cache: finalize after the job */
} CachedStmt;

/* Everything the worker thread owns. Freed by the thread when it exits. */
typedef struct
{
  GAsyncQueue *queue;
  sqlite3     *db;
  int          version;
  GHashTable  *stmts;   /* SQL text → CachedStmt */
  GPtrArray   *used;    /* CachedStmt handed out during the current job */
} Worker;

struct _LtCatalog
{
  GObject      parent_instance;

  char        *path;
  GAsyncQueue *queue;
  GThread     *thread;
  GMutex       lock;     /* orders pushes against close */
  gboolean     closed;
  int          schema_version;   /* atomic */
};

G_DEFINE_FINAL_TYPE (LtCatalog, lt_catalog, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_PATH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The worker of the current thread, so that lt_catalog_stmt() finds its cache from the
 * connection alone. */
static GPrivate current_worker;

/* ---- jobs ---- */

static Job *
job_new (JobKind kind)
{
  Job *job = g_new0 (Job, 1);

  g_atomic_ref_count_init (&job->ref_count);
  job->kind = kind;
  job->state = JOB_PENDING;
  return job;
}

static Job *
job_ref (Job *job)
{
  g_atomic_ref_count_inc (&job->ref_count);
  return job;
}

static void
job_unref (Job *job)
{
  if (!g_atomic_ref_count_dec (&job->ref_count))
    return;

  /* The task, the data and the result were taken by the completion; these are leftovers of
   * paths that never got there. */
  g_assert (job->task == NULL);
  if (job->result != NULL && job->result_free != NULL)
    job->result_free (job->result);
  g_clear_error (&job->error);
  g_free (job->path);
  if (job->sync)
    {
      g_mutex_clear (&job->mutex);
      g_cond_clear (&job->cond);
    }
  g_free (job);
}

/* On the task's context. Takes over one reference to @job. */
static gboolean
job_complete_cb (gpointer user_data)
{
  Job *job = user_data;
  g_autoptr(GTask) task = g_steal_pointer (&job->task);

  if (job->cancelled_id != 0)
    g_cancellable_disconnect (job->cancellable, job->cancelled_id);
  job->cancelled_id = 0;

  if (g_atomic_int_get (&job->state) == JOB_CANCELLED)
    {
      /* Not cancelled any more only if someone reset the cancellable meanwhile. */
      if (!g_task_return_error_if_cancelled (task))
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                 _("Operation was cancelled"));
    }
  else if (job->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&job->error));
    }
  else if (job->kind == JOB_OPEN)
    {
      LtCatalog *self = g_task_get_source_object (task);

      g_atomic_int_set (&self->schema_version, GPOINTER_TO_INT (job->result));
      job->result = NULL;
      g_task_return_boolean (task, TRUE);
    }
  else
    {
      g_task_return_pointer (task, g_steal_pointer (&job->result), job->result_free);
    }

  if (job->data_free != NULL && job->data != NULL)
    job->data_free (g_steal_pointer (&job->data));
  job->data = NULL;

  job_unref (job);
  return G_SOURCE_REMOVE;
}

/* From any thread: completes an async job on its task's context. Takes over one
 * reference to @job. */
static void
job_schedule_completion (Job *job)
{
  GSource *source;

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, job_complete_cb, job, NULL);
  g_source_set_static_name (source, "[livetape] catalog job completion");
  g_source_attach (source, g_task_get_context (job->task));
  g_source_unref (source);
}

/* Any thread (the canceller's). Must not block: the completion disconnects this handler
 * and waits for it. */
static void
job_cancelled_cb (GCancellable *cancellable,
                  gpointer      user_data)
{
  Job *job = user_data;

  if (g_atomic_int_compare_and_exchange (&job->state, JOB_PENDING, JOB_CANCELLED))
    job_schedule_completion (job_ref (job));
}

/* Worker side: hands a finished job back. Takes over the worker's reference. */
static void
job_hand_back (Job *job)
{
  if (job->sync)
    {
      g_mutex_lock (&job->mutex);
      job->done = TRUE;
      g_cond_signal (&job->cond);
      g_mutex_unlock (&job->mutex);
      job_unref (job);
    }
  else
    {
      job_schedule_completion (job);
    }
}

/* ---- worker helpers available to jobs ---- */

static Worker *
worker_for_db (sqlite3 *db)
{
  Worker *worker = g_private_get (&current_worker);

  if (worker == NULL || worker->db != db)
    return NULL;
  return worker;
}

gboolean
lt_catalog_set_sqlite_error (GError     **error,
                             sqlite3     *db,
                             int          rc,
                             const char  *context)
{
  LtCatalogError code;
  const char *message;

  switch (rc & 0xff)
    {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
          rc == SQLITE_CONSTRAINT_FOREIGNKEY || rc == SQLITE_CONSTRAINT_ROWID)
        code = LT_CATALOG_ERROR_CONSTRAINT;
      else
        code = LT_CATALOG_ERROR_FAILED;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = LT_CATALOG_ERROR_CORRUPT;
      break;
    default:
      code = LT_CATALOG_ERROR_FAILED;
      break;
    }

  /* The connection's message is more precise ("UNIQUE constraint failed: rules.domain, …")
   * as long as it belongs to this error. */
  if (db != NULL && sqlite3_extended_errcode (db) == rc)
    message = sqlite3_errmsg (db);
  else
    message = sqlite3_errstr (rc);

  if (context != NULL)
    g_set_error (error, LT_CATALOG_ERROR, code, "%s: %s", context, message);
  else
    g_set_error_literal (error, LT_CATALOG_ERROR, code, message);
  return FALSE;
}

static void
cached_stmt_free (gpointer data)
{
  CachedStmt *cached = data;

  sqlite3_finalize (cached->stmt);
  g_free (cached);
}

sqlite3_stmt *
lt_catalog_stmt (sqlite3     *db,
                 const char  *sql,
                 GError     **error)
{
  Worker *worker;
  CachedStmt *cached;

  g_return_val_if_fail (db != NULL, NULL);
  g_return_val_if_fail (sql != NULL, NULL);

  worker = worker_for_db (db);
  g_return_val_if_fail (worker != NULL, NULL);

  cached = g_hash_table_lookup (worker->stmts, sql);
  if (cached == NULL)
    {
      sqlite3_stmt *stmt = NULL;
      int rc;

      rc = sqlite3_prepare_v3 (db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
      if (rc != SQLITE_OK)
        {
          sqlite3_finalize (stmt);
          lt_catalog_set_sqlite_error (error, db, rc, _("Cannot prepare a catalog query"));
          return NULL;
        }
      if (stmt == NULL)
        {
          g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED,
                       _("Cannot prepare a catalog query: it is empty."));
          return NULL;
        }

      cached = g_new0 (CachedStmt, 1);
      cached->stmt = stmt;
      if (g_hash_table_size (worker->stmts) >= STMT_CACHE_MAX)
        cached->transient = TRUE;
      else
        g_hash_table_insert (worker->stmts, g_strdup (sql), cached);
    }
  else if (cached->in_use)
    {
      sqlite3_reset (cached->stmt);
      sqlite3_clear_bindings (cached->stmt);
    }

  if (!cached->in_use)
    {
      cached->in_use = TRUE;
      g_ptr_array_add (worker->used, cached);
    }

  return cached->stmt;
}

gboolean
lt_catalog_exec (sqlite3     *db,
                 const char  *sql,
                 GError     **error)
{
  char *message = NULL;
  int rc;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (sql != NULL, FALSE);

  rc = sqlite3_exec (db, sql, NULL, NULL, &message);
  if (rc != SQLITE_OK)
    {
      lt_catalog_set_sqlite_error (error, db, rc, _("Catalog statement failed"));
      sqlite3_free (message);
      return FALSE;
    }
  return TRUE;
}

gboolean
lt_catalog_step_done (sqlite3_stmt  *stmt,
                      GError       **error)
{
  int rc;

  g_return_val_if_fail (stmt != NULL, FALSE);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW)
    {
      /* For … RETURNING every change is made by the first step. */
      sqlite3_reset (stmt);
      return TRUE;
    }

  /* Take the message before the reset. */
  lt_catalog_set_sqlite_error (error, sqlite3_db_handle (stmt), rc, _("Catalog update failed"));
  sqlite3_reset (stmt);
  return FALSE;
}

gboolean
lt_catalog_bind_text (sqlite3_stmt  *stmt,
                      int            index,
                      const char    *text,
                      GError       **error)
{
  int rc = text != NULL ? sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT)
                        : sqlite3_bind_null (stmt, index);

  if (rc != SQLITE_OK)
    return lt_catalog_set_sqlite_error (error, sqlite3_db_handle (stmt), rc,
                                        _("Cannot bind a catalog value"));
  return TRUE;
}

gboolean
lt_catalog_bind_int64 (sqlite3_stmt  *stmt,
                       int            index,
                       gint64         value,
                       GError       **error)
{
  int rc = sqlite3_bind_int64 (stmt, index, value);

  if (rc != SQLITE_OK)
    return lt_catalog_set_sqlite_error (error, sqlite3_db_handle (stmt), rc,
                                        _("Cannot bind a catalog value"));
  return TRUE;
}

char *
lt_catalog_column_dup (sqlite3_stmt *stmt,
                       int           column)
{
  const unsigned char *text = sqlite3_column_text (stmt, column);

  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

gboolean
lt_catalog_next_row (sqlite3_stmt  *stmt,
                     GError       **error)
{
  int rc;

  g_return_val_if_fail (stmt != NULL, FALSE);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return TRUE;

  if (rc != SQLITE_DONE)
    lt_catalog_set_sqlite_error (error, sqlite3_db_handle (stmt), rc, _("Catalog query failed"));
  sqlite3_reset (stmt);
  return FALSE;
}

static gboolean
exec_cached (sqlite3     *db,
             const char  *sql,
             const char  *context,
             GError     **error)
{
  sqlite3_stmt *stmt;
  int rc;

  stmt = lt_catalog_stmt (db, sql, error);
  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    lt_catalog_set_sqlite_error (error, db, rc, context);
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE || rc == SQLITE_ROW;
}

gboolean
lt_catalog_begin (sqlite3  *db,
                  GError  **error)
{
  g_return_val_if_fail (db != NULL, FALSE);

  /* IMMEDIATE takes the write lock now: no deadlock upgrading a read transaction when
   * another process (a maintenance tool) writes too. */
  return exec_cached (db, "BEGIN IMMEDIATE", _("Cannot start a catalog transaction"), error);
}

gboolean
lt_catalog_commit (sqlite3  *db,
                   GError  **error)
{
  g_return_val_if_fail (db != NULL, FALSE);

  if (!exec_cached (db, "COMMIT", _("Cannot commit a catalog transaction"), error))
    {
      lt_catalog_rollback (db);
      return FALSE;
    }
  return TRUE;
}

void
lt_catalog_rollback (sqlite3 *db)
{
  g_return_if_fail (db != NULL);

  /* After some errors SQLite has rolled back already. */
  if (!sqlite3_get_autocommit (db))
    exec_cached (db, "ROLLBACK", NULL, NULL);
}

/* ---- the worker ---- */

static Worker *
worker_new (GAsyncQueue *queue)
{
  Worker *worker = g_new0 (Worker, 1);

  worker->queue = g_async_queue_ref (queue);
  worker->stmts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, cached_stmt_free);
  worker->used = g_ptr_array_new ();
  return worker;
}

static void
worker_release_statements (Worker *worker)
{
  for (guint i = 0; i < worker->used->len; i++)
    {
      CachedStmt *cached = g_ptr_array_index (worker->used, i);

      /* A statement left mid-query would pin a read snapshot and hold off checkpoints. */
      sqlite3_reset (cached->stmt);
      sqlite3_clear_bindings (cached->stmt);
      cached->in_use = FALSE;
      if (cached->transient)
        cached_stmt_free (cached);
    }
  g_ptr_array_set_size (worker->used, 0);
}

static void
worker_close_db (Worker *worker)
{
  if (worker->db == NULL)
    return;

  worker_release_statements (worker);
  g_hash_table_remove_all (worker->stmts);
  /* Fold the WAL into the database so the file is complete on its own (backups, copies);
   * failure is harmless, the next open replays the WAL. */
  sqlite3_exec (worker->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  sqlite3_close_v2 (worker->db);
  worker->db = NULL;
  worker->version = 0;
}

static void
worker_free (Worker *worker)
{
  worker_close_db (worker);
  g_hash_table_unref (worker->stmts);
  g_ptr_array_unref (worker->used);
  g_async_queue_unref (worker->queue);
  g_free (worker);
}

static gboolean
query_text (sqlite3     *db,
            const char  *sql,
            char       **out,
            GError     **error)
{
  sqlite3_stmt *stmt = lt_catalog_stmt (db, sql, error);

  if (stmt == NULL)
    return FALSE;
  if (!lt_catalog_next_row (stmt, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED,
                     _("“%s” returned nothing."), sql);
      return FALSE;
    }
  *out = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return TRUE;
}

static gboolean
worker_open_db (Worker      *worker,
                const char  *path,
                GError     **error)
{
  g_autofree char *mode = NULL;
  g_autofree char *schema_count = NULL;
  g_autofree char *user_version = NULL;
  sqlite3 *db = NULL;
  int rc;

  rc = sqlite3_open_v2 (path, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                        SQLITE_OPEN_EXRESCODE,
                        NULL);
  if (rc != SQLITE_OK)
    {
      lt_catalog_set_sqlite_error (error, db, rc, _("Cannot open the database"));
      sqlite3_close_v2 (db);
      return FALSE;
    }
  worker->db = db;
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);

  /* Read before anything writes: a file that is not a database (or whose schema is
   * damaged) fails here and is left exactly as it was. */
  if (!query_text (db, "SELECT count(*) FROM sqlite_schema", &schema_count, error) ||
      !query_text (db, "PRAGMA user_version", &user_version, error))
    goto fail;
  /* Also before the switch to WAL: a newer Livetape's file is not ours to change. */
  if (g_ascii_strtoll (user_version, NULL, 10) > _lt_catalog_schema_latest ())
    {
      g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_TOO_NEW,
                   _("The catalog has schema version %d, newer than this Livetape knows (%d). "
                     "Use a newer Livetape."),
                   (int) g_ascii_strtoll (user_version, NULL, 10), _lt_catalog_schema_latest ());
      goto fail;
    }

  if (!query_text (db, "PRAGMA journal_mode = WAL", &mode, error))
    goto fail;
  if (g_ascii_strcasecmp (mode, "wal") != 0)
    {
      g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED,
                   _("The database cannot use write-ahead logging (journal mode “%s”); "
                     "is it on a network file system?"),
                   mode);
      goto fail;
    }

  /* NORMAL in WAL mode loses no commit to a killed process, only possibly the last ones to
   * a power loss; durable jobs switch to FULL. Foreign keys are per connection and cannot
   * be switched inside a transaction. */
  if (!lt_catalog_exec (db,
                        "PRAGMA synchronous = NORMAL;"
                        "PRAGMA foreign_keys = ON;"
                        "PRAGMA temp_store = MEMORY;"
                        "PRAGMA cache_size = -16384;"
                        "PRAGMA journal_size_limit = 67108864;",
                        error))
    goto fail;

  if (!_lt_catalog_schema_migrate (db, &worker->version, error))
    goto fail;

  return TRUE;

fail:
  worker_release_statements (worker);
  g_hash_table_remove_all (worker->stmts);
  sqlite3_close_v2 (db);
  worker->db = NULL;
  worker->version = 0;
  return FALSE;
}

static void
worker_run_open (Worker *worker,
                 Job    *job)
{
  if (worker->db == NULL && !worker_open_db (worker, job->path, &job->error))
    return;
  job->result = GINT_TO_POINTER (worker->version);
}

static void
worker_set_synchronous (Worker     *worker,
                        const char *sql)
{
  /* Uncached: durable jobs are rare. Cannot fail on an open connection outside a
   * transaction; if it ever did, the job would run with the previous setting. */
  if (sqlite3_exec (worker->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    g_debug ("catalog: %s: %s", sql, sqlite3_errmsg (worker->db));
}

static void
worker_run_job (Worker *worker,
                Job    *job)
{
  if (worker->db == NULL)
    {
      g_set_error (&job->error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED,
                   _("The catalog is not open."));
      return;
    }

  if (job->durable)
    worker_set_synchronous (worker, "PRAGMA synchronous = FULL");

  job->result = job->func (worker->db, job->data, &job->error);

  if (job->result == NULL && job->error == NULL)
    {
      g_critical ("A catalog job returned NULL without an error");
      g_set_error (&job->error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED,
                   _("A catalog operation failed."));
    }
  else if (job->result != NULL && job->error != NULL)
    {
      if (job->result_free != NULL)
        job->result_free (job->result);
      job->result = NULL;
    }

  worker_release_statements (worker);

  if (!sqlite3_get_autocommit (worker->db))
    {
      /* A failed job may leave its transaction for us to undo; a successful one must not:
       * its writes would be lost silently. */
      if (job->error == NULL)
        g_critical ("A catalog job returned with its transaction open; rolled back");
      sqlite3_exec (worker->db, "ROLLBACK", NULL, NULL, NULL);
    }

  if (job->durable)
    worker_set_synchronous (worker, "PRAGMA synchronous = NORMAL");
}

static gpointer
worker_thread (gpointer data)
{
  Worker *worker = data;

  g_private_set (&current_worker, worker);

  for (;;)
    {
      Job *job = g_async_queue_pop (worker->queue);

      if (job->kind == JOB_CLOSE)
        {
          job_unref (job);
          break;
        }

      if (!g_atomic_int_compare_and_exchange (&job->state, JOB_PENDING, JOB_RUNNING))
        {
          /* Cancelled while queued: its completion is already on the way. */
          job_unref (job);
          continue;
        }

      if (job->kind == JOB_OPEN)
        worker_run_open (worker, job);
      else
        worker_run_job (worker, job);

      job_hand_back (job);
    }

  worker_free (worker);
  g_private_set (&current_worker, NULL);
  return NULL;
}

/* ---- queueing ---- */

/* Pushes a reference of @job unless the catalog is closed. */
static gboolean
push_job (LtCatalog *self,
          Job       *job)
{
  gboolean pushed = FALSE;

  g_mutex_lock (&self->lock);
  if (!self->closed)
    {
      g_async_queue_push (self->queue, job_ref (job));
      pushed = TRUE;
    }
  g_mutex_unlock (&self->lock);

  return pushed;
}

static void
set_closed_error (GError **error)
{
  g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CLOSED,
               _("The catalog is closed."));
}

static void
queue_async (LtCatalog           *self,
             Job                 *job,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data,
             gpointer             source_tag)
{
  job->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, source_tag);
  g_task_set_name (job->task, "[livetape] catalog job");

  if (cancellable != NULL)
    {
      job->cancellable = cancellable;   /* the task holds the reference */
      /* Runs the handler at once if already cancelled: the job then completes as
       * cancelled and the worker will skip it. */
      job->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (job_cancelled_cb),
                                                 job, NULL);
    }

  if (!push_job (self, job))
    {
      if (g_atomic_int_compare_and_exchange (&job->state, JOB_PENDING, JOB_RUNNING))
        {
          set_closed_error (&job->error);
          job_schedule_completion (job_ref (job));
        }
    }

  job_unref (job);
}

void
_lt_catalog_queue (LtCatalog           *self,
                   LtCatalogJobFunc     func,
                   gpointer             data,
                   GDestroyNotify       data_free,
                   GDestroyNotify       result_free,
                   gboolean             durable,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data,
                   gpointer             source_tag)
{
  Job *job;

  g_return_if_fail (LT_IS_CATALOG (self));
  g_return_if_fail (func != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  job = job_new (JOB_RUN);
  job->func = func;
  job->data = data;
  job->data_free = data_free;
  job->result_free = result_free;
  job->durable = durable;
  queue_async (self, job, cancellable, callback, user_data, source_tag);
}

static gpointer
run_sync (LtCatalog         *self,
          Job               *job,
          GError           **error)
{
  gpointer result;

  job->sync = TRUE;
  g_mutex_init (&job->mutex);
  g_cond_init (&job->cond);

  if (!push_job (self, job))
    {
      set_closed_error (error);
      job_unref (job);
      return NULL;
    }

  g_mutex_lock (&job->mutex);
  while (!job->done)
    g_cond_wait (&job->cond, &job->mutex);
  g_mutex_unlock (&job->mutex);

  result = g_steal_pointer (&job->result);
  if (job->error != NULL)
    g_propagate_error (error, g_steal_pointer (&job->error));
  job_unref (job);

  return result;
}

/* ---- the object ---- */

static void
lt_catalog_constructed (GObject *object)
{
  LtCatalog *self = LT_CATALOG (object);

  G_OBJECT_CLASS (lt_catalog_parent_class)->constructed (object);

  self->thread = g_thread_new ("lt-catalog", worker_thread, worker_new (self->queue));
}

static void
lt_catalog_finalize (GObject *object)
{
  LtCatalog *self = LT_CATALOG (object);

  lt_catalog_close (self);

  g_async_queue_unref (self->queue);
  g_mutex_clear (&self->lock);
  g_free (self->path);

  G_OBJECT_CLASS (lt_catalog_parent_class)->finalize (object);
}

static void
lt_catalog_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  LtCatalog *self = LT_CATALOG (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_catalog_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  LtCatalog *self = LT_CATALOG (object);

  switch (prop_id)
    {
    case PROP_PATH:
      self->path = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_catalog_class_init (LtCatalogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = lt_catalog_constructed;
  object_class->finalize = lt_catalog_finalize;
  object_class->get_property = lt_catalog_get_property;
  object_class->set_property = lt_catalog_set_property;

  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lt_catalog_init (LtCatalog *self)
{
  g_mutex_init (&self->lock);
  self->queue = g_async_queue_new ();
}

LtCatalog *
lt_catalog_new (const char *path)
{
  g_return_val_if_fail (path != NULL, NULL);

  return g_object_new (LT_TYPE_CATALOG, "path", path, NULL);
}

const char *
lt_catalog_get_path (LtCatalog *self)
{
  g_return_val_if_fail (LT_IS_CATALOG (self), NULL);

  return self->path;
}

int
lt_catalog_get_schema_version (LtCatalog *self)
{
  g_return_val_if_fail (LT_IS_CATALOG (self), 0);

  return g_atomic_int_get (&self->schema_version);
}

int
lt_catalog_get_latest_schema_version (void)
{
  return _lt_catalog_schema_latest ();
}

void
lt_catalog_open_async (LtCatalog           *self,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  Job *job;

  g_return_if_fail (LT_IS_CATALOG (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  job = job_new (JOB_OPEN);
  job->path = g_strdup (self->path);
  queue_async (self, job, cancellable, callback, user_data, lt_catalog_open_async);
}

gboolean
lt_catalog_open_finish (LtCatalog     *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (LT_IS_CATALOG (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lt_catalog_open_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
lt_catalog_open_sync (LtCatalog  *self,
                      GError    **error)
{
  Job *job;
  gpointer version;

  g_return_val_if_fail (LT_IS_CATALOG (self), FALSE);
  g_return_val_if_fail (g_thread_self () != self->thread, FALSE);

  /* Waits on the job itself rather than iterating the main context: no other callback can
   * run inside a startup path that only wants the catalog open. */
  job = job_new (JOB_OPEN);
  job->path = g_strdup (self->path);
  version = run_sync (self, job, error);
  if (version == NULL)
    return FALSE;

  g_atomic_int_set (&self->schema_version, GPOINTER_TO_INT (version));
  return TRUE;
}

void
lt_catalog_close (LtCatalog *self)
{
  GThread *thread;

  g_return_if_fail (LT_IS_CATALOG (self));
  g_return_if_fail (g_thread_self () != self->thread);

  g_mutex_lock (&self->lock);
  if (self->closed)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  self->closed = TRUE;
  /* Behind every job already queued: they all run first. */
  g_async_queue_push (self->queue, job_new (JOB_CLOSE));
  thread = g_steal_pointer (&self->thread);
  g_mutex_unlock (&self->lock);

  g_thread_join (thread);
}

void
lt_catalog_run_async (LtCatalog           *self,
                      LtCatalogJobFunc     func,
                      gpointer             data,
                      GDestroyNotify       data_free,
                      GDestroyNotify       result_free,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  _lt_catalog_queue (self, func, data, data_free, result_free, FALSE,
                     cancellable, callback, user_data, lt_catalog_run_async);
}

void
lt_catalog_run_durable_async (LtCatalog           *self,
                              LtCatalogJobFunc     func,
                              gpointer             data,
                              GDestroyNotify       data_free,
                              GDestroyNotify       result_free,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  _lt_catalog_queue (self, func, data, data_free, result_free, TRUE,
                     cancellable, callback, user_data, lt_catalog_run_durable_async);
}

gpointer
lt_catalog_run_finish (LtCatalog     *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  gpointer tag;

  g_return_val_if_fail (LT_IS_CATALOG (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  tag = g_task_get_source_tag (G_TASK (result));
  g_return_val_if_fail (tag == lt_catalog_run_async || tag == lt_catalog_run_durable_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gpointer
run_sync_job (LtCatalog        *self,
              LtCatalogJobFunc  func,
              gpointer          data,
              gboolean          durable,
              GError          **error)
{
  Job *job;

  job = job_new (JOB_RUN);
  job->func = func;
  job->data = data;
  job->durable = durable;
  return run_sync (self, job, error);
}

gpointer
lt_catalog_run_sync (LtCatalog         *self,
                     LtCatalogJobFunc   func,
                     gpointer           data,
                     GError           **error)
{
  g_return_val_if_fail (LT_IS_CATALOG (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (g_thread_self () != self->thread, NULL);

  return run_sync_job (self, func, data, FALSE, error);
}

gpointer
lt_catalog_run_durable_sync (LtCatalog         *self,
                             LtCatalogJobFunc   func,
                             gpointer           data,
                             GError           **error)
{
  g_return_val_if_fail (LT_IS_CATALOG (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (g_thread_self () != self->thread, NULL);

  return run_sync_job (self, func, data, TRUE, error);
}
