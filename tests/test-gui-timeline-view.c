/* test-gui-timeline-view.c: the Timeline page's model (LtTimelineModel, no display needed)
 * and its time-axis widget (LtTimelineView) in a real window under Xvfb.
 *
 * - The model clamps visible time to its bounds and spans, zooms around an anchor, pans,
 *   snaps to slice and range boundaries, finds the range at a time (a recording one
 *   reaches "now"), orders and clamps the selection and zooms to it.
 * - The view: Ctrl+scroll zooms at the pointer, plain scroll pans, +/−, arrows, Home/End,
 *   Shift+arrows and Escape work; a drag on the ranges selects, snapping to slice
 *   boundaries; a drag on the axis pans; a click selects the range under it; the hover
 *   text names a range's local times, duration and end cause, and a gap's cause; axis
 *   labels are local times and follow the zoom (days for a month, seconds for slices).
 * - Screenshots (light, dark, zh_CN) of a month, an hour with slices and a selection, and
 *   of a drag; snapshot timings of a month of ranges and 2000 slices (TAP comments).
 *
 * Input is driven through the view's own event controllers, found by name, by emitting
 * the signals GTK emits for real events ("scroll", "key-pressed", "modifiers", "motion",
 * "drag-begin/update/end"): GTK 4 has no public way to synthesise events, and Xvfb's
 * XTEST has no headers on the build machine. The handlers then run exactly as for a
 * real event (Ctrl+scroll takes Ctrl from the key controller's "modifiers" signal, as it
 * does when the view has the focus). */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n-lib.h>
#include <locale.h>
#include <math.h>
#include <string.h>

#include "lt-test-gui.h"
#include "lt-test-utils.h"
#include "lt-timeline-model.h"
#include "lt-timeline-view.h"

#define MIN_US  G_TIME_SPAN_MINUTE
#define HOUR_US G_TIME_SPAN_HOUR
#define DAY_US  G_TIME_SPAN_DAY
#define SLICE_US (6 * G_TIME_SPAN_SECOND)

/* 2026-11-21 12:00:00 UTC, 17:30 in Kolkata (the tests' TZ: +05:30, no DST). */
#define NOW_US (G_GINT64_CONSTANT (1795262400) * G_USEC_PER_SEC)

/* Data */

static LtTimelineRange *
make_range (gint64      start_us,
            gint64      end_us,
            const char *end_reason)
{
  LtTimelineRange *range = g_new0 (LtTimelineRange, 1);

  range->start_us = start_us;
  range->end_us = end_us;
  range->duration_us = end_us - start_us;
  range->n_slices = (guint) ((end_us - start_us) / SLICE_US);
  range->end_reason = g_strdup (end_reason);
  range->target = g_strdup ("local");
  return range;
}

/* Several sessions over a month: one a day for weeks, then the last days with every
 * cause, and the newest still recording (catalogued up to ten minutes ago). */
static GPtrArray *
make_ranges (void)
{
  GPtrArray *ranges = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_timeline_range_free);

  for (int day = 30; day >= 4; day--)
    {
      gint64 start = NOW_US - day * DAY_US - 4 * HOUR_US;

      g_ptr_array_add (ranges, make_range (start, start + 10 * HOUR_US,
                                           day % 3 == 0 ? "schedule_end" : "offline"));
    }
  g_ptr_array_add (ranges, make_range (NOW_US - 3 * DAY_US, NOW_US - 3 * DAY_US + 5 * HOUR_US,
                                       "crash"));
  g_ptr_array_add (ranges, make_range (NOW_US - 2 * DAY_US, NOW_US - 2 * DAY_US + 8 * HOUR_US,
                                       "merge_window_expired"));
  g_ptr_array_add (ranges, make_range (NOW_US - DAY_US, NOW_US - DAY_US + 2 * HOUR_US,
                                       "disk_full"));
  g_ptr_array_add (ranges, make_range (NOW_US - 5 * HOUR_US, NOW_US - 3 * HOUR_US,
                                       "manual_stop"));
  g_ptr_array_add (ranges, make_range (NOW_US - 2 * HOUR_US, NOW_US - 90 * MIN_US, "error"));
  g_ptr_array_add (ranges, make_range (NOW_US - 80 * MIN_US, NOW_US - 60 * MIN_US, "offline"));
  g_ptr_array_add (ranges, make_range (NOW_US - 50 * MIN_US, NOW_US - 10 * MIN_US,
                                       "recording"));
  return ranges;
}

/* 6-second slices of [start, end), each 0.2 s short of the next (arrival jitter). */
static GArray *
make_slices (gint64 start_us,
             gint64 end_us)
{
  GArray *slices = g_array_new (FALSE, TRUE, sizeof (LtTimelineSlice));

  for (gint64 t = start_us; t < end_us; t += SLICE_US)
    {
      LtTimelineSlice slice = { t, SLICE_US - 200 * G_TIME_SPAN_MILLISECOND, 1 };

      g_array_append_val (slices, slice);
    }
  return slices;
}

static LtIndexFile *
make_mark (gint64 start_us,
           gint64 end_us)
{
  LtIndexFile *file = g_new0 (LtIndexFile, 1);

  file->record_id = g_uuid_string_random ();
  file->domain = g_strdup ("example.com");
  file->app = g_strdup ("live");
  file->stream = g_strdup ("cam");
  file->start_time_us = start_us;
  file->end_time_us = end_us;
  file->duration_us = end_us - start_us;
  return file;
}

static LtTimelineModel *
make_model (void)
{
  LtTimelineModel *model = lt_timeline_model_new ();
  g_autoptr(GPtrArray) ranges = make_ranges ();
  g_autoptr(GPtrArray) marks = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_index_file_free);

  lt_timeline_model_set_now (model, NOW_US);
  lt_timeline_model_set_bounds (model, NOW_US - 35 * DAY_US, NOW_US + HOUR_US);
  lt_timeline_model_set_ranges (model, ranges);
  g_ptr_array_add (marks, make_mark (NOW_US - 4 * HOUR_US, NOW_US - 3 * HOUR_US - 20 * MIN_US));
  g_ptr_array_add (marks, make_mark (NOW_US - 2 * HOUR_US + 10 * MIN_US,
                                     NOW_US - 2 * HOUR_US + 20 * MIN_US));
  lt_timeline_model_set_marks (model, marks);
  return model;
}

/* Shows the error session (two hours ago) and its slices. */
static void
show_slices (LtTimelineModel *model,
             gint64           start_us,
             gint64           end_us)
{
  g_autoptr(GArray) slices = make_slices (NOW_US - 2 * HOUR_US, NOW_US - 90 * MIN_US);

  lt_timeline_model_set_visible (model, start_us, end_us);
  lt_timeline_model_set_slices (model, slices);
}

static gint64
visible_span (LtTimelineModel *model)
{
  return lt_timeline_model_get_visible_end (model) - lt_timeline_model_get_visible_start (model);
}

static void
count_cb (guint *count)
{
  (*count)++;
}

/* The model */

static void
test_model_clamp (void)
{
  g_autoptr(LtTimelineModel) model = lt_timeline_model_new ();
  gint64 bs = NOW_US - 35 * DAY_US, be = NOW_US;
  guint visible_changed = 0, notifies = 0;

  /* The default: the 35 days up to now, all visible. */
  g_assert_cmpint (lt_timeline_model_get_bounds_end (model)
                   - lt_timeline_model_get_bounds_start (model), ==, 35 * DAY_US);
  g_assert_cmpint (visible_span (model), ==, LT_TIMELINE_MODEL_MAX_SPAN_US);

  lt_timeline_model_set_bounds (model, bs, be);
  g_signal_connect_swapped (model, "visible-changed", G_CALLBACK (count_cb), &visible_changed);
  g_signal_connect_swapped (model, "notify::visible-start", G_CALLBACK (count_cb), &notifies);

  /* Too narrow: widened to the minimum around its middle. */
  lt_timeline_model_set_visible (model, NOW_US - DAY_US, NOW_US - DAY_US + G_TIME_SPAN_SECOND);
  g_assert_cmpint (visible_span (model), ==, LT_TIMELINE_MODEL_MIN_SPAN_US);
  g_assert_cmpint (lt_timeline_model_get_visible_start (model), ==,
                   NOW_US - DAY_US + G_TIME_SPAN_SECOND / 2 - LT_TIMELINE_MODEL_MIN_SPAN_US / 2);
  g_assert_cmpuint (visible_changed, ==, 1);
  g_assert_cmpuint (notifies, ==, 1);

  /* The same again: no signal. */
  lt_timeline_model_set_visible (model, lt_timeline_model_get_visible_start (model),
                                 lt_timeline_model_get_visible_end (model));
  g_assert_cmpuint (visible_changed, ==, 1);

  /* Too wide: the bounds. Past the end: moved back inside, span kept. */
  lt_timeline_model_set_visible (model, bs - 10 * DAY_US, be + 10 * DAY_US);
  g_assert_cmpint (lt_timeline_model_get_visible_start (model), ==, bs);
  g_assert_cmpint (lt_timeline_model_get_visible_end (model), ==, be);
  lt_timeline_model_set_visible (model, be - HOUR_US, be + HOUR_US);
  g_assert_cmpint (lt_timeline_model_get_visible_end (model), ==, be);
  g_assert_cmpint (visible_span (model), ==, 2 * HOUR_US);

  /* Pan is clamped at both ends. */
  lt_timeline_model_pan (model, -HOUR_US);
  g_assert_cmpint (lt_timeline_model_get_visible_end (model), ==, be - HOUR_US);
  lt_timeline_model_pan (model, 100 * DAY_US);
  g_assert_cmpint (lt_timeline_model_get_visible_end (model), ==, be);
  lt_timeline_model_pan (model, -100 * DAY_US);
  g_assert_cmpint (lt_timeline_model_get_visible_start (model), ==, bs);
  g_assert_cmpint (visible_span (model), ==, 2 * HOUR_US);

  /* Narrower bounds clamp visible time and the selection. */
  lt_timeline_model_set_selection (model, bs, bs + 3 * DAY_US);
  lt_timeline_model_set_bounds (model, bs + DAY_US, bs + 2 * DAY_US);
  g_assert_cmpint (lt_timeline_model_get_visible_start (model), >=, bs + DAY_US);
  {
    gint64 s, e;

    g_assert_true (lt_timeline_model_get_selection (model, &s, &e));
    g_assert_cmpint (s, ==, bs + DAY_US);
    g_assert_cmpint (e, ==, bs + 2 * DAY_US);
  }
  /* Bounds narrower than the minimum span: all of them. */
  lt_timeline_model_set_bounds (model, bs, bs + G_TIME_SPAN_SECOND);
  g_assert_cmpint (visible_span (model), ==, G_TIME_SPAN_SECOND);
}

static void
test_model_zoom (void)
{
  g_autoptr(LtTimelineModel) model = make_model ();
  gint64 anchor = NOW_US - 6 * HOUR_US;
  gint64 start = NOW_US - 10 * HOUR_US, end = NOW_US - 2 * HOUR_US;
  double fraction_before, fraction_after;

  lt_timeline_model_set_visible (model, start, end);
  fraction_before = (double) (anchor - start) / (double) (end - start);
  lt_timeline_model_zoom (model, 4, anchor);
  g_assert_cmpint (visible_span (model), ==, 2 * HOUR_US);
  fraction_after = (double) (anchor - lt_timeline_model_get_visible_start (model))
                   / (double) visible_span (model);
  g_assert_cmpfloat_with_epsilon (fraction_before, fraction_after, 1e-6);

  /* An anchor off centre keeps its place too. */
  anchor = lt_timeline_model_get_visible_start (model) + visible_span (model) / 4;
  lt_timeline_model_zoom (model, 2, anchor);
  g_assert_cmpint (anchor - lt_timeline_model_get_visible_start (model), ==,
                   visible_span (model) / 4);
  lt_timeline_model_zoom (model, 0.5, anchor);
  g_assert_cmpint (visible_span (model), ==, 2 * HOUR_US);

  /* Clamped to the narrowest and widest spans. */
  lt_timeline_model_zoom (model, 1e6, anchor);
  g_assert_cmpint (visible_span (model), ==, LT_TIMELINE_MODEL_MIN_SPAN_US);
  g_assert_cmpint (lt_timeline_model_get_visible_start (model), <=, anchor);
  g_assert_cmpint (lt_timeline_model_get_visible_end (model), >=, anchor);
  lt_timeline_model_zoom (model, 1e-6, anchor);
  g_assert_cmpint (visible_span (model), ==, LT_TIMELINE_MODEL_MAX_SPAN_US);

  /* Zoom to the selection: all of it, with a margin. */
  lt_timeline_model_zoom_to_selection (model);
  g_assert_cmpint (visible_span (model), ==, LT_TIMELINE_MODEL_MAX_SPAN_US);
  lt_timeline_model_set_selection (model, NOW_US - 5 * HOUR_US, NOW_US - 3 * HOUR_US);
  lt_timeline_model_zoom_to_selection (model);
  g_assert_cmpint (lt_timeline_model_get_visible_start (model), <, NOW_US - 5 * HOUR_US);
  g_assert_cmpint (lt_timeline_model_get_visible_end (model), >, NOW_US - 3 * HOUR_US);
  g_assert_cmpint (visible_span (model), <, 3 * HOUR_US);
}

static void
test_model_snap_and_range_at (void)
{
  g_autoptr(LtTimelineModel) model = make_model ();
  gint64 slice_start = NOW_US - 2 * HOUR_US + 10 * SLICE_US;
  gint64 slice_end = slice_start + SLICE_US - 200 * G_TIME_SPAN_MILLISECOND;
  const LtTimelineRange *range;

  /* Without slices: range boundaries only. */
  g_assert_cmpint (lt_timeline_model_snap (model, NOW_US - 5 * HOUR_US + 3 * G_TIME_SPAN_SECOND,
                                           5 * G_TIME_SPAN_SECOND), ==, NOW_US - 5 * HOUR_US);
  g_assert_cmpint (lt_timeline_model_snap (model, NOW_US - 4 * HOUR_US, G_TIME_SPAN_SECOND),
                   ==, NOW_US - 4 * HOUR_US);

  show_slices (model, NOW_US - 2 * HOUR_US - 5 * MIN_US, NOW_US - 90 * MIN_US);
  /* Nearest slice boundary: a start, an end, the nearer of two. */
  g_assert_cmpint (lt_timeline_model_snap (model, slice_start + 1000,
                                           500 * G_TIME_SPAN_MILLISECOND),
                   ==, slice_start);
  g_assert_cmpint (lt_timeline_model_snap (model, slice_end - 1000, 500 * G_TIME_SPAN_MILLISECOND),
                   ==, slice_end);
  g_assert_cmpint (lt_timeline_model_snap (model, slice_end + 150 * G_TIME_SPAN_MILLISECOND,
                                           G_TIME_SPAN_SECOND),
                   ==, slice_end + 200 * G_TIME_SPAN_MILLISECOND);
  /* Out of tolerance: unchanged. */
  g_assert_cmpint (lt_timeline_model_snap (model, slice_start + 3 * G_TIME_SPAN_SECOND,
                                           G_TIME_SPAN_SECOND),
                   ==, slice_start + 3 * G_TIME_SPAN_SECOND);
  /* Before the first and after the last slice. */
  g_assert_cmpint (lt_timeline_model_snap (model, NOW_US - 2 * HOUR_US - 1000, 5000),
                   ==, NOW_US - 2 * HOUR_US);

  /* range_at: inside, at the edges, in a gap, before everything, the live tail. */
  range = lt_timeline_model_range_at (model, NOW_US - 4 * HOUR_US);
  g_assert_nonnull (range);
  g_assert_cmpstr (range->end_reason, ==, "manual_stop");
  g_assert_true (lt_timeline_model_range_at (model, NOW_US - 5 * HOUR_US) == range);
  g_assert_null (lt_timeline_model_range_at (model, NOW_US - 3 * HOUR_US));
  g_assert_null (lt_timeline_model_range_at (model, NOW_US - 150 * MIN_US));
  g_assert_null (lt_timeline_model_range_at (model, NOW_US - 34 * DAY_US));
  range = lt_timeline_model_range_at (model, NOW_US - 5 * MIN_US);
  g_assert_nonnull (range);
  g_assert_cmpstr (range->end_reason, ==, "recording");
  g_assert_cmpint (lt_timeline_model_get_range_end (model, range), ==, NOW_US);
  g_assert_null (lt_timeline_model_range_at (model, NOW_US + MIN_US));
  /* Snapping reaches the live edge too. */
  g_assert_cmpint (lt_timeline_model_snap (model, NOW_US - 1000, 5000), ==, NOW_US);
}

static void
test_model_selection (void)
{
  g_autoptr(LtTimelineModel) model = make_model ();
  guint changed = 0, notified = 0;
  gint64 s = 0, e = 0;

  g_signal_connect_swapped (model, "selection-changed", G_CALLBACK (count_cb), &changed);
  g_signal_connect_swapped (model, "notify::has-selection", G_CALLBACK (count_cb), &notified);

  g_assert_false (lt_timeline_model_get_selection (model, &s, &e));
  /* Ordered. */
  lt_timeline_model_set_selection (model, NOW_US - HOUR_US, NOW_US - 2 * HOUR_US);
  g_assert_true (lt_timeline_model_get_selection (model, &s, &e));
  g_assert_cmpint (s, ==, NOW_US - 2 * HOUR_US);
  g_assert_cmpint (e, ==, NOW_US - HOUR_US);
  g_assert_cmpuint (changed, ==, 1);
  g_assert_cmpuint (notified, ==, 1);
  /* Same again: nothing. Moved: changed, still selected. */
  lt_timeline_model_set_selection (model, NOW_US - 2 * HOUR_US, NOW_US - HOUR_US);
  g_assert_cmpuint (changed, ==, 1);
  lt_timeline_model_set_selection (model, NOW_US - 2 * HOUR_US, NOW_US);
  g_assert_cmpuint (changed, ==, 2);
  g_assert_cmpuint (notified, ==, 1);
  /* Clamped to the bounds. */
  lt_timeline_model_set_selection (model, NOW_US - 2 * HOUR_US, NOW_US + 10 * DAY_US);
  g_assert_true (lt_timeline_model_get_selection (model, &s, &e));
  g_assert_cmpint (e, ==, NOW_US + HOUR_US);
  /* Empty: none. */
  lt_timeline_model_set_selection (model, NOW_US, NOW_US);
  g_assert_false (lt_timeline_model_get_selection (model, NULL, NULL));
  g_assert_cmpuint (notified, ==, 2);
  lt_timeline_model_set_selection (model, NOW_US - HOUR_US, NOW_US);
  lt_timeline_model_clear_selection (model);
  g_assert_false (lt_timeline_model_get_selection (model, NULL, NULL));
  g_assert_cmpuint (notified, ==, 4);
}

/* The view */

typedef struct
{
  GtkWindow       *window;
  LtTimelineView  *view;
  LtTimelineModel *model;
} Fixture;

static gboolean
view_allocated (gpointer data)
{
  Fixture *fixture = data;

  return gtk_widget_get_width (GTK_WIDGET (fixture->view)) >= 800
         && gtk_widget_get_mapped (GTK_WIDGET (fixture->view));
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  fixture->model = make_model ();
  fixture->window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (fixture->window, 900, 260);
  fixture->view = LT_TIMELINE_VIEW (lt_timeline_view_new ());
  lt_timeline_view_set_model (fixture->view, fixture->model);
  g_assert_true (lt_timeline_view_get_model (fixture->view) == fixture->model);
  gtk_window_set_child (fixture->window, GTK_WIDGET (fixture->view));
  gtk_window_present (fixture->window);
  lt_test_wait_until (view_allocated, fixture, 5000, "the view to be shown");
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  gtk_window_destroy (fixture->window);
  lt_test_spin (50);
  g_assert_finalize_object (fixture->model);
}

static GtkEventController *
find_controller (GtkWidget  *widget,
                 const char *name)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (g_strcmp0 (gtk_event_controller_get_name (controller), name) == 0)
        return controller;
    }
  g_assert_not_reached ();
}

static gboolean
press_key (Fixture         *fixture,
           guint            keyval,
           GdkModifierType  state)
{
  GtkEventController *keys = find_controller (GTK_WIDGET (fixture->view), "lt-timeline-key");
  gboolean handled = FALSE;

  g_signal_emit_by_name (keys, "key-pressed", keyval, 0, state, &handled);
  return handled;
}

static void
scroll (Fixture *fixture,
        double   dx,
        double   dy)
{
  GtkEventController *scroller = find_controller (GTK_WIDGET (fixture->view),
                                                  "lt-timeline-scroll");
  gboolean handled = FALSE;

  g_signal_emit_by_name (scroller, "scroll", dx, dy, &handled);
  g_assert_true (handled);
}

static void
set_modifiers (Fixture         *fixture,
               GdkModifierType  state)
{
  GtkEventController *keys = find_controller (GTK_WIDGET (fixture->view), "lt-timeline-key");
  gboolean handled = FALSE;

  g_signal_emit_by_name (keys, "modifiers", state, &handled);
}

static void
move_pointer (Fixture *fixture,
              double   x,
              double   y)
{
  GtkEventController *motion = find_controller (GTK_WIDGET (fixture->view),
                                                "lt-timeline-motion");

  g_signal_emit_by_name (motion, "motion", x, y);
}

static void
drag (Fixture *fixture,
      double   x,
      double   y,
      double   to_x,
      gboolean finish)
{
  GtkEventController *gesture = find_controller (GTK_WIDGET (fixture->view),
                                                 "lt-timeline-drag");

  g_signal_emit_by_name (gesture, "drag-begin", x, y);
  if (to_x != x)
    {
      g_signal_emit_by_name (gesture, "drag-update", (to_x - x) / 2, 0.0);
      g_signal_emit_by_name (gesture, "drag-update", to_x - x, 0.0);
    }
  if (finish)
    g_signal_emit_by_name (gesture, "drag-end", to_x - x, 0.0);
}

/* Draws the view once (a real frame) so that its labels are current. */
static void
draw_once (Fixture *fixture)
{
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;

  GTK_WIDGET_GET_CLASS (fixture->view)->snapshot (GTK_WIDGET (fixture->view), snapshot);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
}

static void
test_view_zoom_input (Fixture       *fixture,
                      gconstpointer  user_data)
{
  LtTimelineModel *model = fixture->model;
  gint64 span, anchor, start;
  double x = 300;

  g_assert_true (gtk_widget_get_focusable (GTK_WIDGET (fixture->view)));
  g_assert_true (gtk_widget_grab_focus (GTK_WIDGET (fixture->view)));
  lt_timeline_model_set_visible (model, NOW_US - 8 * HOUR_US, NOW_US - 2 * HOUR_US);

  /* Ctrl+wheel up at x = 300 zooms in there: that time stays under the pointer. */
  move_pointer (fixture, x, _lt_timeline_view_lane_y (fixture->view));
  anchor = _lt_timeline_view_x_to_time (fixture->view, x);
  span = visible_span (model);
  set_modifiers (fixture, GDK_CONTROL_MASK);
  scroll (fixture, 0, -1);
  g_assert_cmpint (visible_span (model), <, span);
  g_assert_cmpfloat_with_epsilon ((double) visible_span (model), span / 1.25, span * 1e-6);
  g_assert_cmpfloat_with_epsilon (_lt_timeline_view_time_to_x (fixture->view, anchor), x, 0.5);
  /* Down zooms back out. */
  scroll (fixture, 0, 1);
  g_assert_cmpfloat_with_epsilon ((double) visible_span (model), span, span * 1e-6);
  /* No further than the widest span, nor closer than the narrowest. */
  for (int i = 0; i < 40; i++)
    scroll (fixture, 0, 1);
  g_assert_cmpint (visible_span (model), ==, LT_TIMELINE_MODEL_MAX_SPAN_US);
  for (int i = 0; i < 80; i++)
    scroll (fixture, 0, -1);
  g_assert_cmpint (visible_span (model), ==, LT_TIMELINE_MODEL_MIN_SPAN_US);

  /* A pinch (GTK's first "scale-changed" is 1 as it begins): spread to twice the
   * distance, half the span; pinched to half, twice. */
  lt_timeline_model_set_visible (model, NOW_US - 8 * HOUR_US, NOW_US - 2 * HOUR_US);
  {
    GtkEventController *pinch = find_controller (GTK_WIDGET (fixture->view),
                                                 "lt-timeline-pinch");

    g_signal_emit_by_name (pinch, "scale-changed", 1.0);
    g_assert_cmpint (visible_span (model), ==, 6 * HOUR_US);
    g_signal_emit_by_name (pinch, "scale-changed", 1.5);
    g_signal_emit_by_name (pinch, "scale-changed", 2.0);
    g_assert_cmpint (ABS (visible_span (model) - 3 * HOUR_US), <=, 2);
    g_signal_emit_by_name (pinch, "scale-changed", 0.5);
    g_assert_cmpint (ABS (visible_span (model) - 12 * HOUR_US), <=, 2);
  }

  /* Without Ctrl the wheel pans, both ways, by a tenth of the width. */
  set_modifiers (fixture, 0);
  lt_timeline_model_set_visible (model, NOW_US - 8 * HOUR_US, NOW_US - 2 * HOUR_US);
  start = lt_timeline_model_get_visible_start (model);
  scroll (fixture, 0, 1);
  g_assert_cmpint (ABS (lt_timeline_model_get_visible_start (model) - (start + 36 * MIN_US)),
                   <=, 2 * G_TIME_SPAN_SECOND);
  scroll (fixture, -1, 0);
  g_assert_cmpint (ABS (lt_timeline_model_get_visible_start (model) - start), <=,
                   4 * G_TIME_SPAN_SECOND);
  g_assert_cmpint (visible_span (model), ==, 6 * HOUR_US);

  /* Keys: + = KP_Add zoom in at the middle, − zooms out; arrows pan a tenth. */
  start = lt_timeline_model_get_visible_start (model);
  span = visible_span (model);
  anchor = start + span / 2;
  g_assert_true (press_key (fixture, GDK_KEY_plus, 0));
  g_assert_cmpint (ABS (visible_span (model) - (gint64) (span / 1.5)), <=, 1);
  g_assert_cmpint (ABS (lt_timeline_model_get_visible_start (model) + visible_span (model) / 2
                        - anchor), <=, 1);
  g_assert_true (press_key (fixture, GDK_KEY_minus, 0));
  g_assert_cmpint (ABS (visible_span (model) - span), <=, 2);
  g_assert_true (press_key (fixture, GDK_KEY_equal, 0));
  g_assert_true (press_key (fixture, GDK_KEY_KP_Add, 0));
  g_assert_cmpint (ABS (visible_span (model) - (gint64) (span / 2.25)), <=, 2);
  g_assert_true (press_key (fixture, GDK_KEY_KP_Subtract, 0));
  g_assert_true (press_key (fixture, GDK_KEY_minus, 0));
  span = visible_span (model);
  start = lt_timeline_model_get_visible_start (model);
  g_assert_true (press_key (fixture, GDK_KEY_Right, 0));
  g_assert_cmpint (lt_timeline_model_get_visible_start (model), ==, start + span / 10);
  g_assert_true (press_key (fixture, GDK_KEY_Left, 0));
  g_assert_cmpint (lt_timeline_model_get_visible_start (model), ==, start);

  /* End: now in view, near the right edge; Home: the first recording. */
  g_assert_true (press_key (fixture, GDK_KEY_End, 0));
  g_assert_cmpint (lt_timeline_model_get_visible_end (model), >, NOW_US);
  g_assert_cmpint (lt_timeline_model_get_visible_start (model), <, NOW_US);
  g_assert_true (press_key (fixture, GDK_KEY_Home, 0));
  {
    GPtrArray *ranges = lt_timeline_model_get_ranges (model);
    const LtTimelineRange *first = g_ptr_array_index (ranges, 0);

    g_assert_cmpint (lt_timeline_model_get_visible_start (model), <, first->start_us);
    g_assert_cmpint (lt_timeline_model_get_visible_end (model), >, first->start_us);
  }

  /* Shift+Right grows a selection from the middle, Shift+Left shrinks it, Escape
   * clears it (and is not taken when there is none). */
  g_assert_false (lt_timeline_model_get_selection (model, NULL, NULL));
  g_assert_true (press_key (fixture, GDK_KEY_Right, GDK_SHIFT_MASK));
  g_assert_true (press_key (fixture, GDK_KEY_Right, GDK_SHIFT_MASK));
  {
    gint64 s, e, e2;

    g_assert_true (lt_timeline_model_get_selection (model, &s, &e));
    g_assert_true (press_key (fixture, GDK_KEY_Left, GDK_SHIFT_MASK));
    g_assert_true (lt_timeline_model_get_selection (model, NULL, &e2));
    g_assert_cmpint (e2, <, e);
  }
  g_assert_true (press_key (fixture, GDK_KEY_Escape, 0));
  g_assert_false (lt_timeline_model_get_selection (model, NULL, NULL));
  g_assert_false (press_key (fixture, GDK_KEY_Escape, 0));
  g_assert_false (press_key (fixture, GDK_KEY_a, 0));
}

static void
test_view_drag (Fixture       *fixture,
                gconstpointer  user_data)
{
  LtTimelineModel *model = fixture->model;
  LtTimelineView *view = fixture->view;
  GArray *slices;
  const LtTimelineSlice *from, *to;
  double lane_y = _lt_timeline_view_lane_y (view);
  gint64 s, e, start;
  double x0, x1;

  show_slices (model, NOW_US - 2 * HOUR_US - 2 * MIN_US, NOW_US - 2 * HOUR_US + 8 * MIN_US);
  slices = lt_timeline_model_get_slices (model);
  from = &g_array_index (slices, LtTimelineSlice, 12);
  to = &g_array_index (slices, LtTimelineSlice, 40);

  /* From 3 px after a slice's start to 4 px before another's end: whole slices. */
  x0 = _lt_timeline_view_time_to_x (view, from->start_us) + 3;
  x1 = _lt_timeline_view_time_to_x (view, to->start_us + to->duration_us) - 4;
  g_assert_cmpint (_lt_timeline_view_x_to_time (view, x0), !=, from->start_us);
  drag (fixture, x0, lane_y, x1, FALSE);
  g_assert_true (lt_timeline_model_get_selection (model, &s, &e));
  g_assert_cmpint (s, ==, from->start_us);
  g_assert_cmpint (e, ==, to->start_us + to->duration_us);
  g_signal_emit_by_name (find_controller (GTK_WIDGET (view), "lt-timeline-drag"),
                         "drag-end", x1 - x0, 0.0);

  /* Dragging right to left selects the same way round. */
  drag (fixture, x1, lane_y, x0, TRUE);
  g_assert_true (lt_timeline_model_get_selection (model, &s, &e));
  g_assert_cmpint (s, ==, from->start_us);
  g_assert_cmpint (e, ==, to->start_us + to->duration_us);

  /* Far from any boundary (more than 8 px): not snapped. */
  lt_timeline_model_set_visible (model, NOW_US - 2 * HOUR_US + 100 * G_TIME_SPAN_SECOND,
                                 NOW_US - 2 * HOUR_US + 130 * G_TIME_SPAN_SECOND);
  x0 = _lt_timeline_view_time_to_x (view, NOW_US - 2 * HOUR_US + 111 * G_TIME_SPAN_SECOND);
  x1 = _lt_timeline_view_time_to_x (view, NOW_US - 2 * HOUR_US + 123 * G_TIME_SPAN_SECOND);
  drag (fixture, x0, lane_y, x1, TRUE);
  g_assert_true (lt_timeline_model_get_selection (model, &s, &e));
  g_assert_cmpint (ABS (s - (NOW_US - 2 * HOUR_US + 111 * G_TIME_SPAN_SECOND)), <,
                   50 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (ABS (e - (NOW_US - 2 * HOUR_US + 123 * G_TIME_SPAN_SECOND)), <,
                   50 * G_TIME_SPAN_MILLISECOND);

  /* A click on a range selects all of it; on a gap, nothing. */
  lt_timeline_model_set_visible (model, NOW_US - 6 * HOUR_US, NOW_US);
  x0 = _lt_timeline_view_time_to_x (view, NOW_US - 4 * HOUR_US);
  drag (fixture, x0, lane_y, x0, TRUE);
  g_assert_true (lt_timeline_model_get_selection (model, &s, &e));
  g_assert_cmpint (s, ==, NOW_US - 5 * HOUR_US);
  g_assert_cmpint (e, ==, NOW_US - 3 * HOUR_US);
  x0 = _lt_timeline_view_time_to_x (view, NOW_US - 150 * MIN_US);
  drag (fixture, x0, lane_y, x0, TRUE);
  g_assert_false (lt_timeline_model_get_selection (model, NULL, NULL));

  /* A drag on the axis pans: the time under the pointer follows it. */
  start = lt_timeline_model_get_visible_start (model);
  drag (fixture, 400, 5, 500, TRUE);
  g_assert_cmpint (ABS (lt_timeline_model_get_visible_start (model) - (start - 40 * MIN_US)),
                   <=, 2 * G_TIME_SPAN_SECOND);
  g_assert_false (lt_timeline_model_get_selection (model, NULL, NULL));
  g_assert_cmpint (visible_span (model), ==, 6 * HOUR_US);
}

static void
test_view_tooltip (Fixture       *fixture,
                   gconstpointer  user_data)
{
  LtTimelineView *view = fixture->view;
  g_autofree char *range_text = NULL;
  g_autofree char *gap_text = NULL;
  g_autofree char *live_text = NULL;
  g_autofree char *nothing = NULL;

  lt_timeline_model_set_visible (fixture->model, NOW_US - 6 * HOUR_US, NOW_US);

  /* The manual stop: 07:00–09:00 UTC on Nov 21 is 12:30–14:30 in Kolkata. */
  range_text = _lt_timeline_view_dup_tooltip_at (view, _lt_timeline_view_time_to_x (view,
                                                   NOW_US - 4 * HOUR_US));
  g_assert_nonnull (range_text);
  g_test_message ("range tooltip: %s", range_text);
  g_assert_nonnull (strstr (range_text, "Nov 21 12:30:00 – 14:30:00"));
  g_assert_nonnull (strstr (range_text, "2 h 00 min"));
  g_assert_nonnull (strstr (range_text, "Ended: Stopped"));

  gap_text = _lt_timeline_view_dup_tooltip_at (view, _lt_timeline_view_time_to_x (view,
                                                 NOW_US - 150 * MIN_US));
  g_assert_nonnull (gap_text);
  g_assert_nonnull (strstr (gap_text, "Not recorded"));
  g_assert_nonnull (strstr (gap_text, "14:30:00 – 15:30:00"));
  g_assert_nonnull (strstr (gap_text, "Cause: Stopped"));

  live_text = _lt_timeline_view_dup_tooltip_at (view, _lt_timeline_view_time_to_x (view,
                                                  NOW_US - 5 * MIN_US));
  g_assert_nonnull (live_text);
  g_assert_nonnull (strstr (live_text, "16:40:00 – 17:30:00"));
  g_assert_nonnull (strstr (live_text, "Still recording"));

  /* After now (past the last range): nothing. */
  lt_timeline_model_set_visible (fixture->model, NOW_US - 10 * MIN_US, NOW_US + 20 * MIN_US);
  nothing = _lt_timeline_view_dup_tooltip_at (view, 880);
  g_assert_null (nothing);
}

static gboolean
all_labels_match (LtTimelineView *view,
                  const char     *pattern)
{
  for (guint i = 0; i < _lt_timeline_view_get_n_labels (view); i++)
    if (!g_regex_match_simple (pattern, _lt_timeline_view_get_label (view, i), 0, 0))
      {
        g_test_message ("label %u '%s' does not match %s", i,
                        _lt_timeline_view_get_label (view, i), pattern);
        return FALSE;
      }
  return TRUE;
}

static void
test_view_labels (Fixture       *fixture,
                  gconstpointer  user_data)
{
  LtTimelineView *view = fixture->view;

  /* A month: days ("Nov 3"), no times. */
  lt_timeline_model_set_visible (fixture->model, NOW_US - 35 * DAY_US, NOW_US);
  draw_once (fixture);
  g_assert_cmpuint (_lt_timeline_view_get_n_labels (view), >=, 4);
  g_assert_true (all_labels_match (view, "^[A-Z][a-z][a-z] [0-9]+$"));

  /* Twenty minutes from 06:00 UTC: local times from 11:30 (Kolkata), never 06:xx. */
  lt_timeline_model_set_visible (fixture->model, NOW_US - 6 * HOUR_US,
                                 NOW_US - 6 * HOUR_US + 20 * MIN_US);
  draw_once (fixture);
  g_assert_cmpuint (_lt_timeline_view_get_n_labels (view), >=, 4);
  g_assert_cmpstr (_lt_timeline_view_get_label (view, 0), ==, "Nov 21 11:30");
  g_assert_true (all_labels_match (view, "^(Nov 21 )?11:[345][0-9]$"));

  /* Slices (a minute): seconds. */
  lt_timeline_model_set_visible (fixture->model, NOW_US - 6 * HOUR_US,
                                 NOW_US - 6 * HOUR_US + MIN_US);
  draw_once (fixture);
  g_assert_cmpuint (_lt_timeline_view_get_n_labels (view), >=, 4);
  g_assert_cmpstr (_lt_timeline_view_get_label (view, 0), ==, "Nov 21 11:30:00");
  g_assert_true (all_labels_match (view, "^(Nov 21 )?11:30:[0-5][0-9]$"));

  /* Around local midnight (18:30 UTC) the day is named where it begins. */
  lt_timeline_model_set_visible (fixture->model, NOW_US - DAY_US + 5 * HOUR_US,
                                 NOW_US - DAY_US + 9 * HOUR_US);
  draw_once (fixture);
  {
    gboolean day_seen = FALSE;

    for (guint i = 0; i < _lt_timeline_view_get_n_labels (view); i++)
      day_seen |= g_strcmp0 (_lt_timeline_view_get_label (view, i), "Nov 21") == 0;
    g_assert_true (day_seen);
  }
}

static void
test_view_accessible (Fixture       *fixture,
                      gconstpointer  user_data)
{
  GtkWidget *view = GTK_WIDGET (fixture->view);
  int min_w, min_h;

  g_assert_cmpint (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (view)), ==,
                   GTK_ACCESSIBLE_ROLE_WIDGET);
  gtk_widget_measure (view, GTK_ORIENTATION_HORIZONTAL, -1, &min_w, NULL, NULL, NULL);
  gtk_widget_measure (view, GTK_ORIENTATION_VERTICAL, -1, &min_h, NULL, NULL, NULL);
  g_assert_cmpint (min_w, ==, 200);
  g_assert_cmpint (min_h, ==, 96);
}

/* Screenshots: four views over the same data (a month; half an hour with slices and a
 * selection; the same while a drag snaps to a slice; the newest hours, live), in one
 * window. */

#define N_SHOTS 4

static gboolean
widget_allocated (gpointer data)
{
  return gtk_widget_get_width (GTK_WIDGET (data)) > 500;
}

static GtkWidget *
screenshot_window (LtTimelineModel **models)
{
  GtkWidget *views[N_SHOTS];
  GtkWidget *window = gtk_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  for (guint i = 0; i < N_SHOTS; i++)
    {
      views[i] = lt_timeline_view_new ();
      models[i] = make_model ();
      lt_timeline_view_set_model (LT_TIMELINE_VIEW (views[i]), models[i]);
      gtk_widget_set_size_request (views[i], -1, 110);
      gtk_box_append (GTK_BOX (box), views[i]);
    }
  lt_timeline_model_set_visible (models[0], NOW_US - 35 * DAY_US, NOW_US + HOUR_US);
  show_slices (models[1], NOW_US - 2 * HOUR_US - 5 * MIN_US, NOW_US - 2 * HOUR_US + 20 * MIN_US);
  lt_timeline_model_set_selection (models[1], NOW_US - 2 * HOUR_US + 3 * SLICE_US,
                                   NOW_US - 2 * HOUR_US + 60 * SLICE_US);
  show_slices (models[2], NOW_US - 2 * HOUR_US - 5 * MIN_US, NOW_US - 2 * HOUR_US + 20 * MIN_US);
  lt_timeline_model_set_visible (models[3], NOW_US - 6 * HOUR_US, NOW_US + 20 * MIN_US);
  gtk_window_set_child (GTK_WINDOW (window), box);
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 560);
  gtk_window_present (GTK_WINDOW (window));
  lt_test_wait_until (widget_allocated, views[2], 5000, "the views to be shown");

  /* A drag in progress from one slice boundary to about another: the snapped edge. */
  {
    GArray *slices = lt_timeline_model_get_slices (models[2]);
    const LtTimelineSlice *from = &g_array_index (slices, LtTimelineSlice, 20);
    const LtTimelineSlice *to = &g_array_index (slices, LtTimelineSlice, 90);
    LtTimelineView *view = LT_TIMELINE_VIEW (views[2]);
    double x0 = _lt_timeline_view_time_to_x (view, from->start_us) + 2;
    double x1 = _lt_timeline_view_time_to_x (view, to->start_us) - 3;
    GtkEventController *gesture = find_controller (views[2], "lt-timeline-drag");

    g_signal_emit_by_name (gesture, "drag-begin", x0, _lt_timeline_view_lane_y (view));
    g_signal_emit_by_name (gesture, "drag-update", x1 - x0, 0.0);
  }
  /* The keyboard focus ring, on the view with a selection. */
  g_assert_true (gtk_widget_grab_focus (views[1]));
  gtk_window_set_focus_visible (GTK_WINDOW (window), TRUE);
  return window;
}

static void
take_screenshots (const char *suffix)
{
  LtTimelineModel *models[N_SHOTS] = { NULL, };
  GtkWidget *window = screenshot_window (models);
  g_autofree char *name = g_strdup_printf ("timeline-view-%s.png", suffix);

  lt_test_save_screenshot (window, name);
  gtk_window_destroy (GTK_WINDOW (window));
  lt_test_spin (50);
  for (guint i = 0; i < N_SHOTS; i++)
    g_assert_finalize_object (models[i]);
}

static void
test_screenshots (void)
{
  AdwStyleManager *style = adw_style_manager_get_default ();

  lt_test_gui_load_style ();
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  take_screenshots ("light");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  take_screenshots ("dark");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);
}

static void
test_screenshots_zh_CN (void)
{
  LtTimelineModel *models[N_SHOTS] = { NULL, };
  GtkWidget *window, *box;
  LtTimelineView *view;

  lt_test_gui_load_style ();
  lt_test_use_language ("zh_CN");
  window = screenshot_window (models);
  lt_test_save_screenshot (window, "timeline-view-zh_CN.png");

  /* The causes and axis labels are translated. */
  box = gtk_window_get_child (GTK_WINDOW (window));
  view = LT_TIMELINE_VIEW (gtk_widget_get_first_child (box));
  g_assert_cmpuint (_lt_timeline_view_get_n_labels (view), >, 0);
  g_assert_nonnull (strstr (_lt_timeline_view_get_label (view, 0), "月"));
  {
    g_autofree char *text = NULL;

    view = LT_TIMELINE_VIEW (gtk_widget_get_last_child (box));
    text = _lt_timeline_view_dup_tooltip_at (view, _lt_timeline_view_time_to_x (view,
                                               NOW_US - 4 * HOUR_US));
    g_assert_nonnull (text);
    g_assert_null (strstr (text, "Stopped"));
    g_assert_null (strstr (text, "Recorded"));
  }

  gtk_window_destroy (GTK_WINDOW (window));
  lt_test_spin (50);
  for (guint i = 0; i < N_SHOTS; i++)
    g_assert_finalize_object (models[i]);
  lt_test_use_language (NULL);
}

/* Figures: snapshot times at several zoom levels over a month of ranges (a reconnect
 * every ten minutes: ~5,000 ranges) and 2,000 slices. Printed, not asserted. */

typedef struct
{
  gint64 paint_start;
  double total;
  double worst;
  guint  n;
} FrameTimes;

static void
frame_before_paint_cb (GdkFrameClock *clock,
                       FrameTimes    *times)
{
  times->paint_start = g_get_monotonic_time ();
}

static void
frame_painted_cb (GdkFrameClock *clock,
                  FrameTimes    *times)
{
  double ms;

  if (times->paint_start == 0)
    return;
  ms = (g_get_monotonic_time () - times->paint_start) / 1000.0;
  times->paint_start = 0;
  times->total += ms;
  times->worst = MAX (times->worst, ms);
  times->n++;
}

typedef struct
{
  FrameTimes *times;
  guint       n;
} FrameWait;

static gboolean
frame_painted (gpointer data)
{
  FrameWait *wait = data;

  return wait->times->n > wait->n;
}

static void
test_snapshot_timing (Fixture       *fixture,
                      gconstpointer  user_data)
{
  static const struct { const char *name; gint64 span; gboolean slices; } zooms[] = {
    { "month", 35 * DAY_US, FALSE },
    { "week", 7 * DAY_US, FALSE },
    { "day", DAY_US, FALSE },
    { "3 hours, 2000 slices", 3 * HOUR_US, TRUE },
    { "20 minutes, slices", 20 * MIN_US, TRUE },
    { "20 seconds, slices", 20 * G_TIME_SPAN_SECOND, TRUE },
  };
  g_autoptr(GPtrArray) ranges =
    g_ptr_array_new_with_free_func ((GDestroyNotify) lt_timeline_range_free);
  g_autoptr(GArray) slices = NULL;
  GtkWidget *widget = GTK_WIDGET (fixture->view);
  gint64 slice_us = 3 * HOUR_US / 2000;

  for (gint64 t = NOW_US - 35 * DAY_US; t < NOW_US - 10 * MIN_US; t += 10 * MIN_US)
    g_ptr_array_add (ranges, make_range (t, t + 9 * MIN_US + 30 * G_TIME_SPAN_SECOND,
                                         "offline"));
  g_ptr_array_add (ranges, make_range (NOW_US - 10 * MIN_US, NOW_US - MIN_US, "recording"));
  lt_timeline_model_set_ranges (fixture->model, ranges);
  g_test_message ("%u ranges, window %d px wide", ranges->len, gtk_widget_get_width (widget));

  for (guint z = 0; z < G_N_ELEMENTS (zooms); z++)
    {
      gint64 end = NOW_US - 3 * HOUR_US;
      gint64 start = end - zooms[z].span;
      double best = G_MAXDOUBLE, total = 0;
      const guint runs = 30;

      g_clear_pointer (&slices, g_array_unref);
      if (zooms[z].slices)
        {
          slices = g_array_new (FALSE, TRUE, sizeof (LtTimelineSlice));
          for (gint64 t = end - 3 * HOUR_US; t < end; t += slice_us)
            {
              LtTimelineSlice slice = { t, slice_us - 1000, 1 };

              g_array_append_val (slices, slice);
            }
        }
      lt_timeline_model_set_visible (fixture->model, start, end);
      lt_timeline_model_set_slices (fixture->model, slices);

      for (guint run = 0; run < runs; run++)
        {
          g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
          g_autoptr(GskRenderNode) node = NULL;
          gint64 t0, t1;

          /* Pan a little each time, so that labels come and go as in real use. */
          lt_timeline_model_pan (fixture->model, (run % 2 ? 1 : -1) * zooms[z].span / 37);
          t0 = g_get_monotonic_time ();
          GTK_WIDGET_GET_CLASS (widget)->snapshot (widget, snapshot);
          node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
          t1 = g_get_monotonic_time ();
          g_assert_nonnull (node);
          best = MIN (best, (t1 - t0) / 1000.0);
          total += (t1 - t0) / 1000.0;
        }
      g_test_message ("snapshot %-22s (%4u slices): mean %.3f ms, best %.3f ms, %u labels",
                      zooms[z].name, slices != NULL ? slices->len : 0, total / runs, best,
                      _lt_timeline_view_get_n_labels (fixture->view));
    }

  /* Real frames through the frame clock: from before-paint to after-paint the window
   * (just the view) is laid out, snapshot and rendered (cairo, under Xvfb). */
  for (guint z = 0; z < G_N_ELEMENTS (zooms); z++)
    {
      GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
      FrameTimes times = { 0, };
      gulong before_id, paint_id;
      gint64 end = NOW_US - 3 * HOUR_US;

      g_clear_pointer (&slices, g_array_unref);
      if (zooms[z].slices)
        {
          slices = g_array_new (FALSE, TRUE, sizeof (LtTimelineSlice));
          for (gint64 t = end - 3 * HOUR_US; t < end; t += slice_us)
            {
              LtTimelineSlice slice = { t, slice_us - 1000, 1 };

              g_array_append_val (slices, slice);
            }
        }
      lt_timeline_model_set_visible (fixture->model, end - zooms[z].span, end);
      lt_timeline_model_set_slices (fixture->model, slices);
      lt_test_spin (50);

      before_id = g_signal_connect (clock, "before-paint",
                                    G_CALLBACK (frame_before_paint_cb), &times);
      paint_id = g_signal_connect (clock, "after-paint", G_CALLBACK (frame_painted_cb), &times);
      for (guint i = 0; i < 10; i++)
        {
          FrameWait wait = { &times, times.n };

          /* (At the bounds a pan may change nothing: draw anyway.) */
          lt_timeline_model_pan (fixture->model, (i % 2 ? -1 : 1) * zooms[z].span / 37);
          gtk_widget_queue_draw (widget);
          lt_test_wait_until (frame_painted, &wait, 5000, "a frame to be painted");
        }
      g_signal_handler_disconnect (clock, before_id);
      g_signal_handler_disconnect (clock, paint_id);
      g_test_message ("frame   %-22s: paint phase mean %.3f ms, worst %.3f ms (%u frames)",
                      zooms[z].name, times.total / times.n, times.worst, times.n);
    }
}

int
main (int    argc,
      char **argv)
{
  /* Local time must not be UTC for the label tests to mean anything: +05:30, no DST. */
  g_setenv ("TZ", "Asia/Kolkata", TRUE);
  lt_test_gui_init (&argc, &argv);

  g_test_add_func ("/timeline-model/clamp", test_model_clamp);
  g_test_add_func ("/timeline-model/zoom", test_model_zoom);
  g_test_add_func ("/timeline-model/snap-and-range-at", test_model_snap_and_range_at);
  g_test_add_func ("/timeline-model/selection", test_model_selection);
#define ADD(path, func) \
  g_test_add ("/timeline-view/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("zoom-input", test_view_zoom_input);
  ADD ("drag", test_view_drag);
  ADD ("tooltip", test_view_tooltip);
  ADD ("labels", test_view_labels);
  ADD ("accessible", test_view_accessible);
  ADD ("snapshot-timing", test_snapshot_timing);
#undef ADD
  g_test_add_func ("/timeline-view/screenshots", test_screenshots);
  g_test_add_func ("/timeline-view/screenshots-zh_CN", test_screenshots_zh_CN);

  return g_test_run ();
}
