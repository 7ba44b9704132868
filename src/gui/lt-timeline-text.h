/* lt-timeline-text.h: how the Timeline page and its time axis word times and durations,
 * so that the tooltip, the toolbar, the selection box and the index file rows say the
 * same thing (in the manner of lt-stream-text.h and lt-rule-text.h). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @time_us (Unix µs) in local time with g_date_time_format()'s @format; "" when the time
 * cannot be represented. */
char *lt_timeline_text_time     (gint64      time_us,
                                 const char *format);
/* "6.0 s", "5 min 02 s", "2 h 05 min", "3 d 4 h" (negative durations count as 0). */
char *lt_timeline_text_duration (gint64      duration_us);
/* "<start> – <end>" in local time, @start_format for the start; the end's date only when
 * it is on another day (then with @start_format too, else "%H:%M:%S"). */
char *lt_timeline_text_span     (gint64      start_us,
                                 gint64      end_us,
                                 const char *start_format);

G_END_DECLS
