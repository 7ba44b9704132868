/* test-catalog-crash.c: the catalog survives kill -9 during writes.
 *
 * Spawns lt-catalog-crasher (built next to this test) on one catalog again and again and
 * kills it with SIGKILL after a random delay (seeded by g_test_rand: rerun a failure with
 * its --seed). Some kills land while it opens and migrates, most in its write loop, some
 * during checkpoints. After each kill the catalog is reopened with LtCatalog and must be:
 *   - intact: PRAGMA integrity_check is "ok", no foreign key is dangling;
 *   - complete: every round the crasher acknowledged (printed after COMMIT) is there, and at
 *     most one more (the one in flight when it died);
 *   - atomic: each round's slices, outbox rows and their later updates and deletions are
 *     all there or all absent, exactly as the committed rounds say.
 */
#include "config.h"

#include <signal.h>
#include <sqlite3.h>

#include "lt-catalog.h"
#include "lt-catalog-crasher.h"
#include "lt-test-utils.h"

#define MIN_ROUNDS 20
#define MAX_ROUNDS 30
#define TIME_BUDGET_US (24 * G_USEC_PER_SEC)

typedef struct
{
  char   *integrity;
  gint64  dangling;
  gint64  last_round;    /* highest committed round */
  gint64  rounds;        /* number of committed rounds */
  GString *problems;
} Observed;

static void
observed_free (Observed *observed)
{
  g_free (observed->integrity);
  g_string_free (observed->problems, TRUE);
  g_free (observed);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Observed, observed_free)

static gint64
single_int (sqlite3     *db,
            const char  *sql,
            gint64       a,
            gint64       b,
            GError     **error)
{
  sqlite3_stmt *stmt = lt_catalog_stmt (db, sql, error);
  gint64 value;

  g_assert_nonnull (stmt);
  if (sqlite3_bind_parameter_count (stmt) >= 1)
    sqlite3_bind_int64 (stmt, 1, a);
  if (sqlite3_bind_parameter_count (stmt) >= 2)
    sqlite3_bind_int64 (stmt, 2, b);
  g_assert_true (lt_catalog_next_row (stmt, error));
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return value;
}

static gpointer
observe_job (sqlite3  *db,
             gpointer  data,
             GError  **error)
{
  g_autoptr(Observed) observed = g_new0 (Observed, 1);
  g_autoptr(GString) integrity = g_string_new (NULL);
  GString *problems = g_string_new (NULL);
  sqlite3_stmt *stmt;
  gint64 last, count;

  observed->problems = problems;

  stmt = lt_catalog_stmt (db, "PRAGMA integrity_check", error);
  g_assert_nonnull (stmt);
  while (lt_catalog_next_row (stmt, error))
    g_string_append_printf (integrity, "%s%s", integrity->len > 0 ? "; " : "",
                            (const char *) sqlite3_column_text (stmt, 0));
  g_assert_no_error (*error);
  observed->integrity = g_strdup (integrity->str);

  observed->dangling = single_int (db, "SELECT count(*) FROM pragma_foreign_key_check",
                                   0, 0, error);

  last = single_int (db,
                     "SELECT coalesce (max (CAST (subject AS INTEGER)), 0) FROM events"
                     " WHERE kind = '" LT_CRASHER_EVENT_KIND "'", 0, 0, error);
  count = single_int (db,
                      "SELECT count (DISTINCT subject) FROM events"
                      " WHERE kind = '" LT_CRASHER_EVENT_KIND "'", 0, 0, error);
  observed->last_round = last;
  observed->rounds = count;
  /* Rounds are numbered on from the last committed one: no hole may appear. */
  if (count != last)
    g_string_append_printf (problems, "rounds 1..%" G_GINT64_FORMAT " but %" G_GINT64_FORMAT
                            " committed; ", last, count);

  /* Each recent round's rows, as the later rounds left them. */
  for (gint64 k = MAX (1, last - LT_CRASHER_OUTBOX_LIFE - 5); k <= last; k++)
    {
      g_autofree char *key = g_strdup_printf ("k/%" G_GINT64_FORMAT, k);
      gint64 slices, outbox, done;
      gint64 expected_slices = k > last - LT_CRASHER_SLICE_LIFE ? LT_CRASHER_SLICES_PER_ROUND : 0;
      gint64 expected_outbox = k > last - LT_CRASHER_OUTBOX_LIFE ? 1 : 0;
      gint64 expected_done = (expected_outbox && k <= last - LT_CRASHER_DONE_LAG) ? 1 : 0;

      slices = single_int (db,
                           "SELECT count(*) FROM slices WHERE stream_id = 1"
                           " AND start_time_us >= ?1 AND start_time_us < ?2",
                           k * LT_CRASHER_SLICES_PER_ROUND,
                           (k + 1) * LT_CRASHER_SLICES_PER_ROUND, error);
      stmt = lt_catalog_stmt (db,
                              "SELECT count(*), coalesce (sum (state = 'done'), 0)"
                              " FROM upload_outbox WHERE object_key = ?1",
                              error);
      g_assert_nonnull (stmt);
      sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
      g_assert_true (lt_catalog_next_row (stmt, error));
      outbox = sqlite3_column_int64 (stmt, 0);
      done = sqlite3_column_int64 (stmt, 1);
      sqlite3_reset (stmt);

      if (slices != expected_slices || outbox != expected_outbox || done != expected_done)
        g_string_append_printf (problems,
                                "round %" G_GINT64_FORMAT ": slices %" G_GINT64_FORMAT
                                "/%" G_GINT64_FORMAT ", outbox %" G_GINT64_FORMAT
                                "/%" G_GINT64_FORMAT ", done %" G_GINT64_FORMAT
                                "/%" G_GINT64_FORMAT "; ",
                                k, slices, expected_slices, outbox, expected_outbox,
                                done, expected_done);
    }

  /* Nothing older than the windows survives. */
  count = single_int (db, "SELECT count(*) FROM slices", 0, 0, error);
  if (count != MIN (last, LT_CRASHER_SLICE_LIFE) * LT_CRASHER_SLICES_PER_ROUND)
    g_string_append_printf (problems, "%" G_GINT64_FORMAT " slices in all; ", count);
  count = single_int (db, "SELECT count(*) FROM upload_outbox", 0, 0, error);
  if (count != MIN (last, LT_CRASHER_OUTBOX_LIFE))
    g_string_append_printf (problems, "%" G_GINT64_FORMAT " outbox rows in all; ", count);

  return g_steal_pointer (&observed);
}

/* Job: PRAGMA integrity_check, rows joined. */
static gpointer
integrity_job (sqlite3  *db,
               gpointer  data,
               GError  **error)
{
  GString *out = g_string_new (NULL);
  sqlite3_stmt *stmt = lt_catalog_stmt (db, "PRAGMA integrity_check", error);

  g_assert_nonnull (stmt);
  while (lt_catalog_next_row (stmt, error))
    g_string_append_printf (out, "%s%s", out->len > 0 ? "; " : "",
                            (const char *) sqlite3_column_text (stmt, 0));
  g_assert_no_error (*error);
  return g_string_free (out, FALSE);
}

/* Job: the first column of the first row of the query in @data, as text. */
static gpointer
text_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  sqlite3_stmt *stmt = lt_catalog_stmt (db, data, error);
  char *text;

  g_assert_nonnull (stmt);
  g_assert_true (lt_catalog_next_row (stmt, error));
  text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return text;
}

/* A catalog killed while being created or migrated opens (finishing the migrations) and is
 * intact; rounds it acknowledged are there. */
static void
check_fresh (const char *path,
             guint       delay_ms,
             const char *out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *integrity = NULL;
  g_autofree char *count_sql = NULL;
  g_autofree char *count = NULL;
  guint acked = 0;
  gboolean existed = g_file_test (path, G_FILE_TEST_EXISTS);
  LtCatalog *catalog;

  /* One line per acknowledged round, numbered from 1 on a new file. */
  for (const char *p = out; *p != '\0'; p++)
    if (*p == '\n')
      acked++;

  catalog = lt_catalog_new (path);
  g_assert_true (lt_catalog_open_sync (catalog, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lt_catalog_get_schema_version (catalog),
                   ==, lt_catalog_get_latest_schema_version ());
  integrity = lt_catalog_run_sync (catalog, integrity_job, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (integrity, ==, "ok");

  count_sql = g_strdup_printf ("SELECT count(*) FROM events WHERE kind = '"
                               LT_CRASHER_EVENT_KIND "' AND CAST (subject AS INTEGER) <= %u",
                               acked);
  count = lt_catalog_run_sync (catalog, text_job, count_sql, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_ascii_strtoll (count, NULL, 10), ==, acked);

  lt_catalog_close (catalog);
  g_assert_finalize_object (catalog);

  g_test_message ("new file: killed after %u ms (%s), %u rounds acknowledged",
                  delay_ms, existed ? "file created" : "no file yet", acked);
}

typedef struct
{
  GSubprocess *process;
  char        *out;
  char        *err;
  gboolean     done;
  gboolean     killed;
} Round;

static void
communicate_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Round *round = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result,
                                        &round->out, &round->err, &error);
  g_assert_no_error (error);
  round->done = TRUE;
}

static gboolean
kill_cb (gpointer user_data)
{
  Round *round = user_data;

  g_subprocess_send_signal (round->process, SIGKILL);
  round->killed = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_kill_during_writes (void)
{
  g_autofree char *crasher = NULL;
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "catalog.db", NULL);
  gint64 started = g_get_monotonic_time ();
  gint64 acked_max = 0;
  gint64 acked_total = 0;
  guint rounds = 0;
  guint rounds_with_writes = 0;
  guint fresh_rounds = 0;

  /* meson passes its path; by hand, it sits next to this test. */
  if (g_getenv ("LT_CATALOG_CRASHER") != NULL)
    crasher = g_strdup (g_getenv ("LT_CATALOG_CRASHER"));
  else
    crasher = g_test_build_filename (G_TEST_BUILT, "lt-catalog-crasher", NULL);
  g_assert_true (g_file_test (crasher, G_FILE_TEST_IS_EXECUTABLE));

  while (rounds < MAX_ROUNDS &&
         (rounds < MIN_ROUNDS || g_get_monotonic_time () - started < TIME_BUDGET_US))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(Observed) observed = NULL;
      g_auto(GStrv) lines = NULL;
      Round round = { 0 };
      gint64 previous_last;
      gint64 round_max = 0;
      guint delay_ms;
      guint acked = 0;
      LtCatalog *catalog;

      g_autofree char *fresh_path = NULL;

      /* Mostly mid-loop on the one catalog; one round in five on a new file, killed early
       * so that it dies while it creates the file and migrates (or just after). */
      if (g_test_rand_int_range (0, 5) == 0)
        {
          fresh_path = g_strdup_printf ("%s/fresh-%u.db", dir, rounds);
          delay_ms = g_test_rand_int_range (0, 40);
        }
      else
        {
          delay_ms = g_test_rand_int_range (20, 400);
        }

      previous_last = acked_max;
      round.process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                        &error, crasher,
                                        fresh_path != NULL ? fresh_path : path, NULL);
      g_assert_no_error (error);
      g_subprocess_communicate_utf8_async (round.process, NULL, NULL, communicate_cb, &round);
      g_timeout_add (delay_ms, kill_cb, &round);
      while (!round.done || !round.killed)
        g_main_context_iteration (NULL, TRUE);
      g_subprocess_wait (round.process, NULL, &error);
      g_assert_no_error (error);

      /* It must have died of the kill, not of an error of its own. */
      if (!g_subprocess_get_if_signaled (round.process))
        g_error ("the crasher exited by itself (status %d): %s",
                 g_subprocess_get_exit_status (round.process), round.err);
      g_assert_cmpint (g_subprocess_get_term_sig (round.process), ==, SIGKILL);

      if (fresh_path != NULL)
        {
          check_fresh (fresh_path, delay_ms, round.out);
          rounds++;
          fresh_rounds++;
          g_clear_object (&round.process);
          g_free (round.out);
          g_free (round.err);
          continue;
        }

      lines = g_strsplit (round.out, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          gint64 k;

          /* The last piece is empty (or, never with one write per line, partial). */
          if (lines[i + 1] == NULL)
            break;
          k = g_ascii_strtoll (lines[i], NULL, 10);
          /* The crasher goes on from the last committed round, one at a time. */
          g_assert_cmpint (k, ==, (round_max > 0 ? round_max : previous_last) + 1);
          round_max = k;
          acked++;
        }

      /* Reopen as Livetape would after the crash. */
      catalog = lt_catalog_new (path);
      g_assert_true (lt_catalog_open_sync (catalog, &error));
      g_assert_no_error (error);
      observed = lt_catalog_run_sync (catalog, observe_job, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (observed);
      lt_catalog_close (catalog);
      g_assert_finalize_object (catalog);

      g_test_message ("round %u: killed after %u ms, %u rounds acknowledged (up to %"
                      G_GINT64_FORMAT "), %" G_GINT64_FORMAT " committed in all",
                      rounds + 1, delay_ms, acked, round_max, observed->last_round);

      g_assert_cmpstr (observed->integrity, ==, "ok");
      g_assert_cmpint (observed->dangling, ==, 0);
      g_assert_cmpstr (observed->problems->str, ==, "");

      /* Every acknowledged round is there, and at most the one in flight besides. */
      if (round_max > 0)
        acked_max = round_max;
      g_assert_cmpint (observed->last_round, >=, acked_max);
      g_assert_cmpint (observed->last_round, <=, acked_max + 1);
      /* The unacknowledged one counts from now on: the next crasher continues after it. */
      acked_max = observed->last_round;

      acked_total += acked;
      if (acked > 0)
        rounds_with_writes++;
      rounds++;

      g_clear_object (&round.process);
      g_free (round.out);
      g_free (round.err);
    }

  g_test_message ("%u kills, %u of them on new files, %u during writes, %" G_GINT64_FORMAT
                  " acknowledged rounds, %.1f s",
                  rounds, fresh_rounds, rounds_with_writes, acked_total,
                  (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC);
  g_assert_cmpuint (rounds, >=, MIN_ROUNDS);
  /* The test proves nothing if the kills never caught the crasher writing. */
  g_assert_cmpuint (rounds_with_writes, >=, MIN_ROUNDS / 2);
  g_assert_cmpint (acked_total, >=, 100);
}

int
main (int   argc,
      char *argv[])
{
  lt_test_init (&argc, &argv);

  g_test_add_func ("/catalog/crash/kill-during-writes", test_kill_during_writes);

  return g_test_run ();
}
