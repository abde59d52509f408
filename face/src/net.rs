//! A converted TensorFlow graph, optimised once by tract for one input shape, run many times.

use tract_tensorflow::prelude::*;

use crate::FaceError;

/// A runnable network with one float input of a fixed shape.
pub(crate) struct Net {
    plan: Arc<TypedRunnableModel>,
    shape: [usize; 4],
}

fn model_err(what: &str) -> impl Fn(TractError) -> FaceError + '_ {
    move |e| FaceError::Model(format!("{what}: {e:#}"))
}

impl Net {
    /// Loads a frozen `GraphDef`, fixes its input to `shape` (NHWC) and selects `outputs` by node name.
    pub(crate) fn load(what: &str, graph: &[u8], shape: [usize; 4], outputs: &[&str]) -> Result<Self, FaceError> {
        let err = model_err(what);
        let mut model = tract_tensorflow::tensorflow().model_for_read(&mut &*graph).map_err(&err)?;
        model.set_input_fact(0, f32::fact(shape).into()).map_err(&err)?;
        model.select_outputs_by_name(outputs).map_err(&err)?;
        let plan = model.into_optimized().map_err(&err)?.into_runnable().map_err(&err)?;
        Ok(Self { plan, shape })
    }

    /// Runs the network on `input` (row-major NHWC, the shape given at load) and returns every output flattened.
    pub(crate) fn run(&self, input: &[f32]) -> Result<Vec<Vec<f32>>, FaceError> {
        let err = model_err("inference");
        let tensor = Tensor::from_shape(&self.shape, input).map_err(&err)?;
        let outputs = self.plan.run(tvec!(tensor.into_tvalue())).map_err(&err)?;
        outputs
            .iter()
            .map(|o| o.to_plain_array_view::<f32>().map(|v| v.iter().copied().collect()).map_err(&err))
            .collect()
    }
}
