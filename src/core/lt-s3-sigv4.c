/* lt-s3-sigv4.c: AWS Signature Version 4 for S3 (see lt-s3-sigv4.h). Everything here is a
 * pure function of its arguments, checked against the AWS signing test suite
 * (tests/test-s3-sigv4.c) and, on live requests, against botocore (tests/integration/
 * s3strict.py). */
#include "config.h"

#include <string.h>

#include "lt-s3-sigv4.h"

void
lt_s3_signature_clear (LtS3Signature *signature)
{
  g_clear_pointer (&signature->canonical_request, g_free);
  g_clear_pointer (&signature->string_to_sign, g_free);
  g_clear_pointer (&signature->signed_headers, g_free);
  g_clear_pointer (&signature->signature, g_free);
  g_clear_pointer (&signature->authorization, g_free);
}

static gboolean
is_unreserved (guchar c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~';
}

char *
lt_s3_sigv4_uri_encode (const char *text,
                        gssize      length,
                        gboolean    keep_slash)
{
  static const char hex[] = "0123456789ABCDEF";
  GString *out;
  gsize n;

  g_return_val_if_fail (text != NULL, NULL);

  n = length < 0 ? strlen (text) : (gsize) length;
  out = g_string_sized_new (n + 16);
  for (gsize i = 0; i < n; i++)
    {
      guchar c = (guchar) text[i];

      if (is_unreserved (c) || (keep_slash && c == '/'))
        g_string_append_c (out, (char) c);
      else
        {
          g_string_append_c (out, '%');
          g_string_append_c (out, hex[c >> 4]);
          g_string_append_c (out, hex[c & 0xf]);
        }
    }
  return g_string_free (out, FALSE);
}

char *
lt_s3_sigv4_canonical_path (const char *path)
{
  g_return_val_if_fail (path != NULL, NULL);

  /* S3 takes the key literally: "/a/./b" and "//" are distinct objects, so nothing is
   * removed, and the path is encoded once (other services encode twice). */
  if (*path == '\0')
    return g_strdup ("/");
  return lt_s3_sigv4_uri_encode (path, -1, TRUE);
}

/* Percent-decodes @length bytes of @text; a '%' not followed by two hex digits is kept. */
static char *
percent_decode (const char *text,
                gsize       length)
{
  GString *out = g_string_sized_new (length);

  for (gsize i = 0; i < length; i++)
    {
      if (text[i] == '%' && i + 2 < length && g_ascii_isxdigit (text[i + 1]) && g_ascii_isxdigit (text[i + 2]))
        {
          g_string_append_c (out, (char) ((g_ascii_xdigit_value (text[i + 1]) << 4)
                                          | g_ascii_xdigit_value (text[i + 2])));
          i += 2;
        }
      else
        g_string_append_c (out, text[i]);
    }
  return g_string_free (out, FALSE);
}

typedef struct
{
  char *name;
  char *value;
} Pair;

static void
pair_clear (gpointer data)
{
  Pair *pair = data;

  g_free (pair->name);
  g_free (pair->value);
}

static int
pair_compare (gconstpointer a,
              gconstpointer b)
{
  const Pair *pa = a;
  const Pair *pb = b;
  int c = strcmp (pa->name, pb->name);

  return c != 0 ? c : strcmp (pa->value, pb->value);
}

char *
lt_s3_sigv4_canonical_query (const char *query)
{
  g_autoptr(GArray) pairs = g_array_new (FALSE, FALSE, sizeof (Pair));
  g_auto(GStrv) parts = NULL;
  GString *out;

  g_array_set_clear_func (pairs, pair_clear);
  if (query == NULL || *query == '\0')
    return g_strdup ("");

  parts = g_strsplit (query, "&", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *eq;
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;
      Pair pair;

      if (parts[i][0] == '\0')
        continue;
      eq = strchr (parts[i], '=');
      if (eq != NULL)
        {
          name = percent_decode (parts[i], eq - parts[i]);
          value = percent_decode (eq + 1, strlen (eq + 1));
        }
      else
        {
          name = percent_decode (parts[i], strlen (parts[i]));
          value = g_strdup ("");
        }
      /* Sorting is by the encoded names (byte order of what is signed). */
      pair.name = lt_s3_sigv4_uri_encode (name, -1, FALSE);
      pair.value = lt_s3_sigv4_uri_encode (value, -1, FALSE);
      g_array_append_val (pairs, pair);
    }
  g_array_sort (pairs, pair_compare);

  out = g_string_new (NULL);
  for (guint i = 0; i < pairs->len; i++)
    {
      const Pair *pair = &g_array_index (pairs, Pair, i);

      if (i > 0)
        g_string_append_c (out, '&');
      g_string_append (out, pair->name);
      g_string_append_c (out, '=');
      g_string_append (out, pair->value);
    }
  return g_string_free (out, FALSE);
}

static gboolean
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims @value and collapses inner whitespace runs (folded lines too) to one space. */
static void
append_trimmed (GString    *out,
                const char *value)
{
  gboolean pending_space = FALSE;
  gboolean started = FALSE;

  for (const char *p = value; *p != '\0'; p++)
    {
      if (is_space (*p))
        {
          pending_space = started;
          continue;
        }
      if (pending_space)
        g_string_append_c (out, ' ');
      pending_space = FALSE;
      started = TRUE;
      g_string_append_c (out, *p);
    }
}

typedef struct
{
  char       *name;     /* lowercased */
  const char *value;
  guint       order;    /* position in the request: repeated names keep their order */
} HeaderEntry;

static int
header_entry_compare (gconstpointer a,
                      gconstpointer b)
{
  const HeaderEntry *ha = a;
  const HeaderEntry *hb = b;
  int c = strcmp (ha->name, hb->name);

  if (c != 0)
    return c;
  return ha->order < hb->order ? -1 : ha->order > hb->order;
}

/* The canonical headers block ("name:value\n" per name, sorted, names lowercased, values
 * trimmed with inner runs of whitespace — folded lines included — collapsed to one space,
 * repeated names joined with ',') and, in *@signed_headers, their names joined with ';'.
 * Every header given is signed: the caller chooses which to pass. */
static char *
lt_s3_sigv4_canonical_headers (const LtS3Header  *headers,
                               gsize              n_headers,
                               char             **signed_headers)
{
  g_autofree HeaderEntry *entries = g_new0 (HeaderEntry, MAX (n_headers, 1));
  GString *out = g_string_new (NULL);
  GString *names = g_string_new (NULL);

  for (gsize i = 0; i < n_headers; i++)
    {
      g_autofree char *trimmed = g_strstrip (g_strdup (headers[i].name));

      entries[i].name = g_ascii_strdown (trimmed, -1);
      entries[i].value = headers[i].value != NULL ? headers[i].value : "";
      entries[i].order = (guint) i;
    }
  qsort (entries, n_headers, sizeof (HeaderEntry), header_entry_compare);

  for (gsize i = 0; i < n_headers; i++)
    {
      gboolean same = i > 0 && strcmp (entries[i].name, entries[i - 1].name) == 0;

      if (same)
        g_string_append_c (out, ',');
      else
        {
          if (i > 0)
            {
              g_string_append_c (out, '\n');
              g_string_append_c (names, ';');
            }
          g_string_append (out, entries[i].name);
          g_string_append_c (out, ':');
          g_string_append (names, entries[i].name);
        }
      append_trimmed (out, entries[i].value);
    }
  if (n_headers > 0)
    g_string_append_c (out, '\n');

  for (gsize i = 0; i < n_headers; i++)
    g_free (entries[i].name);

  if (signed_headers != NULL)
    *signed_headers = g_string_free (names, FALSE);
  else
    g_string_free (names, TRUE);
  return g_string_free (out, FALSE);
}

/* The canonical request: method, canonical path, canonical query, canonical headers, a
 * blank line, the signed headers, @payload_hash (hex SHA-256, or UNSIGNED-PAYLOAD). */
static char *
lt_s3_sigv4_canonical_request (const char        *method,
                               const char        *path,
                               const char        *query,
                               const LtS3Header  *headers,
                               gsize              n_headers,
                               const char        *payload_hash,
                               char             **signed_headers)
{
  g_autofree char *canonical_path = NULL;
  g_autofree char *canonical_query = NULL;
  g_autofree char *canonical_headers = NULL;
  g_autofree char *names = NULL;
  char *result;

  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (payload_hash != NULL, NULL);

  canonical_path = lt_s3_sigv4_canonical_path (path);
  canonical_query = lt_s3_sigv4_canonical_query (query);
  canonical_headers = lt_s3_sigv4_canonical_headers (headers, n_headers, &names);
  result = g_strdup_printf ("%s\n%s\n%s\n%s\n%s\n%s", method, canonical_path,
                            canonical_query, canonical_headers, names, payload_hash);
  if (signed_headers != NULL)
    *signed_headers = g_steal_pointer (&names);
  return result;
}

/* "20150830/us-east-1/s3/aws4_request" for @amz_date "20150830T123600Z". */
static char *
lt_s3_sigv4_scope (const char *amz_date,
                   const char *region,
                   const char *service)
{
  g_return_val_if_fail (amz_date != NULL && strlen (amz_date) >= 8, NULL);

  return g_strdup_printf ("%.8s/%s/%s/aws4_request", amz_date, region, service);
}

char *
lt_s3_sigv4_sha256_hex (const void *data,
                        gsize       length)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, length);
}

/* "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of the canonical request>". */
static char *
lt_s3_sigv4_string_to_sign (const char *amz_date,
                            const char *scope,
                            const char *canonical_request)
{
  g_autofree char *hash = lt_s3_sigv4_sha256_hex (canonical_request,
                                                  strlen (canonical_request));

  return g_strdup_printf (LT_S3_SIGV4_ALGORITHM "\n%s\n%s\n%s", amz_date, scope, hash);
}

static void
hmac_sha256 (const guint8 *key,
             gsize         key_length,
             const char   *data,
             guint8        out[32])
{
  g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_length);
  gsize length = 32;

  g_hmac_update (hmac, (const guchar *) data, strlen (data));
  g_hmac_get_digest (hmac, out, &length);
  g_assert (length == 32);
}

/* The signing key: HMAC chain over "AWS4"+secret, date (YYYYMMDD), region, service,
 * "aws4_request". @key receives 32 bytes; wipe it after use. */
static void
lt_s3_sigv4_signing_key (const char *secret_access_key,
                         const char *date8,
                         const char *region,
                         const char *service,
                         guint8      key[32])
{
  g_autofree char *seed = NULL;
  char date[9];
  guint8 k1[32], k2[32], k3[32];

  g_return_if_fail (secret_access_key != NULL);

  g_strlcpy (date, date8, sizeof date);
  seed = g_strconcat ("AWS4", secret_access_key, NULL);
  hmac_sha256 ((const guint8 *) seed, strlen (seed), date, k1);
  hmac_sha256 (k1, 32, region, k2);
  hmac_sha256 (k2, 32, service, k3);
  hmac_sha256 (k3, 32, "aws4_request", key);

  /* Intermediate keys are as secret as the key itself. */
  memset (seed, 0, strlen (seed));
  memset (k1, 0, sizeof k1);
  memset (k2, 0, sizeof k2);
  memset (k3, 0, sizeof k3);
}

/* Hex HMAC-SHA256 of @string_to_sign under @key. */
static char *
lt_s3_sigv4_signature (const guint8  key[32],
                       const char   *string_to_sign)
{
  guint8 digest[32];
  char *hex = g_malloc (65);

  hmac_sha256 (key, 32, string_to_sign, digest);
  for (guint i = 0; i < 32; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", digest[i]);
  return hex;
}

/* "AWS4-HMAC-SHA256 Credential=<id>/<scope>, SignedHeaders=<…>, Signature=<…>". */
static char *
lt_s3_sigv4_authorization (const char *access_key_id,
                           const char *scope,
                           const char *signed_headers,
                           const char *signature)
{
  return g_strdup_printf (LT_S3_SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, "
                          "Signature=%s", access_key_id, scope, signed_headers, signature);
}

char *
lt_s3_sigv4_amz_date (gint64 unix_time)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (unix_time);

  g_return_val_if_fail (time != NULL, NULL);
  return g_date_time_format (time, "%Y%m%dT%H%M%SZ");
}

static void
sign_canonical (const LtS3Credentials *credentials,
                const char            *amz_date,
                const char            *scope,
                LtS3Signature         *out)
{
  guint8 key[32];

  out->string_to_sign = lt_s3_sigv4_string_to_sign (amz_date, scope, out->canonical_request);
  lt_s3_sigv4_signing_key (credentials->secret_access_key, amz_date, credentials->region,
                           credentials->service, key);
  out->signature = lt_s3_sigv4_signature (key, out->string_to_sign);
  memset (key, 0, sizeof key);
}

void
lt_s3_sigv4_sign (const LtS3Credentials *credentials,
                  const char            *method,
                  const char            *path,
                  const char            *query,
                  const LtS3Header      *headers,
                  gsize                  n_headers,
                  const char            *payload_hash,
                  const char            *amz_date,
                  LtS3Signature         *out)
{
  g_autofree char *scope = NULL;

  g_return_if_fail (credentials != NULL && out != NULL);

  memset (out, 0, sizeof *out);
  scope = lt_s3_sigv4_scope (amz_date, credentials->region, credentials->service);
  out->canonical_request = lt_s3_sigv4_canonical_request (method, path, query, headers,
                                                          n_headers, payload_hash,
                                                          &out->signed_headers);
  sign_canonical (credentials, amz_date, scope, out);
  out->authorization = lt_s3_sigv4_authorization (credentials->access_key_id, scope,
                                                  out->signed_headers, out->signature);
}

char *
lt_s3_sigv4_presign (const LtS3Credentials *credentials,
                     const char            *method,
                     const char            *path,
                     const char            *query,
                     const LtS3Header      *headers,
                     gsize                  n_headers,
                     const char            *payload_hash,
                     const char            *amz_date,
                     guint                  expires_s,
                     LtS3Signature         *out)
{
  g_autofree char *scope = NULL;
  g_autofree char *credential = NULL;
  g_autofree char *names = NULL;
  g_autofree char *names_encoded = NULL;
  g_autofree char *headers_block = NULL;
  g_autofree char *full_query = NULL;
  GString *q;

  g_return_val_if_fail (credentials != NULL && out != NULL, NULL);

  memset (out, 0, sizeof *out);
  scope = lt_s3_sigv4_scope (amz_date, credentials->region, credentials->service);
  {
    g_autofree char *raw = g_strdup_printf ("%s/%s", credentials->access_key_id, scope);
    credential = lt_s3_sigv4_uri_encode (raw, -1, FALSE);
  }
  headers_block = lt_s3_sigv4_canonical_headers (headers, n_headers, &names);
  names_encoded = lt_s3_sigv4_uri_encode (names, -1, FALSE);

  q = g_string_new (query != NULL ? query : "");
  if (q->len > 0)
    g_string_append_c (q, '&');
  g_string_append_printf (q, "X-Amz-Algorithm=" LT_S3_SIGV4_ALGORITHM
                          "&X-Amz-Credential=%s&X-Amz-Date=%s&X-Amz-SignedHeaders=%s"
                          "&X-Amz-Expires=%u", credential, amz_date, names_encoded,
                          expires_s);
  if (credentials->session_token != NULL)
    {
      g_autofree char *token = lt_s3_sigv4_uri_encode (credentials->session_token, -1,
                                                       FALSE);
      g_string_append_printf (q, "&X-Amz-Security-Token=%s", token);
    }
  full_query = g_string_free (q, FALSE);

  out->canonical_request = lt_s3_sigv4_canonical_request (method, path, full_query, headers,
                                                          n_headers, payload_hash,
                                                          &out->signed_headers);
  sign_canonical (credentials, amz_date, scope, out);
  return g_strdup_printf ("%s&X-Amz-Signature=%s", full_query, out->signature);
}
