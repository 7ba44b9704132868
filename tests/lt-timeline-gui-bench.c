/* lt-timeline-gui-bench.c: the Timeline page's figures on the big synthetic catalog that
 * `lt-timeline-bench generate` made (bench/bench-timeline.py runs it, under Xvfb).
 *
 *   lt-timeline-gui-bench DIR [--runs 30]
 *
 * snapshot: an LtTimelineView (1200 × 240) in a window, its LtTimelineModel filled the way
 *   the page fills it (lt_timeline_query_coverage over the visible time ± half a span; the
 *   slices when the span is ≤ 3 hours), at zoom levels month (30 d), week, day, hour and
 *   slices (10 min). Per level: the view's snapshot (gtk_widget_snapshot_child after
 *   gtk_widget_queue_draw, so its cached node is rebuilt), while panning by 1 % of the span
 *   between runs, p50/p95; and the whole frame's paint phase (frame clock before-paint →
 *   after-paint: the window's snapshot and the cairo rendering).
 * page: an LtEngine on DIR (no ingest, no API), an LtTimelinePage in a window: from
 *   lt_timeline_page_set_engine() to the first frame painted after the big stream's ranges
 *   (and index files) are loaded — what opening the page on that stream waits for. Repeated
 *   with a new page each run; the first run has the catalog's pages dropped from the OS
 *   page cache.
 * One line per figure: "name value unit".
 */
#include "config.h"

#include <adwaita.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lt-engine.h"
#include "lt-test-gui.h"
#include "lt-timeline-page.h"
#include "lt-timeline-view.h"

#define DOMAIN "bench.example.com"
#define APP    "live"

static gpointer the_result;
static gboolean done;

static void
wait_for (gboolean *flag)
{
  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
  *flag = FALSE;
}

static void
coverage_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  the_result = lt_timeline_query_coverage_finish (LT_CATALOG (source), result, &error);
  if (the_result == NULL)
    g_error ("coverage: %s", error->message);
  done = TRUE;
}

static void
slices_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  the_result = lt_timeline_query_slices_finish (LT_CATALOG (source), result, &error);
  if (the_result == NULL)
    g_error ("slices: %s", error->message);
  done = TRUE;
}

static void
streams_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  the_result = lt_timeline_list_streams_finish (LT_CATALOG (source), result, &error);
  if (the_result == NULL)
    g_error ("streams: %s", error->message);
  done = TRUE;
}

static void
started_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (!lt_engine_start_finish (LT_ENGINE (source), result, &error))
    g_error ("engine: %s", error->message);
  done = TRUE;
}

/* ---- the frame clock ---- */

static gint64 paint_start;
static gint64 last_paint_end;
static double last_paint_ms;
static guint n_paints;

static void
before_paint_cb (GdkFrameClock *clock, gpointer user_data)
{
  paint_start = g_get_monotonic_time ();
}

/* Armed when the data arrives: the end of the first paint after it. */
static gboolean paint_armed;
static gint64 first_paint_end;
static double first_paint_ms;

static void
after_paint_cb (GdkFrameClock *clock, gpointer user_data)
{
  last_paint_end = g_get_monotonic_time ();
  last_paint_ms = (last_paint_end - paint_start) / 1000.0;
  if (paint_armed)
    {
      first_paint_end = last_paint_end;
      first_paint_ms = last_paint_ms;
      paint_armed = FALSE;
    }
  last_paint_ms = (last_paint_end - paint_start) / 1000.0;
  n_paints++;
}

static void
watch_frames (GtkWidget *window)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (window);

  g_signal_connect (clock, "before-paint", G_CALLBACK (before_paint_cb), NULL);
  g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), NULL);
}

/* Iterates until a frame was painted (after the call). */
static void
wait_paint (void)
{
  guint n = n_paints;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (n_paints == n)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("no frame painted in 10 s");
      g_main_context_iteration (NULL, TRUE);
    }
}

/* CPU ms of the process (every thread: the catalog worker does the queries). */
static double
cpu_ms (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3
         + usage.ru_stime.tv_sec * 1e3 + usage.ru_stime.tv_usec / 1e3;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
report (const char *name,
        GArray     *values)
{
  double *v = (double *) (gpointer) values->data;
  guint n = values->len;

  g_array_sort (values, compare_double);
  printf ("%s_p50 %.3f ms\n", name, v[n / 2]);
  printf ("%s_p95 %.3f ms\n", name, v[MIN (n - 1, (guint) (n * 0.95))]);
  printf ("%s_max %.3f ms\n", name, v[n - 1]);
  fflush (stdout);
}

/* Fills @model for its visible time as the page does. */
static void
load_model (LtCatalog       *catalog,
            LtTimelineModel *model)
{
  gint64 start = lt_timeline_model_get_visible_start (model);
  gint64 end = lt_timeline_model_get_visible_end (model);
  gint64 span = end - start;
  gint64 bs = lt_timeline_model_get_bounds_start (model);
  gint64 be = lt_timeline_model_get_bounds_end (model);

  lt_timeline_query_coverage_async (catalog, DOMAIN, APP, "big", MAX (start - span / 2, bs),
                                    MIN (end + span / 2, be), NULL, coverage_cb, NULL);
  wait_for (&done);
  lt_timeline_model_set_ranges (model, the_result);
  g_ptr_array_unref (the_result);
  if (span <= LT_TIMELINE_MODEL_SLICE_SPAN_US)
    {
      lt_timeline_query_slices_async (catalog, DOMAIN, APP, "big", MAX (start - span / 4, bs),
                                      MIN (end + span / 4, be), 4000, NULL, slices_cb, NULL);
      wait_for (&done);
      lt_timeline_model_set_slices (model, the_result);
      g_array_unref (the_result);
    }
  else
    lt_timeline_model_set_slices (model, NULL);
}

static void
bench_snapshot (const char *dir,
                guint       runs)
{
  g_autofree char *db_path = g_build_filename (dir, "catalog.db", NULL);
  g_autoptr(LtCatalog) catalog = lt_catalog_new (db_path);
  g_autoptr(GError) error = NULL;
  g_autoptr(LtTimelineModel) model = lt_timeline_model_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = lt_timeline_view_new ();
  LtTimelineStream *big = NULL;
  g_autoptr(GPtrArray) streams = NULL;
  struct { const char *name; gint64 span; } levels[] = {
    { "month", 30 * G_TIME_SPAN_DAY },
    { "week", 7 * G_TIME_SPAN_DAY },
    { "day", G_TIME_SPAN_DAY },
    { "hour", G_TIME_SPAN_HOUR },
    { "slices", 10 * G_TIME_SPAN_MINUTE },
  };

  if (!lt_catalog_open_sync (catalog, &error))
    g_error ("catalog: %s", error->message);
  lt_timeline_list_streams_async (catalog, NULL, streams_cb, NULL);
  wait_for (&done);
  streams = the_result;
  for (guint i = 0; i < streams->len; i++)
    if (g_str_equal (((LtTimelineStream *) streams->pdata[i])->stream, "big"))
      big = streams->pdata[i];
  g_assert (big != NULL);

  lt_timeline_model_set_now (model, big->last_us + 10 * G_TIME_SPAN_MINUTE);
  lt_timeline_model_set_bounds (model, big->first_us - G_TIME_SPAN_HOUR,
                                big->last_us + G_TIME_SPAN_HOUR);
  lt_timeline_view_set_model (LT_TIMELINE_VIEW (view), model);
  gtk_widget_set_size_request (view, 1200, 240);
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 240);
  gtk_window_present (GTK_WINDOW (window));
  watch_frames (window);
  wait_paint ();

  for (guint l = 0; l < G_N_ELEMENTS (levels); l++)
    {
      g_autoptr(GArray) snaps = g_array_new (FALSE, FALSE, sizeof (double));
      g_autoptr(GArray) frames = g_array_new (FALSE, FALSE, sizeof (double));
      g_autofree char *snap_name = g_strdup_printf ("snapshot_%s", levels[l].name);
      g_autofree char *frame_name = g_strdup_printf ("frame_%s", levels[l].name);
      /* Mid-way in the last weeks (where the data is densest and the 50 others record). */
      gint64 centre = big->last_us - 3 * G_TIME_SPAN_DAY - 7 * G_TIME_SPAN_HOUR;
      GPtrArray *ranges;
      GArray *slices;

      lt_timeline_model_set_visible (model, centre - levels[l].span / 2,
                                     centre + levels[l].span / 2);
      load_model (catalog, model);
      gtk_widget_queue_draw (view);
      wait_paint ();
      ranges = lt_timeline_model_get_ranges (model);
      slices = lt_timeline_model_get_slices (model);
      printf ("%s_ranges %u ranges\n", snap_name, ranges != NULL ? ranges->len : 0);
      printf ("%s_slices %u slices\n", snap_name, slices != NULL ? slices->len : 0);

      for (guint i = 0; i < runs; i++)
        {
          GtkSnapshot *snapshot;
          GskRenderNode *node;
          gint64 t0;
          double ms;

          /* Panning: each run draws a slightly different time, as while dragging. */
          lt_timeline_model_pan (model, (i % 2 == 0 ? 1 : -1) * levels[l].span / 100);
          gtk_widget_queue_draw (view);
          t0 = g_get_monotonic_time ();
          snapshot = gtk_snapshot_new ();
          gtk_widget_snapshot_child (window, view, snapshot);
          node = gtk_snapshot_free_to_node (snapshot);
          ms = (g_get_monotonic_time () - t0) / 1000.0;
          g_array_append_val (snaps, ms);
          g_clear_pointer (&node, gsk_render_node_unref);

          /* And the real frame: the window's snapshot and its rendering. */
          lt_timeline_model_pan (model, (i % 2 == 0 ? 1 : -1) * levels[l].span / 200);
          gtk_widget_queue_draw (view);
          wait_paint ();
          g_array_append_val (frames, last_paint_ms);
        }
      /* The snapshot really ran: it labelled the axis. */
      if (_lt_timeline_view_get_n_labels (LT_TIMELINE_VIEW (view)) == 0)
        g_error ("the view labelled nothing at %s zoom", levels[l].name);
      printf ("%s_labels %u labels\n", snap_name,
              _lt_timeline_view_get_n_labels (LT_TIMELINE_VIEW (view)));
      report (snap_name, snaps);
      report (frame_name, frames);
    }

  gtk_window_destroy (GTK_WINDOW (window));
  lt_catalog_close (catalog);
}

static guint n_visible_changes;
static guint n_data_changes;

static void
count_cb (LtTimelineModel *model,
          gpointer         counter)
{
  (*(guint *) counter)++;
}

static void
drop_os_cache (const char *db_path)
{
  const char *suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *path = g_strconcat (db_path, suffixes[i], NULL);
      int fd = open (path, O_RDONLY);

      if (fd >= 0)
        {
          posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED);
          close (fd);
        }
    }
}

static void
bench_page (const char *dir,
            guint       runs)
{
  g_autofree char *db_path = g_build_filename (dir, "catalog.db", NULL);
  g_autoptr(GArray) opens = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) listed = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) selects = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) datas = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) idles = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) cpus = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) firsts = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(LtEngine) engine = NULL;
  double cold = 0;

  drop_os_cache (db_path);
  engine = lt_engine_new (dir);
  lt_engine_set_api_listen (engine, NULL);
  lt_engine_set_ingest_enabled (engine, FALSE);
  lt_engine_start_async (engine, NULL, started_cb, NULL);
  wait_for (&done);

  for (guint i = 0; i < runs + 1; i++)
    {
      GtkWidget *window = gtk_window_new ();
      GtkWidget *page = lt_timeline_page_new ();
      LtTimelineModel *model;
      gint64 t0, t_listed = 0, t_ranges = 0, t_idle = 0;
      double cpu0, cpu_open = 0;
      double ms;

      gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
      gtk_window_set_child (GTK_WINDOW (window), page);
      gtk_window_present (GTK_WINDOW (window));
      watch_frames (window);
      wait_paint ();
      if (i == 0)
        drop_os_cache (db_path);

      t0 = g_get_monotonic_time ();
      cpu0 = cpu_ms ();
      lt_timeline_page_set_engine (LT_TIMELINE_PAGE (page), engine);
      model = _lt_timeline_page_get_model (LT_TIMELINE_PAGE (page));
      /* The page picks the most recently recorded stream by itself; the big one is picked
       * here once the list is in. */
      while (g_strcmp0 (_lt_timeline_page_get_state (LT_TIMELINE_PAGE (page)), "loading") == 0)
        g_main_context_iteration (NULL, TRUE);
      t_listed = g_get_monotonic_time ();
      n_visible_changes = n_data_changes = 0;
      g_signal_connect (model, "visible-changed", G_CALLBACK (count_cb), &n_visible_changes);
      g_signal_connect (model, "data-changed", G_CALLBACK (count_cb), &n_data_changes);
      if (!_lt_timeline_page_select_stream (LT_TIMELINE_PAGE (page), DOMAIN "/" APP "/big"))
        g_error ("the page does not offer the big stream");
      t_ranges = 0;
      while (_lt_timeline_page_is_loading (LT_TIMELINE_PAGE (page)) ||
             lt_timeline_model_get_ranges (model) == NULL ||
             lt_timeline_model_get_ranges (model)->len == 0)
        {
          g_main_context_iteration (NULL, TRUE);
          if (t_ranges == 0 && lt_timeline_model_get_ranges (model) != NULL &&
              lt_timeline_model_get_ranges (model)->len > 0)
            {
              t_ranges = g_get_monotonic_time ();
              first_paint_end = 0;
              paint_armed = TRUE;
            }
        }
      t_idle = g_get_monotonic_time ();
      if (t_ranges == 0)
        {
          t_ranges = g_get_monotonic_time ();
          first_paint_end = 0;
          paint_armed = TRUE;
        }
      while (first_paint_end == 0)
        g_main_context_iteration (NULL, TRUE);
      cpu_open = cpu_ms () - cpu0;
      /* The first frame that shows them. */
      ms = (first_paint_end - t0) / 1000.0;
      if (i == 0)
        cold = ms;
      else
        {
          double l = (t_listed - t0) / 1000.0;
          double sel = (first_paint_end - t_listed) / 1000.0;
          double idle = (t_idle - t_listed) / 1000.0;
          double data = (t_ranges - t_listed) / 1000.0;

          g_array_append_val (opens, ms);
          g_array_append_val (listed, l);
          g_array_append_val (selects, sel);
          g_array_append_val (datas, data);
          g_array_append_val (idles, idle);
          g_array_append_val (cpus, cpu_open);
          g_array_append_val (firsts, first_paint_ms);
        }
      if (i == 0)
        printf ("page_ranges %u ranges\n", lt_timeline_model_get_ranges (model)->len);
      if (i == 1)
        printf ("page_index_rows %u rows\n",
                _lt_timeline_page_count_index_rows (LT_TIMELINE_PAGE (page)));
      if (i == 1)
        printf ("page_visible_changes %u signals\npage_data_changes %u signals\n",
                n_visible_changes, n_data_changes);
      gtk_window_destroy (GTK_WINDOW (window));
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  printf ("page_open_cold_p50 %.3f ms\npage_open_cold_max %.3f ms\n", cold, cold);
  report ("page_open", opens);
  report ("page_listed", listed);
  report ("page_select", selects);
  report ("page_select_ranges", datas);
  report ("page_select_idle", idles);
  report ("page_open_cpu", cpus);
  report ("page_first_frame", firsts);
  lt_engine_shutdown (engine);
}

int
main (int    argc,
      char **argv)
{
  guint runs = 30;

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s DIR [--runs N]\n", argv[0]);
      return 2;
    }
  if (argc >= 4 && g_str_equal (argv[2], "--runs"))
    runs = MAX ((guint) g_ascii_strtoull (argv[3], NULL, 10), 3);

  gtk_init ();
  adw_init ();
  lt_test_gui_load_style ();
  bench_snapshot (argv[1], runs);
  bench_page (argv[1], MAX (runs / 3, 5));
  return 0;
}
