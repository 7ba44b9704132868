/* lt-test-utils.h: the shared test environment — temp dirs, main-loop helpers, a reader for
 * the control API's XML replies. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* g_test_init() with G_TEST_OPTION_ISOLATE_DIRS plus the house environment. */
void      lt_test_init            (int              *argc,
                                   char           ***argv);
/* A fresh temporary directory, removed recursively at the end of the test. */
char     *lt_test_make_temp_dir   (void);

typedef gboolean (*LtTestCondition) (gpointer data);

/* Iterates the thread-default main context until @condition (@data) holds or
 * @timeout_ms passes; returns whether it holds. */
gboolean  lt_test_iterate_until   (LtTestCondition   condition,
                                   gpointer          data,
                                   guint             timeout_ms);
/* lt_test_iterate_until(), but the test fails (naming @what) when the time runs out. */
void      lt_test_wait_until      (LtTestCondition   condition,
                                   gpointer          data,
                                   guint             timeout_ms,
                                   const char       *what);
/* Iterates the thread-default main context until *@flag becomes TRUE or @timeout_ms
 * passes (then the test fails). */
void      lt_test_wait_for        (gboolean         *flag,
                                   guint             timeout_ms);
/* Iterates the thread-default main context for @ms: lets timers, idles and I/O run. */
void      lt_test_spin            (guint             ms);

/* Iterates until an async result is stored in *@result (for _async/_finish tests). */
void      lt_test_wait_result     (GAsyncResult    **result);
/* A GAsyncReadyCallback that stores a ref of the result in the GAsyncResult ** user data. */
void      lt_test_store_result_cb (GObject          *source,
                                   GAsyncResult     *result,
                                   gpointer          user_data);

/* Reads @xml, which must start with the XML declaration the control API writes, into
 * element paths ("Root/A/B"): *@text maps each path to the text of the last such element,
 * *@counts to the number of such elements (GUINT_TO_POINTER). *@root (when @root is not
 * NULL) gets the root element's name. A malformed document fails the test. */
void      lt_test_read_xml        (const char       *xml,
                                   char            **root,
                                   GHashTable      **text,
                                   GHashTable      **counts);

G_END_DECLS
