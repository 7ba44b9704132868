/* test-gui-sync.c: the console's uploads and storage preferences, driven through the real
 * widgets under Xvfb, with a real engine (temp data dir, ingest off), the session's
 * keyring and an S3 endpoint of our own on loopback (a SoupServer in this process that
 * refuses with 403 AccessDenied or stores, answering the body's MD5 as ETag).
 *
 * - Preferences → Storage: an S3 target added through the editor's rows and Save is in
 *   the targets model, its secret in the keyring and nowhere in the catalog's files;
 *   the editor validates as the operator types; Test Connection against a closed
 *   loopback port shows the core's error; Remove asks first.
 * - The spool, keep, upload and retention rows change the GSettings values.
 * - The Sync page: a target's group (state, queue, Pause/Resume); an upload refused with
 *   403 turns the target failing with the reason on the page, a desktop notification
 *   (caught by a fake org.gtk.Notifications on the session bus) opening app.show-sync;
 *   once the endpoint stores again, Retry All uploads it and the notification is
 *   withdrawn. A missing local file is a failed upload listed with its reason and a
 *   Retry button; with the file back, Retry uploads it and the row goes. The badge
 *   counts upload failures.
 * Screenshots (light, dark, zh_CN) are kept in $LT_TEST_OUTPUT_DIR/screenshots. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "lt-application-private.h"
#include "lt-engine.h"
#include "lt-preferences-window.h"
#include "lt-storage-target-editor.h"
#include "lt-sync-notifier.h"
#include "lt-sync-page.h"
#include "lt-test-gui.h"
#include "lt-test-utils.h"
#include "lt-window-private.h"

#define SECRET  "Zq7-secret/ForTheKeyringOnly+x9"
#define KEY_ID  "LTTESTKEYID0001"
#define BUCKET  "recordings"
#define TARGET  "studio-s3"
#define DENIED  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>" \
                "<Message>Access Denied by the test endpoint</Message></Error>"

/* ---- a fake notification server (org.gtk.Notifications), for the whole process ---- */

typedef struct
{
  char *id;
  char *title;
  char *body;
  char *default_action;
} Notification;

static GPtrArray *notifications;   /* Notification *: shown now */
static guint      notifications_added;

static void
notification_free (Notification *n)
{
  g_free (n->id);
  g_free (n->title);
  g_free (n->body);
  g_free (n->default_action);
  g_free (n);
}

static Notification *
find_notification (const char *id)
{
  for (guint i = 0; i < notifications->len; i++)
    {
      Notification *n = g_ptr_array_index (notifications, i);

      if (g_str_equal (n->id, id))
        return n;
    }
  return NULL;
}

static void
notifications_method_cb (GDBusConnection       *connection,
                         const char            *sender,
                         const char            *object_path,
                         const char            *interface_name,
                         const char            *method_name,
                         GVariant              *parameters,
                         GDBusMethodInvocation *invocation,
                         gpointer               user_data)
{
  const char *app_id, *id;

  if (g_str_equal (method_name, "AddNotification"))
    {
      g_autoptr(GVariant) dict = NULL;
      Notification *n = g_new0 (Notification, 1);

      g_variant_get (parameters, "(&s&s@a{sv})", &app_id, &id, &dict);
      n->id = g_strdup (id);
      g_variant_lookup (dict, "title", "s", &n->title);
      g_variant_lookup (dict, "body", "s", &n->body);
      g_variant_lookup (dict, "default-action", "s", &n->default_action);
      if (find_notification (id) != NULL)
        g_ptr_array_remove (notifications, find_notification (id));
      g_ptr_array_add (notifications, n);
      notifications_added++;
    }
  else if (g_str_equal (method_name, "RemoveNotification"))
    {
      g_variant_get (parameters, "(&s&s)", &app_id, &id);
      if (find_notification (id) != NULL)
        g_ptr_array_remove (notifications, find_notification (id));
    }
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static gboolean
name_acquired (gpointer data)
{
  return *(gboolean *) data;
}

static void
acquired_cb (GDBusConnection *connection,
             const char      *name,
             gpointer         user_data)
{
  *(gboolean *) user_data = TRUE;
}

static void
start_notification_server (void)
{
  static const char xml[] =
    "<node><interface name='org.gtk.Notifications'>"
    "<method name='AddNotification'><arg type='s' direction='in'/><arg type='s' direction='in'/>"
    "<arg type='a{sv}' direction='in'/></method>"
    "<method name='RemoveNotification'><arg type='s' direction='in'/>"
    "<arg type='s' direction='in'/></method>"
    "</interface></node>";
  static const GDBusInterfaceVTable vtable = { notifications_method_cb, NULL, NULL, { 0 } };
  static gboolean acquired;
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  GDBusConnection *bus;

  notifications = g_ptr_array_new_with_free_func ((GDestroyNotify) notification_free);
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  info = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  g_dbus_connection_register_object (bus, "/org/gtk/Notifications", info->interfaces[0],
                                     &vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  g_bus_own_name_on_connection (bus, "org.gtk.Notifications", G_BUS_NAME_OWNER_FLAGS_NONE,
                                acquired_cb, NULL, &acquired, NULL);
  /* The name is one per bus: a second copy of this test running at the same time (meson
   * test --repeat, several suites at once) waits in the bus's queue until the first exits,
   * rather than taking the first one's notifications. */
  lt_test_wait_until (name_acquired, &acquired, 150000, "org.gtk.Notifications on the session bus");
  /* The bus connection stays for the whole run: the name must not go away. */
}

/* ---- fixture ---- */

typedef struct
{
  char             *data_dir;
  LtEngine         *engine;
  LtStorageTargets *targets;
  LtSyncEngine     *sync;
  LtWindow         *window;
  LtSyncPage       *sync_page;
  GApplication     *app;
  LtSyncNotifier   *notifier;

  SoupServer       *server;
  char             *endpoint;      /* http://127.0.0.1:PORT */
  gboolean          refuse;
  gboolean          hold;          /* PUTs answered only when released */
  GPtrArray        *held;          /* SoupServerMessage *: paused, answer set */
  guint             puts;          /* objects stored */
} Fixture;

static gboolean
pointer_is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

static void
server_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  Fixture *f = user_data;
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *reply = soup_server_message_get_response_headers (msg);

  if (f->refuse)
    {
      soup_server_message_set_status (msg, 403, NULL);
      soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_STATIC,
                                        DENIED, strlen (DENIED));
      return;
    }
  if (g_str_equal (method, "PUT"))
    {
      SoupMessageBody *body = soup_server_message_get_request_body (msg);
      g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
      g_autofree char *md5 = g_compute_checksum_for_bytes (G_CHECKSUM_MD5, bytes);
      g_autofree char *etag = g_strdup_printf ("\"%s\"", md5);

      soup_message_headers_replace (reply, "ETag", etag);
      f->puts++;
      if (f->hold)
        {
          /* Answered, but the answer waits: the upload stays in flight. */
          soup_server_message_set_status (msg, 200, NULL);
          soup_server_message_pause (msg);
          g_ptr_array_add (f->held, g_object_ref (msg));
          return;
        }
    }
  soup_server_message_set_status (msg, g_str_equal (method, "DELETE") ? 204 : 200, NULL);
}

static void
release_held (Fixture *f)
{
  f->hold = FALSE;
  for (guint i = 0; i < f->held->len; i++)
    soup_server_message_unpause (g_ptr_array_index (f->held, i));
  g_ptr_array_set_size (f->held, 0);
}

static void
start_endpoint (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;

  f->held = g_ptr_array_new_with_free_func (g_object_unref);
  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, NULL, server_cb, f, NULL);
  g_assert_true (soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (f->server);
  g_assert_nonnull (uris);
  f->endpoint = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  user_data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *app_id = g_strdup_printf ("io.github.livetape.Livetape.TestSync%u",
                                             (guint) getpid ());

  lt_test_gui_load_style ();
  start_endpoint (f);

  f->data_dir = lt_test_make_temp_dir ();
  f->engine = lt_engine_new (f->data_dir);
  lt_engine_set_ingest_enabled (f->engine, FALSE);
  lt_engine_set_api_listen (f->engine, NULL);
  lt_engine_start_async (f->engine, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_engine_start_finish (f->engine, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (lt_engine_get_settings (f->engine));
  f->targets = lt_engine_get_storage_targets (f->engine);
  f->sync = lt_engine_get_sync_engine (f->engine);
  lt_sync_engine_set_backoff_scale (f->sync, 0.01);
  lt_sync_engine_set_request_timeout (f->sync, 5000);

  /* A registered application, as the console's: the notifications go through it. */
  f->app = g_application_new (app_id, G_APPLICATION_DEFAULT_FLAGS);
  g_application_register (f->app, NULL, &error);
  g_assert_no_error (error);
  f->notifier = lt_sync_notifier_new (f->app, f->sync);

  f->window = lt_window_new (NULL, NULL);
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1000, 800);
  lt_window_set_engine (f->window, f->engine);
  g_assert_cmpstr (_lt_window_get_state (f->window), ==, "main");
  f->sync_page = _lt_window_get_sync_page (f->window);
  _lt_window_set_page (f->window, "sync");
  gtk_window_present (GTK_WINDOW (f->window));
  lt_test_wait_until ((LtTestCondition) gtk_widget_get_mapped, f->window, 5000, "the window");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  user_data)
{
  LtWindow *window = f->window;
  LtSyncEngine *sync = f->sync;

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_destroy (GTK_WINDOW (f->window));
  lt_test_wait_until (pointer_is_null, &window, 5000, "the window to be finalized");

  g_clear_object (&f->notifier);
  g_clear_object (&f->app);
  g_object_add_weak_pointer (G_OBJECT (sync), (gpointer *) &sync);
  lt_engine_shutdown (f->engine);
  g_assert_finalize_object (f->engine);
  /* Nothing of this test's uploads may outlive it: a sync engine (or an S3 request of its)
   * still alive would run its callbacks in the next test, against this test's endpoint
   * and catalog. */
  lt_test_wait_until (pointer_is_null, &sync, 5000, "the sync engine to be finalized");
  g_free (f->data_dir);

  /* The server goes after its last client, so no request is cut off while held. */
  release_held (f);
  soup_server_remove_handler (f->server, NULL);
  soup_server_disconnect (f->server);
  g_clear_object (&f->server);
  g_clear_pointer (&f->held, g_ptr_array_unref);
  g_free (f->endpoint);
  g_ptr_array_set_size (notifications, 0);
}

static void
fixture_set_up_zh_CN (Fixture       *f,
                      gconstpointer  user_data)
{
  lt_test_use_language ("zh_CN");
  fixture_set_up (f, user_data);
}

static void
fixture_tear_down_zh_CN (Fixture       *f,
                         gconstpointer  user_data)
{
  fixture_tear_down (f, user_data);
  lt_test_use_language (NULL);
}

/* ---- helpers ---- */

static LtPreferencesWindow *
open_preferences (Fixture *f)
{
  LtPreferencesWindow *prefs = lt_preferences_window_new (f->engine);

  gtk_window_set_transient_for (GTK_WINDOW (prefs), GTK_WINDOW (f->window));
  gtk_window_present (GTK_WINDOW (prefs));
  lt_test_wait_until ((LtTestCondition) gtk_widget_get_mapped, prefs, 5000, "the preferences");
  return prefs;
}

static void
close_window (gpointer window)
{
  GtkWindow *w = window;

  g_object_add_weak_pointer (G_OBJECT (w), (gpointer *) &w);
  gtk_window_destroy (w);
  lt_test_wait_until (pointer_is_null, &w, 5000, "a window to be finalized");
}

static const char *
target_row_subtitle (LtPreferencesWindow *prefs,
                     const char          *name)
{
  GtkWidget *row = _lt_preferences_window_get_target_row (prefs, name);

  g_assert_nonnull (row);
  return adw_action_row_get_subtitle (ADW_ACTION_ROW (row));
}

static gboolean
editor_open (gpointer prefs)
{
  LtStorageTargetEditor *editor = _lt_preferences_window_get_editor (prefs);

  return editor != NULL && gtk_widget_get_mapped (GTK_WIDGET (editor));
}

static gboolean
editor_closed (gpointer prefs)
{
  return _lt_preferences_window_get_editor (prefs) == NULL;
}

static LtStorageTargetEditor *
open_editor (LtPreferencesWindow *prefs,
             const char          *name)
{
  if (name == NULL)
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (prefs), "prefs.add-target", NULL));
  else
    g_signal_emit_by_name (_lt_preferences_window_get_target_row (prefs, name), "activate");
  lt_test_wait_until (editor_open, prefs, 5000, "the storage target editor");
  return _lt_preferences_window_get_editor (prefs);
}

static void
set_field (LtStorageTargetEditor      *editor,
           LtStorageTargetEditorField  field,
           const char                 *text)
{
  gtk_editable_set_text (_lt_storage_target_editor_get_field (editor, field), text);
}

static void
click (GtkButton *button)
{
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (button)));
  g_signal_emit_by_name (button, "clicked");
}

/* Through the editor's rows and its Save button, as the operator does. */
static void
add_target_with_editor (LtPreferencesWindow *prefs,
                        const char          *name,
                        const char          *endpoint)
{
  LtStorageTargetEditor *editor = open_editor (prefs, NULL);

  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_NAME, name);
  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_ENDPOINT, endpoint);
  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_REGION, "eu-test-1");
  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_BUCKET, BUCKET);
  gtk_switch_set_active (_lt_storage_target_editor_get_path_style (editor), TRUE);
  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_ACCESS_KEY_ID, KEY_ID);
  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_SECRET, SECRET);
  g_assert_true (_lt_storage_target_editor_get_can_save (editor));
  click (_lt_storage_target_editor_get_save_button (editor));
  lt_test_wait_until (editor_closed, prefs, 10000, "the editor to close after Save");
}

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

static gboolean
test_done (gpointer editor)
{
  return !_lt_storage_target_editor_get_test_busy (editor) &&
         _lt_storage_target_editor_get_test_result (editor, NULL) != NULL;
}

static guint
closed_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, &error);

  g_assert_no_error (error);
  g_socket_listener_close (listener);
  return port;
}

/* ---- Preferences → Storage ---- */

static void
test_add_target (Fixture       *f,
                 gconstpointer  user_data)
{
  LtPreferencesWindow *prefs = open_preferences (f);
  LtStorageTargetEditor *editor;
  LtStorageTarget *target;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) expected = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *catalog = g_build_filename (f->data_dir, "catalog.db", NULL);
  g_autofree char *wal = g_build_filename (f->data_dir, "catalog.db-wal", NULL);
  g_autofree char *settings_file = g_build_filename (f->data_dir, "settings.ini", NULL);
  g_autofree char *unreachable = g_strdup_printf ("http://127.0.0.1:%u", closed_port ());
  const char *message;
  gboolean failed = FALSE;

  /* The local target is listed, not editable. */
  g_assert_nonnull (_lt_preferences_window_get_target_row (prefs, "local"));
  g_assert_false (gtk_list_box_row_get_activatable (GTK_LIST_BOX_ROW (_lt_preferences_window_get_target_row (prefs, "local"))));

  /* Validation as the operator types: the core's messages at their fields. */
  editor = open_editor (prefs, NULL);
  g_assert_false (_lt_storage_target_editor_get_can_save (editor));
  g_assert_null (_lt_storage_target_editor_get_error (editor, LT_STORAGE_TARGET_EDITOR_FIELD_NAME));
  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_NAME, "Bad Name");
  lt_storage_target_check_name ("Bad Name", &expected);
  g_assert_cmpstr (_lt_storage_target_editor_get_error (editor, LT_STORAGE_TARGET_EDITOR_FIELD_NAME),
                   ==, expected->message);
  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_NAME, "local");
  g_assert_nonnull (_lt_storage_target_editor_get_error (editor, LT_STORAGE_TARGET_EDITOR_FIELD_NAME));
  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_NAME, TARGET);
  g_assert_null (_lt_storage_target_editor_get_error (editor, LT_STORAGE_TARGET_EDITOR_FIELD_NAME));
  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_ENDPOINT, "ftp://s3.example.com/path");
  g_assert_nonnull (_lt_storage_target_editor_get_error (editor, LT_STORAGE_TARGET_EDITOR_FIELD_ENDPOINT));
  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_BUCKET, "No_Such..Bucket");
  g_assert_nonnull (_lt_storage_target_editor_get_error (editor, LT_STORAGE_TARGET_EDITOR_FIELD_BUCKET));
  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_ACCESS_KEY_ID, KEY_ID);
  /* A key id needs its secret: said once the secret row was touched. */
  g_assert_null (_lt_storage_target_editor_get_error (editor, LT_STORAGE_TARGET_EDITOR_FIELD_SECRET));
  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_SECRET, "x");
  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_SECRET, "");
  g_assert_nonnull (_lt_storage_target_editor_get_error (editor, LT_STORAGE_TARGET_EDITOR_FIELD_SECRET));
  g_assert_false (_lt_storage_target_editor_get_can_save (editor));
  lt_test_save_screenshot (GTK_WIDGET (editor), "storage-target-editor-errors.png");
  gtk_window_close (GTK_WINDOW (editor));
  lt_test_wait_until (editor_closed, prefs, 5000, "the editor to close on Cancel");
  g_assert_null (lt_storage_targets_lookup (f->targets, TARGET));

  /* Added for real: in the model with its settings, the secret in the keyring only. */
  add_target_with_editor (prefs, TARGET, f->endpoint);
  target = lt_storage_targets_lookup (f->targets, TARGET);
  g_assert_nonnull (target);
  g_assert_cmpstr (lt_storage_target_get_endpoint (target), ==, f->endpoint);
  g_assert_cmpstr (lt_storage_target_get_region (target), ==, "eu-test-1");
  g_assert_cmpstr (lt_storage_target_get_bucket (target), ==, BUCKET);
  g_assert_true (lt_storage_target_get_path_style (target));
  g_assert_cmpstr (lt_storage_target_get_access_key_id (target), ==, KEY_ID);
  lt_storage_targets_lookup_secret_async (f->targets, target, NULL, lt_test_store_result_cb,
                                          &result);
  lt_test_wait_result (&result);
  secret = lt_storage_targets_lookup_secret_finish (f->targets, result, &error);
  g_assert_no_error (error);
  /* Not g_assert_cmpstr: a failure must not print the secret. */
  g_assert_true (g_strcmp0 (secret, SECRET) == 0);
  g_assert_true (g_file_test (catalog, G_FILE_TEST_EXISTS));
  g_assert_true (file_contains (catalog, KEY_ID) || file_contains (wal, KEY_ID));
  g_assert_false (file_contains (catalog, SECRET));
  g_assert_false (file_contains (wal, SECRET));
  g_assert_false (file_contains (settings_file, SECRET));
  g_assert_nonnull (_lt_preferences_window_get_target_row (prefs, TARGET));

  /* Reopened: filled in, the secret row empty (the key stays in the keyring); the stored
   * endpoint answers the test. */
  editor = open_editor (prefs, TARGET);
  g_assert_cmpstr (gtk_editable_get_text (_lt_storage_target_editor_get_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_ENDPOINT)),
                   ==, f->endpoint);
  g_assert_cmpstr (gtk_editable_get_text (_lt_storage_target_editor_get_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_SECRET)),
                   ==, "");
  click (_lt_storage_target_editor_get_test_button (editor));
  g_assert_true (_lt_storage_target_editor_get_test_busy (editor));
  lt_test_wait_until (test_done, editor, 20000, "the connection test");
  message = _lt_storage_target_editor_get_test_result (editor, &failed);
  g_assert_false (failed);
  g_assert_nonnull (message);
  /* An edited field must be saved before it can be tested. */
  set_field (editor, LT_STORAGE_TARGET_EDITOR_FIELD_REGION, "eu-test-2");
  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (_lt_storage_target_editor_get_test_button (editor))));
  gtk_window_close (GTK_WINDOW (editor));
  lt_test_wait_until (editor_closed, prefs, 5000, "the editor closed");

  /* Test Connection against a closed loopback port: the core's error, shown. */
  add_target_with_editor (prefs, "unreachable", unreachable);
  editor = open_editor (prefs, "unreachable");
  click (_lt_storage_target_editor_get_test_button (editor));
  lt_test_wait_until (test_done, editor, 20000, "the failed connection test");
  message = _lt_storage_target_editor_get_test_result (editor, &failed);
  g_assert_true (failed);
  g_clear_object (&result);
  g_clear_error (&expected);
  lt_storage_targets_test_connection_async (f->targets,
                                            lt_storage_targets_lookup (f->targets, "unreachable"),
                                            NULL, 0, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_false (lt_storage_targets_test_connection_finish (f->targets, result, &expected));
  g_assert_cmpstr (message, ==, expected->message);
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_LIGHT);
  gtk_window_set_default_size (GTK_WINDOW (editor), 600, 1000);
  lt_test_spin (300);
  lt_test_save_screenshot (GTK_WIDGET (editor), "storage-target-editor.png");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);

  /* Remove asks first; then the target and its row are gone. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "target.remove", NULL));
  g_assert_nonnull (_lt_storage_target_editor_get_remove_dialog (editor));
  adw_message_dialog_response (_lt_storage_target_editor_get_remove_dialog (editor), "cancel");
  g_assert_nonnull (lt_storage_targets_lookup (f->targets, "unreachable"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "target.remove", NULL));
  adw_message_dialog_response (_lt_storage_target_editor_get_remove_dialog (editor), "remove");
  lt_test_wait_until (editor_closed, prefs, 10000, "the editor to close after Remove");
  g_assert_null (lt_storage_targets_lookup (f->targets, "unreachable"));
  g_assert_null (_lt_preferences_window_get_target_row (prefs, "unreachable"));

  close_window (prefs);
}

static void
test_settings_rows (Fixture       *f,
                    gconstpointer  user_data)
{
  GSettings *settings = lt_engine_get_settings (f->engine);
  LtPreferencesWindow *prefs = open_preferences (f);
  g_autofree char *spool = lt_test_make_temp_dir ();
  g_autoptr(GFile) folder = g_file_new_for_path (spool);
  g_autofree char *stored = NULL;
  AdwStyleManager *style = adw_style_manager_get_default ();

  /* The rows show the stored values… */
  g_assert_cmpfloat (gtk_spin_button_get_value (_lt_preferences_window_get_spin (prefs, "spool-keep-days")),
                     ==, g_settings_get_uint (settings, "spool-keep-days"));
  g_assert_cmpfloat (gtk_spin_button_get_value (_lt_preferences_window_get_spin (prefs, "slice-retention-days")),
                     ==, 90);
  g_assert_cmpfloat (gtk_spin_button_get_value (_lt_preferences_window_get_spin (prefs, "index-retention-days")),
                     ==, 180);
  g_assert_cmpfloat (gtk_spin_button_get_value (_lt_preferences_window_get_spin (prefs, "spool-retention-days")),
                     ==, 0);

  /* … and change them. */
  gtk_spin_button_set_value (_lt_preferences_window_get_spin (prefs, "spool-keep-days"), 3);
  g_assert_cmpuint (g_settings_get_uint (settings, "spool-keep-days"), ==, 3);
  gtk_spin_button_set_value (_lt_preferences_window_get_spin (prefs, "sync-concurrency"), 2);
  g_assert_cmpuint (g_settings_get_uint (settings, "sync-concurrency"), ==, 2);
  gtk_spin_button_set_value (_lt_preferences_window_get_spin (prefs, "sync-bandwidth-limit"), 2.5);
  g_assert_cmpuint (g_settings_get_uint64 (settings, "sync-bandwidth-limit"), ==, 2500000);
  gtk_spin_button_set_value (_lt_preferences_window_get_spin (prefs, "slice-retention-days"), 30);
  g_assert_cmpuint (g_settings_get_uint (settings, "slice-retention-days"), ==, 30);
  gtk_spin_button_set_value (_lt_preferences_window_get_spin (prefs, "index-retention-days"), 365);
  g_assert_cmpuint (g_settings_get_uint (settings, "index-retention-days"), ==, 365);
  gtk_spin_button_set_value (_lt_preferences_window_get_spin (prefs, "spool-retention-days"), 14);
  g_assert_cmpuint (g_settings_get_uint (settings, "spool-retention-days"), ==, 14);
  /* A value set elsewhere shows in the row. */
  g_settings_set_uint (settings, "spool-keep-days", 9);
  g_assert_cmpfloat (gtk_spin_button_get_value (_lt_preferences_window_get_spin (prefs, "spool-keep-days")),
                     ==, 9);

  /* The spool folder: what the chooser picks, then back to the default. */
  g_assert_nonnull (strstr (_lt_preferences_window_get_spool_text (prefs), f->data_dir));
  _lt_preferences_window_set_spool_folder (prefs, folder);
  stored = g_settings_get_string (settings, "spool-dir");
  g_assert_cmpstr (stored, ==, spool);
  g_assert_true (g_str_has_prefix (_lt_preferences_window_get_spool_text (prefs), spool));
  g_assert_nonnull (strstr (_lt_preferences_window_get_spool_text (prefs), "\n"));

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  lt_test_spin (200);
  lt_test_save_screenshot (GTK_WIDGET (prefs), "preferences-storage.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  lt_test_spin (200);
  lt_test_save_screenshot (GTK_WIDGET (prefs), "preferences-storage-dark.png");
  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (prefs), "retention");
  lt_test_spin (200);
  lt_test_save_screenshot (GTK_WIDGET (prefs), "preferences-retention-dark.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);

  _lt_preferences_window_set_spool_folder (prefs, NULL);
  g_free (stored);
  stored = g_settings_get_string (settings, "spool-dir");
  g_assert_cmpstr (stored, ==, "");
  close_window (prefs);
}

/* ---- the Sync page ---- */

static void
add_target (Fixture    *f,
            const char *name)
{
  g_autoptr(LtStorageTarget) target = lt_storage_target_new_s3 (name, f->endpoint, NULL, BUCKET,
                                                                TRUE, KEY_ID);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lt_storage_targets_add_async (f->targets, target, SECRET, NULL, lt_test_store_result_cb,
                                &result);
  lt_test_wait_result (&result);
  lt_storage_targets_add_finish (f->targets, result, &error);
  g_assert_no_error (error);
}

static gint64
enqueue (Fixture    *f,
         const char *target,
         const char *key,
         const char *path)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;

  lt_sync_engine_enqueue_async (f->sync, target, BUCKET, key, path, LT_SYNC_KIND_SLICE, NULL,
                                lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  id = lt_sync_engine_enqueue_finish (f->sync, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static char *
write_slice (Fixture    *f,
             const char *name)
{
  g_autofree char *dir = g_build_filename (f->data_dir, "slices", NULL);
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *data = g_strnfill (200000, 'S');

  g_mkdir_with_parents (dir, 0700);
  g_file_set_contents (path, data, -1, &error);
  g_assert_no_error (error);
  return path;
}

typedef struct
{
  Fixture    *f;
  const char *name;
  const char *state;
} StateWait;

static gboolean
target_state_is (gpointer data)
{
  StateWait *w = data;

  return g_strcmp0 (_lt_sync_page_get_target_state (w->f->sync_page, w->name), w->state) == 0;
}

static void
wait_state (Fixture    *f,
            const char *name,
            const char *state)
{
  StateWait w = { f, name, state };

  lt_test_wait_until (target_state_is, &w, 15000, state);
}

typedef struct
{
  Fixture *f;
  gint64   id;
} RowWait;

static gboolean
upload_row_shown (gpointer data)
{
  RowWait *w = data;

  return _lt_sync_page_get_upload_row (w->f->sync_page, w->id) != NULL;
}

static gboolean
upload_row_gone (gpointer data)
{
  RowWait *w = data;

  return _lt_sync_page_get_upload_row (w->f->sync_page, w->id) == NULL;
}

static gboolean
stored_one (gpointer data)
{
  Fixture *f = data;

  return f->puts > 0;
}

static gboolean
sending_shown (gpointer data)
{
  Fixture *f = data;

  return f->held->len > 0 && _lt_sync_page_get_target_current (f->sync_page, TARGET) != NULL &&
         gtk_progress_bar_get_fraction (_lt_sync_page_get_target_progress (f->sync_page, TARGET)) > 0.0;
}

static gboolean
notification_gone (gpointer id)
{
  return find_notification (id) == NULL;
}

static gboolean
notification_shown (gpointer id)
{
  return find_notification (id) != NULL;
}

static void
test_sync_page (Fixture       *f,
                gconstpointer  user_data)
{
  AdwViewStackPage *stack_page = _lt_window_get_sync_stack_page (f->window);
  AdwStyleManager *style = adw_style_manager_get_default ();
  g_autofree char *id = lt_sync_notifier_dup_id (TARGET);
  g_autofree char *slice = write_slice (f, "0001.ts");
  g_autofree char *missing = g_build_filename (f->data_dir, "slices", "0002.ts", NULL);
  LtPreferencesWindow *prefs;
  Notification *n;
  const char *detail;
  GtkWidget *row;
  gint64 missing_id;
  RowWait w;

  /* Only the local target: nothing to sync. */
  lt_test_spin (300);
  g_assert_cmpstr (_lt_sync_page_get_state (f->sync_page), ==, "empty");

  /* An S3 target: its group, up to date. */
  add_target (f, TARGET);
  wait_state (f, TARGET, "Up to Date");
  g_assert_cmpstr (_lt_sync_page_get_state (f->sync_page), ==, "list");
  g_assert_nonnull (_lt_sync_page_get_target_group (f->sync_page, TARGET));
  g_assert_cmpstr (_lt_sync_page_get_target_queue (f->sync_page, TARGET), ==, "Nothing waiting");
  g_assert_null (_lt_sync_page_get_target_current (f->sync_page, TARGET));

  /* Pause and resume. */
  click (_lt_sync_page_get_pause_button (f->sync_page, TARGET));
  wait_state (f, TARGET, "Paused");
  g_assert_cmpstr (gtk_button_get_label (_lt_sync_page_get_pause_button (f->sync_page, TARGET)),
                   ==, "_Resume");
  click (_lt_sync_page_get_pause_button (f->sync_page, TARGET));
  wait_state (f, TARGET, "Up to Date");

  /* The Preferences window stays open meanwhile: its row follows the target's state. */
  prefs = open_preferences (f);
  g_assert_null (strstr (target_row_subtitle (prefs, TARGET), "Failing"));

  /* Refused with 403: the target fails with the reason, a notification says so. */
  f->refuse = TRUE;
  enqueue (f, TARGET, "live/cam/0001.ts", slice);
  wait_state (f, TARGET, "Failing");
  g_assert_nonnull (strstr (target_row_subtitle (prefs, TARGET), "Failing"));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (_lt_preferences_window_get_target_row (prefs, TARGET)),
                            "Access Denied by the test endpoint"));
  detail = _lt_sync_page_get_target_detail (f->sync_page, TARGET);
  g_assert_nonnull (strstr (detail, "Access Denied by the test endpoint"));
  g_assert_nonnull (strstr (_lt_sync_page_get_target_queue (f->sync_page, TARGET), "1 file waiting"));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (_lt_sync_page_get_retry_all_button (f->sync_page, TARGET))));
  lt_test_wait_until (notification_shown, id, 5000, "the notification");
  n = find_notification (id);
  g_assert_nonnull (strstr (n->title, TARGET));
  g_assert_nonnull (strstr (n->body, "Access Denied by the test endpoint"));
  g_assert_cmpstr (n->default_action, ==, "app.show-sync");

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  lt_test_spin (200);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "sync-uploads-failing.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);

  /* The endpoint stores again (its answer held back for a moment): Retry All sends it,
   * the page shows the file being sent with its progress; once answered, the target is
   * up to date and the notification is withdrawn. */
  f->refuse = FALSE;
  f->hold = TRUE;
  click (_lt_sync_page_get_retry_all_button (f->sync_page, TARGET));
  lt_test_wait_until (notification_gone, id, 5000, "the notification withdrawn");
  lt_test_wait_until (sending_shown, f, 15000, "the file being sent");
  g_assert_nonnull (strstr (_lt_sync_page_get_target_current (f->sync_page, TARGET),
                            "live/cam/0001.ts"));
  g_assert_cmpfloat (gtk_progress_bar_get_fraction (_lt_sync_page_get_target_progress (f->sync_page, TARGET)),
                     >, 0.0);
  g_assert_cmpstr (_lt_sync_page_get_target_state (f->sync_page, TARGET), ==, "Uploading");
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (_lt_sync_page_get_retry_all_button (f->sync_page, TARGET))));
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  lt_test_spin (200);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "sync-uploads-sending.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);
  release_held (f);
  lt_test_wait_until (stored_one, f, 15000, "the upload stored");
  wait_state (f, TARGET, "Up to Date");
  g_assert_null (_lt_sync_page_get_target_current (f->sync_page, TARGET));
  g_assert_null (find_notification (id));
  g_assert_null (strstr (target_row_subtitle (prefs, TARGET), "Failing"));
  g_assert_null (gtk_widget_get_tooltip_text (_lt_preferences_window_get_target_row (prefs, TARGET)));
  close_window (prefs);

  /* A local file gone: a failed upload with its reason and a Retry button; counted in
   * the badge. */
  missing_id = enqueue (f, TARGET, "live/cam/0002.ts", missing);
  w = (RowWait) { f, missing_id };
  lt_test_wait_until (upload_row_shown, &w, 15000, "the failed upload listed");
  row = _lt_sync_page_get_upload_row (f->sync_page, missing_id);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, "live/cam/0002.ts");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), missing));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), TARGET));
  g_assert_cmpuint (_lt_sync_page_count_upload_rows (f->sync_page), ==, 1);
  g_assert_cmpuint (adw_view_stack_page_get_badge_number (stack_page), ==, 1);

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  lt_test_spin (200);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "sync-uploads.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  lt_test_spin (200);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "sync-uploads-dark.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);
  /* The narrowest window: the target's buttons still fit beside its name. */
  gtk_window_set_default_size (GTK_WINDOW (f->window), 360, 720);
  lt_test_spin (300);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "sync-uploads-narrow.png");
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1000, 800);
  lt_test_spin (300);

  /* The file is back: Retry puts it in the queue, it is stored, the row goes. */
  g_free (write_slice (f, "0002.ts"));
  f->puts = 0;
  click (GTK_BUTTON (_lt_sync_page_get_retry_button (row)));
  lt_test_wait_until (upload_row_gone, &w, 15000, "the retried upload gone from the list");
  lt_test_wait_until (stored_one, f, 15000, "the retried upload stored");
  lt_test_spin (300);
  g_assert_null (_lt_sync_page_get_upload_row (f->sync_page, missing_id));
  g_assert_cmpuint (adw_view_stack_page_get_badge_number (stack_page), ==, 0);
}

static void
test_screenshots_zh_CN (Fixture       *f,
                        gconstpointer  user_data)
{
  g_autofree char *slice = write_slice (f, "0001.ts");
  LtPreferencesWindow *prefs;
  const char *failing = g_dgettext (GETTEXT_PACKAGE, "Failing");

  g_assert_cmpstr (failing, !=, "Failing");
  f->refuse = TRUE;
  add_target (f, TARGET);
  enqueue (f, TARGET, "live/cam/0001.ts", slice);
  wait_state (f, TARGET, failing);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "sync-uploads-zh_CN.png");

  prefs = open_preferences (f);
  lt_test_spin (200);
  lt_test_save_screenshot (GTK_WIDGET (prefs), "preferences-zh_CN.png");
  {
    LtStorageTargetEditor *editor = open_editor (prefs, TARGET);

    gtk_window_set_default_size (GTK_WINDOW (editor), 600, 1000);
    lt_test_spin (300);
    lt_test_save_screenshot (GTK_WIDGET (editor), "storage-target-editor-zh_CN.png");
    gtk_window_close (GTK_WINDOW (editor));
    lt_test_wait_until (editor_closed, prefs, 5000, "the editor closed");
  }
  close_window (prefs);
}

/* ---- the application's wiring ---- */

typedef struct
{
  LtApplication *app;
  gboolean       checked;
} AppRun;

static LtPreferencesWindow *
find_preferences (GtkApplication *app,
                  guint          *n)
{
  LtPreferencesWindow *found = NULL;

  *n = 0;
  for (GList *l = gtk_application_get_windows (app); l != NULL; l = l->next)
    if (LT_IS_PREFERENCES_WINDOW (l->data))
      {
        found = l->data;
        (*n)++;
      }
  return found;
}

static gboolean
app_check_cb (gpointer user_data)
{
  AppRun *run = user_data;
  GtkApplication *app = GTK_APPLICATION (run->app);
  GtkWindow *window = gtk_application_get_active_window (app);
  g_auto(GStrv) accels = NULL;
  LtPreferencesWindow *prefs;
  guint n;

  if (window == NULL || !LT_IS_WINDOW (window) ||
      g_strcmp0 (_lt_window_get_state (LT_WINDOW (window)), "main") != 0 ||
      !gtk_widget_get_mapped (GTK_WIDGET (window)))
    return G_SOURCE_CONTINUE;

  /* Preferences from the main menu and Ctrl+comma; one window however often. */
  accels = gtk_application_get_accels_for_action (app, "app.preferences");
  g_assert_nonnull (accels);
  g_assert_cmpstr (accels[0], ==, "<Control>comma");
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  prefs = find_preferences (app, &n);
  g_assert_nonnull (prefs);
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (prefs)) == window);
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  g_assert_true (find_preferences (app, &n) == prefs);
  g_assert_cmpuint (n, ==, 1);
  g_assert_nonnull (_lt_preferences_window_get_target_row (prefs, "local"));
  close_window (prefs);

  /* The notification's action: the window, on the Sync page. */
  _lt_window_set_page (LT_WINDOW (window), "rules");
  lt_test_spin (100);
  g_assert_false (gtk_widget_get_mapped (GTK_WIDGET (_lt_window_get_sync_page (LT_WINDOW (window)))));
  g_action_group_activate_action (G_ACTION_GROUP (app), "show-sync", NULL);
  lt_test_spin (100);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (_lt_window_get_sync_page (LT_WINDOW (window)))));

  run->checked = TRUE;
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  return G_SOURCE_REMOVE;
}

static void
test_app_actions (void)
{
  g_autofree char *data_dir = lt_test_make_temp_dir ();
  char *argv[] = { (char *) "test-gui-sync", NULL };
  AppRun run = { 0 };
  int status;

  run.app = _lt_application_new (data_dir, "127.0.0.1:0", G_APPLICATION_NON_UNIQUE);
  _lt_application_set_ingest (run.app, FALSE, 0);
  g_timeout_add (20, app_check_cb, &run);
  status = g_application_run (G_APPLICATION (run.app), 1, argv);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (run.checked);
  /* Nor may its engine and windows live on into the next test. */
  g_assert_finalize_object (g_steal_pointer (&run.app));
}

int
main (int    argc,
      char **argv)
{
  lt_test_gui_init (&argc, &argv);
  /* Notifications go to our fake org.gtk.Notifications, never to a real desktop. */
  g_setenv ("GNOTIFICATION_BACKEND", "gtk", TRUE);
  start_notification_server ();

#define ADD(path, func) \
  g_test_add ("/gui/sync/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("add-target", test_add_target);
  ADD ("settings-rows", test_settings_rows);
  ADD ("sync-page", test_sync_page);
#undef ADD
  g_test_add_func ("/gui/sync/app-actions", test_app_actions);
  g_test_add ("/gui/sync/screenshots-zh_CN", Fixture, NULL,
              fixture_set_up_zh_CN, test_screenshots_zh_CN, fixture_tear_down_zh_CN);

  return g_test_run ();
}
