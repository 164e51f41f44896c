//! The delivery check of consumers that must see messages in stream order
//! ([`super::ConsumerSpec::from_ack_floor`]).
//!
//! JetStream delivers a consumer's messages in order, but not always all
//! of them: a delivery lost in a consumer leader change (a node killed),
//! or one whose ack wait expired, is delivered again only after the ack
//! wait, by which time later messages of the same chat were handled. So
//! the consume loop checks every delivery of such a consumer before
//! handling it: the first is consumer sequence 1 (the consumer was just
//! recreated), each next one follows the last, and none is a redelivery.
//! Anything else means a message went missing in between: the loop stops
//! taking messages, lets those in flight finish, and reopens the consumer
//! from its ack floor, which delivers the missing one again before
//! anything newer.

/// Tracks the consumer sequence a freshly created consumer delivers next.
#[derive(Debug)]
pub struct DeliveryOrder {
    next: u64,
}

impl Default for DeliveryOrder {
    fn default() -> Self {
        DeliveryOrder { next: 1 }
    }
}

impl DeliveryOrder {
    /// Accept the delivery with this consumer sequence and delivery count,
    /// or say why it is not the next one in order.
    ///
    /// # Errors
    /// A gap (deliveries lost), a step back, or a redelivery.
    pub fn check(&mut self, consumer_sequence: u64, delivered: i64) -> Result<(), String> {
        if delivered > 1 {
            return Err(format!(
                "consumer sequence {consumer_sequence} is delivery {delivered} of its message"
            ));
        }
        if consumer_sequence != self.next {
            return Err(format!(
                "consumer sequence {consumer_sequence} where {} was due",
                self.next
            ));
        }
        self.next += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_first_deliveries_pass_anything_else_is_refused() {
        let mut order = DeliveryOrder::default();
        for seq in 1..=3 {
            assert_eq!(order.check(seq, 1), Ok(()));
        }
        // A lost delivery: 4 never came.
        let err = order.check(5, 1).unwrap_err();
        assert_eq!(err, "consumer sequence 5 where 4 was due");
        // A step back.
        let mut order = DeliveryOrder::default();
        order.check(1, 1).unwrap();
        order.check(2, 1).unwrap();
        assert!(order.check(2, 1).is_err());
        // A redelivery (ack wait expired), even at the due sequence.
        let mut order = DeliveryOrder::default();
        let err = order.check(1, 2).unwrap_err();
        assert!(err.contains("delivery 2"), "{err}");
        // The first delivery of a recreated consumer is sequence 1.
        assert!(DeliveryOrder::default().check(7, 1).is_err());
    }
}
