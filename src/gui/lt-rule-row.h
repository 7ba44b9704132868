/* lt-rule-row.h: one recording rule in the Rules page's list. */
#pragma once

#include <adwaita.h>

#include "lt-rule.h"

G_BEGIN_DECLS

#define LT_TYPE_RULE_ROW (lt_rule_row_get_type ())
G_DECLARE_FINAL_TYPE (LtRuleRow, lt_rule_row, LT, RULE_ROW, AdwActionRow)

GtkWidget *lt_rule_row_new      (LtRule    *rule);
LtRule    *lt_rule_row_get_rule (LtRuleRow *self);

G_END_DECLS
