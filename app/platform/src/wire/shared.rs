//! Shared-data look-up (数据共享): `POST /v1/shared-data/lookup`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Masked, Role};

/// The shared datasets and their fields. Ids and field names are fixed by the kiosk's
/// catalogue (schema `Dataset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dataset {
    /// 户籍信息 (居民户口簿).
    HouseholdRegister,
    /// 结婚登记信息.
    MarriageCertificate,
    /// 出生医学证明, kept under the mother.
    BirthMedicalCertificate,
    /// 社会保险参保信息.
    SocialInsurance,
    /// 残疾人证.
    DisabilityCertificate,
    /// 退役军人信息.
    VeteranRecord,
    /// 不动产登记信息.
    PropertyRecord,
    /// 营业执照, under the legal representative.
    BusinessLicence,
    /// 死亡信息, under the deceased.
    DeathRecord,
}

impl Dataset {
    /// Every dataset, in a fixed order.
    pub const ALL: [Dataset; 9] = [
        Dataset::HouseholdRegister,
        Dataset::MarriageCertificate,
        Dataset::BirthMedicalCertificate,
        Dataset::SocialInsurance,
        Dataset::DisabilityCertificate,
        Dataset::VeteranRecord,
        Dataset::PropertyRecord,
        Dataset::BusinessLicence,
        Dataset::DeathRecord,
    ];

    /// The id on the wire and in the catalogue, e.g. `household-register`.
    pub fn id(self) -> &'static str {
        match self {
            Dataset::HouseholdRegister => "household-register",
            Dataset::MarriageCertificate => "marriage-certificate",
            Dataset::BirthMedicalCertificate => "birth-medical-certificate",
            Dataset::SocialInsurance => "social-insurance",
            Dataset::DisabilityCertificate => "disability-certificate",
            Dataset::VeteranRecord => "veteran-record",
            Dataset::PropertyRecord => "property-record",
            Dataset::BusinessLicence => "business-licence",
            Dataset::DeathRecord => "death-record",
        }
    }

    /// The field names a found record always has. Values are strings; dates `YYYY-MM-DD`.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Dataset::HouseholdRegister => &[
                "household_number",
                "head_name",
                "address",
                "registration_authority",
            ],
            Dataset::MarriageCertificate => &[
                "certificate_number",
                "registered_on",
                "registration_authority",
                "spouse_name",
            ],
            Dataset::BirthMedicalCertificate => &[
                "certificate_number",
                "child_name",
                "child_gender",
                "birth_date",
                "birth_place",
                "institution",
            ],
            Dataset::SocialInsurance => &["insured", "scheme", "insured_since"],
            Dataset::DisabilityCertificate => &["certificate_number", "category", "grade"],
            Dataset::VeteranRecord => &["discharge_date", "service_branch", "resettlement"],
            Dataset::PropertyRecord => &["certificate_number", "address", "area"],
            Dataset::BusinessLicence => &["credit_code", "name", "legal_representative", "address"],
            Dataset::DeathRecord => &["deceased_name", "death_date", "death_place"],
        }
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A dataset id that is not one of [`Dataset::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dataset id")]
pub struct UnknownDataset;

impl FromStr for Dataset {
    type Err = UnknownDataset;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dataset::ALL
            .into_iter()
            .find(|d| d.id() == s)
            .ok_or(UnknownDataset)
    }
}

/// A look-up of one person's record in one dataset (schema `SharedDataRequest`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedDataRequest {
    pub dataset: Dataset,
    /// Whose record: the ID number of that person.
    pub id_number: String,
    /// The person's role in the application being prepared, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

impl fmt::Debug for SharedDataRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedDataRequest")
            .field("dataset", &self.dataset)
            .field("id_number", &Masked)
            .field("role", &self.role)
            .finish()
    }
}

/// A found record (schema `SharedDataRecord`), answered with 200. Not found is 404;
/// the data source unavailable is 503.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedDataRecord {
    pub dataset: Dataset,
    /// Field name (see [`Dataset::fields`]) → value.
    pub fields: BTreeMap<String, String>,
}

impl fmt::Debug for SharedDataRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedDataRecord")
            .field("dataset", &self.dataset)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_serde_and_from_str() {
        for d in Dataset::ALL {
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(json, format!("\"{}\"", d.id()));
            assert_eq!(d.id().parse::<Dataset>().unwrap(), d);
            assert!(!d.fields().is_empty());
        }
        assert!("passport".parse::<Dataset>().is_err());
    }
}
