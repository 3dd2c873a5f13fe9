//! Ids in paths are parsed here, at the edge: the services take typed ids,
//! and a malformed one is the same 404 as an unknown one.

use crate::domain::OrderId;
use crate::services::ServiceError;

pub(crate) fn order(raw: &str) -> Result<OrderId, ServiceError> {
    OrderId::parse(raw).map_err(|_| ServiceError::NotFound(format!("no order {raw}")))
}
