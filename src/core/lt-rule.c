/* lt-rule.c: a recording rule (SPEC section 2) — parsing and validating the
 * AddLiveAppRecordConfig parameters, serialising for the catalog, and matching streams.
 *
 * Decisions where the spec is silent:
 * - Parameters given but empty count as absent for optional values with a default
 *   (StreamName → "*", CycleDuration, SliceDuration, OnDemand, DelayTime, StartTime,
 *   EndTime), because editors send empty fields; a present-but-empty object-name prefix
 *   is MissingOssObjectPrefix / MissingSliceOssObjectPrefix as the cloud does, and an
 *   empty RecordFormat.N.Format is MissingParameter.
 * - StartTime without EndTime (or the other way round) is MissingParameter naming the
 *   missing one: it is not a mismatch between two given values, one is simply absent.
 * - An EndTime already in the past is InvalidEndTime.Mismatch: such a window could never
 *   record anything, which is surely not what the operator meant.
 * - DomainName is a host name and compared case-insensitively, so it is stored in lower
 *   case; "Example.com" and "example.com" are one triplet.
 * - AppName "*" requires StreamName "*": "this stream name in every app" has no place in
 *   the priority order.
 * - Integers are plain decimal digits (leading zeros allowed, no sign, no spaces, no
 *   exponent); anything else gets the code of the parameter, like an out-of-range value.
 * - Unknown top-level parameters are ignored (the API passes Action, Signature, … along);
 *   unknown fields inside RecordFormat.N / TranscodeRecordFormat.N are InvalidParameter.
 * - TranscodeTemplates may be given as TranscodeTemplates.N (as SDKs send it) or as one
 *   comma-separated TranscodeTemplates value; templates and TranscodeRecordFormat need
 *   each other (MissingParameter otherwise).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "lt-rule.h"
#include "lt-template.h"

G_DEFINE_QUARK (lt-rule-error-quark, lt_rule_error)

#define RULE_JSON_VERSION 1
#define NAME_MAX_BYTES 255
#define TRANSCODE_TEMPLATE_MAX_BYTES 64

struct _LtRule
{
  GObject     parent_instance;

  char       *domain_name;
  char       *app_name;
  char       *stream_name;
  char       *oss_endpoint;
  char       *oss_bucket;
  LtOnDemand  on_demand;
  guint       delay_time;
  gint64      start_time;
  gint64      end_time;
  gint64      create_time;
  GPtrArray  *formats;             /* LtRecordFormat */
  GStrv       transcode_templates; /* never NULL */
  GPtrArray  *transcode_formats;   /* LtRecordFormat */
};

G_DEFINE_FINAL_TYPE (LtRule, lt_rule, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_DOMAIN_NAME,
  PROP_APP_NAME,
  PROP_STREAM_NAME,
  PROP_OSS_ENDPOINT,
  PROP_OSS_BUCKET,
  PROP_ON_DEMAND,
  PROP_DELAY_TIME,
  PROP_START_TIME,
  PROP_END_TIME,
  PROP_CREATE_TIME,
  PROP_EXCLUSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---- error codes ------------------------------------------------------------------ */

static const struct
{
  const char *name;
  guint       status;
} error_codes[] = {
  [LT_RULE_ERROR_FAILED] = { "InternalError", 500 },
  [LT_RULE_ERROR_MISSING_PARAMETER] = { "MissingParameter", 400 },
  [LT_RULE_ERROR_INVALID_PARAMETER] = { "InvalidParameter", 400 },
  [LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED] = { "InvalidOssEndpoint.Malformed", 400 },
  [LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED] = { "InvalidOssBucket.Malformed", 400 },
  [LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND] = { "InvalidOssBucket.NotFound", 400 },
  [LT_RULE_ERROR_INVALID_FORMAT_MALFORMED] = { "InvalidFormat.Malformed", 400 },
  [LT_RULE_ERROR_INVALID_FORMAT_ILLEGAL_OPERATION] = { "InvalidFormat.IllegalOperation", 400 },
  [LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED] = { "InvalidCycleDuration.Malformed", 400 },
  [LT_RULE_ERROR_INVALID_SLICE_DURATION_MALFORMED] = { "InvalidSliceDuration.Malformed", 400 },
  [LT_RULE_ERROR_MISSING_OSS_OBJECT_PREFIX] = { "MissingOssObjectPrefix", 400 },
  [LT_RULE_ERROR_MISSING_SLICE_OSS_OBJECT_PREFIX] = { "MissingSliceOssObjectPrefix", 400 },
  [LT_RULE_ERROR_INVALID_OSS_OBJECT_PREFIX_MALFORMED] = { "InvalidOssObjectPrefix.Malformed", 400 },
  [LT_RULE_ERROR_INVALID_SLICE_OSS_OBJECT_PREFIX_MALFORMED] =
    { "InvalidSliceOssObjectPrefix.Malformed", 400 },
  [LT_RULE_ERROR_CONFIG_ALREADY_EXISTS] = { "ConfigAlreadyExists", 400 },
  [LT_RULE_ERROR_CONFIG_NOT_FOUND] = { "InvalidConfig.NotFound", 404 },
  [LT_RULE_ERROR_INVALID_DELAY_TIME] = { "InvalidDelayTime", 400 },
  [LT_RULE_ERROR_INVALID_START_TIME_MALFORMED] = { "InvalidStartTime.Malformed", 400 },
  [LT_RULE_ERROR_INVALID_END_TIME_MALFORMED] = { "InvalidEndTime.Malformed", 400 },
  [LT_RULE_ERROR_INVALID_START_TIME_MISMATCH] = { "InvalidStartTime.Mismatch", 400 },
  [LT_RULE_ERROR_INVALID_END_TIME_MISMATCH] = { "InvalidEndTime.Mismatch", 400 },
};

const char *
lt_rule_error_code_name (LtRuleError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_codes) || error_codes[code].name == NULL)
    return error_codes[LT_RULE_ERROR_FAILED].name;
  return error_codes[code].name;
}

guint
lt_rule_error_http_status (LtRuleError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_codes) || error_codes[code].name == NULL)
    return error_codes[LT_RULE_ERROR_FAILED].status;
  return error_codes[code].status;
}

/* ---- record formats ----------------------------------------------------------- */

static const char * const format_names[LT_RECORD_FORMAT_KIND_COUNT] = {
  [LT_RECORD_FORMAT_M3U8] = "m3u8",
  [LT_RECORD_FORMAT_MP4] = "mp4",
  [LT_RECORD_FORMAT_FLV] = "flv",
  [LT_RECORD_FORMAT_CMAF] = "cmaf",
};

const char *
lt_record_format_kind_to_string (LtRecordFormatKind kind)
{
  g_return_val_if_fail ((guint) kind < LT_RECORD_FORMAT_KIND_COUNT, NULL);
  return format_names[kind];
}

gboolean
lt_record_format_kind_from_string (const char         *str,
                                   LtRecordFormatKind *kind)
{
  if (str == NULL)
    return FALSE;

  for (guint i = 0; i < LT_RECORD_FORMAT_KIND_COUNT; i++)
    if (g_ascii_strcasecmp (str, format_names[i]) == 0)
      {
        if (kind != NULL)
          *kind = i;
        return TRUE;
      }

  return FALSE;
}

gboolean
lt_record_format_kind_is_sliced (LtRecordFormatKind kind)
{
  return kind == LT_RECORD_FORMAT_M3U8 || kind == LT_RECORD_FORMAT_CMAF;
}

LtRecordFormat *
lt_record_format_copy (const LtRecordFormat *format)
{
  LtRecordFormat *copy;

  g_return_val_if_fail (format != NULL, NULL);

  copy = g_new0 (LtRecordFormat, 1);
  copy->kind = format->kind;
  copy->cycle_duration = format->cycle_duration;
  copy->slice_duration = format->slice_duration;
  copy->object_prefix = g_strdup (format->object_prefix);
  copy->slice_object_prefix = g_strdup (format->slice_object_prefix);
  return copy;
}

void
lt_record_format_free (LtRecordFormat *format)
{
  if (format == NULL)
    return;
  g_free (format->object_prefix);
  g_free (format->slice_object_prefix);
  g_free (format);
}

G_DEFINE_BOXED_TYPE (LtRecordFormat, lt_record_format, lt_record_format_copy, lt_record_format_free)

/* ---- GObject ------------------------------------------------------------------ */

static void
lt_rule_finalize (GObject *object)
{
  LtRule *self = LT_RULE (object);

  g_free (self->domain_name);
  g_free (self->app_name);
  g_free (self->stream_name);
  g_free (self->oss_endpoint);
  g_free (self->oss_bucket);
  g_clear_pointer (&self->formats, g_ptr_array_unref);
  g_clear_pointer (&self->transcode_templates, g_strfreev);
  g_clear_pointer (&self->transcode_formats, g_ptr_array_unref);

  G_OBJECT_CLASS (lt_rule_parent_class)->finalize (object);
}

static void
lt_rule_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  LtRule *self = LT_RULE (object);

  switch (prop_id)
    {
    case PROP_DOMAIN_NAME:
      g_value_set_string (value, self->domain_name);
      break;
    case PROP_APP_NAME:
      g_value_set_string (value, self->app_name);
      break;
    case PROP_STREAM_NAME:
      g_value_set_string (value, self->stream_name);
      break;
    case PROP_OSS_ENDPOINT:
      g_value_set_string (value, self->oss_endpoint);
      break;
    case PROP_OSS_BUCKET:
      g_value_set_string (value, self->oss_bucket);
      break;
    case PROP_ON_DEMAND:
      g_value_set_int (value, self->on_demand);
      break;
    case PROP_DELAY_TIME:
      g_value_set_uint (value, self->delay_time);
      break;
    case PROP_START_TIME:
      g_value_set_int64 (value, self->start_time);
      break;
    case PROP_END_TIME:
      g_value_set_int64 (value, self->end_time);
      break;
    case PROP_CREATE_TIME:
      g_value_set_int64 (value, self->create_time);
      break;
    case PROP_EXCLUSION:
      g_value_set_boolean (value, lt_rule_is_exclusion (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_rule_class_init (LtRuleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = lt_rule_finalize;
  object_class->get_property = lt_rule_get_property;

  properties[PROP_DOMAIN_NAME] = g_param_spec_string ("domain-name", NULL, NULL, NULL, flags);
  properties[PROP_APP_NAME] = g_param_spec_string ("app-name", NULL, NULL, NULL, flags);
  properties[PROP_STREAM_NAME] = g_param_spec_string ("stream-name", NULL, NULL, NULL, flags);
  properties[PROP_OSS_ENDPOINT] = g_param_spec_string ("oss-endpoint", NULL, NULL, NULL, flags);
  properties[PROP_OSS_BUCKET] = g_param_spec_string ("oss-bucket", NULL, NULL, NULL, flags);
  properties[PROP_ON_DEMAND] = g_param_spec_int ("on-demand", NULL, NULL,
                                                 0, 7, 0, flags);
  properties[PROP_DELAY_TIME] = g_param_spec_uint ("delay-time", NULL, NULL,
                                                   LT_RULE_DELAY_MIN, LT_RULE_DELAY_MAX,
                                                   LT_RULE_DELAY_DEFAULT, flags);
  properties[PROP_START_TIME] = g_param_spec_int64 ("start-time", NULL, NULL,
                                                    G_MININT64, G_MAXINT64, 0, flags);
  properties[PROP_END_TIME] = g_param_spec_int64 ("end-time", NULL, NULL,
                                                  G_MININT64, G_MAXINT64, 0, flags);
  properties[PROP_CREATE_TIME] = g_param_spec_int64 ("create-time", NULL, NULL,
                                                     G_MININT64, G_MAXINT64, 0, flags);
  properties[PROP_EXCLUSION] = g_param_spec_boolean ("exclusion", NULL, NULL, FALSE, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lt_rule_init (LtRule *self)
{
  self->formats = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_record_format_free);
  self->transcode_formats = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_record_format_free);
  self->delay_time = LT_RULE_DELAY_DEFAULT;
}

/* ---- value checks --------------------------------------------------------------- */

/* Plain decimal digits only: no sign, no spaces, no exponent, no overflow. */
static gboolean
parse_uint (const char *str,
            guint      *out)
{
  guint64 value = 0;

  if (str == NULL || *str == '\0')
    return FALSE;

  for (const char *p = str; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
      value = value * 10 + (guint64) (*p - '0');
      if (value > G_MAXUINT32)
        return FALSE;
    }

  *out = (guint) value;
  return TRUE;
}

static gboolean
is_empty (const char *str)
{
  return str == NULL || *str == '\0';
}

static gboolean
is_dns_label (const char *s,
              gsize       len,
              gboolean    allow_upper)
{
  if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = s[i];

      if (!(g_ascii_islower (c) || g_ascii_isdigit (c) || c == '-' ||
            (allow_upper && g_ascii_isupper (c))))
        return FALSE;
    }
  return TRUE;
}

static gboolean
is_all_digits (const char *s,
               gsize       len)
{
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* Dotted-quad IPv4 only, each part 0–255. */
static gboolean
is_ipv4 (const char *s,
         gsize       len)
{
  guint parts = 0;
  gsize i = 0;

  while (i <= len)
    {
      gsize start = i;
      guint value = 0;

      while (i < len && g_ascii_isdigit (s[i]))
        {
          value = value * 10 + (guint) (s[i] - '0');
          if (i - start >= 3 || value > 255)
            return FALSE;
          i++;
        }
      if (i == start)
        return FALSE;
      parts++;
      if (i == len)
        break;
      if (s[i] != '.')
        return FALSE;
      i++;
    }

  return parts == 4;
}

/* A DNS host name: dot-separated LDH labels, ≤ 253 bytes, the last label not all
 * digits (that would be an IP address, which is not a host name). */
static gboolean
is_host_name (const char *s,
              gsize       len,
              gboolean    allow_upper)
{
  gsize start = 0;

  if (len == 0 || len > 253)
    return FALSE;

  for (gsize i = 0; i <= len; i++)
    {
      if (i == len || s[i] == '.')
        {
          if (!is_dns_label (s + start, i - start, allow_upper))
            return FALSE;
          if (i == len && is_all_digits (s + start, i - start))
            return FALSE;
          start = i + 1;
        }
    }

  return TRUE;
}

static gboolean
is_target_name (const char *s)
{
  gsize len = strlen (s);

  if (len == 0 || len > 63 || !(g_ascii_islower (s[0]) || g_ascii_isdigit (s[0])))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!(g_ascii_islower (s[i]) || g_ascii_isdigit (s[i]) || s[i] == '-'))
      return FALSE;
  return TRUE;
}

static gboolean
is_port (const char *s)
{
  guint port;

  return parse_uint (s, &port) && port >= 1 && port <= 65535;
}

/* "local", a storage target name, or host[:port] with host a DNS name, an IPv4
 * address or a bracketed IPv6 address. No scheme, no path. */
static gboolean
is_valid_endpoint (const char *s)
{
  const char *colon;
  gsize host_len;

  if (g_str_equal (s, "local") || is_target_name (s))
    return TRUE;

  if (s[0] == '[')
    {
      const char *close = strchr (s, ']');
      g_autofree char *inner = NULL;

      if (close == NULL || close == s + 1)
        return FALSE;
      inner = g_strndup (s + 1, close - s - 1);
      if (strchr (inner, ':') == NULL || !g_hostname_is_ip_address (inner))
        return FALSE;
      if (close[1] == '\0')
        return TRUE;
      return close[1] == ':' && is_port (close + 2);
    }

  colon = strchr (s, ':');
  if (colon != NULL)
    {
      if (strchr (colon + 1, ':') != NULL || !is_port (colon + 1))
        return FALSE;
      host_len = colon - s;
    }
  else
    host_len = strlen (s);

  return is_ipv4 (s, host_len) || is_host_name (s, host_len, TRUE);
}

/* The S3 bucket naming rules. */
static gboolean
is_valid_bucket (const char *s)
{
  gsize len = strlen (s);

  if (len < 3 || len > 63)
    return FALSE;
  if (!(g_ascii_islower (s[0]) || g_ascii_isdigit (s[0])) ||
      !(g_ascii_islower (s[len - 1]) || g_ascii_isdigit (s[len - 1])))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!(g_ascii_islower (s[i]) || g_ascii_isdigit (s[i]) || s[i] == '.' || s[i] == '-'))
      return FALSE;
  if (strstr (s, "..") != NULL || strstr (s, ".-") != NULL || strstr (s, "-.") != NULL)
    return FALSE;
  if (is_ipv4 (s, len))
    return FALSE;
  return TRUE;
}

/* AppName / StreamName: publisher names are hostile, but here only sanity is checked;
 * escaping for object names is lt-template's job. */
static gboolean
check_name (const char  *param,
            const char  *value,
            GError     **error)
{
  if (strlen (value) > NAME_MAX_BYTES)
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_PARAMETER,
                   /* Translators: %s is a parameter name (AppName, StreamName) */
                   _("%s must be at most %u bytes long"), param, NAME_MAX_BYTES);
      return FALSE;
    }
  if (!g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_PARAMETER,
                   _("%s is not valid UTF-8 text"), param);
      return FALSE;
    }
  for (const char *p = value; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
        {
          g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_PARAMETER,
                       _("%s must not contain control characters"), param);
          return FALSE;
        }
    }
  if (!g_str_equal (value, "*") && strchr (value, '*') != NULL)
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_PARAMETER,
                   _("%s must be * (every name) or a name without *"), param);
      return FALSE;
    }
  return TRUE;
}

/* Exactly yyyy-MM-ddTHH:mm:ssZ, a real UTC time. */
static gboolean
parse_utc_time (const char *str,
                gint64     *out)
{
  static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";
  g_autoptr(GDateTime) dt = NULL;
  int year, month, day, hour, minute, second;

  if (strlen (str) != sizeof pattern - 1)
    return FALSE;
  for (gsize i = 0; i < sizeof pattern - 1; i++)
    {
      if (pattern[i] == 'd' ? !g_ascii_isdigit (str[i]) : str[i] != pattern[i])
        return FALSE;
    }

  year = (int) g_ascii_strtoull (str, NULL, 10);
  month = (int) g_ascii_strtoull (str + 5, NULL, 10);
  day = (int) g_ascii_strtoull (str + 8, NULL, 10);
  hour = (int) g_ascii_strtoull (str + 11, NULL, 10);
  minute = (int) g_ascii_strtoull (str + 14, NULL, 10);
  second = (int) g_ascii_strtoull (str + 17, NULL, 10);

  if (year < 1 || month < 1 || month > 12 || day < 1 || day > 31 ||
      hour > 23 || minute > 59 || second > 59)
    return FALSE;
  if (day > g_date_get_days_in_month (month, year))
    return FALSE;

  dt = g_date_time_new_utc (year, month, day, hour, minute, second);
  if (dt == NULL)
    return FALSE;

  *out = g_date_time_to_unix (dt);
  return TRUE;
}

static char *
format_utc_time (gint64 unix_time)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (unix_time);

  if (dt == NULL)
    return g_strdup ("");
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

/* ---- parameter parsing ------------------------------------------------------------ */

typedef struct
{
  guint       n;
  const char *format;
  const char *cycle_duration;
  const char *slice_duration;
  const char *object_prefix;
  const char *slice_object_prefix;
} FormatParams;

static int
compare_format_params (gconstpointer a,
                       gconstpointer b)
{
  const FormatParams *fa = a;
  const FormatParams *fb = b;

  return fa->n < fb->n ? -1 : fa->n > fb->n;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* "N" of a repeated parameter: 1 or more, plain decimal, no leading zero. */
static gboolean
parse_index (const char *s,
             gsize       len,
             guint      *out)
{
  guint value = 0;

  if (len == 0 || len > 6 || s[0] == '0')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (s[i]))
        return FALSE;
      value = value * 10 + (guint) (s[i] - '0');
    }
  *out = value;
  return TRUE;
}

/* Collects "<group>.N.<Field>" parameters into FormatParams sorted by N (SDKs send
 * N = 1, 2, … but gaps are tolerated). */
static GArray *
collect_formats (GHashTable  *params,
                 const char  *group,
                 const char **sorted_keys,
                 GError     **error)
{
  g_autoptr(GArray) entries = g_array_new (FALSE, TRUE, sizeof (FormatParams));
  gsize group_len = strlen (group);

  for (guint k = 0; sorted_keys[k] != NULL; k++)
    {
      const char *key = sorted_keys[k];
      const char *value = g_hash_table_lookup (params, key);
      const char *rest, *dot, *field;
      FormatParams *entry = NULL;
      guint n;

      if (strncmp (key, group, group_len) != 0 || key[group_len] != '.')
        continue;

      rest = key + group_len + 1;
      dot = strchr (rest, '.');
      if (dot == NULL || !parse_index (rest, dot - rest, &n))
        {
          g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_PARAMETER,
                       _("%s is not a valid parameter: expected %s.N.Field with N = 1, 2, …"),
                       key, group);
          return NULL;
        }
      field = dot + 1;

      for (guint i = 0; i < entries->len; i++)
        if (g_array_index (entries, FormatParams, i).n == n)
          entry = &g_array_index (entries, FormatParams, i);
      if (entry == NULL)
        {
          g_array_append_val (entries, ((FormatParams) { .n = n }));
          entry = &g_array_index (entries, FormatParams, entries->len - 1);
        }

      if (g_str_equal (field, "Format"))
        entry->format = value;
      else if (g_str_equal (field, "CycleDuration"))
        entry->cycle_duration = value;
      else if (g_str_equal (field, "SliceDuration"))
        entry->slice_duration = value;
      else if (g_str_equal (field, "OssObjectPrefix"))
        entry->object_prefix = value;
      else if (g_str_equal (field, "SliceOssObjectPrefix"))
        entry->slice_object_prefix = value;
      else
        {
          g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_PARAMETER,
                       _("%s is not a known parameter"), key);
          return NULL;
        }
    }

  g_array_sort (entries, compare_format_params);
  return g_steal_pointer (&entries);
}

static gboolean
check_prefix (const char   *param,
              const char   *value,
              gboolean      slice,
              GError      **error)
{
  LtRuleError missing = slice ? LT_RULE_ERROR_MISSING_SLICE_OSS_OBJECT_PREFIX
                              : LT_RULE_ERROR_MISSING_OSS_OBJECT_PREFIX;
  LtRuleError malformed = slice ? LT_RULE_ERROR_INVALID_SLICE_OSS_OBJECT_PREFIX_MALFORMED
                                : LT_RULE_ERROR_INVALID_OSS_OBJECT_PREFIX_MALFORMED;
  g_autoptr(GError) local_error = NULL;

  if (*value == '\0')
    {
      g_set_error (error, LT_RULE_ERROR, missing, _("%s must not be empty"), param);
      return FALSE;
    }
  if (strlen (value) > LT_RULE_PREFIX_MAX_BYTES)
    {
      g_set_error (error, LT_RULE_ERROR, malformed,
                   _("%s must be shorter than %u bytes"), param, LT_RULE_PREFIX_MAX_BYTES + 1);
      return FALSE;
    }
  if (!lt_template_check (value, &local_error))
    {
      /* Translators: a parameter name, then the reason it is not a valid object name */
      g_set_error (error, LT_RULE_ERROR, malformed, _("%s: %s"), param, local_error->message);
      return FALSE;
    }

  if (slice)
    {
      if (!lt_template_uses (value, "UnixTimestamp"))
        {
          g_set_error (error, LT_RULE_ERROR, malformed,
                       _("%s must contain {UnixTimestamp}"), param);
          return FALSE;
        }
    }
  else if (!(lt_template_uses (value, "EscapedStartTime") ||
             lt_template_uses (value, "StartTime")) ||
           !(lt_template_uses (value, "EscapedEndTime") ||
             lt_template_uses (value, "EndTime")))
    {
      g_set_error (error, LT_RULE_ERROR, malformed,
                   _("%s must contain {EscapedStartTime} and {EscapedEndTime} (or {StartTime} and "
                     "{EndTime})"),
                   param);
      return FALSE;
    }

  return TRUE;
}

static LtRecordFormat *
parse_format (const char          *group,
              const FormatParams  *fp,
              gboolean             seen[LT_RECORD_FORMAT_KIND_COUNT],
              GError             **error)
{
  g_autoptr(LtRecordFormat) format = g_new0 (LtRecordFormat, 1);
  g_autofree char *param = NULL;
  gboolean sliced;

#define PARAM(field) (g_free (param), param = g_strdup_printf ("%s.%u.%s", group, fp->n, field))

  PARAM ("Format");
  if (is_empty (fp->format))
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_MISSING_PARAMETER,
                   _("%s is required"), param);
      return NULL;
    }
  if (!lt_record_format_kind_from_string (fp->format, &format->kind))
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_FORMAT_MALFORMED,
                   _("%s must be m3u8, mp4, flv or cmaf"), param);
      return NULL;
    }
  if (seen[format->kind])
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_FORMAT_ILLEGAL_OPERATION,
                   /* Translators: %s is a parameter name, then a format (mp4, …) */
                   _("%s: the format %s is given more than once"),
                   param, lt_record_format_kind_to_string (format->kind));
      return NULL;
    }
  seen[format->kind] = TRUE;
  sliced = lt_record_format_kind_is_sliced (format->kind);

  PARAM ("CycleDuration");
  if (is_empty (fp->cycle_duration))
    format->cycle_duration = sliced ? LT_RULE_CYCLE_DEFAULT_SLICED : LT_RULE_CYCLE_DEFAULT_FILE;
  else if (!parse_uint (fp->cycle_duration, &format->cycle_duration) ||
           format->cycle_duration < LT_RULE_CYCLE_MIN ||
           format->cycle_duration > LT_RULE_CYCLE_MAX)
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED,
                   _("%s must be between %u and %u seconds"),
                   param, LT_RULE_CYCLE_MIN, LT_RULE_CYCLE_MAX);
      return NULL;
    }

  PARAM ("SliceDuration");
  if (!sliced)
    {
      if (!is_empty (fp->slice_duration))
        {
          g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_SLICE_DURATION_MALFORMED,
                       _("%s is only allowed for the m3u8 and cmaf formats"), param);
          return NULL;
        }
      format->slice_duration = 0;
    }
  else if (is_empty (fp->slice_duration))
    format->slice_duration = LT_RULE_SLICE_DEFAULT;
  else if (!parse_uint (fp->slice_duration, &format->slice_duration) ||
           format->slice_duration < LT_RULE_SLICE_MIN ||
           format->slice_duration > LT_RULE_SLICE_MAX)
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_SLICE_DURATION_MALFORMED,
                   _("%s must be between %u and %u seconds"),
                   param, LT_RULE_SLICE_MIN, LT_RULE_SLICE_MAX);
      return NULL;
    }

  PARAM ("OssObjectPrefix");
  if (fp->object_prefix == NULL)
    format->object_prefix = g_strdup (LT_RULE_DEFAULT_OBJECT_PREFIX);
  else if (!check_prefix (param, fp->object_prefix, FALSE, error))
    return NULL;
  else
    format->object_prefix = g_strdup (fp->object_prefix);

  PARAM ("SliceOssObjectPrefix");
  if (!sliced)
    {
      if (fp->slice_object_prefix != NULL)
        {
          g_set_error (error, LT_RULE_ERROR,
                       LT_RULE_ERROR_INVALID_SLICE_OSS_OBJECT_PREFIX_MALFORMED,
                       _("%s is only allowed for the m3u8 and cmaf formats"), param);
          return NULL;
        }
    }
  else if (fp->slice_object_prefix == NULL)
    format->slice_object_prefix = g_strdup (LT_RULE_DEFAULT_SLICE_OBJECT_PREFIX);
  else if (!check_prefix (param, fp->slice_object_prefix, TRUE, error))
    return NULL;
  else
    format->slice_object_prefix = g_strdup (fp->slice_object_prefix);

#undef PARAM

  return g_steal_pointer (&format);
}

static GPtrArray *
parse_formats (GHashTable  *params,
               const char  *group,
               const char **sorted_keys,
               GError     **error)
{
  g_autoptr(GArray) entries = NULL;
  g_autoptr(GPtrArray) formats = NULL;
  gboolean seen[LT_RECORD_FORMAT_KIND_COUNT] = { FALSE, };

  entries = collect_formats (params, group, sorted_keys, error);
  if (entries == NULL)
    return NULL;

  formats = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_record_format_free);
  for (guint i = 0; i < entries->len; i++)
    {
      LtRecordFormat *format = parse_format (group, &g_array_index (entries, FormatParams, i),
                                             seen, error);

      if (format == NULL)
        return NULL;
      g_ptr_array_add (formats, format);
    }

  return g_steal_pointer (&formats);
}

static gboolean
is_transcode_template (const char *s)
{
  gsize len = strlen (s);

  if (len == 0 || len > TRANSCODE_TEMPLATE_MAX_BYTES)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!(g_ascii_isalnum (s[i]) || s[i] == '-' || s[i] == '_'))
      return FALSE;
  return TRUE;
}

static gboolean
add_transcode_template (GPtrArray   *templates,
                        const char  *param,
                        const char  *value,
                        GError     **error)
{
  if (!is_transcode_template (value))
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_PARAMETER,
                   _("%s must be a transcoding template name of 1 to %u letters, digits, “-” or "
                     "“_”"),
                   param, TRANSCODE_TEMPLATE_MAX_BYTES);
      return FALSE;
    }
  for (guint i = 0; i < templates->len; i++)
    if (g_str_equal (g_ptr_array_index (templates, i), value))
      {
        g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_PARAMETER,
                     _("%s: the template %s is given more than once"), param, value);
        return FALSE;
      }
  g_ptr_array_add (templates, g_strdup (value));
  return TRUE;
}

static GStrv
parse_transcode_templates (GHashTable  *params,
                           const char **sorted_keys,
                           GError     **error)
{
  g_autoptr(GPtrArray) templates = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) indexed = g_array_new (FALSE, FALSE, sizeof (FormatParams));
  const char *plain = g_hash_table_lookup (params, "TranscodeTemplates");

  if (!is_empty (plain))
    {
      g_auto(GStrv) parts = g_strsplit (plain, ",", -1);

      for (guint i = 0; parts[i] != NULL; i++)
        if (!add_transcode_template (templates, "TranscodeTemplates", g_strstrip (parts[i]), error))
          return NULL;
    }

  /* TranscodeTemplates.N, in N order (reusing FormatParams: n and format = value). */
  for (guint k = 0; sorted_keys[k] != NULL; k++)
    {
      const char *key = sorted_keys[k];
      guint n;

      if (!g_str_has_prefix (key, "TranscodeTemplates."))
        continue;
      if (!parse_index (key + strlen ("TranscodeTemplates."),
                        strlen (key) - strlen ("TranscodeTemplates."), &n))
        {
          g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_PARAMETER,
                       _("%s is not a valid parameter: expected %s.N with N = 1, 2, …"),
                       key, "TranscodeTemplates");
          return NULL;
        }
      g_array_append_val (indexed, ((FormatParams) { .n = n,
                                                     .format = g_hash_table_lookup (params, key),
                                                     .object_prefix = key }));
    }
  g_array_sort (indexed, compare_format_params);
  for (guint i = 0; i < indexed->len; i++)
    {
      const FormatParams *e = &g_array_index (indexed, FormatParams, i);

      if (!add_transcode_template (templates, e->object_prefix, e->format, error))
        return NULL;
    }

  g_ptr_array_add (templates, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&templates), FALSE);
}

static const char *
lookup (GHashTable *params,
        const char *name)
{
  return g_hash_table_lookup (params, name);
}

/* The one validating constructor. @now NULL skips the checks relative to the wall clock
 * (StartTime not too far ahead, EndTime not past): a stored rule stays loadable. */
static LtRule *
rule_new_from_params (GHashTable  *params,
                      GDateTime   *now,
                      GError     **error)
{
  static const char * const required[] = { "DomainName", "AppName", "OssEndpoint", "OssBucket" };
  g_autoptr(LtRule) self = NULL;
  g_autofree const char **keys = NULL;
  const char *value;
  const char *start_str, *end_str;
  guint uvalue;

  for (gsize i = 0; i < G_N_ELEMENTS (required); i++)
    if (is_empty (lookup (params, required[i])))
      {
        g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_MISSING_PARAMETER,
                     _("%s is required"), required[i]);
        return NULL;
      }

  self = g_object_new (LT_TYPE_RULE, NULL);
  keys = (const char **) g_hash_table_get_keys_as_array (params, NULL);
  qsort (keys, g_hash_table_size (params), sizeof (char *), compare_strings);

  /* DomainName */
  value = lookup (params, "DomainName");
  if (!is_host_name (value, strlen (value), TRUE))
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_PARAMETER,
                   _("%s must be a host name such as live.example.com"), "DomainName");
      return NULL;
    }
  self->domain_name = g_ascii_strdown (value, -1);

  /* AppName, StreamName */
  value = lookup (params, "AppName");
  if (!check_name ("AppName", value, error))
    return NULL;
  self->app_name = g_strdup (value);

  value = lookup (params, "StreamName");
  if (is_empty (value))
    value = "*";
  if (!check_name ("StreamName", value, error))
    return NULL;
  if (g_str_equal (self->app_name, "*") && !g_str_equal (value, "*"))
    {
      g_set_error_literal (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_PARAMETER,
                           _("StreamName must be * or absent when AppName is *"));
      return NULL;
    }
  self->stream_name = g_strdup (value);

  /* OssEndpoint, OssBucket */
  value = lookup (params, "OssEndpoint");
  if (!is_valid_endpoint (value))
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED,
                   _("%s must be “local”, the name of a storage target, or a host name with an "
                     "optional port, without scheme or path"),
                   "OssEndpoint");
      return NULL;
    }
  self->oss_endpoint = g_strdup (value);

  value = lookup (params, "OssBucket");
  if (!is_valid_bucket (value))
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED,
                   _("%s must be 3 to 63 lowercase letters, digits, dots or hyphens, start and "
                     "end with a letter or digit, and not look like an IP address"),
                   "OssBucket");
      return NULL;
    }
  self->oss_bucket = g_strdup (value);

  /* RecordFormat.N.*, TranscodeTemplates, TranscodeRecordFormat.N.* */
  g_clear_pointer (&self->formats, g_ptr_array_unref);
  self->formats = parse_formats (params, "RecordFormat", keys, error);
  if (self->formats == NULL)
    return NULL;

  self->transcode_templates = parse_transcode_templates (params, keys, error);
  if (self->transcode_templates == NULL)
    return NULL;

  g_clear_pointer (&self->transcode_formats, g_ptr_array_unref);
  self->transcode_formats = parse_formats (params, "TranscodeRecordFormat", keys, error);
  if (self->transcode_formats == NULL)
    return NULL;

  if (self->transcode_templates[0] != NULL && self->transcode_formats->len == 0)
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_MISSING_PARAMETER,
                   _("%s is required when %s is given"),
                   "TranscodeRecordFormat.1.Format", "TranscodeTemplates");
      return NULL;
    }
  if (self->transcode_templates[0] == NULL && self->transcode_formats->len > 0)
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_MISSING_PARAMETER,
                   _("%s is required when %s is given"),
                   "TranscodeTemplates", "TranscodeRecordFormat");
      return NULL;
    }

  /* OnDemand */
  value = lookup (params, "OnDemand");
  if (is_empty (value))
    self->on_demand = LT_ON_DEMAND_AUTOMATIC;
  else if (parse_uint (value, &uvalue) && (uvalue <= 2 || uvalue == 7))
    self->on_demand = (LtOnDemand) uvalue;
  else
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_PARAMETER,
                   _("%s must be 0, 1, 2 or 7"), "OnDemand");
      return NULL;
    }

  /* DelayTime */
  value = lookup (params, "DelayTime");
  if (is_empty (value))
    self->delay_time = LT_RULE_DELAY_DEFAULT;
  else if (parse_uint (value, &uvalue) &&
           uvalue >= LT_RULE_DELAY_MIN && uvalue <= LT_RULE_DELAY_MAX)
    self->delay_time = uvalue;
  else
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_DELAY_TIME,
                   _("%s must be between %u and %u seconds"),
                   "DelayTime", LT_RULE_DELAY_MIN, LT_RULE_DELAY_MAX);
      return NULL;
    }

  /* StartTime, EndTime: a one-shot window for a stream-level rule. */
  start_str = lookup (params, "StartTime");
  end_str = lookup (params, "EndTime");
  if (!is_empty (start_str) && !parse_utc_time (start_str, &self->start_time))
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_START_TIME_MALFORMED,
                   _("%s must be a UTC time like 2024-05-01T08:00:00Z"), "StartTime");
      return NULL;
    }
  if (!is_empty (end_str) && !parse_utc_time (end_str, &self->end_time))
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_END_TIME_MALFORMED,
                   _("%s must be a UTC time like 2024-05-01T08:00:00Z"), "EndTime");
      return NULL;
    }
  if (!is_empty (start_str) || !is_empty (end_str))
    {
      if (g_str_equal (self->stream_name, "*"))
        {
          g_set_error_literal (error, LT_RULE_ERROR,
                               !is_empty (start_str) ? LT_RULE_ERROR_INVALID_START_TIME_MISMATCH
                                                     : LT_RULE_ERROR_INVALID_END_TIME_MISMATCH,
                               _("StartTime and EndTime are only allowed in a rule for one stream "
                                 "(StreamName set and not *)"));
          return NULL;
        }
      if (is_empty (end_str) || is_empty (start_str))
        {
          g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_MISSING_PARAMETER,
                       _("%s is required when %s is given"),
                       is_empty (end_str) ? "EndTime" : "StartTime",
                       is_empty (end_str) ? "StartTime" : "EndTime");
          return NULL;
        }
      if (self->end_time <= self->start_time)
        {
          g_set_error_literal (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_END_TIME_MISMATCH,
                               _("EndTime must be later than StartTime"));
          return NULL;
        }
      if (self->end_time - self->start_time > LT_RULE_WINDOW_MAX_SECONDS)
        {
          g_set_error_literal (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_END_TIME_MISMATCH,
                               _("EndTime must be at most 7 days after StartTime"));
          return NULL;
        }
      if (now != NULL &&
          self->start_time > g_date_time_to_unix (now) + LT_RULE_START_AHEAD_MAX_SECONDS)
        {
          g_set_error_literal (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_START_TIME_MISMATCH,
                               _("StartTime must be at most 15 days from now"));
          return NULL;
        }
      if (now != NULL && self->end_time <= g_date_time_to_unix (now))
        {
          g_set_error_literal (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_END_TIME_MISMATCH,
                               _("EndTime must be in the future"));
          return NULL;
        }
    }

  self->create_time = now != NULL ? g_date_time_to_unix (now) : 0;

  return g_steal_pointer (&self);
}

LtRule *
lt_rule_new_from_params (GHashTable  *params,
                         GDateTime   *now,
                         GError     **error)
{
  g_autoptr(GDateTime) local_now = NULL;

  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (now == NULL)
    now = local_now = g_date_time_new_now_utc ();

  return rule_new_from_params (params, now, error);
}

/* ---- parameters and JSON ------------------------------------------------------------ */

static void
add_format_params (GHashTable *params,
                   const char *group,
                   GPtrArray  *formats)
{
  for (guint i = 0; i < formats->len; i++)
    {
      const LtRecordFormat *f = g_ptr_array_index (formats, i);
      guint n = i + 1;

      g_hash_table_insert (params, g_strdup_printf ("%s.%u.Format", group, n),
                           g_strdup (lt_record_format_kind_to_string (f->kind)));
      g_hash_table_insert (params, g_strdup_printf ("%s.%u.CycleDuration", group, n),
                           g_strdup_printf ("%u", f->cycle_duration));
      g_hash_table_insert (params, g_strdup_printf ("%s.%u.OssObjectPrefix", group, n),
                           g_strdup (f->object_prefix));
      if (lt_record_format_kind_is_sliced (f->kind))
        {
          g_hash_table_insert (params, g_strdup_printf ("%s.%u.SliceDuration", group, n),
                               g_strdup_printf ("%u", f->slice_duration));
          g_hash_table_insert (params, g_strdup_printf ("%s.%u.SliceOssObjectPrefix", group, n),
                               g_strdup (f->slice_object_prefix));
        }
    }
}

GHashTable *
lt_rule_to_params (LtRule *self)
{
  GHashTable *params;

  g_return_val_if_fail (LT_IS_RULE (self), NULL);

  params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert (params, g_strdup ("DomainName"), g_strdup (self->domain_name));
  g_hash_table_insert (params, g_strdup ("AppName"), g_strdup (self->app_name));
  g_hash_table_insert (params, g_strdup ("StreamName"), g_strdup (self->stream_name));
  g_hash_table_insert (params, g_strdup ("OssEndpoint"), g_strdup (self->oss_endpoint));
  g_hash_table_insert (params, g_strdup ("OssBucket"), g_strdup (self->oss_bucket));
  g_hash_table_insert (params, g_strdup ("OnDemand"), g_strdup_printf ("%d", self->on_demand));
  g_hash_table_insert (params, g_strdup ("DelayTime"), g_strdup_printf ("%u", self->delay_time));
  if (self->start_time != 0 || self->end_time != 0)
    {
      g_hash_table_insert (params, g_strdup ("StartTime"), format_utc_time (self->start_time));
      g_hash_table_insert (params, g_strdup ("EndTime"), format_utc_time (self->end_time));
    }
  add_format_params (params, "RecordFormat", self->formats);
  for (guint i = 0; self->transcode_templates[i] != NULL; i++)
    g_hash_table_insert (params, g_strdup_printf ("TranscodeTemplates.%u", i + 1),
                         g_strdup (self->transcode_templates[i]));
  add_format_params (params, "TranscodeRecordFormat", self->transcode_formats);

  return params;
}

static JsonNode *
formats_to_json (GPtrArray *formats)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_array (builder);
  for (guint i = 0; i < formats->len; i++)
    {
      const LtRecordFormat *f = g_ptr_array_index (formats, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "Format");
      json_builder_add_string_value (builder, lt_record_format_kind_to_string (f->kind));
      json_builder_set_member_name (builder, "CycleDuration");
      json_builder_add_int_value (builder, f->cycle_duration);
      json_builder_set_member_name (builder, "OssObjectPrefix");
      json_builder_add_string_value (builder, f->object_prefix);
      if (lt_record_format_kind_is_sliced (f->kind))
        {
          json_builder_set_member_name (builder, "SliceDuration");
          json_builder_add_int_value (builder, f->slice_duration);
          json_builder_set_member_name (builder, "SliceOssObjectPrefix");
          json_builder_add_string_value (builder, f->slice_object_prefix);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  return json_builder_get_root (builder);
}

JsonNode *
lt_rule_to_json (LtRule *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (LT_IS_RULE (self), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "Version");
  json_builder_add_int_value (builder, RULE_JSON_VERSION);
  json_builder_set_member_name (builder, "DomainName");
  json_builder_add_string_value (builder, self->domain_name);
  json_builder_set_member_name (builder, "AppName");
  json_builder_add_string_value (builder, self->app_name);
  json_builder_set_member_name (builder, "StreamName");
  json_builder_add_string_value (builder, self->stream_name);
  json_builder_set_member_name (builder, "OssEndpoint");
  json_builder_add_string_value (builder, self->oss_endpoint);
  json_builder_set_member_name (builder, "OssBucket");
  json_builder_add_string_value (builder, self->oss_bucket);
  json_builder_set_member_name (builder, "OnDemand");
  json_builder_add_int_value (builder, self->on_demand);
  json_builder_set_member_name (builder, "DelayTime");
  json_builder_add_int_value (builder, self->delay_time);
  json_builder_set_member_name (builder, "StartTime");
  json_builder_add_int_value (builder, self->start_time);
  json_builder_set_member_name (builder, "EndTime");
  json_builder_add_int_value (builder, self->end_time);
  json_builder_set_member_name (builder, "CreateTime");
  json_builder_add_int_value (builder, self->create_time);
  json_builder_set_member_name (builder, "RecordFormat");
  json_builder_add_value (builder, formats_to_json (self->formats));
  json_builder_set_member_name (builder, "TranscodeTemplates");
  json_builder_begin_array (builder);
  for (guint i = 0; self->transcode_templates[i] != NULL; i++)
    json_builder_add_string_value (builder, self->transcode_templates[i]);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "TranscodeRecordFormat");
  json_builder_add_value (builder, formats_to_json (self->transcode_formats));
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static gboolean
json_get_string (JsonObject  *object,
                 const char  *name,
                 const char **out)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
json_get_int (JsonObject *object,
              const char *name,
              gint64     *out)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

static gboolean
json_formats_to_params (JsonObject *object,
                        const char *group,
                        GHashTable *params)
{
  JsonNode *node = json_object_get_member (object, group);
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      JsonObject *f;
      const char *str;
      gint64 num;
      guint n = i + 1;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return FALSE;
      f = json_node_get_object (element);

      if (!json_get_string (f, "Format", &str))
        return FALSE;
      g_hash_table_insert (params, g_strdup_printf ("%s.%u.Format", group, n), g_strdup (str));
      if (!json_get_int (f, "CycleDuration", &num))
        return FALSE;
      g_hash_table_insert (params, g_strdup_printf ("%s.%u.CycleDuration", group, n),
                           g_strdup_printf ("%" G_GINT64_FORMAT, num));
      if (!json_get_string (f, "OssObjectPrefix", &str))
        return FALSE;
      g_hash_table_insert (params, g_strdup_printf ("%s.%u.OssObjectPrefix", group, n),
                           g_strdup (str));
      if (json_get_int (f, "SliceDuration", &num))
        g_hash_table_insert (params, g_strdup_printf ("%s.%u.SliceDuration", group, n),
                             g_strdup_printf ("%" G_GINT64_FORMAT, num));
      if (json_get_string (f, "SliceOssObjectPrefix", &str))
        g_hash_table_insert (params, g_strdup_printf ("%s.%u.SliceOssObjectPrefix", group, n),
                             g_strdup (str));
    }

  return TRUE;
}

LtRule *
lt_rule_new_from_json (JsonNode  *node,
                       GError   **error)
{
  static const char * const strings[] = { "DomainName", "AppName", "StreamName",
                                          "OssEndpoint", "OssBucket" };
  g_autoptr(GHashTable) params = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *object;
  JsonNode *templates;
  LtRule *rule;
  gint64 version, on_demand, delay_time, start_time, end_time, create_time;

  g_return_val_if_fail (node != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    goto malformed;
  object = json_node_get_object (node);

  if (!json_get_int (object, "Version", &version))
    goto malformed;
  if (version != RULE_JSON_VERSION)
    {
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, version);

      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_FAILED,
                   _("The stored rule has version %s, which this version of Livetape does not "
                     "know"),
                   number);
      return NULL;
    }

  params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (gsize i = 0; i < G_N_ELEMENTS (strings); i++)
    {
      const char *str;

      if (!json_get_string (object, strings[i], &str))
        goto malformed;
      g_hash_table_insert (params, g_strdup (strings[i]), g_strdup (str));
    }

  if (!json_get_int (object, "OnDemand", &on_demand) ||
      !json_get_int (object, "DelayTime", &delay_time) ||
      !json_get_int (object, "StartTime", &start_time) ||
      !json_get_int (object, "EndTime", &end_time) ||
      !json_get_int (object, "CreateTime", &create_time))
    goto malformed;
  g_hash_table_insert (params, g_strdup ("OnDemand"),
                       g_strdup_printf ("%" G_GINT64_FORMAT, on_demand));
  g_hash_table_insert (params, g_strdup ("DelayTime"),
                       g_strdup_printf ("%" G_GINT64_FORMAT, delay_time));
  if (start_time != 0 || end_time != 0)
    {
      g_hash_table_insert (params, g_strdup ("StartTime"), format_utc_time (start_time));
      g_hash_table_insert (params, g_strdup ("EndTime"), format_utc_time (end_time));
    }

  if (!json_formats_to_params (object, "RecordFormat", params) ||
      !json_formats_to_params (object, "TranscodeRecordFormat", params))
    goto malformed;

  templates = json_object_get_member (object, "TranscodeTemplates");
  if (templates == NULL || !JSON_NODE_HOLDS_ARRAY (templates))
    goto malformed;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (templates)); i++)
    {
      JsonNode *element = json_array_get_element (json_node_get_array (templates), i);

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
        goto malformed;
      g_hash_table_insert (params, g_strdup_printf ("TranscodeTemplates.%u", i + 1),
                           g_strdup (json_node_get_string (element)));
    }

  /* The same validation as for new rules, minus the checks against the wall clock. */
  rule = rule_new_from_params (params, NULL, &local_error);
  if (rule == NULL)
    {
      g_set_error (error, LT_RULE_ERROR, LT_RULE_ERROR_FAILED,
                   _("The stored rule is not valid: %s"), local_error->message);
      return NULL;
    }
  rule->create_time = create_time;
  return rule;

malformed:
  g_set_error_literal (error, LT_RULE_ERROR, LT_RULE_ERROR_FAILED,
                       _("The stored rule is malformed"));
  return NULL;
}

/* ---- getters ------------------------------------------------------------------ */

const char *
lt_rule_get_domain_name (LtRule *self)
{
  g_return_val_if_fail (LT_IS_RULE (self), NULL);
  return self->domain_name;
}

const char *
lt_rule_get_app_name (LtRule *self)
{
  g_return_val_if_fail (LT_IS_RULE (self), NULL);
  return self->app_name;
}

const char *
lt_rule_get_stream_name (LtRule *self)
{
  g_return_val_if_fail (LT_IS_RULE (self), NULL);
  return self->stream_name;
}

const char *
lt_rule_get_oss_endpoint (LtRule *self)
{
  g_return_val_if_fail (LT_IS_RULE (self), NULL);
  return self->oss_endpoint;
}

const char *
lt_rule_get_oss_bucket (LtRule *self)
{
  g_return_val_if_fail (LT_IS_RULE (self), NULL);
  return self->oss_bucket;
}

LtOnDemand
lt_rule_get_on_demand (LtRule *self)
{
  g_return_val_if_fail (LT_IS_RULE (self), LT_ON_DEMAND_AUTOMATIC);
  return self->on_demand;
}

guint
lt_rule_get_delay_time (LtRule *self)
{
  g_return_val_if_fail (LT_IS_RULE (self), LT_RULE_DELAY_DEFAULT);
  return self->delay_time;
}

gint64
lt_rule_get_start_time (LtRule *self)
{
  g_return_val_if_fail (LT_IS_RULE (self), 0);
  return self->start_time;
}

gint64
lt_rule_get_end_time (LtRule *self)
{
  g_return_val_if_fail (LT_IS_RULE (self), 0);
  return self->end_time;
}

gint64
lt_rule_get_create_time (LtRule *self)
{
  g_return_val_if_fail (LT_IS_RULE (self), 0);
  return self->create_time;
}

void
lt_rule_set_create_time (LtRule *self,
                         gint64  create_time)
{
  g_return_if_fail (LT_IS_RULE (self));

  if (self->create_time == create_time)
    return;
  self->create_time = create_time;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CREATE_TIME]);
}

GPtrArray *
lt_rule_get_formats (LtRule *self)
{
  g_return_val_if_fail (LT_IS_RULE (self), NULL);
  return self->formats;
}

const LtRecordFormat *
lt_rule_get_format (LtRule             *self,
                    LtRecordFormatKind  kind)
{
  g_return_val_if_fail (LT_IS_RULE (self), NULL);

  for (guint i = 0; i < self->formats->len; i++)
    {
      const LtRecordFormat *f = g_ptr_array_index (self->formats, i);

      if (f->kind == kind)
        return f;
    }
  return NULL;
}

const char * const *
lt_rule_get_transcode_templates (LtRule *self)
{
  g_return_val_if_fail (LT_IS_RULE (self), NULL);
  return (const char * const *) self->transcode_templates;
}

GPtrArray *
lt_rule_get_transcode_formats (LtRule *self)
{
  g_return_val_if_fail (LT_IS_RULE (self), NULL);
  return self->transcode_formats;
}

gboolean
lt_rule_is_exclusion (LtRule *self)
{
  g_return_val_if_fail (LT_IS_RULE (self), FALSE);
  return self->formats->len == 0;
}

gboolean
lt_rule_is_active_at (LtRule *self,
                      gint64  now_unix)
{
  g_return_val_if_fail (LT_IS_RULE (self), FALSE);

  if (self->start_time == 0 && self->end_time == 0)
    return TRUE;
  return now_unix >= self->start_time && now_unix < self->end_time;
}

gboolean
lt_rule_same_triplet (LtRule *self,
                      LtRule *other)
{
  g_return_val_if_fail (LT_IS_RULE (self), FALSE);
  g_return_val_if_fail (LT_IS_RULE (other), FALSE);

  return g_str_equal (self->domain_name, other->domain_name) &&
         g_str_equal (self->app_name, other->app_name) &&
         g_str_equal (self->stream_name, other->stream_name);
}

/* ---- matching ------------------------------------------------------------------ */

static gboolean
domain_equal (const char *rule_domain,
              const char *domain)
{
  gsize len = strlen (domain);

  /* "example.com." is the same host as "example.com". */
  if (len > 0 && domain[len - 1] == '.')
    len--;
  return strlen (rule_domain) == len && g_ascii_strncasecmp (rule_domain, domain, len) == 0;
}

LtRule *
lt_rule_match (GListModel       *rules,
               const char       *domain,
               const char       *app,
               const char       *stream,
               LtRuleMatchLevel *level)
{
  LtRule *best = NULL;
  LtRuleMatchLevel best_level = LT_RULE_MATCH_NONE;
  guint n;

  g_return_val_if_fail (G_IS_LIST_MODEL (rules), NULL);
  g_return_val_if_fail (domain != NULL, NULL);
  g_return_val_if_fail (app != NULL, NULL);

  if (is_empty (stream))
    stream = "*";

  n = g_list_model_get_n_items (rules);
  for (guint i = 0; i < n && best_level != LT_RULE_MATCH_STREAM; i++)
    {
      g_autoptr(LtRule) rule = g_list_model_get_item (rules, i);
      LtRuleMatchLevel rule_level;

      if (!domain_equal (rule->domain_name, domain))
        continue;

      if (g_str_equal (rule->app_name, "*"))
        rule_level = LT_RULE_MATCH_DOMAIN;
      else if (!g_str_equal (rule->app_name, app))
        continue;
      else if (g_str_equal (rule->stream_name, "*"))
        rule_level = LT_RULE_MATCH_APP;
      else if (g_str_equal (rule->stream_name, stream))
        rule_level = LT_RULE_MATCH_STREAM;
      else
        continue;

      /* Levels are ordered NONE < STREAM < APP < DOMAIN by value; STREAM is best. */
      if (best_level == LT_RULE_MATCH_NONE || rule_level < best_level)
        {
          best = rule;
          best_level = rule_level;
        }
    }

  if (level != NULL)
    *level = best_level;

  /* Transfer none: the model keeps the rule alive. */
  return best;
}

char *
lt_rule_match_explain (LtRule           *rule,
                       LtRuleMatchLevel  level,
                       const char       *domain,
                       const char       *app,
                       const char       *stream)
{
  GString *text = g_string_new (NULL);

  g_return_val_if_fail (rule == NULL || LT_IS_RULE (rule), NULL);

  if (is_empty (stream))
    stream = "*";

  if (rule == NULL || level == LT_RULE_MATCH_NONE)
    {
      g_string_append_printf (text,
                              _("No rule matches stream “%s” of app “%s” on %s, so it is not "
                                "recorded automatically."),
                              stream, app, domain);
      return g_string_free (text, FALSE);
    }

  switch (level)
    {
    case LT_RULE_MATCH_STREAM:
      g_string_append_printf (text,
                              _("The rule for stream “%s” of app “%s” on %s applies: a rule "
                                "naming the stream beats rules for its app or domain."),
                              rule->stream_name, rule->app_name, rule->domain_name);
      break;
    case LT_RULE_MATCH_APP:
      g_string_append_printf (text,
                              _("The rule for every stream of app “%s” on %s applies: no rule "
                                "names stream “%s”."),
                              rule->app_name, rule->domain_name, stream);
      break;
    case LT_RULE_MATCH_DOMAIN:
      g_string_append_printf (text,
                              _("The rule for every app on %s applies: no rule names app “%s” or "
                                "stream “%s”."),
                              rule->domain_name, app, stream);
      break;
    case LT_RULE_MATCH_NONE:
    default:
      g_assert_not_reached ();
    }

  g_string_append_c (text, ' ');
  if (lt_rule_is_exclusion (rule))
    g_string_append (text, _("It has no formats, so the stream is not recorded."));
  else
    {
      g_autoptr(GString) names = g_string_new (NULL);

      for (guint i = 0; i < rule->formats->len; i++)
        {
          const LtRecordFormat *f = g_ptr_array_index (rule->formats, i);

          if (names->len > 0)
            g_string_append (names, ", ");
          g_string_append (names, lt_record_format_kind_to_string (f->kind));
        }
      /* Translators: %s is a list of formats such as "m3u8, mp4" */
      g_string_append_printf (text, _("It records %s."), names->str);
    }

  if (rule->start_time != 0 || rule->end_time != 0)
    {
      g_autofree char *start = format_utc_time (rule->start_time);
      g_autofree char *end = format_utc_time (rule->end_time);

      g_string_append_c (text, ' ');
      /* Translators: the two %s are UTC times like 2024-05-01T08:00:00Z */
      g_string_append_printf (text, _("It records only from %s to %s."), start, end);
    }

  return g_string_free (text, FALSE);
}
