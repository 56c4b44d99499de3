//! Device crate for the locker (work in progress).
