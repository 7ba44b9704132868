/* lt-recorder.h: one recording session of one stream (SPEC section 3).
 *
 * An LtRecorder remuxes (never re-encodes) the stream into the formats of a rule: m3u8
 * (TS slices cut on keyframes plus a per-cycle EVENT playlist), mp4 (fragmented, playable
 * at every moment) and flv (duration metadata written when closed). The input is demuxed
 * once per connection; all formats are written from that one streaming thread by the
 * recorder's own muxers, so a recording costs about what the source element costs.
 *
 * A session outlives its connections: when the source goes away the recorder pauses (the
 * merge window, DelayTime); a source attached within the window continues the same files
 * on one continuous timeline (m3u8 gets #EXT-X-DISCONTINUITY; MP4/FLV continue when the
 * codec configuration is unchanged and are cut cleanly otherwise). Files are named from the
 * rule's templates and land under STORAGE-ROOT/BUCKET/OBJECT-KEY.
 *
 * Threads: GStreamer's streaming threads write the files; fdatasync, playlist updates and
 * renames run on a worker; every signal is emitted on the GMainContext that was
 * thread-default when the recorder was created.
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include "lt-rule.h"

G_BEGIN_DECLS

#define LT_RECORDER_ERROR (lt_recorder_error_quark ())

typedef enum
{
  LT_RECORDER_ERROR_FAILED,
  LT_RECORDER_ERROR_UNSUPPORTED_CODEC, /* "UnsupportedCodec": the message names the codec */
  LT_RECORDER_ERROR_DISK_FULL,         /* "DiskFull": resumes by itself when space returns */
  LT_RECORDER_ERROR_IO,                /* "WriteFailed": another file system error */
  LT_RECORDER_ERROR_SOURCE,            /* "SourceFailed": the source could not be opened */
} LtRecorderError;

GQuark       lt_recorder_error_quark  (void);
/* The reason string for status callbacks and the catalog ("UnsupportedCodec", …). */
const char  *lt_recorder_error_reason (LtRecorderError code);

typedef enum
{
  LT_RECORDER_STATE_IDLE,       /* created, no source attached yet */
  LT_RECORDER_STATE_STARTING,   /* source attached, waiting for the first keyframe */
  LT_RECORDER_STATE_RECORDING,
  LT_RECORDER_STATE_PAUSED,     /* source gone: the merge window runs */
  LT_RECORDER_STATE_SUSPENDED,  /* disk full: data is dropped until space returns */
  LT_RECORDER_STATE_STOPPING,
  LT_RECORDER_STATE_STOPPED,    /* every file closed; final */
  LT_RECORDER_STATE_FAILED,     /* unsupported codec or a fatal error; files closed; final */
} LtRecorderState;

GType        lt_recorder_state_get_type  (void) G_GNUC_CONST;
#define LT_TYPE_RECORDER_STATE (lt_recorder_state_get_type ())
/* "idle", "starting", "recording", "paused", "suspended", "stopping", "stopped", "failed" */
const char  *lt_recorder_state_to_string (LtRecorderState state);

/* A closed TS slice (signal "slice-closed"): everything the catalog's slices table holds. */
typedef struct
{
  LtRecordFormatKind format;          /* LT_RECORD_FORMAT_M3U8 */
  guint64   sequence;                 /* position in its playlist (#EXT-X-MEDIA-SEQUENCE + n) */
  guint64   playlist_sequence;        /* {Sequence} of the playlist (cycle) it belongs to */
  char     *playlist_path;            /* the playlist's path as given by "file-opened" */
  char     *path;                     /* absolute local path */
  char     *object_key;               /* key inside the bucket, ".ts" included */
  gint64    start_time;               /* wall-clock UTC start, Unix µs (arrival-anchored) */
  gint64    duration;                 /* µs */
  gint64    media_time;               /* start on the session's continuous timeline, µs */
  guint64   size;                     /* bytes */
  guint     discontinuity_sequence;   /* number of discontinuities before it in its playlist */
  gboolean  discontinuity;            /* #EXT-X-DISCONTINUITY precedes it (reconnect, jump) */
  gboolean  keyframe;                 /* starts on a video keyframe (FALSE: audio-only) */
  guint     width;                    /* 0 without video */
  guint     height;
  char     *video_codec;              /* "h264", "h265", "mpeg4"; NULL without video */
  char     *audio_codec;              /* "aac", "mp3"; NULL without audio */
  char     *md5;                      /* hex MD5 of its @size bytes, hashed as they were
                                       * written; NULL when unknown (never a guess) */
} LtRecordingSlice;

#define LT_TYPE_RECORDING_SLICE (lt_recording_slice_get_type ())
GType             lt_recording_slice_get_type (void) G_GNUC_CONST;
LtRecordingSlice *lt_recording_slice_copy     (const LtRecordingSlice *slice);
void              lt_recording_slice_free     (LtRecordingSlice       *slice);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtRecordingSlice, lt_recording_slice_free)

/* A recording file: an m3u8 playlist (one per cycle), an MP4 or an FLV file.
 * "file-opened": path/object_key are where the file is written while it is open (its name
 * is expanded with EndTime = StartTime); end_time/duration/size are 0.
 * "file-closed": path/object_key are the final names (EndTime known); open_path and
 * open_object_key the names it had while open (the same when the template gave the same
 * name). The closed file is complete: ENDLIST, MP4 durations, FLV duration metadata. */
typedef struct
{
  LtRecordFormatKind format;
  guint64   sequence;                 /* {Sequence} */
  char     *path;
  char     *object_key;
  char     *open_path;
  char     *open_object_key;
  gint64    start_time;               /* wall-clock UTC, Unix µs */
  gint64    end_time;                 /* wall-clock UTC, Unix µs (0 while open) */
  gint64    duration;                 /* µs of content (merged pauses excluded) */
  guint64   size;                     /* bytes; for m3u8 the slices' total */
  guint     n_slices;                 /* m3u8 only */
  guint     n_discontinuities;        /* reconnects and jumps inside the file */
  guint     width;
  guint     height;
  char     *video_codec;
  char     *audio_codec;
  /* MP4 and FLV once closed: the MD5s of its LT_RECORDING_BLOCK_SIZE blocks, hashed as
   * they were written ("SIZE:MD5,…,-,…", "-" where closing patched it); else NULL. */
  char     *part_md5s;
} LtRecordingFile;

/* The block size of part_md5s: the sync engine's part size for files up to 80 GB, so
 * that their multipart uploads need no hashing pass. */
#define LT_RECORDING_BLOCK_SIZE (8 * 1024 * 1024)

#define LT_TYPE_RECORDING_FILE (lt_recording_file_get_type ())
GType            lt_recording_file_get_type (void) G_GNUC_CONST;
LtRecordingFile *lt_recording_file_copy     (const LtRecordingFile *file);
void             lt_recording_file_free     (LtRecordingFile       *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtRecordingFile, lt_recording_file_free)

typedef struct
{
  const char *domain_name;     /* template variables */
  const char *app_name;
  const char *stream_name;
  const char *storage_root;    /* the storage target's local folder */
  const char *bucket;          /* sub-folder of @storage_root, created when needed */
  guint       delay_time;      /* merge window in seconds; 0 = stop when the source ends */
} LtRecorderParams;

/* Allocates {Sequence} for a new recording file of @format. Called on a streaming thread:
 * it must be thread-safe and must not block. The default counts per format from 1. */
typedef guint64 (*LtRecorderSequenceFunc) (LtRecordFormatKind  format,
                                           gpointer            user_data);

#define LT_TYPE_RECORDER (lt_recorder_get_type ())
G_DECLARE_FINAL_TYPE (LtRecorder, lt_recorder, LT, RECORDER, GObject)

/* @formats: LtRecordFormat (e.g. lt_rule_get_formats()), copied. Fails when there is no
 * format to record or a template does not expand. SliceDuration and CycleDuration are
 * used as given (tests use values below the rule minimums). */
LtRecorder      *lt_recorder_new                (const LtRecorderParams *params,
                                                 GPtrArray              *formats,
                                                 GError                **error);
void             lt_recorder_set_sequence_func  (LtRecorder             *self,
                                                 LtRecorderSequenceFunc  func,
                                                 gpointer                user_data,
                                                 GDestroyNotify          destroy);
/* Seconds without any data after which a connection counts as gone (a publisher that
 * vanished without closing). Default 10. */
void             lt_recorder_set_source_timeout (LtRecorder             *self,
                                                 guint                   seconds);

/* A new connection of the stream: "rtmp://…" (the recorder's own RTMP player, see
 * lt-recorder-rtmp.c), "srt://…", "file://…", "fd://N", or any URI
 * GStreamer has a source for. Starts recording, or resumes a paused session (same files,
 * a discontinuity). A connection still attached is dropped first. Fails only when no
 * element handles the URI; everything later is reported through signals. */
gboolean         lt_recorder_attach_uri         (LtRecorder             *self,
                                                 const char             *uri,
                                                 GError                **error);
/* Same with a ready-made source element (floating references are sunk). It may expose
 * a container stream (typefound and demuxed) or elementary streams. */
gboolean         lt_recorder_attach_element     (LtRecorder             *self,
                                                 GstElement             *source,
                                                 GError                **error);
/* The source is gone (unpublish, manual "stop"): drops the connection, closes the open
 * slice, keeps the files open and starts the merge window. When DelayTime passes without a
 * new connection the files are closed and the state becomes STOPPED. The recorder pauses
 * by itself when a connection ends or stalls. No-op unless starting or recording. */
void             lt_recorder_pause              (LtRecorder             *self);
/* "restart": closes the current files now (at the next keyframe while a source is
 * attached) and continues in new ones ({Sequence} + 1). */
void             lt_recorder_restart            (LtRecorder             *self);
/* Finishes the session: drops the connection, closes every file (ENDLIST, MP4 durations,
 * FLV metadata) and completes once the files are durable and their signals emitted. Never
 * waits on the pipeline's EOS: a stuck pipeline is torn down in the background. */
void             lt_recorder_stop_async         (LtRecorder             *self,
                                                 GCancellable           *cancellable,
                                                 GAsyncReadyCallback     callback,
                                                 gpointer                user_data);
gboolean         lt_recorder_stop_finish        (LtRecorder             *self,
                                                 GAsyncResult           *result,
                                                 GError                **error);

LtRecorderState  lt_recorder_get_state          (LtRecorder             *self);
/* The merge window's end (monotonic µs, g_get_monotonic_time()) while PAUSED, else 0. */
gint64           lt_recorder_get_pause_deadline (LtRecorder             *self);
/* The error that made the recorder FAILED or SUSPENDED, else NULL. */
const GError    *lt_recorder_get_error          (LtRecorder             *self);
/* Content recorded so far on the continuous timeline, µs. */
gint64           lt_recorder_get_duration       (LtRecorder             *self);

/* Crash recovery: finishes an MP4 or FLV file a crash left open ("file-opened" without
 * "file-closed"). Such a file plays as it is; this cuts a torn tail off at the last
 * complete fragment or tag and writes the durations (MP4 moov, FLV onMetaData), as closing
 * would have. @duration_us (may be NULL): the content's length. Blocking file I/O: call it
 * from a worker thread. Renaming to the final object name stays with the caller. */
gboolean         lt_recorder_repair_file        (const char             *path,
                                                 LtRecordFormatKind      format,
                                                 gint64                 *duration_us,
                                                 GError                **error);

G_END_DECLS
