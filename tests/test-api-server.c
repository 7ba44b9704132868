/* test-api-server.c: the control API end to end over loopback HTTP — a real catalog in a
 * temporary directory, a rule store, access keys with their secrets in the session's
 * keyring (tools/test runs the suite under dbus-run-session with an unlocked
 * gnome-keyring) — driven by a SoupSession on the same main loop: every common error with
 * its HTTP status, JSON and XML replies, GET and POST, nonces, the timestamp window,
 * throttling, and the three rule actions with paging, order and every rule error. */
#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <libsoup/soup.h>
#include <string.h>

#include "lt-api-rules.h"
#include "lt-api-server.h"
#include "lt-catalog.h"
#include "lt-rule-store.h"
#include "lt-secret-store.h"
#include "lt-test-utils.h"

#define KEY_ID            "LTAKtestkey00001"
#define KEY_SECRET        "Zq8+/=test secret~*"
#define OTHER_KEY_ID      "LTAKtestkey00002"
#define OTHER_SECRET      "other-secret-value"
#define DISABLED_KEY_ID   "LTAKdisabled0001"
#define NO_SECRET_KEY_ID  "LTAKnosecret0001"
#define ORPHAN_KEY_ID     "LTAKorphan000001"   /* a secret in the keyring, not in the catalog */

#define START_TIME        1700000000          /* 2023-11-14T22:13:20Z */
#define ENDPOINT          "local"
#define BUCKET            "recordings"

/* The server's clocks, under the test's control. */
static gint64 fake_now = START_TIME;
static gint64 fake_monotonic = 1000 * G_USEC_PER_SEC;
/* Unless frozen, the monotonic clock moves 0.1 s per request, so that long tests stay
 * under the rate limit; the throttling tests freeze it and move it themselves. */
static gboolean monotonic_frozen;

static gint64
get_fake_now (void)
{
  return fake_now;
}

static gint64
get_fake_monotonic (void)
{
  return fake_monotonic;
}

typedef struct
{
  char          *dir;
  LtCatalog     *catalog;
  LtSecretStore *secrets;
  LtRuleStore   *rules;
  LtApiServer   *server;
  SoupSession   *session;
  char          *base_url;
} Fixture;

typedef struct
{
  guint       status;
  char       *content_type;
  char       *body;
  JsonNode   *json;
  char       *xml_root;
  GHashTable *xml_text;     /* "Root/A/B" → text of the last such element */
  GHashTable *xml_counts;   /* "Root/A/B" → number of such elements */
} Reply;

static void
reply_free (Reply *reply)
{
  g_free (reply->content_type);
  g_free (reply->body);
  g_clear_pointer (&reply->json, json_node_unref);
  g_free (reply->xml_root);
  g_clear_pointer (&reply->xml_text, g_hash_table_unref);
  g_clear_pointer (&reply->xml_counts, g_hash_table_unref);
  g_free (reply);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

/* Synchronous wrappers ------------------------------------------------------------- */

static void
wait_ok (GAsyncResult **result)
{
  lt_test_wait_result (result);
}

static void
insert_key (LtCatalog  *catalog,
            const char *id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lt_catalog_insert_api_key_async (catalog, id, "test key", NULL, lt_test_store_result_cb, &result);
  wait_ok (&result);
  g_assert_true (lt_catalog_insert_api_key_finish (catalog, result, &error));
  g_assert_no_error (error);
}

static void
disable_key (LtCatalog  *catalog,
             const char *id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lt_catalog_set_api_key_enabled_async (catalog, id, FALSE, NULL, lt_test_store_result_cb, &result);
  wait_ok (&result);
  g_assert_true (lt_catalog_set_api_key_enabled_finish (catalog, result, &error));
  g_assert_no_error (error);
}

static void
store_secret (LtSecretStore *secrets,
              const char    *id,
              const char    *secret)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lt_secret_store_store_async (secrets, LT_SECRET_KIND_API_KEY, id, "Livetape test key", secret,
                               NULL, lt_test_store_result_cb, &result);
  wait_ok (&result);
  g_assert_true (lt_secret_store_store_finish (secrets, result, &error));
  g_assert_no_error (error);
}

static void
clear_secret (LtSecretStore *secrets,
              const char    *id)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_secret_store_clear_async (secrets, LT_SECRET_KIND_API_KEY, id, NULL,
                               lt_test_store_result_cb, &result);
  wait_ok (&result);
  lt_secret_store_clear_finish (secrets, result, NULL);
}

/* Test-only actions ---------------------------------------------------------------- */

static void
action_fail (LtApiRequest *request,
             gpointer      user_data)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NO_SPACE, "disk is full");

  lt_api_request_return_error (request, error);
}

static void
action_rule_failed (LtApiRequest *request,
                    gpointer      user_data)
{
  g_autoptr(GError) error = g_error_new_literal (LT_RULE_ERROR, LT_RULE_ERROR_FAILED, "rule failed");

  lt_api_request_return_error (request, error);
}

static void
action_drop (LtApiRequest *request,
             gpointer      user_data)
{
  /* Returns without a reply: the server must still answer. */
}

static void
action_custom (LtApiRequest *request,
               gpointer      user_data)
{
  lt_api_request_return_error_code (request, 409, "Custom.Conflict", "custom <message> & more");
}

static gboolean
later_cb (gpointer user_data)
{
  LtApiRequest *request = user_data;
  g_autoptr(JsonObject) result = json_object_new ();
  const char *echo = lt_api_request_get_param (request, "Echo");

  json_object_set_string_member (result, "Echo", echo != NULL ? echo : "");
  json_object_set_string_member (result, "AccessKeyId", lt_api_request_get_access_key_id (request));
  json_object_set_int_member (result, "Time", g_date_time_to_unix (lt_api_request_get_time (request)));
  /* A RequestId in the result must not replace the request's own. */
  json_object_set_string_member (result, "RequestId", "not-this-one");
  lt_api_request_return_result (request, result);
  return G_SOURCE_REMOVE;
}

static void
action_later (LtApiRequest *request,
              gpointer      user_data)
{
  g_timeout_add_full (G_PRIORITY_DEFAULT, 20, later_cb, lt_api_request_ref (request),
                      (GDestroyNotify) lt_api_request_unref);
}

static void
action_int (LtApiRequest *request,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) result = json_object_new ();
  const char *name;
  gint64 value;

  if ((name = lt_api_request_require_param (request, "Name", &error)) == NULL ||
      !lt_api_request_get_int_param (request, "Value", 7, 5, 30, &value, &error))
    {
      lt_api_request_return_error (request, error);
      return;
    }
  json_object_set_string_member (result, "Name", name);
  json_object_set_int_member (result, "Value", value);
  lt_api_request_return_result (request, result);
}

static SoupSession *
new_session (void)
{
  /* Direct connections: the default resolver would read GNOME's proxy settings, whose
   * schema the test environment does not have. */
  g_autoptr(GProxyResolver) direct = g_simple_proxy_resolver_new (NULL, NULL);

  return soup_session_new_with_options ("timeout", 30, "proxy-resolver", direct, NULL);
}

/* Fixture ---------------------------------------------------------------------------- */

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *catalog_path = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  fake_now = START_TIME;
  fake_monotonic = 1000 * G_USEC_PER_SEC;
  monotonic_frozen = FALSE;

  f->dir = lt_test_make_temp_dir ();
  catalog_path = g_build_filename (f->dir, "catalog.db", NULL);
  f->catalog = lt_catalog_new (catalog_path);
  g_assert_true (lt_catalog_open_sync (f->catalog, &error));
  g_assert_no_error (error);

  insert_key (f->catalog, KEY_ID);
  insert_key (f->catalog, OTHER_KEY_ID);
  insert_key (f->catalog, DISABLED_KEY_ID);
  insert_key (f->catalog, NO_SECRET_KEY_ID);
  disable_key (f->catalog, DISABLED_KEY_ID);

  /* Scoped to this test's directory: nothing is shared with other tests or runs. */
  f->secrets = lt_secret_store_new (f->dir);
  store_secret (f->secrets, KEY_ID, KEY_SECRET);
  store_secret (f->secrets, OTHER_KEY_ID, OTHER_SECRET);
  store_secret (f->secrets, DISABLED_KEY_ID, "disabled-secret");
  store_secret (f->secrets, ORPHAN_KEY_ID, "orphan-secret");

  f->rules = lt_rule_store_new (f->catalog);
  lt_rule_store_load_async (f->rules, NULL, lt_test_store_result_cb, &result);
  wait_ok (&result);
  g_assert_true (lt_rule_store_load_finish (f->rules, result, &error));
  g_assert_no_error (error);

  f->server = lt_api_server_new (f->catalog, f->secrets);
  lt_api_server_set_clock (f->server, get_fake_now);
  lt_api_server_set_monotonic_clock (f->server, get_fake_monotonic);
  lt_api_rules_register (f->server, f->rules);
  lt_api_server_add_action (f->server, "TestFail", action_fail, NULL, NULL);
  lt_api_server_add_action (f->server, "TestRuleFailed", action_rule_failed, NULL, NULL);
  lt_api_server_add_action (f->server, "TestDrop", action_drop, NULL, NULL);
  lt_api_server_add_action (f->server, "TestCustom", action_custom, NULL, NULL);
  lt_api_server_add_action (f->server, "TestLater", action_later, NULL, NULL);
  lt_api_server_add_action (f->server, "TestInt", action_int, NULL, NULL);

  g_assert_true (lt_api_server_listen (f->server, "127.0.0.1:0", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (lt_api_server_get_port (f->server), >, 0);
  f->base_url = g_strdup_printf ("http://127.0.0.1:%u", lt_api_server_get_port (f->server));

  f->session = new_session ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  soup_session_abort (f->session);
  g_clear_object (&f->session);

  lt_api_server_disconnect (f->server);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (lt_api_server_get_port (f->server), ==, 0);
  g_assert_finalize_object (g_steal_pointer (&f->server));

  clear_secret (f->secrets, KEY_ID);
  clear_secret (f->secrets, OTHER_KEY_ID);
  clear_secret (f->secrets, DISABLED_KEY_ID);
  clear_secret (f->secrets, ORPHAN_KEY_ID);
  g_clear_object (&f->secrets);

  g_clear_object (&f->rules);
  lt_catalog_close (f->catalog);
  g_clear_object (&f->catalog);
  g_clear_pointer (&f->base_url, g_free);
  g_clear_pointer (&f->dir, g_free);
}

/* Requests --------------------------------------------------------------------------- */

/* The common parameters of a valid request by KEY_ID at the server's current time. */
static GHashTable *
base_params (const char *action,
             const char *format)
{
  GHashTable *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *nonce = g_uuid_string_random ();

  g_hash_table_insert (params, g_strdup ("Action"), g_strdup (action));
  g_hash_table_insert (params, g_strdup ("Version"), g_strdup ("2016-11-01"));
  if (format != NULL)
    g_hash_table_insert (params, g_strdup ("Format"), g_strdup (format));
  g_hash_table_insert (params, g_strdup ("AccessKeyId"), g_strdup (KEY_ID));
  g_hash_table_insert (params, g_strdup ("SignatureMethod"), g_strdup ("HMAC-SHA1"));
  g_hash_table_insert (params, g_strdup ("SignatureVersion"), g_strdup ("1.0"));
  g_hash_table_insert (params, g_strdup ("SignatureNonce"), g_steal_pointer (&nonce));
  g_hash_table_insert (params, g_strdup ("Timestamp"), lt_api_format_time (fake_now));
  return params;
}

/* Sets (or with @value NULL removes) a parameter. */
static void
set_param (GHashTable *params,
           const char *name,
           const char *value)
{
  if (value == NULL)
    g_hash_table_remove (params, name);
  else
    g_hash_table_insert (params, g_strdup (name), g_strdup (value));
}

static void
set_params_va (GHashTable *params,
               va_list     args)
{
  const char *name;

  while ((name = va_arg (args, const char *)) != NULL)
    set_param (params, name, va_arg (args, const char *));
}

static void
sign (GHashTable *params,
      const char *method,
      const char *secret)
{
  g_autofree char *signature = NULL;

  g_hash_table_remove (params, "Signature");
  signature = lt_api_compute_signature (method, params, secret);
  g_hash_table_insert (params, g_strdup ("Signature"), g_steal_pointer (&signature));
}

static char *
encode_params (GHashTable *params)
{
  GString *out = g_string_new (NULL);
  GHashTableIter iter;
  gpointer name, value;

  g_hash_table_iter_init (&iter, params);
  while (g_hash_table_iter_next (&iter, &name, &value))
    {
      g_autofree char *encoded_name = lt_api_percent_encode (name);
      g_autofree char *encoded_value = lt_api_percent_encode (value);

      if (out->len > 0)
        g_string_append_c (out, '&');
      g_string_append_printf (out, "%s=%s", encoded_name, encoded_value);
    }
  return g_string_free (out, FALSE);
}


static Reply *
send_message (Fixture     *f,
              SoupMessage *msg)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  Reply *reply = g_new0 (Reply, 1);
  const char *content_type;

  if (!monotonic_frozen)
    fake_monotonic += G_USEC_PER_SEC / 10;

  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL,
                                    lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  bytes = soup_session_send_and_read_finish (f->session, result, &error);
  g_assert_no_error (error);

  reply->status = soup_message_get_status (msg);
  content_type = soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL);
  reply->content_type = g_strdup (content_type);
  reply->body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

  if (g_strcmp0 (content_type, "application/json") == 0)
    {
      reply->json = json_from_string (reply->body, &error);
      g_assert_no_error (error);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (reply->json));
    }
  else if (content_type != NULL)
    {
      g_assert_cmpstr (content_type, ==, "text/xml");
      lt_test_read_xml (reply->body, &reply->xml_root, &reply->xml_text, &reply->xml_counts);
    }

  return reply;
}

static Reply *
send_raw (Fixture    *f,
          const char *method,
          const char *path_and_query,
          const char *content_type,
          const char *body)
{
  g_autofree char *path = g_strdup (path_and_query);
  char *question = strchr (path, '?');
  g_autoptr(GUri) uri = NULL;
  g_autoptr(SoupMessage) msg = NULL;

  /* Built, not parsed, so that deliberately broken escapes reach the server as they are. */
  if (question != NULL)
    *question = '\0';
  uri = g_uri_build (G_URI_FLAGS_ENCODED, "http", NULL, "127.0.0.1",
                     lt_api_server_get_port (f->server), path,
                     question != NULL ? question + 1 : NULL, NULL);
  msg = soup_message_new_from_uri (method, uri);
  g_assert_nonnull (msg);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, content_type, bytes);
    }
  return send_message (f, msg);
}

static Reply *
send_params (Fixture    *f,
             const char *method,
             GHashTable *params)
{
  g_autofree char *encoded = encode_params (params);

  if (g_strcmp0 (method, "POST") == 0)
    return send_raw (f, "POST", "/", "application/x-www-form-urlencoded", encoded);
  else
    {
      g_autofree char *path = g_strconcat ("/?", encoded, NULL);

      return send_raw (f, method, path, NULL, NULL);
    }
}

/* A request signed with KEY_SECRET: base parameters, then NULL-terminated name/value
 * pairs (a NULL value removes the parameter). */
static Reply *
call (Fixture    *f,
      const char *method,
      const char *action,
      const char *format,
      ...)
{
  g_autoptr(GHashTable) params = base_params (action, format);
  va_list args;

  va_start (args, format);
  set_params_va (params, args);
  va_end (args);

  sign (params, method, KEY_SECRET);
  return send_params (f, method, params);
}

/* Member @name of a JSON reply, or text of element @name under the root of an XML one. */
static const char *
reply_get (Reply      *reply,
           const char *name)
{
  if (reply->json != NULL)
    {
      JsonObject *object = json_node_get_object (reply->json);
      JsonNode *node = json_object_get_member (object, name);

      if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
        return NULL;
      if (json_node_get_value_type (node) == G_TYPE_STRING)
        return json_node_get_string (node);
      return NULL;
    }
  else
    {
      g_autofree char *path = g_strdup_printf ("%s/%s", reply->xml_root, name);

      return g_hash_table_lookup (reply->xml_text, path);
    }
}

static gint64
reply_get_int (Reply      *reply,
               const char *name)
{
  if (reply->json != NULL)
    return json_object_get_int_member (json_node_get_object (reply->json), name);
  else
    {
      const char *text = reply_get (reply, name);

      g_assert_nonnull (text);
      return g_ascii_strtoll (text, NULL, 10);
    }
}

static void
assert_request_id (const char *id)
{
  g_assert_nonnull (id);
  g_assert_cmpuint (strlen (id), ==, 36);
  g_assert_true (g_uuid_string_is_valid (id));
  for (const char *p = id; *p != '\0'; p++)
    g_assert_false (g_ascii_islower (*p));
}

#define assert_ok(reply) \
  G_STMT_START { \
    if ((reply)->status != 200) \
      g_test_message ("unexpected reply: %s", (reply)->body); \
    g_assert_cmpuint ((reply)->status, ==, 200); \
    assert_request_id (reply_get ((reply), "RequestId")); \
  } G_STMT_END

#define assert_error(reply, http_status, code) \
  G_STMT_START { \
    if ((reply)->status != (http_status) || g_strcmp0 (reply_get ((reply), "Code"), (code)) != 0) \
      g_test_message ("unexpected reply: %u %s", (reply)->status, (reply)->body); \
    g_assert_cmpuint ((reply)->status, ==, (http_status)); \
    g_assert_cmpstr (reply_get ((reply), "Code"), ==, (code)); \
    assert_request_id (reply_get ((reply), "RequestId")); \
    g_assert_nonnull (reply_get ((reply), "HostId")); \
    g_assert_nonnull (reply_get ((reply), "Message")); \
    g_assert_cmpstr (reply_get ((reply), "Message"), !=, ""); \
    if ((reply)->json == NULL) \
      g_assert_cmpstr ((reply)->xml_root, ==, "Error"); \
    /* No reply ever shows a secret. */ \
    g_assert_null (strstr ((reply)->body, KEY_SECRET)); \
    g_assert_null (strstr ((reply)->body, OTHER_SECRET)); \
  } G_STMT_END

/* Replies ---------------------------------------------------------------------------- */

static void
test_json_reply (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(Reply) reply = NULL;
  g_autoptr(Reply) again = NULL;
  JsonObject *object;
  JsonObject *list;

  reply = call (f, "GET", "DescribeLiveRecordConfig", "JSON", "DomainName", "example.com", NULL);
  assert_ok (reply);
  g_assert_cmpstr (reply->content_type, ==, "application/json");
  object = json_node_get_object (reply->json);
  g_assert_cmpint (json_object_get_int_member (object, "PageNum"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (object, "PageSize"), ==, 10);
  g_assert_cmpstr (json_object_get_string_member (object, "Order"), ==, "asc");
  g_assert_cmpint (json_object_get_int_member (object, "TotalNum"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (object, "TotalPage"), ==, 0);
  list = json_object_get_object_member (object, "LiveAppRecordList");
  g_assert_nonnull (list);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (list, "LiveAppRecord")), ==, 0);

  /* Format is case-insensitive; every reply has a new RequestId. */
  again = call (f, "GET", "DescribeLiveRecordConfig", "json", "DomainName", "example.com", NULL);
  assert_ok (again);
  g_assert_nonnull (again->json);
  g_assert_cmpstr (reply_get (reply, "RequestId"), !=, reply_get (again, "RequestId"));
}

static void
test_xml_reply (Fixture       *f,
                gconstpointer  data)
{
  const char *formats[] = { NULL, "XML", "xml" };

  /* XML is the default. */
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autoptr(Reply) reply = call (f, "GET", "DescribeLiveRecordConfig", formats[i],
                                     "DomainName", "example.com", NULL);

      assert_ok (reply);
      g_assert_cmpstr (reply->content_type, ==, "text/xml");
      g_assert_null (reply->json);
      g_assert_cmpstr (reply->xml_root, ==, "DescribeLiveRecordConfigResponse");
      g_assert_cmpint (reply_get_int (reply, "TotalNum"), ==, 0);
      g_assert_cmpstr (reply_get (reply, "Order"), ==, "asc");
      g_assert_cmpstr (reply_get (reply, "LiveAppRecordList"), ==, "");
    }
}

static void
test_async_action (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(Reply) reply = NULL;
  JsonObject *object;

  reply = call (f, "POST", "TestLater", "JSON", "Echo", "a b+c&d=é", NULL);
  assert_ok (reply);
  object = json_node_get_object (reply->json);
  g_assert_cmpstr (json_object_get_string_member (object, "Echo"), ==, "a b+c&d=é");
  g_assert_cmpstr (json_object_get_string_member (object, "AccessKeyId"), ==, KEY_ID);
  g_assert_cmpint (json_object_get_int_member (object, "Time"), ==, START_TIME);
  g_assert_cmpstr (json_object_get_string_member (object, "RequestId"), !=, "not-this-one");
}

static void
test_concurrent_requests (Fixture       *f,
                          gconstpointer  data)
{
  GAsyncResult *results[12] = { NULL, };
  SoupMessage *messages[12];

  /* All in flight at once, on a key not yet cached: one lookup serves them all. */
  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      g_autoptr(GHashTable) params = base_params ("TestLater", "JSON");
      g_autofree char *echo = g_strdup_printf ("%u", i);
      g_autofree char *query = NULL;
      g_autofree char *url = NULL;

      set_param (params, "Echo", echo);
      sign (params, "GET", KEY_SECRET);
      query = encode_params (params);
      url = g_strdup_printf ("%s/?%s", f->base_url, query);
      messages[i] = soup_message_new ("GET", url);
      soup_session_send_and_read_async (f->session, messages[i], G_PRIORITY_DEFAULT, NULL,
                                        lt_test_store_result_cb, &results[i]);
    }

  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(JsonNode) node = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *echo = g_strdup_printf ("%u", i);
      g_autofree char *body = NULL;

      lt_test_wait_result (&results[i]);
      bytes = soup_session_send_and_read_finish (f->session, results[i], &error);
      g_assert_no_error (error);
      g_assert_cmpuint (soup_message_get_status (messages[i]), ==, 200);
      body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      node = json_from_string (body, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "Echo"), ==, echo);
      g_clear_object (&results[i]);
      g_clear_object (&messages[i]);
    }
}

/* Common parameters ------------------------------------------------------------------ */

typedef struct
{
  const char *name;     /* parameter to change */
  const char *value;    /* new value; NULL removes it */
  guint       status;
  const char *code;
} CommonCase;

static const CommonCase common_cases[] = {
  { "Action", NULL, 400, "MissingParameter" },
  { "Action", "", 400, "MissingParameter" },
  { "Action", "DescribeNothing", 404, "InvalidAction.NotFound" },
  { "Action", "describeliverecordconfig", 404, "InvalidAction.NotFound" },
  { "Version", NULL, 400, "MissingParameter" },
  { "Version", "2014-11-11", 400, "InvalidParameter" },
  { "Format", "YAML", 400, "InvalidParameter" },
  { "AccessKeyId", NULL, 400, "MissingParameter" },
  { "AccessKeyId", "LTAKunknown00001", 404, "InvalidAccessKeyId.NotFound" },
  { "SignatureMethod", NULL, 400, "MissingParameter" },
  { "SignatureMethod", "HMAC-SHA256", 400, "InvalidParameter" },
  { "SignatureVersion", NULL, 400, "MissingParameter" },
  { "SignatureVersion", "2.0", 400, "InvalidParameter" },
  { "SignatureNonce", NULL, 400, "MissingParameter" },
  { "SignatureNonce", "", 400, "MissingParameter" },
  { "Timestamp", NULL, 400, "MissingParameter" },
  { "Timestamp", "2023-11-14 22:13:20", 400, "InvalidParameter" },
  { "Timestamp", "1700000000", 400, "InvalidParameter" },
  { "Timestamp", "2023-11-14T22:13:20+00:00", 400, "InvalidParameter" },
  { "Timestamp", "2023-11-14T21:58:19Z", 400, "InvalidTimeStamp.Expired" },   /* now − 901 s */
  { "Timestamp", "2023-11-14T22:28:21Z", 400, "InvalidTimeStamp.Expired" },   /* now + 901 s */
  { "Timestamp", "2000-01-01T00:00:00Z", 400, "InvalidTimeStamp.Expired" },
  { "Signature", NULL, 400, "MissingParameter" },
  { "Signature", "", 400, "MissingParameter" },
  { "Signature", "3I5a3myPjp8FXWT4rvxX5pKb/aw=", 400, "SignatureDoesNotMatch" },
};

static void
test_common_errors (Fixture       *f,
                    gconstpointer  data)
{
  const char *formats[] = { "JSON", "XML" };

  for (guint i = 0; i < G_N_ELEMENTS (common_cases); i++)
    for (guint j = 0; j < G_N_ELEMENTS (formats); j++)
      {
        const CommonCase *c = &common_cases[i];
        g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", formats[j]);
        g_autoptr(Reply) reply = NULL;

        g_test_message ("%s = %s (%s)", c->name, c->value != NULL ? c->value : "(absent)", formats[j]);
        set_param (params, "DomainName", "example.com");
        set_param (params, c->name, c->value);
        if (g_strcmp0 (c->name, "Signature") != 0)
          sign (params, "GET", KEY_SECRET);
        reply = send_params (f, "GET", params);
        assert_error (reply, c->status, c->code);
        /* An unknown Format cannot be honoured: such errors are XML. */
        if (g_strcmp0 (c->value, "YAML") == 0)
          g_assert_null (reply->json);
        else
          g_assert_true ((reply->json != NULL) == (j == 0));
      }
}

static void
test_check_order (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GHashTable) params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(Reply) r1 = NULL;
  g_autoptr(Reply) r2 = NULL;
  g_autoptr(Reply) r3 = NULL;
  g_autoptr(Reply) r4 = NULL;
  g_autoptr(Reply) r5 = NULL;

  /* Everything wrong at once: the first check in the documented order wins. */
  set_param (params, "Format", "JSON");
  set_param (params, "Timestamp", "garbage");
  set_param (params, "SignatureMethod", "MD5");
  r1 = send_params (f, "GET", params);
  assert_error (r1, 400, "MissingParameter");
  g_assert_nonnull (strstr (reply_get (r1, "Message"), "Action"));

  set_param (params, "Action", "NoSuchAction");
  r2 = send_params (f, "GET", params);
  assert_error (r2, 404, "InvalidAction.NotFound");

  set_param (params, "Action", "DescribeLiveRecordConfig");
  r3 = send_params (f, "GET", params);
  assert_error (r3, 400, "MissingParameter");
  g_assert_nonnull (strstr (reply_get (r3, "Message"), "Version"));

  set_param (params, "Version", "2016-11-01");
  set_param (params, "AccessKeyId", "LTAKunknown00001");
  r4 = send_params (f, "GET", params);
  assert_error (r4, 400, "InvalidParameter");
  g_assert_nonnull (strstr (reply_get (r4, "Message"), "SignatureMethod"));

  /* The key is looked up only after every common parameter is well-formed. */
  set_param (params, "SignatureMethod", "HMAC-SHA1");
  set_param (params, "SignatureVersion", "1.0");
  set_param (params, "SignatureNonce", "n1");
  set_param (params, "Timestamp", "2023-11-14T22:13:20Z");
  set_param (params, "Signature", "x");
  r5 = send_params (f, "GET", params);
  assert_error (r5, 404, "InvalidAccessKeyId.NotFound");
}

static void
test_timestamp_window (Fixture       *f,
                       gconstpointer  data)
{
  static const struct
  {
    gint64      offset;     /* request timestamp − server clock */
    guint       status;
    const char *code;
  } cases[] = {
    { -900, 200, NULL },
    { -901, 400, "InvalidTimeStamp.Expired" },
    { 900, 200, NULL },
    { 901, 400, "InvalidTimeStamp.Expired" },
    { -86400, 400, "InvalidTimeStamp.Expired" },
    { 86400 * 365, 400, "InvalidTimeStamp.Expired" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");
      g_autofree char *timestamp = lt_api_format_time (START_TIME + cases[i].offset);
      g_autoptr(Reply) reply = NULL;

      set_param (params, "DomainName", "example.com");
      set_param (params, "Timestamp", timestamp);
      sign (params, "GET", KEY_SECRET);
      reply = send_params (f, "GET", params);
      if (cases[i].code == NULL)
        assert_ok (reply);
      else
        assert_error (reply, cases[i].status, cases[i].code);
    }

  /* The same request signed now is refused once the server's clock has moved on more
   * than 15 minutes — or was set back more than 15 minutes (a request from the future). */
  {
    g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");
    g_autoptr(Reply) past = NULL;
    g_autoptr(Reply) future = NULL;
    g_autoptr(Reply) now = NULL;

    set_param (params, "DomainName", "example.com");
    sign (params, "GET", KEY_SECRET);

    fake_now = START_TIME + 16 * 60;
    past = send_params (f, "GET", params);
    assert_error (past, 400, "InvalidTimeStamp.Expired");

    fake_now = START_TIME - 16 * 60;
    future = send_params (f, "GET", params);
    assert_error (future, 400, "InvalidTimeStamp.Expired");

    /* Neither refusal burnt the nonce. */
    fake_now = START_TIME + 60;
    now = send_params (f, "GET", params);
    assert_ok (now);
  }
}

/* Access keys and signatures ---------------------------------------------------------- */

static void
test_access_keys (Fixture       *f,
                  gconstpointer  data)
{
  const char *unknown[] = { DISABLED_KEY_ID, NO_SECRET_KEY_ID, ORPHAN_KEY_ID, "LTAKnever" };

  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");
      g_autoptr(Reply) reply = NULL;

      set_param (params, "DomainName", "example.com");
      set_param (params, "AccessKeyId", unknown[i]);
      /* Correctly signed where a secret exists: still refused. */
      sign (params, "GET", g_str_equal (unknown[i], DISABLED_KEY_ID) ? "disabled-secret" :
                           g_str_equal (unknown[i], ORPHAN_KEY_ID) ? "orphan-secret" : "x");
      reply = send_params (f, "GET", params);
      assert_error (reply, 404, "InvalidAccessKeyId.NotFound");
    }

  /* The other key works with its own secret, not with KEY_SECRET. */
  {
    g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");
    g_autoptr(Reply) ok = NULL;
    g_autoptr(Reply) bad = NULL;

    set_param (params, "DomainName", "example.com");
    set_param (params, "AccessKeyId", OTHER_KEY_ID);
    sign (params, "GET", KEY_SECRET);
    bad = send_params (f, "GET", params);
    assert_error (bad, 400, "SignatureDoesNotMatch");
    sign (params, "GET", OTHER_SECRET);
    ok = send_params (f, "GET", params);
    assert_ok (ok);
  }

  /* A key created while the server runs works at once (unknown ids are not cached). */
  {
    g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");
    g_autoptr(Reply) before = NULL;
    g_autoptr(Reply) after = NULL;

    set_param (params, "DomainName", "example.com");
    set_param (params, "AccessKeyId", "LTAKlatecomer001");
    sign (params, "GET", "late-secret");
    before = send_params (f, "GET", params);
    assert_error (before, 404, "InvalidAccessKeyId.NotFound");

    insert_key (f->catalog, "LTAKlatecomer001");
    store_secret (f->secrets, "LTAKlatecomer001", "late-secret");
    after = send_params (f, "GET", params);
    assert_ok (after);
    clear_secret (f->secrets, "LTAKlatecomer001");
  }
}

static void
test_key_cache (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(Reply) first = NULL;
  g_autoptr(Reply) cached = NULL;
  g_autoptr(Reply) forgotten = NULL;
  g_autoptr(Reply) expired = NULL;

  first = call (f, "GET", "DescribeLiveRecordConfig", "JSON", "DomainName", "example.com", NULL);
  assert_ok (first);

  /* Disabled in the catalog: the cached secret still serves until the cache is
   * forgotten (the console calls lt_api_server_forget_key) or expires. */
  disable_key (f->catalog, KEY_ID);
  cached = call (f, "GET", "DescribeLiveRecordConfig", "JSON", "DomainName", "example.com", NULL);
  assert_ok (cached);

  lt_api_server_forget_key (f->server, KEY_ID);
  forgotten = call (f, "GET", "DescribeLiveRecordConfig", "JSON", "DomainName", "example.com", NULL);
  assert_error (forgotten, 404, "InvalidAccessKeyId.NotFound");

  /* OTHER_KEY: cached, disabled, then the cache ages out after a minute. */
  {
    g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");
    g_autoptr(GHashTable) params2 = base_params ("DescribeLiveRecordConfig", "JSON");
    g_autoptr(Reply) ok = NULL;

    set_param (params, "DomainName", "example.com");
    set_param (params, "AccessKeyId", OTHER_KEY_ID);
    sign (params, "GET", OTHER_SECRET);
    ok = send_params (f, "GET", params);
    assert_ok (ok);

    disable_key (f->catalog, OTHER_KEY_ID);
    fake_monotonic += 61 * G_USEC_PER_SEC;
    set_param (params2, "DomainName", "example.com");
    set_param (params2, "AccessKeyId", OTHER_KEY_ID);
    sign (params2, "GET", OTHER_SECRET);
    expired = send_params (f, "GET", params2);
    assert_error (expired, 404, "InvalidAccessKeyId.NotFound");
  }
}

static void
test_signature_mismatch (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(Reply) wrong_secret = NULL;
  g_autoptr(Reply) tampered = NULL;
  g_autoptr(Reply) added = NULL;
  g_autoptr(Reply) method = NULL;
  g_autoptr(Reply) lower = NULL;
  g_autoptr(Reply) ok = NULL;

  {
    g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");

    set_param (params, "DomainName", "example.com");
    sign (params, "GET", "not-the-secret");
    wrong_secret = send_params (f, "GET", params);
    assert_error (wrong_secret, 400, "SignatureDoesNotMatch");
    /* The message gives the server's StringToSign (it holds nothing secret). */
    g_assert_nonnull (strstr (reply_get (wrong_secret, "Message"), "GET&%2F&AccessKeyId%3D" KEY_ID));
  }
  {
    g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");

    set_param (params, "DomainName", "example.com");
    sign (params, "GET", KEY_SECRET);
    set_param (params, "DomainName", "example.org");
    tampered = send_params (f, "GET", params);
    assert_error (tampered, 400, "SignatureDoesNotMatch");
  }
  {
    g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");

    set_param (params, "DomainName", "example.com");
    sign (params, "GET", KEY_SECRET);
    set_param (params, "AppName", "live");
    added = send_params (f, "GET", params);
    assert_error (added, 400, "SignatureDoesNotMatch");
  }
  {
    g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");

    /* Signed for GET, sent as POST. */
    set_param (params, "DomainName", "example.com");
    sign (params, "GET", KEY_SECRET);
    method = send_params (f, "POST", params);
    assert_error (method, 400, "SignatureDoesNotMatch");
  }
  {
    g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");
    g_autofree char *signature = NULL;

    set_param (params, "DomainName", "example.com");
    sign (params, "GET", KEY_SECRET);
    signature = g_ascii_strdown (g_hash_table_lookup (params, "Signature"), -1);
    set_param (params, "Signature", signature);
    lower = send_params (f, "GET", params);
    assert_error (lower, 400, "SignatureDoesNotMatch");

    /* None of the refused requests burnt the nonce. */
    sign (params, "GET", KEY_SECRET);
    ok = send_params (f, "GET", params);
    assert_ok (ok);
  }
}

static void
test_get_and_post (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GHashTable) params = base_params ("TestLater", "JSON");
  g_autofree char *encoded = NULL;
  g_autofree char *query = NULL;
  g_autofree char *plus_query = NULL;
  g_autoptr(Reply) post = NULL;
  g_autoptr(Reply) split = NULL;
  g_autoptr(Reply) plus = NULL;
  g_autoptr(Reply) utf8 = NULL;
  GString *plus_encoded;

  /* POST with the parameters split between the query string and the form body. */
  set_param (params, "Echo", "posted value");
  sign (params, "POST", KEY_SECRET);
  encoded = encode_params (params);
  post = send_raw (f, "POST", "/", "application/x-www-form-urlencoded; charset=UTF-8", encoded);
  assert_ok (post);
  g_assert_cmpstr (reply_get (post, "Echo"), ==, "posted value");

  {
    g_autoptr(GHashTable) p2 = base_params ("TestLater", "JSON");
    g_autoptr(GHashTable) in_query = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    g_autofree char *body = NULL;
    g_autofree char *path = NULL;

    set_param (p2, "Echo", "split");
    sign (p2, "POST", KEY_SECRET);
    set_param (in_query, "Action", g_hash_table_lookup (p2, "Action"));
    set_param (in_query, "Signature", g_hash_table_lookup (p2, "Signature"));
    g_hash_table_remove (p2, "Action");
    g_hash_table_remove (p2, "Signature");
    query = encode_params (in_query);
    body = encode_params (p2);
    path = g_strconcat ("/?", query, NULL);
    split = send_raw (f, "POST", path, "application/x-www-form-urlencoded", body);
    assert_ok (split);
    g_assert_cmpstr (reply_get (split, "Echo"), ==, "split");
  }

  /* Form encoding: '+' in the query is a space, %2B a plus; UTF-8 arrives intact. */
  {
    g_autoptr(GHashTable) p3 = base_params ("TestLater", "JSON");
    g_autofree char *raw = NULL;
    g_autofree char *path = NULL;

    set_param (p3, "Echo", "a b+c");
    sign (p3, "GET", KEY_SECRET);
    raw = encode_params (p3);
    plus_encoded = g_string_new (raw);
    g_string_replace (plus_encoded, "a%20b", "a+b", 0);
    g_assert_nonnull (strstr (plus_encoded->str, "a+b%2Bc"));
    plus_query = g_string_free (plus_encoded, FALSE);
    path = g_strconcat ("/?", plus_query, NULL);
    plus = send_raw (f, "GET", path, NULL, NULL);
    assert_ok (plus);
    g_assert_cmpstr (reply_get (plus, "Echo"), ==, "a b+c");
  }

  utf8 = call (f, "GET", "TestLater", "JSON", "Echo", "直播 😀 ~*'()", NULL);
  assert_ok (utf8);
  g_assert_cmpstr (reply_get (utf8, "Echo"), ==, "直播 😀 ~*'()");
}

static void
test_transport_errors (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");
  g_autofree char *encoded = NULL;
  g_autofree char *path = NULL;
  g_autoptr(Reply) wrong_path = NULL;
  g_autoptr(Reply) put = NULL;
  g_autoptr(Reply) json_body = NULL;
  g_autoptr(Reply) duplicate = NULL;
  g_autoptr(Reply) bad_escape = NULL;
  g_autoptr(Reply) bad_utf8 = NULL;
  g_autoptr(Reply) nul = NULL;
  g_autoptr(Reply) empty_name = NULL;
  g_autoptr(Reply) too_big = NULL;
  g_autoptr(Reply) chunked = NULL;
  g_autofree char *big = NULL;

  set_param (params, "DomainName", "example.com");
  sign (params, "GET", KEY_SECRET);
  encoded = encode_params (params);

  path = g_strconcat ("/other?", encoded, NULL);
  wrong_path = send_raw (f, "GET", path, NULL, NULL);
  assert_error (wrong_path, 404, "InvalidAction.NotFound");
  g_assert_nonnull (wrong_path->json);

  g_free (path);
  path = g_strconcat ("/?", encoded, NULL);
  put = send_raw (f, "PUT", path, "application/x-www-form-urlencoded", "a=b");
  assert_error (put, 405, "InvalidParameter");

  json_body = send_raw (f, "POST", "/?Format=JSON", "application/json", "{\"Action\":\"x\"}");
  assert_error (json_body, 400, "InvalidParameter");

  g_free (path);
  path = g_strconcat ("/?", encoded, "&DomainName=example.org", NULL);
  duplicate = send_raw (f, "GET", path, NULL, NULL);
  assert_error (duplicate, 400, "InvalidParameter");
  g_assert_nonnull (strstr (reply_get (duplicate, "Message"), "DomainName"));

  /* A request line that is not a URI at all: libsoup refuses it before any handler. */
  bad_escape = send_raw (f, "GET", "/?Format=JSON&Action=%zz", NULL, NULL);
  g_assert_cmpuint (bad_escape->status, ==, 400);
  g_assert_null (bad_escape->content_type);
  bad_utf8 = send_raw (f, "GET", "/?Format=JSON&Action=%C3%28", NULL, NULL);
  assert_error (bad_utf8, 400, "InvalidParameter");
  nul = send_raw (f, "GET", "/?Format=JSON&Action=a%00b", NULL, NULL);
  assert_error (nul, 400, "InvalidParameter");
  empty_name = send_raw (f, "GET", "/?Format=JSON&=x", NULL, NULL);
  assert_error (empty_name, 400, "InvalidParameter");

  /* Refused from the headers, before the body is read. */
  big = g_strnfill (70 * 1024, 'a');
  too_big = send_raw (f, "POST", "/?Format=JSON", "application/x-www-form-urlencoded", big);
  assert_error (too_big, 413, "InvalidParameter");

  {
    g_autofree char *url = g_strconcat (f->base_url, "/?Format=JSON", NULL);
    g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
    g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_data ("a=b", 3, NULL);

    soup_message_set_request_body (msg, "application/x-www-form-urlencoded", stream, -1);
    chunked = send_message (f, msg);
    assert_error (chunked, 411, "InvalidParameter");
  }

  {
    g_autofree char *url = g_strconcat (f->base_url, "/?Format=JSON", NULL);
    g_autoptr(SoupMessage) msg = soup_message_new ("HEAD", url);
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GError) error = NULL;

    soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL,
                                      lt_test_store_result_cb, &result);
    lt_test_wait_result (&result);
    bytes = soup_session_send_and_read_finish (f->session, result, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (soup_message_get_status (msg), ==, 405);
    g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (msg), "Allow"),
                     ==, "GET, POST");
  }
}

static void
test_host_id (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(Reply) reply = NULL;
  g_autofree char *expected = g_strdup_printf ("127.0.0.1:%u", lt_api_server_get_port (f->server));

  reply = call (f, "GET", "NoSuchAction", "JSON", NULL);
  assert_error (reply, 404, "InvalidAction.NotFound");
  g_assert_cmpstr (reply_get (reply, "HostId"), ==, expected);
}

static void
test_xml_escaping (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(Reply) reply = NULL;
  g_autoptr(Reply) custom = NULL;

  /* The message echoes hostile input; the XML stays well-formed and the text intact. */
  reply = call (f, "GET", "DescribeLiveRecordConfig", NULL, "Version", "<&>\"'", NULL);
  assert_error (reply, 400, "InvalidParameter");
  g_assert_nonnull (strstr (reply_get (reply, "Message"), "<&>\"'"));

  custom = call (f, "GET", "TestCustom", "XML", NULL);
  assert_error (custom, 409, "Custom.Conflict");
  g_assert_cmpstr (reply_get (custom, "Message"), ==, "custom <message> & more");
}

/* Nonces and throttling --------------------------------------------------------------- */

static void
test_nonce (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");
  g_autoptr(Reply) first = NULL;
  g_autoptr(Reply) replay = NULL;
  g_autoptr(Reply) replay_post = NULL;
  g_autoptr(Reply) other_key = NULL;
  g_autoptr(Reply) late = NULL;
  g_autoptr(Reply) expired = NULL;

  set_param (params, "DomainName", "example.com");
  set_param (params, "SignatureNonce", "fixed-nonce-0001");
  sign (params, "GET", KEY_SECRET);

  first = send_params (f, "GET", params);
  assert_ok (first);
  replay = send_params (f, "GET", params);
  assert_error (replay, 400, "SignatureNonceUsed");

  /* Re-signed for POST with the same nonce: still used. */
  sign (params, "POST", KEY_SECRET);
  replay_post = send_params (f, "POST", params);
  assert_error (replay_post, 400, "SignatureNonceUsed");

  /* Nonces are per key. */
  set_param (params, "AccessKeyId", OTHER_KEY_ID);
  sign (params, "GET", OTHER_SECRET);
  other_key = send_params (f, "GET", params);
  assert_ok (other_key);

  /* Kept for twice the window: 29:59 later (with a fresh timestamp) still refused,
   * 30:00 later forgotten, so memory stays bounded. */
  set_param (params, "AccessKeyId", KEY_ID);
  fake_now = START_TIME + 2 * 900 - 1;
  {
    g_autofree char *timestamp = lt_api_format_time (fake_now);

    set_param (params, "Timestamp", timestamp);
  }
  sign (params, "GET", KEY_SECRET);
  late = send_params (f, "GET", params);
  assert_error (late, 400, "SignatureNonceUsed");

  fake_now = START_TIME + 2 * 900;
  expired = send_params (f, "GET", params);
  assert_ok (expired);
}

/* A second server on the same catalog stands for the daemon after a restart. */
static LtApiServer *
restarted_server (Fixture *f)
{
  LtApiServer *server = lt_api_server_new (f->catalog, f->secrets);
  g_autoptr(GError) error = NULL;

  lt_api_server_set_clock (server, get_fake_now);
  lt_api_server_set_monotonic_clock (server, get_fake_monotonic);
  lt_api_rules_register (server, f->rules);
  g_assert_true (lt_api_server_listen (server, "127.0.0.1:0", &error));
  g_assert_no_error (error);
  return server;
}

static void
test_nonce_restart (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");
  g_autoptr(GHashTable) other = base_params ("DescribeLiveRecordConfig", "JSON");
  g_autoptr(Reply) first = NULL;
  g_autoptr(Reply) other_first = NULL;
  g_autoptr(Reply) replay = NULL;
  g_autoptr(Reply) other_replay = NULL;
  g_autoptr(Reply) fresh = NULL;
  g_autoptr(Reply) expired = NULL;
  LtApiServer *original = f->server;

  set_param (params, "DomainName", "example.com");
  set_param (params, "SignatureNonce", "survives-a-restart");
  sign (params, "GET", KEY_SECRET);
  first = send_params (f, "GET", params);
  assert_ok (first);

  /* The same nonce string under another key is another nonce. */
  set_param (other, "DomainName", "example.com");
  set_param (other, "AccessKeyId", OTHER_KEY_ID);
  sign (other, "GET", OTHER_SECRET);
  other_first = send_params (f, "GET", other);
  assert_ok (other_first);

  /* Restarted: the replay is still refused, for both keys; new nonces work. */
  f->server = restarted_server (f);
  replay = send_params (f, "GET", params);
  assert_error (replay, 400, "SignatureNonceUsed");
  other_replay = send_params (f, "GET", other);
  assert_error (other_replay, 400, "SignatureNonceUsed");
  fresh = call (f, "GET", "DescribeLiveRecordConfig", "JSON", "DomainName", "example.com", NULL);
  assert_ok (fresh);
  lt_api_server_disconnect (f->server);
  g_assert_finalize_object (f->server);

  /* Restarted again 30 minutes later: the row has expired and is not loaded. */
  fake_now = START_TIME + 2 * 900;
  f->server = restarted_server (f);
  {
    g_autofree char *timestamp = lt_api_format_time (fake_now);

    set_param (params, "Timestamp", timestamp);
    sign (params, "GET", KEY_SECRET);
  }
  expired = send_params (f, "GET", params);
  assert_ok (expired);
  lt_api_server_disconnect (f->server);
  g_assert_finalize_object (f->server);

  f->server = original;
}

static void
test_nonce_not_burnt (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");
  g_autoptr(Reply) bad = NULL;
  g_autoptr(Reply) unknown = NULL;
  g_autoptr(Reply) ok = NULL;
  g_autoptr(Reply) action_error = NULL;
  g_autoptr(Reply) replay = NULL;

  set_param (params, "DomainName", "example.com");
  set_param (params, "SignatureNonce", "fixed-nonce-0002");

  /* Unsigned junk cannot burn a nonce… */
  sign (params, "GET", "guessed-secret");
  bad = send_params (f, "GET", params);
  assert_error (bad, 400, "SignatureDoesNotMatch");

  set_param (params, "AccessKeyId", "LTAKunknown00001");
  sign (params, "GET", KEY_SECRET);
  unknown = send_params (f, "GET", params);
  assert_error (unknown, 404, "InvalidAccessKeyId.NotFound");

  set_param (params, "AccessKeyId", KEY_ID);
  sign (params, "GET", KEY_SECRET);
  ok = send_params (f, "GET", params);
  assert_ok (ok);

  /* …but a signed request that the action refuses does. */
  {
    g_autoptr(GHashTable) p2 = base_params ("DescribeLiveRecordConfig", "JSON");

    set_param (p2, "PageSize", "99");
    set_param (p2, "DomainName", "example.com");
    sign (p2, "GET", KEY_SECRET);
    action_error = send_params (f, "GET", p2);
    assert_error (action_error, 400, "InvalidParameter");
    replay = send_params (f, "GET", p2);
    assert_error (replay, 400, "SignatureNonceUsed");
  }
}

static void
test_throttling (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GHashTable) throttled_params = NULL;
  g_autoptr(Reply) throttled = NULL;
  g_autoptr(Reply) other = NULL;
  g_autoptr(Reply) retried = NULL;

  /* The monotonic clock stands still: 31 requests in the same instant. */
  monotonic_frozen = TRUE;
  for (guint i = 0; i < LT_API_RATE_LIMIT; i++)
    {
      g_autoptr(Reply) reply = call (f, "GET", "DescribeLiveRecordConfig", "JSON",
                                     "DomainName", "example.com", NULL);

      assert_ok (reply);
    }

  throttled_params = base_params ("DescribeLiveRecordConfig", "XML");
  set_param (throttled_params, "DomainName", "example.com");
  sign (throttled_params, "GET", KEY_SECRET);
  throttled = send_params (f, "GET", throttled_params);
  assert_error (throttled, 400, "Throttling");

  /* Per key: the other key is not affected. */
  {
    g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");

    set_param (params, "DomainName", "example.com");
    set_param (params, "AccessKeyId", OTHER_KEY_ID);
    sign (params, "GET", OTHER_SECRET);
    other = send_params (f, "GET", params);
    assert_ok (other);
  }

  /* 0.999 s later the window still holds 30 requests; at 1 s the oldest leaves it. The
   * throttled request did not burn its nonce, so the same one can be retried. */
  fake_monotonic += G_USEC_PER_SEC - 1;
  {
    g_autoptr(Reply) still = call (f, "GET", "DescribeLiveRecordConfig", "JSON",
                                   "DomainName", "example.com", NULL);

    assert_error (still, 400, "Throttling");
  }
  fake_monotonic += 1;
  retried = send_params (f, "GET", throttled_params);
  assert_ok (retried);
  g_assert_null (retried->json);
}

static void
test_steady_rate (Fixture       *f,
                  gconstpointer  data)
{
  /* 30 per second, sustained, is allowed. */
  monotonic_frozen = TRUE;
  for (guint i = 0; i < 3 * LT_API_RATE_LIMIT; i++)
    {
      g_autoptr(Reply) reply = call (f, "GET", "DescribeLiveRecordConfig", "JSON",
                                     "DomainName", "example.com", NULL);

      assert_ok (reply);
      fake_monotonic += G_USEC_PER_SEC / LT_API_RATE_LIMIT + 1;
    }
}

/* Internal errors ---------------------------------------------------------------------- */

static void
test_internal_errors (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(Reply) fail = NULL;
  g_autoptr(Reply) rule_failed = NULL;
  g_autoptr(Reply) dropped = NULL;
  g_autoptr(Reply) closed = NULL;

  fail = call (f, "GET", "TestFail", "JSON", NULL);
  assert_error (fail, 500, "InternalError");
  g_assert_cmpstr (reply_get (fail, "Message"), ==, "disk is full");

  rule_failed = call (f, "GET", "TestRuleFailed", "XML", NULL);
  assert_error (rule_failed, 500, "InternalError");

  dropped = call (f, "POST", "TestDrop", "JSON", NULL);
  assert_error (dropped, 500, "InternalError");

  /* The catalog cannot answer: a key not cached yet cannot be checked. */
  lt_catalog_close (f->catalog);
  {
    g_autoptr(GHashTable) params = base_params ("DescribeLiveRecordConfig", "JSON");

    set_param (params, "DomainName", "example.com");
    set_param (params, "AccessKeyId", OTHER_KEY_ID);
    sign (params, "GET", OTHER_SECRET);
    closed = send_params (f, "GET", params);
    assert_error (closed, 500, "InternalError");
  }
}

static void
test_keyring_unavailable (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = lt_test_make_temp_dir ();
      g_autofree char *catalog_path = g_build_filename (dir, "catalog.db", NULL);
      g_autofree char *address = g_strdup_printf ("unix:path=%s/no-such-bus", dir);
      g_autoptr(LtCatalog) catalog = NULL;
      g_autoptr(LtSecretStore) secrets = NULL;
      g_autoptr(LtApiServer) server = NULL;
      g_autoptr(GError) error = NULL;
      Fixture f = { 0, };
      g_autoptr(Reply) reply = NULL;
      gint64 start;

      g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);

      catalog = lt_catalog_new (catalog_path);
      g_assert_true (lt_catalog_open_sync (catalog, &error));
      g_assert_no_error (error);
      insert_key (catalog, KEY_ID);
      secrets = lt_secret_store_new (dir);
      lt_secret_store_set_timeout (secrets, 1000);

      server = lt_api_server_new (catalog, secrets);
      lt_api_server_set_clock (server, get_fake_now);
      lt_api_server_add_action (server, "TestLater", action_later, NULL, NULL);
      g_assert_true (lt_api_server_listen (server, "127.0.0.1:0", &error));
      g_assert_no_error (error);

      f.server = server;
      f.base_url = g_strdup_printf ("http://127.0.0.1:%u", lt_api_server_get_port (server));
      f.session = new_session ();
      start = g_get_monotonic_time ();
      reply = call (&f, "GET", "TestLater", "JSON", NULL);
      assert_error (reply, 500, "InternalError");
      g_assert_nonnull (strstr (reply_get (reply, "Message"), "keyring"));
      g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);

      soup_session_abort (f.session);
      g_clear_object (&f.session);
      g_free (f.base_url);
      lt_api_server_disconnect (server);
      g_assert_finalize_object (g_steal_pointer (&server));
      /* Let both ends of the aborted connection finish closing before the process exits. */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      lt_catalog_close (catalog);
      return;
    }

  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Helpers for actions ------------------------------------------------------------------- */

static void
test_action_helpers (Fixture       *f,
                     gconstpointer  data)
{
  static const struct
  {
    const char *name;
    const char *value;
    guint       status;
    const char *code;
    gint64      expected;
  } cases[] = {
    { "x", NULL, 200, NULL, 7 },
    { "x", "", 200, NULL, 7 },
    { "x", "5", 200, NULL, 5 },
    { "x", "30", 200, NULL, 30 },
    { "x", "4", 400, "InvalidParameter", 0 },
    { "x", "31", 400, "InvalidParameter", 0 },
    { "x", "1e1", 400, "InvalidParameter", 0 },
    { "x", "+6", 400, "InvalidParameter", 0 },
    { "x", " 6", 400, "InvalidParameter", 0 },
    { "x", "99999999999999999999999", 400, "InvalidParameter", 0 },
    { NULL, "6", 400, "MissingParameter", 0 },
    { "", "6", 400, "MissingParameter", 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(Reply) reply = call (f, "GET", "TestInt", "JSON",
                                     "Name", cases[i].name, "Value", cases[i].value, NULL);

      if (cases[i].code == NULL)
        {
          assert_ok (reply);
          g_assert_cmpint (reply_get_int (reply, "Value"), ==, cases[i].expected);
        }
      else
        {
          assert_error (reply, cases[i].status, cases[i].code);
        }
    }
}

/* Listening ------------------------------------------------------------------------------- */

static gboolean
have_ipv6_loopback (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_DEFAULT, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);

  return socket != NULL && g_socket_bind (socket, address, TRUE, NULL);
}

static void
test_listen (void)
{
  static const char * const good[] = { "127.0.0.1:0", "localhost:0", "LOCALHOST:0", "[::1]:0" };
  static const char * const bad[] = {
    "", ":", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http", "[::1",
    "[::1]x", "[]:80", "nonsense:80", "host.example:80", "1.2.3:80", ":8088",
  };
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *catalog_path = g_build_filename (dir, "catalog.db", NULL);
  g_autoptr(LtCatalog) catalog = lt_catalog_new (catalog_path);
  g_autoptr(LtSecretStore) secrets = lt_secret_store_new (dir);

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(LtApiServer) server = lt_api_server_new (catalog, secrets);
      g_autoptr(GError) error = NULL;
      g_autofree char *listen = NULL;

      /* Machines (containers) without IPv6 loopback: then [::1] must fail cleanly. */
      if (g_str_has_prefix (good[i], "[::1]") && !have_ipv6_loopback ())
        {
          g_assert_false (lt_api_server_listen (server, good[i], &error));
          g_assert_nonnull (error);
          g_assert_false (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT));
          g_assert_cmpuint (lt_api_server_get_port (server), ==, 0);
          continue;
        }

      g_assert_true (lt_api_server_listen (server, good[i], &error));
      g_assert_no_error (error);
      g_assert_cmpuint (lt_api_server_get_port (server), >, 0);

      /* The port is taken now: a second server on it fails with a clear error. */
      if (g_str_has_prefix (good[i], "127."))
        {
          g_autoptr(LtApiServer) second = lt_api_server_new (catalog, secrets);
          g_autoptr(GError) busy = NULL;

          listen = g_strdup_printf ("127.0.0.1:%u", lt_api_server_get_port (server));
          g_assert_false (lt_api_server_listen (second, listen, &busy));
          g_assert_error (busy, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
          g_assert_nonnull (strstr (busy->message, listen));
        }
      lt_api_server_disconnect (server);
      g_assert_cmpuint (lt_api_server_get_port (server), ==, 0);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(LtApiServer) server = lt_api_server_new (catalog, secrets);
      g_autoptr(GError) error = NULL;

      g_test_message ("listen on '%s'", bad[i]);
      g_assert_false (lt_api_server_listen (server, bad[i], &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_cmpuint (lt_api_server_get_port (server), ==, 0);
    }
}

/* Rule actions ---------------------------------------------------------------------------- */

static Reply *
add_rule (Fixture    *f,
          const char *method,
          const char *first_name,
          ...)
{
  g_autoptr(GHashTable) params = base_params ("AddLiveAppRecordConfig", "JSON");
  va_list args;

  set_param (params, "DomainName", "example.com");
  set_param (params, "OssEndpoint", ENDPOINT);
  set_param (params, "OssBucket", BUCKET);
  va_start (args, first_name);
  {
    const char *name = first_name;

    while (name != NULL)
      {
        set_param (params, name, va_arg (args, const char *));
        name = va_arg (args, const char *);
      }
  }
  va_end (args);

  sign (params, method, KEY_SECRET);
  return send_params (f, method, params);
}

static JsonArray *
records_of (Reply *reply)
{
  JsonObject *list = json_object_get_object_member (json_node_get_object (reply->json),
                                                    "LiveAppRecordList");

  return json_object_get_array_member (list, "LiveAppRecord");
}

static void
test_rules_add_delete (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(Reply) add = NULL;
  g_autoptr(Reply) add_post = NULL;
  g_autoptr(Reply) duplicate = NULL;
  g_autoptr(Reply) describe = NULL;
  g_autoptr(Reply) del = NULL;
  g_autoptr(Reply) del_again = NULL;
  g_autoptr(Reply) del_missing = NULL;
  g_autoptr(Reply) del_stream = NULL;
  g_autoptr(Reply) after = NULL;
  JsonObject *record;
  JsonArray *formats;

  add = add_rule (f, "GET", "AppName", "live", "StreamName", "cam1",
                  "RecordFormat.1.Format", "m3u8",
                  "RecordFormat.1.CycleDuration", "3600",
                  "RecordFormat.1.SliceDuration", "10",
                  "RecordFormat.2.Format", "mp4",
                  "OnDemand", "2", "DelayTime", "300", NULL);
  assert_ok (add);
  /* The reply is just the RequestId. */
  g_assert_cmpuint (json_object_get_size (json_node_get_object (add->json)), ==, 1);
  g_assert_nonnull (lt_rule_store_lookup (f->rules, "example.com", "live", "cam1"));

  add_post = add_rule (f, "POST", "AppName", "live", NULL);
  assert_ok (add_post);
  g_assert_nonnull (lt_rule_store_lookup (f->rules, "example.com", "live", "*"));

  duplicate = add_rule (f, "POST", "AppName", "live", "StreamName", "*", NULL);
  assert_error (duplicate, 400, "ConfigAlreadyExists");

  describe = call (f, "GET", "DescribeLiveRecordConfig", "JSON",
                   "DomainName", "example.com", "StreamName", "cam1", NULL);
  assert_ok (describe);
  g_assert_cmpint (reply_get_int (describe, "TotalNum"), ==, 1);
  record = json_array_get_object_element (records_of (describe), 0);
  g_assert_cmpstr (json_object_get_string_member (record, "DomainName"), ==, "example.com");
  g_assert_cmpstr (json_object_get_string_member (record, "AppName"), ==, "live");
  g_assert_cmpstr (json_object_get_string_member (record, "StreamName"), ==, "cam1");
  g_assert_cmpstr (json_object_get_string_member (record, "OssEndpoint"), ==, ENDPOINT);
  g_assert_cmpstr (json_object_get_string_member (record, "OssBucket"), ==, BUCKET);
  g_assert_cmpstr (json_object_get_string_member (record, "CreateTime"), ==, "2023-11-14T22:13:20Z");
  g_assert_cmpint (json_object_get_int_member (record, "OnDemond"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (record, "OnDemand"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (record, "DelayTime"), ==, 300);
  g_assert_false (json_object_has_member (record, "StartTime"));
  formats = json_object_get_array_member (json_object_get_object_member (record, "RecordFormatList"),
                                          "RecordFormat");
  g_assert_cmpuint (json_array_get_length (formats), ==, 2);
  {
    JsonObject *m3u8 = json_array_get_object_element (formats, 0);
    JsonObject *mp4 = json_array_get_object_element (formats, 1);

    g_assert_cmpstr (json_object_get_string_member (m3u8, "Format"), ==, "m3u8");
    g_assert_cmpint (json_object_get_int_member (m3u8, "CycleDuration"), ==, 3600);
    g_assert_cmpint (json_object_get_int_member (m3u8, "SliceDuration"), ==, 10);
    g_assert_cmpstr (json_object_get_string_member (m3u8, "OssObjectPrefix"), ==, LT_RULE_DEFAULT_OBJECT_PREFIX);
    g_assert_cmpstr (json_object_get_string_member (m3u8, "SliceOssObjectPrefix"), ==,
                     LT_RULE_DEFAULT_SLICE_OBJECT_PREFIX);
    g_assert_cmpstr (json_object_get_string_member (mp4, "Format"), ==, "mp4");
    g_assert_cmpint (json_object_get_int_member (mp4, "CycleDuration"), ==, LT_RULE_CYCLE_DEFAULT_FILE);
    g_assert_false (json_object_has_member (mp4, "SliceDuration"));
    g_assert_false (json_object_has_member (mp4, "SliceOssObjectPrefix"));
  }
  g_assert_nonnull (json_object_get_object_member (record, "TranscodeTemplates"));
  g_assert_nonnull (json_object_get_object_member (record, "TranscodeRecordFormatList"));

  /* Delete: StreamName optional ("*"), AppName required. */
  del_missing = call (f, "GET", "DeleteLiveAppRecordConfig", "JSON", "DomainName", "example.com", NULL);
  assert_error (del_missing, 400, "MissingParameter");

  del = call (f, "GET", "DeleteLiveAppRecordConfig", "JSON",
              "DomainName", "example.com", "AppName", "live", NULL);
  assert_ok (del);
  g_assert_null (lt_rule_store_lookup (f->rules, "example.com", "live", "*"));
  g_assert_nonnull (lt_rule_store_lookup (f->rules, "example.com", "live", "cam1"));

  del_again = call (f, "POST", "DeleteLiveAppRecordConfig", "XML",
                    "DomainName", "example.com", "AppName", "live", NULL);
  assert_error (del_again, 404, "InvalidConfig.NotFound");

  del_stream = call (f, "POST", "DeleteLiveAppRecordConfig", "JSON",
                     "DomainName", "example.com", "AppName", "live", "StreamName", "cam1", NULL);
  assert_ok (del_stream);

  after = call (f, "GET", "DescribeLiveRecordConfig", "JSON", "DomainName", "example.com", NULL);
  assert_ok (after);
  g_assert_cmpint (reply_get_int (after, "TotalNum"), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->rules)), ==, 0);
}

typedef struct
{
  const char *params[9];  /* name, value pairs, NULL-terminated */
  const char *code;
} RuleCase;

/* Every rule error of SPEC section 2 that a request alone can cause. */
static const RuleCase rule_cases[] = {
  { { "AppName", NULL, NULL }, "MissingParameter" },
  { { "AppName", "live", "OssEndpoint", NULL, NULL }, "MissingParameter" },
  { { "AppName", "live", "OssBucket", NULL, NULL }, "MissingParameter" },
  { { "AppName", "live", "DomainName", "", NULL }, "MissingParameter" },
  { { "AppName", "live", "OssEndpoint", "http://bad/path", NULL }, "InvalidOssEndpoint.Malformed" },
  { { "AppName", "live", "OssBucket", "Bad_Bucket", NULL }, "InvalidOssBucket.Malformed" },
  { { "AppName", "live", "OssBucket", "ab", NULL }, "InvalidOssBucket.Malformed" },
  { { "AppName", "live", "RecordFormat.1.Format", "avi", NULL }, "InvalidFormat.Malformed" },
  { { "AppName", "live", "RecordFormat.1.Format", "mp4", "RecordFormat.2.Format", "mp4", NULL },
    "InvalidFormat.IllegalOperation" },
  { { "AppName", "live", "RecordFormat.1.Format", "mp4", "RecordFormat.1.CycleDuration", "59", NULL },
    "InvalidCycleDuration.Malformed" },
  { { "AppName", "live", "RecordFormat.1.Format", "flv", "RecordFormat.1.CycleDuration", "21601", NULL },
    "InvalidCycleDuration.Malformed" },
  { { "AppName", "live", "RecordFormat.1.Format", "m3u8", "RecordFormat.1.SliceDuration", "4", NULL },
    "InvalidSliceDuration.Malformed" },
  { { "AppName", "live", "RecordFormat.1.Format", "cmaf", "RecordFormat.1.SliceDuration", "31", NULL },
    "InvalidSliceDuration.Malformed" },
  { { "AppName", "live", "RecordFormat.1.Format", "mp4", "RecordFormat.1.OssObjectPrefix", "", NULL },
    "MissingOssObjectPrefix" },
  { { "AppName", "live", "RecordFormat.1.Format", "m3u8", "RecordFormat.1.SliceOssObjectPrefix", "", NULL },
    "MissingSliceOssObjectPrefix" },
  { { "AppName", "live", "RecordFormat.1.Format", "mp4", "RecordFormat.1.OssObjectPrefix", "record/{Sequence}", NULL },
    "InvalidOssObjectPrefix.Malformed" },
  { { "AppName", "live", "RecordFormat.1.Format", "m3u8", "RecordFormat.1.SliceOssObjectPrefix", "slice/{Sequence}", NULL },
    "InvalidSliceOssObjectPrefix.Malformed" },
  { { "AppName", "live", "DelayTime", "14", NULL }, "InvalidDelayTime" },
  { { "AppName", "live", "DelayTime", "21601", NULL }, "InvalidDelayTime" },
  { { "AppName", "live", "StreamName", "s", "StartTime", "tomorrow", "EndTime", "2023-11-15T00:00:00Z", NULL },
    "InvalidStartTime.Malformed" },
  { { "AppName", "live", "StreamName", "s", "StartTime", "2023-11-15T00:00:00Z", "EndTime", "2023-11-32T00:00:00Z", NULL },
    "InvalidEndTime.Malformed" },
  /* More than 15 days ahead of the server's clock (2023-11-14T22:13:20Z). */
  { { "AppName", "live", "StreamName", "s", "StartTime", "2023-11-30T00:00:00Z", "EndTime", "2023-11-30T01:00:00Z", NULL },
    "InvalidStartTime.Mismatch" },
  { { "AppName", "live", "StreamName", "s", "StartTime", "2023-11-15T02:00:00Z", "EndTime", "2023-11-15T01:00:00Z", NULL },
    "InvalidEndTime.Mismatch" },
  { { "AppName", "live", "StreamName", "s", "StartTime", "2023-11-15T00:00:00Z", "EndTime", "2023-11-22T00:00:01Z", NULL },
    "InvalidEndTime.Mismatch" },
  { { "AppName", "live", "OnDemand", "3", NULL }, "InvalidParameter" },
};

static void
test_rules_validation (Fixture       *f,
                       gconstpointer  data)
{
  const char *methods[] = { "GET", "POST" };

  for (guint i = 0; i < G_N_ELEMENTS (rule_cases); i++)
    for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
      {
        const RuleCase *c = &rule_cases[i];
        g_autoptr(GHashTable) params = base_params ("AddLiveAppRecordConfig", m == 0 ? "JSON" : "XML");
        g_autoptr(Reply) reply = NULL;

        set_param (params, "DomainName", "example.com");
        set_param (params, "OssEndpoint", ENDPOINT);
        set_param (params, "OssBucket", BUCKET);
        for (guint j = 0; c->params[j] != NULL; j += 2)
          set_param (params, c->params[j], c->params[j + 1]);
        sign (params, methods[m], KEY_SECRET);

        g_test_message ("case %u (%s): expecting %s", i, methods[m], c->code);
        reply = send_params (f, methods[m], params);
        assert_error (reply, 400, c->code);
      }

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->rules)), ==, 0);

  /* The window itself, within the limits, is accepted and shown. */
  {
    g_autoptr(Reply) ok = add_rule (f, "GET", "AppName", "live", "StreamName", "s",
                                    "StartTime", "2023-11-15T00:00:00Z",
                                    "EndTime", "2023-11-22T00:00:00Z",
                                    "RecordFormat.1.Format", "flv", NULL);
    g_autoptr(Reply) describe = NULL;
    JsonObject *record;

    assert_ok (ok);
    describe = call (f, "GET", "DescribeLiveRecordConfig", "JSON", "DomainName", "example.com", NULL);
    assert_ok (describe);
    record = json_array_get_object_element (records_of (describe), 0);
    g_assert_cmpstr (json_object_get_string_member (record, "StartTime"), ==, "2023-11-15T00:00:00Z");
    g_assert_cmpstr (json_object_get_string_member (record, "EndTime"), ==, "2023-11-22T00:00:00Z");
  }
}

static void
test_rules_describe (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);

  /* 12 rules on example.com (one a second, so the create times order them), plus rules on
   * other domains that never show. */
  for (guint i = 0; i < 12; i++)
    {
      g_autofree char *app = g_strdup_printf ("%s", i % 3 == 0 ? "news" : "live");
      g_autofree char *stream = g_strdup_printf ("s%02u", i);
      g_autoptr(Reply) reply = add_rule (f, i % 2 ? "POST" : "GET",
                                         "AppName", app, "StreamName", stream,
                                         "RecordFormat.1.Format", "mp4", NULL);

      assert_ok (reply);
      g_ptr_array_add (expected, g_steal_pointer (&stream));
      fake_now++;
    }
  {
    g_autoptr(Reply) other = add_rule (f, "GET", "DomainName", "example.org", "AppName", "live", NULL);

    assert_ok (other);
  }

  /* Pages of 5, ascending: s00–s04, s05–s09, s10–s11, then nothing. */
  for (guint page = 1; page <= 4; page++)
    {
      g_autofree char *page_text = g_strdup_printf ("%u", page);
      g_autoptr(Reply) reply = call (f, "GET", "DescribeLiveRecordConfig", "JSON",
                                     "DomainName", "example.com", "PageSize", "5",
                                     "PageNum", page_text, NULL);
      JsonArray *records;
      guint expected_len = page <= 2 ? 5 : page == 3 ? 2 : 0;

      assert_ok (reply);
      g_assert_cmpint (reply_get_int (reply, "TotalNum"), ==, 12);
      g_assert_cmpint (reply_get_int (reply, "TotalPage"), ==, 3);
      g_assert_cmpint (reply_get_int (reply, "PageNum"), ==, page);
      g_assert_cmpint (reply_get_int (reply, "PageSize"), ==, 5);
      records = records_of (reply);
      g_assert_cmpuint (json_array_get_length (records), ==, expected_len);
      for (guint i = 0; i < expected_len; i++)
        g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (records, i), "StreamName"),
                         ==, g_ptr_array_index (expected, (page - 1) * 5 + i));
    }

  /* Descending, default page size 10: s11 … s02. Domain names are case-insensitive. */
  {
    g_autoptr(Reply) reply = call (f, "POST", "DescribeLiveRecordConfig", "JSON",
                                   "DomainName", "EXAMPLE.com", "Order", "desc", NULL);
    JsonArray *records;

    assert_ok (reply);
    g_assert_cmpstr (reply_get (reply, "Order"), ==, "desc");
    g_assert_cmpint (reply_get_int (reply, "PageSize"), ==, 10);
    g_assert_cmpint (reply_get_int (reply, "TotalPage"), ==, 2);
    records = records_of (reply);
    g_assert_cmpuint (json_array_get_length (records), ==, 10);
    for (guint i = 0; i < 10; i++)
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (records, i), "StreamName"),
                       ==, g_ptr_array_index (expected, 11 - i));
  }

  /* AppName filter (exact): news has s00, s03, s06, s09. */
  {
    g_autoptr(Reply) reply = call (f, "GET", "DescribeLiveRecordConfig", "JSON",
                                   "DomainName", "example.com", "AppName", "news",
                                   "Order", "ASC", NULL);
    JsonArray *records;

    assert_ok (reply);
    g_assert_cmpint (reply_get_int (reply, "TotalNum"), ==, 4);
    g_assert_cmpint (reply_get_int (reply, "TotalPage"), ==, 1);
    records = records_of (reply);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (records, 3), "StreamName"),
                     ==, "s09");
  }
  {
    g_autoptr(Reply) reply = call (f, "GET", "DescribeLiveRecordConfig", "JSON",
                                   "DomainName", "example.com", "AppName", "New", NULL);

    assert_ok (reply);
    g_assert_cmpint (reply_get_int (reply, "TotalNum"), ==, 0);
  }

  /* XML: repeated LiveAppRecord and RecordFormat elements. */
  {
    g_autoptr(Reply) reply = call (f, "GET", "DescribeLiveRecordConfig", "XML",
                                   "DomainName", "example.com", "PageSize", "30", NULL);
    const char *prefix = "DescribeLiveRecordConfigResponse/LiveAppRecordList/LiveAppRecord";
    g_autofree char *formats = g_strconcat (prefix, "/RecordFormatList/RecordFormat", NULL);
    g_autofree char *format = g_strconcat (formats, "/Format", NULL);
    g_autofree char *on_demond = g_strconcat (prefix, "/OnDemond", NULL);

    assert_ok (reply);
    g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (reply->xml_counts, prefix)), ==, 12);
    g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (reply->xml_counts, formats)), ==, 12);
    g_assert_cmpstr (g_hash_table_lookup (reply->xml_text, format), ==, "mp4");
    g_assert_cmpstr (g_hash_table_lookup (reply->xml_text, on_demond), ==, "0");
    g_assert_cmpint (reply_get_int (reply, "TotalPage"), ==, 1);
  }

  /* Parameter errors. */
  {
    static const char * const bad[][2] = {
      { "PageSize", "4" }, { "PageSize", "31" }, { "PageSize", "ten" }, { "PageNum", "0" },
      { "PageNum", "-1" }, { "PageNum", "1.5" }, { "Order", "sideways" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(Reply) reply = call (f, "GET", "DescribeLiveRecordConfig", "JSON",
                                       "DomainName", "example.com", bad[i][0], bad[i][1], NULL);

        assert_error (reply, 400, "InvalidParameter");
        g_assert_nonnull (strstr (reply_get (reply, "Message"), bad[i][0]));
      }
  }
  {
    g_autoptr(Reply) reply = call (f, "GET", "DescribeLiveRecordConfig", "JSON", NULL);

    assert_error (reply, 400, "MissingParameter");
    g_assert_nonnull (strstr (reply_get (reply, "Message"), "DomainName"));
  }
  {
    g_autoptr(Reply) reply = call (f, "GET", "DescribeLiveRecordConfig", "JSON",
                                   "DomainName", "example.com", "PageSize", "30", "PageNum", "2", NULL);

    assert_ok (reply);
    g_assert_cmpint (reply_get_int (reply, "TotalPage"), ==, 1);
    g_assert_cmpuint (json_array_get_length (records_of (reply)), ==, 0);
  }
}

int
main (int    argc,
      char **argv)
{
  /* GIO's default proxy resolver would read GNOME's proxy settings, whose schema is not
   * in the test's GSETTINGS_SCHEMA_DIR (a fatal error): loopback needs no proxy. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  lt_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add ("/api-server/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("reply/json", test_json_reply);
  ADD ("reply/xml", test_xml_reply);
  ADD ("reply/host-id", test_host_id);
  ADD ("reply/xml-escaping", test_xml_escaping);
  ADD ("reply/async-action", test_async_action);
  ADD ("reply/concurrent", test_concurrent_requests);
  ADD ("common/errors", test_common_errors);
  ADD ("common/check-order", test_check_order);
  ADD ("common/timestamp-window", test_timestamp_window);
  ADD ("common/access-keys", test_access_keys);
  ADD ("common/key-cache", test_key_cache);
  ADD ("common/signature-mismatch", test_signature_mismatch);
  ADD ("common/get-and-post", test_get_and_post);
  ADD ("common/transport-errors", test_transport_errors);
  ADD ("common/nonce", test_nonce);
  ADD ("common/nonce-restart", test_nonce_restart);
  ADD ("common/nonce-not-burnt", test_nonce_not_burnt);
  ADD ("common/throttling", test_throttling);
  ADD ("common/steady-rate", test_steady_rate);
  ADD ("common/internal-errors", test_internal_errors);
  ADD ("common/action-helpers", test_action_helpers);
  ADD ("rules/add-delete", test_rules_add_delete);
  ADD ("rules/validation", test_rules_validation);
  ADD ("rules/describe", test_rules_describe);
  g_test_add_func ("/api-server/common/keyring-unavailable", test_keyring_unavailable);
  g_test_add_func ("/api-server/listen", test_listen);

#undef ADD

  return g_test_run ();
}
