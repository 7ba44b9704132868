/* lt-rule-editor.h: the dialog that adds or edits one recording rule. */
#pragma once

#include <adwaita.h>

#include "lt-rule-store.h"

G_BEGIN_DECLS

#define LT_TYPE_RULE_EDITOR (lt_rule_editor_get_type ())
G_DECLARE_FINAL_TYPE (LtRuleEditor, lt_rule_editor, LT, RULE_EDITOR, AdwWindow)

/* @rule: the rule to edit, or NULL for a new one; @domain: prefills a new rule's domain
 * (may be NULL). */
LtRuleEditor *lt_rule_editor_new        (LtRuleStore  *store,
                                         LtRule       *rule,
                                         const char   *domain);
/* The rule being edited, or NULL for a new rule. */
LtRule       *lt_rule_editor_get_rule   (LtRuleEditor *self);

G_END_DECLS
