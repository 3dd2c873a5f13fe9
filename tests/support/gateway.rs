//! A payment provider the test scripts: invoices as the sandbox makes them,
//! read-backs answered from what the test said, and an outage switch.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use shared::adapters::sandbox::SandboxGateway;
use shared::domain::{Money, PaymentEvent, ProviderKind};
use shared::ports::{Invoice, InvoiceRequest, PaymentGateway, ProviderError, RefundMade};
use shared::providers::nowpayments;

pub struct ScriptedGateway {
    sandbox: SandboxGateway,
    pub down: AtomicBool,
    pub lookups: AtomicUsize,
    pub cancels: Mutex<Vec<String>>,
    /// Refunds asked for: (payment id, amount in minor units, key).
    pub refunds: Mutex<Vec<(String, i64, String)>>,
    answers: Mutex<HashMap<String, Vec<u8>>>,
}

impl Default for ScriptedGateway {
    fn default() -> Self {
        ScriptedGateway {
            sandbox: SandboxGateway { public_url: "http://127.0.0.1".into() },
            down: AtomicBool::new(false),
            lookups: AtomicUsize::new(0),
            cancels: Mutex::new(Vec::new()),
            refunds: Mutex::new(Vec::new()),
            answers: Mutex::new(HashMap::new()),
        }
    }
}

impl ScriptedGateway {
    /// What a read-back of `payment_id` returns: a NOWPayments payment body.
    pub fn answer(&self, payment_id: &str, raw: Vec<u8>) {
        self.answers.lock().unwrap().insert(payment_id.to_string(), raw);
    }

    fn check_up(&self) -> Result<(), ProviderError> {
        if self.down.load(Ordering::SeqCst) {
            Err(ProviderError::Unavailable(anyhow::anyhow!("scripted outage")))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl PaymentGateway for ScriptedGateway {
    async fn create_invoice(&self, req: &InvoiceRequest) -> Result<Invoice, ProviderError> {
        self.check_up()?;
        self.sandbox.create_invoice(req).await
    }

    async fn lookup(&self, provider: ProviderKind, payment_id: &str) -> Result<PaymentEvent, ProviderError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.check_up()?;
        let raw = self.answers.lock().unwrap().get(payment_id).cloned();
        match raw {
            Some(raw) => nowpayments::parse(&raw).map_err(|e| ProviderError::Rejected(e.to_string())),
            None => self.sandbox.lookup(provider, payment_id).await,
        }
    }

    async fn cancel(&self, _provider: ProviderKind, payment_id: &str) -> Result<(), ProviderError> {
        self.check_up()?;
        self.cancels.lock().unwrap().push(payment_id.to_string());
        Ok(())
    }

    async fn refund(
        &self,
        provider: ProviderKind,
        payment_id: &str,
        amount: &Money,
        key: &str,
    ) -> Result<RefundMade, ProviderError> {
        self.check_up()?;
        self.refunds.lock().unwrap().push((payment_id.to_string(), amount.amount, key.to_string()));
        self.sandbox.refund(provider, payment_id, amount, key).await
    }
}
