/* lt-on-demand.h: the on-demand decision of OnDemand 1 rules (SPEC section 4).
 *
 * GET OnDemandUrl?app=…&domain=…&stream=…&vbitrate=…&codec=… (vbitrate in kbit/s, codec
 * h264/h265; parameters percent-encoded, appended with & when the URL has a query). The
 * reply: {"ApiVersion":"1.0","NeedRecord":true,"Interval":{"Mp4":300,"Flv":120,
 * "M3U8":180},"Format":["mp4","flv"]}. NeedRecord is required; Interval (5–21600 s, keys
 * case-insensitive) replaces CycleDuration per format; Format is intersected with the
 * rule's formats. Not recorded: no OnDemandUrl, a non-200 status, a timeout (5 s for the
 * whole exchange), malformed JSON, a missing or false NeedRecord, an empty intersection,
 * an Interval out of range. At most 2048 bytes of the reply are read (a longer reply is
 * malformed). Requests go through lt-outbound.h (http/https only, no redirects, no
 * link-local or metadata addresses). */
#pragma once

#include <libsoup/soup.h>

#include "lt-rule.h"

G_BEGIN_DECLS

#define LT_ON_DEMAND_REPLY_MAX_BYTES 2048
#define LT_ON_DEMAND_TIMEOUT_MS      5000

typedef struct
{
  gboolean   need_record;
  GPtrArray *formats;      /* LtRecordFormat: the rule's, intersected, Interval applied;
                            * empty when not recording */
  char      *reason;       /* why not (translated, for the console and the log), or NULL */
  char      *reason_code;  /* "OnDemandRefused", "OnDemandTimeout", "OnDemandHttpStatus",
                            * "OnDemandMalformed", "OnDemandNoUrl", "OnDemandNoFormat",
                            * "OnDemandUnreachable"; NULL when recording */
  guint      http_status;  /* 0 when no reply came */
} LtOnDemandDecision;

void lt_on_demand_decision_free (LtOnDemandDecision *decision);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LtOnDemandDecision, lt_on_demand_decision_free)

/* Asks @on_demand_url (NULL: the decision is "no OnDemandUrl"). @session: an
 * lt_outbound_session_new() session shared by the caller. Never fails: every problem is a
 * decision not to record, with its reason. */
void                lt_on_demand_query_async  (SoupSession         *session,
                                               const char          *on_demand_url,
                                               const char          *domain,
                                               const char          *app,
                                               const char          *stream,
                                               guint                vbitrate_kbps,
                                               const char          *codec,
                                               GPtrArray           *rule_formats,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
LtOnDemandDecision *lt_on_demand_query_finish (GAsyncResult        *result);

/* The decision for a reply already read (@status, @body of at most 2048 bytes,
 * @truncated when there was more), for tests and the query. */
LtOnDemandDecision *lt_on_demand_decide       (guint                status,
                                               const char          *body,
                                               gsize                length,
                                               gboolean             truncated,
                                               GPtrArray           *rule_formats);

G_END_DECLS
