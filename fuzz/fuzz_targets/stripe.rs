//! Stripe: verify `Stripe-Signature` over the raw bytes at a fixed "now",
//! then parse. An input whose header line is empty is signed here at "now",
//! so verify must accept it (and refuse it once past the tolerance).
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use shared::domain::Timestamp;
use shared::providers::{SignatureError, StripeVerifier, WebhookVerifier, stripe};
use stockroom_fuzz::{Metered, SECRET, Webhook, within_heap_budget};

#[global_allocator]
static ALLOC: Metered = Metered;

const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let Some(mut input) = Webhook::split(data, stripe::SIGNATURE_HEADER) else { return };
    let verifier = StripeVerifier::new(vec![SecretString::from(""), SecretString::from(SECRET)]);
    within_heap_budget(data.len(), || {
        if input.sign {
            let header = stripe::signature_header(SECRET, NOW, input.body);
            let Ok(value) = header.parse() else { panic!("header {header:?} is not a header value") };
            input.headers.insert(stripe::SIGNATURE_HEADER, value);
        }
        let verified = verifier.verify(&input.headers, input.body, Timestamp::from_secs(NOW));
        if input.sign {
            assert_eq!(verified, Ok(()), "our own signature refused");
            let late = Timestamp::from_secs(NOW + StripeVerifier::DEFAULT_TOLERANCE_SECS + 1);
            assert_eq!(verifier.verify(&input.headers, input.body, late), Err(SignatureError::Stale));
        }
        // The route parses verified bodies only; the parser must also hold
        // up on every other body.
        let _ = stripe::parse(input.body);
    });
});
