"""Tasks run in-process (the embedded default: no Redis, no Celery worker).

A task then runs inside the request that queued it, so nothing waits to retry: the failure says so
in these words, for scans and notifications alike.
"""

NOT_RETRIED = "not retried: tasks run in-process here (start a worker for retries)"
