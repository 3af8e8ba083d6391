//! The self-attention cache of one job: keys and values of every position fed so far,
//! preallocated for the whole job as `[b, heads, capacity, head_dim]`.
//!
//! Exact models keep f32. Quantized ones keep each row of `head_dim` values as signed bytes
//! with one f32 scale (its largest magnitude / 127), as their weights are kept: a quarter of
//! the memory and of the bytes a late step reads (a 10 s clip's f32 cache is ≈ 200 MB, this
//! one ≈ 50 MB), rounding within 1/254 of the row's largest value. candle has no signed byte
//! type, so the bytes sit in a `U8` tensor and are read back as `i8`. The attention kernel
//! folds the scales into its scores and weights, so rows are never expanded in memory.

use candle_core::{DType, Device, Result, Tensor};

pub(crate) struct SelfCache {
    k: Tensor,
    v: Tensor,
    /// `[b, heads, capacity]` scales of the integer rows; empty for f32.
    k_scale: Vec<f32>,
    v_scale: Vec<f32>,
    capacity: usize,
    len: usize,
}

/// The positions held so far.
pub(crate) struct CacheView<'a> {
    pub k: Tensor,
    pub v: Tensor,
    pub scales: Option<RowScales<'a>>,
}

/// Scales of integer rows: row `j` of batch-head `bh` has scale `k[bh · capacity + j]`.
#[derive(Clone, Copy)]
pub(crate) struct RowScales<'a> {
    pub k: &'a [f32],
    pub v: &'a [f32],
    pub capacity: usize,
}

impl SelfCache {
    /// `scaled`: byte rows with scales instead of f32.
    pub fn new(shape: (usize, usize, usize, usize), scaled: bool, device: &Device) -> Result<Self> {
        let (b, h, capacity, _) = shape;
        let (dtype, scales) = if scaled {
            (DType::U8, b * h * capacity)
        } else {
            (DType::F32, 0)
        };
        Ok(Self {
            k: Tensor::zeros(shape, dtype, device)?,
            v: Tensor::zeros(shape, dtype, device)?,
            k_scale: vec![0.0; scales],
            v_scale: vec![0.0; scales],
            capacity,
            len: 0,
        })
    }

    /// Bytes per cached value and its share of the row scale.
    pub fn bytes_per_value(scaled: bool, head_dim: usize) -> f64 {
        if scaled {
            1.0 + 4.0 / head_dim as f64
        } else {
            4.0
        }
    }

    /// Stores `k`, `v` `[b, heads, t, head_dim]` after the positions already held.
    pub fn append(&mut self, k: &Tensor, v: &Tensor) -> Result<()> {
        let (b, h, t, d) = k.dims4()?;
        let capacity = self.capacity;
        if self.len + t > capacity {
            candle_core::bail!(
                "decoder cache holds {capacity} positions, {} fed",
                self.len + t
            );
        }
        if self.k.dtype() == DType::F32 {
            self.k.slice_set(&k.contiguous()?, 2, self.len)?;
            self.v.slice_set(&v.contiguous()?, 2, self.len)?;
        } else {
            let at = |bh: usize, j: usize| bh * capacity + self.len + j;
            let (kq, ks) = to_scaled_rows(k, d)?;
            let (vq, vs) = to_scaled_rows(v, d)?;
            for bh in 0..b * h {
                for j in 0..t {
                    self.k_scale[at(bh, j)] = ks[bh * t + j];
                    self.v_scale[at(bh, j)] = vs[bh * t + j];
                }
            }
            let device = k.device();
            self.k
                .slice_set(&Tensor::from_vec(kq, (b, h, t, d), device)?, 2, self.len)?;
            self.v
                .slice_set(&Tensor::from_vec(vq, (b, h, t, d), device)?, 2, self.len)?;
        }
        self.len += t;
        Ok(())
    }

    /// A copy that no longer shares storage with this one: appending to either leaves the
    /// other as it was.
    pub fn duplicate(&self) -> Result<Self> {
        Ok(Self {
            k: self.k.copy()?,
            v: self.v.copy()?,
            k_scale: self.k_scale.clone(),
            v_scale: self.v_scale.clone(),
            capacity: self.capacity,
            len: self.len,
        })
    }

    pub fn view(&self) -> Result<CacheView<'_>> {
        let scales = (self.k.dtype() == DType::U8).then(|| RowScales {
            k: &self.k_scale,
            v: &self.v_scale,
            capacity: self.capacity,
        });
        Ok(CacheView {
            k: self.k.narrow(2, 0, self.len)?,
            v: self.v.narrow(2, 0, self.len)?,
            scales,
        })
    }
}

impl CacheView<'_> {
    /// Keys and values as f32 tensors, for feeds of several positions at once.
    pub fn to_f32(&self) -> Result<(Tensor, Tensor)> {
        let Some(scales) = self.scales else {
            return Ok((self.k.clone(), self.v.clone()));
        };
        let (b, h, t, d) = self.k.dims4()?;
        let expand = |values: &Tensor, scale: &[f32]| -> Result<Tensor> {
            let bytes = values.flatten_all()?.to_vec1::<u8>()?;
            let mut out = Vec::with_capacity(bytes.len());
            for (row, q) in bytes.chunks_exact(d).enumerate() {
                let s = scale[(row / t) * scales.capacity + row % t];
                out.extend(q.iter().map(|&q| f32::from(q as i8) * s));
            }
            Tensor::from_vec(out, (b, h, t, d), values.device())
        };
        Ok((expand(&self.k, scales.k)?, expand(&self.v, scales.v)?))
    }
}

/// Rows of `d` values as signed bytes (stored as `u8`) and their scales.
fn to_scaled_rows(x: &Tensor, d: usize) -> Result<(Vec<u8>, Vec<f32>)> {
    let values = x.flatten_all()?.to_vec1::<f32>()?;
    Ok(crate::kernels::vectorized!({
        let (q, scales) = crate::scaled::scale_rows(&values, d);
        (q.into_iter().map(|q| q as u8).collect(), scales)
    }))
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor};

    use super::SelfCache;
    use crate::test_util::{max_abs, max_abs_diff};

    #[test]
    fn a_duplicate_goes_its_own_way() {
        let dev = Device::Cpu;
        for scaled in [false, true] {
            let mut cache = SelfCache::new((1, 2, 4, 16), scaled, &dev).unwrap();
            let first = Tensor::randn(0f32, 1.0, (1, 2, 1, 16), &dev).unwrap();
            cache.append(&first, &first).unwrap();
            let before = cache.view().unwrap().to_f32().unwrap().0;
            let mut copy = cache.duplicate().unwrap();
            let second = Tensor::randn(0f32, 1.0, (1, 2, 1, 16), &dev).unwrap();
            copy.append(&second, &second).unwrap();
            let after = cache.view().unwrap().to_f32().unwrap().0;
            assert_eq!(max_abs_diff(&after, &before), 0.0, "scaled {scaled}");
            assert_eq!(copy.view().unwrap().k.dim(2).unwrap(), 2);
            assert_eq!(cache.view().unwrap().k.dim(2).unwrap(), 1);
            // Appending to the original leaves the copy's second row alone.
            cache.append(&first, &first).unwrap();
            let (copied, _) = copy.view().unwrap().to_f32().unwrap();
            let want = Tensor::cat(&[&before, &second], 2).unwrap();
            let tolerance = if scaled { 0.05 } else { 0.0 };
            assert!(max_abs_diff(&copied, &want) <= tolerance, "scaled {scaled}");
        }
    }

    #[test]
    fn scaled_rows_come_back_within_their_rounding() {
        let dev = Device::Cpu;
        let mut cache = SelfCache::new((2, 3, 6, 16), true, &dev).unwrap();
        let k = (Tensor::randn(0f32, 2.0, (2, 3, 4, 16), &dev).unwrap() * 10.0).unwrap();
        let v = Tensor::randn(0f32, 0.5, (2, 3, 4, 16), &dev).unwrap();
        cache
            .append(&k.narrow(2, 0, 3).unwrap(), &v.narrow(2, 0, 3).unwrap())
            .unwrap();
        cache
            .append(&k.narrow(2, 3, 1).unwrap(), &v.narrow(2, 3, 1).unwrap())
            .unwrap();
        let (k2, v2) = cache.view().unwrap().to_f32().unwrap();
        for (got, want) in [(k2, k), (v2, v)] {
            let max = max_abs(&want);
            let diff = max_abs_diff(&got, &want);
            assert!(diff <= max / 254.0, "off by {diff} (largest value {max})");
            assert!(
                diff > 0.0,
                "the values were not rounded: is the cache still f32?"
            );
        }
    }
}
