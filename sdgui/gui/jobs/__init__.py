"""Copy jobs in the window: their state, and the manager that runs them on a thread pool."""
