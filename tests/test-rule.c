/* test-rule.c: recording rules built from AddLiveAppRecordConfig parameters — every
 * ranged value at min−1, min, max, max+1, every error code of SPEC section 2, defaults,
 * repeated parameters, and the JSON and parameter round-trips. */
#include "config.h"

#include <string.h>

#include "lt-rule.h"
#include "lt-test-utils.h"

/* The wall clock of every test: 2024-05-01T00:00:00Z. */
#define NOW G_GINT64_CONSTANT (1714521600)
#define DAY (24 * 3600)
#define VALID (-1)

static GDateTime *
test_now (void)
{
  return g_date_time_new_from_unix_utc (NOW);
}

static char *
utc (gint64 t)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (t);

  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

/* Base parameters of a valid domain-level rule; @overrides are key/value pairs applied on
 * top (a NULL value removes the key), ending with a NULL key. */
static GHashTable *
make_params (const char * const *overrides)
{
  GHashTable *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_hash_table_insert (params, g_strdup ("DomainName"), g_strdup ("live.example.com"));
  g_hash_table_insert (params, g_strdup ("AppName"), g_strdup ("live"));
  g_hash_table_insert (params, g_strdup ("OssEndpoint"), g_strdup ("local"));
  g_hash_table_insert (params, g_strdup ("OssBucket"), g_strdup ("recordings"));
  /* The API passes its own parameters along; they must be ignored. */
  g_hash_table_insert (params, g_strdup ("Action"), g_strdup ("AddLiveAppRecordConfig"));

  for (guint i = 0; overrides != NULL && overrides[i] != NULL; i += 2)
    {
      if (overrides[i + 1] == NULL)
        g_hash_table_remove (params, overrides[i]);
      else
        g_hash_table_insert (params, g_strdup (overrides[i]), g_strdup (overrides[i + 1]));
    }

  return params;
}

/* Builds a rule; checks the error code (VALID for success) and, when given, that the
 * message contains @needle (the parameter name). Returns the rule or NULL. */
static LtRule *
build (const char * const *overrides,
       int                 code,
       const char         *needle)
{
  g_autoptr(GHashTable) params = make_params (overrides);
  g_autoptr(GDateTime) now = test_now ();
  g_autoptr(GError) error = NULL;
  LtRule *rule;

  rule = lt_rule_new_from_params (params, now, &error);
  if (code == VALID)
    {
      g_assert_no_error (error);
      g_assert_nonnull (rule);
      return rule;
    }

  if (error == NULL)
    g_error ("expected %s, got a valid rule", lt_rule_error_code_name (code));
  if (!g_error_matches (error, LT_RULE_ERROR, code))
    g_error ("expected %s, got %s: %s", lt_rule_error_code_name (code),
             error->domain == LT_RULE_ERROR ? lt_rule_error_code_name (error->code) : "?",
             error->message);
  g_assert_null (rule);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_cmpuint (strlen (error->message), >, 10);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("message “%s” does not name %s", error->message, needle);
  return NULL;
}

typedef struct
{
  const char *what;
  const char *params[24];
  int         code;
  const char *needle;   /* expected in the message */
} Case;

static void
run_cases (const Case *cases,
           gsize       n)
{
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(LtRule) rule = NULL;

      g_test_message ("case %zu: %s", i, cases[i].what);
      rule = build (cases[i].params, cases[i].code, cases[i].needle);
    }
}

/* ---- boundaries --------------------------------------------------------------- */

static void
test_boundaries_static (void)
{
  static const Case cases[] = {
    /* CycleDuration, per format: 60–21600. */
#define CYCLE(fmt)                                                                            \
    { fmt " cycle 59", { "RecordFormat.1.Format", fmt, "RecordFormat.1.CycleDuration", "59" }, \
      LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED, "RecordFormat.1.CycleDuration" },       \
    { fmt " cycle 60", { "RecordFormat.1.Format", fmt, "RecordFormat.1.CycleDuration", "60" }, \
      VALID, NULL },                                                                           \
    { fmt " cycle 21600", { "RecordFormat.1.Format", fmt,                                     \
                            "RecordFormat.1.CycleDuration", "21600" }, VALID, NULL },          \
    { fmt " cycle 21601", { "RecordFormat.1.Format", fmt,                                     \
                            "RecordFormat.1.CycleDuration", "21601" },                         \
      LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED, "RecordFormat.1.CycleDuration" }
    CYCLE ("m3u8"), CYCLE ("mp4"), CYCLE ("flv"), CYCLE ("cmaf"),
#undef CYCLE
    /* SliceDuration, m3u8 and cmaf: 5–30. */
#define SLICE(fmt)                                                                            \
    { fmt " slice 4", { "RecordFormat.1.Format", fmt, "RecordFormat.1.SliceDuration", "4" },   \
      LT_RULE_ERROR_INVALID_SLICE_DURATION_MALFORMED, "RecordFormat.1.SliceDuration" },       \
    { fmt " slice 5", { "RecordFormat.1.Format", fmt, "RecordFormat.1.SliceDuration", "5" },   \
      VALID, NULL },                                                                           \
    { fmt " slice 30", { "RecordFormat.1.Format", fmt, "RecordFormat.1.SliceDuration", "30" }, \
      VALID, NULL },                                                                           \
    { fmt " slice 31", { "RecordFormat.1.Format", fmt, "RecordFormat.1.SliceDuration", "31" }, \
      LT_RULE_ERROR_INVALID_SLICE_DURATION_MALFORMED, "RecordFormat.1.SliceDuration" }
    SLICE ("m3u8"), SLICE ("cmaf"),
#undef SLICE
    /* DelayTime: 15–21600. */
    { "delay 14", { "DelayTime", "14" }, LT_RULE_ERROR_INVALID_DELAY_TIME, "DelayTime" },
    { "delay 15", { "DelayTime", "15" }, VALID, NULL },
    { "delay 21600", { "DelayTime", "21600" }, VALID, NULL },
    { "delay 21601", { "DelayTime", "21601" }, LT_RULE_ERROR_INVALID_DELAY_TIME, "DelayTime" },
    /* OnDemand: 0, 1, 2, 7. */
    { "on demand 0", { "OnDemand", "0" }, VALID, NULL },
    { "on demand 1", { "OnDemand", "1" }, VALID, NULL },
    { "on demand 2", { "OnDemand", "2" }, VALID, NULL },
    { "on demand 3", { "OnDemand", "3" }, LT_RULE_ERROR_INVALID_PARAMETER, "OnDemand" },
    { "on demand 6", { "OnDemand", "6" }, LT_RULE_ERROR_INVALID_PARAMETER, "OnDemand" },
    { "on demand 7", { "OnDemand", "7" }, VALID, NULL },
    { "on demand 8", { "OnDemand", "8" }, LT_RULE_ERROR_INVALID_PARAMETER, "OnDemand" },
    /* Integers are plain decimal. */
    { "cycle 1e3", { "RecordFormat.1.Format", "mp4", "RecordFormat.1.CycleDuration", "1e3" },
      LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED, NULL },
    { "cycle +60", { "RecordFormat.1.Format", "mp4", "RecordFormat.1.CycleDuration", "+60" },
      LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED, NULL },
    { "cycle -60", { "RecordFormat.1.Format", "mp4", "RecordFormat.1.CycleDuration", "-60" },
      LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED, NULL },
    { "cycle ' 60'", { "RecordFormat.1.Format", "mp4", "RecordFormat.1.CycleDuration", " 60" },
      LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED, NULL },
    { "cycle '60 '", { "RecordFormat.1.Format", "mp4", "RecordFormat.1.CycleDuration", "60 " },
      LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED, NULL },
    { "cycle 0x3c", { "RecordFormat.1.Format", "mp4", "RecordFormat.1.CycleDuration", "0x3c" },
      LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED, NULL },
    { "cycle 60.0", { "RecordFormat.1.Format", "mp4", "RecordFormat.1.CycleDuration", "60.0" },
      LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED, NULL },
    { "cycle overflow", { "RecordFormat.1.Format", "mp4",
                          "RecordFormat.1.CycleDuration", "18446744073709551676" },
      LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED, NULL },
    { "cycle 2^32+60", { "RecordFormat.1.Format", "mp4",
                         "RecordFormat.1.CycleDuration", "4294967356" },
      LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED, NULL },
    { "cycle 0060", { "RecordFormat.1.Format", "mp4", "RecordFormat.1.CycleDuration", "0060" },
      VALID, NULL },
    { "delay 1e2", { "DelayTime", "1e2" }, LT_RULE_ERROR_INVALID_DELAY_TIME, NULL },
    { "delay abc", { "DelayTime", "abc" }, LT_RULE_ERROR_INVALID_DELAY_TIME, NULL },
    { "delay +180", { "DelayTime", "+180" }, LT_RULE_ERROR_INVALID_DELAY_TIME, NULL },
    { "slice 1e1", { "RecordFormat.1.Format", "m3u8", "RecordFormat.1.SliceDuration", "1e1" },
      LT_RULE_ERROR_INVALID_SLICE_DURATION_MALFORMED, NULL },
    { "on demand ' 1'", { "OnDemand", " 1" }, LT_RULE_ERROR_INVALID_PARAMETER, NULL },
    { "on demand -0", { "OnDemand", "-0" }, LT_RULE_ERROR_INVALID_PARAMETER, NULL },
  };

  run_cases (cases, G_N_ELEMENTS (cases));
}

/* Stream-level windows relative to NOW: StartTime ≤ now + 15 days, EndTime − StartTime
 * ≤ 7 days, EndTime > StartTime. */
static void
test_boundaries_window (void)
{
  static const struct
  {
    const char *what;
    gint64      start;   /* relative to NOW */
    gint64      end;     /* relative to start */
    int         code;
  } cases[] = {
    { "start now+15d-1s", 15 * DAY - 1, 3600, VALID },
    { "start now+15d", 15 * DAY, 3600, VALID },
    { "start now+15d+1s", 15 * DAY + 1, 3600, LT_RULE_ERROR_INVALID_START_TIME_MISMATCH },
    { "start now+16d", 16 * DAY, 3600, LT_RULE_ERROR_INVALID_START_TIME_MISMATCH },
    { "window 0s", 3600, 0, LT_RULE_ERROR_INVALID_END_TIME_MISMATCH },
    { "window -1s", 3600, -1, LT_RULE_ERROR_INVALID_END_TIME_MISMATCH },
    { "window 1s", 3600, 1, VALID },
    { "window 7d-1s", 3600, 7 * DAY - 1, VALID },
    { "window 7d", 3600, 7 * DAY, VALID },
    { "window 7d+1s", 3600, 7 * DAY + 1, LT_RULE_ERROR_INVALID_END_TIME_MISMATCH },
    { "start in the past, end ahead", -3600, 7200, VALID },
    { "end now", -3600, 3600, LT_RULE_ERROR_INVALID_END_TIME_MISMATCH },
    { "end now+1s", -3600, 3601, VALID },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *start = utc (NOW + cases[i].start);
      g_autofree char *end = utc (NOW + cases[i].start + cases[i].end);
      const char *params[] = { "StreamName", "cam", "StartTime", start, "EndTime", end, NULL };
      g_autoptr(LtRule) rule = NULL;

      g_test_message ("window case %zu: %s", i, cases[i].what);
      rule = build (params, cases[i].code, NULL);
      if (rule != NULL)
        {
          g_assert_cmpint (lt_rule_get_start_time (rule), ==, NOW + cases[i].start);
          g_assert_cmpint (lt_rule_get_end_time (rule), ==, NOW + cases[i].start + cases[i].end);
        }
    }
}

/* A template of exactly @len bytes containing @required. */
static char *
prefix_of_length (gsize       len,
                  const char *required)
{
  GString *s = g_string_new ("record/");

  g_string_append (s, required);
  g_string_append_c (s, '_');
  g_assert_cmpuint (s->len, <=, len);
  while (s->len < len)
    g_string_append_c (s, 'x');
  return g_string_free (s, FALSE);
}

static void
test_boundaries_prefix (void)
{
  static const struct
  {
    gsize len;
    int   code;
    int   slice_code;
  } cases[] = {
    { 254, VALID, VALID },
    { 255, VALID, VALID },
    { 256, LT_RULE_ERROR_INVALID_OSS_OBJECT_PREFIX_MALFORMED,
      LT_RULE_ERROR_INVALID_SLICE_OSS_OBJECT_PREFIX_MALFORMED },
    { 257, LT_RULE_ERROR_INVALID_OSS_OBJECT_PREFIX_MALFORMED,
      LT_RULE_ERROR_INVALID_SLICE_OSS_OBJECT_PREFIX_MALFORMED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *prefix = prefix_of_length (cases[i].len,
                                                  "{EscapedStartTime}_{EscapedEndTime}");
      g_autofree char *slice_prefix = prefix_of_length (cases[i].len, "{UnixTimestamp}");
      const char *params[] = { "RecordFormat.1.Format", "m3u8",
                               "RecordFormat.1.OssObjectPrefix", prefix, NULL };
      const char *slice_params[] = { "RecordFormat.1.Format", "m3u8",
                                     "RecordFormat.1.SliceOssObjectPrefix", slice_prefix, NULL };
      g_autoptr(LtRule) rule = NULL;
      g_autoptr(LtRule) slice_rule = NULL;

      g_test_message ("prefix length %zu", cases[i].len);
      g_assert_cmpuint (strlen (prefix), ==, cases[i].len);
      g_assert_cmpuint (strlen (slice_prefix), ==, cases[i].len);
      rule = build (params, cases[i].code, "RecordFormat.1.OssObjectPrefix");
      slice_rule = build (slice_params, cases[i].slice_code, "RecordFormat.1.SliceOssObjectPrefix");
      if (rule != NULL)
        g_assert_cmpstr (lt_rule_get_format (rule, LT_RECORD_FORMAT_M3U8)->object_prefix,
                         ==, prefix);
      if (slice_rule != NULL)
        g_assert_cmpstr (lt_rule_get_format (slice_rule,
                                             LT_RECORD_FORMAT_M3U8)->slice_object_prefix,
                         ==, slice_prefix);
    }
}

/* ---- every error code --------------------------------------------------------- */

static void
test_errors (void)
{
  g_autofree char *long_app = g_strnfill (256, 'a');
  g_autofree char *max_app = g_strnfill (255, 'a');
  g_autofree char *start = utc (NOW + DAY);
  g_autofree char *end = utc (NOW + DAY + 3600);
  const Case cases[] = {
    /* MissingParameter */
    { "no DomainName", { "DomainName", NULL }, LT_RULE_ERROR_MISSING_PARAMETER, "DomainName" },
    { "empty DomainName", { "DomainName", "" }, LT_RULE_ERROR_MISSING_PARAMETER, "DomainName" },
    { "no AppName", { "AppName", NULL }, LT_RULE_ERROR_MISSING_PARAMETER, "AppName" },
    { "empty AppName", { "AppName", "" }, LT_RULE_ERROR_MISSING_PARAMETER, "AppName" },
    { "no OssEndpoint", { "OssEndpoint", NULL }, LT_RULE_ERROR_MISSING_PARAMETER, "OssEndpoint" },
    { "no OssBucket", { "OssBucket", NULL }, LT_RULE_ERROR_MISSING_PARAMETER, "OssBucket" },
    { "format fields without Format", { "RecordFormat.1.CycleDuration", "600" },
      LT_RULE_ERROR_MISSING_PARAMETER, "RecordFormat.1.Format" },
    { "empty Format", { "RecordFormat.1.Format", "" },
      LT_RULE_ERROR_MISSING_PARAMETER, "RecordFormat.1.Format" },
    { "StartTime without EndTime", { "StreamName", "cam", "StartTime", start },
      LT_RULE_ERROR_MISSING_PARAMETER, "EndTime" },
    { "EndTime without StartTime", { "StreamName", "cam", "EndTime", end },
      LT_RULE_ERROR_MISSING_PARAMETER, "StartTime" },
    { "TranscodeTemplates without formats", { "TranscodeTemplates.1", "sd" },
      LT_RULE_ERROR_MISSING_PARAMETER, "TranscodeRecordFormat" },
    { "TranscodeRecordFormat without templates", { "TranscodeRecordFormat.1.Format", "mp4" },
      LT_RULE_ERROR_MISSING_PARAMETER, "TranscodeTemplates" },
    /* InvalidParameter */
    { "DomainName with underscore", { "DomainName", "bad_domain.com" },
      LT_RULE_ERROR_INVALID_PARAMETER, "DomainName" },
    { "DomainName label starts with -", { "DomainName", "-a.com" },
      LT_RULE_ERROR_INVALID_PARAMETER, "DomainName" },
    { "DomainName empty label", { "DomainName", "a..com" },
      LT_RULE_ERROR_INVALID_PARAMETER, "DomainName" },
    { "DomainName trailing dot", { "DomainName", "a.com." },
      LT_RULE_ERROR_INVALID_PARAMETER, "DomainName" },
    { "DomainName IP", { "DomainName", "192.168.1.1" },
      LT_RULE_ERROR_INVALID_PARAMETER, "DomainName" },
    { "DomainName with port", { "DomainName", "a.com:1935" },
      LT_RULE_ERROR_INVALID_PARAMETER, "DomainName" },
    { "DomainName *", { "DomainName", "*" }, LT_RULE_ERROR_INVALID_PARAMETER, "DomainName" },
    { "AppName 256 bytes", { "AppName", long_app }, LT_RULE_ERROR_INVALID_PARAMETER, "AppName" },
    { "AppName control", { "AppName", "li\x01ve" }, LT_RULE_ERROR_INVALID_PARAMETER, "AppName" },
    { "AppName DEL", { "AppName", "live\x7f" }, LT_RULE_ERROR_INVALID_PARAMETER, "AppName" },
    { "AppName C1", { "AppName", "live\xc2\x85" }, LT_RULE_ERROR_INVALID_PARAMETER, "AppName" },
    { "AppName not UTF-8", { "AppName", "live\xff" }, LT_RULE_ERROR_INVALID_PARAMETER, "AppName" },
    { "AppName glob", { "AppName", "li*" }, LT_RULE_ERROR_INVALID_PARAMETER, "AppName" },
    { "StreamName newline", { "StreamName", "a\nb" },
      LT_RULE_ERROR_INVALID_PARAMETER, "StreamName" },
    { "StreamName 256 bytes", { "StreamName", long_app },
      LT_RULE_ERROR_INVALID_PARAMETER, "StreamName" },
    { "stream rule under app *", { "AppName", "*", "StreamName", "cam" },
      LT_RULE_ERROR_INVALID_PARAMETER, "StreamName" },
    { "RecordFormat.0", { "RecordFormat.0.Format", "mp4" },
      LT_RULE_ERROR_INVALID_PARAMETER, "RecordFormat.0.Format" },
    { "RecordFormat.01", { "RecordFormat.01.Format", "mp4" },
      LT_RULE_ERROR_INVALID_PARAMETER, "RecordFormat.01.Format" },
    { "RecordFormat.x", { "RecordFormat.x.Format", "mp4" },
      LT_RULE_ERROR_INVALID_PARAMETER, "RecordFormat.x.Format" },
    { "RecordFormat.1", { "RecordFormat.1", "mp4" },
      LT_RULE_ERROR_INVALID_PARAMETER, "RecordFormat.1" },
    { "unknown field", { "RecordFormat.1.Format", "mp4", "RecordFormat.1.Bitrate", "1" },
      LT_RULE_ERROR_INVALID_PARAMETER, "RecordFormat.1.Bitrate" },
    { "bad transcode template", { "TranscodeTemplates.1", "s d",
                                  "TranscodeRecordFormat.1.Format", "mp4" },
      LT_RULE_ERROR_INVALID_PARAMETER, "TranscodeTemplates.1" },
    { "transcode template twice", { "TranscodeTemplates", "sd,sd",
                                    "TranscodeRecordFormat.1.Format", "mp4" },
      LT_RULE_ERROR_INVALID_PARAMETER, "TranscodeTemplates" },
    { "OnDemand x", { "OnDemand", "x" }, LT_RULE_ERROR_INVALID_PARAMETER, "OnDemand" },
    /* InvalidOssEndpoint.Malformed */
    { "endpoint with scheme", { "OssEndpoint", "http://s3.example.com" },
      LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED, "OssEndpoint" },
    { "endpoint with path", { "OssEndpoint", "s3.example.com/bucket" },
      LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED, "OssEndpoint" },
    { "endpoint port 0", { "OssEndpoint", "s3.example.com:0" },
      LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED, NULL },
    { "endpoint port 65536", { "OssEndpoint", "s3.example.com:65536" },
      LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED, NULL },
    { "endpoint empty port", { "OssEndpoint", "s3.example.com:" },
      LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED, NULL },
    { "endpoint two colons", { "OssEndpoint", "::1" },
      LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED, NULL },
    { "endpoint open bracket", { "OssEndpoint", "[::1" },
      LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED, NULL },
    { "endpoint bracketed IPv4", { "OssEndpoint", "[127.0.0.1]" },
      LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED, NULL },
    { "endpoint bad IPv4", { "OssEndpoint", "256.1.1.1" },
      LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED, NULL },
    { "endpoint space", { "OssEndpoint", "s3 example" },
      LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED, NULL },
    { "endpoint ..", { "OssEndpoint", ".." }, LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED, NULL },
    /* InvalidOssBucket.Malformed */
    { "bucket 2 chars", { "OssBucket", "ab" }, LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED,
      "OssBucket" },
    { "bucket 64 chars",
      { "OssBucket", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl" },
      LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED, NULL },
    { "bucket upper case", { "OssBucket", "Bucket" },
      LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED, NULL },
    { "bucket ..", { "OssBucket", "a..b" }, LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED, NULL },
    { "bucket leading -", { "OssBucket", "-abc" },
      LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED, NULL },
    { "bucket trailing .", { "OssBucket", "abc." },
      LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED, NULL },
    { "bucket IP", { "OssBucket", "192.168.1.1" },
      LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED, NULL },
    { "bucket underscore", { "OssBucket", "a_b_c" },
      LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED, NULL },
    { "bucket slash", { "OssBucket", "a/b/c" }, LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED, NULL },
    { "bucket .-", { "OssBucket", "ab.-c" }, LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED, NULL },
    /* InvalidFormat.Malformed */
    { "format mkv", { "RecordFormat.1.Format", "mkv" },
      LT_RULE_ERROR_INVALID_FORMAT_MALFORMED, "RecordFormat.1.Format" },
    { "format ts", { "RecordFormat.1.Format", "ts" },
      LT_RULE_ERROR_INVALID_FORMAT_MALFORMED, NULL },
    { "format ' mp4'", { "RecordFormat.1.Format", " mp4" },
      LT_RULE_ERROR_INVALID_FORMAT_MALFORMED, NULL },
    /* InvalidFormat.IllegalOperation */
    { "m3u8 twice", { "RecordFormat.1.Format", "m3u8", "RecordFormat.2.Format", "m3u8" },
      LT_RULE_ERROR_INVALID_FORMAT_ILLEGAL_OPERATION, "RecordFormat.2.Format" },
    { "mp4 and MP4", { "RecordFormat.1.Format", "mp4", "RecordFormat.2.Format", "MP4" },
      LT_RULE_ERROR_INVALID_FORMAT_ILLEGAL_OPERATION, NULL },
    { "transcode flv twice", { "TranscodeTemplates.1", "sd",
                               "TranscodeRecordFormat.1.Format", "flv",
                               "TranscodeRecordFormat.2.Format", "flv" },
      LT_RULE_ERROR_INVALID_FORMAT_ILLEGAL_OPERATION, "TranscodeRecordFormat.2.Format" },
    /* InvalidCycleDuration.Malformed, with the right index in the message */
    { "second format's cycle", { "RecordFormat.1.Format", "m3u8", "RecordFormat.2.Format", "mp4",
                                 "RecordFormat.2.CycleDuration", "30" },
      LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED, "RecordFormat.2.CycleDuration" },
    { "transcode cycle", { "TranscodeTemplates.1", "sd", "TranscodeRecordFormat.1.Format", "mp4",
                           "TranscodeRecordFormat.1.CycleDuration", "59" },
      LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED, "TranscodeRecordFormat.1.CycleDuration" },
    /* InvalidSliceDuration.Malformed */
    { "SliceDuration for mp4",
      { "RecordFormat.1.Format", "mp4", "RecordFormat.1.SliceDuration", "10" },
      LT_RULE_ERROR_INVALID_SLICE_DURATION_MALFORMED, "RecordFormat.1.SliceDuration" },
    { "SliceDuration for flv",
      { "RecordFormat.1.Format", "flv", "RecordFormat.1.SliceDuration", "30" },
      LT_RULE_ERROR_INVALID_SLICE_DURATION_MALFORMED, NULL },
    /* MissingOssObjectPrefix, MissingSliceOssObjectPrefix */
    { "empty OssObjectPrefix",
      { "RecordFormat.1.Format", "mp4", "RecordFormat.1.OssObjectPrefix", "" },
      LT_RULE_ERROR_MISSING_OSS_OBJECT_PREFIX, "RecordFormat.1.OssObjectPrefix" },
    { "empty SliceOssObjectPrefix", { "RecordFormat.1.Format", "m3u8",
                                      "RecordFormat.1.SliceOssObjectPrefix", "" },
      LT_RULE_ERROR_MISSING_SLICE_OSS_OBJECT_PREFIX, "RecordFormat.1.SliceOssObjectPrefix" },
    /* InvalidOssObjectPrefix.Malformed */
    { "prefix without end time", { "RecordFormat.1.Format", "mp4",
                                   "RecordFormat.1.OssObjectPrefix", "r/{EscapedStartTime}" },
      LT_RULE_ERROR_INVALID_OSS_OBJECT_PREFIX_MALFORMED, "RecordFormat.1.OssObjectPrefix" },
    { "prefix without times", { "RecordFormat.1.Format", "mp4",
                                "RecordFormat.1.OssObjectPrefix", "r/{Sequence}" },
      LT_RULE_ERROR_INVALID_OSS_OBJECT_PREFIX_MALFORMED, NULL },
    { "prefix unknown variable", { "RecordFormat.1.Format", "mp4", "RecordFormat.1.OssObjectPrefix",
                                   "r/{Foo}{EscapedStartTime}{EscapedEndTime}" },
      LT_RULE_ERROR_INVALID_OSS_OBJECT_PREFIX_MALFORMED, "{Foo}" },
    { "prefix unbalanced", { "RecordFormat.1.Format", "mp4", "RecordFormat.1.OssObjectPrefix",
                             "r/{EscapedStartTime}{EscapedEndTime" },
      LT_RULE_ERROR_INVALID_OSS_OBJECT_PREFIX_MALFORMED, NULL },
    { "prefix traversal", { "RecordFormat.1.Format", "mp4", "RecordFormat.1.OssObjectPrefix",
                            "../{EscapedStartTime}{EscapedEndTime}" },
      LT_RULE_ERROR_INVALID_OSS_OBJECT_PREFIX_MALFORMED, NULL },
    { "prefix absolute", { "RecordFormat.1.Format", "mp4", "RecordFormat.1.OssObjectPrefix",
                           "/r/{EscapedStartTime}{EscapedEndTime}" },
      LT_RULE_ERROR_INVALID_OSS_OBJECT_PREFIX_MALFORMED, NULL },
    /* InvalidSliceOssObjectPrefix.Malformed */
    { "slice prefix without timestamp", { "RecordFormat.1.Format", "m3u8",
                                          "RecordFormat.1.SliceOssObjectPrefix", "r/{Sequence}" },
      LT_RULE_ERROR_INVALID_SLICE_OSS_OBJECT_PREFIX_MALFORMED,
      "RecordFormat.1.SliceOssObjectPrefix" },
    { "slice prefix for mp4", { "RecordFormat.1.Format", "mp4",
                                "RecordFormat.1.SliceOssObjectPrefix", "r/{UnixTimestamp}" },
      LT_RULE_ERROR_INVALID_SLICE_OSS_OBJECT_PREFIX_MALFORMED,
      "RecordFormat.1.SliceOssObjectPrefix" },
    { "slice prefix backslash", { "RecordFormat.1.Format", "cmaf",
                                  "RecordFormat.1.SliceOssObjectPrefix", "r\\{UnixTimestamp}" },
      LT_RULE_ERROR_INVALID_SLICE_OSS_OBJECT_PREFIX_MALFORMED, NULL },
    /* InvalidDelayTime */
    { "DelayTime 0", { "DelayTime", "0" }, LT_RULE_ERROR_INVALID_DELAY_TIME, "DelayTime" },
    /* InvalidStartTime.Malformed, InvalidEndTime.Malformed */
    { "StartTime with space",
      { "StreamName", "cam", "StartTime", "2024-05-02 00:00:00", "EndTime", end },
      LT_RULE_ERROR_INVALID_START_TIME_MALFORMED, "StartTime" },
    { "StartTime without Z",
      { "StreamName", "cam", "StartTime", "2024-05-02T00:00:00", "EndTime", end },
      LT_RULE_ERROR_INVALID_START_TIME_MALFORMED, NULL },
    { "StartTime with offset", { "StreamName", "cam", "StartTime", "2024-05-02T00:00:00+08:00",
                                 "EndTime", end },
      LT_RULE_ERROR_INVALID_START_TIME_MALFORMED, NULL },
    { "StartTime Feb 30",
      { "StreamName", "cam", "StartTime", "2024-02-30T00:00:00Z", "EndTime", end },
      LT_RULE_ERROR_INVALID_START_TIME_MALFORMED, NULL },
    { "StartTime 24:00",
      { "StreamName", "cam", "StartTime", "2024-05-02T24:00:00Z", "EndTime", end },
      LT_RULE_ERROR_INVALID_START_TIME_MALFORMED, NULL },
    { "StartTime short", { "StreamName", "cam", "StartTime", "2024-5-2T00:00:00Z", "EndTime", end },
      LT_RULE_ERROR_INVALID_START_TIME_MALFORMED, NULL },
    { "StartTime Unix", { "StreamName", "cam", "StartTime", "1714608000", "EndTime", end },
      LT_RULE_ERROR_INVALID_START_TIME_MALFORMED, NULL },
    { "EndTime lower-case",
      { "StreamName", "cam", "StartTime", start, "EndTime", "2024-05-02t01:00:00z" },
      LT_RULE_ERROR_INVALID_END_TIME_MALFORMED, "EndTime" },
    { "EndTime second 60",
      { "StreamName", "cam", "StartTime", start, "EndTime", "2024-05-02T00:59:60Z" },
      LT_RULE_ERROR_INVALID_END_TIME_MALFORMED, NULL },
    /* InvalidStartTime.Mismatch, InvalidEndTime.Mismatch */
    { "window on an app rule", { "StartTime", start, "EndTime", end },
      LT_RULE_ERROR_INVALID_START_TIME_MISMATCH, "StartTime" },
    { "window on a * stream", { "StreamName", "*", "StartTime", start, "EndTime", end },
      LT_RULE_ERROR_INVALID_START_TIME_MISMATCH, NULL },
    { "EndTime on an app rule", { "EndTime", end }, LT_RULE_ERROR_INVALID_END_TIME_MISMATCH, NULL },
    { "EndTime before StartTime", { "StreamName", "cam", "StartTime", end, "EndTime", start },
      LT_RULE_ERROR_INVALID_END_TIME_MISMATCH, "EndTime" },
    { "window in the past", { "StreamName", "cam", "StartTime", "2024-04-01T00:00:00Z",
                              "EndTime", "2024-04-02T00:00:00Z" },
      LT_RULE_ERROR_INVALID_END_TIME_MISMATCH, "EndTime" },
    /* Valid corner cases */
    { "AppName 255 bytes", { "AppName", max_app }, VALID, NULL },
    { "AppName UTF-8", { "AppName", "直播", "StreamName", "房间 1" }, VALID, NULL },
    { "hostile stream name is only sanity-checked", { "StreamName", "../../etc/passwd" },
      VALID, NULL },
    { "domain upper case", { "DomainName", "LIVE.Example.COM" }, VALID, NULL },
    { "domain localhost", { "DomainName", "localhost" }, VALID, NULL },
    { "endpoint target name", { "OssEndpoint", "nas-1" }, VALID, NULL },
    { "endpoint host", { "OssEndpoint", "s3.eu-west-1.amazonaws.com" }, VALID, NULL },
    { "endpoint host:port", { "OssEndpoint", "minio.lan:9000" }, VALID, NULL },
    { "endpoint IPv4:port", { "OssEndpoint", "127.0.0.1:9000" }, VALID, NULL },
    { "endpoint [IPv6]", { "OssEndpoint", "[::1]" }, VALID, NULL },
    { "endpoint [IPv6]:port", { "OssEndpoint", "[fe80::1]:65535" }, VALID, NULL },
    { "bucket 3 chars", { "OssBucket", "abc" }, VALID, NULL },
    { "bucket 63 chars",
      { "OssBucket", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk" },
      VALID, NULL },
    { "bucket dots and hyphens", { "OssBucket", "my.bucket-1" }, VALID, NULL },
    { "format upper case", { "RecordFormat.1.Format", "M3U8" }, VALID, NULL },
    { "prefix with StartTime/EndTime",
      { "RecordFormat.1.Format", "mp4",
        "RecordFormat.1.OssObjectPrefix", "r/{StartTime}-{EndTime}" },
      VALID, NULL },
    { "empty optional values",
      { "StreamName", "", "OnDemand", "", "DelayTime", "", "StartTime", "", "EndTime", "",
        "RecordFormat.1.Format", "m3u8", "RecordFormat.1.CycleDuration", "",
        "RecordFormat.1.SliceDuration", "" },
      VALID, NULL },
    { "empty SliceDuration for mp4", { "RecordFormat.1.Format", "mp4",
                                       "RecordFormat.1.SliceDuration", "" }, VALID, NULL },
  };

  run_cases (cases, G_N_ELEMENTS (cases));
}

/* Every code of SPEC section 2 (and the two of our own) has its name and status. */
static void
test_error_codes (void)
{
  static const struct
  {
    LtRuleError code;
    const char *name;
    guint       status;
  } codes[] = {
    { LT_RULE_ERROR_MISSING_PARAMETER, "MissingParameter", 400 },
    { LT_RULE_ERROR_INVALID_PARAMETER, "InvalidParameter", 400 },
    { LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED, "InvalidOssEndpoint.Malformed", 400 },
    { LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED, "InvalidOssBucket.Malformed", 400 },
    { LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND, "InvalidOssBucket.NotFound", 400 },
    { LT_RULE_ERROR_INVALID_FORMAT_MALFORMED, "InvalidFormat.Malformed", 400 },
    { LT_RULE_ERROR_INVALID_FORMAT_ILLEGAL_OPERATION, "InvalidFormat.IllegalOperation", 400 },
    { LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED, "InvalidCycleDuration.Malformed", 400 },
    { LT_RULE_ERROR_INVALID_SLICE_DURATION_MALFORMED, "InvalidSliceDuration.Malformed", 400 },
    { LT_RULE_ERROR_MISSING_OSS_OBJECT_PREFIX, "MissingOssObjectPrefix", 400 },
    { LT_RULE_ERROR_MISSING_SLICE_OSS_OBJECT_PREFIX, "MissingSliceOssObjectPrefix", 400 },
    { LT_RULE_ERROR_INVALID_OSS_OBJECT_PREFIX_MALFORMED, "InvalidOssObjectPrefix.Malformed", 400 },
    { LT_RULE_ERROR_INVALID_SLICE_OSS_OBJECT_PREFIX_MALFORMED,
      "InvalidSliceOssObjectPrefix.Malformed", 400 },
    { LT_RULE_ERROR_CONFIG_ALREADY_EXISTS, "ConfigAlreadyExists", 400 },
    { LT_RULE_ERROR_CONFIG_NOT_FOUND, "InvalidConfig.NotFound", 404 },
    { LT_RULE_ERROR_INVALID_DELAY_TIME, "InvalidDelayTime", 400 },
    { LT_RULE_ERROR_INVALID_START_TIME_MALFORMED, "InvalidStartTime.Malformed", 400 },
    { LT_RULE_ERROR_INVALID_END_TIME_MALFORMED, "InvalidEndTime.Malformed", 400 },
    { LT_RULE_ERROR_INVALID_START_TIME_MISMATCH, "InvalidStartTime.Mismatch", 400 },
    { LT_RULE_ERROR_INVALID_END_TIME_MISMATCH, "InvalidEndTime.Mismatch", 400 },
    { LT_RULE_ERROR_FAILED, "InternalError", 500 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_assert_cmpstr (lt_rule_error_code_name (codes[i].code), ==, codes[i].name);
      g_assert_cmpuint (lt_rule_error_http_status (codes[i].code), ==, codes[i].status);
    }
  /* An unknown value falls back to the catch-all instead of crashing. */
  g_assert_cmpstr (lt_rule_error_code_name (999), ==, "InternalError");
  g_assert_cmpuint (lt_rule_error_http_status (999), ==, 500);
}

/* ---- defaults and accessors ------------------------------------------------------ */

static void
test_defaults (void)
{
  const char *params[] = {
    "RecordFormat.1.Format", "m3u8", "RecordFormat.2.Format", "mp4",
    "RecordFormat.3.Format", "flv", "RecordFormat.4.Format", "cmaf", NULL
  };
  g_autoptr(LtRule) rule = build (params, VALID, NULL);
  g_autoptr(LtRule) exclusion = build (NULL, VALID, NULL);
  const LtRecordFormat *f;
  GPtrArray *formats;

  g_assert_cmpstr (lt_rule_get_domain_name (rule), ==, "live.example.com");
  g_assert_cmpstr (lt_rule_get_app_name (rule), ==, "live");
  g_assert_cmpstr (lt_rule_get_stream_name (rule), ==, "*");
  g_assert_cmpstr (lt_rule_get_oss_endpoint (rule), ==, "local");
  g_assert_cmpstr (lt_rule_get_oss_bucket (rule), ==, "recordings");
  g_assert_cmpint (lt_rule_get_on_demand (rule), ==, LT_ON_DEMAND_AUTOMATIC);
  g_assert_cmpuint (lt_rule_get_delay_time (rule), ==, 180);
  g_assert_cmpint (lt_rule_get_start_time (rule), ==, 0);
  g_assert_cmpint (lt_rule_get_end_time (rule), ==, 0);
  g_assert_cmpint (lt_rule_get_create_time (rule), ==, NOW);
  g_assert_false (lt_rule_is_exclusion (rule));
  g_assert_cmpstrv (lt_rule_get_transcode_templates (rule), ((const char *[]) { NULL }));
  g_assert_cmpuint (lt_rule_get_transcode_formats (rule)->len, ==, 0);

  formats = lt_rule_get_formats (rule);
  g_assert_cmpuint (formats->len, ==, 4);

  f = lt_rule_get_format (rule, LT_RECORD_FORMAT_M3U8);
  g_assert_cmpuint (f->cycle_duration, ==, 21600);
  g_assert_cmpuint (f->slice_duration, ==, 30);
  g_assert_cmpstr (f->object_prefix, ==, LT_RULE_DEFAULT_OBJECT_PREFIX);
  g_assert_cmpstr (f->slice_object_prefix, ==, LT_RULE_DEFAULT_SLICE_OBJECT_PREFIX);

  f = lt_rule_get_format (rule, LT_RECORD_FORMAT_CMAF);
  g_assert_cmpuint (f->cycle_duration, ==, 21600);
  g_assert_cmpuint (f->slice_duration, ==, 30);
  g_assert_cmpstr (f->slice_object_prefix, ==, LT_RULE_DEFAULT_SLICE_OBJECT_PREFIX);

  f = lt_rule_get_format (rule, LT_RECORD_FORMAT_MP4);
  g_assert_cmpuint (f->cycle_duration, ==, 3600);
  g_assert_cmpuint (f->slice_duration, ==, 0);
  g_assert_cmpstr (f->object_prefix, ==, LT_RULE_DEFAULT_OBJECT_PREFIX);
  g_assert_null (f->slice_object_prefix);

  f = lt_rule_get_format (rule, LT_RECORD_FORMAT_FLV);
  g_assert_cmpuint (f->cycle_duration, ==, 3600);
  g_assert_null (f->slice_object_prefix);

  /* No formats: an exclusion rule. */
  g_assert_true (lt_rule_is_exclusion (exclusion));
  g_assert_null (lt_rule_get_format (exclusion, LT_RECORD_FORMAT_M3U8));

  /* Properties mirror the getters. */
  {
    g_autofree char *domain = NULL;
    guint delay;
    gboolean is_exclusion;

    g_object_get (exclusion, "domain-name", &domain, "delay-time", &delay,
                  "exclusion", &is_exclusion, NULL);
    g_assert_cmpstr (domain, ==, "live.example.com");
    g_assert_cmpuint (delay, ==, 180);
    g_assert_true (is_exclusion);
  }

  /* Domains are host names: stored in lower case. */
  {
    const char *upper[] = { "DomainName", "LIVE.Example.COM", NULL };
    g_autoptr(LtRule) r = build (upper, VALID, NULL);

    g_assert_cmpstr (lt_rule_get_domain_name (r), ==, "live.example.com");
    g_assert_true (lt_rule_same_triplet (r, exclusion));
  }
}

static void
test_format_kinds (void)
{
  LtRecordFormatKind kind;

  for (guint k = 0; k < LT_RECORD_FORMAT_KIND_COUNT; k++)
    {
      g_assert_true (lt_record_format_kind_from_string (lt_record_format_kind_to_string (k),
                                                        &kind));
      g_assert_cmpint (kind, ==, k);
    }
  g_assert_true (lt_record_format_kind_from_string ("FLV", &kind));
  g_assert_cmpint (kind, ==, LT_RECORD_FORMAT_FLV);
  g_assert_false (lt_record_format_kind_from_string ("mkv", &kind));
  g_assert_false (lt_record_format_kind_from_string ("", &kind));
  g_assert_false (lt_record_format_kind_from_string (NULL, &kind));
  g_assert_true (lt_record_format_kind_is_sliced (LT_RECORD_FORMAT_M3U8));
  g_assert_true (lt_record_format_kind_is_sliced (LT_RECORD_FORMAT_CMAF));
  g_assert_false (lt_record_format_kind_is_sliced (LT_RECORD_FORMAT_MP4));
  g_assert_false (lt_record_format_kind_is_sliced (LT_RECORD_FORMAT_FLV));

  {
    LtRecordFormat f = { LT_RECORD_FORMAT_M3U8, 600, 10, (char *) "a", (char *) "b" };
    g_autoptr(LtRecordFormat) copy = lt_record_format_copy (&f);

    g_assert_cmpint (copy->kind, ==, f.kind);
    g_assert_cmpuint (copy->cycle_duration, ==, 600);
    g_assert_cmpuint (copy->slice_duration, ==, 10);
    g_assert_cmpstr (copy->object_prefix, ==, "a");
    g_assert_cmpstr (copy->slice_object_prefix, ==, "b");
    g_assert_true (copy->object_prefix != f.object_prefix);
  }
}

/* ---- repeated parameters ----------------------------------------------------------- */

#define HLS_PREFIX "hls/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"

static void
test_repeated (void)
{
  /* N is numeric (10 after 2), gaps are fine, fields of one N belong together. */
  const char *params[] = {
    "RecordFormat.10.Format", "flv",
    "RecordFormat.10.CycleDuration", "120",
    "RecordFormat.2.Format", "mp4",
    "RecordFormat.2.CycleDuration", "600",
    "RecordFormat.1.Format", "m3u8",
    "RecordFormat.1.SliceDuration", "10",
    "RecordFormat.1.OssObjectPrefix", HLS_PREFIX,
    "RecordFormat.1.SliceOssObjectPrefix", "hls/{AppName}/{StreamName}/ts/{UnixTimestamp}",
    "TranscodeTemplates", "lsd, lhd",
    "TranscodeTemplates.2", "lud",
    "TranscodeTemplates.1", "custom_1",
    "TranscodeRecordFormat.1.Format", "mp4",
    "TranscodeRecordFormat.1.CycleDuration", "900",
    NULL
  };
  g_autoptr(LtRule) rule = build (params, VALID, NULL);
  GPtrArray *formats = lt_rule_get_formats (rule);
  const LtRecordFormat *f;
  const char * const expected_templates[] = { "lsd", "lhd", "custom_1", "lud", NULL };

  g_assert_cmpuint (formats->len, ==, 3);
  f = g_ptr_array_index (formats, 0);
  g_assert_cmpint (f->kind, ==, LT_RECORD_FORMAT_M3U8);
  g_assert_cmpuint (f->cycle_duration, ==, 21600);
  g_assert_cmpuint (f->slice_duration, ==, 10);
  g_assert_cmpstr (f->object_prefix, ==, HLS_PREFIX);
  g_assert_cmpstr (f->slice_object_prefix, ==, "hls/{AppName}/{StreamName}/ts/{UnixTimestamp}");
  f = g_ptr_array_index (formats, 1);
  g_assert_cmpint (f->kind, ==, LT_RECORD_FORMAT_MP4);
  g_assert_cmpuint (f->cycle_duration, ==, 600);
  f = g_ptr_array_index (formats, 2);
  g_assert_cmpint (f->kind, ==, LT_RECORD_FORMAT_FLV);
  g_assert_cmpuint (f->cycle_duration, ==, 120);

  g_assert_cmpstrv (lt_rule_get_transcode_templates (rule), expected_templates);
  g_assert_cmpuint (lt_rule_get_transcode_formats (rule)->len, ==, 1);
  f = g_ptr_array_index (lt_rule_get_transcode_formats (rule), 0);
  g_assert_cmpint (f->kind, ==, LT_RECORD_FORMAT_MP4);
  g_assert_cmpuint (f->cycle_duration, ==, 900);

  /* The first bad entry in N order is the one reported. */
  {
    const char *bad[] = {
      "RecordFormat.3.Format", "mkv",
      "RecordFormat.12.Format", "avi",
      NULL
    };
    g_autoptr(LtRule) r = build (bad, LT_RULE_ERROR_INVALID_FORMAT_MALFORMED,
                                 "RecordFormat.3.Format");
  }
}

/* ---- round-trips ---------------------------------------------------------------- */

static const char *full_params[] = {
  "DomainName", "Live.Example.com",
  "AppName", "直播",
  "StreamName", "cam/1",
  "OssEndpoint", "[::1]:9000",
  "OssBucket", "my.bucket-1",
  "OnDemand", "2",
  "DelayTime", "600",
  "StartTime", "2024-05-10T08:00:00Z",
  "EndTime", "2024-05-17T08:00:00Z",
  "RecordFormat.1.Format", "cmaf",
  "RecordFormat.1.CycleDuration", "7200",
  "RecordFormat.1.SliceDuration", "6",
  "RecordFormat.2.Format", "flv",
  "RecordFormat.2.OssObjectPrefix", "flv/{Date}/{StreamName}_{StartTime}_{EndTime}",
  "TranscodeTemplates.1", "sd",
  "TranscodeTemplates.2", "hd",
  "TranscodeRecordFormat.1.Format", "m3u8",
  "TranscodeRecordFormat.1.SliceOssObjectPrefix", "t/{StreamName}/{UnixTimestamp}",
  NULL
};

static char *
rule_json_string (LtRule *rule)
{
  g_autoptr(JsonNode) node = lt_rule_to_json (rule);

  return json_to_string (node, FALSE);
}

static void
test_json_round_trip (void)
{
  const char **cases[] = { full_params, (const char *[]) { NULL } };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LtRule) rule = build (cases[i], VALID, NULL);
      g_autoptr(LtRule) back = NULL;
      g_autoptr(JsonNode) parsed = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *json = NULL;
      g_autofree char *json_back = NULL;

      lt_rule_set_create_time (rule, 1700000000);
      json = rule_json_string (rule);
      g_test_message ("%s", json);

      parsed = json_from_string (json, &error);
      g_assert_no_error (error);
      back = lt_rule_new_from_json (parsed, &error);
      g_assert_no_error (error);
      g_assert_nonnull (back);

      json_back = rule_json_string (back);
      g_assert_cmpstr (json_back, ==, json);
      g_assert_cmpint (lt_rule_get_create_time (back), ==, 1700000000);
      g_assert_true (lt_rule_same_triplet (rule, back));
      g_assert_cmpint (lt_rule_get_start_time (back), ==, lt_rule_get_start_time (rule));
    }

  /* The shape other code (catalog, API) may rely on. */
  {
    g_autoptr(LtRule) rule = build (full_params, VALID, NULL);
    g_autoptr(JsonNode) node = lt_rule_to_json (rule);
    JsonObject *object = json_node_get_object (node);
    JsonArray *formats;

    g_assert_cmpint (json_object_get_int_member (object, "Version"), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (object, "DomainName"), ==, "live.example.com");
    g_assert_cmpstr (json_object_get_string_member (object, "StreamName"), ==, "cam/1");
    g_assert_cmpint (json_object_get_int_member (object, "StartTime"), ==, 1715328000);
    g_assert_cmpint (json_object_get_int_member (object, "CreateTime"), ==, NOW);
    formats = json_object_get_array_member (object, "RecordFormat");
    g_assert_cmpuint (json_array_get_length (formats), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (formats, 0),
                                                    "Format"), ==, "cmaf");
    g_assert_false (json_object_has_member (json_array_get_object_element (formats, 1),
                                            "SliceDuration"));
  }
}

static void
test_json_invalid (void)
{
  static const char * const cases[] = {
    "[]",
    "{}",
    "{\"Version\":2}",
    /* a field of the wrong type */
    "{\"Version\":1,\"DomainName\":\"a.com\",\"AppName\":\"x\",\"StreamName\":\"*\","
    "\"OssEndpoint\":\"local\",\"OssBucket\":\"abc\",\"OnDemand\":\"0\",\"DelayTime\":180,"
    "\"StartTime\":0,\"EndTime\":0,\"CreateTime\":0,\"RecordFormat\":[],"
    "\"TranscodeTemplates\":[],\"TranscodeRecordFormat\":[]}",
    /* a value out of range: stored rules are validated like new ones */
    "{\"Version\":1,\"DomainName\":\"a.com\",\"AppName\":\"x\",\"StreamName\":\"*\","
    "\"OssEndpoint\":\"local\",\"OssBucket\":\"abc\",\"OnDemand\":0,\"DelayTime\":180,"
    "\"StartTime\":0,\"EndTime\":0,\"CreateTime\":0,"
    "\"RecordFormat\":[{\"Format\":\"mp4\",\"CycleDuration\":5,"
    "\"OssObjectPrefix\":\"x/{StartTime}{EndTime}\"}],"
    "\"TranscodeTemplates\":[],\"TranscodeRecordFormat\":[]}",
    /* a missing member */
    "{\"Version\":1,\"DomainName\":\"a.com\",\"AppName\":\"x\",\"StreamName\":\"*\","
    "\"OssEndpoint\":\"local\",\"OssBucket\":\"abc\",\"OnDemand\":0,\"DelayTime\":180,"
    "\"StartTime\":0,\"EndTime\":0,\"CreateTime\":0,\"RecordFormat\":[],"
    "\"TranscodeTemplates\":[]}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = json_from_string (cases[i], &error);
      g_autoptr(LtRule) rule = NULL;

      g_assert_no_error (error);
      rule = lt_rule_new_from_json (node, &error);
      g_assert_error (error, LT_RULE_ERROR, LT_RULE_ERROR_FAILED);
      g_assert_null (rule);
    }

  /* A stored window that has passed still loads: only new rules are checked against
   * the clock. */
  {
    const char *json =
      "{\"Version\":1,\"DomainName\":\"a.com\",\"AppName\":\"x\",\"StreamName\":\"cam\","
      "\"OssEndpoint\":\"local\",\"OssBucket\":\"abc\",\"OnDemand\":0,\"DelayTime\":180,"
      "\"StartTime\":1000000000,\"EndTime\":1000003600,\"CreateTime\":999999999,"
      "\"RecordFormat\":[],"
      "\"TranscodeTemplates\":[],\"TranscodeRecordFormat\":[]}";
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node = json_from_string (json, &error);
    g_autoptr(LtRule) rule = lt_rule_new_from_json (node, &error);

    g_assert_no_error (error);
    g_assert_cmpint (lt_rule_get_end_time (rule), ==, 1000003600);
    g_assert_cmpint (lt_rule_get_create_time (rule), ==, 999999999);
  }
}

static void
test_params_round_trip (void)
{
  const char **cases[] = {
    full_params,
    (const char *[]) { NULL },
    (const char *[]) { "RecordFormat.1.Format", "mp4", "AppName", "*", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LtRule) rule = build (cases[i], VALID, NULL);
      g_autoptr(GHashTable) params = lt_rule_to_params (rule);
      g_autoptr(GDateTime) now = test_now ();
      g_autoptr(GError) error = NULL;
      g_autoptr(LtRule) back = lt_rule_new_from_params (params, now, &error);
      g_autofree char *json = NULL;
      g_autofree char *json_back = NULL;

      g_assert_no_error (error);
      json = rule_json_string (rule);
      json_back = rule_json_string (back);
      g_assert_cmpstr (json_back, ==, json);
    }
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  guint *count = user_data;

  (*count)++;
}

/* create-time is the one mutable value (the store keeps it on replace); it notifies
 * only on change. */
static void
test_create_time_notify (void)
{
  g_autoptr(LtRule) rule = build (NULL, VALID, NULL);
  guint notified = 0;

  g_signal_connect (rule, "notify::create-time", G_CALLBACK (count_notify_cb), &notified);
  lt_rule_set_create_time (rule, NOW);
  g_assert_cmpuint (notified, ==, 0);
  lt_rule_set_create_time (rule, NOW - 10);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpint (lt_rule_get_create_time (rule), ==, NOW - 10);
  lt_rule_set_create_time (rule, NOW - 10);
  g_assert_cmpuint (notified, ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  lt_test_init (&argc, &argv);

  g_test_add_func ("/rule/boundaries/ranges", test_boundaries_static);
  g_test_add_func ("/rule/boundaries/window", test_boundaries_window);
  g_test_add_func ("/rule/boundaries/prefix-length", test_boundaries_prefix);
  g_test_add_func ("/rule/errors", test_errors);
  g_test_add_func ("/rule/error-codes", test_error_codes);
  g_test_add_func ("/rule/defaults", test_defaults);
  g_test_add_func ("/rule/format-kinds", test_format_kinds);
  g_test_add_func ("/rule/repeated-parameters", test_repeated);
  g_test_add_func ("/rule/json-round-trip", test_json_round_trip);
  g_test_add_func ("/rule/json-invalid", test_json_invalid);
  g_test_add_func ("/rule/params-round-trip", test_params_round_trip);
  g_test_add_func ("/rule/create-time-notify", test_create_time_notify);

  return g_test_run ();
}
