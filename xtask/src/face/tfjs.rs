//! Converts a TensorFlow.js graph model (`model.json` + binary weight shards) into a frozen TensorFlow `GraphDef`
//! (protobuf) that `tract-tensorflow` loads.
//!
//! A TF.js graph model is a GraphDef written as proto3 JSON, with every `Const` node's value moved into the weight
//! shards. The conversion puts the weights back as `Const` tensors (dequantizing float16/uint8/uint16 weights to
//! float32) and rewrites the fused ops that TensorFlow's optimizer (Grappler) left in the graph, which are internal
//! to TensorFlow and unknown to tract: `_FusedConv2D`, `FusedDepthwiseConv2dNative` and `_FusedMatMul` become the
//! plain op followed by `BiasAdd` and the activation; `Square(x)` becomes `Mul(x, x)`; a zero `Pad` (whose inference
//! rules in tract-tensorflow 0.23 reject int32 paddings) becomes a concatenation with zero slabs. The last op of a
//! rewritten chain keeps the original node's name, so every consumer still finds its input.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::Value;

use super::protobuf::Msg;
use crate::sh::Res;

/// One node of the output graph.
#[derive(Debug, Clone)]
pub struct Node {
    /// Node name (unique in the graph).
    pub name: String,
    /// TensorFlow op type.
    pub op: String,
    /// Inputs as `node[:slot]`.
    pub inputs: Vec<String>,
    /// Attributes, already encoded as `AttrValue` messages.
    pub attrs: Vec<(String, Msg)>,
}

/// A weight from the manifest, decoded: TensorFlow dtype, shape and little-endian contents.
struct Weight {
    dtype: i64,
    shape: Vec<i64>,
    content: Vec<u8>,
}

/// What one conversion produced.
#[derive(Debug)]
pub struct Converted {
    /// The serialized `GraphDef`.
    pub graph_def: Vec<u8>,
    /// How many fused nodes were rewritten into plain ops.
    pub unfused: usize,
}

/// Converts `model` (the parsed `model.json`) with `weights` (its shards concatenated in manifest order).
pub fn convert(model: &Value, weights: &[u8]) -> Res<Converted> {
    let mut table = read_weights(model, weights)?;
    let nodes = model["modelTopology"]["node"].as_array().ok_or("model.json has no modelTopology.node")?;
    let pads = pad_amounts(nodes, &table)?;
    let mut out = Vec::with_capacity(nodes.len() * 2);
    let mut unfused = 0;
    for n in nodes {
        let before = out.len();
        rewrite(n, &mut table, &pads, &mut out)?;
        unfused += usize::from(out.len() > before + 1);
    }
    if let Some(name) = table.keys().next() {
        return Err(format!("weight {name:?} belongs to no Const node"));
    }
    let mut graph = Msg::new();
    for n in &out {
        graph.message(1, &encode_node(n));
    }
    let producer = model["modelTopology"]["versions"]["producer"].as_i64().unwrap_or(0);
    let mut versions = Msg::new();
    versions.int(1, producer);
    graph.message(4, &versions);
    Ok(Converted { graph_def: graph.into_bytes(), unfused })
}

fn encode_node(n: &Node) -> Msg {
    let mut m = Msg::new();
    m.string(1, &n.name).string(2, &n.op);
    for i in &n.inputs {
        m.string(3, i);
    }
    for (k, v) in &n.attrs {
        let mut entry = Msg::new();
        entry.string(1, k).message(2, v);
        m.message(5, &entry);
    }
    m
}

/// TensorFlow's `DataType` enum value for a proto3-JSON name (`"DT_FLOAT"`) or a TF.js dtype (`"float32"`).
fn data_type(name: &str) -> Res<i64> {
    Ok(match name {
        "DT_FLOAT" | "float32" => 1,
        "DT_DOUBLE" => 2,
        "DT_INT32" | "int32" => 3,
        "DT_UINT8" => 4,
        "DT_INT16" => 5,
        "DT_INT8" => 6,
        "DT_STRING" => 7,
        "DT_INT64" => 9,
        "DT_BOOL" | "bool" => 10,
        "DT_UINT16" => 17,
        "DT_HALF" => 19,
        _ => return Err(format!("unsupported dtype {name:?}")),
    })
}

/// An IEEE 754 half-precision float, widened.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x3ff);
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: normalise the mantissa, lowering the exponent once per shift.
            let (mut e, mut m) = (127 - 15 + 1, mant);
            while m & 0x400 == 0 {
                m <<= 1;
                e -= 1;
            }
            sign | (e << 23) | ((m & 0x3ff) << 13)
        }
        (0x1f, _) => sign | 0x7f80_0000 | (mant << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (mant << 13),
    };
    f32::from_bits(bits)
}

fn json_i64(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn read_weights(model: &Value, data: &[u8]) -> Res<HashMap<String, Weight>> {
    let groups = model["weightsManifest"].as_array().ok_or("model.json has no weightsManifest")?;
    let mut table = HashMap::new();
    let mut at = 0usize;
    for spec in groups.iter().flat_map(|g| g["weights"].as_array().into_iter().flatten()) {
        let name = spec["name"].as_str().ok_or("weight without a name")?;
        let shape: Vec<i64> =
            spec["shape"].as_array().ok_or("weight without a shape")?.iter().filter_map(json_i64).collect();
        let count = shape.iter().try_fold(1usize, |n, d| usize::try_from(*d).ok().and_then(|d| n.checked_mul(d)));
        let count = count.ok_or_else(|| format!("weight {name}: bad shape {shape:?}"))?;
        let dtype = spec["dtype"].as_str().ok_or("weight without a dtype")?;
        let q = &spec["quantization"];
        let stored = q["dtype"].as_str().unwrap_or(dtype);
        let width = match stored {
            "float32" | "int32" => 4,
            "float16" | "uint16" => 2,
            "uint8" | "bool" => 1,
            other => return Err(format!("weight {name}: unsupported stored dtype {other}")),
        };
        let raw = data.get(at..at + count * width).ok_or_else(|| format!("weight {name} runs past the shards"))?;
        at += count * width;
        let content = match stored {
            "float16" => {
                raw.chunks_exact(2).flat_map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])).to_le_bytes()).collect()
            }
            "uint8" | "uint16" if dtype == "float32" => {
                let scale = q["scale"].as_f64().ok_or_else(|| format!("weight {name}: quantized without scale"))?;
                let min = q["min"].as_f64().ok_or_else(|| format!("weight {name}: quantized without min"))?;
                let vals: Vec<u32> = if width == 1 {
                    raw.iter().map(|b| u32::from(*b)).collect()
                } else {
                    raw.chunks_exact(2).map(|c| u32::from(u16::from_le_bytes([c[0], c[1]]))).collect()
                };
                vals.iter().flat_map(|v| ((f64::from(*v) * scale + min) as f32).to_le_bytes()).collect()
            }
            "uint8" | "uint16" => return Err(format!("weight {name}: affine quantization of {dtype}")),
            _ => raw.to_vec(),
        };
        table.insert(name.to_string(), Weight { dtype: data_type(dtype)?, shape, content });
    }
    if at != data.len() {
        return Err(format!("the weight shards hold {} bytes, the manifest describes {at}", data.len()));
    }
    Ok(table)
}

/// The paddings of every `Pad` node, read from their constant second input: `[(before, after); rank]`.
fn pad_amounts(nodes: &[Value], table: &HashMap<String, Weight>) -> Res<HashMap<String, Vec<(i64, i64)>>> {
    let mut pads = HashMap::new();
    for n in nodes.iter().filter(|n| n["op"] == "Pad") {
        let name = n["name"].as_str().unwrap_or_default();
        let src = n["input"][1].as_str().unwrap_or_default();
        let w = table.get(src).ok_or_else(|| format!("Pad {name}: paddings are not a constant"))?;
        if w.dtype != 3 || w.shape.len() != 2 || w.shape[1] != 2 {
            return Err(format!("Pad {name}: paddings must be int32 [rank, 2]"));
        }
        let v: Vec<i64> =
            w.content.chunks_exact(4).map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect();
        pads.insert(name.to_string(), v.chunks_exact(2).map(|p| (p[0], p[1])).collect());
    }
    Ok(pads)
}

/// A new `Const` node holding an int32 vector.
fn const_i32(name: &str, values: &[i64]) -> Node {
    let content: Vec<u8> = values.iter().flat_map(|v| (*v as i32).to_le_bytes()).collect();
    const_node(name, 3, &[values.len() as i64], content)
}

fn const_node(name: &str, dtype: i64, shape: &[i64], content: Vec<u8>) -> Node {
    let mut tensor = Msg::new();
    tensor.int(1, dtype).message(2, &shape_msg(shape, false)).bytes(4, &content);
    let mut value = Msg::new();
    value.message(8, &tensor);
    let mut dt = Msg::new();
    dt.int(6, dtype);
    Node {
        name: name.into(),
        op: "Const".into(),
        inputs: vec![],
        attrs: vec![("dtype".into(), dt), ("value".into(), value)],
    }
}

fn int_attr(v: i64) -> Msg {
    let mut m = Msg::new();
    m.int(3, v);
    m
}

fn type_msg(dtype: i64) -> Msg {
    let mut m = Msg::new();
    m.int(6, dtype);
    m
}

/// `Pad(x, paddings)` with zeros as plain ops: for each padded axis, a one-wide slice of the tensor times zero,
/// tiled to the padding's width, concatenated before and after it. Needs no knowledge of the input's shape.
fn unpad(name: &str, x: &str, pads: &[(i64, i64)], out: &mut Vec<Node>) {
    let rank = pads.len();
    let padded: Vec<usize> = (0..rank).filter(|d| pads[*d] != (0, 0)).collect();
    let zero = format!("{name}/_zero");
    out.push(const_node(&zero, 1, &[], 0f32.to_le_bytes().to_vec()));
    let f32_t = || ("T".to_string(), type_msg(1));
    let mut cur = x.to_string();
    for (i, &d) in padded.iter().enumerate() {
        let p = format!("{name}/_axis{d}");
        let mut end = vec![0; rank];
        end[d] = 1;
        out.push(const_i32(&format!("{p}/begin"), &vec![0; rank]));
        out.push(const_i32(&format!("{p}/end"), &end));
        out.push(const_i32(&format!("{p}/strides"), &vec![1; rank]));
        // Every axis but `d` is taken whole (end mask); along `d`, elements 0..1.
        let all_but_d = ((1i64 << rank) - 1) & !(1i64 << d);
        let slice_attrs = vec![
            f32_t(),
            ("Index".into(), type_msg(3)),
            ("begin_mask".into(), int_attr(0)),
            ("end_mask".into(), int_attr(all_but_d)),
            ("ellipsis_mask".into(), int_attr(0)),
            ("new_axis_mask".into(), int_attr(0)),
            ("shrink_axis_mask".into(), int_attr(0)),
        ];
        let ins = [cur.clone(), format!("{p}/begin"), format!("{p}/end"), format!("{p}/strides")];
        out.push(Node {
            name: format!("{p}/slice"),
            op: "StridedSlice".into(),
            inputs: ins.to_vec(),
            attrs: slice_attrs,
        });
        let zeros = format!("{p}/zeros");
        out.push(Node {
            name: zeros.clone(),
            op: "Mul".into(),
            inputs: vec![format!("{p}/slice"), zero.clone()],
            attrs: vec![f32_t()],
        });
        let mut parts = Vec::new();
        for (side, width) in [("before", pads[d].0), ("after", pads[d].1)] {
            if width == 0 {
                continue;
            }
            let mut multiples = vec![1; rank];
            multiples[d] = width;
            out.push(const_i32(&format!("{p}/{side}/multiples"), &multiples));
            let slab = format!("{p}/{side}");
            let tile_attrs = vec![f32_t(), ("Tmultiples".into(), type_msg(3))];
            out.push(Node {
                name: slab.clone(),
                op: "Tile".into(),
                inputs: vec![zeros.clone(), format!("{slab}/multiples")],
                attrs: tile_attrs,
            });
            parts.push((side, slab));
        }
        let mut ins: Vec<String> = parts.iter().filter(|p| p.0 == "before").map(|p| p.1.clone()).collect();
        ins.push(cur.clone());
        ins.extend(parts.iter().filter(|p| p.0 == "after").map(|p| p.1.clone()));
        out.push(const_node(&format!("{p}/axis"), 3, &[], (d as i32).to_le_bytes().to_vec()));
        let n_in = ins.len() as i64;
        ins.push(format!("{p}/axis"));
        let concat = if i + 1 == padded.len() { name.to_string() } else { format!("{p}/concat") };
        let concat_attrs = vec![f32_t(), ("N".into(), int_attr(n_in)), ("Tidx".into(), type_msg(3))];
        out.push(Node { name: concat.clone(), op: "ConcatV2".into(), inputs: ins, attrs: concat_attrs });
        cur = concat;
    }
    if padded.is_empty() {
        out.push(Node { name: name.into(), op: "Identity".into(), inputs: vec![x.into()], attrs: vec![f32_t()] });
    }
}

fn shape_msg(dims: &[i64], unknown_rank: bool) -> Msg {
    let mut m = Msg::new();
    for d in dims {
        let mut dim = Msg::new();
        dim.int(1, *d);
        m.message(2, &dim);
    }
    if unknown_rank {
        m.int(3, 1);
    }
    m
}

fn json_shape(v: &Value) -> Msg {
    let dims: Vec<i64> = v["dim"].as_array().into_iter().flatten().map(|d| json_i64(&d["size"]).unwrap_or(0)).collect();
    shape_msg(&dims, v["unknownRank"].as_bool().unwrap_or(false))
}

fn b64(s: &Value) -> Res<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s.as_str().unwrap_or_default()).map_err(|e| e.to_string())
}

fn json_f32(v: &Value) -> f32 {
    match v.as_str() {
        Some("NaN") => f32::NAN,
        Some("Infinity") => f32::INFINITY,
        Some("-Infinity") => f32::NEG_INFINITY,
        Some(s) => s.parse().unwrap_or(0.0),
        None => v.as_f64().unwrap_or(0.0) as f32,
    }
}

/// Encodes one proto3-JSON `AttrValue`.
fn attr_value(v: &Value) -> Res<Msg> {
    let mut m = Msg::new();
    let obj = v.as_object().ok_or("attribute is not an object")?;
    if let Some(list) = obj.get("list") {
        let mut l = Msg::new();
        for s in list["s"].as_array().into_iter().flatten() {
            l.bytes(2, &b64(s)?);
        }
        let ints: Vec<i64> = list["i"].as_array().into_iter().flatten().filter_map(json_i64).collect();
        l.packed_ints(3, &ints);
        let floats: Vec<f32> = list["f"].as_array().into_iter().flatten().map(json_f32).collect();
        l.packed_floats(4, &floats);
        let bools: Vec<i64> = list["b"].as_array().into_iter().flatten().map(|b| i64::from(b == true)).collect();
        l.packed_ints(5, &bools);
        let types = list["type"].as_array().into_iter().flatten().map(|t| data_type(t.as_str().unwrap_or_default()));
        l.packed_ints(6, &types.collect::<Res<Vec<i64>>>()?);
        for s in list["shape"].as_array().into_iter().flatten() {
            l.message(7, &json_shape(s));
        }
        if list.get("tensor").is_some() || list.get("func").is_some() {
            return Err("list attributes of tensors or functions are not supported".into());
        }
        m.message(1, &l);
    } else if let Some(s) = obj.get("s") {
        m.bytes(2, &b64(s)?);
    } else if let Some(i) = obj.get("i") {
        m.int(3, json_i64(i).ok_or("bad int attribute")?);
    } else if let Some(f) = obj.get("f") {
        m.float(4, json_f32(f));
    } else if let Some(b) = obj.get("b") {
        m.int(5, i64::from(b == true));
    } else if let Some(t) = obj.get("type") {
        m.int(6, data_type(t.as_str().unwrap_or_default())?);
    } else if let Some(s) = obj.get("shape") {
        m.message(7, &json_shape(s));
    } else {
        return Err(format!("unsupported attribute {v}"));
    }
    Ok(m)
}

/// The node's attributes named in `keep` (all but TF.js-internal `_…` ones when `keep` is empty), encoded.
fn attrs(n: &Value, keep: &[&str]) -> Res<Vec<(String, Msg)>> {
    let mut out = Vec::new();
    if let Some(obj) = n["attr"].as_object() {
        for (k, v) in obj {
            let wanted = if keep.is_empty() { !k.starts_with('_') } else { keep.contains(&k.as_str()) };
            if wanted {
                out.push((k.clone(), attr_value(v).map_err(|e| format!("{}: attr {k}: {e}", n["name"]))?));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn type_attr(n: &Value) -> Res<Vec<(String, Msg)>> {
    attrs(n, &["T"])
}

/// Appends the node, or its unfused chain, to `out`.
fn rewrite(
    n: &Value,
    weights: &mut HashMap<String, Weight>,
    pads: &HashMap<String, Vec<(i64, i64)>>,
    out: &mut Vec<Node>,
) -> Res {
    let name = n["name"].as_str().ok_or("node without a name")?.to_string();
    let op = n["op"].as_str().ok_or("node without an op")?;
    let inputs: Vec<String> =
        n["input"].as_array().into_iter().flatten().filter_map(|i| i.as_str().map(String::from)).collect();
    let node =
        |name: &str, op: &str, inputs: Vec<String>, attrs| Node { name: name.into(), op: op.into(), inputs, attrs };
    match op {
        "Const" => {
            let w = weights.remove(&name).ok_or_else(|| format!("Const {name} has no weight in the manifest"))?;
            out.push(const_node(&name, w.dtype, &w.shape, w.content));
        }
        "Pad" => {
            let amounts = pads.get(&name).ok_or_else(|| format!("Pad {name}: no paddings"))?;
            if n["attr"]["T"]["type"] != "DT_FLOAT" {
                return Err(format!("Pad {name}: only float tensors are padded"));
            }
            unpad(&name, &inputs[0], amounts, out);
        }
        "Square" => out.push(node(&name, "Mul", vec![inputs[0].clone(), inputs[0].clone()], type_attr(n)?)),
        "_FusedConv2D" | "FusedDepthwiseConv2dNative" | "_FusedMatMul" => {
            let (base, keep): (&str, &[&str]) = match op {
                "_FusedConv2D" => {
                    ("Conv2D", &["T", "strides", "padding", "data_format", "dilations", "explicit_paddings"])
                }
                "FusedDepthwiseConv2dNative" => (
                    "DepthwiseConv2dNative",
                    &["T", "strides", "padding", "data_format", "dilations", "explicit_paddings"],
                ),
                _ => ("MatMul", &["T", "transpose_a", "transpose_b"]),
            };
            let fused: Vec<String> = n["attr"]["fused_ops"]["list"]["s"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| b64(s).map(|b| String::from_utf8_lossy(&b).into_owned()))
                .collect::<Res<_>>()?;
            let [x, w, args @ ..] = inputs.as_slice() else { return Err(format!("{name}: {op} needs two inputs")) };
            let steps: Vec<&str> = fused.iter().map(String::as_str).collect();
            let chain_name = |i: usize, step: &str| {
                if i + 1 == steps.len() { name.clone() } else { format!("{name}/_{step}") }
            };
            let mut prev = format!("{name}/_{base}");
            out.push(node(&prev, base, vec![x.clone(), w.clone()], attrs(n, keep)?));
            for (i, step) in steps.iter().enumerate() {
                let next = chain_name(i, step);
                let (op, ins, at) = match *step {
                    "BiasAdd" => {
                        let bias = args.first().ok_or_else(|| format!("{name}: BiasAdd without a bias"))?;
                        let at = if base == "MatMul" { type_attr(n)? } else { attrs(n, &["T", "data_format"])? };
                        ("BiasAdd", vec![prev.clone(), bias.clone()], at)
                    }
                    "Relu" | "Relu6" => (*step, vec![prev.clone()], type_attr(n)?),
                    other => return Err(format!("{name}: fused op {other} is not supported")),
                };
                out.push(node(&next, op, ins, at));
                prev = next;
            }
            if steps.is_empty() {
                // A fused node with nothing fused: the plain op takes its name.
                if let Some(last) = out.last_mut() {
                    last.name = name;
                }
            }
        }
        _ => out.push(node(&name, op, inputs, attrs(n, &[])?)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64s(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn half_floats_widen_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x0200), 2f32.powi(-15));
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000);
    }

    fn model(nodes: Value, weights: Value) -> Value {
        json!({"modelTopology": {"node": nodes, "versions": {"producer": 440}}, "weightsManifest": [{"paths": ["m.bin"], "weights": weights}]})
    }

    #[test]
    fn fused_conv_becomes_conv_biasadd_relu_keeping_the_name() {
        let m = model(
            json!([
                {"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"}}},
                {"name": "w", "op": "Const", "attr": {"value": {"tensor": {"dtype": "DT_FLOAT"}}, "dtype": {"type": "DT_FLOAT"}}},
                {"name": "b", "op": "Const", "attr": {"value": {"tensor": {"dtype": "DT_FLOAT"}}, "dtype": {"type": "DT_FLOAT"}}},
                {"name": "c", "op": "_FusedConv2D", "input": ["x", "w", "b"], "attr": {
                    "fused_ops": {"list": {"s": [b64s("BiasAdd"), b64s("Relu")]}}, "num_args": {"i": "1"},
                    "padding": {"s": b64s("SAME")}, "strides": {"list": {"i": ["1", "1", "1", "1"]}}, "T": {"type": "DT_FLOAT"}}},
                {"name": "y", "op": "Square", "input": ["c"], "attr": {"T": {"type": "DT_FLOAT"}, "_cloned": {"b": true}}}
            ]),
            json!([{"name": "w", "shape": [1, 1, 1, 1], "dtype": "float32"},
                   {"name": "b", "shape": [1], "dtype": "float32", "quantization": {"dtype": "float16", "original_dtype": "float32"}}]),
        );
        let mut weights = Vec::from(2.0f32.to_le_bytes());
        weights.extend(0x3c00u16.to_le_bytes());
        let mut table = read_weights(&m, &weights).unwrap();
        assert_eq!(table["b"].content, 1.0f32.to_le_bytes());
        let mut out = Vec::new();
        for n in m["modelTopology"]["node"].as_array().unwrap() {
            rewrite(n, &mut table, &HashMap::new(), &mut out).unwrap();
        }
        let got: Vec<(&str, &str, Vec<&str>)> = out
            .iter()
            .map(|n| (n.name.as_str(), n.op.as_str(), n.inputs.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("x", "Placeholder", vec![]),
                ("w", "Const", vec![]),
                ("b", "Const", vec![]),
                ("c/_Conv2D", "Conv2D", vec!["x", "w"]),
                ("c/_BiasAdd", "BiasAdd", vec!["c/_Conv2D", "b"]),
                ("c", "Relu", vec!["c/_BiasAdd"]),
                ("y", "Mul", vec!["c", "c"]),
            ]
        );
        let conv_attrs: Vec<&str> = out[3].attrs.iter().map(|a| a.0.as_str()).collect();
        assert_eq!(conv_attrs, ["T", "padding", "strides"]);
        assert!(out[6].attrs.iter().all(|a| a.0 == "T"), "TF.js-internal attributes are dropped");
        assert!(convert(&m, &weights).is_ok_and(|c| c.unfused == 1));
    }

    #[test]
    fn bad_weights_and_unknown_fusions_are_errors() {
        let w = json!([{"name": "w", "shape": [2], "dtype": "float32"}]);
        let nodes = json!([{"name": "w", "op": "Const"}]);
        assert!(convert(&model(nodes.clone(), w.clone()), &[0; 4]).unwrap_err().contains("past the shards"));
        assert!(convert(&model(nodes.clone(), w.clone()), &[0; 12]).unwrap_err().contains("manifest describes 8"));
        assert!(convert(&model(json!([]), w), &[0; 8]).unwrap_err().contains("belongs to no Const"));
        let fused = json!([{"name": "c", "op": "_FusedConv2D", "input": ["x", "w", "b"], "attr": {
            "fused_ops": {"list": {"s": [b64s("BiasAdd"), b64s("Elu")]}}}}]);
        assert!(convert(&model(fused, json!([])), &[]).unwrap_err().contains("Elu is not supported"));
    }
}
