/* test-s3-sigv4.c: our SigV4 signer against the AWS signing test suite (the cases that
 * apply to S3, vendored in tests/data/aws-sigv4), byte for byte: canonical request, string
 * to sign, signature and Authorization header, signed with the header and presigned; plus
 * the S3 path rules for hostile keys. */
#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>

#include "lt-s3-sigv4.h"
#include "lt-test-utils.h"

/* Every case of the suite whose path S3 signs unnormalised (31 of 38; see the README
 * next to the data). Fewer means a case went missing from the copy. */
#define EXPECTED_CASES 31

static guint header_cases_run;
static guint query_cases_run;

typedef struct
{
  char      *method;
  char      *path;        /* decoded: as a key would be given */
  char      *query;       /* as in the request line; NULL when none */
  GPtrArray *names;
  GPtrArray *values;
  GBytes    *body;
} Request;

static void
request_free (Request *request)
{
  g_free (request->method);
  g_free (request->path);
  g_free (request->query);
  g_ptr_array_unref (request->names);
  g_ptr_array_unref (request->values);
  g_bytes_unref (request->body);
  g_free (request);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Request, request_free)

static char *
read_case_file (const char *dir,
                const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

/* request.txt: "METHOD PATH[?QUERY] HTTP/1.1", header lines (a line starting with
 * whitespace continues the previous value), a blank line, the body. */
static Request *
parse_request (const char *text)
{
  Request *request = g_new0 (Request, 1);
  const char *line_end = strchr (text, '\n');
  g_autofree char *first = g_strndup (text, line_end != NULL ? line_end - text : (gssize) strlen (text));
  const char *space = strchr (first, ' ');
  const char *proto = g_strrstr (first, " HTTP/");
  g_autofree char *target = NULL;
  const char *question;
  const char *p;

  g_assert_nonnull (space);
  g_assert_nonnull (proto);
  request->method = g_strndup (first, space - first);
  target = g_strndup (space + 1, proto - space - 1);
  question = strchr (target, '?');
  if (question != NULL)
    {
      request->path = g_strndup (target, question - target);
      request->query = g_strdup (question + 1);
    }
  else
    request->path = g_strdup (target);
  request->names = g_ptr_array_new_with_free_func (g_free);
  request->values = g_ptr_array_new_with_free_func (g_free);

  p = line_end != NULL ? line_end + 1 : text + strlen (text);
  while (*p != '\0')
    {
      const char *end = strchr (p, '\n');
      g_autofree char *line = g_strndup (p, end != NULL ? end - p : (gssize) strlen (p));

      p = end != NULL ? end + 1 : p + strlen (p);
      if (line[0] == '\0')
        break;
      if (line[0] == ' ' || line[0] == '\t')
        {
          char *previous = g_ptr_array_index (request->values, request->values->len - 1);

          request->values->pdata[request->values->len - 1] = g_strconcat (previous, "\n",
                                                                          line, NULL);
          g_free (previous);
          continue;
        }
      {
        const char *colon = strchr (line, ':');

        g_assert_nonnull (colon);
        g_ptr_array_add (request->names, g_strndup (line, colon - line));
        g_ptr_array_add (request->values, g_strdup (colon + 1));
      }
    }
  request->body = g_bytes_new (p, strlen (p));
  return request;
}

typedef struct
{
  char     *dir;
  char     *name;
} Case;

static void
case_free (gpointer data)
{
  Case *c = data;

  g_free (c->dir);
  g_free (c->name);
  g_free (c);
}

typedef struct
{
  JsonParser      *parser;
  LtS3Credentials  credentials;
  char            *amz_date;
  gboolean         sign_body;
  gboolean         omit_session_token;
  guint            expires;
} Context;

static void
context_clear (Context *context)
{
  g_clear_object (&context->parser);
  g_clear_pointer (&context->amz_date, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Context, context_clear)

static void
read_context (const char *dir,
              Context    *context)
{
  g_autofree char *json = read_case_file (dir, "context.json");
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) time = NULL;
  JsonObject *root;
  JsonObject *credentials;

  context->parser = json_parser_new ();
  json_parser_load_from_data (context->parser, json, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (context->parser));
  credentials = json_object_get_object_member (root, "credentials");
  context->credentials.access_key_id = json_object_get_string_member (credentials,
                                                                      "access_key_id");
  context->credentials.secret_access_key =
    json_object_get_string_member (credentials, "secret_access_key");
  context->credentials.session_token =
    json_object_get_string_member_with_default (credentials, "token", NULL);
  context->credentials.region = json_object_get_string_member (root, "region");
  context->credentials.service = json_object_get_string_member (root, "service");
  context->sign_body = json_object_get_boolean_member (root, "sign_body");
  context->omit_session_token =
    json_object_get_boolean_member_with_default (root, "omit_session_token", FALSE);
  context->expires = (guint) json_object_get_int_member (root, "expiration_in_seconds");
  time = g_date_time_new_from_iso8601 (json_object_get_string_member (root, "timestamp"),
                                       NULL);
  g_assert_nonnull (time);
  context->amz_date = lt_s3_sigv4_amz_date (g_date_time_to_unix (time));
}

static GArray *
request_headers (Request *request)
{
  GArray *headers = g_array_new (FALSE, FALSE, sizeof (LtS3Header));

  for (guint i = 0; i < request->names->len; i++)
    {
      LtS3Header header = { request->names->pdata[i], request->values->pdata[i] };
      g_array_append_val (headers, header);
    }
  return headers;
}

static void
test_header_case (gconstpointer data)
{
  const Case *c = data;
  g_auto(Context) context = { 0 };
  g_autofree char *request_text = read_case_file (c->dir, "request.txt");
  g_autofree char *expected_creq = read_case_file (c->dir, "header-canonical-request.txt");
  g_autofree char *expected_sts = read_case_file (c->dir, "header-string-to-sign.txt");
  g_autofree char *expected_sig = read_case_file (c->dir, "header-signature.txt");
  g_autofree char *signed_request = read_case_file (c->dir, "header-signed-request.txt");
  g_autoptr(Request) request = parse_request (request_text);
  g_autoptr(GArray) headers = request_headers (request);
  g_autofree char *payload_hash = NULL;
  g_autofree char *expected_authz = NULL;
  g_auto(LtS3Signature) signature = { 0 };
  const char *authz;
  gsize body_length;
  const void *body = g_bytes_get_data (request->body, &body_length);

  read_context (c->dir, &context);
  payload_hash = lt_s3_sigv4_sha256_hex (body, body_length);
  {
    LtS3Header date = { "X-Amz-Date", context.amz_date };
    g_array_append_val (headers, date);
  }
  if (context.credentials.session_token != NULL && !context.omit_session_token)
    {
      LtS3Header token = { "X-Amz-Security-Token", context.credentials.session_token };
      g_array_append_val (headers, token);
    }
  if (context.sign_body)
    {
      LtS3Header sha = { "x-amz-content-sha256", payload_hash };
      g_array_append_val (headers, sha);
    }

  lt_s3_sigv4_sign (&context.credentials, request->method, request->path, request->query,
                    (const LtS3Header *) headers->data, headers->len, payload_hash,
                    context.amz_date, &signature);

  g_assert_cmpstr (signature.canonical_request, ==, expected_creq);
  g_assert_cmpstr (signature.string_to_sign, ==, expected_sts);
  g_assert_cmpstr (signature.signature, ==, g_strstrip (expected_sig));

  authz = strstr (signed_request, "\nAuthorization:");
  g_assert_nonnull (authz);
  authz += strlen ("\nAuthorization:");
  expected_authz = g_strndup (authz, strcspn (authz, "\r\n"));
  g_assert_cmpstr (signature.authorization, ==, expected_authz);
  header_cases_run++;
}

static void
test_query_case (gconstpointer data)
{
  const Case *c = data;
  g_auto(Context) context = { 0 };
  g_autofree char *request_text = read_case_file (c->dir, "request.txt");
  g_autofree char *expected_creq = read_case_file (c->dir, "query-canonical-request.txt");
  g_autofree char *expected_sts = read_case_file (c->dir, "query-string-to-sign.txt");
  g_autofree char *expected_sig = read_case_file (c->dir, "query-signature.txt");
  g_autoptr(Request) request = parse_request (request_text);
  g_autoptr(GArray) headers = request_headers (request);
  g_autofree char *payload_hash = NULL;
  g_autofree char *query = NULL;
  g_auto(LtS3Signature) signature = { 0 };
  LtS3Credentials credentials;
  gsize body_length;
  const void *body = g_bytes_get_data (request->body, &body_length);

  read_context (c->dir, &context);
  payload_hash = lt_s3_sigv4_sha256_hex (body, body_length);
  credentials = context.credentials;
  /* "omit": the token is added to the URL after signing, so it is not signed. */
  if (context.omit_session_token)
    credentials.session_token = NULL;

  query = lt_s3_sigv4_presign (&credentials, request->method, request->path, request->query,
                               (const LtS3Header *) headers->data, headers->len,
                               payload_hash, context.amz_date, context.expires, &signature);

  g_assert_cmpstr (signature.canonical_request, ==, expected_creq);
  g_assert_cmpstr (signature.string_to_sign, ==, expected_sts);
  g_assert_cmpstr (signature.signature, ==, g_strstrip (expected_sig));
  g_assert_nonnull (strstr (query, signature.signature));
  query_cases_run++;
}

static void
test_case_count (void)
{
  g_test_message ("AWS SigV4 cases run: %u with the Authorization header, %u presigned "
                  "(expected %u each)", header_cases_run, query_cases_run, EXPECTED_CASES);
  g_assert_cmpuint (header_cases_run, ==, EXPECTED_CASES);
  g_assert_cmpuint (query_cases_run, ==, EXPECTED_CASES);
}

/* S3 keys are paths taken literally: no dot-segment removal, no slash merging, one
 * encoding pass; and the query is decoded then re-encoded, so an encoded and a raw
 * spelling sign alike. */
static void
test_s3_paths (void)
{
  static const struct { const char *path; const char *expected; } cases[] = {
    { "", "/" },
    { "/bucket/a/./b/../c", "/bucket/a/./b/../c" },
    { "/bucket//x//", "/bucket//x//" },
    { "/bucket/100% sure", "/bucket/100%25%20sure" },
    { "/bucket/%41", "/bucket/%2541" },
    { "/bucket/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac", "/bucket/caf%C3%A9/%E6%97%A5%E6%9C%AC" },
    { "/bucket/a+b=c&d?e#f", "/bucket/a%2Bb%3Dc%26d%3Fe%23f" },
    { "/bucket/-._~", "/bucket/-._~" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = lt_s3_sigv4_canonical_path (cases[i].path);
      g_assert_cmpstr (got, ==, cases[i].expected);
    }

  {
    g_autofree char *a = lt_s3_sigv4_canonical_query ("uploadId=a%2Fb&partNumber=3");
    g_autofree char *b = lt_s3_sigv4_canonical_query ("partNumber=3&uploadId=a/b");
    g_autofree char *c = lt_s3_sigv4_canonical_query ("uploads");
    g_autofree char *d = lt_s3_sigv4_canonical_query (NULL);

    g_assert_cmpstr (a, ==, "partNumber=3&uploadId=a%2Fb");
    g_assert_cmpstr (b, ==, a);
    g_assert_cmpstr (c, ==, "uploads=");
    g_assert_cmpstr (d, ==, "");
  }
}

/* The GET example of the S3 documentation ("Signature Calculations for the Authorization
 * Header: Transferring Payload in a Single Chunk"), with its Range header and the signed
 * x-amz-content-sha256. */
static void
test_s3_documentation_example (void)
{
  const LtS3Credentials credentials = {
    .access_key_id = "AKIAIOSFODNN7EXAMPLE",
    .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    .region = "us-east-1",
    .service = "s3",
  };
  const LtS3Header headers[] = {
    { "Host", "examplebucket.s3.amazonaws.com" },
    { "Range", "bytes=0-9" },
    { "x-amz-content-sha256", LT_S3_SIGV4_EMPTY_SHA256 },
    { "x-amz-date", "20130524T000000Z" },
  };
  g_auto(LtS3Signature) signature = { 0 };

  lt_s3_sigv4_sign (&credentials, "GET", "/test.txt", NULL, headers, G_N_ELEMENTS (headers),
                    LT_S3_SIGV4_EMPTY_SHA256, "20130524T000000Z", &signature);
  g_assert_cmpstr (signature.signed_headers, ==, "host;range;x-amz-content-sha256;x-amz-date");
  g_assert_cmpstr (signature.signature, ==,
                   "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

static void
test_amz_date (void)
{
  g_autofree char *date = lt_s3_sigv4_amz_date (1440938160);

  g_assert_cmpstr (date, ==, "20150830T123600Z");
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *root = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (case_free);
  g_autoptr(GError) error = NULL;
  const char *name;

  lt_test_init (&argc, &argv);

  root = g_test_build_filename (G_TEST_DIST, "data", "aws-sigv4", NULL);
  dir = g_dir_open (root, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (root, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, compare_names);

  g_test_add_func ("/s3-sigv4/s3-paths", test_s3_paths);
  g_test_add_func ("/s3-sigv4/amz-date", test_amz_date);
  g_test_add_func ("/s3-sigv4/s3-documentation-example", test_s3_documentation_example);
  for (guint i = 0; i < names->len; i++)
    {
      Case *c = g_new0 (Case, 1);
      g_autofree char *header_path = NULL;
      g_autofree char *query_path = NULL;

      c->name = g_strdup (names->pdata[i]);
      c->dir = g_build_filename (root, c->name, NULL);
      g_ptr_array_add (cases, c);
      header_path = g_strdup_printf ("/s3-sigv4/aws-suite/header/%s", c->name);
      query_path = g_strdup_printf ("/s3-sigv4/aws-suite/query/%s", c->name);
      g_test_add_data_func (header_path, c, test_header_case);
      g_test_add_data_func (query_path, c, test_query_case);
    }
  /* In a suite of its own created last: GLib runs a suite's own cases before its
   * sub-suites, and sub-suites in the order they were created. */
  g_test_add_func ("/s3-sigv4/zz/case-count", test_case_count);

  return g_test_run ();
}
