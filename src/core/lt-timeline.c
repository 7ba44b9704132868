/* lt-timeline.c: the timeline's catalog queries (SPEC section 5).
 *
 * Coverage reads the slices of one stream through the slices_stream_time index
 * (stream_id, start_time_us, duration_us) in time order and merges them into ranges in
 * one pass; only the few slices at a range's edges are looked up in the table (where the
 * range is stored, which session it belongs to). Why a range ended comes from the
 * stream's sessions and pauses, which are few: a gap inside one session is its pause's
 * reason; a range that ends its session takes the session's end reason, except that a
 * session which merely timed out after a manual stop, a full disk or an error keeps
 * that cause (the merge window expiring is the consequence, not the cause).
 *
 * For the Timeline page: the slices of a zoomed-in view (the same index, the session id
 * from the table), and the streams with recordings, each found from both ends of the
 * index (a few steps per stream, never a scan of the slices).
 */
#include "config.h"

#include <string.h>

#include "lt-timeline.h"

/* A pause is recorded when the recorder notices, a little after the last slice's end. */
#define PAUSE_SLACK_US   (10 * G_TIME_SPAN_SECOND)
#define DAY_US           (24 * G_TIME_SPAN_HOUR)
/* The partial index of schema migration 3 (slices that are not coverage):
 *   CREATE INDEX slices_unusable ON slices (stream_id, start_time_us)
 *     WHERE state IN ('open', 'lost'); */
#define UNUSABLE_INDEX   "slices_unusable"

void
lt_timeline_range_free (LtTimelineRange *range)
{
  if (range == NULL)
    return;
  g_free (range->end_reason);
  g_free (range->target);
  g_free (range->bucket);
  g_free (range->object_prefix);
  g_free (range);
}

/* Coverage ------------------------------------------------------------------------------ */

typedef struct
{
  char   *domain;
  char   *app;
  char   *stream;
  gint64  start_us;
  gint64  end_us;
} CoverageQuery;

static void
coverage_query_free (gpointer data)
{
  CoverageQuery *query = data;

  g_free (query->domain);
  g_free (query->app);
  g_free (query->stream);
  g_free (query);
}

typedef struct
{
  gint64  id;
  gint64  started_at_us;
  gint64  ended_at_us;   /* 0 while going on */
  char   *state;
  char   *end_reason;
} SessionInfo;

static void
session_info_clear (gpointer data)
{
  SessionInfo *info = data;

  g_free (info->state);
  g_free (info->end_reason);
}

typedef struct
{
  gint64  session_id;
  gint64  paused_at_us;
  gint64  resumed_at_us;  /* 0 while paused */
  char   *reason;
} PauseInfo;

static void
pause_info_clear (gpointer data)
{
  g_free (((PauseInfo *) data)->reason);
}

/* A range being built: its edge slices' ids and times. */
typedef struct
{
  gint64  first_id;
  gint64  last_id;
  gint64  start_us;        /* unclipped */
  gint64  end_us;          /* unclipped */
  gint64  duration_us;     /* clipped to the window */
  guint   n_slices;
  gint64  next_id;         /* the slice after the gap (0: none) */
  gint64  next_start_us;
} Run;

gboolean
_lt_timeline_lookup_stream (sqlite3     *db,
                            const char  *domain,
                            const char  *app,
                            const char  *stream,
                            gint64      *stream_id,
                            GError     **error)
{
  sqlite3_stmt *stmt;

  /* streams.domain is COLLATE NOCASE: the comparison is case-insensitive. */
  stmt = lt_catalog_stmt (db, "SELECT id FROM streams WHERE domain = ?1 AND app = ?2 AND stream = ?3",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, domain, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, app, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, stream, -1, SQLITE_TRANSIENT);
  *stream_id = 0;
  if (lt_catalog_next_row (stmt, error))
    {
      *stream_id = sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
      return TRUE;
    }
  return error == NULL || *error == NULL;
}

static gboolean
load_sessions (sqlite3        *db,
               gint64          stream_id,
               gint64          from_us,
               gint64          to_us,
               GArray         *sessions,
               GError        **error)
{
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "SELECT id, started_at_us, ended_at_us, state, end_reason FROM sessions "
                          "WHERE stream_id = ?1 AND started_at_us < ?3 "
                          "AND (ended_at_us IS NULL OR ended_at_us >= ?2)",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, stream_id);
  sqlite3_bind_int64 (stmt, 2, from_us);
  sqlite3_bind_int64 (stmt, 3, to_us);
  while (lt_catalog_next_row (stmt, error))
    {
      SessionInfo info = { 0, };

      info.id = sqlite3_column_int64 (stmt, 0);
      info.started_at_us = sqlite3_column_int64 (stmt, 1);
      info.ended_at_us = sqlite3_column_int64 (stmt, 2);
      info.state = lt_catalog_column_dup (stmt, 3);
      info.end_reason = lt_catalog_column_dup (stmt, 4);
      g_array_append_val (sessions, info);
    }
  return error == NULL || *error == NULL;
}

static gboolean
load_pauses (sqlite3        *db,
             gint64          stream_id,
             gint64          from_us,
             gint64          to_us,
             GArray         *pauses,
             GError        **error)
{
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "SELECT session_id, paused_at_us, resumed_at_us, reason FROM session_pauses "
                          "WHERE stream_id = ?1 AND paused_at_us >= ?2 AND paused_at_us < ?3 "
                          "ORDER BY paused_at_us",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, stream_id);
  sqlite3_bind_int64 (stmt, 2, from_us);
  sqlite3_bind_int64 (stmt, 3, to_us);
  while (lt_catalog_next_row (stmt, error))
    {
      PauseInfo info = { 0, };

      info.session_id = sqlite3_column_int64 (stmt, 0);
      info.paused_at_us = sqlite3_column_int64 (stmt, 1);
      info.resumed_at_us = sqlite3_column_int64 (stmt, 2);
      info.reason = lt_catalog_column_dup (stmt, 3);
      g_array_append_val (pauses, info);
    }
  return error == NULL || *error == NULL;
}

/* The session and storage of one slice, by id (a table lookup, once per range edge). */
static gboolean
lookup_slice (sqlite3          *db,
              gint64            slice_id,
              gint64           *session_id,
              LtTimelineRange  *range,
              GError          **error)
{
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, "SELECT s.session_id, coalesce (t.endpoint, s.target), s.bucket, s.object_key "
                          "FROM slices s LEFT JOIN storage_targets t ON t.name = s.target "
                          "WHERE s.id = ?1",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, slice_id);
  *session_id = 0;
  if (lt_catalog_next_row (stmt, error))
    {
      *session_id = sqlite3_column_int64 (stmt, 0);
      if (range != NULL)
        {
          g_autofree char *key = lt_catalog_column_dup (stmt, 3);
          const char *slash = key != NULL ? strrchr (key, '/') : NULL;

          range->target = lt_catalog_column_dup (stmt, 1);
          range->bucket = lt_catalog_column_dup (stmt, 2);
          if (key != NULL)
            range->object_prefix = slash != NULL ? g_strndup (key, slash - key + 1)
                                                 : g_strdup ("");
        }
      sqlite3_reset (stmt);
      return TRUE;
    }
  return error == NULL || *error == NULL;
}

static const SessionInfo *
find_session (GArray *sessions,
              gint64  id)
{
  for (guint i = 0; i < sessions->len; i++)
    if (g_array_index (sessions, SessionInfo, i).id == id)
      return &g_array_index (sessions, SessionInfo, i);
  return NULL;
}

/* The pause of @session_id nearest after @after_us (allowing for the recorder noticing
 * late), before @before_us (0: no limit). */
static const PauseInfo *
find_pause (GArray *pauses,
            gint64  session_id,
            gint64  after_us,
            gint64  before_us)
{
  for (guint i = 0; i < pauses->len; i++)
    {
      const PauseInfo *pause = &g_array_index (pauses, PauseInfo, i);

      if (pause->session_id != session_id || pause->paused_at_us < after_us - PAUSE_SLACK_US)
        continue;
      if (before_us > 0 && pause->paused_at_us > before_us)
        break;
      return pause;
    }
  return NULL;
}

/* The cause a session's end stands for. */
static const char *
session_end_cause (const SessionInfo *session,
                   const PauseInfo   *pause)
{
  const char *reason = session->end_reason;

  if (g_strcmp0 (session->state, "failed") == 0)
    return g_strcmp0 (reason, "DiskFull") == 0 ? "disk_full" : "error";
  if (reason == NULL)
    return "error";
  if (g_strcmp0 (reason, "DiskFull") == 0)
    return "disk_full";
  /* The merge window ran out after the recording was paused by something other than the
   * stream leaving: that is why the range ended. */
  if (g_strcmp0 (reason, "merge_window_expired") == 0 && pause != NULL &&
      g_strcmp0 (pause->reason, "offline") != 0)
    return pause->reason;
  if (g_str_equal (reason, "merge_window_expired") || g_str_equal (reason, "cancel_delay") ||
      g_str_equal (reason, "shutdown") || g_str_equal (reason, "crash") ||
      g_str_equal (reason, "highlight_end") || g_str_equal (reason, "schedule_end") ||
      g_str_equal (reason, "manual_stop"))
    return reason;
  return "error";
}

static char *
end_reason (GArray    *sessions,
            GArray    *pauses,
            const Run *run,
            gint64     last_session_id,
            gint64     next_session_id)
{
  const SessionInfo *session = find_session (sessions, last_session_id);
  const PauseInfo *pause;
  gboolean touching = run->next_id != 0 &&
                      run->next_start_us <= run->end_us + LT_TIMELINE_MERGE_TOLERANCE_US;

  if (touching || session == NULL)
    {
      /* The range goes on past the window (or its session is unknown): say whether it is
       * still being recorded, as a clipped range of a finished session ends later. */
      if (session != NULL && session->ended_at_us == 0)
        return g_strdup ("recording");
      return session != NULL ? g_strdup (session_end_cause (session, NULL)) : g_strdup ("error");
    }

  pause = find_pause (pauses, last_session_id, run->end_us,
                      run->next_id != 0 ? run->next_start_us : 0);

  /* A gap inside one session: the pause says why. */
  if (run->next_id != 0 && next_session_id == last_session_id)
    return g_strdup (pause != NULL ? pause->reason : "offline");

  /* The range ends its session, or the session has not (yet) recorded anything after it. */
  if (session->ended_at_us != 0)
    return g_strdup (session_end_cause (session, pause));
  if (pause != NULL)
    return g_strdup (pause->reason);
  return g_strdup ("recording");
}

static gboolean
finish_run (sqlite3        *db,
            GArray         *sessions,
            GArray         *pauses,
            Run            *run,
            CoverageQuery  *query,
            GPtrArray      *ranges,
            GError        **error)
{
  g_autoptr(LtTimelineRange) range = g_new0 (LtTimelineRange, 1);
  gint64 first_session = 0;
  gint64 last_session = 0;
  gint64 next_session = 0;

  range->start_us = MAX (run->start_us, query->start_us);
  range->end_us = MIN (run->end_us, query->end_us);
  range->duration_us = run->duration_us;
  range->n_slices = run->n_slices;

  if (!lookup_slice (db, run->first_id, &first_session, range, error))
    return FALSE;
  if (run->last_id == run->first_id)
    last_session = first_session;
  else if (!lookup_slice (db, run->last_id, &last_session, NULL, error))
    return FALSE;
  if (run->next_id != 0 && !lookup_slice (db, run->next_id, &next_session, NULL, error))
    return FALSE;

  range->end_reason = end_reason (sessions, pauses, run, last_session, next_session);
  g_ptr_array_add (ranges, g_steal_pointer (&range));
  return TRUE;
}

/* The ids of the slices in [@from_us, @to_us) that are not coverage (being written, or
 * lost), from the partial index UNUSABLE_INDEX: a few rows, so that the slices themselves
 * are read from the covering index slices_stream_time alone. A set of gint64. */
static GHashTable *
load_unusable (sqlite3     *db,
               gint64       stream_id,
               gint64       from_us,
               gint64       to_us,
               GError     **error)
{
  g_autoptr(GHashTable) unusable = NULL;
  GError *local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "SELECT id FROM slices INDEXED BY " UNUSABLE_INDEX " "
                          "WHERE stream_id = ?1 AND start_time_us >= ?2 AND start_time_us < ?3 "
                          "AND state IN ('open', 'lost')",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, stream_id);
  sqlite3_bind_int64 (stmt, 2, from_us);
  sqlite3_bind_int64 (stmt, 3, to_us);
  unusable = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  while (lt_catalog_next_row (stmt, &local_error))
    {
      gint64 *id = g_new (gint64, 1);

      *id = sqlite3_column_int64 (stmt, 0);
      g_hash_table_add (unusable, id);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  return g_steal_pointer (&unusable);
}

static gpointer
coverage_job (sqlite3  *db,
              gpointer  data,
              GError  **error)
{
  CoverageQuery *query = data;
  g_autoptr(GPtrArray) ranges = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_timeline_range_free);
  g_autoptr(GArray) sessions = g_array_new (FALSE, TRUE, sizeof (SessionInfo));
  g_autoptr(GArray) pauses = g_array_new (FALSE, TRUE, sizeof (PauseInfo));
  g_autoptr(GArray) runs = g_array_new (FALSE, TRUE, sizeof (Run));
  sqlite3_stmt *stmt;
  gint64 stream_id;
  g_autoptr(GHashTable) unusable = NULL;
  Run run = { 0, };
  gboolean in_run = FALSE;

  g_array_set_clear_func (sessions, session_info_clear);
  g_array_set_clear_func (pauses, pause_info_clear);

  if (!_lt_timeline_lookup_stream (db, query->domain, query->app, query->stream, &stream_id,
                                   error))
    return NULL;
  if (stream_id == 0)
    return g_steal_pointer (&ranges);

  /* One read transaction, so that slices, sessions and pauses agree. */
  if (!lt_catalog_exec (db, "BEGIN", error))
    return NULL;

  /* The slices overlapping the window, and the first one after it (does the last range go
   * on?), from the covering index only: the few unusable ones are skipped by id (reading
   * every slice's state from the table doubles the time of a 4-day query). */
  unusable = load_unusable (db, stream_id, query->start_us - LT_TIMELINE_SLICE_LOOKBACK_US,
                            query->end_us, error);
  if (unusable == NULL)
    goto fail;
  stmt = lt_catalog_stmt (db,
                          "SELECT id, start_time_us, duration_us FROM slices "
                          "WHERE stream_id = ?1 AND start_time_us >= ?2 AND start_time_us < ?3 "
                          "ORDER BY start_time_us",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, stream_id);
  sqlite3_bind_int64 (stmt, 2, query->start_us - LT_TIMELINE_SLICE_LOOKBACK_US);
  sqlite3_bind_int64 (stmt, 3, query->end_us);
  while (lt_catalog_next_row (stmt, error))
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      gint64 start = sqlite3_column_int64 (stmt, 1);
      gint64 end = start + sqlite3_column_int64 (stmt, 2);

      if (end <= query->start_us || g_hash_table_contains (unusable, &id))
        continue;
      if (in_run && start > run.end_us + LT_TIMELINE_MERGE_TOLERANCE_US)
        {
          run.next_id = id;
          run.next_start_us = start;
          g_array_append_val (runs, run);
          in_run = FALSE;
        }
      if (!in_run)
        {
          memset (&run, 0, sizeof run);
          run.first_id = id;
          run.start_us = start;
          run.end_us = end;
          in_run = TRUE;
        }
      run.last_id = id;
      run.end_us = MAX (run.end_us, end);
      run.duration_us += MIN (end, query->end_us) - MAX (start, query->start_us);
      run.n_slices++;
    }
  if (error != NULL && *error != NULL)
    goto fail;

  if (in_run)
    {
      stmt = lt_catalog_stmt (db,
                              "SELECT id, start_time_us FROM slices "
                              "WHERE stream_id = ?1 AND start_time_us >= ?2 "
                              "AND state IN ('closed', 'uploaded') ORDER BY start_time_us LIMIT 1",
                              error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, stream_id);
      sqlite3_bind_int64 (stmt, 2, query->end_us);
      if (lt_catalog_next_row (stmt, error))
        {
          run.next_id = sqlite3_column_int64 (stmt, 0);
          run.next_start_us = sqlite3_column_int64 (stmt, 1);
          sqlite3_reset (stmt);
        }
      else if (error != NULL && *error != NULL)
        goto fail;
      g_array_append_val (runs, run);
    }

  if (runs->len > 0)
    {
      const Run *first = &g_array_index (runs, Run, 0);
      const Run *last = &g_array_index (runs, Run, runs->len - 1);

      if (!load_sessions (db, stream_id, first->start_us - DAY_US, last->end_us + DAY_US,
                          sessions, error) ||
          !load_pauses (db, stream_id, first->start_us - PAUSE_SLACK_US,
                        (last->next_id != 0 ? last->next_start_us : last->end_us + DAY_US) + 1,
                        pauses, error))
        goto fail;
    }

  for (guint i = 0; i < runs->len; i++)
    if (!finish_run (db, sessions, pauses, &g_array_index (runs, Run, i), query, ranges, error))
      goto fail;

  if (!lt_catalog_exec (db, "COMMIT", error))
    goto fail;
  return g_steal_pointer (&ranges);

fail:
  lt_catalog_rollback (db);
  return NULL;
}

void
lt_timeline_query_coverage_async (LtCatalog           *catalog,
                                  const char          *domain,
                                  const char          *app,
                                  const char          *stream,
                                  gint64               start_us,
                                  gint64               end_us,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  CoverageQuery *query;

  g_return_if_fail (LT_IS_CATALOG (catalog));
  g_return_if_fail (domain != NULL && app != NULL && stream != NULL);

  query = g_new0 (CoverageQuery, 1);
  query->domain = g_strdup (domain);
  query->app = g_strdup (app);
  query->stream = g_strdup (stream);
  query->start_us = start_us;
  query->end_us = end_us;
  lt_catalog_run_async (catalog, coverage_job, query, coverage_query_free,
                        (GDestroyNotify) g_ptr_array_unref, cancellable, callback, user_data);
}

GPtrArray *
lt_timeline_query_coverage_finish (LtCatalog     *catalog,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  return lt_catalog_run_finish (catalog, result, error);
}

/* Recorded seconds per day ------------------------------------------------------------ */

typedef struct
{
  char              *domain;
  gint64             start_us;
  gint64             end_us;
  LtTimelineFormats  formats;
} DailyQuery;

static void
daily_query_free (gpointer data)
{
  DailyQuery *query = data;

  g_free (query->domain);
  g_free (query);
}

static gint64
floor_day (gint64 time_us)
{
  gint64 day = time_us / DAY_US;

  if (time_us % DAY_US < 0)
    day--;
  return day * DAY_US;
}

/* Adds [start, end) ∩ the window to the days it falls on. */
static void
add_span (GArray           *days,
          DailyQuery       *query,
          LtTimelineFormats format,
          gint64            start,
          gint64            end)
{
  gint64 first_day = floor_day (query->start_us);

  start = MAX (start, query->start_us);
  end = MIN (end, query->end_us);
  while (start < end)
    {
      gint64 day_start = floor_day (start);
      gint64 piece_end = MIN (end, day_start + DAY_US);
      guint index = (guint) ((day_start - first_day) / DAY_US);
      LtTimelineDay *day;

      if (index >= days->len)
        break;
      day = &g_array_index (days, LtTimelineDay, index);
      if (format == LT_TIMELINE_FORMAT_TS)
        day->ts_us += piece_end - start;
      else if (format == LT_TIMELINE_FORMAT_MP4)
        day->mp4_us += piece_end - start;
      else
        day->flv_us += piece_end - start;
      start = piece_end;
    }
}

static gpointer
daily_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  DailyQuery *query = data;
  g_autoptr(GArray) days = g_array_new (FALSE, TRUE, sizeof (LtTimelineDay));
  g_autoptr(GArray) stream_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *stmt;

  for (gint64 day = floor_day (query->start_us); day < query->end_us; day += DAY_US)
    {
      LtTimelineDay entry = { day / G_USEC_PER_SEC, 0, 0, 0 };

      g_array_append_val (days, entry);
    }

  if (!lt_catalog_exec (db, "BEGIN", error))
    return NULL;

  stmt = lt_catalog_stmt (db, "SELECT id FROM streams WHERE domain = ?1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, query->domain, -1, SQLITE_TRANSIENT);
  while (lt_catalog_next_row (stmt, error))
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (stream_ids, id);
    }
  if (error != NULL && *error != NULL)
    goto fail;

  for (guint i = 0; i < stream_ids->len; i++)
    {
      gint64 stream_id = g_array_index (stream_ids, gint64, i);

      if (query->formats & LT_TIMELINE_FORMAT_TS)
        {
          g_autoptr(GHashTable) unusable = NULL;

          /* As for coverage: the covering index, the unusable slices skipped by id. */
          unusable = load_unusable (db, stream_id,
                                    query->start_us - LT_TIMELINE_SLICE_LOOKBACK_US,
                                    query->end_us, error);
          if (unusable == NULL)
            goto fail;
          stmt = lt_catalog_stmt (db,
                                  "SELECT id, start_time_us, duration_us FROM slices "
                                  "WHERE stream_id = ?1 AND start_time_us >= ?2 "
                                  "AND start_time_us < ?3",
                                  error);
          if (stmt == NULL)
            goto fail;
          sqlite3_bind_int64 (stmt, 1, stream_id);
          sqlite3_bind_int64 (stmt, 2, query->start_us - LT_TIMELINE_SLICE_LOOKBACK_US);
          sqlite3_bind_int64 (stmt, 3, query->end_us);
          while (lt_catalog_next_row (stmt, error))
            {
              gint64 id = sqlite3_column_int64 (stmt, 0);
              gint64 start = sqlite3_column_int64 (stmt, 1);

              if (g_hash_table_contains (unusable, &id))
                continue;
              add_span (days, query, LT_TIMELINE_FORMAT_TS, start,
                        start + sqlite3_column_int64 (stmt, 2));
            }
          if (error != NULL && *error != NULL)
            goto fail;
        }

      if (query->formats & (LT_TIMELINE_FORMAT_MP4 | LT_TIMELINE_FORMAT_FLV))
        {
          /* A file can be a whole day long (a cycle is at most 6 hours, a merge window adds
           * a little): look back a day. */
          stmt = lt_catalog_stmt (db,
                                  "SELECT format, start_time_us, duration_us FROM recording_files "
                                  "WHERE stream_id = ?1 AND start_time_us >= ?2 "
                                  "AND start_time_us < ?3 AND format IN ('mp4', 'flv') "
                                  "AND state IN ('closed', 'uploaded')",
                                  error);
          if (stmt == NULL)
            goto fail;
          sqlite3_bind_int64 (stmt, 1, stream_id);
          sqlite3_bind_int64 (stmt, 2, query->start_us - DAY_US);
          sqlite3_bind_int64 (stmt, 3, query->end_us);
          while (lt_catalog_next_row (stmt, error))
            {
              const char *format = (const char *) sqlite3_column_text (stmt, 0);
              LtTimelineFormats which = g_strcmp0 (format, "mp4") == 0 ? LT_TIMELINE_FORMAT_MP4
                                                                       : LT_TIMELINE_FORMAT_FLV;
              gint64 start = sqlite3_column_int64 (stmt, 1);

              if (query->formats & which)
                add_span (days, query, which, start, start + sqlite3_column_int64 (stmt, 2));
            }
          if (error != NULL && *error != NULL)
            goto fail;
        }
    }

  if (!lt_catalog_exec (db, "COMMIT", error))
    goto fail;
  return g_steal_pointer (&days);

fail:
  lt_catalog_rollback (db);
  return NULL;
}

void
lt_timeline_query_daily_async (LtCatalog           *catalog,
                               const char          *domain,
                               gint64               start_us,
                               gint64               end_us,
                               LtTimelineFormats    formats,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  DailyQuery *query;

  g_return_if_fail (LT_IS_CATALOG (catalog));
  g_return_if_fail (domain != NULL);

  query = g_new0 (DailyQuery, 1);
  query->domain = g_strdup (domain);
  query->start_us = start_us;
  query->end_us = end_us;
  query->formats = formats;
  lt_catalog_run_async (catalog, daily_job, query, daily_query_free,
                        (GDestroyNotify) g_array_unref, cancellable, callback, user_data);
}

GArray *
lt_timeline_query_daily_finish (LtCatalog     *catalog,
                                GAsyncResult  *result,
                                GError       **error)
{
  return lt_catalog_run_finish (catalog, result, error);
}

/* Slices, for zoomed-in views ------------------------------------------------------------ */

typedef struct
{
  CoverageQuery  query;
  guint          max_slices;
} SlicesQuery;

static void
slices_query_free (gpointer data)
{
  SlicesQuery *query = data;

  g_free (query->query.domain);
  g_free (query->query.app);
  g_free (query->query.stream);
  g_free (query);
}

static gpointer
slices_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  SlicesQuery *query = data;
  g_autoptr(GArray) slices = g_array_new (FALSE, TRUE, sizeof (LtTimelineSlice));
  sqlite3_stmt *stmt;
  gint64 stream_id;

  if (!_lt_timeline_lookup_stream (db, query->query.domain, query->query.app,
                                   query->query.stream, &stream_id, error))
    return NULL;
  if (stream_id == 0)
    return g_steal_pointer (&slices);

  /* The stream_time index finds the rows; the session id and the state come from the
   * table, a lookup per slice: views ask for few slices (max_slices) at a time. */
  stmt = lt_catalog_stmt (db,
                          "SELECT start_time_us, duration_us, session_id FROM slices "
                          "INDEXED BY slices_stream_time "
                          "WHERE stream_id = ?1 AND start_time_us >= ?2 AND start_time_us < ?3 "
                          "AND start_time_us + duration_us > ?4 "
                          "AND state IN ('closed', 'uploaded') ORDER BY start_time_us",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, stream_id);
  sqlite3_bind_int64 (stmt, 2, query->query.start_us - LT_TIMELINE_SLICE_LOOKBACK_US);
  sqlite3_bind_int64 (stmt, 3, query->query.end_us);
  sqlite3_bind_int64 (stmt, 4, query->query.start_us);
  while (lt_catalog_next_row (stmt, error))
    {
      LtTimelineSlice slice;

      slice.start_us = sqlite3_column_int64 (stmt, 0);
      slice.duration_us = sqlite3_column_int64 (stmt, 1);
      slice.session_id = sqlite3_column_int64 (stmt, 2);
      g_array_append_val (slices, slice);
      if (query->max_slices > 0 && slices->len >= query->max_slices)
        {
          sqlite3_reset (stmt);
          break;
        }
    }
  if (error != NULL && *error != NULL)
    return NULL;
  return g_steal_pointer (&slices);
}

void
lt_timeline_query_slices_async (LtCatalog           *catalog,
                                const char          *domain,
                                const char          *app,
                                const char          *stream,
                                gint64               start_us,
                                gint64               end_us,
                                guint                max_slices,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  SlicesQuery *query;

  g_return_if_fail (LT_IS_CATALOG (catalog));
  g_return_if_fail (domain != NULL && app != NULL && stream != NULL);

  query = g_new0 (SlicesQuery, 1);
  query->query.domain = g_strdup (domain);
  query->query.app = g_strdup (app);
  query->query.stream = g_strdup (stream);
  query->query.start_us = start_us;
  query->query.end_us = end_us;
  query->max_slices = max_slices;
  lt_catalog_run_async (catalog, slices_job, query, slices_query_free,
                        (GDestroyNotify) g_array_unref, cancellable, callback, user_data);
}

GArray *
lt_timeline_query_slices_finish (LtCatalog     *catalog,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return lt_catalog_run_finish (catalog, result, error);
}

/* Streams with a recording ---------------------------------------------------------------- */

void
lt_timeline_stream_free (LtTimelineStream *stream)
{
  if (stream == NULL)
    return;
  g_free (stream->domain);
  g_free (stream->app);
  g_free (stream->stream);
  g_free (stream);
}

/* Per stream (a few hundred at most), the first and the last usable slice, each found by
 * walking slices_stream_time from one end and stopping at the first closed or uploaded
 * row: a handful of index steps however many slices the stream has. Open sessions from
 * sessions_unfinished. Never a scan of the slices table. */
#define LIST_STREAMS_SQL \
  "SELECT domain, app, stream, first_us, last_us, recording FROM (" \
  "  SELECT st.domain AS domain, st.app AS app, st.stream AS stream," \
  "    (SELECT s.start_time_us FROM slices s INDEXED BY slices_stream_time" \
  "     WHERE s.stream_id = st.id AND s.state IN ('closed', 'uploaded')" \
  "     ORDER BY s.start_time_us LIMIT 1) AS first_us," \
  "    (SELECT s.start_time_us + s.duration_us FROM slices s INDEXED BY slices_stream_time" \
  "     WHERE s.stream_id = st.id AND s.state IN ('closed', 'uploaded')" \
  "     ORDER BY s.start_time_us DESC LIMIT 1) AS last_us," \
  "    EXISTS (SELECT 1 FROM sessions se WHERE se.stream_id = st.id" \
  "            AND se.state IN ('recording', 'paused')) AS recording" \
  "  FROM streams st)" \
  " WHERE first_us IS NOT NULL ORDER BY last_us DESC, domain, app, stream"

static gpointer
list_streams_job (sqlite3  *db,
                  gpointer  data,
                  GError  **error)
{
  g_autoptr(GPtrArray) streams = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_timeline_stream_free);
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, LIST_STREAMS_SQL, error);
  if (stmt == NULL)
    return NULL;
  while (lt_catalog_next_row (stmt, error))
    {
      LtTimelineStream *stream = g_new0 (LtTimelineStream, 1);

      stream->domain = lt_catalog_column_dup (stmt, 0);
      stream->app = lt_catalog_column_dup (stmt, 1);
      stream->stream = lt_catalog_column_dup (stmt, 2);
      stream->first_us = sqlite3_column_int64 (stmt, 3);
      stream->last_us = sqlite3_column_int64 (stmt, 4);
      stream->recording = sqlite3_column_int (stmt, 5) != 0;
      g_ptr_array_add (streams, stream);
    }
  if (error != NULL && *error != NULL)
    return NULL;
  return g_steal_pointer (&streams);
}

void
lt_timeline_list_streams_async (LtCatalog           *catalog,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (LT_IS_CATALOG (catalog));

  lt_catalog_run_async (catalog, list_streams_job, NULL, NULL,
                        (GDestroyNotify) g_ptr_array_unref, cancellable, callback, user_data);
}

GPtrArray *
lt_timeline_list_streams_finish (LtCatalog     *catalog,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return lt_catalog_run_finish (catalog, result, error);
}
