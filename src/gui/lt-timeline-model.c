/* lt-timeline-model.c: the Timeline page's visible and selected time, its bounds, the
 * live edge and the data drawn (see lt-timeline-model.h). Plain GObject: the widget
 * turns input into these calls, the tests drive it without a display. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "lt-timeline-model.h"

struct _LtTimelineModel
{
  GObject    parent_instance;

  gint64     bounds_start;
  gint64     bounds_end;
  gint64     visible_start;
  gint64     visible_end;
  gboolean   has_selection;
  gint64     selection_start;
  gint64     selection_end;
  gint64     now;

  GPtrArray *ranges;
  GArray    *slices;
  GPtrArray *marks;
};

G_DEFINE_FINAL_TYPE (LtTimelineModel, lt_timeline_model, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_BOUNDS_START,
  PROP_BOUNDS_END,
  PROP_VISIBLE_START,
  PROP_VISIBLE_END,
  PROP_HAS_SELECTION,
  PROP_NOW,
  N_PROPS
};

enum {
  VISIBLE_CHANGED,
  SELECTION_CHANGED,
  DATA_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
lt_timeline_model_finalize (GObject *object)
{
  LtTimelineModel *self = LT_TIMELINE_MODEL (object);

  g_clear_pointer (&self->ranges, g_ptr_array_unref);
  g_clear_pointer (&self->slices, g_array_unref);
  g_clear_pointer (&self->marks, g_ptr_array_unref);

  G_OBJECT_CLASS (lt_timeline_model_parent_class)->finalize (object);
}

static void
lt_timeline_model_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  LtTimelineModel *self = LT_TIMELINE_MODEL (object);

  switch (prop_id)
    {
    case PROP_BOUNDS_START:
      g_value_set_int64 (value, self->bounds_start);
      break;
    case PROP_BOUNDS_END:
      g_value_set_int64 (value, self->bounds_end);
      break;
    case PROP_VISIBLE_START:
      g_value_set_int64 (value, self->visible_start);
      break;
    case PROP_VISIBLE_END:
      g_value_set_int64 (value, self->visible_end);
      break;
    case PROP_HAS_SELECTION:
      g_value_set_boolean (value, self->has_selection);
      break;
    case PROP_NOW:
      g_value_set_int64 (value, self->now);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_timeline_model_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  LtTimelineModel *self = LT_TIMELINE_MODEL (object);

  switch (prop_id)
    {
    case PROP_NOW:
      lt_timeline_model_set_now (self, g_value_get_int64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_timeline_model_class_init (LtTimelineModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lt_timeline_model_finalize;
  object_class->get_property = lt_timeline_model_get_property;
  object_class->set_property = lt_timeline_model_set_property;

  properties[PROP_BOUNDS_START] =
    g_param_spec_int64 ("bounds-start", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BOUNDS_END] =
    g_param_spec_int64 ("bounds-end", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_VISIBLE_START] =
    g_param_spec_int64 ("visible-start", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_VISIBLE_END] =
    g_param_spec_int64 ("visible-end", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HAS_SELECTION] =
    g_param_spec_boolean ("has-selection", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_NOW] =
    g_param_spec_int64 ("now", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[VISIBLE_CHANGED] =
    g_signal_new ("visible-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SELECTION_CHANGED] =
    g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[DATA_CHANGED] =
    g_signal_new ("data-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
lt_timeline_model_init (LtTimelineModel *self)
{
  self->now = g_get_real_time ();
  self->bounds_end = self->now;
  self->bounds_start = self->now - LT_TIMELINE_MODEL_MAX_SPAN_US;
  self->visible_start = self->bounds_start;
  self->visible_end = self->bounds_end;
}

LtTimelineModel *
lt_timeline_model_new (void)
{
  return g_object_new (LT_TYPE_TIMELINE_MODEL, NULL);
}

/* Visible time */

/* The narrowest and widest visible spans, within the bounds. */
static void
span_limits (LtTimelineModel *self,
             gint64          *min_span,
             gint64          *max_span)
{
  *max_span = MIN (LT_TIMELINE_MODEL_MAX_SPAN_US, self->bounds_end - self->bounds_start);
  *min_span = MIN (LT_TIMELINE_MODEL_MIN_SPAN_US, *max_span);
}

/* Where [start, start + span) has to go to respect the spans and the bounds. */
static void
clamp_visible (LtTimelineModel *self,
               gint64          *start_us,
               gint64          *end_us)
{
  gint64 min_span, max_span;
  gint64 span = *end_us - *start_us;
  gint64 start = *start_us;

  span_limits (self, &min_span, &max_span);
  if (span < min_span || span > max_span)
    {
      /* Keep the middle where the span has to change. */
      gint64 middle = start + span / 2;

      span = CLAMP (span, min_span, max_span);
      start = middle - span / 2;
    }
  start = CLAMP (start, self->bounds_start, self->bounds_end - span);

  *start_us = start;
  *end_us = start + span;
}

static void
apply_visible (LtTimelineModel *self,
               gint64           start_us,
               gint64           end_us)
{
  gboolean changed = FALSE;

  clamp_visible (self, &start_us, &end_us);

  g_object_freeze_notify (G_OBJECT (self));
  if (self->visible_start != start_us)
    {
      self->visible_start = start_us;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VISIBLE_START]);
      changed = TRUE;
    }
  if (self->visible_end != end_us)
    {
      self->visible_end = end_us;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VISIBLE_END]);
      changed = TRUE;
    }
  g_object_thaw_notify (G_OBJECT (self));

  if (changed)
    g_signal_emit (self, signals[VISIBLE_CHANGED], 0);
}

void
lt_timeline_model_set_visible (LtTimelineModel *self,
                               gint64           start_us,
                               gint64           end_us)
{
  g_return_if_fail (LT_IS_TIMELINE_MODEL (self));

  if (end_us < start_us)
    {
      gint64 tmp = start_us;

      start_us = end_us;
      end_us = tmp;
    }
  apply_visible (self, start_us, end_us);
}

gint64
lt_timeline_model_get_visible_start (LtTimelineModel *self)
{
  g_return_val_if_fail (LT_IS_TIMELINE_MODEL (self), 0);

  return self->visible_start;
}

gint64
lt_timeline_model_get_visible_end (LtTimelineModel *self)
{
  g_return_val_if_fail (LT_IS_TIMELINE_MODEL (self), 0);

  return self->visible_end;
}

void
lt_timeline_model_zoom (LtTimelineModel *self,
                        double           factor,
                        gint64           anchor_us)
{
  gint64 max_span, min_span, span, new_span;
  double fraction;
  gint64 start;

  g_return_if_fail (LT_IS_TIMELINE_MODEL (self));
  g_return_if_fail (factor > 0);

  span_limits (self, &min_span, &max_span);
  span = self->visible_end - self->visible_start;
  new_span = (gint64) llround ((double) span / factor);
  new_span = CLAMP (new_span, min_span, max_span);
  if (span <= 0)
    return;

  /* The anchor keeps its fraction of the width (and so its place on screen). */
  fraction = (double) (anchor_us - self->visible_start) / (double) span;
  start = anchor_us - (gint64) llround (fraction * (double) new_span);
  apply_visible (self, start, start + new_span);
}

void
lt_timeline_model_pan (LtTimelineModel *self,
                       gint64           delta_us)
{
  g_return_if_fail (LT_IS_TIMELINE_MODEL (self));

  apply_visible (self, self->visible_start + delta_us, self->visible_end + delta_us);
}

void
lt_timeline_model_zoom_to_selection (LtTimelineModel *self)
{
  gint64 margin;

  g_return_if_fail (LT_IS_TIMELINE_MODEL (self));

  if (!self->has_selection)
    return;

  margin = (self->selection_end - self->selection_start) / 20;
  apply_visible (self, self->selection_start - margin, self->selection_end + margin);
}

/* Bounds */

static gboolean
apply_selection (LtTimelineModel *self,
                 gboolean         has_selection,
                 gint64           start_us,
                 gint64           end_us)
{
  gboolean changed = FALSE;

  if (has_selection)
    {
      start_us = CLAMP (start_us, self->bounds_start, self->bounds_end);
      end_us = CLAMP (end_us, self->bounds_start, self->bounds_end);
      if (end_us <= start_us)
        has_selection = FALSE;
    }
  if (!has_selection)
    start_us = end_us = 0;

  if (has_selection != self->has_selection)
    {
      self->has_selection = has_selection;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_SELECTION]);
      changed = TRUE;
    }
  if (start_us != self->selection_start || end_us != self->selection_end)
    {
      self->selection_start = start_us;
      self->selection_end = end_us;
      changed = TRUE;
    }
  if (changed)
    g_signal_emit (self, signals[SELECTION_CHANGED], 0);
  return changed;
}

void
lt_timeline_model_set_bounds (LtTimelineModel *self,
                              gint64           start_us,
                              gint64           end_us)
{
  g_return_if_fail (LT_IS_TIMELINE_MODEL (self));
  g_return_if_fail (end_us > start_us);

  g_object_freeze_notify (G_OBJECT (self));
  if (self->bounds_start != start_us)
    {
      self->bounds_start = start_us;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BOUNDS_START]);
    }
  if (self->bounds_end != end_us)
    {
      self->bounds_end = end_us;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BOUNDS_END]);
    }
  apply_visible (self, self->visible_start, self->visible_end);
  apply_selection (self, self->has_selection, self->selection_start, self->selection_end);
  g_object_thaw_notify (G_OBJECT (self));
}

gint64
lt_timeline_model_get_bounds_start (LtTimelineModel *self)
{
  g_return_val_if_fail (LT_IS_TIMELINE_MODEL (self), 0);

  return self->bounds_start;
}

gint64
lt_timeline_model_get_bounds_end (LtTimelineModel *self)
{
  g_return_val_if_fail (LT_IS_TIMELINE_MODEL (self), 0);

  return self->bounds_end;
}

/* Selection */

void
lt_timeline_model_set_selection (LtTimelineModel *self,
                                 gint64           start_us,
                                 gint64           end_us)
{
  g_return_if_fail (LT_IS_TIMELINE_MODEL (self));

  apply_selection (self, TRUE, MIN (start_us, end_us), MAX (start_us, end_us));
}

void
lt_timeline_model_clear_selection (LtTimelineModel *self)
{
  g_return_if_fail (LT_IS_TIMELINE_MODEL (self));

  apply_selection (self, FALSE, 0, 0);
}

gboolean
lt_timeline_model_get_selection (LtTimelineModel *self,
                                 gint64          *start_us,
                                 gint64          *end_us)
{
  g_return_val_if_fail (LT_IS_TIMELINE_MODEL (self), FALSE);

  if (start_us != NULL)
    *start_us = self->selection_start;
  if (end_us != NULL)
    *end_us = self->selection_end;
  return self->has_selection;
}

/* Now */

void
lt_timeline_model_set_now (LtTimelineModel *self,
                           gint64           now_us)
{
  g_return_if_fail (LT_IS_TIMELINE_MODEL (self));

  if (self->now == now_us)
    return;
  self->now = now_us;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NOW]);
}

gint64
lt_timeline_model_get_now (LtTimelineModel *self)
{
  g_return_val_if_fail (LT_IS_TIMELINE_MODEL (self), 0);

  return self->now;
}

/* Data */

void
lt_timeline_model_set_ranges (LtTimelineModel *self,
                              GPtrArray       *ranges)
{
  g_return_if_fail (LT_IS_TIMELINE_MODEL (self));

  if (ranges != NULL)
    g_ptr_array_ref (ranges);
  g_clear_pointer (&self->ranges, g_ptr_array_unref);
  self->ranges = ranges;
  g_signal_emit (self, signals[DATA_CHANGED], 0);
}

GPtrArray *
lt_timeline_model_get_ranges (LtTimelineModel *self)
{
  g_return_val_if_fail (LT_IS_TIMELINE_MODEL (self), NULL);

  return self->ranges;
}

void
lt_timeline_model_set_slices (LtTimelineModel *self,
                              GArray          *slices)
{
  g_return_if_fail (LT_IS_TIMELINE_MODEL (self));

  if (slices != NULL)
    g_array_ref (slices);
  g_clear_pointer (&self->slices, g_array_unref);
  self->slices = slices;
  g_signal_emit (self, signals[DATA_CHANGED], 0);
}

GArray *
lt_timeline_model_get_slices (LtTimelineModel *self)
{
  g_return_val_if_fail (LT_IS_TIMELINE_MODEL (self), NULL);

  return self->slices;
}

void
lt_timeline_model_set_marks (LtTimelineModel *self,
                             GPtrArray       *marks)
{
  g_return_if_fail (LT_IS_TIMELINE_MODEL (self));

  if (marks != NULL)
    g_ptr_array_ref (marks);
  g_clear_pointer (&self->marks, g_ptr_array_unref);
  self->marks = marks;
  g_signal_emit (self, signals[DATA_CHANGED], 0);
}

GPtrArray *
lt_timeline_model_get_marks (LtTimelineModel *self)
{
  g_return_val_if_fail (LT_IS_TIMELINE_MODEL (self), NULL);

  return self->marks;
}

gint64
lt_timeline_model_get_range_end (LtTimelineModel       *self,
                                 const LtTimelineRange *range)
{
  g_return_val_if_fail (LT_IS_TIMELINE_MODEL (self), 0);
  g_return_val_if_fail (range != NULL, 0);

  if (g_strcmp0 (range->end_reason, "recording") == 0 && self->now > range->end_us)
    return self->now;
  return range->end_us;
}

/* Searches */

guint
lt_timeline_model_find_range (LtTimelineModel *self,
                              gint64           time_us)
{
  guint lo = 0, hi;

  g_return_val_if_fail (LT_IS_TIMELINE_MODEL (self), 0);

  if (self->ranges == NULL)
    return 0;

  /* The first range whose start is after @time_us. */
  hi = self->ranges->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const LtTimelineRange *range = g_ptr_array_index (self->ranges, mid);

      if (range->start_us <= time_us)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

guint
lt_timeline_model_find_slice (LtTimelineModel *self,
                              gint64           time_us)
{
  guint lo = 0, hi;

  g_return_val_if_fail (LT_IS_TIMELINE_MODEL (self), 0);

  if (self->slices == NULL)
    return 0;

  hi = self->slices->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const LtTimelineSlice *slice = &g_array_index (self->slices, LtTimelineSlice, mid);

      if (slice->start_us <= time_us)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static void
consider (gint64    candidate,
          gint64    time_us,
          gint64   *best,
          gint64   *best_distance)
{
  gint64 distance = ABS (candidate - time_us);

  if (distance < *best_distance)
    {
      *best = candidate;
      *best_distance = distance;
    }
}

gint64
lt_timeline_model_snap (LtTimelineModel *self,
                        gint64           time_us,
                        gint64           tolerance_us)
{
  gint64 best = time_us;
  gint64 best_distance;

  g_return_val_if_fail (LT_IS_TIMELINE_MODEL (self), time_us);

  best_distance = MAX (tolerance_us, 0) + 1;

  /* Starts and ends are both in order: the nearest of each is next to where @time_us
   * would go. */
  if (self->slices != NULL && self->slices->len > 0)
    {
      guint i = lt_timeline_model_find_slice (self, time_us);
      guint first = i >= 2 ? i - 2 : 0;
      guint last = MIN (i + 1, self->slices->len - 1);

      for (guint j = first; j <= last; j++)
        {
          const LtTimelineSlice *slice = &g_array_index (self->slices, LtTimelineSlice, j);

          consider (slice->start_us, time_us, &best, &best_distance);
          consider (slice->start_us + slice->duration_us, time_us, &best, &best_distance);
        }
    }
  if (self->ranges != NULL && self->ranges->len > 0)
    {
      guint i = lt_timeline_model_find_range (self, time_us);
      guint first = i >= 2 ? i - 2 : 0;
      guint last = MIN (i + 1, self->ranges->len - 1);

      for (guint j = first; j <= last; j++)
        {
          const LtTimelineRange *range = g_ptr_array_index (self->ranges, j);

          consider (range->start_us, time_us, &best, &best_distance);
          consider (lt_timeline_model_get_range_end (self, range), time_us,
                    &best, &best_distance);
        }
    }
  return best;
}

const LtTimelineRange *
lt_timeline_model_range_at (LtTimelineModel *self,
                            gint64           time_us)
{
  const LtTimelineRange *range;
  guint i;

  g_return_val_if_fail (LT_IS_TIMELINE_MODEL (self), NULL);

  i = lt_timeline_model_find_range (self, time_us);
  if (i == 0)
    return NULL;
  range = g_ptr_array_index (self->ranges, i - 1);
  if (time_us < lt_timeline_model_get_range_end (self, range))
    return range;
  return NULL;
}
