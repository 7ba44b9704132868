/* lt-rules-page.c: the Rules page — a view over the rule store.
 *
 * Rules are grouped by domain: one boxed list per domain, each bound to a filter model
 * over the store (GTK 4.8 has no list sections). The store is sorted by domain, so the
 * groups are rebuilt in order from one pass over it when it changes, and each group's
 * filter model follows the store by itself; a change made through the API therefore
 * shows at once. The page also owns the editor dialog, the delete confirmation and the
 * rule tester. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "lt-notify-editor.h"
#include "lt-rule-editor.h"
#include "lt-rule-row.h"
#include "lt-rule-tester.h"
#include "lt-rule-text.h"
#include "lt-rules-page-private.h"

typedef struct
{
  LtRulesPage        *page;     /* unowned: the page owns the group */
  char               *domain;
  GtkWidget          *group;    /* AdwPreferencesGroup, a child of groups_box */
  GtkListBox         *list;
  GtkCustomFilter    *filter;
  GtkFilterListModel *model;
} DomainGroup;

struct _LtRulesPage
{
  AdwBin            parent_instance;

  LtRuleStore      *store;
  LtNotifyStore    *notify_store;    /* the domains' callback settings */
  LtCallbackQueue  *callback_queue;  /* for the editor's test callback */
  GHashTable       *groups;          /* domain → DomainGroup */
  char             *search_text;     /* casefolded, NULL when not searching */
  char             *default_domain;
  GCancellable     *cancellable;
  LtRuleEditor     *editor;          /* weak */
  LtNotifyEditor   *notify_editor;   /* weak */
  AdwMessageDialog *delete_dialog;   /* weak */
  AdwToast         *undo_toast;      /* weak: the last "deleted" toast */

  GtkSearchBar     *search_bar;
  GtkSearchEntry   *search_entry;
  GtkStack         *stack;
  GtkBox           *groups_box;
  LtRuleTester     *tester;

  gboolean          has_rules;
};

G_DEFINE_FINAL_TYPE (LtRulesPage, lt_rules_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_RULE_STORE,
  PROP_SEARCH_MODE_ENABLED,
  PROP_HAS_RULES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void update_state (LtRulesPage *self);

/* Domain groups */

static gboolean
contains_casefold (const char *haystack,
                   const char *needle)
{
  g_autofree char *folded = g_utf8_casefold (haystack, -1);

  return strstr (folded, needle) != NULL;
}

static gboolean
rule_matches_search (LtRulesPage *self,
                     LtRule      *rule)
{
  if (self->search_text == NULL)
    return TRUE;

  return contains_casefold (lt_rule_get_domain_name (rule), self->search_text) ||
         contains_casefold (lt_rule_get_app_name (rule), self->search_text) ||
         contains_casefold (lt_rule_get_stream_name (rule), self->search_text);
}

static gboolean
domain_filter_func (gpointer item,
                    gpointer user_data)
{
  DomainGroup *group = user_data;
  LtRule *rule = item;

  return g_str_equal (lt_rule_get_domain_name (rule), group->domain) &&
         rule_matches_search (group->page, rule);
}

static GtkWidget *
create_row_cb (gpointer item,
               gpointer user_data)
{
  return lt_rule_row_new (LT_RULE (item));
}

static void open_editor (LtRulesPage *self,
                         LtRule      *rule,
                         const char  *domain);

static void
row_activated_cb (GtkListBox    *list,
                  GtkListBoxRow *row,
                  LtRulesPage   *self)
{
  if (LT_IS_RULE_ROW (row))
    open_editor (self, lt_rule_row_get_rule (LT_RULE_ROW (row)), NULL);
}

/* Arrow keys move on from the last row of one domain's list to the next list. */
static gboolean
list_keynav_failed_cb (GtkWidget        *list,
                       GtkDirectionType  direction,
                       LtRulesPage      *self)
{
  GtkRoot *root = gtk_widget_get_root (list);

  if (root == NULL || (direction != GTK_DIR_UP && direction != GTK_DIR_DOWN))
    return FALSE;

  return gtk_widget_child_focus (GTK_WIDGET (root), direction == GTK_DIR_UP
                                                    ? GTK_DIR_TAB_BACKWARD
                                                    : GTK_DIR_TAB_FORWARD);
}

static void
group_items_changed_cb (GListModel  *model,
                        guint        position,
                        guint        removed,
                        guint        added,
                        DomainGroup *group)
{
  gtk_widget_set_visible (group->group, g_list_model_get_n_items (model) > 0);
  update_state (group->page);
}

/* Beside a domain's rules: where its callbacks go. */
static void
update_group_description (LtRulesPage *self,
                          DomainGroup *group)
{
  const LtNotifyConfig *config = self->notify_store != NULL
                                 ? lt_notify_store_lookup (self->notify_store, group->domain)
                                 : NULL;
  g_autofree char *text = NULL;
  g_autofree char *escaped = NULL;

  if (config != NULL && config->notify_url != NULL)
    /* TRANSLATORS: %s is the NotifyUrl of the domain */
    text = g_strdup_printf (_("Callbacks go to %s"), config->notify_url);
  else if (config != NULL)
    text = g_strdup (_("Callback settings without a notification address"));

  escaped = text != NULL ? g_markup_escape_text (text, -1) : NULL;
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group->group), escaped);
}

static void
notify_store_changed_cb (LtRulesPage *self,
                         const char  *domain)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    update_group_description (self, value);
}

static DomainGroup *
domain_group_new (LtRulesPage *self,
                  const char  *domain)
{
  DomainGroup *group = g_new0 (DomainGroup, 1);
  g_autofree char *escaped = g_markup_escape_text (domain, -1);
  g_autofree char *tooltip = NULL;
  g_autofree char *callbacks_tooltip = NULL;
  GtkWidget *add_button;
  GtkWidget *callbacks_button;
  GtkWidget *suffix;

  group->page = self;
  group->domain = g_strdup (domain);
  group->filter = gtk_custom_filter_new (domain_filter_func, group, NULL);
  group->model = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (self->store)),
                                            g_object_ref (GTK_FILTER (group->filter)));

  group->group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group->group), escaped);

  /* TRANSLATORS: tooltip of the button that adds a rule for the domain %s. */
  tooltip = g_strdup_printf (_("Add Rule for %s"), domain);
  add_button = gtk_button_new_from_icon_name ("list-add-symbolic");
  gtk_widget_set_tooltip_text (add_button, tooltip);
  gtk_widget_set_valign (add_button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (add_button, "flat");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (add_button), "rules.add-for-domain");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (add_button),
                                          g_variant_new_string (domain));

  /* TRANSLATORS: tooltip of the button that opens the callback settings of the domain %s. */
  callbacks_tooltip = g_strdup_printf (_("Callback Settings for %s"), domain);
  callbacks_button = gtk_button_new_with_mnemonic (_("_Callbacks"));
  gtk_widget_set_tooltip_text (callbacks_button, callbacks_tooltip);
  gtk_widget_set_valign (callbacks_button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (callbacks_button, "flat");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (callbacks_button), "rules.edit-callbacks");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (callbacks_button),
                                          g_variant_new_string (domain));

  suffix = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (suffix), callbacks_button);
  gtk_box_append (GTK_BOX (suffix), add_button);
  adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (group->group), suffix);
  update_group_description (self, group);

  group->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (group->list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (group->list), "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (group->list),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, domain,
                                  -1);
  gtk_list_box_bind_model (group->list, G_LIST_MODEL (group->model),
                           create_row_cb, NULL, NULL);
  g_signal_connect (group->list, "row-activated", G_CALLBACK (row_activated_cb), self);
  g_signal_connect (group->list, "keynav-failed", G_CALLBACK (list_keynav_failed_cb), self);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group->group), GTK_WIDGET (group->list));

  g_signal_connect (group->model, "items-changed", G_CALLBACK (group_items_changed_cb), group);
  gtk_widget_set_visible (group->group,
                          g_list_model_get_n_items (G_LIST_MODEL (group->model)) > 0);

  return group;
}

static void
domain_group_free (gpointer data)
{
  DomainGroup *group = data;
  GtkWidget *parent = gtk_widget_get_parent (group->group);

  g_signal_handlers_disconnect_by_data (group->model, group);
  gtk_list_box_bind_model (group->list, NULL, NULL, NULL, NULL);
  if (parent != NULL)
    gtk_box_remove (GTK_BOX (parent), group->group);
  g_clear_object (&group->model);
  g_clear_object (&group->filter);
  g_free (group->domain);
  g_free (group);
}

/* One pass over the store (sorted by domain): a group per domain, in order; groups of
 * domains that no longer have rules go. */
static void
sync_groups (LtRulesPage *self)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer value;
  GtkWidget *previous = NULL;
  guint n_items = self->store != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->store)) : 0;

  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(LtRule) rule = g_list_model_get_item (G_LIST_MODEL (self->store), i);
      const char *domain = lt_rule_get_domain_name (rule);
      DomainGroup *group;

      if (g_hash_table_contains (seen, domain))
        continue;

      group = g_hash_table_lookup (self->groups, domain);
      if (group == NULL)
        {
          group = domain_group_new (self, domain);
          g_hash_table_insert (self->groups, group->domain, group);
          gtk_box_insert_child_after (self->groups_box, group->group, previous);
        }
      else if (gtk_widget_get_prev_sibling (group->group) != previous)
        {
          gtk_box_reorder_child_after (self->groups_box, group->group, previous);
        }

      g_hash_table_add (seen, group->domain);
      previous = group->group;
    }

  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      DomainGroup *group = value;

      if (!g_hash_table_contains (seen, group->domain))
        g_hash_table_iter_remove (&iter);
    }

  update_state (self);
}

static void
store_items_changed_cb (LtRulesPage *self,
                        guint        position,
                        guint        removed,
                        guint        added,
                        GListModel  *model)
{
  sync_groups (self);
}

static guint
count_visible_groups (LtRulesPage *self)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      DomainGroup *group = value;

      if (g_list_model_get_n_items (G_LIST_MODEL (group->model)) > 0)
        n++;
    }

  return n;
}

static void
update_state (LtRulesPage *self)
{
  const char *state;

  if (self->store == NULL)
    state = "loading";
  else if (g_list_model_get_n_items (G_LIST_MODEL (self->store)) == 0)
    state = "empty";
  else if (count_visible_groups (self) == 0)
    state = "no-results";
  else
    state = "rules";

  gtk_stack_set_visible_child_name (self->stack, state);

  if (self->has_rules != (self->store != NULL && !g_str_equal (state, "empty")))
    {
      self->has_rules = !self->has_rules;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_RULES]);
    }
}

static void
update_actions (LtRulesPage *self)
{
  gboolean ready = self->store != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "rules.add", ready);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "rules.add-for-domain", ready);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "rules.edit", ready);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "rules.delete", ready);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "rules.edit-callbacks",
                                 self->notify_store != NULL && self->callback_queue != NULL);
}

/* Search */

static void
search_changed_cb (LtRulesPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  g_autofree char *stripped = g_strstrip (g_strdup (text));
  GHashTableIter iter;
  gpointer value;

  g_clear_pointer (&self->search_text, g_free);
  if (*stripped != '\0')
    self->search_text = g_utf8_casefold (stripped, -1);

  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      DomainGroup *group = value;

      gtk_filter_changed (GTK_FILTER (group->filter), GTK_FILTER_CHANGE_DIFFERENT);
    }

  update_state (self);
}

static void
search_mode_notify_cb (LtRulesPage *self)
{
  if (!gtk_search_bar_get_search_mode (self->search_bar))
    gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEARCH_MODE_ENABLED]);
}

/* Toasts */

static void
add_toast (LtRulesPage *self,
           AdwToast    *toast)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
  else
    g_object_unref (toast);
}

/* Editor */

static void
editor_saved_cb (LtRuleEditor *editor,
                 LtRule       *rule,
                 gboolean      replaced,
                 LtRulesPage  *self)
{
  add_toast (self, adw_toast_new (replaced ? _("Rule saved") : _("Rule added")));
}

static void confirm_delete (LtRulesPage *self,
                            LtRule      *rule,
                            GtkWindow   *parent);

static void
editor_delete_requested_cb (LtRuleEditor *editor,
                            LtRule       *rule,
                            LtRulesPage  *self)
{
  confirm_delete (self, rule, GTK_WINDOW (editor));
}

static void
open_editor (LtRulesPage *self,
             LtRule      *rule,
             const char  *domain)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  LtRuleEditor *editor;

  if (self->store == NULL)
    return;

  if (self->editor != NULL)
    {
      gtk_window_present (GTK_WINDOW (self->editor));
      return;
    }

  if (rule == NULL && domain == NULL)
    domain = self->default_domain;

  editor = lt_rule_editor_new (self->store, rule, domain);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (root));
  g_signal_connect_object (editor, "saved", G_CALLBACK (editor_saved_cb), self, 0);
  g_signal_connect_object (editor, "delete-requested",
                           G_CALLBACK (editor_delete_requested_cb), self, 0);
  g_set_weak_pointer (&self->editor, editor);
  gtk_window_present (GTK_WINDOW (editor));
}

/* Callback settings */

static void
notify_editor_saved_cb (LtRulesPage *self)
{
  add_toast (self, adw_toast_new (_("Callback settings saved")));
}

static void
notify_editor_removed_cb (LtRulesPage *self)
{
  add_toast (self, adw_toast_new (_("Callback settings removed")));
}

/* @domain: NULL or "" lets the operator type the domain (one that has no rules yet). */
static void
open_notify_editor (LtRulesPage *self,
                    const char  *domain)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  LtNotifyEditor *editor;

  if (self->notify_store == NULL || self->callback_queue == NULL)
    return;

  if (self->notify_editor != NULL)
    {
      gtk_window_present (GTK_WINDOW (self->notify_editor));
      return;
    }

  editor = lt_notify_editor_new (self->notify_store, self->callback_queue, domain);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (root));
  g_signal_connect_object (editor, "saved", G_CALLBACK (notify_editor_saved_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (editor, "removed", G_CALLBACK (notify_editor_removed_cb), self,
                           G_CONNECT_SWAPPED);
  g_set_weak_pointer (&self->notify_editor, editor);
  gtk_window_present (GTK_WINDOW (editor));
}

/* The rule of the row that has the keyboard focus: what Delete and Enter act on. */
static LtRule *
focused_rule (LtRulesPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;
  GtkWidget *row = focus != NULL ? gtk_widget_get_ancestor (focus, LT_TYPE_RULE_ROW) : NULL;

  if (row == NULL || !gtk_widget_is_ancestor (row, GTK_WIDGET (self)))
    return NULL;

  return lt_rule_row_get_rule (LT_RULE_ROW (row));
}

/* Delete */

typedef struct
{
  LtRulesPage *page;
  LtRule      *rule;
} DeleteData;

static void
delete_data_free (DeleteData *data)
{
  g_clear_object (&data->page);
  g_clear_object (&data->rule);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DeleteData, delete_data_free)

static void
undo_added_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(LtRulesPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!lt_rule_store_add_finish (LT_RULE_STORE (source), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    add_toast (self, adw_toast_new (error->message));
}

static void
undo_clicked_cb (AdwToast *toast,
                 LtRule   *rule)
{
  LtRulesPage *self = g_object_get_data (G_OBJECT (toast), "lt-page");

  if (self == NULL || self->store == NULL)
    return;

  lt_rule_store_add_async (self->store, rule, self->cancellable,
                           undo_added_cb, g_object_ref (self));
}

static void
deleted_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(DeleteData) data = user_data;
  LtRulesPage *self = data->page;
  g_autoptr(GError) error = NULL;
  g_autofree char *triplet = NULL;
  AdwToast *toast;

  if (!lt_rule_store_remove_finish (LT_RULE_STORE (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        add_toast (self, adw_toast_new (error->message));
      return;
    }

  /* An editor open on the deleted rule has nothing left to edit. */
  if (self->editor != NULL && lt_rule_editor_get_rule (self->editor) != NULL &&
      lt_rule_same_triplet (lt_rule_editor_get_rule (self->editor), data->rule))
    gtk_window_destroy (GTK_WINDOW (self->editor));

  triplet = lt_rule_text_triplet (data->rule);
  /* TRANSLATORS: %s is a rule, e.g. "example.com/live/room1". */
  toast = adw_toast_new_format (_("Rule %s deleted"), triplet);
  adw_toast_set_button_label (toast, _("_Undo"));
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  g_object_set_data_full (G_OBJECT (toast), "lt-page",
                          g_object_ref (self), g_object_unref);
  g_signal_connect_data (toast, "button-clicked", G_CALLBACK (undo_clicked_cb),
                         g_object_ref (data->rule), (GClosureNotify) g_object_unref, 0);
  g_set_weak_pointer (&self->undo_toast, toast);
  add_toast (self, toast);
}

static void
delete_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    LtRulesPage      *self)
{
  LtRule *rule = g_object_get_data (G_OBJECT (dialog), "lt-rule");
  DeleteData *data;

  if (!g_str_equal (response, "delete") || self->store == NULL)
    return;

  data = g_new0 (DeleteData, 1);
  data->page = g_object_ref (self);
  data->rule = g_object_ref (rule);
  lt_rule_store_remove_async (self->store,
                              lt_rule_get_domain_name (rule),
                              lt_rule_get_app_name (rule),
                              lt_rule_get_stream_name (rule),
                              self->cancellable, deleted_cb, data);
}

static void
confirm_delete (LtRulesPage *self,
                LtRule      *rule,
                GtkWindow   *parent)
{
  g_autofree char *triplet = lt_rule_text_triplet (rule);
  GtkWidget *dialog;

  if (self->delete_dialog != NULL)
    {
      gtk_window_present (GTK_WINDOW (self->delete_dialog));
      return;
    }

  dialog = adw_message_dialog_new (parent, _("Delete Rule?"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  /* TRANSLATORS: %s is a rule, e.g. "example.com/live/room1". */
                                  _("The rule for %s will be deleted. Streams being "
                                    "recorded now keep recording until they stop "
                                    "publishing."),
                                  triplet);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "delete", _("_Delete"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "lt-rule", g_object_ref (rule), g_object_unref);
  g_signal_connect_object (dialog, "response", G_CALLBACK (delete_response_cb), self, 0);
  g_set_weak_pointer (&self->delete_dialog, ADW_MESSAGE_DIALOG (dialog));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Actions */

static void
add_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  open_editor (LT_RULES_PAGE (widget), NULL, NULL);
}

static void
add_for_domain_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  open_editor (LT_RULES_PAGE (widget), NULL, g_variant_get_string (parameter, NULL));
}

static void
edit_callbacks_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  open_notify_editor (LT_RULES_PAGE (widget), g_variant_get_string (parameter, NULL));
}

static void
edit_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  LtRulesPage *self = LT_RULES_PAGE (widget);
  LtRule *rule = focused_rule (self);

  if (rule != NULL)
    open_editor (self, rule, NULL);
  else
    gtk_widget_error_bell (widget);
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  LtRulesPage *self = LT_RULES_PAGE (widget);
  LtRule *rule = focused_rule (self);
  GtkRoot *root = gtk_widget_get_root (widget);

  if (rule != NULL)
    confirm_delete (self, rule, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL);
  else
    gtk_widget_error_bell (widget);
}

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  LtRulesPage *self = LT_RULES_PAGE (widget);

  if (self->store == NULL)
    return;

  gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
stop_search_cb (LtRulesPage *self)
{
  gtk_search_bar_set_search_mode (self->search_bar, FALSE);
}

/* GObject */

static void
lt_rules_page_dispose (GObject *object)
{
  LtRulesPage *self = LT_RULES_PAGE (object);

  g_cancellable_cancel (self->cancellable);

  if (self->editor != NULL)
    gtk_window_destroy (GTK_WINDOW (self->editor));
  g_clear_weak_pointer (&self->editor);
  if (self->notify_editor != NULL)
    gtk_window_destroy (GTK_WINDOW (self->notify_editor));
  g_clear_weak_pointer (&self->notify_editor);
  if (self->delete_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->delete_dialog));
  g_clear_weak_pointer (&self->delete_dialog);
  g_clear_weak_pointer (&self->undo_toast);

  lt_rules_page_set_rule_store (self, NULL);
  lt_rules_page_set_callbacks (self, NULL, NULL);

  gtk_widget_dispose_template (GTK_WIDGET (self), LT_TYPE_RULES_PAGE);

  G_OBJECT_CLASS (lt_rules_page_parent_class)->dispose (object);
}

static void
lt_rules_page_finalize (GObject *object)
{
  LtRulesPage *self = LT_RULES_PAGE (object);

  g_clear_pointer (&self->groups, g_hash_table_unref);
  g_clear_pointer (&self->search_text, g_free);
  g_clear_pointer (&self->default_domain, g_free);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (lt_rules_page_parent_class)->finalize (object);
}

static void
lt_rules_page_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  LtRulesPage *self = LT_RULES_PAGE (object);

  switch (prop_id)
    {
    case PROP_RULE_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_SEARCH_MODE_ENABLED:
      g_value_set_boolean (value, gtk_search_bar_get_search_mode (self->search_bar));
      break;

    case PROP_HAS_RULES:
      g_value_set_boolean (value, self->has_rules);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_rules_page_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  LtRulesPage *self = LT_RULES_PAGE (object);

  switch (prop_id)
    {
    case PROP_RULE_STORE:
      lt_rules_page_set_rule_store (self, g_value_get_object (value));
      break;

    case PROP_SEARCH_MODE_ENABLED:
      gtk_search_bar_set_search_mode (self->search_bar, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_rules_page_class_init (LtRulesPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lt_rules_page_dispose;
  object_class->finalize = lt_rules_page_finalize;
  object_class->get_property = lt_rules_page_get_property;
  object_class->set_property = lt_rules_page_set_property;

  properties[PROP_RULE_STORE] =
    g_param_spec_object ("rule-store", NULL, NULL,
                         LT_TYPE_RULE_STORE,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_SEARCH_MODE_ENABLED] =
    g_param_spec_boolean ("search-mode-enabled", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_HAS_RULES] =
    g_param_spec_boolean ("has-rules", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (LT_TYPE_RULE_TESTER);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/livetape/Livetape/lt-rules-page.ui");
  gtk_widget_class_bind_template_child (widget_class, LtRulesPage, search_bar);
  gtk_widget_class_bind_template_child (widget_class, LtRulesPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, LtRulesPage, stack);
  gtk_widget_class_bind_template_child (widget_class, LtRulesPage, groups_box);
  gtk_widget_class_bind_template_child (widget_class, LtRulesPage, tester);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, stop_search_cb);

  gtk_widget_class_install_action (widget_class, "rules.add", NULL, add_action);
  gtk_widget_class_install_action (widget_class, "rules.add-for-domain", "s",
                                   add_for_domain_action);
  gtk_widget_class_install_action (widget_class, "rules.edit", NULL, edit_action);
  gtk_widget_class_install_action (widget_class, "rules.edit-callbacks", "s",
                                   edit_callbacks_action);
  gtk_widget_class_install_action (widget_class, "rules.delete", NULL, delete_action);
  gtk_widget_class_install_action (widget_class, "rules.search", NULL, search_action);

  /* Local: Delete must not fire while typing in an entry (entries handle it first). */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "rules.delete", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Delete, 0, "rules.delete", NULL);
}

static void
lt_rules_page_init (LtRulesPage *self)
{
  GtkEventController *shortcuts;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->groups = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, domain_group_free);
  self->cancellable = g_cancellable_new ();

  /* Global within the window, so that Ctrl+N and Ctrl+F work wherever the focus is;
   * GTK skips them while the page is not mapped (another page is showing). */
  shortcuts = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                     GTK_SHORTCUT_SCOPE_GLOBAL);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_n, GDK_CONTROL_MASK),
                                                          gtk_named_action_new ("rules.add")));
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_f, GDK_CONTROL_MASK),
                                                          gtk_named_action_new ("rules.search")));
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);

  gtk_search_bar_set_key_capture_widget (self->search_bar, GTK_WIDGET (self));
  g_signal_connect_object (self->search_bar, "notify::search-mode-enabled",
                           G_CALLBACK (search_mode_notify_cb), self, G_CONNECT_SWAPPED);

  update_state (self);
  update_actions (self);
}

GtkWidget *
lt_rules_page_new (void)
{
  return g_object_new (LT_TYPE_RULES_PAGE, NULL);
}

LtRuleStore *
lt_rules_page_get_rule_store (LtRulesPage *self)
{
  g_return_val_if_fail (LT_IS_RULES_PAGE (self), NULL);

  return self->store;
}

void
lt_rules_page_set_rule_store (LtRulesPage *self,
                              LtRuleStore *store)
{
  g_return_if_fail (LT_IS_RULES_PAGE (self));
  g_return_if_fail (store == NULL || LT_IS_RULE_STORE (store));

  if (self->store == store)
    return;

  if (self->store != NULL)
    g_signal_handlers_disconnect_by_func (self->store, store_items_changed_cb, self);
  g_hash_table_remove_all (self->groups);
  g_set_object (&self->store, store);

  /* Connected before any group's filter model, so a new domain's group exists before
   * the other groups hear of the change. */
  if (self->store != NULL)
    g_signal_connect_object (self->store, "items-changed",
                             G_CALLBACK (store_items_changed_cb), self, G_CONNECT_SWAPPED);

  lt_rule_tester_set_rule_store (self->tester, store);
  sync_groups (self);
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RULE_STORE]);
}

void
lt_rules_page_set_callbacks (LtRulesPage     *self,
                             LtNotifyStore   *notify_store,
                             LtCallbackQueue *callback_queue)
{
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (LT_IS_RULES_PAGE (self));
  g_return_if_fail (notify_store == NULL || LT_IS_NOTIFY_STORE (notify_store));
  g_return_if_fail (callback_queue == NULL || LT_IS_CALLBACK_QUEUE (callback_queue));

  if (self->notify_store != notify_store)
    {
      if (self->notify_store != NULL)
        g_signal_handlers_disconnect_by_func (self->notify_store, notify_store_changed_cb, self);
      g_set_object (&self->notify_store, notify_store);
      if (notify_store != NULL)
        g_signal_connect_object (notify_store, "changed",
                                 G_CALLBACK (notify_store_changed_cb), self,
                                 G_CONNECT_SWAPPED);
    }
  g_set_object (&self->callback_queue, callback_queue);

  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    update_group_description (self, value);
  update_actions (self);
}

void
lt_rules_page_set_default_domain (LtRulesPage *self,
                                  const char  *domain)
{
  g_return_if_fail (LT_IS_RULES_PAGE (self));

  g_free (self->default_domain);
  self->default_domain = (domain != NULL && *domain != '\0') ? g_strdup (domain) : NULL;
}

GtkWidget *
_lt_rules_page_get_row (LtRulesPage *self,
                        const char  *domain,
                        const char  *app,
                        const char  *stream)
{
  DomainGroup *group = g_hash_table_lookup (self->groups, domain);

  if (stream == NULL)
    stream = "*";
  if (group == NULL)
    return NULL;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (group->list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      LtRule *rule;

      if (!LT_IS_RULE_ROW (child))
        continue;
      rule = lt_rule_row_get_rule (LT_RULE_ROW (child));
      if (g_str_equal (lt_rule_get_app_name (rule), app) &&
          g_str_equal (lt_rule_get_stream_name (rule), stream))
        return child;
    }

  return NULL;
}

guint
_lt_rules_page_count_rows (LtRulesPage *self)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      DomainGroup *group = value;

      for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (group->list));
           child != NULL;
           child = gtk_widget_get_next_sibling (child))
        if (LT_IS_RULE_ROW (child))
          n++;
    }

  return n;
}

char **
_lt_rules_page_dup_domains (LtRulesPage *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->groups_box));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GHashTableIter iter;
      gpointer value;

      if (!gtk_widget_get_visible (child))
        continue;

      g_hash_table_iter_init (&iter, self->groups);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          DomainGroup *group = value;

          if (group->group == child)
            g_strv_builder_add (builder, group->domain);
        }
    }

  return g_strv_builder_end (builder);
}

const char *
_lt_rules_page_get_state (LtRulesPage *self)
{
  return gtk_stack_get_visible_child_name (self->stack);
}

LtRuleEditor *
_lt_rules_page_get_editor (LtRulesPage *self)
{
  return self->editor;
}

AdwMessageDialog *
_lt_rules_page_get_delete_dialog (LtRulesPage *self)
{
  return self->delete_dialog;
}

LtNotifyEditor *
_lt_rules_page_get_notify_editor (LtRulesPage *self)
{
  return self->notify_editor;
}

const char *
_lt_rules_page_get_group_description (LtRulesPage *self,
                                      const char  *domain)
{
  DomainGroup *group = g_hash_table_lookup (self->groups, domain);
  const char *description;

  if (group == NULL)
    return NULL;
  description = adw_preferences_group_get_description (ADW_PREFERENCES_GROUP (group->group));
  return description != NULL && *description != '\0' ? description : NULL;
}

LtRuleTester *
_lt_rules_page_get_tester (LtRulesPage *self)
{
  return self->tester;
}

AdwToast *
_lt_rules_page_get_undo_toast (LtRulesPage *self)
{
  return self->undo_toast;
}

GtkEditable *
_lt_rules_page_get_search_entry (LtRulesPage *self)
{
  return GTK_EDITABLE (self->search_entry);
}
