//! Presearcher keys: why an article can be a candidate for a rule. Every
//! compiled node has a [`Trigger`], the keys of which an article must have
//! one for the node to hold (`None` when it can hold without any, as
//! `NOT x` can), and a rule is indexed under its root's trigger. Keys are
//! compared by their guessed cost ([`super::weight`]): an `AND` keeps its
//! cheapest operand's keys, an `OR` needs the keys of all its operands, a
//! `NEAR` takes its rarer side.

use super::layout::{Matcher, RuleId, TermId};
use super::weight::{self, Cost};

/// Why an article can be a candidate for a rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Key {
    Term(TermId),
    Lang(Box<str>),
    Source(Box<str>),
    Tag(Box<str>),
}

/// Keys of which an article must have one for a node to hold; `None`
/// when the node can hold without any (`NOT x`).
pub(super) type Trigger = Option<Vec<Key>>;

/// Guessed cost of `keys`; `term_cost` is indexed by term id.
pub(super) fn cost(keys: &[Key], term_cost: &[Cost]) -> u64 {
    keys.iter()
        .map(|k| {
            u64::from(match k {
                Key::Term(t) => term_cost[*t as usize],
                Key::Lang(_) => weight::LANG,
                Key::Source(_) => weight::SOURCE,
                Key::Tag(_) => weight::TAG,
            })
        })
        .sum()
}

/// The key of two that both must occur (the sides of a `NEAR`): the
/// cheaper, `first` on a tie.
pub(super) fn cheaper(first: Key, second: Key, term_cost: &[Cost]) -> Key {
    let one = |k: &Key| cost(std::slice::from_ref(k), term_cost);
    if one(&second) < one(&first) {
        second
    } else {
        first
    }
}

/// Trigger of an `AND`: any one operand's keys suffice; the cheapest.
pub(super) fn all_of(triggers: Vec<Trigger>, term_cost: &[Cost]) -> Trigger {
    triggers
        .into_iter()
        .flatten()
        .min_by_key(|k| cost(k, term_cost))
}

/// Trigger of an `OR`: every operand's keys, or `None` if one operand can
/// hold without a key.
pub(super) fn any_of(triggers: Vec<Trigger>) -> Trigger {
    let all: Option<Vec<Vec<Key>>> = triggers.into_iter().collect();
    all.map(|k| k.concat())
}

/// Index `rule` under `trigger` in `m`: term keys as `(term, rule)` pairs
/// in `term_pairs` (compressed into [`Matcher::term_rules`] when the
/// matcher is finished), other keys in their maps, a rule without a
/// trigger in [`Matcher::always`].
pub(super) fn register(
    m: &mut Matcher,
    term_pairs: &mut Vec<(TermId, RuleId)>,
    rule: RuleId,
    trigger: Trigger,
) {
    let Some(mut keys) = trigger else {
        m.always.push(rule);
        return;
    };
    keys.sort();
    keys.dedup();
    for key in keys {
        let list = match key {
            Key::Term(t) => {
                term_pairs.push((t, rule));
                continue;
            }
            Key::Lang(l) => m.lang_rules.entry(l).or_default(),
            Key::Source(s) => m.source_rules.entry(s).or_default(),
            Key::Tag(t) => m.tag_rules.entry(t).or_default(),
        };
        list.push(rule);
    }
}
