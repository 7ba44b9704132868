/* lt-s3-sigv4.h: AWS Signature Version 4, written here on GChecksum and GHmac (SPEC
 * section 7). Pure functions over strings, so that every intermediate text (canonical
 * request, string to sign, signature) can be checked byte for byte against the AWS test
 * suite. S3 semantics: the path is never dot-segment normalised and each path segment is
 * URI-encoded exactly once. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LT_S3_SIGV4_ALGORITHM        "AWS4-HMAC-SHA256"
/* x-amz-content-sha256 value for a body that is not part of the signature. */
#define LT_S3_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* SHA-256 of the empty string: the payload hash of a request without a body. */
#define LT_S3_SIGV4_EMPTY_SHA256     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* One request header as sent: names in any case, values untrimmed. The same name may
 * appear several times; the values are then joined with ',' in the order given. */
typedef struct
{
  const char *name;
  const char *value;
} LtS3Header;

/* What a signature needs besides the request. @session_token may be NULL. The secret is
 * only read, never copied or logged. */
typedef struct
{
  const char *access_key_id;
  const char *secret_access_key;
  const char *session_token;
  const char *region;
  const char *service;          /* "s3" */
} LtS3Credentials;

/* Everything a signature produced; each text is what AWS's documentation calls it. */
typedef struct
{
  char *canonical_request;
  char *string_to_sign;
  char *signed_headers;         /* "host;x-amz-date" */
  char *signature;              /* 64 lowercase hex digits */
  char *authorization;          /* the Authorization header's value */
} LtS3Signature;

void      lt_s3_signature_clear          (LtS3Signature *signature);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LtS3Signature, lt_s3_signature_clear)

/* AWS URI encoding: every byte except A-Z a-z 0-9 - . _ ~ becomes %XX (uppercase hex);
 * '/' is kept when @keep_slash. */
char     *lt_s3_sigv4_uri_encode         (const char    *text,
                                          gssize         length,
                                          gboolean       keep_slash);
/* The canonical URI of an S3 request: @path is the decoded path ("/bucket/a/./b c"),
 * each segment encoded once, nothing normalised; "" becomes "/". */
char     *lt_s3_sigv4_canonical_path     (const char    *path);
/* The canonical query string of @query (the URL's query as sent, percent-encoded or raw,
 * without '?', may be NULL): every name and value decoded then AWS-encoded, pairs sorted
 * by name then value, a parameter without '=' given an empty value. */
char     *lt_s3_sigv4_canonical_query    (const char    *query);
/* "20150830T123600Z" for @unix_time (seconds, UTC). */
char     *lt_s3_sigv4_amz_date           (gint64         unix_time);
/* Lowercase hex SHA-256 of @data. */
char     *lt_s3_sigv4_sha256_hex         (const void    *data,
                                          gsize          length);

/* Signs a request with the Authorization header. @headers must already hold every header
 * to sign, including host and x-amz-date (= @amz_date) and, when @credentials has a session
 * token and it is to be signed, x-amz-security-token. Fills @out (clear it with
 * lt_s3_signature_clear). */
void      lt_s3_sigv4_sign               (const LtS3Credentials *credentials,
                                          const char            *method,
                                          const char            *path,
                                          const char            *query,
                                          const LtS3Header      *headers,
                                          gsize                  n_headers,
                                          const char            *payload_hash,
                                          const char            *amz_date,
                                          LtS3Signature         *out);

/* Signs a presigned URL: adds X-Amz-Algorithm, -Credential, -Date, -Expires (@expires_s),
 * -SignedHeaders (and -Security-Token when the credentials have one) to @query, signs
 * with @headers (host at least) and fills @out; out->authorization is NULL and the
 * returned string is the complete query to send (… &X-Amz-Signature=…), encoded. */
char     *lt_s3_sigv4_presign            (const LtS3Credentials *credentials,
                                          const char            *method,
                                          const char            *path,
                                          const char            *query,
                                          const LtS3Header      *headers,
                                          gsize                  n_headers,
                                          const char            *payload_hash,
                                          const char            *amz_date,
                                          guint                  expires_s,
                                          LtS3Signature         *out);

G_END_DECLS
