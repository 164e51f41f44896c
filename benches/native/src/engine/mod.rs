//! The three ways of finding which terms occur in a normalised text
//! ([`crate::doc`]). Each reports term ids (repeats allowed); what the
//! terms mean for the rules is [`crate::eval`]'s business.

mod aho;
mod hyperscan;
mod tokenhash;

use crate::rules::Term;

/// A compiled term finder.
pub trait Engine {
    /// Push the id of every term that occurs in `text` onto `hits`.
    fn scan(&mut self, text: &[u8], hits: &mut Vec<u32>);
}

/// The engine called `name` over `terms` (term id = index).
///
/// # Errors
/// An unknown name, or a database that does not compile.
pub fn build(name: &str, terms: &[Term]) -> Result<Box<dyn Engine>, String> {
    Ok(match name {
        "hyperscan" => Box::new(hyperscan::Hyperscan::new(terms)?),
        "tokenhash" => Box::new(tokenhash::TokenHash::new(terms)),
        "aho" => Box::new(aho::Aho::new(terms)?),
        _ => {
            return Err(format!(
                "unknown engine {name:?} (hyperscan, tokenhash, aho)"
            ));
        }
    })
}

/// A term as the literal bytes that occur in a normalised text: its words
/// joined by one space.
fn literal(term: &Term) -> String {
    term.words.join(" ")
}
