//! Submitting an application: `POST /v1/applications` and the page upload
//! `PUT /v1/applications/{id}/materials/{material_id}/pages/{sha256}`.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Dataset, Gender, Masked, Role};

/// One accepted application, sent once with `Idempotency-Key: <application_id>`
/// (schema `ApplicationSubmission`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSubmission {
    /// Unique across all kiosks: a UUID v7 made by the kiosk at acceptance. Also the
    /// idempotency key.
    pub application_id: Uuid,
    /// The application number (申请编号) the kiosk printed on the acceptance notice:
    /// `YYMMDD-<digits of the kiosk id>-NNNN`, e.g. `261120-33010601-0007` (acceptance date
    /// in local time, the kiosk id's digits in order, the kiosk's sequence number of that day,
    /// zero-padded to at least four digits). Unique across all kiosks; the resident types it
    /// with the query code for [`crate::wire::ProgressByCodeRequest`]. The platform uses it
    /// as the case number and refuses (409) a number already used by another application.
    pub application_number: String,
    /// The accepting kiosk; equal to the `X-Kiosk-Id` header.
    pub kiosk_id: String,
    /// The one-thing (一件事) id from the catalogue, e.g. `birth`.
    pub one_thing_id: String,
    /// Its name as the resident saw it, e.g. `出生一件事`.
    pub one_thing_name: String,
    /// The catalogue version the kiosk used, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalogue_version: Option<String>,
    /// The items the resident kept, in dependency order: an item comes after every item it
    /// depends on.
    pub items: Vec<SubmittedItem>,
    /// Everyone whose identity is part of the application (at least one).
    pub applicants: Vec<Applicant>,
    /// The one merged form: field id (from the catalogue) → value and where it came from.
    pub form: BTreeMap<String, FormValue>,
    /// Every material of the chosen items and how it was provided.
    pub materials: Vec<Material>,
    /// How the results reach the resident.
    pub delivery: Delivery,
    /// The phone number for notices (SMS on pickup readiness).
    pub contact_phone: String,
    /// When the kiosk accepted the application (the resident pressed "submit").
    pub accepted_at: Timestamp,
    /// The promised completion date, when the kiosk could compute it (working days on the
    /// holiday calendar); absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<Date>,
    /// Lower-case hex SHA-256 of the resident's query code (see
    /// [`crate::mask::query_code_hash`]); the code itself never leaves the kiosk.
    pub query_code_sha256: String,
}

impl fmt::Debug for ApplicationSubmission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationSubmission")
            .field("application_id", &self.application_id)
            .field("application_number", &self.application_number)
            .field("kiosk_id", &self.kiosk_id)
            .field("one_thing_id", &self.one_thing_id)
            .field("items", &self.items)
            .field("applicants", &self.applicants.len())
            .field("form_fields", &self.form.len())
            .field("materials", &self.materials)
            .field("delivery", &self.delivery)
            .field("accepted_at", &self.accepted_at)
            .field("due_date", &self.due_date)
            .finish_non_exhaustive()
    }
}

/// One item (事项) of the one-thing (schema `SubmittedItem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedItem {
    /// The item id from the catalogue, e.g. `household-registration`.
    pub item_id: String,
    /// Its name, e.g. `出生户口登记`.
    pub name: String,
    /// The responsible department, e.g. `落户地公安派出所`.
    pub department: String,
    /// The time limit in working days (0 = done the same day).
    pub time_limit_working_days: u32,
    /// Ids of items of this application that must be done before this one starts.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// What the resident receives when it is done; absent when nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ItemResult>,
}

/// What an item produces (schema `ItemResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemResult {
    /// Plain name, e.g. `居民户口簿`.
    pub name: String,
    pub kind: ResultKind,
}

/// The kind of result an item produces (schema `ResultKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultKind {
    /// A paper certificate or booklet to collect (locker, window, mail).
    Document,
    /// A social security card: made on the spot by the kiosk's card unit, or centrally and
    /// then collected like a document.
    SocialSecurityCard,
    /// An electronic licence or record only: nothing to collect.
    Electronic,
}

/// A person in the application (schema `Applicant`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    pub role: Role,
    pub name: String,
    /// The number on the identity document (18 characters for a resident ID card).
    pub id_number: String,
    pub id_kind: IdKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Date>,
    /// Ethnic group (民族) as on the card, e.g. `汉`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// How the kiosk knows this person.
    pub identified_by: IdentifiedBy,
}

impl fmt::Debug for Applicant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Applicant")
            .field("role", &self.role)
            .field("name", &Masked)
            .field("id_number", &Masked)
            .field("id_kind", &self.id_kind)
            .field("identified_by", &self.identified_by)
            .finish_non_exhaustive()
    }
}

/// The identity document kind (schema `IdKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// 居民身份证.
    Resident,
    /// 港澳台居民居住证.
    HkMoTwPermit,
    /// 外国人永久居留身份证.
    ForeignPermanent,
    /// Anything else, typed by staff.
    Other,
}

/// How the kiosk identified a person (schema `IdentifiedBy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifiedBy {
    /// Read from the chip of their identity card at the kiosk.
    IdCard,
    /// Typed (e.g. the other parent, not present).
    Typed,
}

/// One field of the merged form (schema `FormValue`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormValue {
    pub value: String,
    pub source: ValueSource,
}

impl fmt::Debug for FormValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormValue")
            .field("value", &Masked)
            .field("source", &self.source)
            .finish()
    }
}

/// Where a form value came from (schema `ValueSource`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum ValueSource {
    /// Read from an ID card chip.
    Card {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
    },
    /// Fetched from shared data (and left unchanged by the resident).
    Shared {
        dataset: Dataset,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
    },
    /// Typed or chosen by the resident.
    Typed,
}

/// A material (材料) of the application (schema `Material`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    /// The material id from the catalogue, e.g. `marriage-certificate`.
    pub material_id: String,
    pub name: String,
    /// Primary materials can never be missing; only secondary ones may be committed later.
    pub primary: bool,
    pub state: MaterialState,
}

/// How a material was provided (schema `MaterialState`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MaterialState {
    /// Fetched by data sharing (the platform has it already).
    Shared {
        dataset: Dataset,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
    },
    /// Scanned at the kiosk; the pages are uploaded separately, each by its hash.
    Scanned { pages: Vec<PageRef> },
    /// Missing for now, on a written commitment to bring it by the deadline (容缺受理).
    CommittedLater { deadline: Date },
    /// Taken from an identity card read at the kiosk.
    FromCard {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
    },
    /// The merged application form itself (联办登记表), made by the platform from `form`.
    Form,
}

/// One scanned page of a material (schema `PageRef`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRef {
    /// Lower-case hex SHA-256 of the JPEG bytes: the page's name in the upload URL.
    pub sha256: String,
    /// Size of the JPEG in bytes.
    pub bytes: u64,
}

/// How the results reach the resident (schema `Delivery`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Delivery {
    /// Collected from a kiosk's certificate locker (usually the accepting kiosk).
    Locker { kiosk_id: String },
    /// Posted (EMS) to the address.
    Mail { address: MailingAddress },
    /// Collected at a service window.
    Window {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        place: Option<String>,
    },
    /// Handed over at the kiosk at once (e.g. a card made on the spot).
    OnTheSpot,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delivery::Locker { kiosk_id } => write!(f, "Locker({kiosk_id})"),
            Delivery::Mail { .. } => f.write_str("Mail(<masked>)"),
            Delivery::Window { .. } => f.write_str("Window"),
            Delivery::OnTheSpot => f.write_str("OnTheSpot"),
        }
    }
}

/// A postal address (schema `MailingAddress`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailingAddress {
    pub recipient: String,
    pub phone: String,
    pub province: String,
    pub city: String,
    pub district: String,
    /// Street, number, building, room.
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
}

impl fmt::Debug for MailingAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MailingAddress(<masked>)")
    }
}

/// The platform's answer to a submission, the same on the first receipt (201) and on every
/// repeat with the same key and body (200) (schema `SubmissionReceipt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionReceipt {
    pub application_id: Uuid,
    /// The platform's case number (办件编号), for staff and the resident: the submission's
    /// `application_number`.
    pub case_number: String,
    /// When the platform first received it.
    pub received_at: Timestamp,
}

/// The answer to a page upload (schema `PageReceipt`): 201 the first time, 200 again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageReceipt {
    pub application_id: Uuid,
    pub material_id: String,
    pub sha256: String,
    pub bytes: u64,
}
