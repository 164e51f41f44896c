//! Email digests: a subscriber with a `digest` schedule gets their email
//! alerts collected ([`crate::pending`] holds them) and sent as one mail
//! per period, rendered here ([`render`]) from minijinja templates
//! (`templates/digest.txt.j2`, `templates/digest.html.j2`, built in and
//! overridable from `digest.templates_dir`). When periods begin and end is
//! [`crate::schedule`]'s business.

pub mod render;
