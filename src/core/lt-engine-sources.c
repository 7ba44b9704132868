/* lt-engine-sources.c: the operator's pull sources for lt-engine.h — add, change, turn on
 * or off, remove.
 *
 * Each source is a row of the catalog's ingest_sources (kind 'pull') and an LtPullSource
 * in the engine's list. The catalog decides whether an identity is free (UNIQUE (domain,
 * app, stream), a constraint the demo's row takes part in), so every change is stored
 * first and the list follows only once it is: the list never shows what a restart would
 * not bring back. For the same reason the catalog jobs run without the caller's
 * cancellable: a cancelled call still applies what the catalog did, then reports the
 * cancellation. Jobs run in the order they were queued and complete in that order, so
 * two changes to one source apply in the order they were asked for.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "lt-engine-private.h"
#include "lt-engine-sources.h"

#define SUCCESS GINT_TO_POINTER (TRUE)

/* ---- checks ---- */

/* What a rule's DomainName accepts (lt-rule.c): dot-separated LDH labels of 1–63 bytes,
 * ≤ 253 bytes in all, the last label not all digits. A source whose domain no rule could
 * name could never be recorded. */
static gboolean
is_host_name (const char *name)
{
  gsize len = strlen (name);
  gsize start = 0;

  if (len == 0 || len > 253)
    return FALSE;

  for (gsize i = 0; i <= len; i++)
    {
      if (i == len || name[i] == '.')
        {
          gsize label_len = i - start;
          gboolean all_digits = TRUE;

          if (label_len == 0 || label_len > 63 ||
              name[start] == '-' || name[i - 1] == '-')
            return FALSE;
          for (gsize j = start; j < i; j++)
            {
              if (!g_ascii_isalnum (name[j]) && name[j] != '-')
                return FALSE;
              if (!g_ascii_isdigit (name[j]))
                all_digits = FALSE;
            }
          if (i == len && all_digits)
            return FALSE;
          start = i + 1;
        }
    }

  return TRUE;
}

/* @domain lowercased, without trailing dots. */
static char *
normalize_domain (const char *domain)
{
  char *lower = g_ascii_strdown (domain, -1);
  gsize len = strlen (lower);

  while (len > 0 && lower[len - 1] == '.')
    lower[--len] = '\0';
  return lower;
}

static gboolean
check_name (const char         *name,
            LtPullSourceField   field,
            LtPullSourceField  *field_out,
            GError            **error)
{
  if (lt_stream_name_is_valid (name))
    return TRUE;

  if (field_out != NULL)
    *field_out = field;
  if (name == NULL || *name == '\0')
    g_set_error_literal (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_FAILED,
                         field == LT_PULL_SOURCE_FIELD_APP
                         ? _("Enter an app name, e.g. live.")
                         : _("Enter a stream name."));
  else
    g_set_error_literal (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_FAILED,
                         field == LT_PULL_SOURCE_FIELD_APP
                         ? _("The app name must be valid text of at most 255 bytes, "
                             "without control characters.")
                         : _("The stream name must be valid text of at most 255 bytes, "
                             "without control characters."));
  return FALSE;
}

gboolean
lt_engine_check_pull_source (const char         *uri,
                             const char         *domain,
                             const char         *app,
                             const char         *stream,
                             LtPullSourceField  *field,
                             GError            **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (field != NULL)
    *field = LT_PULL_SOURCE_FIELD_NONE;

  if (uri == NULL || *uri == '\0')
    {
      if (field != NULL)
        *field = LT_PULL_SOURCE_FIELD_URI;
      g_set_error_literal (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_INVALID_URI,
                           _("Enter the source’s address, e.g. "
                             "rtsp://camera.example.com/stream1."));
      return FALSE;
    }
  if (!lt_pull_source_check_uri (uri, error))
    {
      if (field != NULL)
        *field = LT_PULL_SOURCE_FIELD_URI;
      return FALSE;
    }

  if (domain != NULL && *domain != '\0')
    {
      g_autofree char *normal = normalize_domain (domain);

      if (g_hostname_is_ip_address (normal) || !is_host_name (normal))
        {
          if (field != NULL)
            *field = LT_PULL_SOURCE_FIELD_DOMAIN;
          g_set_error (error, LT_PULL_SOURCE_ERROR, LT_PULL_SOURCE_ERROR_FAILED,
                       _("“%s” is not a domain name such as live.example.com; leave the "
                         "domain empty to take it from the address."), domain);
          return FALSE;
        }
    }

  return check_name (app, LT_PULL_SOURCE_FIELD_APP, field, error) &&
         check_name (stream, LT_PULL_SOURCE_FIELD_STREAM, field, error);
}

static const char *
default_domain (LtEngine *self)
{
  return self->default_domain != NULL ? self->default_domain : LT_DEFAULT_DOMAIN;
}

char *
lt_engine_dup_pull_source_domain (LtEngine   *self,
                                  const char *uri,
                                  const char *domain)
{
  g_return_val_if_fail (LT_IS_ENGINE (self), NULL);

  if (domain != NULL && *domain != '\0')
    return normalize_domain (domain);
  return lt_stream_domain_from_url (uri, default_domain (self));
}

/* ---- catalog jobs (worker thread) ---- */

typedef enum
{
  OP_ADD,
  OP_UPDATE,
  OP_SET_ENABLED,
  OP_REMOVE,
} OpKind;

typedef struct
{
  OpKind        kind;
  /* The new settings (add, update); domain resolved. */
  char         *uri;
  char         *domain;
  char         *app;
  char         *stream;
  gboolean      enabled;
  /* The identity of the row to change (update, enable, remove). */
  char         *old_domain;
  char         *old_app;
  char         *old_stream;
  gint64        now;          /* Unix seconds */
  /* Main context only. */
  LtPullSource *source;       /* the source being changed, or NULL (add) */
  LtPullSource *replacement;  /* the source to put in the list (add, update) */
} SourceOp;

static void
source_op_free (gpointer data)
{
  SourceOp *op = data;

  g_free (op->uri);
  g_free (op->domain);
  g_free (op->app);
  g_free (op->stream);
  g_free (op->old_domain);
  g_free (op->old_app);
  g_free (op->old_stream);
  g_clear_object (&op->source);
  g_clear_object (&op->replacement);
  g_free (op);
}

static SourceOp *
source_op_new (OpKind        kind,
               LtPullSource *source)
{
  SourceOp *op = g_new0 (SourceOp, 1);

  op->kind = kind;
  op->now = g_get_real_time () / G_USEC_PER_SEC;
  if (source != NULL)
    {
      op->source = g_object_ref (source);
      op->old_domain = g_strdup (lt_pull_source_get_domain (source));
      op->old_app = g_strdup (lt_pull_source_get_app (source));
      op->old_stream = g_strdup (lt_pull_source_get_name (source));
    }
  return op;
}

/* Every statement numbers its parameters the same way, and uses those it needs:
 * ?1–?4 the new uri, domain, app, stream; ?5 enabled; ?6 the time; ?7–?9 the old domain,
 * app and stream (the row to change). */
static const char * const statements[] = {
  [OP_ADD] =
    "INSERT INTO ingest_sources"
    " (kind, uri, domain, app, stream, enabled, create_time, update_time)"
    " VALUES ('pull', ?1, ?2, ?3, ?4, ?5, ?6, ?6)",
  [OP_UPDATE] =
    "UPDATE ingest_sources SET uri = ?1, domain = ?2, app = ?3, stream = ?4, enabled = ?5,"
    " update_time = ?6 WHERE kind = 'pull' AND domain = ?7 AND app = ?8 AND stream = ?9",
  [OP_SET_ENABLED] =
    "UPDATE ingest_sources SET enabled = ?5, update_time = ?6"
    " WHERE kind = 'pull' AND domain = ?7 AND app = ?8 AND stream = ?9",
  [OP_REMOVE] =
    "DELETE FROM ingest_sources"
    " WHERE kind = 'pull' AND domain = ?7 AND app = ?8 AND stream = ?9",
};

static gboolean
bind_op (sqlite3_stmt  *stmt,
         SourceOp      *op,
         GError       **error)
{
  const char *texts[] = {
    NULL, op->uri, op->domain, op->app, op->stream, NULL, NULL,
    op->old_domain, op->old_app, op->old_stream,
  };
  int n = MIN (sqlite3_bind_parameter_count (stmt), (int) G_N_ELEMENTS (texts) - 1);

  for (int i = 1; i <= n; i++)
    {
      int rc;

      if (i == 5)
        rc = sqlite3_bind_int (stmt, i, op->enabled ? 1 : 0);
      else if (i == 6)
        rc = sqlite3_bind_int64 (stmt, i, op->now);
      else
        rc = sqlite3_bind_text (stmt, i, texts[i], -1, SQLITE_TRANSIENT);
      if (rc != SQLITE_OK)
        return lt_catalog_set_sqlite_error (error, sqlite3_db_handle (stmt), rc,
                                            _("Cannot store the pull source"));
    }
  return TRUE;
}

/* Turns the catalog's UNIQUE violation into SOURCE_EXISTS, saying who has the identity. */
static void
explain_constraint (sqlite3    *db,
                    SourceOp   *op,
                    GError    **error)
{
  g_autoptr(GError) lookup_error = NULL;
  g_autofree char *kind = NULL;
  sqlite3_stmt *stmt;

  if (error == NULL || !g_error_matches (*error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CONSTRAINT))
    return;

  stmt = lt_catalog_stmt (db,
                          "SELECT kind FROM ingest_sources"
                          " WHERE domain = ?1 AND app = ?2 AND stream = ?3",
                          &lookup_error);
  if (stmt != NULL &&
      sqlite3_bind_text (stmt, 1, op->domain, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
      sqlite3_bind_text (stmt, 2, op->app, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
      sqlite3_bind_text (stmt, 3, op->stream, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
      lt_catalog_next_row (stmt, &lookup_error))
    {
      kind = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      sqlite3_reset (stmt);
    }

  g_clear_error (error);
  if (g_strcmp0 (kind, "demo") == 0)
    g_set_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_SOURCE_EXISTS,
                 _("The demo stream is %s/%s/%s; give this source another app or stream "
                   "name."), op->domain, op->app, op->stream);
  else
    g_set_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_SOURCE_EXISTS,
                 _("A pull source named %s/%s/%s exists already."),
                 op->domain, op->app, op->stream);
}

/* The row of @op's old identity was changed; none means the source went meanwhile. */
static gboolean
check_changed (sqlite3   *db,
               SourceOp  *op,
               GError   **error)
{
  if (sqlite3_changes (db) > 0)
    return TRUE;

  g_set_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_FAILED,
               _("The pull source %s/%s/%s is no longer in the catalog."),
               op->old_domain, op->old_app, op->old_stream);
  return FALSE;
}

static gpointer
source_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  SourceOp *op = data;
  sqlite3_stmt *stmt = lt_catalog_stmt (db, statements[op->kind], error);

  if (stmt == NULL || !bind_op (stmt, op, error))
    return NULL;
  if (!lt_catalog_step_done (stmt, error))
    {
      explain_constraint (db, op, error);
      return NULL;
    }
  if (op->kind != OP_ADD && !check_changed (db, op, error))
    return NULL;

  return SUCCESS;
}

/* ---- main context ---- */

static gboolean
check_running (LtEngine  *self,
               GError   **error)
{
  if (!self->started || self->shut_down || self->ingest_server == NULL)
    {
      g_set_error_literal (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_NOT_STARTED,
                           _("The ingest is not running."));
      return FALSE;
    }
  return TRUE;
}

static gboolean
find_source (LtEngine      *self,
             LtPullSource  *source,
             GError       **error)
{
  if (g_list_store_find (self->pull_sources, source, NULL))
    return TRUE;

  g_set_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_FAILED,
               _("The pull source %s/%s/%s was removed."),
               lt_pull_source_get_domain (source), lt_pull_source_get_app (source),
               lt_pull_source_get_name (source));
  return FALSE;
}

/* Validates the new settings into @op and makes the source that will take their place. */
static gboolean
prepare_settings (LtEngine    *self,
                  SourceOp    *op,
                  const char  *uri,
                  const char  *domain,
                  const char  *app,
                  const char  *stream,
                  GError     **error)
{
  if (!lt_engine_check_pull_source (uri, domain, app, stream, NULL, error))
    return FALSE;

  op->uri = g_strdup (uri);
  op->domain = lt_engine_dup_pull_source_domain (self, uri, domain);
  op->app = g_strdup (app);
  op->stream = g_strdup (stream);
  op->replacement = lt_pull_source_new (self->registry, op->uri, op->domain, op->app,
                                        op->stream, error);
  return op->replacement != NULL;
}

/* The catalog has the change: the list follows. */
static void
op_stored_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LtEngine *self = g_task_get_source_object (task);
  SourceOp *op = g_task_get_task_data (task);
  GError *error = NULL;
  guint position;
  gboolean listed;

  if (lt_catalog_run_finish (LT_CATALOG (object), result, &error) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* The old source lets go of its stream before a new one (maybe of the same identity)
   * connects. */
  if (op->source != NULL && (op->kind != OP_SET_ENABLED || !op->enabled))
    lt_pull_source_set_enabled (op->source, FALSE);
  listed = op->source != NULL && g_list_store_find (self->pull_sources, op->source, &position);

  switch (op->kind)
    {
    case OP_ADD:
    case OP_UPDATE:
      if (listed)
        g_list_store_splice (self->pull_sources, position, 1, (gpointer *) &op->replacement, 1);
      else
        g_list_store_append (self->pull_sources, op->replacement);
      /* Stored either way; an engine shut down meanwhile runs nothing. */
      if (op->enabled && !self->shut_down)
        lt_pull_source_set_enabled (op->replacement, TRUE);
      g_task_return_pointer (task, g_object_ref (op->replacement), g_object_unref);
      return;

    case OP_SET_ENABLED:
      /* A source replaced or removed meanwhile is no longer run. */
      if (op->enabled && listed && !self->shut_down)
        lt_pull_source_set_enabled (op->source, TRUE);
      break;

    case OP_REMOVE:
    default:
      if (listed)
        g_list_store_remove (self->pull_sources, position);
      break;
    }
  g_task_return_boolean (task, TRUE);
}

/* Checks the call, stores the change in the catalog (a removal durably: lost to a power
 * cut, it would bring the source back), then op_stored_cb() applies it. */
static void
start_op (LtEngine            *self,
          OpKind               kind,
          LtPullSource        *source,
          const char          *uri,
          const char          *domain,
          const char          *app,
          const char          *stream,
          gboolean             enabled,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data,
          gpointer             source_tag)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  SourceOp *op = source_op_new (kind, source);
  GError *error = NULL;

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, op, source_op_free);
  op->enabled = !!enabled;

  if (!check_running (self, &error) ||
      (source != NULL && !find_source (self, source, &error)) ||
      ((kind == OP_ADD || kind == OP_UPDATE) &&
       !prepare_settings (self, op, uri, domain, app, stream, &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  if (kind == OP_REMOVE)
    lt_catalog_run_durable_async (self->catalog, source_job, op, NULL, NULL, NULL,
                                  op_stored_cb, g_object_ref (task));
  else
    lt_catalog_run_async (self->catalog, source_job, op, NULL, NULL, NULL,
                          op_stored_cb, g_object_ref (task));
}

static gboolean
result_is_valid (LtEngine     *self,
                 GAsyncResult *result,
                 gpointer      source_tag)
{
  return LT_IS_ENGINE (self) && g_task_is_valid (result, self) &&
         g_task_get_source_tag (G_TASK (result)) == source_tag;
}

void
lt_engine_add_pull_source_async (LtEngine            *self,
                                 const char          *uri,
                                 const char          *domain,
                                 const char          *app,
                                 const char          *stream,
                                 gboolean             enabled,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (LT_IS_ENGINE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  start_op (self, OP_ADD, NULL, uri, domain, app, stream, enabled, cancellable, callback,
            user_data, lt_engine_add_pull_source_async);
}

LtPullSource *
lt_engine_add_pull_source_finish (LtEngine      *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (result_is_valid (self, result, lt_engine_add_pull_source_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
lt_engine_update_pull_source_async (LtEngine            *self,
                                    LtPullSource        *source,
                                    const char          *uri,
                                    const char          *domain,
                                    const char          *app,
                                    const char          *stream,
                                    gboolean             enabled,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_return_if_fail (LT_IS_ENGINE (self));
  g_return_if_fail (LT_IS_PULL_SOURCE (source));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  start_op (self, OP_UPDATE, source, uri, domain, app, stream, enabled, cancellable,
            callback, user_data, lt_engine_update_pull_source_async);
}

LtPullSource *
lt_engine_update_pull_source_finish (LtEngine      *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  g_return_val_if_fail (result_is_valid (self, result, lt_engine_update_pull_source_async),
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
lt_engine_set_pull_source_enabled_async (LtEngine            *self,
                                         LtPullSource        *source,
                                         gboolean             enabled,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_return_if_fail (LT_IS_ENGINE (self));
  g_return_if_fail (LT_IS_PULL_SOURCE (source));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  start_op (self, OP_SET_ENABLED, source, NULL, NULL, NULL, NULL, enabled, cancellable,
            callback, user_data, lt_engine_set_pull_source_enabled_async);
}

gboolean
lt_engine_set_pull_source_enabled_finish (LtEngine      *self,
                                          GAsyncResult  *result,
                                          GError       **error)
{
  g_return_val_if_fail (result_is_valid (self, result,
                                         lt_engine_set_pull_source_enabled_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
lt_engine_remove_pull_source_async (LtEngine            *self,
                                    LtPullSource        *source,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_return_if_fail (LT_IS_ENGINE (self));
  g_return_if_fail (LT_IS_PULL_SOURCE (source));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  start_op (self, OP_REMOVE, source, NULL, NULL, NULL, NULL, FALSE, cancellable, callback,
            user_data, lt_engine_remove_pull_source_async);
}

gboolean
lt_engine_remove_pull_source_finish (LtEngine      *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  g_return_val_if_fail (result_is_valid (self, result, lt_engine_remove_pull_source_async),
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
