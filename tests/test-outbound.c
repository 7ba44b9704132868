/* test-outbound.c: outbound requests (lt-outbound.h) against a SoupServer on loopback:
 * URL checks, the forbidden-address table, the connect-time guard (a name that resolves
 * to a forbidden address is refused before any connection reaches the server), the reply
 * limit on an endless body, the total timeout and redirects not being followed. */
#include "config.h"

#include <libsoup/soup.h>
#include <string.h>

#include "lt-outbound.h"
#include "lt-s3-client.h"
#include "lt-test-utils.h"

/* ---- a resolver that maps every name to one address ---- */

#define TEST_TYPE_RESOLVER (test_resolver_get_type ())
G_DECLARE_FINAL_TYPE (TestResolver, test_resolver, TEST, RESOLVER, GResolver)

struct _TestResolver
{
  GResolver  parent_instance;
  char      *address;
};

G_DEFINE_FINAL_TYPE (TestResolver, test_resolver, G_TYPE_RESOLVER)

static GList *
resolve (TestResolver *self)
{
  return g_list_append (NULL, g_inet_address_new_from_string (self->address));
}

static GList *
test_resolver_lookup_by_name (GResolver     *resolver,
                              const char    *hostname,
                              GCancellable  *cancellable,
                              GError       **error)
{
  return resolve (TEST_RESOLVER (resolver));
}

static void
test_resolver_lookup_by_name_with_flags_async (GResolver                *resolver,
                                               const char               *hostname,
                                               GResolverNameLookupFlags  flags,
                                               GCancellable             *cancellable,
                                               GAsyncReadyCallback       callback,
                                               gpointer                  user_data)
{
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);

  g_task_return_pointer (task, resolve (TEST_RESOLVER (resolver)),
                         (GDestroyNotify) g_resolver_free_addresses);
}

static void
test_resolver_lookup_by_name_async (GResolver           *resolver,
                                    const char          *hostname,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  test_resolver_lookup_by_name_with_flags_async (resolver, hostname, 0, cancellable,
                                                 callback, user_data);
}

static GList *
test_resolver_lookup_by_name_finish (GResolver     *resolver,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static GList *
test_resolver_lookup_by_name_with_flags (GResolver                 *resolver,
                                         const char                *hostname,
                                         GResolverNameLookupFlags   flags,
                                         GCancellable              *cancellable,
                                         GError                   **error)
{
  return resolve (TEST_RESOLVER (resolver));
}

static void
test_resolver_finalize (GObject *object)
{
  g_free (TEST_RESOLVER (object)->address);
  G_OBJECT_CLASS (test_resolver_parent_class)->finalize (object);
}

static void
test_resolver_class_init (TestResolverClass *klass)
{
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = test_resolver_finalize;
  resolver_class->lookup_by_name = test_resolver_lookup_by_name;
  resolver_class->lookup_by_name_async = test_resolver_lookup_by_name_async;
  resolver_class->lookup_by_name_finish = test_resolver_lookup_by_name_finish;
  resolver_class->lookup_by_name_with_flags = test_resolver_lookup_by_name_with_flags;
  resolver_class->lookup_by_name_with_flags_async = test_resolver_lookup_by_name_with_flags_async;
  resolver_class->lookup_by_name_with_flags_finish = test_resolver_lookup_by_name_finish;
}

static void
test_resolver_init (TestResolver *self)
{
}

/* ---- the server ---- */

typedef struct
{
  SoupServer *server;
  guint       port;
  guint       n_requests;
  GPtrArray  *paused;
} Server;

static void
endless_chunk (SoupServerMessage *msg)
{
  static char chunk[8192];

  memset (chunk, 'x', sizeof chunk);
  soup_message_body_append (soup_server_message_get_response_body (msg), SOUP_MEMORY_STATIC,
                            chunk, sizeof chunk);
}

static void
endless_wrote_chunk_cb (SoupServerMessage *msg,
                        gpointer           user_data)
{
  endless_chunk (msg);
}

static void
server_cb (SoupServer        *soup_server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  Server *server = user_data;

  server->n_requests++;
  if (g_str_equal (path, "/endless"))
    {
      soup_server_message_set_status (msg, 200, NULL);
      soup_message_headers_set_encoding (soup_server_message_get_response_headers (msg),
                                         SOUP_ENCODING_CHUNKED);
      g_signal_connect (msg, "wrote-chunk", G_CALLBACK (endless_wrote_chunk_cb), NULL);
      endless_chunk (msg);
      return;
    }
  if (g_str_equal (path, "/hang"))
    {
      g_ptr_array_add (server->paused, g_object_ref (msg));
      soup_server_message_pause (msg);
      return;
    }
  if (g_str_equal (path, "/redirect"))
    {
      soup_server_message_set_redirect (msg, 302, "/small");
      return;
    }
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "hello", 5);
}

static void
server_start (Server *server)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;

  server->paused = g_ptr_array_new_with_free_func (g_object_unref);
  server->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server->server, NULL, server_cb, server, NULL);
  g_assert_true (soup_server_listen_local (server->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY,
                                           &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server->server);
  server->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
}

static void
server_stop (Server *server)
{
  for (guint i = 0; i < server->paused->len; i++)
    soup_server_message_unpause (g_ptr_array_index (server->paused, i));
  g_clear_pointer (&server->paused, g_ptr_array_unref);
  soup_server_disconnect (server->server);
  g_clear_object (&server->server);
}

static GBytes *
send (SoupSession  *session,
      SoupMessage  *message,
      gsize         max_bytes,
      guint         timeout_ms,
      gboolean     *truncated,
      GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lt_outbound_send_async (session, message, max_bytes, timeout_ms, NULL,
                          lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  return lt_outbound_send_finish (session, result, truncated, error);
}

/* ---- tests ---- */

static void
test_check_url (void)
{
  static const struct { const char *url; gboolean ok; } cases[] = {
    { "http://example.com/cb", TRUE },
    { "https://example.com:8443/cb?a=1", TRUE },
    { "HTTP://127.0.0.1:9/", TRUE },
    { "http://[::1]:8080/x", TRUE },
    { "ftp://example.com/", FALSE },
    { "file:///etc/passwd", FALSE },
    { "http://user:pw@example.com/", FALSE },
    { "http:///nohost", FALSE },
    { "example.com/cb", FALSE },
    { "", FALSE },
    { "javascript:alert(1)", FALSE },
  };
  g_autofree char *long_url = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gboolean ok = lt_outbound_check_url (cases[i].url, &error);

      g_test_message ("%s", cases[i].url);
      g_assert_cmpint (ok, ==, cases[i].ok);
      if (!ok)
        g_assert_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_INVALID_URL);
      g_clear_error (&error);
    }
  long_url = g_strdup_printf ("http://example.com/%0*d", 2100, 0);
  g_assert_false (lt_outbound_check_url (long_url, &error));
  g_assert_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_INVALID_URL);
}

static void
test_forbidden_addresses (void)
{
  static const struct { const char *address; gboolean forbidden; } cases[] = {
    { "169.254.169.254", TRUE },
    { "169.254.0.1", TRUE },
    { "100.100.100.200", TRUE },
    { "0.0.0.0", TRUE },
    { "::", TRUE },
    { "fe80::1", TRUE },
    { "febf::1", TRUE },
    { "fd00:ec2::254", TRUE },
    { "224.0.0.1", TRUE },
    { "ff02::1", TRUE },
    { "::ffff:169.254.169.254", TRUE },
    { "127.0.0.1", FALSE },
    { "::1", FALSE },
    { "10.0.0.1", FALSE },
    { "192.168.1.10", FALSE },
    { "172.16.0.1", FALSE },
    { "100.100.100.201", FALSE },
    { "fd00:ec2::253", FALSE },
    { "8.8.8.8", FALSE },
    { "2001:db8::1", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (cases[i].address);

      g_test_message ("%s", cases[i].address);
      g_assert_nonnull (address);
      g_assert_cmpint (lt_outbound_address_is_forbidden (address), ==, cases[i].forbidden);
    }
}

static void
test_literal_forbidden (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupMessage) message = NULL;

  message = lt_outbound_message_new ("POST", "http://169.254.169.254/latest", &error);
  g_assert_null (message);
  g_assert_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_FORBIDDEN);
  g_clear_error (&error);
  message = lt_outbound_message_new ("GET", "gopher://x/", &error);
  g_assert_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_INVALID_URL);
}

/* A name that resolves to 0.0.0.0 — which Linux connects to this host, where the server
 * listens: the guard must refuse it before the server sees a connection. */
static void
test_guard_at_connect (void)
{
  Server server = { 0 };
  g_autoptr(GResolver) previous = g_resolver_get_default ();
  g_autoptr(TestResolver) resolver = g_object_new (TEST_TYPE_RESOLVER, NULL);
  g_autoptr(SoupSession) session = lt_outbound_session_new (5);
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  gint64 t0;

  server_start (&server);
  resolver->address = g_strdup ("0.0.0.0");
  g_resolver_set_default (G_RESOLVER (resolver));

  url = g_strdup_printf ("http://rebound.test:%u/small", server.port);
  message = lt_outbound_message_new ("GET", url, &error);
  g_assert_no_error (error);
  t0 = g_get_monotonic_time ();
  body = send (session, message, 100, 5000, NULL, &error);
  g_assert_null (body);
  g_assert_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_FORBIDDEN);
  g_assert_nonnull (lt_outbound_message_get_error (message));
  g_assert_cmpint (g_get_monotonic_time () - t0, <, G_USEC_PER_SEC);
  lt_test_spin (100);
  g_assert_cmpuint (server.n_requests, ==, 0);
  g_clear_error (&error);
  g_clear_object (&message);
  g_clear_pointer (&body, g_bytes_unref);

  /* The same name resolving to loopback is allowed and reaches the server. */
  g_free (resolver->address);
  resolver->address = g_strdup ("127.0.0.1");
  message = lt_outbound_message_new ("GET", url, &error);
  body = send (session, message, 100, 5000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (server.n_requests, ==, 1);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "hello", 5);

  g_resolver_set_default (previous);
  soup_session_abort (session);
  server_stop (&server);
}

/* The S3 client keeps the same guard, and a refusal is for good: a storage target whose
 * name resolves to a forbidden address stops with the reason instead of retrying. */
static void
test_guard_s3 (void)
{
  Server server = { 0 };
  g_autoptr(GResolver) previous = g_resolver_get_default ();
  g_autoptr(TestResolver) resolver = g_object_new (TEST_TYPE_RESOLVER, NULL);
  g_autoptr(LtS3Client) client = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *endpoint = NULL;
  LtS3Config config = { 0 };

  server_start (&server);
  resolver->address = g_strdup ("0.0.0.0");
  g_resolver_set_default (G_RESOLVER (resolver));

  endpoint = g_strdup_printf ("http://rebound.test:%u", server.port);
  config.endpoint = endpoint;
  config.bucket = "recordings";
  config.path_style = TRUE;
  config.access_key_id = "LTGUARDTEST";
  config.timeout_s = 5;
  client = lt_s3_client_new (&config, "not-a-real-secret", &error);
  g_assert_no_error (error);
  lt_s3_client_head_bucket_async (client, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_false (lt_s3_client_head_bucket_finish (client, result, &error));
  g_assert_error (error, LT_S3_ERROR, LT_S3_ERROR_ACCESS_DENIED);
  g_assert_true (lt_s3_error_is_permanent (error));
  g_assert_nonnull (strstr (error->message, "link-local"));
  lt_test_spin (100);
  g_assert_cmpuint (server.n_requests, ==, 0);

  g_resolver_set_default (previous);
  server_stop (&server);
}

static void
test_limits (void)
{
  Server server = { 0 };
  g_autoptr(SoupSession) session = lt_outbound_session_new (5);
  g_autoptr(GError) error = NULL;
  gboolean truncated = FALSE;

  server_start (&server);

  /* An endless reply: 2048 bytes, truncated, quickly. */
  {
    g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/endless", server.port);
    g_autoptr(SoupMessage) message = lt_outbound_message_new ("GET", url, &error);
    g_autoptr(GBytes) body = NULL;
    gint64 t0 = g_get_monotonic_time ();

    body = send (session, message, 2048, 3000, &truncated, &error);
    g_assert_no_error (error);
    g_assert_true (truncated);
    g_assert_cmpuint (g_bytes_get_size (body), ==, 2048);
    g_assert_cmpint (g_get_monotonic_time () - t0, <, 2 * G_USEC_PER_SEC);
  }
  /* A short one: not truncated. */
  {
    g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/small", server.port);
    g_autoptr(SoupMessage) message = lt_outbound_message_new ("GET", url, &error);
    g_autoptr(GBytes) body = send (session, message, 5, 3000, &truncated, &error);

    g_assert_no_error (error);
    g_assert_false (truncated);
    g_assert_cmpuint (g_bytes_get_size (body), ==, 5);
  }
  /* A hanging one: the total timeout, while the main context keeps running. */
  {
    g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/hang", server.port);
    g_autoptr(SoupMessage) message = lt_outbound_message_new ("GET", url, &error);
    g_autoptr(GBytes) body = NULL;
    gint64 t0 = g_get_monotonic_time ();

    body = send (session, message, 100, 300, NULL, &error);
    g_assert_null (body);
    g_assert_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_TIMEOUT);
    g_assert_cmpint (g_get_monotonic_time () - t0, <, G_USEC_PER_SEC);
    g_clear_error (&error);
  }
  /* A redirect is returned as is, never followed. */
  {
    g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/redirect", server.port);
    g_autoptr(SoupMessage) message = lt_outbound_message_new ("GET", url, &error);
    g_autoptr(GBytes) body = NULL;
    guint before = server.n_requests;

    body = send (session, message, 100, 3000, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (soup_message_get_status (message), ==, 302);
    g_assert_cmpuint (server.n_requests, ==, before + 1);
  }

  soup_session_abort (session);
  server_stop (&server);
}

int
main (int   argc,
      char *argv[])
{
  lt_test_init (&argc, &argv);

  g_test_add_func ("/outbound/check-url", test_check_url);
  g_test_add_func ("/outbound/forbidden-addresses", test_forbidden_addresses);
  g_test_add_func ("/outbound/literal-forbidden", test_literal_forbidden);
  g_test_add_func ("/outbound/guard-at-connect", test_guard_at_connect);
  g_test_add_func ("/outbound/guard-s3", test_guard_s3);
  g_test_add_func ("/outbound/limits", test_limits);

  return g_test_run ();
}
