"""The static engine: parse each file once, run every rule in one batched traversal, then join
the per-file results across the project (handler reachability, event sources)."""
