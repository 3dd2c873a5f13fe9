use std::sync::Arc;

use secrecy::SecretString;

use super::Faults;
use crate::domain::OrderTokens;
use crate::ports::outbound::Unwired;
use crate::ports::{Clock, Files, IdGen, Mailer, NullMailer, PaymentGateway, Queue, Records, WebhookSender};

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
    /// Who gets the staff mails (alerts); empty: nobody.
    pub staff_email: Vec<String>,
    /// Where buyers reach the shop (links in mails).
    pub public_url: String,
    /// Lead time and safety stock for the reorder point.
    pub reorder: crate::config::Reorder,
    /// Signs customer sessions; its own key, not the staff JWT secret.
    pub session_key: SecretString,
    /// How long a customer session lives.
    pub session_millis: i64,
    /// Sign-in links per email, and per client address, per window (0: no limit).
    pub signin_per_email: u32,
    pub signin_per_ip: u32,
    /// `STOCKROOM_ADMIN_EMAIL`: the account `accounts::seed_admin` makes at start.
    pub admin_email: Option<String>,
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
    /// Sends nothing until the wiring sets a real one (`app::mailer`).
    pub mailer: Arc<dyn Mailer>,
    pub settings: Settings,
    pub faults: Faults,
    pub worker: super::worker::WorkerMetrics,
    /// Sends merchant webhooks. `Ctx::new` leaves it `Unwired` (refuses
    /// everything); `app::state` puts the real HTTP sender in.
    pub webhook_sender: Arc<dyn WebhookSender>,
    /// Stock commits of this process, one transaction at a time (grouped),
    /// so they do not spin on the counters' version; across processes the
    /// version check alone keeps counts right.
    pub(crate) stock_queue: super::stock_queue::StockQueue,
    /// Files this process's claims are committing, which other claims here
    /// pass over (a spread, not a lock).
    pub(crate) claiming: super::fulfil::Claiming,
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
            mailer: Arc::new(NullMailer),
            settings,
            faults: Faults::new(),
            worker: Default::default(),
            webhook_sender: Arc::new(Unwired),
            stock_queue: Default::default(),
            claiming: Default::default(),
        }
    }
}
