/* lt-api-server.c: the control API's HTTP side (SPEC section 6) — a libsoup server on "/"
 * that decodes GET queries and POST forms, checks the common parameters in a fixed order,
 * finds the access key's secret (catalog for the id, keyring for the secret, both cached),
 * checks the signature, the nonce and the per-key rate, then runs the registered action
 * and writes its reply as JSON or XML.
 *
 * Requests that need the keyring or an asynchronous action are paused
 * (soup_server_message_pause) and resumed when the reply is written. Bodies over 64 KiB
 * (or without a length) are refused from the headers, before they are read.
 *
 * Nonces are kept per key for twice the timestamp window, in memory and in the catalog
 * (api_nonces), so a replay is refused across a restart too; only requests with a valid
 * signature record one, so unsigned junk cannot burn nonces. Throttled requests do not
 * burn theirs either.
 *
 * The messages of the common errors are English and not translated, like the cloud's:
 * they are protocol output for scripts, which must not change with the daemon's locale.
 */
#include "config.h"

#include <libsoup/soup.h>
#include <string.h>

#include "lt-api-server.h"
#include "lt-rule.h"

/* A replayed request carries a timestamp at most one window away from now, so a nonce
 * must be remembered for two windows. */
#define NONCE_KEEP_SECONDS   (2 * LT_API_TIMESTAMP_WINDOW_SECONDS)
/* The rate limit already bounds this (30/s × 1800 s = 54000); the cap only guards against
 * clock jumps. */
#define NONCE_MAX_PER_KEY    65536
#define NONCE_MAX_BYTES      256
/* How long a key's secret and enabled state are trusted before the catalog and the
 * keyring are asked again (a key disabled elsewhere stops working within this time). */
#define KEY_CACHE_USEC       (60 * G_USEC_PER_SEC)
#define MAX_BODY_BYTES       (64 * 1024)
#define MAX_PARAMS           1024
#define DEFAULT_HOST_ID      "livetape.local"

G_DEFINE_QUARK (lt-api-error-quark, lt_api_error)

static const struct
{
  const char *code;
  guint       status;
} api_errors[] = {
  [LT_API_ERROR_INTERNAL]                 = { "InternalError", 500 },
  [LT_API_ERROR_MISSING_PARAMETER]        = { "MissingParameter", 400 },
  [LT_API_ERROR_INVALID_PARAMETER]        = { "InvalidParameter", 400 },
  [LT_API_ERROR_ACTION_NOT_FOUND]         = { "InvalidAction.NotFound", 404 },
  [LT_API_ERROR_ACCESS_KEY_NOT_FOUND]     = { "InvalidAccessKeyId.NotFound", 404 },
  [LT_API_ERROR_SIGNATURE_DOES_NOT_MATCH] = { "SignatureDoesNotMatch", 400 },
  [LT_API_ERROR_NONCE_USED]               = { "SignatureNonceUsed", 400 },
  [LT_API_ERROR_TIMESTAMP_EXPIRED]        = { "InvalidTimeStamp.Expired", 400 },
  [LT_API_ERROR_THROTTLING]               = { "Throttling", 400 },
  [LT_API_ERROR_STREAM_NOT_FOUND]         = { "InvalidStream.NotFound", 404 },
  [LT_API_ERROR_TASK_ALREADY_STARTED]     = { "TaskAlreadyStarted", 409 },
};

const char *
lt_api_error_code_name (LtApiError code)
{
  if ((guint) code >= G_N_ELEMENTS (api_errors))
    return api_errors[LT_API_ERROR_INTERNAL].code;
  return api_errors[code].code;
}

guint
lt_api_error_http_status (LtApiError code)
{
  if ((guint) code >= G_N_ELEMENTS (api_errors))
    return api_errors[LT_API_ERROR_INTERNAL].status;
  return api_errors[code].status;
}

typedef enum
{
  REPLY_XML,
  REPLY_JSON,
} ReplyFormat;

typedef struct
{
  LtApiActionFunc func;
  gpointer        user_data;
  GDestroyNotify  user_data_free;
} ActionEntry;

/* A cached secret, or a lookup in progress (waiters != NULL). Reference counted
 * (g_rc_box) because a lookup outlives the entry's place in the cache when the key is
 * forgotten meanwhile. */
typedef struct
{
  char      *id;
  char      *secret;
  gint64     loaded_at;   /* monotonic µs */
  GPtrArray *waiters;     /* LtApiRequest, while loading */
} KeyCacheEntry;

typedef struct
{
  char   *nonce;
  gint64  expires;        /* Unix seconds on the server clock */
} NonceItem;

/* Replay and rate state of one key. Only created after a valid signature, so its
 * number is bounded by the number of real keys. Survives lt_api_server_forget_key(). */
typedef struct
{
  GHashTable *nonces;     /* nonce → NonceItem (owned by order) */
  GQueue      order;      /* NonceItem, oldest first */
  gint64      hits[LT_API_RATE_LIMIT];  /* monotonic µs of the last admitted requests */
  guint       n_hits;
  guint       next_hit;
} KeyState;

struct _LtApiServer
{
  GObject        parent_instance;

  LtCatalog     *catalog;
  LtSecretStore *secrets;
  SoupServer    *soup;
  GCancellable  *cancellable;

  GHashTable    *actions;      /* name → ActionEntry */
  GHashTable    *key_cache;    /* access key id → KeyCacheEntry */
  GHashTable    *key_states;   /* access key id → KeyState */
  GPtrArray     *nonce_waiters; /* LtApiRequest, while the persisted nonces load */
  gboolean       nonces_loading;
  gboolean       nonces_loaded;
  gint64         nonces_pruned_at;

  gint64       (*now_func) (void);
  gint64       (*monotonic_func) (void);
  guint16        port;
};

G_DEFINE_FINAL_TYPE (LtApiServer, lt_api_server, G_TYPE_OBJECT)

struct _LtApiRequest
{
  grefcount          ref_count;
  LtApiServer       *server;
  SoupServerMessage *msg;

  GHashTable        *params;       /* name → value, both owned */
  char              *method;
  const char        *action;       /* in params */
  const char        *access_key_id;
  char              *request_id;
  char              *host_id;
  GDateTime         *time;
  ReplyFormat        format;

  guint              paused : 1;
  guint              returned : 1;
};

/* Time ------------------------------------------------------------------------------ */

static gint64
default_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

char *
lt_api_format_time (gint64 unix_time)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (unix_time);

  if (dt == NULL)
    return g_strdup ("");
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

static gboolean
parse_digits (const char *text,
              guint       n,
              int        *value)
{
  *value = 0;
  for (guint i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        return FALSE;
      *value = *value * 10 + (text[i] - '0');
    }
  return TRUE;
}

gboolean
lt_api_parse_time (const char *text,
                   gint64     *unix_time)
{
  g_autoptr(GDateTime) dt = NULL;
  int year, month, day, hour, minute, second;

  g_return_val_if_fail (unix_time != NULL, FALSE);

  /* Exactly yyyy-MM-ddTHH:mm:ssZ, as the SDKs send it; g_date_time_new_utc() rejects
   * out-of-range fields (month 13, 30 February, hour 24, second 60). */
  if (text == NULL || strlen (text) != 20 ||
      text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':' || text[19] != 'Z' ||
      !parse_digits (text, 4, &year) || !parse_digits (text + 5, 2, &month) ||
      !parse_digits (text + 8, 2, &day) || !parse_digits (text + 11, 2, &hour) ||
      !parse_digits (text + 14, 2, &minute) || !parse_digits (text + 17, 2, &second) ||
      year < 1 || second > 59)
    return FALSE;

  dt = g_date_time_new_utc (year, month, day, hour, minute, second);
  if (dt == NULL)
    return FALSE;

  *unix_time = g_date_time_to_unix (dt);
  return TRUE;
}

/* XML ------------------------------------------------------------------------------- */

static void
xml_append_text (GString    *out,
                 const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  for (const char *p = valid; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      switch (c)
        {
        case '&': g_string_append (out, "&amp;"); break;
        case '<': g_string_append (out, "&lt;"); break;
        case '>': g_string_append (out, "&gt;"); break;
        case '"': g_string_append (out, "&quot;"); break;
        case '\'': g_string_append (out, "&apos;"); break;
        case '\t': case '\n': case '\r': g_string_append_c (out, (char) c); break;
        default:
          /* Other control characters cannot appear in XML 1.0 at all, not even as
           * character references: replace them. */
          if (c < 0x20 || c == 0x7f)
            g_string_append (out, "\xef\xbf\xbd");
          else
            g_string_append_c (out, (char) c);
        }
    }
}

static void
xml_append_node (GString    *out,
                 const char *name,
                 JsonNode   *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *object = json_node_get_object (node);
        JsonObjectIter iter;
        const char *member_name;
        JsonNode *member;

        g_string_append_printf (out, "<%s>", name);
        json_object_iter_init_ordered (&iter, object);
        while (json_object_iter_next_ordered (&iter, &member_name, &member))
          xml_append_node (out, member_name, member);
        g_string_append_printf (out, "</%s>", name);
      }
      break;

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        /* Alibaba style: {"X":[a,b]} is <X>a</X><X>b</X>. */
        for (guint i = 0; i < json_array_get_length (array); i++)
          xml_append_node (out, name, json_array_get_element (array, i));
      }
      break;

    case JSON_NODE_VALUE:
      g_string_append_printf (out, "<%s>", name);
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_BOOLEAN:
          g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
          break;
        case G_TYPE_INT64:
          g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
          break;
        case G_TYPE_DOUBLE:
          {
            char buf[G_ASCII_DTOSTR_BUF_SIZE];

            g_string_append (out, g_ascii_dtostr (buf, sizeof buf, json_node_get_double (node)));
          }
          break;
        default:
          xml_append_text (out, json_node_get_string (node) ?: "");
          break;
        }
      g_string_append_printf (out, "</%s>", name);
      break;

    case JSON_NODE_NULL:
    default:
      g_string_append_printf (out, "<%s/>", name);
      break;
    }
}

char *
lt_api_json_to_xml (const char *root_name,
                    JsonNode   *node)
{
  GString *out;

  g_return_val_if_fail (root_name != NULL, NULL);
  g_return_val_if_fail (node != NULL, NULL);

  out = g_string_new ("<?xml version='1.0' encoding='UTF-8'?>");
  xml_append_node (out, root_name, node);
  return g_string_free (out, FALSE);
}

/* Requests -------------------------------------------------------------------------- */

static LtApiRequest *
request_new (LtApiServer       *server,
             SoupServerMessage *msg)
{
  LtApiRequest *request = g_new0 (LtApiRequest, 1);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *host = soup_message_headers_get_one (headers, "Host");
  g_autofree char *uuid = g_uuid_string_random ();

  g_ref_count_init (&request->ref_count);
  request->server = g_object_ref (server);
  request->msg = g_object_ref (msg);
  request->params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  request->method = g_strdup (soup_server_message_get_method (msg));
  request->request_id = g_ascii_strup (uuid, -1);
  request->host_id = g_utf8_make_valid (host != NULL && *host != '\0' ? host : DEFAULT_HOST_ID, -1);
  request->time = g_date_time_new_from_unix_utc (server->now_func ());
  request->format = REPLY_XML;

  return request;
}

LtApiRequest *
lt_api_request_ref (LtApiRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);

  g_ref_count_inc (&request->ref_count);
  return request;
}

void
lt_api_request_unref (LtApiRequest *request)
{
  g_return_if_fail (request != NULL);

  if (!g_ref_count_dec (&request->ref_count))
    return;

  /* A request dropped without a reply would leave the client hanging forever. */
  if (!request->returned)
    {
      g_autoptr(GError) error = g_error_new_literal (LT_API_ERROR, LT_API_ERROR_INTERNAL,
                                                     "The action ended without a reply.");

      lt_api_request_return_error (request, error);
    }

  g_clear_pointer (&request->params, g_hash_table_unref);
  g_clear_pointer (&request->time, g_date_time_unref);
  g_clear_object (&request->msg);
  g_clear_object (&request->server);
  g_free (request->method);
  g_free (request->request_id);
  g_free (request->host_id);
  g_free (request);
}

const char *
lt_api_request_get_action (LtApiRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return request->action;
}

const char *
lt_api_request_get_request_id (LtApiRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return request->request_id;
}

const char *
lt_api_request_get_param (LtApiRequest *request,
                          const char   *name)
{
  g_return_val_if_fail (request != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return g_hash_table_lookup (request->params, name);
}

GHashTable *
lt_api_request_get_params (LtApiRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return request->params;
}

GDateTime *
lt_api_request_get_time (LtApiRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return request->time;
}

const char *
lt_api_request_get_access_key_id (LtApiRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return request->access_key_id;
}

const char *
lt_api_request_require_param (LtApiRequest *request,
                              const char   *name,
                              GError      **error)
{
  const char *value;

  g_return_val_if_fail (request != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  value = g_hash_table_lookup (request->params, name);
  if (value == NULL || *value == '\0')
    {
      g_set_error (error, LT_API_ERROR, LT_API_ERROR_MISSING_PARAMETER,
                   "The input parameter '%s' that is mandatory for processing this request is not supplied.",
                   name);
      return NULL;
    }
  return value;
}

gboolean
lt_api_request_get_int_param (LtApiRequest *request,
                              const char   *name,
                              gint64        default_value,
                              gint64        min,
                              gint64        max,
                              gint64       *value,
                              GError      **error)
{
  const char *text;
  gint64 parsed;

  g_return_val_if_fail (request != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  text = g_hash_table_lookup (request->params, name);
  if (text == NULL || *text == '\0')
    {
      *value = default_value;
      return TRUE;
    }

  /* Plain decimal digits, as the rule parameters: no '+', no spaces, no exponent. */
  if (!g_ascii_isdigit (text[text[0] == '-' ? 1 : 0]) ||
      !g_ascii_string_to_signed (text, 10, min, max, &parsed, NULL))
    {
      g_set_error (error, LT_API_ERROR, LT_API_ERROR_INVALID_PARAMETER,
                   "The parameter '%s' must be an integer from %" G_GINT64_FORMAT
                     " to %" G_GINT64_FORMAT ".",
                   name, min, max);
      return FALSE;
    }

  *value = parsed;
  return TRUE;
}

static void
request_respond (LtApiRequest *request,
                 guint         status,
                 const char   *root_name,
                 JsonObject   *body)
{
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  SoupMessageHeaders *headers;
  char *data;
  gsize len;

  g_assert (!request->returned);
  request->returned = TRUE;

  json_node_set_object (root, body);

  if (request->format == REPLY_JSON)
    {
      g_autoptr(JsonGenerator) generator = json_generator_new ();

      json_generator_set_root (generator, root);
      data = json_generator_to_data (generator, &len);
      soup_server_message_set_response (request->msg, "application/json; charset=UTF-8",
                                        SOUP_MEMORY_TAKE, data, len);
    }
  else
    {
      data = lt_api_json_to_xml (root_name, root);
      len = strlen (data);
      soup_server_message_set_response (request->msg, "text/xml; charset=UTF-8",
                                        SOUP_MEMORY_TAKE, data, len);
    }

  headers = soup_server_message_get_response_headers (request->msg);
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_server_message_set_status (request->msg, status, NULL);

  if (request->paused)
    {
      request->paused = FALSE;
      soup_server_message_unpause (request->msg);
    }
}

void
lt_api_request_return_result (LtApiRequest *request,
                              JsonObject   *result)
{
  g_autoptr(JsonObject) body = NULL;
  g_autofree char *root_name = NULL;

  g_return_if_fail (request != NULL);
  g_return_if_fail (!request->returned);

  body = json_object_new ();
  json_object_set_string_member (body, "RequestId", request->request_id);
  if (result != NULL)
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init_ordered (&iter, result);
      while (json_object_iter_next_ordered (&iter, &name, &member))
        {
          if (g_strcmp0 (name, "RequestId") != 0)
            json_object_set_member (body, name, json_node_copy (member));
        }
    }

  g_debug ("API %s %s: 200", request->request_id, request->action);

  root_name = g_strdup_printf ("%sResponse", request->action != NULL ? request->action : "");
  request_respond (request, SOUP_STATUS_OK, root_name, body);
}

void
lt_api_request_return_error_code (LtApiRequest *request,
                                  guint         http_status,
                                  const char   *code,
                                  const char   *message)
{
  g_autoptr(JsonObject) body = NULL;

  g_return_if_fail (request != NULL);
  g_return_if_fail (code != NULL);
  g_return_if_fail (!request->returned);

  body = json_object_new ();
  json_object_set_string_member (body, "RequestId", request->request_id);
  json_object_set_string_member (body, "HostId", request->host_id);
  json_object_set_string_member (body, "Code", code);
  json_object_set_string_member (body, "Message", message != NULL ? message : "");

  g_debug ("API %s %s: %u %s", request->request_id,
           request->action != NULL ? request->action : "-", http_status, code);

  request_respond (request, http_status, "Error", body);
}

void
lt_api_request_return_error (LtApiRequest *request,
                             const GError *error)
{
  const char *code = api_errors[LT_API_ERROR_INTERNAL].code;
  guint status = api_errors[LT_API_ERROR_INTERNAL].status;

  g_return_if_fail (request != NULL);
  g_return_if_fail (error != NULL);
  g_return_if_fail (!request->returned);

  if (error->domain == LT_API_ERROR)
    {
      code = lt_api_error_code_name (error->code);
      status = lt_api_error_http_status (error->code);
    }
  else if (error->domain == LT_RULE_ERROR && error->code != LT_RULE_ERROR_FAILED)
    {
      code = lt_rule_error_code_name (error->code);
      status = lt_rule_error_http_status (error->code);
    }

  lt_api_request_return_error_code (request, status, code, error->message);
}

static void
request_fail (LtApiRequest *request,
              LtApiError    code,
              const char   *format,
              ...) G_GNUC_PRINTF (3, 4);

static void
request_fail (LtApiRequest *request,
              LtApiError    code,
              const char   *format,
              ...)
{
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (LT_API_ERROR, code, format, args);
  va_end (args);

  lt_api_request_return_error (request, error);
}

/* Form decoding ----------------------------------------------------------------------- */

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static char *
form_unescape (const char *text,
               gsize       len)
{
  GString *out = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++)
    {
      if (text[i] == '+')
        {
          g_string_append_c (out, ' ');
        }
      else if (text[i] == '%')
        {
          int hi = i + 2 < len ? hex_value (text[i + 1]) : -1;
          int lo = i + 2 < len ? hex_value (text[i + 2]) : -1;

          if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            {
              g_string_free (out, TRUE);
              return NULL;
            }
          g_string_append_c (out, (char) (hi * 16 + lo));
          i += 2;
        }
      else
        {
          g_string_append_c (out, text[i]);
        }
    }

  if (!g_utf8_validate_len (out->str, out->len, NULL))
    {
      g_string_free (out, TRUE);
      return NULL;
    }

  return g_string_free (out, FALSE);
}

/* application/x-www-form-urlencoded (the query string has the same syntax). Stricter than
 * soup_form_decode(): a broken escape, invalid UTF-8, NUL or a repeated name is an error
 * instead of being dropped silently, so what is signed is what is used. */
static gboolean
decode_form (const char *data,
             gsize       len,
             GHashTable *params,
             GError    **error)
{
  const char *end = data + len;
  const char *p = data;

  while (p < end)
    {
      const char *amp = memchr (p, '&', end - p);
      const char *pair_end = amp != NULL ? amp : end;
      const char *eq = memchr (p, '=', pair_end - p);
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (pair_end > p)
        {
          if (eq == NULL)
            eq = pair_end;

          name = form_unescape (p, eq - p);
          value = eq < pair_end ? form_unescape (eq + 1, pair_end - eq - 1) : g_strdup ("");
          if (name == NULL || value == NULL || *name == '\0')
            {
              g_set_error (error, LT_API_ERROR, LT_API_ERROR_INVALID_PARAMETER,
                           "The request contains a malformed parameter (bad percent-encoding, invalid UTF-8 or an empty name).");
              return FALSE;
            }
          if (g_hash_table_contains (params, name))
            {
              g_set_error (error, LT_API_ERROR, LT_API_ERROR_INVALID_PARAMETER,
                           "The parameter '%s' is given more than once.", name);
              return FALSE;
            }
          if (g_hash_table_size (params) >= MAX_PARAMS)
            {
              g_set_error (error, LT_API_ERROR, LT_API_ERROR_INVALID_PARAMETER,
                           "The request has too many parameters.");
              return FALSE;
            }
          g_hash_table_insert (params, g_steal_pointer (&name), g_steal_pointer (&value));
        }

      p = pair_end + 1;
    }

  return TRUE;
}

static gboolean
request_decode_params (LtApiRequest *request,
                       GError      **error)
{
  GUri *uri = soup_server_message_get_uri (request->msg);
  const char *query = g_uri_get_query (uri);

  if (query != NULL && !decode_form (query, strlen (query), request->params, error))
    return FALSE;

  /* Only a POST body is a form; other methods are refused later. */
  if (g_strcmp0 (request->method, SOUP_METHOD_POST) == 0)
    {
      SoupMessageBody *body = soup_server_message_get_request_body (request->msg);
      SoupMessageHeaders *headers = soup_server_message_get_request_headers (request->msg);
      g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
      const char *content_type = soup_message_headers_get_content_type (headers, NULL);

      if (g_bytes_get_size (bytes) > 0)
        {
          if (content_type == NULL ||
              g_ascii_strcasecmp (content_type, "application/x-www-form-urlencoded") != 0)
            {
              g_set_error (error, LT_API_ERROR, LT_API_ERROR_INVALID_PARAMETER,
                           "A POST body must be application/x-www-form-urlencoded.");
              return FALSE;
            }
          if (!decode_form (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                            request->params, error))
            return FALSE;
        }
    }

  return TRUE;
}

/* Secrets, signature, nonce, rate ---------------------------------------------------- */

static void
key_cache_entry_clear (gpointer data)
{
  KeyCacheEntry *entry = data;

  g_free (entry->id);
  if (entry->secret != NULL)
    {
      explicit_bzero (entry->secret, strlen (entry->secret));
      g_free (entry->secret);
    }
  g_clear_pointer (&entry->waiters, g_ptr_array_unref);
}

static void
key_cache_entry_release (gpointer data)
{
  g_rc_box_release_full (data, key_cache_entry_clear);
}

static void
nonce_item_free (gpointer data)
{
  NonceItem *item = data;

  g_free (item->nonce);
  g_free (item);
}

static void
key_state_free (gpointer data)
{
  KeyState *state = data;

  g_hash_table_unref (state->nonces);
  g_queue_clear_full (&state->order, nonce_item_free);
  g_free (state);
}

static KeyState *
key_state_get (LtApiServer *self,
               const char  *access_key_id)
{
  KeyState *state = g_hash_table_lookup (self->key_states, access_key_id);

  if (state == NULL)
    {
      state = g_new0 (KeyState, 1);
      state->nonces = g_hash_table_new (g_str_hash, g_str_equal);
      g_queue_init (&state->order);
      g_hash_table_insert (self->key_states, g_strdup (access_key_id), state);
    }
  return state;
}

static void
key_state_prune (KeyState *state,
                 gint64    now)
{
  NonceItem *item;

  while ((item = g_queue_peek_head (&state->order)) != NULL && item->expires <= now)
    {
      g_hash_table_remove (state->nonces, item->nonce);
      nonce_item_free (g_queue_pop_head (&state->order));
    }
}

/* Constant time for equal lengths (the expected length is public: 28 characters). */
static gboolean
signature_equal (const char *expected,
                 const char *given)
{
  gsize len = strlen (expected);
  volatile guchar diff = 0;

  if (strlen (given) != len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    diff |= (guchar) expected[i] ^ (guchar) given[i];
  return diff == 0;
}

static void
request_dispatch (LtApiRequest *request)
{
  ActionEntry *entry = g_hash_table_lookup (request->server->actions, request->action);

  if (entry == NULL)
    {
      request_fail (request, LT_API_ERROR_ACTION_NOT_FOUND,
                    "Specified api is not found, please check your url and method.");
      return;
    }

  entry->func (request, entry->user_data);
}

/* Persisted nonces ---------------------------------------------------------------------
 *
 * Memory is authoritative while the server runs; the catalog's api_nonces table makes a
 * replay fail across a restart too. Rows are "<AccessKeyId>/<nonce>" (ids never contain
 * '/'); they are read once, before the first nonce is checked, and each accepted nonce is
 * written behind the reply (a crash can lose only the last few milliseconds). */

#define NONCE_PRUNE_SECONDS 60

static gpointer
load_nonces_job (sqlite3   *db,
                 gpointer   data,
                 GError   **error)
{
  gint64 now = *(gint64 *) data;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (nonce_item_free);
  g_autoptr(GError) local_error = NULL;
  sqlite3_stmt *stmt;

  /* Expired rows are never needed again. */
  if ((stmt = lt_catalog_stmt (db, "DELETE FROM api_nonces WHERE expire_time <= ?", error)) == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, now);
  if (!lt_catalog_step_done (stmt, error))
    return NULL;

  if ((stmt = lt_catalog_stmt (db, "SELECT nonce, expire_time FROM api_nonces ORDER BY expire_time",
                               error)) == NULL)
    return NULL;
  while (lt_catalog_next_row (stmt, &local_error))
    {
      NonceItem *item = g_new0 (NonceItem, 1);

      item->nonce = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      item->expires = sqlite3_column_int64 (stmt, 1);
      g_ptr_array_add (rows, item);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return g_steal_pointer (&rows);
}

typedef struct
{
  char   *row;            /* "<AccessKeyId>/<nonce>" */
  gint64  expires;
  gint64  prune_before;   /* 0: no pruning this time */
} NonceWrite;

static void
nonce_write_free (gpointer data)
{
  NonceWrite *write = data;

  g_free (write->row);
  g_free (write);
}

static gpointer
store_nonce_job (sqlite3   *db,
                 gpointer   data,
                 GError   **error)
{
  NonceWrite *write = data;
  sqlite3_stmt *stmt;

  stmt = lt_catalog_stmt (db, "INSERT OR REPLACE INTO api_nonces (nonce, expire_time) VALUES (?, ?)",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, write->row, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, write->expires);
  if (!lt_catalog_step_done (stmt, error))
    return NULL;

  if (write->prune_before != 0)
    {
      if ((stmt = lt_catalog_stmt (db, "DELETE FROM api_nonces WHERE expire_time <= ?", error)) == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, write->prune_before);
      if (!lt_catalog_step_done (stmt, error))
        return NULL;
    }

  return GINT_TO_POINTER (TRUE);
}

static void
store_nonce_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* Not fatal: memory still refuses the replay until this process ends. */
  if (lt_catalog_run_finish (LT_CATALOG (source), result, &error) == NULL)
    g_debug ("An API nonce could not be written to the catalog: %s", error->message);
}

static void
key_state_add_nonce (KeyState   *state,
                     const char *nonce,
                     gint64      expires)
{
  NonceItem *item = g_new0 (NonceItem, 1);

  item->nonce = g_strdup (nonce);
  item->expires = expires;
  g_queue_push_tail (&state->order, item);
  g_hash_table_insert (state->nonces, item->nonce, item);
}

static void
request_admit (LtApiRequest *request)
{
  LtApiServer *self = request->server;
  const char *nonce = g_hash_table_lookup (request->params, "SignatureNonce");
  gint64 now = g_date_time_to_unix (request->time);
  gint64 tick = self->monotonic_func ();
  NonceWrite *write;
  KeyState *state;

  state = key_state_get (self, request->access_key_id);
  key_state_prune (state, now);

  if (g_hash_table_contains (state->nonces, nonce))
    {
      request_fail (request, LT_API_ERROR_NONCE_USED,
                    "Specified signature nonce was used already.");
      return;
    }

  /* Sliding window: the request is refused when the oldest of the last 30 admitted ones
   * is less than a second old. Refused requests neither count nor burn their nonce, so
   * the client can simply retry. */
  if (state->n_hits == LT_API_RATE_LIMIT &&
      tick - state->hits[state->next_hit] < G_USEC_PER_SEC)
    {
      request_fail (request, LT_API_ERROR_THROTTLING,
                    "Request was denied due to request throttling: more than %d requests per second for this access key.",
                    LT_API_RATE_LIMIT);
      return;
    }

  if (g_queue_get_length (&state->order) >= NONCE_MAX_PER_KEY)
    {
      request_fail (request, LT_API_ERROR_THROTTLING,
                    "Request was denied due to request throttling: too many requests for this access key in the replay window.");
      return;
    }

  key_state_add_nonce (state, nonce, now + NONCE_KEEP_SECONDS);
  state->hits[state->next_hit] = tick;
  state->next_hit = (state->next_hit + 1) % LT_API_RATE_LIMIT;
  state->n_hits = MIN (state->n_hits + 1, LT_API_RATE_LIMIT);

  write = g_new0 (NonceWrite, 1);
  write->row = g_strdup_printf ("%s/%s", request->access_key_id, nonce);
  write->expires = now + NONCE_KEEP_SECONDS;
  if (now - self->nonces_pruned_at >= NONCE_PRUNE_SECONDS)
    {
      write->prune_before = now;
      self->nonces_pruned_at = now;
    }
  lt_catalog_run_async (self->catalog, store_nonce_job, write, nonce_write_free, NULL,
                        NULL, store_nonce_cb, NULL);

  request_dispatch (request);
}

static void
load_nonces_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LtApiServer) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&self->nonce_waiters);

  self->nonces_loading = FALSE;

  rows = lt_catalog_run_finish (LT_CATALOG (source), result, &error);
  if (rows == NULL)
    {
      g_autoptr(GError) api_error =
        g_error_new (LT_API_ERROR, LT_API_ERROR_INTERNAL,
                     "The used signature nonces could not be read from the catalog: %s",
                     error != NULL ? error->message : "unknown error");

      for (guint i = 0; waiters != NULL && i < waiters->len; i++)
        lt_api_request_return_error (g_ptr_array_index (waiters, i), api_error);
      return;
    }

  for (guint i = 0; i < rows->len; i++)
    {
      NonceItem *row = g_ptr_array_index (rows, i);
      const char *slash = strchr (row->nonce, '/');
      g_autofree char *id = NULL;
      KeyState *state;

      if (slash == NULL)
        continue;
      id = g_strndup (row->nonce, slash - row->nonce);
      state = key_state_get (self, id);
      if (!g_hash_table_contains (state->nonces, slash + 1))
        key_state_add_nonce (state, slash + 1, row->expires);
    }
  self->nonces_loaded = TRUE;

  for (guint i = 0; waiters != NULL && i < waiters->len; i++)
    request_admit (g_ptr_array_index (waiters, i));
}

static void
request_check_signature (LtApiRequest *request,
                         const char   *secret)
{
  LtApiServer *self = request->server;
  const char *given = g_hash_table_lookup (request->params, "Signature");
  g_autofree char *expected = NULL;

  expected = lt_api_compute_signature (request->method, request->params, secret);
  if (!signature_equal (expected, given))
    {
      g_autofree char *string_to_sign = lt_api_string_to_sign (request->method, request->params);

      /* The StringToSign holds nothing secret and is what a client author needs. */
      request_fail (request, LT_API_ERROR_SIGNATURE_DOES_NOT_MATCH,
                    "Specified signature does not match our calculation. The server's StringToSign is: %s",
                    string_to_sign);
      return;
    }

  if (self->nonces_loaded)
    {
      request_admit (request);
      return;
    }

  /* The first signed request reads the nonces of earlier runs; others wait for it. */
  if (self->nonce_waiters == NULL)
    self->nonce_waiters = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_api_request_unref);
  g_ptr_array_add (self->nonce_waiters, lt_api_request_ref (request));

  if (!self->nonces_loading)
    {
      gint64 *now = g_new (gint64, 1);

      *now = self->now_func ();
      self->nonces_loading = TRUE;
      self->nonces_pruned_at = *now;
      lt_catalog_run_async (self->catalog, load_nonces_job, now, g_free,
                            (GDestroyNotify) g_ptr_array_unref, self->cancellable,
                            load_nonces_cb, g_object_ref (self));
    }
}

typedef struct
{
  LtApiServer   *server;
  KeyCacheEntry *entry;
} KeyLoad;

static void
key_load_free (KeyLoad *load)
{
  g_clear_object (&load->server);
  g_clear_pointer (&load->entry, key_cache_entry_release);
  g_free (load);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KeyLoad, key_load_free)

static void
key_load_fail (KeyLoad      *load,
               LtApiError    code,
               const char   *message)
{
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&load->entry->waiters);
  g_autoptr(GError) error = g_error_new_literal (LT_API_ERROR, code, message);

  /* Unknown keys are not cached: a key created meanwhile (livetape --create-access-key
   * in another process) must work on its first request. */
  if (g_hash_table_lookup (load->server->key_cache, load->entry->id) == load->entry)
    g_hash_table_remove (load->server->key_cache, load->entry->id);

  for (guint i = 0; i < waiters->len; i++)
    lt_api_request_return_error (g_ptr_array_index (waiters, i), error);
}

static void
secret_lookup_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(KeyLoad) load = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) waiters = NULL;
  char *secret;

  secret = lt_secret_store_lookup_finish (LT_SECRET_STORE (source), result, &error);
  if (secret == NULL)
    {
      if (g_error_matches (error, LT_SECRET_STORE_ERROR, LT_SECRET_STORE_ERROR_NOT_FOUND))
        {
          key_load_fail (load, LT_API_ERROR_ACCESS_KEY_NOT_FOUND,
                         "Specified access key is not found.");
        }
      else
        {
          g_autofree char *message =
            g_strdup_printf ("The secret of the access key could not be read from the keyring: %s",
                             error != NULL ? error->message : "unknown error");

          key_load_fail (load, LT_API_ERROR_INTERNAL, message);
        }
      return;
    }

  load->entry->secret = secret;
  load->entry->loaded_at = load->server->monotonic_func ();
  waiters = g_steal_pointer (&load->entry->waiters);

  for (guint i = 0; i < waiters->len; i++)
    request_check_signature (g_ptr_array_index (waiters, i), load->entry->secret);
}

static void
list_api_keys_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(KeyLoad) load = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) keys = NULL;
  LtSecretStore *secrets;
  GCancellable *cancellable;
  const char *id;
  gboolean found = FALSE;

  keys = lt_catalog_list_api_keys_finish (LT_CATALOG (source), result, &error);
  if (error != NULL)
    {
      g_autofree char *message =
        g_strdup_printf ("The access keys could not be read from the catalog: %s", error->message);

      key_load_fail (load, LT_API_ERROR_INTERNAL, message);
      return;
    }

  for (guint i = 0; keys != NULL && i < keys->len; i++)
    {
      LtApiKeyInfo *info = g_ptr_array_index (keys, i);

      if (g_strcmp0 (info->access_key_id, load->entry->id) == 0 && info->enabled)
        found = TRUE;
    }

  if (!found)
    {
      key_load_fail (load, LT_API_ERROR_ACCESS_KEY_NOT_FOUND,
                     "Specified access key is not found.");
      return;
    }

  /* Arguments are evaluated in any order: read the fields before stealing @load. */
  secrets = load->server->secrets;
  cancellable = load->server->cancellable;
  id = load->entry->id;
  lt_secret_store_lookup_async (secrets, LT_SECRET_KIND_API_KEY, id, cancellable,
                                secret_lookup_cb, g_steal_pointer (&load));
}

static void
request_lookup_key (LtApiRequest *request)
{
  LtApiServer *self = request->server;
  KeyCacheEntry *entry = g_hash_table_lookup (self->key_cache, request->access_key_id);
  KeyLoad *load;

  if (entry != NULL && entry->waiters != NULL)
    {
      g_ptr_array_add (entry->waiters, lt_api_request_ref (request));
      return;
    }

  if (entry != NULL && entry->secret != NULL &&
      self->monotonic_func () - entry->loaded_at < KEY_CACHE_USEC)
    {
      request_check_signature (request, entry->secret);
      return;
    }

  entry = g_rc_box_new0 (KeyCacheEntry);
  entry->id = g_strdup (request->access_key_id);
  entry->waiters = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_api_request_unref);
  g_ptr_array_add (entry->waiters, lt_api_request_ref (request));
  g_hash_table_replace (self->key_cache, entry->id, entry);

  load = g_new0 (KeyLoad, 1);
  load->server = g_object_ref (self);
  load->entry = g_rc_box_acquire (entry);
  lt_catalog_list_api_keys_async (self->catalog, self->cancellable, list_api_keys_cb, load);
}

/* The common parameters ------------------------------------------------------------- */

static const char *
request_common_param (LtApiRequest *request,
                      const char   *name)
{
  const char *value = g_hash_table_lookup (request->params, name);

  if (value == NULL || *value == '\0')
    {
      request_fail (request, LT_API_ERROR_MISSING_PARAMETER,
                    "The input parameter '%s' that is mandatory for processing this request is not supplied.",
                    name);
      return NULL;
    }
  return value;
}

static void
request_start (LtApiRequest *request,
               const char   *path)
{
  LtApiServer *self = request->server;
  g_autoptr(GError) error = NULL;
  const char *format;
  const char *value;
  gboolean decoded;
  gint64 timestamp;
  gint64 now;

  /* Errors are written in the requested format as soon as it is known, even when the
   * rest of the request is malformed. */
  decoded = request_decode_params (request, &error);
  format = g_hash_table_lookup (request->params, "Format");
  if (format != NULL && g_ascii_strcasecmp (format, "JSON") == 0)
    request->format = REPLY_JSON;

  if (g_strcmp0 (request->method, SOUP_METHOD_GET) != 0 &&
      g_strcmp0 (request->method, SOUP_METHOD_POST) != 0)
    {
      g_autofree char *message =
        g_strdup_printf ("The HTTP method %s is not supported; use GET or POST.", request->method);

      soup_message_headers_replace (soup_server_message_get_response_headers (request->msg),
                                    "Allow", "GET, POST");
      lt_api_request_return_error_code (request, SOUP_STATUS_METHOD_NOT_ALLOWED,
                                        lt_api_error_code_name (LT_API_ERROR_INVALID_PARAMETER),
                                        message);
      return;
    }

  if (g_strcmp0 (path, "/") != 0)
    {
      request_fail (request, LT_API_ERROR_ACTION_NOT_FOUND,
                    "Specified api is not found, please check your url and method.");
      return;
    }

  if (!decoded)
    {
      lt_api_request_return_error (request, error);
      return;
    }

  if ((request->action = request_common_param (request, "Action")) == NULL)
    return;

  if (!g_hash_table_contains (self->actions, request->action))
    {
      request_fail (request, LT_API_ERROR_ACTION_NOT_FOUND,
                    "Specified api is not found, please check your url and method.");
      return;
    }

  if ((value = request_common_param (request, "Version")) == NULL)
    return;
  if (strcmp (value, LT_API_VERSION) != 0)
    {
      request_fail (request, LT_API_ERROR_INVALID_PARAMETER,
                    "The specified Version '%s' is not supported; use %s.",
                    value, LT_API_VERSION);
      return;
    }

  if (format != NULL && *format != '\0' &&
      g_ascii_strcasecmp (format, "JSON") != 0 && g_ascii_strcasecmp (format, "XML") != 0)
    {
      request_fail (request, LT_API_ERROR_INVALID_PARAMETER,
                    "The specified Format is not supported; use JSON or XML.");
      return;
    }

  if ((request->access_key_id = request_common_param (request, "AccessKeyId")) == NULL)
    return;

  if ((value = request_common_param (request, "SignatureMethod")) == NULL)
    return;
  if (strcmp (value, "HMAC-SHA1") != 0)
    {
      request_fail (request, LT_API_ERROR_INVALID_PARAMETER,
                    "The specified SignatureMethod is not supported; use HMAC-SHA1.");
      return;
    }

  if ((value = request_common_param (request, "SignatureVersion")) == NULL)
    return;
  if (strcmp (value, "1.0") != 0)
    {
      request_fail (request, LT_API_ERROR_INVALID_PARAMETER,
                    "The specified SignatureVersion is not supported; use 1.0.");
      return;
    }

  if ((value = request_common_param (request, "SignatureNonce")) == NULL)
    return;
  if (strlen (value) > NONCE_MAX_BYTES)
    {
      request_fail (request, LT_API_ERROR_INVALID_PARAMETER,
                    "The SignatureNonce is longer than %d bytes.", NONCE_MAX_BYTES);
      return;
    }

  if ((value = request_common_param (request, "Timestamp")) == NULL)
    return;
  if (!lt_api_parse_time (value, &timestamp))
    {
      request_fail (request, LT_API_ERROR_INVALID_PARAMETER,
                    "The specified Timestamp is not valid; use UTC in the form yyyy-MM-ddTHH:mm:ssZ.");
      return;
    }
  now = g_date_time_to_unix (request->time);
  if (timestamp < now - LT_API_TIMESTAMP_WINDOW_SECONDS ||
      timestamp > now + LT_API_TIMESTAMP_WINDOW_SECONDS)
    {
      request_fail (request, LT_API_ERROR_TIMESTAMP_EXPIRED,
                    "Specified time stamp or date value is expired: it is more than %d minutes away from the server's clock.",
                    LT_API_TIMESTAMP_WINDOW_SECONDS / 60);
      return;
    }

  if (request_common_param (request, "Signature") == NULL)
    return;

  request_lookup_key (request);
}

static void
server_handler_cb (SoupServer        *soup,
                   SoupServerMessage *msg,
                   const char        *path,
                   GHashTable        *query,
                   gpointer           user_data)
{
  LtApiServer *self = user_data;
  g_autoptr(LtApiRequest) request = request_new (self, msg);

  request_start (request, path);

  /* Waiting for the keyring or an asynchronous action: hold the reply back. */
  if (!request->returned)
    {
      request->paused = TRUE;
      soup_server_message_pause (msg);
    }
}

static void
server_early_handler_cb (SoupServer        *soup,
                         SoupServerMessage *msg,
                         const char        *path,
                         GHashTable        *query,
                         gpointer           user_data)
{
  LtApiServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);
  g_autoptr(LtApiRequest) request = NULL;
  const char *format;

  if (encoding != SOUP_ENCODING_CHUNKED &&
      (encoding != SOUP_ENCODING_CONTENT_LENGTH ||
       soup_message_headers_get_content_length (headers) <= MAX_BODY_BYTES))
    return;

  /* Refuse before the body is read, so a huge upload costs no memory. */
  request = request_new (self, msg);
  format = query != NULL ? g_hash_table_lookup (query, "Format") : NULL;
  if (format != NULL && g_ascii_strcasecmp (format, "JSON") == 0)
    request->format = REPLY_JSON;

  if (encoding == SOUP_ENCODING_CHUNKED)
    lt_api_request_return_error_code (request, SOUP_STATUS_LENGTH_REQUIRED,
                                      lt_api_error_code_name (LT_API_ERROR_INVALID_PARAMETER),
                                      "A request body must have a Content-Length.");
  else
    lt_api_request_return_error_code (request, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                                      lt_api_error_code_name (LT_API_ERROR_INVALID_PARAMETER),
                                      "The request body is too large.");
}

/* The server object ----------------------------------------------------------------- */

static void
action_entry_free (gpointer data)
{
  ActionEntry *entry = data;

  if (entry->user_data_free != NULL)
    entry->user_data_free (entry->user_data);
  g_free (entry);
}

static void
lt_api_server_dispose (GObject *object)
{
  LtApiServer *self = LT_API_SERVER (object);

  if (self->soup != NULL)
    {
      soup_server_disconnect (self->soup);
      soup_server_remove_handler (self->soup, NULL);
      g_clear_object (&self->soup);
    }
  g_cancellable_cancel (self->cancellable);

  g_clear_pointer (&self->actions, g_hash_table_unref);
  g_clear_object (&self->catalog);
  g_clear_object (&self->secrets);

  G_OBJECT_CLASS (lt_api_server_parent_class)->dispose (object);
}

static void
lt_api_server_finalize (GObject *object)
{
  LtApiServer *self = LT_API_SERVER (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->key_cache, g_hash_table_unref);
  g_clear_pointer (&self->key_states, g_hash_table_unref);
  g_clear_pointer (&self->nonce_waiters, g_ptr_array_unref);

  G_OBJECT_CLASS (lt_api_server_parent_class)->finalize (object);
}

static void
lt_api_server_class_init (LtApiServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lt_api_server_dispose;
  object_class->finalize = lt_api_server_finalize;
}

static void
lt_api_server_init (LtApiServer *self)
{
  g_autofree char *server_header = g_strdup_printf ("Livetape/%s ", PACKAGE_VERSION);

  self->cancellable = g_cancellable_new ();
  self->actions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, action_entry_free);
  self->key_cache = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, key_cache_entry_release);
  self->key_states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, key_state_free);
  self->now_func = default_now;
  self->monotonic_func = g_get_monotonic_time;

  /* A trailing space makes libsoup append its own product token. */
  self->soup = soup_server_new ("server-header", server_header, NULL);
  soup_server_add_early_handler (self->soup, NULL, server_early_handler_cb, self, NULL);
  soup_server_add_handler (self->soup, NULL, server_handler_cb, self, NULL);
}

LtApiServer *
lt_api_server_new (LtCatalog     *catalog,
                   LtSecretStore *secrets)
{
  LtApiServer *self;

  g_return_val_if_fail (LT_IS_CATALOG (catalog), NULL);
  g_return_val_if_fail (LT_IS_SECRET_STORE (secrets), NULL);

  self = g_object_new (LT_TYPE_API_SERVER, NULL);
  self->catalog = g_object_ref (catalog);
  self->secrets = g_object_ref (secrets);
  return self;
}

void
lt_api_server_add_action (LtApiServer     *self,
                          const char      *action,
                          LtApiActionFunc  func,
                          gpointer         user_data,
                          GDestroyNotify   user_data_free)
{
  ActionEntry *entry;

  g_return_if_fail (LT_IS_API_SERVER (self));
  g_return_if_fail (action != NULL);
  g_return_if_fail (func != NULL);

  entry = g_new0 (ActionEntry, 1);
  entry->func = func;
  entry->user_data = user_data;
  entry->user_data_free = user_data_free;
  g_hash_table_replace (self->actions, g_strdup (action), entry);
}

static gboolean
parse_listen (const char  *listen,
              char       **host,
              guint16     *port,
              GError     **error)
{
  const char *port_text = NULL;
  guint64 port_value = 8088;

  if (listen[0] == '[')
    {
      const char *close = strchr (listen, ']');

      if (close == NULL || (close[1] != '\0' && close[1] != ':'))
        goto malformed;
      *host = g_strndup (listen + 1, close - listen - 1);
      if (close[1] == ':')
        port_text = close + 2;
    }
  else
    {
      const char *colon = strrchr (listen, ':');

      if (colon != NULL && strchr (listen, ':') != colon)
        {
          /* A bare IPv6 address ("::1"): no port. */
          *host = g_strdup (listen);
        }
      else if (colon != NULL)
        {
          *host = g_strndup (listen, colon - listen);
          port_text = colon + 1;
        }
      else
        {
          *host = g_strdup (listen);
        }
    }

  if (port_text != NULL &&
      !g_ascii_string_to_unsigned (port_text, 10, 0, G_MAXUINT16, &port_value, NULL))
    goto malformed;

  if (**host == '\0')
    {
      g_clear_pointer (host, g_free);
      goto malformed;
    }

  *port = (guint16) port_value;
  return TRUE;

malformed:
  g_clear_pointer (host, g_free);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "'%s' is not a valid API address; use HOST:PORT, for example 127.0.0.1:8088 or [::1]:8088.",
               listen);
  return FALSE;
}

/* The port of the first listening socket (all of them share it). */
static guint16
listener_port (SoupServer *soup)
{
  GSList *listeners = soup_server_get_listeners (soup);
  guint16 port = 0;

  for (GSList *l = listeners; l != NULL && port == 0; l = l->next)
    {
      g_autoptr(GSocketAddress) local = g_socket_get_local_address (l->data, NULL);

      if (G_IS_INET_SOCKET_ADDRESS (local))
        port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
    }
  g_slist_free (listeners);
  return port;
}

gboolean
lt_api_server_listen (LtApiServer  *self,
                      const char   *listen,
                      GError      **error)
{
  g_autofree char *host = NULL;
  g_autoptr(GError) local_error = NULL;
  guint16 port;
  gboolean ok;

  g_return_val_if_fail (LT_IS_API_SERVER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (listen == NULL)
    listen = LT_API_DEFAULT_LISTEN;

  if (!parse_listen (listen, &host, &port, error))
    return FALSE;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    {
      g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) socket_address = g_inet_socket_address_new (loopback, port);

      /* IPv4 loopback is required; IPv6 loopback on the same port is added when the
       * machine has it (containers often do not, and soup_server_listen_local() would
       * then fail altogether). */
      ok = soup_server_listen (self->soup, socket_address, 0, &local_error);
      if (ok)
        {
          g_autoptr(GInetAddress) loopback6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
          g_autoptr(GSocketAddress) socket_address6 = NULL;
          g_autoptr(GError) ipv6_error = NULL;

          socket_address6 = g_inet_socket_address_new (loopback6, listener_port (self->soup));
          if (!soup_server_listen (self->soup, socket_address6, 0, &ipv6_error))
            g_debug ("Control API not on ::1: %s", ipv6_error->message);
        }
    }
  else
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (host);
      g_autoptr(GSocketAddress) socket_address = NULL;

      if (address == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "'%s' is not an IP address or 'localhost'.", host);
          return FALSE;
        }
      socket_address = g_inet_socket_address_new (address, port);
      ok = soup_server_listen (self->soup, socket_address, 0, &local_error);
    }

  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  self->port = listener_port (self->soup);

  g_debug ("Control API listening on %s (port %u)", listen, self->port);
  return TRUE;
}

guint16
lt_api_server_get_port (LtApiServer *self)
{
  g_return_val_if_fail (LT_IS_API_SERVER (self), 0);
  return self->port;
}

void
lt_api_server_disconnect (LtApiServer *self)
{
  g_return_if_fail (LT_IS_API_SERVER (self));

  if (self->soup != NULL)
    soup_server_disconnect (self->soup);
  self->port = 0;

  /* Key lookups in flight end now; a later listen starts afresh. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
}

void
lt_api_server_set_clock (LtApiServer *self,
                         gint64     (*now_func) (void))
{
  g_return_if_fail (LT_IS_API_SERVER (self));
  self->now_func = now_func != NULL ? now_func : default_now;
}

void
lt_api_server_set_monotonic_clock (LtApiServer *self,
                                   gint64     (*now_func) (void))
{
  g_return_if_fail (LT_IS_API_SERVER (self));
  self->monotonic_func = now_func != NULL ? now_func : g_get_monotonic_time;
}

void
lt_api_server_forget_key (LtApiServer *self,
                          const char  *access_key_id)
{
  g_return_if_fail (LT_IS_API_SERVER (self));
  g_return_if_fail (access_key_id != NULL);

  /* A lookup in flight finishes for its waiters but is not cached (see key_load_fail and
   * secret_lookup_cb, which check that the entry is still the cached one). */
  g_hash_table_remove (self->key_cache, access_key_id);
}
