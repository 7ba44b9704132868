/* lt-api-timeline.h: the timeline actions of the control API (SPEC section 5):
 * DescribeLiveStreamRecordContent and DescribeLiveDomainRecordData. */
#pragma once

#include "lt-api-server.h"
#include "lt-catalog.h"

G_BEGIN_DECLS

/* Registers the timeline actions on @server; they query @catalog. */
void lt_api_timeline_register (LtApiServer *server,
                               LtCatalog   *catalog);

G_END_DECLS
