/* test-rule-match.c: which rule applies to a stream (SPEC section 2 priority order),
 * exclusion rules, name comparison rules, and the StartTime/EndTime window. */
#include "config.h"

#include <string.h>

#include "lt-rule.h"
#include "lt-test-utils.h"

#define NOW G_GINT64_CONSTANT (1714521600)   /* 2024-05-01T00:00:00Z */

typedef struct
{
  const char *domain;
  const char *app;
  const char *stream;    /* NULL: absent */
  gboolean    exclusion; /* no formats */
} RuleSpec;

static LtRule *
make_rule (const RuleSpec *spec)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDateTime) now = g_date_time_new_from_unix_utc (NOW);
  g_autoptr(GError) error = NULL;
  LtRule *rule;

  g_hash_table_insert (params, (char *) "DomainName", (char *) spec->domain);
  g_hash_table_insert (params, (char *) "AppName", (char *) spec->app);
  if (spec->stream != NULL)
    g_hash_table_insert (params, (char *) "StreamName", (char *) spec->stream);
  g_hash_table_insert (params, (char *) "OssEndpoint", (char *) "local");
  g_hash_table_insert (params, (char *) "OssBucket", (char *) "recordings");
  if (!spec->exclusion)
    g_hash_table_insert (params, (char *) "RecordFormat.1.Format", (char *) "m3u8");

  rule = lt_rule_new_from_params (params, now, &error);
  g_assert_no_error (error);
  return rule;
}

/* The rule set most cases use; indices are referred to by the cases. */
static const RuleSpec standard_rules[] = {
  /* 0 */ { "live.example.com", "*", NULL, FALSE },
  /* 1 */ { "live.example.com", "live", NULL, FALSE },
  /* 2 */ { "live.example.com", "live", "cam", FALSE },
  /* 3 */ { "live.example.com", "live", "private", TRUE },   /* exclusion */
  /* 4 */ { "live.example.com", "quiet", "*", TRUE },        /* exclusion of an app */
  /* 5 */ { "other.example.com", "live", "cam", FALSE },
  /* 6 */ { "other.example.com", "Live", NULL, FALSE },
  /* 7 */ { "Mixed.Example.COM", "app", NULL, FALSE },
};

static void
test_priority (void)
{
  static const struct
  {
    const char       *what;
    const char       *domain;
    const char       *app;
    const char       *stream;
    int               expected;   /* index into standard_rules, -1: none */
    LtRuleMatchLevel  level;
  } cases[] = {
    { "stream beats app and domain", "live.example.com", "live", "cam", 2, LT_RULE_MATCH_STREAM },
    { "app beats domain", "live.example.com", "live", "other", 1, LT_RULE_MATCH_APP },
    { "domain when no app rule", "live.example.com", "sports", "cam", 0, LT_RULE_MATCH_DOMAIN },
    { "exclusion stream rule still wins", "live.example.com", "live", "private", 3,
      LT_RULE_MATCH_STREAM },
    { "exclusion app rule beats the domain rule", "live.example.com", "quiet", "x", 4,
      LT_RULE_MATCH_APP },
    { "domain is case-insensitive", "LIVE.Example.Com", "live", "cam", 2, LT_RULE_MATCH_STREAM },
    { "rule domain given in upper case", "mixed.example.com", "app", "s", 7, LT_RULE_MATCH_APP },
    { "trailing dot on the stream's domain", "live.example.com.", "live", "cam", 2,
      LT_RULE_MATCH_STREAM },
    { "app is case-sensitive", "live.example.com", "LIVE", "cam", 0, LT_RULE_MATCH_DOMAIN },
    { "stream is case-sensitive", "live.example.com", "live", "CAM", 1, LT_RULE_MATCH_APP },
    { "app case-sensitive, no domain rule", "other.example.com", "live", "x", -1,
      LT_RULE_MATCH_NONE },
    { "upper-case app rule", "other.example.com", "Live", "x", 6, LT_RULE_MATCH_APP },
    { "other domain's stream rule", "other.example.com", "live", "cam", 5, LT_RULE_MATCH_STREAM },
    { "unknown domain", "unknown.example.com", "live", "cam", -1, LT_RULE_MATCH_NONE },
    { "domain is not a suffix match", "example.com", "live", "cam", -1, LT_RULE_MATCH_NONE },
    { "subdomain does not match", "a.live.example.com", "live", "cam", -1, LT_RULE_MATCH_NONE },
    { "absent stream is *", "live.example.com", "live", NULL, 1, LT_RULE_MATCH_APP },
    { "empty stream is *", "live.example.com", "live", "", 1, LT_RULE_MATCH_APP },
    { "stream * is the app rule", "live.example.com", "live", "*", 1, LT_RULE_MATCH_APP },
    { "app * asks for the domain rule", "live.example.com", "*", NULL, 0, LT_RULE_MATCH_DOMAIN },
    { "app name that is a prefix", "live.example.com", "liv", "cam", 0, LT_RULE_MATCH_DOMAIN },
  };
  g_autoptr(GListStore) forward = g_list_store_new (LT_TYPE_RULE);
  g_autoptr(GListStore) backward = g_list_store_new (LT_TYPE_RULE);
  g_autoptr(GPtrArray) rules = g_ptr_array_new_with_free_func (g_object_unref);

  for (gsize i = 0; i < G_N_ELEMENTS (standard_rules); i++)
    g_ptr_array_add (rules, make_rule (&standard_rules[i]));
  for (guint i = 0; i < rules->len; i++)
    {
      g_list_store_append (forward, g_ptr_array_index (rules, i));
      g_list_store_append (backward, g_ptr_array_index (rules, rules->len - 1 - i));
    }

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GListModel *models[] = { G_LIST_MODEL (forward), G_LIST_MODEL (backward) };

      g_test_message ("case %zu: %s", i, cases[i].what);

      /* The order of the rules must not matter. */
      for (gsize m = 0; m < G_N_ELEMENTS (models); m++)
        {
          LtRuleMatchLevel level = 42;
          LtRule *rule = lt_rule_match (models[m], cases[i].domain, cases[i].app,
                                        cases[i].stream, &level);
          g_autofree char *why = NULL;

          if (cases[i].expected < 0)
            g_assert_null (rule);
          else
            g_assert_true (rule == g_ptr_array_index (rules, cases[i].expected));
          g_assert_cmpint (level, ==, cases[i].level);

          /* The level pointer is optional. */
          g_assert_true (lt_rule_match (models[m], cases[i].domain, cases[i].app,
                                        cases[i].stream, NULL) == rule);

          why = lt_rule_match_explain (rule, level, cases[i].domain, cases[i].app,
                                       cases[i].stream);
          g_assert_nonnull (why);
          g_assert_true (g_utf8_validate (why, -1, NULL));
          g_assert_cmpuint (strlen (why), >, 20);
          if (rule != NULL && lt_rule_is_exclusion (rule))
            g_assert_nonnull (strstr (why, "not recorded"));
          if (rule != NULL && level == LT_RULE_MATCH_STREAM)
            g_assert_nonnull (strstr (why, lt_rule_get_stream_name (rule)));
        }
    }
}

static void
test_empty_model (void)
{
  g_autoptr(GListStore) empty = g_list_store_new (LT_TYPE_RULE);
  LtRuleMatchLevel level = LT_RULE_MATCH_STREAM;
  g_autofree char *why = NULL;

  g_assert_null (lt_rule_match (G_LIST_MODEL (empty), "a.com", "live", "cam", &level));
  g_assert_cmpint (level, ==, LT_RULE_MATCH_NONE);

  why = lt_rule_match_explain (NULL, LT_RULE_MATCH_NONE, "a.com", "live", "cam");
  g_assert_nonnull (strstr (why, "cam"));
  g_assert_nonnull (strstr (why, "live"));
}

/* Each level alone: the single rule matches at its own level. */
static void
test_single_levels (void)
{
  static const struct
  {
    RuleSpec         spec;
    LtRuleMatchLevel level;
  } cases[] = {
    { { "a.com", "*", NULL, FALSE }, LT_RULE_MATCH_DOMAIN },
    { { "a.com", "*", "*", FALSE }, LT_RULE_MATCH_DOMAIN },
    { { "a.com", "live", NULL, FALSE }, LT_RULE_MATCH_APP },
    { { "a.com", "live", "", FALSE }, LT_RULE_MATCH_APP },
    { { "a.com", "live", "cam", FALSE }, LT_RULE_MATCH_STREAM },
    { { "a.com", "live", "cam", TRUE }, LT_RULE_MATCH_STREAM },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GListStore) store = g_list_store_new (LT_TYPE_RULE);
      g_autoptr(LtRule) rule = make_rule (&cases[i].spec);
      LtRuleMatchLevel level;

      g_list_store_append (store, rule);
      g_assert_true (lt_rule_match (G_LIST_MODEL (store), "A.com", "live", "cam", &level) == rule);
      g_assert_cmpint (level, ==, cases[i].level);
    }
}

/* The window [StartTime, EndTime): the rule records inside it only. */
static void
test_window (void)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDateTime) now = g_date_time_new_from_unix_utc (NOW);
  g_autoptr(GError) error = NULL;
  g_autoptr(LtRule) windowed = NULL;
  g_autoptr(LtRule) always = NULL;
  const gint64 start = NOW + 24 * 3600;        /* 2024-05-02T00:00:00Z */
  const gint64 end = start + 2 * 3600;         /* 2024-05-02T02:00:00Z */
  static const RuleSpec plain = { "a.com", "live", "cam", FALSE };
  const struct
  {
    gint64   t;
    gboolean active;
  } cases[] = {
    { G_MININT64, FALSE },
    { 0, FALSE },
    { NOW, FALSE },
    { start - 1, FALSE },
    { start, TRUE },
    { start + 1, TRUE },
    { end - 1, TRUE },
    { end, FALSE },
    { end + 1, FALSE },
    { G_MAXINT64, FALSE },
  };

  g_hash_table_insert (params, (char *) "DomainName", (char *) "a.com");
  g_hash_table_insert (params, (char *) "AppName", (char *) "live");
  g_hash_table_insert (params, (char *) "StreamName", (char *) "cam");
  g_hash_table_insert (params, (char *) "OssEndpoint", (char *) "local");
  g_hash_table_insert (params, (char *) "OssBucket", (char *) "recordings");
  g_hash_table_insert (params, (char *) "RecordFormat.1.Format", (char *) "mp4");
  g_hash_table_insert (params, (char *) "StartTime", (char *) "2024-05-02T00:00:00Z");
  g_hash_table_insert (params, (char *) "EndTime", (char *) "2024-05-02T02:00:00Z");
  windowed = lt_rule_new_from_params (params, now, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lt_rule_get_start_time (windowed), ==, start);
  g_assert_cmpint (lt_rule_get_end_time (windowed), ==, end);

  always = make_rule (&plain);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("t = %" G_GINT64_FORMAT, cases[i].t);
      g_assert_cmpint (lt_rule_is_active_at (windowed, cases[i].t), ==, cases[i].active);
      g_assert_true (lt_rule_is_active_at (always, cases[i].t));
    }

  /* Matching is pure: a closed window still matches (the caller decides). */
  {
    g_autoptr(GListStore) store = g_list_store_new (LT_TYPE_RULE);
    LtRuleMatchLevel level;
    g_autofree char *why = NULL;

    g_list_store_append (store, windowed);
    g_assert_true (lt_rule_match (G_LIST_MODEL (store), "a.com", "live", "cam", &level)
                   == windowed);
    g_assert_cmpint (level, ==, LT_RULE_MATCH_STREAM);
    why = lt_rule_match_explain (windowed, level, "a.com", "live", "cam");
    g_assert_nonnull (strstr (why, "2024-05-02T00:00:00Z"));
    g_assert_nonnull (strstr (why, "2024-05-02T02:00:00Z"));
  }
}

static void
test_same_triplet (void)
{
  static const RuleSpec a = { "a.com", "live", NULL, FALSE };
  static const RuleSpec a_star = { "A.COM", "live", "*", TRUE };
  static const RuleSpec b = { "a.com", "live", "cam", FALSE };
  static const RuleSpec c = { "a.com", "Live", NULL, FALSE };
  g_autoptr(LtRule) ra = make_rule (&a);
  g_autoptr(LtRule) ra_star = make_rule (&a_star);
  g_autoptr(LtRule) rb = make_rule (&b);
  g_autoptr(LtRule) rc = make_rule (&c);

  g_assert_true (lt_rule_same_triplet (ra, ra_star));
  g_assert_false (lt_rule_same_triplet (ra, rb));
  g_assert_false (lt_rule_same_triplet (ra, rc));
}

int
main (int   argc,
      char *argv[])
{
  lt_test_init (&argc, &argv);

  g_test_add_func ("/rule-match/priority", test_priority);
  g_test_add_func ("/rule-match/empty", test_empty_model);
  g_test_add_func ("/rule-match/single-levels", test_single_levels);
  g_test_add_func ("/rule-match/window", test_window);
  g_test_add_func ("/rule-match/same-triplet", test_same_triplet);

  return g_test_run ();
}
