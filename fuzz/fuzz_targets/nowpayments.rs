//! NOWPayments: verify the signature over the raw bytes, then parse. An
//! input whose header line is empty is signed here first, so verify must
//! accept it and the parser sees what only a good signature lets through.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use shared::domain::Timestamp;
use shared::providers::{NowPaymentsVerifier, WebhookVerifier, nowpayments};
use stockroom_fuzz::{Metered, SECRET, Webhook, within_heap_budget};

#[global_allocator]
static ALLOC: Metered = Metered;

fuzz_target!(|data: &[u8]| {
    let Some(mut input) = Webhook::split(data, nowpayments::SIGNATURE_HEADER) else { return };
    // An empty secret first: rotation lists skip those.
    let verifier = NowPaymentsVerifier::new(vec![SecretString::from(""), SecretString::from(SECRET)]);
    within_heap_budget(data.len(), || {
        if input.sign {
            let Ok(sig) = nowpayments::sign(SECRET, input.body) else { return };
            let Ok(value) = sig.parse() else { panic!("signature {sig:?} is not a header value") };
            input.headers.insert(nowpayments::SIGNATURE_HEADER, value);
        }
        let verified = verifier.verify(&input.headers, input.body, Timestamp::from_secs(1_700_000_000));
        assert!(verified.is_ok() || !input.sign, "our own signature refused: {verified:?}");
        // The route parses verified bodies only; the parser must also hold
        // up on every other body.
        let _ = nowpayments::parse(input.body);
    });
});
