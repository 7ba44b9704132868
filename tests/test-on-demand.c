/* test-on-demand.c: the on-demand decision of OnDemand 1 rules (SPEC section 4) — every
 * reply case through lt_on_demand_decide(), table-driven, and through real HTTP receivers
 * on loopback (a SoupServer, and raw sockets for the ones that hang, trickle or flood). */
#include "config.h"

#include <string.h>

#include "lt-on-demand.h"
#include "lt-outbound.h"
#include "lt-test-utils.h"

/* ---- rule formats ---- */

static LtRecordFormat *
format_new (LtRecordFormatKind kind,
            guint              cycle)
{
  LtRecordFormat *format = g_new0 (LtRecordFormat, 1);

  format->kind = kind;
  format->cycle_duration = cycle;
  format->object_prefix = g_strdup (LT_RULE_DEFAULT_OBJECT_PREFIX);
  if (lt_record_format_kind_is_sliced (kind))
    {
      format->slice_duration = LT_RULE_SLICE_DEFAULT;
      format->slice_object_prefix = g_strdup (LT_RULE_DEFAULT_SLICE_OBJECT_PREFIX);
    }
  return format;
}

/* m3u8 (21600 s), mp4 (3600 s), flv (3600 s): a rule without cmaf. */
static GPtrArray *
rule_formats_new (void)
{
  GPtrArray *formats = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_record_format_free);

  g_ptr_array_add (formats, format_new (LT_RECORD_FORMAT_M3U8, 21600));
  g_ptr_array_add (formats, format_new (LT_RECORD_FORMAT_MP4, 3600));
  g_ptr_array_add (formats, format_new (LT_RECORD_FORMAT_FLV, 3600));
  return formats;
}

/* "mp4:300,flv:120": the formats a decision records, in order, with their cycle. */
static char *
formats_to_string (GPtrArray *formats)
{
  g_autoptr(GString) str = g_string_new (NULL);

  for (guint i = 0; i < formats->len; i++)
    {
      const LtRecordFormat *format = g_ptr_array_index (formats, i);

      g_string_append_printf (str, "%s%s:%u", i > 0 ? "," : "",
                              lt_record_format_kind_to_string (format->kind),
                              format->cycle_duration);
    }
  return g_string_free (g_steal_pointer (&str), FALSE);
}

/* ---- lt_on_demand_decide() ---- */

#define EXAMPLE_REPLY \
  "{\"ApiVersion\":\"1.0\",\"NeedRecord\":true,\"Interval\":{\"Mp4\":300,\"Flv\":120," \
  "\"M3U8\":180},\"Format\":[\"mp4\",\"flv\"]}"

typedef struct
{
  const char *name;
  guint       status;
  const char *body;
  gboolean    truncated;
  const char *code;     /* NULL: recorded */
  const char *formats;  /* what is recorded, formats_to_string() */
  const char *reason;   /* a part of the reason, or NULL */
} DecideCase;

static const DecideCase decide_cases[] = {
  { "example", 200, EXAMPLE_REPLY, FALSE, NULL, "mp4:300,flv:120", NULL },
  { "no-format-no-interval", 200, "{\"NeedRecord\":true}", FALSE, NULL,
    "m3u8:21600,mp4:3600,flv:3600", NULL },
  { "format-null", 200, "{\"NeedRecord\":true,\"Format\":null,\"Interval\":null}", FALSE, NULL,
    "m3u8:21600,mp4:3600,flv:3600", NULL },
  { "interval-without-format", 200, "{\"NeedRecord\":true,\"Interval\":{\"M3U8\":180}}", FALSE,
    NULL, "m3u8:180,mp4:3600,flv:3600", NULL },
  { "case-insensitive", 200,
    "{\"NeedRecord\":true,\"Interval\":{\"mP4\":5,\"m3u8\":21600},\"Format\":[\"MP4\",\"M3u8\"]}",
    FALSE, NULL, "m3u8:21600,mp4:5", NULL },
  { "unknown-interval-key", 200, "{\"NeedRecord\":true,\"Interval\":{\"Hls\":1,\"Flv\":60}}",
    FALSE, NULL, "m3u8:21600,mp4:3600,flv:60", NULL },
  { "unknown-format-dropped", 200, "{\"NeedRecord\":true,\"Format\":[\"ts\",\"flv\"]}", FALSE,
    NULL, "flv:3600", NULL },
  { "cmaf-interval-checked", 200, "{\"NeedRecord\":true,\"Interval\":{\"Cmaf\":30}}", FALSE,
    NULL, "m3u8:21600,mp4:3600,flv:3600", NULL },
  { "whitespace", 200, " \n{ \"NeedRecord\" : true }\n ", FALSE, NULL,
    "m3u8:21600,mp4:3600,flv:3600", NULL },

  { "need-record-false", 200, "{\"NeedRecord\":false,\"Interval\":{\"Mp4\":1}}", FALSE,
    "OnDemandRefused", "", "The on-demand reply says NeedRecord: false." },
  { "need-record-missing", 200, "{\"ApiVersion\":\"1.0\",\"Format\":[\"mp4\"]}", FALSE,
    "OnDemandMalformed", "", "no NeedRecord" },
  { "need-record-lowercase", 200, "{\"needrecord\":true}", FALSE, "OnDemandMalformed", "",
    "no NeedRecord" },
  { "need-record-1", 200, "{\"NeedRecord\":1}", FALSE, "OnDemandMalformed", "",
    "not true or false" },
  { "need-record-0", 200, "{\"NeedRecord\":0}", FALSE, "OnDemandMalformed", "",
    "not true or false" },
  { "need-record-string", 200, "{\"NeedRecord\":\"true\"}", FALSE, "OnDemandMalformed", "",
    "not true or false" },
  { "need-record-null", 200, "{\"NeedRecord\":null}", FALSE, "OnDemandMalformed", "",
    "not true or false" },
  { "need-record-object", 200, "{\"NeedRecord\":{}}", FALSE, "OnDemandMalformed", "",
    "not true or false" },

  { "json-truncated", 200, "{\"NeedRecord\":tr", FALSE, "OnDemandMalformed", "",
    "not valid JSON" },
  { "json-empty", 200, "", FALSE, "OnDemandMalformed", "", "not valid JSON" },
  { "json-html", 200, "<html>ok</html>", FALSE, "OnDemandMalformed", "", "not valid JSON" },
  { "json-array", 200, "[{\"NeedRecord\":true}]", FALSE, "OnDemandMalformed", "",
    "not a JSON object" },
  { "json-true", 200, "true", FALSE, "OnDemandMalformed", "", "not a JSON object" },

  { "interval-min-1", 200, "{\"NeedRecord\":true,\"Interval\":{\"Mp4\":4}}", FALSE,
    "OnDemandMalformed", "", "Interval mp4" },
  { "interval-max+1", 200, "{\"NeedRecord\":true,\"Interval\":{\"Flv\":21601}}", FALSE,
    "OnDemandMalformed", "", "outside 5–21600 seconds" },
  { "interval-negative", 200, "{\"NeedRecord\":true,\"Interval\":{\"M3U8\":-180}}", FALSE,
    "OnDemandMalformed", "", "Interval m3u8" },
  { "interval-huge", 200,
    "{\"NeedRecord\":true,\"Interval\":{\"Mp4\":4294967596}}", FALSE,
    "OnDemandMalformed", "", "outside" },
  { "interval-other-format-out-of-range", 200,
    "{\"NeedRecord\":true,\"Interval\":{\"Cmaf\":2},\"Format\":[\"mp4\"]}", FALSE,
    "OnDemandMalformed", "", "Interval cmaf" },
  { "interval-float", 200, "{\"NeedRecord\":true,\"Interval\":{\"Mp4\":300.5}}", FALSE,
    "OnDemandMalformed", "", "whole number" },
  { "interval-string", 200, "{\"NeedRecord\":true,\"Interval\":{\"Mp4\":\"300\"}}", FALSE,
    "OnDemandMalformed", "", "whole number" },
  { "interval-twice", 200, "{\"NeedRecord\":true,\"Interval\":{\"Mp4\":300,\"MP4\":300}}",
    FALSE, "OnDemandMalformed", "", "twice" },
  { "interval-array", 200, "{\"NeedRecord\":true,\"Interval\":[300]}", FALSE,
    "OnDemandMalformed", "", "not an object" },
  { "format-string", 200, "{\"NeedRecord\":true,\"Format\":\"mp4\"}", FALSE,
    "OnDemandMalformed", "", "list of format names" },
  { "format-number", 200, "{\"NeedRecord\":true,\"Format\":[\"mp4\",1]}", FALSE,
    "OnDemandMalformed", "", "list of format names" },

  { "format-empty", 200, "{\"NeedRecord\":true,\"Format\":[]}", FALSE, "OnDemandNoFormat", "",
    "(none)" },
  { "format-intersection-empty", 200,
    "{\"NeedRecord\":true,\"Format\":[\"cmaf\"],\"Interval\":{\"Mp4\":300}}", FALSE,
    "OnDemandNoFormat", "", "(cmaf) is one the rule records (m3u8, mp4, flv)" },
  { "format-only-unknown", 200, "{\"NeedRecord\":true,\"Format\":[\"ts\"]}", FALSE,
    "OnDemandNoFormat", "", NULL },

  { "http-404", 404, EXAMPLE_REPLY, FALSE, "OnDemandHttpStatus", "",
    "The on-demand address answered HTTP 404." },
  { "http-500", 500, EXAMPLE_REPLY, FALSE, "OnDemandHttpStatus", "",
    "The on-demand address answered HTTP 500." },
  { "http-204", 204, "", FALSE, "OnDemandHttpStatus", "", "HTTP 204" },
  { "http-302", 302, EXAMPLE_REPLY, FALSE, "OnDemandHttpStatus", "", "redirect" },
  { "truncated", 200, EXAMPLE_REPLY, TRUE, "OnDemandMalformed", "", "longer than 2048 bytes" },
};

static void
check_decision (const LtOnDemandDecision *decision,
                guint                     status,
                const char               *code,
                const char               *formats,
                const char               *reason)
{
  g_autofree char *recorded = NULL;

  g_assert_nonnull (decision);
  g_assert_nonnull (decision->formats);
  recorded = formats_to_string (decision->formats);
  g_assert_cmpuint (decision->http_status, ==, status);
  g_assert_cmpstr (recorded, ==, formats);
  g_assert_cmpstr (decision->reason_code, ==, code);
  if (code == NULL)
    {
      g_assert_true (decision->need_record);
      g_assert_null (decision->reason);
    }
  else
    {
      g_assert_false (decision->need_record);
      g_assert_nonnull (decision->reason);
      g_assert_cmpuint (strlen (decision->reason), >, 0);
      if (reason != NULL && strstr (decision->reason, reason) == NULL)
        g_error ("reason \"%s\" does not contain \"%s\"", decision->reason, reason);
    }
}

static void
test_decide (gconstpointer data)
{
  const DecideCase *c = data;
  g_autoptr(GPtrArray) rule_formats = rule_formats_new ();
  g_autoptr(LtOnDemandDecision) decision = NULL;
  g_autofree char *before = formats_to_string (rule_formats);
  g_autofree char *after = NULL;

  decision = lt_on_demand_decide (c->status, c->body, strlen (c->body), c->truncated,
                                  rule_formats);
  check_decision (decision, c->status, c->code, c->formats, c->reason);

  /* The rule's own formats are never changed: the decision has copies. */
  after = formats_to_string (rule_formats);
  g_assert_cmpstr (after, ==, before);
}

/* Exactly 2048 bytes (valid JSON padded with spaces) are recorded; a body cut there with
 * more behind it (truncated) is not. */
static void
test_decide_2048 (void)
{
  g_autoptr(GPtrArray) rule_formats = rule_formats_new ();
  g_autoptr(LtOnDemandDecision) recorded = NULL;
  g_autoptr(LtOnDemandDecision) cut = NULL;
  char body[LT_ON_DEMAND_REPLY_MAX_BYTES];

  memset (body, ' ', sizeof body);
  memcpy (body, EXAMPLE_REPLY, strlen (EXAMPLE_REPLY));

  recorded = lt_on_demand_decide (200, body, sizeof body, FALSE, rule_formats);
  check_decision (recorded, 200, NULL, "mp4:300,flv:120", NULL);

  cut = lt_on_demand_decide (200, body, sizeof body, TRUE, rule_formats);
  check_decision (cut, 200, "OnDemandMalformed", "", "longer than 2048 bytes");
}

/* A rule without formats (an exclusion) never records, whatever the reply. */
static void
test_decide_no_rule_formats (void)
{
  g_autoptr(GPtrArray) none = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_record_format_free);
  g_autoptr(LtOnDemandDecision) decision = NULL;

  decision = lt_on_demand_decide (200, EXAMPLE_REPLY, strlen (EXAMPLE_REPLY), FALSE, none);
  check_decision (decision, 200, "OnDemandNoFormat", "", "(none)");
}

/* Every other field of a format survives the Interval: only cycle_duration changes. */
static void
test_decide_copies_fields (void)
{
  g_autoptr(GPtrArray) rule_formats = rule_formats_new ();
  g_autoptr(LtOnDemandDecision) decision = NULL;
  const char *reply = "{\"NeedRecord\":true,\"Interval\":{\"M3U8\":180},\"Format\":[\"m3u8\"]}";
  const LtRecordFormat *format;
  LtRecordFormat *rule_m3u8 = g_ptr_array_index (rule_formats, 0);

  g_free (rule_m3u8->object_prefix);
  rule_m3u8->object_prefix = g_strdup ("live/{StreamName}/{EscapedStartTime}_{EscapedEndTime}");
  rule_m3u8->slice_duration = 10;

  decision = lt_on_demand_decide (200, reply, strlen (reply), FALSE, rule_formats);
  check_decision (decision, 200, NULL, "m3u8:180", NULL);
  format = g_ptr_array_index (decision->formats, 0);
  g_assert_true (format != rule_m3u8);
  g_assert_cmpuint (format->slice_duration, ==, 10);
  g_assert_cmpstr (format->object_prefix, ==, rule_m3u8->object_prefix);
  g_assert_true (format->object_prefix != rule_m3u8->object_prefix);
  g_assert_cmpstr (format->slice_object_prefix, ==, LT_RULE_DEFAULT_SLICE_OBJECT_PREFIX);
  g_assert_cmpuint (rule_m3u8->cycle_duration, ==, 21600);
}

/* ---- the query, through real HTTP receivers on loopback ---- */

/* A SoupServer answering per path; counts the requests per path and keeps the last raw
 * query of /query. */
typedef struct
{
  SoupServer *server;
  char       *base;        /* "http://127.0.0.1:PORT" */
  GHashTable *hits;        /* path → count */
  char       *last_query;
} Receiver;

static void
send_body (SoupServerMessage *msg,
           guint              status,
           const char        *body,
           gsize              length)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body, length);
}

static void
receiver_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  Receiver *receiver = user_data;
  guint hits = GPOINTER_TO_UINT (g_hash_table_lookup (receiver->hits, path));

  g_hash_table_insert (receiver->hits, g_strdup (path), GUINT_TO_POINTER (hits + 1));
  g_assert_cmpstr (soup_server_message_get_method (msg), ==, SOUP_METHOD_GET);

  if (g_str_equal (path, "/example") || g_str_equal (path, "/query"))
    {
      if (g_str_equal (path, "/query"))
        {
          g_free (receiver->last_query);
          receiver->last_query = g_strdup (g_uri_get_query (soup_server_message_get_uri (msg)));
        }
      send_body (msg, 200, EXAMPLE_REPLY, strlen (EXAMPLE_REPLY));
    }
  else if (g_str_equal (path, "/false"))
    send_body (msg, 200, "{\"NeedRecord\":false}", strlen ("{\"NeedRecord\":false}"));
  else if (g_str_equal (path, "/missing"))
    send_body (msg, 200, "{\"ApiVersion\":\"1.0\"}", strlen ("{\"ApiVersion\":\"1.0\"}"));
  else if (g_str_equal (path, "/malformed"))
    send_body (msg, 200, "{\"NeedRecord\":true,", strlen ("{\"NeedRecord\":true,"));
  else if (g_str_equal (path, "/interval"))
    send_body (msg, 200, "{\"NeedRecord\":true,\"Interval\":{\"Mp4\":4}}",
               strlen ("{\"NeedRecord\":true,\"Interval\":{\"Mp4\":4}}"));
  else if (g_str_equal (path, "/no-format"))
    send_body (msg, 200, "{\"NeedRecord\":true,\"Format\":[\"cmaf\"]}",
               strlen ("{\"NeedRecord\":true,\"Format\":[\"cmaf\"]}"));
  else if (g_str_equal (path, "/404"))
    send_body (msg, 404, EXAMPLE_REPLY, strlen (EXAMPLE_REPLY));
  else if (g_str_equal (path, "/500"))
    send_body (msg, 500, EXAMPLE_REPLY, strlen (EXAMPLE_REPLY));
  else if (g_str_equal (path, "/302"))
    {
      send_body (msg, 302, EXAMPLE_REPLY, strlen (EXAMPLE_REPLY));
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Location", "/example");
    }
  else if (g_str_equal (path, "/2048") || g_str_equal (path, "/2049"))
    {
      gsize length = g_str_equal (path, "/2048") ? 2048 : 2049;
      g_autofree char *body = g_malloc (length);

      /* Valid JSON padded with spaces: only the length differs. */
      memset (body, ' ', length);
      memcpy (body, EXAMPLE_REPLY, strlen (EXAMPLE_REPLY));
      send_body (msg, 200, body, length);
    }
  else
    send_body (msg, 418, "", 0);
}

static Receiver *
receiver_new (void)
{
  Receiver *receiver = g_new0 (Receiver, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GSocket) socket = NULL;

  receiver->hits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  receiver->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (receiver->server, NULL, receiver_cb, receiver, NULL);

  /* Our own listening socket: libsoup 3.2's soup_server_get_uris() leaks the local
   * address it asks for, which the sanitizer run would report. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (socket, &error);
  g_assert_no_error (error);
  local = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  soup_server_listen_socket (receiver->server, socket, 0, &error);
  g_assert_no_error (error);

  receiver->base = g_strdup_printf ("http://127.0.0.1:%u",
                                    g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
  return receiver;
}

static void
receiver_free (Receiver *receiver)
{
  soup_server_disconnect (receiver->server);
  g_assert_finalize_object (receiver->server);
  g_hash_table_unref (receiver->hits);
  g_free (receiver->base);
  g_free (receiver->last_query);
  g_free (receiver);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Receiver, receiver_free)

static guint
receiver_hits (Receiver   *receiver,
               const char *path)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (receiver->hits, path));
}

/* Misbehaving receivers on a raw socket: one that accepts and never answers, one whose
 * chunked body never ends but trickles (one byte per 100 ms), one whose chunked body never
 * ends and comes as fast as the client reads. */
typedef enum
{
  RAW_SILENT,
  RAW_TRICKLE,
  RAW_FLOOD,
} RawMode;

typedef struct
{
  GSocketService *service;
  RawMode         mode;
  guint16         port;
  GPtrArray      *connections;  /* GIOStream */
  GCancellable   *cancellable;
  guint           trickle_id;
  char           *flood_chunk;
  gsize           flood_chunk_length;
} RawReceiver;

#define RAW_HEADERS \
  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" \
  "15\r\n{\"NeedRecord\":true,\"x\r\n"

static void flood_write (RawReceiver *raw, GIOStream *connection);

static void
flood_written_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GIOStream) connection = user_data;
  g_autoptr(GError) error = NULL;
  RawReceiver *raw;

  /* The client closes once it has read its limit: the write fails and the flood ends. */
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    return;
  raw = g_object_get_data (G_OBJECT (connection), "raw");
  flood_write (raw, connection);
}

static void
flood_write (RawReceiver *raw,
             GIOStream   *connection)
{
  g_output_stream_write_all_async (g_io_stream_get_output_stream (connection),
                                   raw->flood_chunk, raw->flood_chunk_length,
                                   G_PRIORITY_DEFAULT, raw->cancellable, flood_written_cb,
                                   g_object_ref (connection));
}

static gboolean
trickle_cb (gpointer user_data)
{
  RawReceiver *raw = user_data;

  /* Blocking writes of 6 bytes to a socket whose buffer is nearly empty: they never wait. */
  for (guint i = 0; i < raw->connections->len; i++)
    g_output_stream_write_all (g_io_stream_get_output_stream (raw->connections->pdata[i]),
                               "1\r\n \r\n", 6, NULL, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

static gboolean
raw_incoming_cb (GSocketService    *service,
                 GSocketConnection *connection,
                 GObject           *source_object,
                 gpointer           user_data)
{
  RawReceiver *raw = user_data;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  g_ptr_array_add (raw->connections, g_object_ref (connection));
  g_object_set_data (G_OBJECT (connection), "raw", raw);
  switch (raw->mode)
    {
    case RAW_SILENT:
      break;
    case RAW_TRICKLE:
      g_assert_true (g_output_stream_write_all (out, RAW_HEADERS, strlen (RAW_HEADERS), NULL,
                                                NULL, NULL));
      break;
    case RAW_FLOOD:
      g_assert_true (g_output_stream_write_all (out, RAW_HEADERS, strlen (RAW_HEADERS), NULL,
                                                NULL, NULL));
      flood_write (raw, G_IO_STREAM (connection));
      break;
    }
  return TRUE;
}

static RawReceiver *
raw_receiver_new (RawMode mode)
{
  RawReceiver *raw = g_new0 (RawReceiver, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  raw->mode = mode;
  raw->connections = g_ptr_array_new_with_free_func (g_object_unref);
  raw->cancellable = g_cancellable_new ();
  raw->service = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (raw->service), address,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                 &effective, &error);
  g_assert_no_error (error);
  raw->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (raw->service, "incoming", G_CALLBACK (raw_incoming_cb), raw);

  if (mode == RAW_FLOOD)
    {
      /* One 4 KiB chunk of "x", repeated for ever. */
      g_autoptr(GString) chunk = g_string_new ("1000\r\n");

      for (guint i = 0; i < 4096; i++)
        g_string_append_c (chunk, 'x');
      g_string_append (chunk, "\r\n");
      raw->flood_chunk_length = chunk->len;
      raw->flood_chunk = g_string_free (g_steal_pointer (&chunk), FALSE);
    }
  if (mode == RAW_TRICKLE)
    raw->trickle_id = g_timeout_add (100, trickle_cb, raw);
  g_socket_service_start (raw->service);
  return raw;
}

static char *
raw_receiver_url (RawReceiver *raw)
{
  return g_strdup_printf ("http://127.0.0.1:%u/on-demand", raw->port);
}

static void
raw_receiver_free (RawReceiver *raw)
{
  g_cancellable_cancel (raw->cancellable);
  g_clear_handle_id (&raw->trickle_id, g_source_remove);
  g_socket_service_stop (raw->service);
  g_socket_listener_close (G_SOCKET_LISTENER (raw->service));
  for (guint i = 0; i < raw->connections->len; i++)
    g_io_stream_close (raw->connections->pdata[i], NULL, NULL);
  /* Let the cancelled writes finish and drop their references. */
  lt_test_spin (50);
  g_ptr_array_unref (raw->connections);
  g_object_unref (raw->service);
  g_object_unref (raw->cancellable);
  g_free (raw->flood_chunk);
  g_free (raw);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RawReceiver, raw_receiver_free)

/* One query in flight: its result and when it arrived. */
typedef struct
{
  LtOnDemandDecision *decision;
  gint64              started;
  gint64              finished;
} Query;

static void
query_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Query *query = user_data;

  g_assert_null (source);
  g_assert_null (query->decision);
  query->decision = lt_on_demand_query_finish (result);
  g_assert_nonnull (query->decision);
  query->finished = g_get_monotonic_time ();
}

static void
query_start (Query        *query,
             SoupSession  *session,
             const char   *url,
             GPtrArray    *rule_formats,
             GCancellable *cancellable)
{
  memset (query, 0, sizeof *query);
  query->started = g_get_monotonic_time ();
  lt_on_demand_query_async (session, url, "live.example.com", "live", "cam1", 2500, "h264",
                            rule_formats, cancellable, query_done_cb, query);
}

static gboolean
query_is_done (gpointer data)
{
  return ((Query *) data)->decision != NULL;
}

static guint
query_elapsed_ms (Query *query)
{
  return (guint) ((query->finished - query->started) / 1000);
}

/* Runs one query to @url and returns its decision. */
static LtOnDemandDecision *
query_run (SoupSession *session,
           const char  *url)
{
  g_autoptr(GPtrArray) rule_formats = rule_formats_new ();
  Query query;

  query_start (&query, session, url, rule_formats, NULL);
  /* Never finished in the call itself: the callback comes from the main loop. */
  g_assert_null (query.decision);
  lt_test_wait_until (query_is_done, &query, 10000, "the on-demand decision");
  return query.decision;
}

typedef struct
{
  const char *path;
  guint       status;
  const char *code;
  const char *formats;
  const char *reason;
} ReplyCase;

static const ReplyCase reply_cases[] = {
  { "/example", 200, NULL, "mp4:300,flv:120", NULL },
  { "/false", 200, "OnDemandRefused", "", "The on-demand reply says NeedRecord: false." },
  { "/missing", 200, "OnDemandMalformed", "", "no NeedRecord" },
  { "/malformed", 200, "OnDemandMalformed", "", "The on-demand reply is not valid JSON." },
  { "/404", 404, "OnDemandHttpStatus", "", "The on-demand address answered HTTP 404." },
  { "/500", 500, "OnDemandHttpStatus", "", "The on-demand address answered HTTP 500." },
  { "/302", 302, "OnDemandHttpStatus", "", "redirect" },
  { "/2049", 200, "OnDemandMalformed", "", "longer than 2048 bytes" },
  { "/2048", 200, NULL, "mp4:300,flv:120", NULL },
  { "/interval", 200, "OnDemandMalformed", "", "outside 5–21600 seconds" },
  { "/no-format", 200, "OnDemandNoFormat", "", "(cmaf)" },
};

static void
test_query_replies (void)
{
  g_autoptr(Receiver) receiver = receiver_new ();
  g_autoptr(SoupSession) session = lt_outbound_session_new (30);

  for (guint i = 0; i < G_N_ELEMENTS (reply_cases); i++)
    {
      const ReplyCase *c = &reply_cases[i];
      g_autofree char *url = g_strconcat (receiver->base, c->path, NULL);
      g_autoptr(LtOnDemandDecision) decision = NULL;

      g_test_message ("reply %s", c->path);
      decision = query_run (session, url);
      check_decision (decision, c->status, c->code, c->formats, c->reason);
      g_assert_cmpuint (receiver_hits (receiver, c->path), ==, 1);
    }

  /* The 302 pointed at /example: not followed. */
  g_assert_cmpuint (receiver_hits (receiver, "/example"), ==, 1);
}

typedef struct
{
  const char *suffix;    /* appended to the receiver's /query URL */
  const char *stream;
  const char *expected;  /* the raw query the receiver sees */
} QueryStringCase;

static const QueryStringCase query_string_cases[] = {
  { "", "cam1",
    "app=live%231&domain=live.example.com&stream=cam1&vbitrate=2500&codec=h265" },
  { "?", "cam1",
    "app=live%231&domain=live.example.com&stream=cam1&vbitrate=2500&codec=h265" },
  { "?token=a%2Fb&x=1", "cam 1/\xc3\xbc&x=y?#",
    "token=a%2Fb&x=1&app=live%231&domain=live.example.com&stream=cam%201%2F%C3%BC%26x%3Dy%3F%23"
    "&vbitrate=2500&codec=h265" },
  { "?token=1&", "a+b",
    "token=1&app=live%231&domain=live.example.com&stream=a%2Bb&vbitrate=2500&codec=h265" },
  { "?token=1#fragment", "cam1",
    "token=1&app=live%231&domain=live.example.com&stream=cam1&vbitrate=2500&codec=h265" },
};

/* The parameters are percent-encoded and appended with "&" to a URL that has a query. */
static void
test_query_string (void)
{
  g_autoptr(Receiver) receiver = receiver_new ();
  g_autoptr(SoupSession) session = lt_outbound_session_new (30);

  for (guint i = 0; i < G_N_ELEMENTS (query_string_cases); i++)
    {
      const QueryStringCase *c = &query_string_cases[i];
      g_autofree char *url = g_strconcat (receiver->base, "/query", c->suffix, NULL);
      g_autoptr(GPtrArray) rule_formats = rule_formats_new ();
      g_autoptr(GHashTable) params = NULL;
      g_autoptr(GError) error = NULL;
      Query query;

      g_test_message ("query %s", url);
      memset (&query, 0, sizeof query);
      lt_on_demand_query_async (session, url, "live.example.com", "live#1", c->stream, 2500,
                                "h265", rule_formats, NULL, query_done_cb, &query);
      lt_test_wait_until (query_is_done, &query, 10000, "the on-demand decision");
      check_decision (query.decision, 200, NULL, "mp4:300,flv:120", NULL);
      g_clear_pointer (&query.decision, lt_on_demand_decision_free);

      g_assert_cmpuint (receiver_hits (receiver, "/query"), ==, i + 1);
      g_assert_cmpstr (receiver->last_query, ==, c->expected);

      /* And it decodes back to what was sent. */
      params = g_uri_parse_params (receiver->last_query, -1, "&", G_URI_PARAMS_NONE, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (g_hash_table_lookup (params, "stream"), ==, c->stream);
      g_assert_cmpstr (g_hash_table_lookup (params, "app"), ==, "live#1");
    }
}

/* No OnDemandUrl, an unusable one, a refused connection, a forbidden address. */
static void
test_query_unreachable (void)
{
  g_autoptr(SoupSession) session = lt_outbound_session_new (30);
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *refused = NULL;
  struct
  {
    const char *url;
    const char *code;
    const char *reason;
  } cases[] = {
    { NULL, "OnDemandNoUrl", "No on-demand address is configured" },
    { "", "OnDemandNoUrl", "No on-demand address is configured" },
    { "ftp://127.0.0.1/on-demand", "OnDemandNoUrl", "not a usable http or https address" },
    { "/on-demand", "OnDemandNoUrl", "not a usable http or https address" },
    { NULL, "OnDemandUnreachable", "could not be reached" },
    { "http://169.254.169.254/latest/meta-data", "OnDemandUnreachable", "link-local" },
  };
  guint16 port;

  /* A port nobody listens on: bound once, then closed. */
  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);
  refused = g_strdup_printf ("http://127.0.0.1:%u/on-demand", port);
  cases[4].url = refused;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LtOnDemandDecision) decision = NULL;

      g_test_message ("url %s", cases[i].url != NULL ? cases[i].url : "(none)");
      decision = query_run (session, cases[i].url);
      check_decision (decision, 0, cases[i].code, "", cases[i].reason);
    }
}

static gboolean
tick_cb (gpointer user_data)
{
  gint64 *ticks = user_data;   /* [0] count, [1] last tick, [2] longest gap */
  gint64 now = g_get_monotonic_time ();

  ticks[0]++;
  ticks[2] = MAX (ticks[2], now - ticks[1]);
  ticks[1] = now;
  return G_SOURCE_CONTINUE;
}

static gboolean
queries_are_done (gpointer data)
{
  Query *queries = data;

  for (guint i = 0; i < 3; i++)
    if (queries[i].decision == NULL)
      return FALSE;
  return TRUE;
}

/* A receiver that never answers, one whose body trickles for ever and one whose body
 * floods for ever, all at once: each is decided within the 5 s, not recorded, and the
 * main loop keeps running a 100 ms timer meanwhile. */
static void
test_query_slow_replies (void)
{
  g_autoptr(SoupSession) session = lt_outbound_session_new (30);
  g_autoptr(RawReceiver) silent = raw_receiver_new (RAW_SILENT);
  g_autoptr(RawReceiver) trickle = raw_receiver_new (RAW_TRICKLE);
  g_autoptr(RawReceiver) flood = raw_receiver_new (RAW_FLOOD);
  g_autoptr(GPtrArray) rule_formats = rule_formats_new ();
  g_autofree char *silent_url = raw_receiver_url (silent);
  g_autofree char *trickle_url = raw_receiver_url (trickle);
  g_autofree char *flood_url = raw_receiver_url (flood);
  gint64 ticks[3] = { 0, g_get_monotonic_time (), 0 };
  Query queries[3];
  gint64 started;
  guint tick_id;

  tick_id = g_timeout_add (100, tick_cb, ticks);
  started = g_get_monotonic_time ();
  query_start (&queries[0], session, silent_url, rule_formats, NULL);
  query_start (&queries[1], session, trickle_url, rule_formats, NULL);
  query_start (&queries[2], session, flood_url, rule_formats, NULL);
  lt_test_wait_until (queries_are_done, queries, 10000, "the three decisions");
  g_source_remove (tick_id);

  g_test_message ("silent %u ms, trickle %u ms, flood %u ms; %" G_GINT64_FORMAT
                  " ticks, longest gap %" G_GINT64_FORMAT " ms",
                  query_elapsed_ms (&queries[0]), query_elapsed_ms (&queries[1]),
                  query_elapsed_ms (&queries[2]), ticks[0], ticks[2] / 1000);

  check_decision (queries[0].decision, 0, "OnDemandTimeout", "",
                  "The on-demand address did not answer within 5 seconds.");
  g_assert_cmpuint (query_elapsed_ms (&queries[0]), >=, LT_ON_DEMAND_TIMEOUT_MS - 100);
  g_assert_cmpuint (query_elapsed_ms (&queries[0]), <=, 5500);

  /* The trickle sent its status line: 200, but the body never completed. */
  g_assert_false (queries[1].decision->need_record);
  g_assert_cmpstr (queries[1].decision->reason_code, ==, "OnDemandTimeout");
  g_assert_cmpuint (queries[1].decision->http_status, ==, 200);
  g_assert_cmpuint (queries[1].decision->formats->len, ==, 0);
  g_assert_cmpuint (query_elapsed_ms (&queries[1]), >=, LT_ON_DEMAND_TIMEOUT_MS - 100);
  g_assert_cmpuint (query_elapsed_ms (&queries[1]), <=, 5500);

  /* The flood is cut at 2048 bytes: too large, and decided long before the timeout. */
  check_decision (queries[2].decision, 200, "OnDemandMalformed", "", "longer than 2048 bytes");
  g_assert_cmpuint (query_elapsed_ms (&queries[2]), <, 2000);

  /* The main loop was never held: the 100 ms timer kept firing the whole time. */
  g_assert_cmpint ((g_get_monotonic_time () - started) / 1000, <=, 5500);
  g_assert_cmpint (ticks[0], >=, 40);
  g_assert_cmpint (ticks[2], <, 400 * 1000);

  for (guint i = 0; i < 3; i++)
    lt_on_demand_decision_free (queries[i].decision);
}

/* Cancelling a query still finishes it, with a decision not to record. */
static void
test_query_cancel (void)
{
  g_autoptr(SoupSession) session = lt_outbound_session_new (30);
  g_autoptr(RawReceiver) silent = raw_receiver_new (RAW_SILENT);
  g_autoptr(GPtrArray) rule_formats = rule_formats_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *url = raw_receiver_url (silent);
  Query query;

  query_start (&query, session, url, rule_formats, cancellable);
  lt_test_spin (200);
  g_assert_null (query.decision);
  g_cancellable_cancel (cancellable);
  lt_test_wait_until (query_is_done, &query, 2000, "the cancelled decision");
  g_assert_false (query.decision->need_record);
  g_assert_cmpuint (query.decision->formats->len, ==, 0);
  g_assert_nonnull (query.decision->reason);
  lt_on_demand_decision_free (query.decision);
}

int
main (int   argc,
      char *argv[])
{
  /* GIO's default proxy resolver would read GNOME's proxy settings, whose schema is not in
   * the test's GSETTINGS_SCHEMA_DIR (a fatal error): loopback needs no proxy. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  lt_test_init (&argc, &argv);

  for (guint i = 0; i < G_N_ELEMENTS (decide_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/on-demand/decide/%s", decide_cases[i].name);

      g_test_add_data_func (path, &decide_cases[i], test_decide);
    }
  g_test_add_func ("/on-demand/decide/exactly-2048", test_decide_2048);
  g_test_add_func ("/on-demand/decide/no-rule-formats", test_decide_no_rule_formats);
  g_test_add_func ("/on-demand/decide/copies-fields", test_decide_copies_fields);
  g_test_add_func ("/on-demand/query/replies", test_query_replies);
  g_test_add_func ("/on-demand/query/query-string", test_query_string);
  g_test_add_func ("/on-demand/query/unreachable", test_query_unreachable);
  g_test_add_func ("/on-demand/query/slow-replies", test_query_slow_replies);
  g_test_add_func ("/on-demand/query/cancel", test_query_cancel);

  return g_test_run ();
}
