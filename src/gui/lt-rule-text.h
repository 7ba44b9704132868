/* lt-rule-text.h: how the console words a rule — its target, formats, on-demand mode and
 * window — so that the rows, the tester and the editor say the same thing. */
#pragma once

#include <glib.h>

#include "lt-rule.h"

G_BEGIN_DECLS

/* "30 s", "5 min", "6 h", "1 h 30 min". */
char       *lt_rule_text_duration     (guint       seconds);
/* "M3U8 · 30 s slices · 6 h cycles, MP4 · 1 h cycles"; "" for an exclusion rule. */
char       *lt_rule_text_formats      (LtRule     *rule);
/* "M3U8", "MP4", "FLV", "CMAF". */
const char *lt_rule_text_format_name  (LtRecordFormatKind kind);
/* "Automatic", "On-demand URL", "Publish parameter", "Manual only". */
const char *lt_rule_text_on_demand    (LtOnDemand  on_demand);
/* The rule's app/stream as a row title: "All apps", "live, all streams", "live/room1". */
char       *lt_rule_text_target       (LtRule     *rule);
/* The full triplet as the API writes it: "example.com/live/room1". */
char       *lt_rule_text_triplet      (LtRule     *rule);
/* "Window 2026-05-01 20:00 – 22:00 UTC", or "Window ended …"; NULL without a window. */
char       *lt_rule_text_window       (LtRule     *rule,
                                       gint64      now_unix);

G_END_DECLS
