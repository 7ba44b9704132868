/* lt-rule.h: a recording rule (SPEC section 2) — its parameters, validation and matching.
 *
 * A rule is immutable once built: the editor and the API both build one from a
 * parameter table in the cloud's RPC form ("RecordFormat.1.Format" = "m3u8", …), so
 * validation, error codes and messages are identical everywhere.
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define LT_RULE_ERROR (lt_rule_error_quark ())

/* One code per cloud error code of SPEC section 2 (plus NOT_FOUND for delete and
 * INVALID_PARAMETER for values the spec does not give a code of their own, e.g. OnDemand=3). */
typedef enum
{
  LT_RULE_ERROR_FAILED,
  LT_RULE_ERROR_MISSING_PARAMETER,                      /* MissingParameter */
  LT_RULE_ERROR_INVALID_PARAMETER,                      /* InvalidParameter */
  LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED,         /* InvalidOssEndpoint.Malformed */
  LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED,           /* InvalidOssBucket.Malformed */
  LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND,           /* InvalidOssBucket.NotFound */
  LT_RULE_ERROR_INVALID_FORMAT_MALFORMED,               /* InvalidFormat.Malformed */
  LT_RULE_ERROR_INVALID_FORMAT_ILLEGAL_OPERATION,       /* InvalidFormat.IllegalOperation */
  LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED,       /* InvalidCycleDuration.Malformed */
  LT_RULE_ERROR_INVALID_SLICE_DURATION_MALFORMED,       /* InvalidSliceDuration.Malformed */
  LT_RULE_ERROR_MISSING_OSS_OBJECT_PREFIX,              /* MissingOssObjectPrefix */
  LT_RULE_ERROR_MISSING_SLICE_OSS_OBJECT_PREFIX,        /* MissingSliceOssObjectPrefix */
  LT_RULE_ERROR_INVALID_OSS_OBJECT_PREFIX_MALFORMED,    /* InvalidOssObjectPrefix.Malformed */
  LT_RULE_ERROR_INVALID_SLICE_OSS_OBJECT_PREFIX_MALFORMED, /* InvalidSliceOssObjectPrefix.Malformed */
  LT_RULE_ERROR_CONFIG_ALREADY_EXISTS,                  /* ConfigAlreadyExists */
  LT_RULE_ERROR_CONFIG_NOT_FOUND,                       /* InvalidConfig.NotFound (404) */
  LT_RULE_ERROR_INVALID_DELAY_TIME,                     /* InvalidDelayTime */
  LT_RULE_ERROR_INVALID_START_TIME_MALFORMED,           /* InvalidStartTime.Malformed */
  LT_RULE_ERROR_INVALID_END_TIME_MALFORMED,             /* InvalidEndTime.Malformed */
  LT_RULE_ERROR_INVALID_START_TIME_MISMATCH,            /* InvalidStartTime.Mismatch */
  LT_RULE_ERROR_INVALID_END_TIME_MISMATCH,              /* InvalidEndTime.Mismatch */
} LtRuleError;

GQuark       lt_rule_error_quark       (void);
/* The cloud's code string ("InvalidFormat.Malformed") and HTTP status (400, 404) of @code. */
const char  *lt_rule_error_code_name   (LtRuleError code);
guint        lt_rule_error_http_status (LtRuleError code);

typedef enum
{
  LT_RECORD_FORMAT_M3U8,
  LT_RECORD_FORMAT_MP4,
  LT_RECORD_FORMAT_FLV,
  LT_RECORD_FORMAT_CMAF,
} LtRecordFormatKind;

#define LT_RECORD_FORMAT_KIND_COUNT 4

/* "m3u8", "mp4", "flv", "cmaf"; parse is case-insensitive, returns FALSE for anything else. */
const char  *lt_record_format_kind_to_string   (LtRecordFormatKind kind);
gboolean     lt_record_format_kind_from_string (const char         *str,
                                                LtRecordFormatKind *kind);
/* Whether the format is sliced (m3u8, cmaf): has SliceDuration and SliceOssObjectPrefix. */
gboolean     lt_record_format_kind_is_sliced   (LtRecordFormatKind kind);

typedef struct
{
  LtRecordFormatKind kind;
  guint              cycle_duration;      /* seconds, 60–21600 */
  guint              slice_duration;      /* seconds, 5–30; 0 for mp4/flv */
  char              *object_prefix;       /* never NULL once validated (default filled in) */
  char              *slice_object_prefix; /* NULL for mp4/flv */
} LtRecordFormat;

#define LT_TYPE_RECORD_FORMAT (lt_record_format_get_type ())
GType           lt_record_format_get_type (void) G_GNUC_CONST;
LtRecordFormat *lt_record_format_copy     (const LtRecordFormat *format);
void            lt_record_format_free     (LtRecordFormat       *format);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtRecordFormat, lt_record_format_free)

typedef enum
{
  LT_ON_DEMAND_AUTOMATIC = 0,
  LT_ON_DEMAND_URL       = 1,
  LT_ON_DEMAND_PUSH_ARG  = 2,
  LT_ON_DEMAND_MANUAL    = 7,
} LtOnDemand;

/* Spec ranges, shared by validation, the editor's spin buttons and tests. */
#define LT_RULE_CYCLE_MIN               60
#define LT_RULE_CYCLE_MAX               21600
#define LT_RULE_CYCLE_DEFAULT_SLICED    21600
#define LT_RULE_CYCLE_DEFAULT_FILE      3600
#define LT_RULE_SLICE_MIN               5
#define LT_RULE_SLICE_MAX               30
#define LT_RULE_SLICE_DEFAULT           30
#define LT_RULE_DELAY_MIN               15
#define LT_RULE_DELAY_MAX               21600
#define LT_RULE_DELAY_DEFAULT           180
#define LT_RULE_PREFIX_MAX_BYTES        255
#define LT_RULE_WINDOW_MAX_SECONDS      (7 * 24 * 3600)
#define LT_RULE_START_AHEAD_MAX_SECONDS (15 * 24 * 3600)
#define LT_RULE_DEFAULT_OBJECT_PREFIX \
  "record/{AppName}/{StreamName}/{Sequence}_{EscapedStartTime}_{EscapedEndTime}"
#define LT_RULE_DEFAULT_SLICE_OBJECT_PREFIX \
  "record/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}"

#define LT_TYPE_RULE (lt_rule_get_type ())
G_DECLARE_FINAL_TYPE (LtRule, lt_rule, LT, RULE, GObject)

/* Builds and validates a rule from AddLiveAppRecordConfig parameters (string → string,
 * repeated parameters as "RecordFormat.N.Field", N from 1). @now is the wall clock for the
 * StartTime/EndTime checks. On failure sets an LT_RULE_ERROR whose message is the
 * translated, human-readable reason (naming the offending parameter). */
LtRule      *lt_rule_new_from_params     (GHashTable  *params,
                                          GDateTime   *now,
                                          GError     **error);
/* Serialisation for the catalog: the full rule, round-trips exactly. */
JsonNode    *lt_rule_to_json             (LtRule      *self);
LtRule      *lt_rule_new_from_json       (JsonNode    *node,
                                          GError     **error);
/* The parameters the rule would be created from (for the editor and tests). */
GHashTable  *lt_rule_to_params           (LtRule      *self);

const char  *lt_rule_get_domain_name     (LtRule *self);
const char  *lt_rule_get_app_name        (LtRule *self);   /* "*" for every app */
const char  *lt_rule_get_stream_name     (LtRule *self);   /* "*" when absent */
const char  *lt_rule_get_oss_endpoint    (LtRule *self);
const char  *lt_rule_get_oss_bucket      (LtRule *self);
LtOnDemand   lt_rule_get_on_demand       (LtRule *self);
guint        lt_rule_get_delay_time      (LtRule *self);
/* Unix seconds, 0 when the rule has no window. */
gint64       lt_rule_get_start_time      (LtRule *self);
gint64       lt_rule_get_end_time        (LtRule *self);
gint64       lt_rule_get_create_time     (LtRule *self);   /* Unix seconds */
void         lt_rule_set_create_time     (LtRule *self,
                                          gint64  create_time);
/* Array of LtRecordFormat, owned by the rule; empty = exclusion rule ("do not record"). */
GPtrArray   *lt_rule_get_formats         (LtRule *self);
const LtRecordFormat *lt_rule_get_format (LtRule             *self,
                                          LtRecordFormatKind  kind);
const char * const *lt_rule_get_transcode_templates (LtRule *self);
GPtrArray   *lt_rule_get_transcode_formats (LtRule *self);

gboolean     lt_rule_is_exclusion        (LtRule *self);
/* TRUE when the rule has no window or @now_unix lies in [start, end). */
gboolean     lt_rule_is_active_at        (LtRule *self,
                                          gint64  now_unix);
/* TRUE when both rules are for the same (domain, app, stream) triplet. */
gboolean     lt_rule_same_triplet        (LtRule *self,
                                          LtRule *other);

typedef enum
{
  LT_RULE_MATCH_NONE,
  LT_RULE_MATCH_STREAM,   /* domain + app + stream, neither "*" */
  LT_RULE_MATCH_APP,      /* domain + app, stream "*" */
  LT_RULE_MATCH_DOMAIN,   /* domain, app "*" */
} LtRuleMatchLevel;

/* The rule of highest priority (SPEC section 2) among @rules (a GListModel of LtRule) for
 * the stream, or NULL. Pure: no time window or exclusion is applied here, the caller
 * decides what an exclusion or a closed window means. @level may be NULL. */
LtRule      *lt_rule_match               (GListModel       *rules,
                                          const char       *domain,
                                          const char       *app,
                                          const char       *stream,
                                          LtRuleMatchLevel *level);
/* A translated sentence explaining why @rule won (or why nothing matched). */
char        *lt_rule_match_explain       (LtRule           *rule,
                                          LtRuleMatchLevel  level,
                                          const char       *domain,
                                          const char       *app,
                                          const char       *stream);

G_END_DECLS
