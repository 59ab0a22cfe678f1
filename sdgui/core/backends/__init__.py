"""Volume backends: one interface over the local filesystem and object stores."""
