/* lt-api-notify.h: the callback-settings actions of the control API (SPEC section 4):
 * AddLiveRecordNotifyConfig, UpdateLiveRecordNotifyConfig, DeleteLiveRecordNotifyConfig,
 * DescribeLiveRecordNotifyConfig. */
#pragma once

#include "lt-api-server.h"
#include "lt-notify-store.h"

G_BEGIN_DECLS

/* Registers the notify actions on @server; they change settings only through @store. */
void lt_api_notify_register (LtApiServer   *server,
                             LtNotifyStore *store);

G_END_DECLS
