//! Device crate for the dispenser (work in progress).
