/* test-rule-store.c: the rule store over a real catalog in a temporary directory — add,
 * replace, remove, their errors (ConfigAlreadyExists, InvalidConfig.NotFound), the exact
 * items-changed emissions, serialised concurrent changes, and persistence. */
#include "config.h"

#include <string.h>

#include "lt-catalog.h"
#include "lt-rule-store.h"
#include "lt-test-utils.h"

#define NOW G_GINT64_CONSTANT (1714521600)   /* 2024-05-01T00:00:00Z */

typedef struct
{
  guint position;
  guint removed;
  guint added;
} Change;

typedef struct
{
  char        *dir;
  char        *path;
  LtCatalog   *catalog;
  LtRuleStore *store;
  GArray      *changes;
} Fixture;

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  Fixture *f = user_data;
  Change change = { position, removed, added };

  g_array_append_val (f->changes, change);
}

static void
assert_changes (Fixture     *f,
                const Change *expected,
                guint         n)
{
  g_assert_cmpuint (f->changes->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      const Change *c = &g_array_index (f->changes, Change, i);

      g_assert_cmpuint (c->position, ==, expected[i].position);
      g_assert_cmpuint (c->removed, ==, expected[i].removed);
      g_assert_cmpuint (c->added, ==, expected[i].added);
    }
  g_array_set_size (f->changes, 0);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  guint *count = user_data;

  (*count)++;
}

static LtRule *
make_rule (const char *domain,
           const char *app,
           const char *stream,
           const char *format,
           gint64      now_unix)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDateTime) now = g_date_time_new_from_unix_utc (now_unix);
  g_autoptr(GError) error = NULL;
  LtRule *rule;

  g_hash_table_insert (params, (char *) "DomainName", (char *) domain);
  g_hash_table_insert (params, (char *) "AppName", (char *) app);
  if (stream != NULL)
    g_hash_table_insert (params, (char *) "StreamName", (char *) stream);
  g_hash_table_insert (params, (char *) "OssEndpoint", (char *) "local");
  g_hash_table_insert (params, (char *) "OssBucket", (char *) "recordings");
  if (format != NULL)
    g_hash_table_insert (params, (char *) "RecordFormat.1.Format", (char *) format);

  rule = lt_rule_new_from_params (params, now, &error);
  g_assert_no_error (error);
  return rule;
}

static char *
rule_json (LtRule *rule)
{
  g_autoptr(JsonNode) node = lt_rule_to_json (rule);

  return json_to_string (node, FALSE);
}

static void
open_store (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  f->catalog = lt_catalog_new (f->path);
  lt_catalog_open_sync (f->catalog, &error);
  g_assert_no_error (error);

  f->store = lt_rule_store_new (f->catalog);
  g_signal_connect (f->store, "items-changed", G_CALLBACK (items_changed_cb), f);

  lt_rule_store_load_async (f->store, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  lt_rule_store_load_finish (f->store, result, &error);
  g_assert_no_error (error);
}

static void
close_store (Fixture *f)
{
  g_assert_finalize_object (g_steal_pointer (&f->store));
  lt_catalog_close (f->catalog);
  g_clear_object (&f->catalog);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->dir = lt_test_make_temp_dir ();
  f->path = g_build_filename (f->dir, "catalog.db", NULL);
  f->changes = g_array_new (FALSE, FALSE, sizeof (Change));
  open_store (f);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->store)), ==, 0);
  assert_changes (f, NULL, 0);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (f->store != NULL)
    close_store (f);
  g_array_unref (f->changes);
  g_free (f->path);
  g_free (f->dir);
}

/* Synchronous wrappers: run the main loop until the operation finished. */

static gboolean
add_sync (Fixture  *f,
          LtRule   *rule,
          GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_rule_store_add_async (f->store, rule, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_rule_store_add_finish (f->store, result, error);
}

static gboolean
replace_sync (Fixture  *f,
              LtRule   *rule,
              GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_rule_store_replace_async (f->store, rule, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_rule_store_replace_finish (f->store, result, error);
}

static gboolean
remove_sync (Fixture     *f,
             const char  *domain,
             const char  *app,
             const char  *stream,
             GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_rule_store_remove_async (f->store, domain, app, stream, NULL,
                              lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_rule_store_remove_finish (f->store, result, error);
}

/* The model lists exactly these triplets, in this order. */
static void
assert_triplets (Fixture            *f,
                 const char * const *expected)
{
  GListModel *model = G_LIST_MODEL (f->store);
  guint n = g_list_model_get_n_items (model);

  g_assert_cmpuint (n, ==, g_strv_length ((char **) expected));
  g_assert_true (g_list_model_get_item_type (model) == LT_TYPE_RULE);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LtRule) rule = g_list_model_get_item (model, i);
      g_autofree char *triplet = g_strdup_printf ("%s/%s/%s", lt_rule_get_domain_name (rule),
                                                  lt_rule_get_app_name (rule),
                                                  lt_rule_get_stream_name (rule));

      g_assert_cmpstr (triplet, ==, expected[i]);
    }
  g_assert_null (g_list_model_get_item (model, n));
}

static void
test_add (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(LtRule) app = make_rule ("a.com", "live", NULL, "m3u8", NOW);
  g_autoptr(LtRule) domain = make_rule ("a.com", "*", NULL, "mp4", NOW);
  g_autoptr(LtRule) stream = make_rule ("a.com", "live", "cam", NULL, NOW);
  g_autoptr(LtRule) other = make_rule ("b.com", "live", NULL, "flv", NOW);
  g_autoptr(LtRule) dup = make_rule ("A.COM", "live", "", "flv", NOW + 5);
  g_autoptr(GError) error = NULL;
  guint notified = 0;

  g_signal_connect (f->store, "notify::n-items", G_CALLBACK (count_notify_cb), &notified);

  g_assert_true (add_sync (f, app, &error));
  g_assert_no_error (error);
  assert_changes (f, (Change[]) { { 0, 0, 1 } }, 1);

  g_assert_true (add_sync (f, other, &error));
  assert_changes (f, (Change[]) { { 1, 0, 1 } }, 1);

  /* "*" sorts before names: the domain rule goes first. */
  g_assert_true (add_sync (f, domain, &error));
  assert_changes (f, (Change[]) { { 0, 0, 1 } }, 1);

  g_assert_true (add_sync (f, stream, &error));
  assert_changes (f, (Change[]) { { 2, 0, 1 } }, 1);
  assert_triplets (f, (const char *[]) { "a.com/*/*", "a.com/live/*", "a.com/live/cam",
                                         "b.com/live/*", NULL });
  g_assert_cmpuint (notified, ==, 4);

  /* The same triplet again (the domain in another case, the stream given as empty). */
  g_assert_false (add_sync (f, dup, &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_CONFIG_ALREADY_EXISTS);
  g_assert_cmpstr (lt_rule_error_code_name (error->code), ==, "ConfigAlreadyExists");
  g_clear_error (&error);
  assert_changes (f, NULL, 0);
  g_assert_cmpuint (notified, ==, 4);

  /* The store keeps the rule objects it was given. */
  g_assert_true (lt_rule_store_lookup (f->store, "a.com", "live", NULL) == app);
  g_assert_true (lt_rule_store_lookup (f->store, "A.Com.", "live", "*") == app);
  g_assert_true (lt_rule_store_lookup (f->store, "a.com", "live", "cam") == stream);
  g_assert_null (lt_rule_store_lookup (f->store, "a.com", "live", "dog"));
  g_assert_null (lt_rule_store_lookup (f->store, "c.com", "*", NULL));

  /* Matching over the store. */
  {
    LtRuleMatchLevel level;

    g_assert_true (lt_rule_store_match (f->store, "a.com", "live", "cam", &level) == stream);
    g_assert_cmpint (level, ==, LT_RULE_MATCH_STREAM);
    g_assert_true (lt_rule_store_match (f->store, "a.com", "live", "dog", &level) == app);
    g_assert_cmpint (level, ==, LT_RULE_MATCH_APP);
    g_assert_true (lt_rule_store_match (f->store, "a.com", "vod", "dog", &level) == domain);
    g_assert_cmpint (level, ==, LT_RULE_MATCH_DOMAIN);
    g_assert_null (lt_rule_store_match (f->store, "c.com", "live", "cam", &level));
    g_assert_cmpint (level, ==, LT_RULE_MATCH_NONE);
  }
}

static void
test_replace (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(LtRule) first = make_rule ("a.com", "live", NULL, "m3u8", NOW);
  g_autoptr(LtRule) domain = make_rule ("a.com", "*", NULL, "mp4", NOW);
  g_autoptr(LtRule) second = make_rule ("a.com", "live", NULL, "flv", NOW + 3600);
  g_autoptr(LtRule) absent = make_rule ("a.com", "vod", NULL, "flv", NOW + 3600);
  g_autoptr(GError) error = NULL;
  LtRule *stored;

  g_assert_true (add_sync (f, domain, &error));
  g_assert_true (add_sync (f, first, &error));
  g_assert_no_error (error);
  g_array_set_size (f->changes, 0);

  g_assert_true (replace_sync (f, second, &error));
  g_assert_no_error (error);
  assert_changes (f, (Change[]) { { 1, 1, 1 } }, 1);

  /* The new content with the original create time; the caller's rule is untouched. */
  stored = lt_rule_store_lookup (f->store, "a.com", "live", NULL);
  g_assert_nonnull (lt_rule_get_format (stored, LT_RECORD_FORMAT_FLV));
  g_assert_null (lt_rule_get_format (stored, LT_RECORD_FORMAT_M3U8));
  g_assert_cmpint (lt_rule_get_create_time (stored), ==, NOW);
  g_assert_cmpint (lt_rule_get_create_time (second), ==, NOW + 3600);

  /* Replacing what is not there. */
  g_assert_false (replace_sync (f, absent, &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_CONFIG_NOT_FOUND);
  g_assert_cmpuint (lt_rule_error_http_status (error->code), ==, 404);
  g_clear_error (&error);
  assert_changes (f, NULL, 0);
  assert_triplets (f, (const char *[]) { "a.com/*/*", "a.com/live/*", NULL });
}

static void
test_remove (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(LtRule) app = make_rule ("a.com", "live", NULL, "m3u8", NOW);
  g_autoptr(LtRule) stream = make_rule ("a.com", "live", "cam", "mp4", NOW);
  g_autoptr(LtRule) domain = make_rule ("a.com", "*", NULL, NULL, NOW);
  g_autoptr(GError) error = NULL;

  g_assert_true (add_sync (f, app, &error));
  g_assert_true (add_sync (f, stream, &error));
  g_assert_true (add_sync (f, domain, &error));
  g_assert_no_error (error);
  g_array_set_size (f->changes, 0);

  g_assert_true (remove_sync (f, "a.com", "live", "cam", &error));
  g_assert_no_error (error);
  assert_changes (f, (Change[]) { { 2, 1, 0 } }, 1);

  /* Absent stream means "*"; the domain is matched as a host name. */
  g_assert_true (remove_sync (f, "A.COM", "live", NULL, &error));
  g_assert_no_error (error);
  assert_changes (f, (Change[]) { { 1, 1, 0 } }, 1);

  g_assert_false (remove_sync (f, "a.com", "live", NULL, &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_CONFIG_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (remove_sync (f, "a.com", "live", "cam", &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_CONFIG_NOT_FOUND);
  g_clear_error (&error);
  assert_changes (f, NULL, 0);

  g_assert_true (remove_sync (f, "a.com", "*", "", &error));
  g_assert_no_error (error);
  assert_changes (f, (Change[]) { { 0, 1, 0 } }, 1);
  assert_triplets (f, (const char *[]) { NULL });
}

/* Changes queued together run one after another, in order: of two adds of one triplet
 * exactly one succeeds, and an add queued behind a remove of the same triplet works. */
static void
test_concurrent (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(LtRule) one = make_rule ("a.com", "live", "cam", "m3u8", NOW);
  g_autoptr(LtRule) two = make_rule ("a.com", "live", "cam", "mp4", NOW);
  g_autoptr(LtRule) three = make_rule ("a.com", "live", "cam", "flv", NOW);
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GAsyncResult) r3 = NULL;
  g_autoptr(GAsyncResult) r4 = NULL;
  g_autoptr(GError) e1 = NULL;
  g_autoptr(GError) e2 = NULL;
  g_autoptr(GError) e3 = NULL;
  g_autoptr(GError) e4 = NULL;
  gboolean ok1, ok2;

  lt_rule_store_add_async (f->store, one, NULL, lt_test_store_result_cb, &r1);
  lt_rule_store_add_async (f->store, two, NULL, lt_test_store_result_cb, &r2);
  lt_rule_store_remove_async (f->store, "a.com", "live", "cam", NULL, lt_test_store_result_cb, &r3);
  lt_rule_store_add_async (f->store, three, NULL, lt_test_store_result_cb, &r4);
  lt_test_wait_result (&r1);
  lt_test_wait_result (&r2);
  lt_test_wait_result (&r3);
  lt_test_wait_result (&r4);

  ok1 = lt_rule_store_add_finish (f->store, r1, &e1);
  ok2 = lt_rule_store_add_finish (f->store, r2, &e2);
  g_assert_true (ok1);
  g_assert_no_error (e1);
  g_assert_false (ok2);
  g_assert_error (e2, LT_RULE_ERROR, LT_RULE_ERROR_CONFIG_ALREADY_EXISTS);
  g_assert_true (lt_rule_store_remove_finish (f->store, r3, &e3));
  g_assert_no_error (e3);
  g_assert_true (lt_rule_store_add_finish (f->store, r4, &e4));
  g_assert_no_error (e4);

  assert_changes (f, (Change[]) { { 0, 0, 1 }, { 0, 1, 0 }, { 0, 0, 1 } }, 3);
  g_assert_true (lt_rule_store_lookup (f->store, "a.com", "live", "cam") == three);
}

/* Cancelling an operation that still waits in the queue cancels it; nothing changes. */
static void
test_cancel_queued (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(LtRule) one = make_rule ("a.com", "live", NULL, "m3u8", NOW);
  g_autoptr(LtRule) two = make_rule ("b.com", "live", NULL, "m3u8", NOW);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GError) error = NULL;

  lt_rule_store_add_async (f->store, one, NULL, lt_test_store_result_cb, &r1);
  lt_rule_store_add_async (f->store, two, cancellable, lt_test_store_result_cb, &r2);
  g_cancellable_cancel (cancellable);
  lt_test_wait_result (&r1);
  lt_test_wait_result (&r2);

  g_assert_true (lt_rule_store_add_finish (f->store, r1, &error));
  g_assert_no_error (error);
  g_assert_false (lt_rule_store_add_finish (f->store, r2, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_changes (f, (Change[]) { { 0, 0, 1 } }, 1);
  assert_triplets (f, (const char *[]) { "a.com/live/*", NULL });
}

static void
test_persistence (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(LtRule) app = make_rule ("a.com", "live", NULL, "m3u8", NOW);
  g_autoptr(LtRule) stream = make_rule ("a.com", "live", "cam", NULL, NOW + 1);
  g_autoptr(LtRule) replaced = make_rule ("a.com", "live", "cam", "mp4", NOW + 2);
  g_autoptr(LtRule) gone = make_rule ("b.com", "*", NULL, "flv", NOW);
  g_autoptr(GPtrArray) before = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  LtRule *stored;

  g_assert_true (add_sync (f, app, &error));
  g_assert_true (add_sync (f, stream, &error));
  g_assert_true (add_sync (f, gone, &error));
  g_assert_true (replace_sync (f, replaced, &error));
  g_assert_true (remove_sync (f, "b.com", "*", NULL, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (f->store)); i++)
    {
      g_autoptr(LtRule) rule = g_list_model_get_item (G_LIST_MODEL (f->store), i);

      g_ptr_array_add (before, rule_json (rule));
    }
  g_assert_cmpuint (before->len, ==, 2);

  close_store (f);
  g_array_set_size (f->changes, 0);
  open_store (f);

  /* One emission for the whole load. */
  assert_changes (f, (Change[]) { { 0, 0, 2 } }, 1);
  assert_triplets (f, (const char *[]) { "a.com/live/*", "a.com/live/cam", NULL });
  for (guint i = 0; i < before->len; i++)
    {
      g_autoptr(LtRule) rule = g_list_model_get_item (G_LIST_MODEL (f->store), i);
      g_autofree char *json = rule_json (rule);

      g_assert_cmpstr (json, ==, g_ptr_array_index (before, i));
    }
  stored = lt_rule_store_lookup (f->store, "a.com", "live", "cam");
  g_assert_cmpint (lt_rule_get_create_time (stored), ==, NOW + 1);

  /* Loading again replaces the content in one emission. */
  {
    g_autoptr(GAsyncResult) result = NULL;

    lt_rule_store_load_async (f->store, NULL, lt_test_store_result_cb, &result);
    lt_test_wait_result (&result);
    g_assert_true (lt_rule_store_load_finish (f->store, result, &error));
    g_assert_no_error (error);
    assert_changes (f, (Change[]) { { 0, 2, 2 } }, 1);
  }
}

/* A store that was not loaded still refuses a duplicate: the catalog's unique triplet. */
static void
test_unloaded_duplicate (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(LtRule) rule = make_rule ("a.com", "live", NULL, "m3u8", NOW);
  g_autoptr(LtRule) again = make_rule ("a.com", "live", NULL, "mp4", NOW);
  g_autoptr(LtRuleStore) fresh = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (add_sync (f, rule, &error));
  g_assert_no_error (error);

  fresh = lt_rule_store_new (f->catalog);
  lt_rule_store_add_async (fresh, again, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_false (lt_rule_store_add_finish (fresh, result, &error));
  g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_CONFIG_ALREADY_EXISTS);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fresh)), ==, 0);
  g_clear_object (&result);
  g_assert_finalize_object (g_steal_pointer (&fresh));
}

int
main (int   argc,
      char *argv[])
{
  lt_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/rule-store/add", test_add);
  ADD ("/rule-store/replace", test_replace);
  ADD ("/rule-store/remove", test_remove);
  ADD ("/rule-store/concurrent", test_concurrent);
  ADD ("/rule-store/cancel-queued", test_cancel_queued);
  ADD ("/rule-store/persistence", test_persistence);
  ADD ("/rule-store/unloaded-duplicate", test_unloaded_duplicate);
#undef ADD

  return g_test_run ();
}
