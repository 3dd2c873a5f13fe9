//! Payment providers' webhook schemes: verification over the raw body, parsing
//! into `PaymentEvent`, and signing (for the sandbox and tests).
