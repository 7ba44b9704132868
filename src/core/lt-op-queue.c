/* lt-op-queue.c: see lt-op-queue.h. */
#include "config.h"

#include "lt-op-queue.h"

GTask *
_lt_op_queue_task_new (gpointer             source_object,
                       gpointer             op,
                       GDestroyNotify       op_free,
                       gpointer             source_tag,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task = g_task_new (source_object, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, op, op_free);
  g_task_set_check_cancellable (task, FALSE);
  return task;
}

static void
run_next (LtOpQueue          *queue,
          LtOpQueueStartFunc  start,
          gpointer            owner)
{
  while (queue->running == NULL && !g_queue_is_empty (&queue->pending))
    {
      GTask *task = g_queue_pop_head (&queue->pending);

      if (g_task_return_error_if_cancelled (task))
        {
          g_object_unref (task);
          continue;
        }
      queue->running = task;
      start (owner);
    }
}

void
_lt_op_queue_push (LtOpQueue          *queue,
                   GTask              *task,
                   LtOpQueueStartFunc  start,
                   gpointer            owner)
{
  g_queue_push_tail (&queue->pending, task);
  run_next (queue, start, owner);
}

void
_lt_op_queue_next (LtOpQueue          *queue,
                   LtOpQueueStartFunc  start,
                   gpointer            owner)
{
  g_autoptr(GTask) task = g_steal_pointer (&queue->running);

  run_next (queue, start, owner);
}
