/* lt-timeline-view.c: the Timeline page's time axis (see lt-timeline-view.h).
 *
 * Everything is drawn in snapshot() with plain colour nodes and cached PangoLayouts. The
 * data can be large (a month of ranges, thousands of slices), so drawing only ever looks
 * at the visible part: binary searches find where it starts, and runs of ranges narrower
 * than a pixel are jumped over with another search instead of being walked. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "lt-timeline-text.h"
#include "lt-timeline-view.h"

#define SNAP_TOLERANCE_PX  8.0
#define CLICK_SLOP_PX      3.0
#define MARK_ROW_H         14.0
#define MIN_LABEL_GAP_PX   16.0
#define MAX_CACHED_LABELS  256

typedef enum
{
  DRAG_NONE,
  DRAG_PAN,
  DRAG_SELECT,
} DragMode;

struct _LtTimelineView
{
  GtkWidget         parent_instance;

  LtTimelineModel  *model;

  /* Label layouts by text (the tick labels of the current zoom), and gap causes. */
  GHashTable       *label_cache;
  GHashTable       *cause_cache;
  double            label_height;
  /* The width of a wide label in each tick format (days, minutes, seconds), measured once
   * per font: picking the step runs every frame. 0: not measured yet. */
  int               tick_label_widths[3];
  GPtrArray        *labels;        /* the texts labelled in the last snapshot */

  /* Input state. */
  double            pointer_x;
  gboolean          have_pointer;
  GdkModifierType   key_modifiers;
  DragMode          drag_mode;
  double            drag_start_x;
  gint64            drag_visible_start;
  double            drag_us_per_px;
  gint64            drag_anchor_us;
  gint64            drag_edge_us;
  gboolean          drag_snapped;
  gboolean          drag_moved;
  gint64            pinch_span;
  gint64            pinch_anchor_us;
};

G_DEFINE_FINAL_TYPE (LtTimelineView, lt_timeline_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_MODEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Tick steps, smallest first. */
static const gint64 tick_steps[] = {
  1 * G_TIME_SPAN_SECOND, 2 * G_TIME_SPAN_SECOND, 5 * G_TIME_SPAN_SECOND,
  10 * G_TIME_SPAN_SECOND, 15 * G_TIME_SPAN_SECOND, 30 * G_TIME_SPAN_SECOND,
  1 * G_TIME_SPAN_MINUTE, 2 * G_TIME_SPAN_MINUTE, 5 * G_TIME_SPAN_MINUTE,
  10 * G_TIME_SPAN_MINUTE, 15 * G_TIME_SPAN_MINUTE, 30 * G_TIME_SPAN_MINUTE,
  1 * G_TIME_SPAN_HOUR, 2 * G_TIME_SPAN_HOUR, 3 * G_TIME_SPAN_HOUR, 6 * G_TIME_SPAN_HOUR,
  12 * G_TIME_SPAN_HOUR, 1 * G_TIME_SPAN_DAY, 2 * G_TIME_SPAN_DAY, 7 * G_TIME_SPAN_DAY,
};

/* Geometry */

typedef struct
{
  double width;
  double height;
  double axis_y;      /* the axis line: labels above, ticks end here */
  double lane_top;
  double lane_bottom;
  double marks_top;
} Geometry;

static double
label_height (LtTimelineView *self)
{
  if (self->label_height <= 0)
    {
      g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self),
                                                                      "0:9");
      int w, h;

      pango_layout_get_pixel_size (layout, &w, &h);
      self->label_height = MAX (h, 8);
    }
  return self->label_height;
}

static void
get_geometry (LtTimelineView *self,
              Geometry       *geometry)
{
  geometry->width = MAX (gtk_widget_get_width (GTK_WIDGET (self)), 1);
  geometry->height = MAX (gtk_widget_get_height (GTK_WIDGET (self)), 1);
  geometry->axis_y = 4 + label_height (self) + 6;
  geometry->lane_top = geometry->axis_y + 6;
  geometry->marks_top = geometry->height - MARK_ROW_H - 2;
  geometry->lane_bottom = MAX (geometry->marks_top - 4, geometry->lane_top + 8);
}

double
_lt_timeline_view_time_to_x (LtTimelineView *self,
                             gint64          time_us)
{
  gint64 start, end;
  double width = MAX (gtk_widget_get_width (GTK_WIDGET (self)), 1);

  g_return_val_if_fail (LT_IS_TIMELINE_VIEW (self), 0);

  if (self->model == NULL)
    return 0;
  start = lt_timeline_model_get_visible_start (self->model);
  end = lt_timeline_model_get_visible_end (self->model);
  if (end <= start)
    return 0;
  return (double) (time_us - start) * width / (double) (end - start);
}

gint64
_lt_timeline_view_x_to_time (LtTimelineView *self,
                             double          x)
{
  gint64 start, end;
  double width = MAX (gtk_widget_get_width (GTK_WIDGET (self)), 1);

  g_return_val_if_fail (LT_IS_TIMELINE_VIEW (self), 0);

  if (self->model == NULL)
    return 0;
  start = lt_timeline_model_get_visible_start (self->model);
  end = lt_timeline_model_get_visible_end (self->model);
  return start + (gint64) llround (x * (double) (end - start) / width);
}

double
_lt_timeline_view_lane_y (LtTimelineView *self)
{
  Geometry g;

  g_return_val_if_fail (LT_IS_TIMELINE_VIEW (self), 0);

  get_geometry (self, &g);
  return (g.lane_top + g.lane_bottom) / 2;
}

static double
us_per_px (LtTimelineView *self)
{
  double width = MAX (gtk_widget_get_width (GTK_WIDGET (self)), 1);

  if (self->model == NULL)
    return 1;
  return (double) (lt_timeline_model_get_visible_end (self->model)
                   - lt_timeline_model_get_visible_start (self->model)) / width;
}

static gint64
snap_tolerance (LtTimelineView *self)
{
  return (gint64) (SNAP_TOLERANCE_PX * us_per_px (self));
}

/* Text */

static GDateTime *
local_time (gint64 time_us)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (time_us / G_USEC_PER_SEC);

  if (utc == NULL)
    return NULL;
  return g_date_time_to_local (utc);
}

static const char *
cause_text (const char *end_reason)
{
  static const struct { const char *reason; const char *text; } causes[] = {
    { "offline", NC_("end reason", "Stream offline") },
    { "merge_window_expired", NC_("end reason", "Merge window expired") },
    { "manual_stop", NC_("end reason", "Stopped") },
    { "disk_full", NC_("end reason", "Disk full") },
    { "error", NC_("end reason", "Error") },
    { "cancel_delay", NC_("end reason", "Cancelled") },
    { "shutdown", NC_("end reason", "Shut down") },
    { "crash", NC_("end reason", "Crashed") },
    { "highlight_end", NC_("end reason", "Highlight ended") },
    { "schedule_end", NC_("end reason", "Schedule ended") },
    { "recording", NC_("end reason", "Recording") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (causes); i++)
    if (g_strcmp0 (end_reason, causes[i].reason) == 0)
      return g_dpgettext2 (GETTEXT_PACKAGE, "end reason", causes[i].text);
  return C_("end reason", "Not recorded");
}

/* "Nov 21 14:02:03 – 15:10:00" in local time; the end's date only when it differs. */
static char *
format_span (gint64 start_us,
             gint64 end_us)
{
  /* TRANSLATORS: a date and time in tooltips, a g_date_time_format() format */
  return lt_timeline_text_span (start_us, end_us, C_("timeline tooltip", "%b %-d %H:%M:%S"));
}

char *
_lt_timeline_view_dup_tooltip_at (LtTimelineView *self,
                                  double          x)
{
  const LtTimelineRange *range;
  GPtrArray *ranges;
  gint64 time_us;
  guint i;

  g_return_val_if_fail (LT_IS_TIMELINE_VIEW (self), NULL);

  if (self->model == NULL || (ranges = lt_timeline_model_get_ranges (self->model)) == NULL)
    return NULL;

  time_us = _lt_timeline_view_x_to_time (self, x);
  range = lt_timeline_model_range_at (self->model, time_us);
  if (range != NULL)
    {
      gint64 end = lt_timeline_model_get_range_end (self->model, range);
      g_autofree char *span = format_span (range->start_us, end);
      g_autofree char *duration = lt_timeline_text_duration (end - range->start_us);

      if (g_strcmp0 (range->end_reason, "recording") == 0)
        return g_strdup_printf (_("Recorded %s (%s)\nStill recording"), span, duration);
      return g_strdup_printf (_("Recorded %s (%s)\nEnded: %s"), span, duration,
                              cause_text (range->end_reason));
    }

  /* A gap between two ranges: when and why. */
  i = lt_timeline_model_find_range (self->model, time_us);
  if (i > 0 && i < ranges->len)
    {
      const LtTimelineRange *before = g_ptr_array_index (ranges, i - 1);
      const LtTimelineRange *after = g_ptr_array_index (ranges, i);
      gint64 gap_start = lt_timeline_model_get_range_end (self->model, before);
      g_autofree char *span = format_span (gap_start, after->start_us);
      g_autofree char *duration = lt_timeline_text_duration (after->start_us - gap_start);

      return g_strdup_printf (_("Not recorded %s (%s)\nCause: %s"), span, duration,
                              cause_text (before->end_reason));
    }
  return NULL;
}

guint
_lt_timeline_view_get_n_labels (LtTimelineView *self)
{
  g_return_val_if_fail (LT_IS_TIMELINE_VIEW (self), 0);

  return self->labels->len;
}

const char *
_lt_timeline_view_get_label (LtTimelineView *self,
                             guint           i)
{
  g_return_val_if_fail (LT_IS_TIMELINE_VIEW (self), NULL);
  g_return_val_if_fail (i < self->labels->len, NULL);

  return g_ptr_array_index (self->labels, i);
}

static PangoLayout *
cached_layout (LtTimelineView *self,
               GHashTable     *cache,
               const char     *text)
{
  PangoLayout *layout = g_hash_table_lookup (cache, text);

  if (layout == NULL)
    {
      if (g_hash_table_size (cache) >= MAX_CACHED_LABELS)
        g_hash_table_remove_all (cache);
      layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
      g_hash_table_insert (cache, g_strdup (text), layout);
    }
  return layout;
}

static void
update_accessible (LtTimelineView *self)
{
  g_autofree char *span = NULL;
  g_autofree char *description = NULL;

  if (self->model == NULL)
    return;
  span = format_span (lt_timeline_model_get_visible_start (self->model),
                      lt_timeline_model_get_visible_end (self->model));
  description = g_strdup_printf (_("Showing %s"), span);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                  -1);
}

/* Colours */

typedef struct
{
  GdkRGBA fg;
  GdkRGBA accent;
  GdkRGBA range;
  GdkRGBA live;
  GdkRGBA mark;
  GdkRGBA now;
  GdkRGBA background;
} Colors;

static void
lookup (GtkStyleContext *context,
        const char      *name,
        const char      *fallback,
        GdkRGBA         *color)
{
  if (!gtk_style_context_lookup_color (context, name, color))
    gdk_rgba_parse (color, fallback);
}

static void
get_colors (LtTimelineView *self,
            Colors         *colors)
{
  GtkStyleContext *context = gtk_widget_get_style_context (GTK_WIDGET (self));

  /* Deprecated in GTK 4.10 only: the pinned 4.8 has no gtk_widget_get_color(). Adwaita's
   * named colours follow the light and dark styles. */
  gtk_style_context_get_color (context, &colors->fg);
  lookup (context, "accent_bg_color", "#3584e4", &colors->accent);
  lookup (context, "success_bg_color", "#26a269", &colors->range);
  lookup (context, "error_bg_color", "#c01c28", &colors->live);
  lookup (context, "warning_color", "#9c6e03", &colors->mark);
  lookup (context, "error_color", "#c01c28", &colors->now);
  lookup (context, "view_bg_color", "#ffffff", &colors->background);
}

static GdkRGBA
with_alpha (const GdkRGBA *color,
            double         alpha)
{
  GdkRGBA c = *color;

  c.alpha *= alpha;
  return c;
}

static void
fill (GtkSnapshot   *snapshot,
      const GdkRGBA *color,
      double         x,
      double         y,
      double         width,
      double         height)
{
  gtk_snapshot_append_color (snapshot, color, &GRAPHENE_RECT_INIT (x, y, width, height));
}

static void
fill_rounded (GtkSnapshot   *snapshot,
              const GdkRGBA *color,
              double         x,
              double         y,
              double         width,
              double         height,
              double         radius)
{
  GskRoundedRect rect;

  gsk_rounded_rect_init_from_rect (&rect, &GRAPHENE_RECT_INIT (x, y, width, height),
                                   MIN (radius, MIN (width, height) / 2));
  gtk_snapshot_push_rounded_clip (snapshot, &rect);
  fill (snapshot, color, x, y, width, height);
  gtk_snapshot_pop (snapshot);
}

static void
draw_layout (GtkSnapshot   *snapshot,
             PangoLayout   *layout,
             const GdkRGBA *color,
             double         x,
             double         y)
{
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((float) x, (float) y));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

/* While a drag selects: the layout of the moving edge's time and where it goes (it
 * covers the axis labels there, which are left out). NULL when not dragging. */
static PangoLayout *
drag_label (LtTimelineView *self,
            const Geometry *g,
            double         *x,
            double         *width)
{
  g_autoptr(GDateTime) dt = NULL;
  g_autofree char *text = NULL;
  PangoLayout *layout;
  double edge_x;
  int w, h;

  if (self->drag_mode != DRAG_SELECT || !self->drag_moved
      || (dt = local_time (self->drag_edge_us)) == NULL)
    return NULL;

  text = g_date_time_format (dt, "%H:%M:%S");
  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  pango_layout_get_pixel_size (layout, &w, &h);
  edge_x = _lt_timeline_view_time_to_x (self, self->drag_edge_us);
  *x = edge_x + 8 + w > g->width ? edge_x - 8 - w : edge_x + 8;
  *width = w;
  return layout;
}

/* The axis */

static const char *
tick_format (gint64 step)
{
  if (step >= G_TIME_SPAN_DAY)
    /* TRANSLATORS: a day on the timeline's axis, a g_date_time_format() format */
    return C_("timeline axis", "%b %-d");
  if (step >= G_TIME_SPAN_MINUTE)
    /* TRANSLATORS: a time on the timeline's axis, a g_date_time_format() format */
    return C_("timeline axis", "%H:%M");
  /* TRANSLATORS: a time with seconds on the timeline's axis, a g_date_time_format() format */
  return C_("timeline axis", "%H:%M:%S");
}

/* The first label of hours, minutes or seconds also says which day. */
static const char *
dated_format (gint64 step)
{
  if (step >= G_TIME_SPAN_MINUTE)
    /* TRANSLATORS: the first time on the timeline's axis, with its day */
    return C_("timeline axis", "%b %-d %H:%M");
  /* TRANSLATORS: the first time with seconds on the timeline's axis, with its day */
  return C_("timeline axis", "%b %-d %H:%M:%S");
}

static int
tick_label_width (LtTimelineView *self,
                  gint64          step)
{
  guint kind = step >= G_TIME_SPAN_DAY ? 0 : step >= G_TIME_SPAN_MINUTE ? 1 : 2;

  if (self->tick_label_widths[kind] == 0)
    {
      /* A wide date and time (Dec 30, 20:58:58) in the format, as translated. */
      g_autoptr(GDateTime) sample = g_date_time_new_local (2026, 12, 30, 20, 58, 58);
      g_autofree char *text = g_date_time_format (sample, tick_format (step));
      g_autoptr(PangoLayout) layout = NULL;
      int w, h;

      layout = gtk_widget_create_pango_layout (GTK_WIDGET (self),
                                               text != NULL ? text : "00:00:00");
      pango_layout_get_pixel_size (layout, &w, &h);
      self->tick_label_widths[kind] = MAX (w, 1);
    }
  return self->tick_label_widths[kind];
}

static gint64
pick_step (LtTimelineView *self,
           double          us_px,
           gint64         *minor)
{
  double spacing;
  gint64 step = tick_steps[G_N_ELEMENTS (tick_steps) - 1];
  guint i;

  /* The widest label the zoom can show decides how far apart labels must be. */
  for (i = 0; i < G_N_ELEMENTS (tick_steps); i++)
    {
      spacing = MAX (tick_label_width (self, tick_steps[i]), 40) + MIN_LABEL_GAP_PX;
      if ((double) tick_steps[i] / us_px >= spacing)
        {
          step = tick_steps[i];
          break;
        }
    }

  *minor = 0;
  for (guint j = i; j-- > 0;)
    {
      if (step % tick_steps[j] == 0 && tick_steps[j] <= step / 2
          && (double) tick_steps[j] / us_px >= 6)
        {
          *minor = tick_steps[j];
          break;
        }
    }
  return step;
}

/* The first multiple of @step (in local time) at or after @time_us. */
static gint64
first_tick (gint64 time_us,
            gint64 step)
{
  g_autoptr(GDateTime) local = local_time (time_us);
  gint64 offset = local != NULL ? g_date_time_get_utc_offset (local) : 0;
  gint64 t = time_us + offset;
  gint64 tick = t - (((t % step) + step) % step);

  if (tick < t)
    tick += step;
  return tick - offset;
}

static gboolean
is_local_midnight (GDateTime *dt)
{
  return g_date_time_get_hour (dt) == 0 && g_date_time_get_minute (dt) == 0
         && g_date_time_get_second (dt) == 0;
}

static void
draw_axis (LtTimelineView *self,
           GtkSnapshot    *snapshot,
           const Geometry *g,
           const Colors   *colors)
{
  gint64 vs = lt_timeline_model_get_visible_start (self->model);
  gint64 ve = lt_timeline_model_get_visible_end (self->model);
  double us_px = (double) (ve - vs) / g->width;
  GdkRGBA tick_color = with_alpha (&colors->fg, 0.45);
  GdkRGBA grid_color = with_alpha (&colors->fg, 0.08);
  GdkRGBA label_color = with_alpha (&colors->fg, 0.8);
  GdkRGBA day_color = colors->fg;
  double last_label_end = -G_MAXDOUBLE;
  g_autoptr(PangoLayout) dragged = NULL;
  double hide_x0 = 0, hide_x1 = 0;
  gint64 minor, step;
  const char *format;

  if ((dragged = drag_label (self, g, &hide_x0, &hide_x1)) != NULL)
    {
      hide_x1 += hide_x0 + 8;
      hide_x0 -= 8;
    }

  step = pick_step (self, us_px, &minor);
  format = tick_format (step);

  /* The axis line. */
  fill (snapshot, &tick_color, 0, g->axis_y, g->width, 1);

  if (minor > 0)
    for (gint64 t = first_tick (vs, minor); t < ve; t += minor)
      fill (snapshot, &tick_color, floor ((double) (t - vs) / us_px), g->axis_y - 3, 1, 3);

  g_ptr_array_set_size (self->labels, 0);
  if (step < G_TIME_SPAN_DAY)
    {
      for (gint64 t = first_tick (vs, step); t < ve; t += step)
        {
          g_autoptr(GDateTime) dt = local_time (t);
          g_autofree char *text = NULL;
          double x = floor ((double) (t - vs) / us_px);
          gboolean midnight;
          PangoLayout *layout;
          int w, h;

          if (dt == NULL)
            continue;
          midnight = is_local_midnight (dt);
          /* Days are named where they begin, and on the first label, so that the hours
           * always have a date. */
          if (midnight)
            text = g_date_time_format (dt, tick_format (G_TIME_SPAN_DAY));
          else if (self->labels->len == 0)
            text = g_date_time_format (dt, dated_format (step));
          else
            text = g_date_time_format (dt, format);
          if (text == NULL)
            continue;
          fill (snapshot, &grid_color, x, g->axis_y, 1, g->marks_top - g->axis_y);
          fill (snapshot, &tick_color, x, g->axis_y - (midnight ? 10 : 6), 1,
                midnight ? 10 : 6);
          layout = cached_layout (self, self->label_cache, text);
          pango_layout_get_pixel_size (layout, &w, &h);
          if (x + 3 <= last_label_end || x + 3 + w > g->width
              || (dragged != NULL && x + 3 < hide_x1 && x + 3 + w > hide_x0))
            continue;
          draw_layout (snapshot, layout,
                       midnight || self->labels->len == 0 ? &day_color : &label_color, x + 3, 4);
          last_label_end = x + 3 + w + 4;
          g_ptr_array_add (self->labels, g_steal_pointer (&text));
        }
    }
  else
    {
      /* Whole local days: walk them as dates, so that DST days stay days. */
      g_autoptr(GDateTime) first = local_time (vs);
      g_autoptr(GDateTime) day = NULL;
      int every = (int) (step / G_TIME_SPAN_DAY);

      if (first == NULL)
        return;
      day = g_date_time_new_local (g_date_time_get_year (first), g_date_time_get_month (first),
                                   g_date_time_get_day_of_month (first), 0, 0, 0);
      for (guint n = 0; day != NULL && n < 400; n++)
        {
          gint64 t = g_date_time_to_unix (day) * G_USEC_PER_SEC;
          GDateTime *next;

          if (t >= ve)
            break;
          if (t >= vs)
            {
              gboolean labelled;
              double x = floor ((double) (t - vs) / us_px);

              if (every == 7)
                labelled = g_date_time_get_day_of_week (day) == 1;
              else
                labelled = (g_date_time_get_day_of_year (day) - 1) % every == 0;
              fill (snapshot, &tick_color, x, g->axis_y - (labelled ? 8 : 3), 1,
                    labelled ? 8 : 3);
              if (labelled)
                {
                  g_autofree char *text = g_date_time_format (day, format);
                  PangoLayout *layout;
                  int w, h;

                  fill (snapshot, &grid_color, x, g->axis_y, 1, g->marks_top - g->axis_y);
                  layout = cached_layout (self, self->label_cache, text != NULL ? text : "");
                  pango_layout_get_pixel_size (layout, &w, &h);
                  if (text != NULL && x + 3 > last_label_end && x + 3 + w <= g->width
                      && (dragged == NULL || x + 3 >= hide_x1 || x + 3 + w <= hide_x0))
                    {
                      draw_layout (snapshot, layout, &label_color, x + 3, 4);
                      last_label_end = x + 3 + w + 4;
                      g_ptr_array_add (self->labels, g_steal_pointer (&text));
                    }
                }
            }
          next = g_date_time_add_days (day, 1);
          g_date_time_unref (day);
          day = next;
        }
    }
}

/* The ranges, their gaps and slices */

static void
draw_gap_label (LtTimelineView        *self,
                GtkSnapshot           *snapshot,
                const Geometry        *g,
                const Colors          *colors,
                const LtTimelineRange *before,
                double                 x0,
                double                 x1)
{
  PangoLayout *layout;
  GdkRGBA color = with_alpha (&colors->fg, 0.6);
  int w, h;

  x0 = MAX (x0, 0);
  x1 = MIN (x1, g->width);
  if (x1 - x0 < 24)
    return;
  layout = cached_layout (self, self->cause_cache, cause_text (before->end_reason));
  pango_layout_get_pixel_size (layout, &w, &h);
  if (w + 12 > x1 - x0 || h > g->lane_bottom - g->lane_top)
    return;
  draw_layout (snapshot, layout, &color, floor ((x0 + x1 - w) / 2),
               floor ((g->lane_top + g->lane_bottom - h) / 2));
}

typedef struct
{
  gboolean pending;
  double   x0;
  double   x1;
} Bar;

static void
flush_bar (GtkSnapshot    *snapshot,
           const Geometry *g,
           const Colors   *colors,
           Bar            *bar)
{
  if (bar->pending)
    fill (snapshot, &colors->range, bar->x0, g->lane_top, bar->x1 - bar->x0,
          g->lane_bottom - g->lane_top);
  bar->pending = FALSE;
}

static void
draw_ranges (LtTimelineView *self,
             GtkSnapshot    *snapshot,
             const Geometry *g,
             const Colors   *colors)
{
  GPtrArray *ranges = lt_timeline_model_get_ranges (self->model);
  gint64 vs = lt_timeline_model_get_visible_start (self->model);
  gint64 ve = lt_timeline_model_get_visible_end (self->model);
  double us_px = (double) (ve - vs) / g->width;
  double lane_h = g->lane_bottom - g->lane_top;
  GdkRGBA track = with_alpha (&colors->fg, 0.05);
  GdkRGBA live = with_alpha (&colors->range, 0.6);
  GdkRGBA live_bg = with_alpha (&colors->range, 0.2);
  const LtTimelineRange *previous = NULL;
  double previous_end_x = 0;
  /* Bars less than a pixel apart are drawn as one: at a month's zoom a stream that
   * reconnects often is a few long bars, not one node per pixel. */
  Bar bar = { FALSE, 0, 0 };
  guint i;

  fill_rounded (snapshot, &track, 0, g->lane_top, g->width, lane_h, 4);
  if (ranges == NULL || ranges->len == 0)
    return;

  i = lt_timeline_model_find_range (self->model, vs);
  if (i > 0)
    i--;
  while (i < ranges->len)
    {
      const LtTimelineRange *range = g_ptr_array_index (ranges, i);
      gint64 end = lt_timeline_model_get_range_end (self->model, range);
      double x0 = ((double) (range->start_us - vs)) / us_px;
      double x1 = ((double) (end - vs)) / us_px;
      guint next = i + 1;

      if (previous != NULL && g_strcmp0 (previous->end_reason, "recording") != 0)
        draw_gap_label (self, snapshot, g, colors, previous, previous_end_x,
                        MIN (x0, g->width));
      if (range->start_us >= ve)
        break;

      if (x1 - x0 < 1)
        {
          /* Narrower than a pixel: everything that starts within this pixel is one bar,
           * found by a search instead of a walk. */
          gint64 pixel_end = vs + (gint64) ((floor (x0) + 1) * us_px);
          const LtTimelineRange *last;

          next = MAX (lt_timeline_model_find_range (self->model, pixel_end), i + 1);
          last = g_ptr_array_index (ranges, next - 1);
          x1 = MAX (x1, ((double) (lt_timeline_model_get_range_end (self->model, last) - vs))
                        / us_px);
          x1 = MAX (x1, floor (x0) + 1);
          range = last;
          end = lt_timeline_model_get_range_end (self->model, last);
        }

      if (x1 > 0)
        {
          double cx0 = MAX (x0, -2);
          double cx1 = MIN (x1, g->width + 2);

          if (g_strcmp0 (range->end_reason, "recording") == 0 && end > range->end_us)
            {
              /* Live growth: solid up to what is catalogued, striped up to now. */
              double xr = MIN (((double) (range->end_us - vs)) / us_px, cx1);

              flush_bar (snapshot, g, colors, &bar);
              if (xr > cx0)
                fill (snapshot, &colors->range, cx0, g->lane_top, xr - cx0, lane_h);
              if (cx1 > MAX (xr, cx0))
                {
                  double sx = MAX (xr, cx0);

                  fill (snapshot, &live_bg, sx, g->lane_top, cx1 - sx, lane_h);
                  gtk_snapshot_push_repeat (snapshot,
                                            &GRAPHENE_RECT_INIT (sx, g->lane_top, cx1 - sx, lane_h),
                                            &GRAPHENE_RECT_INIT (sx, g->lane_top, 8, lane_h));
                  fill (snapshot, &live, sx, g->lane_top, 4, lane_h);
                  gtk_snapshot_pop (snapshot);
                  fill (snapshot, &colors->live, cx1 - 3, g->lane_top, 3, lane_h);
                }
            }
          else if (bar.pending && cx0 - bar.x1 < 1)
            bar.x1 = MAX (bar.x1, cx0 + MAX (cx1 - cx0, 1));
          else
            {
              flush_bar (snapshot, g, colors, &bar);
              bar.pending = TRUE;
              bar.x0 = cx0;
              bar.x1 = cx0 + MAX (cx1 - cx0, 1);
            }
        }

      previous = range;
      previous_end_x = x1;
      i = next;
    }
  flush_bar (snapshot, g, colors, &bar);
}

static void
draw_slices (LtTimelineView *self,
             GtkSnapshot    *snapshot,
             const Geometry *g,
             const Colors   *colors)
{
  GArray *slices = lt_timeline_model_get_slices (self->model);
  gint64 vs = lt_timeline_model_get_visible_start (self->model);
  gint64 ve = lt_timeline_model_get_visible_end (self->model);
  double us_px = (double) (ve - vs) / g->width;
  GdkRGBA cut = with_alpha (&colors->background, 0.85);
  guint first, last;
  double last_x = -G_MAXDOUBLE;

  if (slices == NULL || slices->len == 0)
    return;

  first = lt_timeline_model_find_slice (self->model, vs);
  if (first > 0)
    first--;
  last = lt_timeline_model_find_slice (self->model, ve);
  /* One by one only where they are at least a few pixels wide on average. */
  if (last <= first || g->width / (double) (last - first) < 3)
    return;

  for (guint i = first; i < last; i++)
    {
      const LtTimelineSlice *slice = &g_array_index (slices, LtTimelineSlice, i);
      double x = floor (((double) (slice->start_us - vs)) / us_px);
      double xe = floor (((double) (slice->start_us + slice->duration_us - vs)) / us_px);

      if (x - last_x >= 3 && x >= 0 && x < g->width)
        {
          fill (snapshot, &cut, x, g->lane_top, 1, g->lane_bottom - g->lane_top);
          last_x = x;
        }
      if (xe - last_x >= 3 && xe >= 0 && xe < g->width)
        {
          fill (snapshot, &cut, xe, g->lane_top, 1, g->lane_bottom - g->lane_top);
          last_x = xe;
        }
    }
}

static void
draw_marks (LtTimelineView *self,
            GtkSnapshot    *snapshot,
            const Geometry *g,
            const Colors   *colors)
{
  GPtrArray *marks = lt_timeline_model_get_marks (self->model);
  gint64 vs = lt_timeline_model_get_visible_start (self->model);
  gint64 ve = lt_timeline_model_get_visible_end (self->model);
  double us_px = (double) (ve - vs) / g->width;
  GdkRGBA span_color = with_alpha (&colors->mark, 0.5);

  if (marks == NULL)
    return;

  /* Index files are few (one per playlist an operator made): no search needed. */
  for (guint i = 0; i < marks->len; i++)
    {
      const LtIndexFile *file = g_ptr_array_index (marks, i);
      double x0, x1;

      if (file->end_time_us < vs || file->start_time_us >= ve)
        continue;
      x0 = floor (((double) (file->start_time_us - vs)) / us_px);
      x1 = ceil (((double) (file->end_time_us - vs)) / us_px);
      fill (snapshot, &span_color, x0, g->marks_top + MARK_ROW_H - 4, MAX (x1 - x0, 2), 3);
      /* A flag: a pole from the lane down to the row, and its cloth. */
      fill (snapshot, &colors->mark, x0, g->marks_top + 1, 2, MARK_ROW_H - 1);
      fill (snapshot, &colors->mark, x0 + 2, g->marks_top + 1, 7, 5);
    }
}

static void
draw_selection (LtTimelineView *self,
                GtkSnapshot    *snapshot,
                const Geometry *g,
                const Colors   *colors)
{
  GdkRGBA shade = with_alpha (&colors->accent, 0.25);
  gint64 start, end;
  double x0, x1, mid;

  if (lt_timeline_model_get_selection (self->model, &start, &end))
    {
      x0 = _lt_timeline_view_time_to_x (self, start);
      x1 = _lt_timeline_view_time_to_x (self, end);
      if (x1 >= -4 && x0 <= g->width + 4)
        {
          double cx0 = MAX (x0, -4), cx1 = MIN (x1, g->width + 4);

          fill (snapshot, &shade, cx0, g->axis_y, cx1 - cx0, g->height - g->axis_y);
          mid = (g->lane_top + g->lane_bottom) / 2;
          if (x0 >= -2)
            {
              fill (snapshot, &colors->accent, x0 - 1, g->axis_y, 2, g->height - g->axis_y);
              fill_rounded (snapshot, &colors->accent, x0 - 3, mid - 8, 6, 16, 3);
            }
          if (x1 <= g->width + 2)
            {
              fill (snapshot, &colors->accent, x1 - 1, g->axis_y, 2, g->height - g->axis_y);
              fill_rounded (snapshot, &colors->accent, x1 - 3, mid - 8, 6, 16, 3);
            }
        }
    }

  /* While dragging: the moving edge over the whole height, and its time; a snapped edge
   * is solid with knobs at both ends. */
  if (self->drag_mode == DRAG_SELECT && self->drag_moved)
    {
      double x = _lt_timeline_view_time_to_x (self, self->drag_edge_us);
      GdkRGBA edge = self->drag_snapped ? colors->accent : with_alpha (&colors->accent, 0.6);
      g_autoptr(PangoLayout) layout = NULL;
      double lx, w;

      if ((layout = drag_label (self, g, &lx, &w)) != NULL)
        draw_layout (snapshot, layout, &colors->accent, lx, 4);
      fill (snapshot, &edge, x - 1, 0, self->drag_snapped ? 3 : 1, g->height);
      if (self->drag_snapped)
        {
          fill_rounded (snapshot, &colors->accent, x - 4, g->lane_top - 4, 9, 9, 4.5);
          fill_rounded (snapshot, &colors->accent, x - 4, g->lane_bottom - 5, 9, 9, 4.5);
        }
    }
}

static void
draw_now (LtTimelineView *self,
          GtkSnapshot    *snapshot,
          const Geometry *g,
          const Colors   *colors)
{
  double x = _lt_timeline_view_time_to_x (self, lt_timeline_model_get_now (self->model));

  if (x < -4 || x > g->width + 4)
    return;
  fill (snapshot, &colors->now, x - 1, g->axis_y - 4, 2, g->height - g->axis_y + 4);
  fill_rounded (snapshot, &colors->now, x - 4, g->axis_y - 7, 8, 8, 4);
}

static void
lt_timeline_view_snapshot (GtkWidget   *widget,
                           GtkSnapshot *snapshot)
{
  LtTimelineView *self = LT_TIMELINE_VIEW (widget);
  Geometry g;
  Colors colors;

  if (self->model == NULL)
    return;

  get_geometry (self, &g);
  get_colors (self, &colors);

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, g.width, g.height));
  draw_axis (self, snapshot, &g, &colors);
  draw_ranges (self, snapshot, &g, &colors);
  draw_slices (self, snapshot, &g, &colors);
  draw_marks (self, snapshot, &g, &colors);
  draw_now (self, snapshot, &g, &colors);
  draw_selection (self, snapshot, &g, &colors);
  gtk_snapshot_pop (snapshot);
}

/* Input */

static double
anchor_x (LtTimelineView *self)
{
  if (self->have_pointer)
    return self->pointer_x;
  return gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
}

static void
motion_cb (LtTimelineView *self,
           double          x,
           double          y)
{
  self->pointer_x = x;
  self->have_pointer = TRUE;
}

static void
leave_cb (LtTimelineView *self)
{
  self->have_pointer = FALSE;
}

static gboolean
scroll_cb (LtTimelineView           *self,
           double                    dx,
           double                    dy,
           GtkEventControllerScroll *controller)
{
  GdkModifierType state;
  gboolean smooth;

  if (self->model == NULL)
    return FALSE;

  /* The scroll event's own modifiers; the key controller's too, when focused (Ctrl held
   * down while the wheel turns over the focused view). */
  state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  if (gtk_widget_is_focus (GTK_WIDGET (self)))
    state |= self->key_modifiers;
  smooth = gtk_event_controller_scroll_get_unit (controller) == GDK_SCROLL_UNIT_SURFACE;

  if (state & GDK_CONTROL_MASK)
    {
      double delta = dy != 0 ? dy : dx;
      double factor = pow (smooth ? 1.01 : 1.25, -delta);

      lt_timeline_model_zoom (self->model, factor,
                              _lt_timeline_view_x_to_time (self, anchor_x (self)));
    }
  else if (smooth)
    lt_timeline_model_pan (self->model, (gint64) ((dx + dy) * us_per_px (self)));
  else
    lt_timeline_model_pan (self->model,
                           (gint64) ((dx + dy) * 0.1 * gtk_widget_get_width (GTK_WIDGET (self))
                                     * us_per_px (self)));
  return TRUE;
}

static void
pinch_end_cb (LtTimelineView *self)
{
  self->pinch_span = 0;
}

static void
pinch_scale_changed_cb (LtTimelineView *self,
                        double          scale,
                        GtkGesture     *gesture)
{
  gint64 span;

  if (self->model == NULL || scale <= 0)
    return;

  /* The first change of a pinch (GTK sends one as it begins) fixes the span it scales
   * and the time that stays between the fingers. */
  if (self->pinch_span <= 0)
    {
      double x, y;

      self->pinch_span = lt_timeline_model_get_visible_end (self->model)
                         - lt_timeline_model_get_visible_start (self->model);
      if (!gtk_gesture_is_active (gesture)
          || !gtk_gesture_get_bounding_box_center (gesture, &x, &y))
        x = anchor_x (self);
      self->pinch_anchor_us = _lt_timeline_view_x_to_time (self, x);
    }
  span = lt_timeline_model_get_visible_end (self->model)
         - lt_timeline_model_get_visible_start (self->model);
  lt_timeline_model_zoom (self->model, (double) span / ((double) self->pinch_span / scale),
                          self->pinch_anchor_us);
}

static void
drag_begin_cb (LtTimelineView *self,
               double          x,
               double          y)
{
  Geometry g;

  if (self->model == NULL)
    return;
  gtk_widget_grab_focus (GTK_WIDGET (self));
  get_geometry (self, &g);

  self->drag_start_x = x;
  self->drag_moved = FALSE;
  self->drag_snapped = FALSE;
  if (y < g.lane_top - 2)
    {
      self->drag_mode = DRAG_PAN;
      self->drag_visible_start = lt_timeline_model_get_visible_start (self->model);
      self->drag_us_per_px = us_per_px (self);
    }
  else
    {
      gint64 raw = _lt_timeline_view_x_to_time (self, x);

      self->drag_mode = DRAG_SELECT;
      self->drag_anchor_us = lt_timeline_model_snap (self->model, raw, snap_tolerance (self));
      self->drag_edge_us = self->drag_anchor_us;
    }
}

static void
drag_update_cb (LtTimelineView *self,
                double          offset_x,
                double          offset_y)
{
  if (self->model == NULL)
    return;

  if (fabs (offset_x) >= CLICK_SLOP_PX)
    self->drag_moved = TRUE;

  if (self->drag_mode == DRAG_PAN)
    {
      gint64 span = lt_timeline_model_get_visible_end (self->model)
                    - lt_timeline_model_get_visible_start (self->model);
      gint64 start = self->drag_visible_start - (gint64) (offset_x * self->drag_us_per_px);

      lt_timeline_model_set_visible (self->model, start, start + span);
    }
  else if (self->drag_mode == DRAG_SELECT && self->drag_moved)
    {
      gint64 raw = _lt_timeline_view_x_to_time (self, self->drag_start_x + offset_x);
      gint64 snapped = lt_timeline_model_snap (self->model, raw, snap_tolerance (self));

      self->drag_edge_us = snapped;
      self->drag_snapped = snapped != raw;
      if (snapped != self->drag_anchor_us)
        lt_timeline_model_set_selection (self->model, self->drag_anchor_us, snapped);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
drag_end_cb (LtTimelineView *self,
             double          offset_x,
             double          offset_y)
{
  if (self->model != NULL && self->drag_mode == DRAG_SELECT && !self->drag_moved)
    {
      /* A click: the range under it, or nothing. */
      const LtTimelineRange *range =
        lt_timeline_model_range_at (self->model,
                                    _lt_timeline_view_x_to_time (self, self->drag_start_x));

      if (range != NULL)
        lt_timeline_model_set_selection (self->model, range->start_us,
                                         lt_timeline_model_get_range_end (self->model, range));
      else
        lt_timeline_model_clear_selection (self->model);
    }
  self->drag_mode = DRAG_NONE;
  self->drag_moved = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
move_selection_end (LtTimelineView *self,
                    int             direction)
{
  gint64 span = lt_timeline_model_get_visible_end (self->model)
                - lt_timeline_model_get_visible_start (self->model);
  gint64 step = MAX (span / 50, G_TIME_SPAN_SECOND);
  gint64 start, end;

  if (!lt_timeline_model_get_selection (self->model, &start, &end))
    {
      start = lt_timeline_model_get_visible_start (self->model) + span / 2;
      end = start;
    }
  end = lt_timeline_model_snap (self->model, end + direction * step, snap_tolerance (self));
  if (end > start)
    lt_timeline_model_set_selection (self->model, start, end);
}

static gboolean
key_pressed_cb (LtTimelineView  *self,
                guint            keyval,
                guint            keycode,
                GdkModifierType  state)
{
  gint64 vs, ve, span, center;
  GPtrArray *ranges;

  if (self->model == NULL)
    return FALSE;

  vs = lt_timeline_model_get_visible_start (self->model);
  ve = lt_timeline_model_get_visible_end (self->model);
  span = ve - vs;
  center = vs + span / 2;

  switch (keyval)
    {
    case GDK_KEY_Left:
    case GDK_KEY_KP_Left:
    case GDK_KEY_Right:
    case GDK_KEY_KP_Right:
      {
        int direction = keyval == GDK_KEY_Left || keyval == GDK_KEY_KP_Left ? -1 : 1;

        if (state & GDK_SHIFT_MASK)
          move_selection_end (self, direction);
        else
          lt_timeline_model_pan (self->model, direction * span / 10);
        return TRUE;
      }
    case GDK_KEY_plus:
    case GDK_KEY_equal:
    case GDK_KEY_KP_Add:
      lt_timeline_model_zoom (self->model, 1.5, center);
      return TRUE;
    case GDK_KEY_minus:
    case GDK_KEY_underscore:
    case GDK_KEY_KP_Subtract:
      lt_timeline_model_zoom (self->model, 1 / 1.5, center);
      return TRUE;
    case GDK_KEY_Home:
    case GDK_KEY_KP_Home:
      ranges = lt_timeline_model_get_ranges (self->model);
      if (ranges != NULL && ranges->len > 0)
        {
          const LtTimelineRange *first = g_ptr_array_index (ranges, 0);
          gint64 start = first->start_us - span / 20;

          lt_timeline_model_set_visible (self->model, start, start + span);
        }
      else
        lt_timeline_model_set_visible (self->model,
                                       lt_timeline_model_get_bounds_start (self->model),
                                       lt_timeline_model_get_bounds_start (self->model) + span);
      return TRUE;
    case GDK_KEY_End:
    case GDK_KEY_KP_End:
      {
        gint64 end = lt_timeline_model_get_now (self->model) + span / 20;

        lt_timeline_model_set_visible (self->model, end - span, end);
        return TRUE;
      }
    case GDK_KEY_Escape:
      if (!lt_timeline_model_get_selection (self->model, NULL, NULL))
        return FALSE;
      lt_timeline_model_clear_selection (self->model);
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
key_modifiers_cb (LtTimelineView  *self,
                  GdkModifierType  state)
{
  self->key_modifiers = state;
  return FALSE;
}

static gboolean
lt_timeline_view_query_tooltip (GtkWidget  *widget,
                                int         x,
                                int         y,
                                gboolean    keyboard_tooltip,
                                GtkTooltip *tooltip)
{
  LtTimelineView *self = LT_TIMELINE_VIEW (widget);
  g_autofree char *text = NULL;
  Geometry g;

  get_geometry (self, &g);
  if (keyboard_tooltip)
    x = (int) (g.width / 2);
  else if (y < g.axis_y)
    return FALSE;
  text = _lt_timeline_view_dup_tooltip_at (self, x);
  if (text == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

/* Lifecycle */

static void
model_visible_changed_cb (LtTimelineView *self)
{
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lt_timeline_view_set_model (LtTimelineView  *self,
                            LtTimelineModel *model)
{
  g_return_if_fail (LT_IS_TIMELINE_VIEW (self));
  g_return_if_fail (model == NULL || LT_IS_TIMELINE_MODEL (model));

  if (self->model == model)
    return;

  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  g_set_object (&self->model, model);
  if (model != NULL)
    {
      g_signal_connect_object (model, "visible-changed",
                               G_CALLBACK (model_visible_changed_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (model, "selection-changed",
                               G_CALLBACK (gtk_widget_queue_draw), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (model, "data-changed",
                               G_CALLBACK (gtk_widget_queue_draw), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (model, "notify::now",
                               G_CALLBACK (gtk_widget_queue_draw), self, G_CONNECT_SWAPPED);
      update_accessible (self);
    }
  self->drag_mode = DRAG_NONE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
}

LtTimelineModel *
lt_timeline_view_get_model (LtTimelineView *self)
{
  g_return_val_if_fail (LT_IS_TIMELINE_VIEW (self), NULL);

  return self->model;
}

GtkWidget *
lt_timeline_view_new (void)
{
  return g_object_new (LT_TYPE_TIMELINE_VIEW, NULL);
}

static void
lt_timeline_view_measure (GtkWidget      *widget,
                          GtkOrientation  orientation,
                          int             for_size,
                          int            *minimum,
                          int            *natural,
                          int            *minimum_baseline,
                          int            *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 200;
      *natural = 600;
    }
  else
    {
      *minimum = 96;
      *natural = 120;
    }
}

static void
lt_timeline_view_css_changed (GtkWidget         *widget,
                              GtkCssStyleChange *change)
{
  LtTimelineView *self = LT_TIMELINE_VIEW (widget);

  GTK_WIDGET_CLASS (lt_timeline_view_parent_class)->css_changed (widget, change);

  /* Fonts or scale may have changed: the layouts are stale. */
  g_hash_table_remove_all (self->label_cache);
  g_hash_table_remove_all (self->cause_cache);
  self->label_height = 0;
  memset (self->tick_label_widths, 0, sizeof self->tick_label_widths);
  gtk_widget_queue_draw (widget);
}

static void
lt_timeline_view_dispose (GObject *object)
{
  LtTimelineView *self = LT_TIMELINE_VIEW (object);

  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  g_clear_object (&self->model);

  G_OBJECT_CLASS (lt_timeline_view_parent_class)->dispose (object);
}

static void
lt_timeline_view_finalize (GObject *object)
{
  LtTimelineView *self = LT_TIMELINE_VIEW (object);

  g_clear_pointer (&self->label_cache, g_hash_table_unref);
  g_clear_pointer (&self->cause_cache, g_hash_table_unref);
  g_clear_pointer (&self->labels, g_ptr_array_unref);

  G_OBJECT_CLASS (lt_timeline_view_parent_class)->finalize (object);
}

static void
lt_timeline_view_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  LtTimelineView *self = LT_TIMELINE_VIEW (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_set_object (value, self->model);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_timeline_view_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  LtTimelineView *self = LT_TIMELINE_VIEW (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      lt_timeline_view_set_model (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_timeline_view_class_init (LtTimelineViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lt_timeline_view_dispose;
  object_class->finalize = lt_timeline_view_finalize;
  object_class->get_property = lt_timeline_view_get_property;
  object_class->set_property = lt_timeline_view_set_property;

  widget_class->snapshot = lt_timeline_view_snapshot;
  widget_class->measure = lt_timeline_view_measure;
  widget_class->css_changed = lt_timeline_view_css_changed;
  widget_class->query_tooltip = lt_timeline_view_query_tooltip;

  properties[PROP_MODEL] =
    g_param_spec_object ("model", NULL, NULL, LT_TYPE_TIMELINE_MODEL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "lttimelineview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_WIDGET);
}

static void
load_css (GtkWidget *widget)
{
  GdkDisplay *display = gtk_widget_get_display (widget);
  g_autoptr(GtkCssProvider) provider = NULL;

  if (g_object_get_data (G_OBJECT (display), "lt-timeline-view-css") != NULL)
    return;
  provider = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (provider,
                                       "/io/github/livetape/Livetape/lt-timeline-view.css");
  gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_set_data (G_OBJECT (display), "lt-timeline-view-css", GINT_TO_POINTER (TRUE));
}

static void
lt_timeline_view_init (LtTimelineView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkEventController *controller;
  GtkGesture *gesture;

  self->label_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->cause_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->labels = g_ptr_array_new_with_free_func (g_free);

  load_css (widget);
  gtk_widget_set_focusable (widget, TRUE);
  gtk_widget_set_has_tooltip (widget, TRUE);
  gtk_widget_set_overflow (widget, GTK_OVERFLOW_HIDDEN);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Timeline"),
                                  -1);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  gtk_event_controller_set_name (controller, "lt-timeline-scroll");
  g_signal_connect_swapped (controller, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (widget, controller);

  controller = gtk_event_controller_motion_new ();
  gtk_event_controller_set_name (controller, "lt-timeline-motion");
  g_signal_connect_swapped (controller, "enter", G_CALLBACK (motion_cb), self);
  g_signal_connect_swapped (controller, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect_swapped (controller, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (widget, controller);

  controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_name (controller, "lt-timeline-key");
  g_signal_connect_swapped (controller, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  g_signal_connect_swapped (controller, "modifiers", G_CALLBACK (key_modifiers_cb), self);
  gtk_widget_add_controller (widget, controller);

  gesture = gtk_gesture_zoom_new ();
  gtk_event_controller_set_name (GTK_EVENT_CONTROLLER (gesture), "lt-timeline-pinch");
  g_signal_connect_swapped (gesture, "end", G_CALLBACK (pinch_end_cb), self);
  g_signal_connect_swapped (gesture, "cancel", G_CALLBACK (pinch_end_cb), self);
  g_signal_connect_swapped (gesture, "scale-changed", G_CALLBACK (pinch_scale_changed_cb), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_drag_new ();
  gtk_event_controller_set_name (GTK_EVENT_CONTROLLER (gesture), "lt-timeline-drag");
  g_signal_connect_swapped (gesture, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect_swapped (gesture, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect_swapped (gesture, "drag-end", G_CALLBACK (drag_end_cb), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (gesture));
}
