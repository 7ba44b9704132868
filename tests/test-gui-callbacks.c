/* test-gui-callbacks.c: the console's callback settings and undeliverable callbacks,
 * driven through the real widgets under Xvfb, against a real HTTP receiver on loopback
 * (a SoupServer in this process).
 *
 * - A domain's "Callbacks" button beside its rules opens the settings dialog: a bad
 *   address shows the core's message at its field and Save is off; a test callback goes
 *   to the receiver with the test body and the dialog shows the receiver's status and
 *   reply (and a 500 as such); Save stores the settings, the domain's group then says
 *   where its callbacks go; reopened, the signing key is hidden until revealed; Remove
 *   asks first, then removes.
 * - From the main menu, settings for a domain without rules (the domain validated too).
 * - The Sync page: empty state, a callback to a forbidden address listed as failed with
 *   its last error and re-sent (a second attempt); an expired one re-sent once the
 *   receiver works disappears and arrives; the page's badge counts them.
 * Screenshots (light, dark, zh_CN) are kept in $LT_TEST_OUTPUT_DIR/screenshots. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "lt-callback-queue.h"
#include "lt-engine.h"
#include "lt-notify-editor.h"
#include "lt-notify-store.h"
#include "lt-rules-page-private.h"
#include "lt-sync-page.h"
#include "lt-test-gui.h"
#include "lt-test-utils.h"
#include "lt-window-private.h"

#define DOMAIN "live.example.com"
#define REPLY  "{\"received\":true}"

typedef struct
{
  char            *data_dir;
  LtEngine        *engine;
  LtNotifyStore   *notify_store;
  LtCallbackQueue *queue;
  LtWindow        *window;
  LtRulesPage     *page;
  LtSyncPage      *sync_page;

  SoupServer      *server;
  char            *base;          /* http://127.0.0.1:PORT */
  guint            status;        /* what the receiver answers */
  GPtrArray       *bodies;        /* char *: bodies received */
  char            *last_signature;
} Fixture;

static gboolean
pointer_is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

/* ---- the receiver ---- */

static void
server_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  Fixture *f = user_data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  g_ptr_array_add (f->bodies, g_strndup (body->data, body->length));
  g_free (f->last_signature);
  f->last_signature = g_strdup (soup_message_headers_get_one (headers, "X-Livetape-Signature"));
  soup_server_message_set_status (msg, f->status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                    REPLY, strlen (REPLY));
}

static void
start_receiver (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;

  f->status = 200;
  f->bodies = g_ptr_array_new_with_free_func (g_free);
  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, NULL, server_cb, f, NULL);
  g_assert_true (soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (f->server);
  g_assert_nonnull (uris);
  f->base = g_uri_to_string_partial (uris->data, G_URI_HIDE_PASSWORD);
  if (g_str_has_suffix (f->base, "/"))
    f->base[strlen (f->base) - 1] = '\0';
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
}

/* ---- fixture ---- */

static void
fixture_set_up (Fixture       *f,
                gconstpointer  user_data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lt_test_gui_load_style ();
  start_receiver (f);

  f->data_dir = lt_test_make_temp_dir ();
  f->engine = lt_engine_new (f->data_dir);
  lt_engine_set_ingest_enabled (f->engine, FALSE);
  lt_engine_set_api_listen (f->engine, NULL);
  lt_engine_start_async (f->engine, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_engine_start_finish (f->engine, result, &error);
  g_assert_no_error (error);
  f->notify_store = lt_engine_get_notify_store (f->engine);
  f->queue = lt_engine_get_callback_queue (f->engine);
  /* Quick retries: the expiry tests must not wait for real backoff. */
  lt_callback_queue_set_backoff_scale (f->queue, 0.01);

  f->window = lt_window_new (NULL, NULL);
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1000, 760);
  lt_window_set_engine (f->window, f->engine);
  g_assert_cmpstr (_lt_window_get_state (f->window), ==, "main");
  _lt_window_set_page (f->window, "rules");
  f->page = _lt_window_get_rules_page (f->window);
  f->sync_page = _lt_window_get_sync_page (f->window);
  gtk_window_present (GTK_WINDOW (f->window));
  lt_test_wait_until ((LtTestCondition) gtk_widget_get_mapped, f->window, 5000, "the window");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  user_data)
{
  LtWindow *window = f->window;

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_destroy (GTK_WINDOW (f->window));
  lt_test_wait_until (pointer_is_null, &window, 5000, "the window to be finalized");

  lt_engine_shutdown (f->engine);
  g_assert_finalize_object (f->engine);
  g_free (f->data_dir);

  soup_server_disconnect (f->server);
  g_clear_object (&f->server);
  g_clear_pointer (&f->bodies, g_ptr_array_unref);
  g_free (f->base);
  g_free (f->last_signature);
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

static void
add_rule (Fixture    *f,
          const char *domain)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LtRule) rule = NULL;

  g_hash_table_insert (params, "DomainName", (gpointer) domain);
  g_hash_table_insert (params, "AppName", "live");
  g_hash_table_insert (params, "OssEndpoint", "local");
  g_hash_table_insert (params, "OssBucket", "recordings");
  rule = lt_rule_new_from_params (params, now, &error);
  g_assert_no_error (error);

  lt_rule_store_add_async (lt_engine_get_rule_store (f->engine), rule, NULL,
                           lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_rule_store_add_finish (lt_engine_get_rule_store (f->engine), result, &error);
  g_assert_no_error (error);
}

static gboolean
notify_editor_open (gpointer page)
{
  return _lt_rules_page_get_notify_editor (page) != NULL;
}

static gboolean
notify_editor_closed (gpointer page)
{
  return _lt_rules_page_get_notify_editor (page) == NULL;
}

static LtNotifyEditor *
open_editor (Fixture    *f,
             const char *domain)
{
  LtNotifyEditor *editor;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->page), "rules.edit-callbacks", "s",
                                             domain));
  lt_test_wait_until (notify_editor_open, f->page, 2000, "the callback settings");
  editor = _lt_rules_page_get_notify_editor (f->page);
  lt_test_wait_until ((LtTestCondition) gtk_widget_get_mapped, editor, 5000, "the dialog mapped");
  return editor;
}

static void
set_field (LtNotifyEditor      *editor,
           LtNotifyEditorField  field,
           const char          *text)
{
  gtk_editable_set_text (_lt_notify_editor_get_field (editor, field), text);
}

static char *
core_url_message (const char *url)
{
  LtNotifyConfig config = { .domain = (char *) DOMAIN, .notify_url = (char *) url };
  g_autoptr(GError) error = NULL;

  g_assert_false (lt_notify_config_check (&config, &error));
  return g_strdup (error->message);
}

static gboolean
test_answered (gpointer editor)
{
  return !_lt_notify_editor_get_test_busy (editor) &&
         _lt_notify_editor_get_test_status (editor) != NULL &&
         g_str_has_prefix (_lt_notify_editor_get_test_status (editor), "HTTP ");
}

static void
send_test (LtNotifyEditor *editor)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "notify.send-test", NULL));
  g_assert_true (_lt_notify_editor_get_test_busy (editor));
  lt_test_wait_until (test_answered, editor, 10000, "the receiver's answer");
}

static void
save (Fixture        *f,
      LtNotifyEditor *editor)
{
  g_assert_true (_lt_notify_editor_get_can_save (editor));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "notify.save", NULL));
  lt_test_wait_until (notify_editor_closed, f->page, 5000, "the dialog to close after Save");
}

static char *
receiver_url (Fixture    *f,
              const char *path)
{
  return g_strdup_printf ("%s%s", f->base, path);
}

/* ---- the settings dialog ---- */

static void
test_editor (Fixture       *f,
             gconstpointer  user_data)
{
  g_autofree char *url = receiver_url (f, "/hook");
  g_autofree char *bad_message = core_url_message ("ftp://example.com/hook");
  g_autofree char *key = NULL;
  const LtNotifyConfig *config;
  LtNotifyEditor *editor;
  AdwMessageDialog *dialog;

  add_rule (f, DOMAIN);
  g_assert_null (_lt_rules_page_get_group_description (f->page, DOMAIN));

  editor = open_editor (f, DOMAIN);
  g_assert_false (_lt_notify_editor_get_saved (editor));
  /* Untouched fields do not complain. */
  g_assert_null (_lt_notify_editor_get_error (editor, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL));
  g_assert_false (gtk_toggle_button_get_active (_lt_notify_editor_get_reveal_button (editor)));
  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (_lt_notify_editor_get_reveal_button (editor))));

  /* A bad address: the core's message at the field, Save and Test off. */
  set_field (editor, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL, "ftp://example.com/hook");
  g_assert_cmpstr (_lt_notify_editor_get_error (editor, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL), ==,
                   bad_message);
  g_assert_false (_lt_notify_editor_get_can_save (editor));
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (editor), "notify.send-test", NULL) &&
                  _lt_notify_editor_get_test_busy (editor));
  set_field (editor, LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL, "javascript:alert(1)");
  g_assert_nonnull (_lt_notify_editor_get_error (editor, LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL));

  /* A good one: no errors; the test callback reaches the receiver, unsigned (no key
   * yet), and its answer shows. */
  set_field (editor, LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL, "");
  set_field (editor, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL, url);
  g_assert_null (_lt_notify_editor_get_error (editor, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL));
  g_assert_null (_lt_notify_editor_get_error (editor, LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL));
  g_assert_true (_lt_notify_editor_get_can_save (editor));
  send_test (editor);
  g_assert_cmpuint (f->bodies->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->bodies, 0), ==,
                   "{\"domain\":\"" DOMAIN "\",\"app\":\"test\",\"stream\":\"test\","
                   "\"event\":\"test\"}");
  g_assert_cmpstr (_lt_notify_editor_get_test_status (editor), ==, "HTTP 200 OK");
  g_assert_cmpstr (_lt_notify_editor_get_test_reply (editor), ==, REPLY);

  /* A receiver that fails: its status is shown as such. */
  f->status = 500;
  send_test (editor);
  g_assert_nonnull (strstr (_lt_notify_editor_get_test_status (editor), "HTTP 500"));
  f->status = 200;

  /* Save: stored, the dialog closes, the domain's group says where callbacks go. */
  gtk_switch_set_active (_lt_notify_editor_get_status_switch (editor), TRUE);
  set_field (editor, LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL, "http://127.0.0.1:9/on-demand");
  save (f, editor);
  config = lt_notify_store_lookup (f->notify_store, DOMAIN);
  g_assert_nonnull (config);
  g_assert_cmpstr (config->notify_url, ==, url);
  g_assert_true (config->need_status_notify);
  g_assert_cmpstr (config->on_demand_url, ==, "http://127.0.0.1:9/on-demand");
  g_assert_nonnull (strstr (_lt_rules_page_get_group_description (f->page, DOMAIN), url));

  /* Reopened: filled in; the key hidden until revealed; the test is signed now. */
  editor = open_editor (f, DOMAIN);
  g_assert_true (_lt_notify_editor_get_saved (editor));
  g_assert_cmpstr (gtk_editable_get_text (_lt_notify_editor_get_field (editor, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL)),
                   ==, url);
  g_assert_true (gtk_switch_get_active (_lt_notify_editor_get_status_switch (editor)));
  key = lt_notify_store_dup_signing_key (f->notify_store, DOMAIN);
  g_assert_nonnull (key);
  g_assert_null (strstr (_lt_notify_editor_get_key_text (editor), key));
  gtk_toggle_button_set_active (_lt_notify_editor_get_reveal_button (editor), TRUE);
  g_assert_true (g_strcmp0 (_lt_notify_editor_get_key_text (editor), key) == 0);
  gtk_toggle_button_set_active (_lt_notify_editor_get_reveal_button (editor), FALSE);
  g_assert_null (strstr (_lt_notify_editor_get_key_text (editor), key));
  /* Copy puts the key itself on the clipboard, revealed or not. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "notify.copy-key", NULL));
  {
    GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (editor));
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *copied = NULL;

    gdk_clipboard_read_text_async (clipboard, NULL, lt_test_store_result_cb, &result);
    lt_test_wait_result (&result);
    copied = gdk_clipboard_read_text_finish (clipboard, result, &error);
    g_assert_no_error (error);
    /* Not g_assert_cmpstr: a failure must not print the key. */
    g_assert_true (g_strcmp0 (copied, key) == 0);
  }
  send_test (editor);
  g_assert_nonnull (f->last_signature);
  g_assert_true (g_str_has_prefix (f->last_signature, "sha256="));

  /* Remove asks first; Cancel keeps, Remove removes. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "notify.remove", NULL));
  dialog = _lt_notify_editor_get_remove_dialog (editor);
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "cancel");
  g_assert_null (_lt_notify_editor_get_remove_dialog (editor));
  g_assert_nonnull (lt_notify_store_lookup (f->notify_store, DOMAIN));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "notify.remove", NULL));
  adw_message_dialog_response (_lt_notify_editor_get_remove_dialog (editor), "remove");
  lt_test_wait_until (notify_editor_closed, f->page, 5000, "the dialog to close after Remove");
  g_assert_null (lt_notify_store_lookup (f->notify_store, DOMAIN));
  g_assert_null (_lt_rules_page_get_group_description (f->page, DOMAIN));
}

/* A domain without rules, from the main menu. */
static void
test_domain_from_menu (Fixture       *f,
                       gconstpointer  user_data)
{
  g_autofree char *url = receiver_url (f, "/studio");
  LtNotifyEditor *editor;
  GtkEditable *domain;
  GtkWidget *row;

  g_action_group_activate_action (G_ACTION_GROUP (f->window), "callback-settings",
                                  g_variant_new_string (""));
  lt_test_wait_until (notify_editor_open, f->page, 2000, "the callback settings");
  editor = _lt_rules_page_get_notify_editor (f->page);
  domain = _lt_notify_editor_get_field (editor, LT_NOTIFY_EDITOR_FIELD_DOMAIN);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (domain)));

  set_field (editor, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL, url);
  /* Without a domain Save is off; once the field was touched it says why. */
  g_assert_false (_lt_notify_editor_get_can_save (editor));
  g_assert_null (_lt_notify_editor_get_error (editor, LT_NOTIFY_EDITOR_FIELD_DOMAIN));
  gtk_editable_set_text (domain, "x");
  gtk_editable_set_text (domain, "");
  g_assert_nonnull (_lt_notify_editor_get_error (editor, LT_NOTIFY_EDITOR_FIELD_DOMAIN));
  g_assert_false (_lt_notify_editor_get_can_save (editor));
  gtk_editable_set_text (domain, "not a domain");
  g_assert_nonnull (_lt_notify_editor_get_error (editor, LT_NOTIFY_EDITOR_FIELD_DOMAIN));
  gtk_editable_set_text (domain, "studio.example.org");
  g_assert_null (_lt_notify_editor_get_error (editor, LT_NOTIFY_EDITOR_FIELD_DOMAIN));
  save (f, editor);
  g_assert_nonnull (lt_notify_store_lookup (f->notify_store, "studio.example.org"));

  /* It has no rules, so no group on the Rules page: the Sync page lists it, and its row
   * opens the dialog again, filled in. */
  _lt_window_set_page (f->window, "sync");
  row = _lt_sync_page_get_settings_row (f->sync_page, "studio.example.org");
  g_assert_nonnull (row);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, url);
  g_assert_cmpstr (_lt_sync_page_get_state (f->sync_page), ==, "list");
  g_signal_emit_by_name (row, "activate");
  lt_test_wait_until (notify_editor_open, f->page, 2000, "the callback settings again");
  editor = _lt_rules_page_get_notify_editor (f->page);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (_lt_notify_editor_get_field (editor, LT_NOTIFY_EDITOR_FIELD_DOMAIN))));
  g_assert_cmpstr (gtk_editable_get_text (_lt_notify_editor_get_field (editor, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL)),
                   ==, url);
  g_assert_true (_lt_notify_editor_get_saved (editor));
}

/* ---- the Sync page ---- */

static gint64
enqueue (Fixture    *f,
         const char *stream,
         const char *url,
         const char *kind)
{
  g_autofree char *key = g_strdup_printf (DOMAIN "/live/%s", stream);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;

  lt_callback_queue_enqueue_async (f->queue, DOMAIN, key, kind, url,
                                   "{\"domain\":\"" DOMAIN "\",\"app\":\"live\","
                                   "\"stream\":\"cam\",\"event\":\"record_started\"}",
                                   NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  id = lt_callback_queue_enqueue_finish (f->queue, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

typedef struct
{
  Fixture    *f;
  gint64      id;
  const char *text;    /* in the row's subtitle */
} RowWait;

static gboolean
row_says (gpointer data)
{
  RowWait *w = data;
  GtkWidget *row = _lt_sync_page_get_row (w->f->sync_page, w->id);
  const char *subtitle;

  if (row == NULL)
    return FALSE;
  subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (row));
  return w->text == NULL || (subtitle != NULL && strstr (subtitle, w->text) != NULL);
}

static gboolean
row_gone (gpointer data)
{
  RowWait *w = data;

  return _lt_sync_page_get_row (w->f->sync_page, w->id) == NULL &&
         g_strcmp0 (_lt_sync_page_get_state (w->f->sync_page), "loading") != 0;
}

static void
click_resend (Fixture *f,
              gint64   id)
{
  GtkWidget *row = _lt_sync_page_get_row (f->sync_page, id);
  GtkWidget *button;

  g_assert_nonnull (row);
  button = _lt_sync_page_get_resend_button (row);
  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
  g_assert_false (gtk_widget_is_sensitive (button));
}

static gboolean
sync_page_empty (gpointer page)
{
  return g_strcmp0 (_lt_sync_page_get_state (page), "empty") == 0;
}

typedef struct
{
  gint64 id;
  guint  requeued;   /* "item-changed" with the callback pending again */
  guint  failed;     /* … and failed, after that */
} Failures;

static void
count_failures_cb (LtCallbackQueue      *queue,
                   const LtCallbackItem *item,
                   Failures             *failures)
{
  if (item->id != failures->id)
    return;
  if (item->state == LT_CALLBACK_PENDING)
    failures->requeued++;
  else if (item->state == LT_CALLBACK_FAILED && failures->requeued > 0)
    failures->failed++;
}

static gboolean
failed_again (gpointer data)
{
  Failures *failures = data;

  return failures->failed > 0;
}

static void
test_failed_listed_and_resent (Fixture       *f,
                               gconstpointer  user_data)
{
  AdwViewStackPage *stack_page = _lt_window_get_sync_stack_page (f->window);
  Failures failures = { 0 };
  gint64 id;
  GtkWidget *row;
  RowWait w;

  _lt_window_set_page (f->window, "sync");
  lt_test_wait_until (sync_page_empty, f->sync_page, 5000, "the empty Sync page");
  g_assert_nonnull (_lt_sync_page_get_pending_text (f->sync_page));
  lt_test_save_screenshot (GTK_WIDGET (f->window), "sync-page-empty.png");
  g_assert_cmpuint (adw_view_stack_page_get_badge_number (stack_page), ==, 0);

  /* Refused for good: listed with its address, kind, stream, attempts and error. */
  id = enqueue (f, "cam", "http://169.254.169.254/latest/meta-data/", "status");
  w = (RowWait) { f, id, "1 attempt" };
  lt_test_wait_until (row_says, &w, 5000, "the failed callback listed");
  g_assert_cmpstr (_lt_sync_page_get_state (f->sync_page), ==, "list");
  row = _lt_sync_page_get_row (f->sync_page, id);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==,
                   "http://169.254.169.254/latest/meta-data/");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "Failed"));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)),
                            DOMAIN "/live/cam"));
  g_assert_cmpuint (adw_view_stack_page_get_badge_number (stack_page), ==, 1);
  g_assert_true (adw_view_stack_page_get_needs_attention (stack_page));

  /* Re-sent: queued again, tried again (and refused again), listed again. */
  g_signal_connect (f->queue, "item-changed", G_CALLBACK (count_failures_cb), &failures);
  failures.id = id;
  click_resend (f, id);
  lt_test_wait_until (failed_again, &failures, 5000, "the re-sent callback tried again");
  w = (RowWait) { f, id, "1 attempt" };
  lt_test_wait_until (row_says, &w, 5000, "the re-sent callback listed again");
  g_assert_true (gtk_widget_is_sensitive (_lt_sync_page_get_resend_button (_lt_sync_page_get_row (f->sync_page, id))));
  g_assert_cmpuint (_lt_sync_page_count_rows (f->sync_page), ==, 1);
  g_signal_handlers_disconnect_by_func (f->queue, count_failures_cb, &failures);
}

/* Longer than the page's refresh delay. */
#define REFRESH_WAIT_MS 600

static gboolean
received_one (gpointer data)
{
  Fixture *f = data;

  return f->bodies->len > 0;
}

static void
test_expired_resent_delivers (Fixture       *f,
                              gconstpointer  user_data)
{
  g_autofree char *url = receiver_url (f, "/flaky");
  AdwViewStackPage *stack_page = _lt_window_get_sync_stack_page (f->window);
  AdwStyleManager *style = adw_style_manager_get_default ();
  gint64 id, forbidden;
  RowWait w;

  _lt_window_set_page (f->window, "sync");
  lt_callback_queue_set_expiry (f->queue, 1);
  f->status = 500;
  id = enqueue (f, "cam", url, "file");
  forbidden = enqueue (f, "lobby", "http://169.254.169.254/", "status");
  w = (RowWait) { f, id, "Expired" };
  lt_test_wait_until (row_says, &w, 8000, "the expired callback listed");
  w = (RowWait) { f, forbidden, "Failed" };
  lt_test_wait_until (row_says, &w, 5000, "the failed callback listed");
  g_assert_cmpuint (adw_view_stack_page_get_badge_number (stack_page), ==, 2);

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "sync-page.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "sync-page-dark.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);

  /* The receiver works again: re-sent, delivered, gone from the list. */
  lt_callback_queue_set_expiry (f->queue, 60);
  f->status = 200;
  g_ptr_array_set_size (f->bodies, 0);
  click_resend (f, id);
  w = (RowWait) { f, id, NULL };
  lt_test_wait_until (row_gone, &w, 8000, "the re-sent callback gone from the list");
  lt_test_wait_until (received_one, f, 8000, "the re-sent callback delivered");
  lt_test_spin (REFRESH_WAIT_MS);
  g_assert_null (_lt_sync_page_get_row (f->sync_page, id));
  g_assert_nonnull (strstr (g_ptr_array_index (f->bodies, f->bodies->len - 1), "record_started"));
  g_assert_cmpuint (_lt_sync_page_count_rows (f->sync_page), ==, 1);
  g_assert_cmpuint (adw_view_stack_page_get_badge_number (stack_page), ==, 1);
}

/* ---- screenshots ---- */

static void
editor_screenshot (Fixture    *f,
                   const char *name,
                   gboolean    dark)
{
  g_autofree char *url = receiver_url (f, "/hook");
  AdwStyleManager *style = adw_style_manager_get_default ();
  LtNotifyEditor *editor = open_editor (f, DOMAIN);

  gtk_window_set_default_size (GTK_WINDOW (editor), 600, 980);
  set_field (editor, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL, url);
  set_field (editor, LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL, "ftp://example.com/on-demand");
  g_assert_nonnull (_lt_notify_editor_get_error (editor, LT_NOTIFY_EDITOR_FIELD_ON_DEMAND_URL));
  send_test (editor);
  adw_style_manager_set_color_scheme (style, dark ? ADW_COLOR_SCHEME_FORCE_DARK
                                                  : ADW_COLOR_SCHEME_FORCE_LIGHT);
  lt_test_spin (300);
  lt_test_save_screenshot (GTK_WIDGET (editor), name);
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);
  gtk_window_destroy (GTK_WINDOW (editor));
  lt_test_wait_until (notify_editor_closed, f->page, 5000, "the dialog closed");
}

static void
test_screenshots (Fixture       *f,
                  gconstpointer  user_data)
{
  g_autofree char *url = receiver_url (f, "/hook");
  AdwStyleManager *style = adw_style_manager_get_default ();
  LtNotifyConfig config = { .domain = (char *) DOMAIN, .notify_url = url };
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  add_rule (f, DOMAIN);
  add_rule (f, "studio.example.org");
  lt_notify_store_add_async (f->notify_store, &config, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_notify_store_add_finish (f->notify_store, result, &error);
  g_assert_no_error (error);

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "rules-page-callbacks.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);
  /* The narrowest window: the Callbacks button still fits beside the domain. */
  gtk_window_set_default_size (GTK_WINDOW (f->window), 360, 720);
  lt_test_spin (300);
  lt_test_save_screenshot (GTK_WIDGET (f->window), "rules-page-callbacks-narrow.png");
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1000, 760);
  lt_test_spin (300);

  editor_screenshot (f, "notify-editor.png", FALSE);
  editor_screenshot (f, "notify-editor-dark.png", TRUE);

  /* The Sync page with the domains' settings (and nothing undeliverable). */
  _lt_window_set_page (f->window, "sync");
  g_assert_cmpstr (_lt_sync_page_get_state (f->sync_page), ==, "list");
  g_assert_nonnull (_lt_sync_page_get_settings_row (f->sync_page, DOMAIN));
  lt_test_save_screenshot (GTK_WIDGET (f->window), "sync-page-settings.png");
}

static void
test_screenshots_zh_CN (Fixture       *f,
                        gconstpointer  user_data)
{
  LtNotifyEditor *editor;
  gint64 id;
  RowWait w;

  g_assert_cmpstr (g_dgettext (GETTEXT_PACKAGE, "Send _Test Callback"), !=,
                   "Send _Test Callback");

  add_rule (f, DOMAIN);
  editor = open_editor (f, DOMAIN);
  gtk_window_set_default_size (GTK_WINDOW (editor), 600, 980);
  set_field (editor, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL, "ftp://example.com/x");
  g_assert_nonnull (_lt_notify_editor_get_error (editor, LT_NOTIFY_EDITOR_FIELD_NOTIFY_URL));
  lt_test_spin (300);
  lt_test_save_screenshot (GTK_WIDGET (editor), "notify-editor-zh_CN.png");
  gtk_window_destroy (GTK_WINDOW (editor));
  lt_test_wait_until (notify_editor_closed, f->page, 5000, "the dialog closed");

  _lt_window_set_page (f->window, "sync");
  id = enqueue (f, "cam", "http://169.254.169.254/", "file");
  w = (RowWait) { f, id, NULL };
  lt_test_wait_until (row_says, &w, 5000, "the failed callback listed");
  lt_test_save_screenshot (GTK_WIDGET (f->window), "sync-page-zh_CN.png");
}

int
main (int    argc,
      char **argv)
{
  lt_test_gui_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add ("/gui/callbacks/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("editor", test_editor);
  ADD ("domain-from-menu", test_domain_from_menu);
  ADD ("failed-listed-and-resent", test_failed_listed_and_resent);
  ADD ("expired-resent-delivers", test_expired_resent_delivers);
  ADD ("screenshots", test_screenshots);
#undef ADD
  g_test_add ("/gui/callbacks/screenshots-zh_CN", Fixture, NULL,
              fixture_set_up_zh_CN, test_screenshots_zh_CN, fixture_tear_down_zh_CN);

  return g_test_run ();
}
