/* lt-recording.h: what the engine is doing about recording one stream, for the console and
 * the API (SPEC section 3): whether it records, why not, the merge-window countdown, the
 * failure reason and, per format, the file being written.
 *
 * The recording manager owns these objects and changes them on the main context; the
 * console binds to their properties. One object per stream identity exists while the
 * stream is online or its session is still active (paused in the merge window, stopping).
 */
#pragma once

#include <gio/gio.h>

#include "lt-recorder.h"

G_BEGIN_DECLS

typedef enum
{
  LT_RECORDING_STATE_NOT_RECORDING,  /* no session: see "reason" for why */
  LT_RECORDING_STATE_STARTING,       /* session created, waiting for the first keyframe */
  LT_RECORDING_STATE_RECORDING,
  LT_RECORDING_STATE_PAUSED,         /* merge window: "pause-deadline" says until when */
  LT_RECORDING_STATE_SUSPENDED,      /* disk full: resumes by itself; "reason" says so */
  LT_RECORDING_STATE_STOPPING,       /* closing the files */
  LT_RECORDING_STATE_FAILED,         /* "reason" says why (e.g. UnsupportedCodec: …) */
} LtRecordingState;

GType        lt_recording_state_get_type  (void) G_GNUC_CONST;
#define LT_TYPE_RECORDING_STATE (lt_recording_state_get_type ())
/* The API's RecordState: "not_recording", "starting", "recording", "paused", "suspended",
 * "stopping", "failed". */
const char  *lt_recording_state_to_string (LtRecordingState state);

/* How the current session was started (the catalog's sessions.trigger_kind). */
typedef enum
{
  LT_RECORDING_TRIGGER_NONE,
  LT_RECORDING_TRIGGER_AUTO,       /* OnDemand 0 */
  LT_RECORDING_TRIGGER_PUSH_ARG,   /* OnDemand 2 with record=1|true */
  LT_RECORDING_TRIGGER_MANUAL,     /* RealTimeRecordCommand start */
  LT_RECORDING_TRIGGER_SCHEDULED,  /* a stream-level rule's StartTime/EndTime window */
  LT_RECORDING_TRIGGER_ON_DEMAND,  /* OnDemand 1: the domain's OnDemandUrl said so */
} LtRecordingTrigger;

GType        lt_recording_trigger_get_type  (void) G_GNUC_CONST;
#define LT_TYPE_RECORDING_TRIGGER (lt_recording_trigger_get_type ())
/* "none", "auto", "push_arg", "manual", "scheduled", "ondemand" */
const char  *lt_recording_trigger_to_string (LtRecordingTrigger trigger);

#define LT_TYPE_RECORDING (lt_recording_get_type ())
G_DECLARE_FINAL_TYPE (LtRecording, lt_recording, LT, RECORDING, GObject)

/* Identity: the stream's domain, app and name, and lt_stream_make_key() of them. */
const char        *lt_recording_get_domain         (LtRecording *self);
const char        *lt_recording_get_app            (LtRecording *self);
const char        *lt_recording_get_stream_name    (LtRecording *self);
const char        *lt_recording_get_key            (LtRecording *self);

/* "state" (LtRecordingState, notified). */
LtRecordingState   lt_recording_get_state          (LtRecording *self);
/* "reason" (notified): a translated sentence for the console, or NULL. While
 * NOT_RECORDING, why ("No rule matches this stream.", "The rule records only when asked
 * (OnDemand 7).", "Stopped by the operator.", …); while FAILED or SUSPENDED, the error. */
const char        *lt_recording_get_reason         (LtRecording *self);
/* "reason-code" (notified): the machine-readable reason of a failure or suspension
 * (lt_recorder_error_reason(): "UnsupportedCodec", "DiskFull", …), else NULL. */
const char        *lt_recording_get_reason_code    (LtRecording *self);
/* "trigger" (notified). */
LtRecordingTrigger lt_recording_get_trigger        (LtRecording *self);
/* "pause-deadline" (notified): the merge window's end while PAUSED, wall-clock Unix µs
 * (g_get_real_time()), else 0. */
gint64             lt_recording_get_pause_deadline (LtRecording *self);
/* "highlight-deadline" (notified): when a manual start with Duration stops by itself,
 * wall-clock Unix µs, else 0. */
gint64             lt_recording_get_highlight_deadline (LtRecording *self);
/* "session-id" (notified): the catalog's sessions.id of the current session, 0 without. */
gint64             lt_recording_get_session_id     (LtRecording *self);
/* "formats" (notified): the formats the session records, e.g. {"m3u8", "mp4", NULL};
 * empty without a session. */
const char * const *lt_recording_get_formats       (LtRecording *self);
/* The file being written in @format ("m3u8", "mp4", "flv"), or NULL (transfer none; valid
 * until the next "files-changed"). Its size/duration are those of the last closed slice
 * or of the file when it was opened. */
const LtRecordingFile *lt_recording_get_current_file (LtRecording *self,
                                                      const char  *format);
/* Content recorded in the current session so far, µs (not notified: poll it, e.g. once a
 * second, while RECORDING). */
gint64             lt_recording_get_duration       (LtRecording *self);

/* Signal "files-changed": a format's current file opened, grew (a slice closed) or closed. */

G_END_DECLS
