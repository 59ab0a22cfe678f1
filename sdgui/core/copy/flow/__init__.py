"""Flow control for a job's transfers: per-file retries, the concurrency gate, bandwidth limits, rates."""
