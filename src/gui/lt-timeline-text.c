/* lt-timeline-text.c: the Timeline's times and durations as text (see the header). */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-timeline-text.h"

static GDateTime *
local_time (gint64 time_us)
{
  return g_date_time_new_from_unix_local (time_us / G_USEC_PER_SEC);
}

char *
lt_timeline_text_time (gint64      time_us,
                       const char *format)
{
  g_autoptr(GDateTime) time = local_time (time_us);

  return time != NULL ? g_date_time_format (time, format) : g_strdup ("");
}

char *
lt_timeline_text_duration (gint64 duration_us)
{
  gint64 seconds;

  duration_us = MAX (duration_us, 0);
  seconds = duration_us / G_USEC_PER_SEC;
  if (seconds < 60)
    /* TRANSLATORS: a duration in seconds, e.g. "6.0 s" */
    return g_strdup_printf (_("%.1f s"), (double) duration_us / G_USEC_PER_SEC);
  if (seconds < 3600)
    /* TRANSLATORS: a duration, e.g. "5 min 02 s" */
    return g_strdup_printf (_("%d min %02d s"), (int) (seconds / 60), (int) (seconds % 60));
  if (seconds < 24 * 3600)
    /* TRANSLATORS: a duration, e.g. "2 h 05 min" */
    return g_strdup_printf (_("%d h %02d min"), (int) (seconds / 3600),
                            (int) (seconds % 3600 / 60));
  /* TRANSLATORS: a duration, e.g. "3 d 4 h" */
  return g_strdup_printf (_("%d d %d h"), (int) (seconds / (24 * 3600)),
                          (int) (seconds % (24 * 3600) / 3600));
}

char *
lt_timeline_text_span (gint64      start_us,
                       gint64      end_us,
                       const char *start_format)
{
  g_autoptr(GDateTime) start = local_time (start_us);
  g_autoptr(GDateTime) end = local_time (end_us);
  g_autofree char *start_text = NULL;
  g_autofree char *end_text = NULL;

  if (start == NULL || end == NULL)
    return g_strdup ("");
  start_text = g_date_time_format (start, start_format);
  if (g_date_time_get_year (start) == g_date_time_get_year (end)
      && g_date_time_get_day_of_year (start) == g_date_time_get_day_of_year (end))
    end_text = g_date_time_format (end, "%H:%M:%S");
  else
    end_text = g_date_time_format (end, start_format);
  /* TRANSLATORS: a time span, start – end */
  return g_strdup_printf (_("%s – %s"), start_text, end_text);
}
