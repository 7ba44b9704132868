/* lt-op-queue.h: one asynchronous operation at a time, in the order they were asked for —
 * how the rule store, the notify store and the storage targets keep their in-memory lists
 * and the catalog in step (each operation checks against the list, writes, then changes
 * the list). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  GQueue  pending;   /* GTask, waiting */
  GTask  *running;   /* the operation talking to the keyring or the catalog, or NULL */
} LtOpQueue;

/* Starts @owner's running operation (queue->running). */
typedef void (*LtOpQueueStartFunc) (gpointer owner);

/* A task for an operation: @op is its task data. Once the change is made, the caller
 * hears of it even if it cancelled meanwhile (no check-cancellable). */
GTask *_lt_op_queue_task_new (gpointer             source_object,
                              gpointer             op,
                              GDestroyNotify       op_free,
                              gpointer             source_tag,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data);
/* Queues @task (taken) and starts it when nothing else runs. */
void   _lt_op_queue_push     (LtOpQueue           *queue,
                              GTask               *task,
                              LtOpQueueStartFunc   start,
                              gpointer             owner);
/* The running operation returned its result: drops it and starts the next one (tasks
 * cancelled while they waited return G_IO_ERROR_CANCELLED without starting). */
void   _lt_op_queue_next     (LtOpQueue           *queue,
                              LtOpQueueStartFunc   start,
                              gpointer             owner);

G_END_DECLS
