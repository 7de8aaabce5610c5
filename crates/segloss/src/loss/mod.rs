//! Segmentation losses from logits, with exact analytic gradients.
