//! The `[customers]` section: enterprise accounts whose cases go first, their phone line, and dedicated account
//! managers (`[[customers.managers]]`).

use serde::Deserialize;

/// `[customers]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CustomersConfig {
    /// `platform:id` accounts of enterprise customers (priority 0).
    pub enterprise: Vec<String>,
    /// A phone line named to enterprise users together with their case number.
    pub enterprise_phone: Option<String>,
    /// How long a managed customer's new case is kept for their account manager before the team's rooms and
    /// queue get it.
    pub manager_grace_secs: u64,
    /// `[[customers.managers]]`: dedicated account managers and their customers' accounts.
    pub managers: Vec<ManagerConfig>,
}

impl Default for CustomersConfig {
    fn default() -> Self {
        CustomersConfig {
            enterprise: Vec::new(),
            enterprise_phone: None,
            manager_grace_secs: 300,
            managers: Vec::new(),
        }
    }
}

/// One `[[customers.managers]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagerConfig {
    /// The manager: an `[[operators]]` name.
    pub operator: String,
    /// The customer's `platform:id` accounts (enterprise accounts too).
    #[serde(default)]
    pub accounts: Vec<String>,
}
