/* lt-api-rules.h: the recording-rule actions of the control API (SPEC section 2):
 * AddLiveAppRecordConfig, DeleteLiveAppRecordConfig, DescribeLiveRecordConfig. */
#pragma once

#include "lt-api-server.h"
#include "lt-rule-store.h"

G_BEGIN_DECLS

/* Registers the rule actions on @server; they change rules only through @store. */
void lt_api_rules_register (LtApiServer *server,
                            LtRuleStore *store);

G_END_DECLS
