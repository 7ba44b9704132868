/* lt-test-utils.h: the shared test environment — temp dirs, a main-loop helper, a loopback
 * HTTP server fixture. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* g_test_init() with G_TEST_OPTION_ISOLATE_DIRS plus the house environment. */
void   lt_test_init          (int    *argc,
                              char ***argv);
/* A fresh temporary directory, removed recursively at the end of the test. */
char  *lt_test_make_temp_dir (void);
/* Iterates the thread-default main context until *@flag becomes TRUE or @timeout_ms
 * passes (then the test fails). */
void   lt_test_wait_for      (gboolean *flag,
                              guint     timeout_ms);
/* Iterates until an async result is stored in *@result (for _async/_finish tests). */
void   lt_test_wait_result   (GAsyncResult **result);
/* A GAsyncReadyCallback that stores a ref of the result in the GAsyncResult ** user data. */
void   lt_test_store_result_cb (GObject      *source,
                                GAsyncResult *result,
                                gpointer      user_data);

G_END_DECLS
