/* lt-rule-tester.h: "which rule applies to domain/app/stream?" on the Rules page. */
#pragma once

#include <adwaita.h>

#include "lt-rule-store.h"

G_BEGIN_DECLS

#define LT_TYPE_RULE_TESTER (lt_rule_tester_get_type ())
G_DECLARE_FINAL_TYPE (LtRuleTester, lt_rule_tester, LT, RULE_TESTER, AdwBin)

GtkWidget   *lt_rule_tester_new            (void);
LtRuleStore *lt_rule_tester_get_rule_store (LtRuleTester *self);
void         lt_rule_tester_set_rule_store (LtRuleTester *self,
                                            LtRuleStore  *store);

G_END_DECLS
