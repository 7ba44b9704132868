/* lt-notify-store.c: the callback settings per domain (SPEC section 4) and each domain's
 * signing key — a GListModel of LtNotifyConfigObject, sorted by domain, backed by the
 * catalog's notify_configs table and the keyring.
 *
 * Like the rule store, every load, add, update and remove is queued and runs alone: the
 * in-memory list is checked (already exists / not found), the keyring and the catalog are
 * written, and only then does the list change (items-changed, then "changed") before the
 * caller's callback runs. A write that has started is never abandoned: cancelling only
 * takes effect while an operation waits in the queue.
 *
 * The signing keys (32 random bytes, hex) live only in memory and in the keyring. On add
 * the key is stored first and the row written second, so a row never exists without its
 * key; if the row cannot be written the key is cleared again.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <glib/gi18n-lib.h>

#include "lt-notify-store.h"
#include "lt-op-queue.h"
#include "lt-outbound.h"

#define SUCCESS GINT_TO_POINTER (TRUE)
#define SIGNING_KEY_BYTES 32

G_DEFINE_QUARK (lt-notify-error-quark, lt_notify_error)

static const struct
{
  const char *code;
  guint       status;
} notify_errors[] = {
  [LT_NOTIFY_ERROR_FAILED] = { "InternalError", 500 },
  [LT_NOTIFY_ERROR_MISSING_PARAMETER] = { "MissingParameter", 400 },
  [LT_NOTIFY_ERROR_INVALID_DOMAIN] = { "InvalidDomainName.Malformed", 400 },
  [LT_NOTIFY_ERROR_INVALID_NOTIFY_URL] = { "InvalidNotifyUrl.Malformed", 400 },
  [LT_NOTIFY_ERROR_INVALID_ON_DEMAND_URL] = { "InvalidOnDemandUrl.Malformed", 400 },
  [LT_NOTIFY_ERROR_CONFIG_ALREADY_EXISTS] = { "ConfigAlreadyExists", 400 },
  [LT_NOTIFY_ERROR_CONFIG_NOT_FOUND] = { "InvalidConfig.NotFound", 404 },
  [LT_NOTIFY_ERROR_KEYRING] = { "InternalError", 500 },
};

const char *
lt_notify_error_code_name (LtNotifyError code)
{
  if ((guint) code >= G_N_ELEMENTS (notify_errors))
    code = LT_NOTIFY_ERROR_FAILED;
  return notify_errors[code].code;
}

guint
lt_notify_error_http_status (LtNotifyError code)
{
  if ((guint) code >= G_N_ELEMENTS (notify_errors))
    code = LT_NOTIFY_ERROR_FAILED;
  return notify_errors[code].status;
}

/* ---- LtNotifyConfig --------------------------------------------------------------- */

G_DEFINE_BOXED_TYPE (LtNotifyConfig, lt_notify_config, lt_notify_config_copy,
                     lt_notify_config_free)

LtNotifyConfig *
lt_notify_config_copy (const LtNotifyConfig *config)
{
  LtNotifyConfig *copy;

  g_return_val_if_fail (config != NULL, NULL);

  copy = g_new0 (LtNotifyConfig, 1);
  copy->domain = g_strdup (config->domain);
  copy->notify_url = g_strdup (config->notify_url);
  copy->need_status_notify = !!config->need_status_notify;
  copy->on_demand_url = g_strdup (config->on_demand_url);
  copy->create_time = config->create_time;
  copy->update_time = config->update_time;
  return copy;
}

void
lt_notify_config_free (LtNotifyConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->domain);
  g_free (config->notify_url);
  g_free (config->on_demand_url);
  g_free (config);
}

static gboolean
is_empty (const char *s)
{
  return s == NULL || *s == '\0';
}

/* The same rule as a recording rule's DomainName (lt-rule.c, not exported): dot-separated
 * LDH labels of 1–63 bytes, ≤ 253 bytes in all, the last label not all digits. */
static gboolean
is_dns_label (const char *s,
              gsize       len)
{
  if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!(g_ascii_isalnum (s[i]) || s[i] == '-'))
      return FALSE;
  return TRUE;
}

static gboolean
is_host_name (const char *s)
{
  gsize len = strlen (s);
  gsize start = 0;

  if (len == 0 || len > 253)
    return FALSE;

  for (gsize i = 0; i <= len; i++)
    {
      if (i == len || s[i] == '.')
        {
          gboolean all_digits = TRUE;

          if (!is_dns_label (s + start, i - start))
            return FALSE;
          for (gsize j = start; j < i; j++)
            all_digits = all_digits && g_ascii_isdigit (s[j]);
          if (i == len && all_digits)
            return FALSE;
          start = i + 1;
        }
    }

  return TRUE;
}

static gboolean
check_url (const char     *name,
           const char     *url,
           LtNotifyError   code,
           GError        **error)
{
  g_autoptr(GError) local_error = NULL;

  if (is_empty (url) || lt_outbound_check_url (url, &local_error))
    return TRUE;

  g_set_error (error, LT_NOTIFY_ERROR, code,
               /* Translators: %s: the parameter (NotifyUrl, OnDemandUrl), then why */
               _("%s must be an http:// or https:// address: %s"), name, local_error->message);
  return FALSE;
}

gboolean
lt_notify_config_check (const LtNotifyConfig  *config,
                        GError               **error)
{
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (is_empty (config->domain))
    {
      g_set_error (error, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_MISSING_PARAMETER,
                   _("%s is required"), "DomainName");
      return FALSE;
    }
  if (!is_host_name (config->domain))
    {
      g_set_error (error, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_INVALID_DOMAIN,
                   _("%s must be a host name such as live.example.com"), "DomainName");
      return FALSE;
    }

  return check_url ("NotifyUrl", config->notify_url, LT_NOTIFY_ERROR_INVALID_NOTIFY_URL,
                    error) &&
         check_url ("OnDemandUrl", config->on_demand_url, LT_NOTIFY_ERROR_INVALID_ON_DEMAND_URL,
                    error);
}

/* The stored form: the domain in lower case, "" URLs as NULL. */
static LtNotifyConfig *
normalized_copy (const LtNotifyConfig *config)
{
  LtNotifyConfig *copy = lt_notify_config_copy (config);

  if (copy->domain != NULL)
    {
      char *lower = g_ascii_strdown (copy->domain, -1);

      g_free (copy->domain);
      copy->domain = lower;
    }
  if (is_empty (copy->notify_url))
    g_clear_pointer (&copy->notify_url, g_free);
  if (is_empty (copy->on_demand_url))
    g_clear_pointer (&copy->on_demand_url, g_free);
  return copy;
}

/* Lookups accept any case and a trailing dot. */
static char *
normalize_domain (const char *domain)
{
  gsize len = strlen (domain);

  if (len > 0 && domain[len - 1] == '.')
    len--;
  return g_ascii_strdown (domain, len);
}

/* ---- LtNotifyConfigObject --------------------------------------------------------- */

struct _LtNotifyConfigObject
{
  GObject         parent_instance;
  LtNotifyConfig *config;
};

G_DEFINE_FINAL_TYPE (LtNotifyConfigObject, lt_notify_config_object, G_TYPE_OBJECT)

static void
lt_notify_config_object_finalize (GObject *object)
{
  LtNotifyConfigObject *self = LT_NOTIFY_CONFIG_OBJECT (object);

  g_clear_pointer (&self->config, lt_notify_config_free);

  G_OBJECT_CLASS (lt_notify_config_object_parent_class)->finalize (object);
}

static void
lt_notify_config_object_class_init (LtNotifyConfigObjectClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = lt_notify_config_object_finalize;
}

static void
lt_notify_config_object_init (LtNotifyConfigObject *self)
{
}

/* Takes @config. */
static LtNotifyConfigObject *
config_object_new (LtNotifyConfig *config)
{
  LtNotifyConfigObject *self = g_object_new (LT_TYPE_NOTIFY_CONFIG_OBJECT, NULL);

  self->config = config;
  return self;
}

const LtNotifyConfig *
lt_notify_config_object_get_config (LtNotifyConfigObject *self)
{
  g_return_val_if_fail (LT_IS_NOTIFY_CONFIG_OBJECT (self), NULL);
  return self->config;
}

/* ---- the store -------------------------------------------------------------------- */

struct _LtNotifyStore
{
  GObject        parent_instance;

  LtCatalog     *catalog;
  LtSecretStore *secrets;
  GPtrArray     *items;    /* LtNotifyConfigObject, sorted by domain */
  GHashTable    *keys;     /* domain → signing key (wiped when freed) */
  LtOpQueue      ops;      /* the operations, one at a time */
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LtNotifyStore, lt_notify_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
free_secret (char *secret)
{
  if (secret != NULL)
    {
      explicit_bzero (secret, strlen (secret));
      g_free (secret);
    }
}

static GType
lt_notify_store_get_item_type (GListModel *model)
{
  return LT_TYPE_NOTIFY_CONFIG_OBJECT;
}

static guint
lt_notify_store_get_n_items (GListModel *model)
{
  return LT_NOTIFY_STORE (model)->items->len;
}

static gpointer
lt_notify_store_get_item (GListModel *model,
                          guint       position)
{
  LtNotifyStore *self = LT_NOTIFY_STORE (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = lt_notify_store_get_item_type;
  iface->get_n_items = lt_notify_store_get_n_items;
  iface->get_item = lt_notify_store_get_item;
}

static void
lt_notify_store_finalize (GObject *object)
{
  LtNotifyStore *self = LT_NOTIFY_STORE (object);

  /* Every queued or running task holds a reference on us. */
  g_assert (self->ops.running == NULL);
  g_assert (g_queue_is_empty (&self->ops.pending));

  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_clear_pointer (&self->keys, g_hash_table_unref);
  g_clear_object (&self->secrets);
  g_clear_object (&self->catalog);

  G_OBJECT_CLASS (lt_notify_store_parent_class)->finalize (object);
}

static void
lt_notify_store_class_init (LtNotifyStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lt_notify_store_finalize;

  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
lt_notify_store_init (LtNotifyStore *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) free_secret);
  g_queue_init (&self->ops.pending);
}

LtNotifyStore *
lt_notify_store_new (LtCatalog     *catalog,
                     LtSecretStore *secrets)
{
  LtNotifyStore *self;

  g_return_val_if_fail (LT_IS_CATALOG (catalog), NULL);
  g_return_val_if_fail (LT_IS_SECRET_STORE (secrets), NULL);

  self = g_object_new (LT_TYPE_NOTIFY_STORE, NULL);
  self->catalog = g_object_ref (catalog);
  self->secrets = g_object_ref (secrets);
  return self;
}

static const LtNotifyConfig *
item_config (LtNotifyStore *self,
             guint          position)
{
  return ((LtNotifyConfigObject *) g_ptr_array_index (self->items, position))->config;
}

/* Binary search over lower-case domains: TRUE and the index when found, else FALSE and
 * where it would go. */
static gboolean
find_domain (LtNotifyStore *self,
             const char    *domain,
             guint         *position)
{
  guint lo = 0;
  guint hi = self->items->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      int cmp = strcmp (domain, item_config (self, mid)->domain);

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

static void
emit_changed (LtNotifyStore *self,
              const char    *domain,
              guint          position,
              guint          removed,
              guint          added)
{
  g_list_model_items_changed (G_LIST_MODEL (self), position, removed, added);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, domain);
}

static void
set_not_found (GError     **error,
               const char  *domain)
{
  g_set_error (error, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_CONFIG_NOT_FOUND,
               _("There are no callback settings for %s."), domain);
}

/* ---- catalog jobs (worker thread) ------------------------------------------------- */

static gboolean
bind_config (sqlite3_stmt          *stmt,
             const LtNotifyConfig  *config,
             GError               **error)
{
  return lt_catalog_bind_text (stmt, 1, config->domain, error) &&
         lt_catalog_bind_text (stmt, 2, config->notify_url, error) &&
         lt_catalog_bind_int64 (stmt, 3, config->need_status_notify ? 1 : 0, error) &&
         lt_catalog_bind_text (stmt, 4, config->on_demand_url, error) &&
         lt_catalog_bind_int64 (stmt, 5, config->create_time, error) &&
         lt_catalog_bind_int64 (stmt, 6, config->update_time, error);
}

static gboolean
row_changed (sqlite3               *db,
             const LtNotifyConfig  *config,
             GError               **error)
{
  if (sqlite3_changes (db) > 0)
    return TRUE;

  /* Passed on to the caller as it is. */
  set_not_found (error, config->domain);
  return FALSE;
}

static gpointer
insert_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "INSERT INTO notify_configs (domain, notify_url, need_status_notify,"
                          " on_demand_url, create_time, update_time)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                          error);
  if (stmt == NULL || !bind_config (stmt, data, error) || !lt_catalog_step_done (stmt, error))
    return NULL;
  return SUCCESS;
}

static gpointer
update_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  sqlite3_stmt *stmt;

  /* The create time stays what the row says. */
  stmt = lt_catalog_stmt (db,
                          "UPDATE notify_configs SET notify_url = ?2, need_status_notify = ?3,"
                          " on_demand_url = ?4, update_time = ?6"
                          " WHERE domain = ?1",
                          error);
  if (stmt == NULL || !bind_config (stmt, data, error) || !lt_catalog_step_done (stmt, error) ||
      !row_changed (db, data, error))
    return NULL;
  return SUCCESS;
}

static gpointer
delete_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, "DELETE FROM notify_configs WHERE domain = ?1", error);
  if (stmt == NULL || !lt_catalog_bind_text (stmt, 1, ((LtNotifyConfig *) data)->domain, error) ||
      !lt_catalog_step_done (stmt, error) || !row_changed (db, data, error))
    return NULL;
  return SUCCESS;
}

static gpointer
list_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  g_autoptr(GPtrArray) configs = NULL;
  g_autoptr(GError) local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db,
                          "SELECT domain, notify_url, need_status_notify, on_demand_url,"
                          " create_time, update_time FROM notify_configs",
                          error);
  if (stmt == NULL)
    return NULL;

  configs = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_notify_config_free);
  while (lt_catalog_next_row (stmt, &local_error))
    {
      LtNotifyConfig *config = g_new0 (LtNotifyConfig, 1);

      /* Rows are written in lower case; older or hand-made rows are folded here. */
      config->domain = g_ascii_strdown ((const char *) sqlite3_column_text (stmt, 0), -1);
      config->notify_url = lt_catalog_column_dup (stmt, 1);
      config->need_status_notify = sqlite3_column_int (stmt, 2) != 0;
      config->on_demand_url = lt_catalog_column_dup (stmt, 3);
      config->create_time = sqlite3_column_int64 (stmt, 4);
      config->update_time = sqlite3_column_int64 (stmt, 5);
      g_ptr_array_add (configs, config);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return g_steal_pointer (&configs);
}

/* ---- operations ------------------------------------------------------------------- */

typedef enum
{
  OP_LOAD,
  OP_ADD,
  OP_UPDATE,
  OP_REMOVE,
} OpKind;

typedef struct
{
  OpKind          kind;
  LtNotifyConfig *config;      /* add, update: normalized; remove: only the domain */
  char           *key;         /* add: the new signing key */
  GError         *row_error;   /* add: why the row was not written (the key is cleared) */
  GPtrArray      *loaded;      /* load: LtNotifyConfig from the catalog */
  GHashTable     *loaded_keys; /* load: domain → key */
  guint           pending;     /* load: key lookups outstanding */
} Op;

static void
op_free (gpointer data)
{
  Op *op = data;

  g_clear_pointer (&op->config, lt_notify_config_free);
  g_clear_pointer (&op->key, free_secret);
  g_clear_error (&op->row_error);
  g_clear_pointer (&op->loaded, g_ptr_array_unref);
  g_clear_pointer (&op->loaded_keys, g_hash_table_unref);
  g_free (op);
}

static void start_running (LtNotifyStore *self);

static void
finish_running (LtNotifyStore *self)
{
  _lt_op_queue_next (&self->ops, (LtOpQueueStartFunc) start_running, self);
}

static void
return_error (LtNotifyStore *self,
              GError        *error)
{
  g_task_return_error (self->ops.running, error);
  finish_running (self);
}

static void
return_success (LtNotifyStore *self)
{
  g_task_return_boolean (self->ops.running, TRUE);
  finish_running (self);
}

static void
set_already_exists (GError     **error,
                    const char  *domain)
{
  g_set_error (error, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_CONFIG_ALREADY_EXISTS,
               _("Callback settings for %s already exist."), domain);
}

/* Catalog failures other than the expected ones are the catch-all FAILED. */
static GError *
catalog_failure (GError     *error,
                 const char *context)
{
  GError *out = g_error_new (LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_FAILED, "%s%s", context,
                             error->message);

  g_error_free (error);
  return out;
}

static char *
make_signing_key (GError **error)
{
  guint8 buf[SIGNING_KEY_BYTES];
  gsize done = 0;
  char *hex;

  while (done < sizeof buf)
    {
      ssize_t n = getrandom (buf + done, sizeof buf - done, 0);

      if (n < 0)
        {
          int saved_errno = errno;

          if (saved_errno == EINTR)
            continue;
          g_set_error (error, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_FAILED,
                       _("Cannot read random bytes: %s"), g_strerror (saved_errno));
          return NULL;
        }
      done += n;
    }

  hex = g_malloc (2 * sizeof buf + 1);
  for (gsize i = 0; i < sizeof buf; i++)
    {
      hex[2 * i] = "0123456789abcdef"[buf[i] >> 4];
      hex[2 * i + 1] = "0123456789abcdef"[buf[i] & 0xf];
    }
  hex[2 * sizeof buf] = '\0';
  explicit_bzero (buf, sizeof buf);
  return hex;
}

/* load ---- */

static int
compare_configs (gconstpointer a,
                 gconstpointer b)
{
  return strcmp ((*(LtNotifyConfig * const *) a)->domain, (*(LtNotifyConfig * const *) b)->domain);
}

static void
load_complete (LtNotifyStore *self)
{
  Op *op = g_task_get_task_data (self->ops.running);
  g_autoptr(GPtrArray) old = g_steal_pointer (&self->items);
  guint old_len = old->len;
  GHashTableIter iter;
  gpointer domain, key;

  self->items = g_ptr_array_new_full (op->loaded->len, g_object_unref);
  for (guint i = 0; i < op->loaded->len; i++)
    g_ptr_array_add (self->items,
                     config_object_new (lt_notify_config_copy (g_ptr_array_index (op->loaded, i))));
  g_hash_table_remove_all (self->keys);
  g_hash_table_iter_init (&iter, op->loaded_keys);
  while (g_hash_table_iter_next (&iter, &domain, &key))
    {
      g_hash_table_iter_steal (&iter);
      g_hash_table_insert (self->keys, domain, key);
    }

  if (old_len > 0 || self->items->len > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old_len, self->items->len);
  return_success (self);
}

typedef struct
{
  LtNotifyStore *self;
  char          *domain;
} KeyLookup;

static void
key_lookup_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  KeyLookup *lookup = user_data;
  g_autoptr(LtNotifyStore) self = lookup->self;
  g_autofree char *domain = lookup->domain;
  Op *op = g_task_get_task_data (self->ops.running);
  g_autoptr(GError) error = NULL;
  char *key;

  g_free (lookup);

  key = lt_secret_store_lookup_finish (LT_SECRET_STORE (source), result, &error);
  if (key != NULL)
    g_hash_table_insert (op->loaded_keys, g_steal_pointer (&domain), key);
  else
    /* Not a failure: the settings still work, and their callbacks go out unsigned. */
    g_message ("The callback signing key of %s is not available: %s", domain, error->message);

  if (--op->pending == 0)
    load_complete (self);
}

static void
list_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(LtNotifyStore) self = user_data;
  Op *op = g_task_get_task_data (self->ops.running);
  GError *error = NULL;

  op->loaded = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  if (op->loaded == NULL)
    {
      return_error (self, catalog_failure (error, _("Could not load the callback settings: ")));
      return;
    }

  g_ptr_array_sort (op->loaded, compare_configs);
  op->loaded_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) free_secret);
  if (op->loaded->len == 0)
    {
      load_complete (self);
      return;
    }

  op->pending = op->loaded->len;
  for (guint i = 0; i < op->loaded->len; i++)
    {
      const LtNotifyConfig *config = g_ptr_array_index (op->loaded, i);
      KeyLookup *lookup = g_new0 (KeyLookup, 1);

      lookup->self = g_object_ref (self);
      lookup->domain = g_strdup (config->domain);
      lt_secret_store_lookup_async (self->secrets, LT_SECRET_KIND_NOTIFY_SIGNING, config->domain,
                                    NULL, key_lookup_cb, lookup);
    }
}

/* add ---- */

static void
add_cleared_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LtNotifyStore) self = user_data;
  Op *op = g_task_get_task_data (self->ops.running);
  g_autoptr(GError) error = NULL;

  /* The catalog's error is what the caller needs; a key left behind names no settings
   * and is replaced when the domain is added again. */
  if (!lt_secret_store_clear_finish (LT_SECRET_STORE (source), result, &error))
    g_debug ("Could not remove the signing key of %s that was not used: %s",
             op->config->domain, error->message);

  return_error (self, g_steal_pointer (&op->row_error));
}

static void
add_inserted_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(LtNotifyStore) self = user_data;
  Op *op = g_task_get_task_data (self->ops.running);
  GError *error = NULL;
  guint position;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    {
      if (g_error_matches (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CONSTRAINT))
        {
          /* The catalog has the domain though the store was not loaded: that row's key
           * was the one just replaced, so it stays. */
          g_clear_error (&error);
          set_already_exists (&error, op->config->domain);
          return_error (self, error);
          return;
        }

      op->row_error = catalog_failure (error, _("Could not save the callback settings: "));
      /* Not cancellable: the key must not outlive settings the catalog does not have. */
      lt_secret_store_clear_async (self->secrets, LT_SECRET_KIND_NOTIFY_SIGNING,
                                   op->config->domain, NULL, add_cleared_cb,
                                   g_object_ref (self));
      return;
    }

  if (find_domain (self, op->config->domain, &position))
    g_assert_not_reached ();
  g_ptr_array_insert (self->items, position,
                      config_object_new (lt_notify_config_copy (op->config)));
  g_hash_table_replace (self->keys, g_strdup (op->config->domain), g_steal_pointer (&op->key));
  emit_changed (self, op->config->domain, position, 0, 1);
  return_success (self);
}

static void
add_stored_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(LtNotifyStore) self = user_data;
  Op *op = g_task_get_task_data (self->ops.running);
  g_autoptr(GError) error = NULL;

  if (!lt_secret_store_store_finish (LT_SECRET_STORE (source), result, &error))
    {
      return_error (self,
                    g_error_new (LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_KEYRING,
                                 _("Cannot keep the callback signing key of %s in the keyring: %s"),
                                 op->config->domain, error->message));
      return;
    }

  lt_catalog_run_async (self->catalog, insert_job, lt_notify_config_copy (op->config),
                        (GDestroyNotify) lt_notify_config_free, NULL, NULL,
                        add_inserted_cb, g_object_ref (self));
}

static void
start_add (LtNotifyStore *self,
           Op            *op)
{
  g_autofree char *label = NULL;
  GError *error = NULL;
  guint position;

  if (find_domain (self, op->config->domain, &position))
    {
      set_already_exists (&error, op->config->domain);
      return_error (self, error);
      return;
    }

  op->key = make_signing_key (&error);
  if (op->key == NULL)
    {
      return_error (self, error);
      return;
    }

  /* Translators: the label of the keyring item, shown in Passwords and Keys. */
  label = g_strdup_printf (_("Livetape callback signing key for %s"), op->config->domain);
  lt_secret_store_store_async (self->secrets, LT_SECRET_KIND_NOTIFY_SIGNING, op->config->domain,
                               label, op->key, NULL, add_stored_cb, g_object_ref (self));
}

/* update ---- */

static void
updated_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LtNotifyStore) self = user_data;
  Op *op = g_task_get_task_data (self->ops.running);
  GError *error = NULL;
  guint position;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    {
      if (g_error_matches (error, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_CONFIG_NOT_FOUND))
        return_error (self, error);
      else
        return_error (self, catalog_failure (error, _("Could not save the callback settings: ")));
      return;
    }

  if (!find_domain (self, op->config->domain, &position))
    g_assert_not_reached ();
  g_object_unref (g_ptr_array_index (self->items, position));
  g_ptr_array_index (self->items, position) =
    config_object_new (lt_notify_config_copy (op->config));
  emit_changed (self, op->config->domain, position, 1, 1);
  return_success (self);
}

static void
start_update (LtNotifyStore *self,
              Op            *op)
{
  GError *error = NULL;
  guint position;

  if (!find_domain (self, op->config->domain, &position))
    {
      set_not_found (&error, op->config->domain);
      return_error (self, error);
      return;
    }

  op->config->create_time = item_config (self, position)->create_time;
  lt_catalog_run_async (self->catalog, update_job, lt_notify_config_copy (op->config),
                        (GDestroyNotify) lt_notify_config_free, NULL, NULL,
                        updated_cb, g_object_ref (self));
}

/* remove ---- */

static void
remove_cleared_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(LtNotifyStore) self = user_data;
  Op *op = g_task_get_task_data (self->ops.running);
  g_autoptr(GError) error = NULL;

  /* The settings are gone either way; a key left behind signs nothing. */
  if (!lt_secret_store_clear_finish (LT_SECRET_STORE (source), result, &error) &&
      !g_error_matches (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND))
    g_message ("Could not remove the callback signing key of %s from the keyring: %s",
               op->config->domain, error->message);

  return_success (self);
}

static void
removed_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LtNotifyStore) self = user_data;
  Op *op = g_task_get_task_data (self->ops.running);
  GError *error = NULL;
  guint position;

  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    {
      if (g_error_matches (error, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_CONFIG_NOT_FOUND))
        return_error (self, error);
      else
        return_error (self, catalog_failure (error, _("Could not delete the callback settings: ")));
      return;
    }

  if (!find_domain (self, op->config->domain, &position))
    g_assert_not_reached ();
  g_ptr_array_remove_index (self->items, position);
  g_hash_table_remove (self->keys, op->config->domain);
  emit_changed (self, op->config->domain, position, 1, 0);

  lt_secret_store_clear_async (self->secrets, LT_SECRET_KIND_NOTIFY_SIGNING, op->config->domain,
                               NULL, remove_cleared_cb, g_object_ref (self));
}

static void
start_remove (LtNotifyStore *self,
              Op            *op)
{
  GError *error = NULL;
  guint position;

  if (!find_domain (self, op->config->domain, &position))
    {
      set_not_found (&error, op->config->domain);
      return_error (self, error);
      return;
    }

  /* Durable: settings that came back after a power loss would send callbacks again. */
  lt_catalog_run_durable_async (self->catalog, delete_job, lt_notify_config_copy (op->config),
                                (GDestroyNotify) lt_notify_config_free, NULL, NULL,
                                removed_cb, g_object_ref (self));
}

/* ---- the queue ------------------------------------------------------------------ */

static void
start_running (LtNotifyStore *self)
{
  Op *op = g_task_get_task_data (self->ops.running);
  GError *error = NULL;

  if ((op->kind == OP_ADD || op->kind == OP_UPDATE) &&
      !lt_notify_config_check (op->config, &error))
    {
      return_error (self, error);
      return;
    }

  switch (op->kind)
    {
    case OP_LOAD:
      lt_catalog_run_async (self->catalog, list_job, NULL, NULL,
                            (GDestroyNotify) g_ptr_array_unref, NULL,
                            list_cb, g_object_ref (self));
      break;
    case OP_ADD:
      start_add (self, op);
      break;
    case OP_UPDATE:
      start_update (self, op);
      break;
    case OP_REMOVE:
      start_remove (self, op);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
enqueue (LtNotifyStore       *self,
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

static Op *
op_new (OpKind                kind,
        const LtNotifyConfig *config)
{
  Op *op = g_new0 (Op, 1);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  op->kind = kind;
  if (config != NULL)
    {
      op->config = normalized_copy (config);
      op->config->create_time = now;
      op->config->update_time = now;
    }
  return op;
}

static gboolean
finish (LtNotifyStore  *self,
        GAsyncResult   *result,
        gpointer        source_tag,
        GError        **error)
{
  g_return_val_if_fail (LT_IS_NOTIFY_STORE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- public API ------------------------------------------------------------------ */

void
lt_notify_store_load_async (LtNotifyStore       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (LT_IS_NOTIFY_STORE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  enqueue (self, op_new (OP_LOAD, NULL), lt_notify_store_load_async,
           cancellable, callback, user_data);
}

gboolean
lt_notify_store_load_finish (LtNotifyStore  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  return finish (self, result, lt_notify_store_load_async, error);
}

const LtNotifyConfig *
lt_notify_store_lookup (LtNotifyStore *self,
                        const char    *domain)
{
  g_autofree char *norm = NULL;
  guint position;

  g_return_val_if_fail (LT_IS_NOTIFY_STORE (self), NULL);
  g_return_val_if_fail (domain != NULL, NULL);

  norm = normalize_domain (domain);
  if (!find_domain (self, norm, &position))
    return NULL;
  return item_config (self, position);
}

char *
lt_notify_store_dup_signing_key (LtNotifyStore *self,
                                 const char    *domain)
{
  g_autofree char *norm = NULL;

  g_return_val_if_fail (LT_IS_NOTIFY_STORE (self), NULL);
  g_return_val_if_fail (domain != NULL, NULL);

  norm = normalize_domain (domain);
  return g_strdup (g_hash_table_lookup (self->keys, norm));
}

void
lt_notify_store_add_async (LtNotifyStore        *self,
                           const LtNotifyConfig *config,
                           GCancellable         *cancellable,
                           GAsyncReadyCallback   callback,
                           gpointer              user_data)
{
  g_return_if_fail (LT_IS_NOTIFY_STORE (self));
  g_return_if_fail (config != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  enqueue (self, op_new (OP_ADD, config), lt_notify_store_add_async,
           cancellable, callback, user_data);
}

gboolean
lt_notify_store_add_finish (LtNotifyStore  *self,
                            GAsyncResult   *result,
                            GError        **error)
{
  return finish (self, result, lt_notify_store_add_async, error);
}

void
lt_notify_store_update_async (LtNotifyStore        *self,
                              const LtNotifyConfig *config,
                              GCancellable         *cancellable,
                              GAsyncReadyCallback   callback,
                              gpointer              user_data)
{
  g_return_if_fail (LT_IS_NOTIFY_STORE (self));
  g_return_if_fail (config != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  enqueue (self, op_new (OP_UPDATE, config), lt_notify_store_update_async,
           cancellable, callback, user_data);
}

gboolean
lt_notify_store_update_finish (LtNotifyStore  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  return finish (self, result, lt_notify_store_update_async, error);
}

void
lt_notify_store_remove_async (LtNotifyStore       *self,
                              const char          *domain,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  Op *op;

  g_return_if_fail (LT_IS_NOTIFY_STORE (self));
  g_return_if_fail (domain != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = op_new (OP_REMOVE, NULL);
  op->config = g_new0 (LtNotifyConfig, 1);
  op->config->domain = normalize_domain (domain);
  enqueue (self, op, lt_notify_store_remove_async, cancellable, callback, user_data);
}

gboolean
lt_notify_store_remove_finish (LtNotifyStore  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  return finish (self, result, lt_notify_store_remove_async, error);
}
