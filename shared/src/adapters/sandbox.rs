//! The sandbox payment provider (local only): makes up invoices in the shape
//! each real provider returns. Paying them is `POST /sandbox/pay/{order_id}`.

use async_trait::async_trait;

use crate::domain::{Money, PaymentEvent, PaymentOutcome, ProviderKind};
use crate::ports::{Invoice, InvoiceRequest, PaymentGateway, ProviderError, RefundMade};

pub struct SandboxGateway {
    /// Where the local stack listens, for the checkout URL it hands out.
    pub public_url: String,
}

#[async_trait]
impl PaymentGateway for SandboxGateway {
    async fn create_invoice(&self, req: &InvoiceRequest) -> Result<Invoice, ProviderError> {
        let order = req.order_id.as_str();
        Ok(match req.provider {
            ProviderKind::Nowpayments => Invoice {
                provider: req.provider,
                // NOWPayments ids are numbers.
                payment_id: (5_000_000_000u64 + rand::random::<u32>() as u64).to_string(),
                pay_address: Some(format!(
                    "sandbox{}",
                    order.to_ascii_lowercase().chars().take(16).collect::<String>()
                )),
                // The sandbox prices coins 1:1 with the order's currency.
                pay_amount: Some(req.price.to_decimal().normalize().to_string()),
                pay_currency: Some(req.pay_currency.clone().unwrap_or_else(|| "usdttrc20".into())),
                checkout_url: None,
            },
            ProviderKind::Stripe => Invoice {
                provider: req.provider,
                payment_id: format!("cs_test_{order}"),
                pay_address: None,
                pay_amount: None,
                pay_currency: None,
                checkout_url: Some(format!("{}/sandbox/pay/{order}", self.public_url)),
            },
        })
    }

    /// The sandbox keeps no payment state: what happened is what
    /// `/sandbox/pay` posted. Reading back reports nothing new.
    async fn lookup(&self, provider: ProviderKind, payment_id: &str) -> Result<PaymentEvent, ProviderError> {
        Ok(PaymentEvent {
            provider,
            event_id: format!("{payment_id}:waiting"),
            raw_status: "waiting".into(),
            order_id: None,
            payment_id: Some(payment_id.to_string()),
            outcome: PaymentOutcome::Ignore,
            price: None,
            price_currency: None,
            pay_amount: None,
            actually_paid: None,
            pay_currency: None,
            is_repeat_deposit: false,
        })
    }

    async fn cancel(&self, _provider: ProviderKind, _payment_id: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Stripe's sandbox refunds at once (its id is made from the key, as
    /// Stripe's idempotency would give the same refund back); NOWPayments
    /// has no refund call here either.
    async fn refund(
        &self,
        provider: ProviderKind,
        _payment_id: &str,
        _amount: &Money,
        key: &str,
    ) -> Result<RefundMade, ProviderError> {
        Ok(match provider {
            ProviderKind::Stripe => RefundMade::Provider(format!("re_sandbox_{key}")),
            ProviderKind::Nowpayments => RefundMade::Manual,
        })
    }
}
