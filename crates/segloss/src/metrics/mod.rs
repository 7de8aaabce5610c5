//! Streaming, mergeable confusion-matrix metrics.
