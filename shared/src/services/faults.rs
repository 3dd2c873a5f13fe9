//! Named crash points for tests: a service calls `hit("fulfil.after_move")`
//! between steps; a test arms a point to make that step fail as a crash would
//! (the work is left half done and the message is redelivered).

use std::collections::HashMap;
use std::sync::Mutex;

use super::ServiceError;

#[derive(Debug, Default)]
pub struct Faults {
    armed: Mutex<HashMap<&'static str, u32>>,
}

impl Faults {
    /// Makes the next `times` hits of `point` fail.
    pub fn arm(&self, point: &'static str, times: u32) {
        if let Ok(mut m) = self.armed.lock() {
            m.insert(point, times);
        }
    }

    pub fn hit(&self, point: &'static str) -> Result<(), ServiceError> {
        let Ok(mut m) = self.armed.lock() else { return Ok(()) };
        match m.get_mut(point) {
            Some(n) if *n > 0 => {
                *n -= 1;
                tracing::warn!(point, "injected fault");
                Err(ServiceError::Injected(point))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armed_points_fail_the_given_number_of_times() {
        let f = Faults::default();
        assert!(f.hit("a").is_ok());
        f.arm("a", 2);
        assert!(f.hit("a").is_err());
        assert!(f.hit("b").is_ok());
        assert!(f.hit("a").is_err());
        assert!(f.hit("a").is_ok());
    }
}
