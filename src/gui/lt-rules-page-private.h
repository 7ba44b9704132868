/* lt-rules-page-private.h: what the GUI tests reach in the Rules page. */
#pragma once

#include "lt-notify-editor.h"
#include "lt-rule-editor.h"
#include "lt-rule-tester.h"
#include "lt-rules-page.h"

G_BEGIN_DECLS

/* The row showing the rule of this triplet (@stream NULL = "*"), or NULL. */
GtkWidget        *_lt_rules_page_get_row            (LtRulesPage *self,
                                                     const char  *domain,
                                                     const char  *app,
                                                     const char  *stream);
/* Rows currently shown (after the search filter), over all domain groups. */
guint             _lt_rules_page_count_rows         (LtRulesPage *self);
/* The domains that have a visible group, in order (free with g_strfreev). */
char            **_lt_rules_page_dup_domains        (LtRulesPage *self);
/* "empty", "rules", "no-results" or "loading". */
const char       *_lt_rules_page_get_state          (LtRulesPage *self);
/* The editor that is open, or NULL. */
LtRuleEditor     *_lt_rules_page_get_editor         (LtRulesPage *self);
/* The delete confirmation that is open, or NULL. */
AdwMessageDialog *_lt_rules_page_get_delete_dialog  (LtRulesPage *self);
/* The toast offering to undo the last delete, while it exists. */
AdwToast         *_lt_rules_page_get_undo_toast     (LtRulesPage *self);
LtRuleTester     *_lt_rules_page_get_tester         (LtRulesPage *self);
/* The callback settings dialog that is open, or NULL. */
LtNotifyEditor   *_lt_rules_page_get_notify_editor  (LtRulesPage *self);
/* The description under a domain's title (where its callbacks go), or NULL. */
const char       *_lt_rules_page_get_group_description (LtRulesPage *self,
                                                        const char  *domain);
GtkEditable      *_lt_rules_page_get_search_entry   (LtRulesPage *self);

G_END_DECLS
