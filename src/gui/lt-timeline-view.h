/* lt-timeline-view.h: the Timeline page's time axis — a custom widget that draws an
 * LtTimelineModel: local-time labels and ticks that suit the zoom (months and days down to
 * seconds), recorded ranges, the gaps between them with their causes, slices one by one
 * when zoomed in, the live growth of a recording, the selection and index-file marks.
 *
 * Input: Ctrl+scroll and pinch zoom at the pointer, scroll and drag on the axis pan,
 * drag on the ranges selects (snapping to slice boundaries, shown while dragging),
 * hover shows a range's times in a tooltip; it is focusable and keyboard-usable:
 * Left/Right pan, +/−/= zoom, Shift+Left/Right grow or shrink the selection, Home/End
 * jump to the first recording/now, Escape clears the selection.
 */
#pragma once

#include <gtk/gtk.h>

#include "lt-timeline-model.h"

G_BEGIN_DECLS

#define LT_TYPE_TIMELINE_VIEW (lt_timeline_view_get_type ())
G_DECLARE_FINAL_TYPE (LtTimelineView, lt_timeline_view, LT, TIMELINE_VIEW, GtkWidget)

GtkWidget       *lt_timeline_view_new         (void);
/* Property "model". */
void             lt_timeline_view_set_model   (LtTimelineView  *self,
                                               LtTimelineModel *model);
LtTimelineModel *lt_timeline_view_get_model   (LtTimelineView  *self);

/* For tests and bench/. The x coordinate (widget pixels) of @time_us, and back. */
double           _lt_timeline_view_time_to_x  (LtTimelineView  *self,
                                               gint64           time_us);
gint64           _lt_timeline_view_x_to_time  (LtTimelineView  *self,
                                               double           x);
/* The y of the middle of the ranges' lane (where a drag selects). */
double           _lt_timeline_view_lane_y     (LtTimelineView  *self);
/* The text the view shows for the range under @x (the hover tooltip), or NULL. */
char            *_lt_timeline_view_dup_tooltip_at (LtTimelineView *self,
                                                   double          x);
/* The number of ticks labelled in the last snapshot, and the first label. */
guint            _lt_timeline_view_get_n_labels (LtTimelineView *self);
const char      *_lt_timeline_view_get_label    (LtTimelineView *self,
                                                 guint           i);

G_END_DECLS
