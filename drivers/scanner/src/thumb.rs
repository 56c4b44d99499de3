//! A streaming area-average downscaler for the on-screen thumbnail: it takes the page one row
//! at a time (as the scanner delivers it) and holds only one row of sums, never the page.

/// A finished thumbnail: 8-bit gray or RGB pixels, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub pixels: Vec<u8>,
}

/// The thumbnail size for a `width × height` page: the long side becomes `long_side` (never
/// enlarged), the aspect ratio is kept, and neither side is below 1.
pub fn thumbnail_size(width: u32, height: u32, long_side: u32) -> (u32, u32) {
    let long = width.max(height).max(1);
    let target = long_side.max(1).min(long);
    let scale = |v: u32| -> u32 {
        let scaled = (u64::from(v) * u64::from(target) + u64::from(long) / 2) / u64::from(long);
        u32::try_from(scaled).unwrap_or(u32::MAX).max(1)
    };
    (scale(width), scale(height))
}

/// Averages every source pixel into the thumbnail pixel that covers it.
#[derive(Debug, Clone)]
pub struct Downscaler {
    src_width: u32,
    src_height: u32,
    channels: usize,
    width: u32,
    height: u32,
    /// Thumbnail column of every source column.
    column: Vec<u32>,
    /// How many source columns fall into each thumbnail column.
    column_count: Vec<u64>,
    /// Sums for the thumbnail row being built.
    sums: Vec<u64>,
    rows_in_sums: u64,
    current_row: u32,
    next_src_row: u32,
    pixels: Vec<u8>,
}

impl Downscaler {
    pub fn new(src_width: u32, src_height: u32, channels: u8, long_side: u32) -> Self {
        let (width, height) = thumbnail_size(src_width, src_height, long_side);
        let channels = usize::from(channels.max(1));
        let column: Vec<u32> = (0..src_width)
            .map(|x| {
                let c = u64::from(x) * u64::from(width) / u64::from(src_width.max(1));
                u32::try_from(c).unwrap_or(0).min(width - 1)
            })
            .collect();
        let mut column_count = vec![0u64; width as usize];
        for &c in &column {
            if let Some(n) = column_count.get_mut(c as usize) {
                *n += 1;
            }
        }
        Downscaler {
            src_width,
            src_height,
            channels,
            width,
            height,
            column,
            column_count,
            sums: vec![0; width as usize * channels],
            rows_in_sums: 0,
            current_row: 0,
            next_src_row: 0,
            pixels: Vec::with_capacity(width as usize * height as usize * channels),
        }
    }

    /// Adds the next source row (`src_width × channels` samples; shorter rows are padded with
    /// black, extra rows past the page height are ignored).
    pub fn push_row(&mut self, row: &[u8]) {
        if self.next_src_row >= self.src_height {
            return;
        }
        let target = self.row_of(self.next_src_row);
        if target != self.current_row {
            self.flush();
            self.current_row = target;
        }
        let ch = self.channels;
        for (x, &c) in self.column.iter().enumerate() {
            let base = c as usize * ch;
            for k in 0..ch {
                let v = row.get(x * ch + k).copied().unwrap_or(0);
                if let Some(s) = self.sums.get_mut(base + k) {
                    *s += u64::from(v);
                }
            }
        }
        self.rows_in_sums += 1;
        self.next_src_row += 1;
    }

    fn row_of(&self, src_row: u32) -> u32 {
        let r = u64::from(src_row) * u64::from(self.height) / u64::from(self.src_height.max(1));
        u32::try_from(r).unwrap_or(0).min(self.height - 1)
    }

    fn flush(&mut self) {
        if self.rows_in_sums == 0 {
            return;
        }
        let ch = self.channels;
        for (x, &cols) in self.column_count.iter().enumerate() {
            let n = (cols * self.rows_in_sums).max(1);
            for k in 0..ch {
                let idx = x * ch + k;
                let sum = self.sums.get(idx).copied().unwrap_or(0);
                let avg = (sum + n / 2) / n;
                self.pixels.push(u8::try_from(avg.min(255)).unwrap_or(255));
            }
        }
        self.sums.iter_mut().for_each(|s| *s = 0);
        self.rows_in_sums = 0;
    }

    /// Finishes the thumbnail. Rows never delivered (a short page) come out black.
    pub fn finish(mut self) -> Thumbnail {
        self.flush();
        let full = self.width as usize * self.height as usize * self.channels;
        self.pixels.resize(full, 0);
        Thumbnail {
            width: self.width,
            height: self.height,
            channels: u8::try_from(self.channels).unwrap_or(1),
            pixels: self.pixels,
        }
    }

    /// The source width this downscaler expects.
    pub fn source_width(&self) -> u32 {
        self.src_width
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_aspect_and_never_enlarges() {
        assert_eq!(thumbnail_size(2480, 3507, 240), (170, 240));
        assert_eq!(thumbnail_size(3507, 2480, 240), (240, 170));
        assert_eq!(thumbnail_size(100, 50, 240), (100, 50));
        assert_eq!(thumbnail_size(10_000, 1, 240), (240, 1));
        assert_eq!(thumbnail_size(0, 0, 240), (1, 1));
    }

    #[test]
    fn averages_areas() {
        // 4×4 gray: left half black, right half white → 2×2 thumbnail.
        let mut d = Downscaler::new(4, 4, 1, 2);
        for _ in 0..4 {
            d.push_row(&[0, 0, 255, 255]);
        }
        let t = d.finish();
        assert_eq!((t.width, t.height), (2, 2));
        assert_eq!(t.pixels, vec![0, 255, 0, 255]);
    }

    #[test]
    fn averages_colour_and_handles_uneven_blocks() {
        let mut d = Downscaler::new(3, 3, 3, 2);
        for _ in 0..3 {
            d.push_row(&[255, 0, 0, 255, 0, 0, 0, 0, 255]);
        }
        let t = d.finish();
        assert_eq!((t.width, t.height, t.channels), (2, 2, 3));
        assert_eq!(t.pixels.len(), 12);
        // Column 0 takes source columns 0 and 1 (both red) — width 3 → 2 maps 0,1→0 and 2→1.
        assert_eq!(&t.pixels[..6], &[255, 0, 0, 0, 0, 255]);
    }

    #[test]
    fn short_pages_come_out_black_and_extra_rows_are_ignored() {
        let mut d = Downscaler::new(2, 4, 1, 4);
        d.push_row(&[200, 200]);
        let t = d.finish();
        assert_eq!(t.pixels, vec![200, 200, 0, 0, 0, 0, 0, 0]);
        let mut d = Downscaler::new(1, 1, 1, 4);
        d.push_row(&[9]);
        d.push_row(&[250]);
        assert_eq!(d.finish().pixels, vec![9]);
    }
}
