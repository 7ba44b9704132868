/* lt-recorder-helper.c: runs one LtRecorder from the command line and prints its signals,
 * one line each. The recorder tests run it when they need a process to kill -9 or to
 * trace with strace (ENOSPC injection); bench/bench-recorder.sh measures it.
 *
 *   lt-recorder-helper --root DIR [--bucket B] --uri URI --format m3u8:slice=6:cycle=60 …
 *
 * Several --uri (and --sessions N, which repeats them) run one recorder each in this one
 * process, under ROOT/N/, to measure what a session costs on top of the process; lines are
 * then prefixed with "[N] ".
 *
 * Lines: "state NAME", "file-opened FORMAT SEQ PATH", "slice-closed SEQ DURATION_US
 * DISCONTINUITY KEYFRAME PATH", "file-closed FORMAT SEQ DURATION_US SIZE PATH",
 * "error REASON FORMAT MESSAGE", and "done" after a clean stop; --timestamps puts the
 * Unix time (seconds, 6 decimals) first. SIGINT/SIGTERM stop the
 * recording cleanly; it also stops by itself once the recorder is STOPPED or FAILED.
 */
#include "config.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt-recorder.h"
#include "lt-rule.h"

static GMainLoop *loop;
static GPtrArray *recorders;
static guint n_running;
static gboolean stopping;
static gboolean timestamps;

static void
print_line (LtRecorder *recorder,
            const char *format,
            ...) G_GNUC_PRINTF (2, 3);

static void
print_line (LtRecorder *recorder,
            const char *format,
            ...)
{
  va_list args;

  if (timestamps)
    printf ("%.6f ", (double) g_get_real_time () / G_USEC_PER_SEC);
  if (recorders->len > 1 && recorder != NULL)
    {
      guint index = 0;

      g_ptr_array_find (recorders, recorder, &index);
      printf ("[%u] ", index);
    }
  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
}

static void
stopped_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  lt_recorder_stop_finish (LT_RECORDER (source), result, NULL);
  if (--n_running > 0)
    return;
  print_line (NULL, "done");
  g_main_loop_quit (loop);
}

static void
stop (void)
{
  if (stopping)
    return;
  stopping = TRUE;
  for (guint i = 0; i < recorders->len; i++)
    lt_recorder_stop_async (g_ptr_array_index (recorders, i), NULL, stopped_cb, NULL);
}

static gboolean
all_final (void)
{
  for (guint i = 0; i < recorders->len; i++)
    {
      LtRecorderState state = lt_recorder_get_state (g_ptr_array_index (recorders, i));

      if (state != LT_RECORDER_STATE_STOPPED && state != LT_RECORDER_STATE_FAILED)
        return FALSE;
    }
  return TRUE;
}

static gboolean
signal_cb (gpointer user_data)
{
  stop ();
  return G_SOURCE_CONTINUE;
}

static gboolean
stop_timeout_cb (gpointer user_data)
{
  stop ();
  return G_SOURCE_REMOVE;
}

static void
state_changed_cb (LtRecorder      *self,
                  LtRecorderState  state)
{
  print_line (self, "state %s", lt_recorder_state_to_string (state));
  if ((state == LT_RECORDER_STATE_STOPPED || state == LT_RECORDER_STATE_FAILED) && all_final ())
    stop ();
}

static void
file_opened_cb (LtRecorder            *self,
                const LtRecordingFile *file)
{
  print_line (self, "file-opened %s %" G_GUINT64_FORMAT " %s",
              lt_record_format_kind_to_string (file->format), file->sequence, file->path);
}

static void
slice_closed_cb (LtRecorder             *self,
                 const LtRecordingSlice *slice)
{
  print_line (self, "slice-closed %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT " %d %d %s",
              slice->sequence, slice->duration, slice->discontinuity, slice->keyframe,
              slice->path);
}

static void
file_closed_cb (LtRecorder            *self,
                const LtRecordingFile *file)
{
  print_line (self, "file-closed %s %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GUINT64_FORMAT " %s",
              lt_record_format_kind_to_string (file->format), file->sequence, file->duration,
              file->size, file->path);
}

static void
error_cb (LtRecorder   *self,
          const GError *error,
          int           format)
{
  print_line (self, "error %s %d %s", lt_recorder_error_reason (error->code), format, error->message);
}

static LtRecordFormat *
parse_format (const char *spec)
{
  g_auto(GStrv) parts = g_strsplit (spec, ":", -1);
  LtRecordFormat *format = g_new0 (LtRecordFormat, 1);

  if (!lt_record_format_kind_from_string (parts[0], &format->kind))
    {
      g_printerr ("unknown format %s\n", parts[0]);
      exit (2);
    }
  format->cycle_duration = 0;
  format->slice_duration = lt_record_format_kind_is_sliced (format->kind) ? 6 : 0;
  format->object_prefix = g_strdup (LT_RULE_DEFAULT_OBJECT_PREFIX);
  if (lt_record_format_kind_is_sliced (format->kind))
    format->slice_object_prefix = g_strdup (LT_RULE_DEFAULT_SLICE_OBJECT_PREFIX);
  for (guint i = 1; parts[i] != NULL; i++)
    {
      if (g_str_has_prefix (parts[i], "slice="))
        format->slice_duration = atoi (parts[i] + 6);
      else if (g_str_has_prefix (parts[i], "cycle="))
        format->cycle_duration = atoi (parts[i] + 6);
    }
  return format;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *root = NULL;
  g_autofree char *bucket = NULL;
  g_auto(GStrv) uris = NULL;
  g_autofree char *app = NULL;
  g_autofree char *stream = NULL;
  g_auto(GStrv) formats = NULL;
  int delay = 0;
  int stop_after = 0;
  int source_timeout = 10;
  int sessions = 1;
  GOptionEntry entries[] = {
    { "root", 0, 0, G_OPTION_ARG_FILENAME, &root, "storage root", "DIR" },
    { "bucket", 0, 0, G_OPTION_ARG_STRING, &bucket, "bucket", "NAME" },
    { "uri", 0, 0, G_OPTION_ARG_STRING_ARRAY, &uris, "source URI (repeatable)", "URI" },
    { "sessions", 0, 0, G_OPTION_ARG_INT, &sessions, "repeat the URIs N times", "N" },
    { "app", 0, 0, G_OPTION_ARG_STRING, &app, "app name", "APP" },
    { "stream", 0, 0, G_OPTION_ARG_STRING, &stream, "stream name", "STREAM" },
    { "format", 0, 0, G_OPTION_ARG_STRING_ARRAY, &formats, "format[:slice=S][:cycle=C]", "SPEC" },
    { "delay", 0, 0, G_OPTION_ARG_INT, &delay, "merge window (s)", "S" },
    { "stop-after", 0, 0, G_OPTION_ARG_INT, &stop_after, "stop after S seconds", "S" },
    { "source-timeout", 0, 0, G_OPTION_ARG_INT, &source_timeout, "stall timeout (s)", "S" },
    { "timestamps", 0, 0, G_OPTION_ARG_NONE, &timestamps, "prefix lines with the Unix time", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- run one recording");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) format_array = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_record_format_free);
  LtRecorderParams params = { 0, };
  guint n_total;

  setlocale (LC_ALL, "");
  gst_init (&argc, &argv);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (root == NULL || uris == NULL || formats == NULL)
    {
      g_printerr ("--root, --uri and --format are required\n");
      return 2;
    }
  for (guint i = 0; formats[i] != NULL; i++)
    g_ptr_array_add (format_array, parse_format (formats[i]));

  loop = g_main_loop_new (NULL, FALSE);
  recorders = g_ptr_array_new_with_free_func (g_object_unref);
  n_total = g_strv_length (uris) * MAX (sessions, 1);
  for (guint i = 0; i < n_total; i++)
    {
      g_autofree char *session_root = n_total > 1 ? g_strdup_printf ("%s/%u", root, i)
                                                  : g_strdup (root);
      LtRecorder *recorder;

      params.domain_name = "live.livetape.local";
      params.app_name = app != NULL ? app : "live";
      params.stream_name = stream != NULL ? stream : "test";
      params.storage_root = session_root;
      params.bucket = bucket != NULL ? bucket : "bucket";
      params.delay_time = delay;

      recorder = lt_recorder_new (&params, format_array, &error);
      if (recorder == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      g_ptr_array_add (recorders, recorder);
      lt_recorder_set_source_timeout (recorder, source_timeout);
      g_signal_connect (recorder, "state-changed", G_CALLBACK (state_changed_cb), NULL);
      g_signal_connect (recorder, "file-opened", G_CALLBACK (file_opened_cb), NULL);
      g_signal_connect (recorder, "slice-closed", G_CALLBACK (slice_closed_cb), NULL);
      g_signal_connect (recorder, "file-closed", G_CALLBACK (file_closed_cb), NULL);
      g_signal_connect (recorder, "error", G_CALLBACK (error_cb), NULL);
    }
  n_running = recorders->len;

  g_unix_signal_add (SIGINT, signal_cb, NULL);
  g_unix_signal_add (SIGTERM, signal_cb, NULL);
  if (stop_after > 0)
    g_timeout_add_seconds (stop_after, stop_timeout_cb, NULL);

  for (guint i = 0; i < recorders->len; i++)
    {
      const char *uri = uris[i % g_strv_length (uris)];

      if (!lt_recorder_attach_uri (g_ptr_array_index (recorders, i), uri, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }
  print_line (NULL, "attached");
  g_main_loop_run (loop);

  g_ptr_array_unref (recorders);
  g_main_loop_unref (loop);
  return 0;
}
