//! `GET /admin/me`: who the token names and which staff routes its role may
//! call, so the console offers only those. The server still checks each call.

use axum::Json;
use axum::extract::Extension;
use serde::Serialize;

use super::super::auth::{Role, STAFF_ROUTES, Staff};

/// The caller and the routes (`[method, route]`, as the role table names
/// them) its role allows.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = StaffMe)]
pub struct Me {
    /// How the ledgers name the caller (`staff:{sub}`).
    pub actor: String,
    pub role: Role,
    #[schema(value_type = Vec<Vec<String>>, example = json!([["GET", "/admin/stock"]]))]
    pub allowed: Vec<[&'static str; 2]>,
}

pub fn me_of(staff: &Staff) -> Me {
    let allowed =
        STAFF_ROUTES.iter().filter(|(_, _, roles)| roles.contains(&staff.role)).map(|(m, p, _)| [*m, *p]).collect();
    Me { actor: staff.actor(), role: staff.role, allowed }
}

#[utoipa::path(get, path = "/admin/me", tag = "staff", operation_id = "staff_me", security(("staff_jwt" = [])),
    description = "The caller (`actor`), its role, and every staff route that role may call (`[method, route]`).",
    responses((status = 200, description = "The caller and what its role allows", body = Me)))]
pub async fn me(Extension(staff): Extension<Staff>) -> Json<Me> {
    Json(me_of(&staff))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_sees_exactly_its_rows_of_the_table() {
        for role in [Role::Admin, Role::InventoryManager, Role::CustomerService] {
            let me = me_of(&Staff { sub: "ann".into(), role, sid: None });
            assert_eq!(me.actor, "staff:ann");
            let want = STAFF_ROUTES.iter().filter(|(_, _, r)| r.contains(&role)).count();
            assert_eq!(me.allowed.len(), want, "{role:?}");
            assert!(me.allowed.contains(&["GET", "/admin/me"]), "{role:?}");
        }
        let cs = me_of(&Staff { sub: "cs".into(), role: Role::CustomerService, sid: None });
        assert!(!cs.allowed.contains(&["POST", "/admin/orders/{id}/refund"]));
        assert!(!cs.allowed.contains(&["PUT", "/admin/products/{id}"]));
        let admin = me_of(&Staff { sub: "a".into(), role: Role::Admin, sid: None });
        assert!(admin.allowed.contains(&["PUT", "/admin/products/{id}"]));
    }
}
