/* lt-timeline-page.h: the Timeline page (SPEC section 8, issue 5) — pick a stream that was
 * recorded, see what was recorded when on a zoomable time axis (LtTimelineView over an
 * LtTimelineModel), select a range, then make an index file of it ("Create M3U8", played
 * in the app) or export it as one MP4 file; and the stream's index files, each playable,
 * copyable and revealable in the file manager. */
#pragma once

#include <adwaita.h>

#include "lt-engine.h"
#include "lt-timeline-model.h"

G_BEGIN_DECLS

#define LT_TYPE_TIMELINE_PAGE (lt_timeline_page_get_type ())
G_DECLARE_FINAL_TYPE (LtTimelinePage, lt_timeline_page, LT, TIMELINE_PAGE, AdwBin)

GtkWidget *lt_timeline_page_new        (void);
/* Shows @engine's recordings; call once it has started. */
void       lt_timeline_page_set_engine (LtTimelinePage *self,
                                        LtEngine       *engine);

/* For tests. ------------------------------------------------------------------------ */

/* "loading" (streams not listed yet), "empty" (nothing recorded) or "ready". */
const char      *_lt_timeline_page_get_state          (LtTimelinePage *self);
/* The number of streams offered, and picking one ("domain/app/stream"); FALSE when the
 * stream is not offered. */
guint            _lt_timeline_page_get_n_streams      (LtTimelinePage *self);
gboolean         _lt_timeline_page_select_stream      (LtTimelinePage *self,
                                                       const char     *key);
LtTimelineModel *_lt_timeline_page_get_model          (LtTimelinePage *self);
GtkWidget       *_lt_timeline_page_get_view           (LtTimelinePage *self);
/* Whether the page polls the coverage (the stream records and the page is shown). */
gboolean         _lt_timeline_page_is_polling         (LtTimelinePage *self);
/* Whether a load (coverage, slices, the index files) is pending or running. */
gboolean         _lt_timeline_page_is_loading         (LtTimelinePage *self);
/* The visible span as the toolbar says it. */
const char      *_lt_timeline_page_get_span_text      (LtTimelinePage *self);
/* What the selection box says ("start – end (duration)"), or NULL without a selection. */
char            *_lt_timeline_page_dup_selection_text (LtTimelinePage *self);
/* Clicks "Create M3U8"; then wait for _lt_timeline_page_is_creating() to go FALSE. */
void             _lt_timeline_page_create_m3u8        (LtTimelinePage *self);
gboolean         _lt_timeline_page_is_creating        (LtTimelinePage *self);
/* The last index file created here (or NULL), the URL shown for it, the error shown (or
 * NULL). */
const LtIndexFile *_lt_timeline_page_get_created      (LtTimelinePage *self);
const char      *_lt_timeline_page_get_url_text       (LtTimelinePage *self);
const char      *_lt_timeline_page_get_error_text     (LtTimelinePage *self);
/* Plays the last index file created (the result's Play button). */
void             _lt_timeline_page_play_created       (LtTimelinePage *self);
/* The GtkVideo of the open player window, or NULL. */
GtkWidget       *_lt_timeline_page_get_video          (LtTimelinePage *self);
/* Exports the selection to @file as the save dialog would; then wait for
 * _lt_timeline_page_is_exporting() to go FALSE. */
void             _lt_timeline_page_export_to          (LtTimelinePage *self,
                                                       GFile          *file);
gboolean         _lt_timeline_page_is_exporting       (LtTimelinePage *self);
/* The highest progress the bar showed during the last export, and whether it ended well. */
double           _lt_timeline_page_get_export_progress (LtTimelinePage *self);
gboolean         _lt_timeline_page_get_export_done    (LtTimelinePage *self);
/* The rows of the index file list. */
guint            _lt_timeline_page_count_index_rows   (LtTimelinePage *self);
/* The index file list's row @i (or NULL), and its "play", "copy" or "reveal" button. */
GtkWidget       *_lt_timeline_page_get_index_row      (LtTimelinePage *self,
                                                       guint           i);
GtkWidget       *_lt_timeline_page_get_row_button     (GtkWidget      *row,
                                                       const char     *which);

G_END_DECLS
