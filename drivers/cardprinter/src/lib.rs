//! Device crate for the cardprinter (work in progress).
