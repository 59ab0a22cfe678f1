"""Fault injection: copy jobs against real S3 servers through a proxy that drops, stalls and throttles."""
