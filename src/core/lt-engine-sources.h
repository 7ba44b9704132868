/* lt-engine-sources.h: the checks behind the engine's pull-source calls (declared in
 * lt-engine.h, implemented in lt-engine-sources.c), public so that the console's source
 * dialog validates as the operator types with the same rules and messages. */
#pragma once

#include "lt-engine.h"

G_BEGIN_DECLS

/* Which setting a check failed on. */
typedef enum /*< skip >*/
{
  LT_PULL_SOURCE_FIELD_NONE,
  LT_PULL_SOURCE_FIELD_URI,
  LT_PULL_SOURCE_FIELD_DOMAIN,
  LT_PULL_SOURCE_FIELD_APP,
  LT_PULL_SOURCE_FIELD_STREAM,
} LtPullSourceField;

/* Checks the settings of a pull source in the order of the fields (@domain NULL or ""
 * means "from the URI"). On failure sets an LT_PULL_SOURCE_ERROR with a translated
 * message and *@field (may be NULL) to the field at fault. */
gboolean  lt_engine_check_pull_source          (const char         *uri,
                                                const char         *domain,
                                                const char         *app,
                                                const char         *stream,
                                                LtPullSourceField  *field,
                                                GError            **error);
/* The domain a pull source with these settings gets: @domain lowercased without a
 * trailing dot when given, else the host of @uri, or the engine's default domain when
 * the URI has none (an address, a file). */
char     *lt_engine_dup_pull_source_domain     (LtEngine           *self,
                                                const char         *uri,
                                                const char         *domain);

G_END_DECLS
