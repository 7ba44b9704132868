/* test-catalog.c: the catalog — open, migrations, refusal of newer and damaged files, the
 * worker's job machinery (async, sync, cancellation, close), the typed calls for rules, API
 * keys and events, and the schema's indexes and constraints. */
#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "lt-catalog.h"
#include "lt-rule.h"
#include "lt-test-utils.h"

/* ---- helpers ---- */

static char *
temp_catalog_path (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();

  return g_build_filename (dir, "catalog.db", NULL);
}

static LtCatalog *
open_catalog (const char *path)
{
  g_autoptr(GError) error = NULL;
  LtCatalog *catalog = lt_catalog_new (path);

  g_assert_true (lt_catalog_open_sync (catalog, &error));
  g_assert_no_error (error);
  return catalog;
}

static void
close_and_finalize (LtCatalog *catalog)
{
  lt_catalog_close (catalog);
  g_assert_finalize_object (catalog);
}

/* Job: executes the SQL in @data. */
static gpointer
exec_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  if (!lt_catalog_exec (db, data, error))
    return NULL;
  return GINT_TO_POINTER (TRUE);
}

static void
exec_sql (LtCatalog  *catalog,
          const char *sql)
{
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (lt_catalog_run_sync (catalog, exec_job, (gpointer) sql, &error));
  g_assert_no_error (error);
}

/* Job: every row of the query in @data, columns joined with "|", rows with "\n". */
static gpointer
query_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  GString *out = g_string_new (NULL);
  g_autoptr(GError) local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, data, error);
  if (stmt == NULL)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  while (lt_catalog_next_row (stmt, &local_error))
    {
      if (out->len > 0)
        g_string_append_c (out, '\n');
      for (int i = 0; i < sqlite3_column_count (stmt); i++)
        {
          const char *text = (const char *) sqlite3_column_text (stmt, i);

          if (i > 0)
            g_string_append_c (out, '|');
          g_string_append (out, text != NULL ? text : "NULL");
        }
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

static char *
query (LtCatalog  *catalog,
       const char *sql)
{
  g_autoptr(GError) error = NULL;
  char *result;

  result = lt_catalog_run_sync (catalog, query_job, (gpointer) sql, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static gint64
query_int (LtCatalog  *catalog,
           const char *sql)
{
  g_autofree char *text = query (catalog, sql);

  return g_ascii_strtoll (text, NULL, 10);
}

static GBytes *
read_file_bytes (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (contents, length);
}

static void
write_file_bytes (const char *path,
                  const void *data,
                  gsize       length)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, data, length, &error));
  g_assert_no_error (error);
}

static void
create_raw_database (const char *path,
                     const char *sql)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

/* ---- open and migrations ---- */

static const char * const expected_tables[] = {
  "api_keys", "api_nonces", "callback_outbox", "events", "index_files", "ingest_sources",
  "notify_configs", "recording_files", "rule_sequences", "rules", "session_pauses",
  "sessions", "slices", "storage_targets", "streams", "upload_outbox", "upload_parts",
};

static void
test_open_migrate_reopen (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autofree char *tables = NULL;
  g_autoptr(GString) expected = g_string_new (NULL);
  LtCatalog *catalog;
  int latest = lt_catalog_get_latest_schema_version ();

  g_assert_cmpint (latest, >=, 1);

  catalog = lt_catalog_new (path);
  g_assert_cmpstr (lt_catalog_get_path (catalog), ==, path);
  g_assert_cmpint (lt_catalog_get_schema_version (catalog), ==, 0);
  {
    g_autoptr(GError) error = NULL;

    g_assert_true (lt_catalog_open_sync (catalog, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpint (lt_catalog_get_schema_version (catalog), ==, latest);
  g_assert_cmpint (query_int (catalog, "PRAGMA user_version"), ==, latest);

  /* Every table, all STRICT. */
  for (gsize i = 0; i < G_N_ELEMENTS (expected_tables); i++)
    g_string_append_printf (expected, "%s%s|1", i > 0 ? "\n" : "", expected_tables[i]);
  tables = query (catalog,
                  "SELECT t.name, t.strict FROM pragma_table_list t"
                  " WHERE t.schema = 'main' AND t.type = 'table'"
                  " AND t.name NOT LIKE 'sqlite_%' ORDER BY t.name");
  g_assert_cmpstr (tables, ==, expected->str);

  /* Opening twice is harmless. */
  {
    g_autoptr(GError) error = NULL;

    g_assert_true (lt_catalog_open_sync (catalog, &error));
    g_assert_no_error (error);
  }

  exec_sql (catalog, "INSERT INTO events (time_us, kind) VALUES (1, 'kept')");
  close_and_finalize (catalog);

  /* Reopen: nothing to migrate, data kept. */
  catalog = open_catalog (path);
  g_assert_cmpint (lt_catalog_get_schema_version (catalog), ==, latest);
  g_assert_cmpint (query_int (catalog, "SELECT count(*) FROM events WHERE kind = 'kept'"), ==, 1);
  close_and_finalize (catalog);
}

static void
test_open_async (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LtCatalog *catalog = lt_catalog_new (path);

  lt_catalog_open_async (catalog, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_catalog_open_finish (catalog, result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lt_catalog_get_schema_version (catalog),
                   ==, lt_catalog_get_latest_schema_version ());
  g_clear_object (&result);
  close_and_finalize (catalog);
}

static void
test_open_pragmas (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autofree char *mode = NULL;
  LtCatalog *catalog = open_catalog (path);

  mode = query (catalog, "PRAGMA journal_mode");
  g_assert_cmpstr (mode, ==, "wal");
  g_assert_cmpint (query_int (catalog, "PRAGMA synchronous"), ==, 1);   /* NORMAL */
  g_assert_cmpint (query_int (catalog, "PRAGMA foreign_keys"), ==, 1);
  g_assert_cmpint (query_int (catalog, "PRAGMA busy_timeout"), >, 0);
  close_and_finalize (catalog);
}

static void
test_open_too_new (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autofree char *sql = NULL;
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  LtCatalog *catalog;

  sql = g_strdup_printf ("CREATE TABLE future (x); PRAGMA user_version = %d;",
                         lt_catalog_get_latest_schema_version () + 1);
  create_raw_database (path, sql);
  before = read_file_bytes (path);

  catalog = lt_catalog_new (path);
  g_assert_false (lt_catalog_open_sync (catalog, &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_TOO_NEW);
  g_assert_cmpint (lt_catalog_get_schema_version (catalog), ==, 0);
  g_clear_error (&error);

  /* The async path says the same. */
  lt_catalog_open_async (catalog, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_false (lt_catalog_open_finish (catalog, result, &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_TOO_NEW);
  g_clear_error (&error);
  g_clear_object (&result);

  /* Jobs on a catalog that failed to open fail, quietly. */
  g_assert_null (lt_catalog_run_sync (catalog, exec_job, (gpointer) "SELECT 1", &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED);
  g_clear_error (&error);

  close_and_finalize (catalog);

  /* Not even switched to WAL: the newer build's file is untouched. */
  after = read_file_bytes (path);
  g_assert_true (g_bytes_equal (before, after));
}

static void
check_corrupt_untouched (const char *path)
{
  g_autoptr(GBytes) before = read_file_bytes (path);
  g_autoptr(GBytes) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  LtCatalog *catalog = lt_catalog_new (path);

  g_assert_false (lt_catalog_open_sync (catalog, &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CORRUPT);
  g_test_message ("%s", error->message);
  close_and_finalize (catalog);

  after = read_file_bytes (path);
  g_assert_true (g_bytes_equal (before, after));
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
}

static void
test_open_corrupt_garbage (void)
{
  g_autofree char *path = temp_catalog_path ();
  guint8 garbage[16384];

  for (gsize i = 0; i < sizeof garbage; i++)
    garbage[i] = g_test_rand_int_range (0, 256);
  write_file_bytes (path, garbage, sizeof garbage);
  check_corrupt_untouched (path);
}

static void
test_open_corrupt_short (void)
{
  g_autofree char *path = temp_catalog_path ();
  static const char text[] = "This is a text file, not a database.\n";

  write_file_bytes (path, text, strlen (text));
  check_corrupt_untouched (path);
}

static void
test_open_corrupt_schema (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GBytes) good = NULL;
  g_autofree guint8 *data = NULL;
  gsize length;
  LtCatalog *catalog;

  /* A real catalog whose first page (the schema's b-tree root) is overwritten after the
   * 100-byte file header: the header still says "SQLite format 3". */
  catalog = open_catalog (path);
  close_and_finalize (catalog);
  good = read_file_bytes (path);
  data = g_memdup2 (g_bytes_get_data (good, &length), g_bytes_get_size (good));
  g_assert_cmpuint (length, >, 4096);
  memset (data + 100, 0xa5, 4096 - 100);
  write_file_bytes (path, data, length);

  check_corrupt_untouched (path);
}

/* ---- jobs ---- */

typedef struct
{
  GThread      *caller;
  gboolean      data_freed;
  GThread      *data_freed_in;
  int           result_frees;
  int           runs;
} Counters;

static void
counters_data_free (gpointer data)
{
  Counters *counters = data;

  counters->data_freed = TRUE;
  counters->data_freed_in = g_thread_self ();
}

static gpointer
hello_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  Counters *counters = data;

  g_atomic_int_inc (&counters->runs);
  /* Runs on the worker, not on the caller's thread. */
  g_assert_true (g_thread_self () != counters->caller);
  return g_strdup ("hello");
}

static void
test_run_async (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *hello = NULL;
  Counters counters = { g_thread_self () };
  LtCatalog *catalog = open_catalog (path);

  lt_catalog_run_async (catalog, hello_job, &counters, counters_data_free, g_free, NULL,
                        lt_test_store_result_cb, &result);
  /* Never synchronously, not even for a fast job. */
  g_assert_null (result);
  lt_test_wait_result (&result);
  hello = lt_catalog_run_finish (catalog, result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hello, ==, "hello");
  g_assert_cmpint (counters.runs, ==, 1);
  /* The data is released on the caller's context. */
  g_assert_true (counters.data_freed);
  g_assert_true (counters.data_freed_in == g_thread_self ());

  g_clear_object (&result);
  close_and_finalize (catalog);
}

typedef struct
{
  LtCatalog *catalog;
  GThread   *thread;
  GThread   *callback_thread;
  char      *result;
} OtherThread;

static void
other_thread_done_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  OtherThread *other = user_data;
  g_autoptr(GError) error = NULL;

  other->callback_thread = g_thread_self ();
  other->result = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  g_assert_no_error (error);
}

static gpointer
other_thread_func (gpointer data)
{
  OtherThread *other = data;
  g_autoptr(GMainContext) context = g_main_context_new ();
  Counters counters = { g_thread_self () };

  g_main_context_push_thread_default (context);
  lt_catalog_run_async (other->catalog, hello_job, &counters, NULL, g_free, NULL,
                        other_thread_done_cb, other);
  while (other->result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  return NULL;
}

static void
test_run_async_other_context (void)
{
  g_autofree char *path = temp_catalog_path ();
  OtherThread other = { 0 };
  GThread *thread;

  other.catalog = open_catalog (path);
  thread = g_thread_new ("other", other_thread_func, &other);
  other.thread = thread;
  g_thread_join (thread);

  /* Completed on the thread-default context of the thread that queued it. */
  g_assert_true (other.callback_thread == thread);
  g_assert_cmpstr (other.result, ==, "hello");
  g_free (other.result);
  close_and_finalize (other.catalog);
}

static gpointer
fail_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_NOT_FOUND, "nothing here");
  return NULL;
}

static void
test_run_sync (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GError) error = NULL;
  g_autofree char *hello = NULL;
  Counters counters = { g_thread_self () };
  LtCatalog *catalog = open_catalog (path);

  hello = lt_catalog_run_sync (catalog, hello_job, &counters, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hello, ==, "hello");

  g_assert_null (lt_catalog_run_sync (catalog, fail_job, NULL, &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The durable variant runs with synchronous=FULL, and only that job. */
  g_assert_cmpint (query_int (catalog, "PRAGMA synchronous"), ==, 1);
  {
    g_autofree char *sync = lt_catalog_run_durable_sync (catalog, query_job,
                                                         (gpointer) "PRAGMA synchronous",
                                                         &error);

    g_assert_no_error (error);
    g_assert_cmpstr (sync, ==, "2");
  }
  g_assert_cmpint (query_int (catalog, "PRAGMA synchronous"), ==, 1);

  close_and_finalize (catalog);
}

static void
test_run_durable_async (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sync = NULL;
  LtCatalog *catalog = open_catalog (path);

  lt_catalog_run_durable_async (catalog, query_job, (gpointer) "PRAGMA synchronous", NULL,
                                g_free, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  sync = lt_catalog_run_finish (catalog, result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sync, ==, "2");
  g_assert_cmpint (query_int (catalog, "PRAGMA synchronous"), ==, 1);

  g_clear_object (&result);
  close_and_finalize (catalog);
}

/* A job that holds the worker until the test opens the gate. */
typedef struct
{
  GMutex   mutex;
  GCond    cond;
  gboolean entered;
  gboolean open;
  int      result_frees;
} Gate;

static gpointer
gate_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  Gate *gate = data;

  g_mutex_lock (&gate->mutex);
  gate->entered = TRUE;
  g_cond_broadcast (&gate->cond);
  while (!gate->open)
    g_cond_wait (&gate->cond, &gate->mutex);
  g_mutex_unlock (&gate->mutex);
  return gate;
}

static void
gate_wait_entered (Gate *gate)
{
  g_mutex_lock (&gate->mutex);
  while (!gate->entered)
    g_cond_wait (&gate->cond, &gate->mutex);
  g_mutex_unlock (&gate->mutex);
}

static void
gate_open (Gate *gate)
{
  g_mutex_lock (&gate->mutex);
  gate->open = TRUE;
  g_cond_broadcast (&gate->cond);
  g_mutex_unlock (&gate->mutex);
}

static void
gate_result_free (gpointer data)
{
  Gate *gate = data;

  gate->result_frees++;
}

static gpointer
count_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  Counters *counters = data;

  g_atomic_int_inc (&counters->runs);
  return GINT_TO_POINTER (TRUE);
}

static void
test_run_cancel_queued (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GAsyncResult) gate_result = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  Counters counters = { g_thread_self () };
  Gate gate = { 0 };
  LtCatalog *catalog = open_catalog (path);

  lt_catalog_run_async (catalog, gate_job, &gate, NULL, NULL, NULL,
                        lt_test_store_result_cb, &gate_result);
  gate_wait_entered (&gate);

  lt_catalog_run_async (catalog, count_job, &counters, counters_data_free, NULL, cancellable,
                        lt_test_store_result_cb, &result);
  g_cancellable_cancel (cancellable);

  /* Completes while the worker is still held by the gate: cancellation does not wait for
   * the queue. */
  lt_test_wait_result (&result);
  g_assert_null (gate_result);
  g_assert_null (lt_catalog_run_finish (catalog, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (counters.data_freed);
  g_clear_error (&error);

  gate_open (&gate);
  lt_test_wait_result (&gate_result);
  g_assert_true (lt_catalog_run_finish (catalog, gate_result, &error) == &gate);
  g_assert_no_error (error);

  /* Once the worker is past it: the cancelled job never ran. */
  g_assert_nonnull (lt_catalog_run_sync (catalog, exec_job, (gpointer) "SELECT 1", &error));
  g_assert_no_error (error);
  g_assert_cmpint (counters.runs, ==, 0);

  g_clear_object (&result);
  g_clear_object (&gate_result);
  close_and_finalize (catalog);
}

static void
test_run_cancel_before (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  Counters counters = { g_thread_self () };
  LtCatalog *catalog = open_catalog (path);

  g_cancellable_cancel (cancellable);
  lt_catalog_run_async (catalog, count_job, &counters, counters_data_free, NULL, cancellable,
                        lt_test_store_result_cb, &result);
  g_assert_null (result);
  lt_test_wait_result (&result);
  g_assert_null (lt_catalog_run_finish (catalog, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (counters.data_freed);
  g_clear_error (&error);

  g_assert_nonnull (lt_catalog_run_sync (catalog, exec_job, (gpointer) "SELECT 1", &error));
  g_assert_cmpint (counters.runs, ==, 0);

  /* A cancelled open, too. */
  g_clear_object (&result);
  lt_catalog_open_async (catalog, cancellable, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_false (lt_catalog_open_finish (catalog, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_clear_object (&result);
  close_and_finalize (catalog);
}

static void
test_run_cancel_running (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  Gate gate = { 0 };
  LtCatalog *catalog = open_catalog (path);

  lt_catalog_run_async (catalog, gate_job, &gate, NULL, gate_result_free, cancellable,
                        lt_test_store_result_cb, &result);
  gate_wait_entered (&gate);
  g_cancellable_cancel (cancellable);
  gate_open (&gate);

  /* It ran to its end; the caller still learns it was cancelled, and the result it
   * cannot take is freed. */
  lt_test_wait_result (&result);
  g_assert_null (lt_catalog_run_finish (catalog, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_object (&result);
  g_assert_cmpint (gate.result_frees, ==, 1);

  close_and_finalize (catalog);
}

static void
test_run_not_open (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GError) error = NULL;
  LtCatalog *catalog = lt_catalog_new (path);

  g_assert_null (lt_catalog_run_sync (catalog, exec_job, (gpointer) "SELECT 1", &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED);
  close_and_finalize (catalog);
  /* Nothing was created. */
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_run_errors (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GError) error = NULL;
  LtCatalog *catalog = open_catalog (path);

  exec_sql (catalog, "INSERT INTO api_keys (access_key_id, create_time) VALUES ('k', 1)");
  g_assert_null (lt_catalog_run_sync (catalog, exec_job,
                                      "INSERT INTO api_keys (access_key_id, create_time)"
                                      " VALUES ('k', 2)", &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CONSTRAINT);
  g_clear_error (&error);

  /* Foreign keys are enforced. */
  g_assert_null (lt_catalog_run_sync (catalog, exec_job,
                                      "INSERT INTO sessions (stream_id, rule_json, trigger_kind,"
                                      " started_at_us) VALUES (999, '{}', 'auto', 1)", &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CONSTRAINT);
  g_clear_error (&error);

  /* A CHECK is a bug in the caller, not a conflict. */
  g_assert_null (lt_catalog_run_sync (catalog, exec_job,
                                      "INSERT INTO storage_targets (name, kind, create_time,"
                                      " update_time) VALUES ('t', 'ftp', 1, 1)", &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED);
  g_clear_error (&error);

  /* STRICT: no text in an integer column. */
  g_assert_null (lt_catalog_run_sync (catalog, exec_job,
                                      "INSERT INTO events (time_us, kind) VALUES ('soon', 'x')",
                                      &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED);
  g_clear_error (&error);

  /* A syntax error is reported, not warned about. */
  g_assert_null (lt_catalog_run_sync (catalog, query_job, "SELEKT 1", &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED);
  g_clear_error (&error);

  close_and_finalize (catalog);
}

/* A job that fails after writing in a transaction: the worker rolls it back. */
static gpointer
failing_transaction_job (sqlite3  *db,
                         gpointer  data,
                         GError  **error)
{
  if (!lt_catalog_begin (db, error) ||
      !lt_catalog_exec (db, "INSERT INTO events (time_us, kind) VALUES (1, 'half')", error))
    return NULL;
  g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED, "gave up halfway");
  return NULL;
}

static gpointer
transaction_job (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  if (!lt_catalog_begin (db, error))
    return NULL;
  if (!lt_catalog_exec (db, "INSERT INTO events (time_us, kind) VALUES (1, 'whole')", error) ||
      !lt_catalog_exec (db, "INSERT INTO events (time_us, kind) VALUES (2, 'whole')", error))
    {
      lt_catalog_rollback (db);
      return NULL;
    }
  if (!lt_catalog_commit (db, error))
    return NULL;
  return GINT_TO_POINTER (TRUE);
}

static void
test_run_transactions (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GError) error = NULL;
  LtCatalog *catalog = open_catalog (path);

  g_assert_null (lt_catalog_run_sync (catalog, failing_transaction_job, NULL, &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpint (query_int (catalog, "SELECT count(*) FROM events"), ==, 0);

  g_assert_nonnull (lt_catalog_run_sync (catalog, transaction_job, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (catalog, "SELECT count(*) FROM events WHERE kind = 'whole'"),
                   ==, 2);
  close_and_finalize (catalog);
}

static gpointer
stmt_pointer_job (sqlite3  *db,
                  gpointer  data,
                  GError  **error)
{
  sqlite3_stmt *stmt;

  /* Whatever the previous job left mid-query was reset after it. */
  for (stmt = sqlite3_next_stmt (db, NULL); stmt != NULL; stmt = sqlite3_next_stmt (db, stmt))
    g_assert_false (sqlite3_stmt_busy (stmt));

  stmt = lt_catalog_stmt (db, "SELECT id FROM events ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  /* Leave it mid-query on purpose. */
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  /* Same SQL, same statement, within a job too. */
  g_assert_true (lt_catalog_stmt (db, "SELECT id FROM events ORDER BY id", error) == stmt);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  return stmt;
}

static void
test_stmt_cache (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GError) error = NULL;
  gpointer first, second;
  LtCatalog *catalog = open_catalog (path);

  exec_sql (catalog, "INSERT INTO events (time_us, kind) VALUES (1, 'a'), (2, 'b')");
  first = lt_catalog_run_sync (catalog, stmt_pointer_job, NULL, &error);
  g_assert_no_error (error);
  second = lt_catalog_run_sync (catalog, stmt_pointer_job, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (first);
  g_assert_true (first == second);
  close_and_finalize (catalog);
}

/* ---- close ---- */

static void
test_close_drains (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  GAsyncResult *results[50] = { NULL };
  LtCatalog *catalog = open_catalog (path);
  GStatBuf st;

  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    lt_catalog_add_event_async (catalog, "drain", NULL, NULL, NULL,
                                lt_test_store_result_cb, &results[i]);
  /* Blocks until every queued job ran. */
  lt_catalog_close (catalog);
  lt_catalog_close (catalog);

  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      lt_test_wait_result (&results[i]);
      g_assert_true (lt_catalog_add_event_finish (catalog, results[i], &error));
      g_assert_no_error (error);
      g_clear_object (&results[i]);
    }

  /* Checkpointed: the WAL is gone or empty. */
  g_assert_true (g_stat (wal, &st) != 0 || st.st_size == 0);

  /* Everything after close fails with CLOSED, quietly. */
  g_assert_null (lt_catalog_run_sync (catalog, exec_job, (gpointer) "SELECT 1", &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CLOSED);
  g_clear_error (&error);

  g_assert_false (lt_catalog_open_sync (catalog, &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CLOSED);
  g_clear_error (&error);

  lt_catalog_run_async (catalog, exec_job, (gpointer) "SELECT 1", NULL, NULL, NULL,
                        lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_null (lt_catalog_run_finish (catalog, result, &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CLOSED);
  g_clear_error (&error);
  g_clear_object (&result);

  lt_catalog_list_rules_async (catalog, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_null (lt_catalog_list_rules_finish (catalog, result, &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CLOSED);
  g_clear_error (&error);
  g_clear_object (&result);

  g_assert_finalize_object (catalog);

  catalog = open_catalog (path);
  g_assert_cmpint (query_int (catalog, "SELECT count(*) FROM events WHERE kind = 'drain'"),
                   ==, G_N_ELEMENTS (results));
  close_and_finalize (catalog);
}

static void
test_close_on_finalize (void)
{
  g_autofree char *path = temp_catalog_path ();
  LtCatalog *catalog = open_catalog (path);

  exec_sql (catalog, "INSERT INTO events (time_us, kind) VALUES (1, 'before-finalize')");
  /* No lt_catalog_close(): finalize closes. */
  g_assert_finalize_object (catalog);

  catalog = open_catalog (path);
  g_assert_cmpint (query_int (catalog,
                              "SELECT count(*) FROM events WHERE kind = 'before-finalize'"),
                   ==, 1);
  close_and_finalize (catalog);
}

static void
record_finalize_thread (gpointer  data,
                        GObject  *where_the_object_was)
{
  GThread **thread = data;

  *thread = g_thread_self ();
}

static void
test_close_fire_and_forget (void)
{
  g_autofree char *path = temp_catalog_path ();
  Counters counters = { g_thread_self () };
  GThread *finalized_in = NULL;
  LtCatalog *catalog = open_catalog (path);

  /* Queue and drop the catalog at once: the job keeps it alive, and the last reference
   * goes on this thread, not on the worker (which could not join itself). */
  g_object_weak_ref (G_OBJECT (catalog), record_finalize_thread, &finalized_in);
  for (int i = 0; i < 20; i++)
    lt_catalog_run_async (catalog, count_job, &counters, NULL, NULL, NULL, NULL, NULL);
  g_object_unref (catalog);

  while (finalized_in == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (finalized_in == g_thread_self ());
  g_assert_cmpint (counters.runs, ==, 20);
}

/* ---- rules ---- */

static LtRule *
make_rule (const char *domain,
           const char *app,
           const char *stream,
           const char *bucket)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GError) error = NULL;
  LtRule *rule;

  g_hash_table_insert (params, "DomainName", (gpointer) domain);
  g_hash_table_insert (params, "AppName", (gpointer) app);
  if (stream != NULL)
    g_hash_table_insert (params, "StreamName", (gpointer) stream);
  g_hash_table_insert (params, "OssEndpoint", "local");
  g_hash_table_insert (params, "OssBucket", (gpointer) bucket);
  g_hash_table_insert (params, "RecordFormat.1.Format", "m3u8");
  g_hash_table_insert (params, "RecordFormat.1.SliceDuration", "6");
  g_hash_table_insert (params, "RecordFormat.2.Format", "mp4");
  g_hash_table_insert (params, "RecordFormat.2.CycleDuration", "600");
  g_hash_table_insert (params, "DelayTime", "60");

  rule = lt_rule_new_from_params (params, now, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rule);
  return rule;
}

static void
assert_rules_equal (LtRule *a,
                    LtRule *b)
{
  g_autoptr(JsonNode) ja = lt_rule_to_json (a);
  g_autoptr(JsonNode) jb = lt_rule_to_json (b);
  g_autofree char *sa = json_to_string (ja, FALSE);
  g_autofree char *sb = json_to_string (jb, FALSE);

  g_assert_cmpstr (sa, ==, sb);
}

static gboolean
insert_rule (LtCatalog  *catalog,
             LtRule     *rule,
             GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_catalog_insert_rule_async (catalog, rule, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_catalog_insert_rule_finish (catalog, result, error);
}

static gboolean
update_rule (LtCatalog  *catalog,
             LtRule     *rule,
             GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_catalog_update_rule_async (catalog, rule, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_catalog_update_rule_finish (catalog, result, error);
}

static gboolean
delete_rule (LtCatalog   *catalog,
             const char  *domain,
             const char  *app,
             const char  *stream,
             GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_catalog_delete_rule_async (catalog, domain, app, stream, NULL,
                                lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_catalog_delete_rule_finish (catalog, result, error);
}

static GPtrArray *
list_rules (LtCatalog *catalog)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *rules;

  lt_catalog_list_rules_async (catalog, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  rules = lt_catalog_list_rules_finish (catalog, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rules);
  return rules;
}

static void
test_rules_crud (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LtRule) app_rule = make_rule ("example.com", "live", NULL, "bucket-a");
  g_autoptr(LtRule) stream_rule = make_rule ("example.com", "live", "cam1", "bucket-a");
  g_autoptr(LtRule) domain_rule = make_rule ("a.example.org", "*", NULL, "bucket-b");
  g_autoptr(LtRule) changed = make_rule ("example.com", "live", "cam1", "bucket-c");
  g_autoptr(LtRule) missing = make_rule ("nowhere.example", "live", NULL, "bucket-a");
  g_autoptr(GPtrArray) rules = NULL;
  LtCatalog *catalog = open_catalog (path);

  lt_rule_set_create_time (app_rule, 1700000001);
  lt_rule_set_create_time (stream_rule, 1700000002);
  lt_rule_set_create_time (domain_rule, 1700000003);

  rules = list_rules (catalog);
  g_assert_cmpuint (rules->len, ==, 0);
  g_clear_pointer (&rules, g_ptr_array_unref);

  g_assert_true (insert_rule (catalog, app_rule, &error));
  g_assert_no_error (error);
  g_assert_true (insert_rule (catalog, stream_rule, &error));
  g_assert_no_error (error);
  g_assert_true (insert_rule (catalog, domain_rule, &error));
  g_assert_no_error (error);

  /* Ordered by domain, app, stream ("*" sorts first); each round-trips exactly. */
  rules = list_rules (catalog);
  g_assert_cmpuint (rules->len, ==, 3);
  assert_rules_equal (g_ptr_array_index (rules, 0), domain_rule);
  assert_rules_equal (g_ptr_array_index (rules, 1), app_rule);
  assert_rules_equal (g_ptr_array_index (rules, 2), stream_rule);
  g_assert_cmpint (lt_rule_get_create_time (g_ptr_array_index (rules, 1)), ==, 1700000001);
  g_clear_pointer (&rules, g_ptr_array_unref);

  /* The same triplet twice. */
  {
    g_autoptr(LtRule) again = make_rule ("example.com", "live", "cam1", "bucket-z");

    g_assert_false (insert_rule (catalog, again, &error));
    g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CONSTRAINT);
    g_clear_error (&error);
  }

  /* Update keeps the create time when the new rule has none. */
  lt_rule_set_create_time (changed, 0);
  g_assert_true (update_rule (catalog, changed, &error));
  g_assert_no_error (error);
  rules = list_rules (catalog);
  g_assert_cmpuint (rules->len, ==, 3);
  g_assert_cmpstr (lt_rule_get_oss_bucket (g_ptr_array_index (rules, 2)), ==, "bucket-c");
  g_assert_cmpint (lt_rule_get_create_time (g_ptr_array_index (rules, 2)), ==, 1700000002);
  g_clear_pointer (&rules, g_ptr_array_unref);

  g_assert_false (update_rule (catalog, missing, &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Delete: NULL stream means "*". */
  g_assert_true (delete_rule (catalog, "example.com", "live", NULL, &error));
  g_assert_no_error (error);
  g_assert_false (delete_rule (catalog, "example.com", "live", "*", &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (delete_rule (catalog, "example.com", "live", "cam1", &error));
  g_assert_no_error (error);

  /* Persisted across a reopen. */
  close_and_finalize (catalog);
  catalog = open_catalog (path);
  rules = list_rules (catalog);
  g_assert_cmpuint (rules->len, ==, 1);
  assert_rules_equal (g_ptr_array_index (rules, 0), domain_rule);
  g_clear_pointer (&rules, g_ptr_array_unref);

  close_and_finalize (catalog);
}

static void
test_rules_domain_case (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LtRule) rule = make_rule ("example.com", "Live", "Cam", "bucket-a");
  g_autoptr(LtRule) other_case = make_rule ("example.com", "live", "cam", "bucket-a");
  g_autoptr(GPtrArray) rules = NULL;
  LtCatalog *catalog = open_catalog (path);

  /* A row written with an upper-case domain (an older build, or by hand) still collides
   * with the same host name in lower case. */
  exec_sql (catalog,
            "INSERT INTO rules (domain, app, stream, create_time, update_time, params)"
            " VALUES ('EXAMPLE.COM', 'Live', 'Cam', 1, 1, '{}')");
  g_assert_false (insert_rule (catalog, rule, &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CONSTRAINT);
  g_clear_error (&error);

  /* App and stream names are case-sensitive. */
  g_assert_true (insert_rule (catalog, other_case, &error));
  g_assert_no_error (error);

  /* Update and delete find the row whatever the domain's case. */
  g_assert_true (update_rule (catalog, rule, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (catalog,
                              "SELECT count(*) FROM rules WHERE domain = 'example.com'"
                              " AND app = 'Live' AND stream = 'Cam' AND params <> '{}'"),
                   ==, 1);
  g_assert_true (delete_rule (catalog, "Example.COM", "Live", "Cam", &error));
  g_assert_no_error (error);

  rules = list_rules (catalog);
  g_assert_cmpuint (rules->len, ==, 1);
  assert_rules_equal (g_ptr_array_index (rules, 0), other_case);
  close_and_finalize (catalog);
}

static void
test_rules_create_time_default (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LtRule) rule = make_rule ("example.com", "live", NULL, "bucket-a");
  g_autoptr(GPtrArray) rules = NULL;
  gint64 before = g_get_real_time () / G_USEC_PER_SEC;
  LtCatalog *catalog = open_catalog (path);

  lt_rule_set_create_time (rule, 0);
  g_assert_true (insert_rule (catalog, rule, &error));
  g_assert_no_error (error);
  rules = list_rules (catalog);
  g_assert_cmpuint (rules->len, ==, 1);
  g_assert_cmpint (lt_rule_get_create_time (g_ptr_array_index (rules, 0)), >=, before);
  g_assert_cmpint (lt_rule_get_create_time (g_ptr_array_index (rules, 0)),
                   <=, g_get_real_time () / G_USEC_PER_SEC);
  close_and_finalize (catalog);
}

static void
test_rules_unreadable (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LtCatalog *catalog = open_catalog (path);

  exec_sql (catalog,
            "INSERT INTO rules (domain, app, stream, create_time, update_time, params)"
            " VALUES ('example.com', 'live', '*', 1, 1, '{\"Version\": 999}')");
  lt_catalog_list_rules_async (catalog, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_null (lt_catalog_list_rules_finish (catalog, result, &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "example.com/live/*"));
  g_clear_object (&result);
  close_and_finalize (catalog);
}

/* ---- API keys ---- */

static gboolean
insert_api_key (LtCatalog   *catalog,
                const char  *id,
                const char  *description,
                GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_catalog_insert_api_key_async (catalog, id, description, NULL,
                                   lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_catalog_insert_api_key_finish (catalog, result, error);
}

static gboolean
delete_api_key (LtCatalog   *catalog,
                const char  *id,
                GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_catalog_delete_api_key_async (catalog, id, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_catalog_delete_api_key_finish (catalog, result, error);
}

static gboolean
set_api_key_enabled (LtCatalog   *catalog,
                     const char  *id,
                     gboolean     enabled,
                     GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_catalog_set_api_key_enabled_async (catalog, id, enabled, NULL,
                                        lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_catalog_set_api_key_enabled_finish (catalog, result, error);
}

static GPtrArray *
list_api_keys (LtCatalog *catalog)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *keys;

  lt_catalog_list_api_keys_async (catalog, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  keys = lt_catalog_list_api_keys_finish (catalog, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (keys);
  return keys;
}

static void
test_api_keys (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) keys = NULL;
  gint64 before = g_get_real_time () / G_USEC_PER_SEC;
  LtApiKeyInfo *info;
  LtCatalog *catalog = open_catalog (path);

  g_assert_true (insert_api_key (catalog, "LTAIfirst", "laptop", &error));
  g_assert_no_error (error);
  g_assert_true (insert_api_key (catalog, "LTAIsecond", NULL, &error));
  g_assert_no_error (error);
  g_assert_false (insert_api_key (catalog, "LTAIfirst", "again", &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CONSTRAINT);
  g_clear_error (&error);

  keys = list_api_keys (catalog);
  g_assert_cmpuint (keys->len, ==, 2);
  info = g_ptr_array_index (keys, 0);
  g_assert_cmpstr (info->access_key_id, ==, "LTAIfirst");
  g_assert_cmpstr (info->description, ==, "laptop");
  g_assert_true (info->enabled);
  g_assert_cmpint (info->create_time, >=, before);
  g_assert_cmpint (info->create_time, <=, g_get_real_time () / G_USEC_PER_SEC);
  info = g_ptr_array_index (keys, 1);
  g_assert_cmpstr (info->access_key_id, ==, "LTAIsecond");
  g_assert_cmpstr (info->description, ==, "");
  g_clear_pointer (&keys, g_ptr_array_unref);

  g_assert_true (set_api_key_enabled (catalog, "LTAIsecond", FALSE, &error));
  g_assert_no_error (error);
  g_assert_false (set_api_key_enabled (catalog, "LTAInone", FALSE, &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_NOT_FOUND);
  g_clear_error (&error);
  keys = list_api_keys (catalog);
  g_assert_false (((LtApiKeyInfo *) g_ptr_array_index (keys, 1))->enabled);
  g_clear_pointer (&keys, g_ptr_array_unref);

  g_assert_true (delete_api_key (catalog, "LTAIfirst", &error));
  g_assert_no_error (error);
  g_assert_false (delete_api_key (catalog, "LTAIfirst", &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_NOT_FOUND);
  g_clear_error (&error);

  keys = list_api_keys (catalog);
  g_assert_cmpuint (keys->len, ==, 1);
  g_assert_cmpstr (((LtApiKeyInfo *) g_ptr_array_index (keys, 0))->access_key_id,
                   ==, "LTAIsecond");

  /* The catalog holds no secret: the table has no column for one. */
  g_assert_cmpint (query_int (catalog,
                              "SELECT count(*) FROM pragma_table_info('api_keys')"
                              " WHERE name LIKE '%secret%'"), ==, 0);
  g_assert_cmpint (query_int (catalog,
                              "SELECT count(*) FROM pragma_table_info('storage_targets')"
                              " WHERE name LIKE '%secret%'"), ==, 0);
  close_and_finalize (catalog);
}

/* ---- events ---- */

static GPtrArray *
list_events (LtCatalog *catalog,
             gint64     before_id,
             guint      limit)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *events;

  lt_catalog_list_events_async (catalog, before_id, limit, NULL,
                                lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  events = lt_catalog_list_events_finish (catalog, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (events);
  return events;
}

static void
test_events (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;
  gint64 before = g_get_real_time ();
  LtCatalogEvent *event;
  LtCatalog *catalog = open_catalog (path);

  for (int i = 0; i < 5; i++)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autofree char *message = g_strdup_printf ("message %d", i);

      lt_catalog_add_event_async (catalog, "session.started", i % 2 ? "a/b/c" : NULL, message,
                                  NULL, lt_test_store_result_cb, &result);
      lt_test_wait_result (&result);
      g_assert_true (lt_catalog_add_event_finish (catalog, result, &error));
      g_assert_no_error (error);
    }

  events = list_events (catalog, 0, 3);
  g_assert_cmpuint (events->len, ==, 3);
  event = g_ptr_array_index (events, 0);
  g_assert_cmpstr (event->message, ==, "message 4");
  g_assert_cmpstr (event->kind, ==, "session.started");
  g_assert_cmpstr (event->subject, ==, "");
  g_assert_cmpint (event->time_us, >=, before);
  g_assert_cmpint (event->time_us, <=, g_get_real_time ());
  event = g_ptr_array_index (events, 2);
  g_assert_cmpstr (event->message, ==, "message 2");
  g_assert_cmpstr (((LtCatalogEvent *) g_ptr_array_index (events, 1))->subject, ==, "a/b/c");

  /* The next page. */
  {
    g_autoptr(GPtrArray) older = list_events (catalog, event->id, 10);

    g_assert_cmpuint (older->len, ==, 2);
    g_assert_cmpstr (((LtCatalogEvent *) g_ptr_array_index (older, 0))->message,
                     ==, "message 1");
    g_assert_cmpstr (((LtCatalogEvent *) g_ptr_array_index (older, 1))->message,
                     ==, "message 0");
  }

  close_and_finalize (catalog);
}

/* ---- schema ---- */

/* Job: every foreign key whose child column does not lead an index, as "table.column". */
static gpointer
unindexed_foreign_keys_job (sqlite3  *db,
                            gpointer  data,
                            GError  **error)
{
  GString *out = g_string_new (NULL);
  g_autoptr(GError) local_error = NULL;
  sqlite3_stmt *fks;
  int checked = 0;

  fks = lt_catalog_stmt (db,
                         "SELECT m.name, f.\"from\" FROM sqlite_schema m,"
                         " pragma_foreign_key_list(m.name) f WHERE m.type = 'table'",
                         error);
  if (fks == NULL)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  while (lt_catalog_next_row (fks, &local_error))
    {
      const char *table = (const char *) sqlite3_column_text (fks, 0);
      const char *column = (const char *) sqlite3_column_text (fks, 1);
      sqlite3_stmt *idx;

      idx = lt_catalog_stmt (db,
                             "SELECT count(*) FROM pragma_index_list(?1) l,"
                             " pragma_index_info(l.name) i WHERE i.seqno = 0 AND i.name = ?2",
                             &local_error);
      g_assert_nonnull (idx);
      sqlite3_bind_text (idx, 1, table, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (idx, 2, column, -1, SQLITE_TRANSIENT);
      g_assert_true (lt_catalog_next_row (idx, &local_error));
      if (sqlite3_column_int (idx, 0) == 0)
        g_string_append_printf (out, "%s.%s ", table, column);
      sqlite3_reset (idx);
      checked++;
    }
  g_assert_no_error (local_error);
  g_assert_cmpint (checked, >=, 10);
  return g_string_free (out, FALSE);
}

static void
assert_plan_uses (LtCatalog  *catalog,
                  const char *sql,
                  const char *index)
{
  g_autofree char *explain = g_strconcat ("EXPLAIN QUERY PLAN ", sql, NULL);
  g_autofree char *plan = query (catalog, explain);

  g_test_message ("%s\n  → %s", sql, plan);
  g_assert_nonnull (strstr (plan, index));
  g_assert_null (strstr (plan, "SCAN"));
  g_assert_null (strstr (plan, "TEMP B-TREE"));
}

static void
test_schema_foreign_keys_indexed (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GError) error = NULL;
  g_autofree char *unindexed = NULL;
  LtCatalog *catalog = open_catalog (path);

  unindexed = lt_catalog_run_sync (catalog, unindexed_foreign_keys_job, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (unindexed, ==, "");
  close_and_finalize (catalog);
}

static void
test_schema_query_plans (void)
{
  g_autofree char *path = temp_catalog_path ();
  LtCatalog *catalog = open_catalog (path);

  /* Per-stream time range over slices: the timeline, the coverage and the index files. */
  assert_plan_uses (catalog,
                    "SELECT start_time_us, duration_us FROM slices WHERE stream_id = 7"
                    " AND start_time_us >= 1000 AND start_time_us < 2000"
                    " ORDER BY start_time_us",
                    "slices_stream_time");
  assert_plan_uses (catalog,
                    "SELECT id, object_key, duration_us, discontinuity_seq FROM slices"
                    " WHERE stream_id = 7 AND start_time_us >= 1000 AND start_time_us < 2000"
                    " ORDER BY start_time_us",
                    "slices_stream_time");
  /* Retention, per stream. */
  assert_plan_uses (catalog, "DELETE FROM slices WHERE stream_id = 7 AND start_time_us < 5",
                    "slices_stream_time");
  /* A playlist's slices in order. */
  assert_plan_uses (catalog,
                    "SELECT * FROM slices WHERE recording_file_id = 3 ORDER BY sequence",
                    "slices_file_sequence");
  assert_plan_uses (catalog,
                    "SELECT * FROM recording_files WHERE stream_id = 3"
                    " AND start_time_us BETWEEN 1 AND 2 ORDER BY start_time_us",
                    "recording_files_stream_time");
  /* The outboxes' next due rows. */
  assert_plan_uses (catalog,
                    "SELECT id FROM upload_outbox WHERE state = 'pending'"
                    " AND next_attempt_at_us <= 99 ORDER BY next_attempt_at_us LIMIT 8",
                    "upload_outbox_due");
  assert_plan_uses (catalog,
                    "SELECT id FROM callback_outbox WHERE state = 'pending'"
                    " AND next_attempt_at_us <= 99 ORDER BY next_attempt_at_us LIMIT 8",
                    "callback_outbox_due");
  assert_plan_uses (catalog,
                    "SELECT id FROM callback_outbox WHERE stream_key = 'd/a/s' ORDER BY id",
                    "callback_outbox_stream");
  assert_plan_uses (catalog,
                    "SELECT record_id FROM index_files WHERE stream_id = 1"
                    " AND create_time BETWEEN 1 AND 2 ORDER BY create_time DESC",
                    "index_files_stream_create");
  assert_plan_uses (catalog,
                    "SELECT * FROM events WHERE time_us >= 5 ORDER BY time_us",
                    "events_time");
  assert_plan_uses (catalog,
                    "SELECT * FROM sessions WHERE state IN ('recording', 'paused')",
                    "sessions_unfinished");
  close_and_finalize (catalog);
}

#define BULK_SLICES 20000
#define SLICE_US G_GINT64_CONSTANT (6000000)
#define BULK_START_US G_GINT64_CONSTANT (1700000000000000)

/* Inserts a stream, a session, a playlist and BULK_SLICES slices in one transaction,
 * through the statement cache, the way the recorder's hot path does. */
static gpointer
bulk_slices_job (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  sqlite3_stmt *first = NULL;

  if (!lt_catalog_begin (db, error))
    return NULL;
  if (!lt_catalog_exec (db,
                        "INSERT INTO streams (id, domain, app, stream, first_seen, last_seen)"
                        " VALUES (1, 'example.com', 'live', 'cam', 1, 1), "
                        "        (2, 'example.com', 'live', 'other', 1, 1);"
                        "INSERT INTO sessions (id, stream_id, rule_json, trigger_kind,"
                        " started_at_us) VALUES (1, 1, '{}', 'auto', 0),"
                        " (2, 2, '{}', 'manual', 0);"
                        "INSERT INTO recording_files (id, session_id, stream_id, format,"
                        " sequence, target, bucket, object_key, start_time_us)"
                        " VALUES (1, 1, 1, 'm3u8', 1, 'local', 'b', 'k.m3u8', 0);",
                        error))
    goto fail;

  for (int i = 0; i < BULK_SLICES; i++)
    {
      sqlite3_stmt *stmt;

      stmt = lt_catalog_stmt (db,
                              "INSERT INTO slices (session_id, stream_id, recording_file_id,"
                              " sequence, start_time_us, duration_us, size, object_key,"
                              " local_path, width, height, video_codec, audio_codec)"
                              " VALUES (?1, ?1, ?2, ?3, ?4, ?5, 1000000, ?6, ?7, 1920, 1080,"
                              " 'h264', 'aac')",
                              error);
      if (stmt == NULL)
        goto fail;
      if (first == NULL)
        first = stmt;
      g_assert_true (stmt == first);
      /* Two streams interleaved, so the range query has to pick one. */
      sqlite3_bind_int64 (stmt, 1, 1 + i % 2);
      if (i % 2 == 0)
        sqlite3_bind_int64 (stmt, 2, 1);
      else
        sqlite3_bind_null (stmt, 2);
      sqlite3_bind_int64 (stmt, 3, i);
      sqlite3_bind_int64 (stmt, 4, BULK_START_US + (i / 2) * SLICE_US);
      sqlite3_bind_int64 (stmt, 5, SLICE_US);
      sqlite3_bind_text (stmt, 6, "record/live/cam/1700000000_1.ts", -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 7, "/spool/live/cam/1700000000_1.ts", -1, SQLITE_STATIC);
      if (!lt_catalog_step_done (stmt, error))
        goto fail;
    }

  if (!lt_catalog_commit (db, error))
    return NULL;
  return GINT_TO_POINTER (TRUE);

fail:
  lt_catalog_rollback (db);
  return NULL;
}

static void
test_schema_bulk_slices (void)
{
  g_autofree char *path = temp_catalog_path ();
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = NULL;
  gint64 start, elapsed;
  LtCatalog *catalog = open_catalog (path);

  start = g_get_monotonic_time ();
  g_assert_nonnull (lt_catalog_run_sync (catalog, bulk_slices_job, NULL, &error));
  g_assert_no_error (error);
  elapsed = g_get_monotonic_time () - start;
  g_test_message ("%d slices inserted in %.1f ms", BULK_SLICES, elapsed / 1000.0);

  /* One hour of stream 1 (600 slices of 6 s), starting 1000 slices in. */
  sql = g_strdup_printf ("SELECT count(*), sum(duration_us) FROM slices WHERE stream_id = 1"
                         " AND start_time_us >= %" G_GINT64_FORMAT
                         " AND start_time_us < %" G_GINT64_FORMAT,
                         BULK_START_US + 1000 * SLICE_US,
                         BULK_START_US + 1600 * SLICE_US);
  {
    g_autofree char *row = query (catalog, sql);
    g_autofree char *expected = g_strdup_printf ("600|%" G_GINT64_FORMAT,
                                                 (gint64) 600 * SLICE_US);

    g_assert_cmpstr (row, ==, expected);
  }

  /* The playlist's slices, in order, by the other index. */
  g_assert_cmpint (query_int (catalog,
                              "SELECT count(*) FROM slices WHERE recording_file_id = 1"),
                   ==, BULK_SLICES / 2);

  /* Ending a session's catalogue entries cascades to its slices and files. */
  exec_sql (catalog, "DELETE FROM sessions WHERE id = 1");
  g_assert_cmpint (query_int (catalog, "SELECT count(*) FROM slices"), ==, BULK_SLICES / 2);
  g_assert_cmpint (query_int (catalog, "SELECT count(*) FROM recording_files"), ==, 0);

  /* One slice per playlist sequence. */
  exec_sql (catalog,
            "INSERT INTO recording_files (id, session_id, stream_id, format,"
            " sequence, target, bucket, object_key, start_time_us)"
            " VALUES (5, 2, 2, 'm3u8', 1, 'local', 'b', 'k2.m3u8', 0);"
            "INSERT INTO slices (session_id, stream_id, recording_file_id, sequence,"
            " start_time_us, duration_us) VALUES (2, 2, 5, 1, 0, 1)");
  g_assert_null (lt_catalog_run_sync (catalog, exec_job,
                                      "INSERT INTO slices (session_id, stream_id,"
                                      " recording_file_id, sequence, start_time_us, duration_us)"
                                      " VALUES (2, 2, 5, 1, 0, 1)", &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CONSTRAINT);
  g_clear_error (&error);

  close_and_finalize (catalog);
}

int
main (int   argc,
      char *argv[])
{
  lt_test_init (&argc, &argv);

  g_test_add_func ("/catalog/open/migrate-reopen", test_open_migrate_reopen);
  g_test_add_func ("/catalog/open/async", test_open_async);
  g_test_add_func ("/catalog/open/pragmas", test_open_pragmas);
  g_test_add_func ("/catalog/open/too-new", test_open_too_new);
  g_test_add_func ("/catalog/open/corrupt-garbage", test_open_corrupt_garbage);
  g_test_add_func ("/catalog/open/corrupt-short", test_open_corrupt_short);
  g_test_add_func ("/catalog/open/corrupt-schema", test_open_corrupt_schema);
  g_test_add_func ("/catalog/run/async", test_run_async);
  g_test_add_func ("/catalog/run/async-other-context", test_run_async_other_context);
  g_test_add_func ("/catalog/run/sync", test_run_sync);
  g_test_add_func ("/catalog/run/durable-async", test_run_durable_async);
  g_test_add_func ("/catalog/run/cancel-queued", test_run_cancel_queued);
  g_test_add_func ("/catalog/run/cancel-before", test_run_cancel_before);
  g_test_add_func ("/catalog/run/cancel-running", test_run_cancel_running);
  g_test_add_func ("/catalog/run/not-open", test_run_not_open);
  g_test_add_func ("/catalog/run/errors", test_run_errors);
  g_test_add_func ("/catalog/run/transactions", test_run_transactions);
  g_test_add_func ("/catalog/run/stmt-cache", test_stmt_cache);
  g_test_add_func ("/catalog/close/drains", test_close_drains);
  g_test_add_func ("/catalog/close/on-finalize", test_close_on_finalize);
  g_test_add_func ("/catalog/close/fire-and-forget", test_close_fire_and_forget);
  g_test_add_func ("/catalog/rules/crud", test_rules_crud);
  g_test_add_func ("/catalog/rules/domain-case", test_rules_domain_case);
  g_test_add_func ("/catalog/rules/create-time-default", test_rules_create_time_default);
  g_test_add_func ("/catalog/rules/unreadable", test_rules_unreadable);
  g_test_add_func ("/catalog/api-keys", test_api_keys);
  g_test_add_func ("/catalog/events", test_events);
  g_test_add_func ("/catalog/schema/foreign-keys-indexed", test_schema_foreign_keys_indexed);
  g_test_add_func ("/catalog/schema/query-plans", test_schema_query_plans);
  g_test_add_func ("/catalog/schema/bulk-slices", test_schema_bulk_slices);

  return g_test_run ();
}
