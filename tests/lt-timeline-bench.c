/* lt-timeline-bench.c: the timeline's figures on a big synthetic catalog (issue 5,
 * "Performance"); bench/bench-timeline.py runs it.
 *
 *   lt-timeline-bench generate DIR [--days 90] [--streams 50] [--stream-days 7] [--seed 1]
 *       DIR/catalog.db made by the real code (LtCatalog runs the migrations), then filled in
 *       big transactions with prepared statements: one stream ("big") recorded for --days,
 *       --streams more ("s01"…) for the last --stream-days, all in time order across the
 *       streams (as concurrent recorders would have written them). Sessions of 2–8 hours
 *       with reconnects inside them (pauses 'offline', a new discontinuity), ended by
 *       'offline' or 'manual_stop' then 'merge_window_expired', a few by 'shutdown'; gaps of
 *       1–20 minutes between sessions; 6-second TS slices with plausible object keys and
 *       local paths (the files do not exist: nothing here reads them); one m3u8 and one mp4
 *       recording file per session; one slice in 50,000 'lost'.
 *   lt-timeline-bench core DIR [--runs 30] [--cold-runs 5] [--only PREFIX]
 *       The real async calls on that catalog, each timed from the call to its callback on
 *       the main context (what the API and the page wait for), with the process's CPU time
 *       for the call beside it (_cpu: independent of the machine's load). One line per
 *       figure: "name value unit". --only measures the figures whose name starts with
 *       PREFIX (for perf and for trying a change).
 *
 * Cold runs drop the catalog's pages from the OS page cache (posix_fadvise DONTNEED) and
 * open a new LtCatalog (empty SQLite cache) before the one timed call.
 */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lt-catalog.h"
#include "lt-index-files.h"
#include "lt-timeline.h"

#define DOMAIN  "bench.example.com"
#define APP     "live"
#define BUCKET  "bench"
#define SLICE_US        (6 * G_TIME_SPAN_SECOND)
#define MERGE_WINDOW_US (180 * G_TIME_SPAN_SECOND)

/* ---- generation ---- */

typedef struct
{
  char    *name;
  gint64   stream_id;
  gint64   begin_us;
  gint64   end_us;
  /* the session being written */
  gint64   session_id;
  gint64   session_start_us;
  gint64   session_end_us;     /* planned */
  gint64   segment_end_us;     /* the current run ends here (a reconnect or the end) */
  gint64   m3u8_id;
  gint64   mp4_id;
  gint64   sequence;
  gint64   discontinuity;
  gint64   recorded_us;
  gint64   last_end_us;
  gint64   t;                  /* the next slice's start */
  char    *dir;                /* the session's object key prefix */
} Gen;

typedef struct
{
  const char *data_dir;
  guint       days;
  guint       streams;
  guint       stream_days;
  guint32     seed;
  gint64      end_us;
  guint64     n_slices;
  guint64     n_sessions;
} GenerateJob;

typedef struct
{
  sqlite3_stmt *session;
  sqlite3_stmt *session_end;
  sqlite3_stmt *pause;
  sqlite3_stmt *file;
  sqlite3_stmt *file_end;
  sqlite3_stmt *slice;
} Stmts;

static GRand *rng;
/* --only PREFIX: measure only the figures whose name starts with it. */
static const char *only;

static gint64
rand_between (gint64 lo,
              gint64 hi)
{
  return lo + (gint64) (g_rand_double (rng) * (double) (hi - lo));
}

static sqlite3_stmt *
prepare (sqlite3    *db,
         const char *sql)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    g_error ("prepare %s: %s", sql, sqlite3_errmsg (db));
  return stmt;
}

static gint64
step_insert (sqlite3      *db,
             sqlite3_stmt *stmt)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    g_error ("insert: %s", sqlite3_errmsg (db));
  sqlite3_reset (stmt);
  return sqlite3_last_insert_rowid (db);
}

static void
exec (sqlite3    *db,
      const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

static char *
escaped_time (gint64 time_us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (time_us / G_USEC_PER_SEC);

  return g_date_time_format (dt, "%Y-%m-%d-%H-%M-%S");
}

static void
session_begin (sqlite3    *db,
               Stmts      *s,
               Gen        *g,
               const char *data_dir)
{
  g_autofree char *when = escaped_time (g->t);
  g_autofree char *key = NULL;
  g_autofree char *path = NULL;

  g->session_start_us = g->t;
  g->session_end_us = MIN (g->t + rand_between (2 * G_TIME_SPAN_HOUR, 8 * G_TIME_SPAN_HOUR),
                           g->end_us);
  g->segment_end_us = MIN (g->t + rand_between (20 * G_TIME_SPAN_MINUTE, 3 * G_TIME_SPAN_HOUR),
                           g->session_end_us);
  g->sequence = 0;
  g->discontinuity = 0;
  g->recorded_us = 0;
  g_free (g->dir);
  g->dir = g_strdup_printf ("record/" APP "/%s/%s", g->name, when);

  sqlite3_bind_int64 (s->session, 1, g->stream_id);
  sqlite3_bind_int64 (s->session, 2, g->t);
  g->session_id = step_insert (db, s->session);

  key = g_strdup_printf ("%s.m3u8", g->dir);
  path = g_build_filename (data_dir, "storage", BUCKET, key, NULL);
  sqlite3_bind_int64 (s->file, 1, g->session_id);
  sqlite3_bind_int64 (s->file, 2, g->stream_id);
  sqlite3_bind_text (s->file, 3, "m3u8", -1, SQLITE_STATIC);
  sqlite3_bind_text (s->file, 4, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s->file, 5, path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s->file, 6, g->t);
  g->m3u8_id = step_insert (db, s->file);

  g_free (key);
  g_free (path);
  key = g_strdup_printf ("%s.mp4", g->dir);
  path = g_build_filename (data_dir, "storage", BUCKET, key, NULL);
  sqlite3_bind_text (s->file, 3, "mp4", -1, SQLITE_STATIC);
  sqlite3_bind_text (s->file, 4, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s->file, 5, path, -1, SQLITE_TRANSIENT);
  g->mp4_id = step_insert (db, s->file);
}

static void
session_end (sqlite3 *db,
             Stmts   *s,
             Gen     *g)
{
  double r = g_rand_double (rng);
  const char *pause_reason = r < 0.80 ? "offline" : "manual_stop";
  gboolean shutdown = r > 0.97;
  gint64 paused_at = g->last_end_us + rand_between (500 * 1000, 3 * G_USEC_PER_SEC);
  gint64 ended_at = shutdown ? paused_at : paused_at + MERGE_WINDOW_US;
  gint64 ids[2] = { g->m3u8_id, g->mp4_id };

  if (!shutdown)
    {
      sqlite3_bind_int64 (s->pause, 1, g->session_id);
      sqlite3_bind_int64 (s->pause, 2, g->stream_id);
      sqlite3_bind_int64 (s->pause, 3, paused_at);
      sqlite3_bind_null (s->pause, 4);
      sqlite3_bind_text (s->pause, 5, pause_reason, -1, SQLITE_STATIC);
      step_insert (db, s->pause);
    }
  sqlite3_bind_int64 (s->session_end, 1, ended_at);
  sqlite3_bind_text (s->session_end, 2, shutdown ? "shutdown" : "merge_window_expired", -1,
                     SQLITE_STATIC);
  sqlite3_bind_int64 (s->session_end, 3, g->session_id);
  step_insert (db, s->session_end);

  for (guint i = 0; i < 2; i++)
    {
      sqlite3_bind_int64 (s->file_end, 1, g->last_end_us);
      sqlite3_bind_int64 (s->file_end, 2, g->recorded_us);
      sqlite3_bind_int64 (s->file_end, 3, g->recorded_us / G_USEC_PER_SEC * 650000);
      sqlite3_bind_int64 (s->file_end, 4, ids[i]);
      step_insert (db, s->file_end);
    }
  g->session_id = 0;
  /* The next session after a gap of 1–20 minutes. */
  g->t = ended_at + rand_between (G_TIME_SPAN_MINUTE, 20 * G_TIME_SPAN_MINUTE);
}

/* Writes @g's slices that start before @until. */
static guint64
advance (sqlite3    *db,
         Stmts      *s,
         Gen        *g,
         gint64      until,
         const char *data_dir,
         guint64    *n_sessions)
{
  guint64 n = 0;

  while (g->t < until && g->t < g->end_us)
    {
      g_autofree char *key = NULL;
      g_autofree char *path = NULL;
      gint64 duration;

      if (g->session_id == 0)
        {
          session_begin (db, s, g, data_dir);
          (*n_sessions)++;
        }

      duration = SLICE_US + rand_between (-40000, 40000);
      key = g_strdup_printf ("%s/%06" G_GINT64_FORMAT ".ts", g->dir, g->sequence);
      path = g_build_filename (data_dir, "storage", BUCKET, key, NULL);
      sqlite3_bind_int64 (s->slice, 1, g->session_id);
      sqlite3_bind_int64 (s->slice, 2, g->stream_id);
      sqlite3_bind_int64 (s->slice, 3, g->m3u8_id);
      sqlite3_bind_int64 (s->slice, 4, g->sequence);
      sqlite3_bind_int64 (s->slice, 5, g->t);
      sqlite3_bind_int64 (s->slice, 6, duration);
      sqlite3_bind_int64 (s->slice, 7, 3700000 + rand_between (-200000, 200000));
      sqlite3_bind_text (s->slice, 8, key, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (s->slice, 9, path, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (s->slice, 10, g->discontinuity);
      sqlite3_bind_text (s->slice, 11, g_rand_int_range (rng, 0, 50000) == 0 ? "lost"
                                       : "closed", -1, SQLITE_STATIC);
      step_insert (db, s->slice);
      n++;
      g->sequence++;
      g->recorded_us += duration;
      g->last_end_us = g->t + duration;
      /* Back to back, a few milliseconds apart (arrival-anchored timestamps). */
      g->t = g->last_end_us + rand_between (0, 20000);

      if (g->t >= g->session_end_us || g->t >= g->end_us)
        session_end (db, s, g);
      else if (g->t >= g->segment_end_us)
        {
          /* A reconnect inside the merge window: a pause, 5–90 s of nothing, a new
           * discontinuity. */
          gint64 paused_at = g->last_end_us + rand_between (500 * 1000, 2 * G_USEC_PER_SEC);
          gint64 resumed_at = paused_at + rand_between (5 * G_USEC_PER_SEC, 90 * G_USEC_PER_SEC);

          sqlite3_bind_int64 (s->pause, 1, g->session_id);
          sqlite3_bind_int64 (s->pause, 2, g->stream_id);
          sqlite3_bind_int64 (s->pause, 3, paused_at);
          sqlite3_bind_int64 (s->pause, 4, resumed_at);
          sqlite3_bind_text (s->pause, 5, "offline", -1, SQLITE_STATIC);
          step_insert (db, s->pause);
          g->t = resumed_at + rand_between (500 * 1000, 3 * G_USEC_PER_SEC);
          g->discontinuity++;
          g->segment_end_us = MIN (g->t + rand_between (20 * G_TIME_SPAN_MINUTE,
                                                        3 * G_TIME_SPAN_HOUR),
                                   g->session_end_us);
        }
    }
  return n;
}

static gpointer
generate_job (sqlite3  *db,
              gpointer  data,
              GError  **error)
{
  GenerateJob *job = data;
  g_autoptr(GPtrArray) gens = g_ptr_array_new ();
  Stmts s;
  sqlite3_stmt *stream;
  gint64 begin_us = job->end_us - (gint64) job->days * G_TIME_SPAN_DAY;
  gint64 now_s = job->end_us / G_USEC_PER_SEC;

  exec (db, "PRAGMA cache_size = -262144");
  exec (db, "BEGIN");
  stream = prepare (db, "INSERT INTO streams (domain, app, stream, first_seen, last_seen) "
                        "VALUES ('" DOMAIN "', '" APP "', ?1, ?2, ?3)");
  s.session = prepare (db, "INSERT INTO sessions (stream_id, rule_json, trigger_kind, state, "
                           "started_at_us) VALUES (?1, '{\"DomainName\":\"" DOMAIN "\"}', "
                           "'auto', 'ended', ?2)");
  s.session_end = prepare (db, "UPDATE sessions SET ended_at_us = ?1, end_reason = ?2 "
                               "WHERE id = ?3");
  s.pause = prepare (db, "INSERT INTO session_pauses (session_id, stream_id, paused_at_us, "
                         "resumed_at_us, reason) VALUES (?1, ?2, ?3, ?4, ?5)");
  s.file = prepare (db, "INSERT INTO recording_files (session_id, stream_id, format, sequence, "
                        "target, bucket, object_key, local_path, start_time_us, state, width, "
                        "height, video_codec, audio_codec) VALUES (?1, ?2, ?3, 1, 'local', "
                        "'" BUCKET "', ?4, ?5, ?6, 'open', 1920, 1080, 'h264', 'aac')");
  s.file_end = prepare (db, "UPDATE recording_files SET end_time_us = ?1, duration_us = ?2, "
                            "size = ?3, state = 'closed' WHERE id = ?4");
  s.slice = prepare (db, "INSERT INTO slices (session_id, stream_id, recording_file_id, "
                         "sequence, start_time_us, duration_us, size, target, bucket, "
                         "object_key, local_path, discontinuity_seq, width, height, "
                         "video_codec, audio_codec, keyframe, state) VALUES (?1, ?2, ?3, ?4, "
                         "?5, ?6, ?7, 'local', '" BUCKET "', ?8, ?9, ?10, 1920, 1080, "
                         "'h264', 'aac', 1, ?11)");

  for (guint i = 0; i <= job->streams; i++)
    {
      Gen *g = g_new0 (Gen, 1);

      g->name = i == 0 ? g_strdup ("big") : g_strdup_printf ("s%02u", i);
      g->begin_us = i == 0 ? begin_us
                           : job->end_us - (gint64) job->stream_days * G_TIME_SPAN_DAY;
      /* Streams do not all start on the same second. */
      g->begin_us += rand_between (0, 10 * G_TIME_SPAN_MINUTE);
      g->end_us = job->end_us;
      g->t = g->begin_us;
      sqlite3_bind_text (stream, 1, g->name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stream, 2, g->begin_us / G_USEC_PER_SEC);
      sqlite3_bind_int64 (stream, 3, now_s);
      g->stream_id = step_insert (db, stream);
      g_ptr_array_add (gens, g);
    }

  /* A minute at a time across every stream, committing every 6 hours of media. */
  for (gint64 t = begin_us; t < job->end_us + G_TIME_SPAN_MINUTE; t += G_TIME_SPAN_MINUTE)
    {
      for (guint i = 0; i < gens->len; i++)
        job->n_slices += advance (db, &s, g_ptr_array_index (gens, i), t + G_TIME_SPAN_MINUTE,
                                  job->data_dir, &job->n_sessions);
      if ((t - begin_us) % (6 * G_TIME_SPAN_HOUR) == 0)
        {
          exec (db, "COMMIT");
          exec (db, "BEGIN");
        }
    }
  for (guint i = 0; i < gens->len; i++)
    {
      Gen *g = g_ptr_array_index (gens, i);

      if (g->session_id != 0)
        session_end (db, &s, g);
      g_free (g->name);
      g_free (g->dir);
      g_free (g);
    }
  exec (db, "COMMIT");

  sqlite3_finalize (stream);
  sqlite3_finalize (s.session);
  sqlite3_finalize (s.session_end);
  sqlite3_finalize (s.pause);
  sqlite3_finalize (s.file);
  sqlite3_finalize (s.file_end);
  sqlite3_finalize (s.slice);
  exec (db, "PRAGMA cache_size = -16384");
  exec (db, "ANALYZE");
  return GINT_TO_POINTER (1);
}

/* ---- measuring ---- */

static gpointer the_result;
static GError *the_error;
static gboolean done;
static guint64 the_total;

static void
wait_done (void)
{
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  done = FALSE;
  if (the_error != NULL)
    g_error ("%s", the_error->message);
}

static void
coverage_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  the_result = lt_timeline_query_coverage_finish (LT_CATALOG (source), result, &the_error);
  done = TRUE;
}

static void
daily_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  the_result = lt_timeline_query_daily_finish (LT_CATALOG (source), result, &the_error);
  done = TRUE;
}

static void
slices_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  the_result = lt_timeline_query_slices_finish (LT_CATALOG (source), result, &the_error);
  done = TRUE;
}

static void
streams_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  the_result = lt_timeline_list_streams_finish (LT_CATALOG (source), result, &the_error);
  done = TRUE;
}

static void
create_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  the_result = lt_index_files_create_finish (LT_CATALOG (source), result, &the_error);
  done = TRUE;
}

static void
list_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  the_result = lt_index_files_list_finish (LT_CATALOG (source), result, &the_total, &the_error);
  done = TRUE;
}

static void
drop_os_cache (const char *db_path)
{
  const char *suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *path = g_strconcat (db_path, suffixes[i], NULL);
      int fd = open (path, O_RDONLY);

      if (fd < 0)
        continue;
      posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED);
      close (fd);
    }
}

static LtCatalog *
open_catalog (const char *db_path,
              double     *ms)
{
  g_autoptr(GError) error = NULL;
  LtCatalog *catalog = lt_catalog_new (db_path);
  gint64 t0 = g_get_monotonic_time ();

  if (!lt_catalog_open_sync (catalog, &error))
    g_error ("catalog: %s", error->message);
  if (ms != NULL)
    *ms = (g_get_monotonic_time () - t0) / 1000.0;
  return catalog;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* Prints name_p50, name_p95 (and name_max) of @values in ms. */
static void
report (const char *name,
        GArray     *values)
{
  double *v = (double *) (gpointer) values->data;
  guint n = values->len;

  g_array_sort (values, compare_double);
  printf ("%s_p50 %.3f ms\n", name, v[n / 2]);
  printf ("%s_p95 %.3f ms\n", name, v[MIN (n - 1, (guint) (n * 0.95))]);
  printf ("%s_max %.3f ms\n", name, v[n - 1]);
  fflush (stdout);
}

typedef enum { Q_COVERAGE, Q_DAILY, Q_SLICES, Q_STREAMS, Q_CREATE, Q_LIST } Query;

typedef struct
{
  Query       what;
  const char *stream;
  gint64      start_us;
  gint64      end_us;
  const char *local_root;
} Call;

/* CPU time of the whole process (the catalog worker does the work; the main thread
 * waits in poll): what a call costs whatever else the machine is doing. */
static double last_cpu_ms;

static double
cpu_ms (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3
         + usage.ru_stime.tv_sec * 1e3 + usage.ru_stime.tv_usec / 1e3;
}

/* One call, timed from the call to its callback; frees the result. */
static double
timed_call (LtCatalog  *catalog,
            const Call *call,
            guint      *n_out)
{
  gint64 t0 = g_get_monotonic_time ();
  double cpu0 = cpu_ms ();
  double ms;
  guint n = 0;

  switch (call->what)
    {
    case Q_COVERAGE:
      lt_timeline_query_coverage_async (catalog, DOMAIN, APP, call->stream, call->start_us,
                                        call->end_us, NULL, coverage_cb, NULL);
      break;
    case Q_DAILY:
      lt_timeline_query_daily_async (catalog, DOMAIN, call->start_us, call->end_us,
                                     LT_TIMELINE_FORMAT_ALL, NULL, daily_cb, NULL);
      break;
    case Q_SLICES:
      lt_timeline_query_slices_async (catalog, DOMAIN, APP, call->stream, call->start_us,
                                      call->end_us, 0, NULL, slices_cb, NULL);
      break;
    case Q_STREAMS:
      lt_timeline_list_streams_async (catalog, NULL, streams_cb, NULL);
      break;
    case Q_CREATE:
      {
        LtIndexFileRequest request = {
          .domain = DOMAIN, .app = APP, .stream = call->stream,
          .start_time = call->start_us / G_USEC_PER_SEC,
          .end_time = call->end_us / G_USEC_PER_SEC,
          .endpoint = "local", .bucket = BUCKET, .object_template = NULL,
        };

        lt_index_files_create_async (catalog, call->local_root, &request, NULL, create_cb,
                                     NULL);
      }
      break;
    case Q_LIST:
      lt_index_files_list_async (catalog, DOMAIN, APP, call->stream,
                                 call->start_us / G_USEC_PER_SEC, call->end_us / G_USEC_PER_SEC,
                                 TRUE, 1, 30, NULL, list_cb, NULL);
      break;
    }
  wait_done ();
  ms = (g_get_monotonic_time () - t0) / 1000.0;
  last_cpu_ms = cpu_ms () - cpu0;

  switch (call->what)
    {
    case Q_COVERAGE:
    case Q_STREAMS:
    case Q_LIST:
      n = ((GPtrArray *) the_result)->len;
      g_ptr_array_unref (the_result);
      break;
    case Q_DAILY:
    case Q_SLICES:
      n = ((GArray *) the_result)->len;
      g_array_unref (the_result);
      break;
    case Q_CREATE:
      {
        LtIndexFile *file = the_result;

        n = (guint) (file->duration_us / G_USEC_PER_SEC);
        g_unlink (file->local_path);
        lt_index_file_free (file);
      }
      break;
    }
  the_result = NULL;
  if (n_out != NULL)
    *n_out = n;
  return ms;
}

static void
measure (const char *name,
         const char *db_path,
         LtCatalog  *catalog,
         const Call *call,
         guint       runs,
         guint       cold_runs,
         const char *count_unit)
{
  g_autoptr(GArray) warm = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) cpu = g_array_new (FALSE, FALSE, sizeof (double));
  guint n = 0;

  if (only != NULL && !g_str_has_prefix (name, only))
    return;
  if (cold_runs > 0)
    {
      g_autoptr(GArray) cold = g_array_new (FALSE, FALSE, sizeof (double));
      g_autofree char *cold_name = g_strconcat (name, "_cold", NULL);

      for (guint i = 0; i < cold_runs; i++)
        {
          g_autoptr(LtCatalog) fresh = NULL;
          double ms;

          drop_os_cache (db_path);
          fresh = open_catalog (db_path, NULL);
          ms = timed_call (fresh, call, NULL);
          g_array_append_val (cold, ms);
          lt_catalog_close (fresh);
        }
      report (cold_name, cold);
    }

  /* One call to warm the caches, then the runs. */
  timed_call (catalog, call, &n);
  for (guint i = 0; i < runs; i++)
    {
      double ms = timed_call (catalog, call, NULL);

      g_array_append_val (warm, ms);
      g_array_append_val (cpu, last_cpu_ms);
    }
  {
    g_autofree char *warm_name = g_strconcat (name, "_warm", NULL);
    g_autofree char *cpu_name = g_strconcat (name, "_warm_cpu", NULL);

    report (warm_name, warm);
    report (cpu_name, cpu);
  }
  if (count_unit != NULL)
    printf ("%s_count %u %s\n", name, n, count_unit);
}

typedef struct
{
  gint64 first_us;
  gint64 last_us;
} Span;

static gpointer
span_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  Span *span = g_new0 (Span, 1);
  sqlite3_stmt *stmt = prepare (db, "SELECT min (start_time_us), max (start_time_us) FROM slices "
                                    "WHERE stream_id = (SELECT id FROM streams WHERE stream = 'big')");

  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      span->first_us = sqlite3_column_int64 (stmt, 0);
      span->last_us = sqlite3_column_int64 (stmt, 1);
    }
  sqlite3_finalize (stmt);
  return span;
}

static int
run_core (const char *dir,
          guint       runs,
          guint       cold_runs)
{
  g_autofree char *db_path = g_build_filename (dir, "catalog.db", NULL);
  g_autofree char *local_root = g_build_filename (dir, "storage", NULL);
  g_autoptr(GArray) opens = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(LtCatalog) catalog = NULL;
  g_autofree Span *span = NULL;
  gint64 day0;
  gint64 last_day;
  const guint positions[] = { 0, 30, 60 };

  for (guint i = 0; i < (only == NULL ? MAX (cold_runs, 1) : 0); i++)
    {
      g_autoptr(LtCatalog) c = NULL;
      double ms;

      drop_os_cache (db_path);
      c = open_catalog (db_path, &ms);
      g_array_append_val (opens, ms);
      lt_catalog_close (c);
    }
  if (opens->len > 0)
    report ("catalog_open_cold", opens);

  catalog = open_catalog (db_path, NULL);
  span = lt_catalog_run_sync (catalog, span_job, NULL, NULL);
  /* Whole days from the first slice; the last 4 days end at the last slice. */
  day0 = span->first_us;
  last_day = span->last_us;
  printf ("big_stream_days %.2f days\n", (double) (last_day - day0) / G_TIME_SPAN_DAY);

  /* DescribeLiveStreamRecordContent over 4 days: early, middle, late (alone) and the last
   * 4 days (where the 50 other streams' slices are interleaved with the big one's). */
  for (guint i = 0; i < G_N_ELEMENTS (positions); i++)
    {
      g_autofree char *name = g_strdup_printf ("coverage_4d_day%02u", positions[i]);
      Call call = { Q_COVERAGE, "big", day0 + positions[i] * G_TIME_SPAN_DAY,
                    day0 + (positions[i] + 4) * G_TIME_SPAN_DAY, NULL };

      /* A smaller catalog (--days) has no day 60. */
      if (call.end_us <= last_day)
        measure (name, db_path, catalog, &call, runs, cold_runs, "ranges");
    }
  {
    Call call = { Q_COVERAGE, "big", last_day - 4 * G_TIME_SPAN_DAY, last_day, NULL };
    Call small = { Q_COVERAGE, "s01", last_day - 4 * G_TIME_SPAN_DAY, last_day, NULL };
    Call hour = { Q_COVERAGE, "big", last_day - 5 * G_TIME_SPAN_HOUR,
                  last_day - 4 * G_TIME_SPAN_HOUR, NULL };

    measure ("coverage_4d_last", db_path, catalog, &call, runs, cold_runs, "ranges");
    measure ("coverage_4d_small_stream", db_path, catalog, &small, runs, 0, "ranges");
    measure ("coverage_1h", db_path, catalog, &hour, runs, 0, "ranges");
  }

  /* What the Timeline page loads: the streams, 35 days of ranges (the widest view), the
   * slices of 3 hours (the slice-level zoom), the index files. */
  {
    Call streams = { Q_STREAMS, NULL, 0, 0, NULL };
    Call month = { Q_COVERAGE, "big", last_day - 35 * G_TIME_SPAN_DAY, last_day, NULL };
    Call slices = { Q_SLICES, "big", last_day - 4 * G_TIME_SPAN_HOUR,
                    last_day - 1 * G_TIME_SPAN_HOUR, NULL };

    measure ("list_streams", db_path, catalog, &streams, runs, cold_runs, "streams");
    measure ("coverage_35d", db_path, catalog, &month, MAX (runs / 3, 3), 0, "ranges");
    measure ("slices_3h", db_path, catalog, &slices, runs, 0, "slices");
  }

  /* DescribeLiveDomainRecordData over 90 days: every stream of the domain. */
  {
    Call daily = { Q_DAILY, NULL, last_day - 90 * G_TIME_SPAN_DAY, last_day, NULL };
    Call daily7 = { Q_DAILY, NULL, last_day - 7 * G_TIME_SPAN_DAY, last_day, NULL };

    measure ("daily_90d_51_streams", db_path, catalog, &daily, MAX (runs / 10, 3), 0, "days");
    measure ("daily_7d_51_streams", db_path, catalog, &daily7, MAX (runs / 3, 3), 0, "days");
  }

  /* CreateLiveStreamRecordIndexFiles over 24 hours: early day (the big stream alone) and the
   * last day (interleaved with 50 others). Each run writes a new playlist (same key: the
   * default template names it by the range) and adds a row. */
  {
    gint64 early = (day0 / G_USEC_PER_SEC + (last_day - day0 > 20 * G_TIME_SPAN_DAY ? 10 : 1)
                    * 24 * 3600) * G_USEC_PER_SEC;
    gint64 late = (last_day / G_USEC_PER_SEC - 2 * 24 * 3600) * G_USEC_PER_SEC;
    Call create_early = { Q_CREATE, "big", early, early + G_TIME_SPAN_DAY, local_root };
    Call create_late = { Q_CREATE, "big", late, late + G_TIME_SPAN_DAY, local_root };
    Call list = { Q_LIST, "big", day0, last_day + G_TIME_SPAN_DAY, NULL };

    measure ("index_create_24h_early", db_path, catalog, &create_early, MAX (runs / 3, 5),
             cold_runs, "media_seconds");
    measure ("index_create_24h_last", db_path, catalog, &create_late, MAX (runs / 3, 5),
             cold_runs, "media_seconds");
    measure ("index_list", db_path, catalog, &list, runs, 0, "files");
  }

  lt_catalog_close (catalog);
  return 0;
}

static int
run_generate (const char *dir,
              guint       days,
              guint       streams,
              guint       stream_days,
              guint32     seed)
{
  g_autofree char *db_path = g_build_filename (dir, "catalog.db", NULL);
  g_autofree char *bucket = g_build_filename (dir, "storage", BUCKET, NULL);
  g_autoptr(LtCatalog) catalog = NULL;
  g_autoptr(GError) error = NULL;
  GenerateJob job = { dir, days, streams, stream_days, seed, 0, 0, 0 };
  gint64 t0;
  GStatBuf st;

  rng = g_rand_new_with_seed (seed);
  g_mkdir_with_parents (bucket, 0755);
  t0 = g_get_monotonic_time ();
  catalog = open_catalog (db_path, NULL);
  printf ("schema_version %d version\n", lt_catalog_get_schema_version (catalog));
  /* Ends 10 minutes ago, so that 90 days stay inside the default 90-day slice retention. */
  job.end_us = (g_get_real_time () - 10 * G_TIME_SPAN_MINUTE) / G_USEC_PER_SEC * G_USEC_PER_SEC;
  if (lt_catalog_run_sync (catalog, generate_job, &job, &error) == NULL)
    g_error ("generate: %s", error->message);
  lt_catalog_close (catalog);
  printf ("generate_seconds %.1f s\n", (g_get_monotonic_time () - t0) / 1e6);
  printf ("generate_slices %" G_GUINT64_FORMAT " rows\n", job.n_slices);
  printf ("generate_sessions %" G_GUINT64_FORMAT " rows\n", job.n_sessions);
  if (g_stat (db_path, &st) == 0)
    printf ("catalog_size %.1f MB\n", st.st_size / 1e6);
  g_rand_free (rng);
  return 0;
}

int
main (int    argc,
      char **argv)
{
  guint days = 90, streams = 50, stream_days = 7, runs = 30, cold_runs = 5;
  guint32 seed = 1;

  if (argc < 3)
    {
      fprintf (stderr, "usage: %s generate|core DIR [options]\n", argv[0]);
      return 2;
    }
  for (int i = 3; i + 1 < argc; i += 2)
    {
      guint value = (guint) g_ascii_strtoull (argv[i + 1], NULL, 10);

      if (g_str_equal (argv[i], "--days"))
        days = value;
      else if (g_str_equal (argv[i], "--streams"))
        streams = value;
      else if (g_str_equal (argv[i], "--stream-days"))
        stream_days = value;
      else if (g_str_equal (argv[i], "--seed"))
        seed = value;
      else if (g_str_equal (argv[i], "--runs"))
        runs = MAX (value, 1);
      else if (g_str_equal (argv[i], "--cold-runs"))
        cold_runs = value;
      else if (g_str_equal (argv[i], "--only"))
        only = argv[i + 1];
      else
        {
          fprintf (stderr, "unknown option %s\n", argv[i]);
          return 2;
        }
    }

  if (g_str_equal (argv[1], "generate"))
    return run_generate (argv[2], days, streams, stream_days, seed);
  if (g_str_equal (argv[1], "core"))
    return run_core (argv[2], runs, cold_runs);
  fprintf (stderr, "unknown mode %s\n", argv[1]);
  return 2;
}
