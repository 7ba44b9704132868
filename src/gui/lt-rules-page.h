/* lt-rules-page.h: the Rules page — the recording rules grouped by domain, their editor
 * and the rule tester. */
#pragma once

#include <adwaita.h>

#include "lt-callback-queue.h"
#include "lt-notify-store.h"
#include "lt-rule-store.h"

G_BEGIN_DECLS

#define LT_TYPE_RULES_PAGE (lt_rules_page_get_type ())
G_DECLARE_FINAL_TYPE (LtRulesPage, lt_rules_page, LT, RULES_PAGE, AdwBin)

GtkWidget   *lt_rules_page_new                 (void);
LtRuleStore *lt_rules_page_get_rule_store      (LtRulesPage *self);
void         lt_rules_page_set_rule_store      (LtRulesPage *self,
                                                LtRuleStore *store);
/* The domains' callback settings, edited beside their rules, and the queue that sends the
 * editor's test callback. */
void         lt_rules_page_set_callbacks       (LtRulesPage     *self,
                                                LtNotifyStore   *notify_store,
                                                LtCallbackQueue *callback_queue);
/* The domain a new rule starts with (the "default-domain" setting). */
void         lt_rules_page_set_default_domain  (LtRulesPage *self,
                                                const char  *domain);

G_END_DECLS
