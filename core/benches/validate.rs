//! Criterion benchmark of native ID validation: the allocation-free `is_valid_id`, the rich `validate_id` and its
//! allocation-free form `summarize_id`, over a fixed mix of valid and invalid resident IDs (`cargo xtask
//! bench-core`; figures in docs/performance.md).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use realname_core::validate::{Date, Options, check_char, is_valid_id, summarize_id, validate_id};

const TODAY: Date = match Date::new(2024, 6, 1) {
    Some(d) => d,
    None => Date::from_unix_days(0),
};

/// 1024 numbers: valid ones over many regions and dates, every 8th with a wrong check character.
fn inputs() -> Vec<String> {
    let regions = ["110105", "110103", "310115", "440305", "440524", "510104", "650102", "330106", "810000"];
    let mut seed = 0x2545_f491_u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    (0..1024)
        .map(|i| {
            let region = regions[next() as usize % regions.len()];
            let (y, m, d) = (1930 + next() % 90, 1 + next() % 12, 1 + next() % 28);
            let first17 = format!("{region}{y:04}{m:02}{d:02}{:03}", next() % 1000);
            let c = check_char(first17.as_bytes()).unwrap();
            let c = if i % 8 == 7 { if c == '0' { '1' } else { '0' } } else { c };
            format!("{first17}{c}")
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let ids = inputs();
    let opts = Options::new(TODAY);
    assert_eq!(ids.iter().filter(|s| is_valid_id(s, TODAY)).count(), 1024 - 128);

    let mut g = c.benchmark_group("resident_id");
    g.throughput(Throughput::Elements(ids.len() as u64));
    g.bench_function("is_valid_id", |b| b.iter(|| ids.iter().filter(|s| is_valid_id(black_box(s), TODAY)).count()));
    g.bench_function("validate_id", |b| {
        b.iter(|| ids.iter().filter(|s| validate_id(black_box(s), &opts).valid).count())
    });
    // The allocation-free rich check the JS API's wasm module uses for plain 18-character numbers.
    g.bench_function("summarize_id", |b| {
        b.iter(|| {
            ids.iter().filter(|s| summarize_id(black_box(s).as_bytes(), &opts).is_some_and(|r| r.valid())).count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
