//! Integration tests of `pith_features`: golden outputs and the entity evaluation.

mod entity_eval;
mod golden;
