/* lt-streams-page.h: the Streams page — the ingest server's state and the address to
 * publish to, the demo stream switch, and the streams online now. */
#pragma once

#include <adwaita.h>

#include "lt-engine.h"

G_BEGIN_DECLS

#define LT_TYPE_STREAMS_PAGE (lt_streams_page_get_type ())
G_DECLARE_FINAL_TYPE (LtStreamsPage, lt_streams_page, LT, STREAMS_PAGE, AdwBin)

GtkWidget *lt_streams_page_new        (void);
/* Shows @engine's ingest; call once it has started. */
void       lt_streams_page_set_engine (LtStreamsPage *self,
                                       LtEngine      *engine);

/* For tests: what the page shows. */
const char *_lt_streams_page_get_ingest_status (LtStreamsPage *self);
const char *_lt_streams_page_get_server_url    (LtStreamsPage *self);
GtkWidget  *_lt_streams_page_get_demo_switch   (LtStreamsPage *self);
GtkWidget  *_lt_streams_page_get_copy_button   (LtStreamsPage *self);
GtkListBox *_lt_streams_page_get_list          (LtStreamsPage *self);

G_END_DECLS
