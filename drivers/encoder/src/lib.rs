//! Device crate for the encoder (work in progress).
