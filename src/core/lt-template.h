/* lt-template.h: object names from the rule templates of SPEC section 2.
 *
 * Every value that comes from a publisher (domain, app and stream names) is hostile: an
 * expansion never yields an empty, "." or ".." segment, an absolute path, a backslash, a
 * control character or a key over LT_OBJECT_KEY_MAX_BYTES. Such values are escaped
 * deterministically (the same input always gives the same key) and the finished key is
 * checked once more before it is returned.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LT_TEMPLATE_ERROR (lt_template_error_quark ())

typedef enum
{
  LT_TEMPLATE_ERROR_FAILED,
  LT_TEMPLATE_ERROR_UNKNOWN_VARIABLE,  /* "{Foo}" is not a template variable */
  LT_TEMPLATE_ERROR_UNBALANCED,        /* a "{" without "}" or the other way round */
  LT_TEMPLATE_ERROR_UNSAFE,            /* the result could leave the bucket */
  LT_TEMPLATE_ERROR_TOO_LONG,          /* over LT_OBJECT_KEY_MAX_BYTES */
} LtTemplateError;

GQuark lt_template_error_quark (void);

#define LT_OBJECT_KEY_MAX_BYTES 1024

typedef struct
{
  const char *domain_name;
  const char *app_name;
  const char *stream_name;
  guint64     sequence;
  gint64      start_time;  /* Unix seconds, UTC */
  gint64      end_time;    /* Unix seconds, UTC */
  gint64      unix_timestamp; /* {UnixTimestamp}; for slices their start */
} LtTemplateVars;

/* Checks a template's syntax: balanced braces and known variables only. */
gboolean lt_template_check          (const char   *tmpl,
                                     GError      **error);
/* Whether the template uses variable @name (without braces, e.g. "EscapedStartTime"). */
gboolean lt_template_uses           (const char   *tmpl,
                                     const char   *name);
/* Variable formats (UTC): {EscapedStartTime}/{EscapedEndTime} 2006-01-02-15-04-05,
 * {StartTime}/{EndTime} 20060102T150405Z (no ':', which FAT/NTFS reject), {Date}
 * 2006-01-02, {Hour}/{Minute}/{Second} two digits of the start, {Sequence} and
 * {UnixTimestamp} decimal. Names are escaped with lt_template_escape_segment(). Keys are
 * never truncated: over LT_OBJECT_KEY_MAX_BYTES is LT_TEMPLATE_ERROR_TOO_LONG. A key may
 * contain '%', spaces and non-ASCII text: percent-encode it when putting it in a URL.
 *
 * Expands @tmpl into an object key (no extension). Values are escaped so each stays inside
 * one path segment; the result is then checked with lt_object_key_is_safe(). */
char    *lt_template_expand         (const char           *tmpl,
                                     const LtTemplateVars *vars,
                                     GError              **error);
/* lt_template_expand() with @extension (".ts", ".m3u8", …; may be NULL) appended before
 * the length and safety checks, so the finished object name is what is checked. */
char    *lt_template_expand_with_extension (const char           *tmpl,
                                            const LtTemplateVars *vars,
                                            const char           *extension,
                                            GError              **error);
/* Escapes one untrusted value into a single safe path segment: never empty, ".", "..",
 * never contains "/", "\\", NUL or control characters; percent-escapes what it must, so
 * the mapping is injective. */
char    *lt_template_escape_segment (const char   *value);
/* TRUE when @key is relative, has no empty/"."/".." segment (also percent-encoded),
 * no control characters or backslashes, is valid UTF-8 and ≤ LT_OBJECT_KEY_MAX_BYTES. */
gboolean lt_object_key_is_safe      (const char   *key);

G_END_DECLS
