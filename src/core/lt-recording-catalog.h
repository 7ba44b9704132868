/* lt-recording-catalog.h: the recording manager's catalog jobs — sessions, their pauses,
 * recording files, slices and {Sequence} counters — and the recovery of what a crash left.
 * Private to lt-recording-manager.c. Every call queues a job on the catalog's worker; jobs
 * run in the order they were queued, so a slice's row always follows its playlist's. */
#pragma once

#include "lt-catalog.h"
#include "lt-recorder.h"
#include "lt-rule.h"

G_BEGIN_DECLS

/* The catalog identity of one session, shared by its jobs. The begin job fills in the ids
 * on the worker; later jobs read them there (the queue orders them), the main thread only
 * after the begin job completed. */
typedef struct _LtSessionRow LtSessionRow;

LtSessionRow *_lt_session_row_new   (const char   *domain,
                                     const char   *app,
                                     const char   *stream,
                                     LtRule       *rule,
                                     const char   *target,
                                     const char   *bucket);
LtSessionRow *_lt_session_row_ref   (LtSessionRow *row);
void          _lt_session_row_unref (LtSessionRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtSessionRow, _lt_session_row_unref)
/* 0 until the begin job ran. */
gint64        _lt_session_row_get_id (LtSessionRow *row);

/* Each reports failures itself (a message in the log and the catalog's events) and calls
 * @done (may be NULL) on the main context when the job finished, with or without error. */
typedef void (*LtRecordingJobDone) (gpointer user_data);

void _lt_recording_catalog_begin        (LtCatalog              *catalog,
                                         LtSessionRow           *row,
                                         const char             *trigger,
                                         GHashTable             *push_args,
                                         gint64                  started_at_us,
                                         LtRecordingJobDone      done,
                                         gpointer                user_data);
void _lt_recording_catalog_file_opened  (LtCatalog              *catalog,
                                         LtSessionRow           *row,
                                         const LtRecordingFile  *file);
void _lt_recording_catalog_slice_closed (LtCatalog              *catalog,
                                         LtSessionRow           *row,
                                         const LtRecordingSlice *slice);
void _lt_recording_catalog_file_closed  (LtCatalog              *catalog,
                                         LtSessionRow           *row,
                                         const LtRecordingFile  *file);
/* @reason: "offline", "manual_stop", "disk_full", "error". */
void _lt_recording_catalog_paused       (LtCatalog              *catalog,
                                         LtSessionRow           *row,
                                         gint64                  at_us,
                                         const char             *reason);
void _lt_recording_catalog_resumed      (LtCatalog              *catalog,
                                         LtSessionRow           *row,
                                         gint64                  at_us);
/* @failed: state 'failed' instead of 'ended'. @reason: "merge_window_expired",
 * "cancel_delay", "highlight_end", "schedule_end", "shutdown", or an error reason. */
void _lt_recording_catalog_ended        (LtCatalog              *catalog,
                                         LtSessionRow           *row,
                                         gint64                  at_us,
                                         gboolean                failed,
                                         const char             *reason,
                                         LtRecordingJobDone      done,
                                         gpointer                user_data);

/* The {Sequence} counters: a hash table of lt_recording_sequence_key() → gint64 next. */
char       *_lt_recording_sequence_key   (const char  *rule_domain,
                                          const char  *rule_app,
                                          const char  *rule_stream,
                                          const char  *format);
GHashTable *_lt_recording_catalog_load_sequences (sqlite3  *db,
                                                  GError  **error);

typedef struct
{
  guint files;       /* open files finished (repaired, renamed, ENDLIST written) */
  guint slices;      /* slices that were on disk and in a playlist but not in the catalog */
  guint lost_files;  /* open files that could not be found on disk */
  guint empty_files; /* open files with nothing recorded in them, removed */
  guint torn_slices; /* slices being written at the crash, cut to whole packets, added */
  guint sessions;    /* sessions that were still open */
} LtRecoveryStats;

/* Worker-thread job: recovers every open file and session. Returns LtRecoveryStats. */
gpointer    _lt_recording_catalog_recover_job (sqlite3  *db,
                                               gpointer  data,
                                               GError  **error);

G_END_DECLS
