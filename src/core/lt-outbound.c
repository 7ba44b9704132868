/* lt-outbound.c: requests to addresses an operator typed (callbacks, the on-demand query;
 * SPEC section 4).
 *
 * The guard against link-local and cloud-metadata addresses sits on the message's
 * "network-event" signal: at G_SOCKET_CLIENT_CONNECTING the connection already knows the
 * address it is about to connect to (GSocketClient caches it), so a name that resolves to
 * a forbidden address — also one that changes its answer later (DNS rebinding) — is caught
 * before a single packet leaves. The socket is closed there, so connect() never runs, and
 * the send is cancelled; the error is kept on the message for lt_outbound_send_finish().
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "lt-outbound.h"

#define GUARD_ERROR_KEY "lt-outbound-guard-error"
#define GUARD_CANCEL_KEY "lt-outbound-guard-cancellable"
#define MAX_URL_LENGTH 2048
#define READ_CHUNK 4096

G_DEFINE_QUARK (lt-outbound-error-quark, lt_outbound_error)

gboolean
lt_outbound_check_url (const char  *url,
                       GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;
  const char *host;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (url == NULL || *url == '\0')
    {
      g_set_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_INVALID_URL,
                   _("The address is empty"));
      return FALSE;
    }
  if (strlen (url) > MAX_URL_LENGTH)
    {
      g_set_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_INVALID_URL,
                   _("The address is longer than %d bytes"), MAX_URL_LENGTH);
      return FALSE;
    }
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    {
      g_set_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_INVALID_URL,
                   _("“%s” is not a valid address"), url);
      return FALSE;
    }
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    {
      g_set_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_INVALID_URL,
                   _("Only http and https addresses are allowed"));
      return FALSE;
    }
  host = g_uri_get_host (uri);
  if (host == NULL || *host == '\0')
    {
      g_set_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_INVALID_URL,
                   _("The address has no host"));
      return FALSE;
    }
  if (g_uri_get_userinfo (uri) != NULL)
    {
      g_set_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_INVALID_URL,
                   _("The address must not contain a user name or password"));
      return FALSE;
    }
  return TRUE;
}

gboolean
lt_outbound_address_is_forbidden (GInetAddress *address)
{
  const guint8 *bytes;

  g_return_val_if_fail (G_IS_INET_ADDRESS (address), TRUE);

  if (g_inet_address_get_is_any (address)
      || g_inet_address_get_is_link_local (address)
      || g_inet_address_get_is_multicast (address))
    return TRUE;

  bytes = g_inet_address_to_bytes (address);
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4)
    {
      /* 169.254.0.0/16 (AWS, GCP, Azure, …) is link-local, handled above; Alibaba's
       * metadata service lives at 100.100.100.200; 0.0.0.0/8 reaches this host. */
      if (bytes[0] == 100 && bytes[1] == 100 && bytes[2] == 100 && bytes[3] == 200)
        return TRUE;
      if (bytes[0] == 0)
        return TRUE;
      if (bytes[0] == 255 && bytes[1] == 255 && bytes[2] == 255 && bytes[3] == 255)
        return TRUE;
      return FALSE;
    }

  /* fe80::/10 is link-local (above); fd00:ec2::254 is AWS's IPv6 metadata address. */
  {
    static const guint8 aws_v6[16] = { 0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0x02, 0x54 };
    if (memcmp (bytes, aws_v6, 16) == 0)
      return TRUE;
  }
  /* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged by its IPv4 part. */
  {
    static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp (bytes, mapped, 12) == 0)
      {
        g_autoptr(GInetAddress) v4 = g_inet_address_new_from_bytes (bytes + 12,
                                                                    G_SOCKET_FAMILY_IPV4);
        return lt_outbound_address_is_forbidden (v4);
      }
  }
  return FALSE;
}

SoupSession *
lt_outbound_session_new (guint timeout_s)
{
  return soup_session_new_with_options ("timeout", timeout_s,
                                        "idle-timeout", 60,
                                        "user-agent", "Livetape/" PACKAGE_VERSION,
                                        "max-conns", 64,
                                        "max-conns-per-host", 8,
                                        /* No proxy: the guard must see the receiver's
                                         * own address, never a proxy's. */
                                        "proxy-resolver", NULL,
                                        NULL);
}

static void
message_network_event_cb (SoupMessage        *message,
                          GSocketClientEvent  event,
                          GIOStream          *connection,
                          gpointer            user_data)
{
  g_autoptr(GSocketAddress) remote = NULL;
  GInetAddress *address;
  GCancellable *cancellable;

  if (event != G_SOCKET_CLIENT_CONNECTING || !G_IS_SOCKET_CONNECTION (connection))
    return;

  remote = g_socket_connection_get_remote_address (G_SOCKET_CONNECTION (connection), NULL);
  /* Without a known address (a proxy, a Unix socket) nothing is known to be forbidden;
   * outbound sessions use no proxy. */
  if (remote == NULL || !G_IS_INET_SOCKET_ADDRESS (remote))
    return;
  address = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));
  if (!lt_outbound_address_is_forbidden (address))
    return;

  if (g_object_get_data (G_OBJECT (message), GUARD_ERROR_KEY) == NULL)
    {
      g_autofree char *text = g_inet_address_to_string (address);
      GError *error = g_error_new (LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_FORBIDDEN,
                                   _("Refused to connect to %s: a link-local or "
                                     "cloud-metadata address"), text);

      g_object_set_data_full (G_OBJECT (message), GUARD_ERROR_KEY, error,
                              (GDestroyNotify) g_error_free);
    }

  /* Closing the socket makes the coming connect() fail before any packet is sent. */
  g_socket_close (g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection)), NULL);
  cancellable = g_object_get_data (G_OBJECT (message), GUARD_CANCEL_KEY);
  if (cancellable != NULL)
    g_cancellable_cancel (cancellable);
}

SoupMessage *
lt_outbound_message_new (const char  *method,
                         const char  *url,
                         GError     **error)
{
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GInetAddress) literal = NULL;
  g_autofree char *host = NULL;

  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!lt_outbound_check_url (url, error))
    return NULL;
  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL)
    {
      g_set_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_INVALID_URL,
                   _("“%s” is not a valid address"), url);
      return NULL;
    }

  /* A literal forbidden address is refused at once; names are checked when connecting. */
  host = g_strdup (g_uri_get_host (uri));
  literal = g_inet_address_new_from_string (host);
  if (literal != NULL && lt_outbound_address_is_forbidden (literal))
    {
      g_set_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_FORBIDDEN,
                   _("Refused to connect to %s: a link-local or cloud-metadata address"),
                   host);
      return NULL;
    }

  message = soup_message_new_from_uri (method, uri);
  if (message == NULL)
    {
      g_set_error (error, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_INVALID_URL,
                   _("“%s” is not a valid address"), url);
      return NULL;
    }
  soup_message_add_flags (message, SOUP_MESSAGE_NO_REDIRECT);
  g_signal_connect (message, "network-event", G_CALLBACK (message_network_event_cb), NULL);
  return g_steal_pointer (&message);
}

const GError *
lt_outbound_message_get_error (SoupMessage *message)
{
  g_return_val_if_fail (SOUP_IS_MESSAGE (message), NULL);

  return g_object_get_data (G_OBJECT (message), GUARD_ERROR_KEY);
}

/* ---- sending ---- */

typedef struct
{
  SoupMessage  *message;
  GCancellable *cancellable;      /* ours: cancelled by the timeout, the guard, the caller */
  GCancellable *caller_cancellable;
  gulong        caller_handler;
  GSource      *timeout_source;
  GInputStream *stream;
  GByteArray   *body;
  gsize         max_bytes;
  guint         timeout_ms;
  gboolean      timed_out;
  gboolean      truncated;
} SendData;

static void
send_data_free (SendData *data)
{
  if (data->caller_handler != 0)
    g_cancellable_disconnect (data->caller_cancellable, data->caller_handler);
  if (data->timeout_source != NULL)
    {
      g_source_destroy (data->timeout_source);
      g_source_unref (data->timeout_source);
    }
  if (data->message != NULL)
    g_object_set_data (G_OBJECT (data->message), GUARD_CANCEL_KEY, NULL);
  g_clear_object (&data->stream);
  g_clear_object (&data->message);
  g_clear_object (&data->cancellable);
  g_clear_object (&data->caller_cancellable);
  g_clear_pointer (&data->body, g_byte_array_unref);
  g_free (data);
}

static gboolean
send_timeout_cb (gpointer user_data)
{
  SendData *data = user_data;

  data->timed_out = TRUE;
  g_cancellable_cancel (data->cancellable);
  g_clear_pointer (&data->timeout_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
caller_cancelled_cb (GCancellable *caller,
                     gpointer      user_data)
{
  GCancellable *ours = user_data;

  g_cancellable_cancel (ours);
}

/* Turns a failure into the error the caller should see: the guard's, a timeout, plain
 * cancellation by the caller, or libsoup's with context. */
static void
return_failure (GTask  *task,
                GError *error)
{
  SendData *data = g_task_get_task_data (task);
  const GError *guard = lt_outbound_message_get_error (data->message);

  if (guard != NULL)
    {
      g_error_free (error);
      g_task_return_error (task, g_error_copy (guard));
    }
  else if (data->timed_out)
    {
      g_error_free (error);
      g_task_return_new_error (task, LT_OUTBOUND_ERROR, LT_OUTBOUND_ERROR_TIMEOUT,
                               _("No complete answer within %u ms"), data->timeout_ms);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_task_return_error (task, error);
  else
    {
      g_prefix_error (&error, "%s", _("Request failed: "));
      g_task_return_error (task, error);
    }
}

static void read_next (GTask *task);

static void
finish_body (GTask *task)
{
  SendData *data = g_task_get_task_data (task);

  if (data->body->len > data->max_bytes)
    {
      data->truncated = TRUE;
      g_byte_array_set_size (data->body, data->max_bytes);
      /* Closing a body that has not been read to its end would read the rest first: cut
       * the connection instead (an endless reply must cost nothing). */
      g_cancellable_cancel (data->cancellable);
    }
  g_task_return_pointer (task, g_byte_array_free_to_bytes (g_steal_pointer (&data->body)),
                         (GDestroyNotify) g_bytes_unref);
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SendData *data = g_task_get_task_data (task);
  GError *error = NULL;
  gssize n;
  guint old_len;

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (n < 0)
    {
      return_failure (task, error);
      return;
    }
  old_len = data->body->len - READ_CHUNK;
  g_byte_array_set_size (data->body, old_len + n);
  if (n == 0 || data->body->len > data->max_bytes)
    {
      finish_body (task);
      return;
    }
  read_next (g_steal_pointer (&task));
}

static void
read_next (GTask *task)
{
  SendData *data = g_task_get_task_data (task);
  guint old_len = data->body->len;

  /* One chunk past the limit at most: enough to know the reply is longer. */
  g_byte_array_set_size (data->body, old_len + READ_CHUNK);
  g_input_stream_read_async (data->stream, data->body->data + old_len, READ_CHUNK,
                             G_PRIORITY_DEFAULT, data->cancellable, read_cb, task);
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SendData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (data->stream == NULL)
    {
      return_failure (task, error);
      return;
    }
  read_next (g_steal_pointer (&task));
}

void
lt_outbound_send_async (SoupSession         *session,
                        SoupMessage         *message,
                        gsize                max_bytes,
                        guint                timeout_ms,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SendData *data;

  g_return_if_fail (SOUP_IS_SESSION (session));
  g_return_if_fail (SOUP_IS_MESSAGE (message));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (session, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_outbound_send_async);
  /* Our own cancellable does the cancelling, so the task must not short-cut it. */
  g_task_set_check_cancellable (task, FALSE);

  data = g_new0 (SendData, 1);
  data->message = g_object_ref (message);
  data->cancellable = g_cancellable_new ();
  data->max_bytes = max_bytes;
  data->timeout_ms = timeout_ms;
  data->body = g_byte_array_new ();
  g_task_set_task_data (task, data, (GDestroyNotify) send_data_free);

  g_object_set_data (G_OBJECT (message), GUARD_CANCEL_KEY, data->cancellable);
  if (cancellable != NULL)
    {
      data->caller_cancellable = g_object_ref (cancellable);
      data->caller_handler = g_cancellable_connect (cancellable,
                                                    G_CALLBACK (caller_cancelled_cb),
                                                    data->cancellable, NULL);
    }
  if (timeout_ms > 0)
    {
      data->timeout_source = g_timeout_source_new (timeout_ms);
      g_source_set_callback (data->timeout_source, send_timeout_cb, data, NULL);
      g_source_set_static_name (data->timeout_source, "lt-outbound-timeout");
      g_source_attach (data->timeout_source, g_main_context_get_thread_default ());
    }

  soup_session_send_async (session, message, G_PRIORITY_DEFAULT, data->cancellable,
                           send_cb, g_steal_pointer (&task));
}

GBytes *
lt_outbound_send_finish (SoupSession   *session,
                         GAsyncResult  *result,
                         gboolean      *truncated,
                         GError       **error)
{
  SendData *data;
  GBytes *bytes;

  g_return_val_if_fail (g_task_is_valid (result, session), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lt_outbound_send_async,
                        NULL);

  data = g_task_get_task_data (G_TASK (result));
  bytes = g_task_propagate_pointer (G_TASK (result), error);
  if (truncated != NULL)
    *truncated = bytes != NULL && data->truncated;
  return bytes;
}
