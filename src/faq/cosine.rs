//! Cosines of fixed-point unit vectors, the inner loop of the meaning score: every message is compared with
//! every question of the knowledge base. Values are 16-bit integers (half the memory of `f32`), multiplied and
//! summed in pairs by one SIMD instruction; integer sums are exact in any order, so every path gives the same
//! result.

use wide::{i16x8, i32x4};

/// Fixed-point value of 1.0 in stored vectors: a product of two unit vectors stays within `i32` (the dot product
/// of two vectors of length `ONE` is at most `ONE²` = 2²⁴).
pub const ONE: f32 = 4096.0;

/// The fixed-point value of `x`.
pub fn to_fixed(x: f32) -> i16 {
    (x * ONE).round() as i16
}

/// Cosine of two fixed-point unit vectors, eight products at a time.
pub fn cosine(a: &[i16], b: &[i16]) -> f32 {
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: i32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| *x as i32 * *y as i32)
        .sum();
    let mut sum = i32x4::ZERO;
    for (x, y) in a8.zip(b8) {
        let x = i16x8::new(x.try_into().unwrap_or_default());
        let y = i16x8::new(y.try_into().unwrap_or_default());
        sum += x.dot(y);
    }
    (sum.reduce_add() + tail) as f32 / (ONE * ONE)
}

/// The cosine of `query` with each row of `rows` (rows of the query's length, one after another), appended to
/// `out`. On a processor with AVX2 and the word table's 192 dimensions, sixteen products at a time with the
/// query held in registers.
pub fn cosines(rows: &[i16], query: &[i16], out: &mut Vec<f32>) {
    if query.is_empty() {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if query.len() == avx2::DIMS && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked just above).
        unsafe { avx2::cosines(rows, query, out) };
        return;
    }
    out.extend(rows.chunks_exact(query.len()).map(|row| cosine(row, query)));
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi32, _mm256_castsi256_si128, _mm256_extracti128_si256,
        _mm256_loadu_si256, _mm256_madd_epi16, _mm256_setzero_si256, _mm_add_epi32,
        _mm_cvtsi128_si32, _mm_shuffle_epi32,
    };

    use super::ONE;

    /// Dimensions of the word table's vectors.
    pub const DIMS: usize = 192;
    /// 256-bit chunks of a vector.
    const CHUNKS: usize = DIMS / 16;

    /// [`super::cosines`] for vectors of [`DIMS`] values.
    #[target_feature(enable = "avx2")]
    pub fn cosines(rows: &[i16], query: &[i16], out: &mut Vec<f32>) {
        let load = |values: &[i16]| {
            debug_assert_eq!(values.len(), 16);
            // SAFETY: `values` holds 16 `i16` (32 bytes); the load accepts any alignment.
            unsafe { _mm256_loadu_si256(values.as_ptr().cast::<__m256i>()) }
        };
        let mut q = [_mm256_setzero_si256(); CHUNKS];
        for (chunk, values) in q.iter_mut().zip(query.chunks_exact(16)) {
            *chunk = load(values);
        }
        for row in rows.chunks_exact(DIMS) {
            let mut sum = _mm256_setzero_si256();
            for (chunk, values) in q.iter().zip(row.chunks_exact(16)) {
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(load(values), *chunk));
            }
            let half = _mm_add_epi32(
                _mm256_castsi256_si128(sum),
                _mm256_extracti128_si256::<1>(sum),
            );
            let pairs = _mm_add_epi32(half, _mm_shuffle_epi32::<0b01_00_11_10>(half));
            let total = _mm_add_epi32(pairs, _mm_shuffle_epi32::<0b10_11_00_01>(pairs));
            out.push(_mm_cvtsi128_si32(total) as f32 / (ONE * ONE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(a: &[i16], b: &[i16]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| *x as i32 * *y as i32)
            .sum::<i32>() as f32
            / (ONE * ONE)
    }

    fn values(len: usize, step: usize) -> Vec<i16> {
        (0..len)
            .map(|i| ((i * step) % 8193) as i16 - 4096)
            .collect()
    }

    #[test]
    fn the_simd_cosine_is_the_exact_integer_dot_product() {
        for len in [0, 7, 8, 128, 131] {
            let (a, b) = (values(len, 977), values(len, 389));
            assert_eq!(cosine(&a, &b), scalar(&a, &b), "length {len}");
            // The largest products a unit vector can give, as many as fit an `i32` sum.
            let extreme = vec![-4096i16; len.min(64)];
            assert_eq!(cosine(&extreme, &extreme), scalar(&extreme, &extreme));
        }
    }

    #[test]
    fn cosines_of_many_rows_match_one_at_a_time_for_any_length() {
        // 192 takes the AVX2 path where the processor has it; the others the portable one.
        for dims in [5, 16, 192] {
            let query = values(dims, 389);
            let rows: Vec<i16> = (0..7).flat_map(|r| values(dims, 977 + 131 * r)).collect();
            let mut out = Vec::new();
            cosines(&rows, &query, &mut out);
            let expected: Vec<f32> = rows.chunks_exact(dims).map(|r| scalar(r, &query)).collect();
            assert_eq!(out, expected, "{dims} dimensions");
        }
        let mut out = vec![0.5];
        cosines(&[], &[], &mut out);
        assert_eq!(out, [0.5]);
    }
}
