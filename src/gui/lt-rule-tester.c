/* lt-rule-tester.c: "which rule applies to domain/app/stream?" on the Rules page.
 *
 * As the operator types a stream's triplet, the tester asks the store for the winning
 * rule (SPEC section 2's priority order) and says what that means now: recorded (and
 * how), not recorded because nothing matches, because the winner is an exclusion, or
 * because the winner's window is closed. It follows the store, so a rule added through
 * the API changes the answer at once. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-rule-tester-private.h"
#include "lt-rule-text.h"

struct _LtRuleTester
{
  AdwBin          parent_instance;

  LtRuleStore    *store;
  LtRule         *winner;

  AdwExpanderRow *expander;
  AdwEntryRow    *domain_row;
  AdwEntryRow    *app_row;
  AdwEntryRow    *stream_row;
  AdwActionRow   *result_row;
  GtkImage       *result_icon;
};

G_DEFINE_FINAL_TYPE (LtRuleTester, lt_rule_tester, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_RULE_STORE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static char *
dup_stripped (AdwEntryRow *row)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
}

static void
set_result (LtRuleTester *self,
            const char   *icon_name,
            const char   *style,
            const char   *title,
            const char   *subtitle)
{
  GtkWidget *icon = GTK_WIDGET (self->result_icon);

  gtk_image_set_from_icon_name (self->result_icon, icon_name);
  gtk_widget_remove_css_class (icon, "success");
  gtk_widget_remove_css_class (icon, "warning");
  gtk_widget_remove_css_class (icon, "dim-label");
  gtk_widget_add_css_class (icon, style);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->result_row), title);
  adw_action_row_set_subtitle (self->result_row, subtitle);
}

static void
lt_rule_tester_update (LtRuleTester *self)
{
  g_autofree char *domain = dup_stripped (self->domain_row);
  g_autofree char *app = dup_stripped (self->app_row);
  g_autofree char *stream = dup_stripped (self->stream_row);
  g_autofree char *explain = NULL;
  g_autofree char *triplet = NULL;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  LtRuleMatchLevel level = LT_RULE_MATCH_NONE;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  LtRule *winner = NULL;

  if (self->store == NULL || *domain == '\0' || *app == '\0' || *stream == '\0')
    {
      g_clear_object (&self->winner);
      set_result (self, "system-search-symbolic", "dim-label",
                  _("Enter a domain, app and stream"),
                  _("The answer appears as you type."));
      return;
    }

  winner = lt_rule_store_match (self->store, domain, app, stream, &level);
  g_set_object (&self->winner, winner);
  explain = lt_rule_match_explain (winner, level, domain, app, stream);

  if (winner == NULL)
    {
      set_result (self, "action-unavailable-symbolic", "dim-label",
                  _("No rule applies: not recorded"), explain);
      return;
    }

  triplet = lt_rule_text_triplet (winner);

  if (lt_rule_is_exclusion (winner))
    {
      /* TRANSLATORS: %s is a rule, e.g. "example.com/live/room1". */
      title = g_strdup_printf (_("Not recorded: %s excludes recording"), triplet);
      set_result (self, "action-unavailable-symbolic", "warning", title, explain);
      return;
    }

  if (!lt_rule_is_active_at (winner, now))
    {
      g_autofree char *window = lt_rule_text_window (winner, now);

      /* TRANSLATORS: %s is a rule, e.g. "example.com/live/room1". */
      title = g_strdup_printf (_("Not recorded now: %s is outside its window"), triplet);
      subtitle = g_strdup_printf ("%s\n%s", explain, window);
      set_result (self, "alarm-symbolic", "warning", title, subtitle);
      return;
    }

  {
    g_autofree char *formats = lt_rule_text_formats (winner);

    /* TRANSLATORS: %s is a rule, e.g. "example.com/live/room1". */
    title = g_strdup_printf (_("Recorded by %s"), triplet);
    /* TRANSLATORS: the formats of a rule, then how its recording starts, e.g.
     * "M3U8 · 30 s slices · 6 h cycles · Automatic". */
    subtitle = g_strdup_printf (_("%s\n%s · %s"), explain, formats,
                                lt_rule_text_on_demand (lt_rule_get_on_demand (winner)));
    set_result (self, "media-record-symbolic", "success", title, subtitle);
  }
}

static void
entry_changed_cb (LtRuleTester *self)
{
  lt_rule_tester_update (self);
}

static void
store_items_changed_cb (LtRuleTester *self,
                        guint         position,
                        guint         removed,
                        guint         added,
                        GListModel   *model)
{
  lt_rule_tester_update (self);
}

static void
lt_rule_tester_dispose (GObject *object)
{
  LtRuleTester *self = LT_RULE_TESTER (object);

  lt_rule_tester_set_rule_store (self, NULL);
  g_clear_object (&self->winner);

  gtk_widget_dispose_template (GTK_WIDGET (self), LT_TYPE_RULE_TESTER);

  G_OBJECT_CLASS (lt_rule_tester_parent_class)->dispose (object);
}

static void
lt_rule_tester_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  LtRuleTester *self = LT_RULE_TESTER (object);

  switch (prop_id)
    {
    case PROP_RULE_STORE:
      g_value_set_object (value, self->store);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_rule_tester_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  LtRuleTester *self = LT_RULE_TESTER (object);

  switch (prop_id)
    {
    case PROP_RULE_STORE:
      lt_rule_tester_set_rule_store (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_rule_tester_class_init (LtRuleTesterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lt_rule_tester_dispose;
  object_class->get_property = lt_rule_tester_get_property;
  object_class->set_property = lt_rule_tester_set_property;

  properties[PROP_RULE_STORE] =
    g_param_spec_object ("rule-store", NULL, NULL,
                         LT_TYPE_RULE_STORE,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/livetape/Livetape/lt-rule-tester.ui");
  gtk_widget_class_bind_template_child (widget_class, LtRuleTester, expander);
  gtk_widget_class_bind_template_child (widget_class, LtRuleTester, domain_row);
  gtk_widget_class_bind_template_child (widget_class, LtRuleTester, app_row);
  gtk_widget_class_bind_template_child (widget_class, LtRuleTester, stream_row);
  gtk_widget_class_bind_template_child (widget_class, LtRuleTester, result_row);
  gtk_widget_class_bind_template_child (widget_class, LtRuleTester, result_icon);
  gtk_widget_class_bind_template_callback (widget_class, entry_changed_cb);
}

static void
lt_rule_tester_init (LtRuleTester *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  lt_rule_tester_update (self);
}

GtkWidget *
lt_rule_tester_new (void)
{
  return g_object_new (LT_TYPE_RULE_TESTER, NULL);
}

LtRuleStore *
lt_rule_tester_get_rule_store (LtRuleTester *self)
{
  g_return_val_if_fail (LT_IS_RULE_TESTER (self), NULL);

  return self->store;
}

void
lt_rule_tester_set_rule_store (LtRuleTester *self,
                               LtRuleStore  *store)
{
  g_return_if_fail (LT_IS_RULE_TESTER (self));
  g_return_if_fail (store == NULL || LT_IS_RULE_STORE (store));

  if (self->store == store)
    return;

  if (self->store != NULL)
    g_signal_handlers_disconnect_by_func (self->store, store_items_changed_cb, self);
  g_set_object (&self->store, store);
  if (self->store != NULL)
    g_signal_connect_object (self->store, "items-changed",
                             G_CALLBACK (store_items_changed_cb), self, G_CONNECT_SWAPPED);

  lt_rule_tester_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RULE_STORE]);
}

GtkEditable *
_lt_rule_tester_get_entry (LtRuleTester *self,
                           const char   *field)
{
  g_return_val_if_fail (LT_IS_RULE_TESTER (self), NULL);

  if (g_str_equal (field, "domain"))
    return GTK_EDITABLE (self->domain_row);
  if (g_str_equal (field, "app"))
    return GTK_EDITABLE (self->app_row);
  if (g_str_equal (field, "stream"))
    return GTK_EDITABLE (self->stream_row);
  g_return_val_if_reached (NULL);
}

const char *
_lt_rule_tester_get_result_title (LtRuleTester *self)
{
  return adw_preferences_row_get_title (ADW_PREFERENCES_ROW (self->result_row));
}

const char *
_lt_rule_tester_get_result_subtitle (LtRuleTester *self)
{
  return adw_action_row_get_subtitle (self->result_row);
}

LtRule *
_lt_rule_tester_get_winner (LtRuleTester *self)
{
  return self->winner;
}

void
_lt_rule_tester_set_expanded (LtRuleTester *self,
                              gboolean      expanded)
{
  adw_expander_row_set_expanded (self->expander, expanded);
}
