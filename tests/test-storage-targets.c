/* test-storage-targets.c: the storage targets (LtStorageTargets) over a real catalog in a
 * temporary directory and the session's keyring (tools/test runs the suite under
 * dbus-run-session with an unlocked gnome-keyring) — the built-in "local" target, add,
 * update, pause, remove, reload after reopening, resolving a rule's OssEndpoint by name
 * and host[:port], every validation error and hostile inputs, the secret key only in the
 * keyring (never in the catalog's bytes nor in a log line), a missing keyring failing
 * clearly without blocking anonymous targets, the local test connection, an S3 test
 * connection against a closed port and a server that never answers (bounded by the
 * timeout), and the rule bucket check, also through a rule store wired like the engine's. */
#include "config.h"

#include <string.h>

#include "lt-catalog.h"
#include "lt-rule.h"
#include "lt-rule-store.h"
#include "lt-secret-store.h"
#include "lt-storage-targets.h"
#include "lt-test-utils.h"

#define SECRET "Zq8-storage-secret-4b1e7c0d"
#define SECRET2 "Yx2-rotated-secret-99aa01ff"

/* Every log line of the process, to look for secrets in. */
static GString *captured_logs;

static GLogWriterOutput
capture_writer (GLogLevelFlags   log_level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE"))
      {
        if (fields[i].length < 0)
          g_string_append (captured_logs, fields[i].value);
        else
          g_string_append_len (captured_logs, fields[i].value, fields[i].length);
        g_string_append_c (captured_logs, '\n');
      }
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

typedef struct
{
  char             *dir;
  char             *path;
  char             *root;
  LtCatalog        *catalog;
  LtSecretStore    *secrets;
  LtStorageTargets *targets;
  GPtrArray        *changed;
} Fixture;

static void
changed_cb (LtStorageTargets *targets,
            const char       *name,
            gpointer          user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->changed, g_strdup (name));
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

static gboolean
load_sync (LtStorageTargets  *targets,
           GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_storage_targets_load_async (targets, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_storage_targets_load_finish (targets, result, error);
}

static gboolean
add_sync (LtStorageTargets  *targets,
          LtStorageTarget   *target,
          const char        *secret,
          GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_storage_targets_add_async (targets, target, secret, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_storage_targets_add_finish (targets, result, error);
}

static gboolean
update_sync (LtStorageTargets  *targets,
             LtStorageTarget   *target,
             const char        *secret,
             GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_storage_targets_update_async (targets, target, secret, NULL, lt_test_store_result_cb,
                                   &result);
  lt_test_wait_result (&result);
  return lt_storage_targets_update_finish (targets, result, error);
}

static gboolean
remove_sync (LtStorageTargets  *targets,
             const char        *name,
             GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_storage_targets_remove_async (targets, name, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_storage_targets_remove_finish (targets, result, error);
}

static gboolean
pause_sync (LtStorageTargets  *targets,
            const char        *name,
            gboolean           paused,
            GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_storage_targets_set_paused_async (targets, name, paused, NULL, lt_test_store_result_cb,
                                       &result);
  lt_test_wait_result (&result);
  return lt_storage_targets_set_paused_finish (targets, result, error);
}

static char *
secret_sync (LtStorageTargets  *targets,
             LtStorageTarget   *target,
             GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_storage_targets_lookup_secret_async (targets, target, NULL, lt_test_store_result_cb,
                                          &result);
  lt_test_wait_result (&result);
  return lt_storage_targets_lookup_secret_finish (targets, result, error);
}

static gboolean
test_connection_sync (LtStorageTargets  *targets,
                      LtStorageTarget   *target,
                      const char        *bucket,
                      guint              timeout_ms,
                      GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_storage_targets_test_connection_async (targets, target, bucket, timeout_ms, NULL,
                                            lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_storage_targets_test_connection_finish (targets, result, error);
}

static gboolean
rule_check_sync (LtStorageTargets  *targets,
                 const char        *endpoint,
                 const char        *bucket,
                 GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_storage_targets_check_rule_bucket_async (targets, endpoint, bucket, 3000, NULL,
                                              lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_storage_targets_check_rule_bucket_finish (targets, result, error);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = lt_test_make_temp_dir ();
  f->path = g_build_filename (f->dir, "catalog.db", NULL);
  f->root = g_build_filename (f->dir, "storage", NULL);
  f->catalog = open_catalog (f->path);
  /* The data dir names the keyring scope, as the engine does. */
  f->secrets = lt_secret_store_new (f->dir);
  f->targets = lt_storage_targets_new (f->catalog, f->secrets, f->root);
  f->changed = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (f->targets, "changed", G_CALLBACK (changed_cb), f);
  g_assert_true (load_sync (f->targets, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  /* Leave no keys behind in the session keyring. */
  while (g_list_model_get_n_items (G_LIST_MODEL (f->targets)) > 1)
    {
      g_autoptr(LtStorageTarget) target = g_list_model_get_item (G_LIST_MODEL (f->targets), 1);
      g_autoptr(GError) error = NULL;

      g_assert_true (remove_sync (f->targets, lt_storage_target_get_name (target), &error));
      g_assert_no_error (error);
    }

  g_signal_handlers_disconnect_by_data (f->targets, f);
  g_assert_finalize_object (g_steal_pointer (&f->targets));
  g_clear_object (&f->secrets);
  lt_catalog_close (f->catalog);
  g_clear_object (&f->catalog);
  g_clear_pointer (&f->changed, g_ptr_array_unref);
  g_free (f->root);
  g_free (f->path);
  g_free (f->dir);
}

static LtStorageTarget *
nth (Fixture *f,
     guint    i)
{
  LtStorageTarget *target = g_list_model_get_item (G_LIST_MODEL (f->targets), i);

  /* The list holds it: transfer none for the test's convenience. */
  g_object_unref (target);
  return target;
}

/* ---- the built-in local target ------------------------------------------------------- */

static void
test_local (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(LtStorageTarget) named_local =
    lt_storage_target_new_s3 ("Local", "https://s3.example.com", NULL, NULL, FALSE, NULL);
  g_autoptr(GError) error = NULL;
  LtStorageTarget *local;

  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (f->targets)) ==
                 LT_TYPE_STORAGE_TARGET);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->targets)), ==, 1);
  local = nth (f, 0);
  g_assert_cmpstr (lt_storage_target_get_name (local), ==, "local");
  g_assert_cmpint (lt_storage_target_get_kind (local), ==, LT_STORAGE_TARGET_KIND_LOCAL);
  g_assert_cmpstr (lt_storage_target_get_local_root (local), ==, f->root);
  g_assert_null (lt_storage_target_get_endpoint (local));
  g_assert_null (lt_storage_target_get_access_key_id (local));

  g_assert_true (lt_storage_targets_resolve (f->targets, NULL) == local);
  g_assert_true (lt_storage_targets_resolve (f->targets, "") == local);
  g_assert_true (lt_storage_targets_resolve (f->targets, "local") == local);
  g_assert_true (lt_storage_targets_resolve (f->targets, "LOCAL") == local);
  g_assert_true (lt_storage_targets_lookup (f->targets, "Local") == local);

  /* Never removed, paused, replaced or shadowed. */
  g_assert_false (remove_sync (f->targets, "local", &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_BUILT_IN);
  g_clear_error (&error);
  g_assert_false (remove_sync (f->targets, "LOCAL", &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_BUILT_IN);
  g_clear_error (&error);
  g_assert_false (pause_sync (f->targets, "local", TRUE, &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_BUILT_IN);
  g_clear_error (&error);
  g_assert_false (add_sync (f->targets, named_local, NULL, &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_BUILT_IN);
  g_clear_error (&error);
  g_assert_false (update_sync (f->targets, local, NULL, &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_BUILT_IN);
  g_clear_error (&error);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->targets)), ==, 1);
  g_assert_cmpuint (f->changed->len, ==, 0);
}

/* ---- add, update, pause, remove ----------------------------------------------------- */

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_crud (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(LtStorageTarget) minio =
    lt_storage_target_new_s3 ("MinIO", "HTTP://127.0.0.1:9000/", "eu-west-1", "recordings",
                              TRUE, "AKIAMINIO0001");
  g_autoptr(LtStorageTarget) dup =
    lt_storage_target_new_s3 ("minio", "https://other.example.com", NULL, NULL, FALSE, NULL);
  g_autoptr(LtStorageTarget) anon =
    lt_storage_target_new_s3 ("public", "https://s3.example.com", NULL, NULL, FALSE, NULL);
  g_autoptr(LtStorageTarget) changed =
    lt_storage_target_new_s3 ("minio", "https://minio.example.com:9443", "eu-central-1", NULL,
                              FALSE, "AKIAMINIO0002");
  g_autoptr(LtStorageTarget) missing =
    lt_storage_target_new_s3 ("missing", "https://s3.example.com", NULL, NULL, FALSE, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *secret = NULL;
  LtStorageTarget *target;
  guint notifies = 0;

  g_assert_true (add_sync (f->targets, minio, SECRET, &error));
  g_assert_no_error (error);
  g_assert_true (add_sync (f->targets, anon, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->targets)), ==, 3);
  g_assert_cmpuint (f->changed->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (f->changed, 0), ==, "minio");

  /* "local" first, then by name; the name folded to lower case, the endpoint normalized. */
  g_assert_cmpstr (lt_storage_target_get_name (nth (f, 1)), ==, "minio");
  g_assert_cmpstr (lt_storage_target_get_name (nth (f, 2)), ==, "public");
  target = lt_storage_targets_lookup (f->targets, "MINIO");
  g_assert_true (target == nth (f, 1));
  g_assert_cmpint (lt_storage_target_get_kind (target), ==, LT_STORAGE_TARGET_KIND_S3);
  g_assert_cmpstr (lt_storage_target_get_endpoint (target), ==, "http://127.0.0.1:9000");
  g_assert_cmpstr (lt_storage_target_get_host (target), ==, "127.0.0.1");
  g_assert_cmpuint (lt_storage_target_get_port (target), ==, 9000);
  g_assert_false (lt_storage_target_get_use_tls (target));
  g_assert_true (lt_storage_target_get_path_style (target));
  g_assert_cmpstr (lt_storage_target_get_region (target), ==, "eu-west-1");
  g_assert_cmpstr (lt_storage_target_get_bucket (target), ==, "recordings");
  g_assert_cmpstr (lt_storage_target_get_access_key_id (target), ==, "AKIAMINIO0001");
  g_assert_false (lt_storage_target_get_paused (target));
  g_assert_cmpint (lt_storage_target_get_state (target), ==, LT_STORAGE_TARGET_STATE_UNKNOWN);
  target = lt_storage_targets_lookup (f->targets, "public");
  g_assert_cmpstr (lt_storage_target_get_region (target), ==, "us-east-1");
  g_assert_true (lt_storage_target_get_use_tls (target));
  g_assert_cmpuint (lt_storage_target_get_port (target), ==, 443);
  g_assert_null (lt_storage_target_get_access_key_id (target));

  /* The key is in the keyring; anonymous targets have an empty one. */
  secret = secret_sync (f->targets, nth (f, 1), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, SECRET);
  g_clear_pointer (&secret, g_free);
  secret = secret_sync (f->targets, nth (f, 2), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, "");
  g_clear_pointer (&secret, g_free);

  /* One name, whatever its case. */
  g_assert_false (add_sync (f->targets, dup, NULL, &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->targets)), ==, 3);
  /* …and the first target's key is untouched. */
  secret = secret_sync (f->targets, nth (f, 1), &error);
  g_assert_cmpstr (secret, ==, SECRET);
  g_clear_pointer (&secret, g_free);

  /* Update: the same object changes and notifies; a new key replaces the old one. */
  target = nth (f, 1);
  g_signal_connect (target, "notify::endpoint", G_CALLBACK (count_notify_cb), &notifies);
  g_assert_true (update_sync (f->targets, changed, SECRET2, &error));
  g_assert_no_error (error);
  g_assert_true (nth (f, 1) == target);
  g_assert_cmpuint (notifies, ==, 1);
  g_assert_cmpstr (lt_storage_target_get_endpoint (target), ==, "https://minio.example.com:9443");
  g_assert_cmpstr (lt_storage_target_get_region (target), ==, "eu-central-1");
  g_assert_null (lt_storage_target_get_bucket (target));
  g_assert_false (lt_storage_target_get_path_style (target));
  g_assert_true (lt_storage_target_get_use_tls (target));
  secret = secret_sync (f->targets, target, &error);
  g_assert_cmpstr (secret, ==, SECRET2);
  g_clear_pointer (&secret, g_free);
  g_signal_handlers_disconnect_by_func (target, count_notify_cb, &notifies);

  g_assert_false (update_sync (f->targets, missing, NULL, &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Pause and resume. */
  g_assert_true (pause_sync (f->targets, "minio", TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (lt_storage_target_get_paused (target));
  g_assert_cmpint (lt_storage_target_get_state (target), ==, LT_STORAGE_TARGET_STATE_PAUSED);
  g_assert_true (pause_sync (f->targets, "minio", FALSE, &error));
  g_assert_false (lt_storage_target_get_paused (target));
  g_assert_false (pause_sync (f->targets, "missing", TRUE, &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The sync engine's view of the target. */
  lt_storage_target_set_state (target, LT_STORAGE_TARGET_STATE_FAILING, "403 AccessDenied");
  g_assert_cmpint (lt_storage_target_get_state (target), ==, LT_STORAGE_TARGET_STATE_FAILING);
  g_assert_cmpstr (lt_storage_target_get_last_error (target), ==, "403 AccessDenied");

  /* Remove: gone from the list, the catalog and the keyring. */
  g_ptr_array_set_size (f->changed, 0);
  g_object_ref (target);
  g_assert_true (remove_sync (f->targets, "MinIO", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->targets)), ==, 2);
  g_assert_null (lt_storage_targets_lookup (f->targets, "minio"));
  g_assert_cmpuint (f->changed->len, ==, 1);
  g_assert_null (secret_sync (f->targets, target, &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_object_unref (target);
  g_assert_false (remove_sync (f->targets, "minio", &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_NOT_FOUND);
}

/* ---- reopen ---------------------------------------------------------------------------- */

static void
test_persistence (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(LtStorageTarget) a =
    lt_storage_target_new_s3 ("ceph", "http://[::1]:7480", "default", "vod", TRUE, "CEPHKEY");
  g_autoptr(LtStorageTarget) b =
    lt_storage_target_new_s3 ("aws", "https://s3.eu-west-1.amazonaws.com", "eu-west-1", NULL,
                              FALSE, "AKIAAWS00000001");
  g_autoptr(LtCatalog) catalog = NULL;
  g_autoptr(LtStorageTargets) reopened = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *secret = NULL;
  LtStorageTarget *target;

  g_assert_true (add_sync (f->targets, a, SECRET, &error));
  g_assert_true (add_sync (f->targets, b, SECRET2, &error));
  g_assert_true (pause_sync (f->targets, "ceph", TRUE, &error));
  g_assert_no_error (error);

  lt_catalog_close (f->catalog);
  catalog = open_catalog (f->path);
  reopened = lt_storage_targets_new (catalog, f->secrets, f->root);
  g_assert_true (load_sync (reopened, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reopened)), ==, 3);
  target = lt_storage_targets_lookup (reopened, "ceph");
  g_assert_nonnull (target);
  g_assert_cmpstr (lt_storage_target_get_endpoint (target), ==, "http://[::1]:7480");
  g_assert_cmpstr (lt_storage_target_get_host (target), ==, "::1");
  g_assert_cmpuint (lt_storage_target_get_port (target), ==, 7480);
  g_assert_cmpstr (lt_storage_target_get_region (target), ==, "default");
  g_assert_cmpstr (lt_storage_target_get_bucket (target), ==, "vod");
  g_assert_true (lt_storage_target_get_path_style (target));
  g_assert_true (lt_storage_target_get_paused (target));
  g_assert_cmpint (lt_storage_target_get_state (target), ==, LT_STORAGE_TARGET_STATE_PAUSED);
  g_assert_cmpstr (lt_storage_target_get_access_key_id (target), ==, "CEPHKEY");
  secret = secret_sync (reopened, target, &error);
  g_assert_cmpstr (secret, ==, SECRET);
  g_clear_pointer (&secret, g_free);

  target = lt_storage_targets_lookup (reopened, "aws");
  g_assert_nonnull (target);
  g_assert_false (lt_storage_target_get_paused (target));
  secret = secret_sync (reopened, target, &error);
  g_assert_cmpstr (secret, ==, SECRET2);
  g_clear_pointer (&secret, g_free);

  /* The fixture removes the targets (and their keys) through its own store. */
  g_assert_finalize_object (g_steal_pointer (&reopened));
  lt_catalog_close (catalog);
  g_clear_object (&f->catalog);
  f->catalog = open_catalog (f->path);
  g_signal_handlers_disconnect_by_data (f->targets, f);
  g_assert_finalize_object (g_steal_pointer (&f->targets));
  f->targets = lt_storage_targets_new (f->catalog, f->secrets, f->root);
  g_signal_connect (f->targets, "changed", G_CALLBACK (changed_cb), f);
  g_assert_true (load_sync (f->targets, &error));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->targets)), ==, 3);
}

/* ---- resolve ------------------------------------------------------------------------- */

static void
test_resolve (Fixture       *f,
              gconstpointer  data)
{
  const struct
  {
    const char *name;
    const char *endpoint;
  } targets[] = {
    { "minio", "http://127.0.0.1:9000" },
    { "aws", "https://s3.amazonaws.com" },
    { "v6", "http://[::1]:9000" },
    { "plain", "http://storage.example.com" },
  };
  const struct
  {
    const char *endpoint;
    const char *expected;   /* NULL: no target */
  } cases[] = {
    { "minio", "minio" },
    { "MinIO", "minio" },
    { "127.0.0.1:9000", "minio" },
    { "127.0.0.1", NULL },           /* the target is not on the default port */
    { "127.0.0.1:9001", NULL },
    { "s3.amazonaws.com", "aws" },
    { "S3.AmazonAWS.com", "aws" },
    { "s3.amazonaws.com:443", "aws" },
    { "s3.amazonaws.com:80", NULL },
    { "[::1]:9000", "v6" },
    { "[::1]", NULL },
    { "storage.example.com", "plain" },
    { "storage.example.com:80", "plain" },
    { "other.example.com", NULL },
    { "local", "local" },
    { "nope", NULL },
    { "127.0.0.1:99999", NULL },
    { "127.0.0.1:x", NULL },
    { "[::1", NULL },
    { "a:b:c", NULL },
  };
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      g_autoptr(LtStorageTarget) target =
        lt_storage_target_new_s3 (targets[i].name, targets[i].endpoint, NULL, NULL, TRUE, NULL);

      g_assert_true (add_sync (f->targets, target, NULL, &error));
      g_assert_no_error (error);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      LtStorageTarget *target = lt_storage_targets_resolve (f->targets, cases[i].endpoint);

      g_test_message ("resolve %s", cases[i].endpoint);
      if (cases[i].expected == NULL)
        g_assert_null (target);
      else
        {
          g_assert_nonnull (target);
          g_assert_cmpstr (lt_storage_target_get_name (target), ==, cases[i].expected);
        }
    }
}

/* ---- validation ---------------------------------------------------------------------- */

static void
test_validation (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *long_name = g_strnfill (64, 'a');
  g_autofree char *max_name = g_strnfill (63, 'a');
  g_autofree char *long_region = g_strnfill (64, 'r');
  g_autofree char *long_key_id = g_strnfill (129, 'K');
  g_autofree char *long_host = g_strnfill (250, 'h');
  g_autofree char *long_endpoint = g_strdup_printf ("https://%s.example.com", long_host);
  g_autofree char *long_secret = g_strnfill (LT_STORAGE_TARGET_SECRET_MAX + 1, 's');
  const struct
  {
    const char *name;
    const char *endpoint;
    const char *region;
    const char *bucket;
    const char *key_id;
    const char *secret;
    int         code;       /* -1: valid */
  } cases[] = {
    { "ok", "https://s3.example.com", NULL, NULL, NULL, NULL, -1 },
    { "ok-2", "http://10.0.0.1:9000", "cn-hangzhou", "my.bucket-1", "AK+id=x~y_z.", "s", -1 },
    { max_name, "https://s3.example.com", NULL, NULL, NULL, NULL, -1 },
    { "Upper", "https://s3.example.com", NULL, NULL, NULL, NULL, -1 },   /* folded */
    /* names */
    { "", "https://s3.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_NAME },
    { NULL, "https://s3.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_NAME },
    { long_name, "https://s3.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_NAME },
    { "-dash", "https://s3.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_NAME },
    { "a_b", "https://s3.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_NAME },
    { "a.b", "https://s3.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_NAME },
    { "a b", "https://s3.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_NAME },
    { "../etc", "https://s3.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_NAME },
    { "a\nb", "https://s3.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_NAME },
    { "ünï", "https://s3.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_NAME },
    { "a'; DROP TABLE storage_targets;--", "https://s3.example.com", NULL, NULL, NULL, NULL,
      LT_STORAGE_TARGETS_ERROR_INVALID_NAME },
    { "local", "https://s3.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_BUILT_IN },
    /* endpoints */
    { "e", NULL, NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "s3.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "ftp://s3.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "file:///etc/passwd", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "javascript:alert(1)", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "http://", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "http://user:pw@s3.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "http://s3.example.com/bucket", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "http://s3.example.com?x=1", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "http://s3.example.com#f", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "http://s3.example.com:0", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "http://s3.example.com:65536", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "http://s3 .example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "http://s3.example.com\r\nHost: evil", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "http://s3%2eexample.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "http://s3_x.example.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "http://[zz::1]:9000", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", "http://exämple.com", NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    { "e", long_endpoint, NULL, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_ENDPOINT },
    /* regions */
    { "r", "https://s3.example.com", "us east", NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_REGION },
    { "r", "https://s3.example.com", "us/east", NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_REGION },
    { "r", "https://s3.example.com", long_region, NULL, NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_REGION },
    /* buckets */
    { "b", "https://s3.example.com", NULL, "AB", NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_BUCKET },
    { "b", "https://s3.example.com", NULL, "ab", NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_BUCKET },
    { "b", "https://s3.example.com", NULL, "1.2.3.4", NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_BUCKET },
    { "b", "https://s3.example.com", NULL, "a..b", NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_BUCKET },
    { "b", "https://s3.example.com", NULL, "../up", NULL, NULL, LT_STORAGE_TARGETS_ERROR_INVALID_BUCKET },
    /* access key ids */
    { "k", "https://s3.example.com", NULL, NULL, "AK ID", "s", LT_STORAGE_TARGETS_ERROR_INVALID_ACCESS_KEY_ID },
    { "k", "https://s3.example.com", NULL, NULL, "AK/ID", "s", LT_STORAGE_TARGETS_ERROR_INVALID_ACCESS_KEY_ID },
    { "k", "https://s3.example.com", NULL, NULL, "AK\nID", "s", LT_STORAGE_TARGETS_ERROR_INVALID_ACCESS_KEY_ID },
    { "k", "https://s3.example.com", NULL, NULL, long_key_id, "s", LT_STORAGE_TARGETS_ERROR_INVALID_ACCESS_KEY_ID },
    /* secrets */
    { "s", "https://s3.example.com", NULL, NULL, "AKID", NULL, LT_STORAGE_TARGETS_ERROR_INVALID_SECRET },
    { "s", "https://s3.example.com", NULL, NULL, "AKID", "", LT_STORAGE_TARGETS_ERROR_INVALID_SECRET },
    { "s", "https://s3.example.com", NULL, NULL, NULL, "orphan", LT_STORAGE_TARGETS_ERROR_INVALID_SECRET },
    { "s", "https://s3.example.com", NULL, NULL, "AKID", "a\nb", LT_STORAGE_TARGETS_ERROR_INVALID_SECRET },
    { "s", "https://s3.example.com", NULL, NULL, "AKID", "a\x01" "b", LT_STORAGE_TARGETS_ERROR_INVALID_SECRET },
    { "s", "https://s3.example.com", NULL, NULL, "AKID", "\xff\xfe", LT_STORAGE_TARGETS_ERROR_INVALID_SECRET },
    { "s", "https://s3.example.com", NULL, NULL, "AKID", long_secret, LT_STORAGE_TARGETS_ERROR_INVALID_SECRET },
  };
  g_autoptr(GError) error = NULL;
  guint valid = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LtStorageTarget) target =
        lt_storage_target_new_s3 (cases[i].name, cases[i].endpoint, cases[i].region,
                                  cases[i].bucket, FALSE, cases[i].key_id);
      gboolean ok;

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      ok = add_sync (f->targets, target, cases[i].secret, &error);
      if (cases[i].code < 0)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          valid++;
        }
      else
        {
          g_assert_false (ok);
          g_assert_error (error, LT_STORAGE_TARGETS_ERROR, cases[i].code);
          /* A message for a person, naming no secret. */
          g_assert_cmpuint (strlen (error->message), >, 10);
          if (cases[i].secret != NULL && strlen (cases[i].secret) > 2)
            g_assert_null (strstr (error->message, cases[i].secret));
          g_clear_error (&error);
        }
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->targets)), ==, 1 + valid);
    }

  g_assert_nonnull (lt_storage_targets_lookup (f->targets, "upper"));
  g_assert_true (lt_storage_target_check_name ("abc", NULL));
  g_assert_false (lt_storage_target_check_name ("local", NULL));
}

/* Every hostile name of the shared list is either refused as a target name or a plain
 * [a-z0-9-] name. */
static void
test_hostile_names (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "hostile-names.txt", NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(LtStorageTarget) target =
        lt_storage_target_new_s3 (lines[i], "https://s3.example.com", lines[i], NULL, FALSE,
                                  lines[i]);
      g_autofree char *endpoint = g_strdup_printf ("https://%s", lines[i]);
      g_autoptr(LtStorageTarget) by_endpoint =
        lt_storage_target_new_s3 ("x", endpoint, NULL, NULL, FALSE, NULL);

      if (lt_storage_target_check (target, &error))
        {
          const char *name = lt_storage_target_get_name (target);

          for (const char *p = name; *p != '\0'; p++)
            g_assert_true (g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '-');
        }
      g_clear_error (&error);
      if (lt_storage_target_check (by_endpoint, &error))
        {
          const char *host = lt_storage_target_get_host (by_endpoint);

          for (const char *p = host; *p != '\0'; p++)
            g_assert_true (g_ascii_isalnum (*p) || *p == '-' || *p == '.' || *p == ':');
        }
      g_clear_error (&error);
      /* Never a target, never a crash. */
      g_assert_true (lt_storage_targets_resolve (f->targets, lines[i]) == NULL ||
                     lines[i][0] == '\0' || g_ascii_strcasecmp (lines[i], "local") == 0);
    }
}

/* ---- the secret key only in the keyring --------------------------------------------- */

static gboolean
file_contains (const char *path,
               const char *needle)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  gsize needle_len = strlen (needle);

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return FALSE;
  for (gsize i = 0; i + needle_len <= length; i++)
    if (memcmp (contents + i, needle, needle_len) == 0)
      return TRUE;
  return FALSE;
}

static void
assert_dir_free_of (const char *dir,
                    const char *needle)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        assert_dir_free_of (path, needle);
      else
        {
          g_test_message ("looking for the secret in %s", path);
          g_assert_false (file_contains (path, needle));
        }
    }
}

static void
test_secret_only_in_keyring (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(LtStorageTarget) target =
    lt_storage_target_new_s3 ("vault", "https://s3.example.com", NULL, "bucket-one", FALSE,
                              "AKIAVAULT");
  g_autoptr(LtStorageTarget) bad =
    lt_storage_target_new_s3 ("vault", "https://s3.example.com", NULL, NULL, FALSE, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *wal = NULL;

  g_assert_true (add_sync (f->targets, target, SECRET, &error));
  g_assert_no_error (error);
  g_assert_true (update_sync (f->targets, target, SECRET2, &error));
  g_assert_no_error (error);
  /* A refused secret (no key id) is not echoed either. */
  g_assert_false (update_sync (f->targets, bad, SECRET, &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_INVALID_SECRET);
  g_assert_null (strstr (error->message, SECRET));
  g_clear_error (&error);

  secret = secret_sync (f->targets, nth (f, 1), &error);
  g_assert_cmpstr (secret, ==, SECRET2);

  /* Catalog (with its WAL) and every other file in the data dir, before and after a
   * checkpoint. */
  wal = g_strconcat (f->path, "-wal", NULL);
  assert_dir_free_of (f->dir, SECRET);
  assert_dir_free_of (f->dir, SECRET2);
  lt_catalog_close (f->catalog);
  assert_dir_free_of (f->dir, SECRET);
  assert_dir_free_of (f->dir, SECRET2);
  /* The search does find what the catalog does keep. */
  g_assert_true (file_contains (f->path, "AKIAVAULT"));
  g_clear_object (&f->catalog);
  f->catalog = open_catalog (f->path);

  g_assert_null (strstr (captured_logs->str, SECRET));
  g_assert_null (strstr (captured_logs->str, SECRET2));

  /* The fixture's store still uses the closed catalog: start over on the reopened one. */
  g_signal_handlers_disconnect_by_data (f->targets, f);
  g_assert_finalize_object (g_steal_pointer (&f->targets));
  f->targets = lt_storage_targets_new (f->catalog, f->secrets, f->root);
  g_assert_true (load_sync (f->targets, &error));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->targets)), ==, 2);
}

/* No keyring at all: a keyed target is refused with KEYRING and leaves nothing behind; an
 * anonymous one is added all the same. */
static void
test_keyring_missing (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = lt_test_make_temp_dir ();
      g_autofree char *path = g_build_filename (dir, "catalog.db", NULL);
      g_autofree char *root = g_build_filename (dir, "storage", NULL);
      g_autofree char *address = g_strdup_printf ("unix:path=%s/no-such-bus", dir);
      g_autoptr(LtStorageTarget) keyed =
        lt_storage_target_new_s3 ("keyed", "https://s3.example.com", NULL, NULL, FALSE, "AKID");
      g_autoptr(LtStorageTarget) anon =
        lt_storage_target_new_s3 ("anon", "https://s3.example.com", NULL, NULL, FALSE, NULL);
      g_autoptr(LtCatalog) catalog = NULL;
      g_autoptr(LtSecretStore) secrets = NULL;
      g_autoptr(LtStorageTargets) targets = NULL;
      g_autoptr(LtStorageTargets) reloaded = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *secret = NULL;

      g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
      catalog = open_catalog (path);
      secrets = lt_secret_store_new (dir);
      lt_secret_store_set_timeout (secrets, 2000);
      targets = lt_storage_targets_new (catalog, secrets, root);
      g_assert_true (load_sync (targets, &error));
      g_assert_no_error (error);

      g_assert_false (add_sync (targets, keyed, SECRET, &error));
      g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_KEYRING);
      g_assert_nonnull (strstr (error->message, "keyed"));
      g_assert_null (strstr (error->message, SECRET));
      g_clear_error (&error);
      g_assert_null (lt_storage_targets_lookup (targets, "keyed"));

      g_assert_true (add_sync (targets, anon, NULL, &error));
      g_assert_no_error (error);
      secret = secret_sync (targets, lt_storage_targets_lookup (targets, "anon"), &error);
      g_assert_cmpstr (secret, ==, "");

      reloaded = lt_storage_targets_new (catalog, secrets, root);
      g_assert_true (load_sync (reloaded, &error));
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reloaded)), ==, 2);
      g_assert_null (lt_storage_targets_lookup (reloaded, "keyed"));

      g_assert_finalize_object (g_steal_pointer (&reloaded));
      g_assert_finalize_object (g_steal_pointer (&targets));
      lt_catalog_close (catalog);
      return;
    }

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* ---- test connection and the rule check --------------------------------------------- */

static void
test_connection_local (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *bucket_dir = g_build_filename (f->root, "shows", NULL);
  g_autofree char *taken = g_build_filename (f->root, "taken", NULL);
  g_autoptr(GError) error = NULL;
  LtStorageTarget *local = nth (f, 0);

  g_assert_true (test_connection_sync (f->targets, local, "shows", 0, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (bucket_dir, G_FILE_TEST_IS_DIR));

  g_assert_true (g_file_set_contents (taken, "x", 1, NULL));
  g_assert_false (test_connection_sync (f->targets, local, "taken", 0, &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_NOT_WRITABLE);
  g_clear_error (&error);

  g_assert_false (test_connection_sync (f->targets, local, NULL, 0, &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_INVALID_BUCKET);
  g_clear_error (&error);
  g_assert_false (test_connection_sync (f->targets, local, "../x", 0, &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_INVALID_BUCKET);
}

/* A port nobody listens on: picked by binding and closing a socket. */
static guint16
closed_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, &error);

  g_assert_no_error (error);
  g_socket_listener_close (listener);
  return port;
}

static gboolean
accept_and_hold_cb (GSocketService     *service,
                    GSocketConnection  *connection,
                    GObject            *source,
                    gpointer            user_data)
{
  /* Keep the connection open and never answer. */
  g_ptr_array_add (user_data, g_object_ref (connection));
  return TRUE;
}

static void
test_connection_s3_unreachable (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *refused_url = g_strdup_printf ("http://127.0.0.1:%u", closed_port ());
  g_autoptr(LtStorageTarget) refused =
    lt_storage_target_new_s3 ("refused", refused_url, NULL, "bucket", TRUE, "AKIDREFUSED");
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *silent_url = NULL;
  g_autoptr(LtStorageTarget) silent = NULL;
  g_autoptr(GError) error = NULL;
  guint16 silent_port;
  gint64 start;

  g_assert_true (add_sync (f->targets, refused, SECRET, &error));
  g_assert_no_error (error);
  g_assert_false (test_connection_sync (f->targets, nth (f, 1), NULL, 5000, &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, "refused"));
  g_assert_null (strstr (error->message, SECRET));
  g_clear_error (&error);

  /* The rule check says why it refuses. */
  g_assert_false (rule_check_sync (f->targets, "refused", "bucket", &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND);
  g_clear_error (&error);

  /* A server that accepts and never answers: the timeout ends the test in time. */
  silent_port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (accept_and_hold_cb), held);
  g_socket_service_start (service);
  silent_url = g_strdup_printf ("http://127.0.0.1:%u", silent_port);
  silent = lt_storage_target_new_s3 ("silent", silent_url, NULL, "bucket", TRUE, "AKIDSILENT");
  g_assert_true (add_sync (f->targets, silent, SECRET, &error));
  g_assert_no_error (error);

  start = g_get_monotonic_time ();
  g_assert_false (test_connection_sync (f->targets, lt_storage_targets_lookup (f->targets,
                                                                               "silent"),
                                        NULL, 1000, &error));
  g_assert_error (error, LT_STORAGE_TARGETS_ERROR, LT_STORAGE_TARGETS_ERROR_UNREACHABLE);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_clear_error (&error);

  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
}

static void
test_rule_check (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *bucket_dir = g_build_filename (f->root, "recordings", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (rule_check_sync (f->targets, "local", "recordings", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (bucket_dir, G_FILE_TEST_IS_DIR));
  g_assert_true (rule_check_sync (f->targets, "LOCAL", "recordings", &error));
  g_assert_no_error (error);

  g_assert_false (rule_check_sync (f->targets, "s3.example.com", "recordings", &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "s3.example.com"));
  g_clear_error (&error);

  g_assert_false (rule_check_sync (f->targets, "local", "..", &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED);
  g_clear_error (&error);

  /* A target another process added to the catalog (livetape --add-storage-target while
   * the daemon runs) is found: the check reloads before it says "no such target". */
  {
    g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u", closed_port ());
    g_autoptr(LtStorageTarget) late =
      lt_storage_target_new_s3 ("late", url, NULL, NULL, TRUE, NULL);
    g_autoptr(LtStorageTargets) other =
      lt_storage_targets_new (f->catalog, f->secrets, f->root);
    g_autoptr(LtStorageTarget) kept =
      lt_storage_target_new_s3 ("kept", "https://s3.example.com", NULL, NULL, FALSE, NULL);
    LtStorageTarget *kept_item;

    g_assert_true (add_sync (f->targets, kept, NULL, &error));
    kept_item = lt_storage_targets_lookup (f->targets, "kept");
    lt_storage_target_set_state (kept_item, LT_STORAGE_TARGET_STATE_FAILING, "down");

    g_assert_true (load_sync (other, &error));
    g_assert_true (add_sync (other, late, NULL, &error));
    g_assert_no_error (error);
    g_assert_finalize_object (g_steal_pointer (&other));
    g_assert_null (lt_storage_targets_lookup (f->targets, "late"));

    g_assert_false (rule_check_sync (f->targets, "late", "recordings", &error));
    g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND);
    g_assert_null (strstr (error->message, "No storage target"));
    g_assert_nonnull (strstr (error->message, "cannot be checked"));
    g_assert_nonnull (lt_storage_targets_lookup (f->targets, "late"));
    /* The reload kept the objects that were there, with their run-time state. */
    g_assert_true (lt_storage_targets_lookup (f->targets, "kept") == kept_item);
    g_assert_cmpint (lt_storage_target_get_state (kept_item), ==,
                     LT_STORAGE_TARGET_STATE_FAILING);
  }
}

/* The rule store asks the targets (as the engine wires it): a rule is stored only when its
 * bucket checks out. */
static void
rule_store_check_async (const char          *endpoint,
                        const char          *bucket,
                        gpointer             user_data,
                        GAsyncReadyCallback  callback,
                        gpointer             callback_data)
{
  lt_storage_targets_check_rule_bucket_async (user_data, endpoint, bucket, 3000, NULL, callback,
                                              callback_data);
}

static gboolean
rule_store_check_finish (GAsyncResult  *result,
                         gpointer       user_data,
                         GError       **error)
{
  return lt_storage_targets_check_rule_bucket_finish (user_data, result, error);
}

static LtRule *
make_rule (const char *app,
           const char *endpoint,
           const char *bucket)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GError) error = NULL;
  LtRule *rule;

  g_hash_table_insert (params, (char *) "DomainName", (char *) "live.example.com");
  g_hash_table_insert (params, (char *) "AppName", (char *) app);
  g_hash_table_insert (params, (char *) "OssEndpoint", (char *) endpoint);
  g_hash_table_insert (params, (char *) "OssBucket", (char *) bucket);
  g_hash_table_insert (params, (char *) "RecordFormat.1.Format", (char *) "m3u8");
  rule = lt_rule_new_from_params (params, now, &error);
  g_assert_no_error (error);
  return rule;
}

static gboolean
add_rule_sync (LtRuleStore  *store,
               LtRule       *rule,
               GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_rule_store_add_async (store, rule, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_rule_store_add_finish (store, result, error);
}

static void
test_rule_store (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u", closed_port ());
  g_autoptr(LtStorageTarget) down =
    lt_storage_target_new_s3 ("down", url, NULL, NULL, TRUE, "AKIDDOWN");
  g_autoptr(LtRuleStore) store = lt_rule_store_new (f->catalog);
  g_autoptr(LtRule) local = make_rule ("a", "local", "recordings");
  g_autoptr(LtRule) nowhere = make_rule ("b", "s3.example.com", "recordings");
  g_autoptr(LtRule) unreachable = make_rule ("c", "down", "recordings");
  g_autoptr(GAsyncResult) loaded = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (add_sync (f->targets, down, SECRET, &error));
  lt_rule_store_set_bucket_check_async (store, rule_store_check_async, rule_store_check_finish,
                                        g_object_ref (f->targets), g_object_unref);
  lt_rule_store_load_async (store, NULL, lt_test_store_result_cb, &loaded);
  lt_test_wait_result (&loaded);
  g_assert_true (lt_rule_store_load_finish (store, loaded, &error));
  g_clear_object (&loaded);

  g_assert_true (add_rule_sync (store, local, &error));
  g_assert_no_error (error);
  g_assert_false (add_rule_sync (store, nowhere, &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (add_rule_sync (store, unreachable, &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "Cannot reach"));
  g_assert_null (strstr (error->message, SECRET));
  g_clear_error (&error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 1);

  g_assert_finalize_object (g_steal_pointer (&store));
}

int
main (int   argc,
      char *argv[])
{
  lt_test_init (&argc, &argv);
  captured_logs = g_string_new (NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);

#define ADD(path, func) \
  g_test_add ("/storage-targets/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("local", test_local);
  ADD ("crud", test_crud);
  ADD ("persistence", test_persistence);
  ADD ("resolve", test_resolve);
  ADD ("validation", test_validation);
  ADD ("hostile-names", test_hostile_names);
  ADD ("secret-only-in-keyring", test_secret_only_in_keyring);
  ADD ("test-connection-local", test_connection_local);
  ADD ("test-connection-s3-unreachable", test_connection_s3_unreachable);
  ADD ("rule-check", test_rule_check);
  ADD ("rule-store", test_rule_store);
  g_test_add_func ("/storage-targets/keyring-missing", test_keyring_missing);

#undef ADD

  return g_test_run ();
}
