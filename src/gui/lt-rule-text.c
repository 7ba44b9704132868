/* lt-rule-text.c: the console's wording of a rule (see lt-rule-text.h). */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "lt-rule-text.h"

char *
lt_rule_text_duration (guint seconds)
{
  guint h = seconds / 3600;
  guint min = (seconds % 3600) / 60;
  guint s = seconds % 60;

  if (seconds < 60)
    /* TRANSLATORS: a duration in seconds, e.g. "30 s". */
    return g_strdup_printf (C_("duration", "%u s"), seconds);
  if (h == 0 && s == 0)
    /* TRANSLATORS: a duration in minutes, e.g. "5 min". */
    return g_strdup_printf (C_("duration", "%u min"), min);
  if (min == 0 && s == 0)
    /* TRANSLATORS: a duration in hours, e.g. "6 h". */
    return g_strdup_printf (C_("duration", "%u h"), h);
  if (s == 0)
    /* TRANSLATORS: a duration in hours and minutes, e.g. "1 h 30 min". */
    return g_strdup_printf (C_("duration", "%u h %u min"), h, min);
  if (h == 0)
    /* TRANSLATORS: a duration in minutes and seconds, e.g. "2 min 5 s". */
    return g_strdup_printf (C_("duration", "%u min %u s"), min, s);
  /* TRANSLATORS: a duration in hours, minutes and seconds, e.g. "1 h 2 min 5 s". */
  return g_strdup_printf (C_("duration", "%u h %u min %u s"), h, min, s);
}

const char *
lt_rule_text_format_name (LtRecordFormatKind kind)
{
  switch (kind)
    {
    case LT_RECORD_FORMAT_M3U8:
      return "M3U8";
    case LT_RECORD_FORMAT_MP4:
      return "MP4";
    case LT_RECORD_FORMAT_FLV:
      return "FLV";
    case LT_RECORD_FORMAT_CMAF:
      return "CMAF";
    default:
      g_assert_not_reached ();
    }
}

char *
lt_rule_text_formats (LtRule *rule)
{
  GPtrArray *formats = lt_rule_get_formats (rule);
  g_autoptr(GString) str = g_string_new (NULL);

  for (guint i = 0; formats != NULL && i < formats->len; i++)
    {
      const LtRecordFormat *format = g_ptr_array_index (formats, i);
      g_autofree char *cycle = lt_rule_text_duration (format->cycle_duration);
      g_autofree char *part = NULL;

      if (lt_record_format_kind_is_sliced (format->kind))
        {
          g_autofree char *slice = lt_rule_text_duration (format->slice_duration);

          /* TRANSLATORS: a sliced format in a rule's summary: format name, slice
           * length, cycle length, e.g. "M3U8 · 30 s slices · 6 h cycles". */
          part = g_strdup_printf (_("%s · %s slices · %s cycles"),
                                  lt_rule_text_format_name (format->kind), slice, cycle);
        }
      else
        {
          /* TRANSLATORS: a file format in a rule's summary: format name and cycle
           * length, e.g. "MP4 · 1 h cycles". */
          part = g_strdup_printf (_("%s · %s cycles"),
                                  lt_rule_text_format_name (format->kind), cycle);
        }

      if (str->len > 0)
        /* TRANSLATORS: separates the formats in a rule's summary. */
        g_string_append (str, C_("list separator", ", "));
      g_string_append (str, part);
    }

  return g_string_free (g_steal_pointer (&str), FALSE);
}

const char *
lt_rule_text_on_demand (LtOnDemand on_demand)
{
  switch (on_demand)
    {
    case LT_ON_DEMAND_AUTOMATIC:
      return _("Automatic");
    case LT_ON_DEMAND_URL:
      return _("On-demand URL");
    case LT_ON_DEMAND_PUSH_ARG:
      return _("Publish parameter");
    case LT_ON_DEMAND_MANUAL:
      return _("Manual only");
    default:
      return _("Unknown mode");
    }
}

static gboolean
is_any (const char *name)
{
  return name == NULL || *name == '\0' || g_str_equal (name, "*");
}

char *
lt_rule_text_target (LtRule *rule)
{
  const char *app = lt_rule_get_app_name (rule);
  const char *stream = lt_rule_get_stream_name (rule);

  if (is_any (app))
    return g_strdup (_("All apps"));
  if (is_any (stream))
    /* TRANSLATORS: the target of an app-level rule, e.g. "live, all streams". */
    return g_strdup_printf (_("%s, all streams"), app);
  return g_strdup_printf ("%s/%s", app, stream);
}

char *
lt_rule_text_triplet (LtRule *rule)
{
  const char *app = lt_rule_get_app_name (rule);
  const char *stream = lt_rule_get_stream_name (rule);

  return g_strdup_printf ("%s/%s/%s", lt_rule_get_domain_name (rule),
                          is_any (app) ? "*" : app, is_any (stream) ? "*" : stream);
}

static char *
format_utc (gint64 unix_time)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (unix_time);

  return g_date_time_format (dt, "%Y-%m-%d %H:%M");
}

char *
lt_rule_text_window (LtRule *rule,
                     gint64  now_unix)
{
  gint64 start = lt_rule_get_start_time (rule);
  gint64 end = lt_rule_get_end_time (rule);
  g_autofree char *start_text = NULL;
  g_autofree char *end_text = NULL;

  if (start == 0 && end == 0)
    return NULL;

  start_text = format_utc (start);
  end_text = format_utc (end);

  if (now_unix >= end)
    /* TRANSLATORS: a rule's recording window that is over, e.g.
     * "Window ended 2026-05-01 22:00 UTC". */
    return g_strdup_printf (_("Window ended %s UTC"), end_text);

  /* Same day: only the time of the end. */
  if (strncmp (start_text, end_text, 10) == 0)
    {
      /* TRANSLATORS: a rule's recording window, e.g.
       * "Window 2026-05-01 20:00 – 22:00 UTC". */
      return g_strdup_printf (_("Window %s – %s UTC"), start_text, end_text + 11);
    }

  return g_strdup_printf (_("Window %s – %s UTC"), start_text, end_text);
}
