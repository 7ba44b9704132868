/* test-api-signature.c: the control API's signature (SPEC section 6) against the spec's
 * worked example, the RFC 3986 encoding table, the name order, the time format of the
 * common parameters, the error table and the JSON → XML mapping of the replies. */
#include "config.h"

#include <string.h>

#include "lt-api-server.h"
#include "lt-test-utils.h"

static GHashTable *
params_new (const char *first_name,
            ...)
{
  GHashTable *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *name = first_name;
  va_list args;

  va_start (args, first_name);
  while (name != NULL)
    {
      const char *value = va_arg (args, const char *);

      g_hash_table_insert (params, g_strdup (name), g_strdup (value));
      name = va_arg (args, const char *);
    }
  va_end (args);

  return params;
}

static GHashTable *
spec_example_params (void)
{
  /* GET /?Format=XML&SignatureMethod=HMAC-SHA1&Action=DescribeLiveSnapshotConfig&… */
  return params_new ("Format", "XML",
                     "SignatureMethod", "HMAC-SHA1",
                     "Action", "DescribeLiveSnapshotConfig",
                     "AccessKeyId", "testid",
                     "RegionId", "cn-shanghai",
                     "ServiceCode", "live",
                     "DomainName", "test.com",
                     "AppName", "test",
                     "SignatureNonce", "c2fe8fbb-2977-4414-8d39-348d02419c1c",
                     "Version", "2016-11-01",
                     "SignatureVersion", "1.0",
                     "Timestamp", "2017-06-14T09:51:14Z",
                     NULL);
}

#define SPEC_STRING_TO_SIGN \
  "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeLiveSnapshotConfig%26AppName%3Dtest" \
  "%26DomainName%3Dtest.com%26Format%3DXML%26RegionId%3Dcn-shanghai%26ServiceCode%3Dlive" \
  "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dc2fe8fbb-2977-4414-8d39-348d02419c1c" \
  "%26SignatureVersion%3D1.0%26Timestamp%3D2017-06-14T09%253A51%253A14Z%26Version%3D2016-11-01"

static void
test_spec_vector (void)
{
  g_autoptr(GHashTable) params = spec_example_params ();
  g_autofree char *string_to_sign = lt_api_string_to_sign ("GET", params);
  g_autofree char *signature = lt_api_compute_signature ("GET", params, "testsecret");

  g_assert_cmpstr (string_to_sign, ==, SPEC_STRING_TO_SIGN);
  g_assert_cmpstr (signature, ==, "3I5a3myPjp8FXWT4rvxX5pKb/aw=");
}

static void
test_signature_ignored (void)
{
  g_autoptr(GHashTable) params = spec_example_params ();
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  /* The Signature parameter itself is never part of what is signed. */
  before = lt_api_compute_signature ("GET", params, "testsecret");
  g_hash_table_insert (params, g_strdup ("Signature"), g_strdup (before));
  after = lt_api_compute_signature ("GET", params, "testsecret");
  g_assert_cmpstr (before, ==, after);
  g_assert_cmpstr (after, ==, "3I5a3myPjp8FXWT4rvxX5pKb/aw=");
}

static void
test_method_and_secret (void)
{
  g_autoptr(GHashTable) params = spec_example_params ();
  g_autofree char *post_string = lt_api_string_to_sign ("POST", params);
  g_autofree char *get_signature = lt_api_compute_signature ("GET", params, "testsecret");
  g_autofree char *post_signature = lt_api_compute_signature ("POST", params, "testsecret");
  g_autofree char *other_secret = lt_api_compute_signature ("GET", params, "testsecreT");
  g_autofree char *empty_secret = lt_api_compute_signature ("GET", params, "");

  /* POST signs "POST&%2F&…" over the same query. */
  g_assert_true (g_str_has_prefix (post_string, "POST&%2F&AccessKeyId%3Dtestid%26"));
  g_assert_cmpstr (post_string + strlen ("POST"), ==, SPEC_STRING_TO_SIGN + strlen ("GET"));
  g_assert_cmpstr (post_signature, !=, get_signature);
  g_assert_cmpstr (other_secret, !=, get_signature);
  g_assert_cmpstr (empty_secret, !=, get_signature);
  /* Base64 of 20 bytes. */
  g_assert_cmpuint (strlen (post_signature), ==, 28);
  g_assert_cmpuint (strlen (empty_secret), ==, 28);
}

static const struct
{
  const char *raw;
  const char *encoded;
} encoding_table[] = {
  { "", "" },
  { "abcXYZ019", "abcXYZ019" },
  { "-_.~", "-_.~" },                  /* unreserved: kept */
  { "a b", "a%20b" },                  /* space is %20, never + */
  { "*", "%2A" },                      /* unlike Java's URLEncoder */
  { "+", "%2B" },
  { "~", "~" },                        /* unlike Java's URLEncoder (%7E) */
  { "/", "%2F" },
  { ":", "%3A" },
  { "=", "%3D" },
  { "&", "%26" },
  { "%", "%25" },
  { "%20", "%2520" },                  /* encoding is not idempotent */
  { "?#[]@!$'(),;", "%3F%23%5B%5D%40%21%24%27%28%29%2C%3B" },
  { "\"<>\\^`{|}", "%22%3C%3E%5C%5E%60%7B%7C%7D" },
  { "\t\n\x7f", "%09%0A%7F" },
  { "é", "%C3%A9" },                   /* UTF-8 bytes, upper-case hex */
  { "直播", "%E7%9B%B4%E6%92%AD" },
  { "😀", "%F0%9F%98%80" },
  { "2017-06-14T09:51:14Z", "2017-06-14T09%3A51%3A14Z" },
  { "record/{AppName}/{StreamName}", "record%2F%7BAppName%7D%2F%7BStreamName%7D" },
};

static void
test_percent_encode (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (encoding_table); i++)
    {
      g_autofree char *encoded = lt_api_percent_encode (encoding_table[i].raw);

      g_assert_cmpstr (encoded, ==, encoding_table[i].encoded);
    }
}

static void
test_percent_encode_all_bytes (void)
{
  /* Every byte: unreserved ones stay, all others become exactly %XX (upper case). */
  for (guint c = 1; c < 256; c++)
    {
      char raw[2] = { (char) c, '\0' };
      g_autofree char *encoded = lt_api_percent_encode (raw);
      gboolean unreserved = g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.' || c == '~';

      if (unreserved)
        {
          g_assert_cmpstr (encoded, ==, raw);
        }
      else
        {
          g_autofree char *expected = g_strdup_printf ("%%%02X", c);

          g_assert_cmpstr (encoded, ==, expected);
        }
    }
}

static void
test_sort_order (void)
{
  g_autoptr(GHashTable) params = params_new ("RecordFormat.2.Format", "mp4",
                                             "RecordFormat.10.Format", "flv",
                                             "RecordFormat.1.Format", "m3u8",
                                             "a", "lower",
                                             "Z", "upper",
                                             "Action", "x y*~",
                                             NULL);
  g_autofree char *string_to_sign = lt_api_string_to_sign ("GET", params);

  /* Bytewise: '.' < '0', so "1." < "10" < "2."; upper case before lower case. The value
   * is encoded twice: ' ' → %20 → %2520, '*' → %2A → %252A, '~' stays. */
  g_assert_cmpstr (string_to_sign, ==,
                   "GET&%2F&Action%3Dx%2520y%252A~"
                   "%26RecordFormat.1.Format%3Dm3u8"
                   "%26RecordFormat.10.Format%3Dflv"
                   "%26RecordFormat.2.Format%3Dmp4"
                   "%26Z%3Dupper"
                   "%26a%3Dlower");
}

static void
test_empty_params (void)
{
  g_autoptr(GHashTable) params = params_new ("Signature", "ignored", NULL);
  g_autofree char *string_to_sign = lt_api_string_to_sign ("GET", params);
  g_autoptr(GHashTable) empty_value = params_new ("A", "", NULL);
  g_autofree char *empty_value_string = lt_api_string_to_sign ("GET", empty_value);

  g_assert_cmpstr (string_to_sign, ==, "GET&%2F&");
  g_assert_cmpstr (empty_value_string, ==, "GET&%2F&A%3D");
}

static void
test_time (void)
{
  static const char * const invalid[] = {
    "", "2017-06-14", "2017-06-14T09:51:14", "2017-06-14T09:51:14z", "2017-06-14t09:51:14Z",
    "2017-06-14 09:51:14Z", "2017-06-14T09:51:14+08:00", "2017-06-14T09:51:14.000Z",
    "2017-13-14T09:51:14Z", "2017-00-14T09:51:14Z", "2017-02-29T00:00:00Z",
    "2017-06-31T00:00:00Z", "2017-06-14T24:00:00Z", "2017-06-14T09:60:00Z",
    "2017-06-14T09:51:60Z", "0000-01-01T00:00:00Z", "20170-6-14T09:51:14Z",
    "2017-06-14T09:51:1aZ", " 2017-06-14T09:51:14Z", "2017-06-14T09:51:14Z ",
    "+017-06-14T09:51:14Z",
  };
  g_autofree char *text = NULL;
  gint64 t = -1;

  g_assert_true (lt_api_parse_time ("2017-06-14T09:51:14Z", &t));
  g_assert_cmpint (t, ==, 1497433874);
  text = lt_api_format_time (t);
  g_assert_cmpstr (text, ==, "2017-06-14T09:51:14Z");

  g_assert_true (lt_api_parse_time ("1970-01-01T00:00:00Z", &t));
  g_assert_cmpint (t, ==, 0);
  g_assert_true (lt_api_parse_time ("2024-02-29T23:59:59Z", &t));
  g_assert_cmpint (t, ==, 1709251199);

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      t = -1;
      g_assert_false (lt_api_parse_time (invalid[i], &t));
      g_assert_cmpint (t, ==, -1);
    }
  g_assert_false (lt_api_parse_time (NULL, &t));
}

static void
test_error_table (void)
{
  static const struct
  {
    LtApiError  code;
    const char *name;
    guint       status;
  } table[] = {
    { LT_API_ERROR_INTERNAL, "InternalError", 500 },
    { LT_API_ERROR_MISSING_PARAMETER, "MissingParameter", 400 },
    { LT_API_ERROR_INVALID_PARAMETER, "InvalidParameter", 400 },
    { LT_API_ERROR_ACTION_NOT_FOUND, "InvalidAction.NotFound", 404 },
    { LT_API_ERROR_ACCESS_KEY_NOT_FOUND, "InvalidAccessKeyId.NotFound", 404 },
    { LT_API_ERROR_SIGNATURE_DOES_NOT_MATCH, "SignatureDoesNotMatch", 400 },
    { LT_API_ERROR_NONCE_USED, "SignatureNonceUsed", 400 },
    { LT_API_ERROR_TIMESTAMP_EXPIRED, "InvalidTimeStamp.Expired", 400 },
    { LT_API_ERROR_THROTTLING, "Throttling", 400 },
    { LT_API_ERROR_STREAM_NOT_FOUND, "InvalidStream.NotFound", 404 },
    { LT_API_ERROR_TASK_ALREADY_STARTED, "TaskAlreadyStarted", 409 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      g_assert_cmpstr (lt_api_error_code_name (table[i].code), ==, table[i].name);
      g_assert_cmpuint (lt_api_error_http_status (table[i].code), ==, table[i].status);
    }
  /* Out of range: the catch-all. */
  g_assert_cmpstr (lt_api_error_code_name (999), ==, "InternalError");
  g_assert_cmpuint (lt_api_error_http_status (999), ==, 500);
}

static void
test_json_to_xml (void)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GHashTable) text = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autofree char *xml = NULL;
  g_autoptr(GError) error = NULL;

  node = json_from_string ("{\"RequestId\":\"R1\",\"TotalNum\":2,\"Ok\":true,\"Ratio\":0.5,"
                           "\"Nothing\":null,"
                           "\"LiveAppRecordList\":{\"LiveAppRecord\":["
                           "{\"AppName\":\"a<&>'\\\"\",\"RecordFormatList\":{\"RecordFormat\":"
                           "[{\"Format\":\"m3u8\"},{\"Format\":\"mp4\"}]}},"
                           "{\"AppName\":\"直播\\u0001x\",\"RecordFormatList\":{\"RecordFormat\":[]}}]},"
                           "\"Templates\":[\"t1\",\"t2\",\"t3\"]}", &error);
  g_assert_no_error (error);

  xml = lt_api_json_to_xml ("DescribeLiveRecordConfigResponse", node);
  lt_test_read_xml (xml, NULL, &text, &counts);

#define R "DescribeLiveRecordConfigResponse"
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (counts, R)), ==, 1);
  g_assert_cmpstr (g_hash_table_lookup (text, R "/RequestId"), ==, "R1");
  g_assert_cmpstr (g_hash_table_lookup (text, R "/TotalNum"), ==, "2");
  g_assert_cmpstr (g_hash_table_lookup (text, R "/Ok"), ==, "true");
  g_assert_cmpstr (g_hash_table_lookup (text, R "/Ratio"), ==, "0.5");
  g_assert_cmpstr (g_hash_table_lookup (text, R "/Nothing"), ==, "");
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (counts, R "/LiveAppRecordList")), ==, 1);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (counts, R "/LiveAppRecordList/LiveAppRecord")), ==, 2);
  /* Both records' formats: 2 + 0. */
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (counts, R "/LiveAppRecordList/LiveAppRecord/RecordFormatList/RecordFormat")), ==, 2);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (counts, R "/LiveAppRecordList/LiveAppRecord/RecordFormatList")), ==, 2);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (counts, R "/Templates")), ==, 3);
  g_assert_cmpstr (g_hash_table_lookup (text, R "/Templates"), ==, "t3");
  /* The last record's name: a control character cannot be written in XML 1.0 and is
   * replaced; the rest survives. */
  g_assert_cmpstr (g_hash_table_lookup (text, R "/LiveAppRecordList/LiveAppRecord/AppName"), ==,
                   "直播\xef\xbf\xbdx");
  g_assert_nonnull (strstr (xml, "<AppName>a&lt;&amp;&gt;&apos;&quot;</AppName>"));
  g_assert_nonnull (strstr (xml, "<RecordFormatList><RecordFormat><Format>m3u8</Format></RecordFormat>"
                                 "<RecordFormat><Format>mp4</Format></RecordFormat></RecordFormatList>"));
#undef R
}

int
main (int    argc,
      char **argv)
{
  lt_test_init (&argc, &argv);

  g_test_add_func ("/api-signature/spec-vector", test_spec_vector);
  g_test_add_func ("/api-signature/signature-ignored", test_signature_ignored);
  g_test_add_func ("/api-signature/method-and-secret", test_method_and_secret);
  g_test_add_func ("/api-signature/percent-encode", test_percent_encode);
  g_test_add_func ("/api-signature/percent-encode-all-bytes", test_percent_encode_all_bytes);
  g_test_add_func ("/api-signature/sort-order", test_sort_order);
  g_test_add_func ("/api-signature/empty-params", test_empty_params);
  g_test_add_func ("/api-signature/time", test_time);
  g_test_add_func ("/api-signature/error-table", test_error_table);
  g_test_add_func ("/api-signature/json-to-xml", test_json_to_xml);

  return g_test_run ();
}
