//! Loyalty credits end to end (issue 6): the seed scenarios, races, spending,
//! bad input. After every step the balance is recomputed from the entries.

mod bad_input;
mod fulfilment;
mod helpers;
mod races;
mod scenarios;
mod spend;
