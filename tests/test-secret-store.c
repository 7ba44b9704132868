/* test-secret-store.c: LtSecretStore against the session's Secret Service (tools/test runs
 * the suite under dbus-run-session with an unlocked gnome-keyring), and its failure modes —
 * no bus at all, a bus that never answers, a keyring with no login keyring, a locked
 * keyring — each in a subprocess with its own DBUS_SESSION_BUS_ADDRESS so that the main
 * test keeps its keyring. */
#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <libsecret/secret.h>
#include <signal.h>
#include <string.h>

#include "lt-secret-store.h"
#include "lt-test-utils.h"

static char *
unique_instance (void)
{
  g_autofree char *uuid = g_uuid_string_random ();

  /* Per run, so that a crashed earlier run cannot leave items that this one finds. */
  return g_strdup_printf ("/test/secret-store/%s", uuid);
}

static gboolean
store_sync (LtSecretStore  *store,
            const char     *kind,
            const char     *id,
            const char     *secret,
            GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_secret_store_store_async (store, kind, id, NULL, secret, NULL,
                               lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_secret_store_store_finish (store, result, error);
}

static char *
lookup_sync (LtSecretStore  *store,
             const char     *kind,
             const char     *id,
             GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_secret_store_lookup_async (store, kind, id, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_secret_store_lookup_finish (store, result, error);
}

static gboolean
clear_sync (LtSecretStore  *store,
            const char     *kind,
            const char     *id,
            GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_secret_store_clear_async (store, kind, id, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_secret_store_clear_finish (store, result, error);
}

static void
test_round_trip (void)
{
  g_autofree char *instance = unique_instance ();
  g_autoptr(LtSecretStore) store = lt_secret_store_new (instance);
  g_autoptr(GError) error = NULL;
  g_autofree char *secret = NULL;

  g_assert_cmpstr (lt_secret_store_get_instance (store), ==, instance);
  g_assert_cmpuint (lt_secret_store_get_timeout (store), ==, 10000);

  g_assert_true (store_sync (store, LT_SECRET_KIND_API_KEY, "LTAKROUNDTRIP", "s3cr3t-one",
                             &error));
  g_assert_no_error (error);

  secret = lookup_sync (store, LT_SECRET_KIND_API_KEY, "LTAKROUNDTRIP", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, "s3cr3t-one");
  g_clear_pointer (&secret, g_free);

  /* Storing again replaces the item rather than adding a second one. */
  g_assert_true (store_sync (store, LT_SECRET_KIND_API_KEY, "LTAKROUNDTRIP", "s3cr3t-two",
                             &error));
  g_assert_no_error (error);
  secret = lookup_sync (store, LT_SECRET_KIND_API_KEY, "LTAKROUNDTRIP", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, "s3cr3t-two");
  g_clear_pointer (&secret, g_free);

  /* Kind is part of the key. */
  secret = lookup_sync (store, LT_SECRET_KIND_STORAGE_TARGET, "LTAKROUNDTRIP", &error);
  g_assert_error (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND);
  g_assert_null (secret);
  g_clear_error (&error);

  g_assert_true (clear_sync (store, LT_SECRET_KIND_API_KEY, "LTAKROUNDTRIP", &error));
  g_assert_no_error (error);

  secret = lookup_sync (store, LT_SECRET_KIND_API_KEY, "LTAKROUNDTRIP", &error);
  g_assert_error (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND);
  g_assert_null (secret);

  g_assert_finalize_object (g_steal_pointer (&store));
}

static void
test_unicode_secret (void)
{
  g_autofree char *instance = unique_instance ();
  g_autoptr(LtSecretStore) store = lt_secret_store_new (instance);
  g_autoptr(GError) error = NULL;
  g_autofree char *secret = NULL;
  const char *value = "pässwörd 密钥 \"quoted\" & more";

  g_assert_true (store_sync (store, LT_SECRET_KIND_STORAGE_TARGET, "target-1", value, &error));
  g_assert_no_error (error);
  secret = lookup_sync (store, LT_SECRET_KIND_STORAGE_TARGET, "target-1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, value);
  g_assert_true (clear_sync (store, LT_SECRET_KIND_STORAGE_TARGET, "target-1", &error));
  g_assert_no_error (error);
}

static void
test_instance_isolation (void)
{
  g_autofree char *instance_a = unique_instance ();
  g_autofree char *instance_b = unique_instance ();
  g_autoptr(LtSecretStore) a = lt_secret_store_new (instance_a);
  g_autoptr(LtSecretStore) b = lt_secret_store_new (instance_b);
  g_autoptr(GError) error = NULL;
  g_autofree char *secret = NULL;

  g_assert_true (store_sync (a, LT_SECRET_KIND_API_KEY, "LTAKSHARED", "secret-of-a", &error));
  g_assert_no_error (error);

  secret = lookup_sync (b, LT_SECRET_KIND_API_KEY, "LTAKSHARED", &error);
  g_assert_error (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND);
  g_assert_null (secret);
  g_clear_error (&error);

  g_assert_true (store_sync (b, LT_SECRET_KIND_API_KEY, "LTAKSHARED", "secret-of-b", &error));
  g_assert_no_error (error);

  secret = lookup_sync (a, LT_SECRET_KIND_API_KEY, "LTAKSHARED", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, "secret-of-a");
  g_clear_pointer (&secret, g_free);

  /* Clearing one instance's item leaves the other's. */
  g_assert_true (clear_sync (a, LT_SECRET_KIND_API_KEY, "LTAKSHARED", &error));
  g_assert_no_error (error);
  secret = lookup_sync (b, LT_SECRET_KIND_API_KEY, "LTAKSHARED", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, "secret-of-b");
  g_clear_pointer (&secret, g_free);

  g_assert_true (clear_sync (b, LT_SECRET_KIND_API_KEY, "LTAKSHARED", &error));
  g_assert_no_error (error);
}

static void
test_not_found (void)
{
  g_autofree char *instance = unique_instance ();
  g_autoptr(LtSecretStore) store = lt_secret_store_new (instance);
  g_autoptr(GError) error = NULL;
  g_autofree char *secret = NULL;

  secret = lookup_sync (store, LT_SECRET_KIND_API_KEY, "LTAKNOSUCHKEY", &error);
  g_assert_error (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND);
  g_assert_null (secret);
  g_clear_error (&error);

  g_assert_false (clear_sync (store, LT_SECRET_KIND_API_KEY, "LTAKNOSUCHKEY", &error));
  g_assert_error (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND);
}

static void
test_cancelled (void)
{
  g_autofree char *instance = unique_instance ();
  g_autoptr(LtSecretStore) store = lt_secret_store_new (instance);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *secret = NULL;

  g_cancellable_cancel (cancellable);
  lt_secret_store_lookup_async (store, LT_SECRET_KIND_API_KEY, "LTAKCANCELLED", cancellable,
                                lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  secret = lt_secret_store_lookup_finish (store, result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (secret);
}

/* Runs one store against whatever DBUS_SESSION_BUS_ADDRESS now says and checks that it
 * fails with UNAVAILABLE before @max_ms. */
static void
assert_store_unavailable (guint timeout_ms,
                          guint max_ms)
{
  g_autoptr(LtSecretStore) store = lt_secret_store_new ("/test/secret-store/unavailable");
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed_ms;

  lt_secret_store_set_timeout (store, timeout_ms);
  g_assert_false (store_sync (store, LT_SECRET_KIND_API_KEY, "LTAKNOBUS", "never-stored",
                              &error));
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;

  g_assert_error (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_UNAVAILABLE);
  /* The message helps and never carries the secret. */
  g_assert_nonnull (strstr (error->message, "gnome-keyring-daemon --unlock"));
  g_assert_null (strstr (error->message, "never-stored"));
  g_assert_cmpint (elapsed_ms, <, max_ms);
  g_test_message ("failed after %" G_GINT64_FORMAT " ms: %s", elapsed_ms, error->message);
}

static void
test_no_bus (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = lt_test_make_temp_dir ();
      g_autofree char *address = g_strdup_printf ("unix:path=%s/no-such-bus", dir);

      g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
      assert_store_unavailable (2000, 2000);
      return;
    }

  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_silent_bus (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = lt_test_make_temp_dir ();
      g_autofree char *path = g_build_filename (dir, "silent-bus", NULL);
      g_autofree char *address = g_strdup_printf ("unix:path=%s", path);
      g_autoptr(GSocket) socket = NULL;
      g_autoptr(GSocketAddress) socket_address = NULL;
      g_autoptr(GError) error = NULL;

      /* A bus that accepts the connection and then never says a word, like a keyring
       * stuck on a prompt: only the timeout can end the call. */
      socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                             G_SOCKET_PROTOCOL_DEFAULT, &error);
      g_assert_no_error (error);
      socket_address = g_unix_socket_address_new (path);
      g_assert_true (g_socket_bind (socket, socket_address, TRUE, &error));
      g_assert_no_error (error);
      g_assert_true (g_socket_listen (socket, &error));
      g_assert_no_error (error);

      g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
      assert_store_unavailable (500, 3000);
      return;
    }

  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* A gnome-keyring of our own on a private bus (GTestDBus), in a subprocess. With
 * @password it creates and unlocks the login keyring, as tools/test and the README do;
 * without, it has no keyring to store into. The bus has no prompter, so any password
 * prompt fails at once, as on a server. */
static GSubprocess *
start_private_keyring (GTestDBus  *bus,
                       const char *password)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *home = lt_test_make_temp_dir ();
  GSubprocess *keyring;
  gint64 deadline;

  g_test_dbus_up (bus);

  /* Its stderr goes to ours, which the trap shows only when the test fails. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  /* A home of its own (g_test_dbus_up() unset XDG_RUNTIME_DIR, where the keyring puts its
   * control socket); and no inherited pointer to the session's keyring. */
  g_subprocess_launcher_setenv (launcher, "HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_RUNTIME_DIR", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", home, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "GNOME_KEYRING_CONTROL");
  /* Our fatal warnings are not the keyring's. */
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  if (password != NULL)
    keyring = g_subprocess_launcher_spawn (launcher, &error, "gnome-keyring-daemon",
                                           "--foreground", "--components=secrets",
                                           "--unlock", NULL);
  else
    keyring = g_subprocess_launcher_spawn (launcher, &error, "gnome-keyring-daemon",
                                           "--foreground", "--components=secrets", NULL);
  g_assert_no_error (error);

  if (password != NULL)
    {
      GOutputStream *input = g_subprocess_get_stdin_pipe (keyring);

      g_output_stream_write_all (input, password, strlen (password), NULL, NULL, &error);
      g_assert_no_error (error);
    }
  g_output_stream_close (g_subprocess_get_stdin_pipe (keyring), NULL, &error);
  g_assert_no_error (error);

  connection = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (bus),
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr(GVariant) reply = NULL;
      gboolean has_owner;

      reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus",
                                           "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                           "NameHasOwner",
                                           g_variant_new ("(s)", "org.freedesktop.secrets"),
                                           G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE,
                                           -1, NULL, &error);
      g_assert_no_error (error);
      g_variant_get (reply, "(b)", &has_owner);
      if (has_owner)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (20 * 1000);
    }

  return keyring;
}

static void
stop_private_keyring (GTestDBus   *bus,
                      GSubprocess *keyring)
{
  g_subprocess_send_signal (keyring, SIGTERM);
  g_subprocess_wait (keyring, NULL, NULL);
  g_object_unref (keyring);
  /* Not g_test_dbus_down(): libsecret keeps the shared connection to the end. */
  g_test_dbus_stop (bus);
}

static void
test_no_default_keyring (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GTestDBus) bus = g_test_dbus_new (G_TEST_DBUS_NONE);
      g_autoptr(LtSecretStore) store = lt_secret_store_new ("/test/secret-store/no-keyring");
      g_autoptr(GError) error = NULL;
      g_autofree char *secret = NULL;
      GSubprocess *keyring;
      gint64 start;

      keyring = start_private_keyring (bus, NULL);

      start = g_get_monotonic_time ();
      g_assert_false (store_sync (store, LT_SECRET_KIND_API_KEY, "LTAKNOKEYRING",
                                  "never-stored", &error));
      g_assert_error (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_UNAVAILABLE);
      g_assert_nonnull (strstr (error->message, "gnome-keyring-daemon --unlock"));
      g_assert_cmpint (g_get_monotonic_time () - start, <, 9 * G_USEC_PER_SEC);
      g_test_message ("%s", error->message);
      g_clear_error (&error);

      secret = lookup_sync (store, LT_SECRET_KIND_API_KEY, "LTAKNOKEYRING", &error);
      g_assert_error (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND);

      stop_private_keyring (bus, keyring);
      return;
    }

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_locked (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GTestDBus) bus = g_test_dbus_new (G_TEST_DBUS_NONE);
      g_autoptr(LtSecretStore) store = lt_secret_store_new ("/test/secret-store/locked");
      g_autoptr(SecretService) service = NULL;
      g_autoptr(SecretCollection) collection = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *secret = NULL;
      GSubprocess *keyring;
      GList objects = { 0, };

      keyring = start_private_keyring (bus, "test");

      g_assert_true (store_sync (store, LT_SECRET_KIND_API_KEY, "LTAKLOCKED", "locked-away",
                                 &error));
      g_assert_no_error (error);

      /* Lock the login keyring, as after a screen lock or a daemon restart. */
      service = secret_service_get_sync (SECRET_SERVICE_NONE, NULL, &error);
      g_assert_no_error (error);
      collection = secret_collection_for_alias_sync (service, SECRET_COLLECTION_DEFAULT,
                                                     SECRET_COLLECTION_NONE, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (collection);
      objects.data = collection;
      g_assert_cmpint (secret_service_lock_sync (service, &objects, NULL, NULL, &error), ==, 1);
      g_assert_no_error (error);

      g_assert_false (store_sync (store, LT_SECRET_KIND_API_KEY, "LTAKLOCKED", "other",
                                  &error));
      g_assert_error (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_LOCKED);
      g_test_message ("%s", error->message);
      g_clear_error (&error);

      secret = lookup_sync (store, LT_SECRET_KIND_API_KEY, "LTAKLOCKED", &error);
      g_assert_error (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_LOCKED);
      g_assert_null (secret);
      g_clear_error (&error);

      g_assert_false (clear_sync (store, LT_SECRET_KIND_API_KEY, "LTAKLOCKED", &error));
      g_assert_error (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_LOCKED);

      stop_private_keyring (bus, keyring);
      return;
    }

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int    argc,
      char **argv)
{
  lt_test_init (&argc, &argv);

  g_test_add_func ("/secret-store/round-trip", test_round_trip);
  g_test_add_func ("/secret-store/unicode-secret", test_unicode_secret);
  g_test_add_func ("/secret-store/instance-isolation", test_instance_isolation);
  g_test_add_func ("/secret-store/not-found", test_not_found);
  g_test_add_func ("/secret-store/cancelled", test_cancelled);
  g_test_add_func ("/secret-store/unavailable/no-bus", test_no_bus);
  g_test_add_func ("/secret-store/unavailable/silent-bus", test_silent_bus);
  g_test_add_func ("/secret-store/unavailable/no-default-keyring", test_no_default_keyring);
  g_test_add_func ("/secret-store/locked", test_locked);

  return g_test_run ();
}
