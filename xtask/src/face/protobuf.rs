//! A minimal protocol-buffers writer: just what a TensorFlow `GraphDef` needs (varints, 32-bit floats,
//! length-delimited fields, packed repeated fields). Writing it by hand keeps xtask free of a protobuf compiler.

/// One message being written; fields are appended in the order they are added.
#[derive(Default, Clone, Debug)]
pub struct Msg(Vec<u8>);

const VARINT: u64 = 0;
const LEN: u64 = 2;
const FIXED32: u64 = 5;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl Msg {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    fn key(&mut self, field: u32, wire: u64) {
        varint(&mut self.0, (u64::from(field) << 3) | wire);
    }

    /// A varint field (`int32`, `int64`, `uint64`, `bool`, enum); negative numbers as ten-byte two's complement.
    pub fn int(&mut self, field: u32, v: i64) -> &mut Self {
        self.key(field, VARINT);
        varint(&mut self.0, v as u64);
        self
    }

    /// A `float` field.
    pub fn float(&mut self, field: u32, v: f32) -> &mut Self {
        self.key(field, FIXED32);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// A `bytes` field.
    pub fn bytes(&mut self, field: u32, b: &[u8]) -> &mut Self {
        self.key(field, LEN);
        varint(&mut self.0, b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }

    /// A `string` field.
    pub fn string(&mut self, field: u32, s: &str) -> &mut Self {
        self.bytes(field, s.as_bytes())
    }

    /// An embedded message field.
    pub fn message(&mut self, field: u32, m: &Msg) -> &mut Self {
        self.bytes(field, &m.0)
    }

    /// A packed repeated varint field (omitted when empty, as proto3 does).
    pub fn packed_ints(&mut self, field: u32, vs: &[i64]) -> &mut Self {
        if !vs.is_empty() {
            let mut body = Vec::new();
            for v in vs {
                varint(&mut body, *v as u64);
            }
            self.bytes(field, &body);
        }
        self
    }

    /// A packed repeated `float` field (omitted when empty).
    pub fn packed_floats(&mut self, field: u32, vs: &[f32]) -> &mut Self {
        if !vs.is_empty() {
            let body: Vec<u8> = vs.iter().flat_map(|f| f.to_le_bytes()).collect();
            self.bytes(field, &body);
        }
        self
    }

    /// The encoded bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_the_protobuf_spec_examples() {
        // The encoding guide's examples: field 1 = 150 is 08 96 01; field 2 = "testing" is 12 07 74 65 73 74 69 6e 67.
        let mut m = Msg::new();
        m.int(1, 150).string(2, "testing");
        assert_eq!(m.into_bytes(), [0x08, 0x96, 0x01, 0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g']);
        // Packed repeated field 4 = [3, 270, 86942]: 22 06 03 8e 02 9e a7 05.
        let mut p = Msg::new();
        p.packed_ints(4, &[3, 270, 86942]);
        assert_eq!(p.into_bytes(), [0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05]);
    }

    #[test]
    fn negative_ints_take_ten_bytes_and_floats_four() {
        let mut m = Msg::new();
        m.int(3, -1);
        assert_eq!(m.into_bytes(), [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        let mut f = Msg::new();
        f.float(4, 1.0).packed_floats(5, &[]);
        assert_eq!(f.into_bytes(), [0x25, 0x00, 0x00, 0x80, 0x3f]);
    }
}
