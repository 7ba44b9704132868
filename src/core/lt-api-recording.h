/* lt-api-recording.h: the recording actions of the control API (SPEC section 3):
 * RealTimeRecordCommand. */
#pragma once

#include "lt-api-server.h"
#include "lt-recording-manager.h"

G_BEGIN_DECLS

void lt_api_recording_register (LtApiServer        *server,
                                LtRecordingManager *manager);

G_END_DECLS
