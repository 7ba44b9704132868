/* lt-timeline-model.h: the Timeline page's state, without widgets (in the style of
 * Sysprof's session and its time spans): the time the view shows ("visible"), the time
 * the operator selected ("selection"), the bounds one can pan and zoom in, the live edge
 * ("now"), and the data drawn — recorded ranges with why each ended, the slices of the
 * visible time when zoomed in far enough to see them, and the index files as marks.
 *
 * The page loads the data (catalog queries) and hands it over; the view (LtTimelineView)
 * draws the model and turns input into model calls. All times are Unix microseconds.
 */
#pragma once

#include <glib-object.h>

#include "lt-index-files.h"
#include "lt-timeline.h"

G_BEGIN_DECLS

/* The narrowest visible span (a few slices), and the widest (a whole month and a bit). */
#define LT_TIMELINE_MODEL_MIN_SPAN_US  (20 * G_TIME_SPAN_SECOND)
#define LT_TIMELINE_MODEL_MAX_SPAN_US  (35 * G_TIME_SPAN_DAY)
/* Slices are loaded and drawn one by one when the visible span is at most this. */
#define LT_TIMELINE_MODEL_SLICE_SPAN_US (3 * G_TIME_SPAN_HOUR)

#define LT_TYPE_TIMELINE_MODEL (lt_timeline_model_get_type ())
G_DECLARE_FINAL_TYPE (LtTimelineModel, lt_timeline_model, LT, TIMELINE_MODEL, GObject)

LtTimelineModel *lt_timeline_model_new               (void);

/* Bounds: [start, end). Visible time is kept inside them (and within the spans above);
 * setting the bounds clamps visible time and the selection. Default: the 35 days up to
 * now. Properties "bounds-start", "bounds-end" (gint64, read-only; one
 * notify each when they change). */
void             lt_timeline_model_set_bounds        (LtTimelineModel *self,
                                                      gint64           start_us,
                                                      gint64           end_us);
gint64           lt_timeline_model_get_bounds_start  (LtTimelineModel *self);
gint64           lt_timeline_model_get_bounds_end    (LtTimelineModel *self);

/* Visible time. Properties "visible-start", "visible-end" (read-only); after any change the
 * "visible-changed" signal is emitted once. set_visible clamps (keeping the span where it
 * can, moving the window inside the bounds). */
void             lt_timeline_model_set_visible       (LtTimelineModel *self,
                                                      gint64           start_us,
                                                      gint64           end_us);
gint64           lt_timeline_model_get_visible_start (LtTimelineModel *self);
gint64           lt_timeline_model_get_visible_end   (LtTimelineModel *self);
/* Zooms by @factor (> 1 narrows the span, zooms in) keeping @anchor_us at the same place
 * on screen; clamped to the spans and bounds. */
void             lt_timeline_model_zoom              (LtTimelineModel *self,
                                                      double           factor,
                                                      gint64           anchor_us);
/* Moves the visible time by @delta_us (clamped to the bounds). */
void             lt_timeline_model_pan               (LtTimelineModel *self,
                                                      gint64           delta_us);
/* Makes the selection visible with a small margin on each side (no-op without one). */
void             lt_timeline_model_zoom_to_selection (LtTimelineModel *self);

/* The selection: [start, end), end > start. Property "has-selection" (boolean) and the
 * "selection-changed" signal after any change. set_selection orders the two ends and
 * clamps them to the bounds. */
void             lt_timeline_model_set_selection     (LtTimelineModel *self,
                                                      gint64           start_us,
                                                      gint64           end_us);
void             lt_timeline_model_clear_selection   (LtTimelineModel *self);
gboolean         lt_timeline_model_get_selection     (LtTimelineModel *self,
                                                      gint64          *start_us,
                                                      gint64          *end_us);

/* The live edge: ranges still recording are drawn up to it. Property "now" (gint64). */
void             lt_timeline_model_set_now           (LtTimelineModel *self,
                                                      gint64           now_us);
gint64           lt_timeline_model_get_now           (LtTimelineModel *self);

/* Data. Each setter takes a reference to the array (or NULL for none) and emits
 * "data-changed" once. ranges: LtTimelineRange* in time order (lt_timeline_query_coverage),
 * covering at least the visible time. slices: LtTimelineSlice in time order, only for the
 * visible time when its span ≤ LT_TIMELINE_MODEL_SLICE_SPAN_US, else NULL. marks:
 * LtIndexFile* of the stream. */
void             lt_timeline_model_set_ranges        (LtTimelineModel *self,
                                                      GPtrArray       *ranges);
GPtrArray       *lt_timeline_model_get_ranges        (LtTimelineModel *self);
void             lt_timeline_model_set_slices        (LtTimelineModel *self,
                                                      GArray          *slices);
GArray          *lt_timeline_model_get_slices        (LtTimelineModel *self);
void             lt_timeline_model_set_marks         (LtTimelineModel *self,
                                                      GPtrArray       *marks);
GPtrArray       *lt_timeline_model_get_marks         (LtTimelineModel *self);

/* The slice boundary (a slice's start or end) or range boundary nearest to @time_us
 * within @tolerance_us, or @time_us itself when there is none. Used while dragging a
 * selection, so that "Create M3U8" gets whole slices. */
gint64           lt_timeline_model_snap              (LtTimelineModel *self,
                                                      gint64           time_us,
                                                      gint64           tolerance_us);
/* The range containing @time_us (clipped to what was loaded), or NULL. */
const LtTimelineRange *lt_timeline_model_range_at    (LtTimelineModel *self,
                                                      gint64           time_us);

/* Where @range ends as drawn — "now" for a range still
 * recording (when now is later than its end_us), else its end_us. */
gint64           lt_timeline_model_get_range_end     (LtTimelineModel       *self,
                                                      const LtTimelineRange *range);
/* Binary searches: the index of the first range (slice) starting after @time_us (0 when
 * there is none before it; the array's length when all start at or before it). */
guint            lt_timeline_model_find_range        (LtTimelineModel *self,
                                                      gint64           time_us);
guint            lt_timeline_model_find_slice        (LtTimelineModel *self,
                                                      gint64           time_us);

G_END_DECLS
