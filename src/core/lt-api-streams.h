/* lt-api-streams.h: the stream actions of the control API (SPEC section 5):
 * DescribeLiveStreamsOnlineList. */
#pragma once

#include "lt-api-server.h"
#include "lt-stream-registry.h"

G_BEGIN_DECLS

/* Registers the stream actions on @server; they read the streams online in @registry. */
void lt_api_streams_register (LtApiServer      *server,
                              LtStreamRegistry *registry);

G_END_DECLS
