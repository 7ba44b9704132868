/* lt-api-recording.c: RealTimeRecordCommand (SPEC section 3) — DomainName, AppName,
 * StreamName, Command (start, stop, cancel_delay, restart) and an optional Duration for a
 * highlight clip. The reply is the cloud's: just the RequestId. */
#include "config.h"

#include "lt-api-recording.h"

static void
real_time_record_command (LtApiRequest *request,
                          gpointer      user_data)
{
  LtRecordingManager *manager = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) result = NULL;
  const char *domain, *app, *stream, *command_name;
  LtRecordCommand command;
  gint64 duration = 0;

  if ((domain = lt_api_request_require_param (request, "DomainName", &error)) == NULL ||
      (app = lt_api_request_require_param (request, "AppName", &error)) == NULL ||
      (stream = lt_api_request_require_param (request, "StreamName", &error)) == NULL ||
      (command_name = lt_api_request_require_param (request, "Command", &error)) == NULL ||
      !lt_api_request_get_int_param (request, "Duration", 0, 1,
                                     LT_RECORDING_MAX_HIGHLIGHT_DURATION, &duration, &error))
    {
      lt_api_request_return_error (request, error);
      return;
    }
  if (!lt_record_command_from_string (command_name, &command))
    {
      g_autofree char *message =
        g_strdup_printf ("Command must be start, stop, cancel_delay or restart, not “%s”.",
                         command_name);

      lt_api_request_return_error_code (request, 400, "InvalidParameter", message);
      return;
    }

  if (!lt_recording_manager_command (manager, domain, app, stream, command, (guint) duration,
                                     &error))
    {
      if (error->domain == LT_RECORDING_ERROR)
        lt_api_request_return_error_code (request,
                                          lt_recording_error_http_status (error->code),
                                          lt_recording_error_code_name (error->code),
                                          error->message);
      else
        lt_api_request_return_error (request, error);
      return;
    }

  result = json_object_new ();
  lt_api_request_return_result (request, result);
}

void
lt_api_recording_register (LtApiServer        *server,
                           LtRecordingManager *manager)
{
  g_return_if_fail (LT_IS_API_SERVER (server));
  g_return_if_fail (LT_IS_RECORDING_MANAGER (manager));

  lt_api_server_add_action (server, "RealTimeRecordCommand", real_time_record_command,
                            g_object_ref (manager), g_object_unref);
}
