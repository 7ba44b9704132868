/* lt-callback-bench.c: the callback queue's figures (bench/bench-callbacks.py runs it).
 *
 *   latency     enqueue → arrival at a fast loopback receiver, callbacks queued at a steady
 *               rate over several streams: p50, p95, max
 *   throughput  N callbacks queued at once (1 stream, and spread over 50 streams) until
 *               the last arrives, against the peer: the same POSTs sent directly with
 *               libsoup, 32 at a time, no queue and no catalog
 *   dead        10,000 callbacks queued for a receiver that refuses connections: RSS, CPU
 *               seconds and the worst main-context delay while the queue waits
 *
 * The receiver is a SoupServer on its own thread and main context, so that it does not
 * share the queue's main loop. One line per figure: "name value unit". */
#include "config.h"

#include <libsoup/soup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lt-callback-queue.h"
#include "lt-catalog.h"

/* ---- the receiver thread ---- */

typedef struct
{
  GMutex      lock;
  GArray     *latencies_us;  /* gint64, arrival − the t in the body */
  guint       n_received;
  guint       port;
  GMainContext *context;
  GMainLoop  *loop;
  GThread    *thread;
  gboolean    ready;
  GCond       ready_cond;
} Receiver;

static void
receiver_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  Receiver *r = user_data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autofree char *text = g_strndup (body->data, body->length);
  const char *t = strstr (text, "\"t\":");
  gint64 now = g_get_real_time ();

  g_mutex_lock (&r->lock);
  if (t != NULL)
    {
      gint64 sent = g_ascii_strtoll (t + 4, NULL, 10);
      gint64 latency = now - sent;
      g_array_append_val (r->latencies_us, latency);
    }
  r->n_received++;
  g_mutex_unlock (&r->lock);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "ok", 2);
}

static gpointer
receiver_thread (gpointer data)
{
  Receiver *r = data;
  g_autoptr(SoupServer) server = NULL;
  GSList *uris;

  g_main_context_push_thread_default (r->context);
  server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, NULL, receiver_cb, r, NULL);
  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, NULL))
    g_error ("cannot listen");
  uris = soup_server_get_uris (server);
  g_mutex_lock (&r->lock);
  r->port = g_uri_get_port (uris->data);
  r->ready = TRUE;
  g_cond_signal (&r->ready_cond);
  g_mutex_unlock (&r->lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_main_loop_run (r->loop);
  soup_server_disconnect (server);
  g_main_context_pop_thread_default (r->context);
  return NULL;
}

static void
receiver_start (Receiver *r)
{
  g_mutex_init (&r->lock);
  g_cond_init (&r->ready_cond);
  r->latencies_us = g_array_new (FALSE, FALSE, sizeof (gint64));
  r->context = g_main_context_new ();
  r->loop = g_main_loop_new (r->context, FALSE);
  r->thread = g_thread_new ("receiver", receiver_thread, r);
  g_mutex_lock (&r->lock);
  while (!r->ready)
    g_cond_wait (&r->ready_cond, &r->lock);
  g_mutex_unlock (&r->lock);
}

static guint
receiver_count (Receiver *r)
{
  guint n;

  g_mutex_lock (&r->lock);
  n = r->n_received;
  g_mutex_unlock (&r->lock);
  return n;
}

static void
receiver_reset (Receiver *r)
{
  g_mutex_lock (&r->lock);
  r->n_received = 0;
  g_array_set_size (r->latencies_us, 0);
  g_mutex_unlock (&r->lock);
}

/* ---- helpers ---- */

static void
iterate_until_count (Receiver *r,
                     guint     n,
                     guint     timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

  while (receiver_count (r) < n)
    {
      if (g_get_monotonic_time () > deadline)
        {
          g_printerr ("timeout: %u of %u arrived\n", receiver_count (r), n);
          exit (1);
        }
      g_main_context_iteration (NULL, TRUE);
    }
}

static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6
         + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

static double
rss_mb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmRSS:");
  return line != NULL ? g_ascii_strtoll (line + 6, NULL, 10) / 1024.0 : 0;
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static void
enqueued_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (lt_callback_queue_enqueue_finish (LT_CALLBACK_QUEUE (source), result, &error) <= 0)
    g_error ("enqueue: %s", error->message);
}

static void
enqueue (LtCallbackQueue *queue,
         const char      *url,
         guint            stream,
         guint            n)
{
  g_autofree char *stream_key = g_strdup_printf ("bench.example/live/s%u", stream);
  g_autofree char *body = g_strdup_printf ("{\"domain\":\"bench.example\",\"app\":\"live\","
                                           "\"stream\":\"s%u\",\"n\":%u,\"t\":%" G_GINT64_FORMAT "}",
                                           stream, n, g_get_real_time ());

  lt_callback_queue_enqueue_async (queue, "bench.example", stream_key, "file", url, body,
                                   NULL, enqueued_cb, NULL);
}

static char *
key_func (const char *domain,
          gpointer    user_data)
{
  return g_strdup ("bench-signing-key");
}

static LtCatalog *
open_catalog (const char *dir,
              const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  LtCatalog *catalog = lt_catalog_new (path);

  if (!lt_catalog_open_sync (catalog, &error))
    g_error ("catalog: %s", error->message);
  return catalog;
}

static LtCallbackQueue *
new_queue (LtCatalog *catalog)
{
  LtCallbackQueue *queue = lt_callback_queue_new (catalog);

  lt_callback_queue_set_key_func (queue, key_func, NULL, NULL);
  lt_callback_queue_start (queue);
  return queue;
}

static void
spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (200);
}

/* ---- the measurements ---- */

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
bench_latency (Receiver   *r,
               const char *dir,
               const char *url,
               guint       count,
               guint       rate)
{
  g_autoptr(LtCatalog) catalog = open_catalog (dir, "latency.db");
  g_autoptr(LtCallbackQueue) queue = new_queue (catalog);
  gint64 start = g_get_monotonic_time ();
  gint64 p50, p95, max;

  receiver_reset (r);
  for (guint i = 0; i < count; i++)
    {
      gint64 due = start + (gint64) i * G_USEC_PER_SEC / rate;

      while (g_get_monotonic_time () < due)
        {
          if (!g_main_context_iteration (NULL, FALSE))
            g_usleep (100);
        }
      enqueue (queue, url, i % 10, i);
    }
  iterate_until_count (r, count, 60);
  g_mutex_lock (&r->lock);
  g_array_sort (r->latencies_us, compare_gint64);
  p50 = g_array_index (r->latencies_us, gint64, r->latencies_us->len / 2);
  p95 = g_array_index (r->latencies_us, gint64, r->latencies_us->len * 95 / 100);
  max = g_array_index (r->latencies_us, gint64, r->latencies_us->len - 1);
  g_mutex_unlock (&r->lock);
  printf ("latency_p50 %.2f ms\nlatency_p95 %.2f ms\nlatency_max %.2f ms\n",
          p50 / 1000.0, p95 / 1000.0, max / 1000.0);
  lt_callback_queue_shutdown (queue);
  lt_catalog_close (catalog);
}

static void
bench_throughput (Receiver   *r,
                  const char *dir,
                  const char *url,
                  guint       count,
                  guint       streams,
                  const char *name)
{
  g_autofree char *db = g_strdup_printf ("%s.db", name);
  g_autoptr(LtCatalog) catalog = open_catalog (dir, db);
  g_autoptr(LtCallbackQueue) queue = new_queue (catalog);
  gint64 start;
  double seconds;

  spin (100);
  receiver_reset (r);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < count; i++)
    enqueue (queue, url, i % streams, i);
  iterate_until_count (r, count, 120);
  seconds = (g_get_monotonic_time () - start) / 1e6;
  printf ("%s %.0f callbacks/s\n", name, count / seconds);
  lt_callback_queue_shutdown (queue);
  lt_catalog_close (catalog);
}

/* The peer: the same POSTs straight through libsoup, 32 in flight, nothing stored. */
typedef struct
{
  SoupSession *session;
  const char  *url;
  guint        next;
  guint        count;
  guint        done;
} Direct;

static void direct_send_next (Direct *d);

static void
direct_sent_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Direct *d = user_data;
  g_autoptr(GBytes) bytes = soup_session_send_and_read_finish (SOUP_SESSION (source), result,
                                                               NULL);
  d->done++;
  direct_send_next (d);
}

static void
direct_send_next (Direct *d)
{
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GBytes) body = NULL;

  if (d->next >= d->count)
    return;
  {
    char *text = g_strdup_printf ("{\"n\":%u}", d->next);
    body = g_bytes_new_take (text, strlen (text));
  }
  d->next++;
  message = soup_message_new ("POST", d->url);
  soup_message_set_request_body_from_bytes (message, "application/json", body);
  soup_session_send_and_read_async (d->session, message, G_PRIORITY_DEFAULT, NULL,
                                    direct_sent_cb, d);
}

static void
bench_direct (Receiver   *r,
              const char *url,
              guint       count)
{
  g_autoptr(SoupSession) session = soup_session_new_with_options ("max-conns", 64,
                                                                   "max-conns-per-host", 32,
                                                                   "proxy-resolver", NULL,
                                                                   NULL);
  Direct d = { session, url, 0, count, 0 };
  gint64 start;
  double seconds;

  receiver_reset (r);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < 32; i++)
    direct_send_next (&d);
  iterate_until_count (r, count, 120);
  seconds = (g_get_monotonic_time () - start) / 1e6;
  printf ("peer_direct_libsoup %.0f callbacks/s\n", count / seconds);
}

static void
bench_dead (const char *dir,
            guint       count,
            guint       streams,
            guint       wait_s)
{
  g_autoptr(LtCatalog) catalog = open_catalog (dir, "dead.db");
  g_autoptr(LtCallbackQueue) queue = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *url = NULL;
  double rss_before, cpu0, cpu1;
  gint64 worst = 0;
  gint64 end;
  guint tick;

  /* A port that refuses connections: bound, never listening. */
  {
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, 0);

    socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                           G_SOCKET_PROTOCOL_TCP, NULL);
    g_socket_bind (socket, addr, FALSE, NULL);
    bound = g_socket_get_local_address (socket, NULL);
    url = g_strdup_printf ("http://127.0.0.1:%u/callback",
                           g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  }

  rss_before = rss_mb ();
  queue = new_queue (catalog);
  /* Queued in batches of 100, as a recording produces them (not 10,000 tasks at once). */
  for (guint i = 0; i < count; i++)
    {
      enqueue (queue, url, i % streams, i);
      if (i % 100 == 99)
        while (lt_callback_queue_get_n_pending (queue) < i + 1)
          g_main_context_iteration (NULL, TRUE);
    }
  while (lt_callback_queue_get_n_pending (queue) < count)
    g_main_context_iteration (NULL, TRUE);
  spin (2000);
  /* CPU first, without the probe's own wake-ups. */
  cpu0 = cpu_seconds ();
  end = g_get_monotonic_time () + (gint64) wait_s * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  cpu1 = cpu_seconds ();
  printf ("dead_%u_streams_cpu %.3f s per %u s (%.2f %%)\n", streams, cpu1 - cpu0, wait_s,
          100 * (cpu1 - cpu0) / wait_s);

  tick = g_timeout_add (10, tick_cb, NULL);
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end)
    {
      gint64 before = g_get_monotonic_time ();

      /* Blocks until something is due (the tick at least, every 10 ms): the time an
       * iteration takes beyond that is the main context's delay. */
      g_main_context_iteration (NULL, TRUE);
      worst = MAX (worst, g_get_monotonic_time () - before);
    }
  g_source_remove (tick);
  printf ("dead_%u_streams_rss_growth %.1f MB\n", streams, rss_mb () - rss_before);
  printf ("dead_%u_streams_rss %.1f MB\n", streams, rss_mb ());
  /* An iteration waits for the 10 ms tick at most; what is beyond is delay. */
  printf ("dead_%u_streams_worst_main_context_delay %.1f ms\n", streams,
          MAX (0, worst - 10000) / 1000.0);
  lt_callback_queue_shutdown (queue);
  lt_catalog_close (catalog);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *dir = NULL;
  g_autofree char *url = NULL;
  const char *what = argc > 1 ? argv[1] : "all";
  Receiver receiver = { 0 };
  guint count = argc > 2 ? atoi (argv[2]) : 5000;

  dir = g_dir_make_tmp ("lt-callback-bench-XXXXXX", NULL);
  receiver_start (&receiver);
  url = g_strdup_printf ("http://127.0.0.1:%u/callback", receiver.port);

  if (g_str_equal (what, "all") || g_str_equal (what, "latency"))
    bench_latency (&receiver, dir, url, 1000, 100);
  if (g_str_equal (what, "all") || g_str_equal (what, "throughput"))
    {
      bench_throughput (&receiver, dir, url, count, 1, "throughput_1_stream");
      bench_throughput (&receiver, dir, url, count, 50, "throughput_50_streams");
      bench_direct (&receiver, url, count);
    }
  /* dead STREAMS: the 10,000 spread over another number of streams (1 … 10000). */
  if (g_str_equal (what, "dead") && argc > 2)
    ;
  else if (g_str_equal (what, "all") || g_str_equal (what, "dead"))
    bench_dead (dir, 10000, 100, 30);
  if (g_str_equal (what, "dead") && argc > 2)
    bench_dead (dir, 10000, count, 30);

  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", dir);
  }
  return 0;
}
