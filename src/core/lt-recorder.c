/* lt-recorder.c: one recording session of one stream (SPEC section 3): connections, the
 * continuous session timeline, cycles, slices, the merge window, disk-full handling and
 * the signals the engine turns into catalog rows and callbacks.
 *
 * Locking: self->lock guards the session state and the format writers; streaming threads
 * take it for every access unit. The main thread takes it for pause/restart/stop, and
 * never holds it while a pipeline changes state. Durable work (fdatasync, playlists,
 * renames) runs in order on a one-thread pool; its results come back as events that the
 * main context turns into signals, in the order they were queued.
 */
#define _GNU_SOURCE  /* renameat2 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gst/pbutils/pbutils.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lt-playlist.h"
#include "lt-recorder-private.h"
#include "lt-template.h"

/* A stream's timestamps may go back a little (clamped) but not more than this. */
#define BACK_JUMP_NS (500 * GST_MSECOND)
/* Ahead of everything written by more than this: a jump. */
#define FORWARD_JUMP_NS (5 * GST_SECOND)
/* The gap left on the continuous timeline at a reconnect or a jump. */
#define JOIN_GAP_NS (40 * GST_MSECOND)
/* Before the first keyframe: audio kept (nginx sends audio up to a GOP ahead). */
#define PENDING_AUDIO_MAX_NS (10 * GST_SECOND)
/* After the first keyframe, the other stream gets this long to announce itself … */
#define SETTLE_NS (500 * GST_MSECOND)
/* … and this long to become ready (its parser needs a frame for its caps). */
#define SETTLE_MAX_NS (2 * GST_SECOND)
/* Audio alone this long without a video stream announced: an audio-only stream. */
#define AUDIO_ONLY_WAIT_NS (6 * GST_SECOND)
/* Video silent this long: audio frames become cut points (long audio-only stretches). */
#define VIDEO_STALL_NS (3 * GST_SECOND)
/* Free space needed to resume after a full disk. */
#define RESUME_FREE_BYTES (64 * 1024 * 1024)
#define SPACE_CHECK_MIN_S 2
#define SPACE_CHECK_MAX_S 60

G_DEFINE_QUARK (lt-recorder-error-quark, lt_recorder_error)

const char *
lt_recorder_error_reason (LtRecorderError code)
{
  switch (code)
    {
    case LT_RECORDER_ERROR_UNSUPPORTED_CODEC:
      return "UnsupportedCodec";
    case LT_RECORDER_ERROR_DISK_FULL:
      return "DiskFull";
    case LT_RECORDER_ERROR_IO:
      return "WriteFailed";
    case LT_RECORDER_ERROR_SOURCE:
      return "SourceFailed";
    case LT_RECORDER_ERROR_FAILED:
    default:
      return "InternalError";
    }
}

G_DEFINE_ENUM_TYPE (LtRecorderState, lt_recorder_state,
  G_DEFINE_ENUM_VALUE (LT_RECORDER_STATE_IDLE, "idle"),
  G_DEFINE_ENUM_VALUE (LT_RECORDER_STATE_STARTING, "starting"),
  G_DEFINE_ENUM_VALUE (LT_RECORDER_STATE_RECORDING, "recording"),
  G_DEFINE_ENUM_VALUE (LT_RECORDER_STATE_PAUSED, "paused"),
  G_DEFINE_ENUM_VALUE (LT_RECORDER_STATE_SUSPENDED, "suspended"),
  G_DEFINE_ENUM_VALUE (LT_RECORDER_STATE_STOPPING, "stopping"),
  G_DEFINE_ENUM_VALUE (LT_RECORDER_STATE_STOPPED, "stopped"),
  G_DEFINE_ENUM_VALUE (LT_RECORDER_STATE_FAILED, "failed"))

const char *
lt_recorder_state_to_string (LtRecorderState state)
{
  static const char *names[] = {
    "idle", "starting", "recording", "paused", "suspended", "stopping", "stopped", "failed",
  };

  g_return_val_if_fail (state < G_N_ELEMENTS (names), NULL);
  return names[state];
}

/* ---- boxed info types ---- */

LtRecordingSlice *
lt_recording_slice_copy (const LtRecordingSlice *slice)
{
  LtRecordingSlice *copy = g_memdup2 (slice, sizeof *slice);

  copy->playlist_path = g_strdup (slice->playlist_path);
  copy->path = g_strdup (slice->path);
  copy->object_key = g_strdup (slice->object_key);
  copy->video_codec = g_strdup (slice->video_codec);
  copy->audio_codec = g_strdup (slice->audio_codec);
  copy->md5 = g_strdup (slice->md5);
  return copy;
}

void
lt_recording_slice_free (LtRecordingSlice *slice)
{
  if (slice == NULL)
    return;
  g_free (slice->playlist_path);
  g_free (slice->path);
  g_free (slice->object_key);
  g_free (slice->video_codec);
  g_free (slice->audio_codec);
  g_free (slice->md5);
  g_free (slice);
}

G_DEFINE_BOXED_TYPE (LtRecordingSlice, lt_recording_slice,
                     lt_recording_slice_copy, lt_recording_slice_free)

LtRecordingFile *
lt_recording_file_copy (const LtRecordingFile *file)
{
  LtRecordingFile *copy = g_memdup2 (file, sizeof *file);

  copy->path = g_strdup (file->path);
  copy->object_key = g_strdup (file->object_key);
  copy->open_path = g_strdup (file->open_path);
  copy->open_object_key = g_strdup (file->open_object_key);
  copy->video_codec = g_strdup (file->video_codec);
  copy->audio_codec = g_strdup (file->audio_codec);
  copy->part_md5s = g_strdup (file->part_md5s);
  return copy;
}

void
lt_recording_file_free (LtRecordingFile *file)
{
  if (file == NULL)
    return;
  g_free (file->path);
  g_free (file->object_key);
  g_free (file->open_path);
  g_free (file->open_object_key);
  g_free (file->video_codec);
  g_free (file->audio_codec);
  g_free (file->part_md5s);
  g_free (file);
}

G_DEFINE_BOXED_TYPE (LtRecordingFile, lt_recording_file,
                     lt_recording_file_copy, lt_recording_file_free)

/* ---- internal types ---- */

typedef struct
{
  LtRecordFormat *params;
  LtRecordFormatKind kind;
  gboolean        failed;          /* this format cannot record the stream (FLV + H.265) */

  /* The open file (cycle): playlist, MP4 or FLV. */
  gboolean        open;
  guint64         sequence;
  char           *key;             /* object key while open */
  char           *path;
  gint64          cycle_start;     /* ns, session timeline */
  gint64          wall_start;      /* Unix µs */
  gint64          wall_end;
  gint64          end;             /* ns: end of the last sample written */
  LtTrackConfig  *video;
  LtTrackConfig  *audio;
  gboolean        cut_pending;     /* restart: new file at the next cut point */
  gboolean        discont_pending; /* reconnect or jump: discontinuity at the next cut */
  guint           n_discontinuities;
  gboolean        need_keyframe;   /* video waits for a keyframe (after an audio cut) */
  LtOutFile      *out;             /* MP4/FLV file, or the m3u8's current slice */
  LtMp4Mux       *mp4;
  LtFlvMux       *flv;

  /* m3u8 */
  LtPlaylist     *playlist;
  LtTsMux        *ts;
  guint64         slice_counter;   /* {Sequence} of slices: unique in the session */
  guint64         playlist_size;
  gboolean        slice_open;
  char           *slice_key;
  gint64          slice_start;
  gint64          slice_wall;
  gboolean        slice_discontinuity;
  gboolean        slice_keyframe;
  guint           discontinuity_sequence;
} Format;

typedef struct
{
  int        slot;
  GstBuffer *buffer;
  gint64     dts;        /* connection running time */
  gint64     pts;
  gint64     duration;
  gboolean   keyframe;
} Pending;

typedef struct
{
  LtRecorder    *self;             /* strong reference */
  gboolean       started;
  gboolean       no_more_pads;
  gboolean       linked[2];        /* the source has a stream for the slot */
  LtTrackConfig *config[2];        /* from the latest caps; NULL while not ready */
  GQueue         pending;          /* Pending: samples before the start */
  gint64         pending_keyframe; /* running time of the queued keyframe, or G_MININT64 */
  gint64         offset[2];        /* running time → session time */
  gint64         epoch_offset;     /* the offset of the latest re-anchoring */
  gint64         last_dts[2];      /* session ns, G_MININT64 before the first */
  gint64         last_rt[2];
  gint64         last_duration[2];
  gboolean       video_keyframe_seen;
  gint64         wall_anchor;      /* Unix µs when the first sample arrived */
  gint64         ts_anchor;        /* its session time */
} Connection;

typedef enum
{
  EVENT_STATE,
  EVENT_FILE_OPENED,
  EVENT_SLICE_CLOSED,
  EVENT_FILE_CLOSED,
  EVENT_ERROR,
  EVENT_FAIL,        /* a streaming thread found the session cannot continue */
  EVENT_DISK_FULL,   /* a write failed with ENOSPC: start watching for free space */
  EVENT_BARRIER,     /* every earlier job is done: stop completes */
} EventType;

typedef struct
{
  EventType         type;
  LtRecorderState   state;
  LtRecordingFile  *file;
  LtRecordingSlice *slice;
  GError           *error;
  int               format;
} Event;

typedef struct
{
  LtRecorder *self;
  int         fd;                  /* fdatasync + close, -1 for none */
  char       *playlist_path;       /* written atomically with playlist_text */
  char       *playlist_text;
  char       *unlink_path;         /* removed after the playlist is written */
  char       *rename_from;         /* renamed (no-replace) after the close */
  char       *rename_to;
  char       *bucket_dir;          /* to resolve renamed keys */
  Event      *event;
  gboolean    barrier;
} Job;

struct _LtRecorder
{
  GObject                 parent_instance;

  char                   *domain_name;
  char                   *app_name;
  char                   *stream_name;
  char                   *storage_root;
  char                   *bucket;
  char                   *bucket_dir;
  guint                   delay_time;
  guint                   source_timeout;
  GMainContext           *context;
  LtRecorderSequenceFunc  sequence_func;
  gpointer                sequence_data;
  GDestroyNotify          sequence_destroy;
  guint64                 default_sequence[LT_RECORD_FORMAT_KIND_COUNT];

  GMutex                  lock;
  LtRecorderState         state;
  GError                 *error;
  GPtrArray              *formats;       /* Format */
  LtTrackConfig          *config[2];     /* the session's current track configurations */
  gboolean                session_started;
  gint64                  position;      /* ns: end of everything written */
  gint64                  last_video_dts;
  gint64                  last_keyframe_dts;
  gint64                  max_gop;       /* ns: the longest keyframe interval seen */
  gboolean                video_written;
  Connection             *conn;          /* the attached connection, NULL when none */
  gboolean                failing;       /* streaming threads: drop everything */
  gboolean                disk_full;

  /* main context only */
  LtRecorderSource       *source;
  GSource                *pause_timer;
  gint64                  pause_deadline;
  GSource                *space_timer;
  guint                   space_interval;
  GList                  *stop_tasks;
  gboolean                inline_jobs;   /* dispose: run jobs here, emit nothing */

  GThreadPool            *closer;
  GMutex                  events_lock;
  GQueue                  events;
  GSource                *events_source;
};

G_DEFINE_FINAL_TYPE (LtRecorder, lt_recorder, G_TYPE_OBJECT)

enum
{
  SIGNAL_STATE_CHANGED,
  SIGNAL_FILE_OPENED,
  SIGNAL_SLICE_CLOSED,
  SIGNAL_FILE_CLOSED,
  SIGNAL_ERROR,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void format_close_file (LtRecorder *self,
                               Format     *f,
                               gboolean    discard_slice);

/* ---- events: any thread → main context ---- */

static void
event_free (Event *event)
{
  g_clear_pointer (&event->file, lt_recording_file_free);
  g_clear_pointer (&event->slice, lt_recording_slice_free);
  g_clear_error (&event->error);
  g_free (event);
}

static void handle_event (LtRecorder *self,
                          Event      *event);

static gboolean
dispatch_events_cb (gpointer user_data)
{
  LtRecorder *self = user_data;

  for (;;)
    {
      Event *event;

      g_mutex_lock (&self->events_lock);
      event = g_queue_pop_head (&self->events);
      if (event == NULL)
        g_clear_pointer (&self->events_source, g_source_unref);
      g_mutex_unlock (&self->events_lock);
      if (event == NULL)
        break;
      handle_event (self, event);
      event_free (event);
    }
  return G_SOURCE_REMOVE;
}

static void
post_event (LtRecorder *self,
            Event      *event)
{
  if (self->inline_jobs)
    {
      event_free (event);
      return;
    }

  g_mutex_lock (&self->events_lock);
  g_queue_push_tail (&self->events, event);
  if (self->events_source == NULL)
    {
      self->events_source = g_idle_source_new ();
      g_source_set_priority (self->events_source, G_PRIORITY_DEFAULT);
      g_source_set_callback (self->events_source, dispatch_events_cb,
                             g_object_ref (self), g_object_unref);
      g_source_attach (self->events_source, self->context);
    }
  g_mutex_unlock (&self->events_lock);
}

static Event *
event_new (EventType type)
{
  Event *event = g_new0 (Event, 1);

  event->type = type;
  event->format = -1;
  return event;
}

/* Under the lock. */
static void
set_state (LtRecorder      *self,
           LtRecorderState  state)
{
  Event *event;

  if (self->state == state)
    return;
  self->state = state;
  event = event_new (EVENT_STATE);
  event->state = state;
  post_event (self, event);
}

static void
post_error (LtRecorder *self,
            EventType   type,
            int         format,
            GError     *error)
{
  Event *event = event_new (type);

  event->format = format;
  event->error = error;
  post_event (self, event);
}

/* ---- the closer: durable work in order ---- */

static void
job_free (Job *job)
{
  if (job->fd >= 0)
    close (job->fd);
  g_free (job->playlist_path);
  g_free (job->playlist_text);
  g_free (job->unlink_path);
  g_free (job->rename_from);
  g_free (job->rename_to);
  g_free (job->bucket_dir);
  g_clear_pointer (&job->event, event_free);
  g_clear_object (&job->self);
  g_free (job);
}

static Job *
job_new (LtRecorder *self)
{
  Job *job = g_new0 (Job, 1);

  job->fd = -1;
  if (!self->inline_jobs)
    job->self = g_object_ref (self);
  return job;
}

static GError *
error_from_errno (int         saved_errno,
                  const char *path)
{
  if (saved_errno == ENOSPC || saved_errno == EDQUOT)
    return g_error_new (LT_RECORDER_ERROR, LT_RECORDER_ERROR_DISK_FULL,
                        _("The disk is full: could not write “%s”"), path);
  return g_error_new (LT_RECORDER_ERROR, LT_RECORDER_ERROR_IO,
                      _("Could not write “%s”: %s"), path, g_strerror (saved_errno));
}

static char *
path_with_suffix (const char *path,
                  guint       n)
{
  const char *dot = strrchr (path, '.');
  const char *slash = strrchr (path, '/');

  if (dot == NULL || (slash != NULL && dot < slash))
    return g_strdup_printf ("%s_%u", path, n);
  return g_strdup_printf ("%.*s_%u%s", (int) (dot - path), path, n, dot);
}

char *
_lt_recorder_rename_no_replace (const char  *from,
                                const char  *to,
                                int         *saved_errno)
{
  g_autofree char *dir = g_path_get_dirname (to);

  g_mkdir_with_parents (dir, 0755);
  for (guint n = 0; n < 1000; n++)
    {
      g_autofree char *candidate = n == 0 ? g_strdup (to) : path_with_suffix (to, n);

      if (renameat2 (AT_FDCWD, from, AT_FDCWD, candidate, RENAME_NOREPLACE) == 0)
        return g_steal_pointer (&candidate);
      if (errno != EEXIST)
        {
          *saved_errno = errno;
          return NULL;
        }
    }
  *saved_errno = EEXIST;
  return NULL;
}

static void
sync_dir_of (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
}

static char *
key_for_path (const char *bucket_dir,
              const char *path)
{
  gsize n = strlen (bucket_dir);

  if (g_str_has_prefix (path, bucket_dir) && path[n] == '/')
    return g_strdup (path + n + 1);
  return g_strdup (path);
}

static void
run_job (Job *job)
{
  LtRecorder *self = job->self;
  GError *error = NULL;

  if (job->fd >= 0)
    {
      if (fdatasync (job->fd) != 0 && errno != EINVAL && error == NULL)
        error = error_from_errno (errno, job->rename_from != NULL ? job->rename_from : "");
      close (job->fd);
      job->fd = -1;
    }

  if (job->rename_from != NULL)
    {
      int saved_errno = 0;
      g_autofree char *used = NULL;

      if (g_strcmp0 (job->rename_from, job->rename_to) == 0)
        used = g_strdup (job->rename_to);
      else
        used = _lt_recorder_rename_no_replace (job->rename_from, job->rename_to, &saved_errno);
      if (used == NULL)
        {
          /* The file stays under its open name; the event says so. */
          used = g_strdup (job->rename_from);
          if (error == NULL)
            error = error_from_errno (saved_errno, job->rename_to);
        }
      else
        sync_dir_of (used);
      if (job->event != NULL && job->event->file != NULL)
        {
          g_free (job->event->file->path);
          job->event->file->path = g_strdup (used);
          g_free (job->event->file->object_key);
          job->event->file->object_key = key_for_path (job->bucket_dir, used);
        }
    }

  if (job->playlist_path != NULL)
    {
      g_autoptr(GError) local_error = NULL;
      g_autofree char *dir = g_path_get_dirname (job->playlist_path);

      g_mkdir_with_parents (dir, 0755);
      if (!g_file_set_contents_full (job->playlist_path, job->playlist_text, -1,
                                     G_FILE_SET_CONTENTS_CONSISTENT |
                                     G_FILE_SET_CONTENTS_DURABLE,
                                     0644, &local_error))
        {
          if (error == NULL)
            error = g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOSPC)
              ? error_from_errno (ENOSPC, job->playlist_path)
              : g_error_new (LT_RECORDER_ERROR, LT_RECORDER_ERROR_IO, "%s", local_error->message);
        }
      else if (job->unlink_path != NULL && g_strcmp0 (job->unlink_path, job->playlist_path) != 0)
        g_unlink (job->unlink_path);
    }

  if (self == NULL)
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    post_error (self,
                g_error_matches (error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_DISK_FULL)
                  ? EVENT_DISK_FULL : EVENT_ERROR,
                -1, error);
  if (job->event != NULL)
    post_event (self, g_steal_pointer (&job->event));
  if (job->barrier)
    post_event (self, event_new (EVENT_BARRIER));
}

static void
closer_func (gpointer data,
             gpointer user_data)
{
  Job *job = data;

  run_job (job);
  job_free (job);
}

static void
queue_job (LtRecorder *self,
           Job        *job)
{
  if (self->inline_jobs)
    {
      run_job (job);
      job_free (job);
      return;
    }
  g_thread_pool_push (self->closer, job, NULL);
}

/* ---- names ---- */

static char *
expand_key (LtRecorder  *self,
            const char  *tmpl,
            guint64      sequence,
            gint64       start_us,
            gint64       end_us,
            const char  *extension,
            GError     **error)
{
  LtTemplateVars vars = {
    .domain_name = self->domain_name,
    .app_name = self->app_name,
    .stream_name = self->stream_name,
    .sequence = sequence,
    .start_time = start_us / G_USEC_PER_SEC,
    .end_time = end_us / G_USEC_PER_SEC,
    .unix_timestamp = start_us / G_USEC_PER_SEC,
  };

  return lt_template_expand_with_extension (tmpl, &vars, extension, error);
}

const char *
_lt_recorder_format_extension (LtRecordFormatKind kind)
{
  switch (kind)
    {
    case LT_RECORD_FORMAT_MP4:
      return ".mp4";
    case LT_RECORD_FORMAT_FLV:
      return ".flv";
    case LT_RECORD_FORMAT_M3U8:
    case LT_RECORD_FORMAT_CMAF:
    default:
      return ".m3u8";
    }
}

/* Creates the file for @key, adding "_N" when the name is taken. */
static LtOutFile *
create_file (LtRecorder  *self,
             char       **key,
             char       **path,
             GError     **error)
{
  for (guint n = 0; n < 1000; n++)
    {
      g_autofree char *candidate_key = n == 0 ? g_strdup (*key) : path_with_suffix (*key, n);
      g_autofree char *candidate = g_build_filename (self->bucket_dir, candidate_key, NULL);
      g_autoptr(GError) local_error = NULL;
      LtOutFile *out = _lt_out_file_create (candidate, &local_error);

      if (out != NULL)
        {
          g_free (*key);
          *key = g_steal_pointer (&candidate_key);
          g_free (*path);
          *path = g_steal_pointer (&candidate);
          return out;
        }
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
  g_set_error (error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_IO,
               _("Too many files named like “%s”"), *key);
  return NULL;
}

static guint64
next_sequence (LtRecorder         *self,
               LtRecordFormatKind  kind)
{
  if (self->sequence_func != NULL)
    return self->sequence_func (kind, self->sequence_data);
  return ++self->default_sequence[kind];
}

/* ---- failures (under the lock) ---- */

/* Stops writing (the open files are closed, what failed is cut off) until the disk takes
 * writes again. @notify: post the error to the main context (not when handling it there). */
static void
enter_disk_full (LtRecorder *self,
                 GError     *error,
                 gboolean    notify)
{
  if (self->disk_full)
    {
      g_clear_error (&error);
      return;
    }
  self->disk_full = TRUE;
  for (guint i = 0; i < self->formats->len; i++)
    {
      Format *f = g_ptr_array_index (self->formats, i);

      if (f->open)
        format_close_file (self, f, TRUE);
    }
  if (self->state == LT_RECORDER_STATE_RECORDING || self->state == LT_RECORDER_STATE_STARTING)
    set_state (self, LT_RECORDER_STATE_SUSPENDED);
  if (notify)
    post_error (self, EVENT_DISK_FULL, -1, error);
  else
    g_clear_error (&error);
}

static void
fail_session (LtRecorder *self,
              GError     *error)
{
  if (self->failing)
    {
      g_clear_error (&error);
      return;
    }
  self->failing = TRUE;
  post_error (self, EVENT_FAIL, -1, error);
}

/* A write failed on @f's file. */
static void
format_write_failed (LtRecorder *self,
                     Format     *f,
                     LtOutFile  *out)
{
  GError *error = error_from_errno (out->error, out->path);

  if (g_error_matches (error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_DISK_FULL))
    enter_disk_full (self, error, TRUE);
  else
    fail_session (self, error);
}

/* ---- files and slices (under the lock) ---- */

static LtRecordingFile *
file_info (LtRecorder *self,
           Format     *f)
{
  LtRecordingFile *file = g_new0 (LtRecordingFile, 1);

  file->format = f->kind;
  file->sequence = f->sequence;
  file->path = g_strdup (f->path);
  file->object_key = g_strdup (f->key);
  file->open_path = g_strdup (f->path);
  file->open_object_key = g_strdup (f->key);
  file->start_time = f->wall_start;
  file->n_discontinuities = f->n_discontinuities;
  if (f->video != NULL)
    {
      file->width = f->video->width;
      file->height = f->video->height;
      file->video_codec = g_strdup (_lt_codec_to_string (f->video->codec));
    }
  if (f->audio != NULL)
    file->audio_codec = g_strdup (_lt_codec_to_string (f->audio->codec));
  return file;
}

static void
format_open_slice (LtRecorder     *self,
                   Format         *f,
                   const LtSample *sample,
                   gboolean        keyframe,
                   gint64          wall)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  char *key;

  key = expand_key (self, f->params->slice_object_prefix, f->slice_counter, wall, wall, ".ts",
                    &error);
  if (key == NULL)
    {
      fail_session (self, g_steal_pointer (&error));
      return;
    }
  f->out = create_file (self, &key, &path, &error);
  if (f->out == NULL)
    {
      g_free (key);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
        enter_disk_full (self, error_from_errno (ENOSPC, path != NULL ? path : f->path), TRUE);
      else
        fail_session (self, g_error_new (LT_RECORDER_ERROR, LT_RECORDER_ERROR_IO, "%s",
                                         error->message));
      return;
    }
  f->slice_counter++;
  f->slice_key = key;
  f->slice_open = TRUE;
  f->slice_start = sample->dts;
  f->slice_wall = wall;
  f->slice_keyframe = keyframe;
  f->slice_discontinuity = f->discont_pending && lt_playlist_get_n_segments (f->playlist) > 0;
  if (f->slice_discontinuity)
    {
      f->discontinuity_sequence++;
      f->n_discontinuities++;
    }
  f->discont_pending = FALSE;
  /* Cut at an audio frame while a video stream exists: video restarts at a keyframe. */
  f->need_keyframe = !keyframe && self->config[0] != NULL;
  /* Hashed as it is written: the sync engine sends the slice without reading it twice. */
  _lt_out_file_enable_md5 (f->out);
  _lt_ts_mux_write_tables (f->ts, f->out);
}

static void
format_close_slice (LtRecorder *self,
                    Format     *f,
                    gint64      end,
                    gboolean    discard)
{
  LtRecordingSlice *slice;
  Event *event;
  Job *job;
  gint64 duration = MAX (end - f->slice_start, 0);
  guint64 size;

  if (!f->slice_open)
    return;
  f->slice_open = FALSE;

  if (discard || !_lt_out_file_commit (f->out, 0))
    {
      gboolean failed = f->out->error != 0;

      /* A slice cut short by a write error is not recorded: remove it. */
      g_unlink (f->out->path);
      if (failed && !discard)
        format_write_failed (self, f, f->out);
      g_clear_pointer (&f->out, _lt_out_file_free);
      g_clear_pointer (&f->slice_key, g_free);
      return;
    }

  size = _lt_out_file_tell (f->out);
  f->playlist_size += size;
  /* RFC 8216 wants a target duration that never changes: slices run up to a GOP past
   * SliceDuration, so the target says so from the first slice on. */
  lt_playlist_set_target_duration (f->playlist,
                                   MAX (lt_playlist_get_target_duration (f->playlist),
                                        (guint) ((f->params->slice_duration * GST_SECOND +
                                                  self->max_gop + GST_SECOND - 1) / GST_SECOND)));
  lt_playlist_add_segment (f->playlist, f->slice_key, duration / 1000, f->slice_wall,
                           f->slice_discontinuity);

  slice = g_new0 (LtRecordingSlice, 1);
  slice->format = f->kind;
  slice->sequence = lt_playlist_get_media_sequence (f->playlist) +
                    lt_playlist_get_n_segments (f->playlist) - 1;
  slice->playlist_sequence = f->sequence;
  slice->playlist_path = g_strdup (f->path);
  slice->path = g_strdup (f->out->path);
  slice->object_key = g_strdup (f->slice_key);
  slice->start_time = f->slice_wall;
  slice->duration = duration / 1000;
  slice->media_time = f->slice_start / 1000;
  slice->size = size;
  slice->discontinuity_sequence = f->discontinuity_sequence;
  slice->discontinuity = f->slice_discontinuity;
  slice->keyframe = f->slice_keyframe;
  if (f->video != NULL)
    {
      slice->width = f->video->width;
      slice->height = f->video->height;
      slice->video_codec = g_strdup (_lt_codec_to_string (f->video->codec));
    }
  if (f->audio != NULL)
    slice->audio_codec = g_strdup (_lt_codec_to_string (f->audio->codec));
  /* The MD5 covers exactly the bytes on disk, which is the size reported. */
  if (f->out->md5_bytes == size)
    slice->md5 = _lt_out_file_dup_md5 (f->out);

  event = event_new (EVENT_SLICE_CLOSED);
  event->slice = slice;

  /* The slice is made durable before the playlist names it. */
  job = job_new (self);
  job->fd = _lt_out_file_steal_fd (f->out);
  job->playlist_path = g_strdup (f->path);
  job->playlist_text = lt_playlist_to_string (f->playlist);
  job->event = event;
  queue_job (self, job);

  g_clear_pointer (&f->out, _lt_out_file_free);
  g_clear_pointer (&f->slice_key, g_free);
}

static void
format_open_file (LtRecorder     *self,
                  Format         *f,
                  const LtSample *sample,
                  gboolean        keyframe,
                  gint64          wall)
{
  g_autoptr(GError) error = NULL;
  Event *event;

  if (f->kind == LT_RECORD_FORMAT_FLV &&
      (!_lt_flv_mux_supports (self->config[0]) || !_lt_flv_mux_supports (self->config[1])))
    {
      LtTrackConfig *bad = _lt_flv_mux_supports (self->config[0]) ? self->config[1]
                                                                  : self->config[0];

      f->failed = TRUE;
      post_error (self, EVENT_ERROR, f->kind,
                  g_error_new (LT_RECORDER_ERROR, LT_RECORDER_ERROR_UNSUPPORTED_CODEC,
                               _("Unsupported codec: FLV cannot carry %s"),
                               _lt_codec_to_string (bad->codec)));
      for (guint i = 0; i < self->formats->len; i++)
        if (!((Format *) g_ptr_array_index (self->formats, i))->failed)
          return;
      fail_session (self, g_error_new (LT_RECORDER_ERROR, LT_RECORDER_ERROR_UNSUPPORTED_CODEC,
                                       _("Unsupported codec: no format of the rule can carry %s"),
                                       _lt_codec_to_string (bad->codec)));
      return;
    }

  f->sequence = next_sequence (self, f->kind);
  g_clear_pointer (&f->key, g_free);
  g_clear_pointer (&f->path, g_free);
  f->key = expand_key (self, f->params->object_prefix, f->sequence, wall, wall,
                       _lt_recorder_format_extension (f->kind), &error);
  if (f->key == NULL)
    {
      fail_session (self, g_steal_pointer (&error));
      return;
    }

  g_clear_pointer (&f->video, _lt_track_config_unref);
  g_clear_pointer (&f->audio, _lt_track_config_unref);
  f->video = self->config[0] != NULL ? _lt_track_config_ref (self->config[0]) : NULL;
  f->audio = self->config[1] != NULL ? _lt_track_config_ref (self->config[1]) : NULL;
  f->cycle_start = sample->dts;
  f->wall_start = wall;
  f->wall_end = wall;
  f->end = sample->dts;
  f->cut_pending = FALSE;
  f->discont_pending = FALSE;
  f->need_keyframe = !keyframe && self->config[0] != NULL;
  f->n_discontinuities = 0;

  if (f->kind == LT_RECORD_FORMAT_M3U8)
    {
      /* The playlist file appears with its first slice. */
      f->path = g_build_filename (self->bucket_dir, f->key, NULL);
      if (g_file_test (f->path, G_FILE_TEST_EXISTS))
        {
          for (guint n = 1; n < 1000; n++)
            {
              g_autofree char *key = path_with_suffix (f->key, n);
              g_autofree char *path = g_build_filename (self->bucket_dir, key, NULL);

              if (!g_file_test (path, G_FILE_TEST_EXISTS))
                {
                  g_free (f->key);
                  f->key = g_steal_pointer (&key);
                  g_free (f->path);
                  f->path = g_steal_pointer (&path);
                  break;
                }
            }
        }
      g_clear_object (&f->playlist);
      f->playlist = lt_playlist_new (LT_PLAYLIST_TYPE_EVENT, f->key);
      lt_playlist_set_target_duration (f->playlist, MAX (f->params->slice_duration, 1));
      f->playlist_size = 0;
      f->discontinuity_sequence = 0;
      _lt_ts_mux_set_tracks (f->ts, f->video, f->audio);
    }
  else
    {
      f->out = create_file (self, &f->key, &f->path, &error);
      if (f->out == NULL)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
            enter_disk_full (self, error_from_errno (ENOSPC, f->key), TRUE);
          else
            fail_session (self, g_error_new (LT_RECORDER_ERROR, LT_RECORDER_ERROR_IO, "%s",
                                             error->message));
          return;
        }
      /* Hashed in blocks as it is written: a multipart upload sends its parts without
       * reading the file twice (closing patches only the header's block). */
      _lt_out_file_enable_block_md5 (f->out, LT_RECORDING_BLOCK_SIZE);
      if (f->kind == LT_RECORD_FORMAT_MP4)
        {
          f->mp4 = _lt_mp4_mux_new (f->video, f->audio);
          _lt_mp4_mux_write_header (f->mp4, f->out, sample->dts);
        }
      else
        {
          f->flv = _lt_flv_mux_new (f->video, f->audio);
          _lt_flv_mux_write_header (f->flv, f->out, sample->dts);
        }
    }
  f->open = TRUE;

  event = event_new (EVENT_FILE_OPENED);
  event->file = file_info (self, f);
  {
    Job *job = job_new (self);

    job->event = event;
    queue_job (self, job);
  }

  if (f->kind == LT_RECORD_FORMAT_M3U8)
    format_open_slice (self, f, sample, keyframe, wall);
}

/* Closes the open file: ENDLIST, durations, final name. @discard_slice drops the open
 * slice (a write failed in it). */
static void
format_close_file (LtRecorder *self,
                   Format     *f,
                   gboolean    discard_slice)
{
  LtRecordingFile *file;
  g_autoptr(GError) error = NULL;
  g_autofree char *final_key = NULL;
  Event *event;
  Job *job;

  if (!f->open)
    return;
  f->open = FALSE;

  file = file_info (self, f);
  file->end_time = f->wall_end;

  if (f->kind == LT_RECORD_FORMAT_M3U8)
    {
      format_close_slice (self, f, f->end, discard_slice);
      file->duration = lt_playlist_get_duration (f->playlist);
      file->size = f->playlist_size;
      file->n_slices = lt_playlist_get_n_segments (f->playlist);
      file->n_discontinuities = f->n_discontinuities;
      if (lt_playlist_get_n_segments (f->playlist) > 0)
        {
          const LtPlaylistSegment *last =
            lt_playlist_get_segment (f->playlist, lt_playlist_get_n_segments (f->playlist) - 1);

          file->end_time = last->program_date_time + last->duration_us;
        }
    }
  else
    {
      gboolean ok;

      if (f->kind == LT_RECORD_FORMAT_MP4)
        {
          ok = _lt_mp4_mux_finish (f->mp4, f->out);
          file->duration = _lt_mp4_mux_get_duration (f->mp4) / 1000;
        }
      else
        {
          ok = _lt_flv_mux_finish (f->flv, f->out);
          file->duration = _lt_flv_mux_get_duration (f->flv) / 1000;
        }
      file->size = _lt_out_file_tell (f->out);
      if (!ok && f->out->error != 0 && !self->disk_full)
        format_write_failed (self, f, f->out);
      else if (ok)
        file->part_md5s = _lt_out_file_dup_block_md5s (f->out);
    }

  final_key = expand_key (self, f->params->object_prefix, f->sequence, file->start_time,
                          MAX (file->end_time, file->start_time),
                          _lt_recorder_format_extension (f->kind),
                          &error);
  if (final_key == NULL)
    final_key = g_strdup (f->key);

  event = event_new (EVENT_FILE_CLOSED);
  event->file = file;
  job = job_new (self);
  job->bucket_dir = g_strdup (self->bucket_dir);
  job->event = event;

  if (f->kind == LT_RECORD_FORMAT_M3U8)
    {
      if (lt_playlist_get_n_segments (f->playlist) == 0)
        {
          /* Nothing was recorded into it (disk full at once): no file. */
          g_clear_pointer (&job->event, event_free);
        }
      else
        {
          g_autofree char *final_path = g_build_filename (self->bucket_dir, final_key, NULL);

          if (!g_str_equal (final_key, f->key) && g_file_test (final_path, G_FILE_TEST_EXISTS))
            {
              for (guint n = 1; n < 1000; n++)
                {
                  g_autofree char *key = path_with_suffix (final_key, n);
                  g_autofree char *path = g_build_filename (self->bucket_dir, key, NULL);

                  if (!g_file_test (path, G_FILE_TEST_EXISTS))
                    {
                      g_free (final_key);
                      final_key = g_steal_pointer (&key);
                      g_free (final_path);
                      final_path = g_steal_pointer (&path);
                      break;
                    }
                }
            }
          lt_playlist_set_ended (f->playlist, TRUE);
          lt_playlist_set_key (f->playlist, final_key);
          job->playlist_path = g_strdup (final_path);
          job->playlist_text = lt_playlist_to_string (f->playlist);
          job->unlink_path = g_strdup (f->path);
          g_free (file->path);
          file->path = g_steal_pointer (&final_path);
          g_free (file->object_key);
          file->object_key = g_strdup (final_key);
        }
      g_clear_object (&f->playlist);
    }
  else
    {
      job->fd = _lt_out_file_steal_fd (f->out);
      job->rename_from = g_strdup (f->path);
      job->rename_to = g_build_filename (self->bucket_dir, final_key, NULL);
      g_clear_pointer (&f->out, _lt_out_file_free);
      g_clear_pointer (&f->mp4, _lt_mp4_mux_free);
      g_clear_pointer (&f->flv, _lt_flv_mux_free);
    }
  queue_job (self, job);
}

/* The open slice ends (the source went away); the file stays open. */
static void
format_pause (LtRecorder *self,
              Format     *f)
{
  if (!f->open)
    return;
  if (f->kind == LT_RECORD_FORMAT_M3U8)
    format_close_slice (self, f, f->end, FALSE);
  else
    {
      if (f->mp4 != NULL)
        _lt_mp4_mux_flush (f->mp4, f->out);
      if (!_lt_out_file_commit (f->out, 0))
        format_write_failed (self, f, f->out);
    }
  /* Whatever comes next starts on a keyframe; m3u8 marks the discontinuity. */
  f->discont_pending = TRUE;
}

static gboolean
configs_changed (LtRecorder *self,
                 Format     *f)
{
  return (f->video != self->config[0] && !_lt_track_config_equal (f->video, self->config[0])) ||
         (f->audio != self->config[1] && !_lt_track_config_equal (f->audio, self->config[1]));
}

static void
format_push (LtRecorder     *self,
             Format         *f,
             gboolean        is_video,
             const LtSample *sample,
             gint64          wall)
{
  gboolean cut_point;

  if (f->failed)
    return;

  /* Cuts happen at video keyframes; on audio frames only without video, or when video
   * has been silent for a while (a long audio-only stretch). */
  if (is_video)
    cut_point = sample->keyframe;
  else
    cut_point = self->config[0] == NULL ||
                (self->video_written && sample->dts - self->last_video_dts > VIDEO_STALL_NS);

  if (f->open && cut_point)
    {
      gboolean cycle_due = f->cut_pending ||
                           sample->dts - f->cycle_start >= (gint64) f->params->cycle_duration * GST_SECOND;
      gboolean changed = configs_changed (self, f);

      if (cycle_due || (changed && f->kind != LT_RECORD_FORMAT_M3U8))
        {
          /* Cycles, and MP4/FLV whose codec configuration changed: a new file. */
          f->end = MAX (f->end, sample->dts);
          format_close_file (self, f, FALSE);
        }
      else if (f->kind == LT_RECORD_FORMAT_M3U8 &&
               (changed || f->discont_pending || !f->slice_open ||
                sample->dts - f->slice_start >= (gint64) f->params->slice_duration * GST_SECOND))
        {
          format_close_slice (self, f, sample->dts, FALSE);
          if (changed)
            {
              /* TS carries a new configuration in the same playlist, after a
               * discontinuity. */
              g_clear_pointer (&f->video, _lt_track_config_unref);
              g_clear_pointer (&f->audio, _lt_track_config_unref);
              f->video = self->config[0] != NULL ? _lt_track_config_ref (self->config[0]) : NULL;
              f->audio = self->config[1] != NULL ? _lt_track_config_ref (self->config[1]) : NULL;
              _lt_ts_mux_set_tracks (f->ts, f->video, f->audio);
              f->discont_pending = TRUE;
            }
          if (!self->disk_full && !self->failing)
            format_open_slice (self, f, sample, is_video, wall);
        }
      else if (f->discont_pending && f->kind != LT_RECORD_FORMAT_M3U8)
        {
          /* MP4/FLV continue across a reconnect on the continuous timeline. */
          f->discont_pending = FALSE;
          f->n_discontinuities++;
        }
    }

  if (!f->open)
    {
      if (!cut_point || self->disk_full || self->failing)
        return;
      format_open_file (self, f, sample, is_video, wall);
      if (!f->open)
        return;
    }

  if (f->kind == LT_RECORD_FORMAT_M3U8 && !f->slice_open)
    return;
  if (is_video && f->need_keyframe)
    {
      if (!sample->keyframe)
        return;
      f->need_keyframe = FALSE;
    }

  switch (f->kind)
    {
    case LT_RECORD_FORMAT_M3U8:
      _lt_ts_mux_write_sample (f->ts, f->out, is_video, sample);
      break;
    case LT_RECORD_FORMAT_MP4:
      _lt_mp4_mux_add_sample (f->mp4, f->out, is_video, sample);
      break;
    case LT_RECORD_FORMAT_FLV:
      _lt_flv_mux_write_sample (f->flv, f->out, is_video, sample);
      break;
    case LT_RECORD_FORMAT_CMAF:
    default:
      break;
    }
  f->end = MAX (f->end, sample->dts + sample->duration);
  f->wall_end = MAX (f->wall_end, wall + sample->duration / 1000);

  if (!_lt_out_file_commit (f->out, LT_OUT_FILE_FLUSH_THRESHOLD))
    {
      if (f->kind == LT_RECORD_FORMAT_M3U8)
        format_close_slice (self, f, f->end, FALSE);
      else
        format_write_failed (self, f, f->out);
    }
}

/* ---- the session timeline (streaming threads, under the lock) ---- */

static void
mark_discontinuity (LtRecorder *self)
{
  for (guint i = 0; i < self->formats->len; i++)
    ((Format *) g_ptr_array_index (self->formats, i))->discont_pending = TRUE;
}

static void
update_session_config (LtRecorder    *self,
                       int            slot,
                       LtTrackConfig *config)
{
  if (self->config[slot] == config || _lt_track_config_equal (self->config[slot], config))
    return;
  g_clear_pointer (&self->config[slot], _lt_track_config_unref);
  self->config[slot] = config != NULL ? _lt_track_config_ref (config) : NULL;
}

/* The connection's configuration becomes the session's with its first sample. An equal
 * one (a reconnect with the same codec data) is replaced by the session's, so that the
 * next samples compare pointers only. */
static void
adopt_connection_config (LtRecorder *self,
                         Connection *conn,
                         int         slot)
{
  if (self->config[slot] == conn->config[slot])
    return;
  if (_lt_track_config_equal (self->config[slot], conn->config[slot]))
    {
      g_clear_pointer (&conn->config[slot], _lt_track_config_unref);
      conn->config[slot] = _lt_track_config_ref (self->config[slot]);
      return;
    }
  update_session_config (self, slot, conn->config[slot]);
}

static void
process_sample (LtRecorder *self,
                Connection *conn,
                int         slot,
                GstBuffer  *buffer,
                gint64      rt_dts,
                gint64      rt_pts,
                gint64      duration,
                gboolean    keyframe,
                gboolean    discont)
{
  LtSample sample;
  gint64 dts, wall;

  if (slot == 0 && !conn->video_keyframe_seen)
    {
      if (!keyframe)
        return;
      conn->video_keyframe_seen = TRUE;
    }
  adopt_connection_config (self, conn, slot);

  dts = rt_dts + conn->offset[slot];
  /* A jump: backwards, far ahead, or flagged (flvdemux smooths timestamp jumps over by
   * itself but marks the buffer RESYNC; tsdemux marks lost packets DISCONT). */
  if ((conn->last_dts[slot] != G_MININT64 &&
       (discont || dts < conn->last_dts[slot] - BACK_JUMP_NS)) ||
      dts > self->position + FORWARD_JUMP_NS)
    {
      /* A timestamp jump or reset. Another stream may have re-anchored already. */
      if (conn->epoch_offset != conn->offset[slot] &&
          ABS (rt_dts + conn->epoch_offset - self->position) < FORWARD_JUMP_NS)
        conn->offset[slot] = conn->epoch_offset;
      else
        {
          conn->epoch_offset = self->position + JOIN_GAP_NS - rt_dts;
          conn->offset[slot] = conn->epoch_offset;
          mark_discontinuity (self);
          g_debug ("Recorder: timestamp jump on %s, re-anchored", slot == 0 ? "video" : "audio");
        }
      dts = rt_dts + conn->offset[slot];
    }
  /* Decode times must increase. A sample at or before the previous one (flvdemux gives
   * the first frame after a resync the previous frame's time) moves this stream's
   * timeline on by one frame, so that frames stay a frame apart. */
  if (conn->last_dts[slot] != G_MININT64 && dts <= conn->last_dts[slot])
    {
      gint64 step = MAX (conn->last_duration[slot], GST_MSECOND);
      gint64 shift = conn->last_dts[slot] + step - dts;

      conn->offset[slot] += shift;
      dts += shift;
    }
  if (dts < 0)
    return;  /* audio from before the first keyframe */

  if (duration <= 0)
    duration = conn->last_duration[slot];
  if (duration <= 0)
    duration = slot == 0 ? 33 * GST_MSECOND : 21 * GST_MSECOND;
  conn->last_duration[slot] = duration;
  conn->last_dts[slot] = dts;

  sample.buffer = buffer;
  sample.dts = dts;
  sample.pts = MAX (rt_pts + conn->offset[slot], dts);
  sample.duration = duration;
  sample.keyframe = slot == 0 ? keyframe : TRUE;
  wall = conn->wall_anchor + (dts - conn->ts_anchor) / 1000;

  if (!self->disk_full && !self->failing)
    for (guint i = 0; i < self->formats->len; i++)
      format_push (self, g_ptr_array_index (self->formats, i), slot == 0, &sample, wall);

  /* Where the timeline ends is where the last frame is shown, not decoded: with B-frames a
   * connection may end on a P-frame shown after every frame decoded later, and the next
   * connection (or a re-anchor) must start after it. */
  self->position = MAX (self->position, MAX (dts, sample.pts) + duration);
  if (slot == 0)
    {
      self->last_video_dts = dts;
      if (keyframe)
        {
          if (self->video_written && dts - self->last_keyframe_dts < 60 * GST_SECOND)
            self->max_gop = MAX (self->max_gop, dts - self->last_keyframe_dts);
          self->last_keyframe_dts = dts;
        }
      self->video_written = TRUE;
    }
}

static void
start_connection (LtRecorder *self,
                  Connection *conn,
                  gint64      start_rt,
                  gboolean    with_video)
{
  gint64 offset;

  offset = self->session_started ? self->position + JOIN_GAP_NS - start_rt : -start_rt;
  conn->offset[0] = conn->offset[1] = conn->epoch_offset = offset;
  conn->started = TRUE;
  conn->wall_anchor = g_get_real_time ();
  conn->ts_anchor = start_rt + offset;

  update_session_config (self, 0, with_video ? conn->config[0] : NULL);
  update_session_config (self, 1, conn->config[1]);
  if (self->config[0] == NULL)
    self->video_written = FALSE;

  if (self->session_started)
    mark_discontinuity (self);
  self->session_started = TRUE;
  if (self->state == LT_RECORDER_STATE_STARTING)
    set_state (self, LT_RECORDER_STATE_RECORDING);
}

static void
pending_free (Pending *pending)
{
  gst_buffer_unref (pending->buffer);
  g_free (pending);
}

/* Starts the connection at the queued keyframe (or, without video, at the first audio
 * frame) and writes what was queued from there on. */
static void
start_pending (LtRecorder *self,
               Connection *conn)
{
  gboolean with_video = conn->pending_keyframe != G_MININT64;
  Pending *pending = g_queue_peek_head (&conn->pending);
  gint64 start_rt = with_video ? conn->pending_keyframe : pending->dts;

  start_connection (self, conn, start_rt, with_video);
  while ((pending = g_queue_pop_head (&conn->pending)) != NULL)
    {
      if ((pending->slot == 1 && pending->dts < start_rt) ||
          (pending->slot == 0 && !with_video))
        {
          pending_free (pending);
          continue;
        }
      process_sample (self, conn, pending->slot, pending->buffer, pending->dts, pending->pts,
                      pending->duration, pending->keyframe, FALSE);
      pending_free (pending);
    }
  conn->pending_keyframe = G_MININT64;
}

/* Before the start: queue, and decide whether everything the start needs is there. */
static void
queue_before_start (LtRecorder *self,
                    Connection *conn,
                    int         slot,
                    GstBuffer  *buffer,
                    gint64      rt_dts,
                    gint64      rt_pts,
                    gint64      duration,
                    gboolean    keyframe)
{
  Pending *pending;
  Pending *first;

  if (slot == 0 && conn->pending_keyframe == G_MININT64)
    {
      if (!keyframe)
        return;
      /* Audio queued before the keyframe is only kept from the keyframe on. */
      conn->pending_keyframe = rt_dts;
    }

  pending = g_new0 (Pending, 1);
  pending->slot = slot;
  pending->buffer = gst_buffer_ref (buffer);
  pending->dts = rt_dts;
  pending->pts = rt_pts;
  pending->duration = duration;
  pending->keyframe = keyframe;
  g_queue_push_tail (&conn->pending, pending);

  if (conn->pending_keyframe != G_MININT64)
    {
      gint64 waited = rt_dts - conn->pending_keyframe;
      gboolean complete = !conn->linked[1] || conn->config[1] != NULL;

      if ((complete && (conn->no_more_pads || waited >= SETTLE_NS)) || waited >= SETTLE_MAX_NS)
        start_pending (self, conn);
      return;
    }

  /* Only audio so far: drop what is too old, start without video when no video stream
   * was announced (or one never sends a keyframe). */
  while ((first = g_queue_peek_head (&conn->pending)) != NULL &&
         rt_dts - first->dts > PENDING_AUDIO_MAX_NS)
    pending_free (g_queue_pop_head (&conn->pending));
  first = g_queue_peek_head (&conn->pending);
  if ((!conn->linked[0] && (conn->no_more_pads || rt_dts - first->dts >= AUDIO_ONLY_WAIT_NS)) ||
      rt_dts - first->dts >= PENDING_AUDIO_MAX_NS - GST_SECOND)
    start_pending (self, conn);
}

static gboolean
connection_is_current (LtRecorder *self,
                       Connection *conn)
{
  return self->conn == conn && !self->failing &&
         (self->state == LT_RECORDER_STATE_STARTING ||
          self->state == LT_RECORDER_STATE_RECORDING ||
          self->state == LT_RECORDER_STATE_SUSPENDED);
}

static void
source_caps_cb (gpointer  user_data,
                int       slot,
                GstCaps  *caps)
{
  Connection *conn = user_data;
  LtRecorder *self = conn->self;
  g_autoptr(LtTrackConfig) config = NULL;
  g_autofree char *unsupported = NULL;
  gboolean ready = FALSE;

  config = _lt_track_config_new_from_caps (caps, &ready, &unsupported);

  g_mutex_lock (&self->lock);
  if (!connection_is_current (self, conn))
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  if (unsupported != NULL)
    {
      fail_session (self, g_error_new (LT_RECORDER_ERROR, LT_RECORDER_ERROR_UNSUPPORTED_CODEC,
                                       _("Unsupported codec: %s"), unsupported));
      g_mutex_unlock (&self->lock);
      return;
    }
  /* The session takes a new configuration with the first sample that has it. */
  g_clear_pointer (&conn->config[slot], _lt_track_config_unref);
  conn->config[slot] = config != NULL ? _lt_track_config_ref (config) : NULL;
  g_mutex_unlock (&self->lock);
}

static gint64
to_running_time (const GstSegment *segment,
                 GstClockTime      ts)
{
  guint64 rt = 0;
  int sign;

  if (!GST_CLOCK_TIME_IS_VALID (ts))
    return G_MININT64;
  if (segment->format != GST_FORMAT_TIME)
    return (gint64) ts;
  sign = gst_segment_to_running_time_full (segment, GST_FORMAT_TIME, ts, &rt);
  if (sign == 0)
    return G_MININT64;
  return sign > 0 ? (gint64) rt : -(gint64) rt;
}

static void
source_buffer_cb (gpointer          user_data,
                  int               slot,
                  GstBuffer        *buffer,
                  const GstSegment *segment)
{
  Connection *conn = user_data;
  LtRecorder *self = conn->self;
  gint64 rt_dts, rt_pts, duration;
  gboolean keyframe;

  rt_dts = to_running_time (segment, GST_BUFFER_DTS (buffer));
  rt_pts = to_running_time (segment, GST_BUFFER_PTS (buffer));
  if (rt_dts == G_MININT64)
    rt_dts = rt_pts;
  if (rt_pts == G_MININT64)
    rt_pts = rt_dts;
  duration = GST_BUFFER_DURATION_IS_VALID (buffer) ? (gint64) GST_BUFFER_DURATION (buffer) : -1;
  keyframe = !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);

  g_mutex_lock (&self->lock);
  if (!connection_is_current (self, conn) || conn->config[slot] == NULL)
    goto out;

  if (rt_dts == G_MININT64)
    {
      /* No timestamp at all: continue from the previous sample of the stream. */
      if (conn->last_dts[slot] == G_MININT64)
        goto out;
      rt_dts = rt_pts = conn->last_rt[slot] + MAX (conn->last_duration[slot], 1);
    }
  conn->last_rt[slot] = rt_dts;

  if (!conn->started)
    {
      queue_before_start (self, conn, slot, buffer, rt_dts, rt_pts, duration, keyframe);
      goto out;
    }

  process_sample (self, conn, slot, buffer, rt_dts, rt_pts, duration, keyframe,
                  GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DISCONT) ||
                  GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_RESYNC));

out:
  g_mutex_unlock (&self->lock);
}

static void
source_stream_added_cb (gpointer user_data,
                        int      slot)
{
  Connection *conn = user_data;
  LtRecorder *self = conn->self;

  g_mutex_lock (&self->lock);
  conn->linked[slot] = TRUE;
  g_mutex_unlock (&self->lock);
}

static void
source_no_more_pads_cb (gpointer user_data)
{
  Connection *conn = user_data;
  LtRecorder *self = conn->self;

  g_mutex_lock (&self->lock);
  conn->no_more_pads = TRUE;
  g_mutex_unlock (&self->lock);
}

static void
source_unsupported_cb (gpointer    user_data,
                       gboolean    is_video,
                       const char *description)
{
  Connection *conn = user_data;
  LtRecorder *self = conn->self;

  g_mutex_lock (&self->lock);
  if (connection_is_current (self, conn))
    fail_session (self, g_error_new (LT_RECORDER_ERROR, LT_RECORDER_ERROR_UNSUPPORTED_CODEC,
                                     _("Unsupported codec: %s"), description));
  g_mutex_unlock (&self->lock);
}

static void pause_session (LtRecorder *self);

static void
source_ended_cb (gpointer      user_data,
                 const GError *error)
{
  Connection *conn = user_data;
  LtRecorder *self = conn->self;

  if (self->conn != conn)
    return;
  if (error != NULL)
    g_debug ("Recorder: connection ended: %s", error->message);
  pause_session (self);
}

static void
connection_free (gpointer data)
{
  Connection *conn = data;
  g_queue_clear_full (&conn->pending, (GDestroyNotify) pending_free);
  g_clear_pointer (&conn->config[0], _lt_track_config_unref);
  g_clear_pointer (&conn->config[1], _lt_track_config_unref);
  g_clear_object (&conn->self);
  g_free (conn);
}

static const LtRecorderSourceFuncs source_funcs = {
  .caps = source_caps_cb,
  .buffer = source_buffer_cb,
  .stream_added = source_stream_added_cb,
  .no_more_pads = source_no_more_pads_cb,
  .unsupported = source_unsupported_cb,
  .ended = source_ended_cb,
  .destroy = connection_free,
};

/* ---- main-context control ---- */

static void
stop_pause_timer (LtRecorder *self)
{
  if (self->pause_timer != NULL)
    {
      g_source_destroy (self->pause_timer);
      g_clear_pointer (&self->pause_timer, g_source_unref);
    }
  self->pause_deadline = 0;
}

static void
stop_space_timer (LtRecorder *self)
{
  if (self->space_timer != NULL)
    {
      g_source_destroy (self->space_timer);
      g_clear_pointer (&self->space_timer, g_source_unref);
    }
}

/* Drops the connection without waiting for its pipeline. */
static void
detach_source (LtRecorder *self)
{
  LtRecorderSource *source = g_steal_pointer (&self->source);

  g_mutex_lock (&self->lock);
  self->conn = NULL;
  g_mutex_unlock (&self->lock);
  _lt_recorder_source_free_in_background (source);
}

static void finish_session (LtRecorder      *self,
                            LtRecorderState  final_state);

static gboolean
pause_timer_cb (gpointer user_data)
{
  LtRecorder *self = user_data;

  g_clear_pointer (&self->pause_timer, g_source_unref);
  self->pause_deadline = 0;
  g_debug ("Recorder: merge window over, closing the files");
  finish_session (self, LT_RECORDER_STATE_STOPPED);
  return G_SOURCE_REMOVE;
}

static void
pause_session (LtRecorder *self)
{
  /* A short stream can end before the start condition held: record what came. */
  g_mutex_lock (&self->lock);
  if (self->conn != NULL && !self->conn->started && !g_queue_is_empty (&self->conn->pending) &&
      connection_is_current (self, self->conn))
    start_pending (self, self->conn);
  g_mutex_unlock (&self->lock);

  detach_source (self);

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->formats->len; i++)
    format_pause (self, g_ptr_array_index (self->formats, i));
  if (self->state == LT_RECORDER_STATE_STARTING ||
      self->state == LT_RECORDER_STATE_RECORDING ||
      self->state == LT_RECORDER_STATE_SUSPENDED)
    set_state (self, LT_RECORDER_STATE_PAUSED);
  g_mutex_unlock (&self->lock);

  if (self->state != LT_RECORDER_STATE_PAUSED)
    return;
  if (self->delay_time == 0)
    {
      finish_session (self, LT_RECORDER_STATE_STOPPED);
      return;
    }
  stop_pause_timer (self);
  self->pause_deadline = g_get_monotonic_time () + (gint64) self->delay_time * G_USEC_PER_SEC;
  self->pause_timer = g_timeout_source_new_seconds (self->delay_time);
  g_source_set_callback (self->pause_timer, pause_timer_cb, g_object_ref (self), g_object_unref);
  g_source_attach (self->pause_timer, self->context);
}

/* Closes everything; the state becomes @final_state once the closer is through. */
static void
finish_session (LtRecorder      *self,
                LtRecorderState  final_state)
{
  Job *job;

  stop_pause_timer (self);
  stop_space_timer (self);
  detach_source (self);

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->formats->len; i++)
    format_close_file (self, g_ptr_array_index (self->formats, i), FALSE);
  if (final_state == LT_RECORDER_STATE_FAILED)
    set_state (self, LT_RECORDER_STATE_FAILED);
  else
    set_state (self, LT_RECORDER_STATE_STOPPING);
  self->failing = TRUE;
  g_mutex_unlock (&self->lock);

  job = job_new (self);
  job->barrier = TRUE;
  queue_job (self, job);
}

static gboolean
space_check_cb (gpointer user_data)
{
  LtRecorder *self = user_data;
  struct statvfs st;
  guint64 free_bytes = 0;

  if (statvfs (self->bucket_dir, &st) == 0)
    free_bytes = (guint64) st.f_bavail * st.f_frsize;
  if (free_bytes < RESUME_FREE_BYTES)
    return G_SOURCE_CONTINUE;

  g_clear_pointer (&self->space_timer, g_source_unref);
  g_debug ("Recorder: disk space is back, resuming");
  g_clear_error (&self->error);
  g_mutex_lock (&self->lock);
  self->disk_full = FALSE;
  if (self->state == LT_RECORDER_STATE_SUSPENDED)
    set_state (self, self->session_started ? LT_RECORDER_STATE_RECORDING
                                           : LT_RECORDER_STATE_STARTING);
  g_mutex_unlock (&self->lock);
  /* Backs off if the disk fills again at once. */
  self->space_interval = MIN (self->space_interval * 2, SPACE_CHECK_MAX_S);
  return G_SOURCE_REMOVE;
}

static void
handle_event (LtRecorder *self,
              Event      *event)
{
  switch (event->type)
    {
    case EVENT_STATE:
      g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0, event->state);
      break;
    case EVENT_FILE_OPENED:
      g_signal_emit (self, signals[SIGNAL_FILE_OPENED], 0, event->file);
      break;
    case EVENT_SLICE_CLOSED:
      g_signal_emit (self, signals[SIGNAL_SLICE_CLOSED], 0, event->slice);
      break;
    case EVENT_FILE_CLOSED:
      g_signal_emit (self, signals[SIGNAL_FILE_CLOSED], 0, event->file);
      break;
    case EVENT_ERROR:
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, event->error, event->format);
      break;
    case EVENT_DISK_FULL:
      g_mutex_lock (&self->lock);
      /* From the closer (a playlist or a rename failed): stop writing like a failed
       * write does. From a streaming thread: that happened already. */
      if (self->state != LT_RECORDER_STATE_STOPPING && self->state != LT_RECORDER_STATE_STOPPED &&
          self->state != LT_RECORDER_STATE_FAILED)
        enter_disk_full (self, g_error_copy (event->error), FALSE);
      g_mutex_unlock (&self->lock);
      if (self->disk_full)
        {
          g_clear_error (&self->error);
          self->error = g_error_copy (event->error);
        }
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, event->error, event->format);
      if (self->space_timer == NULL && self->disk_full &&
          self->state != LT_RECORDER_STATE_STOPPED && self->state != LT_RECORDER_STATE_FAILED)
        {
          if (self->space_interval == 0)
            self->space_interval = SPACE_CHECK_MIN_S;
          self->space_timer = g_timeout_source_new_seconds (self->space_interval);
          g_source_set_callback (self->space_timer, space_check_cb, g_object_ref (self),
                                 g_object_unref);
          g_source_attach (self->space_timer, self->context);
        }
      break;
    case EVENT_FAIL:
      if (self->state == LT_RECORDER_STATE_FAILED || self->state == LT_RECORDER_STATE_STOPPED)
        break;
      g_clear_error (&self->error);
      self->error = g_error_copy (event->error);
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, event->error, event->format);
      finish_session (self, LT_RECORDER_STATE_FAILED);
      break;
    case EVENT_BARRIER:
      {
        GList *tasks;
        gboolean stopped = FALSE;

        /* Emitted here rather than queued, so that "stopped" comes before the tasks
         * complete. */
        g_mutex_lock (&self->lock);
        if (self->state == LT_RECORDER_STATE_STOPPING)
          {
            self->state = LT_RECORDER_STATE_STOPPED;
            stopped = TRUE;
          }
        g_mutex_unlock (&self->lock);
        if (stopped)
          g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0, LT_RECORDER_STATE_STOPPED);
        tasks = g_steal_pointer (&self->stop_tasks);
        for (GList *l = tasks; l != NULL; l = l->next)
          {
            g_task_return_boolean (l->data, TRUE);
            g_object_unref (l->data);
          }
        g_list_free (tasks);
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

/* ---- GObject ---- */

static void
lt_recorder_dispose (GObject *object)
{
  LtRecorder *self = LT_RECORDER (object);

  stop_pause_timer (self);
  stop_space_timer (self);

  /* Normally stop_async ran already; otherwise close the files here, quietly. */
  if (self->formats != NULL)
    {
      self->inline_jobs = TRUE;
      g_mutex_lock (&self->lock);
      for (guint i = 0; i < self->formats->len; i++)
        format_close_file (self, g_ptr_array_index (self->formats, i), FALSE);
      g_mutex_unlock (&self->lock);
    }

  /* Every queued job holds a reference, so the pool is idle by now, but this may run
   * on its thread (the last job dropping the last reference): do not wait for it. */
  if (self->closer != NULL)
    {
      g_thread_pool_free (self->closer, FALSE, FALSE);
      self->closer = NULL;
    }

  G_OBJECT_CLASS (lt_recorder_parent_class)->dispose (object);
}

static void
format_free (gpointer data)
{
  Format *f = data;

  g_clear_pointer (&f->params, lt_record_format_free);
  g_clear_pointer (&f->key, g_free);
  g_clear_pointer (&f->path, g_free);
  g_clear_pointer (&f->video, _lt_track_config_unref);
  g_clear_pointer (&f->audio, _lt_track_config_unref);
  g_clear_pointer (&f->out, _lt_out_file_free);
  g_clear_pointer (&f->mp4, _lt_mp4_mux_free);
  g_clear_pointer (&f->flv, _lt_flv_mux_free);
  g_clear_object (&f->playlist);
  g_clear_pointer (&f->ts, _lt_ts_mux_free);
  g_clear_pointer (&f->slice_key, g_free);
  g_free (f);
}

static void
lt_recorder_finalize (GObject *object)
{
  LtRecorder *self = LT_RECORDER (object);

  g_assert (self->source == NULL);
  g_assert (self->stop_tasks == NULL);

  if (self->sequence_destroy != NULL)
    self->sequence_destroy (self->sequence_data);
  g_clear_pointer (&self->formats, g_ptr_array_unref);
  g_clear_pointer (&self->config[0], _lt_track_config_unref);
  g_clear_pointer (&self->config[1], _lt_track_config_unref);
  g_clear_error (&self->error);
  g_free (self->domain_name);
  g_free (self->app_name);
  g_free (self->stream_name);
  g_free (self->storage_root);
  g_free (self->bucket);
  g_free (self->bucket_dir);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->events_lock);

  G_OBJECT_CLASS (lt_recorder_parent_class)->finalize (object);
}

static void
lt_recorder_class_init (LtRecorderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lt_recorder_dispose;
  object_class->finalize = lt_recorder_finalize;

  /**
   * LtRecorder::state-changed:
   * @state: the new LtRecorderState
   */
  signals[SIGNAL_STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, LT_TYPE_RECORDER_STATE);
  /**
   * LtRecorder::file-opened:
   * @file: an LtRecordingFile (end_time, duration and size 0)
   */
  signals[SIGNAL_FILE_OPENED] =
    g_signal_new ("file-opened", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  LT_TYPE_RECORDING_FILE | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * LtRecorder::slice-closed:
   * @slice: an LtRecordingSlice, durable and named in its playlist
   */
  signals[SIGNAL_SLICE_CLOSED] =
    g_signal_new ("slice-closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  LT_TYPE_RECORDING_SLICE | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * LtRecorder::file-closed:
   * @file: the complete LtRecordingFile under its final name
   */
  signals[SIGNAL_FILE_CLOSED] =
    g_signal_new ("file-closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  LT_TYPE_RECORDING_FILE | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * LtRecorder::error:
   * @error: an LT_RECORDER_ERROR
   * @format: the LtRecordFormatKind that stopped, or -1 for the whole session
   */
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_INT);

  gst_pb_utils_init ();
}

static void
lt_recorder_init (LtRecorder *self)
{
  g_mutex_init (&self->lock);
  g_mutex_init (&self->events_lock);
  g_queue_init (&self->events);
  self->context = g_main_context_ref_thread_default ();
  self->source_timeout = 10;
  self->last_video_dts = G_MININT64;
}

LtRecorder *
lt_recorder_new (const LtRecorderParams  *params,
                 GPtrArray               *formats,
                 GError                 **error)
{
  g_autoptr(LtRecorder) self = NULL;

  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (params->storage_root != NULL, NULL);
  g_return_val_if_fail (formats != NULL, NULL);

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);

  self = g_object_new (LT_TYPE_RECORDER, NULL);
  self->domain_name = g_strdup (params->domain_name != NULL ? params->domain_name : "");
  self->app_name = g_strdup (params->app_name != NULL ? params->app_name : "");
  self->stream_name = g_strdup (params->stream_name != NULL ? params->stream_name : "");
  self->storage_root = g_strdup (params->storage_root);
  self->bucket = g_strdup (params->bucket != NULL ? params->bucket : "");
  self->bucket_dir = g_build_filename (self->storage_root, self->bucket, NULL);
  self->delay_time = params->delay_time;
  self->formats = g_ptr_array_new_with_free_func (format_free);

  for (guint i = 0; i < formats->len; i++)
    {
      const LtRecordFormat *params_format = g_ptr_array_index (formats, i);
      g_autofree char *probe = NULL;
      Format *f;

      if (params_format->kind == LT_RECORD_FORMAT_CMAF)
        {
          /* CMAF (fMP4 slices) is not recorded yet; the rule's other formats are. */
          g_debug ("Recorder: CMAF is not supported yet, skipped");
          continue;
        }
      if (params_format->object_prefix == NULL ||
          (params_format->kind == LT_RECORD_FORMAT_M3U8 &&
           params_format->slice_object_prefix == NULL))
        {
          g_set_error (error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_FAILED,
                       _("The %s format has no object name template"),
                       lt_record_format_kind_to_string (params_format->kind));
          return NULL;
        }
      /* Templates are checked now, not when the first file opens. */
      probe = expand_key (self, params_format->object_prefix, 1, 0, 0, NULL, error);
      if (probe == NULL)
        return NULL;
      if (params_format->kind == LT_RECORD_FORMAT_M3U8)
        {
          g_free (probe);
          probe = expand_key (self, params_format->slice_object_prefix, 1, 0, 0, NULL, error);
          if (probe == NULL)
            return NULL;
        }

      f = g_new0 (Format, 1);
      f->params = lt_record_format_copy (params_format);
      f->kind = params_format->kind;
      if (f->params->cycle_duration == 0)
        f->params->cycle_duration = f->kind == LT_RECORD_FORMAT_M3U8 ? LT_RULE_CYCLE_DEFAULT_SLICED
                                                                     : LT_RULE_CYCLE_DEFAULT_FILE;
      if (f->kind == LT_RECORD_FORMAT_M3U8)
        {
          if (f->params->slice_duration == 0)
            f->params->slice_duration = LT_RULE_SLICE_DEFAULT;
          f->ts = _lt_ts_mux_new ();
        }
      g_ptr_array_add (self->formats, f);
    }

  if (self->formats->len == 0)
    {
      g_set_error_literal (error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_FAILED,
                           _("The rule has no format to record"));
      return NULL;
    }

  self->closer = g_thread_pool_new (closer_func, NULL, 1, FALSE, NULL);
  return g_steal_pointer (&self);
}

void
lt_recorder_set_sequence_func (LtRecorder             *self,
                               LtRecorderSequenceFunc  func,
                               gpointer                user_data,
                               GDestroyNotify          destroy)
{
  g_return_if_fail (LT_IS_RECORDER (self));

  g_mutex_lock (&self->lock);
  if (self->sequence_destroy != NULL)
    self->sequence_destroy (self->sequence_data);
  self->sequence_func = func;
  self->sequence_data = user_data;
  self->sequence_destroy = destroy;
  g_mutex_unlock (&self->lock);
}

void
lt_recorder_set_source_timeout (LtRecorder *self,
                                guint       seconds)
{
  g_return_if_fail (LT_IS_RECORDER (self));

  self->source_timeout = MAX (seconds, 1);
}

gboolean
lt_recorder_attach_element (LtRecorder  *self,
                            GstElement  *source,
                            GError     **error)
{
  Connection *conn;
  gboolean is_rtmp;
  LtRecorderSource *recorder_source;
  GstElementFactory *factory;

  g_return_val_if_fail (LT_IS_RECORDER (self), FALSE);
  g_return_val_if_fail (GST_IS_ELEMENT (source), FALSE);

  gst_object_ref_sink (source);
  if (self->state == LT_RECORDER_STATE_STOPPING || self->state == LT_RECORDER_STATE_STOPPED ||
      self->state == LT_RECORDER_STATE_FAILED)
    {
      gst_object_unref (source);
      g_set_error_literal (error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_FAILED,
                           _("The recording has ended"));
      return FALSE;
    }

  /* A connection still attached: the publisher came back before its old connection
   * ended. Same as an unpublish followed by a publish. */
  if (self->source != NULL)
    {
      detach_source (self);
      g_mutex_lock (&self->lock);
      for (guint i = 0; i < self->formats->len; i++)
        format_pause (self, g_ptr_array_index (self->formats, i));
      g_mutex_unlock (&self->lock);
    }
  stop_pause_timer (self);

  factory = gst_element_get_factory (source);
  is_rtmp = LT_IS_RTMP_SRC (source) ||
            (factory != NULL &&
             (g_str_equal (gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (factory)), "rtmp2src") ||
              g_str_equal (gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (factory)), "rtmpsrc")));
  /* No "idle-timeout" on rtmp2src: it attaches a timer to its loop thread for every
   * message, two wakeups each; the recorder's own stall check does the job. */

  conn = g_new0 (Connection, 1);
  conn->self = g_object_ref (self);
  g_queue_init (&conn->pending);
  conn->pending_keyframe = G_MININT64;
  conn->last_dts[0] = conn->last_dts[1] = G_MININT64;
  conn->last_rt[0] = conn->last_rt[1] = G_MININT64;

  g_mutex_lock (&self->lock);
  self->conn = conn;
  if (self->state == LT_RECORDER_STATE_IDLE || self->state == LT_RECORDER_STATE_PAUSED)
    set_state (self, LT_RECORDER_STATE_STARTING);
  g_mutex_unlock (&self->lock);

  recorder_source = _lt_recorder_source_new (source, is_rtmp, &source_funcs, conn,
                                             self->source_timeout, error);
  gst_object_unref (source);
  if (recorder_source == NULL)
    {
      /* The source freed the connection. */
      pause_session (self);
      return FALSE;
    }
  self->source = recorder_source;
  return TRUE;
}

gboolean
lt_recorder_attach_uri (LtRecorder  *self,
                        const char  *uri,
                        GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  GstElement *source = NULL;

  g_return_val_if_fail (LT_IS_RECORDER (self), FALSE);
  g_return_val_if_fail (uri != NULL, FALSE);

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);

  if (g_ascii_strncasecmp (uri, "rtmp://", 7) == 0)
    {
      /* The recorder's own RTMP player (lt-recorder-rtmp.c): a fraction of rtmp2src's
       * wakeups, and a safe teardown unlike rtmpsrc. LT_RECORDER_RTMP_ELEMENT=rtmp2src
       * (or rtmpsrc) picks GStreamer's, for comparison. */
      const char *element = g_getenv ("LT_RECORDER_RTMP_ELEMENT");

      if (element != NULL && g_str_equal (element, "rtmp2src"))
        {
          source = gst_element_factory_make ("rtmp2src", NULL);
          if (source != NULL)
            g_object_set (source, "location", uri, NULL);
        }
      else if (element != NULL && g_str_equal (element, "rtmpsrc"))
        {
          g_autofree char *location = g_strdup_printf ("%s live=1", uri);

          source = gst_element_factory_make ("rtmpsrc", NULL);
          if (source != NULL)
            g_object_set (source, "location", location, NULL);
        }
      else
        source = _lt_rtmp_src_new (uri, &local_error);
    }
  else
    source = gst_element_make_from_uri (GST_URI_SRC, uri, NULL, &local_error);

  if (source == NULL)
    {
      g_set_error (error, LT_RECORDER_ERROR, LT_RECORDER_ERROR_SOURCE,
                   _("No source for “%s”: %s"), uri,
                   local_error != NULL ? local_error->message : _("unknown protocol"));
      return FALSE;
    }
  return lt_recorder_attach_element (self, source, error);
}

void
lt_recorder_pause (LtRecorder *self)
{
  g_return_if_fail (LT_IS_RECORDER (self));

  if (self->state != LT_RECORDER_STATE_STARTING &&
      self->state != LT_RECORDER_STATE_RECORDING &&
      self->state != LT_RECORDER_STATE_SUSPENDED)
    return;
  pause_session (self);
}

void
lt_recorder_restart (LtRecorder *self)
{
  g_return_if_fail (LT_IS_RECORDER (self));

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->formats->len; i++)
    {
      Format *f = g_ptr_array_index (self->formats, i);

      if (self->conn != NULL)
        f->cut_pending = TRUE;
      else
        format_close_file (self, f, FALSE);
    }
  g_mutex_unlock (&self->lock);
}

void
lt_recorder_stop_async (LtRecorder          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LT_IS_RECORDER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lt_recorder_stop_async);

  if (self->state == LT_RECORDER_STATE_STOPPED || self->state == LT_RECORDER_STATE_FAILED)
    {
      /* Already final; wait for the closer all the same, so every signal is out. */
      Job *job = job_new (self);

      job->barrier = TRUE;
      self->stop_tasks = g_list_append (self->stop_tasks, g_steal_pointer (&task));
      queue_job (self, job);
      return;
    }

  self->stop_tasks = g_list_append (self->stop_tasks, g_steal_pointer (&task));
  if (self->state != LT_RECORDER_STATE_STOPPING)
    finish_session (self, LT_RECORDER_STATE_STOPPED);
}

gboolean
lt_recorder_stop_finish (LtRecorder    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (LT_IS_RECORDER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lt_recorder_stop_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

LtRecorderState
lt_recorder_get_state (LtRecorder *self)
{
  LtRecorderState state;

  g_return_val_if_fail (LT_IS_RECORDER (self), LT_RECORDER_STATE_IDLE);

  g_mutex_lock (&self->lock);
  state = self->state;
  g_mutex_unlock (&self->lock);
  return state;
}

gint64
lt_recorder_get_pause_deadline (LtRecorder *self)
{
  g_return_val_if_fail (LT_IS_RECORDER (self), 0);

  return self->pause_deadline;
}

const GError *
lt_recorder_get_error (LtRecorder *self)
{
  g_return_val_if_fail (LT_IS_RECORDER (self), NULL);

  return self->error;
}

gint64
lt_recorder_get_duration (LtRecorder *self)
{
  gint64 position;

  g_return_val_if_fail (LT_IS_RECORDER (self), 0);

  g_mutex_lock (&self->lock);
  position = self->position;
  g_mutex_unlock (&self->lock);
  return position / 1000;
}
