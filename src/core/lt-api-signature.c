/* lt-api-signature.c: the request signature of the control API (SPEC section 6), the
 * cloud's RPC "signature version 1.0": sorted, RFC 3986 percent-encoded parameters,
 * StringToSign = METHOD&%2F&encode(query), Base64(HMAC-SHA1(secret + "&", StringToSign)).
 *
 * Kept apart from the server so that the tests (and the console's "copy as curl") use the
 * very code the server checks with.
 */
#include "config.h"

#include <string.h>

#include "lt-api-server.h"

char *
lt_api_percent_encode (const char *value)
{
  static const char hex[] = "0123456789ABCDEF";
  GString *out;

  g_return_val_if_fail (value != NULL, NULL);

  out = g_string_sized_new (strlen (value) + 16);
  for (const guchar *p = (const guchar *) value; *p != '\0'; p++)
    {
      /* RFC 3986 unreserved characters stay; every other byte (UTF-8 included) is %XX
       * with upper-case hex, so a space is %20 (never '+') and '*' is %2A. */
      if (g_ascii_isalnum (*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
        {
          g_string_append_c (out, (char) *p);
        }
      else
        {
          g_string_append_c (out, '%');
          g_string_append_c (out, hex[*p >> 4]);
          g_string_append_c (out, hex[*p & 0x0f]);
        }
    }

  return g_string_free (out, FALSE);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  /* Byte order, as the SDKs sort (a TreeMap of Java strings / Python's sorted() agree
   * with strcmp() on ASCII names, and names are ASCII in practice). */
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

char *
lt_api_string_to_sign (const char *method,
                       GHashTable *params)
{
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GString) query = NULL;
  g_autofree char *encoded_query = NULL;
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (params != NULL, NULL);

  names = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, params);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      if (g_strcmp0 (key, "Signature") != 0)
        g_ptr_array_add (names, key);
    }
  g_ptr_array_sort (names, compare_names);

  query = g_string_new (NULL);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      const char *value = g_hash_table_lookup (params, name);
      g_autofree char *encoded_name = lt_api_percent_encode (name);
      g_autofree char *encoded_value = lt_api_percent_encode (value != NULL ? value : "");

      if (i > 0)
        g_string_append_c (query, '&');
      g_string_append (query, encoded_name);
      g_string_append_c (query, '=');
      g_string_append (query, encoded_value);
    }

  encoded_query = lt_api_percent_encode (query->str);
  return g_strdup_printf ("%s&%%2F&%s", method, encoded_query);
}

char *
lt_api_compute_signature (const char *method,
                          GHashTable *params,
                          const char *access_key_secret)
{
  g_autofree char *string_to_sign = NULL;
  g_autoptr(GHmac) hmac = NULL;
  guint8 digest[20];
  gsize digest_len = sizeof digest;
  char *key;
  gsize key_len;
  char *signature;

  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (access_key_secret != NULL, NULL);

  string_to_sign = lt_api_string_to_sign (method, params);

  key = g_strconcat (access_key_secret, "&", NULL);
  key_len = strlen (key);
  hmac = g_hmac_new (G_CHECKSUM_SHA1, (const guchar *) key, key_len);
  /* The key is the secret: do not leave a copy in freed heap memory. */
  explicit_bzero (key, key_len);
  g_free (key);

  g_hmac_update (hmac, (const guchar *) string_to_sign, -1);
  g_hmac_get_digest (hmac, digest, &digest_len);
  signature = g_base64_encode (digest, digest_len);
  explicit_bzero (digest, sizeof digest);

  return signature;
}
