/* test-s3-client.c: LtS3Client against two real S3 servers on loopback — s3rver (npm,
 * tests/package.json) and our strict server (tests/integration/s3strict.py), which checks
 * every signature with botocore and every Content-MD5, and injects faults on demand.
 * Objects with hostile keys and sizes are read back and compared; multipart uploads are
 * listed, completed and aborted; every fault class must map to its error code. The
 * generated secret must never show up in any log, error or server output. */
#include "config.h"

#include <string.h>

#include "lt-s3-client.h"
#include "lt-test-s3.h"
#include "lt-test-utils.h"

#define BUCKET "livetape-test"
/* Requests in flight per client. */
#define CONNECTIONS 4

static LtTestS3Server strict_server = { .name = "strict", .strict = TRUE, .bucket = BUCKET };
static LtTestS3Server s3rver_server = { .name = "s3rver", .strict = FALSE, .bucket = BUCKET };
static GString *captured_logs;
/* Requests the tests sign wrongly on purpose: the strict server counts them. */
static guint expected_mismatches;

/* ---- helpers -------------------------------------------------------------------------- */

static GLogWriterOutput
capture_log_writer (GLogLevelFlags   level,
                    const GLogField *fields,
                    gsize            n_fields,
                    gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
      {
        g_string_append (captured_logs, fields[i].value);
        g_string_append_c (captured_logs, '\n');
      }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

static void
assert_no_secret (const char *text)
{
  if (text == NULL)
    return;
  g_assert_null (strstr (text, strict_server.secret));
}

static char *
write_random_file (const char *dir,
                   const char *name,
                   gsize       size)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree guint8 *data = g_malloc (MAX (size, 1));
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i + 4 <= size; i += 4)
    {
      guint32 r = g_random_int ();
      memcpy (data + i, &r, 4);
    }
  for (gsize i = size - size % 4; i < size; i++)
    data[i] = (guint8) g_random_int ();
  g_file_set_contents (path, (const char *) data, (gssize) size, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

static char *
file_md5 (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  return g_compute_checksum_for_data (G_CHECKSUM_MD5, (const guchar *) contents, length);
}

/* Synchronous wrappers: each iterates the main context until its operation finishes. */

static char *
put_file (LtS3Client  *client,
          const char  *key,
          const char  *path,
          GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (path);

  lt_s3_client_put_object_async (client, key, file, NULL, NULL, NULL, NULL, NULL,
                                 lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_s3_client_put_object_finish (client, result, error);
}

static char *
get_file (LtS3Client  *client,
          const char  *key,
          const char  *path,
          GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (path);

  lt_s3_client_get_object_async (client, key, file, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_s3_client_get_object_finish (client, result, error);
}

static gboolean
head_bucket (LtS3Client  *client,
             GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_s3_client_head_bucket_async (client, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_s3_client_head_bucket_finish (client, result, error);
}

static char *
create_upload (LtS3Client  *client,
               const char  *key,
               GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_s3_client_create_multipart_async (client, key, NULL, NULL, lt_test_store_result_cb,
                                       &result);
  lt_test_wait_result (&result);
  return lt_s3_client_create_multipart_finish (client, result, error);
}

static char *
upload_part (LtS3Client  *client,
             const char  *key,
             const char  *upload_id,
             guint        number,
             const char  *path,
             goffset      offset,
             goffset      length,
             GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (path);

  lt_s3_client_upload_part_async (client, key, upload_id, number, file, offset, length, NULL,
                                  NULL, NULL, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_s3_client_upload_part_finish (client, result, error);
}

static char *
complete_upload_md5 (LtS3Client  *client,
                     const char  *key,
                     const char  *upload_id,
                     GPtrArray   *parts,
                     const char  *object_md5,
                     GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_s3_client_complete_multipart_with_md5_async (client, key, upload_id, parts, object_md5,
                                                  NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_s3_client_complete_multipart_finish (client, result, error);
}

static char *
complete_upload (LtS3Client  *client,
                 const char  *key,
                 const char  *upload_id,
                 GPtrArray   *parts,
                 GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_s3_client_complete_multipart_async (client, key, upload_id, parts, NULL,
                                         lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_s3_client_complete_multipart_finish (client, result, error);
}

static gboolean
abort_upload (LtS3Client  *client,
              const char  *key,
              const char  *upload_id,
              GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_s3_client_abort_multipart_async (client, key, upload_id, NULL, lt_test_store_result_cb,
                                      &result);
  lt_test_wait_result (&result);
  return lt_s3_client_abort_multipart_finish (client, result, error);
}

static GPtrArray *
list_parts (LtS3Client  *client,
            const char  *key,
            const char  *upload_id,
            GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_s3_client_list_parts_async (client, key, upload_id, NULL, lt_test_store_result_cb,
                                 &result);
  lt_test_wait_result (&result);
  return lt_s3_client_list_parts_finish (client, result, error);
}

static GPtrArray *
list_uploads (LtS3Client  *client,
              const char  *prefix,
              GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_s3_client_list_multipart_uploads_async (client, prefix, NULL, lt_test_store_result_cb,
                                             &result);
  lt_test_wait_result (&result);
  return lt_s3_client_list_multipart_uploads_finish (client, result, error);
}

static gboolean
delete_object (LtS3Client  *client,
               const char  *key,
               GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_s3_client_delete_object_async (client, key, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_s3_client_delete_object_finish (client, result, error);
}

/* Keys as a recorder's templates might make them: dot segments, percent signs, spaces,
 * reserved characters, UTF-8. s3rver keeps objects as files named after the key, so it
 * cannot hold keys whose path would collapse ("x//y", a trailing ".."): those go to the
 * strict server only. */
static const struct { const char *key; gboolean strict_only; } hostile_keys[] = {
  { "a/./b/../c.ts", FALSE },
  { "100% sure/of%41this", FALSE },
  { "spaces  in  the name.m3u8", FALSE },
  { "\xe7\x9b\xb4\xe6\x92\xad/\xe5\xbd\x95\xe5\x83\x8f-\xc3\xa9t\xc3\xa9.mp4", FALSE },
  { "plus+equals=amp&question?hash#.flv", FALSE },
  { "tilde~dash-dot.underscore_", FALSE },
  { "x//double//slash", TRUE },
  { "./leading/dot", TRUE },
  { "trailing/..", TRUE },
};

/* ---- tests ---------------------------------------------------------------------------- */

static void
test_roundtrip (gconstpointer data)
{
  LtTestS3Server *server = (LtTestS3Server *) data;
  g_autoptr(LtS3Client) client = lt_test_s3_make_client (server, NULL, NULL, CONNECTIONS, 30);
  g_autofree char *dir = lt_test_make_temp_dir ();
  static const gsize sizes[] = { 0, 1, 1000, 20 * 1024 * 1024 };

  for (guint i = 0; i < G_N_ELEMENTS (hostile_keys); i++)
    {
      const char *key = hostile_keys[i].key;
      gsize size = sizes[i % G_N_ELEMENTS (sizes)];
      g_autofree char *name = g_strdup_printf ("up-%u", i);
      g_autofree char *back_name = g_strdup_printf ("down-%u", i);
      g_autofree char *path = write_random_file (dir, name, size);
      g_autofree char *back = g_build_filename (dir, back_name, NULL);
      g_autofree char *md5 = file_md5 (path);
      g_autofree char *etag = NULL;
      g_autofree char *etag_back = NULL;
      g_autofree char *md5_back = NULL;
      g_autoptr(GError) error = NULL;

      if (hostile_keys[i].strict_only && !server->strict)
        continue;
      g_test_message ("%s: key “%s”, %" G_GSIZE_FORMAT " bytes", server->name, key, size);
      etag = put_file (client, key, path, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (etag, ==, md5);

      etag_back = get_file (client, key, back, &error);
      g_assert_no_error (error);
      md5_back = file_md5 (back);
      g_assert_cmpstr (md5_back, ==, md5);
      g_assert_cmpstr (etag_back, ==, md5);
    }

  /* The dot segments were not resolved: "a/./b/../c.ts" is not "a/c.ts" (s3rver's file
   * store resolves them itself, after the signed request arrived verbatim). */
  if (server->strict)
  {
    g_autofree char *back = g_build_filename (dir, "missing", NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *etag = get_file (client, "a/c.ts", back, &error);

    g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_NO_SUCH_KEY);
    g_assert_null (etag);
  }

  for (guint i = 0; i < G_N_ELEMENTS (hostile_keys); i++)
    {
      g_autoptr(GError) error = NULL;

      if (hostile_keys[i].strict_only && !server->strict)
        continue;
      /* s3rver fails (500) to delete a key with dot segments: its file store tries to
       * remove the directories it thinks the key has. Its data dir goes at the end. */
      if (!server->strict && strstr (hostile_keys[i].key, "/./") != NULL)
        continue;
      delete_object (client, hostile_keys[i].key, &error);
      g_assert_no_error (error);
    }
}

static void
test_put_bytes_head (gconstpointer data)
{
  LtTestS3Server *server = (LtTestS3Server *) data;
  g_autoptr(LtS3Client) client = lt_test_s3_make_client (server, NULL, NULL, CONNECTIONS, 30);
  g_autoptr(GBytes) bytes = g_bytes_new_static ("#EXTM3U\n", 8);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) head = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *etag = NULL;
  g_autofree char *head_etag = NULL;
  guint64 size = 0;

  lt_s3_client_put_bytes_async (client, "live/index.m3u8", bytes,
                                "application/vnd.apple.mpegurl", NULL,
                                lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  etag = lt_s3_client_put_bytes_finish (client, result, &error);
  g_assert_no_error (error);
  {
    g_autofree char *md5 = g_compute_checksum_for_bytes (G_CHECKSUM_MD5, bytes);
    g_assert_cmpstr (etag, ==, md5);
  }

  lt_s3_client_head_object_async (client, "live/index.m3u8", NULL, lt_test_store_result_cb,
                                  &head);
  lt_test_wait_result (&head);
  head_etag = lt_s3_client_head_object_finish (client, head, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (head_etag, ==, etag);
  g_assert_cmpuint (size, ==, 8);
}

static void
test_check_writable (gconstpointer data)
{
  LtTestS3Server *server = (LtTestS3Server *) data;
  g_autoptr(LtS3Client) client = lt_test_s3_make_client (server, NULL, NULL, CONNECTIONS, 30);
  g_autoptr(LtS3Client) nowhere = lt_test_s3_make_client (server, "no-such-bucket-here", NULL,
                                                          CONNECTIONS, 30);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) result2 = NULL;
  g_autoptr(GError) error = NULL;

  lt_s3_client_check_writable_async (client, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_s3_client_check_writable_finish (client, result, &error));
  g_assert_no_error (error);

  lt_s3_client_check_writable_async (nowhere, NULL, lt_test_store_result_cb, &result2);
  lt_test_wait_result (&result2);
  g_assert_false (lt_s3_client_check_writable_finish (nowhere, result2, &error));
  g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_NO_SUCH_BUCKET);
  g_assert_true (lt_s3_error_is_permanent (error));
}

static void
test_multipart (gconstpointer data)
{
  LtTestS3Server *server = (LtTestS3Server *) data;
  g_autoptr(LtS3Client) client = lt_test_s3_make_client (server, NULL, NULL, CONNECTIONS, 30);
  g_autofree char *dir = lt_test_make_temp_dir ();
  const goffset part_size = 5 * 1024 * 1024;
  const gsize size = 3 * part_size + 12345;
  g_autofree char *path = write_random_file (dir, "big", size);
  g_autofree char *back = g_build_filename (dir, "big-back", NULL);
  g_autofree char *md5 = file_md5 (path);
  g_autofree char *md5_back = NULL;
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_s3_part_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *upload_id = NULL;
  g_autofree char *etag = NULL;
  g_autofree char *expected = NULL;
  const char *key = "sessions/./2026/../multi part \xe2\x9c\x93.mp4";
  guint n_parts = 0;

  if (server->strict)
    g_free (lt_test_s3_control (server, "config", "{\"page_size\": 2}"));

  upload_id = create_upload (client, key, &error);
  g_assert_no_error (error);
  for (goffset offset = 0; offset < (goffset) size; offset += part_size)
    {
      goffset length = MIN (part_size, (goffset) size - offset);
      g_autofree char *part_etag = NULL;

      n_parts++;
      part_etag = upload_part (client, key, upload_id, n_parts, path, offset, length, &error);
      g_assert_no_error (error);
      g_ptr_array_add (parts, lt_s3_part_new (n_parts, part_etag, (guint64) length));
    }
  g_assert_cmpuint (n_parts, ==, 4);

  /* s3rver 3.7 implements neither ListParts, ListMultipartUploads nor
   * AbortMultipartUpload (405 / NotImplemented): those run against the strict server. */
  if (server->strict)
    {
      g_autoptr(GPtrArray) listed = NULL;
      g_autoptr(GPtrArray) uploads = NULL;

      /* Resuming starts from ListParts: every stored part, with its ETag and size (over
       * two pages). */
      listed = list_parts (client, key, upload_id, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (listed->len, ==, n_parts);
      for (guint i = 0; i < n_parts; i++)
        {
          LtS3Part *a = parts->pdata[i];
          LtS3Part *b = listed->pdata[i];

          g_assert_cmpuint (a->part_number, ==, b->part_number);
          g_assert_cmpstr (a->etag, ==, b->etag);
          g_assert_cmpuint (a->size, ==, b->size);
        }

      uploads = list_uploads (client, "sessions/", &error);
      g_assert_no_error (error);
      g_assert_cmpuint (uploads->len, ==, 1);
      g_assert_cmpstr (((LtS3Upload *) uploads->pdata[0])->key, ==, key);
      g_assert_cmpstr (((LtS3Upload *) uploads->pdata[0])->upload_id, ==, upload_id);
    }

  expected = lt_s3_multipart_etag (parts);
  if (server->strict)
    {
      etag = complete_upload (client, key, upload_id, parts, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (etag, ==, expected);
      g_assert_true (g_str_has_suffix (etag, "-4"));
    }
  else
    {
      /* s3rver's multipart ETag is the whole object's MD5, not S3's md5-of-md5s-N: the
       * plain check rejects it, the one given the object's MD5 accepts it. */
      g_autofree char *rejected = NULL;

      etag = complete_upload_md5 (client, key, upload_id, parts, md5, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (etag, ==, md5);
      rejected = lt_s3_multipart_etag (parts);
      g_assert_cmpstr (rejected, !=, etag);
    }

  g_free (get_file (client, key, back, &error));
  g_assert_no_error (error);
  md5_back = file_md5 (back);
  g_assert_cmpstr (md5_back, ==, md5);

  /* Abort: the upload and its parts are gone. */
  if (server->strict)
  {
    g_autofree char *aborted = create_upload (client, "sessions/aborted.mp4", &error);
    g_autofree char *part_etag = NULL;
    g_autoptr(GPtrArray) left = NULL;
    g_autoptr(GPtrArray) gone = NULL;

    g_assert_no_error (error);
    part_etag = upload_part (client, "sessions/aborted.mp4", aborted, 1, path, 0, part_size,
                             &error);
    g_assert_no_error (error);
    g_assert_true (abort_upload (client, "sessions/aborted.mp4", aborted, &error));
    g_assert_no_error (error);
    gone = list_parts (client, "sessions/aborted.mp4", aborted, &error);
    g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_NO_SUCH_UPLOAD);
    g_assert_null (gone);
    g_clear_error (&error);
    left = list_uploads (client, "sessions/", &error);
    g_assert_no_error (error);
    g_assert_cmpuint (left->len, ==, 0);
  }

  /* Orphans: several open uploads are all listed (over pages). */
  if (server->strict)
  {
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
    g_autoptr(GPtrArray) open = NULL;

    for (guint i = 0; i < 5; i++)
      {
        g_autofree char *k = g_strdup_printf ("orphans/%u.mp4", i % 3);

        g_ptr_array_add (ids, create_upload (client, k, &error));
        g_assert_no_error (error);
      }
    open = list_uploads (client, "orphans/", &error);
    g_assert_no_error (error);
    g_assert_cmpuint (open->len, ==, 5);
    for (guint i = 0; i < open->len; i++)
      {
        LtS3Upload *upload = open->pdata[i];

        g_assert_true (abort_upload (client, upload->key, upload->upload_id, &error));
        g_assert_no_error (error);
      }
  }

  /* s3rver cannot delete keys with dot segments (see test_roundtrip). */
  if (server->strict)
    {
      delete_object (client, key, &error);
      g_assert_no_error (error);
      g_free (lt_test_s3_control (server, "clear", "{}"));
    }
}

static GError *put_small (LtS3Client *client,
                          const char *key);

/* s3rver does not verify SigV4 signatures at all (its authentication middleware says
 * "unimplemented"), so a wrong secret is only caught by the strict server; a wrong key id
 * is caught by both. */
static void
test_bad_credentials (gconstpointer data)
{
  LtTestS3Server *server = (LtTestS3Server *) data;
  g_autoptr(GError) error = NULL;

  {
    LtS3Config config = {
      .endpoint = server->endpoint, .bucket = BUCKET, .path_style = TRUE,
      .access_key_id = "LTUNKNOWNKEYID",
    };
    g_autoptr(LtS3Client) wrong_id = lt_s3_client_new (&config, server->secret, &error);

    g_assert_no_error (error);
    error = put_small (wrong_id, "denied");
    g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_INVALID_ACCESS_KEY);
    g_assert_true (lt_s3_error_is_permanent (error));
    assert_no_secret (error->message);
    g_clear_error (&error);
  }

  if (server->strict)
    {
      g_autoptr(LtS3Client) wrong_secret =
        lt_test_s3_make_client (server, NULL, "not-the-secret-0123456789", CONNECTIONS, 30);

      /* A HEAD reply has no body: the status is all there is (403 → access denied). */
      g_assert_false (head_bucket (wrong_secret, &error));
      g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_ACCESS_DENIED);
      g_clear_error (&error);
      expected_mismatches++;

      error = put_small (wrong_secret, "denied");
      g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_SIGNATURE);
      g_assert_true (lt_s3_error_is_permanent (error));
      g_assert_cmpstr (lt_s3_error_get_s3_code (error), ==, "SignatureDoesNotMatch");
      g_assert_cmpuint (lt_s3_error_get_http_status (error), ==, 403);
      assert_no_secret (error->message);
      expected_mismatches++;
    }
}

/* Strict server only: faults. */

static GError *
put_small (LtS3Client *client,
           const char *key)
{
  g_autoptr(GBytes) bytes = g_bytes_new_static ("0123456789", 10);
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *etag = NULL;
  GError *error = NULL;

  lt_s3_client_put_bytes_async (client, key, bytes, NULL, NULL, lt_test_store_result_cb,
                                &result);
  lt_test_wait_result (&result);
  etag = lt_s3_client_put_bytes_finish (client, result, &error);
  g_assert_true ((etag == NULL) == (error != NULL));
  return error;
}

static void
test_fault_statuses (void)
{
  g_autoptr(LtS3Client) client = lt_test_s3_make_client (&strict_server, NULL, NULL,
                                                         CONNECTIONS, 30);
  static const struct { const char *fault; LtS3Error code; const char *s3_code; } cases[] = {
    { "{\"kind\": \"error\", \"status\": 500, \"code\": \"InternalError\"}", LT_S3_ERROR_TRANSIENT, "InternalError" },
    { "{\"kind\": \"error\", \"status\": 503, \"code\": \"SlowDown\"}", LT_S3_ERROR_TRANSIENT, "SlowDown" },
    { "{\"kind\": \"error\", \"status\": 503, \"code\": \"ServiceUnavailable\"}", LT_S3_ERROR_TRANSIENT, "ServiceUnavailable" },
    { "{\"kind\": \"error\", \"status\": 429, \"code\": \"TooManyRequests\"}", LT_S3_ERROR_TRANSIENT, "TooManyRequests" },
    { "{\"kind\": \"error\", \"status\": 403, \"code\": \"AccessDenied\"}", LT_S3_ERROR_ACCESS_DENIED, "AccessDenied" },
    { "{\"kind\": \"error\", \"status\": 403, \"code\": \"InvalidAccessKeyId\"}", LT_S3_ERROR_INVALID_ACCESS_KEY, "InvalidAccessKeyId" },
    { "{\"kind\": \"error\", \"status\": 400, \"code\": \"BadDigest\"}", LT_S3_ERROR_BAD_DIGEST, "BadDigest" },
    { "{\"kind\": \"error\", \"status\": 404, \"code\": \"NoSuchBucket\"}", LT_S3_ERROR_NO_SUCH_BUCKET, "NoSuchBucket" },
    { "{\"kind\": \"error\", \"status\": 400, \"code\": \"SomethingNew\"}", LT_S3_ERROR_FAILED, "SomethingNew" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *json = g_strdup_printf ("[%s]", cases[i].fault);
      g_autoptr(GError) error = NULL;

      g_free (lt_test_s3_control (&strict_server, "faults", json));
      error = put_small (client, "fault/status");
      g_assert_error (error, LT_S3_ERROR, (gint) cases[i].code);
      g_assert_cmpstr (lt_s3_error_get_s3_code (error), ==, cases[i].s3_code);
      g_assert_cmpint (lt_s3_error_is_retryable (error), ==,
                       cases[i].code == LT_S3_ERROR_TRANSIENT
                       || cases[i].code == LT_S3_ERROR_BAD_DIGEST);
      g_assert_cmpint (lt_s3_error_is_permanent (error), ==,
                       cases[i].code == LT_S3_ERROR_ACCESS_DENIED
                       || cases[i].code == LT_S3_ERROR_INVALID_ACCESS_KEY
                       || cases[i].code == LT_S3_ERROR_NO_SUCH_BUCKET);
    }
}

/* A storm of 5xx, then the object arrives: the caller's backoff loop gets through. */
static void
test_fault_storm (void)
{
  g_autoptr(LtS3Client) client = lt_test_s3_make_client (&strict_server, NULL, NULL,
                                                         CONNECTIONS, 30);
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *path = write_random_file (dir, "storm", 300000);
  g_autofree char *md5 = file_md5 (path);
  g_autofree char *etag = NULL;
  guint attempts = 0;

  g_free (lt_test_s3_control (&strict_server, "faults",
                              "[{\"kind\": \"error\", \"status\": 503, \"code\": \"SlowDown\"},"
                              " {\"kind\": \"error\", \"status\": 500},"
                              " {\"kind\": \"error\", \"status\": 503},"
                              " {\"kind\": \"error\", \"status\": 502},"
                              " {\"kind\": \"error\", \"status\": 429, \"code\": \"SlowDown\"}]"));
  while (etag == NULL)
    {
      g_autoptr(GError) error = NULL;

      etag = put_file (client, "fault/storm.ts", path, &error);
      if (etag == NULL)
        {
          g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_TRANSIENT);
          lt_test_spin (lt_s3_backoff_delay (attempts, 50));
        }
      attempts++;
      g_assert_cmpuint (attempts, <=, 6);
    }
  g_assert_cmpuint (attempts, ==, 6);
  g_assert_cmpstr (etag, ==, md5);
}

static void
test_fault_reset (void)
{
  g_autoptr(LtS3Client) client = lt_test_s3_make_client (&strict_server, NULL, NULL,
                                                         CONNECTIONS, 30);
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *path = write_random_file (dir, "reset", 3 * 1024 * 1024);
  g_autofree char *back = g_build_filename (dir, "reset-back", NULL);
  g_autofree char *md5 = file_md5 (path);
  g_autofree char *md5_back = NULL;

  /* Resets at random byte offsets of the body, five times in a row. */
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *etag = NULL;

      g_free (lt_test_s3_control (&strict_server, "faults",
                                  "[{\"kind\": \"reset\", \"method\": \"PUT\"}]"));
      etag = put_file (client, "fault/reset.ts", path, &error);
      g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_TRANSIENT);
      g_assert_null (etag);
    }
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *etag = put_file (client, "fault/reset.ts", path, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (etag, ==, md5);
    g_free (get_file (client, "fault/reset.ts", back, &error));
    g_assert_no_error (error);
    md5_back = file_md5 (back);
    g_assert_cmpstr (md5_back, ==, md5);
  }
}

/* File bodies go through lt-s3-wire on kept-alive connections: ten PUTs in a row use one
 * connection; a server that closes a connection after answering, without saying so (an
 * idle timeout), costs a new connection and no failed request, whether the close is seen
 * before the connection is taken again or only when the next request fails on it. */
static void
test_keep_alive (void)
{
  g_autoptr(LtS3Client) client = lt_test_s3_make_client (&strict_server, NULL, NULL,
                                                         CONNECTIONS, 30);
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *path = write_random_file (dir, "alive", 300 * 1024 + 7);
  g_autofree char *md5 = file_md5 (path);
  gint64 before = lt_test_s3_stat (&strict_server, "connections");

  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *key = g_strdup_printf ("alive/%u.ts", i);
      g_autofree char *etag = put_file (client, key, path, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (etag, ==, md5);
    }
  /* The control requests are connections of their own. */
  g_assert_cmpint (lt_test_s3_stat (&strict_server, "connections") - before, ==, 1 + 1);

  for (guint i = 0; i < 4; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *key = g_strdup_printf ("alive/closed-%u.ts", i);
      g_autofree char *etag = NULL;

      g_free (lt_test_s3_control (&strict_server, "faults",
                                  "[{\"kind\": \"close\", \"method\": \"PUT\"}]"));
      etag = put_file (client, key, path, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (etag, ==, md5);
      /* At once: the close may not have arrived when the next request takes it. */
      g_free (etag);
      etag = put_file (client, key, path, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (etag, ==, md5);
    }
  g_assert_cmpint (lt_test_s3_stat (&strict_server, "faults_pending"), ==, 0);
}

static void
test_fault_hang (void)
{
  g_autoptr(LtS3Client) client = lt_test_s3_make_client (&strict_server, NULL, NULL,
                                                         CONNECTIONS, 2);
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed;

  g_free (lt_test_s3_control (&strict_server, "faults", "[{\"kind\": \"hang\"}]"));
  error = put_small (client, "fault/hang");
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_TRANSIENT);
  g_assert_cmpint (lt_s3_error_get_http_status (error), ==, 0);
  g_assert_cmpint (elapsed, <, 15 * G_USEC_PER_SEC);
  g_clear_error (&error);

  /* The client works again right after. */
  error = put_small (client, "fault/hang");
  g_assert_no_error (error);
}

static void
test_fault_wrong_etag (void)
{
  g_autoptr(LtS3Client) client = lt_test_s3_make_client (&strict_server, NULL, NULL,
                                                         CONNECTIONS, 30);
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *path = write_random_file (dir, "etag", 6 * 1024 * 1024);
  g_autoptr(GError) error = NULL;
  g_autofree char *etag = NULL;
  g_autofree char *upload_id = NULL;
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_s3_part_free);

  g_free (lt_test_s3_control (&strict_server, "faults", "[{\"kind\": \"wrong_etag\"}]"));
  etag = put_file (client, "fault/etag.ts", path, &error);
  g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_BAD_DIGEST);
  g_assert_null (etag);
  g_clear_error (&error);

  upload_id = create_upload (client, "fault/etag-multi.mp4", &error);
  g_assert_no_error (error);
  g_free (lt_test_s3_control (&strict_server, "faults", "[{\"kind\": \"wrong_etag\"}]"));
  etag = upload_part (client, "fault/etag-multi.mp4", upload_id, 1, path, 0, 5 * 1024 * 1024,
                      &error);
  g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_BAD_DIGEST);
  g_clear_error (&error);
  for (guint n = 1; n <= 2; n++)
    {
      goffset offset = (n - 1) * 5 * 1024 * 1024;
      goffset length = n == 1 ? 5 * 1024 * 1024 : 1024 * 1024;
      g_autofree char *part = upload_part (client, "fault/etag-multi.mp4", upload_id, n, path,
                                           offset, length, &error);

      g_assert_no_error (error);
      g_ptr_array_add (parts, lt_s3_part_new (n, part, (guint64) length));
    }
  g_free (lt_test_s3_control (&strict_server, "faults", "[{\"kind\": \"wrong_etag\"}]"));
  etag = complete_upload (client, "fault/etag-multi.mp4", upload_id, parts, &error);
  g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_BAD_DIGEST);
  g_assert_null (etag);
}

static void
test_fault_skew (void)
{
  g_autoptr(LtS3Client) client = lt_test_s3_make_client (&strict_server, NULL, NULL,
                                                         CONNECTIONS, 30);
  g_autoptr(GError) error = NULL;
  gint64 now;
  gint64 offset;

  /* The server's clock runs an hour and a bit ahead. */
  g_free (lt_test_s3_control (&strict_server, "skew", "{\"seconds\": 4000}"));
  error = put_small (client, "fault/skew");
  g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_CLOCK_SKEW);
  g_assert_true (lt_s3_error_is_retryable (error));
  now = g_get_real_time () / G_USEC_PER_SEC;
  offset = lt_s3_error_get_server_time (error) - now;
  g_test_message ("server clock offset reported: %" G_GINT64_FORMAT " s", offset);
  g_assert_cmpint (offset, >, 4000 - 30);
  g_assert_cmpint (offset, <, 4000 + 30);
  g_clear_error (&error);

  /* Signing again with the offset gets through: each attempt is signed afresh. */
  lt_s3_client_set_clock_offset (client, offset);
  g_assert_cmpint (lt_s3_client_get_clock_offset (client), ==, offset);
  error = put_small (client, "fault/skew");
  g_assert_no_error (error);

  g_free (lt_test_s3_control (&strict_server, "clear", "{}"));
  lt_s3_client_set_clock_offset (client, 0);
  error = put_small (client, "fault/skew");
  g_assert_no_error (error);
}

typedef struct
{
  guint64 last;
  guint64 total;
  guint   calls;
} Progress;

static void
progress_cb (guint64  sent,
             guint64  total,
             gpointer user_data)
{
  Progress *progress = user_data;

  g_assert_cmpuint (sent, >=, progress->last);
  progress->last = sent;
  progress->total = total;
  progress->calls++;
}

static void
test_bandwidth_progress (void)
{
  g_autoptr(LtS3Client) client = lt_test_s3_make_client (&strict_server, NULL, NULL,
                                                         CONNECTIONS, 30);
  g_autoptr(LtS3Bandwidth) bandwidth = lt_s3_bandwidth_new (1024 * 1024);
  g_autofree char *dir = lt_test_make_temp_dir ();
  const gsize size = 3 * 1024 * 1024;
  g_autofree char *path = write_random_file (dir, "slow", size);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *etag = NULL;
  Progress progress = { 0 };
  gint64 start, elapsed;

  lt_s3_client_set_bandwidth (client, bandwidth);
  start = g_get_monotonic_time ();
  lt_s3_client_put_object_async (client, "slow/3mb.ts", file, "video/mp2t", progress_cb,
                                 &progress, NULL, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  etag = lt_s3_client_put_object_finish (client, result, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_no_error (error);
  g_assert_nonnull (etag);
  /* 3 MiB at 1 MiB/s with a one-second burst: about two seconds, surely more than 1.5. */
  g_test_message ("3 MiB at 1 MiB/s took %.2f s", elapsed / 1e6);
  g_assert_cmpint (elapsed, >, 3 * G_USEC_PER_SEC / 2);
  g_assert_cmpint (elapsed, <, 10 * G_USEC_PER_SEC);
  g_assert_cmpuint (progress.last, ==, size);
  g_assert_cmpuint (progress.total, ==, size);
  g_assert_cmpuint (progress.calls, >, 1);

  /* Unlimited again. */
  lt_s3_bandwidth_set_rate (bandwidth, 0);
  g_assert_cmpint (lt_s3_bandwidth_take (bandwidth, 100 * 1024 * 1024), ==, 0);
}

/* Cancelling an upload in flight is silent: G_IO_ERROR_CANCELLED, nothing else, soon. */
/* A body file shorter than the range being sent (the file shrank under the upload): the
 * request fails with that reason instead of hanging the server on a short body, and the
 * half-written connection is not used again: the next PUT is stored intact. */
static void
test_file_shrank (void)
{
  g_autoptr(LtS3Client) client = lt_test_s3_make_client (&strict_server, NULL, NULL,
                                                         CONNECTIONS, 30);
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *path = write_random_file (dir, "short", 3 * 1024 * 1024 + 11);
  g_autofree char *md5 = file_md5 (path);
  g_autofree char *upload_id = NULL;
  g_autofree char *etag = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  upload_id = create_upload (client, "shrank/part", &error);
  g_assert_no_error (error);
  /* The MD5 given: nothing reads the file before it is sent. */
  lt_s3_client_upload_part_with_md5_async (client, "shrank/part", upload_id, 1, file, 0,
                                           5 * 1024 * 1024, md5, NULL, NULL, NULL, NULL,
                                           lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  etag = lt_s3_client_upload_part_finish (client, result, &error);
  g_assert_null (etag);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "shorter"));
  g_clear_error (&error);

  etag = put_file (client, "shrank/whole", path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (etag, ==, md5);
}

static void
test_cancel (void)
{
  g_autoptr(LtS3Client) client = lt_test_s3_make_client (&strict_server, NULL, NULL,
                                                         CONNECTIONS, 30);
  g_autoptr(LtS3Bandwidth) bandwidth = lt_s3_bandwidth_new (256 * 1024);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *path = write_random_file (dir, "cancel", 4 * 1024 * 1024);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *etag = NULL;
  gint64 start;

  lt_s3_client_set_bandwidth (client, bandwidth);
  lt_s3_client_put_object_async (client, "cancel/4mb.ts", file, NULL, NULL, NULL, NULL,
                                 cancellable, lt_test_store_result_cb, &result);
  lt_test_spin (300);
  start = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  lt_test_wait_result (&result);
  etag = lt_s3_client_put_object_finish (client, result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (etag);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
}

/* The sync engine's way of stopping a target: cancel every upload in flight and drop the
 * client at once. Each request is freed (its progress data destroyed) once its result is
 * in, and no progress is reported after that, while libsoup is still letting go of the
 * cancelled messages and the client's session is aborted at dispose. */
typedef struct
{
  GAsyncResult *result;
  guint         progress_calls;
  gboolean      destroyed;
  gboolean      progress_after_destroy;
} DropUpload;

static void
drop_progress_cb (guint64  bytes_sent,
                  guint64  bytes_total,
                  gpointer user_data)
{
  DropUpload *upload = user_data;

  upload->progress_calls++;
  if (upload->destroyed)
    upload->progress_after_destroy = TRUE;
}

static void
drop_destroy_cb (gpointer user_data)
{
  DropUpload *upload = user_data;

  upload->destroyed = TRUE;
}

static void
test_cancel_and_drop (void)
{
  LtS3Client *client = lt_test_s3_make_client (&strict_server, NULL, NULL, CONNECTIONS, 30);
  g_autoptr(LtS3Bandwidth) bandwidth = lt_s3_bandwidth_new (512 * 1024);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *path = write_random_file (dir, "drop", 2 * 1024 * 1024);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  DropUpload uploads[CONNECTIONS + 2] = { 0 };
  guint total_progress = 0;

  lt_s3_client_set_bandwidth (client, bandwidth);
  for (guint i = 0; i < G_N_ELEMENTS (uploads); i++)
    {
      g_autofree char *key = g_strdup_printf ("drop/%u.ts", i);

      lt_s3_client_put_object_async (client, key, file, NULL, drop_progress_cb, &uploads[i],
                                     drop_destroy_cb, cancellable, lt_test_store_result_cb,
                                     &uploads[i].result);
    }
  lt_test_spin (400);
  g_cancellable_cancel (cancellable);
  g_object_unref (client);

  for (guint i = 0; i < G_N_ELEMENTS (uploads); i++)
    {
      g_autoptr(GObject) source = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *etag = NULL;

      lt_test_wait_result (&uploads[i].result);
      source = g_async_result_get_source_object (uploads[i].result);
      etag = lt_s3_client_put_object_finish (LT_S3_CLIENT (source), uploads[i].result,
                                             &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_null (etag);
      g_clear_object (&uploads[i].result);
    }
  /* libsoup finishes with the cancelled messages and the last request disposes the
   * client (its session aborted) meanwhile. */
  lt_test_spin (500);
  for (guint i = 0; i < G_N_ELEMENTS (uploads); i++)
    {
      g_assert_true (uploads[i].destroyed);
      g_assert_false (uploads[i].progress_after_destroy);
      total_progress += uploads[i].progress_calls;
    }
  /* Bodies were on the wire when the cancel came. */
  g_assert_cmpuint (total_progress, >, 0);
}

static void
test_backoff (void)
{
  guint max_seen = 0;

  for (guint i = 0; i < 2000; i++)
    {
      guint d0 = lt_s3_backoff_delay (0, LT_S3_BACKOFF_CAP_MS);
      guint d3 = lt_s3_backoff_delay (3, LT_S3_BACKOFF_CAP_MS);
      guint d30 = lt_s3_backoff_delay (30, LT_S3_BACKOFF_CAP_MS);

      g_assert_cmpuint (d0, <=, 200);
      g_assert_cmpuint (d3, <=, 1600);
      g_assert_cmpuint (d30, <=, LT_S3_BACKOFF_CAP_MS);
      max_seen = MAX (max_seen, d30);
    }
  /* Full jitter reaches towards the cap. */
  g_assert_cmpuint (max_seen, >, LT_S3_BACKOFF_CAP_MS / 2);
}

static void
test_error_xml (void)
{
  static const char xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>RequestTimeTooSkewed</Code>"
    "<Message>The difference is too large.</Message><RequestId>1</RequestId></Error>";
  g_autofree char *code = NULL;
  g_autofree char *message = NULL;

  g_assert_true (lt_s3_parse_error_xml (xml, -1, &code, &message));
  g_assert_cmpstr (code, ==, "RequestTimeTooSkewed");
  g_assert_cmpstr (message, ==, "The difference is too large.");
  g_assert_false (lt_s3_parse_error_xml ("<html>nope</html>", -1, NULL, NULL));
  g_assert_false (lt_s3_parse_error_xml ("not xml <", -1, NULL, NULL));
  g_assert_cmpint (lt_s3_error_classify (503, NULL), ==, LT_S3_ERROR_TRANSIENT);
  g_assert_cmpint (lt_s3_error_classify (429, NULL), ==, LT_S3_ERROR_TRANSIENT);
  g_assert_cmpint (lt_s3_error_classify (403, "RequestTimeTooSkewed"), ==,
                   LT_S3_ERROR_CLOCK_SKEW);
  g_assert_cmpint (lt_s3_error_classify (404, "NoSuchUpload"), ==, LT_S3_ERROR_NO_SUCH_UPLOAD);
  g_assert_cmpint (lt_s3_error_classify (400, NULL), ==, LT_S3_ERROR_FAILED);
}

static void
test_invalid_config (void)
{
  static const char *const endpoints[] = {
    "ftp://127.0.0.1", "http://", "http://user:pw@host", "http://host/path", "nonsense",
  };

  for (guint i = 0; i < G_N_ELEMENTS (endpoints); i++)
    {
      LtS3Config config = { .endpoint = endpoints[i], .bucket = "b", .access_key_id = "k" };
      g_autoptr(GError) error = NULL;
      g_autoptr(LtS3Client) client = lt_s3_client_new (&config, "s", &error);

      g_assert_null (client);
      g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_FAILED);
    }
}

/* Every request the strict server saw was checked by botocore; the only disagreements
 * are the ones signed with a wrong secret on purpose. And the secret never leaked. */
static void
test_zz_verification_summary (void)
{
  gint64 verified = lt_test_s3_stat (&strict_server, "verified");
  gint64 mismatches = lt_test_s3_stat (&strict_server, "signature_mismatches");
  gint64 md5_checked = lt_test_s3_stat (&strict_server, "md5_checked");

  g_test_message ("strict server: %" G_GINT64_FORMAT " requests verified by botocore, %"
                  G_GINT64_FORMAT " mismatches (%u expected), %" G_GINT64_FORMAT
                  " Content-MD5 checked", verified, mismatches, expected_mismatches,
                  md5_checked);
  g_assert_cmpint (verified, >, 50);
  g_assert_cmpint (mismatches, ==, expected_mismatches);
  g_assert_cmpint (md5_checked, >, 20);
  assert_no_secret (captured_logs->str);
}

int
main (int    argc,
      char **argv)
{
  LtTestS3Server *servers[] = { &s3rver_server, &strict_server };
  int status;

  lt_test_init (&argc, &argv);
  captured_logs = g_string_new (NULL);
  g_log_set_writer_func (capture_log_writer, NULL, NULL);

  lt_test_s3_server_start (&strict_server);
  lt_test_s3_server_start (&s3rver_server);

  g_test_add_func ("/s3-client/error-xml", test_error_xml);
  g_test_add_func ("/s3-client/backoff", test_backoff);
  g_test_add_func ("/s3-client/invalid-config", test_invalid_config);
  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    {
      g_autofree char *roundtrip = g_strdup_printf ("/s3-client/%s/roundtrip", servers[i]->name);
      g_autofree char *bytes = g_strdup_printf ("/s3-client/%s/put-bytes-head", servers[i]->name);
      g_autofree char *writable = g_strdup_printf ("/s3-client/%s/check-writable", servers[i]->name);
      g_autofree char *multipart = g_strdup_printf ("/s3-client/%s/multipart", servers[i]->name);
      g_autofree char *credentials = g_strdup_printf ("/s3-client/%s/bad-credentials",
                                                      servers[i]->name);

      g_test_add_data_func (roundtrip, servers[i], test_roundtrip);
      g_test_add_data_func (bytes, servers[i], test_put_bytes_head);
      g_test_add_data_func (writable, servers[i], test_check_writable);
      g_test_add_data_func (multipart, servers[i], test_multipart);
      g_test_add_data_func (credentials, servers[i], test_bad_credentials);
    }
  g_test_add_func ("/s3-client/strict/fault-statuses", test_fault_statuses);
  g_test_add_func ("/s3-client/strict/fault-storm", test_fault_storm);
  g_test_add_func ("/s3-client/strict/fault-reset", test_fault_reset);
  g_test_add_func ("/s3-client/strict/fault-hang", test_fault_hang);
  g_test_add_func ("/s3-client/strict/keep-alive", test_keep_alive);
  g_test_add_func ("/s3-client/strict/file-shrank", test_file_shrank);
  g_test_add_func ("/s3-client/strict/fault-wrong-etag", test_fault_wrong_etag);
  g_test_add_func ("/s3-client/strict/fault-skew", test_fault_skew);
  g_test_add_func ("/s3-client/strict/bandwidth-progress", test_bandwidth_progress);
  g_test_add_func ("/s3-client/strict/cancel", test_cancel);
  g_test_add_func ("/s3-client/strict/cancel-and-drop", test_cancel_and_drop);
  g_test_add_func ("/s3-client/zz/verification-summary", test_zz_verification_summary);

  status = g_test_run ();

  lt_test_s3_server_stop (&s3rver_server);
  lt_test_s3_server_stop (&strict_server);
  g_string_free (captured_logs, TRUE);
  return status;
}
