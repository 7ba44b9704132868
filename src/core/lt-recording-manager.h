/* lt-recording-manager.h: turns online streams into recordings (SPEC section 3).
 *
 * When a stream comes online the manager decides from the rules (priority, exclusion,
 * StartTime/EndTime window, OnDemand 0/2/7, and for OnDemand 1 the answer of the domain's
 * OnDemandUrl) whether to record it, runs an LtRecorder for it and writes
 * every session, file and slice to the catalog as the recorder reports them. It carries
 * out the manual commands (RealTimeRecordCommand), and on start it recovers what a crash
 * left: open playlists are finished, their slices catalogued, MP4/FLV files repaired and
 * renamed to their final names.
 *
 * Main context only. One LtRecording per stream that is online or still has a session.
 */
#pragma once

#include <gio/gio.h>

#include "lt-callback-queue.h"
#include "lt-catalog.h"
#include "lt-notify-store.h"
#include "lt-recording.h"
#include "lt-rule-store.h"
#include "lt-stream-registry.h"

G_BEGIN_DECLS

#define LT_RECORDING_ERROR (lt_recording_error_quark ())

typedef enum
{
  LT_RECORDING_ERROR_FAILED,
  LT_RECORDING_ERROR_STREAM_NOT_FOUND,      /* InvalidStream.NotFound, 404 */
  LT_RECORDING_ERROR_CONFIG_NOT_FOUND,      /* InvalidConfig.NotFound, 404 */
  LT_RECORDING_ERROR_TASK_ALREADY_STARTED,  /* TaskAlreadyStarted, 409 */
  LT_RECORDING_ERROR_TASK_NOT_FOUND,        /* TaskNotFound, 404: nothing is recording */
  LT_RECORDING_ERROR_INVALID_TASK_STATUS,   /* InvalidTaskStatus, 409: e.g. cancel_delay
                                             * while not paused */
  LT_RECORDING_ERROR_INVALID_PARAMETER,     /* InvalidParameter, 400 (Duration, Command) */
} LtRecordingError;

GQuark       lt_recording_error_quark       (void);
/* The API code of @code ("InvalidStream.NotFound", …) and its HTTP status. */
const char  *lt_recording_error_code_name   (LtRecordingError code);
guint        lt_recording_error_http_status (LtRecordingError code);

typedef enum
{
  LT_RECORD_COMMAND_START,
  LT_RECORD_COMMAND_STOP,
  LT_RECORD_COMMAND_CANCEL_DELAY,
  LT_RECORD_COMMAND_RESTART,
} LtRecordCommand;

/* "start", "stop", "cancel_delay", "restart" (case-sensitive, as the cloud's). */
gboolean     lt_record_command_from_string (const char       *string,
                                            LtRecordCommand  *command);

/* The longest highlight (RealTimeRecordCommand start with Duration), seconds. */
#define LT_RECORDING_MAX_HIGHLIGHT_DURATION 1800

#define LT_TYPE_RECORDING_MANAGER (lt_recording_manager_get_type ())
G_DECLARE_FINAL_TYPE (LtRecordingManager, lt_recording_manager, LT, RECORDING_MANAGER, GObject)

/* @local_storage_root: the root of the built-in "local" target (see lt-storage.h). */
LtRecordingManager *lt_recording_manager_new      (LtCatalog          *catalog,
                                                   LtRuleStore        *rules,
                                                   LtStreamRegistry   *registry,
                                                   const char         *local_storage_root);
/* Recovers what an earlier run left (see above), then follows the registry: streams
 * online now and later are decided on. The catalog must be open and the rules loaded. */
void         lt_recording_manager_start_async  (LtRecordingManager *self,
                                                GCancellable       *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer            user_data);
gboolean     lt_recording_manager_start_finish (LtRecordingManager *self,
                                                GAsyncResult       *result,
                                                GError            **error);
/* Closes every session's files (no merge window: an orderly exit ends the sessions) and
 * waits, at most @timeout_ms, until every recorder has closed them and reported them; their
 * catalog rows are queued by then (lt_catalog_close() writes them). Blocks, iterating the
 * thread-default main context. Idempotent. */
void         lt_recording_manager_shutdown     (LtRecordingManager *self,
                                                guint               timeout_ms);

/* Callbacks (SPEC 4): file and status callbacks go to @callbacks for the domains @notify
 * has a NotifyUrl for, and OnDemand 1 rules ask the domain's OnDemandUrl. Without them (the
 * default) nothing is sent and OnDemand 1 does not record. Set before start. */
void         lt_recording_manager_set_notify   (LtRecordingManager *self,
                                                LtNotifyStore      *notify,
                                                LtCallbackQueue    *callbacks);

/* A GListModel of LtRecording, in the order they appeared. */
GListModel  *lt_recording_manager_get_recordings (LtRecordingManager *self);
/* The recording of the stream with this lt_stream_make_key() key, or NULL (transfer none). */
LtRecording *lt_recording_manager_lookup       (LtRecordingManager *self,
                                                const char         *key);

/* RealTimeRecordCommand. @duration_s: for START only, 0 = none, else a highlight of that
 * many seconds (1–LT_RECORDING_MAX_HIGHLIGHT_DURATION). Errors: LT_RECORDING_ERROR_*. */
gboolean     lt_recording_manager_command      (LtRecordingManager *self,
                                                const char         *domain,
                                                const char         *app,
                                                const char         *stream,
                                                LtRecordCommand     command,
                                                guint               duration_s,
                                                GError            **error);

/* The number of recovered items of the last start (for tests and the log): files
 * finished; slices catalogued that were missing, the interrupted one of each playlist
 * (cut back to whole TS packets) included. */
void         lt_recording_manager_get_recovery_stats (LtRecordingManager *self,
                                                      guint              *files,
                                                      guint              *slices);

/* For the engine: sessions of a rule whose OssEndpoint names an S3 target record into
 * @sync's spool and are queued for upload (lt-sync-engine.h). Set before start. */
struct _LtSyncEngine;
void         _lt_recording_manager_set_sync_engine (LtRecordingManager   *self,
                                                    struct _LtSyncEngine *sync);

G_END_DECLS
