"""The Prefect flows, one per job: each a thin sequence of tasks over storage and run."""
