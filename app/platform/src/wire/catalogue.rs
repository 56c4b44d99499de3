//! Catalogue updates: `GET /v1/catalogue?since=VERSION` (the version is not personal data).

use std::collections::BTreeMap;
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};

/// A newer catalogue (schema `CatalogueUpdate`), answered with 200. When the kiosk already
/// has the newest version the answer is 304 with no body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueUpdate {
    pub version: String,
    /// Path relative to the kiosk's catalogue folder (`one-things/birth.toml`) → TOML text.
    pub files: BTreeMap<String, String>,
}

/// A catalogue file path that would leave the catalogue folder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("catalogue file path {0:?} is not a plain relative path ending in .toml")]
pub struct BadCataloguePath(pub String);

impl CatalogueUpdate {
    /// Checks that every path is relative, stays inside the catalogue folder (no `..`, no
    /// root, no drive) and names a `.toml` file. Call before writing anything.
    pub fn check_paths(&self) -> Result<(), BadCataloguePath> {
        for path in self.files.keys() {
            let p = Path::new(path);
            let plain = !path.is_empty()
                && p.components().all(|c| matches!(c, Component::Normal(_)))
                && p.extension().is_some_and(|e| e == "toml");
            if !plain {
                return Err(BadCataloguePath(path.clone()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_stay_inside() {
        let mut u = CatalogueUpdate {
            version: "2".into(),
            files: BTreeMap::from([("one-things/birth.toml".into(), String::new())]),
        };
        assert!(u.check_paths().is_ok());
        for bad in ["../x.toml", "/etc/x.toml", "a/../../b.toml", "x.sh", ""] {
            u.files = BTreeMap::from([(bad.into(), String::new())]);
            assert!(u.check_paths().is_err(), "{bad}");
        }
    }
}
