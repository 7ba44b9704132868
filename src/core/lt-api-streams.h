/* lt-api-streams.h: the stream actions of the control API (SPEC section 5):
 * DescribeLiveStreamsOnlineList. */
#pragma once

#include "lt-api-server.h"
#include "lt-recording-manager.h"
#include "lt-stream-registry.h"

G_BEGIN_DECLS

/* Registers the stream actions on @server; they read the streams online in @registry and
 * their recording state in @recordings (may be NULL: then nothing records). */
void lt_api_streams_register (LtApiServer        *server,
                              LtStreamRegistry   *registry,
                              LtRecordingManager *recordings);

G_END_DECLS
