//! What a schedule is made of and how a seed turns into one.

use rand::Rng;
use rand::rngs::StdRng;

#[derive(Clone, Copy, Debug)]
pub enum Payment {
    /// The full amount, in each provider's own words (NOWPayments
    /// `finished`, a completed Stripe session).
    Full,
    /// One minor unit: NOWPayments `partially_paid`, an underpaid session.
    Short,
    Expired,
    Failed,
    Refunded,
}

#[derive(Clone, Debug)]
pub enum Op {
    Restock(usize),
    Checkout {
        email: usize,
        product: &'static str,
        provider: &'static str,
    },
    /// The same webhook `copies` times at once; the order by position,
    /// newest first.
    Pay {
        order: usize,
        payment: Payment,
        copies: usize,
    },
    Expire,
    Reconcile,
    Refund {
        order: usize,
    },
    Adjust {
        action: &'static str,
        file: usize,
    },
    Clock(u64),
    /// An add-on (a file, or days) for the subscription of an order, by
    /// position, bought with that order's token: its refund must take back
    /// only what it bought.
    Addon {
        order: usize,
        product: &'static str,
    },
    /// Staff gift a buyer credits.
    Gift {
        email: usize,
        amount: i64,
    },
    /// A checkout spending a buyer's credits, proved by one of their paid
    /// orders (the owner) or by an open order a stranger just made for
    /// their email (must be refused).
    Spend {
        email: usize,
        stranger: bool,
    },
}

/// Ops in one step run at once; steps run one after the other.
pub type Schedule = Vec<Vec<Op>>;

pub fn generate(rng: &mut StdRng, ops: usize) -> Schedule {
    let mut steps = vec![vec![Op::Restock(rng.random_range(2..8))]];
    let mut left = ops.saturating_sub(1);
    while left > 0 {
        let width = rng.random_range(1..=3).min(left);
        steps.push((0..width).map(|_| op(rng)).collect());
        left -= width;
    }
    steps
}

fn op(rng: &mut StdRng) -> Op {
    let pick = |rng: &mut StdRng, from: &[&'static str]| from[rng.random_range(0..from.len())];
    match rng.random_range(0..100) {
        0..20 => Op::Checkout {
            email: rng.random_range(0..3),
            product: pick(rng, &["bronze", "silver", "gold"]),
            provider: pick(rng, &["nowpayments", "stripe"]),
        },
        20..50 => Op::Pay { order: rng.random_range(0..4), payment: payment(rng), copies: rng.random_range(1..4) },
        50..56 => Op::Expire,
        56..63 => Op::Reconcile,
        63..69 => Op::Refund { order: rng.random_range(0..8) },
        69..78 => Op::Restock(rng.random_range(1..4)),
        78..86 => Op::Adjust { action: pick(rng, &["ban", "freeze", "unfreeze"]), file: rng.random_range(0..16) },
        86..90 => Op::Addon { order: rng.random_range(0..6), product: pick(rng, &["extra-account", "extend-30"]) },
        90..92 => Op::Gift { email: rng.random_range(0..3), amount: rng.random_range(1..60) },
        92..94 => Op::Spend { email: rng.random_range(0..3), stranger: rng.random_bool(0.5) },
        _ => Op::Clock(*[60, 900, 3600, 26 * 3600, 31 * 86400].get(rng.random_range(0..5)).unwrap_or(&60)),
    }
}

/// Mostly paid in full, so most schedules fulfil orders; the rest are the
/// late, short and contradictory events a provider also sends.
fn payment(rng: &mut StdRng) -> Payment {
    match rng.random_range(0..10) {
        0..6 => Payment::Full,
        6 => Payment::Short,
        7 => Payment::Expired,
        8 => Payment::Failed,
        _ => Payment::Refunded,
    }
}
