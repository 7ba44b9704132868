/* lt-rule-row.c: one recording rule in the Rules page's list.
 *
 * The title names what the rule applies to within its domain (the domain is the group's
 * title), the subtitle what it records (or that it excludes recording) and its window;
 * the suffix shows how recording starts. Activating the row edits the rule. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lt-rule-row.h"
#include "lt-rule-text.h"

struct _LtRuleRow
{
  AdwActionRow  parent_instance;

  LtRule       *rule;

  GtkImage     *icon;
  GtkLabel     *mode_label;
};

G_DEFINE_FINAL_TYPE (LtRuleRow, lt_rule_row, ADW_TYPE_ACTION_ROW)

enum {
  PROP_0,
  PROP_RULE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
lt_rule_row_update (LtRuleRow *self)
{
  g_autofree char *title = lt_rule_text_target (self->rule);
  g_autofree char *window = lt_rule_text_window (self->rule, g_get_real_time () / G_USEC_PER_SEC);
  g_autofree char *formats = NULL;
  g_autofree char *subtitle = NULL;
  gboolean exclusion = lt_rule_is_exclusion (self->rule);

  if (exclusion)
    formats = g_strdup (_("Excludes recording"));
  else
    formats = lt_rule_text_formats (self->rule);

  if (window != NULL)
    subtitle = g_strdup_printf ("%s\n%s", formats, window);
  else
    subtitle = g_steal_pointer (&formats);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), subtitle);

  gtk_image_set_from_icon_name (self->icon, exclusion ? "action-unavailable-symbolic"
                                                      : "media-record-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->icon),
                               exclusion ? _("Excludes recording") : _("Records"));
  if (exclusion)
    gtk_widget_add_css_class (GTK_WIDGET (self), "exclusion");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "exclusion");

  /* How recording starts is moot for a rule that never records. */
  gtk_widget_set_visible (GTK_WIDGET (self->mode_label), !exclusion);
  gtk_label_set_label (self->mode_label,
                       lt_rule_text_on_demand (lt_rule_get_on_demand (self->rule)));
}

static void
lt_rule_row_dispose (GObject *object)
{
  LtRuleRow *self = LT_RULE_ROW (object);

  g_clear_object (&self->rule);

  G_OBJECT_CLASS (lt_rule_row_parent_class)->dispose (object);
}

static void
lt_rule_row_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  LtRuleRow *self = LT_RULE_ROW (object);

  switch (prop_id)
    {
    case PROP_RULE:
      g_value_set_object (value, self->rule);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_rule_row_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  LtRuleRow *self = LT_RULE_ROW (object);

  switch (prop_id)
    {
    case PROP_RULE:
      self->rule = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_rule_row_constructed (GObject *object)
{
  LtRuleRow *self = LT_RULE_ROW (object);

  G_OBJECT_CLASS (lt_rule_row_parent_class)->constructed (object);

  g_assert (LT_IS_RULE (self->rule));
  lt_rule_row_update (self);
}

static void
lt_rule_row_class_init (LtRuleRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = lt_rule_row_constructed;
  object_class->dispose = lt_rule_row_dispose;
  object_class->get_property = lt_rule_row_get_property;
  object_class->set_property = lt_rule_row_set_property;

  properties[PROP_RULE] =
    g_param_spec_object ("rule", NULL, NULL,
                         LT_TYPE_RULE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/livetape/Livetape/lt-rule-row.ui");
  gtk_widget_class_bind_template_child (widget_class, LtRuleRow, icon);
  gtk_widget_class_bind_template_child (widget_class, LtRuleRow, mode_label);
}

static void
lt_rule_row_init (LtRuleRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
lt_rule_row_new (LtRule *rule)
{
  g_return_val_if_fail (LT_IS_RULE (rule), NULL);

  return g_object_new (LT_TYPE_RULE_ROW, "rule", rule, NULL);
}

LtRule *
lt_rule_row_get_rule (LtRuleRow *self)
{
  g_return_val_if_fail (LT_IS_RULE_ROW (self), NULL);

  return self->rule;
}
