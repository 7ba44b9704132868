/* lt-stream-details.h: the Streams page's details pane for the selected stream — a live
 * preview, the recording state of each format with its file, the Start / Stop / Restart /
 * Cancel delay commands, and what is known about the stream. */
#pragma once

#include <adwaita.h>

#include "lt-engine.h"
#include "lt-stream-preview.h"

G_BEGIN_DECLS

#define LT_TYPE_STREAM_DETAILS (lt_stream_details_get_type ())
G_DECLARE_FINAL_TYPE (LtStreamDetails, lt_stream_details, LT, STREAM_DETAILS, AdwBin)

GtkWidget  *lt_stream_details_new            (void);
void        lt_stream_details_set_engine     (LtStreamDetails *self,
                                              LtEngine        *engine);
/* The identity shown (lt_stream_make_key()), or NULL for none. */
void        lt_stream_details_set_key        (LtStreamDetails *self,
                                              const char      *key);
const char *lt_stream_details_get_key        (LtStreamDetails *self);
/* Whether the pane shows a button back to the list (when the page is folded). */
void        lt_stream_details_set_show_back  (LtStreamDetails *self,
                                              gboolean         show_back);

/* For tests: what the pane shows. */
LtStreamPreview *_lt_stream_details_get_preview       (LtStreamDetails *self);
const char      *_lt_stream_details_get_state_title   (LtStreamDetails *self);
const char      *_lt_stream_details_get_state_text    (LtStreamDetails *self);
/* The subtitle of @format's row ("m3u8", …), or NULL when there is no such row. */
const char      *_lt_stream_details_get_format_text   (LtStreamDetails *self,
                                                       const char      *format);
/* The message of the last command that failed (also shown as a toast), or NULL. */
const char      *_lt_stream_details_get_last_error    (LtStreamDetails *self);
/* "start", "stop", "restart" or "cancel-delay". */
GtkWidget       *_lt_stream_details_get_button        (LtStreamDetails *self,
                                                       const char      *command);

G_END_DECLS
