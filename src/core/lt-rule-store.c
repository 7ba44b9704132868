/* lt-rule-store.c: the live set of recording rules, a GListModel of LtRule kept sorted by
 * (domain, app, stream) and backed by the catalog.
 *
 * Every load, add, replace and remove is queued and runs alone: the in-memory list is
 * checked (already exists / not found), the catalog is written, and only then the list
 * changes and items-changed is emitted, before the caller's callback runs. So two adds of
 * one triplet can never both succeed, and what a finished call reports is what the model
 * shows. Call lt_rule_store_load_async() once before changing rules.
 *
 * A catalog write that has started is never abandoned: cancelling an operation only
 * takes effect while it waits in the queue, so the model never disagrees with the disk.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lt-op-queue.h"
#include "lt-rule-store.h"

struct _LtRuleStore
{
  GObject    parent_instance;

  LtCatalog *catalog;
  GPtrArray *rules;    /* LtRule, sorted by triplet */
  LtOpQueue  ops;      /* the operations, one at a time */

  LtRuleStoreBucketCheck bucket_check;
  /* Or, instead (storage targets): the asynchronous check on the main context. */
  LtRuleStoreBucketCheckAsync  bucket_check_async;
  LtRuleStoreBucketCheckFinish bucket_check_finish;
  gpointer               bucket_check_data;
  GDestroyNotify         bucket_check_data_free;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LtRuleStore, lt_rule_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_CATALOG,
  PROP_N_ITEMS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef enum
{
  OP_LOAD,
  OP_ADD,
  OP_REPLACE,
  OP_REMOVE,
} OpKind;

typedef struct
{
  OpKind  kind;
  LtRule *rule;    /* add, replace: the rule written to the catalog */
  char   *domain;  /* remove */
  char   *app;
  char   *stream;
} Op;

static void
op_free (gpointer data)
{
  Op *op = data;

  g_clear_object (&op->rule);
  g_free (op->domain);
  g_free (op->app);
  g_free (op->stream);
  g_free (op);
}

static Op *
op_new (OpKind  kind,
        LtRule *rule)
{
  Op *op = g_new0 (Op, 1);

  op->kind = kind;
  if (rule != NULL)
    op->rule = g_object_ref (rule);
  return op;
}

static void start_running (LtRuleStore *self);

/* ---- sorted list ---------------------------------------------------------------- */

static int
compare_triplet (const char *domain_a,
                 const char *app_a,
                 const char *stream_a,
                 LtRule     *b)
{
  int cmp;

  if ((cmp = strcmp (domain_a, lt_rule_get_domain_name (b))) != 0)
    return cmp;
  if ((cmp = strcmp (app_a, lt_rule_get_app_name (b))) != 0)
    return cmp;
  return strcmp (stream_a, lt_rule_get_stream_name (b));
}

static int
compare_rules (gconstpointer a,
               gconstpointer b)
{
  LtRule *ra = *(LtRule * const *) a;

  return compare_triplet (lt_rule_get_domain_name (ra), lt_rule_get_app_name (ra),
                          lt_rule_get_stream_name (ra), *(LtRule * const *) b);
}

/* Binary search: TRUE and the index when found, else FALSE and where it would go. */
static gboolean
find_triplet (LtRuleStore *self,
              const char  *domain,
              const char  *app,
              const char  *stream,
              guint       *position)
{
  guint lo = 0;
  guint hi = self->rules->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      int cmp = compare_triplet (domain, app, stream, g_ptr_array_index (self->rules, mid));

      if (cmp == 0)
        {
          *position = mid;
          return TRUE;
        }
      if (cmp < 0)
        hi = mid;
      else
        lo = mid + 1;
    }

  *position = lo;
  return FALSE;
}

static gboolean
find_rule (LtRuleStore *self,
           LtRule      *rule,
           guint       *position)
{
  return find_triplet (self, lt_rule_get_domain_name (rule), lt_rule_get_app_name (rule),
                       lt_rule_get_stream_name (rule), position);
}

/* Rules store domains in lower case without a trailing dot and "*" for no stream. */
static char *
normalize_domain (const char *domain)
{
  gsize len = strlen (domain);

  if (len > 0 && domain[len - 1] == '.')
    len--;
  return g_ascii_strdown (domain, len);
}

static const char *
normalize_stream (const char *stream)
{
  return stream == NULL || *stream == '\0' ? "*" : stream;
}

static void
emit_items_changed (LtRuleStore *self,
                    guint        position,
                    guint        removed,
                    guint        added)
{
  if (removed == 0 && added == 0)
    return;
  g_list_model_items_changed (G_LIST_MODEL (self), position, removed, added);
  if (removed != added)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
}

/* ---- GListModel ----------------------------------------------------------------- */

static GType
lt_rule_store_get_item_type (GListModel *model)
{
  return LT_TYPE_RULE;
}

static guint
lt_rule_store_get_n_items (GListModel *model)
{
  return LT_RULE_STORE (model)->rules->len;
}

static gpointer
lt_rule_store_get_item (GListModel *model,
                        guint       position)
{
  LtRuleStore *self = LT_RULE_STORE (model);

  if (position >= self->rules->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->rules, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = lt_rule_store_get_item_type;
  iface->get_n_items = lt_rule_store_get_n_items;
  iface->get_item = lt_rule_store_get_item;
}

/* ---- GObject ------------------------------------------------------------------ */

static void
lt_rule_store_finalize (GObject *object)
{
  LtRuleStore *self = LT_RULE_STORE (object);

  /* Every queued or running task holds a reference on us. */
  g_assert (self->ops.running == NULL);
  g_assert (g_queue_is_empty (&self->ops.pending));

  if (self->bucket_check_data_free != NULL)
    g_clear_pointer (&self->bucket_check_data, self->bucket_check_data_free);

  g_clear_pointer (&self->rules, g_ptr_array_unref);
  g_clear_object (&self->catalog);

  G_OBJECT_CLASS (lt_rule_store_parent_class)->finalize (object);
}

static void
lt_rule_store_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  LtRuleStore *self = LT_RULE_STORE (object);

  switch (prop_id)
    {
    case PROP_CATALOG:
      g_value_set_object (value, self->catalog);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->rules->len);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_rule_store_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  LtRuleStore *self = LT_RULE_STORE (object);

  switch (prop_id)
    {
    case PROP_CATALOG:
      self->catalog = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_rule_store_class_init (LtRuleStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lt_rule_store_finalize;
  object_class->get_property = lt_rule_store_get_property;
  object_class->set_property = lt_rule_store_set_property;

  properties[PROP_CATALOG] =
    g_param_spec_object ("catalog", NULL, NULL, LT_TYPE_CATALOG,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lt_rule_store_init (LtRuleStore *self)
{
  self->rules = g_ptr_array_new_with_free_func (g_object_unref);
  g_queue_init (&self->ops.pending);
}

LtRuleStore *
lt_rule_store_new (LtCatalog *catalog)
{
  g_return_val_if_fail (LT_IS_CATALOG (catalog), NULL);

  return g_object_new (LT_TYPE_RULE_STORE, "catalog", catalog, NULL);
}

/* ---- the queue ------------------------------------------------------------------ */

static void
set_not_found (GError     **error,
               const char  *domain,
               const char  *app,
               const char  *stream)
{
  g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_CONFIG_NOT_FOUND,
               /* Translators: domain, app and stream names */
               _("There is no rule for domain %s, app “%s”, stream “%s”"), domain, app, stream);
}

static void
set_already_exists (GError **error,
                    LtRule  *rule)
{
  g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_CONFIG_ALREADY_EXISTS,
               /* Translators: domain, app and stream names */
               _("A rule for domain %s, app “%s”, stream “%s” already exists"),
               lt_rule_get_domain_name (rule), lt_rule_get_app_name (rule),
               lt_rule_get_stream_name (rule));
}

/* Ends the running operation (its result already returned) and starts the next one. */
static void
finish_running (LtRuleStore *self)
{
  _lt_op_queue_next (&self->ops, (LtOpQueueStartFunc) start_running, self);
}

static void
return_error (LtRuleStore *self,
              GTask       *task,
              GError      *error)
{
  g_task_return_error (task, error);
  finish_running (self);
}

static void
return_boolean (LtRuleStore *self,
                GTask       *task)
{
  g_task_return_boolean (task, TRUE);
  finish_running (self);
}

static void
list_rules_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(LtRuleStore) self = user_data;  /* the reference taken in start_running() */
  GTask *task = self->ops.running;
  g_autoptr(GPtrArray) loaded = NULL;
  g_autoptr(GPtrArray) old = NULL;
  GError *error = NULL;

  loaded = lt_catalog_list_rules_finish (LT_CATALOG (source), result, &error);
  if (loaded == NULL)
    {
      g_prefix_error (&error, _("Could not load the rules: "));
      return_error (self, task, error);
      return;
    }

  old = g_steal_pointer (&self->rules);
  self->rules = g_ptr_array_new_full (loaded->len, g_object_unref);
  for (guint i = 0; i < loaded->len; i++)
    g_ptr_array_add (self->rules, g_object_ref (g_ptr_array_index (loaded, i)));
  g_ptr_array_sort (self->rules, compare_rules);

  emit_items_changed (self, 0, old->len, self->rules->len);
  return_boolean (self, task);
}

static void
insert_rule_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LtRuleStore) self = user_data;  /* the reference taken in start_running() */
  GTask *task = self->ops.running;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;
  guint position;

  if (!lt_catalog_insert_rule_finish (LT_CATALOG (source), result, &error))
    {
      if (g_error_matches (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CONSTRAINT))
        {
          /* The catalog knows the triplet though we do not: the store was not loaded. */
          g_clear_error (&error);
          set_already_exists (&error, op->rule);
        }
      else
        g_prefix_error (&error, _("Could not save the rule: "));
      return_error (self, task, error);
      return;
    }

  if (find_rule (self, op->rule, &position))
    g_assert_not_reached ();
  g_ptr_array_insert (self->rules, position, g_object_ref (op->rule));
  emit_items_changed (self, position, 0, 1);
  return_boolean (self, task);
}

static void
update_rule_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LtRuleStore) self = user_data;  /* the reference taken in start_running() */
  GTask *task = self->ops.running;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;
  guint position;

  if (!lt_catalog_update_rule_finish (LT_CATALOG (source), result, &error))
    {
      if (g_error_matches (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_NOT_FOUND))
        {
          g_clear_error (&error);
          set_not_found (&error, lt_rule_get_domain_name (op->rule),
                         lt_rule_get_app_name (op->rule), lt_rule_get_stream_name (op->rule));
        }
      else
        g_prefix_error (&error, _("Could not save the rule: "));
      return_error (self, task, error);
      return;
    }

  if (!find_rule (self, op->rule, &position))
    g_assert_not_reached ();
  g_object_unref (g_ptr_array_index (self->rules, position));
  g_ptr_array_index (self->rules, position) = g_object_ref (op->rule);
  emit_items_changed (self, position, 1, 1);
  return_boolean (self, task);
}

static void
delete_rule_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LtRuleStore) self = user_data;  /* the reference taken in start_running() */
  GTask *task = self->ops.running;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;
  guint position;

  if (!lt_catalog_delete_rule_finish (LT_CATALOG (source), result, &error))
    {
      if (g_error_matches (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_NOT_FOUND))
        {
          g_clear_error (&error);
          set_not_found (&error, op->domain, op->app, op->stream);
        }
      else
        g_prefix_error (&error, _("Could not delete the rule: "));
      return_error (self, task, error);
      return;
    }

  if (!find_triplet (self, op->domain, op->app, op->stream, &position))
    g_assert_not_reached ();
  g_ptr_array_remove_index (self->rules, position);
  emit_items_changed (self, position, 1, 0);
  return_boolean (self, task);
}

static void
write_rule (LtRuleStore *self,
            GTask       *task)
{
  Op *op = g_task_get_task_data (task);

  if (op->kind == OP_ADD)
    lt_catalog_insert_rule_async (self->catalog, op->rule, NULL, insert_rule_cb,
                                  g_object_ref (self));
  else
    lt_catalog_update_rule_async (self->catalog, op->rule, NULL, update_rule_cb,
                                  g_object_ref (self));
}

typedef struct
{
  LtRuleStoreBucketCheck check;
  gpointer               check_data;
  char                  *endpoint;
  char                  *bucket;
} BucketCheck;

static void
bucket_check_free (gpointer data)
{
  BucketCheck *check = data;

  g_free (check->endpoint);
  g_free (check->bucket);
  g_free (check);
}

static void
bucket_check_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  BucketCheck *check = task_data;
  GError *error = NULL;

  if (check->check (check->endpoint, check->bucket, check->check_data, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
bucket_check_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(LtRuleStore) self = user_data;
  GError *error = NULL;

  g_assert (self->ops.running != NULL);

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    return_error (self, self->ops.running, error);
  else
    write_rule (self, self->ops.running);
}

static void
bucket_check_async_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(LtRuleStore) self = user_data;
  GError *error = NULL;

  g_assert (self->ops.running != NULL);

  if (!self->bucket_check_finish (result, self->bucket_check_data, &error))
    return_error (self, self->ops.running, error);
  else
    write_rule (self, self->ops.running);
}

/* The bucket check does file (later network) I/O, so it runs on a worker thread; the
 * operation stays "running" meanwhile, so nothing else changes the list. */
static void
write_after_bucket_check (LtRuleStore *self,
                          GTask       *task)
{
  Op *op = g_task_get_task_data (task);
  g_autoptr(GTask) check_task = NULL;
  BucketCheck *check;

  if (self->bucket_check_async != NULL)
    {
      /* Not cancellable, like the writes: the operation has started. */
      self->bucket_check_async (lt_rule_get_oss_endpoint (op->rule),
                                lt_rule_get_oss_bucket (op->rule), self->bucket_check_data,
                                bucket_check_async_cb, g_object_ref (self));
      return;
    }

  if (self->bucket_check == NULL)
    {
      write_rule (self, task);
      return;
    }

  check = g_new0 (BucketCheck, 1);
  check->check = self->bucket_check;
  check->check_data = self->bucket_check_data;
  check->endpoint = g_strdup (lt_rule_get_oss_endpoint (op->rule));
  check->bucket = g_strdup (lt_rule_get_oss_bucket (op->rule));

  /* No source object: the thread pool drops its reference on the task after the callback
   * ran, and the store must not live on in a worker thread. */
  check_task = g_task_new (NULL, NULL, bucket_check_cb, g_object_ref (self));
  g_task_set_source_tag (check_task, write_after_bucket_check);
  g_task_set_task_data (check_task, check, bucket_check_free);
  g_task_run_in_thread (check_task, bucket_check_thread);
}

/* Starts self->ops.running. Checks against the in-memory list are exact here because
 * nothing else changes the list while an operation runs. */
static void
start_running (LtRuleStore *self)
{
  GTask *task = self->ops.running;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;
  guint position;

  switch (op->kind)
    {
    case OP_LOAD:
      lt_catalog_list_rules_async (self->catalog, NULL, list_rules_cb, g_object_ref (self));
      break;

    case OP_ADD:
      if (find_rule (self, op->rule, &position))
        {
          set_already_exists (&error, op->rule);
          return_error (self, task, error);
          return;
        }
      write_after_bucket_check (self, task);
      break;

    case OP_REPLACE:
      if (!find_rule (self, op->rule, &position))
        {
          set_not_found (&error, lt_rule_get_domain_name (op->rule),
                         lt_rule_get_app_name (op->rule), lt_rule_get_stream_name (op->rule));
          return_error (self, task, error);
          return;
        }
      else
        {
          LtRule *old = g_ptr_array_index (self->rules, position);
          gint64 create_time = lt_rule_get_create_time (old);

          /* Keep the original create time, without changing the caller's rule. */
          if (lt_rule_get_create_time (op->rule) != create_time)
            {
              g_autoptr(JsonNode) json = lt_rule_to_json (op->rule);
              g_autoptr(LtRule) copy = lt_rule_new_from_json (json, &error);

              if (copy == NULL)
                {
                  return_error (self, task, error);
                  return;
                }
              lt_rule_set_create_time (copy, create_time);
              g_set_object (&op->rule, copy);
            }
        }
      write_after_bucket_check (self, task);
      break;

    case OP_REMOVE:
      if (!find_triplet (self, op->domain, op->app, op->stream, &position))
        {
          set_not_found (&error, op->domain, op->app, op->stream);
          return_error (self, task, error);
          return;
        }
      lt_catalog_delete_rule_async (self->catalog, op->domain, op->app, op->stream, NULL,
                                    delete_rule_cb, g_object_ref (self));
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
enqueue (LtRuleStore         *self,
         Op                  *op,
         gpointer             source_tag,
         GCancellable        *cancellable,
         GAsyncReadyCallback  callback,
         gpointer             user_data)
{
  GTask *task = _lt_op_queue_task_new (self, op, op_free, source_tag, cancellable, callback,
                                       user_data);

  _lt_op_queue_push (&self->ops, task, (LtOpQueueStartFunc) start_running, self);
}

/* ---- public API ------------------------------------------------------------------ */

void
lt_rule_store_load_async (LtRuleStore         *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_return_if_fail (LT_IS_RULE_STORE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  enqueue (self, op_new (OP_LOAD, NULL), lt_rule_store_load_async,
           cancellable, callback, user_data);
}

static gboolean
finish (LtRuleStore   *self,
        GAsyncResult  *result,
        gpointer       source_tag,
        GError       **error)
{
  g_return_val_if_fail (LT_IS_RULE_STORE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
lt_rule_store_load_finish (LtRuleStore   *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  return finish (self, result, lt_rule_store_load_async, error);
}

void
lt_rule_store_set_bucket_check (LtRuleStore            *self,
                                LtRuleStoreBucketCheck  check,
                                gpointer                user_data,
                                GDestroyNotify          user_data_free)
{
  g_return_if_fail (LT_IS_RULE_STORE (self));

  if (self->bucket_check_data_free != NULL)
    g_clear_pointer (&self->bucket_check_data, self->bucket_check_data_free);
  self->bucket_check_async = NULL;
  self->bucket_check_finish = NULL;
  self->bucket_check = check;
  self->bucket_check_data = user_data;
  self->bucket_check_data_free = user_data_free;
}

void
lt_rule_store_set_bucket_check_async (LtRuleStore                  *self,
                                      LtRuleStoreBucketCheckAsync   check,
                                      LtRuleStoreBucketCheckFinish  finish,
                                      gpointer                      user_data,
                                      GDestroyNotify                user_data_free)
{
  g_return_if_fail (LT_IS_RULE_STORE (self));
  g_return_if_fail ((check == NULL) == (finish == NULL));

  if (self->bucket_check_data_free != NULL)
    g_clear_pointer (&self->bucket_check_data, self->bucket_check_data_free);
  self->bucket_check = NULL;
  self->bucket_check_async = check;
  self->bucket_check_finish = finish;
  self->bucket_check_data = user_data;
  self->bucket_check_data_free = user_data_free;
}

void
lt_rule_store_add_async (LtRuleStore         *self,
                         LtRule              *rule,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_return_if_fail (LT_IS_RULE_STORE (self));
  g_return_if_fail (LT_IS_RULE (rule));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  enqueue (self, op_new (OP_ADD, rule), lt_rule_store_add_async,
           cancellable, callback, user_data);
}

gboolean
lt_rule_store_add_finish (LtRuleStore   *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  return finish (self, result, lt_rule_store_add_async, error);
}

void
lt_rule_store_replace_async (LtRuleStore         *self,
                             LtRule              *rule,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (LT_IS_RULE_STORE (self));
  g_return_if_fail (LT_IS_RULE (rule));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  enqueue (self, op_new (OP_REPLACE, rule), lt_rule_store_replace_async,
           cancellable, callback, user_data);
}

gboolean
lt_rule_store_replace_finish (LtRuleStore   *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return finish (self, result, lt_rule_store_replace_async, error);
}

void
lt_rule_store_remove_async (LtRuleStore         *self,
                            const char          *domain,
                            const char          *app,
                            const char          *stream,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  Op *op;

  g_return_if_fail (LT_IS_RULE_STORE (self));
  g_return_if_fail (domain != NULL);
  g_return_if_fail (app != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = op_new (OP_REMOVE, NULL);
  op->domain = normalize_domain (domain);
  op->app = g_strdup (app);
  op->stream = g_strdup (normalize_stream (stream));
  enqueue (self, op, lt_rule_store_remove_async, cancellable, callback, user_data);
}

gboolean
lt_rule_store_remove_finish (LtRuleStore   *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return finish (self, result, lt_rule_store_remove_async, error);
}

LtRule *
lt_rule_store_lookup (LtRuleStore *self,
                      const char  *domain,
                      const char  *app,
                      const char  *stream)
{
  g_autofree char *norm_domain = NULL;
  guint position;

  g_return_val_if_fail (LT_IS_RULE_STORE (self), NULL);
  g_return_val_if_fail (domain != NULL, NULL);
  g_return_val_if_fail (app != NULL, NULL);

  norm_domain = normalize_domain (domain);
  if (!find_triplet (self, norm_domain, app, normalize_stream (stream), &position))
    return NULL;
  return g_ptr_array_index (self->rules, position);
}

LtRule *
lt_rule_store_match (LtRuleStore      *self,
                     const char       *domain,
                     const char       *app,
                     const char       *stream,
                     LtRuleMatchLevel *level)
{
  g_return_val_if_fail (LT_IS_RULE_STORE (self), NULL);

  return lt_rule_match (G_LIST_MODEL (self), domain, app, stream, level);
}
