/* lt-callback-queue.c: the persistent callback outbox (SPEC section 4) on the catalog's
 * callback_outbox table.
 *
 * Order per stream without scanning: only the head of a stream (its oldest undelivered
 * row) carries a real next_attempt_at_us; the rows behind it wait with WAITING
 * (G_MAXINT64) and the head's final outcome (delivered, failed, expired) promotes the next
 * one. So the due rows are one range of the callback_outbox_due index (state 'pending',
 * next_attempt_at_us <= now), whatever waits behind them: a dead receiver with 10,000
 * queued callbacks of a few streams costs a few index reads per retry, not 10,000 rows.
 *
 * The worker keeps, per stream, how many rows are pending or sending (built once from the
 * due index, then kept up to date by the jobs, which all run on the one worker thread in
 * queue order): an enqueue knows without a query whether it becomes the head.
 *
 * On the main context one pass at a time pages through the due rows (a cursor over
 * (next_attempt_at_us, id), resuming where the last pass stopped so that a saturated
 * receiver cannot starve the others) and starts attempts within the limits: one per
 * stream, MAX_PER_HOST per receiver, MAX_IN_FLIGHT in all. A pass runs when a slot frees,
 * when a callback is queued, and from the one timer set for the next due time.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "lt-callback-queue.h"
#include "lt-outbound.h"

#define WAITING G_MAXINT64
#define PAGE_SIZE 64
#define MAX_SCAN_PER_PASS 512
#define MAX_PER_HOST 4
#define MAX_IN_FLIGHT 32
#define REPLY_LIMIT 2048
#define ATTEMPT_TIMEOUT_MS 10000
#define TEST_TIMEOUT_MS 10000
#define FIRST_RETRY_US (2 * G_USEC_PER_SEC)
#define MAX_RETRY_US (600 * G_USEC_PER_SEC)
#define DEFAULT_EXPIRY_S 86400
#define SIGN_VALIDITY_S 300
/* A receiver that cannot be reached (refused, reset, no answer in time) is left alone for
 * a while, growing from 1 s to 60 s (scaled with the backoff); then one probe at a time.
 * Its due rows are deferred to that time in one write, so that a dead receiver with
 * thousands of due callbacks is neither connected to nor scanned again meanwhile. */
#define HOST_FIRST_US (1 * G_USEC_PER_SEC)
#define HOST_MAX_US (60 * G_USEC_PER_SEC)

/* ---- items ---- */

static const char *state_names[] = { "pending", "sending", "delivered", "failed", "expired" };

const char *
lt_callback_state_to_string (LtCallbackState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (state_names), NULL);
  return state_names[state];
}

static LtCallbackState
state_from_string (const char *text)
{
  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    if (g_strcmp0 (text, state_names[i]) == 0)
      return i;
  return LT_CALLBACK_PENDING;
}

LtCallbackItem *
lt_callback_item_copy (const LtCallbackItem *item)
{
  LtCallbackItem *copy = g_new (LtCallbackItem, 1);

  *copy = *item;
  copy->domain = g_strdup (item->domain);
  copy->stream_key = g_strdup (item->stream_key);
  copy->kind = g_strdup (item->kind);
  copy->url = g_strdup (item->url);
  copy->body = g_strdup (item->body);
  copy->last_error = g_strdup (item->last_error);
  return copy;
}

void
lt_callback_item_free (LtCallbackItem *item)
{
  if (item == NULL)
    return;
  g_free (item->domain);
  g_free (item->stream_key);
  g_free (item->kind);
  g_free (item->url);
  g_free (item->body);
  g_free (item->last_error);
  g_free (item);
}

G_DEFINE_BOXED_TYPE (LtCallbackItem, lt_callback_item,
                     lt_callback_item_copy, lt_callback_item_free)

#define ITEM_COLUMNS "id, domain, stream_key, kind, url, body, state, attempts, " \
                     "created_at_us, next_attempt_at_us, expires_at_us, delivered_at_us, " \
                     "last_error, last_status"

static LtCallbackItem *
item_from_row (sqlite3_stmt *stmt)
{
  LtCallbackItem *item = g_new0 (LtCallbackItem, 1);
  g_autofree char *state = NULL;

  item->id = sqlite3_column_int64 (stmt, 0);
  item->domain = lt_catalog_column_dup (stmt, 1);
  item->stream_key = lt_catalog_column_dup (stmt, 2);
  item->kind = lt_catalog_column_dup (stmt, 3);
  item->url = lt_catalog_column_dup (stmt, 4);
  item->body = lt_catalog_column_dup (stmt, 5);
  state = lt_catalog_column_dup (stmt, 6);
  item->state = state_from_string (state);
  item->attempts = sqlite3_column_int (stmt, 7);
  item->created_at_us = sqlite3_column_int64 (stmt, 8);
  item->next_attempt_at_us = sqlite3_column_int64 (stmt, 9);
  /* A row waiting behind an earlier one of its stream has no attempt time yet. */
  if (item->next_attempt_at_us == WAITING)
    item->next_attempt_at_us = 0;
  item->expires_at_us = sqlite3_column_int64 (stmt, 10);
  item->delivered_at_us = sqlite3_column_int64 (stmt, 11);
  item->last_error = lt_catalog_column_dup (stmt, 12);
  item->last_status = sqlite3_column_int (stmt, 13);
  return item;
}

static LtCallbackItem *
load_item (sqlite3  *db,
           gint64    id,
           GError  **error)
{
  sqlite3_stmt *stmt;
  LtCallbackItem *item;

  stmt = lt_catalog_stmt (db, "SELECT " ITEM_COLUMNS " FROM callback_outbox WHERE id = ?1",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (!lt_catalog_next_row (stmt, error))
    {
      if (error != NULL && *error == NULL)
        {
          g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, id);

          g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_NOT_FOUND,
                       _("No callback with id %s"), text);
        }
      return NULL;
    }
  item = item_from_row (stmt);
  sqlite3_reset (stmt);
  return item;
}

/* ---- worker-side state ---- */

/* Only ever touched by jobs, which run one at a time on the catalog's worker thread. */
typedef struct
{
  gboolean    loaded;
  GHashTable *active;     /* stream_key → GUINT: rows pending or sending */
  guint       n_pending;
  guint       n_failed;
} WorkerState;

static void
worker_state_clear (WorkerState *ws)
{
  g_clear_pointer (&ws->active, g_hash_table_unref);
}

static WorkerState *
worker_state_new (void)
{
  return g_atomic_rc_box_new0 (WorkerState);
}

static void
worker_state_unref (WorkerState *ws)
{
  g_atomic_rc_box_release_full (ws, (GDestroyNotify) worker_state_clear);
}

typedef struct
{
  guint n_pending;
  guint n_failed;
} Counts;

static gboolean
worker_state_load (sqlite3      *db,
                   WorkerState  *ws,
                   gint64        now,
                   GError      **error)
{
  sqlite3_stmt *stmt;
  GError *local_error = NULL;

  g_clear_pointer (&ws->active, g_hash_table_unref);
  ws->active = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ws->n_pending = 0;

  stmt = lt_catalog_stmt (db,
                          "SELECT stream_key, count (*), min (id), min (next_attempt_at_us) "
                          "FROM callback_outbox WHERE state IN ('pending', 'sending') "
                          "GROUP BY stream_key",
                          error);
  if (stmt == NULL)
    return FALSE;
  {
    g_autoptr(GArray) headless = g_array_new (FALSE, FALSE, sizeof (gint64));

    while (lt_catalog_next_row (stmt, &local_error))
      {
        guint count = sqlite3_column_int (stmt, 1);

        g_hash_table_insert (ws->active, lt_catalog_column_dup (stmt, 0),
                             GUINT_TO_POINTER (count));
        ws->n_pending += count;
        /* Every row waits: the head was lost (its promotion never committed). */
        if (sqlite3_column_int64 (stmt, 3) == WAITING)
          {
            gint64 id = sqlite3_column_int64 (stmt, 2);
            g_array_append_val (headless, id);
          }
      }
    if (local_error != NULL)
      {
        g_propagate_error (error, local_error);
        return FALSE;
      }
    for (guint i = 0; i < headless->len; i++)
      {
        stmt = lt_catalog_stmt (db, "UPDATE callback_outbox SET next_attempt_at_us = ?2 "
                                "WHERE id = ?1", error);
        if (stmt == NULL)
          return FALSE;
        sqlite3_bind_int64 (stmt, 1, g_array_index (headless, gint64, i));
        sqlite3_bind_int64 (stmt, 2, now);
        if (!lt_catalog_step_done (stmt, error))
          return FALSE;
      }
  }

  stmt = lt_catalog_stmt (db, "SELECT count (*) FROM callback_outbox "
                          "WHERE state IN ('failed', 'expired')", error);
  if (stmt == NULL || !lt_catalog_next_row (stmt, error))
    return FALSE;
  ws->n_failed = sqlite3_column_int (stmt, 0);
  sqlite3_reset (stmt);
  ws->loaded = TRUE;
  return TRUE;
}

static guint
worker_active (WorkerState *ws,
               const char  *stream_key)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (ws->active, stream_key));
}

static void
worker_add_active (WorkerState *ws,
                   const char  *stream_key,
                   int          delta)
{
  guint count = worker_active (ws, stream_key);

  g_assert (delta > 0 || count >= (guint) -delta);
  count += delta;
  if (count == 0)
    g_hash_table_remove (ws->active, stream_key);
  else
    g_hash_table_replace (ws->active, g_strdup (stream_key), GUINT_TO_POINTER (count));
  ws->n_pending += delta;
}

/* ---- the object ---- */

typedef struct _Attempt Attempt;

struct _LtCallbackQueue
{
  GObject            parent_instance;

  LtCatalog         *catalog;
  SoupSession       *session;
  WorkerState       *ws;

  LtCallbackKeyFunc  key_func;
  gpointer           key_data;
  GDestroyNotify     key_destroy;

  gint64             expiry_us;
  double             backoff_scale;
  guint              attempt_timeout_ms;

  gboolean           started;
  gboolean           shut_down;
  GCancellable      *cancellable;      /* attempts in flight; cancelled at shutdown */

  GHashTable        *streams_in_flight; /* stream_key → Attempt (borrowed) */
  GHashTable        *hosts;             /* "host:port" → HostState */
  guint              n_in_flight;

  gboolean           fetching;
  gboolean           pass_again;
  guint              pass_source_id;
  guint              timer_id;
  gint64             timer_due_us;
  gint64             cursor_due_us;
  gint64             cursor_id;
  guint              scanned;

  guint              n_pending;
  guint              n_failed;
};

G_DEFINE_FINAL_TYPE (LtCallbackQueue, lt_callback_queue, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_N_PENDING,
  PROP_N_FAILED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  ITEM_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void request_pass (LtCallbackQueue *self);

static void
apply_counts (LtCallbackQueue *self,
              const Counts    *counts)
{
  if (self->n_pending != counts->n_pending)
    {
      self->n_pending = counts->n_pending;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_PENDING]);
    }
  if (self->n_failed != counts->n_failed)
    {
      self->n_failed = counts->n_failed;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_FAILED]);
    }
}

/* Every job's data starts with this, so that its counts can be taken on the worker. */
typedef struct
{
  WorkerState *ws;
  gint64       now;
  Counts       counts;
  gboolean     counted;   /* counts were taken: the job got that far */
} JobBase;

static gboolean
job_begin (sqlite3  *db,
           JobBase  *base,
           GError  **error)
{
  if (base->ws->loaded)
    return TRUE;
  return worker_state_load (db, base->ws, base->now, error);
}

static void
job_take_counts (JobBase *base)
{
  base->counts.n_pending = base->ws->n_pending;
  base->counts.n_failed = base->ws->n_failed;
  base->counted = TRUE;
}

static void
job_base_init (JobBase         *base,
               LtCallbackQueue *self)
{
  base->ws = g_atomic_rc_box_acquire (self->ws);
  base->now = g_get_real_time ();
}

static void
job_base_clear (JobBase *base)
{
  g_clear_pointer (&base->ws, worker_state_unref);
}

/* ---- start and shutdown ---- */

static gpointer
reset_sending_job (sqlite3  *db,
                   gpointer  data,
                   GError  **error)
{
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, "UPDATE callback_outbox SET state = 'pending' "
                          "WHERE state = 'sending'", error);
  if (stmt == NULL || !lt_catalog_step_done (stmt, error))
    return NULL;
  return GINT_TO_POINTER (TRUE);
}

static gpointer
start_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  JobBase *base = data;

  if (!lt_catalog_begin (db, error))
    return NULL;
  if (reset_sending_job (db, NULL, error) == NULL
      || !worker_state_load (db, base->ws, base->now, error)
      || !lt_catalog_commit (db, error))
    {
      lt_catalog_rollback (db);
      base->ws->loaded = FALSE;
      return NULL;
    }
  job_take_counts (base);
  return GINT_TO_POINTER (TRUE);
}

static void
start_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(LtCallbackQueue) self = user_data;
  g_autoptr(GError) error = NULL;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    {
      g_debug ("callback queue: start failed: %s", error->message);
      return;
    }
  /* The job data is freed after this callback; the counts were copied there. */
  request_pass (self);
}

typedef struct
{
  JobBase          base;
  LtCallbackQueue *self;  /* for applying counts on the main context; a ref */
} StartData;

static void
start_data_free (gpointer data)
{
  StartData *sd = data;

  if (sd->base.counted)
    apply_counts (sd->self, &sd->base.counts);
  g_object_unref (sd->self);
  job_base_clear (&sd->base);
  g_free (sd);
}

void
lt_callback_queue_start (LtCallbackQueue *self)
{
  StartData *sd;

  g_return_if_fail (LT_IS_CALLBACK_QUEUE (self));
  g_return_if_fail (!self->started);

  self->started = TRUE;
  self->shut_down = FALSE;
  sd = g_new0 (StartData, 1);
  job_base_init (&sd->base, self);
  sd->self = g_object_ref (self);
  lt_catalog_run_async (self->catalog, start_job, sd, start_data_free, NULL, NULL,
                        start_cb, g_object_ref (self));
}

static void
ignore_result_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    g_debug ("callback queue: %s", error->message);
}

void
lt_callback_queue_shutdown (LtCallbackQueue *self)
{
  g_return_if_fail (LT_IS_CALLBACK_QUEUE (self));

  if (!self->started || self->shut_down)
    return;
  self->shut_down = TRUE;
  self->started = FALSE;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_handle_id (&self->pass_source_id, g_source_remove);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  lt_catalog_run_async (self->catalog, reset_sending_job, NULL, NULL, NULL, NULL,
                        ignore_result_cb, NULL);
}

/* ---- timer and passes ---- */

static gboolean
timer_cb (gpointer user_data)
{
  LtCallbackQueue *self = user_data;

  self->timer_id = 0;
  request_pass (self);
  return G_SOURCE_REMOVE;
}

/* One timer for the earliest known due time. */
static void
schedule_timer (LtCallbackQueue *self,
                gint64           due_us)
{
  gint64 delay_ms;

  if (due_us <= 0 || due_us == WAITING || self->shut_down)
    return;
  if (self->timer_id != 0 && self->timer_due_us <= due_us)
    return;
  g_clear_handle_id (&self->timer_id, g_source_remove);
  delay_ms = (due_us - g_get_real_time () + 999) / 1000;
  delay_ms = CLAMP (delay_ms, 0, G_MAXUINT / 2);
  self->timer_due_us = due_us;
  self->timer_id = g_timeout_add ((guint) delay_ms, timer_cb, self);
}

static void run_fetch (LtCallbackQueue *self);

static gboolean
pass_cb (gpointer user_data)
{
  LtCallbackQueue *self = user_data;

  self->pass_source_id = 0;
  self->scanned = 0;
  run_fetch (self);
  return G_SOURCE_REMOVE;
}

static void
request_pass (LtCallbackQueue *self)
{
  if (!self->started || self->shut_down)
    return;
  if (self->fetching)
    {
      self->pass_again = TRUE;
      return;
    }
  if (self->pass_source_id == 0)
    self->pass_source_id = g_idle_add (pass_cb, self);
}

typedef struct
{
  gint64  id;
  char   *domain;
  char   *stream_key;
  char   *url;
  char   *body;
  guint   attempts;
  gint64  next_attempt_at_us;
  gint64  expires_at_us;
} DueRow;

static void
due_row_free (DueRow *row)
{
  g_free (row->domain);
  g_free (row->stream_key);
  g_free (row->url);
  g_free (row->body);
  g_free (row);
}

typedef struct
{
  JobBase  base;
  gint64   cursor_due_us;
  gint64   cursor_id;
} FetchData;

typedef struct
{
  GPtrArray *rows;        /* DueRow */
  gint64     next_due_us; /* the earliest not yet due, 0 if none */
} FetchResult;

static void
fetch_result_free (FetchResult *fr)
{
  g_clear_pointer (&fr->rows, g_ptr_array_unref);
  g_free (fr);
}

static gpointer
fetch_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  FetchData *fd = data;
  g_autoptr(GError) local_error = NULL;
  FetchResult *fr;
  sqlite3_stmt *stmt;

  if (!job_begin (db, &fd->base, error))
    return NULL;
  stmt = lt_catalog_stmt (db,
                          "SELECT id, domain, stream_key, url, body, attempts, "
                          "next_attempt_at_us, expires_at_us FROM callback_outbox "
                          "WHERE state = 'pending' AND next_attempt_at_us <= ?1 "
                          "AND (next_attempt_at_us, id) > (?2, ?3) "
                          "ORDER BY next_attempt_at_us, id LIMIT ?4",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, fd->base.now);
  sqlite3_bind_int64 (stmt, 2, fd->cursor_due_us);
  sqlite3_bind_int64 (stmt, 3, fd->cursor_id);
  sqlite3_bind_int (stmt, 4, PAGE_SIZE);

  fr = g_new0 (FetchResult, 1);
  fr->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) due_row_free);
  while (lt_catalog_next_row (stmt, &local_error))
    {
      DueRow *row = g_new0 (DueRow, 1);

      row->id = sqlite3_column_int64 (stmt, 0);
      row->domain = lt_catalog_column_dup (stmt, 1);
      row->stream_key = lt_catalog_column_dup (stmt, 2);
      row->url = lt_catalog_column_dup (stmt, 3);
      row->body = lt_catalog_column_dup (stmt, 4);
      row->attempts = sqlite3_column_int (stmt, 5);
      row->next_attempt_at_us = sqlite3_column_int64 (stmt, 6);
      row->expires_at_us = sqlite3_column_int64 (stmt, 7);
      g_ptr_array_add (fr->rows, row);
    }
  if (local_error != NULL)
    goto fail;

  stmt = lt_catalog_stmt (db,
                          "SELECT min (next_attempt_at_us) FROM callback_outbox "
                          "WHERE state = 'pending' AND next_attempt_at_us > ?1 "
                          "AND next_attempt_at_us < ?2",
                          &local_error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, fd->base.now);
  sqlite3_bind_int64 (stmt, 2, WAITING);
  if (!lt_catalog_next_row (stmt, &local_error))
    goto fail;
  fr->next_due_us = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return fr;

fail:
  fetch_result_free (fr);
  g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

static void
fetch_data_free (gpointer data)
{
  FetchData *fd = data;

  job_base_clear (&fd->base);
  g_free (fd);
}

typedef struct
{
  GArray *started;        /* gint64 ids now in flight */
  GArray *deferred;       /* Deferral: due rows of an unreachable receiver */
} MarkData;

typedef struct
{
  gint64 id;
  gint64 next_attempt_at_us;
} Deferral;

static void
mark_data_free (MarkData *md)
{
  g_array_unref (md->started);
  g_array_unref (md->deferred);
  g_free (md);
}

static gpointer
mark_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  MarkData *md = data;

  if (!lt_catalog_begin (db, error))
    return NULL;
  for (guint i = 0; i < md->started->len; i++)
    {
      sqlite3_stmt *stmt = lt_catalog_stmt (db, "UPDATE callback_outbox SET state = 'sending' "
                                            "WHERE id = ?1 AND state = 'pending'", error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, g_array_index (md->started, gint64, i));
      if (!lt_catalog_step_done (stmt, error))
        goto fail;
    }
  for (guint i = 0; i < md->deferred->len; i++)
    {
      Deferral *d = &g_array_index (md->deferred, Deferral, i);
      sqlite3_stmt *stmt = lt_catalog_stmt (db, "UPDATE callback_outbox "
                                            "SET next_attempt_at_us = ?2 WHERE id = ?1 "
                                            "AND state = 'pending' AND next_attempt_at_us < ?2",
                                            error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, d->id);
      sqlite3_bind_int64 (stmt, 2, d->next_attempt_at_us);
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

static gboolean start_attempt (LtCallbackQueue *self,
                               DueRow          *row,
                               const char      *host_key);

/* "host:port" of @url, or NULL when it does not parse (the attempt will fail for good). */
static char *
host_key_for (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  int port;

  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return NULL;
  port = g_uri_get_port (uri);
  if (port < 0)
    port = g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0 ? 443 : 80;
  return g_strdup_printf ("%s:%d", g_uri_get_host (uri), port);
}

typedef struct
{
  guint  in_flight;
  guint  failures;       /* consecutive attempts without any HTTP answer */
  gint64 down_until_us;
} HostState;

static HostState *
host_state (LtCallbackQueue *self,
            const char      *host_key)
{
  HostState *hs;

  if (host_key == NULL)
    return NULL;
  hs = g_hash_table_lookup (self->hosts, host_key);
  if (hs == NULL)
    {
      hs = g_new0 (HostState, 1);
      g_hash_table_insert (self->hosts, g_strdup (host_key), hs);
    }
  return hs;
}

static void expire_without_attempt (LtCallbackQueue *self,
                                    DueRow          *row);

static void
fetch_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(LtCallbackQueue) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) started = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) deferred = g_array_new (FALSE, FALSE, sizeof (Deferral));
  gint64 now = g_get_real_time ();
  gint64 wake_us = 0;
  FetchResult *fr;
  gboolean full = FALSE;
  gboolean more;

  self->fetching = FALSE;
  fr = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  if (fr == NULL)
    {
      g_debug ("callback queue: fetching due callbacks failed: %s", error->message);
      return;
    }
  if (!self->started || self->shut_down)
    {
      fetch_result_free (fr);
      return;
    }

  for (guint i = 0; i < fr->rows->len; i++)
    {
      DueRow *row = g_ptr_array_index (fr->rows, i);
      g_autofree char *host_key = NULL;
      HostState *hs;

      if (self->n_in_flight >= MAX_IN_FLIGHT)
        {
          full = TRUE;
          break;
        }
      self->cursor_due_us = row->next_attempt_at_us;
      self->cursor_id = row->id;
      self->scanned++;
      if (g_hash_table_contains (self->streams_in_flight, row->stream_key))
        continue;
      host_key = host_key_for (row->url);
      hs = host_state (self, host_key);
      if (hs != NULL && hs->down_until_us > now)
        {
          Deferral d = { row->id, MIN (hs->down_until_us, row->expires_at_us) };

          if (row->expires_at_us <= now)
            expire_without_attempt (self, row);
          else
            g_array_append_val (deferred, d);
          wake_us = wake_us == 0 ? d.next_attempt_at_us : MIN (wake_us, d.next_attempt_at_us);
          continue;
        }
      /* After failures, one probe at a time until the receiver answers again. */
      if (hs != NULL && hs->failures > 0 && hs->in_flight > 0)
        continue;
      if (hs != NULL && hs->in_flight >= MAX_PER_HOST)
        continue;
      if (start_attempt (self, row, host_key))
        g_array_append_val (started, row->id);
    }
  if (started->len > 0 || deferred->len > 0)
    {
      MarkData *md = g_new0 (MarkData, 1);

      md->started = g_steal_pointer (&started);
      md->deferred = g_steal_pointer (&deferred);
      lt_catalog_run_async (self->catalog, mark_job, md, (GDestroyNotify) mark_data_free,
                            NULL, NULL, ignore_result_cb, NULL);
    }
  schedule_timer (self, wake_us);

  more = fr->rows->len == PAGE_SIZE;
  schedule_timer (self, fr->next_due_us);
  fetch_result_free (fr);

  if (full)
    {
      /* A slot that frees asks for the next pass, which goes on from here. */
      self->pass_again = FALSE;
      return;
    }
  if (!more)
    {
      /* The end of the due rows: the next pass starts from the beginning. */
      self->cursor_due_us = G_MININT64;
      self->cursor_id = G_MININT64;
      if (self->pass_again)
        {
          self->pass_again = FALSE;
          request_pass (self);
        }
      return;
    }
  if (self->scanned < MAX_SCAN_PER_PASS)
    {
      run_fetch (self);
      return;
    }
  /* Enough for one pass; go on shortly, so that the main context stays responsive. */
  self->pass_again = FALSE;
  schedule_timer (self, g_get_real_time () + 50 * 1000);
}

static void
run_fetch (LtCallbackQueue *self)
{
  FetchData *fd;

  if (!self->started || self->shut_down || self->fetching)
    return;
  if (self->n_in_flight >= MAX_IN_FLIGHT)
    return;
  self->fetching = TRUE;
  self->pass_again = FALSE;
  fd = g_new0 (FetchData, 1);
  job_base_init (&fd->base, self);
  fd->cursor_due_us = self->cursor_due_us;
  fd->cursor_id = self->cursor_id;
  lt_catalog_run_async (self->catalog, fetch_job, fd, fetch_data_free,
                        (GDestroyNotify) fetch_result_free, NULL, fetch_cb,
                        g_object_ref (self));
}

/* ---- signing ---- */

/* Appends t and sign to @url and returns the timestamp header's value in @t_out. */
static char *
sign_url (const char  *url,
          const char  *key,
          char       **t_out)
{
  g_autofree char *base = NULL;
  g_autofree char *t = NULL;
  g_autofree char *material = NULL;
  g_autofree char *sign = NULL;
  const char *hash;

  t = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / G_USEC_PER_SEC + SIGN_VALIDITY_S);
  /* A fragment is never sent; the parameters go before it would be. */
  hash = strchr (url, '#');
  base = hash != NULL ? g_strndup (url, hash - url) : g_strdup (url);
  material = g_strconcat (key, t, NULL);
  sign = g_compute_checksum_for_string (G_CHECKSUM_MD5, material, -1);
  *t_out = g_steal_pointer (&t);
  return g_strdup_printf ("%s%ct=%s&sign=%s", base, strchr (base, '?') != NULL ? '&' : '?',
                          *t_out, sign);
}

/* A POST of @body to @url, signed with @domain's key when it has one. */
static SoupMessage *
build_message (LtCallbackQueue  *self,
               const char       *domain,
               const char       *url,
               const char       *body,
               GError          **error)
{
  g_autofree char *key = NULL;
  g_autofree char *signed_url = NULL;
  g_autofree char *t = NULL;
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GBytes) bytes = NULL;

  if (self->key_func != NULL && domain != NULL)
    key = self->key_func (domain, self->key_data);
  if (key != NULL && *key != '\0')
    signed_url = sign_url (url, key, &t);

  message = lt_outbound_message_new ("POST", signed_url != NULL ? signed_url : url, error);
  if (message == NULL)
    return NULL;
  bytes = g_bytes_new (body, strlen (body));
  soup_message_set_request_body_from_bytes (message, "application/json", bytes);
  if (key != NULL && *key != '\0')
    {
      g_autofree char *hmac = g_compute_hmac_for_string (G_CHECKSUM_SHA256,
                                                         (const guchar *) key, strlen (key),
                                                         body, -1);
      g_autofree char *header = g_strconcat ("sha256=", hmac, NULL);
      SoupMessageHeaders *headers = soup_message_get_request_headers (message);

      soup_message_headers_replace (headers, "X-Livetape-Signature", header);
      soup_message_headers_replace (headers, "X-Livetape-Timestamp", t);
    }
  return g_steal_pointer (&message);
}

/* ---- attempts ---- */

typedef enum
{
  OUTCOME_DELIVERED,
  OUTCOME_RETRY,
  OUTCOME_FAILED,
  OUTCOME_EXPIRED,      /* its time ran out while its receiver was unreachable */
} Outcome;

struct _Attempt
{
  LtCallbackQueue *self;       /* a ref */
  gint64           id;
  char            *stream_key;
  char            *host_key;
  guint            attempts;
  SoupMessage     *message;
};

static void
attempt_free (Attempt *attempt)
{
  g_clear_object (&attempt->self);
  g_free (attempt->stream_key);
  g_free (attempt->host_key);
  g_clear_object (&attempt->message);
  g_free (attempt);
}

typedef struct
{
  JobBase  base;
  gint64   id;
  char    *stream_key;
  Outcome  outcome;
  guint    status;
  char    *error_text;
  gint64   next_attempt_at_us;
  GPtrArray *changed;          /* LtCallbackItem, filled on the worker */
} FinishData;

/* The head of @stream_key reached a final state: the next row of the stream (normally
 * the next id; a re-sent older one when there is no later one) becomes its head. Rows
 * that expired while waiting are marked so on the way. */
static gboolean
promote_next (sqlite3     *db,
              FinishData  *fd,
              GError     **error)
{
  WorkerState *ws = fd->base.ws;

  while (worker_active (ws, fd->stream_key) > 0)
    {
      sqlite3_stmt *stmt;
      gint64 id = 0;
      gint64 expires = 0;
      GError *local_error = NULL;

      stmt = lt_catalog_stmt (db, "SELECT id, expires_at_us FROM callback_outbox "
                              "WHERE stream_key = ?1 AND id > ?2 AND state = 'pending' "
                              "ORDER BY id LIMIT 1", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, fd->stream_key, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, fd->id);
      if (lt_catalog_next_row (stmt, &local_error))
        {
          id = sqlite3_column_int64 (stmt, 0);
          expires = sqlite3_column_int64 (stmt, 1);
          sqlite3_reset (stmt);
        }
      else if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      else
        {
          stmt = lt_catalog_stmt (db, "SELECT id, expires_at_us FROM callback_outbox "
                                  "WHERE stream_key = ?1 AND state = 'pending' "
                                  "ORDER BY id LIMIT 1", error);
          if (stmt == NULL)
            return FALSE;
          sqlite3_bind_text (stmt, 1, fd->stream_key, -1, SQLITE_TRANSIENT);
          if (!lt_catalog_next_row (stmt, &local_error))
            {
              if (local_error != NULL)
                {
                  g_propagate_error (error, local_error);
                  return FALSE;
                }
              /* The count was wrong (only if a row was changed behind our back). */
              g_hash_table_remove (ws->active, fd->stream_key);
              return TRUE;
            }
          id = sqlite3_column_int64 (stmt, 0);
          expires = sqlite3_column_int64 (stmt, 1);
          sqlite3_reset (stmt);
        }

      if (expires > fd->base.now)
        {
          stmt = lt_catalog_stmt (db, "UPDATE callback_outbox SET next_attempt_at_us = ?2 "
                                  "WHERE id = ?1", error);
          if (stmt == NULL)
            return FALSE;
          sqlite3_bind_int64 (stmt, 1, id);
          sqlite3_bind_int64 (stmt, 2, fd->base.now);
          return lt_catalog_step_done (stmt, error);
        }

      stmt = lt_catalog_stmt (db, "UPDATE callback_outbox SET state = 'expired', "
                              "next_attempt_at_us = 0 WHERE id = ?1", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, id);
      if (!lt_catalog_step_done (stmt, error))
        return FALSE;
      worker_add_active (ws, fd->stream_key, -1);
      ws->n_failed++;
      {
        LtCallbackItem *item = load_item (db, id, error);
        if (item == NULL)
          return FALSE;
        g_ptr_array_add (fd->changed, item);
      }
      fd->id = id;
    }
  return TRUE;
}

static gpointer
finish_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  FinishData *fd = data;
  WorkerState *ws = fd->base.ws;
  sqlite3_stmt *stmt;
  const char *state;
  gint64 expires;
  gint64 next = 0;
  gboolean final = TRUE;
  LtCallbackItem *item;
  GError *local_error = NULL;

  if (!job_begin (db, &fd->base, error))
    return NULL;
  if (!lt_catalog_begin (db, error))
    return NULL;

  stmt = lt_catalog_stmt (db, "SELECT expires_at_us FROM callback_outbox "
                          "WHERE id = ?1 AND state IN ('pending', 'sending')", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, fd->id);
  if (!lt_catalog_next_row (stmt, &local_error))
    {
      /* Settled meanwhile (re-sent, or changed by another queue): nothing to record. */
      lt_catalog_rollback (db);
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return NULL;
        }
      job_take_counts (&fd->base);
      return GINT_TO_POINTER (TRUE);
    }
  expires = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);

  switch (fd->outcome)
    {
    case OUTCOME_DELIVERED:
      state = "delivered";
      break;
    case OUTCOME_FAILED:
      state = "failed";
      break;
    case OUTCOME_EXPIRED:
      state = "expired";
      break;
    case OUTCOME_RETRY:
    default:
      if (fd->base.now >= expires)
        state = "expired";
      else
        {
          state = "pending";
          final = FALSE;
          /* One last attempt at the expiry time rather than giving up early. */
          next = MIN (fd->next_attempt_at_us, expires);
          fd->next_attempt_at_us = next;
        }
      break;
    }

  stmt = lt_catalog_stmt (db, "UPDATE callback_outbox SET state = ?2, "
                          "attempts = attempts + ?7, last_error = ?3, last_status = ?4, "
                          "next_attempt_at_us = ?5, delivered_at_us = ?6 WHERE id = ?1",
                          error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, fd->id);
  sqlite3_bind_text (stmt, 2, state, -1, SQLITE_STATIC);
  if (fd->error_text != NULL)
    sqlite3_bind_text (stmt, 3, fd->error_text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, 3);
  if (fd->status != 0)
    sqlite3_bind_int (stmt, 4, fd->status);
  else
    sqlite3_bind_null (stmt, 4);
  sqlite3_bind_int64 (stmt, 5, next);
  if (fd->outcome == OUTCOME_DELIVERED)
    sqlite3_bind_int64 (stmt, 6, fd->base.now);
  else
    sqlite3_bind_null (stmt, 6);
  sqlite3_bind_int (stmt, 7, fd->outcome == OUTCOME_EXPIRED ? 0 : 1);
  if (!lt_catalog_step_done (stmt, error))
    goto fail;

  item = load_item (db, fd->id, error);
  if (item == NULL)
    goto fail;
  g_ptr_array_add (fd->changed, item);

  if (final)
    {
      worker_add_active (ws, fd->stream_key, -1);
      if (fd->outcome != OUTCOME_DELIVERED)
        ws->n_failed++;
      if (!promote_next (db, fd, error))
        goto fail;
    }
  if (!lt_catalog_commit (db, error))
    {
      /* The in-memory counts no longer match: rebuild them at the next job. */
      ws->loaded = FALSE;
      return NULL;
    }
  job_take_counts (&fd->base);
  return GINT_TO_POINTER (TRUE);

fail:
  lt_catalog_rollback (db);
  ws->loaded = FALSE;
  return NULL;
}

/* An attempt at @row, holding its stream's slot (and one of @host_key's, unless NULL)
 * until release_slot(). */
static Attempt *
attempt_new (LtCallbackQueue *self,
             DueRow          *row,
             const char      *host_key)
{
  Attempt *attempt = g_new0 (Attempt, 1);

  attempt->self = g_object_ref (self);
  attempt->id = row->id;
  attempt->stream_key = g_strdup (row->stream_key);
  attempt->host_key = g_strdup (host_key);
  attempt->attempts = row->attempts;

  g_hash_table_insert (self->streams_in_flight, g_strdup (row->stream_key), attempt);
  if (host_key != NULL)
    host_state (self, host_key)->in_flight++;
  self->n_in_flight++;
  return attempt;
}

static void
release_slot (LtCallbackQueue *self,
              Attempt         *attempt)
{
  HostState *hs = host_state (self, attempt->host_key);

  g_hash_table_remove (self->streams_in_flight, attempt->stream_key);
  if (hs != NULL)
    {
      g_assert (hs->in_flight > 0);
      hs->in_flight--;
    }
  g_assert (self->n_in_flight > 0);
  self->n_in_flight--;
}

static void
finish_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Attempt *attempt = user_data;
  LtCallbackQueue *self = attempt->self;
  g_autoptr(GError) error = NULL;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    g_debug ("callback queue: recording an attempt failed: %s", error->message);
  /* The slot frees only now that the row is settled, so no pass can pick it up twice. */
  release_slot (self, attempt);
  request_pass (self);
  attempt_free (attempt);
}

/* Runs on the main context when the finish job's data is freed, i.e. after finish_cb:
 * the counts and changed items are applied then. */
typedef struct
{
  FinishData       fd;
  LtCallbackQueue *self;
} FinishJob;

static void
finish_job_free (gpointer data)
{
  FinishJob *job = data;
  LtCallbackQueue *self = job->self;

  if (job->fd.base.counted)
    {
      apply_counts (self, &job->fd.base.counts);
      for (guint i = 0; i < job->fd.changed->len; i++)
        g_signal_emit (self, signals[ITEM_CHANGED], 0, g_ptr_array_index (job->fd.changed, i));
    }
  if (job->fd.outcome == OUTCOME_RETRY)
    schedule_timer (self, job->fd.next_attempt_at_us);
  g_object_unref (self);
  job_base_clear (&job->fd.base);
  g_free (job->fd.stream_key);
  g_free (job->fd.error_text);
  g_clear_pointer (&job->fd.changed, g_ptr_array_unref);
  g_free (job);
}

/* min (@cap_us, @first_us · 2^@n) */
static gint64
doubled_us (gint64 first_us,
            gint64 cap_us,
            guint  n)
{
  gint64 delay = first_us;

  for (guint i = 0; i < n && delay < cap_us; i++)
    delay *= 2;
  return MIN (delay, cap_us);
}

static gint64
backoff_us (LtCallbackQueue *self,
            guint            attempts)
{
  double ceiling = doubled_us (FIRST_RETRY_US, MAX_RETRY_US, attempts);

  /* Full jitter: uniform in (0, ceiling]. */
  return (gint64) (ceiling * self->backoff_scale * (1.0 - g_random_double ())) + 1;
}

static void
record_outcome (Attempt    *attempt,
                Outcome     outcome,
                guint       status,
                const char *error_text)
{
  LtCallbackQueue *self = attempt->self;
  FinishJob *job = g_new0 (FinishJob, 1);

  job_base_init (&job->fd.base, self);
  job->self = g_object_ref (self);
  job->fd.id = attempt->id;
  job->fd.stream_key = g_strdup (attempt->stream_key);
  job->fd.outcome = outcome;
  job->fd.status = status;
  job->fd.error_text = g_strdup (error_text);
  job->fd.changed = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_callback_item_free);
  if (outcome == OUTCOME_RETRY)
    job->fd.next_attempt_at_us = job->fd.base.now + backoff_us (self, attempt->attempts);
  lt_catalog_run_async (self->catalog, finish_job, job, finish_job_free, NULL, NULL,
                        finish_cb, attempt);
}

static void
attempt_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Attempt *attempt = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) reply = NULL;
  HostState *hs;
  guint status;

  reply = lt_outbound_send_finish (SOUP_SESSION (source), result, NULL, &error);
  status = soup_message_get_status (attempt->message);
  hs = host_state (attempt->self, attempt->host_key);
  if (hs != NULL && status != 0)
    {
      hs->failures = 0;
      hs->down_until_us = 0;
    }
  else if (hs != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
           && !g_error_matches (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_FORBIDDEN)
           && !g_error_matches (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_INVALID_URL))
    {
      gint64 delay = doubled_us (HOST_FIRST_US, HOST_MAX_US, hs->failures);

      hs->failures++;
      hs->down_until_us = g_get_real_time () + (gint64) (delay * attempt->self->backoff_scale);
    }
  if (reply == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          /* Shutdown: the row goes back to pending (lt_callback_queue_shutdown). */
          release_slot (attempt->self, attempt);
          attempt_free (attempt);
          return;
        }
      if (g_error_matches (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_FORBIDDEN)
          || g_error_matches (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_INVALID_URL))
        record_outcome (attempt, OUTCOME_FAILED, 0, error->message);
      else
        record_outcome (attempt, OUTCOME_RETRY, status, error->message);
      return;
    }
  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    record_outcome (attempt, OUTCOME_DELIVERED, status, NULL);
  else
    {
      g_autofree char *text = g_strdup_printf (_("The receiver answered %u %s"), status,
                                               soup_message_get_reason_phrase (attempt->message)
                                               ? soup_message_get_reason_phrase (attempt->message)
                                               : "");
      record_outcome (attempt, OUTCOME_RETRY, status, g_strstrip (text));
    }
}

/* Starts one attempt; returns whether the row is now in flight (else its outcome is being
 * recorded already: an address refused before sending). */
static gboolean
start_attempt (LtCallbackQueue *self,
               DueRow          *row,
               const char      *host_key)
{
  g_autoptr(GError) error = NULL;
  Attempt *attempt = attempt_new (self, row, host_key);

  attempt->message = build_message (self, row->domain, row->url, row->body, &error);
  if (attempt->message == NULL)
    {
      record_outcome (attempt, g_error_matches (error, LT_OUTBOUND_ERROR,
                                                LT_OUTBOUND_ERROR_FAILED)
                               ? OUTCOME_RETRY : OUTCOME_FAILED,
                      0, error->message);
      return FALSE;
    }
  lt_outbound_send_async (self->session, attempt->message, REPLY_LIMIT,
                          self->attempt_timeout_ms, self->cancellable, attempt_cb, attempt);
  return TRUE;
}

/* A due row whose receiver is unreachable and whose time ran out: expired without another
 * attempt (it holds no connection slot). */
static void
expire_without_attempt (LtCallbackQueue *self,
                        DueRow          *row)
{
  Attempt *attempt = attempt_new (self, row, NULL);

  record_outcome (attempt, OUTCOME_EXPIRED, 0, _("The receiver could not be reached"));
}

/* ---- enqueue ---- */

typedef struct
{
  JobBase  base;
  char    *domain;
  char    *stream_key;
  char    *kind;
  char    *url;
  char    *body;
  gint64   expires_at_us;
  LtCallbackQueue *self;
} EnqueueData;

static void
enqueue_data_free (gpointer data)
{
  EnqueueData *ed = data;

  if (ed->base.counted)
    apply_counts (ed->self, &ed->base.counts);
  g_object_unref (ed->self);
  job_base_clear (&ed->base);
  g_free (ed->domain);
  g_free (ed->stream_key);
  g_free (ed->kind);
  g_free (ed->url);
  g_free (ed->body);
  g_free (ed);
}

static gpointer
enqueue_job (sqlite3  *db,
             gpointer  data,
             GError  **error)
{
  EnqueueData *ed = data;
  sqlite3_stmt *stmt;
  gboolean is_head;
  gint64 *id;

  if (!job_begin (db, &ed->base, error))
    return NULL;
  is_head = worker_active (ed->base.ws, ed->stream_key) == 0;
  stmt = lt_catalog_stmt (db, "INSERT INTO callback_outbox (domain, stream_key, kind, url, "
                          "body, state, next_attempt_at_us, expires_at_us, created_at_us) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8)", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, ed->domain, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, ed->stream_key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, ed->kind, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, ed->url, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, ed->body, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, is_head ? ed->base.now : WAITING);
  sqlite3_bind_int64 (stmt, 7, ed->expires_at_us);
  sqlite3_bind_int64 (stmt, 8, ed->base.now);
  if (!lt_catalog_step_done (stmt, error))
    {
      g_prefix_error (error, "%s", _("Could not store the callback: "));
      return NULL;
    }
  worker_add_active (ed->base.ws, ed->stream_key, 1);
  job_take_counts (&ed->base);
  id = g_new (gint64, 1);
  *id = sqlite3_last_insert_rowid (db);
  return id;
}

static void
enqueue_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtCallbackQueue *self = g_task_get_source_object (task);
  GError *error = NULL;
  g_autofree gint64 *id = lt_catalog_run_finish (LT_CATALOG (source), result, &error);

  if (id == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  request_pass (self);
  g_task_return_int (task, *id);
}

void
lt_callback_queue_enqueue_async (LtCallbackQueue     *self,
                                 const char          *domain,
                                 const char          *stream_key,
                                 const char          *kind,
                                 const char          *url,
                                 const char          *body,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  EnqueueData *ed;

  g_return_if_fail (LT_IS_CALLBACK_QUEUE (self));
  g_return_if_fail (domain != NULL && stream_key != NULL && kind != NULL);
  g_return_if_fail (url != NULL && body != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_callback_queue_enqueue_async);

  ed = g_new0 (EnqueueData, 1);
  job_base_init (&ed->base, self);
  ed->self = g_object_ref (self);
  ed->domain = g_strdup (domain);
  ed->stream_key = g_strdup (stream_key);
  ed->kind = g_strdup (kind);
  ed->url = g_strdup (url);
  ed->body = g_strdup (body);
  ed->expires_at_us = ed->base.now + self->expiry_us;
  /* Not cancellable once queued: a callback half-stored is worse than one stored. */
  lt_catalog_run_async (self->catalog, enqueue_job, ed, enqueue_data_free, g_free, NULL,
                        enqueue_cb, g_steal_pointer (&task));
}

gint64
lt_callback_queue_enqueue_finish (LtCallbackQueue  *self,
                                  GAsyncResult     *result,
                                  GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), 0);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result))
                        == lt_callback_queue_enqueue_async, 0);

  return g_task_propagate_int (G_TASK (result), error);
}

/* ---- test callbacks ---- */

typedef struct
{
  SoupMessage *message;
} TestData;

static void
test_data_free (TestData *td)
{
  g_clear_object (&td->message);
  g_free (td);
}

static void
test_send_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TestData *td = g_task_get_task_data (task);
  g_autoptr(GBytes) reply = NULL;
  GError *error = NULL;
  gsize size;
  const char *data;

  reply = lt_outbound_send_finish (SOUP_SESSION (source), result, NULL, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  data = g_bytes_get_data (reply, &size);
  g_object_set_data_full (G_OBJECT (task), "lt-reply",
                          g_utf8_make_valid (data != NULL ? data : "", size), g_free);
  g_task_return_int (task, soup_message_get_status (td->message));
}

void
lt_callback_queue_test_async (LtCallbackQueue     *self,
                              const char          *domain,
                              const char          *url,
                              const char          *body,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  TestData *td;

  g_return_if_fail (LT_IS_CALLBACK_QUEUE (self));
  g_return_if_fail (url != NULL && body != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_callback_queue_test_async);
  td = g_new0 (TestData, 1);
  g_task_set_task_data (task, td, (GDestroyNotify) test_data_free);

  td->message = build_message (self, domain, url, body, &error);
  if (td->message == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  lt_outbound_send_async (self->session, td->message, REPLY_LIMIT, TEST_TIMEOUT_MS,
                          cancellable, test_send_cb, g_steal_pointer (&task));
}

gboolean
lt_callback_queue_test_finish (LtCallbackQueue  *self,
                               GAsyncResult     *result,
                               guint            *status,
                               char            **reply,
                               GError          **error)
{
  gssize value;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result))
                        == lt_callback_queue_test_async, FALSE);

  value = g_task_propagate_int (G_TASK (result), error);
  if (value < 0)
    return FALSE;
  if (status != NULL)
    *status = value;
  if (reply != NULL)
    *reply = g_strdup (g_object_get_data (G_OBJECT (result), "lt-reply"));
  return TRUE;
}

/* ---- resend ---- */

typedef struct
{
  JobBase          base;
  gint64           id;
  gint64           expiry_us;
  LtCallbackItem  *item;
  LtCallbackQueue *self;
} ResendData;

static void
resend_data_free (gpointer data)
{
  ResendData *rd = data;

  if (rd->item != NULL)
    {
      apply_counts (rd->self, &rd->base.counts);
      g_signal_emit (rd->self, signals[ITEM_CHANGED], 0, rd->item);
      lt_callback_item_free (rd->item);
    }
  g_object_unref (rd->self);
  job_base_clear (&rd->base);
  g_free (rd);
}

static gpointer
resend_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  ResendData *rd = data;
  g_autoptr(LtCallbackItem) item = NULL;
  sqlite3_stmt *stmt;
  gboolean is_head;

  if (!job_begin (db, &rd->base, error))
    return NULL;
  item = load_item (db, rd->id, error);
  if (item == NULL)
    return NULL;
  if (item->state != LT_CALLBACK_FAILED && item->state != LT_CALLBACK_EXPIRED)
    {
      g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED,
                   _("Only a failed or expired callback can be sent again"));
      return NULL;
    }
  /* Behind the stream's current head when it has one: it goes to the end of its line. */
  is_head = worker_active (rd->base.ws, item->stream_key) == 0;
  stmt = lt_catalog_stmt (db, "UPDATE callback_outbox SET state = 'pending', attempts = 0, "
                          "next_attempt_at_us = ?2, expires_at_us = ?3 WHERE id = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, rd->id);
  sqlite3_bind_int64 (stmt, 2, is_head ? rd->base.now : WAITING);
  sqlite3_bind_int64 (stmt, 3, rd->base.now + rd->expiry_us);
  if (!lt_catalog_step_done (stmt, error))
    return NULL;
  worker_add_active (rd->base.ws, item->stream_key, 1);
  rd->base.ws->n_failed--;
  job_take_counts (&rd->base);
  rd->item = load_item (db, rd->id, error);
  if (rd->item == NULL)
    return NULL;
  return GINT_TO_POINTER (TRUE);
}

static void
resend_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  request_pass (g_task_get_source_object (task));
  g_task_return_boolean (task, TRUE);
}

void
lt_callback_queue_resend_async (LtCallbackQueue     *self,
                                gint64               id,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ResendData *rd;

  g_return_if_fail (LT_IS_CALLBACK_QUEUE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_callback_queue_resend_async);
  rd = g_new0 (ResendData, 1);
  job_base_init (&rd->base, self);
  rd->id = id;
  rd->expiry_us = self->expiry_us;
  rd->self = g_object_ref (self);
  lt_catalog_run_async (self->catalog, resend_job, rd, resend_data_free, NULL, NULL,
                        resend_cb, g_steal_pointer (&task));
}

gboolean
lt_callback_queue_resend_finish (LtCallbackQueue  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result))
                        == lt_callback_queue_resend_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- list ---- */

typedef struct
{
  guint states;
  guint limit;
} ListData;

static gpointer
list_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  ListData *ld = data;
  g_autoptr(GString) sql = g_string_new ("SELECT " ITEM_COLUMNS " FROM callback_outbox");
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) local_error = NULL;
  sqlite3_stmt *stmt;

  if (ld->states != 0)
    {
      const char *sep = " WHERE state IN (";

      for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
        if (ld->states & (1u << i))
          {
            g_string_append_printf (sql, "%s'%s'", sep, state_names[i]);
            sep = ", ";
          }
      g_string_append (sql, ")");
    }
  g_string_append (sql, " ORDER BY id DESC LIMIT ?1");
  stmt = lt_catalog_stmt (db, sql->str, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, ld->limit > 0 ? (gint64) ld->limit : -1);
  items = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_callback_item_free);
  while (lt_catalog_next_row (stmt, &local_error))
    g_ptr_array_add (items, item_from_row (stmt));
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return g_steal_pointer (&items);
}

static void
list_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  GPtrArray *items = lt_catalog_run_finish (LT_CATALOG (source), result, &error);

  if (items == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, items, (GDestroyNotify) g_ptr_array_unref);
}

void
lt_callback_queue_list_async (LtCallbackQueue     *self,
                              guint                states,
                              guint                limit,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ListData *ld;

  g_return_if_fail (LT_IS_CALLBACK_QUEUE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_callback_queue_list_async);
  ld = g_new0 (ListData, 1);
  ld->states = states;
  ld->limit = limit;
  lt_catalog_run_async (self->catalog, list_job, ld, g_free,
                        (GDestroyNotify) g_ptr_array_unref, cancellable, list_cb,
                        g_steal_pointer (&task));
}

GPtrArray *
lt_callback_queue_list_finish (LtCallbackQueue  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result))
                        == lt_callback_queue_list_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- settings and GObject ---- */

void
lt_callback_queue_set_key_func (LtCallbackQueue   *self,
                                LtCallbackKeyFunc  func,
                                gpointer           user_data,
                                GDestroyNotify     destroy)
{
  g_return_if_fail (LT_IS_CALLBACK_QUEUE (self));

  if (self->key_destroy != NULL)
    self->key_destroy (self->key_data);
  self->key_func = func;
  self->key_data = user_data;
  self->key_destroy = destroy;
}

void
lt_callback_queue_set_expiry (LtCallbackQueue *self,
                              guint            seconds)
{
  g_return_if_fail (LT_IS_CALLBACK_QUEUE (self));
  g_return_if_fail (seconds > 0);

  self->expiry_us = (gint64) seconds * G_USEC_PER_SEC;
}

void
lt_callback_queue_set_backoff_scale (LtCallbackQueue *self,
                                     double           scale)
{
  g_return_if_fail (LT_IS_CALLBACK_QUEUE (self));
  g_return_if_fail (scale > 0);

  self->backoff_scale = scale;
}

void
lt_callback_queue_set_attempt_timeout (LtCallbackQueue *self,
                                       guint            timeout_ms)
{
  g_return_if_fail (LT_IS_CALLBACK_QUEUE (self));
  g_return_if_fail (timeout_ms > 0);

  self->attempt_timeout_ms = timeout_ms;
}

guint
lt_callback_queue_get_n_pending (LtCallbackQueue *self)
{
  g_return_val_if_fail (LT_IS_CALLBACK_QUEUE (self), 0);
  return self->n_pending;
}

guint
lt_callback_queue_get_n_failed (LtCallbackQueue *self)
{
  g_return_val_if_fail (LT_IS_CALLBACK_QUEUE (self), 0);
  return self->n_failed;
}

LtCallbackQueue *
lt_callback_queue_new (LtCatalog *catalog)
{
  LtCallbackQueue *self;

  g_return_val_if_fail (LT_IS_CATALOG (catalog), NULL);

  self = g_object_new (LT_TYPE_CALLBACK_QUEUE, NULL);
  self->catalog = g_object_ref (catalog);
  return self;
}

static void
lt_callback_queue_dispose (GObject *object)
{
  LtCallbackQueue *self = LT_CALLBACK_QUEUE (object);

  lt_callback_queue_shutdown (self);
  g_clear_handle_id (&self->pass_source_id, g_source_remove);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  if (self->key_destroy != NULL)
    self->key_destroy (self->key_data);
  self->key_destroy = NULL;
  self->key_func = NULL;
  g_clear_object (&self->session);
  g_clear_object (&self->catalog);

  G_OBJECT_CLASS (lt_callback_queue_parent_class)->dispose (object);
}

static void
lt_callback_queue_finalize (GObject *object)
{
  LtCallbackQueue *self = LT_CALLBACK_QUEUE (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->streams_in_flight, g_hash_table_unref);
  g_clear_pointer (&self->hosts, g_hash_table_unref);
  g_clear_pointer (&self->ws, worker_state_unref);

  G_OBJECT_CLASS (lt_callback_queue_parent_class)->finalize (object);
}

static void
lt_callback_queue_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  LtCallbackQueue *self = LT_CALLBACK_QUEUE (object);

  switch (prop_id)
    {
    case PROP_N_PENDING:
      g_value_set_uint (value, self->n_pending);
      break;
    case PROP_N_FAILED:
      g_value_set_uint (value, self->n_failed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_callback_queue_class_init (LtCallbackQueueClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lt_callback_queue_dispose;
  object_class->finalize = lt_callback_queue_finalize;
  object_class->get_property = lt_callback_queue_get_property;

  properties[PROP_N_PENDING] =
    g_param_spec_uint ("n-pending", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_FAILED] =
    g_param_spec_uint ("n-failed", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[ITEM_CHANGED] =
    g_signal_new ("item-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  LT_TYPE_CALLBACK_ITEM | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
lt_callback_queue_init (LtCallbackQueue *self)
{
  self->session = lt_outbound_session_new (ATTEMPT_TIMEOUT_MS / 1000);
  self->ws = worker_state_new ();
  self->expiry_us = (gint64) DEFAULT_EXPIRY_S * G_USEC_PER_SEC;
  self->backoff_scale = 1.0;
  self->attempt_timeout_ms = ATTEMPT_TIMEOUT_MS;
  self->cancellable = g_cancellable_new ();
  self->streams_in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->hosts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->cursor_due_us = G_MININT64;
  self->cursor_id = G_MININT64;
}
