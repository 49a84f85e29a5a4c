//! A sandbox customer as one document: what the account system has recorded of them, the
//! depository binding and funds, and the trading permissions. Pure; kept as JSON by
//! `store::sandbox`. Every field has a default, so a document written by an older build reads.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::rules::{AgreementKind, RiskLevel};

/// The account-system agreements a customer signs before the fund account opens.
pub const OPENING_AGREEMENTS: [(&str, &str); 2] = [
    ("account_opening", "证券账户开户协议"),
    ("risk_disclosure", "证券交易风险揭示书"),
];

/// The markets shareholder cards are opened on.
pub const MARKETS: [(&str, &str); 2] = [("SH", "上海 A 股"), ("SZ", "深圳 A 股")];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Customer {
    pub customer_no: String,
    pub name: String,
    pub id_number: String,
    pub born: Option<NaiveDate>,
    pub phone: String,
    pub created_at: String,
    /// `opening` until activation, then `active`.
    pub status: String,
    pub identity_verified: bool,
    /// `front` and `back`.
    pub id_images: BTreeMap<String, Upload>,
    pub face: Option<Face>,
    pub contact: Option<Contact>,
    pub profile: Option<Profile>,
    pub tax_residency: Option<TaxResidency>,
    pub beneficial_owner: Option<Declaration>,
    pub actual_controller: Option<Declaration>,
    pub credit_check: Option<Screening>,
    pub aml_screening: Option<Screening>,
    pub risk: Option<Risk>,
    pub experience_years: Option<u32>,
    pub suitability_confirmed: bool,
    /// Codes of [`OPENING_AGREEMENTS`] signed, with when.
    pub agreements: BTreeMap<String, String>,
    pub fund_account: Option<String>,
    /// SHA-256 of the passwords: the sandbox checks them, it never shows them.
    pub trade_password: Option<String>,
    pub fund_password: Option<String>,
    /// Market (`SH`, `SZ`) → shareholder card number.
    pub cards: BTreeMap<String, String>,
    pub sh_designated: bool,
    pub video_witness: Option<Witness>,
    pub review: Option<Review>,
    pub return_visit: Option<ReturnVisit>,
    pub commission_template: Option<String>,
    pub customer_manager: Option<String>,
    pub activated_at: Option<String>,
    pub archive_no: Option<String>,
    pub depository: Option<Binding>,
    pub available_cents: i64,
    pub withdrawable_cents: i64,
    pub transfers: u32,
    pub trading_agreements: BTreeMap<AgreementKind, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub image_id: String,
    pub file_name: String,
    pub size: u64,
    pub uploaded_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Face {
    pub similarity: f64,
    pub passed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub phone: String,
    pub email: Option<String>,
    pub address: String,
    pub postcode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub occupation: String,
    pub education: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxResidency {
    pub kind: String,
    pub tin: Option<String>,
}

/// A beneficial owner or actual controller: the customer themself, or someone named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    pub is_self: bool,
    pub name: String,
    pub id_number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Screening {
    pub result: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    pub answers: Vec<String>,
    pub score: u32,
    pub level: RiskLevel,
    pub confirmed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    pub witness_id: String,
    pub witness: String,
    pub duration_secs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub reviewer: String,
    pub approved: bool,
    pub remark: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnVisit {
    pub channel: String,
    pub satisfied: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub binding_id: String,
    pub bank: String,
    pub card_no: String,
    pub verified: bool,
    pub active: bool,
    pub bound_at: String,
}

impl Customer {
    pub fn confirmed_level(&self) -> Option<RiskLevel> {
        self.risk.as_ref().filter(|r| r.confirmed).map(|r| r.level)
    }

    pub fn is_active(&self) -> bool {
        self.status == "active"
    }

    /// What opening a fund account still lacks.
    pub fn missing_for_fund_account(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if !self.identity_verified {
            missing.push("身份核验");
        }
        if self.confirmed_level().is_none() {
            missing.push("风险测评确认");
        }
        for (code, name) in OPENING_AGREEMENTS {
            if !self.agreements.contains_key(code) {
                missing.push(name);
            }
        }
        missing
    }

    /// What activation still lacks, in the order the counter does it.
    pub fn missing_for_activation(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        let mut need = |ok: bool, what: &'static str| {
            if !ok {
                missing.push(what);
            }
        };
        need(self.identity_verified, "身份核验");
        need(self.id_images.contains_key("front"), "身份证人像面");
        need(self.id_images.contains_key("back"), "身份证国徽面");
        need(self.face.as_ref().is_some_and(|f| f.passed), "人脸比对");
        need(self.contact.is_some(), "联系方式");
        need(self.profile.is_some(), "职业与学历");
        need(self.tax_residency.is_some(), "税收居民身份声明");
        need(self.beneficial_owner.is_some(), "受益所有人声明");
        need(self.actual_controller.is_some(), "实际控制人声明");
        need(self.credit_check.is_some(), "诚信记录检查");
        need(self.aml_screening.is_some(), "反洗钱筛查");
        need(self.confirmed_level().is_some(), "风险测评确认");
        need(self.experience_years.is_some(), "投资经验");
        need(self.suitability_confirmed, "适当性匹配确认");
        for (code, name) in OPENING_AGREEMENTS {
            need(self.agreements.contains_key(code), name);
        }
        need(self.fund_account.is_some(), "资金账户");
        need(self.trade_password.is_some(), "交易密码");
        need(self.fund_password.is_some(), "资金密码");
        need(self.cards.contains_key("SH"), "上海 A 股股东卡");
        need(self.cards.contains_key("SZ"), "深圳 A 股股东卡");
        need(self.sh_designated, "上海指定交易");
        need(self.video_witness.is_some(), "视频见证");
        need(self.review.as_ref().is_some_and(|r| r.approved), "复核通过");
        need(self.return_visit.is_some(), "回访");
        need(self.commission_template.is_some(), "佣金模板");
        need(self.customer_manager.is_some(), "客户经理");
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_customer_lacks_everything_in_order() {
        let c = Customer::default();
        assert_eq!(
            c.missing_for_fund_account(),
            [
                "身份核验",
                "风险测评确认",
                "证券账户开户协议",
                "证券交易风险揭示书"
            ]
        );
        let all = c.missing_for_activation();
        assert_eq!(all.first(), Some(&"身份核验"));
        assert_eq!(all.last(), Some(&"客户经理"));
        assert_eq!(all.len(), 27);
        // An old document missing fields still reads.
        let old: Customer = serde_json::from_str(r#"{"customer_no":"1","name":"张三"}"#).unwrap();
        assert_eq!(old.name, "张三");
        assert!(old.trading_agreements.is_empty());
    }
}
