/* test-engine.c: LtEngine — data dir and settings, start/shutdown, the API address check,
 * and access keys (secret in the keyring, id in the catalog, the secret in no file). Needs
 * the session bus and unlocked keyring that tools/test provides. */
#define _GNU_SOURCE /* memmem */
#include "config.h"

#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <string.h>
#include <sys/stat.h>

#include "lt-engine.h"
#include "lt-test-utils.h"

/* Same as lt-secret-store.c; used to look at the keyring behind the store's back. */
static const SecretSchema test_secret_schema = {
  "io.github.livetape.Livetape.Secret",
  SECRET_SCHEMA_NONE,
  {
    { "instance", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "id", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  },
};

static void
start_sync (LtEngine *engine,
            GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_engine_start_async (engine, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_engine_start_finish (engine, result, error);
}

static gboolean
create_key_sync (LtEngine  *engine,
                 const char *description,
                 char     **id,
                 char     **secret,
                 GError   **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_engine_create_access_key_async (engine, description, NULL, lt_test_store_result_cb,
                                     &result);
  lt_test_wait_result (&result);
  return lt_engine_create_access_key_finish (engine, result, id, secret, error);
}

static gboolean
is_all (const char *str,
        const char *alphabet)
{
  for (const char *p = str; *p != '\0'; p++)
    if (strchr (alphabet, *p) == NULL)
      return FALSE;
  return TRUE;
}

/* Whether @needle occurs in any regular file under @dir. */
static gboolean
dir_contains_bytes (const char *dir,
                    const char *needle,
                    guint      *n_files)
{
  g_autoptr(GDir) d = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;

  d = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);

  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize length;

      if (g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        continue;
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (dir_contains_bytes (path, needle, n_files))
            return TRUE;
          continue;
        }

      g_file_get_contents (path, &contents, &length, &error);
      g_assert_no_error (error);
      (*n_files)++;
      if (memmem (contents, length, needle, strlen (needle)) != NULL)
        return TRUE;
    }

  return FALSE;
}

static GList *
keyring_items_of (const char *instance)
{
  g_autoptr(GError) error = NULL;
  GList *items;

  items = secret_password_search_sync (&test_secret_schema, SECRET_SEARCH_ALL, NULL, &error,
                                       "instance", instance, NULL);
  g_assert_no_error (error);
  return items;
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  guint *count = user_data;

  (*count)++;
}

static void
test_defaults (void)
{
  g_autoptr(LtEngine) engine = NULL;
  g_autofree char *expected = g_build_filename (g_get_user_data_dir (), "livetape", NULL);
  GStatBuf st;
  guint notified = 0;

  engine = lt_engine_new (NULL);
  lt_engine_set_ingest_enabled (engine, FALSE);  /* no nginx here: see test-engine-ingest */
  g_assert_cmpstr (lt_engine_get_data_dir (engine), ==, expected);
  g_assert_cmpint (g_stat (expected, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  g_assert_cmpstr (lt_engine_get_api_listen (engine), ==, "127.0.0.1:8088");
  g_assert_nonnull (lt_engine_get_catalog (engine));
  g_assert_nonnull (lt_engine_get_rule_store (engine));
  g_assert_nonnull (lt_engine_get_secret_store (engine));
  g_assert_null (lt_engine_get_api_server (engine));
  g_assert_null (lt_engine_dup_api_url (engine));

  g_signal_connect (engine, "notify::api-listen", G_CALLBACK (count_notify_cb), &notified);
  lt_engine_set_api_listen (engine, NULL);
  g_assert_null (lt_engine_get_api_listen (engine));
  lt_engine_set_api_listen (engine, NULL);
  lt_engine_set_api_listen (engine, "127.0.0.1:9");
  g_assert_cmpstr (lt_engine_get_api_listen (engine), ==, "127.0.0.1:9");
  g_assert_cmpuint (notified, ==, 2);

  /* Never started: shutdown is still fine, twice. */
  lt_engine_shutdown (engine);
  lt_engine_shutdown (engine);
  g_assert_finalize_object (g_steal_pointer (&engine));
}

static void
test_relative_data_dir (void)
{
  g_autofree char *tmp = lt_test_make_temp_dir ();
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *expected = g_build_filename (tmp, "rel", "data", NULL);
  g_autofree char *expected_catalog = g_build_filename (expected, "catalog.db", NULL);
  g_autoptr(LtEngine) engine = NULL;
  GStatBuf st;

  g_assert_cmpint (g_chdir (tmp), ==, 0);
  engine = lt_engine_new ("rel/./data/");
  lt_engine_set_ingest_enabled (engine, FALSE);  /* no nginx here: see test-engine-ingest */
  g_assert_cmpint (g_chdir (cwd), ==, 0);

  /* Absolute: it also names the keyring instance. */
  g_assert_cmpstr (lt_engine_get_data_dir (engine), ==, expected);
  g_assert_cmpstr (lt_secret_store_get_instance (lt_engine_get_secret_store (engine)), ==,
                   expected);
  g_assert_cmpint (g_stat (expected, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_cmpstr (lt_catalog_get_path (lt_engine_get_catalog (engine)), ==,
                   expected_catalog);

  g_assert_finalize_object (g_steal_pointer (&engine));
}

static void
test_settings_keyfile (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *ini = g_build_filename (dir, "settings.ini", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(LtEngine) engine = NULL;
  g_autoptr(GError) error = NULL;
  GSettings *settings;

  engine = lt_engine_new (dir);
  lt_engine_set_ingest_enabled (engine, FALSE);  /* no nginx here: see test-engine-ingest */
  settings = lt_engine_get_settings (engine);
  /* tests/meson.build points GSETTINGS_SCHEMA_DIR at the build tree's compiled schema. */
  g_assert_nonnull (settings);
  g_assert_cmpstr (lt_engine_get_api_listen (engine), ==, "127.0.0.1:8088");

  g_assert_true (g_settings_set_string (settings, "api-listen", "127.0.0.1:18088"));
  g_settings_sync ();
  g_assert_finalize_object (g_steal_pointer (&engine));

  /* The value lives in the data dir, not in the user's dconf. */
  g_file_get_contents (ini, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (contents, "api-listen='127.0.0.1:18088'"));

  engine = lt_engine_new (dir);
  lt_engine_set_ingest_enabled (engine, FALSE);  /* no nginx here: see test-engine-ingest */
  g_assert_cmpstr (lt_engine_get_api_listen (engine), ==, "127.0.0.1:18088");
  g_assert_finalize_object (g_steal_pointer (&engine));

  /* Another data dir has its own settings. */
  {
    g_autofree char *other = lt_test_make_temp_dir ();

    engine = lt_engine_new (other);
    lt_engine_set_ingest_enabled (engine, FALSE);  /* no nginx here: see test-engine-ingest */
    g_assert_cmpstr (lt_engine_get_api_listen (engine), ==, "127.0.0.1:8088");
    g_assert_finalize_object (g_steal_pointer (&engine));
  }
}

typedef struct
{
  const char *listen;
  gboolean    valid;
} ListenCase;

static void
test_check_api_listen (void)
{
  static const ListenCase cases[] = {
    { "127.0.0.1:8088", TRUE },
    { "127.0.0.1:0", TRUE },
    { "0.0.0.0:65535", TRUE },
    { "localhost:1", TRUE },
    { "LocalHost:8088", TRUE },
    { "[::1]:8088", TRUE },
    { "[::]:0", TRUE },
    { "", FALSE },
    { "8088", FALSE },
    { "127.0.0.1", FALSE },
    { "127.0.0.1:", FALSE },
    { ":8088", FALSE },
    { "127.0.0.1:65536", FALSE },
    { "127.0.0.1:-1", FALSE },
    { "127.0.0.1:+80", FALSE },
    { "127.0.0.1:80a", FALSE },
    { "127.0.0.1:123456", FALSE },
    { "::1:8088", FALSE },
    { "[::1]8088", FALSE },
    { "[::1]:", FALSE },
    { "[127.0.0.1]:80", FALSE },
    { "[nonsense]:80", FALSE },
    { "host name:80", FALSE },
    { "api.example.org:8088", FALSE },
    { "host/x:80", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean ok;

      g_test_message ("%s", cases[i].listen);
      ok = lt_engine_check_api_listen (cases[i].listen, &error);
      if (cases[i].valid)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
        }
      else
        {
          g_assert_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_INVALID_LISTEN);
          g_assert_false (ok);
        }
    }
}

static void
test_start_and_create_key (void)
{
  g_autofree char *tmp = lt_test_make_temp_dir ();
  g_autofree char *dir = g_build_filename (tmp, "not", "yet", NULL);
  g_autofree char *id = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *looked_up = NULL;
  g_autofree char *url = NULL;
  g_autofree char *expected_url = NULL;
  g_autoptr(LtEngine) engine = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) keys = NULL;
  LtSecretStore *secrets;
  gboolean found = FALSE;
  guint n_files = 0;
  guint16 port;
  GStatBuf st;

  engine = lt_engine_new (dir);
  lt_engine_set_ingest_enabled (engine, FALSE);  /* no nginx here: see test-engine-ingest */
  lt_engine_set_api_listen (engine, "127.0.0.1:0");
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  start_sync (engine, &error);
  g_assert_no_error (error);
  g_assert_nonnull (lt_engine_get_api_server (engine));
  port = lt_api_server_get_port (lt_engine_get_api_server (engine));
  g_assert_cmpuint (port, >, 0);
  url = lt_engine_dup_api_url (engine);
  expected_url = g_strdup_printf ("http://127.0.0.1:%u/", port);
  g_assert_cmpstr (url, ==, expected_url);

  /* Starting twice is refused, not repeated. */
  start_sync (engine, &error);
  g_assert_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_FAILED);
  g_clear_error (&error);

  g_assert_true (create_key_sync (engine, "test key", &id, &secret, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (strlen (id), ==, 24);
  g_assert_true (g_str_has_prefix (id, "LTAK"));
  g_assert_true (is_all (id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"));
  g_assert_cmpuint (strlen (secret), ==, 30);
  g_assert_true (is_all (secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                 "0123456789"));

  /* The secret is in the keyring, under this data dir's instance. */
  secrets = lt_engine_get_secret_store (engine);
  g_assert_cmpstr (lt_secret_store_get_instance (secrets), ==, dir);
  lt_secret_store_lookup_async (secrets, LT_SECRET_KIND_API_KEY, id, NULL,
                                lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  looked_up = lt_secret_store_lookup_finish (secrets, result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (looked_up, ==, secret);
  g_clear_object (&result);

  /* The id is in the catalog. */
  lt_catalog_list_api_keys_async (lt_engine_get_catalog (engine), NULL,
                                  lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  keys = lt_catalog_list_api_keys_finish (lt_engine_get_catalog (engine), result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  for (guint i = 0; i < keys->len; i++)
    {
      LtApiKeyInfo *info = g_ptr_array_index (keys, i);

      if (g_strcmp0 (info->access_key_id, id) == 0)
        {
          g_assert_cmpstr (info->description, ==, "test key");
          found = TRUE;
        }
    }
  g_assert_true (found);

  /* Two keys never collide. */
  {
    g_autofree char *id2 = NULL;
    g_autofree char *secret2 = NULL;

    g_assert_true (create_key_sync (engine, NULL, &id2, &secret2, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (id, !=, id2);
    g_assert_cmpstr (secret, !=, secret2);

    lt_secret_store_clear_async (secrets, LT_SECRET_KIND_API_KEY, id2, NULL,
                                 lt_test_store_result_cb, &result);
    lt_test_wait_result (&result);
    g_assert_true (lt_secret_store_clear_finish (secrets, result, &error));
    g_assert_no_error (error);
    g_clear_object (&result);
  }

  /* Checked while running (WAL) and after the checkpoint at shutdown. */
  g_assert_false (dir_contains_bytes (dir, secret, &n_files));
  lt_engine_shutdown (engine);
  lt_engine_shutdown (engine);
  g_assert_null (lt_engine_dup_api_url (engine));
  n_files = 0;
  g_assert_false (dir_contains_bytes (dir, secret, &n_files));
  g_assert_cmpuint (n_files, >, 0);
  /* The search does find what is there: the id, in the catalog. */
  n_files = 0;
  g_assert_true (dir_contains_bytes (dir, id, &n_files));

  /* After shutdown, no more keys. */
  g_assert_false (create_key_sync (engine, NULL, NULL, NULL, &error));
  g_assert_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_NOT_STARTED);
  g_clear_error (&error);

  /* Leave the test keyring as it was. */
  lt_secret_store_clear_async (secrets, LT_SECRET_KIND_API_KEY, id, NULL,
                               lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_secret_store_clear_finish (secrets, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  g_assert_finalize_object (g_steal_pointer (&engine));
}

static void
test_create_key_not_started (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autoptr(LtEngine) engine = lt_engine_new (dir);
  lt_engine_set_ingest_enabled (engine, FALSE);  /* no nginx here: see test-engine-ingest */
  g_autoptr(GError) error = NULL;

  g_assert_false (create_key_sync (engine, NULL, NULL, NULL, &error));
  g_assert_error (error, LT_ENGINE_ERROR, LT_ENGINE_ERROR_NOT_STARTED);
  g_assert_finalize_object (g_steal_pointer (&engine));
}

static void
test_catalog_failure_clears_secret (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autoptr(LtEngine) engine = NULL;
  g_autoptr(GError) error = NULL;
  GList *items;

  engine = lt_engine_new (dir);
  lt_engine_set_ingest_enabled (engine, FALSE);  /* no nginx here: see test-engine-ingest */
  lt_engine_set_api_listen (engine, NULL);
  start_sync (engine, &error);
  g_assert_no_error (error);
  g_assert_null (lt_engine_dup_api_url (engine));

  /* A catalog that refuses the insert: the secret stored a moment before must go. */
  lt_catalog_close (lt_engine_get_catalog (engine));
  g_assert_false (create_key_sync (engine, NULL, NULL, NULL, &error));
  g_assert_error (error, LT_CATALOG_ERROR, LT_CATALOG_ERROR_CLOSED);
  g_test_message ("%s", error->message);

  items = keyring_items_of (dir);
  g_assert_cmpuint (g_list_length (items), ==, 0);
  g_list_free_full (items, g_object_unref);

  lt_engine_shutdown (engine);
  g_assert_finalize_object (g_steal_pointer (&engine));
}

static void
test_port_in_use (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(LtEngine) engine = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *prefix = NULL;

  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  listen = g_strdup_printf ("127.0.0.1:%u",
                            g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));

  engine = lt_engine_new (dir);
  lt_engine_set_ingest_enabled (engine, FALSE);  /* no nginx here: see test-engine-ingest */
  lt_engine_set_api_listen (engine, listen);
  start_sync (engine, &error);
  g_assert_no_error (error);
  g_assert_nonnull (lt_engine_get_api_error (engine));
  g_assert_error (lt_engine_get_api_error (engine), G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  prefix = g_strdup_printf ("Cannot listen on %s: ", listen);
  g_test_message ("%s", lt_engine_get_api_error (engine)->message);
  g_assert_true (g_str_has_prefix (lt_engine_get_api_error (engine)->message, prefix));
  g_assert_null (lt_engine_dup_api_url (engine));
  /* The rest of the engine works. */
  g_assert_nonnull (lt_engine_get_rule_store (engine));

  lt_engine_shutdown (engine);
  g_assert_finalize_object (g_steal_pointer (&engine));
}

static void
test_bad_data_dir (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *file = g_build_filename (dir, "a-file", NULL);
  g_autofree char *below = g_build_filename (file, "data", NULL);
  g_autoptr(LtEngine) engine = NULL;
  g_autoptr(GError) error = NULL;

  g_file_set_contents (file, "", 0, &error);
  g_assert_no_error (error);

  engine = lt_engine_new (below);
  lt_engine_set_ingest_enabled (engine, FALSE);  /* no nginx here: see test-engine-ingest */
  start_sync (engine, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
  g_assert_nonnull (strstr (error->message, below));

  g_assert_finalize_object (g_steal_pointer (&engine));
}

int
main (int    argc,
      char **argv)
{
  lt_test_init (&argc, &argv);

  g_test_add_func ("/engine/defaults", test_defaults);
  g_test_add_func ("/engine/relative-data-dir", test_relative_data_dir);
  g_test_add_func ("/engine/settings-keyfile", test_settings_keyfile);
  g_test_add_func ("/engine/check-api-listen", test_check_api_listen);
  g_test_add_func ("/engine/start-and-create-key", test_start_and_create_key);
  g_test_add_func ("/engine/create-key-not-started", test_create_key_not_started);
  g_test_add_func ("/engine/catalog-failure-clears-secret", test_catalog_failure_clears_secret);
  g_test_add_func ("/engine/port-in-use", test_port_in_use);
  g_test_add_func ("/engine/bad-data-dir", test_bad_data_dir);

  return g_test_run ();
}
