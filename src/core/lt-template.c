/* lt-template.c: object names from the rule templates of SPEC section 2.
 *
 * Template variables and their formats (all times UTC):
 *   {DomainName} {AppName} {StreamName}  the stream's names, escaped (see below)
 *   {Sequence}          the per-rule file counter, decimal
 *   {UnixTimestamp}     Unix seconds, decimal (for slices: the slice's start)
 *   {EscapedStartTime} {EscapedEndTime}   2006-01-02-15-04-05 (the cloud's format)
 *   {StartTime} {EndTime}   ISO 8601 basic format, 20060102T150405Z. The cloud uses
 *       2006-01-02-15:04:05 here, but ':' is forbidden in file names on FAT/exFAT/NTFS
 *       (a local folder target may well be a USB disk or an SMB share) and means a
 *       drive or stream name to Windows tools; the basic ISO form is standard, sorts
 *       correctly and is safe on every file system and in URLs.
 *   {Date}  2006-01-02     {Hour} {Minute} {Second}  two digits, of the start time
 *
 * Escaping of untrusted values (domain, app and stream names arrive from publishers) is a
 * percent-encoding of the UTF-8 bytes of what must not appear literally:
 *   - '%' itself (so the encoding decodes unambiguously, which makes it injective),
 *   - '/', '\\', C0 controls and DEL,
 *   - the characters Windows file systems reject (" * : < > ? |),
 *   - bytes that are not valid UTF-8 (including overlong forms such as C0 AE for '.'),
 *   - non-ASCII code points that a downstream normaliser could turn into something we
 *     escape (their NFKC form contains '/', '.', '\\', '%', a control or one of the
 *     characters above: U+2024, U+FF0E, U+FF0F, U+FF3C, U+FF05, …), code points that
 *     are invisible or reorder text (bidi controls, zero-width and other format or
 *     default-ignorable characters, separators), unassigned and private-use code points
 *     (their future normalisation is unknown), and a short list of slash and full-stop
 *     look-alikes that NFKC leaves alone (U+2215 DIVISION SLASH, U+2044 FRACTION SLASH,
 *     U+3002 IDEOGRAPHIC FULL STOP, …).
 * Other non-ASCII text (Chinese, accented Latin, …) stays readable: operators name
 * streams in their own language and want to recognise them in a bucket listing.
 *
 * A value that is empty or, once NFKC-normalised with invisible characters dropped,
 * consists only of full stops ("", ".", "..", "．．", ".\u200B.") would be a dangerous
 * segment even after one round of percent-decoding. Such a value is escaped completely
 * and gets the suffix "%5F": "" → "%5F", "." → "%2E%5F", ".." → "%2E%2E%5F". Ordinary
 * values never contain the triplets %2E or %5F ('.' and '_' are otherwise kept), so the
 * marked form cannot collide with anything else and the mapping stays injective; decoded
 * once it reads "_", "._", ".._", never ".", ".." or "".
 *
 * Keys longer than LT_OBJECT_KEY_MAX_BYTES are refused with LT_TEMPLATE_ERROR_TOO_LONG,
 * never truncated: a truncated key could silently collide with another stream's key, and
 * a name that long is abuse, not a stream anyone wants recorded under a mangled name.
 *
 * Keys may therefore contain '%', ' ', '#', non-ASCII text: whoever puts a key into a URL
 * (a playlist, a RecordUrl, an S3 request) must percent-encode it for that URL.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lt-template.h"

G_DEFINE_QUARK (lt-template-error-quark, lt_template_error)

typedef enum
{
  VAR_DOMAIN_NAME,
  VAR_APP_NAME,
  VAR_STREAM_NAME,
  VAR_SEQUENCE,
  VAR_UNIX_TIMESTAMP,
  VAR_START_TIME,
  VAR_END_TIME,
  VAR_ESCAPED_START_TIME,
  VAR_ESCAPED_END_TIME,
  VAR_DATE,
  VAR_HOUR,
  VAR_MINUTE,
  VAR_SECOND,
  N_VARS
} Var;

static const char * const var_names[N_VARS] = {
  [VAR_DOMAIN_NAME] = "DomainName",
  [VAR_APP_NAME] = "AppName",
  [VAR_STREAM_NAME] = "StreamName",
  [VAR_SEQUENCE] = "Sequence",
  [VAR_UNIX_TIMESTAMP] = "UnixTimestamp",
  [VAR_START_TIME] = "StartTime",
  [VAR_END_TIME] = "EndTime",
  [VAR_ESCAPED_START_TIME] = "EscapedStartTime",
  [VAR_ESCAPED_END_TIME] = "EscapedEndTime",
  [VAR_DATE] = "Date",
  [VAR_HOUR] = "Hour",
  [VAR_MINUTE] = "Minute",
  [VAR_SECOND] = "Second",
};

/* A template is a sequence of literal runs and variables. */
typedef struct
{
  int         var;     /* -1 for a literal */
  const char *start;   /* literal text (not NUL-terminated) */
  gsize       len;
} Token;

static int
lookup_var (const char *name,
            gsize       len)
{
  for (int i = 0; i < N_VARS; i++)
    if (strlen (var_names[i]) == len && memcmp (var_names[i], name, len) == 0)
      return i;
  return -1;
}

/* ---- character classes ------------------------------------------------------------ */

/* ASCII bytes that are never written literally. */
static gboolean
ascii_needs_escape (guchar c)
{
  if (c < 0x20 || c == 0x7f)
    return TRUE;
  return strchr ("%/\\\"*:<>?|", c) != NULL;
}

/* Unicode Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters that
 * some normalisers (NFKC_Casefold, IDNA) delete outright, so ".\u034F." could become "..". */
static gboolean
is_default_ignorable (gunichar c)
{
  static const struct { gunichar lo, hi; } ranges[] = {
    { 0x00AD, 0x00AD }, { 0x034F, 0x034F }, { 0x061C, 0x061C }, { 0x115F, 0x1160 },
    { 0x17B4, 0x17B5 }, { 0x180B, 0x180F }, { 0x200B, 0x200F }, { 0x202A, 0x202E },
    { 0x2060, 0x206F }, { 0x3164, 0x3164 }, { 0xFE00, 0xFE0F }, { 0xFEFF, 0xFEFF },
    { 0xFFA0, 0xFFA0 }, { 0xFFF0, 0xFFF8 }, { 0x1BCA0, 0x1BCA3 }, { 0x1D173, 0x1D17A },
    { 0xE0000, 0xE0FFF },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (ranges); i++)
    if (c >= ranges[i].lo && c <= ranges[i].hi)
      return TRUE;
  return FALSE;
}

/* Slash, backslash and full-stop look-alikes that NFKC does not map to ASCII. Not
 * exhaustive (no such list can be); the guarantee against normalisers is the NFKC
 * check, this list keeps the obvious visual spoofs out of keys as well. */
static gboolean
is_lookalike (gunichar c)
{
  static const gunichar chars[] = {
    0x0337, 0x0338, 0x0589, 0x06D4, 0x0701, 0x0702, 0x1735, 0x2044, 0x20E5, 0x2215,
    0x2216, 0x2571, 0x2572, 0x27CB, 0x27CD, 0x29F5, 0x29F8, 0x29F9, 0x2E3C, 0x3002,
    0x3033, 0xA4F8, 0xFE12, 0xFF61, 0x10101,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (chars); i++)
    if (chars[i] == c)
      return TRUE;
  return FALSE;
}

/* Whether a non-ASCII code point is dangerous in a key anywhere: a control, an
 * invisible or reordering character, or something a normaliser or a reader could take
 * for a separator or a full stop. */
static gboolean
unichar_is_dangerous (gunichar c)
{
  char buf[8];
  int len;
  g_autofree char *nfkc = NULL;

  switch (g_unichar_type (c))
    {
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:
    case G_UNICODE_SURROGATE:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
      return TRUE;
    default:
      break;
    }

  if (is_default_ignorable (c) || is_lookalike (c))
    return TRUE;

  len = g_unichar_to_utf8 (c, buf);
  nfkc = g_utf8_normalize (buf, len, G_NORMALIZE_NFKC);
  if (nfkc == NULL)
    return TRUE;
  for (const char *p = nfkc; *p != '\0'; p++)
    {
      guchar b = (guchar) *p;

      if (b == '.' || b == '/' || b == '\\' || b < 0x20 || b == 0x7f)
        return TRUE;
    }

  return FALSE;
}

/* Whether a (valid, non-ASCII) code point must not appear literally in an escaped
 * value: the dangerous ones, plus those whose meaning may change with the Unicode
 * version or the font (unassigned, private use, odd spaces) and those that normalise to
 * an ASCII character we escape. */
static gboolean
unichar_needs_escape (gunichar c)
{
  char buf[8];
  int len;
  g_autofree char *nfkc = NULL;

  if (unichar_is_dangerous (c))
    return TRUE;

  switch (g_unichar_type (c))
    {
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_PRIVATE_USE:
    case G_UNICODE_SPACE_SEPARATOR:
      return TRUE;
    default:
      break;
    }

  len = g_unichar_to_utf8 (c, buf);
  nfkc = g_utf8_normalize (buf, len, G_NORMALIZE_NFKC);
  if (nfkc == NULL)
    return TRUE;
  for (const char *p = nfkc; *p != '\0'; p++)
    if (ascii_needs_escape ((guchar) *p))
      return TRUE;

  return FALSE;
}

/* Whether @value (valid UTF-8) is empty or nothing but full stops once normalised the
 * way a downstream tool might (NFKC, invisible characters dropped). */
static gboolean
value_is_dotlike (const char *value)
{
  g_autofree char *nfkc = NULL;

  if (*value == '\0')
    return TRUE;
  if (!g_utf8_validate (value, -1, NULL))
    return FALSE;

  nfkc = g_utf8_normalize (value, -1, G_NORMALIZE_NFKC);
  if (nfkc == NULL)
    return FALSE;

  for (const char *p = nfkc; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '.' || c == 0x3002 || is_default_ignorable (c))
        continue;
      return FALSE;
    }

  return TRUE;
}

static void
append_escaped_byte (GString *out,
                     guchar   b)
{
  g_string_append_printf (out, "%%%02X", b);
}

char *
lt_template_escape_segment (const char *value)
{
  GString *out;
  gboolean dotlike;
  const char *p;

  if (value == NULL)
    value = "";

  out = g_string_sized_new (strlen (value) + 8);
  dotlike = value_is_dotlike (value);

  for (p = value; *p != '\0';)
    {
      guchar b = (guchar) *p;
      gunichar c;
      const char *next;

      if (b < 0x80)
        {
          if (dotlike || ascii_needs_escape (b))
            append_escaped_byte (out, b);
          else
            g_string_append_c (out, (char) b);
          p++;
          continue;
        }

      c = g_utf8_get_char_validated (p, -1);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          /* Not UTF-8: escape this byte alone and resynchronise on the next one. */
          append_escaped_byte (out, b);
          p++;
          continue;
        }

      next = g_utf8_next_char (p);
      if (dotlike || unichar_needs_escape (c))
        {
          for (; p < next; p++)
            append_escaped_byte (out, (guchar) *p);
        }
      else
        {
          g_string_append_len (out, p, next - p);
          p = next;
        }
    }

  if (dotlike)
    g_string_append (out, "%5F");

  return g_string_free (out, FALSE);
}

/* ---- key safety --------------------------------------------------------------------- */

static int
hex_value (char c)
{
  return g_ascii_xdigit_value (c);
}

/* One round of percent-decoding; malformed triplets are kept as they are. */
static char *
percent_decode_once (const char *s,
                     gsize       len)
{
  GString *out = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++)
    {
      if (s[i] == '%' && i + 2 < len && hex_value (s[i + 1]) >= 0 && hex_value (s[i + 2]) >= 0)
        {
          g_string_append_c (out, (char) (hex_value (s[i + 1]) * 16 + hex_value (s[i + 2])));
          i += 2;
        }
      else
        g_string_append_c (out, s[i]);
    }

  return g_string_free (out, FALSE);
}

static gboolean
segment_is_dot_or_dotdot (const char *s,
                          gsize       len)
{
  return (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.');
}

static gboolean
segment_is_safe (const char *s,
                 gsize       len)
{
  g_autofree char *decoded = NULL;

  if (len == 0 || segment_is_dot_or_dotdot (s, len))
    return FALSE;

  decoded = percent_decode_once (s, len);
  if (decoded[0] == '\0' || segment_is_dot_or_dotdot (decoded, strlen (decoded)))
    return FALSE;

  return TRUE;
}

gboolean
lt_object_key_is_safe (const char *key)
{
  const char *p;
  const char *seg;

  if (key == NULL || key[0] == '\0' || key[0] == '/')
    return FALSE;
  if (strlen (key) > LT_OBJECT_KEY_MAX_BYTES)
    return FALSE;
  if (!g_utf8_validate (key, -1, NULL))
    return FALSE;

  for (p = key; *p != '\0'; p = g_utf8_next_char (p))
    {
      guchar b = (guchar) *p;

      if (b < 0x80)
        {
          if (b < 0x20 || b == 0x7f || b == '\\')
            return FALSE;
        }
      else if (unichar_is_dangerous (g_utf8_get_char (p)))
        return FALSE;
    }

  for (seg = key;;)
    {
      const char *slash = strchr (seg, '/');
      gsize len = slash != NULL ? (gsize) (slash - seg) : strlen (seg);

      if (!segment_is_safe (seg, len))
        return FALSE;
      if (slash == NULL)
        break;
      seg = slash + 1;
    }

  return TRUE;
}

/* ---- parsing -------------------------------------------------------------------- */

static gboolean
tokenize (const char  *tmpl,
          GArray      *tokens,
          GError     **error)
{
  const char *p = tmpl;
  const char *lit = tmpl;

  while (*p != '\0')
    {
      if (*p == '{')
        {
          const char *name = p + 1;
          const char *q = name;
          int var;

          while (*q != '\0' && *q != '}' && *q != '{' && *q != '/')
            q++;
          if (*q != '}')
            {
              g_set_error (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_UNBALANCED,
                           _("“{” without a matching “}” at byte %u"),
                           (guint) (p - tmpl));
              return FALSE;
            }

          var = lookup_var (name, q - name);
          if (var < 0)
            {
              g_autofree char *shown = g_utf8_make_valid (name, q - name);

              g_set_error (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_UNKNOWN_VARIABLE,
                           _("{%s} is not a template variable"), shown);
              return FALSE;
            }

          if (p > lit)
            g_array_append_val (tokens, ((Token) { -1, lit, p - lit }));
          g_array_append_val (tokens, ((Token) { var, p, q + 1 - p }));
          p = q + 1;
          lit = p;
        }
      else if (*p == '}')
        {
          g_set_error (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_UNBALANCED,
                       _("“}” without a matching “{” at byte %u"), (guint) (p - tmpl));
          return FALSE;
        }
      else
        p++;
    }

  if (p > lit)
    g_array_append_val (tokens, ((Token) { -1, lit, p - lit }));

  return TRUE;
}

static gboolean
check_literals (const char  *tmpl,
                GArray      *tokens,
                GError     **error)
{
  gboolean segment_has_var = FALSE;
  GString *segment = g_string_new (NULL);
  gboolean ok = FALSE;

  if (!g_utf8_validate (tmpl, -1, NULL))
    {
      g_set_error_literal (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_UNSAFE,
                           _("The template is not valid UTF-8"));
      goto out;
    }
  if (tmpl[0] == '/')
    {
      g_set_error_literal (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_UNSAFE,
                           _("The template must not start with “/”"));
      goto out;
    }

  for (const char *p = tmpl; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
        {
          g_set_error_literal (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_UNSAFE,
                               _("The template contains a control character"));
          goto out;
        }
      if (c == '\\')
        {
          g_set_error_literal (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_UNSAFE,
                               _("The template must not contain “\\”; use “/” between folders"));
          goto out;
        }
      if (c == '%')
        {
          /* Literal escapes in a template could pair with escaped values into new
           * triplets; nothing needs them, so they are not allowed. */
          g_set_error_literal (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_UNSAFE,
                               _("The template must not contain “%”"));
          goto out;
        }
      if (c >= 0x80 && unichar_needs_escape (c))
        {
          g_set_error (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_UNSAFE,
                       _("The template contains the character U+%04X, which is not allowed in "
                         "object names"),
                       (guint) c);
          goto out;
        }
    }

  /* Segment by segment: no empty segment, no literal "." or "..". A segment holding a
   * variable is never empty, "." or "..": values are escaped so they cannot be. */
  for (guint i = 0; i <= tokens->len; i++)
    {
      const Token *t = i < tokens->len ? &g_array_index (tokens, Token, i) : NULL;
      gsize j = 0;

      if (t != NULL && t->var >= 0)
        {
          segment_has_var = TRUE;
          continue;
        }

      for (;;)
        {
          gboolean at_end = t == NULL || j == t->len;
          gboolean at_slash = !at_end && t->start[j] == '/';

          if (at_slash || (at_end && i == tokens->len))
            {
              if (!segment_has_var &&
                  (segment->len == 0 || segment_is_dot_or_dotdot (segment->str, segment->len)))
                {
                  g_set_error_literal (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_UNSAFE,
                                       segment->len == 0
                                       ? _("The template has an empty folder name (“//” or a “/” "
                                           "at the end)")
                                       : _("The template must not contain “.” or “..” as a folder "
                                           "name"));
                  goto out;
                }
              g_string_truncate (segment, 0);
              segment_has_var = FALSE;
            }
          if (at_end)
            break;
          if (!at_slash)
            g_string_append_c (segment, t->start[j]);
          j++;
        }
    }

  ok = TRUE;

out:
  g_string_free (segment, TRUE);
  return ok;
}

static GArray *
parse (const char  *tmpl,
       GError     **error)
{
  g_autoptr(GArray) tokens = g_array_new (FALSE, FALSE, sizeof (Token));

  if (tmpl[0] == '\0')
    {
      g_set_error_literal (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_FAILED,
                           _("The template is empty"));
      return NULL;
    }
  if (strlen (tmpl) > LT_OBJECT_KEY_MAX_BYTES)
    {
      g_set_error (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_TOO_LONG,
                   _("The template is longer than %u bytes"), LT_OBJECT_KEY_MAX_BYTES);
      return NULL;
    }
  if (!g_utf8_validate (tmpl, -1, NULL))
    {
      g_set_error_literal (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_UNSAFE,
                           _("The template is not valid UTF-8"));
      return NULL;
    }
  if (!tokenize (tmpl, tokens, error) || !check_literals (tmpl, tokens, error))
    return NULL;

  return g_steal_pointer (&tokens);
}

gboolean
lt_template_check (const char  *tmpl,
                   GError     **error)
{
  g_autoptr(GArray) tokens = NULL;

  g_return_val_if_fail (tmpl != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  tokens = parse (tmpl, error);
  return tokens != NULL;
}

gboolean
lt_template_uses (const char *tmpl,
                  const char *name)
{
  g_autoptr(GArray) tokens = g_array_new (FALSE, FALSE, sizeof (Token));

  g_return_val_if_fail (tmpl != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  /* A template with a syntax error uses nothing: callers check syntax separately. */
  if (!tokenize (tmpl, tokens, NULL))
    return FALSE;

  for (guint i = 0; i < tokens->len; i++)
    {
      const Token *t = &g_array_index (tokens, Token, i);

      if (t->var >= 0 && g_str_equal (var_names[t->var], name))
        return TRUE;
    }

  return FALSE;
}

/* ---- expansion -------------------------------------------------------------------- */

static void
set_time_error (GError **error,
                gint64   unix_time)
{
  /* The number is formatted first: a G_GINT64_FORMAT inside _() is invisible to xgettext. */
  g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, unix_time);

  g_set_error (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_FAILED,
               _("The time %s is out of range"), number);
}

static GDateTime *
utc_time (gint64   unix_time,
          GError **error)
{
  GDateTime *dt = g_date_time_new_from_unix_utc (unix_time);

  if (dt == NULL)
    set_time_error (error, unix_time);
  return dt;
}

static gboolean
append_var (GString              *out,
            Var                   var,
            const LtTemplateVars *vars,
            GError              **error)
{
  g_autoptr(GDateTime) dt = NULL;
  g_autofree char *text = NULL;
  const char *name = NULL;
  const char *fmt = NULL;
  gint64 when = vars->start_time;

  switch (var)
    {
    case VAR_DOMAIN_NAME:
      name = vars->domain_name;
      break;
    case VAR_APP_NAME:
      name = vars->app_name;
      break;
    case VAR_STREAM_NAME:
      name = vars->stream_name;
      break;
    case VAR_SEQUENCE:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT, vars->sequence);
      return TRUE;
    case VAR_UNIX_TIMESTAMP:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, vars->unix_timestamp);
      return TRUE;
    case VAR_START_TIME:
      fmt = "%Y%m%dT%H%M%SZ";
      break;
    case VAR_END_TIME:
      fmt = "%Y%m%dT%H%M%SZ";
      when = vars->end_time;
      break;
    case VAR_ESCAPED_START_TIME:
      fmt = "%Y-%m-%d-%H-%M-%S";
      break;
    case VAR_ESCAPED_END_TIME:
      fmt = "%Y-%m-%d-%H-%M-%S";
      when = vars->end_time;
      break;
    case VAR_DATE:
      fmt = "%Y-%m-%d";
      break;
    case VAR_HOUR:
      fmt = "%H";
      break;
    case VAR_MINUTE:
      fmt = "%M";
      break;
    case VAR_SECOND:
      fmt = "%S";
      break;
    case N_VARS:
    default:
      g_assert_not_reached ();
    }

  if (fmt == NULL)
    {
      text = lt_template_escape_segment (name);
      g_string_append (out, text);
      return TRUE;
    }

  dt = utc_time (when, error);
  if (dt == NULL)
    return FALSE;
  /* Four-digit years only: anything else is not a time a recording has. */
  if (g_date_time_get_year (dt) > 9999)
    {
      set_time_error (error, when);
      return FALSE;
    }
  text = g_date_time_format (dt, fmt);
  g_string_append (out, text);
  return TRUE;
}

char *
lt_template_expand_with_extension (const char           *tmpl,
                                   const LtTemplateVars *vars,
                                   const char           *extension,
                                   GError              **error)
{
  g_autoptr(GArray) tokens = NULL;
  g_autoptr(GString) out = NULL;

  g_return_val_if_fail (tmpl != NULL, NULL);
  g_return_val_if_fail (vars != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  tokens = parse (tmpl, error);
  if (tokens == NULL)
    return NULL;

  out = g_string_sized_new (256);
  for (guint i = 0; i < tokens->len; i++)
    {
      const Token *t = &g_array_index (tokens, Token, i);

      if (t->var < 0)
        g_string_append_len (out, t->start, t->len);
      else if (!append_var (out, t->var, vars, error))
        return NULL;

      /* Stop early on absurd names instead of building megabytes first. */
      if (out->len > LT_OBJECT_KEY_MAX_BYTES)
        break;
    }

  if (extension != NULL)
    g_string_append (out, extension);

  if (out->len > LT_OBJECT_KEY_MAX_BYTES)
    {
      g_set_error (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_TOO_LONG,
                   _("The object name would be longer than %u bytes"),
                   LT_OBJECT_KEY_MAX_BYTES);
      return NULL;
    }

  if (!lt_object_key_is_safe (out->str))
    {
      g_set_error_literal (error, LT_TEMPLATE_ERROR, LT_TEMPLATE_ERROR_UNSAFE,
                           _("The object name would not be safe inside a bucket"));
      return NULL;
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
lt_template_expand (const char           *tmpl,
                    const LtTemplateVars *vars,
                    GError              **error)
{
  return lt_template_expand_with_extension (tmpl, vars, NULL, error);
}
