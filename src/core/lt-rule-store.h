/* lt-rule-store.h: the live set of recording rules, a GListModel of LtRule backed by the
 * catalog. The API and the console both change rules only through this object, so a change
 * made by one is seen by the other at once (items-changed). Sorted by domain, app, stream. */
#pragma once

#include <gio/gio.h>

#include "lt-catalog.h"
#include "lt-rule.h"

G_BEGIN_DECLS

#define LT_TYPE_RULE_STORE (lt_rule_store_get_type ())
G_DECLARE_FINAL_TYPE (LtRuleStore, lt_rule_store, LT, RULE_STORE, GObject)

LtRuleStore *lt_rule_store_new            (LtCatalog     *catalog);
/* Loads the rules from the catalog. */
void         lt_rule_store_load_async     (LtRuleStore   *self,
                                           GCancellable  *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer       user_data);
gboolean     lt_rule_store_load_finish    (LtRuleStore   *self,
                                           GAsyncResult  *result,
                                           GError       **error);
/* Adds @rule; LT_RULE_ERROR_CONFIG_ALREADY_EXISTS if its triplet has a rule. */
void         lt_rule_store_add_async      (LtRuleStore   *self,
                                           LtRule        *rule,
                                           GCancellable  *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer       user_data);
gboolean     lt_rule_store_add_finish     (LtRuleStore   *self,
                                           GAsyncResult  *result,
                                           GError       **error);
/* Replaces the rule of @rule's triplet (keeps its create time);
 * LT_RULE_ERROR_CONFIG_NOT_FOUND when there is none. */
void         lt_rule_store_replace_async  (LtRuleStore   *self,
                                           LtRule        *rule,
                                           GCancellable  *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer       user_data);
gboolean     lt_rule_store_replace_finish (LtRuleStore   *self,
                                           GAsyncResult  *result,
                                           GError       **error);
/* Removes the rule of the triplet (@stream NULL means "*");
 * LT_RULE_ERROR_CONFIG_NOT_FOUND when there is none. */
void         lt_rule_store_remove_async   (LtRuleStore   *self,
                                           const char    *domain,
                                           const char    *app,
                                           const char    *stream,
                                           GCancellable  *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer       user_data);
gboolean     lt_rule_store_remove_finish  (LtRuleStore   *self,
                                           GAsyncResult  *result,
                                           GError       **error);
/* Checked on a worker thread before a rule is added or replaced (e.g. that its bucket
 * exists and is writable); must be thread-safe and fail with an LT_RULE_ERROR. */
typedef gboolean (*LtRuleStoreBucketCheck) (const char  *endpoint,
                                            const char  *bucket,
                                            gpointer     user_data,
                                            GError     **error);

void         lt_rule_store_set_bucket_check (LtRuleStore           *self,
                                             LtRuleStoreBucketCheck check,
                                             gpointer               user_data,
                                             GDestroyNotify         user_data_free);
/* Added (storage targets): the same check done asynchronously on the main context (a
 * test connection to an S3 target). @check starts it and calls @callback with
 * @callback_data; the store then calls @finish on that result, which returns TRUE or fails
 * with an LT_RULE_ERROR. Setting one kind of check replaces the other. */
typedef void     (*LtRuleStoreBucketCheckAsync)  (const char          *endpoint,
                                                  const char          *bucket,
                                                  gpointer             user_data,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             callback_data);
typedef gboolean (*LtRuleStoreBucketCheckFinish) (GAsyncResult        *result,
                                                  gpointer             user_data,
                                                  GError             **error);

void         lt_rule_store_set_bucket_check_async (LtRuleStore                  *self,
                                                   LtRuleStoreBucketCheckAsync   check,
                                                   LtRuleStoreBucketCheckFinish  finish,
                                                   gpointer                      user_data,
                                                   GDestroyNotify                user_data_free);
/* The rule of exactly this triplet, or NULL (transfer none). */
LtRule      *lt_rule_store_lookup         (LtRuleStore   *self,
                                           const char    *domain,
                                           const char    *app,
                                           const char    *stream);
/* lt_rule_match() over the store (transfer none). */
LtRule      *lt_rule_store_match          (LtRuleStore      *self,
                                           const char       *domain,
                                           const char       *app,
                                           const char       *stream,
                                           LtRuleMatchLevel *level);

G_END_DECLS
