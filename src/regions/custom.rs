//! Custom regions from the rules file (`south-caucasus = AZ, AM, GE`):
//! a union of countries (or earlier custom regions) plus extra terms.

use std::collections::HashSet;

use super::{Alias, Gazetteer, Region, Strength};
use crate::text::tokenize;

/// A custom region as written in the rules file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomRegionSpec {
    /// The region's key, used as `region:NAME` (case-insensitive).
    pub name: String,
    /// Members: country codes (`AZ`, `AZE`), country names (`Georgia`,
    /// `Грузия`) or names of custom regions defined earlier in the list.
    pub include: Vec<String>,
    /// Extra phrases that mean the region (Strong, any case), e.g.
    /// `South Caucasus`.
    pub terms: Vec<String>,
}

/// Why a custom region could not be built; names the region so that
/// `newsalert check` can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    /// A member is not a known country or earlier region.
    #[error("region `{region}`: unknown member `{member}` (not a country code or name)")]
    UnknownMember { region: String, member: String },
    /// The name is already a country code or name, or an earlier region.
    #[error("region `{region}`: the name is already taken by region `{existing}`")]
    NameTaken { region: String, existing: String },
    /// The region has no members and no terms, or an empty name.
    #[error("region `{region}`: needs a name and at least one member or term")]
    Empty { region: String },
}

impl Gazetteer {
    /// A copy of this gazetteer with the custom regions added, in order (a
    /// spec may include one defined before it). A custom region's tags are
    /// its own name plus its members' tags; its aliases are the members'
    /// aliases plus its terms (Strong); its exclusions are the members'
    /// exclusions, except those that are themselves aliases of the union
    /// (`South Sudan` stays an alias of a region made of `SD` and `SS`).
    ///
    /// # Errors
    ///
    /// Every problem found, one [`RegionError`] each.
    pub fn with_custom(&self, specs: &[CustomRegionSpec]) -> Result<Gazetteer, Vec<RegionError>> {
        let mut g = self.clone();
        let mut errors = Vec::new();
        for spec in specs {
            match g.custom_region(spec) {
                Ok(region) => g.insert(region),
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() {
            Ok(g)
        } else {
            Err(errors)
        }
    }

    fn custom_region(&self, spec: &CustomRegionSpec) -> Result<Region, Vec<RegionError>> {
        let name = spec.name.trim();
        if name.is_empty() || (spec.include.is_empty() && spec.terms.is_empty()) {
            return Err(vec![RegionError::Empty {
                region: spec.name.clone(),
            }]);
        }
        if let Some(existing) = self.resolve(name) {
            let existing = existing.key.clone();
            return Err(vec![RegionError::NameTaken {
                region: name.into(),
                existing,
            }]);
        }
        let mut errors = Vec::new();
        let (mut tags, mut aliases, mut exclusions) = (Seen::new(), Seen::new(), Seen::new());
        let mut region = Region {
            key: name.to_string(),
            tags: Vec::new(),
            aliases: Vec::new(),
            exclusions: Vec::new(),
        };
        tags.extend(&mut region.tags, &[name.to_string()], |t| t);
        for member in &spec.include {
            let Some(m) = self.resolve(member) else {
                errors.push(RegionError::UnknownMember {
                    region: name.into(),
                    member: member.clone(),
                });
                continue;
            };
            tags.extend(&mut region.tags, &m.tags, |t| t);
            aliases.extend(&mut region.aliases, &m.aliases, |a| &a.text);
            exclusions.extend(&mut region.exclusions, &m.exclusions, |e| e);
        }
        let terms: Vec<Alias> = spec
            .terms
            .iter()
            .filter(|t| !t.trim().is_empty())
            .map(|t| Alias {
                text: t.trim().into(),
                strength: Strength::Strong,
                exact_case: false,
            })
            .collect();
        aliases.extend(&mut region.aliases, &terms, |a| &a.text);
        let alias_words: HashSet<_> = region.aliases.iter().map(|a| words(&a.text)).collect();
        region
            .exclusions
            .retain(|e| !alias_words.contains(&words(e)));
        if errors.is_empty() {
            Ok(region)
        } else {
            Err(errors)
        }
    }
}

/// Folded identities of the items collected so far, to skip duplicates.
struct Seen(HashSet<String>);

impl Seen {
    fn new() -> Self {
        Seen(HashSet::new())
    }

    /// Append the items of `new` whose identity (`id`, folded) is new.
    fn extend<T: Clone>(&mut self, into: &mut Vec<T>, new: &[T], id: impl Fn(&T) -> &String) {
        for item in new {
            if self.0.insert(crate::text::fold(id(item))) {
                into.push(item.clone());
            }
        }
    }
}

fn words(s: &str) -> Vec<String> {
    tokenize(s).into_iter().map(|t| t.norm).collect()
}
