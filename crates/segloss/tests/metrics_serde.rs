//! With the `serde` feature a state saves to JSON, ships, and merges exactly.
#![cfg(feature = "serde")]

use segloss::Shape;
use segloss::metrics::{
    BinaryConfusion, BinaryConfusionConfig, ConfusionMatrix, ConfusionMatrixConfig, Conventions,
    MultiLabelConfusion, MultiLabelConfusionConfig, PerImage,
};

#[test]
fn sharded_evaluation_through_json_equals_one_pass() {
    let truth: Vec<u8> = (0..600u32).map(|i| ((i * 7 + i / 13) % 5) as u8).collect();
    let pred: Vec<u8> = (0..600u32).map(|i| ((i * 3 + i / 7) % 5) as u8).collect();
    let cfg = ConfusionMatrixConfig::new(5)
        .with_ignore_index(4)
        .with_per_image(PerImage::Keep);
    let mut whole = cfg.init().unwrap();
    whole.update_images(&truth, &pred, 6).unwrap();

    let mut shard_a = cfg.init().unwrap();
    shard_a
        .update_images(&truth[..200], &pred[..200], 2)
        .unwrap();
    let mut shard_b = cfg.init().unwrap();
    shard_b
        .update_images(&truth[200..], &pred[200..], 4)
        .unwrap();
    let json_b = serde_json::to_string(&shard_b).unwrap();
    let back: ConfusionMatrix = serde_json::from_str(&json_b).unwrap();
    assert_eq!(back, shard_b);
    shard_a.merge(&back).unwrap();
    assert_eq!(shard_a, whole);
    let r1 = serde_json::to_value(whole.report(&Conventions::default()).unwrap()).unwrap();
    let r2 = serde_json::to_value(shard_a.report(&Conventions::default()).unwrap()).unwrap();
    assert_eq!(r1, r2);
    assert!(r1["classes"][0]["counts"]["fn"].is_u64());
}

#[test]
fn binary_and_multilabel_round_trip() {
    let mut b = BinaryConfusionConfig::new()
        .with_ignore_index(255)
        .init()
        .unwrap();
    b.update(&[1u8, 0, 255, 1], &[1u8, 1, 0, 0]).unwrap();
    let back: BinaryConfusion = serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
    assert_eq!(back, b);
    let mut m = MultiLabelConfusionConfig::new(2).init().unwrap();
    let shape = Shape::new(&[1, 2, 2]).unwrap();
    m.update_logits(&[1u8, 0, 0, 1], &[1.0f32, -1.0, 2.0, 0.5], &shape)
        .unwrap();
    let back: MultiLabelConfusion =
        serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);
}

#[test]
fn a_corrupt_state_is_refused_at_merge() {
    let mut good = ConfusionMatrix::new(2).unwrap();
    let json = r#"{"config":{"classes":2,"ignore_index":null,"per_image":"Off"},"matrix":[1,2,3],"ignored":0,"images":null}"#;
    let bad: ConfusionMatrix = serde_json::from_str(json).unwrap();
    assert!(bad.check().is_err());
    assert!(good.merge(&bad).is_err());
    assert_eq!(good.total(), 0);
}
