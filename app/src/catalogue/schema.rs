//! The catalogue's file format, one struct per TOML table. The format is described for
//! people in `config/catalogue/README.md`; keep the two in step.

use std::collections::BTreeMap;

use crate::{toml_enum, toml_section};

toml_enum! {
    pub enum Audience { Resident = "resident", Enterprise = "enterprise" }
}

toml_enum! {
    /// How a result reaches the resident.
    pub enum Delivery {
        /// Self pickup from the 24-hour certificate locker.
        Locker = "locker",
        /// Posted to the resident (postage at the resident's cost where the guide says so).
        Mail = "mail",
        /// Collected at the centre's window.
        Window = "window",
        /// Issued on the spot by the kiosk (the social security card).
        OnTheSpot = "on-the-spot",
    }
}

toml_enum! {
    /// Where a material comes from (DB33/T 2304 5.2.3: what sharing can supply is not asked for).
    pub enum MaterialSource {
        /// Read from the ID card on the kiosk's reader.
        IdCard = "id-card",
        /// Fetched from the platform's shared data (电子证照/数据共享).
        Shared = "shared",
        /// Scanned at the kiosk.
        Scan = "scan",
        /// A form the resident signs at the kiosk.
        SignedForm = "signed-form",
        /// The one merged application form itself (一表申请).
        MergedForm = "merged-form",
    }
}

toml_enum! {
    /// DB33/T 2036.2 3.3: only secondary materials may be missing on a written commitment (容缺).
    pub enum Importance { Primary = "primary", Secondary = "secondary" }
}

toml_enum! {
    pub enum FieldType {
        Text = "text",
        /// A person's name in Chinese characters (typed with the pinyin keyboard).
        ChineseName = "chinese-name",
        /// A citizen ID number, GB 11643 check digit verified.
        IdNumber = "id-number",
        /// A mainland mobile or fixed-line number.
        Phone = "phone",
        Date = "date",
        Choice = "choice",
        Address = "address",
        Number = "number",
    }
}

toml_enum! {
    pub enum PrefillFrom {
        /// A field of an applicant's ID card.
        Card = "card",
        /// A field of a shared-data dataset.
        Shared = "shared",
        /// The answer to a situation question.
        Answer = "answer",
        /// Typed by the resident.
        Resident = "resident",
    }
}

toml_section! {
    /// `catalogue.toml`: the lists every one-thing refers to.
    #[derive(Debug, Clone)]
    pub struct CatalogueFile {
        pub version: String,
        pub life_stages: BTreeMap<String, LifeStage>,
        pub departments: BTreeMap<String, Department>,
        pub datasets: BTreeMap<String, Dataset>,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct LifeStage {
        pub name: String,
        pub name_en: String,
        pub audience: Audience,
        /// Order on the home screen.
        pub order: u32,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct Department {
        /// The name exactly as the source document lists it.
        pub name: String,
        pub name_en: String,
    }
}

toml_section! {
    /// Shared data the platform can supply for a person (电子证照 / 数据共享).
    #[derive(Debug, Clone)]
    pub struct Dataset {
        pub name: String,
        pub name_en: String,
        pub fields: Vec<String>,
    }
}

toml_section! {
    /// One file in `one-things/`: a main item (主项), or a sub-item (子项) when it names its
    /// `parent`. Situations (情形项) are declared inside either.
    #[derive(Debug, Clone)]
    pub struct OneThingFile {
        pub id: String,
        pub name: String,
        pub name_en: String,
        /// For a sub-item: the main item it belongs to.
        pub parent: Option<String>,
        pub audience: Audience,
        pub life_stage: String,
        pub lead_department: String,
        /// Set when the source does not name the lead department and it was inferred.
        pub lead_department_note: Option<String>,
        /// Source documents.
        pub basis: Vec<String>,
        /// Shown on the one-time notice.
        pub summary: String,
        pub summary_en: String,
        /// The people who must identify with their ID cards (e.g. both parents).
        pub applicants: Vec<Applicant>,
        pub time_limit: TimeLimit,
        pub fee: String,
        pub fee_en: String,
        pub delivery: Vec<Delivery>,
        pub guide: Guide,
        pub items: Vec<Item>,
        pub materials: Vec<Material>,
        pub questions: Vec<Question> = Vec::new(),
        pub situations: Vec<Situation> = Vec::new(),
        pub fields: Vec<Field>,
    }
}

/// What a one-thing at either level holds.
#[derive(Debug, Clone)]
pub struct Body {
    pub applicants: Vec<Applicant>,
    pub time_limit: TimeLimit,
    pub fee: String,
    pub fee_en: String,
    pub delivery: Vec<Delivery>,
    pub guide: Guide,
    pub items: Vec<Item>,
    pub materials: Vec<Material>,
    pub questions: Vec<Question>,
    pub situations: Vec<Situation>,
    pub fields: Vec<Field>,
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct Applicant {
        /// Used in prefill references (`card` with `person = "father"`).
        pub role: String,
        pub label: String,
        pub label_en: String,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct TimeLimit {
        pub working_days: u32,
        /// What the count leaves out (出生: 信息确认、制卡、寄送时间).
        pub excludes: Option<String>,
        /// Set when the source gives no time limit and a default was written.
        pub note: Option<String>,
    }
}

toml_section! {
    /// The simplified guide (简版办事指南), C.1–C.8 of the birth specification.
    #[derive(Debug, Clone)]
    pub struct Guide {
        /// C.2 适用范围
        pub scope: String,
        pub scope_en: String,
        /// C.7 咨询途径
        pub consultation: String,
        pub consultation_en: String,
        /// Where the full guide is (DB33/T 2304 5.3.2: the QR code on the slip leads there).
        pub full_guide_path: String,
    }
}

toml_section! {
    /// A single government service joined into the one-thing (涉及事项).
    #[derive(Debug, Clone)]
    pub struct Item {
        pub id: String,
        pub name: String,
        pub name_en: String,
        pub department: String,
        pub time_limit_days: u32,
        pub time_limit_note: Option<String>,
        /// Chosen unless the resident deselects it (they may keep all or part of the items).
        pub default_selected: bool = true,
        /// Items that must finish first (the social security card needs the household entry).
        pub depends_on: Vec<String> = Vec::new(),
        /// Items the law requires to be handled together with this one (并行办理).
        pub must_go_with: Vec<String> = Vec::new(),
        /// What the resident receives.
        pub result: String,
        pub delivery: Vec<Delivery>,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct Material {
        pub id: String,
        pub name: String,
        pub name_en: String,
        pub source: MaterialSource,
        /// For shared materials: what to do when sharing fails (scan it).
        pub fallback: Option<MaterialSource>,
        /// For shared materials: the dataset it is fetched from.
        pub dataset: Option<String>,
        /// For shared and card materials: whose (an applicant role).
        pub person: Option<String>,
        pub importance: Importance,
        /// For secondary materials: working days to supply it on a 容缺 commitment.
        pub commit_days: Option<u32>,
        /// The items that need it; empty means every item.
        pub for_items: Vec<String> = Vec::new(),
    }
}

toml_section! {
    /// A situation question (情形): its answer selects or deselects items, or names a situation.
    #[derive(Debug, Clone)]
    pub struct Question {
        pub id: String,
        pub text: String,
        pub text_en: String,
        pub options: Vec<AnswerOption>,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct AnswerOption {
        pub value: String,
        pub label: String,
        pub label_en: String,
        pub select: Vec<String> = Vec::new(),
        pub deselect: Vec<String> = Vec::new(),
        /// A situation (情形项) this answer puts the application in.
        pub situation: Option<String>,
        /// This answer means the kiosk cannot take the application (said in plain words).
        pub not_eligible: Option<String>,
    }
}

toml_section! {
    /// A situation (情形项): a named variant of the one-thing with items of its own.
    #[derive(Debug, Clone)]
    pub struct Situation {
        pub id: String,
        pub name: String,
        pub name_en: String,
        pub items: Vec<String>,
    }
}

toml_section! {
    /// One field of the merged form (一表申请), asked once however many items need it.
    #[derive(Debug, Clone)]
    pub struct Field {
        pub id: String,
        pub label: String,
        pub label_en: String,
        /// The kind of value, which decides the keyboard and the validation.
        pub kind: FieldType,
        pub required: bool = true,
        pub prefill: Prefill,
        /// The items that need it; empty means every item.
        pub for_items: Vec<String> = Vec::new(),
        /// For choice fields.
        pub options: Vec<String> = Vec::new(),
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct Prefill {
        pub from: PrefillFrom,
        /// For `card`: the applicant role; for `shared`: the role whose record is fetched, or
        /// `answer:<question>` to take the role from an answer.
        pub person: Option<String>,
        pub dataset: Option<String>,
        /// The card field or dataset field; for `answer`: the question id.
        pub field: Option<String>,
    }
}
