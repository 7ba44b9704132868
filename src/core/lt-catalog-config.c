/* lt-catalog-config.c: the catalog's typed calls for configuration records — recording
 * rules, API key ids — and the event log.
 *
 * Each call copies what it needs from its arguments on the caller's thread (a rule is
 * serialised there), runs one job on the worker and completes on the caller's context.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-catalog-private.h"

#define SUCCESS GINT_TO_POINTER (TRUE)

/* What every _finish here does: check that @result is our task from @source_tag and
 * take the job's result. */
static gpointer
propagate_pointer (LtCatalog     *self,
                   GAsyncResult  *result,
                   gpointer       source_tag,
                   GError       **error)
{
  g_return_val_if_fail (LT_IS_CATALOG (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* For the jobs that return SUCCESS. */
static gboolean
propagate_success (LtCatalog     *self,
                   GAsyncResult  *result,
                   gpointer       source_tag,
                   GError       **error)
{
  return propagate_pointer (self, result, source_tag, error) != NULL;
}

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* ---- rules ---- */

typedef struct
{
  char   *domain;
  char   *app;
  char   *stream;
  gint64  create_time;   /* 0: not known (insert uses the update time) */
  gint64  update_time;
  char   *params;        /* lt_rule_to_json() as text */
} RuleRow;

static void
rule_row_free (gpointer data)
{
  RuleRow *row = data;

  g_free (row->domain);
  g_free (row->app);
  g_free (row->stream);
  g_free (row->params);
  g_free (row);
}

static RuleRow *
rule_row_new (const char *domain,
              const char *app,
              const char *stream)
{
  RuleRow *row = g_new0 (RuleRow, 1);

  row->domain = g_strdup (domain);
  row->app = g_strdup (app);
  /* The rule model says "*" when StreamName is absent; so does the catalog. */
  row->stream = g_strdup (stream != NULL && *stream != '\0' ? stream : "*");
  return row;
}

static RuleRow *
rule_row_new_from_rule (LtRule *rule)
{
  g_autoptr(JsonNode) node = NULL;
  RuleRow *row;

  row = rule_row_new (lt_rule_get_domain_name (rule), lt_rule_get_app_name (rule),
                      lt_rule_get_stream_name (rule));
  node = lt_rule_to_json (rule);
  row->params = json_to_string (node, FALSE);
  row->create_time = lt_rule_get_create_time (rule);
  row->update_time = now_seconds ();
  return row;
}

static gboolean
bind_triplet (sqlite3_stmt  *stmt,
              RuleRow       *row,
              GError       **error)
{
  return lt_catalog_bind_text (stmt, 1, row->domain, error) &&
         lt_catalog_bind_text (stmt, 2, row->app, error) &&
         lt_catalog_bind_text (stmt, 3, row->stream, error);
}

/* NOT_FOUND unless the statement just run changed the rule of @row. */
static gboolean
rule_changed (sqlite3  *db,
              RuleRow  *row,
              GError  **error)
{
  if (sqlite3_changes (db) > 0)
    return TRUE;

  g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_NOT_FOUND,
               _("There is no rule for %s/%s/%s."), row->domain, row->app, row->stream);
  return FALSE;
}

static gpointer
insert_rule_job (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  RuleRow *row = data;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "INSERT INTO rules (domain, app, stream, create_time, update_time, params)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                          error);
  if (stmt == NULL ||
      !bind_triplet (stmt, row, error) ||
      !lt_catalog_bind_int64 (stmt, 4, row->create_time > 0 ? row->create_time : row->update_time, error) ||
      !lt_catalog_bind_int64 (stmt, 5, row->update_time, error) ||
      !lt_catalog_bind_text (stmt, 6, row->params, error) ||
      !lt_catalog_step_done (stmt, error))
    {
      if (error != NULL && g_error_matches (*error, LT_CATALOG_ERROR,
                                            LT_CATALOG_ERROR_CONSTRAINT))
        g_prefix_error (error, _("A rule for %s/%s/%s exists already: "),
                        row->domain, row->app, row->stream);
      return NULL;
    }

  return SUCCESS;
}

void
lt_catalog_insert_rule_async (LtCatalog           *self,
                              LtRule              *rule,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (LT_IS_CATALOG (self));
  g_return_if_fail (LT_IS_RULE (rule));

  _lt_catalog_queue (self, insert_rule_job, rule_row_new_from_rule (rule), rule_row_free, NULL,
                     FALSE, cancellable, callback, user_data, lt_catalog_insert_rule_async);
}

gboolean
lt_catalog_insert_rule_finish (LtCatalog     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return propagate_success (self, result, lt_catalog_insert_rule_async, error);
}

static gpointer
update_rule_job (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  RuleRow *row = data;
  sqlite3_stmt *stmt;

  /* The domain is rewritten too: the match is case-insensitive, and the column should say
   * what the rule now says. A rule without a create time keeps the stored one. */
  stmt = lt_catalog_stmt (db,
                          "UPDATE rules SET domain = ?1, params = ?4, update_time = ?5,"
                          " create_time = CASE WHEN ?6 > 0 THEN ?6 ELSE create_time END"
                          " WHERE domain = ?1 AND app = ?2 AND stream = ?3",
                          error);
  if (stmt == NULL ||
      !bind_triplet (stmt, row, error) ||
      !lt_catalog_bind_text (stmt, 4, row->params, error) ||
      !lt_catalog_bind_int64 (stmt, 5, row->update_time, error) ||
      !lt_catalog_bind_int64 (stmt, 6, row->create_time, error) ||
      !lt_catalog_step_done (stmt, error) ||
      !rule_changed (db, row, error))
    return NULL;

  return SUCCESS;
}

void
lt_catalog_update_rule_async (LtCatalog           *self,
                              LtRule              *rule,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (LT_IS_CATALOG (self));
  g_return_if_fail (LT_IS_RULE (rule));

  _lt_catalog_queue (self, update_rule_job, rule_row_new_from_rule (rule), rule_row_free, NULL,
                     FALSE, cancellable, callback, user_data, lt_catalog_update_rule_async);
}

gboolean
lt_catalog_update_rule_finish (LtCatalog     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return propagate_success (self, result, lt_catalog_update_rule_async, error);
}

static gpointer
delete_rule_job (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  RuleRow *row = data;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, "DELETE FROM rules WHERE domain = ?1 AND app = ?2 AND stream = ?3",
                          error);
  if (stmt == NULL ||
      !bind_triplet (stmt, row, error) ||
      !lt_catalog_step_done (stmt, error) ||
      !rule_changed (db, row, error))
    return NULL;

  return SUCCESS;
}

void
lt_catalog_delete_rule_async (LtCatalog           *self,
                              const char          *domain,
                              const char          *app,
                              const char          *stream,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (LT_IS_CATALOG (self));
  g_return_if_fail (domain != NULL);
  g_return_if_fail (app != NULL);

  /* Durable: a deleted rule that came back after a power loss would record again. */
  _lt_catalog_queue (self, delete_rule_job, rule_row_new (domain, app, stream), rule_row_free,
                     NULL, TRUE, cancellable, callback, user_data, lt_catalog_delete_rule_async);
}

gboolean
lt_catalog_delete_rule_finish (LtCatalog     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return propagate_success (self, result, lt_catalog_delete_rule_async, error);
}

static gpointer
list_rules_job (sqlite3  *db,
                gpointer  data,
                GError  **error)
{
  g_autoptr(GPtrArray) rules = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "SELECT domain, app, stream, create_time, params FROM rules"
                          " ORDER BY domain, app, stream",
                          error);
  if (stmt == NULL)
    return NULL;

  while (lt_catalog_next_row (stmt, &local_error))
    {
      const char *params = (const char *) sqlite3_column_text (stmt, 4);
      g_autoptr(JsonNode) node = NULL;
      g_autoptr(LtRule) rule = NULL;
      g_autoptr(GError) rule_error = NULL;

      node = json_from_string (params, &rule_error);
      if (node != NULL)
        rule = lt_rule_new_from_json (node, &rule_error);
      if (rule == NULL)
        {
          /* Refuse the whole list rather than drop a rule silently: the operator has to
           * see it. */
          g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_FAILED,
                       _("The stored rule for %s/%s/%s cannot be read: %s"),
                       (const char *) sqlite3_column_text (stmt, 0),
                       (const char *) sqlite3_column_text (stmt, 1),
                       (const char *) sqlite3_column_text (stmt, 2),
                       rule_error != NULL ? rule_error->message : _("no JSON"));
          sqlite3_reset (stmt);
          return NULL;
        }

      if (lt_rule_get_create_time (rule) == 0)
        lt_rule_set_create_time (rule, sqlite3_column_int64 (stmt, 3));
      g_ptr_array_add (rules, g_steal_pointer (&rule));
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return g_steal_pointer (&rules);
}

void
lt_catalog_list_rules_async (LtCatalog           *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (LT_IS_CATALOG (self));

  _lt_catalog_queue (self, list_rules_job, NULL, NULL, (GDestroyNotify) g_ptr_array_unref,
                     FALSE, cancellable, callback, user_data, lt_catalog_list_rules_async);
}

GPtrArray *
lt_catalog_list_rules_finish (LtCatalog     *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return propagate_pointer (self, result, lt_catalog_list_rules_async, error);
}

/* ---- API keys ---- */

void
lt_api_key_info_free (LtApiKeyInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->access_key_id);
  g_free (info->description);
  g_free (info);
}

typedef struct
{
  char     *access_key_id;
  char     *description;
  gint64    create_time;
  gboolean  enabled;
} ApiKeyRow;

static void
api_key_row_free (gpointer data)
{
  ApiKeyRow *row = data;

  g_free (row->access_key_id);
  g_free (row->description);
  g_free (row);
}

static ApiKeyRow *
api_key_row_new (const char *access_key_id,
                 const char *description)
{
  ApiKeyRow *row = g_new0 (ApiKeyRow, 1);

  row->access_key_id = g_strdup (access_key_id);
  row->description = g_strdup (description != NULL ? description : "");
  row->create_time = now_seconds ();
  return row;
}

/* NOT_FOUND unless the statement just run changed the key of @row. */
static gboolean
api_key_changed (sqlite3    *db,
                 ApiKeyRow  *row,
                 GError    **error)
{
  if (sqlite3_changes (db) > 0)
    return TRUE;

  g_set_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_NOT_FOUND,
               _("There is no access key %s."), row->access_key_id);
  return FALSE;
}

static gpointer
insert_api_key_job (sqlite3  *db,
                    gpointer  data,
                    GError  **error)
{
  ApiKeyRow *row = data;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "INSERT INTO api_keys (access_key_id, description, create_time, enabled)"
                          " VALUES (?1, ?2, ?3, 1)",
                          error);
  if (stmt == NULL ||
      !lt_catalog_bind_text (stmt, 1, row->access_key_id, error) ||
      !lt_catalog_bind_text (stmt, 2, row->description, error) ||
      !lt_catalog_bind_int64 (stmt, 3, row->create_time, error) ||
      !lt_catalog_step_done (stmt, error))
    {
      if (error != NULL && g_error_matches (*error, LT_CATALOG_ERROR,
                                            LT_CATALOG_ERROR_CONSTRAINT))
        g_prefix_error (error, _("The access key %s exists already: "), row->access_key_id);
      return NULL;
    }

  return SUCCESS;
}

void
lt_catalog_insert_api_key_async (LtCatalog           *self,
                                 const char          *access_key_id,
                                 const char          *description,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (LT_IS_CATALOG (self));
  g_return_if_fail (access_key_id != NULL && *access_key_id != '\0');

  _lt_catalog_queue (self, insert_api_key_job, api_key_row_new (access_key_id, description),
                     api_key_row_free, NULL, FALSE, cancellable, callback, user_data,
                     lt_catalog_insert_api_key_async);
}

gboolean
lt_catalog_insert_api_key_finish (LtCatalog     *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return propagate_success (self, result, lt_catalog_insert_api_key_async, error);
}

static gpointer
delete_api_key_job (sqlite3  *db,
                    gpointer  data,
                    GError  **error)
{
  ApiKeyRow *row = data;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, "DELETE FROM api_keys WHERE access_key_id = ?1", error);
  if (stmt == NULL ||
      !lt_catalog_bind_text (stmt, 1, row->access_key_id, error) ||
      !lt_catalog_step_done (stmt, error) ||
      !api_key_changed (db, row, error))
    return NULL;

  return SUCCESS;
}

void
lt_catalog_delete_api_key_async (LtCatalog           *self,
                                 const char          *access_key_id,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (LT_IS_CATALOG (self));
  g_return_if_fail (access_key_id != NULL);

  /* Durable: a revoked key must not come back after a power loss. */
  _lt_catalog_queue (self, delete_api_key_job, api_key_row_new (access_key_id, NULL),
                     api_key_row_free, NULL, TRUE, cancellable, callback, user_data,
                     lt_catalog_delete_api_key_async);
}

gboolean
lt_catalog_delete_api_key_finish (LtCatalog     *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return propagate_success (self, result, lt_catalog_delete_api_key_async, error);
}

static gpointer
set_api_key_enabled_job (sqlite3  *db,
                         gpointer  data,
                         GError  **error)
{
  ApiKeyRow *row = data;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, "UPDATE api_keys SET enabled = ?2 WHERE access_key_id = ?1", error);
  if (stmt == NULL ||
      !lt_catalog_bind_text (stmt, 1, row->access_key_id, error) ||
      !lt_catalog_bind_int64 (stmt, 2, row->enabled ? 1 : 0, error) ||
      !lt_catalog_step_done (stmt, error) ||
      !api_key_changed (db, row, error))
    return NULL;

  return SUCCESS;
}

void
lt_catalog_set_api_key_enabled_async (LtCatalog           *self,
                                      const char          *access_key_id,
                                      gboolean             enabled,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  ApiKeyRow *row;

  g_return_if_fail (LT_IS_CATALOG (self));
  g_return_if_fail (access_key_id != NULL);

  row = api_key_row_new (access_key_id, NULL);
  row->enabled = !!enabled;
  _lt_catalog_queue (self, set_api_key_enabled_job, row, api_key_row_free, NULL, !enabled,
                     cancellable, callback, user_data, lt_catalog_set_api_key_enabled_async);
}

gboolean
lt_catalog_set_api_key_enabled_finish (LtCatalog     *self,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  return propagate_success (self, result, lt_catalog_set_api_key_enabled_async, error);
}

static gpointer
list_api_keys_job (sqlite3  *db,
                   gpointer  data,
                   GError  **error)
{
  g_autoptr(GPtrArray) keys = NULL;
  g_autoptr(GError) local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "SELECT access_key_id, description, create_time, enabled FROM api_keys"
                          " ORDER BY create_time, access_key_id",
                          error);
  if (stmt == NULL)
    return NULL;

  keys = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_api_key_info_free);
  while (lt_catalog_next_row (stmt, &local_error))
    {
      LtApiKeyInfo *info = g_new0 (LtApiKeyInfo, 1);

      info->access_key_id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      info->description = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      info->create_time = sqlite3_column_int64 (stmt, 2);
      info->enabled = sqlite3_column_int (stmt, 3) != 0;
      g_ptr_array_add (keys, info);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return g_steal_pointer (&keys);
}

void
lt_catalog_list_api_keys_async (LtCatalog           *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (LT_IS_CATALOG (self));

  _lt_catalog_queue (self, list_api_keys_job, NULL, NULL, (GDestroyNotify) g_ptr_array_unref,
                     FALSE, cancellable, callback, user_data, lt_catalog_list_api_keys_async);
}

GPtrArray *
lt_catalog_list_api_keys_finish (LtCatalog     *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return propagate_pointer (self, result, lt_catalog_list_api_keys_async, error);
}

/* ---- events ---- */

void
lt_catalog_event_free (LtCatalogEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->kind);
  g_free (event->subject);
  g_free (event->message);
  g_free (event);
}

static void
event_row_free (gpointer data)
{
  lt_catalog_event_free (data);
}

static gpointer
add_event_job (sqlite3  *db,
               gpointer  data,
               GError  **error)
{
  LtCatalogEvent *event = data;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "INSERT INTO events (time_us, kind, subject, message)"
                          " VALUES (?1, ?2, ?3, ?4)",
                          error);
  if (stmt == NULL ||
      !lt_catalog_bind_int64 (stmt, 1, event->time_us, error) ||
      !lt_catalog_bind_text (stmt, 2, event->kind, error) ||
      !lt_catalog_bind_text (stmt, 3, event->subject, error) ||
      !lt_catalog_bind_text (stmt, 4, event->message, error) ||
      !lt_catalog_step_done (stmt, error))
    return NULL;

  return SUCCESS;
}

void
lt_catalog_add_event_async (LtCatalog           *self,
                            const char          *kind,
                            const char          *subject,
                            const char          *message,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  LtCatalogEvent *event;

  g_return_if_fail (LT_IS_CATALOG (self));
  g_return_if_fail (kind != NULL);

  event = g_new0 (LtCatalogEvent, 1);
  /* The time of the event, not of the write. */
  event->time_us = g_get_real_time ();
  event->kind = g_strdup (kind);
  event->subject = g_strdup (subject != NULL ? subject : "");
  event->message = g_strdup (message != NULL ? message : "");
  _lt_catalog_queue (self, add_event_job, event, event_row_free, NULL, FALSE,
                     cancellable, callback, user_data, lt_catalog_add_event_async);
}

gboolean
lt_catalog_add_event_finish (LtCatalog     *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return propagate_success (self, result, lt_catalog_add_event_async, error);
}

typedef struct
{
  gint64 before_id;
  guint  limit;
} EventQuery;

static gpointer
list_events_job (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  EventQuery *query = data;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) local_error = NULL;
  sqlite3_stmt *stmt;

  /* Two texts rather than one with "?1 <= 0 OR id < ?1", which would hide the rowid range
   * from the planner. */
  if (query->before_id > 0)
    stmt = lt_catalog_stmt (db,
                            "SELECT id, time_us, kind, subject, message FROM events"
                            " WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
                            error);
  else
    stmt = lt_catalog_stmt (db,
                            "SELECT id, time_us, kind, subject, message FROM events"
                            " ORDER BY id DESC LIMIT ?2",
                            error);
  if (stmt == NULL ||
      (query->before_id > 0 && !lt_catalog_bind_int64 (stmt, 1, query->before_id, error)) ||
      !lt_catalog_bind_int64 (stmt, 2, query->limit, error))
    return NULL;

  events = g_ptr_array_new_with_free_func (event_row_free);
  while (lt_catalog_next_row (stmt, &local_error))
    {
      LtCatalogEvent *event = g_new0 (LtCatalogEvent, 1);

      event->id = sqlite3_column_int64 (stmt, 0);
      event->time_us = sqlite3_column_int64 (stmt, 1);
      event->kind = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      event->subject = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      event->message = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      g_ptr_array_add (events, event);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return g_steal_pointer (&events);
}

void
lt_catalog_list_events_async (LtCatalog           *self,
                              gint64               before_id,
                              guint                limit,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  EventQuery *query;

  g_return_if_fail (LT_IS_CATALOG (self));

  query = g_new0 (EventQuery, 1);
  query->before_id = before_id;
  query->limit = limit;
  _lt_catalog_queue (self, list_events_job, query, g_free, (GDestroyNotify) g_ptr_array_unref,
                     FALSE, cancellable, callback, user_data, lt_catalog_list_events_async);
}

GPtrArray *
lt_catalog_list_events_finish (LtCatalog     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return propagate_pointer (self, result, lt_catalog_list_events_async, error);
}
