/* lt-catalog-crasher.c: the victim of test-catalog-crash. Opens the catalog given on the
 * command line and writes in a tight loop until it is killed: round k is one transaction
 * that adds an event "crasher"/k, eight slices and an upload outbox row, marks the outbox
 * row of round k-5 done, deletes the slices of round k-10 and the outbox row of round k-20.
 * After COMMIT returns it prints k on stdout and flushes, so the parent knows which rounds
 * were acknowledged. Every seventh round runs as a durable job (synchronous=FULL).
 *
 *   lt-catalog-crasher CATALOG_PATH
 *
 * The rows are sized so that the WAL reaches the auto-checkpoint every few hundred
 * rounds: kills land during checkpoints too. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "lt-catalog.h"
#include "lt-catalog-crasher.h"

static gpointer
setup_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  sqlite3_stmt *stmt;
  gint64 *last;

  if (!lt_catalog_exec (db,
                        "INSERT OR IGNORE INTO streams (id, domain, app, stream, first_seen,"
                        " last_seen) VALUES (1, 'crash.example', 'live', 'cam', 0, 0);"
                        "INSERT OR IGNORE INTO sessions (id, stream_id, rule_json, trigger_kind,"
                        " started_at_us) VALUES (1, 1, '{}', 'auto', 0);",
                        error))
    return NULL;

  stmt = lt_catalog_stmt (db,
                          "SELECT coalesce (max (CAST (subject AS INTEGER)), 0) FROM events"
                          " WHERE kind = '" LT_CRASHER_EVENT_KIND "'",
                          error);
  if (stmt == NULL || !lt_catalog_next_row (stmt, error))
    return NULL;
  last = g_new (gint64, 1);
  *last = sqlite3_column_int64 (stmt, 0);
  return last;
}

static gboolean
step (sqlite3_stmt  *stmt,
      GError       **error)
{
  return stmt != NULL && lt_catalog_step_done (stmt, error);
}

static gpointer
round_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  gint64 k = *(gint64 *) data;
  g_autofree char *subject = g_strdup_printf ("%" G_GINT64_FORMAT, k);
  g_autofree char *key = g_strdup_printf ("k/%" G_GINT64_FORMAT, k);
  g_autofree char *done_key = g_strdup_printf ("k/%" G_GINT64_FORMAT, k - LT_CRASHER_DONE_LAG);
  g_autofree char *gone_key = g_strdup_printf ("k/%" G_GINT64_FORMAT,
                                               k - LT_CRASHER_OUTBOX_LIFE);
  g_autofree char *padding = g_strnfill (400, 'x');
  sqlite3_stmt *stmt;

  if (!lt_catalog_begin (db, error))
    return NULL;

  stmt = lt_catalog_stmt (db, "INSERT INTO events (time_us, kind, subject) VALUES (?1, '"
                          LT_CRASHER_EVENT_KIND "', ?2)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, g_get_real_time ());
  sqlite3_bind_text (stmt, 2, subject, -1, SQLITE_STATIC);
  if (!step (stmt, error))
    goto fail;

  for (int i = 0; i < LT_CRASHER_SLICES_PER_ROUND; i++)
    {
      g_autofree char *object_key = g_strdup_printf ("record/live/cam/%" G_GINT64_FORMAT
                                                     "_%d_%s.ts", k, i, padding);

      stmt = lt_catalog_stmt (db,
                              "INSERT INTO slices (session_id, stream_id, sequence,"
                              " start_time_us, duration_us, size, object_key, local_path)"
                              " VALUES (1, 1, ?1, ?1, 1, ?2, ?3, ?3)",
                              error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, k * LT_CRASHER_SLICES_PER_ROUND + i);
      sqlite3_bind_int64 (stmt, 2, k);
      sqlite3_bind_text (stmt, 3, object_key, -1, SQLITE_STATIC);
      if (!step (stmt, error))
        goto fail;
    }

  stmt = lt_catalog_stmt (db,
                          "INSERT INTO upload_outbox (target, bucket, object_key, local_path,"
                          " kind, created_at_us) VALUES ('local', 'b', ?1, ?2, 'slice', ?3)",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, padding, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time ());
  if (!step (stmt, error))
    goto fail;

  stmt = lt_catalog_stmt (db,
                          "UPDATE upload_outbox SET state = 'done', attempts = attempts + 1"
                          " WHERE object_key = ?1",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, done_key, -1, SQLITE_STATIC);
  if (!step (stmt, error))
    goto fail;

  stmt = lt_catalog_stmt (db, "DELETE FROM upload_outbox WHERE object_key = ?1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, gone_key, -1, SQLITE_STATIC);
  if (!step (stmt, error))
    goto fail;

  stmt = lt_catalog_stmt (db,
                          "DELETE FROM slices WHERE stream_id = 1"
                          " AND start_time_us >= ?1 AND start_time_us < ?2",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, (k - LT_CRASHER_SLICE_LIFE) * LT_CRASHER_SLICES_PER_ROUND);
  sqlite3_bind_int64 (stmt, 2, (k - LT_CRASHER_SLICE_LIFE + 1) * LT_CRASHER_SLICES_PER_ROUND);
  if (!step (stmt, error))
    goto fail;

  if (!lt_catalog_commit (db, error))
    return NULL;
  return GINT_TO_POINTER (TRUE);

fail:
  lt_catalog_rollback (db);
  return NULL;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(LtCatalog) catalog = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *last = NULL;
  gint64 deadline;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s CATALOG_PATH\n", argv[0]);
      return 2;
    }

  catalog = lt_catalog_new (argv[1]);
  if (!lt_catalog_open_sync (catalog, &error))
    {
      fprintf (stderr, "open: %s\n", error->message);
      return 1;
    }
  last = lt_catalog_run_sync (catalog, setup_job, NULL, &error);
  if (last == NULL)
    {
      fprintf (stderr, "setup: %s\n", error->message);
      return 1;
    }

  /* A safety net should the parent die without killing us. */
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  for (gint64 k = *last + 1; g_get_monotonic_time () < deadline; k++)
    {
      gpointer done;

      if (k % 7 == 0)
        done = lt_catalog_run_durable_sync (catalog, round_job, &k, &error);
      else
        done = lt_catalog_run_sync (catalog, round_job, &k, &error);
      if (done == NULL)
        {
          fprintf (stderr, "round %" G_GINT64_FORMAT ": %s\n", k, error->message);
          return 1;
        }
      /* Acknowledged only now that COMMIT has returned. */
      printf ("%" G_GINT64_FORMAT "\n", k);
      fflush (stdout);
    }

  lt_catalog_close (catalog);
  return 0;
}
