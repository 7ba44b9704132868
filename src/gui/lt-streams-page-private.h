/* lt-streams-page-private.h: what the GUI tests reach in the Streams page beyond
 * lt-streams-page.h: the details pane, the pull sources and their editor. */
#pragma once

#include "lt-stream-details.h"
#include "lt-stream-row.h"
#include "lt-stream-source-editor.h"
#include "lt-streams-page.h"

G_BEGIN_DECLS

LtStreamDetails      *_lt_streams_page_get_details       (LtStreamsPage *self);
GtkListBox           *_lt_streams_page_get_sources_list  (LtStreamsPage *self);
/* The on/off switch of the pull source at @index of the list, or NULL. */
GtkSwitch            *_lt_streams_page_get_source_switch (LtStreamsPage *self,
                                                          int            index);
/* The pull-source editor that is open, or NULL. */
LtStreamSourceEditor *_lt_streams_page_get_source_editor (LtStreamsPage *self);
/* The stream list's row of this lt_stream_make_key() key, or NULL. */
GtkWidget            *_lt_streams_page_get_row           (LtStreamsPage *self,
                                                          const char    *key);
gboolean              _lt_streams_page_get_folded        (LtStreamsPage *self);

G_END_DECLS
