/* test-recorder.c: LtRecorder against real media (integration suite).
 *
 * Inputs are made with ffmpeg at the start of each test; live tests run a real nginx-rtmp
 * with an ffmpeg publisher. Every output is checked with ffprobe/ffmpeg: slices start with
 * a keyframe and decode alone, playlists carry the right tags, MP4/FLV play and say how
 * long they are. The kill -9 and ENOSPC cases run lt-recorder-helper in a child process.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lt-playlist.h"
#include "lt-recorder.h"
#include "lt-recorder-private.h"
#include "lt-rule.h"
#include "lt-test-publisher.h"
#include "lt-test-utils.h"

/* ---- running commands ---- */

/* Children (nginx, the helper, ffmpeg feeders) die with the test, also when it aborts. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Starts ffmpeg (or any @argv) writing media to its stdout; returns the read end. */
static int
spawn_feeder (const char * const *argv,
              GPid               *pid)
{
  g_autoptr(GError) error = NULL;
  int out_fd = -1;

  g_spawn_async_with_pipes_and_fds (NULL, argv, NULL,
                                    G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                    G_SPAWN_STDIN_FROM_DEV_NULL,
                                    die_with_parent, NULL, -1, -1, -1, NULL, NULL, 0,
                                    pid, NULL, &out_fd, NULL, &error);
  g_assert_no_error (error);
  return out_fd;
}

static char *
run_command (const char * const *argv,
             gboolean            want_success,
             char              **stderr_out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                &out, &err, &status, &error);
  g_assert_no_error (error);
  if (want_success && !g_spawn_check_wait_status (status, NULL))
    {
      g_test_message ("%s failed: %s", argv[0], err);
      g_assert_not_reached ();
    }
  if (stderr_out != NULL)
    *stderr_out = g_steal_pointer (&err);
  return out;
}

/* ffmpeg -y <args> (quiet); fails the test when ffmpeg fails. */
static void
ffmpeg (const char *first,
        ...)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  g_autofree char *out = NULL;
  va_list args;

  g_strv_builder_add_many (builder, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
                           "-y", NULL);
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_strv_builder_add (builder, arg);
  va_end (args);
  argv = g_strv_builder_end (builder);
  out = run_command ((const char * const *) argv, TRUE, NULL);
}

#define TESTSRC "testsrc2=size=320x240:rate=30"
#define SINE "sine=frequency=660:sample_rate=44100"

/* H.264 (GOP 1 s) + AAC in FLV. */
static void
make_h264_flv (const char *path,
               guint       seconds,
               const char *size)
{
  g_autofree char *duration = g_strdup_printf ("%u", seconds);
  g_autofree char *video = g_strdup_printf ("testsrc2=size=%s:rate=30", size);

  ffmpeg ("-f", "lavfi", "-i", video, "-f", "lavfi", "-i", SINE, "-t", duration,
          "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-pix_fmt", "yuv420p",
          "-c:a", "aac", "-b:a", "64k", path, NULL);
}

static gboolean
ffmpeg_decodes (const char *path)
{
  const char *argv[] = { "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", path,
                         "-f", "null", "-", NULL };
  g_autofree char *err = NULL;
  g_autofree char *out = run_command (argv, FALSE, &err);

  if (err != NULL && err[0] != '\0')
    g_test_message ("decoding %s: %s", path, err);
  return err != NULL && err[0] == '\0';
}

static JsonObject *
ffprobe (const char *path)
{
  const char *argv[] = { "ffprobe", "-v", "error", "-show_streams", "-show_format",
                         "-of", "json", path, NULL };
  g_autofree char *out = run_command (argv, TRUE, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static double
probe_duration (const char *path)
{
  g_autoptr(JsonObject) info = ffprobe (path);
  JsonObject *format = json_object_get_object_member (info, "format");

  return g_ascii_strtod (json_object_get_string_member_with_default (format, "duration", "0"),
                         NULL);
}

/* Codec names of the streams, "h264,aac". */
static char *
probe_codecs (const char *path)
{
  g_autoptr(JsonObject) info = ffprobe (path);
  JsonArray *streams = json_object_get_array_member (info, "streams");
  GString *codecs = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (streams); i++)
    {
      JsonObject *stream = json_array_get_object_element (streams, i);

      if (i > 0)
        g_string_append_c (codecs, ',');
      g_string_append (codecs, json_object_get_string_member (stream, "codec_name"));
    }
  return g_string_free (codecs, FALSE);
}

static gboolean
first_video_frame_is_keyframe (const char *path)
{
  const char *argv[] = { "ffprobe", "-v", "error", "-show_frames", "-select_streams", "v",
                         "-read_intervals", "%+#1", "-show_entries", "frame=key_frame",
                         "-of", "csv=p=0", path, NULL };
  g_autofree char *out = run_command (argv, TRUE, NULL);

  return g_str_has_prefix (out, "1");
}

/* The duration stored in an FLV's onMetaData. */
static double
flv_metadata_duration (const char *path)
{
  g_autofree char *data = NULL;
  gsize size = 0;
  g_autoptr(GError) error = NULL;
  const guint8 *p;
  const guint8 *end;

  g_file_get_contents (path, &data, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (size, >, 13 + 11);
  p = (const guint8 *) data + 13;
  g_assert_cmpint (p[0], ==, 18);        /* script tag first */
  end = p + 11 + _lt_read_u24_be (p + 1);
  p += 11;
  g_assert_cmpint (p[0], ==, 0x02);      /* "onMetaData" */
  p += 3 + _lt_read_u16_be (p + 1);
  g_assert_cmpint (p[0], ==, 0x08);      /* ECMA array */
  p += 5;
  while (p + 2 < end)
    {
      guint16 len = _lt_read_u16_be (p);
      gboolean is_duration = len == 8 && memcmp (p + 2, "duration", 8) == 0;

      p += 2 + len;
      switch (p[0])
        {
        case 0x00:
          if (is_duration)
            return _lt_read_double_be (p + 1);
          p += 9;
          break;
        case 0x01:
          p += 2;
          break;
        case 0x02:
          p += 3 + _lt_read_u16_be (p + 1);
          break;
        default:
          g_assert_not_reached ();
        }
    }
  g_assert_not_reached ();
}

static char *
read_text (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static guint
count_substrings (const char *text,
                  const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* The hex MD5 of a whole file, read from disk. */
static char *
file_md5 (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize length = 0;

  g_file_get_contents (path, &data, &length, &error);
  g_assert_no_error (error);
  return g_compute_checksum_for_data (G_CHECKSUM_MD5, (const guchar *) data, length);
}

/* ---- a recorder under test ---- */

typedef struct
{
  LtRecorder *recorder;
  char       *root;
  GPtrArray  *slices;     /* LtRecordingSlice */
  GPtrArray  *opened;     /* LtRecordingFile */
  GPtrArray  *closed;     /* LtRecordingFile */
  GPtrArray  *errors;     /* GError */
  GArray     *error_formats;
  GArray     *states;
  gboolean    final;
} Rec;

static LtRecordFormat *
make_format (LtRecordFormatKind kind,
             guint              slice,
             guint              cycle)
{
  LtRecordFormat *format = g_new0 (LtRecordFormat, 1);

  format->kind = kind;
  format->cycle_duration = cycle;
  format->slice_duration = slice;
  format->object_prefix = g_strdup (LT_RULE_DEFAULT_OBJECT_PREFIX);
  if (kind == LT_RECORD_FORMAT_M3U8)
    format->slice_object_prefix = g_strdup (LT_RULE_DEFAULT_SLICE_OBJECT_PREFIX);
  return format;
}

static void
state_changed_cb (LtRecorder      *recorder,
                  LtRecorderState  state,
                  Rec             *rec)
{
  g_array_append_val (rec->states, state);
  if (state == LT_RECORDER_STATE_STOPPED || state == LT_RECORDER_STATE_FAILED)
    rec->final = TRUE;
}

static void
file_opened_cb (LtRecorder      *recorder,
                LtRecordingFile *file,
                Rec             *rec)
{
  g_ptr_array_add (rec->opened, lt_recording_file_copy (file));
}

static void
file_closed_cb (LtRecorder      *recorder,
                LtRecordingFile *file,
                Rec             *rec)
{
  g_ptr_array_add (rec->closed, lt_recording_file_copy (file));
}

static void
slice_closed_cb (LtRecorder       *recorder,
                 LtRecordingSlice *slice,
                 Rec              *rec)
{
  g_ptr_array_add (rec->slices, lt_recording_slice_copy (slice));
}

static void
error_cb (LtRecorder *recorder,
          GError     *error,
          int         format,
          Rec        *rec)
{
  g_test_message ("recorder error (%d): %s", format, error->message);
  g_ptr_array_add (rec->errors, g_error_copy (error));
  g_array_append_val (rec->error_formats, format);
}

static void
rec_free (gpointer data)
{
  Rec *rec = data;

  g_clear_object (&rec->recorder);
  g_free (rec->root);
  g_ptr_array_unref (rec->slices);
  g_ptr_array_unref (rec->opened);
  g_ptr_array_unref (rec->closed);
  g_ptr_array_unref (rec->errors);
  g_array_unref (rec->error_formats);
  g_array_unref (rec->states);
  g_free (rec);
}

/* A recorder over the formats (NULL-terminated LtRecordFormat list, taken). */
static Rec *
rec_new (guint delay,
         ...)
{
  g_autoptr(GPtrArray) formats = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_record_format_free);
  g_autoptr(GError) error = NULL;
  LtRecorderParams params = { 0, };
  Rec *rec = g_new0 (Rec, 1);
  LtRecordFormat *format;
  va_list args;

  va_start (args, delay);
  while ((format = va_arg (args, LtRecordFormat *)) != NULL)
    g_ptr_array_add (formats, format);
  va_end (args);

  rec->root = lt_test_make_temp_dir ();
  rec->slices = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_recording_slice_free);
  rec->opened = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_recording_file_free);
  rec->closed = g_ptr_array_new_with_free_func ((GDestroyNotify) lt_recording_file_free);
  rec->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  rec->error_formats = g_array_new (FALSE, FALSE, sizeof (int));
  rec->states = g_array_new (FALSE, FALSE, sizeof (LtRecorderState));

  params.domain_name = "live.example.com";
  params.app_name = "live";
  params.stream_name = "cam";
  params.storage_root = rec->root;
  params.bucket = "bucket";
  params.delay_time = delay;
  rec->recorder = lt_recorder_new (&params, formats, &error);
  g_assert_no_error (error);
  g_signal_connect (rec->recorder, "state-changed", G_CALLBACK (state_changed_cb), rec);
  g_signal_connect (rec->recorder, "file-opened", G_CALLBACK (file_opened_cb), rec);
  g_signal_connect (rec->recorder, "file-closed", G_CALLBACK (file_closed_cb), rec);
  g_signal_connect (rec->recorder, "slice-closed", G_CALLBACK (slice_closed_cb), rec);
  g_signal_connect (rec->recorder, "error", G_CALLBACK (error_cb), rec);
  g_test_queue_destroy (rec_free, rec);
  return rec;
}

static void
rec_attach_file (Rec        *rec,
                 const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = g_filename_to_uri (path, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (lt_recorder_attach_uri (rec->recorder, uri, &error));
  g_assert_no_error (error);
}

static gboolean
rec_is_final (gpointer data)
{
  return ((Rec *) data)->final;
}

static gboolean
rec_is_paused (gpointer data)
{
  return lt_recorder_get_state (((Rec *) data)->recorder) == LT_RECORDER_STATE_PAUSED;
}

static void
rec_wait_final (Rec *rec)
{
  lt_test_wait_until (rec_is_final, rec, 60000, "the recording to end");
}

static void
rec_stop (Rec *rec)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lt_recorder_stop_async (rec->recorder, NULL, lt_test_store_result_cb, &result);
  lt_test_wait_result (&result);
  g_assert_true (lt_recorder_stop_finish (rec->recorder, result, &error));
  g_assert_no_error (error);
  g_assert_true (rec->final);
}

static GPtrArray *
rec_closed_files (Rec                *rec,
                  LtRecordFormatKind  kind)
{
  GPtrArray *files = g_ptr_array_new ();

  for (guint i = 0; i < rec->closed->len; i++)
    {
      LtRecordingFile *file = g_ptr_array_index (rec->closed, i);

      if (file->format == kind)
        g_ptr_array_add (files, file);
    }
  return files;
}

static LtRecordingFile *
rec_single_file (Rec                *rec,
                 LtRecordFormatKind  kind)
{
  g_autoptr(GPtrArray) files = rec_closed_files (rec, kind);

  g_assert_cmpuint (files->len, ==, 1);
  return g_ptr_array_index (files, 0);
}

static guint
rec_count_errors (Rec             *rec,
                  LtRecorderError  code)
{
  guint n = 0;

  for (guint i = 0; i < rec->errors->len; i++)
    if (g_error_matches (g_ptr_array_index (rec->errors, i), LT_RECORDER_ERROR, code))
      n++;
  return n;
}

/* Every closed slice: named in its playlist, starts on a keyframe, decodes alone, and
 * reports the MD5 of exactly the bytes on disk (hashed while it was written). */
static void
check_slices (Rec      *rec,
              gboolean  with_video)
{
  g_assert_cmpuint (rec->slices->len, >, 0);
  for (guint i = 0; i < rec->slices->len; i++)
    {
      LtRecordingSlice *slice = g_ptr_array_index (rec->slices, i);
      g_autofree char *md5 = NULL;
      struct stat st;

      g_assert_cmpint (g_stat (slice->path, &st), ==, 0);
      g_assert_cmpuint (slice->size, ==, st.st_size);
      md5 = file_md5 (slice->path);
      g_assert_cmpstr (slice->md5, ==, md5);
      g_assert_true (g_str_has_suffix (slice->object_key, ".ts"));
      g_assert_true (g_str_has_suffix (slice->path, slice->object_key));
      g_assert_cmpint (slice->start_time, >, 0);
      g_assert_cmpint (slice->duration, >, 0);
      g_assert_true (ffmpeg_decodes (slice->path));
      if (with_video)
        {
          g_assert_true (slice->keyframe);
          g_assert_true (first_video_frame_is_keyframe (slice->path));
          g_assert_cmpstr (slice->video_codec, !=, NULL);
        }
    }
}

/* The closed playlist: VOD-ready EVENT with ENDLIST, one segment per slice. */
static char *
check_playlist (Rec             *rec,
                LtRecordingFile *file)
{
  char *text = read_text (file->path);
  guint n = 0;

  g_assert_true (g_str_has_prefix (text, "#EXTM3U\n"));
  g_assert_nonnull (strstr (text, "#EXT-X-PLAYLIST-TYPE:EVENT\n"));
  g_assert_nonnull (strstr (text, "#EXT-X-TARGETDURATION:"));
  g_assert_nonnull (strstr (text, "#EXT-X-MEDIA-SEQUENCE:0\n"));
  g_assert_nonnull (strstr (text, "#EXT-X-PROGRAM-DATE-TIME:"));
  g_assert_true (g_str_has_suffix (text, "#EXT-X-ENDLIST\n"));
  for (guint i = 0; i < rec->slices->len; i++)
    if (((LtRecordingSlice *) g_ptr_array_index (rec->slices, i))->playlist_sequence == file->sequence)
      n++;
  g_assert_cmpuint (count_substrings (text, "#EXTINF:"), ==, n);
  g_assert_cmpuint (file->n_slices, ==, n);
  g_assert_true (ffmpeg_decodes (file->path));
  return text;
}

static gboolean
weak_ref_cleared (gpointer data)
{
  g_autoptr(GObject) object = g_weak_ref_get (data);

  return object == NULL;
}

/* ---- tests ---- */

static void
test_all_formats (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *input = g_build_filename (dir, "in.flv", NULL);
  g_autofree char *playlist = NULL;
  Rec *rec;
  LtRecordingFile *m3u8, *mp4, *flv;
  gint64 total = 0;

  make_h264_flv (input, 12, "320x240");
  rec = rec_new (0,
                 make_format (LT_RECORD_FORMAT_M3U8, 2, 3600),
                 make_format (LT_RECORD_FORMAT_MP4, 0, 3600),
                 make_format (LT_RECORD_FORMAT_FLV, 0, 3600),
                 NULL);
  g_assert_cmpint (lt_recorder_get_state (rec->recorder), ==, LT_RECORDER_STATE_IDLE);
  rec_attach_file (rec, input);
  rec_wait_final (rec);

  g_assert_cmpuint (rec->errors->len, ==, 0);
  g_assert_cmpint (lt_recorder_get_state (rec->recorder), ==, LT_RECORDER_STATE_STOPPED);
  g_assert_cmpint (g_array_index (rec->states, LtRecorderState, 0), ==, LT_RECORDER_STATE_STARTING);
  g_assert_cmpint (g_array_index (rec->states, LtRecorderState, 1), ==, LT_RECORDER_STATE_RECORDING);
  g_assert_cmpuint (rec->opened->len, ==, 3);

  /* Slices: SliceDuration (2 s) to one GOP (1 s) more, except the last. */
  check_slices (rec, TRUE);
  for (guint i = 0; i < rec->slices->len; i++)
    {
      LtRecordingSlice *slice = g_ptr_array_index (rec->slices, i);

      g_assert_cmpuint (slice->sequence, ==, i);
      g_assert_cmpuint (slice->playlist_sequence, ==, 1);
      g_assert_cmpuint (slice->width, ==, 320);
      g_assert_cmpuint (slice->height, ==, 240);
      g_assert_cmpstr (slice->video_codec, ==, "h264");
      g_assert_cmpstr (slice->audio_codec, ==, "aac");
      g_assert_false (slice->discontinuity);
      g_assert_cmpuint (slice->discontinuity_sequence, ==, 0);
      g_assert_true (g_str_has_prefix (slice->object_key, "record/live/cam/"));
      if (i + 1 < rec->slices->len)
        {
          g_assert_cmpint (slice->duration, >=, 2 * G_USEC_PER_SEC - 1000);
          g_assert_cmpint (slice->duration, <, 3 * G_USEC_PER_SEC + 50000);
        }
      total += slice->duration;
    }
  g_assert_cmpint (ABS (total - 12 * G_USEC_PER_SEC), <, 200000);

  m3u8 = rec_single_file (rec, LT_RECORD_FORMAT_M3U8);
  playlist = check_playlist (rec, m3u8);
  g_assert_cmpuint (count_substrings (playlist, "#EXT-X-DISCONTINUITY\n"), ==, 0);
  g_assert_cmpuint (count_substrings (playlist, "#EXT-X-PROGRAM-DATE-TIME:"), ==, 1);
  g_assert_true (g_str_has_prefix (m3u8->object_key, "record/live/cam/1_"));
  g_assert_true (g_str_has_suffix (m3u8->object_key, ".m3u8"));
  g_assert_cmpint (ABS (m3u8->duration - total), <, 1000);

  mp4 = rec_single_file (rec, LT_RECORD_FORMAT_MP4);
  flv = rec_single_file (rec, LT_RECORD_FORMAT_FLV);
  for (guint i = 0; i < 2; i++)
    {
      LtRecordingFile *file = i == 0 ? mp4 : flv;
      g_autofree char *codecs = probe_codecs (file->path);
      struct stat st;

      g_assert_cmpstr (codecs, ==, "h264,aac");
      g_assert_true (ffmpeg_decodes (file->path));
      g_assert_cmpfloat_with_epsilon (probe_duration (file->path), 12.0, 0.2);
      g_assert_cmpfloat_with_epsilon ((double) file->duration / G_USEC_PER_SEC, 12.0, 0.2);
      g_assert_cmpint (g_stat (file->path, &st), ==, 0);
      g_assert_cmpuint (file->size, ==, st.st_size);
      g_assert_cmpuint (file->sequence, ==, 1);
      g_assert_cmpuint (file->width, ==, 320);
      g_assert_cmpint (file->end_time, >, file->start_time);
    }
  /* FLV: the duration in onMetaData is the real one. */
  g_assert_cmpfloat_with_epsilon (flv_metadata_duration (flv->path), probe_duration (flv->path), 0.1);

  /* Repair (crash recovery) on closed files finds them complete and agrees with close. */
  for (guint i = 0; i < 2; i++)
    {
      LtRecordingFile *file = i == 0 ? mp4 : flv;
      g_autoptr(GError) error = NULL;
      struct stat before, after;
      gint64 duration = 0;

      g_assert_cmpint (g_stat (file->path, &before), ==, 0);
      g_assert_true (lt_recorder_repair_file (file->path, file->format, &duration, &error));
      g_assert_no_error (error);
      g_assert_cmpint (g_stat (file->path, &after), ==, 0);
      g_assert_cmpint (before.st_size, ==, after.st_size);
      g_assert_cmpint (ABS (duration - file->duration), <, 50000);
      g_assert_true (ffmpeg_decodes (file->path));
    }

  /* Nothing keeps the recorder alive once it stopped (its pipeline goes away in the
   * background). */
  {
    GWeakRef weak;

    g_weak_ref_init (&weak, rec->recorder);
    g_clear_object (&rec->recorder);
    lt_test_wait_until (weak_ref_cleared, &weak, 5000, "the recorder to be finalized");
    g_weak_ref_clear (&weak);
  }

  /* The open names (EndTime = StartTime) were replaced by the final ones. */
  for (guint i = 0; i < rec->closed->len; i++)
    {
      LtRecordingFile *file = g_ptr_array_index (rec->closed, i);

      g_assert_true (g_file_test (file->path, G_FILE_TEST_EXISTS));
      if (g_strcmp0 (file->open_path, file->path) != 0)
        g_assert_false (g_file_test (file->open_path, G_FILE_TEST_EXISTS));
    }
}

static void
test_cycles (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *input = g_build_filename (dir, "in.flv", NULL);
  Rec *rec;

  make_h264_flv (input, 7, "320x240");
  rec = rec_new (0,
                 make_format (LT_RECORD_FORMAT_M3U8, 1, 2),
                 make_format (LT_RECORD_FORMAT_MP4, 0, 2),
                 make_format (LT_RECORD_FORMAT_FLV, 0, 2),
                 NULL);
  rec_attach_file (rec, input);
  rec_wait_final (rec);
  g_assert_cmpuint (rec->errors->len, ==, 0);
  check_slices (rec, TRUE);

  for (LtRecordFormatKind kind = LT_RECORD_FORMAT_M3U8; kind <= LT_RECORD_FORMAT_FLV; kind++)
    {
      g_autoptr(GPtrArray) files = rec_closed_files (rec, kind);
      gint64 total = 0;

      /* Cuts at the first keyframe 2 s into each cycle: 2 + 2 + 2 + 1 s. */
      g_assert_cmpuint (files->len, ==, 4);
      for (guint i = 0; i < files->len; i++)
        {
          LtRecordingFile *file = g_ptr_array_index (files, i);

          g_assert_cmpuint (file->sequence, ==, i + 1);
          g_assert_true (ffmpeg_decodes (file->path));
          if (i + 1 < files->len)
            g_assert_cmpfloat_with_epsilon ((double) file->duration / G_USEC_PER_SEC, 2.0, 0.05);
          if (kind == LT_RECORD_FORMAT_M3U8)
            g_free (check_playlist (rec, file));
          else
            g_assert_cmpfloat_with_epsilon (probe_duration (file->path),
                                            (double) file->duration / G_USEC_PER_SEC, 0.1);
          total += file->duration;
        }
      g_assert_cmpfloat_with_epsilon ((double) total / G_USEC_PER_SEC, 7.0, 0.2);
    }
}

/* Reconnects inside the merge window continue the files (file sources end with EOS,
 * which pauses the recorder like an unpublish). A new resolution rotates MP4/FLV. */
static void
test_merge_window (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *a = g_build_filename (dir, "a.flv", NULL);
  g_autofree char *b = g_build_filename (dir, "b.flv", NULL);
  g_autofree char *c = g_build_filename (dir, "c.flv", NULL);
  g_autofree char *playlist = NULL;
  g_autoptr(GPtrArray) mp4s = NULL;
  g_autoptr(GPtrArray) flvs = NULL;
  LtRecordingFile *m3u8;
  Rec *rec;

  make_h264_flv (a, 4, "320x240");
  make_h264_flv (b, 3, "320x240");
  make_h264_flv (c, 3, "352x288");
  rec = rec_new (30,
                 make_format (LT_RECORD_FORMAT_M3U8, 1, 3600),
                 make_format (LT_RECORD_FORMAT_MP4, 0, 3600),
                 make_format (LT_RECORD_FORMAT_FLV, 0, 3600),
                 NULL);

  rec_attach_file (rec, a);
  lt_test_wait_until (rec_is_paused, rec, 30000, "the first connection to end");
  g_assert_cmpint (lt_recorder_get_pause_deadline (rec->recorder), >, g_get_monotonic_time ());
  /* Paused: the open slice closed, the files stay open. */
  g_assert_cmpuint (rec->closed->len, ==, 0);

  rec_attach_file (rec, b);
  lt_test_wait_until (rec_is_paused, rec, 30000, "the second connection to end");
  rec_attach_file (rec, c);
  lt_test_wait_until (rec_is_paused, rec, 30000, "the third connection to end");
  rec_stop (rec);

  g_assert_cmpuint (rec->errors->len, ==, 0);
  check_slices (rec, TRUE);
  m3u8 = rec_single_file (rec, LT_RECORD_FORMAT_M3U8);
  playlist = check_playlist (rec, m3u8);
  /* Two reconnects: two discontinuities, each with its wall-clock time. */
  g_assert_cmpuint (count_substrings (playlist, "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:"), ==, 2);
  g_assert_cmpuint (m3u8->n_discontinuities, ==, 2);
  g_assert_cmpfloat_with_epsilon ((double) m3u8->duration / G_USEC_PER_SEC, 10.0, 0.3);

  /* MP4/FLV: a and b (same caps) in one file, c (new size) in the next. */
  mp4s = rec_closed_files (rec, LT_RECORD_FORMAT_MP4);
  flvs = rec_closed_files (rec, LT_RECORD_FORMAT_FLV);
  g_assert_cmpuint (mp4s->len, ==, 2);
  g_assert_cmpuint (flvs->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      LtRecordingFile *first = g_ptr_array_index (i == 0 ? mp4s : flvs, 0);
      LtRecordingFile *second = g_ptr_array_index (i == 0 ? mp4s : flvs, 1);

      g_assert_cmpuint (first->sequence, ==, 1);
      g_assert_cmpuint (second->sequence, ==, 2);
      g_assert_cmpuint (first->n_discontinuities, ==, 1);
      g_assert_cmpuint (first->width, ==, 320);
      g_assert_cmpuint (second->width, ==, 352);
      g_assert_cmpfloat_with_epsilon (probe_duration (first->path), 7.0, 0.2);
      g_assert_cmpfloat_with_epsilon (probe_duration (second->path), 3.0, 0.2);
      g_assert_true (ffmpeg_decodes (first->path));
      g_assert_true (ffmpeg_decodes (second->path));
      /* Hashed in 8 MiB blocks as written; these are one block, which closing patched
       * (durations in the header). /recorder/out-file-block-md5s has the rest. */
      g_assert_cmpstr (first->part_md5s, ==, "8388608:-");
      g_assert_cmpstr (second->part_md5s, ==, "8388608:-");
    }
}

/* No reconnect within DelayTime: the files close by themselves. */
static void
test_merge_window_expires (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *a = g_build_filename (dir, "a.flv", NULL);
  g_autofree char *playlist = NULL;
  g_autoptr(GError) error = NULL;
  Rec *rec;

  make_h264_flv (a, 3, "320x240");
  rec = rec_new (1,
                 make_format (LT_RECORD_FORMAT_M3U8, 1, 3600),
                 make_format (LT_RECORD_FORMAT_FLV, 0, 3600),
                 NULL);
  rec_attach_file (rec, a);
  lt_test_wait_until (rec_is_paused, rec, 30000, "the connection to end");
  g_assert_cmpuint (rec->closed->len, ==, 0);
  rec_wait_final (rec);
  g_assert_cmpint (lt_recorder_get_state (rec->recorder), ==, LT_RECORDER_STATE_STOPPED);
  g_assert_cmpuint (rec->closed->len, ==, 2);
  playlist = check_playlist (rec, rec_single_file (rec, LT_RECORD_FORMAT_M3U8));

  /* A publisher coming back now gets a new session (the engine makes a new recorder). */
  g_assert_false (lt_recorder_attach_uri (rec->recorder, "file:///nonexistent.flv", &error));
  g_assert_error (error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_FAILED);
}

/* Writes an FLV made of @a's tags then @b's tags with @shift_ms added to b's timestamps
 * (b restarts at 0 when @shift_ms is 0: a timestamp reset). */
static void
concat_flv (const char *a,
            const char *b,
            gint64      shift_ms,
            const char *out)
{
  g_autofree char *data_a = NULL;
  g_autofree char *data_b = NULL;
  gsize size_a = 0, size_b = 0;
  g_autoptr(GByteArray) result = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  gsize pos = 13;

  g_file_get_contents (a, &data_a, &size_a, &error);
  g_assert_no_error (error);
  g_file_get_contents (b, &data_b, &size_b, &error);
  g_assert_no_error (error);
  g_byte_array_append (result, (const guint8 *) data_a, size_a);

  while (pos + 11 <= size_b)
    {
      guint8 *tag = (guint8 *) data_b + pos;
      gsize body = _lt_read_u24_be (tag + 1);
      guint32 ts = _lt_read_u24_be (tag + 4) | ((guint32) tag[7] << 24);

      g_assert_cmpuint (pos + 11 + body + 4, <=, size_b);
      ts += shift_ms;
      _lt_write_u24_be (tag + 4, ts & 0xffffff);
      tag[7] = ts >> 24;
      g_byte_array_append (result, tag, 11 + body + 4);
      pos += 11 + body + 4;
    }
  g_file_set_contents (out, (const char *) result->data, result->len, &error);
  g_assert_no_error (error);
}

static void
check_jump (const char *input,
            double      expected_duration)
{
  g_autofree char *playlist = NULL;
  LtRecordingFile *mp4;
  Rec *rec;

  rec = rec_new (0,
                 make_format (LT_RECORD_FORMAT_M3U8, 1, 3600),
                 make_format (LT_RECORD_FORMAT_MP4, 0, 3600),
                 make_format (LT_RECORD_FORMAT_FLV, 0, 3600),
                 NULL);
  rec_attach_file (rec, input);
  rec_wait_final (rec);
  g_assert_cmpuint (rec->errors->len, ==, 0);
  check_slices (rec, TRUE);

  /* One continuous recording with the jump marked, not a gap (or overlap) of the jump's
   * size. */
  playlist = check_playlist (rec, rec_single_file (rec, LT_RECORD_FORMAT_M3U8));
  g_assert_cmpuint (count_substrings (playlist, "#EXT-X-DISCONTINUITY\n"), ==, 1);
  mp4 = rec_single_file (rec, LT_RECORD_FORMAT_MP4);
  g_assert_cmpfloat_with_epsilon (probe_duration (mp4->path), expected_duration, 0.3);
  g_assert_true (ffmpeg_decodes (mp4->path));
  g_assert_true (ffmpeg_decodes (rec_single_file (rec, LT_RECORD_FORMAT_FLV)->path));
}

static void
test_timestamp_jump (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *a = g_build_filename (dir, "a.flv", NULL);
  g_autofree char *b = g_build_filename (dir, "b.flv", NULL);
  g_autofree char *reset = g_build_filename (dir, "reset.flv", NULL);
  g_autofree char *forward = g_build_filename (dir, "forward.flv", NULL);

  make_h264_flv (a, 4, "320x240");
  make_h264_flv (b, 3, "320x240");
  concat_flv (a, b, 0, reset);             /* back to 0 after 4 s */
  concat_flv (a, b, 600 * 1000, forward);  /* ten minutes ahead */
  check_jump (reset, 7.0);
  check_jump (forward, 7.0);
}

static void
check_unsupported (const char *input,
                   const char *codec_name)
{
  const GError *error;
  Rec *rec;

  rec = rec_new (60,
                 make_format (LT_RECORD_FORMAT_M3U8, 1, 3600),
                 make_format (LT_RECORD_FORMAT_MP4, 0, 3600),
                 NULL);
  rec_attach_file (rec, input);
  rec_wait_final (rec);
  g_assert_cmpint (lt_recorder_get_state (rec->recorder), ==, LT_RECORDER_STATE_FAILED);
  g_assert_cmpuint (rec_count_errors (rec, LT_RECORDER_ERROR_UNSUPPORTED_CODEC), >=, 1);
  error = lt_recorder_get_error (rec->recorder);
  g_assert_error (error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_UNSUPPORTED_CODEC);
  g_test_message ("unsupported: %s", error->message);
  g_assert_nonnull (strstr (error->message, codec_name));
  g_assert_cmpstr (lt_recorder_error_reason (error->code), ==, "UnsupportedCodec");
  /* Nothing was left open. */
  g_assert_cmpuint (rec->opened->len, ==, rec->closed->len);
}

static void
test_unsupported_codec (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *vp8 = g_build_filename (dir, "vp8.mkv", NULL);
  g_autofree char *mpeg2 = g_build_filename (dir, "mpeg2.ts", NULL);

  ffmpeg ("-f", "lavfi", "-i", TESTSRC, "-f", "lavfi", "-i", SINE, "-t", "2",
          "-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus", vp8, NULL);
  ffmpeg ("-f", "lavfi", "-i", TESTSRC, "-f", "lavfi", "-i", SINE, "-t", "2",
          "-c:v", "mpeg2video", "-c:a", "aac", mpeg2, NULL);
  check_unsupported (vp8, "VP8");
  check_unsupported (mpeg2, "MPEG-2");
}

/* H.265 records to m3u8 and MP4; FLV cannot carry it and fails alone. MPEG-4 Part 2 with
 * MP3 records too. */
static void
test_other_codecs (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *hevc = g_build_filename (dir, "hevc.ts", NULL);
  g_autofree char *mpeg4 = g_build_filename (dir, "mpeg4.ts", NULL);
  Rec *rec;

  ffmpeg ("-f", "lavfi", "-i", TESTSRC, "-f", "lavfi", "-i", SINE, "-t", "3",
          "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=30:log-level=error",
          "-c:a", "aac", hevc, NULL);
  rec = rec_new (0,
                 make_format (LT_RECORD_FORMAT_M3U8, 1, 3600),
                 make_format (LT_RECORD_FORMAT_MP4, 0, 3600),
                 make_format (LT_RECORD_FORMAT_FLV, 0, 3600),
                 NULL);
  rec_attach_file (rec, hevc);
  rec_wait_final (rec);
  g_assert_cmpint (lt_recorder_get_state (rec->recorder), ==, LT_RECORDER_STATE_STOPPED);
  g_assert_cmpuint (rec->errors->len, ==, 1);
  g_assert_cmpint (g_array_index (rec->error_formats, int, 0), ==, LT_RECORD_FORMAT_FLV);
  g_assert_cmpuint (rec_count_errors (rec, LT_RECORDER_ERROR_UNSUPPORTED_CODEC), ==, 1);
  check_slices (rec, TRUE);
  g_assert_cmpstr (((LtRecordingSlice *) g_ptr_array_index (rec->slices, 0))->video_codec, ==, "h265");
  g_free (check_playlist (rec, rec_single_file (rec, LT_RECORD_FORMAT_M3U8)));
  {
    LtRecordingFile *mp4 = rec_single_file (rec, LT_RECORD_FORMAT_MP4);
    g_autofree char *codecs = probe_codecs (mp4->path);

    g_assert_cmpstr (codecs, ==, "hevc,aac");
    g_assert_true (ffmpeg_decodes (mp4->path));
  }
  {
    g_autoptr(GPtrArray) flvs = rec_closed_files (rec, LT_RECORD_FORMAT_FLV);

    g_assert_cmpuint (flvs->len, ==, 0);
  }

  ffmpeg ("-f", "lavfi", "-i", TESTSRC, "-f", "lavfi", "-i", SINE, "-t", "3",
          "-c:v", "mpeg4", "-g", "30", "-c:a", "libmp3lame", mpeg4, NULL);
  rec = rec_new (0,
                 make_format (LT_RECORD_FORMAT_M3U8, 1, 3600),
                 make_format (LT_RECORD_FORMAT_MP4, 0, 3600),
                 NULL);
  rec_attach_file (rec, mpeg4);
  rec_wait_final (rec);
  g_assert_cmpuint (rec->errors->len, ==, 0);
  check_slices (rec, TRUE);
  g_assert_cmpstr (((LtRecordingSlice *) g_ptr_array_index (rec->slices, 0))->audio_codec, ==, "mp3");
  g_free (check_playlist (rec, rec_single_file (rec, LT_RECORD_FORMAT_M3U8)));
  {
    LtRecordingFile *mp4 = rec_single_file (rec, LT_RECORD_FORMAT_MP4);
    g_autofree char *codecs = probe_codecs (mp4->path);

    g_assert_cmpstr (codecs, ==, "mpeg4,mp3");
    g_assert_true (ffmpeg_decodes (mp4->path));
    g_assert_cmpfloat_with_epsilon (probe_duration (mp4->path), 3.0, 0.2);
  }
}

static void
test_audio_only_video_only (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *audio = g_build_filename (dir, "audio.flv", NULL);
  g_autofree char *video = g_build_filename (dir, "video.ts", NULL);
  Rec *rec;

  ffmpeg ("-f", "lavfi", "-i", SINE, "-t", "5", "-c:a", "aac", audio, NULL);
  rec = rec_new (0,
                 make_format (LT_RECORD_FORMAT_M3U8, 1, 3600),
                 make_format (LT_RECORD_FORMAT_MP4, 0, 3600),
                 make_format (LT_RECORD_FORMAT_FLV, 0, 3600),
                 NULL);
  rec_attach_file (rec, audio);
  rec_wait_final (rec);
  g_assert_cmpuint (rec->errors->len, ==, 0);
  check_slices (rec, FALSE);
  for (guint i = 0; i < rec->slices->len; i++)
    {
      LtRecordingSlice *slice = g_ptr_array_index (rec->slices, i);

      g_assert_false (slice->keyframe);
      g_assert_null (slice->video_codec);
      g_assert_cmpstr (slice->audio_codec, ==, "aac");
    }
  g_assert_cmpuint (rec->slices->len, >=, 4);
  for (LtRecordFormatKind kind = LT_RECORD_FORMAT_M3U8; kind <= LT_RECORD_FORMAT_FLV; kind++)
    {
      LtRecordingFile *file = rec_single_file (rec, kind);

      g_assert_true (ffmpeg_decodes (file->path));
      g_assert_cmpfloat_with_epsilon ((double) file->duration / G_USEC_PER_SEC, 5.0, 0.2);
      if (kind != LT_RECORD_FORMAT_M3U8)
        {
          g_autofree char *codecs = probe_codecs (file->path);

          g_assert_cmpstr (codecs, ==, "aac");
        }
    }

  ffmpeg ("-f", "lavfi", "-i", TESTSRC, "-t", "4", "-c:v", "libx264", "-preset", "ultrafast",
          "-g", "30", "-pix_fmt", "yuv420p", video, NULL);
  rec = rec_new (0,
                 make_format (LT_RECORD_FORMAT_M3U8, 1, 3600),
                 make_format (LT_RECORD_FORMAT_MP4, 0, 3600),
                 make_format (LT_RECORD_FORMAT_FLV, 0, 3600),
                 NULL);
  rec_attach_file (rec, video);
  rec_wait_final (rec);
  g_assert_cmpuint (rec->errors->len, ==, 0);
  check_slices (rec, TRUE);
  g_assert_null (((LtRecordingSlice *) g_ptr_array_index (rec->slices, 0))->audio_codec);
  for (LtRecordFormatKind kind = LT_RECORD_FORMAT_M3U8; kind <= LT_RECORD_FORMAT_FLV; kind++)
    {
      LtRecordingFile *file = rec_single_file (rec, kind);

      g_assert_true (ffmpeg_decodes (file->path));
      g_assert_cmpfloat_with_epsilon ((double) file->duration / G_USEC_PER_SEC, 4.0, 0.2);
    }
}

/* Video stops after 3 s, audio goes on to 12 s: slices keep being cut (at audio frames). */
static void
test_long_audio_only_stretch (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *input = g_build_filename (dir, "in.flv", NULL);
  LtRecordingFile *m3u8;
  guint late_slices = 0;
  Rec *rec;

  ffmpeg ("-f", "lavfi", "-t", "3", "-i", TESTSRC, "-f", "lavfi", "-t", "12", "-i", SINE,
          "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-pix_fmt", "yuv420p",
          "-c:a", "aac", input, NULL);
  rec = rec_new (0,
                 make_format (LT_RECORD_FORMAT_M3U8, 2, 3600),
                 make_format (LT_RECORD_FORMAT_MP4, 0, 3600),
                 make_format (LT_RECORD_FORMAT_FLV, 0, 3600),
                 NULL);
  rec_attach_file (rec, input);
  rec_wait_final (rec);
  g_assert_cmpuint (rec->errors->len, ==, 0);

  for (guint i = 0; i < rec->slices->len; i++)
    {
      LtRecordingSlice *slice = g_ptr_array_index (rec->slices, i);

      g_assert_true (ffmpeg_decodes (slice->path));
      g_assert_cmpint (slice->duration, <, 6 * G_USEC_PER_SEC);
      if (slice->media_time >= 4 * G_USEC_PER_SEC)
        late_slices++;
    }
  g_assert_cmpuint (late_slices, >=, 2);
  m3u8 = rec_single_file (rec, LT_RECORD_FORMAT_M3U8);
  g_assert_cmpfloat_with_epsilon ((double) m3u8->duration / G_USEC_PER_SEC, 12.0, 0.3);
  g_free (check_playlist (rec, m3u8));
  for (LtRecordFormatKind kind = LT_RECORD_FORMAT_MP4; kind <= LT_RECORD_FORMAT_FLV; kind++)
    {
      LtRecordingFile *file = rec_single_file (rec, kind);

      g_assert_true (ffmpeg_decodes (file->path));
      g_assert_cmpfloat_with_epsilon (probe_duration (file->path), 12.0, 0.3);
    }
}

/* A TS stream joined in the middle (no PAT/PMT/SPS at the start, a cut packet): the
 * recording starts at the first keyframe with its headers. */
static void
test_missing_headers (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *full = g_build_filename (dir, "full.ts", NULL);
  g_autofree char *cut = g_build_filename (dir, "cut.ts", NULL);
  g_autofree char *data = NULL;
  g_autoptr(GError) error = NULL;
  gsize size = 0;
  Rec *rec;

  ffmpeg ("-f", "lavfi", "-i", TESTSRC, "-f", "lavfi", "-i", SINE, "-t", "6",
          "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-pix_fmt", "yuv420p",
          "-c:a", "aac", full, NULL);
  g_file_get_contents (full, &data, &size, &error);
  g_assert_no_error (error);
  g_file_set_contents (cut, data + size / 3 + 77, size - size / 3 - 77, &error);
  g_assert_no_error (error);

  rec = rec_new (0,
                 make_format (LT_RECORD_FORMAT_M3U8, 1, 3600),
                 make_format (LT_RECORD_FORMAT_MP4, 0, 3600),
                 NULL);
  rec_attach_file (rec, cut);
  rec_wait_final (rec);
  g_assert_cmpuint (rec->errors->len, ==, 0);
  check_slices (rec, TRUE);
  g_assert_true (ffmpeg_decodes (rec_single_file (rec, LT_RECORD_FORMAT_MP4)->path));
}

/* ---- live: nginx-rtmp and a real-time publisher ---- */

typedef struct
{
  char  *dir;
  GPid   pid;
  guint  port;
} Nginx;

static void
nginx_free (gpointer data)
{
  Nginx *nginx = data;

  kill (nginx->pid, SIGTERM);
  waitpid (nginx->pid, NULL, 0);
  g_free (nginx->dir);
  g_free (nginx);
}

static gboolean
port_open (gpointer data)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;

  /* No proxy lookup (GSettings-backed proxy resolvers have no schema in tests). */
  g_socket_client_set_enable_proxy (client, FALSE);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", GPOINTER_TO_UINT (data),
                                                NULL, NULL);
  return connection != NULL;
}

static Nginx *
nginx_start (void)
{
  Nginx *nginx = g_new0 (Nginx, 1);
  g_autofree char *conf = NULL;
  g_autofree char *conf_path = NULL;
  g_autofree char *logs = NULL;
  g_autoptr(GError) error = NULL;
  const char *module = g_getenv ("LT_NGINX_RTMP_MODULE");
  const char *argv[] = { "nginx", "-p", NULL, "-c", NULL, "-g", "daemon off;", NULL };

  nginx->dir = lt_test_make_temp_dir ();
  nginx->port = lt_test_pick_free_port ();
  logs = g_build_filename (nginx->dir, "logs", NULL);
  g_mkdir (logs, 0755);
  conf = g_strdup_printf ("load_module %s;\n"
                          "worker_processes 1;\n"
                          "error_log logs/error.log warn;\n"
                          "pid logs/nginx.pid;\n"
                          "events { worker_connections 64; }\n"
                          "rtmp { server { listen 127.0.0.1:%u; application live { live on; } } }\n",
                          module != NULL ? module : "/usr/lib/nginx/modules/ngx_rtmp_module.so",
                          nginx->port);
  conf_path = g_build_filename (nginx->dir, "nginx.conf", NULL);
  g_file_set_contents (conf_path, conf, -1, &error);
  g_assert_no_error (error);
  argv[2] = nginx->dir;
  argv[4] = conf_path;
  g_spawn_async (NULL, (char **) argv, NULL,
                 G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                 G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                 die_with_parent, NULL, &nginx->pid, &error);
  g_assert_no_error (error);
  g_test_queue_destroy (nginx_free, nginx);
  lt_test_wait_until (port_open, GUINT_TO_POINTER (nginx->port), 10000, "nginx to listen");
  return nginx;
}

typedef struct
{
  Rec   *rec;
  guint  n;
} SliceCount;

static gboolean
has_slices (gpointer data)
{
  SliceCount *count = data;

  return count->rec->slices->len >= count->n;
}

static void
wait_slices (Rec        *rec,
             guint       n,
             const char *what)
{
  SliceCount count = { rec, n };

  lt_test_wait_until (has_slices, &count, 30000, what);
}

/* Live RTMP: EVENT while recording, a reconnect inside the window continues the files
 * (#EXT-X-DISCONTINUITY), restart starts new ones. */
static void
test_live_reconnect_restart (void)
{
  Nginx *nginx = nginx_start ();
  g_autofree char *url = g_strdup_printf ("rtmp://127.0.0.1:%u/live/cam", nginx->port);
  g_autofree char *live_text = NULL;
  g_autofree char *playlist = NULL;
  g_autoptr(GPtrArray) m3u8s = NULL;
  g_autoptr(GError) error = NULL;
  LtTestPublisher *publisher;
  LtRecordingFile *opened_m3u8 = NULL;
  Rec *rec;

  rec = rec_new (30,
                 make_format (LT_RECORD_FORMAT_M3U8, 1, 3600),
                 make_format (LT_RECORD_FORMAT_MP4, 0, 3600),
                 make_format (LT_RECORD_FORMAT_FLV, 0, 3600),
                 NULL);
  lt_recorder_set_source_timeout (rec->recorder, 3);

  publisher = lt_test_publisher_spawn_ffmpeg (url, NULL);
  g_assert_true (lt_recorder_attach_uri (rec->recorder, url, &error));
  g_assert_no_error (error);
  wait_slices (rec, 3, "three live slices");

  /* While live: an EVENT playlist without ENDLIST, at the name "file-opened" gave. */
  for (guint i = 0; i < rec->opened->len; i++)
    if (((LtRecordingFile *) g_ptr_array_index (rec->opened, i))->format == LT_RECORD_FORMAT_M3U8)
      opened_m3u8 = g_ptr_array_index (rec->opened, i);
  g_assert_nonnull (opened_m3u8);
  live_text = read_text (opened_m3u8->path);
  g_assert_nonnull (strstr (live_text, "#EXT-X-PLAYLIST-TYPE:EVENT\n"));
  g_assert_null (strstr (live_text, "#EXT-X-ENDLIST"));
  g_assert_cmpint (lt_recorder_get_state (rec->recorder), ==, LT_RECORDER_STATE_RECORDING);

  /* The publisher vanishes without closing (frozen: its connection stays open, nothing
   * comes): the recorder notices the stall by itself and pauses. */
  kill (lt_test_publisher_get_pid (publisher), SIGSTOP);
  lt_test_wait_until (rec_is_paused, rec, 10000, "the stalled connection to pause");
  lt_test_publisher_kill (publisher);

  /* Back within the window. */
  publisher = lt_test_publisher_spawn_ffmpeg (url, NULL);
  g_assert_true (lt_recorder_attach_uri (rec->recorder, url, &error));
  g_assert_no_error (error);
  wait_slices (rec, rec->slices->len + 3, "slices after the reconnect");

  /* restart: the current files close, new ones ({Sequence} + 1) follow. */
  lt_recorder_restart (rec->recorder);
  wait_slices (rec, rec->slices->len + 2, "slices after the restart");

  /* Manual "stop" pauses like an unpublish; "cancel_delay" then closes the files. */
  lt_recorder_pause (rec->recorder);
  g_assert_cmpint (lt_recorder_get_state (rec->recorder), ==, LT_RECORDER_STATE_PAUSED);
  g_assert_cmpuint (rec->closed->len, ==, 3);
  rec_stop (rec);
  lt_test_publisher_kill (publisher);

  g_assert_cmpuint (rec->errors->len, ==, 0);
  check_slices (rec, TRUE);
  m3u8s = rec_closed_files (rec, LT_RECORD_FORMAT_M3U8);
  g_assert_cmpuint (m3u8s->len, ==, 2);
  playlist = check_playlist (rec, g_ptr_array_index (m3u8s, 0));
  g_assert_cmpuint (count_substrings (playlist, "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:"), ==, 1);
  g_free (check_playlist (rec, g_ptr_array_index (m3u8s, 1)));
  g_assert_cmpuint (((LtRecordingFile *) g_ptr_array_index (m3u8s, 1))->sequence, ==, 2);

  for (LtRecordFormatKind kind = LT_RECORD_FORMAT_MP4; kind <= LT_RECORD_FORMAT_FLV; kind++)
    {
      g_autoptr(GPtrArray) files = rec_closed_files (rec, kind);
      LtRecordingFile *first, *second;

      g_assert_cmpuint (files->len, ==, 2);
      first = g_ptr_array_index (files, 0);
      second = g_ptr_array_index (files, 1);
      g_assert_cmpuint (first->sequence, ==, 1);
      g_assert_cmpuint (second->sequence, ==, 2);
      /* Both connections in one file, on one timeline. */
      g_assert_cmpuint (first->n_discontinuities, ==, 1);
      g_assert_true (ffmpeg_decodes (first->path));
      g_assert_true (ffmpeg_decodes (second->path));
      g_assert_cmpfloat_with_epsilon (probe_duration (first->path),
                                      (double) first->duration / G_USEC_PER_SEC, 0.2);
      if (kind == LT_RECORD_FORMAT_FLV)
        g_assert_cmpfloat_with_epsilon (flv_metadata_duration (first->path),
                                        (double) first->duration / G_USEC_PER_SEC, 0.1);
    }
}

/* ---- lt-recorder-helper in a child process ---- */

typedef struct
{
  GPid        pid;
  GIOChannel *out;
  GPtrArray  *lines;
  gboolean    eof;
  guint       watch;
} Helper;

static gboolean
helper_out_cb (GIOChannel   *channel,
               GIOCondition  condition,
               gpointer      data)
{
  Helper *helper = data;
  g_autofree char *line = NULL;
  gsize len = 0;
  GIOStatus status;

  status = g_io_channel_read_line (channel, &line, &len, NULL, NULL);
  if (status == G_IO_STATUS_NORMAL)
    {
      g_strchomp (line);
      g_test_message ("helper: %s", line);
      g_ptr_array_add (helper->lines, g_steal_pointer (&line));
      return G_SOURCE_CONTINUE;
    }
  if (status == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  helper->eof = TRUE;
  helper->watch = 0;
  return G_SOURCE_REMOVE;
}

static void
helper_free (gpointer data)
{
  Helper *helper = data;

  kill (helper->pid, SIGKILL);
  waitpid (helper->pid, NULL, 0);
  g_clear_handle_id (&helper->watch, g_source_remove);
  g_io_channel_unref (helper->out);
  g_ptr_array_unref (helper->lines);
  g_free (helper);
}

static char *
helper_path (void)
{
  return g_build_filename (g_getenv ("LT_BUILD_ROOT"), "tests", "lt-recorder-helper", NULL);
}

/* Spawns @argv with stdin from @stdin_fd (-1: /dev/null). */
static Helper *
helper_spawn (const char * const *argv,
              int                 stdin_fd)
{
  g_autoptr(GError) error = NULL;
  Helper *helper = g_new0 (Helper, 1);
  int out_fd = -1;

  g_spawn_async_with_pipes_and_fds (NULL, argv, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH |
                                    (stdin_fd < 0 ? G_SPAWN_STDIN_FROM_DEV_NULL : 0),
                                    die_with_parent, NULL, stdin_fd, -1, -1, NULL, NULL, 0,
                                    &helper->pid, NULL, &out_fd, NULL, &error);
  g_assert_no_error (error);
  helper->lines = g_ptr_array_new_with_free_func (g_free);
  helper->out = g_io_channel_unix_new (out_fd);
  g_io_channel_set_close_on_unref (helper->out, TRUE);
  helper->watch = g_io_add_watch (helper->out, G_IO_IN | G_IO_HUP | G_IO_ERR, helper_out_cb, helper);
  g_test_queue_destroy (helper_free, helper);
  return helper;
}

/* A line without its --timestamps prefix. */
static const char *
line_body (const char *line)
{
  if (g_ascii_isdigit (line[0]) && strchr (line, ' ') != NULL)
    return strchr (line, ' ') + 1;
  return line;
}

static guint
helper_count (Helper     *helper,
              const char *prefix)
{
  guint n = 0;

  for (guint i = 0; i < helper->lines->len; i++)
    if (g_str_has_prefix (line_body (g_ptr_array_index (helper->lines, i)), prefix))
      n++;
  return n;
}

typedef struct
{
  Helper     *helper;
  const char *prefix;
  guint       n;
} LineCount;

static gboolean
helper_has_lines (gpointer data)
{
  LineCount *count = data;

  return helper_count (count->helper, count->prefix) >= count->n || count->helper->eof;
}

static gboolean
helper_at_eof (gpointer data)
{
  return ((Helper *) data)->eof;
}

/* The last word of each "slice-closed" line: the slice's path. */
static GPtrArray *
helper_slice_paths (Helper *helper)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < helper->lines->len; i++)
    {
      const char *line = line_body (g_ptr_array_index (helper->lines, i));

      if (g_str_has_prefix (line, "slice-closed "))
        g_ptr_array_add (paths, g_strdup (strrchr (line, ' ') + 1));
    }
  return paths;
}

static char *
helper_opened_path (Helper     *helper,
                    const char *format)
{
  g_autofree char *prefix = g_strdup_printf ("file-opened %s ", format);

  for (guint i = 0; i < helper->lines->len; i++)
    {
      const char *line = line_body (g_ptr_array_index (helper->lines, i));

      if (g_str_has_prefix (line, prefix))
        return g_strdup (strrchr (line, ' ') + 1);
    }
  g_assert_not_reached ();
}

/* kill -9 in the middle of a live recording: every closed slice plays, the open
 * playlist names exactly them, MP4 and FLV play up to the moment of the kill. */
static void
test_crash (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *input = g_build_filename (dir, "in.flv", NULL);
  g_autofree char *root = g_build_filename (dir, "root", NULL);
  g_autofree char *helper_bin = helper_path ();
  g_autofree char *playlist_path = NULL;
  g_autofree char *playlist_text = NULL;
  g_autofree char *mp4_path = NULL;
  g_autofree char *flv_path = NULL;
  g_autoptr(GPtrArray) paths = NULL;
  g_autoptr(LtPlaylist) playlist = NULL;
  g_autoptr(GError) error = NULL;
  const char *ffmpeg_argv[] = { "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
                                "-re", "-i", input, "-c", "copy", "-f", "flv", "pipe:1", NULL };
  const char *helper_argv[] = { helper_bin, "--root", root, "--uri", "fd://0",
                                "--format", "m3u8:slice=1", "--format", "mp4", "--format", "flv",
                                NULL };
  GPid ffmpeg_pid;
  int pipe_fd = -1;
  Helper *helper;
  LineCount count;
  int status = 0;

  make_h264_flv (input, 20, "320x240");
  /* ffmpeg -re feeds the helper in real time through a pipe. */
  pipe_fd = spawn_feeder (ffmpeg_argv, &ffmpeg_pid);
  helper = helper_spawn (helper_argv, pipe_fd);
  close (pipe_fd);

  count = (LineCount) { helper, "slice-closed", 4 };
  lt_test_wait_until (helper_has_lines, &count, 30000, "four slices");
  g_assert_false (helper->eof);
  lt_test_spin (300);  /* somewhere inside the next slice */
  kill (helper->pid, SIGKILL);
  waitpid (helper->pid, &status, 0);
  g_assert_true (WIFSIGNALED (status));
  kill (ffmpeg_pid, SIGKILL);
  waitpid (ffmpeg_pid, NULL, 0);
  lt_test_wait_until (helper_at_eof, helper, 5000, "the helper's output to end");

  /* Every slice reported closed plays and starts with a keyframe. */
  paths = helper_slice_paths (helper);
  g_assert_cmpuint (paths->len, >=, 4);
  for (guint i = 0; i < paths->len; i++)
    {
      g_assert_true (ffmpeg_decodes (paths->pdata[i]));
      g_assert_true (first_video_frame_is_keyframe (paths->pdata[i]));
    }

  /* The open playlist is intact (written atomically) and names them in order. */
  playlist_path = helper_opened_path (helper, "m3u8");
  playlist_text = read_text (playlist_path);
  g_assert_null (strstr (playlist_text, "#EXT-X-ENDLIST"));
  playlist = lt_playlist_new_from_data ("record/live/test/p.m3u8", playlist_text,
                                        strlen (playlist_text), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (lt_playlist_get_n_segments (playlist), >=, paths->len);
  for (guint i = 0; i < paths->len; i++)
    g_assert_true (g_str_has_suffix (paths->pdata[i],
                                     lt_playlist_get_segment (playlist, i)->key));

  /* Fragmented MP4 and FLV play as far as they were written, no repair needed. */
  mp4_path = helper_opened_path (helper, "mp4");
  flv_path = helper_opened_path (helper, "flv");
  g_assert_true (ffmpeg_decodes (mp4_path));
  g_assert_true (ffmpeg_decodes (flv_path));
  g_assert_cmpfloat (probe_duration (mp4_path), >=, 3.0);
  g_assert_cmpfloat (probe_duration (flv_path), >=, 3.0);

  /* Recovery writes the durations a clean close would have, and leaves them playable. */
  for (guint i = 0; i < 2; i++)
    {
      const char *path = i == 0 ? mp4_path : flv_path;
      gint64 duration = 0;

      g_assert_true (lt_recorder_repair_file (path, i == 0 ? LT_RECORD_FORMAT_MP4
                                                           : LT_RECORD_FORMAT_FLV,
                                              &duration, &error));
      g_assert_no_error (error);
      g_test_message ("repaired %s: %.3f s", path, (double) duration / G_USEC_PER_SEC);
      g_assert_cmpint (duration, >=, 3 * G_USEC_PER_SEC);
      g_assert_true (ffmpeg_decodes (path));
      g_assert_cmpfloat_with_epsilon (probe_duration (path), (double) duration / G_USEC_PER_SEC, 0.15);
      if (i == 1)
        g_assert_cmpfloat_with_epsilon (flv_metadata_duration (path),
                                        (double) duration / G_USEC_PER_SEC, 0.05);
    }

  /* Anything else is refused, untouched. */
  {
    g_autoptr(GError) local_error = NULL;
    gint64 duration = 0;

    g_assert_false (lt_recorder_repair_file (input, LT_RECORD_FORMAT_MP4, &duration, &local_error));
    g_assert_error (local_error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_FAILED);
  }
}

/* The 9th writev fails with ENOSPC (strace fault injection) in a live recording: DiskFull
 * is reported within 2 s, the slices closed before are intact, and once the disk takes
 * writes again the recording resumes by itself in new files. */
static void
test_disk_full (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *input = g_build_filename (dir, "in.flv", NULL);
  g_autofree char *root = g_build_filename (dir, "root", NULL);
  g_autofree char *trace = g_build_filename (dir, "strace.log", NULL);
  g_autofree char *helper_bin = helper_path ();
  g_autofree char *trace_text = NULL;
  g_autoptr(GPtrArray) paths = NULL;
  g_autoptr(GError) error = NULL;
  const char *ffmpeg_argv[] = { "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
                                "-re", "-i", input, "-c", "copy", "-f", "flv", "pipe:1", NULL };
  const char *argv[] = { "strace", "-f", "-qq", "-ttt", "-o", trace,
                         "-e", "trace=writev", "-e", "inject=writev:error=ENOSPC:when=9",
                         helper_bin, "--timestamps", "--root", root, "--uri", "fd://0",
                         "--format", "m3u8:slice=1", "--format", "flv", NULL };
  double injected = 0, reported = 0;
  guint failed_at = 0;
  GPid ffmpeg_pid;
  int pipe_fd = -1;
  const char *p;
  Helper *helper;
  LineCount count;

  make_h264_flv (input, 12, "320x240");
  pipe_fd = spawn_feeder (ffmpeg_argv, &ffmpeg_pid);
  helper = helper_spawn (argv, pipe_fd);
  close (pipe_fd);

  /* The second playlist opens once the recording resumed. */
  count = (LineCount) { helper, "file-opened m3u8 2 ", 1 };
  lt_test_wait_until (helper_has_lines, &count, 30000, "the recording to resume");
  g_assert_false (helper->eof);
  count = (LineCount) { helper, "slice-closed", helper_count (helper, "slice-closed") + 2 };
  lt_test_wait_until (helper_has_lines, &count, 30000, "slices after resuming");
  kill (helper->pid, SIGINT);
  count = (LineCount) { helper, "done", 1 };
  lt_test_wait_until (helper_has_lines, &count, 30000, "the helper to finish");
  kill (ffmpeg_pid, SIGKILL);
  waitpid (ffmpeg_pid, NULL, 0);

  for (guint i = 0; i < helper->lines->len; i++)
    {
      const char *line = g_ptr_array_index (helper->lines, i);

      if (reported == 0 && g_str_has_prefix (line_body (line), "error DiskFull"))
        {
          reported = g_ascii_strtod (line, NULL);
          failed_at = helper_count (helper, "slice-closed");
        }
    }
  g_assert_cmpfloat (reported, >, 0);
  g_assert_cmpuint (helper_count (helper, "state suspended"), ==, 1);
  g_assert_cmpuint (helper_count (helper, "state recording"), ==, 2);

  /* The injected failure, from strace's log. */
  trace_text = read_text (trace);
  p = strstr (trace_text, "ENOSPC");
  g_assert_nonnull (p);
  while (p > trace_text && p[-1] != '\n')
    p--;
  p = strchr (p, ' ');
  injected = g_ascii_strtod (p + 1, NULL);
  g_test_message ("ENOSPC at %.3f, DiskFull reported at %.3f", injected, reported);
  g_assert_cmpfloat (reported - injected, <, 2.0);
  g_assert_cmpfloat (reported - injected, >=, -0.01);

  /* Every slice that closed, before and after, is intact; so are both FLV files. */
  paths = helper_slice_paths (helper);
  g_assert_cmpuint (paths->len, >=, 3);
  for (guint i = 0; i < paths->len; i++)
    {
      g_assert_true (ffmpeg_decodes (paths->pdata[i]));
      g_assert_true (first_video_frame_is_keyframe (paths->pdata[i]));
    }
  g_assert_cmpuint (helper_count (helper, "file-closed flv"), ==, 2);
  for (guint i = 0; i < helper->lines->len; i++)
    {
      const char *line = line_body (g_ptr_array_index (helper->lines, i));

      if (g_str_has_prefix (line, "file-closed "))
        g_assert_true (ffmpeg_decodes (strrchr (line, ' ') + 1));
    }
  g_test_message ("%u slices before the failure, %u in all", failed_at, paths->len);
}

/* LtOutFile's running MD5: the MD5 of exactly the bytes on disk, in the order written,
 * buffered bytes not counted; off unless enabled before the first byte; gone for good
 * after a patch of written bytes or a failed write (the MD5 is then unknown, never
 * wrong). */
/* From now on @out's writes fail with ENOSPC: its fd points at /dev/full. */
static void
fill_disk (LtOutFile *out)
{
  int full = open ("/dev/full", O_WRONLY | O_CLOEXEC);

  g_assert_cmpint (full, >=, 0);
  g_assert_cmpint (dup2 (full, out->fd), ==, out->fd);
  close (full);
}

/* Block MD5s (recording files): each block of the file on disk, "-" for the blocks a
 * patch touched (the finished ones and the one being written), the last block shorter;
 * nothing while bytes are buffered, after a failed write, or when enabled too late. */
static void
test_out_file_block_md5s (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "a.mp4", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *blocks = NULL;
  g_autoptr(GString) expected = g_string_new ("1000:");
  g_autoptr(GError) error = NULL;
  guint8 unit[333];
  gsize length = 0;
  LtOutFile *out;

  for (guint i = 0; i < sizeof unit; i++)
    unit[i] = (guint8) g_random_int ();
  out = _lt_out_file_create (path, &error);
  g_assert_no_error (error);
  _lt_out_file_enable_block_md5 (out, 1000);
  for (guint i = 0; i < 14; i++)          /* 4,662 bytes: blocks 0-3 and 662 bytes */
    {
      unit[0] = (guint8) i;
      _lt_out_file_write (out, unit, sizeof unit);
      g_assert_true (_lt_out_file_commit (out, 700));
      if (i == 5)
        /* A header patch while block 1 is being written: blocks 0 and 1. */
        g_assert_true (_lt_out_file_patch (out, 990, "0123456789ab", 12));
    }
  g_assert_cmpuint (out->len, >, 0);
  g_assert_null (_lt_out_file_dup_block_md5s (out));
  g_assert_true (_lt_out_file_commit (out, 0));
  /* The last (short) block patched too. */
  g_assert_true (_lt_out_file_patch (out, 4100, "x", 1));
  blocks = _lt_out_file_dup_block_md5s (out);
  _lt_out_file_free (out);

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, ==, 14 * sizeof unit);
  for (guint i = 0; (gsize) i * 1000 < length; i++)
    {
      g_autofree char *md5 = g_compute_checksum_for_data (G_CHECKSUM_MD5,
                                                          (const guint8 *) contents + i * 1000,
                                                          MIN (1000, length - i * 1000));

      if (i > 0)
        g_string_append_c (expected, ',');
      g_string_append (expected, i == 0 || i == 1 || i == 4 ? "-" : md5);
    }
  g_assert_cmpstr (blocks, ==, expected->str);

  /* Enabled too late: none. */
  {
    g_autofree char *late = g_build_filename (dir, "b.flv", NULL);

    out = _lt_out_file_create (late, &error);
    g_assert_no_error (error);
    _lt_out_file_write (out, unit, sizeof unit);
    g_assert_true (_lt_out_file_commit (out, 0));
    _lt_out_file_enable_block_md5 (out, 1000);
    g_assert_null (_lt_out_file_dup_block_md5s (out));
    _lt_out_file_free (out);
  }

  /* A failed write (the disk is full): none, for good. */
  {
    g_autofree char *full = g_build_filename (dir, "c.mp4", NULL);

    out = _lt_out_file_create (full, &error);
    g_assert_no_error (error);
    _lt_out_file_enable_block_md5 (out, 1000);
    _lt_out_file_write (out, unit, sizeof unit);
    g_assert_true (_lt_out_file_commit (out, 0));
    fill_disk (out);
    _lt_out_file_write (out, unit, sizeof unit);
    g_assert_false (_lt_out_file_commit (out, 0));
    g_assert_cmpint (out->error, ==, ENOSPC);
    g_assert_null (_lt_out_file_dup_block_md5s (out));
    _lt_out_file_free (out);
  }
}

static void
test_out_file_md5 (void)
{
  g_autofree char *dir = lt_test_make_temp_dir ();
  g_autoptr(GError) error = NULL;
  guint8 unit[3000];
  LtOutFile *out;

  for (guint i = 0; i < sizeof unit; i++)
    unit[i] = (guint8) g_random_int ();

  /* Many units, flushed at the threshold and at the end. */
  {
    g_autofree char *path = g_build_filename (dir, "a.ts", NULL);
    g_autofree char *md5 = NULL;
    g_autofree char *on_disk = NULL;
    g_autofree char *partial = NULL;
    guint64 size;

    out = _lt_out_file_create (path, &error);
    g_assert_no_error (error);
    _lt_out_file_enable_md5 (out);
    for (guint i = 0; i < 100; i++)
      {
        unit[0] = (guint8) i;
        _lt_out_file_write (out, unit, sizeof unit - (i % 7));
        g_assert_true (_lt_out_file_commit (out, LT_OUT_FILE_FLUSH_THRESHOLD));
      }
    /* Some bytes are still buffered: the MD5 is of what is on disk only. */
    g_assert_cmpuint (out->len, >, 0);
    partial = _lt_out_file_dup_md5 (out);
    on_disk = file_md5 (path);
    g_assert_cmpstr (partial, ==, on_disk);
    g_assert_true (_lt_out_file_commit (out, 0));
    size = _lt_out_file_tell (out);
    md5 = _lt_out_file_dup_md5 (out);
    _lt_out_file_free (out);
    g_clear_pointer (&on_disk, g_free);
    on_disk = file_md5 (path);
    g_assert_nonnull (md5);
    g_assert_cmpstr (md5, ==, on_disk);
    g_assert_cmpstr (md5, !=, partial);
    {
      struct stat st;

      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_cmpuint (size, ==, st.st_size);
    }
  }

  /* Not enabled, or enabled too late: none. */
  {
    g_autofree char *path = g_build_filename (dir, "b.mp4", NULL);
    g_autofree char *md5 = NULL;

    out = _lt_out_file_create (path, &error);
    g_assert_no_error (error);
    _lt_out_file_write (out, unit, sizeof unit);
    g_assert_true (_lt_out_file_commit (out, 0));
    g_assert_null (_lt_out_file_dup_md5 (out));
    _lt_out_file_enable_md5 (out);
    _lt_out_file_write (out, unit, sizeof unit);
    g_assert_true (_lt_out_file_commit (out, 0));
    md5 = _lt_out_file_dup_md5 (out);
    g_assert_null (md5);
    _lt_out_file_free (out);
  }

  /* A patch of written bytes (what MP4/FLV headers get) drops it, even if more follows. */
  {
    g_autofree char *path = g_build_filename (dir, "c.flv", NULL);
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;

    out = _lt_out_file_create (path, &error);
    g_assert_no_error (error);
    _lt_out_file_enable_md5 (out);
    _lt_out_file_write (out, unit, sizeof unit);
    g_assert_true (_lt_out_file_commit (out, 0));
    before = _lt_out_file_dup_md5 (out);
    g_assert_nonnull (before);
    g_assert_true (_lt_out_file_patch (out, 10, "xyzw", 4));
    g_assert_null (_lt_out_file_dup_md5 (out));
    _lt_out_file_write (out, unit, sizeof unit);
    g_assert_true (_lt_out_file_commit (out, 0));
    after = _lt_out_file_dup_md5 (out);
    g_assert_null (after);
    _lt_out_file_free (out);
  }

  /* A failed write (ENOSPC: the fd now points at /dev/full) drops it. */
  {
    g_autofree char *path = g_build_filename (dir, "d.ts", NULL);
    g_autofree char *before = NULL;

    out = _lt_out_file_create (path, &error);
    g_assert_no_error (error);
    _lt_out_file_enable_md5 (out);
    _lt_out_file_write (out, unit, sizeof unit);
    g_assert_true (_lt_out_file_commit (out, 0));
    before = _lt_out_file_dup_md5 (out);
    g_assert_nonnull (before);
    fill_disk (out);
    _lt_out_file_write (out, unit, sizeof unit);
    g_assert_false (_lt_out_file_commit (out, 0));
    g_assert_cmpint (out->error, ==, ENOSPC);
    g_assert_null (_lt_out_file_dup_md5 (out));
    _lt_out_file_free (out);
  }
}

int
main (int    argc,
      char **argv)
{
  lt_test_init (&argc, &argv);
  gst_init (NULL, NULL);

  g_test_add_func ("/recorder/out-file-md5", test_out_file_md5);
  g_test_add_func ("/recorder/out-file-block-md5s", test_out_file_block_md5s);
  g_test_add_func ("/recorder/all-formats", test_all_formats);
  g_test_add_func ("/recorder/cycles", test_cycles);
  g_test_add_func ("/recorder/merge-window", test_merge_window);
  g_test_add_func ("/recorder/merge-window-expires", test_merge_window_expires);
  g_test_add_func ("/recorder/timestamp-jump", test_timestamp_jump);
  g_test_add_func ("/recorder/unsupported-codec", test_unsupported_codec);
  g_test_add_func ("/recorder/other-codecs", test_other_codecs);
  g_test_add_func ("/recorder/audio-only-video-only", test_audio_only_video_only);
  g_test_add_func ("/recorder/long-audio-only-stretch", test_long_audio_only_stretch);
  g_test_add_func ("/recorder/missing-headers", test_missing_headers);
  g_test_add_func ("/recorder/live-reconnect-restart", test_live_reconnect_restart);
  g_test_add_func ("/recorder/crash", test_crash);
  g_test_add_func ("/recorder/disk-full", test_disk_full);

  return g_test_run ();
}
