/* lt-index-files.h: index files (SPEC section 5) — a VOD M3U8 over the catalogued TS slices
 * of one stream in a time range, written to the local storage target, and their records
 * in the catalog's index_files table.
 */
#pragma once

#include <gio/gio.h>

#include "lt-catalog.h"

G_BEGIN_DECLS

#define LT_INDEX_FILES_ERROR (lt_index_files_error_quark ())

typedef enum
{
  LT_INDEX_FILES_ERROR_FAILED,
  LT_INDEX_FILES_ERROR_END_BEFORE_START, /* EndTime ≤ StartTime */
  LT_INDEX_FILES_ERROR_SPAN_TOO_LONG,    /* over LT_INDEX_FILES_MAX_SPAN */
  LT_INDEX_FILES_ERROR_NO_CONTENT,       /* no slice in the range */
  LT_INDEX_FILES_ERROR_NOT_FOUND,        /* no index file with that RecordId */
} LtIndexFilesError;

GQuark lt_index_files_error_quark (void);

#define LT_INDEX_FILES_MAX_SPAN        (4 * 24 * 3600)     /* seconds */
#define LT_INDEX_FILES_DEFAULT_OBJECT  "record/{AppName}/{StreamName}/index/{EscapedStartTime}_{EscapedEndTime}"

/* One slice as the playlist builder needs it (sorted by start_time_us). */
typedef struct
{
  gint64      session_id;
  gint64      start_time_us;
  gint64      duration_us;
  gint64      discontinuity_seq;
  const char *target;         /* the storage target's name; NULL: the local target */
  const char *bucket;
  const char *object_key;
  const char *local_path;
  const char *url;            /* in another target or bucket of S3: the object's URL */
  int         width;          /* 0 when unknown / audio only */
  int         height;
} LtIndexSlice;

/* Checks a requested range (Unix seconds). */
gboolean  lt_index_files_check_range   (gint64               start_time,
                                        gint64               end_time,
                                        GError             **error);

/* Renders the VOD playlist stored as @key in @bucket over the slices of @slices that overlap
 * [@start_us, @end_us) (with @end_included also those starting exactly at @end_us). Slice
 * URIs are relative to @key; slices of another bucket get their url when they have one (an
 * S3 object), else absolute file:// URIs of their local_path (the local target). *@duration_us: the summed duration; *@first_video: index of the first used
 * slice with a picture size, or -1. NO_CONTENT when no slice overlaps. */
char     *lt_index_files_render        (const char          *bucket,
                                        const char          *key,
                                        const LtIndexSlice  *slices,
                                        guint                n_slices,
                                        gint64               start_us,
                                        gint64               end_us,
                                        gboolean             end_included,
                                        gint64              *duration_us,
                                        int                 *first_video,
                                        GError             **error);

typedef struct
{
  char     *record_id;
  char     *domain;
  char     *app;
  char     *stream;
  gint64    start_time_us;
  gint64    end_time_us;
  gint64    duration_us;
  int       width;           /* 0 when unknown */
  int       height;
  gint64    create_time;     /* Unix seconds */
  char     *endpoint;        /* the target: "local" */
  char     *bucket;
  char     *object_key;
  char     *local_path;
  char     *url;             /* file:// URI of local_path */
} LtIndexFile;

void      lt_index_file_free           (LtIndexFile         *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtIndexFile, lt_index_file_free)

typedef struct
{
  const char *domain;
  const char *app;
  const char *stream;
  gint64      start_time;        /* Unix seconds */
  gint64      end_time;
  gboolean    end_time_included;
  const char *endpoint;
  const char *bucket;
  const char *object_template;   /* NULL or "": LT_INDEX_FILES_DEFAULT_OBJECT */
} LtIndexFileRequest;

/* Reads the slices, renders, writes the playlist atomically under @local_root and adds the
 * index_files row: all in one catalog job. Bucket errors are LT_RULE_ERROR (InvalidOssBucket.*),
 * template errors LT_TEMPLATE_ERROR. */
void         lt_index_files_create_async  (LtCatalog                *catalog,
                                           const char               *local_root,
                                           const LtIndexFileRequest *request,
                                           GCancellable             *cancellable,
                                           GAsyncReadyCallback       callback,
                                           gpointer                  user_data);
LtIndexFile *lt_index_files_create_finish (LtCatalog                *catalog,
                                           GAsyncResult             *result,
                                           GError                  **error);

/* NOT_FOUND when the stream has no index file @record_id. */
void         lt_index_files_lookup_async  (LtCatalog           *catalog,
                                           const char          *domain,
                                           const char          *app,
                                           const char          *stream,
                                           const char          *record_id,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
LtIndexFile *lt_index_files_lookup_finish (LtCatalog           *catalog,
                                           GAsyncResult        *result,
                                           GError             **error);

/* The stream's index files whose range overlaps [@start_time, @end_time) (Unix seconds),
 * ordered by start time (then RecordId), page @page_num (1-based) of @page_size.
 * Result: GPtrArray of LtIndexFile; *@total_num the number of all matches. */
void         lt_index_files_list_async    (LtCatalog           *catalog,
                                           const char          *domain,
                                           const char          *app,
                                           const char          *stream,
                                           gint64               start_time,
                                           gint64               end_time,
                                           gboolean             descending,
                                           guint                page_num,
                                           guint                page_size,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
GPtrArray   *lt_index_files_list_finish   (LtCatalog           *catalog,
                                           GAsyncResult        *result,
                                           guint64             *total_num,
                                           GError             **error);

/* For the engine: index files whose OssEndpoint names an S3 target of @sync are written
 * to its spool and queued for upload, in the job that records them. Per catalog; set
 * before the control API serves (lt-sync-engine.h). */
struct _LtSyncEngine;
void         _lt_index_files_set_sync_engine (LtCatalog            *catalog,
                                              struct _LtSyncEngine *sync);

G_END_DECLS
