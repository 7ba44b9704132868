/* test-template.c: object-name templates — every variable, syntax checks, escaping, and
 * well over 500 hostile names (listed in hostile-names.txt plus generated ones) through
 * every name variable, each result checked by an independent checker written here. */
#include "config.h"

#include <string.h>

#include "lt-rule.h"
#include "lt-template.h"
#include "lt-test-utils.h"

/* 2006-01-02T15:04:05Z, the reference time of the spec's formats. */
#define REF_TIME G_GINT64_CONSTANT (1136214245)

static LtTemplateVars
ref_vars (void)
{
  return (LtTemplateVars) {
    .domain_name = "live.example.com",
    .app_name = "app",
    .stream_name = "cam",
    .sequence = 7,
    .start_time = REF_TIME,
    .end_time = REF_TIME + 3600 + 60 + 1,
    .unix_timestamp = REF_TIME + 5,
  };
}

/* ---- an independent checker -------------------------------------------------------- */

static char *
decode_once (const char *s,
             gsize       len)
{
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    {
      if (s[i] == '%' && i + 2 < len && g_ascii_isxdigit (s[i + 1]) && g_ascii_isxdigit (s[i + 2]))
        {
          g_string_append_c (out, (char) (g_ascii_xdigit_value (s[i + 1]) * 16 +
                                          g_ascii_xdigit_value (s[i + 2])));
          i += 2;
        }
      else
        g_string_append_c (out, s[i]);
    }
  return g_string_free (out, FALSE);
}

static gboolean
is_dot_or_dotdot (const char *s)
{
  return g_str_equal (s, ".") || g_str_equal (s, "..");
}

/* Returns NULL when @key is safe, else why not. */
static const char *
independent_check (const char *key)
{
  g_auto(GStrv) segments = NULL;

  if (strlen (key) > 1024)
    return "longer than 1024 bytes";
  if (key[0] == '\0')
    return "empty";
  if (key[0] == '/')
    return "absolute";
  if (!g_utf8_validate (key, -1, NULL))
    return "not UTF-8";

  for (const char *p = key; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
        return "control character";
      if (c == '\\')
        return "backslash";
      if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
          c == 0x200e || c == 0x200f || c == 0x061c)
        return "bidi control";
      if ((c >= 0x200b && c <= 0x200d) || c == 0x2060 || c == 0xfeff || c == 0x00ad)
        return "zero-width character";
      if (c == 0x2215 || c == 0x2044)
        return "slash look-alike";
      if (c >= 0x80)
        {
          char buf[8];
          int n = g_unichar_to_utf8 (c, buf);
          g_autofree char *nfkc = g_utf8_normalize (buf, n, G_NORMALIZE_NFKC);

          if (nfkc == NULL || strpbrk (nfkc, "/.\\") != NULL)
            return "normalises to / . or \\";
        }
    }

  segments = g_strsplit (key, "/", -1);
  for (guint i = 0; segments[i] != NULL; i++)
    {
      g_autofree char *decoded = NULL;
      g_autofree char *nfkc = NULL;

      if (segments[i][0] == '\0')
        return "empty segment";
      if (is_dot_or_dotdot (segments[i]))
        return "dot segment";
      decoded = decode_once (segments[i], strlen (segments[i]));
      if (decoded[0] == '\0' || is_dot_or_dotdot (decoded))
        return "dot segment after percent-decoding";
      if (g_utf8_validate (decoded, -1, NULL))
        {
          nfkc = g_utf8_normalize (decoded, -1, G_NORMALIZE_NFKC);
          if (nfkc != NULL && is_dot_or_dotdot (nfkc))
            return "dot segment after percent-decoding and NFKC";
        }
    }

  return NULL;
}

/* ---- every variable --------------------------------------------------------------- */

static void
test_variables (void)
{
  static const struct
  {
    const char *tmpl;
    const char *expected;
  } cases[] = {
    { "{DomainName}", "live.example.com" },
    { "{AppName}", "app" },
    { "{StreamName}", "cam" },
    { "{Sequence}", "7" },
    { "{UnixTimestamp}", "1136214250" },
    { "{StartTime}", "20060102T150405Z" },
    { "{EndTime}", "20060102T160506Z" },
    { "{EscapedStartTime}", "2006-01-02-15-04-05" },
    { "{EscapedEndTime}", "2006-01-02-16-05-06" },
    { "{Date}", "2006-01-02" },
    { "{Hour}", "15" },
    { "{Minute}", "04" },
    { "{Second}", "05" },
    { "x/{Date}/{Hour}-{Minute}-{Second}", "x/2006-01-02/15-04-05" },
    { "{DomainName}/{AppName}/{StreamName}/{Sequence}", "live.example.com/app/cam/7" },
    { "a.b/..c/{Sequence}", "a.b/..c/7" },
    { "x/.{Sequence}", "x/.7" },
    { "x/..{Sequence}", "x/..7" },
    { "直播/{StreamName}", "直播/cam" },
    { "no-variables", "no-variables" },
    { LT_RULE_DEFAULT_OBJECT_PREFIX, "record/app/cam/7_2006-01-02-15-04-05_2006-01-02-16-05-06" },
    { LT_RULE_DEFAULT_SLICE_OBJECT_PREFIX, "record/app/cam/1136214250_7" },
  };
  LtTemplateVars vars = ref_vars ();

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *key = lt_template_expand (cases[i].tmpl, &vars, &error);

      g_test_message ("%s", cases[i].tmpl);
      g_assert_no_error (error);
      g_assert_cmpstr (key, ==, cases[i].expected);
      g_assert_null (independent_check (key));
    }
}

static void
test_time_edges (void)
{
  LtTemplateVars vars = ref_vars ();
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;

  /* The Unix epoch and the last second of 9999 format fine. */
  vars.start_time = 0;
  vars.end_time = G_GINT64_CONSTANT (253402300799);
  key = lt_template_expand ("{EscapedStartTime}_{EscapedEndTime}_{StartTime}", &vars, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (key, ==, "1970-01-01-00-00-00_9999-12-31-23-59-59_19700101T000000Z");

  /* Past year 9999 is an error, not a garbled name. */
  vars.end_time = G_GINT64_CONSTANT (253402300800);
  g_clear_pointer (&key, g_free);
  key = lt_template_expand ("{EscapedEndTime}", &vars, &error);
  g_assert_error (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_FAILED);
  g_assert_null (key);
  g_clear_error (&error);

  /* Times that are not used do not matter. */
  key = lt_template_expand ("{Sequence}", &vars, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (key, ==, "7");
}

static void
test_extension (void)
{
  LtTemplateVars vars = ref_vars ();
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *name = NULL;
  g_autofree char *tmpl = NULL;

  key = lt_template_expand_with_extension ("r/{StreamName}_{Sequence}", &vars, ".ts", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (key, ==, "r/cam_7.ts");
  g_clear_pointer (&key, g_free);

  /* The limit applies to the finished name: 1021 + ".ts" = 1024 fits, 1022 does not. */
  name = g_strnfill (1021, 'a');
  vars.stream_name = name;
  key = lt_template_expand_with_extension ("{StreamName}", &vars, ".ts", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (key), ==, 1024);
  g_clear_pointer (&key, g_free);

  g_free (name);
  name = g_strnfill (1022, 'a');
  vars.stream_name = name;
  key = lt_template_expand_with_extension ("{StreamName}", &vars, ".ts", &error);
  g_assert_error (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_TOO_LONG);
  g_assert_null (key);
  g_clear_error (&error);

  /* Without an extension: 1024 bytes fit, 1025 do not. */
  g_free (name);
  name = g_strnfill (1024, 'b');
  vars.stream_name = name;
  key = lt_template_expand ("{StreamName}", &vars, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (key), ==, 1024);
  g_clear_pointer (&key, g_free);

  tmpl = g_strconcat ("x", "{StreamName}", NULL);
  key = lt_template_expand (tmpl, &vars, &error);
  g_assert_error (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_TOO_LONG);
  g_assert_null (key);
}

/* ---- syntax -------------------------------------------------------------------- */

static void
test_check (void)
{
  static const struct
  {
    const char *tmpl;
    int         code;   /* -1: valid */
  } cases[] = {
    { "record/{AppName}/{StreamName}/{Sequence}", -1 },
    { "{Date}/{Hour}/{Minute}/{Second}", -1 },
    { "a.b/..c/{Sequence}", -1 },
    { "x/...", -1 },
    { "直播/{StreamName}", -1 },
    { "with space/{Sequence}", -1 },
    { "", LT_TEMPLATE_ERROR_FAILED },
    { "{Foo}", LT_TEMPLATE_ERROR_UNKNOWN_VARIABLE },
    { "{}", LT_TEMPLATE_ERROR_UNKNOWN_VARIABLE },
    { "{appname}", LT_TEMPLATE_ERROR_UNKNOWN_VARIABLE },
    { "{App Name}", LT_TEMPLATE_ERROR_UNKNOWN_VARIABLE },
    { "{AppName", LT_TEMPLATE_ERROR_UNBALANCED },
    { "AppName}", LT_TEMPLATE_ERROR_UNBALANCED },
    { "{{AppName}}", LT_TEMPLATE_ERROR_UNBALANCED },
    { "{App/Name}", LT_TEMPLATE_ERROR_UNBALANCED },
    { "/abs/{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },
    { "a//{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },
    { "a/{Sequence}/", LT_TEMPLATE_ERROR_UNSAFE },
    { "./{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },
    { "../{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },
    { "a/../{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },
    { "{Sequence}/..", LT_TEMPLATE_ERROR_UNSAFE },
    { "a\\{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },
    { "a%2E%2E/{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },
    { "%{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },
    { "a\tb/{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },
    { "a\x7f/{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },
    { "a/\xef\xbc\x8e\xef\xbc\x8e/{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },   /* ．． */
    { "a\xe2\x88\x95{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },                 /* ∕ */
    { "a\xe2\x80\xae{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },                 /* RLO */
    { "a\xe2\x80\x8b{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },                 /* ZWSP */
    { "a\xc2\x85{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },                     /* NEL */
    { "a\xff{Sequence}", LT_TEMPLATE_ERROR_UNSAFE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean ok = lt_template_check (cases[i].tmpl, &error);

      g_test_message ("template %zu: %s", i, cases[i].tmpl);
      if (cases[i].code < 0)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
        }
      else
        {
          g_assert_error (error, LT_TEMPLATE_ERROR, cases[i].code);
          g_assert_false (ok);
          g_assert_true (g_utf8_validate (error->message, -1, NULL));
        }
    }

  {
    g_autofree char *long_tmpl = g_strnfill (1025, 'a');
    g_autoptr(GError) error = NULL;

    g_assert_false (lt_template_check (long_tmpl, &error));
    g_assert_error (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_TOO_LONG);
  }
}

static void
test_uses (void)
{
  g_assert_true (lt_template_uses ("a/{StartTime}", "StartTime"));
  g_assert_false (lt_template_uses ("a/{EscapedStartTime}", "StartTime"));
  g_assert_true (lt_template_uses ("a/{EscapedStartTime}", "EscapedStartTime"));
  g_assert_false (lt_template_uses ("a/StartTime", "StartTime"));
  g_assert_false (lt_template_uses ("{StartTime", "StartTime"));
  g_assert_true (lt_template_uses (LT_RULE_DEFAULT_SLICE_OBJECT_PREFIX, "UnixTimestamp"));
  g_assert_false (lt_template_uses ("{Foo}", "Foo"));
}

/* ---- escaping --------------------------------------------------------------------- */

static void
test_escape_segment (void)
{
  static const struct
  {
    const char *value;
    const char *expected;
  } cases[] = {
    { "cam", "cam" },
    { "cam-01_hd~x.y", "cam-01_hd~x.y" },
    { "", "%5F" },
    { ".", "%2E%5F" },
    { "..", "%2E%2E%5F" },
    { "...", "%2E%2E%2E%5F" },
    { "_", "_" },
    { "%5F", "%255F" },
    { "a/b", "a%2Fb" },
    { "../../etc", "..%2F..%2Fetc" },
    { "a\\b", "a%5Cb" },
    { "%", "%25" },
    { "%2e%2e", "%252e%252e" },
    { "%2e%2e%2f", "%252e%252e%252f" },
    { "%252e", "%25252e" },
    { "\x01\x1f\x7f", "%01%1F%7F" },
    { "a b", "a b" },
    { "a:b*c?d\"e<f>g|h", "a%3Ab%2Ac%3Fd%22e%3Cf%3Eg%7Ch" },
    { "\xc0\xae\xc0\xae", "%C0%AE%C0%AE" },            /* overlong "..": not UTF-8 */
    { "a\xff" "b", "a%FFb" },
    { "\xef\xbc\x8e\xef\xbc\x8e", "%EF%BC%8E%EF%BC%8E%5F" },  /* ．． */
    { "\xe2\x80\xa4", "%E2%80%A4%5F" },               /* ․ one dot leader */
    { "\xe2\x80\xa5", "%E2%80%A5%5F" },               /* ‥ two dot leader */
    { ".\xe2\x80\x8b.", "%2E%E2%80%8B%2E%5F" },       /* . ZWSP . */
    { "a\xe2\x88\x95" "b", "a%E2%88%95b" },           /* ∕ division slash */
    { "a\xe2\x81\x84" "b", "a%E2%81%84b" },           /* ⁄ fraction slash */
    { "a\xef\xbc\x8f" "b", "a%EF%BC%8Fb" },           /* ／ fullwidth solidus */
    { "\xe2\x80\xae" "abc", "%E2%80%AEabc" },         /* RLO */
    { "\xc2\xa0", "%C2%A0" },                         /* NBSP */
    { "中文直播", "中文直播" },
    { "café", "café" },
    { "\xe2\x91\xa0", "\xe2\x91\xa0" },               /* ① normalises to 1: fine */
    { "\xe2\x92\x88", "%E2%92%88" },                  /* ⒈ normalises to "1." */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *escaped = lt_template_escape_segment (cases[i].value);

      g_test_message ("value %zu", i);
      g_assert_cmpstr (escaped, ==, cases[i].expected);
    }

  /* Names arrive as C strings: an embedded NUL simply ends the name. */
  {
    static const char with_nul[] = "ab\0../../etc";
    g_autofree char *escaped = lt_template_escape_segment (with_nul);

    g_assert_cmpstr (escaped, ==, "ab");
  }

  /* NULL is treated as empty. */
  {
    g_autofree char *escaped = lt_template_escape_segment (NULL);

    g_assert_cmpstr (escaped, ==, "%5F");
  }
}

static void
test_key_is_safe (void)
{
  static const struct
  {
    const char *key;
    gboolean    safe;
  } cases[] = {
    { "record/app/cam/1.ts", TRUE },
    { "a", TRUE },
    { "a/...", TRUE },
    { "a/%5F", TRUE },
    { "a/%2E%5F", TRUE },
    { "a/%252E%252E", TRUE },
    { "中文/直播", TRUE },
    { "a%", TRUE },
    { "", FALSE },
    { "/a", FALSE },
    { "a/", FALSE },
    { "a//b", FALSE },
    { ".", FALSE },
    { "..", FALSE },
    { "a/./b", FALSE },
    { "a/../b", FALSE },
    { "a/%2e%2e/b", FALSE },
    { "a/%2E/b", FALSE },
    { "a/.%2e", FALSE },
    { "a\\b", FALSE },
    { "a\x01", FALSE },
    { "a\x7f", FALSE },
    { "a\xff", FALSE },
    { "a\xc2\x85", FALSE },               /* NEL */
    { "a\xe2\x80\xae" "b", FALSE },       /* RLO */
    { "a\xe2\x80\x8b" "b", FALSE },       /* ZWSP */
    { "a/\xef\xbc\x8e\xef\xbc\x8e", FALSE }, /* ．． */
    { "a\xef\xbc\x8f" "b", FALSE },       /* ／ */
    { "a\xe2\x88\x95" "b", FALSE },       /* ∕ */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("key %zu", i);
      g_assert_cmpint (lt_object_key_is_safe (cases[i].key), ==, cases[i].safe);
    }

  {
    g_autofree char *key = g_strnfill (1024, 'k');
    g_autofree char *longer = g_strnfill (1025, 'k');

    g_assert_true (lt_object_key_is_safe (key));
    g_assert_false (lt_object_key_is_safe (longer));
  }
}

/* ---- hostile names ---------------------------------------------------------------- */

/* Decodes one line of hostile-names.txt (see its header). */
static char *
decode_line (const char *line)
{
  GString *out = g_string_new (NULL);

  if (g_str_equal (line, "<empty>"))
    return g_string_free (out, FALSE);

  for (const char *p = line; *p != '\0'; p++)
    {
      if (*p != '\\')
        {
          g_string_append_c (out, *p);
          continue;
        }
      p++;
      switch (*p)
        {
        case '\\':
          g_string_append_c (out, '\\');
          break;
        case 's':
          g_string_append_c (out, ' ');
          break;
        case 'x':
          g_assert_true (g_ascii_isxdigit (p[1]) && g_ascii_isxdigit (p[2]));
          g_string_append_c (out, (char) (g_ascii_xdigit_value (p[1]) * 16 +
                                          g_ascii_xdigit_value (p[2])));
          p += 2;
          break;
        case 'u':
          {
            char *end = NULL;
            guint64 c;

            g_assert_true (p[1] == '{');
            c = g_ascii_strtoull (p + 2, &end, 16);
            g_assert_true (end != NULL && *end == '}');
            g_string_append_unichar (out, (gunichar) c);
            p = end;
          }
          break;
        default:
          g_error ("bad escape in hostile-names.txt: %s", line);
        }
    }

  return g_string_free (out, FALSE);
}

static void
add_name (GPtrArray  *names,
          GHashTable *seen,
          char       *name)
{
  if (g_hash_table_contains (seen, name))
    {
      g_free (name);
      return;
    }
  g_hash_table_add (seen, name);
  g_ptr_array_add (names, name);
}

static GPtrArray *
hostile_names (void)
{
  static const char * const fragments[] = {
    "", ".", "..", "/", "\\", "%", "%2e", "%2E", "%2f", "%5c", "%252e", "%00",
    "\x01", "\x1f", "\x7f", "\xc0\xae", "\xe0\x80\xae", "\xff",
    "\xef\xbc\x8e", "\xef\xbc\x8f", "\xe2\x88\x95", "\xe2\x81\x84", "\xe2\x80\xa4",
    "\xe2\x80\xae", "\xe2\x80\x8b", "\xe3\x80\x82", "a", "中",
  };
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "hostile-names.txt", NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  guint listed;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (lines[i][0] == '\0' || lines[i][0] == '#')
        continue;
      add_name (names, seen, decode_line (lines[i]));
    }
  listed = names->len;
  g_assert_cmpuint (listed, >=, 150);

  /* Every pair of fragments, joined directly and around a separator. */
  for (gsize i = 0; i < G_N_ELEMENTS (fragments); i++)
    for (gsize j = 0; j < G_N_ELEMENTS (fragments); j++)
      {
        add_name (names, seen, g_strconcat (fragments[i], fragments[j], NULL));
        add_name (names, seen, g_strconcat (fragments[i], "/", fragments[j], NULL));
      }

  /* Runs of dots and of traversal. */
  for (guint n = 1; n <= 64; n++)
    {
      GString *s = g_string_new (NULL);

      for (guint k = 0; k < n; k++)
        g_string_append (s, "../");
      add_name (names, seen, g_strnfill (n, '.'));
      add_name (names, seen, g_string_free (s, FALSE));
    }

  /* Very long names (10 KB and around the key limit). */
  add_name (names, seen, g_strnfill (10240, 'a'));
  add_name (names, seen, g_strnfill (10240, '.'));
  add_name (names, seen, g_strnfill (10240, '/'));
  add_name (names, seen, g_strnfill (10240, '%'));
  add_name (names, seen, g_strnfill (10240, '\xff'));
  add_name (names, seen, g_strnfill (1000, 'b'));
  add_name (names, seen, g_strnfill (1024, 'c'));
  add_name (names, seen, g_strnfill (1025, 'd'));
  add_name (names, seen, g_strnfill (341, '/'));
  add_name (names, seen, g_strnfill (342, '/'));
  {
    GString *cjk = g_string_new (NULL);
    GString *dots = g_string_new (NULL);

    for (guint k = 0; k < 3414; k++)
      {
        g_string_append (cjk, "中");
        g_string_append (dots, "\xef\xbc\x8e");
      }
    add_name (names, seen, g_string_free (cjk, FALSE));
    add_name (names, seen, g_string_free (dots, FALSE));
  }

  g_test_message ("%u hostile names (%u listed, %u generated)",
                  names->len, listed, names->len - listed);
  g_assert_cmpuint (names->len, >=, 500);
  return names;
}

static void
test_hostile_names (void)
{
  /* Each name variable in several positions of a template. */
  static const char * const templates[] = {
    "{X}",
    "record/{X}",
    "{X}/tail",
    "record/{X}/{Sequence}_{EscapedStartTime}_{EscapedEndTime}",
    "pre{X}post/{UnixTimestamp}",
    ".{X}/x",
  };
  static const char * const variables[] = { "DomainName", "AppName", "StreamName" };
  g_autoptr(GPtrArray) names = hostile_names ();
  g_autoptr(GHashTable) keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) segments = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint checked = 0;
  guint too_long = 0;

  for (guint n = 0; n < names->len; n++)
    {
      const char *name = g_ptr_array_index (names, n);
      g_autofree char *escaped = lt_template_escape_segment (name);
      g_autofree char *again = lt_template_escape_segment (name);
      g_autofree char *decoded = NULL;
      gsize escaped_len = strlen (escaped);

      /* Deterministic, and injective: decoding gives the name back (the marked form of
       * dot-like names ends in the otherwise unused triplet %5F). */
      g_assert_cmpstr (escaped, ==, again);
      if (g_str_has_suffix (escaped, "%5F"))
        decoded = decode_once (escaped, escaped_len - 3);
      else
        decoded = decode_once (escaped, escaped_len);
      g_assert_cmpstr (decoded, ==, name);
      g_assert_false (g_hash_table_contains (segments, escaped));
      g_hash_table_add (segments, g_strdup (escaped));
      g_assert_null (strchr (escaped, '/'));
      g_assert_true (escaped_len > 0);

      for (gsize v = 0; v < G_N_ELEMENTS (variables); v++)
        for (gsize t = 0; t < G_N_ELEMENTS (templates); t++)
          {
            g_autofree char *placeholder = g_strdup_printf ("{%s}", variables[v]);
            g_auto(GStrv) parts = g_strsplit (templates[t], "{X}", -1);
            g_autofree char *tmpl = g_strjoinv (placeholder, parts);
            LtTemplateVars vars = ref_vars ();
            g_autoptr(GError) error = NULL;
            g_autoptr(GError) error2 = NULL;
            g_autofree char *key = NULL;
            g_autofree char *key2 = NULL;
            gsize expected_len;
            const char *why;

            if (v == 0)
              vars.domain_name = name;
            else if (v == 1)
              vars.app_name = name;
            else
              vars.stream_name = name;

            /* The length the key must have: the template expanded with a one-byte name,
             * less that byte, plus the escaped name. */
            {
              LtTemplateVars one = vars;
              g_autofree char *base = NULL;

              if (v == 0)
                one.domain_name = "x";
              else if (v == 1)
                one.app_name = "x";
              else
                one.stream_name = "x";
              base = lt_template_expand (tmpl, &one, NULL);
              g_assert_nonnull (base);
              expected_len = strlen (base) - 1 + escaped_len;
            }

            key = lt_template_expand (tmpl, &vars, &error);
            key2 = lt_template_expand (tmpl, &vars, &error2);
            g_assert_cmpstr (key, ==, key2);

            if (key == NULL)
              {
                /* The only acceptable failure: the name makes the key too long. */
                g_assert_error (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_TOO_LONG);
                g_assert_cmpuint (expected_len, >, 1024);
                too_long++;
                continue;
              }

            g_assert_no_error (error);
            why = independent_check (key);
            if (why != NULL)
              g_error ("name %u via %s gives unsafe key (%s): %s", n, tmpl, why, key);
            g_assert_true (lt_object_key_is_safe (key));
            g_assert_cmpuint (strlen (key), <=, 1024);
            g_assert_cmpuint (strlen (key), ==, expected_len);
            g_assert_nonnull (strstr (key, escaped));
            checked++;

            if (v == 2 && t == 3)
              {
                g_assert_false (g_hash_table_contains (keys, key));
                g_hash_table_add (keys, g_strdup (key));
              }
          }
    }

  g_test_message ("%u keys checked, %u refused as too long", checked, too_long);
  g_assert_cmpuint (checked, >=, 500 * 3 * G_N_ELEMENTS (templates) / 2);
  g_assert_cmpuint (too_long, >, 0);
}

int
main (int   argc,
      char *argv[])
{
  lt_test_init (&argc, &argv);

  g_test_add_func ("/template/variables", test_variables);
  g_test_add_func ("/template/time-edges", test_time_edges);
  g_test_add_func ("/template/extension", test_extension);
  g_test_add_func ("/template/check", test_check);
  g_test_add_func ("/template/uses", test_uses);
  g_test_add_func ("/template/escape-segment", test_escape_segment);
  g_test_add_func ("/template/key-is-safe", test_key_is_safe);
  g_test_add_func ("/template/hostile-names", test_hostile_names);

  return g_test_run ();
}
