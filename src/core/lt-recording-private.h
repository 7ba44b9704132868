/* lt-recording-private.h: the recording manager's setters of LtRecording. */
#pragma once

#include "lt-recording.h"

G_BEGIN_DECLS

LtRecording *_lt_recording_new                 (const char         *domain,
                                                const char         *app,
                                                const char         *stream_name,
                                                const char         *key);
/* Each notifies only what changed. */
void         _lt_recording_set_state           (LtRecording        *self,
                                                LtRecordingState    state);
void         _lt_recording_set_reason          (LtRecording        *self,
                                                const char         *reason_code,
                                                const char         *reason);
void         _lt_recording_set_trigger         (LtRecording        *self,
                                                LtRecordingTrigger  trigger);
void         _lt_recording_set_pause_deadline  (LtRecording        *self,
                                                gint64              deadline);
void         _lt_recording_set_highlight_deadline (LtRecording     *self,
                                                   gint64           deadline);
void         _lt_recording_set_session         (LtRecording        *self,
                                                gint64              session_id,
                                                const char * const *formats,
                                                LtRecorder         *recorder);
LtRecorder  *_lt_recording_get_recorder        (LtRecording        *self);
/* @file NULL: the format has no open file. Emits "files-changed". */
void         _lt_recording_set_current_file    (LtRecording        *self,
                                                const char         *format,
                                                const LtRecordingFile *file);

G_END_DECLS
