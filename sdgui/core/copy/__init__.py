"""Copy jobs: strategies, router, job, action, events, verification."""
