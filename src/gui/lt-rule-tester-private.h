/* lt-rule-tester-private.h: what the GUI tests look at in the rule tester. */
#pragma once

#include "lt-rule-tester.h"

G_BEGIN_DECLS

/* @field: "domain", "app" or "stream". */
GtkEditable *_lt_rule_tester_get_entry           (LtRuleTester *self,
                                                  const char   *field);
const char  *_lt_rule_tester_get_result_title    (LtRuleTester *self);
const char  *_lt_rule_tester_get_result_subtitle (LtRuleTester *self);
/* The rule that decides for the entered stream, or NULL (transfer none). */
LtRule      *_lt_rule_tester_get_winner          (LtRuleTester *self);
void         _lt_rule_tester_set_expanded        (LtRuleTester *self,
                                                  gboolean      expanded);

G_END_DECLS
