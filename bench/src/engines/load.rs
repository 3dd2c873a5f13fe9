//! The write load of one bronze order, as `bench throughput` counts it:
//! the same kinds, how often each is written, their sizes and the shape of
//! their keys (time-ordered ids, or a buyer's email, a customer's hash, a
//! stock file's name, a provider's payment id). Values are filler bytes of
//! the item's size; what is measured is where writes land, not their JSON.

use std::collections::HashMap;

/// One item write as a store's one writer applies it.
pub struct Write {
    pub pk: String,
    pub sk: String,
    /// Bytes of the new item; `None` deletes it.
    pub size: Option<usize>,
    /// Index entry (gsi1pk, gsi1sk) the item had, and the one it gets.
    pub old_index: Option<(String, String)>,
    pub index: Option<(String, String)>,
}

/// A small deterministic generator (xorshift), so both stores get the
/// same load.
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Builds writes and remembers each item's index entry, so a write moves
/// the entry as the real store does.
#[derive(Default)]
pub struct Load {
    index: HashMap<(String, String), (String, String)>,
}

impl Load {
    fn write(&mut self, pk: String, sk: &str, size: Option<usize>, index: Option<(&str, String)>) -> Write {
        let key = (pk.clone(), sk.to_string());
        let index = index.map(|(g, s)| (g.to_string(), s));
        let old_index = match &index {
            Some(entry) => self.index.insert(key, entry.clone()),
            None => self.index.remove(&key),
        };
        Write { pk, sk: sk.to_string(), size, old_index, index }
    }

    /// The stock: `files` files, each an item keyed by its name.
    pub fn stock(&mut self, files: u64) -> Vec<Write> {
        (0..files).map(|f| self.write(file(f), "FILE", Some(310), Some(("FILES#unused", file(f))))).collect()
    }

    /// The 26 item writes of order `i`: checkout, webhook, fulfilment.
    pub fn order(&mut self, i: u64, rng: &mut Rng, files: u64) -> Vec<Write> {
        let (id, at) = (format!("01M{i:020}"), format!("{i:020}"));
        let email = format!("{:016x}@shop.example", rng.next());
        let order = format!("ORDER#{id}");
        let (limit, open) = (format!("LIMIT#email#{email}"), format!("OPEN#{email}#bronze"));
        let events = "EVENTS#020792".to_string();
        let credit = format!("CREDIT#u{:024x}", rng.next());
        let at = |g: &'static str| Some((g, at.clone()));
        vec![
            // checkout
            self.write(order.clone(), "ORDER", Some(772), at("ORDERS#pending")),
            self.write(order.clone(), "HOLD", Some(200), at("HOLDS")),
            self.write(order.clone(), "INTENT", Some(214), at("INTENTS")),
            self.write(order.clone(), "BY_DATE", Some(203), None),
            self.write(order.clone(), "BY_EMAIL", Some(228), None),
            self.write(limit.clone(), "LIMIT", Some(65), None),
            self.write(open.clone(), "OPEN", Some(60), None),
            self.write("LEDGER".into(), &format!("{:012}.000", 2 * i), Some(416), None),
            self.write(events.clone(), &format!("{id}a"), Some(424), at("OUTBOX")),
            // webhook
            self.write(format!("EVENT#nowpayments#{}", rng.next() % 10_000_000_000), "EVENT", Some(341), None),
            self.write(order.clone(), "PAYMENT", Some(282), None),
            self.write(order.clone(), "ORDER", Some(772), at("ORDERS#paid")),
            self.write(limit, "LIMIT", Some(65), None),
            self.write(open, "OPEN", None, None),
            self.write(order.clone(), "PAYMENT", Some(282), None),
            self.write(events.clone(), &format!("{id}b"), Some(424), at("OUTBOX")),
            // fulfilment
            self.write(file(rng.next() % files), "FILE", Some(310), at("FILES#assigned")),
            self.write(order.clone(), "ORDER", Some(772), at("ORDERS#fulfilled")),
            self.write(order.clone(), "HOLD", None, None),
            self.write(order.clone(), "INTENT", None, None),
            self.write("LEDGER".into(), &format!("{:012}.000", 2 * i + 1), Some(416), None),
            self.write(format!("SUB#S{id}"), "SUB", Some(452), at("SUBS")),
            self.write(format!("XFER#E{id}"), "XFER", Some(448), None),
            self.write(credit.clone(), "ACCOUNT", Some(260), None),
            self.write(credit, &format!("ENTRY#{id}"), Some(363), None),
            self.write(events, &format!("{id}c"), Some(424), at("OUTBOX")),
        ]
    }
}

fn file(n: u64) -> String {
    format!("FILE#acct-{n:08}.session")
}
