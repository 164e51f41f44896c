//! Hyperscan (Intel's SIMD multi-literal matcher, Debian's
//! `libhyperscan-dev` through the `hyperscan` crate) in pure-literal mode
//! (`hs_compile_lit_multi`), block mode, one database of every term.
//!
//! Word boundaries by padding: the text has a space before and after
//! every word, so a word or phrase is the literal ` words ` and a prefix
//! ` prefix` (no trailing space). Each literal is compiled with
//! `HS_FLAG_SINGLEMATCH`: it is reported once per article at most.

use hyperscan::prelude::*;
use hyperscan::{LiteralFlags, Literals};

use super::{Engine, literal};
use crate::rules::Term;

pub struct Hyperscan {
    db: BlockDatabase,
    scratch: Scratch,
}

impl Hyperscan {
    pub fn new(terms: &[Term]) -> Result<Hyperscan, String> {
        let literals: Literals = terms
            .iter()
            .enumerate()
            .map(|(id, t)| {
                let mut text = format!(" {}", literal(t));
                if !t.prefix {
                    text.push(' ');
                }
                hyperscan::Literal {
                    expression: text,
                    flags: LiteralFlags::SINGLEMATCH,
                    id: Some(id),
                    som: None,
                }
            })
            .collect();
        let db: BlockDatabase = literals
            .build()
            .map_err(|e| format!("hyperscan: compiling {} literals: {e}", terms.len()))?;
        let scratch = db
            .alloc_scratch()
            .map_err(|e| format!("hyperscan: scratch: {e}"))?;
        Ok(Hyperscan { db, scratch })
    }
}

impl Engine for Hyperscan {
    fn scan(&mut self, text: &[u8], hits: &mut Vec<u32>) {
        self.db
            .scan(text, &self.scratch, |id, _, _, _| {
                hits.push(id);
                Matching::Continue
            })
            .expect("hyperscan scan");
    }
}
