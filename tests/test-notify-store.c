/* test-notify-store.c: the callback settings per domain (LtNotifyStore) over a real catalog
 * in a temporary directory and the session's keyring (tools/test runs the suite under
 * dbus-run-session with an unlocked gnome-keyring) — add, update, remove, lookup, reload
 * after reopening, the signing key kept in the keyring and nowhere else, every validation
 * error, a keyring or catalog failure leaving nothing behind — and the four control API
 * actions (lt-api-notify.c) over loopback HTTP with their codes and HTTP statuses. */
#include "config.h"

#include <libsoup/soup.h>
#include <string.h>

#include "lt-api-notify.h"
#include "lt-api-server.h"
#include "lt-catalog.h"
#include "lt-notify-store.h"
#include "lt-secret-store.h"
#include "lt-test-utils.h"

#define KEY_ID      "LTAKnotifytest01"
#define KEY_SECRET  "notify-test-secret"
#define NOTIFY_URL  "http://127.0.0.1:9/callback"
#define ON_DEMAND   "https://receiver.example.com/on-demand?x=1"

typedef struct
{
  char          *dir;
  char          *path;
  LtCatalog     *catalog;
  LtSecretStore *secrets;
  LtNotifyStore *store;
  GPtrArray     *changed;   /* domains of "changed" */
  guint          n_items_changed;
} Fixture;

static void
changed_cb (LtNotifyStore *store,
            const char    *domain,
            gpointer       user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->changed, g_strdup (domain));
}

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  Fixture *f = user_data;

  f->n_items_changed++;
}

static gboolean
load_sync (LtNotifyStore  *store,
           GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_notify_store_load_async (store, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_notify_store_load_finish (store, result, error);
}

static gboolean
add_sync (LtNotifyStore         *store,
          const LtNotifyConfig  *config,
          GError               **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_notify_store_add_async (store, config, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_notify_store_add_finish (store, result, error);
}

static gboolean
update_sync (LtNotifyStore         *store,
             const LtNotifyConfig  *config,
             GError               **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_notify_store_update_async (store, config, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_notify_store_update_finish (store, result, error);
}

static gboolean
remove_sync (LtNotifyStore  *store,
             const char     *domain,
             GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_notify_store_remove_async (store, domain, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_notify_store_remove_finish (store, result, error);
}

static char *
keyring_lookup (LtSecretStore  *secrets,
                const char     *kind,
                const char     *id,
                GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_secret_store_lookup_async (secrets, kind, id, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_secret_store_lookup_finish (secrets, result, error);
}

static gboolean
keyring_store (LtSecretStore *secrets,
               const char    *kind,
               const char    *id,
               const char    *secret)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  lt_secret_store_store_async (secrets, kind, id, "Livetape test", secret, NULL,
                               lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  ok = lt_secret_store_store_finish (secrets, result, &error);
  g_assert_no_error (error);
  return ok;
}

static gpointer
count_rows_job (sqlite3  *db,
                gpointer  data,
                GError  **error)
{
  sqlite3_stmt *stmt = lt_catalog_stmt (db, "SELECT count(*) FROM notify_configs", error);
  gint64 count;

  if (stmt == NULL || !lt_catalog_next_row (stmt, error))
    return NULL;
  count = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  /* +1: NULL means failure. */
  return GINT_TO_POINTER ((int) count + 1);
}

static int
count_rows (LtCatalog *catalog)
{
  g_autoptr(GError) error = NULL;
  gpointer result = lt_catalog_run_sync (catalog, count_rows_job, NULL, &error);

  g_assert_no_error (error);
  return GPOINTER_TO_INT (result) - 1;
}

static LtCatalog *
open_catalog (const char *path)
{
  LtCatalog *catalog = lt_catalog_new (path);
  g_autoptr(GError) error = NULL;

  g_assert_true (lt_catalog_open_sync (catalog, &error));
  g_assert_no_error (error);
  return catalog;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = lt_test_make_temp_dir ();
  f->path = g_build_filename (f->dir, "catalog.db", NULL);
  f->catalog = open_catalog (f->path);
  /* Scoped to this test's directory: nothing is shared with other tests or runs. */
  f->secrets = lt_secret_store_new (f->dir);
  f->store = lt_notify_store_new (f->catalog, f->secrets);
  f->changed = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (f->store, "changed", G_CALLBACK (changed_cb), f);
  g_signal_connect (f->store, "items-changed", G_CALLBACK (items_changed_cb), f);

  g_assert_true (load_sync (f->store, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->store)), ==, 0);
}

/* Removes what a test left, so that the keyring keeps no keys of finished tests. */
static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  GListModel *model = G_LIST_MODEL (f->store);

  while (f->catalog != NULL && g_list_model_get_n_items (model) > 0)
    {
      g_autoptr(LtNotifyConfigObject) item = g_list_model_get_item (model, 0);
      g_autoptr(GError) error = NULL;

      g_assert_true (remove_sync (f->store, lt_notify_config_object_get_config (item)->domain,
                                  &error));
      g_assert_no_error (error);
    }

  g_signal_handlers_disconnect_by_data (f->store, f);
  g_assert_finalize_object (g_steal_pointer (&f->store));
  g_clear_object (&f->secrets);
  if (f->catalog != NULL)
    lt_catalog_close (f->catalog);
  g_clear_object (&f->catalog);
  g_clear_pointer (&f->changed, g_ptr_array_unref);
  g_clear_pointer (&f->path, g_free);
  g_clear_pointer (&f->dir, g_free);
}

static gboolean
is_lower_hex (const char *s,
              gsize       len)
{
  if (s == NULL || strlen (s) != len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!(g_ascii_isdigit (s[i]) || (s[i] >= 'a' && s[i] <= 'f')))
      return FALSE;
  return TRUE;
}

/* Store ------------------------------------------------------------------------------ */

static void
test_add_lookup_reload (Fixture       *f,
                        gconstpointer  data)
{
  LtNotifyConfig a = { .domain = "Live.Example.com", .notify_url = NOTIFY_URL,
                       .need_status_notify = TRUE, .on_demand_url = ON_DEMAND };
  LtNotifyConfig b = { .domain = "a.example.org", .notify_url = "https://cb.example.org/x" };
  g_autoptr(GError) error = NULL;
  g_autofree char *key_a = NULL;
  g_autofree char *key_b = NULL;
  g_autofree char *kept = NULL;
  g_autoptr(LtNotifyConfigObject) first = NULL;
  g_autoptr(LtCatalog) catalog = NULL;
  g_autoptr(LtNotifyStore) reloaded = NULL;
  const LtNotifyConfig *config;
  gint64 before = g_get_real_time () / G_USEC_PER_SEC;

  g_assert_true (add_sync (f->store, &a, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->changed->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->changed, 0), ==, "live.example.com");
  g_assert_cmpuint (f->n_items_changed, ==, 1);

  /* Case-insensitive, a trailing dot allowed; stored in lower case. */
  config = lt_notify_store_lookup (f->store, "LIVE.example.COM.");
  g_assert_nonnull (config);
  g_assert_cmpstr (config->domain, ==, "live.example.com");
  g_assert_cmpstr (config->notify_url, ==, NOTIFY_URL);
  g_assert_true (config->need_status_notify);
  g_assert_cmpstr (config->on_demand_url, ==, ON_DEMAND);
  g_assert_cmpint (config->create_time, >=, before);
  g_assert_cmpint (config->update_time, ==, config->create_time);
  g_assert_null (lt_notify_store_lookup (f->store, "example.com"));

  /* A key of 32 random bytes in hex, kept in the keyring under the lower-case domain. */
  key_a = lt_notify_store_dup_signing_key (f->store, "Live.EXAMPLE.com");
  g_assert_true (is_lower_hex (key_a, 64));
  kept = keyring_lookup (f->secrets, LT_SECRET_KIND_NOTIFY_SIGNING, "live.example.com", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kept, ==, key_a);
  g_assert_null (lt_notify_store_dup_signing_key (f->store, "example.com"));

  g_assert_true (add_sync (f->store, &b, &error));
  g_assert_no_error (error);
  key_b = lt_notify_store_dup_signing_key (f->store, "a.example.org");
  g_assert_true (is_lower_hex (key_b, 64));
  g_assert_cmpstr (key_a, !=, key_b);

  /* Sorted by domain. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->store)), ==, 2);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (f->store)) ==
                 LT_TYPE_NOTIFY_CONFIG_OBJECT);
  first = g_list_model_get_item (G_LIST_MODEL (f->store), 0);
  g_assert_cmpstr (lt_notify_config_object_get_config (first)->domain, ==, "a.example.org");
  g_assert_null (lt_notify_config_object_get_config (first)->on_demand_url);
  g_assert_false (lt_notify_config_object_get_config (first)->need_status_notify);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (f->store), 2));
  g_assert_cmpint (count_rows (f->catalog), ==, 2);

  /* Reopened: the settings come from the catalog, the keys from the keyring. */
  catalog = open_catalog (f->path);
  reloaded = lt_notify_store_new (catalog, f->secrets);
  g_assert_true (load_sync (reloaded, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reloaded)), ==, 2);
  config = lt_notify_store_lookup (reloaded, "live.example.com");
  g_assert_nonnull (config);
  g_assert_cmpstr (config->notify_url, ==, NOTIFY_URL);
  g_assert_true (config->need_status_notify);
  g_assert_cmpstr (config->on_demand_url, ==, ON_DEMAND);
  g_assert_cmpint (config->create_time, ==, lt_notify_store_lookup (f->store, "live.example.com")->create_time);
  config = lt_notify_store_lookup (reloaded, "a.example.org");
  g_assert_nonnull (config);
  g_assert_null (config->on_demand_url);
  g_clear_pointer (&kept, g_free);
  kept = lt_notify_store_dup_signing_key (reloaded, "live.example.com");
  g_assert_cmpstr (kept, ==, key_a);
  g_clear_pointer (&kept, g_free);
  kept = lt_notify_store_dup_signing_key (reloaded, "a.example.org");
  g_assert_cmpstr (kept, ==, key_b);

  g_assert_finalize_object (g_steal_pointer (&reloaded));
  lt_catalog_close (catalog);
}

static void
test_update (Fixture       *f,
             gconstpointer  data)
{
  LtNotifyConfig config = { .domain = "live.example.com", .notify_url = NOTIFY_URL,
                            .need_status_notify = TRUE, .on_demand_url = ON_DEMAND };
  LtNotifyConfig update = { .domain = "LIVE.example.com", .notify_url = "https://new.example.com/cb" };
  LtNotifyConfig unknown = { .domain = "other.example.com", .notify_url = NOTIFY_URL };
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *key_after = NULL;
  g_autoptr(LtCatalog) catalog = NULL;
  g_autoptr(LtNotifyStore) reloaded = NULL;
  const LtNotifyConfig *stored;
  gint64 create_time;

  g_assert_true (add_sync (f->store, &config, &error));
  g_assert_no_error (error);
  key = lt_notify_store_dup_signing_key (f->store, "live.example.com");
  create_time = lt_notify_store_lookup (f->store, "live.example.com")->create_time;
  f->n_items_changed = 0;
  g_ptr_array_set_size (f->changed, 0);

  /* Replaces all three settings: no OnDemandUrl removes it. */
  g_assert_true (update_sync (f->store, &update, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->n_items_changed, ==, 1);
  g_assert_cmpuint (f->changed->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->changed, 0), ==, "live.example.com");
  stored = lt_notify_store_lookup (f->store, "live.example.com");
  g_assert_cmpstr (stored->notify_url, ==, "https://new.example.com/cb");
  g_assert_false (stored->need_status_notify);
  g_assert_null (stored->on_demand_url);
  g_assert_cmpint (stored->create_time, ==, create_time);
  g_assert_cmpint (stored->update_time, >=, create_time);
  key_after = lt_notify_store_dup_signing_key (f->store, "live.example.com");
  g_assert_cmpstr (key_after, ==, key);

  g_assert_false (update_sync (f->store, &unknown, &error));
  g_assert_error (error, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_CONFIG_NOT_FOUND);
  g_assert_cmpstr (lt_notify_error_code_name (error->code), ==, "InvalidConfig.NotFound");
  g_assert_cmpuint (lt_notify_error_http_status (error->code), ==, 404);
  g_clear_error (&error);
  g_assert_null (lt_notify_store_lookup (f->store, "other.example.com"));

  catalog = open_catalog (f->path);
  reloaded = lt_notify_store_new (catalog, f->secrets);
  g_assert_true (load_sync (reloaded, &error));
  g_assert_no_error (error);
  stored = lt_notify_store_lookup (reloaded, "live.example.com");
  g_assert_cmpstr (stored->notify_url, ==, "https://new.example.com/cb");
  g_assert_false (stored->need_status_notify);
  g_assert_null (stored->on_demand_url);
  g_assert_cmpint (stored->create_time, ==, create_time);
  g_assert_finalize_object (g_steal_pointer (&reloaded));
  lt_catalog_close (catalog);
}

static void
test_remove (Fixture       *f,
             gconstpointer  data)
{
  LtNotifyConfig config = { .domain = "live.example.com", .notify_url = NOTIFY_URL };
  g_autoptr(GError) error = NULL;
  g_autofree char *kept = NULL;
  g_autoptr(LtCatalog) catalog = NULL;
  g_autoptr(LtNotifyStore) reloaded = NULL;

  g_assert_true (add_sync (f->store, &config, &error));
  g_assert_no_error (error);
  f->n_items_changed = 0;
  g_ptr_array_set_size (f->changed, 0);

  g_assert_true (remove_sync (f->store, "Live.Example.COM", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->n_items_changed, ==, 1);
  g_assert_cmpuint (f->changed->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->changed, 0), ==, "live.example.com");
  g_assert_null (lt_notify_store_lookup (f->store, "live.example.com"));
  g_assert_null (lt_notify_store_dup_signing_key (f->store, "live.example.com"));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->store)), ==, 0);
  g_assert_cmpint (count_rows (f->catalog), ==, 0);

  /* The key went with the settings. */
  kept = keyring_lookup (f->secrets, LT_SECRET_KIND_NOTIFY_SIGNING, "live.example.com", &error);
  g_assert_error (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND);
  g_assert_null (kept);
  g_clear_error (&error);

  g_assert_false (remove_sync (f->store, "live.example.com", &error));
  g_assert_error (error, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_CONFIG_NOT_FOUND);
  g_clear_error (&error);

  catalog = open_catalog (f->path);
  reloaded = lt_notify_store_new (catalog, f->secrets);
  g_assert_true (load_sync (reloaded, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reloaded)), ==, 0);
  g_assert_finalize_object (g_steal_pointer (&reloaded));
  lt_catalog_close (catalog);

  /* Added again: a new key. */
  g_assert_true (add_sync (f->store, &config, &error));
  g_assert_no_error (error);
  kept = lt_notify_store_dup_signing_key (f->store, "live.example.com");
  g_assert_true (is_lower_hex (kept, 64));
}

typedef struct
{
  const char    *domain;
  const char    *notify_url;
  const char    *on_demand_url;
  gint           code;   /* LtNotifyError */
  const char    *code_name;
} InvalidCase;

static void
test_invalid (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *long_url = NULL;
  g_autofree char *longest_url = NULL;
  g_autofree char *long_domain = NULL;
  GString *s;

  s = g_string_new ("http://receiver.example.com/");
  while (s->len < 2049)
    g_string_append_c (s, 'a');
  long_url = g_string_free (s, FALSE);
  longest_url = g_strndup (long_url, 2048);
  s = g_string_new (NULL);
  while (s->len < 254)
    g_string_append (s, "a.");
  g_string_truncate (s, 254);
  g_string_overwrite (s, 253, "b");
  long_domain = g_string_free (s, FALSE);

  {
    const InvalidCase cases[] = {
      { "live.example.com", "ftp://receiver.example.com/cb", NULL,
        LT_NOTIFY_ERROR_INVALID_NOTIFY_URL, "InvalidNotifyUrl.Malformed" },
      { "live.example.com", "http://", NULL,
        LT_NOTIFY_ERROR_INVALID_NOTIFY_URL, "InvalidNotifyUrl.Malformed" },
      { "live.example.com", "/callback", NULL,
        LT_NOTIFY_ERROR_INVALID_NOTIFY_URL, "InvalidNotifyUrl.Malformed" },
      { "live.example.com", "http://user:pass@receiver.example.com/cb", NULL,
        LT_NOTIFY_ERROR_INVALID_NOTIFY_URL, "InvalidNotifyUrl.Malformed" },
      { "live.example.com", long_url, NULL,
        LT_NOTIFY_ERROR_INVALID_NOTIFY_URL, "InvalidNotifyUrl.Malformed" },
      { "live.example.com", NOTIFY_URL, "file:///etc/passwd",
        LT_NOTIFY_ERROR_INVALID_ON_DEMAND_URL, "InvalidOnDemandUrl.Malformed" },
      { "live.example.com", NOTIFY_URL, "https://u:p@receiver.example.com/",
        LT_NOTIFY_ERROR_INVALID_ON_DEMAND_URL, "InvalidOnDemandUrl.Malformed" },
      { "", NOTIFY_URL, NULL, LT_NOTIFY_ERROR_MISSING_PARAMETER, "MissingParameter" },
      { NULL, NOTIFY_URL, NULL, LT_NOTIFY_ERROR_MISSING_PARAMETER, "MissingParameter" },
      { "live example.com", NOTIFY_URL, NULL,
        LT_NOTIFY_ERROR_INVALID_DOMAIN, "InvalidDomainName.Malformed" },
      { "live.example.com/app", NOTIFY_URL, NULL,
        LT_NOTIFY_ERROR_INVALID_DOMAIN, "InvalidDomainName.Malformed" },
      { long_domain, NOTIFY_URL, NULL,
        LT_NOTIFY_ERROR_INVALID_DOMAIN, "InvalidDomainName.Malformed" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        LtNotifyConfig config = { .domain = (char *) cases[i].domain,
                                  .notify_url = (char *) cases[i].notify_url,
                                  .on_demand_url = (char *) cases[i].on_demand_url };
        g_autoptr(GError) error = NULL;

        g_test_message ("case %" G_GSIZE_FORMAT ": %s %.60s %s", i, cases[i].domain,
                        cases[i].notify_url, cases[i].on_demand_url);
        g_assert_false (lt_notify_config_check (&config, &error));
        g_assert_error (error, LT_NOTIFY_ERROR, cases[i].code);
        g_assert_cmpstr (lt_notify_error_code_name (error->code), ==, cases[i].code_name);
        g_assert_cmpuint (lt_notify_error_http_status (error->code), ==, 400);
        g_clear_error (&error);

        g_assert_false (add_sync (f->store, &config, &error));
        g_assert_error (error, LT_NOTIFY_ERROR, cases[i].code);
        g_clear_error (&error);
      }
  }

  /* Nothing was stored. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->store)), ==, 0);
  g_assert_cmpuint (f->changed->len, ==, 0);
  g_assert_cmpint (count_rows (f->catalog), ==, 0);

  /* The limits themselves are fine: a 2048-byte URL, a 253-byte domain, IPs and
   * loopback receivers, no NotifyUrl at all (only on-demand). */
  {
    g_autofree char *domain = g_strndup (long_domain, 253);
    LtNotifyConfig ok[] = {
      { .domain = domain, .notify_url = longest_url },
      { .domain = "localhost", .notify_url = "http://[::1]:8080/cb", .on_demand_url = "http://192.168.1.2/od" },
      { .domain = "only-on-demand.example.com", .on_demand_url = ON_DEMAND },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (ok); i++)
      {
        g_autoptr(GError) error = NULL;

        g_assert_true (lt_notify_config_check (&ok[i], &error));
        g_assert_no_error (error);
        g_assert_true (add_sync (f->store, &ok[i], &error));
        g_assert_no_error (error);
      }
    g_assert_null (lt_notify_store_lookup (f->store, "only-on-demand.example.com")->notify_url);
  }
}

static void
test_duplicate (Fixture       *f,
                gconstpointer  data)
{
  LtNotifyConfig config = { .domain = "live.example.com", .notify_url = NOTIFY_URL };
  LtNotifyConfig again = { .domain = "LIVE.EXAMPLE.COM", .notify_url = "https://other.example.com/" };
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *key_after = NULL;
  g_autofree char *kept = NULL;

  g_assert_true (add_sync (f->store, &config, &error));
  g_assert_no_error (error);
  key = lt_notify_store_dup_signing_key (f->store, "live.example.com");

  g_assert_false (add_sync (f->store, &again, &error));
  g_assert_error (error, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_CONFIG_ALREADY_EXISTS);
  g_assert_cmpstr (lt_notify_error_code_name (error->code), ==, "ConfigAlreadyExists");
  g_assert_cmpuint (lt_notify_error_http_status (error->code), ==, 400);
  g_clear_error (&error);

  /* The first settings and their key are untouched, in memory and in the keyring. */
  g_assert_cmpstr (lt_notify_store_lookup (f->store, "live.example.com")->notify_url, ==, NOTIFY_URL);
  key_after = lt_notify_store_dup_signing_key (f->store, "live.example.com");
  g_assert_cmpstr (key_after, ==, key);
  kept = keyring_lookup (f->secrets, LT_SECRET_KIND_NOTIFY_SIGNING, "live.example.com", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kept, ==, key);

  /* Two adds queued at once: exactly one wins. */
  {
    LtNotifyConfig twin = { .domain = "twin.example.com", .notify_url = NOTIFY_URL };
    g_autoptr(GAsyncResult) r1 = NULL;
    g_autoptr(GAsyncResult) r2 = NULL;
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    gboolean ok1, ok2;

    lt_notify_store_add_async (f->store, &twin, NULL, lt_test_store_result_cb, &r1);
    lt_notify_store_add_async (f->store, &twin, NULL, lt_test_store_result_cb, &r2);
    lt_test_wait_result (&r1);
    lt_test_wait_result (&r2);
    ok1 = lt_notify_store_add_finish (f->store, r1, &e1);
    ok2 = lt_notify_store_add_finish (f->store, r2, &e2);
    g_assert_true (ok1);
    g_assert_no_error (e1);
    g_assert_false (ok2);
    g_assert_error (e2, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_CONFIG_ALREADY_EXISTS);
    g_assert_cmpint (count_rows (f->catalog), ==, 2);
  }
}

/* The key is in the keyring only: not in the catalog file or its WAL. */
static void
test_key_not_in_catalog (Fixture       *f,
                         gconstpointer  data)
{
  LtNotifyConfig config = { .domain = "live.example.com", .notify_url = NOTIFY_URL };
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint n_files = 0;

  g_assert_true (add_sync (f->store, &config, &error));
  g_assert_no_error (error);
  key = lt_notify_store_dup_signing_key (f->store, "live.example.com");
  g_assert_nonnull (key);

  dir = g_dir_open (f->dir, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize length;

      g_assert_true (g_file_get_contents (path, &contents, &length, &error));
      g_assert_no_error (error);
      g_assert_null (g_strstr_len (contents, length, key));
      n_files++;
    }
  g_assert_cmpuint (n_files, >, 0);

  /* The test itself never prints it either (g_test_message would put it in the log). */
}

/* The catalog refuses the row: the key stored just before is removed again. */
static void
test_row_failure_clears_key (Fixture       *f,
                             gconstpointer  data)
{
  LtNotifyConfig config = { .domain = "live.example.com", .notify_url = NOTIFY_URL };
  g_autoptr(GError) error = NULL;
  g_autofree char *kept = NULL;

  lt_catalog_close (f->catalog);

  g_assert_false (add_sync (f->store, &config, &error));
  g_assert_error (error, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_FAILED);
  g_assert_cmpstr (lt_notify_error_code_name (error->code), ==, "InternalError");
  g_assert_cmpuint (lt_notify_error_http_status (error->code), ==, 500);
  g_clear_error (&error);

  g_assert_null (lt_notify_store_lookup (f->store, "live.example.com"));
  g_assert_null (lt_notify_store_dup_signing_key (f->store, "live.example.com"));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->store)), ==, 0);
  kept = keyring_lookup (f->secrets, LT_SECRET_KIND_NOTIFY_SIGNING, "live.example.com", &error);
  g_assert_error (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND);
  g_assert_null (kept);

  g_clear_object (&f->catalog);
}

static gpointer
delete_rows_job (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  return lt_catalog_exec (db, "DELETE FROM notify_configs", error) ? GINT_TO_POINTER (TRUE)
                                                                    : NULL;
}

/* The row went behind the store's back: update and remove report CONFIG_NOT_FOUND (from
 * the catalog job, not the in-memory check) and leave the list as it was. */
static void
test_row_gone (Fixture       *f,
               gconstpointer  data)
{
  LtNotifyConfig config = { .domain = "live.example.com", .notify_url = NOTIFY_URL };
  g_autoptr(GError) error = NULL;

  g_assert_true (add_sync (f->store, &config, &error));
  g_assert_no_error (error);
  g_assert_nonnull (lt_catalog_run_sync (f->catalog, delete_rows_job, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (f->catalog), ==, 0);
  f->n_items_changed = 0;
  g_ptr_array_set_size (f->changed, 0);

  g_assert_false (update_sync (f->store, &config, &error));
  g_assert_error (error, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_CONFIG_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "live.example.com"));
  g_clear_error (&error);

  g_assert_false (remove_sync (f->store, "live.example.com", &error));
  g_assert_error (error, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_CONFIG_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "live.example.com"));
  g_clear_error (&error);

  g_assert_cmpuint (f->n_items_changed, ==, 0);
  g_assert_cmpuint (f->changed->len, ==, 0);
  g_assert_nonnull (lt_notify_store_lookup (f->store, "live.example.com"));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->store)), ==, 1);

  /* A reload agrees with the catalog again; adding anew replaces the key left behind
   * (and gives the tear-down a row to remove). */
  g_assert_true (load_sync (f->store, &error));
  g_assert_no_error (error);
  g_assert_null (lt_notify_store_lookup (f->store, "live.example.com"));
  g_assert_true (add_sync (f->store, &config, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (f->catalog), ==, 1);
}

/* No keyring: the add fails with KEYRING (InternalError) and no row is written. Run in a
 * subprocess with a bus address that leads nowhere, so the main test keeps its keyring. */
static void
test_keyring_failure (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = lt_test_make_temp_dir ();
      g_autofree char *path = g_build_filename (dir, "catalog.db", NULL);
      g_autofree char *address = g_strdup_printf ("unix:path=%s/no-such-bus", dir);
      g_autoptr(LtCatalog) catalog = NULL;
      g_autoptr(LtSecretStore) secrets = NULL;
      g_autoptr(LtNotifyStore) store = NULL;
      g_autoptr(LtNotifyStore) reloaded = NULL;
      g_autoptr(GError) error = NULL;
      LtNotifyConfig config = { .domain = "live.example.com", .notify_url = NOTIFY_URL };

      g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
      catalog = open_catalog (path);
      secrets = lt_secret_store_new (dir);
      lt_secret_store_set_timeout (secrets, 2000);
      store = lt_notify_store_new (catalog, secrets);
      g_assert_true (load_sync (store, &error));
      g_assert_no_error (error);

      g_assert_false (add_sync (store, &config, &error));
      g_assert_error (error, LT_NOTIFY_ERROR, LT_NOTIFY_ERROR_KEYRING);
      g_assert_cmpstr (lt_notify_error_code_name (error->code), ==, "InternalError");
      g_assert_cmpuint (lt_notify_error_http_status (error->code), ==, 500);
      g_assert_nonnull (strstr (error->message, "live.example.com"));
      g_clear_error (&error);

      g_assert_null (lt_notify_store_lookup (store, "live.example.com"));
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);
      g_assert_cmpint (count_rows (catalog), ==, 0);

      reloaded = lt_notify_store_new (catalog, secrets);
      g_assert_true (load_sync (reloaded, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reloaded)), ==, 0);

      g_assert_finalize_object (g_steal_pointer (&reloaded));
      g_assert_finalize_object (g_steal_pointer (&store));
      lt_catalog_close (catalog);
      return;
    }

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* A key the keyring no longer has: the settings still load (callbacks go unsigned). */
static void
test_load_without_key (Fixture       *f,
                       gconstpointer  data)
{
  LtNotifyConfig config = { .domain = "live.example.com", .notify_url = NOTIFY_URL };
  g_autoptr(GError) error = NULL;
  g_autoptr(LtCatalog) catalog = NULL;
  g_autoptr(LtNotifyStore) reloaded = NULL;
  g_autoptr(LtSecretStore) other = NULL;
  g_autofree char *other_instance = g_build_filename (f->dir, "other", NULL);

  g_assert_true (add_sync (f->store, &config, &error));
  g_assert_no_error (error);

  /* Another instance's keyring scope has no key for the domain. */
  other = lt_secret_store_new (other_instance);
  catalog = open_catalog (f->path);
  reloaded = lt_notify_store_new (catalog, other);
  g_assert_true (load_sync (reloaded, &error));
  g_assert_no_error (error);
  g_assert_nonnull (lt_notify_store_lookup (reloaded, "live.example.com"));
  g_assert_null (lt_notify_store_dup_signing_key (reloaded, "live.example.com"));
  g_assert_finalize_object (g_steal_pointer (&reloaded));
  lt_catalog_close (catalog);
}

/* API -------------------------------------------------------------------------------- */

/* The rate limit's clock moves 0.1 s per request, so the test stays under 30 per second. */
static gint64 fake_monotonic = 1000 * G_USEC_PER_SEC;

static gint64
get_fake_monotonic (void)
{
  return fake_monotonic;
}

typedef struct
{
  Fixture      store;
  LtApiServer *server;
  SoupSession *session;
} ApiFixture;

static void
api_set_up (ApiFixture    *f,
            gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GProxyResolver) direct = g_simple_proxy_resolver_new (NULL, NULL);

  fixture_set_up (&f->store, data);

  lt_catalog_insert_api_key_async (f->store.catalog, KEY_ID, "notify test", NULL,
                                   lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_catalog_insert_api_key_finish (f->store.catalog, result, &error));
  g_assert_no_error (error);
  g_assert_true (keyring_store (f->store.secrets, LT_SECRET_KIND_API_KEY, KEY_ID, KEY_SECRET));

  f->server = lt_api_server_new (f->store.catalog, f->store.secrets);
  lt_api_server_set_monotonic_clock (f->server, get_fake_monotonic);
  lt_api_notify_register (f->server, f->store.store);
  g_assert_true (lt_api_server_listen (f->server, "127.0.0.1:0", &error));
  g_assert_no_error (error);

  /* Direct connections: the default resolver would read GNOME's proxy settings. */
  f->session = soup_session_new_with_options ("timeout", 30, "proxy-resolver", direct, NULL);
}

static void
api_tear_down (ApiFixture    *f,
               gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;

  soup_session_abort (f->session);
  g_clear_object (&f->session);
  lt_api_server_disconnect (f->server);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (g_steal_pointer (&f->server));

  lt_secret_store_clear_async (f->store.secrets, LT_SECRET_KIND_API_KEY, KEY_ID, NULL,
                               lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_secret_store_clear_finish (f->store.secrets, result, NULL);

  fixture_tear_down (&f->store, data);
}

typedef struct
{
  guint       status;
  char       *body;
  JsonObject *object;
  JsonNode   *node;
  GHashTable *xml_text;   /* Format=XML: "Root/A/B" → text */
} Reply;

static void
reply_free (Reply *reply)
{
  g_free (reply->body);
  g_clear_pointer (&reply->node, json_node_unref);
  g_clear_pointer (&reply->xml_text, g_hash_table_unref);
  g_free (reply);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

/* A JSON request signed with KEY_SECRET: NULL-terminated name/value pairs. */
static Reply *
call (ApiFixture *f,
      const char *action,
      ...)
{
  g_autoptr(GHashTable) params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GString) query = g_string_new (NULL);
  g_autofree char *url = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  GHashTableIter iter;
  gpointer name, value;
  const char *arg;
  Reply *reply;
  va_list args;

  g_hash_table_insert (params, g_strdup ("Action"), g_strdup (action));
  g_hash_table_insert (params, g_strdup ("Version"), g_strdup (LT_API_VERSION));
  g_hash_table_insert (params, g_strdup ("Format"), g_strdup ("JSON"));
  g_hash_table_insert (params, g_strdup ("AccessKeyId"), g_strdup (KEY_ID));
  g_hash_table_insert (params, g_strdup ("SignatureMethod"), g_strdup ("HMAC-SHA1"));
  g_hash_table_insert (params, g_strdup ("SignatureVersion"), g_strdup ("1.0"));
  g_hash_table_insert (params, g_strdup ("SignatureNonce"), g_uuid_string_random ());
  g_hash_table_insert (params, g_strdup ("Timestamp"),
                       lt_api_format_time (g_get_real_time () / G_USEC_PER_SEC));
  va_start (args, action);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_hash_table_insert (params, g_strdup (arg), g_strdup (va_arg (args, const char *)));
  va_end (args);
  g_hash_table_insert (params, g_strdup ("Signature"),
                       lt_api_compute_signature ("POST", params, KEY_SECRET));

  g_hash_table_iter_init (&iter, params);
  while (g_hash_table_iter_next (&iter, &name, &value))
    {
      g_autofree char *encoded_name = lt_api_percent_encode (name);
      g_autofree char *encoded_value = lt_api_percent_encode (value);

      g_string_append_printf (query, "%s%s=%s", query->len > 0 ? "&" : "", encoded_name,
                              encoded_value);
    }

  fake_monotonic += G_USEC_PER_SEC / 10;
  url = g_strdup_printf ("http://127.0.0.1:%u/", lt_api_server_get_port (f->server));
  msg = soup_message_new ("POST", url);
  bytes = g_bytes_new (query->str, query->len);
  soup_message_set_request_body_from_bytes (msg, "application/x-www-form-urlencoded", bytes);
  g_clear_pointer (&bytes, g_bytes_unref);

  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL,
                                    lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  bytes = soup_session_send_and_read_finish (f->session, result, &error);
  g_assert_no_error (error);

  reply = g_new0 (Reply, 1);
  reply->status = soup_message_get_status (msg);
  reply->body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (g_strcmp0 (soup_message_headers_get_content_type (soup_message_get_response_headers (msg),
                                                        NULL), "text/xml") == 0)
    {
      g_autofree char *root = NULL;
      g_autoptr(GHashTable) counts = NULL;

      lt_test_read_xml (reply->body, &root, &reply->xml_text, &counts);
      return reply;
    }
  reply->node = json_from_string (reply->body, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (reply->node));
  reply->object = json_node_get_object (reply->node);
  g_assert_true (json_object_has_member (reply->object, "RequestId"));
  return reply;
}

static void
reply_replace (Reply **reply,
               Reply  *next)
{
  g_clear_pointer (reply, reply_free);
  *reply = next;
}

#define assert_ok(reply) \
  G_STMT_START { \
    if ((reply)->status != 200) \
      g_test_message ("unexpected reply: %s", (reply)->body); \
    g_assert_cmpuint ((reply)->status, ==, 200); \
  } G_STMT_END

#define assert_error(reply, http_status, code) \
  G_STMT_START { \
    if ((reply)->status != (http_status)) \
      g_test_message ("unexpected reply: %u %s", (reply)->status, (reply)->body); \
    g_assert_cmpuint ((reply)->status, ==, (http_status)); \
    g_assert_cmpstr (json_object_get_string_member ((reply)->object, "Code"), ==, (code)); \
    g_assert_cmpstr (json_object_get_string_member ((reply)->object, "Message"), !=, ""); \
  } G_STMT_END

static void
test_api_actions (ApiFixture    *f,
                  gconstpointer  data)
{
  g_autofree char *long_url = NULL;
  g_autofree char *key = NULL;
  Reply *r;
  JsonObject *config;
  GString *s;

  s = g_string_new ("http://receiver.example.com/");
  while (s->len < 2049)
    g_string_append_c (s, 'a');
  long_url = g_string_free (s, FALSE);

#define CALL(...) (reply_replace (&r, call (f, __VA_ARGS__, NULL)))
  r = NULL;

  /* Add, and its errors. */
  CALL ("AddLiveRecordNotifyConfig", "DomainName", "Live.Example.com", "NotifyUrl", NOTIFY_URL,
        "NeedStatusNotify", "true", "OnDemandUrl", ON_DEMAND);
  assert_ok (r);
  g_assert_true (lt_notify_store_lookup (f->store.store, "live.example.com")->need_status_notify);
  key = lt_notify_store_dup_signing_key (f->store.store, "live.example.com");
  g_assert_nonnull (key);

  CALL ("AddLiveRecordNotifyConfig", "DomainName", "live.example.com", "NotifyUrl", NOTIFY_URL);
  assert_error (r, 400, "ConfigAlreadyExists");
  CALL ("AddLiveRecordNotifyConfig", "DomainName", "b.example.com");
  assert_error (r, 400, "MissingParameter");
  CALL ("AddLiveRecordNotifyConfig", "NotifyUrl", NOTIFY_URL);
  assert_error (r, 400, "MissingParameter");
  CALL ("AddLiveRecordNotifyConfig", "DomainName", "b.example.com", "NotifyUrl", "ftp://x.example.com/");
  assert_error (r, 400, "InvalidNotifyUrl.Malformed");
  CALL ("AddLiveRecordNotifyConfig", "DomainName", "b.example.com", "NotifyUrl", "http://u:p@x.example.com/");
  assert_error (r, 400, "InvalidNotifyUrl.Malformed");
  CALL ("AddLiveRecordNotifyConfig", "DomainName", "b.example.com", "NotifyUrl", long_url);
  assert_error (r, 400, "InvalidNotifyUrl.Malformed");
  CALL ("AddLiveRecordNotifyConfig", "DomainName", "b.example.com", "NotifyUrl", NOTIFY_URL,
        "OnDemandUrl", "gopher://x.example.com/");
  assert_error (r, 400, "InvalidOnDemandUrl.Malformed");
  CALL ("AddLiveRecordNotifyConfig", "DomainName", "b.example.com", "NotifyUrl", NOTIFY_URL,
        "NeedStatusNotify", "maybe");
  assert_error (r, 400, "InvalidParameter");
  CALL ("AddLiveRecordNotifyConfig", "DomainName", "b example.com", "NotifyUrl", NOTIFY_URL);
  assert_error (r, 400, "InvalidDomainName.Malformed");
  g_assert_null (lt_notify_store_lookup (f->store.store, "b.example.com"));

  /* Describe: the settings, never the key. */
  CALL ("DescribeLiveRecordNotifyConfig", "DomainName", "LIVE.example.com");
  assert_ok (r);
  config = json_object_get_object_member (r->object, "LiveRecordNotifyConfig");
  g_assert_nonnull (config);
  g_assert_cmpstr (json_object_get_string_member (config, "DomainName"), ==, "live.example.com");
  g_assert_cmpstr (json_object_get_string_member (config, "NotifyUrl"), ==, NOTIFY_URL);
  g_assert_true (json_object_get_boolean_member (config, "NeedStatusNotify"));
  g_assert_cmpstr (json_object_get_string_member (config, "OnDemandUrl"), ==, ON_DEMAND);
  g_assert_null (strstr (r->body, key));
  CALL ("DescribeLiveRecordNotifyConfig", "DomainName", "live.example.com", "Format", "XML");
  assert_ok (r);
  g_assert_nonnull (r->xml_text);
  g_assert_cmpstr (g_hash_table_lookup (r->xml_text,
                                        "DescribeLiveRecordNotifyConfigResponse/LiveRecordNotifyConfig/NotifyUrl"),
                   ==, NOTIFY_URL);
  g_assert_cmpstr (g_hash_table_lookup (r->xml_text,
                                        "DescribeLiveRecordNotifyConfigResponse/LiveRecordNotifyConfig/NeedStatusNotify"),
                   ==, "true");
  g_assert_null (strstr (r->body, key));
  CALL ("DescribeLiveRecordNotifyConfig", "DomainName", "other.example.com");
  assert_error (r, 404, "InvalidConfig.NotFound");
  CALL ("DescribeLiveRecordNotifyConfig");
  assert_error (r, 400, "MissingParameter");

  /* Update replaces: NeedStatusNotify false and OnDemandUrl removed when absent. */
  CALL ("UpdateLiveRecordNotifyConfig", "DomainName", "live.example.com",
        "NotifyUrl", "https://new.example.com/cb");
  assert_ok (r);
  CALL ("DescribeLiveRecordNotifyConfig", "DomainName", "live.example.com");
  assert_ok (r);
  config = json_object_get_object_member (r->object, "LiveRecordNotifyConfig");
  g_assert_cmpstr (json_object_get_string_member (config, "NotifyUrl"), ==, "https://new.example.com/cb");
  g_assert_false (json_object_get_boolean_member (config, "NeedStatusNotify"));
  g_assert_cmpstr (json_object_get_string_member (config, "OnDemandUrl"), ==, "");
  CALL ("UpdateLiveRecordNotifyConfig", "DomainName", "live.example.com",
        "NotifyUrl", "https://new.example.com/cb", "NeedStatusNotify", "TRUE",
        "OnDemandUrl", "http://127.0.0.1:9/od");
  assert_ok (r);
  g_assert_true (lt_notify_store_lookup (f->store.store, "live.example.com")->need_status_notify);
  g_assert_cmpstr (lt_notify_store_lookup (f->store.store, "live.example.com")->on_demand_url, ==,
                   "http://127.0.0.1:9/od");
  CALL ("UpdateLiveRecordNotifyConfig", "DomainName", "other.example.com", "NotifyUrl", NOTIFY_URL);
  assert_error (r, 404, "InvalidConfig.NotFound");
  CALL ("UpdateLiveRecordNotifyConfig", "DomainName", "live.example.com", "NotifyUrl", "ftp://x/");
  assert_error (r, 400, "InvalidNotifyUrl.Malformed");
  CALL ("UpdateLiveRecordNotifyConfig", "DomainName", "live.example.com");
  assert_error (r, 400, "MissingParameter");
  g_assert_cmpstr (lt_notify_store_lookup (f->store.store, "live.example.com")->notify_url, ==,
                   "https://new.example.com/cb");

  /* Delete. */
  CALL ("DeleteLiveRecordNotifyConfig");
  assert_error (r, 400, "MissingParameter");
  CALL ("DeleteLiveRecordNotifyConfig", "DomainName", "Live.Example.com");
  assert_ok (r);
  g_assert_null (lt_notify_store_lookup (f->store.store, "live.example.com"));
  CALL ("DeleteLiveRecordNotifyConfig", "DomainName", "live.example.com");
  assert_error (r, 404, "InvalidConfig.NotFound");
  CALL ("DescribeLiveRecordNotifyConfig", "DomainName", "live.example.com");
  assert_error (r, 404, "InvalidConfig.NotFound");

  g_clear_pointer (&r, reply_free);
#undef CALL
}

int
main (int   argc,
      char *argv[])
{
  /* GIO's default proxy resolver would read GNOME's proxy settings, whose schema is not
   * in the test's GSETTINGS_SCHEMA_DIR (a fatal error): loopback needs no proxy. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  lt_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/notify-store/add-lookup-reload", test_add_lookup_reload);
  ADD ("/notify-store/update", test_update);
  ADD ("/notify-store/remove", test_remove);
  ADD ("/notify-store/invalid", test_invalid);
  ADD ("/notify-store/duplicate", test_duplicate);
  ADD ("/notify-store/key-not-in-catalog", test_key_not_in_catalog);
  ADD ("/notify-store/row-failure-clears-key", test_row_failure_clears_key);
  ADD ("/notify-store/load-without-key", test_load_without_key);
  ADD ("/notify-store/row-gone", test_row_gone);
#undef ADD
  g_test_add_func ("/notify-store/keyring-failure", test_keyring_failure);
  g_test_add ("/notify-api/actions", ApiFixture, NULL, api_set_up, test_api_actions,
              api_tear_down);

  return g_test_run ();
}
