//! The kiosk platform API (work in progress).
