/* test-export.c: export of a range to one MP4 (LtExport) over real TS slices made with
 * ffmpeg (testsrc2 + sine, libx264 + AAC, cut with -f segment), catalogued as two sessions
 * with a gap between them (their timestamps restart). Checks with ffprobe and ffmpeg: one
 * video and one audio track, the sources' codec, profile and size (no re-encode), the
 * expected duration, a file ffmpeg decodes without a message; progress reaching 1.0
 * monotonically; a range inside one slice; a cancel that leaves no temporary file; a
 * missing slice file (MISSING_FILE) and an empty range (NO_CONTENT). */
#include "config.h"

#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "lt-catalog.h"
#include "lt-export.h"
#include "lt-test-utils.h"

#define T0      (G_GINT64_CONSTANT (1700000000) * G_USEC_PER_SEC)
#define S(x)    ((gint64) ((x) * G_USEC_PER_SEC))
#define AT(x)   (T0 + S (x))
#define SLICE_S 2
#define GAP_S   60

typedef struct
{
  char      *dir;
  LtCatalog *catalog;
  guint      n_a;     /* slices of session 1 (from AT (0)) */
  guint      n_b;     /* slices of session 2 (from AT (GAP_S)) */
} Fixture;

static char *
run_tool (const char * const *argv,
          gboolean            stderr_too)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", argv[0], err);
  if (stderr_too)
    return g_strconcat (out, err, NULL);
  return g_steal_pointer (&out);
}

/* @seconds of test media cut into SLICE_S-second TS slices named PREFIX%03d.ts. */
static guint
make_slices (const char *dir,
             const char *prefix,
             int         seconds,
             int         frequency)
{
  g_autofree char *pattern = g_strdup_printf ("%s/%s%%03d.ts", dir, prefix);
  g_autofree char *length = g_strdup_printf ("%d", seconds);
  g_autofree char *sine = g_strdup_printf ("sine=frequency=%d:sample_rate=44100", frequency);
  g_autofree char *out = NULL;
  const char *argv[] = {
    "ffmpeg", "-nostdin", "-v", "error", "-y",
    "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
    "-f", "lavfi", "-i", sine, "-t", length,
    "-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "high", "-pix_fmt", "yuv420p",
    "-force_key_frames", "expr:gte(t,n_forced*2)", "-bf", "2",
    "-c:a", "aac", "-b:a", "64k",
    "-f", "segment", "-segment_time", "2", "-segment_format", "mpegts", pattern, NULL
  };
  guint n = 0;

  out = run_tool (argv, TRUE);
  g_assert_cmpstr (out, ==, "");
  for (;;)
    {
      g_autofree char *path = g_strdup_printf ("%s/%s%03u.ts", dir, prefix, n);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        break;
      n++;
    }
  g_assert_cmpuint (n, ==, seconds / SLICE_S);
  return n;
}

static gpointer
exec_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  return lt_catalog_exec (db, data, error) ? GINT_TO_POINTER (TRUE) : NULL;
}

static void
sql (Fixture    *f,
     const char *format,
     ...) G_GNUC_PRINTF (2, 3);

static void
sql (Fixture    *f,
     const char *format,
     ...)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_assert_nonnull (lt_catalog_run_sync (f->catalog, exec_job, text, &error));
  g_assert_no_error (error);
}

static int next_sequence = 1;

static void
add_slice (Fixture    *f,
           int         session_id,
           double      start_s,
           const char *path)
{
  sql (f, "INSERT INTO slices (session_id, stream_id, sequence, start_time_us, duration_us, "
          "target, bucket, object_key, local_path, state) VALUES (%d, 1, %d, %" G_GINT64_FORMAT
          ", %" G_GINT64_FORMAT ", 'local', 'b', 'k%d.ts', '%s', 'closed')",
       session_id, next_sequence, AT (start_s), S (SLICE_S), next_sequence, path);
  next_sequence++;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  f->dir = lt_test_make_temp_dir ();
  path = g_build_filename (f->dir, "catalog.db", NULL);
  f->catalog = lt_catalog_new (path);
  g_assert_true (lt_catalog_open_sync (f->catalog, &error));
  g_assert_no_error (error);

  /* Two sessions: 12 s, a gap, 8 s (a separate ffmpeg run: its timestamps restart). */
  f->n_a = make_slices (f->dir, "a", 12, 440);
  f->n_b = make_slices (f->dir, "b", 8, 880);
  sql (f, "INSERT INTO streams (id, domain, app, stream, first_seen, last_seen) "
          "VALUES (1, 'example.com', 'live', 's', 0, 0)");
  sql (f, "INSERT INTO sessions (id, stream_id, rule_json, trigger_kind, state, started_at_us) "
          "VALUES (1, 1, '{}', 'auto', 'ended', %" G_GINT64_FORMAT "), "
          "(2, 1, '{}', 'auto', 'ended', %" G_GINT64_FORMAT ")", AT (-1), AT (GAP_S - 1));
  for (guint i = 0; i < f->n_a; i++)
    {
      g_autofree char *slice = g_strdup_printf ("%s/a%03u.ts", f->dir, i);

      add_slice (f, 1, i * SLICE_S, slice);
    }
  for (guint i = 0; i < f->n_b; i++)
    {
      g_autofree char *slice = g_strdup_printf ("%s/b%03u.ts", f->dir, i);

      add_slice (f, 2, GAP_S + i * SLICE_S, slice);
    }
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  lt_catalog_close (f->catalog);
  g_clear_object (&f->catalog);
  g_clear_pointer (&f->dir, g_free);
}

/* Running an export -------------------------------------------------------------------- */

typedef struct
{
  GArray       *values;     /* double: every progress notified */
  GCancellable *cancel_on_progress;
} Progress;

static void
progress_cb (GObject    *object,
             GParamSpec *pspec,
             gpointer    user_data)
{
  Progress *progress = user_data;
  double value = lt_export_get_progress (LT_EXPORT (object));

  g_array_append_val (progress->values, value);
  if (progress->cancel_on_progress != NULL)
    g_cancellable_cancel (progress->cancel_on_progress);
}

static gboolean
weak_gone (gpointer data)
{
  return *(gpointer *) data == NULL;
}

static gboolean
export (Fixture       *f,
        double         start_s,
        double         end_s,
        const char    *out,
        GCancellable  *cancellable,
        gboolean       cancel_on_progress,
        GArray       **values,
        gint64        *duration_us,
        GError       **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (out);
  g_autoptr(LtExport) exp = lt_export_new (f->catalog, "example.com", "live", "s", AT (start_s),
                                           AT (end_s), file);
  g_autoptr(GAsyncResult) result = NULL;
  Progress progress = { g_array_new (FALSE, FALSE, sizeof (double)),
                        cancel_on_progress ? cancellable : NULL };
  gboolean ok;

  g_signal_connect (exp, "notify::progress", G_CALLBACK (progress_cb), &progress);
  lt_export_run_async (exp, cancellable, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  ok = lt_export_run_finish (exp, result, error);
  g_signal_handlers_disconnect_by_func (exp, progress_cb, &progress);
  if (duration_us != NULL)
    *duration_us = lt_export_get_duration (exp);
  g_clear_object (&result);
  /* Progress idles queued by the export thread, and the thread's task (released on the
   * thread pool), hold references a little longer: the export must still go. */
  {
    gpointer weak = exp;

    g_object_add_weak_pointer (G_OBJECT (exp), &weak);
    g_clear_object (&exp);
    lt_test_wait_until (weak_gone, &weak, 5000, "the export to be finalized");
  }
  if (values != NULL)
    *values = progress.values;
  else
    g_array_unref (progress.values);
  return ok;
}

typedef struct
{
  guint   n_video;
  guint   n_audio;
  char   *video_codec;
  char   *profile;
  char   *audio_codec;
  int     width;
  int     height;
  double  duration;
} Probe;

static void
probe_clear (Probe *probe)
{
  g_free (probe->video_codec);
  g_free (probe->profile);
  g_free (probe->audio_codec);
}

static void
probe (const char *path,
       Probe      *probe)
{
  const char *argv[] = { "ffprobe", "-v", "error", "-show_entries",
                         "stream=codec_type,codec_name,profile,width,height:format=duration",
                         "-of", "json", path, NULL };
  g_autofree char *out = run_tool (argv, FALSE);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *streams;

  memset (probe, 0, sizeof *probe);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  streams = json_object_get_array_member (root, "streams");
  for (guint i = 0; i < json_array_get_length (streams); i++)
    {
      JsonObject *stream = json_array_get_object_element (streams, i);
      const char *type = json_object_get_string_member (stream, "codec_type");

      if (g_strcmp0 (type, "video") == 0)
        {
          probe->n_video++;
          probe->video_codec = g_strdup (json_object_get_string_member (stream, "codec_name"));
          probe->profile = g_strdup (json_object_get_string_member_with_default (stream, "profile",
                                                                                 ""));
          probe->width = json_object_get_int_member (stream, "width");
          probe->height = json_object_get_int_member (stream, "height");
        }
      else if (g_strcmp0 (type, "audio") == 0)
        {
          probe->n_audio++;
          probe->audio_codec = g_strdup (json_object_get_string_member (stream, "codec_name"));
        }
    }
  probe->duration = g_ascii_strtod (json_object_get_string_member (
                                      json_object_get_object_member (root, "format"), "duration"),
                                    NULL);
}

/* The export decodes without a message and matches the source's streams. */
static void
check_mp4 (Fixture    *f,
           const char *out,
           double      expected_s)
{
  g_autofree char *source = g_strdup_printf ("%s/a000.ts", f->dir);
  const char *decode[] = { "ffmpeg", "-nostdin", "-v", "error", "-i", out, "-f", "null", "-", NULL };
  g_autofree char *messages = run_tool (decode, TRUE);
  Probe got;
  Probe want;

  g_assert_cmpstr (messages, ==, "");
  probe (out, &got);
  probe (source, &want);
  g_assert_cmpuint (got.n_video, ==, 1);
  g_assert_cmpuint (got.n_audio, ==, 1);
  g_assert_cmpstr (got.video_codec, ==, "h264");
  g_assert_cmpstr (got.video_codec, ==, want.video_codec);
  g_assert_cmpstr (got.profile, ==, want.profile);
  g_assert_cmpstr (got.audio_codec, ==, want.audio_codec);
  g_assert_cmpint (got.width, ==, 320);
  g_assert_cmpint (got.height, ==, 240);
  g_test_message ("%s: %.3f s (expected %.1f s ± %d s)", out, got.duration, expected_s, SLICE_S);
  g_assert_cmpfloat (got.duration, >=, expected_s - SLICE_S);
  g_assert_cmpfloat (got.duration, <=, expected_s + SLICE_S);
  probe_clear (&got);
  probe_clear (&want);
}

static gboolean
has_temp_files (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (handle);
  while ((name = g_dir_read_name (handle)) != NULL)
    if (g_str_has_suffix (name, ".part"))
      return TRUE;
  return FALSE;
}

/* Tests ---------------------------------------------------------------------------------- */

static void
test_both_sessions (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *out = g_build_filename (f->dir, "all.mp4", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) values = NULL;
  gint64 duration_us = 0;
  gint64 t = g_get_monotonic_time ();

  /* An existing file is replaced only when the export is complete. */
  g_assert_true (g_file_set_contents (out, "old", -1, NULL));
  g_assert_true (export (f, -5, GAP_S + 30, out, NULL, FALSE, &values, &duration_us, &error));
  g_assert_no_error (error);
  t = g_get_monotonic_time () - t;

  /* The peer: ffmpeg -c copy of the same slices into one MP4 (reported, not asserted). */
  {
    g_autoptr(GString) list = g_string_new ("concat:");
    g_autofree char *peer = g_build_filename (f->dir, "peer.mp4", NULL);
    g_autofree char *peer_out = NULL;
    gint64 peer_t;

    for (guint i = 0; i < f->n_a + f->n_b; i++)
      g_string_append_printf (list, "%s%s/%c%03u.ts", i > 0 ? "|" : "", f->dir,
                              i < f->n_a ? 'a' : 'b', i < f->n_a ? i : i - f->n_a);
    {
      const char *argv[] = { "ffmpeg", "-nostdin", "-v", "error", "-y", "-i", list->str,
                             "-c", "copy", "-movflags", "+faststart", peer, NULL };

      peer_t = g_get_monotonic_time ();
      peer_out = run_tool (argv, TRUE);
      peer_t = g_get_monotonic_time () - peer_t;
    }
    g_test_message ("exported %u slices (%u s) in %.3f s; ffmpeg -c copy of the same: %.3f s",
                    f->n_a + f->n_b, (f->n_a + f->n_b) * SLICE_S, t / 1e6, peer_t / 1e6);
  }
  g_assert_cmpint (duration_us, ==, S ((f->n_a + f->n_b) * SLICE_S));
  check_mp4 (f, out, (f->n_a + f->n_b) * SLICE_S);
  g_assert_false (has_temp_files (f->dir));

  /* Progress: at least the final 1.0, never going back. */
  g_assert_cmpuint (values->len, >=, 1);
  for (guint i = 1; i < values->len; i++)
    g_assert_cmpfloat (g_array_index (values, double, i), >, g_array_index (values, double, i - 1));
  g_assert_cmpfloat (g_array_index (values, double, values->len - 1), ==, 1.0);
}

static void
test_inside_one_slice (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *out = g_build_filename (f->dir, "one.mp4", NULL);
  g_autoptr(GError) error = NULL;
  gint64 duration_us = 0;

  g_assert_true (export (f, 3, 3.5, out, NULL, FALSE, NULL, &duration_us, &error));
  g_assert_no_error (error);
  g_assert_cmpint (duration_us, ==, S (SLICE_S));
  check_mp4 (f, out, SLICE_S);
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *out = g_build_filename (f->dir, "cancelled.mp4", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  /* Many more slices (the same files again, later), so that there is time to cancel. */
  for (int i = 0; i < 40; i++)
    for (guint j = 0; j < f->n_a; j++)
      {
        g_autofree char *slice = g_strdup_printf ("%s/a%03u.ts", f->dir, j);

        add_slice (f, 1, 1000 + i * 100 + j * SLICE_S, slice);
      }

  g_assert_false (export (f, 900, 6000, out, cancellable, TRUE, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_assert_false (has_temp_files (f->dir));
}

static void
test_errors (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *out = g_build_filename (f->dir, "error.mp4", NULL);
  g_autofree char *missing = g_build_filename (f->dir, "missing.ts", NULL);
  g_autoptr(GError) error = NULL;

  /* The gap between the sessions has nothing. */
  g_assert_false (export (f, 20, 50, out, NULL, FALSE, NULL, NULL, &error));
  g_assert_error (error, LT_EXPORT_ERROR, LT_EXPORT_ERROR_NO_CONTENT);
  g_clear_error (&error);

  add_slice (f, 2, 500, missing);
  g_assert_false (export (f, 0, 600, out, NULL, FALSE, NULL, NULL, &error));
  g_assert_error (error, LT_EXPORT_ERROR, LT_EXPORT_ERROR_MISSING_FILE);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_assert_false (has_temp_files (f->dir));
}

int
main (int    argc,
      char **argv)
{
  lt_test_init (&argc, &argv);
  gst_init (&argc, &argv);

  g_test_add ("/export/both-sessions", Fixture, NULL, fixture_set_up, test_both_sessions,
              fixture_tear_down);
  g_test_add ("/export/inside-one-slice", Fixture, NULL, fixture_set_up, test_inside_one_slice,
              fixture_tear_down);
  g_test_add ("/export/cancel", Fixture, NULL, fixture_set_up, test_cancel, fixture_tear_down);
  g_test_add ("/export/errors", Fixture, NULL, fixture_set_up, test_errors, fixture_tear_down);

  return g_test_run ();
}
