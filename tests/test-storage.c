/* test-storage.c: the built-in local storage target and the bucket check that the rule
 * store runs before a rule is stored (InvalidOssBucket.NotFound). */
#include "config.h"

#include <glib/gstdio.h>

#include "lt-catalog.h"
#include "lt-rule-store.h"
#include "lt-storage.h"
#include "lt-test-utils.h"

static void
test_default_root (void)
{
  g_autofree char *root = lt_storage_default_local_root ("/srv/livetape");
  g_autofree char *home_root = lt_storage_default_local_root (NULL);

  g_assert_cmpstr (root, ==, "/srv/livetape/storage");
  g_assert_true (g_str_has_suffix (home_root, G_DIR_SEPARATOR_S "Livetape"));
  g_assert_true (g_path_is_absolute (home_root));
}

static void
test_local_endpoint (void)
{
  g_assert_true (lt_storage_is_local_endpoint ("local"));
  g_assert_true (lt_storage_is_local_endpoint ("LOCAL"));
  g_assert_false (lt_storage_is_local_endpoint ("local.example.com"));
  g_assert_false (lt_storage_is_local_endpoint ("s3.amazonaws.com"));
  g_assert_false (lt_storage_is_local_endpoint (NULL));
}

static void
test_prepare_bucket (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *root = g_build_filename (dir, "storage", NULL);
  g_autofree char *bucket_dir = g_build_filename (root, "shows", NULL);
  g_autofree char *occupied = g_build_filename (root, "taken", NULL);
  g_autofree char *file_root = g_build_filename (dir, "not-a-dir", NULL);
  g_autofree char *elsewhere = g_build_filename (root, "elsewhere", NULL);
  g_autoptr(GError) error = NULL;

  /* Created when needed, and fine when it exists. */
  g_assert_true (lt_storage_prepare_bucket (root, "local", "shows", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (bucket_dir, G_FILE_TEST_IS_DIR));
  g_assert_true (lt_storage_prepare_bucket (root, "local", "shows", &error));
  g_assert_no_error (error);

  /* A file where the bucket folder would be. */
  g_assert_true (g_file_set_contents (occupied, "x", 1, NULL));
  g_assert_false (lt_storage_prepare_bucket (root, "local", "taken", &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND);
  g_clear_error (&error);

  /* A root that cannot hold folders. */
  g_assert_true (g_file_set_contents (file_root, "x", 1, NULL));
  g_assert_false (lt_storage_prepare_bucket (file_root, "local", "shows", &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND);
  g_clear_error (&error);

  /* No target behind the endpoint: nothing is created anywhere. */
  g_assert_false (lt_storage_prepare_bucket (root, "s3.example.com", "elsewhere", &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (g_file_test (elsewhere, G_FILE_TEST_EXISTS));

  /* Never a path outside the root, even if a caller skipped the rule model. */
  g_assert_false (lt_storage_prepare_bucket (root, "local", "..", &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED);
  g_clear_error (&error);
  g_assert_false (lt_storage_prepare_bucket (root, "local", "a/b", &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED);
}

static gboolean
check_cb (const char  *endpoint,
          const char  *bucket,
          gpointer     user_data,
          GError     **error)
{
  return lt_storage_prepare_bucket (user_data, endpoint, bucket, error);
}

static LtRule *
make_rule (const char *endpoint,
           const char *bucket)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GError) error = NULL;
  LtRule *rule;

  g_hash_table_insert (params, (char *) "DomainName", (char *) "live.example.com");
  g_hash_table_insert (params, (char *) "AppName", (char *) "news");
  g_hash_table_insert (params, (char *) "OssEndpoint", (char *) endpoint);
  g_hash_table_insert (params, (char *) "OssBucket", (char *) bucket);
  g_hash_table_insert (params, (char *) "RecordFormat.1.Format", (char *) "m3u8");
  rule = lt_rule_new_from_params (params, now, &error);
  g_assert_no_error (error);
  return rule;
}

static void
test_rule_store_check (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "catalog.db", NULL);
  g_autofree char *root = g_build_filename (dir, "storage", NULL);
  g_autofree char *bucket_dir = g_build_filename (root, "recordings", NULL);
  g_autoptr(LtCatalog) catalog = lt_catalog_new (path);
  g_autoptr(LtRuleStore) store = NULL;
  g_autoptr(LtRule) remote = make_rule ("s3.example.com", "recordings");
  g_autoptr(LtRule) local = make_rule ("local", "recordings");
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GAsyncResult) r3 = NULL;
  g_autoptr(GAsyncResult) r4 = NULL;
  g_autoptr(GError) error = NULL;
  LtRule *stored;

  g_assert_true (lt_catalog_open_sync (catalog, &error));
  store = lt_rule_store_new (catalog);
  lt_rule_store_set_bucket_check (store, check_cb, g_strdup (root), g_free);
  lt_rule_store_load_async (store, NULL, lt_test_store_result_cb, &r1);
  lt_test_wait_result (&r1);
  g_assert_true (lt_rule_store_load_finish (store, r1, &error));

  lt_rule_store_add_async (store, remote, NULL, lt_test_store_result_cb, &r2);
  lt_test_wait_result (&r2);
  g_assert_false (lt_rule_store_add_finish (store, r2, &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);

  lt_rule_store_add_async (store, local, NULL, lt_test_store_result_cb, &r3);
  lt_test_wait_result (&r3);
  g_assert_true (lt_rule_store_add_finish (store, r3, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 1);
  g_assert_true (g_file_test (bucket_dir, G_FILE_TEST_IS_DIR));

  /* Replacing with an endpoint that has no target keeps the stored rule. */
  lt_rule_store_replace_async (store, remote, NULL, lt_test_store_result_cb, &r4);
  lt_test_wait_result (&r4);
  g_assert_false (lt_rule_store_replace_finish (store, r4, &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND);
  stored = g_list_model_get_item (G_LIST_MODEL (store), 0);
  g_assert_cmpstr (lt_rule_get_oss_endpoint (stored), ==, "local");
  g_clear_object (&stored);

  /* The results hold the store as their source object. */
  g_clear_object (&r1);
  g_clear_object (&r2);
  g_clear_object (&r3);
  g_clear_object (&r4);
  g_assert_finalize_object (g_steal_pointer (&store));
  lt_catalog_close (catalog);
}

int
main (int   argc,
      char *argv[])
{
  lt_test_init (&argc, &argv);

  g_test_add_func ("/storage/default-root", test_default_root);
  g_test_add_func ("/storage/local-endpoint", test_local_endpoint);
  g_test_add_func ("/storage/prepare-bucket", test_prepare_bucket);
  g_test_add_func ("/storage/rule-store-check", test_rule_store_check);

  return g_test_run ();
}
