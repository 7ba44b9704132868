/* test-gui-rules.c: the console's Rules page, driven through its real widgets under Xvfb.
 *
 * The application starts its engine (loading → pages, or the error page), keeps the
 * window size and survives a busy API port; the editor validates as you type with the
 * core's messages at the offending field and saves through the store; rules added or
 * removed behind the page's back (as the API does) show at once; delete asks first; the
 * tester names the winning rule; the keyboard shortcuts reach the actions. Screenshots of
 * the page (light and dark) and of the editor are kept in the build dir. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "lt-application-private.h"
#include "lt-engine.h"
#include "lt-rule-editor-private.h"
#include "lt-rule-tester-private.h"
#include "lt-rules-page-private.h"
#include "lt-test-gui.h"
#include "lt-test-utils.h"
#include "lt-window-private.h"

/* Helpers */

static gboolean
pointer_is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

/* A rule from key/value pairs, with a local storage target unless given. */
static LtRule *
make_rule (const char *first_key,
           ...)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GError) error = NULL;
  LtRule *rule;
  va_list args;

  g_hash_table_insert (params, "OssEndpoint", "local");
  g_hash_table_insert (params, "OssBucket", "recordings");

  va_start (args, first_key);
  for (const char *key = first_key; key != NULL; key = va_arg (args, const char *))
    g_hash_table_insert (params, (gpointer) key, va_arg (args, char *));
  va_end (args);

  rule = lt_rule_new_from_params (params, now, &error);
  g_assert_no_error (error);
  return rule;
}

static void
store_add (LtRuleStore *store,
           LtRule      *rule)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lt_rule_store_add_async (store, rule, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_rule_store_add_finish (store, result, &error);
  g_assert_no_error (error);
}

static void
store_remove (LtRuleStore *store,
              const char  *domain,
              const char  *app,
              const char  *stream)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lt_rule_store_remove_async (store, domain, app, stream, NULL,
                              lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_rule_store_remove_finish (store, result, &error);
  g_assert_no_error (error);
}

/* "2026-11-21T20:00:00Z", @offset seconds from now, on a whole minute. */
static char *
utc_from_now (gint64 offset)
{
  gint64 t = (g_get_real_time () / G_USEC_PER_SEC + offset) / 60 * 60;
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (t);

  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

/* The engine's error message for @params, to compare with what the editor shows. */
static char *
core_message (const char *first_key,
              ...)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LtRule) rule = NULL;
  va_list args;

  va_start (args, first_key);
  for (const char *key = first_key; key != NULL; key = va_arg (args, const char *))
    g_hash_table_insert (params, (gpointer) key, va_arg (args, char *));
  va_end (args);

  rule = lt_rule_new_from_params (params, now, &error);
  g_assert_null (rule);
  g_assert_nonnull (error);
  return g_strdup (error->message);
}

/* Clicks the dialog's button labelled @label, as the operator would. */
static GtkWidget *
find_button (GtkWidget  *widget,
             const char *label)
{
  if (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_button (child, label);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static void
click_response (AdwMessageDialog *dialog,
                const char       *label)
{
  GtkWidget *button = find_button (GTK_WIDGET (dialog), label);

  g_assert_nonnull (button);
  g_signal_emit_by_name (button, "clicked");
}

static gboolean
editor_closed (gpointer page)
{
  return _lt_rules_page_get_editor (page) == NULL;
}

static gboolean
bucket_error_shown (gpointer editor)
{
  return _lt_rule_editor_get_field_error (editor, "OssBucket") != NULL;
}

static gboolean
editor_open (gpointer page)
{
  return _lt_rules_page_get_editor (page) != NULL;
}

static gboolean
dialog_closed (gpointer page)
{
  return _lt_rules_page_get_delete_dialog (page) == NULL;
}

static gboolean
widget_sensitive (GtkWidget *widget)
{
  return gtk_widget_is_sensitive (widget);
}

/* The fixture: a started engine in a temp data dir (no API) and a window over it. */

typedef struct
{
  char        *data_dir;
  LtEngine    *engine;
  LtRuleStore *store;
  LtWindow    *window;
  LtRulesPage *page;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lt_test_gui_load_style ();

  fixture->data_dir = lt_test_make_temp_dir ();
  fixture->engine = lt_engine_new (fixture->data_dir);
  lt_engine_set_ingest_enabled (fixture->engine, FALSE);  /* see test-gui-streams */
  lt_engine_set_api_listen (fixture->engine, NULL);
  lt_engine_start_async (fixture->engine, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_engine_start_finish (fixture->engine, result, &error);
  g_assert_no_error (error);
  fixture->store = lt_engine_get_rule_store (fixture->engine);

  fixture->window = lt_window_new (NULL, NULL);
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 1000, 760);
  g_assert_cmpstr (_lt_window_get_state (fixture->window), ==, "loading");
  lt_window_set_engine (fixture->window, fixture->engine);
  g_assert_cmpstr (_lt_window_get_state (fixture->window), ==, "main");
  /* Streams is the first page; these tests are about the second. */
  _lt_window_set_page (fixture->window, "rules");
  fixture->page = _lt_window_get_rules_page (fixture->window);
  gtk_window_present (GTK_WINDOW (fixture->window));
  lt_test_wait_until ((LtTestCondition) gtk_widget_get_mapped, fixture->window, 5000,
                      "the window");
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  LtWindow *window = fixture->window;

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  lt_test_wait_until (pointer_is_null, &window, 5000, "the window to be finalized");

  lt_engine_shutdown (fixture->engine);
  g_assert_finalize_object (fixture->engine);
  g_free (fixture->data_dir);
}

static LtRuleEditor *
open_new_rule_editor (Fixture *fixture)
{
  LtRuleEditor *editor;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->page), "rules.add", NULL));
  editor = _lt_rules_page_get_editor (fixture->page);
  g_assert_nonnull (editor);
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (editor)));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (editor)) == GTK_WINDOW (fixture->window));
  return editor;
}

static void
set_field (LtRuleEditor *editor,
           const char   *field,
           const char   *text)
{
  gtk_editable_set_text (_lt_rule_editor_get_editable (editor, field), text);
}

static void
assert_field_error (LtRuleEditor *editor,
                    const char   *field,
                    const char   *expected)
{
  GtkLabel *label = _lt_rule_editor_get_error_label (editor, field);

  g_assert_cmpstr (_lt_rule_editor_get_field_error (editor, field), ==, expected);
  g_assert_true (gtk_widget_has_css_class (_lt_rule_editor_get_row (editor, field), "error"));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (label)));
  g_assert_nonnull (strstr (gtk_label_get_label (label), expected));
}

static void
assert_no_field_error (LtRuleEditor *editor,
                       const char   *field)
{
  g_assert_null (_lt_rule_editor_get_field_error (editor, field));
  g_assert_false (gtk_widget_has_css_class (_lt_rule_editor_get_row (editor, field), "error"));
}

static void
close_editor (Fixture      *fixture,
              LtRuleEditor *editor)
{
  gtk_window_close (GTK_WINDOW (editor));
  lt_test_wait_until (editor_closed, fixture->page, 5000,
                      "the editor to close");
}

/* Tests */

static void
test_empty_state (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(LtRule) rule = make_rule ("DomainName", "example.com", "AppName", "live", NULL);
  gboolean has_rules = TRUE;

  g_object_get (fixture->page, "has-rules", &has_rules, NULL);
  g_assert_false (has_rules);
  g_assert_cmpstr (_lt_rules_page_get_state (fixture->page), ==, "empty");
  g_assert_cmpuint (_lt_rules_page_count_rows (fixture->page), ==, 0);
  g_assert_true (gtk_widget_get_visible (_lt_window_get_add_button (fixture->window)));

  store_add (fixture->store, rule);
  g_object_get (fixture->page, "has-rules", &has_rules, NULL);
  g_assert_true (has_rules);
  g_assert_cmpstr (_lt_rules_page_get_state (fixture->page), ==, "rules");
}

static void
test_editor_validates_and_saves (Fixture       *fixture,
                                 gconstpointer  user_data)
{
  LtRuleEditor *editor = open_new_rule_editor (fixture);
  GtkWidget *save = _lt_rule_editor_get_save_button (editor);
  g_autofree char *cycle_message = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  LtRule *stored;
  const LtRecordFormat *format;
  GtkWidget *row;

  /* A new rule starts incomplete but quiet: nothing typed, nothing red. */
  g_assert_false (widget_sensitive (save));
  g_assert_false (_lt_rule_editor_is_valid (editor));
  assert_no_field_error (editor, "DomainName");
  assert_no_field_error (editor, "AppName");
  g_assert_true (adw_expander_row_get_enable_expansion (
                   _lt_rule_editor_get_format_row (editor, LT_RECORD_FORMAT_M3U8)));
  g_assert_cmpstr (gtk_editable_get_text (_lt_rule_editor_get_editable (editor, "OssEndpoint")),
                   ==, "local");
  g_assert_cmpstr (gtk_editable_get_text (_lt_rule_editor_get_editable (editor,
                                                                        "m3u8.OssObjectPrefix")),
                   ==, LT_RULE_DEFAULT_OBJECT_PREFIX);
  g_assert_cmpstr (gtk_editable_get_text (_lt_rule_editor_get_editable (editor,
                                                                        "m3u8.SliceOssObjectPrefix")),
                   ==, LT_RULE_DEFAULT_SLICE_OBJECT_PREFIX);

  set_field (editor, "DomainName", "example.com");
  set_field (editor, "AppName", "live");
  g_assert_true (_lt_rule_editor_is_valid (editor));
  g_assert_true (widget_sensitive (save));

  /* One below the minimum cycle: the core's InvalidCycleDuration message, at the field. */
  set_field (editor, "m3u8.CycleDuration", "59");
  cycle_message = core_message ("DomainName", "example.com", "AppName", "live",
                                "OssEndpoint", "local", "OssBucket", "recordings",
                                "RecordFormat.1.Format", "m3u8",
                                "RecordFormat.1.CycleDuration", "59", NULL);
  assert_field_error (editor, "m3u8.CycleDuration", cycle_message);
  g_assert_true (_lt_rule_editor_format_has_error (editor, LT_RECORD_FORMAT_M3U8));
  g_assert_false (_lt_rule_editor_format_has_error (editor, LT_RECORD_FORMAT_MP4));
  assert_no_field_error (editor, "m3u8.SliceDuration");
  g_assert_false (widget_sensitive (save));
  g_assert_false (_lt_rule_editor_is_valid (editor));
  assert_no_field_error (editor, "DomainName");

  /* The minimum is fine. */
  set_field (editor, "m3u8.CycleDuration", "60");
  assert_no_field_error (editor, "m3u8.CycleDuration");
  g_assert_false (_lt_rule_editor_format_has_error (editor, LT_RECORD_FORMAT_M3U8));
  g_assert_true (widget_sensitive (save));

  /* Add MP4 too, then save with the button. */
  adw_expander_row_set_enable_expansion (_lt_rule_editor_get_format_row (editor,
                                                                         LT_RECORD_FORMAT_MP4),
                                         TRUE);
  set_field (editor, "mp4.CycleDuration", "7200");
  g_assert_true (widget_sensitive (save));
  g_assert_true (gtk_widget_activate (save));
  lt_test_wait_until (editor_closed, fixture->page, 5000,
                      "the editor to close after saving");

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->store)), ==, 1);
  stored = lt_rule_store_lookup (fixture->store, "example.com", "live", "*");
  g_assert_nonnull (stored);
  format = lt_rule_get_format (stored, LT_RECORD_FORMAT_M3U8);
  g_assert_nonnull (format);
  g_assert_cmpuint (format->cycle_duration, ==, 60);
  g_assert_cmpuint (format->slice_duration, ==, LT_RULE_SLICE_DEFAULT);
  format = lt_rule_get_format (stored, LT_RECORD_FORMAT_MP4);
  g_assert_nonnull (format);
  g_assert_cmpuint (format->cycle_duration, ==, 7200);
  g_assert_null (lt_rule_get_format (stored, LT_RECORD_FORMAT_FLV));
  g_assert_cmpuint (lt_rule_get_delay_time (stored), ==, LT_RULE_DELAY_DEFAULT);
  g_assert_cmpint (lt_rule_get_on_demand (stored), ==, LT_ON_DEMAND_AUTOMATIC);

  g_assert_cmpstr (_lt_rules_page_get_state (fixture->page), ==, "rules");
  row = _lt_rules_page_get_row (fixture->page, "example.com", "live", NULL);
  g_assert_nonnull (row);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==,
                   "M3U8 · 30 s slices · 1 min cycles, MP4 · 2 h cycles");
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==,
                   "live, all streams");
}

static void
test_editor_shows_every_error (Fixture       *fixture,
                               gconstpointer  user_data)
{
  LtRuleEditor *editor = open_new_rule_editor (fixture);
  GtkWidget *window_group = _lt_rule_editor_get_window_group (editor);
  g_autofree char *delay_message = NULL;
  g_autofree char *slice_message = NULL;
  g_autofree char *start_message = NULL;
  g_autofree char *missing_message = NULL;
  g_autofree char *prefix_message = NULL;

  set_field (editor, "DomainName", "example.com");
  set_field (editor, "AppName", "live");

  /* Three problems at once, each at its own field. */
  set_field (editor, "DelayTime", "14");
  set_field (editor, "m3u8.SliceDuration", "31");
  set_field (editor, "m3u8.OssObjectPrefix", "record/{StreamName}");

  delay_message = core_message ("DomainName", "example.com", "AppName", "live",
                                "OssEndpoint", "local", "OssBucket", "recordings",
                                "DelayTime", "14", NULL);
  slice_message = core_message ("DomainName", "example.com", "AppName", "live",
                                "OssEndpoint", "local", "OssBucket", "recordings",
                                "RecordFormat.1.Format", "m3u8",
                                "RecordFormat.1.SliceDuration", "31", NULL);
  prefix_message = core_message ("DomainName", "example.com", "AppName", "live",
                                 "OssEndpoint", "local", "OssBucket", "recordings",
                                 "RecordFormat.1.Format", "m3u8",
                                 "RecordFormat.1.OssObjectPrefix", "record/{StreamName}", NULL);
  assert_field_error (editor, "DelayTime", delay_message);
  assert_field_error (editor, "m3u8.SliceDuration", slice_message);
  assert_field_error (editor, "m3u8.OssObjectPrefix", prefix_message);
  assert_no_field_error (editor, "m3u8.CycleDuration");
  g_assert_false (widget_sensitive (_lt_rule_editor_get_save_button (editor)));

  set_field (editor, "DelayTime", "15");
  set_field (editor, "m3u8.SliceDuration", "30");
  set_field (editor, "m3u8.OssObjectPrefix", LT_RULE_DEFAULT_OBJECT_PREFIX);
  assert_no_field_error (editor, "DelayTime");
  g_assert_true (widget_sensitive (_lt_rule_editor_get_save_button (editor)));

  /* The window is only for stream-level rules. */
  g_assert_false (gtk_widget_get_visible (window_group));
  set_field (editor, "StreamName", "room1");
  g_assert_true (gtk_widget_get_visible (window_group));
  set_field (editor, "StartTime", "tomorrow evening");
  start_message = core_message ("DomainName", "example.com", "AppName", "live",
                                "StreamName", "room1",
                                "OssEndpoint", "local", "OssBucket", "recordings",
                                "StartTime", "tomorrow evening", NULL);
  assert_field_error (editor, "StartTime", start_message);
  set_field (editor, "StreamName", "*");
  g_assert_false (gtk_widget_get_visible (window_group));
  assert_no_field_error (editor, "StartTime");
  set_field (editor, "StreamName", "");

  /* A required field the operator emptied says so. */
  set_field (editor, "OssBucket", "");
  missing_message = core_message ("DomainName", "example.com", "AppName", "live",
                                  "OssEndpoint", "local", NULL);
  assert_field_error (editor, "OssBucket", missing_message);
  assert_no_field_error (editor, "OssEndpoint");

  close_editor (fixture, editor);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->store)), ==, 0);
}

static void
test_editor_existing_triplet (Fixture       *fixture,
                              gconstpointer  user_data)
{
  g_autoptr(LtRule) rule = make_rule ("DomainName", "example.com", "AppName", "live", NULL);
  LtRuleEditor *editor;

  store_add (fixture->store, rule);

  editor = open_new_rule_editor (fixture);
  set_field (editor, "DomainName", "example.com");
  set_field (editor, "AppName", "live");
  g_assert_nonnull (_lt_rule_editor_get_field_error (editor, "AppName"));
  g_assert_false (widget_sensitive (_lt_rule_editor_get_save_button (editor)));

  set_field (editor, "StreamName", "room1");
  assert_no_field_error (editor, "AppName");
  g_assert_true (widget_sensitive (_lt_rule_editor_get_save_button (editor)));

  close_editor (fixture, editor);
}

static void
test_editor_store_error (Fixture       *fixture,
                         gconstpointer  user_data)
{
  LtRuleEditor *editor = open_new_rule_editor (fixture);
  GtkWidget *save = _lt_rule_editor_get_save_button (editor);
  const char *message;

  /* Valid as a rule, but the store finds no storage target of that name on save: the
   * editor stays open and says so at the bucket. */
  set_field (editor, "DomainName", "example.com");
  set_field (editor, "AppName", "live");
  set_field (editor, "OssEndpoint", "s3.example.com");
  g_assert_true (widget_sensitive (save));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "editor.save", NULL));
  lt_test_wait_until ((LtTestCondition) bucket_error_shown, editor, 5000,
                      "the store's answer");
  message = _lt_rule_editor_get_field_error (editor, "OssBucket");
  g_assert_nonnull (strstr (message, "s3.example.com"));
  g_assert_true (gtk_widget_has_css_class (_lt_rule_editor_get_row (editor, "OssBucket"), "error"));
  g_assert_false (widget_sensitive (save));
  g_assert_true (_lt_rules_page_get_editor (fixture->page) == editor);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->store)), ==, 0);

  /* Back to the local folder: saved. */
  set_field (editor, "OssEndpoint", "local");
  assert_no_field_error (editor, "OssBucket");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "editor.save", NULL));
  lt_test_wait_until (editor_closed, fixture->page, 5000, "the editor to close after saving");
  g_assert_nonnull (lt_rule_store_lookup (fixture->store, "example.com", "live", "*"));
}

static void
test_edit_rule (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(LtRule) rule = make_rule ("DomainName", "example.com", "AppName", "live",
                                      "StreamName", "room1",
                                      "OnDemand", "7",
                                      "RecordFormat.1.Format", "flv",
                                      NULL);
  LtRuleEditor *editor;
  GtkWidget *row;
  LtRule *stored;

  store_add (fixture->store, rule);
  row = _lt_rules_page_get_row (fixture->page, "example.com", "live", "room1");
  g_assert_nonnull (row);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, "live/room1");

  /* Enter on a row edits its rule. */
  g_signal_emit_by_name (row, "activate");
  editor = _lt_rules_page_get_editor (fixture->page);
  g_assert_nonnull (editor);
  g_assert_true (lt_rule_same_triplet (lt_rule_editor_get_rule (editor), rule));
  g_assert_false (gtk_editable_get_editable (_lt_rule_editor_get_editable (editor, "DomainName")));
  g_assert_false (gtk_editable_get_editable (_lt_rule_editor_get_editable (editor, "StreamName")));
  g_assert_cmpstr (gtk_editable_get_text (_lt_rule_editor_get_editable (editor, "StreamName")),
                   ==, "room1");
  g_assert_cmpuint (adw_combo_row_get_selected (_lt_rule_editor_get_on_demand_row (editor)), ==, 3);
  g_assert_true (adw_expander_row_get_enable_expansion (
                   _lt_rule_editor_get_format_row (editor, LT_RECORD_FORMAT_FLV)));
  g_assert_false (adw_expander_row_get_enable_expansion (
                    _lt_rule_editor_get_format_row (editor, LT_RECORD_FORMAT_M3U8)));
  g_assert_cmpstr (gtk_editable_get_text (_lt_rule_editor_get_editable (editor, "flv.CycleDuration")),
                   ==, "3600");
  /* Editing is not adding: the rule's own triplet is no conflict. */
  g_assert_true (widget_sensitive (_lt_rule_editor_get_save_button (editor)));

  set_field (editor, "flv.CycleDuration", "1800");
  adw_combo_row_set_selected (_lt_rule_editor_get_on_demand_row (editor), 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "editor.save", NULL));
  lt_test_wait_until (editor_closed, fixture->page, 5000,
                      "the editor to close after saving");

  stored = lt_rule_store_lookup (fixture->store, "example.com", "live", "room1");
  g_assert_nonnull (stored);
  g_assert_cmpuint (lt_rule_get_format (stored, LT_RECORD_FORMAT_FLV)->cycle_duration, ==, 1800);
  g_assert_cmpint (lt_rule_get_on_demand (stored), ==, LT_ON_DEMAND_AUTOMATIC);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->store)), ==, 1);

  row = _lt_rules_page_get_row (fixture->page, "example.com", "live", "room1");
  g_assert_nonnull (row);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "FLV · 30 min cycles");
}

static void
test_store_changes_appear (Fixture       *fixture,
                           gconstpointer  user_data)
{
  g_autoptr(LtRule) b = make_rule ("DomainName", "b.example.com", "AppName", "*", NULL);
  g_autoptr(LtRule) a1 = make_rule ("DomainName", "a.example.com", "AppName", "live",
                                    "RecordFormat.1.Format", "mp4", NULL);
  g_autoptr(LtRule) a2 = make_rule ("DomainName", "a.example.com", "AppName", "live",
                                    "StreamName", "room1",
                                    "RecordFormat.1.Format", "m3u8", NULL);
  g_auto(GStrv) domains = NULL;
  GtkWidget *row;

  /* As the API would: straight into the store, the page only listens. */
  store_add (fixture->store, b);
  g_assert_cmpstr (_lt_rules_page_get_state (fixture->page), ==, "rules");
  row = _lt_rules_page_get_row (fixture->page, "b.example.com", "*", NULL);
  g_assert_nonnull (row);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, "All apps");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Excludes recording");
  g_assert_true (gtk_widget_has_css_class (row, "exclusion"));

  store_add (fixture->store, a2);
  store_add (fixture->store, a1);
  g_assert_cmpuint (_lt_rules_page_count_rows (fixture->page), ==, 3);
  domains = _lt_rules_page_dup_domains (fixture->page);
  g_assert_cmpuint (g_strv_length (domains), ==, 2);
  g_assert_cmpstr (domains[0], ==, "a.example.com");
  g_assert_cmpstr (domains[1], ==, "b.example.com");
  g_assert_nonnull (_lt_rules_page_get_row (fixture->page, "a.example.com", "live", "room1"));
  g_assert_nonnull (_lt_rules_page_get_row (fixture->page, "a.example.com", "live", NULL));

  store_remove (fixture->store, "b.example.com", "*", NULL);
  g_assert_null (_lt_rules_page_get_row (fixture->page, "b.example.com", "*", NULL));
  g_clear_pointer (&domains, g_strfreev);
  domains = _lt_rules_page_dup_domains (fixture->page);
  g_assert_cmpuint (g_strv_length (domains), ==, 1);

  store_remove (fixture->store, "a.example.com", "live", "room1");
  store_remove (fixture->store, "a.example.com", "live", NULL);
  g_assert_cmpuint (_lt_rules_page_count_rows (fixture->page), ==, 0);
  g_assert_cmpstr (_lt_rules_page_get_state (fixture->page), ==, "empty");
}

static gboolean
store_is_empty (gpointer data)
{
  return g_list_model_get_n_items (G_LIST_MODEL (data)) == 0;
}

static gboolean
store_has_items (gpointer data)
{
  return g_list_model_get_n_items (G_LIST_MODEL (data)) > 0;
}

static void
test_delete_asks_first (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autoptr(LtRule) rule = make_rule ("DomainName", "example.com", "AppName", "live",
                                      "RecordFormat.1.Format", "m3u8", NULL);
  AdwMessageDialog *dialog;
  GtkWidget *row;

  store_add (fixture->store, rule);
  row = _lt_rules_page_get_row (fixture->page, "example.com", "live", NULL);
  g_assert_nonnull (row);

  /* Nothing selected: Delete does nothing. */
  gtk_widget_grab_focus (GTK_WIDGET (_lt_rules_page_get_search_entry (fixture->page)));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->page), "rules.delete", NULL));
  g_assert_null (_lt_rules_page_get_delete_dialog (fixture->page));

  /* The focused row is the selected rule; cancelling keeps it. */
  g_assert_true (gtk_widget_grab_focus (row));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->page), "rules.delete", NULL));
  dialog = _lt_rules_page_get_delete_dialog (fixture->page);
  g_assert_nonnull (dialog);
  g_assert_true (adw_message_dialog_has_response (dialog, "delete"));
  g_assert_cmpint (adw_message_dialog_get_response_appearance (dialog, "delete"), ==,
                   ADW_RESPONSE_DESTRUCTIVE);
  g_assert_cmpstr (adw_message_dialog_get_default_response (dialog), ==, "cancel");
  click_response (dialog, "_Cancel");
  lt_test_wait_until (dialog_closed, fixture->page, 5000,
                      "the dialog to close");
  lt_test_spin (50);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->store)), ==, 1);

  g_assert_true (gtk_widget_grab_focus (row));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->page), "rules.delete", NULL));
  dialog = _lt_rules_page_get_delete_dialog (fixture->page);
  g_assert_nonnull (dialog);
  click_response (dialog, "_Delete");
  lt_test_wait_until (store_is_empty, fixture->store, 5000, "the rule to be deleted");
  lt_test_spin (50);
  g_assert_cmpstr (_lt_rules_page_get_state (fixture->page), ==, "empty");
  g_assert_null (lt_rule_store_lookup (fixture->store, "example.com", "live", "*"));

  /* The toast's Undo puts it back, formats and all. */
  g_assert_nonnull (_lt_rules_page_get_undo_toast (fixture->page));
  g_signal_emit_by_name (_lt_rules_page_get_undo_toast (fixture->page), "button-clicked");
  lt_test_wait_until (store_has_items, fixture->store, 5000, "the rule to come back");
  g_assert_nonnull (lt_rule_store_lookup (fixture->store, "example.com", "live", "*"));
  g_assert_nonnull (lt_rule_get_format (lt_rule_store_lookup (fixture->store, "example.com",
                                                              "live", "*"),
                                        LT_RECORD_FORMAT_M3U8));
  g_assert_nonnull (_lt_rules_page_get_row (fixture->page, "example.com", "live", NULL));
}

static void
test_delete_from_editor (Fixture       *fixture,
                         gconstpointer  user_data)
{
  g_autoptr(LtRule) rule = make_rule ("DomainName", "example.com", "AppName", "live",
                                      "RecordFormat.1.Format", "m3u8", NULL);
  LtRuleEditor *editor;
  AdwMessageDialog *dialog;

  store_add (fixture->store, rule);
  g_assert_true (gtk_widget_grab_focus (_lt_rules_page_get_row (fixture->page,
                                                                "example.com", "live", NULL)));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->page), "rules.edit", NULL));
  editor = _lt_rules_page_get_editor (fixture->page);
  g_assert_nonnull (editor);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "editor.delete", NULL));
  dialog = _lt_rules_page_get_delete_dialog (fixture->page);
  g_assert_nonnull (dialog);
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (dialog)) == GTK_WINDOW (editor));
  click_response (dialog, "_Delete");
  lt_test_wait_until (store_is_empty, fixture->store, 5000, "the rule to be deleted");
  lt_test_wait_until (editor_closed, fixture->page, 5000,
                      "the editor to close after deleting");
}

static void
set_tester (LtRuleTester *tester,
            const char   *domain,
            const char   *app,
            const char   *stream)
{
  gtk_editable_set_text (_lt_rule_tester_get_entry (tester, "domain"), domain);
  gtk_editable_set_text (_lt_rule_tester_get_entry (tester, "app"), app);
  gtk_editable_set_text (_lt_rule_tester_get_entry (tester, "stream"), stream);
}

static void
test_tester (Fixture       *fixture,
             gconstpointer  user_data)
{
  LtRuleTester *tester = _lt_rules_page_get_tester (fixture->page);
  g_autoptr(LtRule) domain_rule = make_rule ("DomainName", "example.com", "AppName", "*",
                                             "RecordFormat.1.Format", "mp4", NULL);
  g_autoptr(LtRule) exclusion = make_rule ("DomainName", "example.com", "AppName", "private",
                                           NULL);
  g_autofree char *start = utc_from_now (3600);
  g_autofree char *end = utc_from_now (7200);
  g_autoptr(LtRule) later = make_rule ("DomainName", "example.com", "AppName", "live",
                                       "StreamName", "tonight",
                                       "StartTime", start, "EndTime", end,
                                       "RecordFormat.1.Format", "m3u8", NULL);
  g_autofree char *explain = NULL;
  g_autoptr(LtRule) stream_rule = NULL;

  _lt_rule_tester_set_expanded (tester, TRUE);

  set_tester (tester, "example.com", "live", "room1");
  g_assert_null (_lt_rule_tester_get_winner (tester));
  g_assert_cmpstr (_lt_rule_tester_get_result_title (tester), ==, "No rule applies: not recorded");
  explain = lt_rule_match_explain (NULL, LT_RULE_MATCH_NONE, "example.com", "live", "room1");
  g_assert_cmpstr (_lt_rule_tester_get_result_subtitle (tester), ==, explain);
  g_clear_pointer (&explain, g_free);

  /* A rule added behind the tester's back changes the answer at once. */
  store_add (fixture->store, domain_rule);
  g_assert_true (_lt_rule_tester_get_winner (tester) == lt_rule_store_lookup (fixture->store,
                                                                               "example.com", "*", "*"));
  g_assert_cmpstr (_lt_rule_tester_get_result_title (tester), ==, "Recorded by example.com/*/*");
  explain = lt_rule_match_explain (_lt_rule_tester_get_winner (tester), LT_RULE_MATCH_DOMAIN,
                                   "example.com", "live", "room1");
  g_assert_true (g_str_has_prefix (_lt_rule_tester_get_result_subtitle (tester), explain));
  g_assert_nonnull (strstr (_lt_rule_tester_get_result_subtitle (tester), "MP4 · 1 h cycles"));

  /* The app-level exclusion wins over the domain rule. */
  store_add (fixture->store, exclusion);
  set_tester (tester, "example.com", "private", "room1");
  g_assert_true (lt_rule_same_triplet (_lt_rule_tester_get_winner (tester), exclusion));
  g_assert_cmpstr (_lt_rule_tester_get_result_title (tester), ==,
                   "Not recorded: example.com/private/* excludes recording");

  /* A stream rule whose window has not opened yet. */
  store_add (fixture->store, later);
  set_tester (tester, "example.com", "live", "tonight");
  g_assert_true (lt_rule_same_triplet (_lt_rule_tester_get_winner (tester), later));
  g_assert_cmpstr (_lt_rule_tester_get_result_title (tester), ==,
                   "Not recorded now: example.com/live/tonight is outside its window");

  /* Another domain: nothing. Incomplete input: a hint. */
  set_tester (tester, "other.example.com", "live", "room1");
  g_assert_null (_lt_rule_tester_get_winner (tester));
  set_tester (tester, "example.com", "live", "");
  g_assert_null (_lt_rule_tester_get_winner (tester));
  g_assert_cmpstr (_lt_rule_tester_get_result_title (tester), ==, "Enter a domain, app and stream");

  stream_rule = make_rule ("DomainName", "example.com", "AppName", "live",
                           "StreamName", "room1", "RecordFormat.1.Format", "cmaf", NULL);
  store_add (fixture->store, stream_rule);
  set_tester (tester, "example.com", "live", "room1");
  g_assert_true (lt_rule_same_triplet (_lt_rule_tester_get_winner (tester), stream_rule));
  g_assert_cmpstr (_lt_rule_tester_get_result_title (tester), ==,
                   "Recorded by example.com/live/room1");
}

static void
test_search (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(LtRule) a = make_rule ("DomainName", "alpha.example.com", "AppName", "live",
                                   "RecordFormat.1.Format", "m3u8", NULL);
  g_autoptr(LtRule) b = make_rule ("DomainName", "beta.example.com", "AppName", "studio",
                                   "StreamName", "Concert", "RecordFormat.1.Format", "mp4", NULL);
  GtkEditable *entry = _lt_rules_page_get_search_entry (fixture->page);
  g_auto(GStrv) domains = NULL;

  store_add (fixture->store, a);
  store_add (fixture->store, b);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->page), "rules.search", NULL));

  /* Case-insensitive, on the stream name: only beta's group stays. */
  gtk_editable_set_text (entry, "concert");
  g_signal_emit_by_name (entry, "search-changed");
  g_assert_cmpuint (_lt_rules_page_count_rows (fixture->page), ==, 1);
  domains = _lt_rules_page_dup_domains (fixture->page);
  g_assert_cmpuint (g_strv_length (domains), ==, 1);
  g_assert_cmpstr (domains[0], ==, "beta.example.com");

  gtk_editable_set_text (entry, "no such thing");
  g_signal_emit_by_name (entry, "search-changed");
  g_assert_cmpstr (_lt_rules_page_get_state (fixture->page), ==, "no-results");

  gtk_editable_set_text (entry, "");
  g_signal_emit_by_name (entry, "search-changed");
  g_assert_cmpstr (_lt_rules_page_get_state (fixture->page), ==, "rules");
  g_assert_cmpuint (_lt_rules_page_count_rows (fixture->page), ==, 2);
}

/* Finds the shortcut for @accelerator among @widget's shortcut controllers. */
static GtkShortcut *
find_shortcut (GtkWidget  *widget,
               const char *accelerator)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);
  g_autoptr(GtkShortcutTrigger) wanted = gtk_shortcut_trigger_parse_string (accelerator);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;

      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);

          if (gtk_shortcut_trigger_equal (gtk_shortcut_get_trigger (shortcut), wanted))
            return shortcut;
        }
    }

  return NULL;
}

static void
activate_shortcut (GtkWidget  *widget,
                   const char *accelerator,
                   const char *action_name)
{
  GtkShortcut *shortcut = find_shortcut (widget, accelerator);
  GtkShortcutAction *action;

  g_assert_nonnull (shortcut);
  action = gtk_shortcut_get_action (shortcut);
  g_assert_true (GTK_IS_NAMED_ACTION (action));
  g_assert_cmpstr (gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)), ==, action_name);
  g_assert_true (gtk_shortcut_action_activate (action, 0, widget, NULL));
}

static void
test_keyboard (Fixture       *fixture,
               gconstpointer  user_data)
{
  g_autoptr(LtRule) rule = make_rule ("DomainName", "example.com", "AppName", "live",
                                      "RecordFormat.1.Format", "m3u8", NULL);
  GtkWidget *page = GTK_WIDGET (fixture->page);
  AdwMessageDialog *dialog;
  LtRuleEditor *editor;

  /* Ctrl+N: a new rule; Escape closes the editor. */
  activate_shortcut (page, "<Control>n", "rules.add");
  editor = _lt_rules_page_get_editor (fixture->page);
  g_assert_nonnull (editor);
  g_assert_null (lt_rule_editor_get_rule (editor));
  activate_shortcut (GTK_WIDGET (editor), "Escape", "window.close");
  lt_test_wait_until (editor_closed, fixture->page, 5000,
                      "Escape to close the editor");

  /* The header bar's + does the same. */
  g_assert_true (gtk_widget_activate (_lt_window_get_add_button (fixture->window)));
  lt_test_wait_until (editor_open, fixture->page, 5000, "the + button to open the editor");
  close_editor (fixture, _lt_rules_page_get_editor (fixture->page));

  /* Ctrl+F: search. */
  activate_shortcut (page, "<Control>f", "rules.search");
  {
    gboolean search_mode = FALSE;

    g_object_get (fixture->page, "search-mode-enabled", &search_mode, NULL);
    g_assert_true (search_mode);
    g_object_set (fixture->page, "search-mode-enabled", FALSE, NULL);
  }

  /* Delete on the focused row. */
  store_add (fixture->store, rule);
  g_assert_true (gtk_widget_grab_focus (_lt_rules_page_get_row (fixture->page,
                                                                "example.com", "live", NULL)));
  activate_shortcut (page, "Delete", "rules.delete");
  dialog = _lt_rules_page_get_delete_dialog (fixture->page);
  g_assert_nonnull (dialog);
  click_response (dialog, "_Cancel");
  lt_test_wait_until (dialog_closed, fixture->page, 5000,
                      "the dialog to close");

  /* Ctrl+S saves in the editor. */
  g_assert_true (gtk_widget_activate_action (page, "rules.add", NULL));
  editor = _lt_rules_page_get_editor (fixture->page);
  set_field (editor, "DomainName", "example.com");
  set_field (editor, "AppName", "studio");
  activate_shortcut (GTK_WIDGET (editor), "<Control>s", "editor.save");
  lt_test_wait_until (editor_closed, fixture->page, 5000,
                      "Ctrl+S to save");
  g_assert_nonnull (lt_rule_store_lookup (fixture->store, "example.com", "studio", "*"));
}

/* Screenshots */

static gboolean
scroll_to_end (GtkWidget *widget)
{
  if (GTK_IS_SCROLLED_WINDOW (widget))
    {
      GtkAdjustment *adjustment =
        gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (widget));

      lt_test_spin (200);
      gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment));
      return TRUE;
    }

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (scroll_to_end (child))
      return TRUE;

  return FALSE;
}

/* A few rules of every kind, for the screenshots. */
static guint
add_sample_rules (Fixture *fixture)
{
  g_autofree char *start = utc_from_now (2 * 3600);
  g_autofree char *end = utc_from_now (5 * 3600);
  LtRule *rules[] = {
    make_rule ("DomainName", "live.example.com", "AppName", "*",
               "RecordFormat.1.Format", "m3u8", NULL),
    make_rule ("DomainName", "live.example.com", "AppName", "live",
               "RecordFormat.1.Format", "m3u8", "RecordFormat.1.CycleDuration", "21600",
               "RecordFormat.2.Format", "mp4", "RecordFormat.2.CycleDuration", "3600",
               NULL),
    make_rule ("DomainName", "live.example.com", "AppName", "live", "StreamName", "keynote",
               "OnDemand", "7", "StartTime", start, "EndTime", end,
               "RecordFormat.1.Format", "flv", "RecordFormat.1.CycleDuration", "1800",
               NULL),
    make_rule ("DomainName", "live.example.com", "AppName", "rehearsal", NULL),
    make_rule ("DomainName", "studio.example.org", "AppName", "news",
               "OnDemand", "2", "DelayTime", "60",
               "RecordFormat.1.Format", "cmaf", "RecordFormat.1.SliceDuration", "6",
               "RecordFormat.1.CycleDuration", "7200", NULL),
  };

  for (guint i = 0; i < G_N_ELEMENTS (rules); i++)
    {
      store_add (fixture->store, rules[i]);
      g_object_unref (rules[i]);
    }
  g_assert_cmpuint (_lt_rules_page_count_rows (fixture->page), ==, G_N_ELEMENTS (rules));
  return G_N_ELEMENTS (rules);
}

static void
test_screenshots (Fixture       *fixture,
                  gconstpointer  user_data)
{
  LtRuleTester *tester = _lt_rules_page_get_tester (fixture->page);
  AdwStyleManager *style = adw_style_manager_get_default ();
  LtRuleEditor *editor;

  add_sample_rules (fixture);

  _lt_rule_tester_set_expanded (tester, TRUE);
  set_tester (tester, "live.example.com", "live", "concert");

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), "rules-page.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), "rules-page-dark.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);

  /* The narrowest window (a phone): nothing may overflow. */
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 360, 720);
  lt_test_spin (300);
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), "rules-page-narrow.png");
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 1000, 760);

  /* The editor with a validation error showing. */
  editor = open_new_rule_editor (fixture);
  gtk_window_set_default_size (GTK_WINDOW (editor), 600, 1000);
  set_field (editor, "DomainName", "live.example.com");
  set_field (editor, "AppName", "sports");
  adw_expander_row_set_expanded (_lt_rule_editor_get_format_row (editor, LT_RECORD_FORMAT_M3U8),
                                 TRUE);
  lt_test_wait_until ((LtTestCondition) gtk_widget_get_mapped, editor, 5000, "the editor");
  lt_test_spin (400);
  /* Typed into the realized spin button, as the operator would. */
  gtk_widget_grab_focus (GTK_WIDGET (_lt_rule_editor_get_editable (editor, "m3u8.CycleDuration")));
  set_field (editor, "m3u8.CycleDuration", "59");
  g_assert_nonnull (_lt_rule_editor_get_field_error (editor, "m3u8.CycleDuration"));
  scroll_to_end (GTK_WIDGET (editor));
  lt_test_save_screenshot (GTK_WIDGET (editor), "rule-editor.png");
  close_editor (fixture, editor);

  /* The empty state. */
  for (guint n = g_list_model_get_n_items (G_LIST_MODEL (fixture->store)); n > 0; n--)
    {
      g_autoptr(LtRule) rule = g_list_model_get_item (G_LIST_MODEL (fixture->store), 0);
      const char *app = lt_rule_get_app_name (rule);
      const char *stream = lt_rule_get_stream_name (rule);

      store_remove (fixture->store, lt_rule_get_domain_name (rule), app, stream);
    }
  g_assert_cmpstr (_lt_rules_page_get_state (fixture->page), ==, "empty");
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), "rules-page-empty.png");

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);
}

static void
fixture_set_up_zh_CN (Fixture       *fixture,
                      gconstpointer  user_data)
{
  lt_test_use_language ("zh_CN");
  fixture_set_up (fixture, user_data);
}

static void
fixture_tear_down_zh_CN (Fixture       *fixture,
                         gconstpointer  user_data)
{
  fixture_tear_down (fixture, user_data);
  lt_test_use_language (NULL);
}

static void
test_screenshots_zh_CN (Fixture       *fixture,
                        gconstpointer  user_data)
{
  LtRuleTester *tester = _lt_rules_page_get_tester (fixture->page);
  g_autofree char *explain = NULL;
  LtRuleEditor *editor;
  GtkWidget *row;

  /* The .ui files, the C strings and the core's messages are all translated. */
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (fixture->window)), ==, "Livetape");
  g_assert_cmpstr (g_dgettext (GETTEXT_PACKAGE, "No Recording Rules"), !=, "No Recording Rules");

  add_sample_rules (fixture);
  row = _lt_rules_page_get_row (fixture->page, "live.example.com", "*", NULL);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==,
                   g_dgettext (GETTEXT_PACKAGE, "All apps"));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), !=, "All apps");

  _lt_rule_tester_set_expanded (tester, TRUE);
  set_tester (tester, "live.example.com", "live", "concert");
  explain = lt_rule_match_explain (_lt_rule_tester_get_winner (tester), LT_RULE_MATCH_APP,
                                   "live.example.com", "live", "concert");
  g_assert_true (g_str_has_prefix (_lt_rule_tester_get_result_subtitle (tester), explain));
  lt_test_save_screenshot (GTK_WIDGET (fixture->window), "rules-page-zh_CN.png");

  editor = open_new_rule_editor (fixture);
  gtk_window_set_default_size (GTK_WINDOW (editor), 600, 1000);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (editor)), ==,
                   g_dgettext (GETTEXT_PACKAGE, "New Rule"));
  set_field (editor, "DomainName", "live.example.com");
  set_field (editor, "AppName", "sports");
  set_field (editor, "DelayTime", "14");
  g_assert_nonnull (_lt_rule_editor_get_field_error (editor, "DelayTime"));
  lt_test_wait_until ((LtTestCondition) gtk_widget_get_mapped, editor, 5000, "the editor");
  lt_test_save_screenshot (GTK_WIDGET (editor), "rule-editor-zh_CN.png");
  close_editor (fixture, editor);
}

/* The application: engine start, error page, busy API port, window size. */

typedef struct
{
  LtApplication *app;
  const char    *expect_state;
  const char    *screenshot;
  gboolean       checked;
  char          *banner;
  char          *error_text;
  char          *api_url;
  int            width;
  int            height;
} AppRun;

static gboolean
app_check_cb (gpointer data)
{
  AppRun *run = data;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (run->app));
  const char *state;

  if (window == NULL)
    return G_SOURCE_CONTINUE;

  state = _lt_window_get_state (LT_WINDOW (window));
  if (g_str_equal (state, "loading"))
    return G_SOURCE_CONTINUE;

  g_assert_cmpstr (state, ==, run->expect_state);
  run->banner = g_strdup (_lt_window_get_banner_text (LT_WINDOW (window)));
  run->error_text = g_strdup (_lt_window_get_error_text (LT_WINDOW (window)));
  run->api_url = lt_engine_dup_api_url (lt_application_get_engine (run->app));
  gtk_window_get_default_size (window, &run->width, &run->height);
  if (g_str_equal (state, "main"))
    g_assert_cmpstr (_lt_rules_page_get_state (_lt_window_get_rules_page (LT_WINDOW (window))),
                     ==, "empty");
  run->checked = TRUE;

  if (run->screenshot != NULL)
    lt_test_save_screenshot (GTK_WIDGET (window), run->screenshot);

  if (g_str_equal (state, "main"))
    {
      g_auto(GStrv) quit = gtk_application_get_accels_for_action (GTK_APPLICATION (run->app),
                                                                  "app.quit");
      g_auto(GStrv) close = gtk_application_get_accels_for_action (GTK_APPLICATION (run->app),
                                                                   "window.close");
      gboolean found_about = FALSE;

      /* Ctrl+? shows ui/help-overlay.ui, Ctrl+Q and Ctrl+W are bound. */
      g_assert_nonnull (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window)));
      g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window),
                                                        "show-help-overlay"));
      g_assert_true (g_strv_contains ((const char * const *) quit, "<Control>q"));
      g_assert_true (g_strv_contains ((const char * const *) close, "<Control>w"));

      g_action_group_activate_action (G_ACTION_GROUP (run->app), "about", NULL);
      for (GList *l = gtk_window_list_toplevels (); l != NULL; l = g_list_delete_link (l, l))
        if (ADW_IS_ABOUT_WINDOW (l->data))
          {
            g_assert_cmpstr (adw_about_window_get_version (l->data), ==, PACKAGE_VERSION);
            g_assert_cmpstr (adw_about_window_get_application_icon (l->data), ==, APP_ID);
            g_assert_cmpint (adw_about_window_get_license_type (l->data), ==, GTK_LICENSE_GPL_3_0);
            g_assert_true (gtk_window_get_transient_for (l->data) == window);
            gtk_window_destroy (l->data);
            found_about = TRUE;
          }
      g_assert_true (found_about);
    }

  /* As if the operator resized the window, then quit with Ctrl+Q. */
  gtk_window_set_default_size (window, 820, 610);
  g_action_group_activate_action (G_ACTION_GROUP (run->app), "quit", NULL);
  return G_SOURCE_REMOVE;
}

static void
run_app (AppRun     *run,
         const char *data_dir,
         const char *api_listen,
         const char *expect_state,
         const char *screenshot)
{
  char *argv[] = { (char *) "test-gui-rules", NULL };
  int status;

  memset (run, 0, sizeof *run);
  run->expect_state = expect_state;
  run->screenshot = screenshot;
  run->app = _lt_application_new (data_dir, api_listen, G_APPLICATION_NON_UNIQUE);
  _lt_application_set_ingest (run->app, FALSE, 0);
  g_timeout_add (20, app_check_cb, run);
  status = g_application_run (G_APPLICATION (run->app), 1, argv);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (run->checked);
  g_clear_object (&run->app);
}

static void
app_run_clear (AppRun *run)
{
  g_clear_pointer (&run->banner, g_free);
  g_clear_pointer (&run->error_text, g_free);
  g_clear_pointer (&run->api_url, g_free);
}

static void
test_app_starts (void)
{
  g_autofree char *data_dir = lt_test_make_temp_dir ();
  AppRun run;

  /* Loading, then the pages; the API listens on the port it was given. */
  run_app (&run, data_dir, "127.0.0.1:0", "main", NULL);
  g_assert_null (run.banner);
  g_assert_null (run.error_text);
  g_assert_nonnull (run.api_url);
  g_assert_true (g_str_has_prefix (run.api_url, "http://127.0.0.1:"));
  app_run_clear (&run);

  /* The size set before quitting comes back (when the schema is installed). */
  run_app (&run, data_dir, "127.0.0.1:0", "main", NULL);
  if (g_settings_schema_source_lookup (g_settings_schema_source_get_default (), APP_ID, TRUE) != NULL)
    {
      g_assert_cmpint (run.width, ==, 820);
      g_assert_cmpint (run.height, ==, 610);
    }
  app_run_clear (&run);
}

static void
test_app_api_port_busy (void)
{
  g_autofree char *data_dir = lt_test_make_temp_dir ();
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *listen = NULL;
  AppRun run;

  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  listen = g_strdup_printf ("127.0.0.1:%u",
                            g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));

  /* The console works; a banner says the API does not. */
  run_app (&run, data_dir, listen, "main", "window-api-unavailable.png");
  g_assert_nonnull (run.banner);
  g_assert_nonnull (strstr (run.banner, listen));
  g_assert_null (run.api_url);
  app_run_clear (&run);
}

static void
test_app_engine_fails (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *not_a_dir = g_build_filename (dir, "file", NULL);
  g_autoptr(GError) error = NULL;
  AppRun run;

  g_file_set_contents (not_a_dir, "x", -1, &error);
  g_assert_no_error (error);

  /* The data dir cannot be created: the error page, with the reason. */
  run_app (&run, not_a_dir, "127.0.0.1:0", "error", "window-error.png");
  g_assert_nonnull (run.error_text);
  g_assert_nonnull (strstr (run.error_text, not_a_dir));
  app_run_clear (&run);
}

int
main (int    argc,
      char **argv)
{
  lt_test_gui_init (&argc, &argv);

  g_test_add_func ("/gui/app/starts", test_app_starts);
  g_test_add_func ("/gui/app/api-port-busy", test_app_api_port_busy);
  g_test_add_func ("/gui/app/engine-fails", test_app_engine_fails);

#define ADD(path, func) \
  g_test_add ("/gui/rules/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("empty-state", test_empty_state);
  ADD ("editor-validates-and-saves", test_editor_validates_and_saves);
  ADD ("editor-shows-every-error", test_editor_shows_every_error);
  ADD ("editor-existing-triplet", test_editor_existing_triplet);
  ADD ("editor-store-error", test_editor_store_error);
  ADD ("edit-rule", test_edit_rule);
  ADD ("store-changes-appear", test_store_changes_appear);
  ADD ("delete-asks-first", test_delete_asks_first);
  ADD ("delete-from-editor", test_delete_from_editor);
  ADD ("tester", test_tester);
  ADD ("search", test_search);
  ADD ("keyboard", test_keyboard);
  ADD ("screenshots", test_screenshots);
#undef ADD
  g_test_add ("/gui/rules/screenshots-zh_CN", Fixture, NULL,
              fixture_set_up_zh_CN, test_screenshots_zh_CN, fixture_tear_down_zh_CN);

  return g_test_run ();
}
