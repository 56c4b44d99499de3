//! Device crate for the printer (work in progress).
