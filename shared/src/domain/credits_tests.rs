use proptest::prelude::*;

use super::*;

#[test]
fn earning_is_floor_of_price_over_rate() {
    let r = CreditRules::default();
    assert_eq!((r.earned(3000), r.earned(5599), r.earned(99), r.earned(0), r.earned(-500)), (30, 55, 0, 0, 0));
    let r = CreditRules { minor_per_credit: 250, ..r };
    assert_eq!(r.earned(1000), 4);
    assert_eq!(CreditRules::default().hold_millis, 172_800_000);
}

#[test]
fn spending_never_exceeds_balance_or_price() {
    let r = CreditRules::default();
    assert_eq!(r.to_spend(3000, 10), 10);
    assert_eq!(r.to_spend(3000, 70), 30);
    assert_eq!(r.to_spend(3050, 70), 30, "no change is given in credits");
    assert_eq!(r.to_spend(3000, -5), 0);
    assert_eq!(r.value_minor(30), 3000);
}

#[test]
fn transitions_happen_once() {
    use TransferState::*;
    assert_eq!(decide(Pending, false, Action::Post), Some((EntryKind::Post, Posted, false)));
    assert_eq!(decide(Pending, false, Action::Deactivate), Some((EntryKind::Void, Voided, false)));
    assert_eq!(decide(Posted, false, Action::Deactivate), Some((EntryKind::Reverse, Posted, true)));
    assert_eq!(decide(Posted, true, Action::Deactivate), None);
    assert_eq!(decide(Voided, false, Action::Post), None);
    assert_eq!(decide(Posted, false, Action::Post), None);
    assert_eq!(decide(Posted, false, Action::Void), None, "a paid spend is not voided by expiry");
}

#[test]
fn negative_balance_refuses_spending() {
    let b = Balance { posted: -3, pending_in: 0, pending_out: 0 };
    assert!(!b.can_spend(1));
    let b = Balance { posted: 10, pending_in: 5, pending_out: 4 };
    assert_eq!(b.spendable(), 6);
    assert!(b.can_spend(6) && !b.can_spend(7) && !b.can_spend(0));
}

#[derive(Clone, Debug)]
enum Op {
    Earn(i64),
    Gift(i64),
    Spend(i64),
    Post(usize),
    Deactivate(usize),
    Expire(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1i64..50).prop_map(Op::Earn),
        (1i64..50).prop_map(Op::Gift),
        (1i64..60).prop_map(Op::Spend),
        any::<usize>().prop_map(Op::Post),
        any::<usize>().prop_map(Op::Deactivate),
        any::<usize>().prop_map(Op::Expire),
    ]
}

struct Transfer {
    dir: Direction,
    amount: i64,
    state: TransferState,
    reversed: bool,
    entries: Vec<EntryKind>,
}

proptest! {
    /// Any sequence keeps the balance equal to the sum of the entries, each
    /// transfer settles once and reverses at most once, and no spend takes
    /// the spendable balance below zero.
    #[test]
    fn balance_is_the_sum_of_entries(ops in proptest::collection::vec(op(), 1..80)) {
        let mut bal = Balance::default();
        let mut sum = Balance::default();
        let mut xs: Vec<Transfer> = Vec::new();
        for op in ops {
            let mut write = |t: &mut Transfer, kind: EntryKind, bal: &mut Balance| {
                let e = effect(kind, t.dir, t.amount);
                bal.apply(e);
                sum.apply(e);
                t.entries.push(kind);
            };
            match op {
                Op::Earn(n) | Op::Gift(n) => {
                    let gift = matches!(op, Op::Gift(_));
                    let state = if gift { TransferState::Posted } else { TransferState::Pending };
                    let mut t = Transfer { dir: Direction::In, amount: n, state, reversed: false, entries: vec![] };
                    write(&mut t, if gift { EntryKind::Gift } else { EntryKind::Earn }, &mut bal);
                    xs.push(t);
                }
                Op::Spend(n) => {
                    if bal.can_spend(n) {
                        let mut t = Transfer { dir: Direction::Out, amount: n, state: TransferState::Pending, reversed: false, entries: vec![] };
                        write(&mut t, EntryKind::Spend, &mut bal);
                        xs.push(t);
                    }
                    prop_assert!(bal.spendable() >= 0 || !bal.can_spend(1));
                }
                Op::Post(i) | Op::Deactivate(i) | Op::Expire(i) if !xs.is_empty() => {
                    let n = xs.len();
                    let t = &mut xs[i % n];
                    let action = match op { Op::Post(_) => Action::Post, Op::Expire(_) => Action::Void, _ => Action::Deactivate };
                    // A spend is deactivated only through its order; skip it here.
                    if t.dir == Direction::Out && action == Action::Deactivate { continue; }
                    if let Some((kind, state, reversed)) = decide(t.state, t.reversed, action) {
                        t.state = state;
                        t.reversed = reversed;
                        write(t, kind, &mut bal);
                    }
                }
                _ => {}
            }
            prop_assert_eq!(bal, sum);
        }
        // Recomputed from the transfers alone: nothing counted twice.
        let mut want = Balance::default();
        for t in &xs {
            let settled = t.entries.iter().filter(|k| matches!(k, EntryKind::Post | EntryKind::Void)).count();
            let reverses = t.entries.iter().filter(|k| **k == EntryKind::Reverse).count();
            prop_assert!(settled <= 1 && reverses <= 1);
            let sign = if t.dir == Direction::In { 1 } else { -1 };
            match (t.state, t.reversed) {
                (TransferState::Posted, false) => want.posted += sign * t.amount,
                (TransferState::Pending, _) if t.dir == Direction::In => want.pending_in += t.amount,
                (TransferState::Pending, _) => want.pending_out += t.amount,
                _ => {}
            }
        }
        prop_assert_eq!(bal, want);
    }
}
