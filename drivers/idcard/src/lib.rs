//! Device crate for the idcard (work in progress).
