/* lt-rule-editor.c: the dialog that adds or edits one recording rule.
 *
 * Validation is the core's: on every change the editor builds the same parameter table
 * the API receives ("DomainName", "RecordFormat.1.CycleDuration", …) and hands it to
 * lt_rule_new_from_params(), so the messages are the spec's, translated. The core reports
 * one error at a time; to show every problem at its own field, the editor finds the
 * field at fault (by putting a known-good value in its place and seeing the error go
 * away), notes the message there, keeps the good value in a scratch copy of the table
 * and validates again. A required field the operator has not touched yet does not shout
 * "missing"; Save simply stays off. Saving goes through the rule store, so the API and
 * the page see the rule at once. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "lt-rule-editor-private.h"
#include "lt-rule-text.h"

#define N_FORMATS LT_RECORD_FORMAT_KIND_COUNT

typedef enum
{
  FIELD_DOMAIN,
  FIELD_APP,
  FIELD_STREAM,
  FIELD_ENDPOINT,
  FIELD_BUCKET,
  FIELD_DELAY,
  FIELD_START,
  FIELD_END,
  FIELD_FORMATS,   /* FIELD_FORMATS + kind * N_FORMAT_FIELDS + FormatField */
} FieldIndex;

typedef enum
{
  FORMAT_FIELD_CYCLE,
  FORMAT_FIELD_SLICE,
  FORMAT_FIELD_PREFIX,
  FORMAT_FIELD_SLICE_PREFIX,
  N_FORMAT_FIELDS
} FormatField;

#define N_FIELDS (FIELD_FORMATS + N_FORMATS * N_FORMAT_FIELDS)

static const char * const base_params[FIELD_FORMATS] = {
  "DomainName", "AppName", "StreamName", "OssEndpoint", "OssBucket",
  "DelayTime", "StartTime", "EndTime",
};

static const char * const format_params[N_FORMAT_FIELDS] = {
  "CycleDuration", "SliceDuration", "OssObjectPrefix", "SliceOssObjectPrefix",
};

static const LtOnDemand on_demand_values[] = {
  LT_ON_DEMAND_AUTOMATIC,
  LT_ON_DEMAND_URL,
  LT_ON_DEMAND_PUSH_ARG,
  LT_ON_DEMAND_MANUAL,
};

typedef struct
{
  char        *id;           /* "DomainName", "m3u8.CycleDuration" */
  GtkWidget   *row;          /* carries the error style */
  GtkEditable *editable;     /* an AdwEntryRow or a GtkSpinButton; NULL for absent fields */
  GtkLabel    *error_label;  /* the label under the field's group */
  int          format;       /* LtRecordFormatKind, or -1 */
  gboolean     touched;      /* changed by the operator */
  gboolean     missing;      /* the error is MissingParameter */
  char        *error;        /* the validation message, or NULL */
} Field;

struct _LtRuleEditor
{
  AdwWindow            parent_instance;

  LtRuleStore         *store;
  LtRule              *rule;           /* the rule being edited, or NULL */
  LtRule              *pending;        /* the rule being saved */
  GHashTable          *extra_params;   /* the edited rule's Transcode* parameters */
  GCancellable        *cancellable;
  char                *prefill_domain;

  Field                fields[N_FIELDS];
  AdwExpanderRow      *format_rows[N_FORMATS];
  GtkWidget           *format_error_icons[N_FORMATS];
  char                *general_error;
  gboolean             valid;
  gboolean             saving;
  gboolean             filling;
  gboolean             disposing;

  AdwWindowTitle      *window_title;
  GtkWidget           *save_button;
  GtkSpinner          *spinner;
  GtkLabel            *general_error_label;
  AdwPreferencesGroup *stream_group;
  AdwPreferencesGroup *storage_group;
  AdwPreferencesGroup *recording_group;
  AdwPreferencesGroup *window_group;
  AdwPreferencesGroup *formats_group;
  GtkWidget           *delete_group;
  AdwEntryRow         *domain_row;
  AdwEntryRow         *app_row;
  AdwEntryRow         *stream_row;
  AdwEntryRow         *endpoint_row;
  AdwEntryRow         *bucket_row;
  AdwEntryRow         *start_row;
  AdwEntryRow         *end_row;
  AdwComboRow         *on_demand_row;
  AdwActionRow        *delay_row;
  GtkSpinButton       *delay_spin;
  GtkLabel            *stream_error_label;
  GtkLabel            *storage_error_label;
  GtkLabel            *recording_error_label;
  GtkLabel            *window_error_label;
  GtkLabel            *formats_error_label;
};

G_DEFINE_FINAL_TYPE (LtRuleEditor, lt_rule_editor, ADW_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_RULE_STORE,
  PROP_RULE,
  PROP_DOMAIN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_SAVED,
  SIGNAL_DELETE_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void lt_rule_editor_validate (LtRuleEditor *self);

static guint
format_field_index (LtRecordFormatKind kind,
                    FormatField        field)
{
  return FIELD_FORMATS + kind * N_FORMAT_FIELDS + field;
}

static int
field_format_sub (guint index)
{
  return index < FIELD_FORMATS ? -1 : (int) ((index - FIELD_FORMATS) % N_FORMAT_FIELDS);
}

static guint
default_cycle (LtRecordFormatKind kind)
{
  return lt_record_format_kind_is_sliced (kind) ? LT_RULE_CYCLE_DEFAULT_SLICED
                                                : LT_RULE_CYCLE_DEFAULT_FILE;
}

static char *
dup_text (GtkEditable *editable)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (editable)));
}

static gboolean
is_stream_level (LtRuleEditor *self)
{
  g_autofree char *stream = dup_text (GTK_EDITABLE (self->stream_row));

  return *stream != '\0' && !g_str_equal (stream, "*");
}

static gboolean
format_enabled (LtRuleEditor       *self,
                LtRecordFormatKind  kind)
{
  return adw_expander_row_get_enable_expansion (self->format_rows[kind]);
}

/* The parameter table, as the API would receive it. @format_n maps each format to its N
 * in "RecordFormat.N.*" (0 when switched off). */
static GHashTable *
build_params (LtRuleEditor *self,
              int           format_n[N_FORMATS])
{
  GHashTable *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  guint selected = adw_combo_row_get_selected (self->on_demand_row);
  GHashTableIter iter;
  gpointer key, value;
  int n = 0;

  if (self->extra_params != NULL)
    {
      g_hash_table_iter_init (&iter, self->extra_params);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_hash_table_insert (params, g_strdup (key), g_strdup (value));
    }

  for (guint i = FIELD_DOMAIN; i <= FIELD_DELAY; i++)
    {
      g_autofree char *text = dup_text (self->fields[i].editable);

      /* An empty field is an absent parameter: the core says which one is missing, and
       * an empty stream means "*". The delay always goes in, so that an emptied spin
       * button is an error rather than a silent default. */
      if (*text != '\0' || i == FIELD_DELAY)
        g_hash_table_insert (params, g_strdup (base_params[i]), g_steal_pointer (&text));
    }

  if (selected >= G_N_ELEMENTS (on_demand_values))
    selected = 0;
  g_hash_table_insert (params, g_strdup ("OnDemand"),
                       g_strdup_printf ("%d", (int) on_demand_values[selected]));

  if (is_stream_level (self))
    {
      for (guint i = FIELD_START; i <= FIELD_END; i++)
        {
          g_autofree char *text = dup_text (self->fields[i].editable);

          if (*text != '\0')
            g_hash_table_insert (params, g_strdup (base_params[i]), g_steal_pointer (&text));
        }
    }

  for (guint kind = 0; kind < N_FORMATS; kind++)
    {
      gboolean sliced = lt_record_format_kind_is_sliced (kind);

      format_n[kind] = 0;
      if (!format_enabled (self, kind))
        continue;

      format_n[kind] = ++n;
      g_hash_table_insert (params, g_strdup_printf ("RecordFormat.%d.Format", n),
                           g_strdup (lt_record_format_kind_to_string (kind)));

      for (guint sub = 0; sub < N_FORMAT_FIELDS; sub++)
        {
          Field *field = &self->fields[format_field_index (kind, sub)];

          if (!sliced && (sub == FORMAT_FIELD_SLICE || sub == FORMAT_FIELD_SLICE_PREFIX))
            continue;
          /* Object names go in even when empty: the operator cleared a prefilled
           * default, and the core's MissingOssObjectPrefix says so. */
          g_hash_table_insert (params,
                               g_strdup_printf ("RecordFormat.%d.%s", n, format_params[sub]),
                               dup_text (field->editable));
        }
    }

  return params;
}

/* The parameter name of field @index in a table built with @format_n, or NULL when the
 * field is not part of it (a format that is off, a slice field of mp4). */
static char *
field_param_key (guint     index,
                 const int format_n[N_FORMATS])
{
  LtRecordFormatKind kind;
  int sub;

  if (index < FIELD_FORMATS)
    return g_strdup (base_params[index]);

  kind = (index - FIELD_FORMATS) / N_FORMAT_FIELDS;
  sub = field_format_sub (index);
  if (format_n[kind] == 0)
    return NULL;
  if (!lt_record_format_kind_is_sliced (kind) &&
      (sub == FORMAT_FIELD_SLICE || sub == FORMAT_FIELD_SLICE_PREFIX))
    return NULL;

  return g_strdup_printf ("RecordFormat.%d.%s", format_n[kind], format_params[sub]);
}

/* Puts a value in place of field @index that the core is known to accept. */
static void
apply_good_value (GHashTable *params,
                  guint       index,
                  const char *key)
{
  LtRecordFormatKind kind;
  const char *value = NULL;
  g_autofree char *owned = NULL;

  switch (index)
    {
    case FIELD_DOMAIN:
      value = "example.com";
      break;
    case FIELD_APP:
      value = "live";
      break;
    case FIELD_STREAM:
      value = "stream";
      break;
    case FIELD_ENDPOINT:
      value = "local";
      break;
    case FIELD_BUCKET:
      value = "recordings";
      break;
    case FIELD_DELAY:
      value = owned = g_strdup_printf ("%u", LT_RULE_DELAY_DEFAULT);
      break;
    case FIELD_START:
    case FIELD_END:
      /* The window is optional: without either end the rule is valid. */
      g_hash_table_remove (params, "StartTime");
      g_hash_table_remove (params, "EndTime");
      return;
    default:
      kind = (index - FIELD_FORMATS) / N_FORMAT_FIELDS;
      switch (field_format_sub (index))
        {
        case FORMAT_FIELD_CYCLE:
          value = owned = g_strdup_printf ("%u", default_cycle (kind));
          break;
        case FORMAT_FIELD_SLICE:
          value = owned = g_strdup_printf ("%u", LT_RULE_SLICE_DEFAULT);
          break;
        case FORMAT_FIELD_PREFIX:
          value = LT_RULE_DEFAULT_OBJECT_PREFIX;
          break;
        case FORMAT_FIELD_SLICE_PREFIX:
          value = LT_RULE_DEFAULT_SLICE_OBJECT_PREFIX;
          break;
        default:
          g_assert_not_reached ();
        }
    }

  g_hash_table_insert (params, g_strdup (key), g_strdup (value));
}

/* Whether field @index can be the cause of an error with @code. */
static gboolean
field_can_cause (guint index,
                 int   code)
{
  int sub = field_format_sub (index);

  switch (code)
    {
    case LT_RULE_ERROR_MISSING_PARAMETER:
      return index == FIELD_DOMAIN || index == FIELD_APP || index == FIELD_ENDPOINT ||
             index == FIELD_BUCKET || index >= FIELD_FORMATS;
    case LT_RULE_ERROR_INVALID_PARAMETER:
      return TRUE;
    case LT_RULE_ERROR_INVALID_OSS_ENDPOINT_MALFORMED:
      return index == FIELD_ENDPOINT;
    case LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED:
    case LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND:
      return index == FIELD_BUCKET;
    case LT_RULE_ERROR_INVALID_CYCLE_DURATION_MALFORMED:
      return sub == FORMAT_FIELD_CYCLE;
    case LT_RULE_ERROR_INVALID_SLICE_DURATION_MALFORMED:
      return sub == FORMAT_FIELD_SLICE;
    case LT_RULE_ERROR_MISSING_OSS_OBJECT_PREFIX:
    case LT_RULE_ERROR_INVALID_OSS_OBJECT_PREFIX_MALFORMED:
      return sub == FORMAT_FIELD_PREFIX;
    case LT_RULE_ERROR_MISSING_SLICE_OSS_OBJECT_PREFIX:
    case LT_RULE_ERROR_INVALID_SLICE_OSS_OBJECT_PREFIX_MALFORMED:
      return sub == FORMAT_FIELD_SLICE_PREFIX;
    case LT_RULE_ERROR_INVALID_DELAY_TIME:
      return index == FIELD_DELAY;
    case LT_RULE_ERROR_INVALID_START_TIME_MALFORMED:
    case LT_RULE_ERROR_INVALID_START_TIME_MISMATCH:
      return index == FIELD_START;
    case LT_RULE_ERROR_INVALID_END_TIME_MALFORMED:
    case LT_RULE_ERROR_INVALID_END_TIME_MISMATCH:
      return index == FIELD_END;
    default:
      return FALSE;
    }
}

static GHashTable *
copy_params (GHashTable *params)
{
  GHashTable *copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, params);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy, g_strdup (key), g_strdup (value));

  return copy;
}

/* The field at fault for @error, or -1. With one candidate it is that one; otherwise the
 * one whose good value makes the error go away or change. */
static int
find_culprit (GHashTable   *params,
              const int     format_n[N_FORMATS],
              const GError *error,
              GDateTime    *now)
{
  int candidates[N_FIELDS];
  guint n_candidates = 0;

  for (guint i = 0; i < N_FIELDS; i++)
    {
      g_autofree char *key = NULL;

      if (!field_can_cause (i, error->code))
        continue;
      key = field_param_key (i, format_n);
      if (key == NULL)
        continue;
      candidates[n_candidates++] = i;
    }

  if (n_candidates == 1)
    return candidates[0];

  for (guint c = 0; c < n_candidates; c++)
    {
      g_autoptr(GHashTable) trial = copy_params (params);
      g_autofree char *key = field_param_key (candidates[c], format_n);
      g_autoptr(LtRule) rule = NULL;
      g_autoptr(GError) trial_error = NULL;

      apply_good_value (trial, candidates[c], key);
      rule = lt_rule_new_from_params (trial, now, &trial_error);
      if (rule != NULL ||
          trial_error->code != error->code ||
          g_strcmp0 (trial_error->message, error->message) != 0)
        return candidates[c];
    }

  return -1;
}

static void
clear_errors (LtRuleEditor *self)
{
  for (guint i = 0; i < N_FIELDS; i++)
    {
      g_clear_pointer (&self->fields[i].error, g_free);
      self->fields[i].missing = FALSE;
    }
  g_clear_pointer (&self->general_error, g_free);
}

static void
set_field_error (LtRuleEditor *self,
                 guint         index,
                 const GError *error)
{
  Field *field = &self->fields[index];

  if (field->error != NULL)
    return;
  field->error = g_strdup (error->message);
  field->missing = g_error_matches (error, LT_RULE_ERROR, LT_RULE_ERROR_MISSING_PARAMETER);
}

static gboolean
field_error_shown (LtRuleEditor *self,
                   guint         index)
{
  Field *field = &self->fields[index];

  if (field->error == NULL)
    return FALSE;
  /* An empty required field that nobody has touched yet is not worth a red message. */
  if (field->missing && !field->touched)
    {
      g_autofree char *text = dup_text (field->editable);

      return *text != '\0';
    }
  return TRUE;
}

static void
show_errors (LtRuleEditor *self)
{
  GtkLabel *labels[] = {
    self->stream_error_label, self->storage_error_label, self->recording_error_label,
    self->window_error_label, self->formats_error_label,
  };
  gboolean format_has_error[N_FORMATS] = { FALSE, };

  for (guint l = 0; l < G_N_ELEMENTS (labels); l++)
    {
      g_autoptr(GString) text = g_string_new (NULL);

      for (guint i = 0; i < N_FIELDS; i++)
        {
          Field *field = &self->fields[i];
          g_autofree char *message = NULL;

          if (field->error_label != labels[l])
            continue;

          if (!field_error_shown (self, i))
            {
              gtk_widget_remove_css_class (field->row, "error");
              continue;
            }

          gtk_widget_add_css_class (field->row, "error");
          if (field->format >= 0)
            {
              format_has_error[field->format] = TRUE;
              /* TRANSLATORS: a validation message for one format, e.g.
               * "MP4: RecordFormat.2.CycleDuration must be …". */
              message = g_strdup_printf (_("%s: %s"),
                                         lt_rule_text_format_name (field->format),
                                         field->error);
            }
          if (text->len > 0)
            g_string_append_c (text, '\n');
          g_string_append (text, message != NULL ? message : field->error);
        }

      gtk_label_set_label (labels[l], text->str);
      gtk_widget_set_visible (GTK_WIDGET (labels[l]), text->len > 0);
    }

  /* Not the "error" class on the expander: it would colour every row inside it. */
  for (guint kind = 0; kind < N_FORMATS; kind++)
    gtk_widget_set_visible (self->format_error_icons[kind], format_has_error[kind]);

  gtk_label_set_label (self->general_error_label,
                       self->general_error != NULL ? self->general_error : "");
  gtk_widget_set_visible (GTK_WIDGET (self->general_error_label), self->general_error != NULL);
}

static void
update_actions (LtRuleEditor *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.save",
                                 self->valid && !self->saving);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.delete",
                                 self->rule != NULL && !self->saving);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), self->saving);
  gtk_spinner_set_spinning (self->spinner, self->saving);
}

static void
lt_rule_editor_validate (LtRuleEditor *self)
{
  int format_n[N_FORMATS];
  g_autoptr(GHashTable) params = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(LtRule) rule = NULL;
  g_autoptr(GError) error = NULL;

  /* Spin buttons commit their text when they are destroyed: nothing to check then. */
  if (self->filling || self->disposing)
    return;

  gtk_widget_set_visible (GTK_WIDGET (self->window_group), is_stream_level (self));

  clear_errors (self);
  params = build_params (self, format_n);
  rule = lt_rule_new_from_params (params, now, &error);
  self->valid = rule != NULL;

  if (rule == NULL)
    {
      g_autoptr(GError) current = g_error_copy (error);

      /* Each round pins one error to its field and puts a good value there, so the
       * next round finds the next error; N_FIELDS rounds are enough for all. */
      for (guint round = 0; round < N_FIELDS; round++)
        {
          g_autoptr(LtRule) next = NULL;
          g_autofree char *key = NULL;
          int culprit = -1;

          if (current->domain == LT_RULE_ERROR)
            culprit = find_culprit (params, format_n, current, now);
          if (culprit < 0)
            {
              self->general_error = g_strdup (current->message);
              break;
            }

          set_field_error (self, culprit, current);
          key = field_param_key (culprit, format_n);
          apply_good_value (params, culprit, key);

          g_clear_error (&current);
          next = lt_rule_new_from_params (params, now, &current);
          if (next != NULL)
            break;
        }
    }
  else if (self->rule == NULL && self->store != NULL &&
           lt_rule_store_lookup (self->store,
                                 lt_rule_get_domain_name (rule),
                                 lt_rule_get_app_name (rule),
                                 lt_rule_get_stream_name (rule)) != NULL)
    {
      g_autoptr(GError) exists = g_error_new_literal (LT_RULE_ERROR,
                                                      LT_RULE_ERROR_CONFIG_ALREADY_EXISTS,
                                                      _("A rule for this domain, app and "
                                                        "stream already exists."));

      self->valid = FALSE;
      set_field_error (self, is_stream_level (self) ? FIELD_STREAM : FIELD_APP, exists);
    }

  show_errors (self);
  update_actions (self);
}

static void
field_changed_cb (GtkEditable  *editable,
                  LtRuleEditor *self)
{
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (editable), "lt-field")) - 1;

  g_assert (index < N_FIELDS);
  if (self->disposing)
    return;
  if (!self->filling)
    self->fields[index].touched = TRUE;

  /* A spin button shows its value again when it is realized or loses focus; keep the
   * value in step with what was typed (when it is in range, else the message stays). */
  if (GTK_IS_SPIN_BUTTON (editable))
    {
      GtkSpinButton *spin = GTK_SPIN_BUTTON (editable);
      GtkAdjustment *adjustment = gtk_spin_button_get_adjustment (spin);
      guint64 value;

      if (g_ascii_string_to_unsigned (gtk_editable_get_text (editable), 10,
                                      (guint64) gtk_adjustment_get_lower (adjustment),
                                      (guint64) gtk_adjustment_get_upper (adjustment),
                                      &value, NULL) &&
          (double) value != gtk_spin_button_get_value (spin))
        gtk_spin_button_set_value (spin, value);
    }

  lt_rule_editor_validate (self);
}

static void
init_field (LtRuleEditor *self,
            guint         index,
            const char   *id,
            GtkWidget    *row,
            GtkEditable  *editable,
            GtkLabel     *error_label,
            int           format)
{
  Field *field = &self->fields[index];

  field->id = g_strdup (id);
  field->row = row;
  field->editable = editable;
  field->error_label = error_label;
  field->format = format;

  g_object_set_data (G_OBJECT (editable), "lt-field", GUINT_TO_POINTER (index + 1));
  g_signal_connect_object (editable, "changed", G_CALLBACK (field_changed_cb), self, 0);
}

static GtkWidget *
add_spin_row (AdwExpanderRow *expander,
              const char     *title,
              const char     *subtitle,
              guint           min,
              guint           max,
              guint           step,
              guint           value,
              GtkSpinButton **spin_out)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *spin = gtk_spin_button_new_with_range (min, max, step);

  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), TRUE);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), value);
  gtk_editable_set_width_chars (GTK_EDITABLE (spin), 6);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
  adw_expander_row_add_row (expander, row);

  *spin_out = GTK_SPIN_BUTTON (spin);
  return row;
}

static GtkWidget *
add_entry_row (AdwExpanderRow *expander,
               const char     *title,
               const char     *text)
{
  GtkWidget *row = adw_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_editable_set_text (GTK_EDITABLE (row), text);
  adw_entry_row_set_activates_default (ADW_ENTRY_ROW (row), TRUE);
  adw_expander_row_add_row (expander, row);

  return row;
}

static void
format_enabled_cb (LtRuleEditor *self)
{
  lt_rule_editor_validate (self);
}

static void
add_format_row (LtRuleEditor       *self,
                LtRecordFormatKind  kind)
{
  const char *name = lt_record_format_kind_to_string (kind);
  gboolean sliced = lt_record_format_kind_is_sliced (kind);
  AdwExpanderRow *expander = ADW_EXPANDER_ROW (adw_expander_row_new ());
  g_autofree char *cycle_subtitle = NULL;
  g_autofree char *slice_subtitle = NULL;
  const char *subtitle = NULL;
  GtkSpinButton *spin;
  GtkWidget *row;
  char id[64];

  switch (kind)
    {
    case LT_RECORD_FORMAT_M3U8:
      subtitle = _("TS slices with an HLS playlist");
      break;
    case LT_RECORD_FORMAT_MP4:
      subtitle = _("One MP4 file per cycle");
      break;
    case LT_RECORD_FORMAT_FLV:
      subtitle = _("One FLV file per cycle");
      break;
    case LT_RECORD_FORMAT_CMAF:
      subtitle = _("Fragmented MP4 slices with an HLS playlist");
      break;
    default:
      g_assert_not_reached ();
    }

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (expander), lt_rule_text_format_name (kind));
  adw_expander_row_set_subtitle (expander, subtitle);
  adw_expander_row_set_show_enable_switch (expander, TRUE);
  adw_expander_row_set_enable_expansion (expander, FALSE);
  g_signal_connect_object (expander, "notify::enable-expansion",
                           G_CALLBACK (format_enabled_cb), self, G_CONNECT_SWAPPED);
  self->format_rows[kind] = expander;

  /* Shows that a collapsed format has a problem. */
  self->format_error_icons[kind] = gtk_image_new_from_icon_name ("dialog-error-symbolic");
  gtk_widget_set_tooltip_text (self->format_error_icons[kind], _("This format has an error"));
  gtk_widget_set_valign (self->format_error_icons[kind], GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (self->format_error_icons[kind], "error");
  gtk_widget_set_visible (self->format_error_icons[kind], FALSE);
  adw_expander_row_add_action (expander, self->format_error_icons[kind]);

  if (sliced)
    /* TRANSLATORS: %u–%u is the allowed range in seconds. */
    cycle_subtitle = g_strdup_printf (_("Seconds of content per playlist, %u–%u"),
                                      LT_RULE_CYCLE_MIN, LT_RULE_CYCLE_MAX);
  else
    /* TRANSLATORS: %u–%u is the allowed range in seconds. */
    cycle_subtitle = g_strdup_printf (_("Seconds of content per file, %u–%u"),
                                      LT_RULE_CYCLE_MIN, LT_RULE_CYCLE_MAX);
  row = add_spin_row (expander, _("Cycle Duration"), cycle_subtitle,
                      LT_RULE_CYCLE_MIN, LT_RULE_CYCLE_MAX, 60, default_cycle (kind), &spin);
  g_snprintf (id, sizeof id, "%s.%s", name, format_params[FORMAT_FIELD_CYCLE]);
  init_field (self, format_field_index (kind, FORMAT_FIELD_CYCLE), id, row,
              GTK_EDITABLE (spin), self->formats_error_label, kind);

  if (sliced)
    {
      /* TRANSLATORS: %u–%u is the allowed range in seconds. */
      slice_subtitle = g_strdup_printf (_("Target length in seconds, %u–%u; slices are cut "
                                          "on keyframes"),
                                        LT_RULE_SLICE_MIN, LT_RULE_SLICE_MAX);
      row = add_spin_row (expander, _("Slice Duration"), slice_subtitle,
                          LT_RULE_SLICE_MIN, LT_RULE_SLICE_MAX, 1, LT_RULE_SLICE_DEFAULT,
                          &spin);
      g_snprintf (id, sizeof id, "%s.%s", name, format_params[FORMAT_FIELD_SLICE]);
      init_field (self, format_field_index (kind, FORMAT_FIELD_SLICE), id, row,
                  GTK_EDITABLE (spin), self->formats_error_label, kind);
    }

  row = add_entry_row (expander,
                       sliced ? _("Playlist Object Name") : _("File Object Name"),
                       LT_RULE_DEFAULT_OBJECT_PREFIX);
  g_snprintf (id, sizeof id, "%s.%s", name, format_params[FORMAT_FIELD_PREFIX]);
  init_field (self, format_field_index (kind, FORMAT_FIELD_PREFIX), id, row,
              GTK_EDITABLE (row), self->formats_error_label, kind);

  if (sliced)
    {
      row = add_entry_row (expander, _("Slice Object Name"),
                           LT_RULE_DEFAULT_SLICE_OBJECT_PREFIX);
      g_snprintf (id, sizeof id, "%s.%s", name, format_params[FORMAT_FIELD_SLICE_PREFIX]);
      init_field (self, format_field_index (kind, FORMAT_FIELD_SLICE_PREFIX), id, row,
                  GTK_EDITABLE (row), self->formats_error_label, kind);
    }

  adw_preferences_group_add (self->formats_group, GTK_WIDGET (expander));
}

static void
on_demand_selected_cb (LtRuleEditor *self)
{
  guint selected = adw_combo_row_get_selected (self->on_demand_row);
  const char *subtitle;

  switch (selected < G_N_ELEMENTS (on_demand_values) ? on_demand_values[selected]
                                                      : LT_ON_DEMAND_AUTOMATIC)
    {
    case LT_ON_DEMAND_URL:
      subtitle = _("Records a stream when the on-demand URL answers that it should.");
      break;
    case LT_ON_DEMAND_PUSH_ARG:
      subtitle = _("Records streams published with record=1 or record=true in the URL.");
      break;
    case LT_ON_DEMAND_MANUAL:
      subtitle = _("Records only when started by hand or through the API.");
      break;
    case LT_ON_DEMAND_AUTOMATIC:
    default:
      subtitle = _("Records every matching stream while it is published.");
      break;
    }

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->on_demand_row), subtitle);
  lt_rule_editor_validate (self);
}

static char *
format_window_time (gint64 unix_time)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (unix_time);

  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

static void
set_spin_text (GtkEditable *editable,
               guint        value)
{
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (editable), value);
}

static void
fill_from_rule (LtRuleEditor *self,
                LtRule       *rule)
{
  g_autoptr(GHashTable) params = lt_rule_to_params (rule);
  LtOnDemand on_demand = lt_rule_get_on_demand (rule);
  GHashTableIter iter;
  gpointer key, value;

  gtk_editable_set_text (GTK_EDITABLE (self->domain_row), lt_rule_get_domain_name (rule));
  gtk_editable_set_text (GTK_EDITABLE (self->app_row), lt_rule_get_app_name (rule));
  gtk_editable_set_text (GTK_EDITABLE (self->stream_row), lt_rule_get_stream_name (rule));
  gtk_editable_set_text (GTK_EDITABLE (self->endpoint_row), lt_rule_get_oss_endpoint (rule));
  gtk_editable_set_text (GTK_EDITABLE (self->bucket_row), lt_rule_get_oss_bucket (rule));
  gtk_spin_button_set_value (self->delay_spin, lt_rule_get_delay_time (rule));

  for (guint i = 0; i < G_N_ELEMENTS (on_demand_values); i++)
    if (on_demand_values[i] == on_demand)
      adw_combo_row_set_selected (self->on_demand_row, i);

  if (lt_rule_get_start_time (rule) != 0 || lt_rule_get_end_time (rule) != 0)
    {
      g_autofree char *start = format_window_time (lt_rule_get_start_time (rule));
      g_autofree char *end = format_window_time (lt_rule_get_end_time (rule));

      gtk_editable_set_text (GTK_EDITABLE (self->start_row), start);
      gtk_editable_set_text (GTK_EDITABLE (self->end_row), end);
    }

  for (guint kind = 0; kind < N_FORMATS; kind++)
    {
      const LtRecordFormat *format = lt_rule_get_format (rule, kind);

      if (format == NULL)
        continue;

      adw_expander_row_set_enable_expansion (self->format_rows[kind], TRUE);
      adw_expander_row_set_expanded (self->format_rows[kind], FALSE);
      set_spin_text (self->fields[format_field_index (kind, FORMAT_FIELD_CYCLE)].editable,
                     format->cycle_duration);
      gtk_editable_set_text (self->fields[format_field_index (kind, FORMAT_FIELD_PREFIX)].editable,
                             format->object_prefix);
      if (lt_record_format_kind_is_sliced (kind))
        {
          set_spin_text (self->fields[format_field_index (kind, FORMAT_FIELD_SLICE)].editable,
                         format->slice_duration);
          gtk_editable_set_text (self->fields[format_field_index (kind, FORMAT_FIELD_SLICE_PREFIX)].editable,
                                 format->slice_object_prefix);
        }
    }

  /* The editor has no controls for transcoded variants; keep them as they are. */
  self->extra_params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_iter_init (&iter, params);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (g_str_has_prefix (key, "Transcode"))
      g_hash_table_insert (self->extra_params, g_strdup (key), g_strdup (value));
}

static void
save_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(LtRuleEditor) self = user_data;
  g_autoptr(LtRule) saved = g_steal_pointer (&self->pending);
  g_autoptr(GError) error = NULL;
  gboolean replaced = self->rule != NULL;
  gboolean ok;

  if (replaced)
    ok = lt_rule_store_replace_finish (LT_RULE_STORE (source), result, &error);
  else
    ok = lt_rule_store_add_finish (LT_RULE_STORE (source), result, &error);

  if (!ok)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      self->saving = FALSE;
      self->valid = FALSE;
      clear_errors (self);
      if (g_error_matches (error, LT_RULE_ERROR, LT_RULE_ERROR_CONFIG_ALREADY_EXISTS))
        {
          guint index = is_stream_level (self) ? FIELD_STREAM : FIELD_APP;

          set_field_error (self, index, error);
          self->fields[index].touched = TRUE;
        }
      else if (g_error_matches (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_NOT_FOUND) ||
               g_error_matches (error, LT_RULE_ERROR, LT_RULE_ERROR_INVALID_OSS_BUCKET_MALFORMED))
        {
          set_field_error (self, FIELD_BUCKET, error);
          self->fields[FIELD_BUCKET].touched = TRUE;
        }
      else
        {
          self->general_error = g_strdup (error->message);
        }
      show_errors (self);
      update_actions (self);
      return;
    }

  self->saving = FALSE;
  g_signal_emit (self, signals[SIGNAL_SAVED], 0, saved, replaced);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  LtRuleEditor *self = LT_RULE_EDITOR (widget);
  int format_n[N_FORMATS];
  g_autoptr(GHashTable) params = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GError) error = NULL;
  LtRule *rule;

  if (!self->valid || self->saving || self->store == NULL)
    return;

  params = build_params (self, format_n);
  rule = lt_rule_new_from_params (params, now, &error);
  if (rule == NULL)
    {
      lt_rule_editor_validate (self);
      return;
    }

  g_clear_object (&self->pending);
  self->pending = rule;
  self->saving = TRUE;
  update_actions (self);

  if (self->rule != NULL)
    lt_rule_store_replace_async (self->store, rule, self->cancellable,
                                 save_cb, g_object_ref (self));
  else
    lt_rule_store_add_async (self->store, rule, self->cancellable,
                             save_cb, g_object_ref (self));
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  LtRuleEditor *self = LT_RULE_EDITOR (widget);

  if (self->rule != NULL && !self->saving)
    g_signal_emit (self, signals[SIGNAL_DELETE_REQUESTED], 0, self->rule);
}

static void
lt_rule_editor_constructed (GObject *object)
{
  LtRuleEditor *self = LT_RULE_EDITOR (object);
  gboolean editing = self->rule != NULL;

  G_OBJECT_CLASS (lt_rule_editor_parent_class)->constructed (object);

  self->filling = TRUE;
  if (editing)
    {
      fill_from_rule (self, self->rule);
    }
  else
    {
      if (self->prefill_domain != NULL)
        gtk_editable_set_text (GTK_EDITABLE (self->domain_row), self->prefill_domain);
      gtk_editable_set_text (GTK_EDITABLE (self->endpoint_row), "local");
      gtk_editable_set_text (GTK_EDITABLE (self->bucket_row), "recordings");
      /* Most rules record HLS; an operator who wants an exclusion switches it off. */
      adw_expander_row_set_enable_expansion (self->format_rows[LT_RECORD_FORMAT_M3U8], TRUE);
      adw_expander_row_set_expanded (self->format_rows[LT_RECORD_FORMAT_M3U8], FALSE);
    }
  self->filling = FALSE;

  /* The triplet is the rule's identity: editing it would be a different rule. */
  gtk_editable_set_editable (GTK_EDITABLE (self->domain_row), !editing);
  gtk_editable_set_editable (GTK_EDITABLE (self->app_row), !editing);
  gtk_editable_set_editable (GTK_EDITABLE (self->stream_row), !editing);
  gtk_widget_set_visible (self->delete_group, editing);

  gtk_window_set_title (GTK_WINDOW (self), editing ? _("Edit Rule") : _("New Rule"));
  adw_window_title_set_title (self->window_title,
                              editing ? _("Edit Rule") : _("New Rule"));
  if (editing)
    {
      g_autofree char *triplet = lt_rule_text_triplet (self->rule);

      adw_window_title_set_subtitle (self->window_title, triplet);
    }
  gtk_button_set_label (GTK_BUTTON (self->save_button), editing ? _("_Save") : _("_Add"));
  gtk_window_set_default_widget (GTK_WINDOW (self), self->save_button);
  gtk_window_set_focus (GTK_WINDOW (self),
                        editing ? GTK_WIDGET (self->endpoint_row)
                                : self->prefill_domain != NULL ? GTK_WIDGET (self->app_row)
                                                               : GTK_WIDGET (self->domain_row));

  on_demand_selected_cb (self);
}

static void
lt_rule_editor_dispose (GObject *object)
{
  LtRuleEditor *self = LT_RULE_EDITOR (object);

  self->disposing = TRUE;
  g_cancellable_cancel (self->cancellable);

  gtk_widget_dispose_template (GTK_WIDGET (self), LT_TYPE_RULE_EDITOR);

  g_clear_object (&self->store);
  g_clear_object (&self->rule);
  g_clear_object (&self->pending);

  G_OBJECT_CLASS (lt_rule_editor_parent_class)->dispose (object);
}

static void
lt_rule_editor_finalize (GObject *object)
{
  LtRuleEditor *self = LT_RULE_EDITOR (object);

  for (guint i = 0; i < N_FIELDS; i++)
    {
      g_free (self->fields[i].id);
      g_free (self->fields[i].error);
    }
  g_clear_pointer (&self->general_error, g_free);
  g_clear_pointer (&self->extra_params, g_hash_table_unref);
  g_clear_pointer (&self->prefill_domain, g_free);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (lt_rule_editor_parent_class)->finalize (object);
}

static void
lt_rule_editor_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  LtRuleEditor *self = LT_RULE_EDITOR (object);

  switch (prop_id)
    {
    case PROP_RULE_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_RULE:
      g_value_set_object (value, self->rule);
      break;

    case PROP_DOMAIN:
      g_value_set_string (value, self->prefill_domain);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_rule_editor_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  LtRuleEditor *self = LT_RULE_EDITOR (object);

  switch (prop_id)
    {
    case PROP_RULE_STORE:
      self->store = g_value_dup_object (value);
      break;

    case PROP_RULE:
      self->rule = g_value_dup_object (value);
      break;

    case PROP_DOMAIN:
      self->prefill_domain = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lt_rule_editor_class_init (LtRuleEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = lt_rule_editor_constructed;
  object_class->dispose = lt_rule_editor_dispose;
  object_class->finalize = lt_rule_editor_finalize;
  object_class->get_property = lt_rule_editor_get_property;
  object_class->set_property = lt_rule_editor_set_property;

  properties[PROP_RULE_STORE] =
    g_param_spec_object ("rule-store", NULL, NULL,
                         LT_TYPE_RULE_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_RULE] =
    g_param_spec_object ("rule", NULL, NULL,
                         LT_TYPE_RULE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_DOMAIN] =
    g_param_spec_string ("domain", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * LtRuleEditor::saved:
   * @rule: the rule as stored
   * @replaced: %TRUE when an existing rule was edited
   */
  signals[SIGNAL_SAVED] =
    g_signal_new ("saved",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, LT_TYPE_RULE, G_TYPE_BOOLEAN);

  /**
   * LtRuleEditor::delete-requested:
   * @rule: the rule being edited
   *
   * The operator asked to delete the rule; the page confirms and deletes it.
   */
  signals[SIGNAL_DELETE_REQUESTED] =
    g_signal_new ("delete-requested",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, LT_TYPE_RULE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/livetape/Livetape/lt-rule-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, window_title);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, save_button);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, spinner);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, general_error_label);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, stream_group);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, storage_group);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, recording_group);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, window_group);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, formats_group);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, delete_group);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, domain_row);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, app_row);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, stream_row);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, endpoint_row);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, bucket_row);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, start_row);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, end_row);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, on_demand_row);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, delay_row);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, delay_spin);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, stream_error_label);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, storage_error_label);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, recording_error_label);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, window_error_label);
  gtk_widget_class_bind_template_child (widget_class, LtRuleEditor, formats_error_label);

  gtk_widget_class_install_action (widget_class, "editor.save", NULL, save_action);
  gtk_widget_class_install_action (widget_class, "editor.delete", NULL, delete_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK,
                                       "editor.save", NULL);
}

static void
lt_rule_editor_init (LtRuleEditor *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();

  init_field (self, FIELD_DOMAIN, base_params[FIELD_DOMAIN], GTK_WIDGET (self->domain_row),
              GTK_EDITABLE (self->domain_row), self->stream_error_label, -1);
  init_field (self, FIELD_APP, base_params[FIELD_APP], GTK_WIDGET (self->app_row),
              GTK_EDITABLE (self->app_row), self->stream_error_label, -1);
  init_field (self, FIELD_STREAM, base_params[FIELD_STREAM], GTK_WIDGET (self->stream_row),
              GTK_EDITABLE (self->stream_row), self->stream_error_label, -1);
  init_field (self, FIELD_ENDPOINT, base_params[FIELD_ENDPOINT], GTK_WIDGET (self->endpoint_row),
              GTK_EDITABLE (self->endpoint_row), self->storage_error_label, -1);
  init_field (self, FIELD_BUCKET, base_params[FIELD_BUCKET], GTK_WIDGET (self->bucket_row),
              GTK_EDITABLE (self->bucket_row), self->storage_error_label, -1);
  init_field (self, FIELD_DELAY, base_params[FIELD_DELAY], GTK_WIDGET (self->delay_row),
              GTK_EDITABLE (self->delay_spin), self->recording_error_label, -1);
  init_field (self, FIELD_START, base_params[FIELD_START], GTK_WIDGET (self->start_row),
              GTK_EDITABLE (self->start_row), self->window_error_label, -1);
  init_field (self, FIELD_END, base_params[FIELD_END], GTK_WIDGET (self->end_row),
              GTK_EDITABLE (self->end_row), self->window_error_label, -1);

  for (guint kind = 0; kind < N_FORMATS; kind++)
    add_format_row (self, kind);

  g_signal_connect_object (self->on_demand_row, "notify::selected",
                           G_CALLBACK (on_demand_selected_cb), self, G_CONNECT_SWAPPED);
}

LtRuleEditor *
lt_rule_editor_new (LtRuleStore *store,
                    LtRule      *rule,
                    const char  *domain)
{
  g_return_val_if_fail (LT_IS_RULE_STORE (store), NULL);
  g_return_val_if_fail (rule == NULL || LT_IS_RULE (rule), NULL);

  return g_object_new (LT_TYPE_RULE_EDITOR,
                       "rule-store", store,
                       "rule", rule,
                       "domain", domain,
                       NULL);
}

LtRule *
lt_rule_editor_get_rule (LtRuleEditor *self)
{
  g_return_val_if_fail (LT_IS_RULE_EDITOR (self), NULL);

  return self->rule;
}

static Field *
find_field (LtRuleEditor *self,
            const char   *id)
{
  for (guint i = 0; i < N_FIELDS; i++)
    if (g_strcmp0 (self->fields[i].id, id) == 0)
      return &self->fields[i];

  g_error ("No field %s in the rule editor", id);
  return NULL;
}

GtkEditable *
_lt_rule_editor_get_editable (LtRuleEditor *self,
                              const char   *field)
{
  return find_field (self, field)->editable;
}

GtkWidget *
_lt_rule_editor_get_row (LtRuleEditor *self,
                         const char   *field)
{
  return find_field (self, field)->row;
}

const char *
_lt_rule_editor_get_field_error (LtRuleEditor *self,
                                 const char   *field)
{
  Field *f = find_field (self, field);

  return field_error_shown (self, f - self->fields) ? f->error : NULL;
}

GtkLabel *
_lt_rule_editor_get_error_label (LtRuleEditor *self,
                                 const char   *field)
{
  return find_field (self, field)->error_label;
}

const char *
_lt_rule_editor_get_general_error (LtRuleEditor *self)
{
  return self->general_error;
}

gboolean
_lt_rule_editor_format_has_error (LtRuleEditor       *self,
                                  LtRecordFormatKind  kind)
{
  g_return_val_if_fail (kind < N_FORMATS, FALSE);

  return gtk_widget_get_visible (self->format_error_icons[kind]);
}

AdwExpanderRow *
_lt_rule_editor_get_format_row (LtRuleEditor       *self,
                                LtRecordFormatKind  kind)
{
  g_return_val_if_fail (kind < N_FORMATS, NULL);

  return self->format_rows[kind];
}

AdwComboRow *
_lt_rule_editor_get_on_demand_row (LtRuleEditor *self)
{
  return self->on_demand_row;
}

GtkWidget *
_lt_rule_editor_get_save_button (LtRuleEditor *self)
{
  return self->save_button;
}

GtkWidget *
_lt_rule_editor_get_window_group (LtRuleEditor *self)
{
  return GTK_WIDGET (self->window_group);
}

gboolean
_lt_rule_editor_is_valid (LtRuleEditor *self)
{
  return self->valid;
}
