//! `POST /checkout`'s body: `parse_json` then `CheckoutBody::parse`, as the
//! route does. Every refusal must be a 400, never a panic or a 500.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::http::body::parse_json;
use shared::http::error::ApiError;
use shared::services::ServiceError;
use shared::services::checkout::CheckoutBody;
use stockroom_fuzz::{Metered, within_heap_budget};

#[global_allocator]
static ALLOC: Metered = Metered;

fuzz_target!(|data: &[u8]| {
    within_heap_budget(data.len(), || {
        let body = match parse_json::<CheckoutBody>(data) {
            Ok(body) => body,
            Err(e) => return assert_eq!(e.status.as_u16(), 400, "{e:?}"),
        };
        match body.parse() {
            Ok(req) => assert_eq!(req.hash().len(), 64),
            Err(e) => {
                assert!(matches!(e, ServiceError::BadInput(_)), "{e:?}");
                assert_eq!(ApiError::from(e).status.as_u16(), 400);
            }
        }
    });
});
