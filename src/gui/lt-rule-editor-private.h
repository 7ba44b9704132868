/* lt-rule-editor-private.h: what the GUI tests reach in the rule editor.
 *
 * Fields are named like the API's parameters: "DomainName", "AppName", "StreamName",
 * "OssEndpoint", "OssBucket", "DelayTime", "StartTime", "EndTime", and per format
 * "m3u8.CycleDuration", "m3u8.SliceDuration", "m3u8.OssObjectPrefix",
 * "m3u8.SliceOssObjectPrefix" (likewise mp4, flv, cmaf). */
#pragma once

#include "lt-rule-editor.h"

G_BEGIN_DECLS

GtkEditable    *_lt_rule_editor_get_editable      (LtRuleEditor       *self,
                                                   const char         *field);
/* The row that shows the field's error style. */
GtkWidget      *_lt_rule_editor_get_row           (LtRuleEditor       *self,
                                                   const char         *field);
/* The validation message shown for the field, or NULL. */
const char     *_lt_rule_editor_get_field_error   (LtRuleEditor       *self,
                                                   const char         *field);
/* The label under the field's group that shows its message. */
GtkLabel       *_lt_rule_editor_get_error_label   (LtRuleEditor       *self,
                                                   const char         *field);
/* A message not tied to one field (e.g. a store error), or NULL. */
const char     *_lt_rule_editor_get_general_error (LtRuleEditor       *self);
AdwExpanderRow *_lt_rule_editor_get_format_row    (LtRuleEditor       *self,
                                                   LtRecordFormatKind  kind);
/* Whether the format's row shows that one of its fields has an error. */
gboolean        _lt_rule_editor_format_has_error  (LtRuleEditor       *self,
                                                   LtRecordFormatKind  kind);
AdwComboRow    *_lt_rule_editor_get_on_demand_row (LtRuleEditor       *self);
GtkWidget      *_lt_rule_editor_get_save_button   (LtRuleEditor       *self);
GtkWidget      *_lt_rule_editor_get_window_group  (LtRuleEditor       *self);
gboolean        _lt_rule_editor_is_valid          (LtRuleEditor       *self);

G_END_DECLS
