use std::sync::Arc;

use secrecy::SecretString;

use super::Faults;
use crate::domain::OrderTokens;
use crate::ports::{Clock, Files, IdGen, PaymentGateway, Queue, Records};

/// Service settings (the parts of the config the use cases need).
#[derive(Clone, Debug)]
pub struct Settings {
    /// How long a checkout holds stock.
    pub hold_millis: i64,
    /// Key that order tokens are derived from (HMAC of the order id), so a
    /// replayed checkout can return the same token without storing it.
    pub token_key: SecretString,
    /// A paid order not fulfilled after this long is queued again.
    pub requeue_after_millis: i64,
    /// Open (unpaid, holding) orders one email may have at once.
    pub pending_per_email: u32,
    /// Open orders one client address may have at once; 0 turns it off.
    pub pending_per_ip: u32,
    /// Loyalty credits: earn rate and hold.
    pub credits: crate::domain::CreditRules,
    /// Which file names are stock; anything else in storage is left alone.
    pub stock_pattern: crate::domain::StockPattern,
}

impl Settings {
    /// Signs and checks the buyers' order tokens under `token_key`.
    pub fn order_tokens(&self) -> OrderTokens<'_> {
        OrderTokens::new(&self.token_key)
    }
}

/// Everything a use case needs: the ports and the settings (and, with the
/// `faults` feature, test hooks).
pub struct Ctx {
    pub records: Arc<dyn Records>,
    pub files: Arc<dyn Files>,
    pub fulfil_queue: Arc<dyn Queue>,
    pub events: Arc<dyn Queue>,
    pub gateway: Arc<dyn PaymentGateway>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGen>,
    pub settings: Settings,
    pub faults: Faults,
    pub worker: super::worker::WorkerMetrics,
    /// Serialises stock-counter commits inside one process so that concurrent
    /// requests do not spin on the optimistic lock; across processes the
    /// version check alone keeps counts right.
    pub(crate) stock_lock: tokio::sync::Mutex<()>,
}

impl Ctx {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        records: Arc<dyn Records>,
        files: Arc<dyn Files>,
        fulfil_queue: Arc<dyn Queue>,
        events: Arc<dyn Queue>,
        gateway: Arc<dyn PaymentGateway>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
        settings: Settings,
    ) -> Self {
        Ctx {
            records,
            // Every move and delete of a session file carries its journal.
            files: Arc::new(super::sidecars::WithSidecars(files)),
            fulfil_queue,
            events,
            gateway,
            clock,
            ids,
            settings,
            faults: Faults::default(),
            worker: Default::default(),
            stock_lock: tokio::sync::Mutex::new(()),
        }
    }
}
