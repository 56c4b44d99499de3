//! Device crate for the scanner (work in progress).
