/* lt-stream-row.h: one row of the Streams page's stream list — a stream identity that is
 * online or still has a recording session: its codecs, picture and bitrate while online,
 * and a badge with its recording state (with the merge-window countdown while paused). */
#pragma once

#include <adwaita.h>

#include "lt-engine.h"

G_BEGIN_DECLS

#define LT_TYPE_STREAM_ROW (lt_stream_row_get_type ())
G_DECLARE_FINAL_TYPE (LtStreamRow, lt_stream_row, LT, STREAM_ROW, AdwActionRow)

/* @key: lt_stream_make_key() of the identity; the row follows the engine's stream
 * registry and recording manager for it. */
GtkWidget  *lt_stream_row_new       (LtEngine    *engine,
                                     const char  *key);
const char *lt_stream_row_get_key   (LtStreamRow *self);
/* The badge's text ("Recording", "Paused · 2:41", …), for tests. */
const char *lt_stream_row_get_badge (LtStreamRow *self);

G_END_DECLS
