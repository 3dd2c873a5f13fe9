//! Staff roles: what a member of staff may do is the role table's
//! (`http::auth::STAFF_ROUTES`) answer for their role.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    InventoryManager,
    CustomerService,
}
